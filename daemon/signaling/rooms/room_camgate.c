/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "rooms"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "app/config.h"
#include "fanout/hub.h"
#include "hw/frame.h"
#include "media/media.h"
#include "proto/sdp.h"
#include "signaling/rooms/room_camgate.h"
#include "signaling/rooms/room_msg.h"
#include "signaling/rooms/roomreg.h"
#include "fanout/session.h"
#include "signaling/deps.h"
#include "signaling/viewers.h"
#include "util/log.h"
#include "util/macros.h"

struct room_call {
	struct cg_roomreg_peer *peer;
	struct cg_session *session; /* a reference */
	bool awaiting_answer;	    /* camgate offered; the session starts with the answer */
	struct cg_viewers *viewers; /* where it is registered (borrowed) */
};

struct cg_room_camgate {
	const struct cg_signaling_deps *deps; /* deps->viewers: every call is a viewer there */
	struct cg_roomreg *reg;
	GHashTable *calls; /* struct cg_roomreg_peer * → struct room_call, owned */
};

typedef void (*camgate_handler_fn)(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
				   const struct cg_room_msg *msg);

static void camgate_call_free(gpointer p)
{
	struct room_call *call = p;

	cg_viewers_remove(call->viewers, call->session);
	cg_session_unref(call->session);
	g_free(call);
}

/* A new call is a viewer of the camera in the one registry (takes s's reference). */
static struct room_call *camgate_call_new(struct cg_room_camgate *cam, struct cg_roomreg_peer *peer,
					  struct cg_session *s,
					  const struct cg_signaling_camera *camera)
{
	struct room_call *call = g_new0(struct room_call, 1);

	call->peer = peer;
	call->session = s;
	call->viewers = cam->deps->viewers;
	cg_viewers_add(call->viewers, s, CG_VIEWER_ROOM_CALL, camera, false);
	g_hash_table_insert(cam->calls, peer, call);
	return call;
}

struct cg_room_camgate *cg_room_camgate_new(const struct cg_signaling_deps *deps,
					    struct cg_roomreg *reg)
{
	struct cg_room_camgate *cam = cg_new0(struct cg_room_camgate, 1);

	cam->deps = deps;
	cam->reg = reg;
	cam->calls = g_hash_table_new_full(NULL, NULL, NULL, camgate_call_free);
	return cam;
}

struct cg_room_camgate *cg_room_camgate_free(struct cg_room_camgate *cam)
{
	if (!cam)
		return NULL;
	/* Like the WHEP registry: only our references go. Sessions end on their workers
	 * (cg_worker_free() closes them), which may be gone by now. */
	g_hash_table_unref(cam->calls);
	free(cam);
	return NULL;
}

void cg_room_camgate_hang_up(struct cg_room_camgate *cam, struct cg_roomreg_peer *peer)
{
	struct room_call *call = g_hash_table_lookup(cam->calls, peer);

	if (!call)
		return;
	cg_info("[%.8s] room call with %s ended", cg_session_id(call->session),
		cg_roomreg_peer_id(peer));
	cg_session_close(call->session);
	g_hash_table_remove(cam->calls, peer);
}

/* Runs on the control context once a session has closed (ICE failure, DTLS error, …). */
static void camgate_on_session_closed(struct cg_session *s, void *userdata)
{
	struct cg_room_camgate *cam = userdata;
	struct cg_room_msg bye = { .type = CG_ROOM_MSG_BYE, .label = -1 };
	GHashTableIter it;
	gpointer value;

	if (cam->deps->session_closed)
		cam->deps->session_closed(cam->deps->signaling_userdata);
	g_hash_table_iter_init(&it, cam->calls);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct room_call *call = value;

		if (call->session != s)
			continue;
		cg_info("[%.8s] room call with %s closed by camgate", cg_session_id(s),
			cg_roomreg_peer_id(call->peer));
		cg_roomreg_send_from_camgate(cam->reg, call->peer, &bye);
		g_hash_table_iter_remove(&it);
		return;
	}
}

static void camgate_send(struct cg_room_camgate *cam, struct cg_roomreg_peer *to,
			 enum cg_room_msg_type type)
{
	struct cg_room_msg m = { .type = type, .label = -1 };

	cg_roomreg_send_from_camgate(cam->reg, to, &m);
}

/* The camera the peer's join named ({type:'join', room, camera}), the first without one;
 * NULL (and an error to the peer about type) when there is no such camera. */
static const struct cg_signaling_camera *
camgate_camera(struct cg_room_camgate *cam, struct cg_roomreg_peer *peer, const char *type)
{
	const char *name = cg_roomreg_peer_camera(peer);

	if (!name[0])
		return &cam->deps->cameras[0];
	for (unsigned i = 0; i < cam->deps->n_cameras; i++)
		if (strcmp(cam->deps->cameras[i].name, name) == 0)
			return &cam->deps->cameras[i];
	cg_roomreg_send_error(cam->reg, peer, type, "no such camera: join again with another");
	return NULL;
}

static void camgate_on_stream_ok(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
				 const struct cg_room_msg *msg)
{
	const struct cg_signaling_camera *c = camgate_camera(cam, from, "stream ok");
	struct cg_frame *frame;

	if (!c)
		return;
	/* Ready means a frame has been captured: a camera that is still opening (or
	 * failing, STYLE 4.7 rule 10) would otherwise be called and show nothing. */
	frame = cg_media_latest_frame(c->media);
	if (!frame) {
		cg_roomreg_send_error(cam->reg, from, "stream ok",
				      "camgate's camera is not ready yet, try again shortly");
		return;
	}
	cg_frame_unref(frame);
	camgate_send(cam, from, CG_ROOM_MSG_STREAM_OK);
}

/* Parses and negotiates the browser's offer; on failure sends the reason back. */
static int camgate_negotiate(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			     const char *sdp, struct cg_sdp_offer *offer,
			     struct cg_sdp_choice *choice)
{
	const struct cg_signaling_camera *c = camgate_camera(cam, from, "offer");
	struct cg_sdp_capabilities caps;
	const char *reason = "";
	int r;

	if (!c)
		return -ENODEV;
	cg_session_capabilities(c->media, c->audio, &caps);
	r = cg_sdp_parse_offer(sdp, strlen(sdp), offer, &reason);
	if (r >= 0)
		r = cg_sdp_negotiate(offer, &caps, choice, &reason);
	if (r < 0) {
		cg_info("room offer from %s refused: %s", cg_roomreg_peer_id(from), reason);
		cg_roomreg_send_error(cam->reg, from, "offer", reason);
	}
	return r;
}

/*
 * The answer already lists every host candidate and a=end-of-candidates; pages written for
 * trickle ICE may add only what arrives as messages, so send them again that way.
 */
static void camgate_send_candidates(struct cg_room_camgate *cam, struct cg_roomreg_peer *to,
				    const char *answer, const struct cg_sdp_choice *choice)
{
	struct cg_room_msg m = { .type = CG_ROOM_MSG_CANDIDATE,
				 .label = choice->video_index,
				 .has_mid = choice->video_mid[0] != '\0' };
	char **lines = g_strsplit(answer, "\n", -1);

	g_strlcpy(m.mid, choice->video_mid, sizeof(m.mid));
	for (char **l = lines; *l; l++) {
		g_strchomp(*l);
		if (!g_str_has_prefix(*l, "a=candidate:") || strlen(*l + 2) >= sizeof(m.candidate))
			continue;
		g_strlcpy(m.candidate, *l + 2, sizeof(m.candidate));
		cg_roomreg_send_from_camgate(cam->reg, to, &m);
	}
	g_strfreev(lines);
	m.type = CG_ROOM_MSG_END_OF_CANDIDATES;
	cg_roomreg_send_from_camgate(cam->reg, to, &m);
}

/* A session of the camera the peer joined for, which *ret_camera gets. */
static int camgate_session_setup(struct cg_room_camgate *cam, struct cg_roomreg_peer *peer,
				 const char *type, struct cg_session_setup *ret,
				 const struct cg_signaling_camera **ret_camera)
{
	const struct cg_signaling_camera *c = camgate_camera(cam, peer, type);

	if (!c)
		return -ENODEV;
	cg_signaling_session_setup(cam->deps, c, camgate_on_session_closed, cam, ret);
	*ret_camera = c;
	return 0;
}

static int camgate_start_call(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			      const struct cg_sdp_offer *offer, const struct cg_sdp_choice *choice)
{
	struct cg_session_setup setup;
	struct cg_room_msg reply = { .type = CG_ROOM_MSG_ANSWER, .label = -1 };
	const struct cg_signaling_camera *camera;
	struct cg_session *s;
	int r;

	r = camgate_session_setup(cam, from, "offer", &setup, &camera);
	if (r < 0)
		return r;
	r = cg_session_new(&setup, offer, choice, &s, &reply.sdp);
	if (r < 0) {
		cg_warn("cannot create a session for room peer %s: %s", cg_roomreg_peer_id(from),
			strerror(-r));
		cg_roomreg_send_error(cam->reg, from, "offer", "camgate cannot take the call now");
		return r;
	}
	camgate_call_new(cam, from, s, camera);
	cg_session_start(s);
	cg_info("[%.8s] room call from %s in room %s", cg_session_id(s), cg_roomreg_peer_id(from),
		cg_roomreg_peer_room(from));
	cg_roomreg_send_from_camgate(cam->reg, from, &reply);
	camgate_send_candidates(cam, from, reply.sdp, choice);
	g_free(reply.sdp);
	return 0;
}

/* Too many calls already: refuse with a message rather than degrade everyone. */
static bool camgate_full(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			 const char *type)
{
	/* One --max-viewers for every viewer, WHEP and room calls (the one registry). */
	if (!cg_viewers_full(cam->deps->viewers))
		return false;
	cg_notice("room call with %s refused: viewer limit of %u reached", cg_roomreg_peer_id(from),
		  cam->deps->cfg->max_viewers);
	cg_roomreg_send_error(cam->reg, from, type, "too many calls, try again later");
	return true;
}

/* "call": the page asks camgate to offer (the other direction of the classic flow). */
static void camgate_on_call(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			    const struct cg_room_msg *msg)
{
	struct cg_session_setup setup;
	struct cg_sdp_choice where = { .video_index = 0 };
	struct cg_room_msg offer = { .type = CG_ROOM_MSG_OFFER, .label = -1 };
	const struct cg_signaling_camera *camera;
	struct cg_session *s;

	cg_room_camgate_hang_up(cam, from);
	if (camgate_full(cam, from, "call"))
		return;
	if (camgate_session_setup(cam, from, "call", &setup, &camera) < 0)
		return;
	if (cg_session_new_offer(&setup, &s, &offer.sdp) < 0) {
		cg_roomreg_send_error(cam->reg, from, "call", "camgate cannot call now");
		return;
	}
	camgate_call_new(cam, from, s, camera)->awaiting_answer = true;
	cg_info("[%.8s] camgate calls %s in room %s", cg_session_id(s), cg_roomreg_peer_id(from),
		cg_roomreg_peer_room(from));
	cg_roomreg_send_from_camgate(cam->reg, from, &offer);
	strcpy(where.video_mid, "0");
	camgate_send_candidates(cam, from, offer.sdp, &where);
	g_free(offer.sdp);
}

/* "answer": the page's answer to camgate's offer starts the call. */
static void camgate_on_answer(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			      const struct cg_room_msg *msg)
{
	struct room_call *call = g_hash_table_lookup(cam->calls, from);
	const char *reason = "";

	if (!call || !call->awaiting_answer) {
		cg_roomreg_send_error(cam->reg, from, "answer",
				      "camgate made no offer to you: send \"call\" first");
		return;
	}
	if (cg_session_set_answer(call->session, msg->sdp, strlen(msg->sdp), &reason) < 0) {
		cg_info("[%.8s] answer from %s refused: %s", cg_session_id(call->session),
			cg_roomreg_peer_id(from), reason);
		cg_roomreg_send_error(cam->reg, from, "answer", reason);
		cg_room_camgate_hang_up(cam, from);
		return;
	}
	call->awaiting_answer = false;
	cg_session_start(call->session);
}

static void camgate_on_offer(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			     const struct cg_room_msg *msg)
{
	struct cg_sdp_offer *offer;
	struct cg_sdp_choice choice;

	/* A new offer from the same peer is a new call (the page reloaded its connection):
	 * renegotiation is not supported (RFC 8827 §6.5 lets us refuse it). */
	cg_room_camgate_hang_up(cam, from);
	if (camgate_full(cam, from, "offer"))
		return;
	/* about 200 KiB: not on the stack */
	offer = cg_new0(struct cg_sdp_offer, 1);
	if (camgate_negotiate(cam, from, msg->sdp, offer, &choice) >= 0)
		camgate_start_call(cam, from, offer, &choice);
	free(offer);
}

/* candidate and end of candidates: one trickle fragment (RFC 8840) for the session. */
static void camgate_on_candidate(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
				 const struct cg_room_msg *msg)
{
	struct room_call *call = g_hash_table_lookup(cam->calls, from);
	const char *type = cg_room_msg_type_name(msg->type);
	struct cg_sdp_fragment *frag;

	if (!call || call->awaiting_answer) {
		cg_roomreg_send_error(cam->reg, from, type,
				      call ? "answer camgate's offer first"
					   : "no call with camgate: offer first");
		return;
	}
	/* The same bound as WHEP's PATCH: each candidate may cost the agent a check pair. */
	if (msg->type == CG_ROOM_MSG_CANDIDATE && msg->candidate[0] &&
	    cg_viewers_trickle(cam->deps->viewers, call->session, 1) < 0) {
		cg_roomreg_send_error(cam->reg, from, type, "too many candidates");
		return;
	}
	frag = cg_new0(struct cg_sdp_fragment, 1);
	g_strlcpy(frag->ice_ufrag, msg->ufrag, sizeof(frag->ice_ufrag));
	if (msg->type == CG_ROOM_MSG_CANDIDATE && msg->candidate[0]) {
		g_strlcpy(frag->candidates[0], msg->candidate, sizeof(frag->candidates[0]));
		g_strlcpy(frag->mids[0], msg->mid, sizeof(frag->mids[0]));
		frag->n_candidates = 1;
	} else {
		frag->end_of_candidates = true;
	}
	if (cg_session_add_remote_candidates(call->session, frag) < 0)
		cg_roomreg_send_error(cam->reg, from, type,
				      "usernameFragment differs: ICE restart is not supported");
	free(frag);
}

static void camgate_on_bye(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			   const struct cg_room_msg *msg)
{
	cg_room_camgate_hang_up(cam, from);
}

/* Indexed by enum cg_room_msg_type; only the relayed types reach camgate. */
static const camgate_handler_fn camgate_handlers[_CG_ROOM_MSG_MAX] = {
	[CG_ROOM_MSG_STREAM_OK] = camgate_on_stream_ok,
	[CG_ROOM_MSG_CALL] = camgate_on_call,
	[CG_ROOM_MSG_OFFER] = camgate_on_offer,
	[CG_ROOM_MSG_ANSWER] = camgate_on_answer,
	[CG_ROOM_MSG_CANDIDATE] = camgate_on_candidate,
	[CG_ROOM_MSG_END_OF_CANDIDATES] = camgate_on_candidate,
	[CG_ROOM_MSG_BYE] = camgate_on_bye,
};

void cg_room_camgate_receive(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			     const struct cg_room_msg *msg)
{
	camgate_handler_fn fn =
		cg_room_msg_is_relayed(msg->type) ? camgate_handlers[msg->type] : NULL;

	cg_assert(fn);
	fn(cam, from, msg);
}
