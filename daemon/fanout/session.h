/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One viewer: its ICE transport (net/ice.h: libnice in the daemon, memory in tests), DTLS,
 * SRTP and RTCP state, and the send path of the shared media units. What happens when is
 * decided by a pure state machine (proto/session_fsm.h) with one timer per session; this
 * file carries out its decisions. Created on the control thread
 * (which answers the offer), then owned by the worker it is pinned to: every field is touched only
 * by that worker, except the id and the reference count.
 *
 * Lifetime: cg_session_new() returns a reference for the caller (the signaling registry);
 * the worker holds another while the session is attached. Closing happens on the worker
 * (cg_session_close() from any thread defers to it); the closed callback then runs on the
 * control context so that the registry drops its reference.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/srtp.h"
#include "net/ice.h"

struct cg_audio_track;
struct cg_cert;
struct cg_config;
struct cg_ice_servers;
struct cg_hub_lane;
struct cg_media;
struct cg_media_unit;
struct cg_sdp_capabilities;
struct cg_sdp_choice;
struct cg_sdp_fragment;
struct cg_sdp_offer;
struct cg_session;
struct cg_stats;

#define CG_SESSION_ID_LEN 16
/*
 * Log lines name a session by this many leading characters of its id: the id is a
 * capability (whoever knows it may PATCH or DELETE a WHEP session), and logs reach more
 * people (journal readers, bug reports) than may end sessions. 8 of 62 symbols still tell
 * a few hundred sessions apart; the 8 left unlogged keep ~47 bits to guess. Code that only
 * has cg_session_id() prints it with "%.8s" (signaling.c, room_camgate.c).
 */
#define CG_SESSION_LOG_ID_LEN 8

typedef void (*cg_session_closed_fn)(struct cg_session *s, void *userdata);

/* Packets a session hands to its ICE transport in one call; a frame with more takes several
 * calls. */
#define CG_SESSION_BATCH 64
/* One packet slot: an MTU-sized RTP packet plus the SRTP tag. */
#define CG_SESSION_SLOT (1500 + CG_SRTP_MAX_TRAILER)

/*
 * Send scratch shared by the sessions of one thread: preallocated once by the host and
 * reused by each session in turn (they all run on that thread, and a transport is done
 * with a datagram when cg_ice_send() returns). msgs[i].buf points at slots[i]; a session
 * fills slots and msgs[i].len, then sends msgs[0..n).
 */
struct cg_session_batch {
	struct cg_ice_msg msgs[CG_SESSION_BATCH];
	uint8_t slots[CG_SESSION_BATCH][CG_SESSION_SLOT];
};

/*
 * The thread a session is pinned to, described by its owner (a network worker:
 * cg_worker_host(); a test or the HTTP fuzzer: its own): everything the session needs
 * from it, so that the session does not know workers (the dependency goes worker →
 * session only). Owned by the host; must outlive its sessions.
 */
struct cg_session_host {
	GMainContext *ctx; /* the session's transport, timers and deferred calls run here */
	const struct cg_ice_ops *ice_ops; /* ICE backend for cg_ice_new() */
	void *ice_backend;		  /* its backend argument (NULL for libnice) */
	struct cg_session_batch *batch;	  /* send scratch, host thread only */
	/* On the host thread: the session starts working (the host takes a reference and
	 * starts giving it units) / has closed (the host drops it). */
	void (*attach)(void *host_data, struct cg_session *s);
	void (*detach)(void *host_data, struct cg_session *s);
	void *host_data;
};

/*
 * The end of the wait of cg_session_new_gathering(), on the control context: status is 0
 * (gathering done), -ETIMEDOUT (the cap passed: the answer will hold what was gathered by
 * then, at least the host candidates) or -ECONNRESET (the session closed while waiting:
 * there is no answer). Called exactly once per session, unless the session is freed first.
 */
typedef void (*cg_session_gathered_fn)(struct cg_session *s, int status, void *userdata);

struct cg_session_setup {
	const struct cg_session_host *host; /* the session is pinned here for its whole life */
	struct cg_media *media;		    /* the camera it watches */
	struct cg_hub_lane *lane;	    /* that camera's hub, on host's thread (cg_hub_lane) */
	struct cg_stats *stats;
	const struct cg_cert *cert;
	bool loopback_only; /* gather 127.0.0.1 only (the daemon listens on loopback) */
	/* Bitrate floor and ceiling (min/max_bitrate_kbps); NULL: derived from the media's
	 * starting bitrate as config.c derives its defaults (ceiling = start, floor = 1/4). */
	const struct cg_config *cfg;
	/* STUN/TURN servers for the transport (read while it is created); NULL or empty: none. */
	const struct cg_ice_servers *ice;
	/* The board's sound and the talkback speaker; NULL: no audio. */
	struct cg_audio_track *audio;
	GMainContext *control_ctx; /* where on_closed runs */
	cg_session_closed_fn on_closed;
	void *on_closed_userdata;
};

/* What sessions can send and handle, for cg_sdp_negotiate(): the media's H.264 profile,
 * NACK with RTX, REMB and transport-wide CC. Any thread. */
void cg_session_capabilities(struct cg_media *media, const struct cg_audio_track *audio,
			     struct cg_sdp_capabilities *ret);

/*
 * Creates the session for a negotiated offer: an ICE transport on the host's context
 * (setup->host->ice_ops) with host candidates gathered, a DTLS server that will verify the offer's
 * fingerprint, and the SDP answer (returned in *ret_answer, g_free() it). The session starts
 * working once cg_session_start() is called. All arguments are borrowed; setup's pointers must
 * outlive the session. Returns 0, -EIO (ICE or DTLS setup failed), -ENOSPC (answer too large).
 * Control thread.
 */
int cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
		   const struct cg_sdp_choice *choice, struct cg_session **ret, char **ret_answer);

/*
 * Like cg_session_new(), for a transport that asks STUN/TURN servers (setup->ice): WHEP cannot
 * trickle our candidates (draft-ietf-wish-whep-03 §4.4.2, as WHIP RFC 9725 §4.3.2), so the answer
 * waits for server-reflexive and relayed candidates. Returns at once with the session (a reference
 * for the caller) and no answer; fn(userdata) then runs on setup->control_ctx when gathering is
 * done or after cap_ms, whichever is first, and the caller gets the answer from cg_session_answer()
 * before cg_session_start(). userdata must stay valid until fn ran or the session closed
 * and was released. Returns 0, -EIO. Control thread.
 */
int cg_session_new_gathering(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
			     const struct cg_sdp_choice *choice, unsigned cap_ms,
			     cg_session_gathered_fn fn, void *userdata, struct cg_session **ret);

/*
 * The answer of a cg_session_new_gathering() session, with the candidates its report
 * held (g_free it); offer and choice are the ones it was created with. Once, from or
 * after the gathered callback. Returns 0, -ECONNRESET (the session closed while waiting)
 * or -ENOSPC. Control thread.
 */
int cg_session_answer(struct cg_session *s, const struct cg_sdp_offer *offer,
		      const struct cg_sdp_choice *choice, char **ret_answer);

/*
 * Creates a session that offers (camgate calls a peer): an ICE transport, controlling, with host
 * candidates gathered, and the offer in *ret_offer (g_free it). Give it the peer's answer
 * with cg_session_set_answer(), then cg_session_start(). Returns 0, -EIO or -ENOSPC.
 * Control thread.
 */
int cg_session_new_offer(const struct cg_session_setup *setup, struct cg_session **ret,
			 char **ret_offer);

/*
 * Applies the peer's answer to our offer: payload types, feedback and extensions it kept,
 * its ICE credentials and candidates, and the DTLS role it chose. Returns 0, or a negative
 * errno with *ret_reason set (a malformed answer, or one that rejects the video). Control
 * thread, once, before cg_session_start().
 */
int cg_session_set_answer(struct cg_session *s, const char *sdp, size_t len,
			  const char **ret_reason);

/* Attaches the session to its host (host->attach, on the host thread). A session that closed before
 * it was attached reports on_closed all the same. Control thread. */
void cg_session_start(struct cg_session *s);

/* The random id used in the WHEP Location: a capability, never log it. Any thread. */
const char *cg_session_id(const struct cg_session *s);

/* The id's first CG_SESSION_LOG_ID_LEN characters, for log lines ("[%s] ..."); stored in
 * the session (valid as long as it is). Any thread. */
const char *cg_session_log_id(const struct cg_session *s);

/*
 * Adds trickled remote candidates (copied). Returns 0, -EAGAIN before an offering
 * session has its answer, or -EPERM when the fragment's
 * ICE credentials do not match the session's (an ICE restart is not supported). Control
 * thread; the candidates are applied on the worker.
 */
int cg_session_add_remote_candidates(struct cg_session *s, const struct cg_sdp_fragment *frag);

/* Closes the session on its worker (deferred, never synchronous). Any thread. */
void cg_session_close(struct cg_session *s);

/* Closes now. Worker thread only. */
void cg_session_close_now(struct cg_session *s);

/* Sends one audio unit (an Opus packet) if the viewer takes sound. Worker thread only. */
void cg_session_send_audio(struct cg_session *s, struct cg_media_unit *unit);

/* Sends one media unit to the viewer if it is streaming. Worker thread only. */
void cg_session_send_unit(struct cg_session *s, struct cg_media_unit *unit);

/*
 * The worker's stream had a gap (its queue overflowed): the session resumes at the next
 * keyframe instead of sending undecodable frames, and asks the arbiter for one. Worker
 * thread only.
 */
void cg_session_resync(struct cg_session *s);

/* What the viewer's feedback says, for the bitrate policy and /status. */
struct cg_session_stats {
	uint32_t estimate_kbps; /* REMB or TWCC estimate, 0 when unknown */
	uint8_t fraction_lost;	/* last receiver report, /256 */
	int32_t cumulative_lost;
	uint32_t jitter; /* RTP timestamp units (90 kHz) */
	uint64_t packets_sent, nacks_received, retransmitted, nacks_unserved;
	uint64_t frames_skipped; /* frames dropped by the send budget or a full socket */
	uint64_t rembs, twcc_feedbacks;
	double loss; /* smoothed loss fraction (TWCC, else RR) */
};

/* Fills *ret. Worker thread only. */
void cg_session_get_stats(struct cg_session *s, struct cg_session_stats *ret);

/* The lane of the session's camera on its worker (setup.lane). Any thread. */
struct cg_hub_lane *cg_session_lane(const struct cg_session *s);

/* Sessions made and not yet freed in this process, whatever their state: what a test checks
 * is back to its count once every viewer left (a reference kept somewhere keeps one). Any
 * thread. */
unsigned cg_session_count(void);

struct cg_session *cg_session_ref(struct cg_session *s);
/* Any thread. Returns NULL. */
struct cg_session *cg_session_unref(struct cg_session *s);
