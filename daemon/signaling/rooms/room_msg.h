/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The JSON messages of the room signaling channel (issue 8), parsed, validated and written
 * with json-glib. Every message is an object with a string "type":
 *
 *   client → camgate           join {room}, leave, ping
 *   client → peers (relayed)   stream ok, call, offer {sdp}, answer {sdp},
 *                              candidate {label, id, candidate}, end of candidates, bye
 *                              each with an optional "to" (a peer id, or "camgate")
 *   camgate → client           joined {room, id, peers, camgate, initiator}, left,
 *                              peer joined {id}, peer left {id}, pong, error {about, message},
 *                              and every relayed message with "from" added
 *
 * "candidate" carries RTCIceCandidate's fields under the names the classic tutorials use:
 * label = sdpMLineIndex, id = sdpMid, candidate = the candidate line (the names sdpMLineIndex
 * and sdpMid are accepted too). A relayed message is re-written from the validated fields,
 * never forwarded as received, so peers only ever see fields we checked.
 *
 * Pure apart from json-glib: no I/O, no clock. Any thread; no shared state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CG_ROOM_MSG_MAX	      (64 * 1024) /* one message, bytes */
#define CG_ROOM_MSG_MAX_DEPTH 8		  /* JSON nesting; json-glib's parser recurses */
#define CG_ROOM_NAME_MAX      64
#define CG_ROOM_PEER_ID_MAX   31
#define CG_ROOM_SDP_MAX	      (60 * 1024)
#define CG_ROOM_LABEL_MAX     63
#define CG_ROOM_MID_MAX	      63  /* fits proto/sdp.h's CG_SDP_TOKEN */
#define CG_ROOM_CANDIDATE_MAX 255 /* fits CG_SDP_CANDIDATE */
#define CG_ROOM_UFRAG_MAX     256
#define CG_ROOM_CAMGATE_ID    "camgate" /* the peer id of camgate's own camera in every room */

enum cg_room_msg_type {
	CG_ROOM_MSG_JOIN,
	CG_ROOM_MSG_LEAVE,
	CG_ROOM_MSG_PING,
	/* relayed to peers (or handled by camgate as a peer) */
	CG_ROOM_MSG_STREAM_OK,
	CG_ROOM_MSG_CALL, /* asks the peer to send an offer */
	CG_ROOM_MSG_OFFER,
	CG_ROOM_MSG_ANSWER,
	CG_ROOM_MSG_CANDIDATE,
	CG_ROOM_MSG_END_OF_CANDIDATES,
	CG_ROOM_MSG_BYE,
	_CG_ROOM_MSG_MAX,
	CG_ROOM_MSG_INVALID = -22, /* -EINVAL */
};

#define CG_ROOM_CAMERA_MAX 32 /* a camera name: 1-32 of a-z 0-9 _ - */

struct cg_room_msg {
	enum cg_room_msg_type type;
	char room[CG_ROOM_NAME_MAX + 1];     /* join */
	char camera[CG_ROOM_CAMERA_MAX + 1]; /* join: the camera camgate offers; "" the first */
	char to[CG_ROOM_PEER_ID_MAX + 1];    /* relayed types; "" when absent */
	char *sdp;			     /* offer, answer: owned, cg_room_msg_clear() frees */
	int label;			     /* candidate, end of candidates: -1 when absent */
	bool has_mid;
	char mid[CG_ROOM_MID_MAX + 1];
	char candidate[CG_ROOM_CANDIDATE_MAX + 1]; /* "" is an end of candidates */
	char ufrag[CG_ROOM_UFRAG_MAX + 1];	   /* usernameFragment, "" when absent */
};

/*
 * Parses and validates one message (UTF-8 JSON text, not necessarily NUL-terminated).
 * Returns 0 with *ret filled (cg_room_msg_clear() it), or a negative errno with
 * *ret_reason set to a static, human-readable reason and *ret cleared: -EMSGSIZE (over
 * CG_ROOM_MSG_MAX), -EBADMSG (not JSON, not an object, nested too deeply, a field missing,
 * of the wrong JSON type or out of bounds), -ENOTSUP (an unknown "type").
 */
int cg_room_msg_parse(const char *text, size_t len, struct cg_room_msg *ret,
		      const char **ret_reason);

/* Frees what a parsed message owns and resets it. */
void cg_room_msg_clear(struct cg_room_msg *m);

/* The wire name of a type ("stream ok", …), or NULL when out of range. */
const char *cg_room_msg_type_name(enum cg_room_msg_type type);

/* True for the types relayed between peers (they may carry "to"). */
bool cg_room_msg_is_relayed(enum cg_room_msg_type type);

/* True when name is a valid room name: 1..CG_ROOM_NAME_MAX of [A-Za-z0-9._-]. */
bool cg_room_msg_valid_room(const char *name);

/*
 * Writes m as JSON with "from" set (NULL: none). Returns a new string (g_free()).
 * For the relayed types; m was validated by cg_room_msg_parse() or built by camgate.
 */
char *cg_room_msg_to_json(const struct cg_room_msg *m, const char *from);

/*
 * Messages camgate writes. Each returns a new JSON string (g_free()); strings are borrowed.
 * cg_room_msg_build_event() writes {"type": type} plus an "id" when id is not NULL (left,
 * pong, peer joined, peer left, stream ok from camgate, …) and "from" when from is not NULL.
 */
char *cg_room_msg_build_event(const char *type, const char *id, const char *from);
char *cg_room_msg_build_error(const char *about, const char *message);
char *cg_room_msg_build_joined(const char *room, const char *id, const char *const *peers,
			       unsigned n_peers, bool initiator);
