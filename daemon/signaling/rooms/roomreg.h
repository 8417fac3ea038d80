/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The room registry: peers, named rooms, who hears what. Transport-free and clock-free
 * (time is a parameter), so that unit tests and the fuzzer drive it directly; rooms.c
 * connects it to WebSockets and to camgate's own camera.
 *
 * Routing. A relayed message (stream ok, call, offer, answer, candidate, end of candidates,
 * bye) from a peer goes, with "from" added:
 *   - to the peer named in "to" (in the same room), or to camgate when "to" is "camgate";
 *   - without "to", to every other peer in the room, or to camgate when the sender is alone
 *     in it: so a page written for the classic two-party flow calls another browser when
 *     there is one and camgate's camera when there is none.
 * Joins and leaves are announced to the room ("peer joined", "peer left"); camgate learns
 * of leaves through ops->peer_gone so that it hangs up.
 *
 * Ownership: the registry owns its peers and rooms; transport_userdata is borrowed. Control
 * thread only (or any single thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_room_msg;
struct cg_roomreg;
struct cg_roomreg_peer;

struct cg_roomreg_limits {
	unsigned max_peers; /* connected peers, in a room or not */
	unsigned max_rooms;
	unsigned max_peers_per_room; /* browser peers; camgate is not counted */
	uint64_t idle_timeout_usec;  /* nothing received for this long: closed */
	uint64_t join_timeout_usec;  /* connected but in no room for this long: closed */
};

struct cg_roomreg_ops {
	/* Queues one JSON text (borrowed) for the peer's transport. Must not call back into
	 * the registry; a transport that fails closes later, from its own loop. */
	void (*send)(void *transport_userdata, const char *json, size_t len);
	/* The registry wants this peer gone (idle): the transport closes and then calls
	 * cg_roomreg_peer_free(). Must not call back into the registry synchronously. */
	void (*close)(void *transport_userdata, const char *why);
	/* A message addressed to camgate by a peer in a room (borrowed for the call). May call
	 * cg_roomreg_send_from_camgate(). */
	void (*to_camgate)(void *userdata, struct cg_roomreg_peer *from,
			   const struct cg_room_msg *msg);
	/* The peer left its room or disconnected: camgate drops any call with it. */
	void (*peer_gone)(void *userdata, struct cg_roomreg_peer *peer);
};

/* ops and limits are copied; userdata is passed to to_camgate and peer_gone. Never NULL. */
struct cg_roomreg *cg_roomreg_new(const struct cg_roomreg_limits *limits,
				  const struct cg_roomreg_ops *ops, void *userdata);
/* Frees every peer (without announcing anything) and the registry. Returns NULL. */
struct cg_roomreg *cg_roomreg_free(struct cg_roomreg *reg);

/*
 * Registers a connected peer. Returns 0 with *ret, or -EUSERS when max_peers are
 * connected. now is CLOCK_MONOTONIC µs.
 */
int cg_roomreg_peer_new(struct cg_roomreg *reg, void *transport_userdata, uint64_t now,
			struct cg_roomreg_peer **ret);

/* The peer disconnected: leaves its room (announced) and is freed. */
void cg_roomreg_peer_free(struct cg_roomreg *reg, struct cg_roomreg_peer *peer);

/*
 * Handles one text message from the peer: parses, validates and dispatches it. Every
 * problem is answered with an error message to the sender; nothing here closes a peer.
 */
void cg_roomreg_receive(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, const char *text,
			size_t len, uint64_t now);

/* Something arrived from the peer that is not a message (a pong): it is alive. */
void cg_roomreg_touch(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, uint64_t now);

/* Asks the transport to close every peer idle past its timeout. Returns how many. */
unsigned cg_roomreg_expire(struct cg_roomreg *reg, uint64_t now);

/* Sends msg (borrowed; a relayed type) to peer as coming from camgate. */
void cg_roomreg_send_from_camgate(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
				  const struct cg_room_msg *msg);
/* Sends an error message to peer. about is the type it concerns, or NULL. */
void cg_roomreg_send_error(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, const char *about,
			   const char *message);

/* The peer's id ("p1", …), its room ("" when in none), its transport's userdata. */
const char *cg_roomreg_peer_id(const struct cg_roomreg_peer *peer);
const char *cg_roomreg_peer_room(const struct cg_roomreg_peer *peer);
/* The camera the peer's join named ("" when none: the first camera). */
const char *cg_roomreg_peer_camera(const struct cg_roomreg_peer *peer);
void *cg_roomreg_peer_transport(const struct cg_roomreg_peer *peer);
/* How long since the peer last sent anything. */
uint64_t cg_roomreg_peer_idle_usec(const struct cg_roomreg_peer *peer, uint64_t now);

unsigned cg_roomreg_n_peers(const struct cg_roomreg *reg);
unsigned cg_roomreg_n_rooms(const struct cg_roomreg *reg);

/* {"rooms":[{"name":…,"peers":N},…],"peers":N} for GET /rooms. g_free() it. */
char *cg_roomreg_list_json(const struct cg_roomreg *reg);
