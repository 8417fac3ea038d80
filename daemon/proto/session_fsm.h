/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The life of one viewer's session as a pure state machine: inputs in (each with the
 * caller's monotonic time in µs), actions out, drained by the caller after every input
 * (str0m's rule), and one deadline for the caller's one timer. No I/O, clock, thread,
 * GLib or logging: the session (daemon/fanout/session.c) owns the ICE transport (net/ice.h),
 * DTLS, SRTP, the send path and the one timer, feeds what they report in here, and carries
 * out what comes out (session_run()).
 *
 * Owner: the session's thread. The control thread feeds the inputs of creation
 * (cg_session_fsm_init(), _answered(), _trickle() before the hand-over); from the hand-over
 * to the worker on (cg_session_start(), or the gathering wait), only the worker touches it.
 * The struct is a value so that a session embeds it (no allocation); its fields are private.
 *
 * States (STYLE's NEW → ANSWERED → ICE_CONNECTED → DTLS_CONNECTED → STREAMING → CLOSING →
 * CLOSED). They and the rules below were taken from what session.c did before it ran on this
 * machine, with its own four-state enum (NEW, ICE_CONNECTED, STREAMING, CLOSED) and four
 * timers; "l." numbers are those of daemon/session.c at 37ccc9d, kept to say where each rule
 * came from:
 *   NEW             created; the SDP exchange is not complete (an offering session waits for
 *                   the answer, cg_session_set_answer() l.1396)
 *   ANSWERED        both sides' ICE credentials and the DTLS fingerprint are known, DTLS
 *                   started (an answering session gets here at creation, l.1113-1116; an
 *                   offering one at its answer, l.1412-1420); ICE checks run
 *   ICE_CONNECTED   ICE has a pair (libnice CONNECTED or READY, l.444-449); DTLS handshake
 *   DTLS_CONNECTED  keys in place (today's STREAMING with waiting_keyframe set, l.281-287):
 *                   sound, sender reports and feedback flow, video waits for its keyframe
 *   STREAMING       the join keyframe went out (l.687-691); every video unit is sent, except
 *                   while a skip waits for the next keyframe (a flag, not a state)
 *   CLOSING         closing was decided (CLOSE action); nothing but teardown happens
 *   CLOSED          the caller tore everything down (cg_session_fsm_closed())
 * "Started" (attached to its worker, cg_session_start() l.1174-1198) is a flag beside the
 * state, not a state: in a gathering session ICE, and even DTLS, may connect before it.
 *
 * The rules (R1..R15), with their numbers and where session.c has them:
 *   R1  Setup time-out: a started session not DTLS-connected 30 s after its creation
 *       closes (SETUP_TIMEOUT). session.c: SESSION_SETUP_TIMEOUT_S l.31, the watchdog
 *       l.457-467 armed at attach l.1189, created_usec l.1109/l.1382. session.c polls every
 *       1 s (closes 30-31 s in); the FSM closes at its deadline, created + 30 s.
 *   R2  Consent: a started, DTLS-connected session closes when no authenticated RTCP came
 *       for 30 s (CONSENT_EXPIRED); the clock starts at DTLS connected. session.c:
 *       SESSION_RTCP_TIMEOUT_S l.32, l.468-471, l.283, l.372; libnice's consent freshness
 *       is off (l.925-932, RFC 7675 allows 30 s).
 *   R3  ICE CONNECTED (libnice CONNECTED or READY) or a selected pair moves ANSWERED to
 *       ICE_CONNECTED and releases the held DTLS output (SEND_DTLS). l.444-449.
 *   R4  DTLS output is held until ICE has a pair: the browser's ClientHello may come
 *       before it, and an answer sent then is lost to a 1 s retransmission. l.188-193.
 *       The DTLS retransmission time is the caller's to pass in (cg_session_fsm_dtls_timer(),
 *       l.194-197) and comes back as DTLS_TIMEOUT (l.210-220).
 *   R5  ICE FAILED closes in any open state (ICE_FAILED). l.450-453.
 *   R6  DTLS connected, in ICE_CONNECTED: START_SRTP (l.274; a failure closes, l.276-279:
 *       the caller closes with SRTP_FAILED), then START_MEDIA: replay the worker's cached GOP
 *       when its keyframe is at most 200 ms old, else report cg_session_fsm_no_cached_keyframe()
 *       and get REQUEST_KEYFRAME (SESSION_JOIN_REPLAY_MAX_AGE_MS l.37, l.286-287). Consent
 *       (R2) and sender reports (R11) start here (l.283-284).
 *   R7  DTLS failed (DTLS_FAILED, l.299-303) or closed by the peer's close_notify
 *       (DTLS_CLOSED, l.304-306) closes.
 *   R8  RTCP counts only authenticated (SRTCP) and well-formed (l.360-372), hence only once
 *       keyed; it refreshes consent (l.372); PLI or FIR asks for a keyframe at once, the
 *       arbiter throttles (l.373-381); a BYE closes (RTCP_BYE, l.384-387) after that.
 *   R9  Video gate: nothing before the keys (l.678); while waiting for a keyframe,
 *       non-keyframes are skipped silently (l.680); the first unit sent ends the wait
 *       (l.687-691), the join's first one moves DTLS_CONNECTED to STREAMING.
 *   R10 Skip: a unit the send budget refuses (l.683-686) or the socket partly refuses
 *       (l.694-695), or a gap in the worker's queue while not already waiting (resync,
 *       l.700-704), makes the viewer wait for the next keyframe and asks for one at most
 *       every 2 s per viewer, the first time at once (SESSION_SKIP_ASK_MS l.43, l.646-654).
 *   R11 Sender reports: SEND_SR every 1 s while keyed, the first 1 s after DTLS connected
 *       (SESSION_SR_INTERVAL_MS l.33, l.263-270, l.284); the caller sends an SR only for a
 *       stream that sent something (l.241, l.251).
 *   R12 Gathering wait (cg_session_new_gathering(), WHEP has no server-to-client trickle):
 *       armed on the worker with a cap (signaling passes 3 s); REPORT_GATHERED exactly once
 *       per armed wait: 0 when gathering is done (also when it was done before the wait was
 *       armed), -ETIMEDOUT at the cap, -ECONNRESET when the session closes first or was
 *       closed when the wait was armed. l.797-818, l.821-831, l.852-870, l.1279.
 *   R13 Close once: the first close wins (its reason is the one reported); later inputs are
 *       refused with -ECANCELED and change nothing (l.417, l.442, l.1211, l.1275). Entering
 *       CLOSING drops work actions not yet polled (DTLS, SRTP, media, keyframe, SR), keeps
 *       STATE and REPORT_GATHERED. A session that closes before it was started still
 *       reports on_closed when started (l.1178-1184): cg_session_fsm_start() says
 *       -ECANCELED.
 *   R14 Trickled remote candidates: refused before the SDP exchange is complete (-EAGAIN,
 *       l.1234-1236), ignored after close (l.1211), and at most max_trickled_candidates in
 *       all, a batch that would pass it refused whole (-E2BIG). That bound is --max-candidates
 *       (default 64), checked today by signaling.c l.610 and room_camgate.c l.327, not by
 *       session.c; candidates inside the offer or answer are bounded by the SDP parser (32,
 *       CG_SDP_MAX_CANDIDATES) and not counted here, as today.
 *   R15 Bad orders change nothing and say so: DTLS connected before ICE (-EPROTO), RTCP or
 *       video before the keys (-EPROTO), start before the SDP exchange (-EPROTO), a second
 *       close, DTLS connected, start or answer (-EALREADY).
 *
 * Time: every input takes now_usec from one monotonic clock that never goes back; tests
 * pass a fake one.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Defaults, session.c's constants (see the rules above). */
#define CG_SESSION_FSM_SETUP_TIMEOUT_USEC   (30 * UINT64_C(1000000))
#define CG_SESSION_FSM_CONSENT_TIMEOUT_USEC (30 * UINT64_C(1000000))
#define CG_SESSION_FSM_SR_INTERVAL_USEC	    (1 * UINT64_C(1000000))
#define CG_SESSION_FSM_SKIP_ASK_USEC	    (2 * UINT64_C(1000000))
#define CG_SESSION_FSM_JOIN_REPLAY_USEC	    (200 * UINT64_C(1000))
#define CG_SESSION_FSM_MAX_TRICKLED	    64 /* config.c's --max-candidates default */

/* No deadline: cg_session_fsm_next_deadline_usec() when no timer is needed. */
#define CG_SESSION_FSM_NEVER UINT64_MAX

/* Actions one input can queue are few (five at most); 16 leaves room for inputs fed while
 * draining (a GOP replay feeds one per unit). Overflow is a caller bug and aborts. */
#define CG_SESSION_FSM_QUEUE 16

enum cg_session_fsm_state {
	CG_SESSION_FSM_NEW = 0,
	CG_SESSION_FSM_ANSWERED,
	CG_SESSION_FSM_ICE_CONNECTED,
	CG_SESSION_FSM_DTLS_CONNECTED,
	CG_SESSION_FSM_STREAMING,
	CG_SESSION_FSM_CLOSING,
	CG_SESSION_FSM_CLOSED,
};

enum cg_session_fsm_close_reason {
	CG_SESSION_FSM_CLOSE_REQUESTED = 0, /* the owner: DELETE, a room leaving, shutdown */
	CG_SESSION_FSM_CLOSE_SETUP_TIMEOUT, /* R1 */
	CG_SESSION_FSM_CLOSE_CONSENT,	    /* R2 */
	CG_SESSION_FSM_CLOSE_ICE_FAILED,    /* R5 */
	CG_SESSION_FSM_CLOSE_DTLS_FAILED,   /* R7 */
	CG_SESSION_FSM_CLOSE_DTLS_CLOSED,   /* R7 */
	CG_SESSION_FSM_CLOSE_RTCP_BYE,	    /* R8 */
	CG_SESSION_FSM_CLOSE_SRTP_FAILED,   /* R6: the caller could not key SRTP */
};

/* What ICE reports (the caller maps its transport's states onto these). */
enum cg_session_fsm_ice_state {
	CG_SESSION_FSM_ICE_STATE_CHECKING = 0, /* informational: changes nothing */
	CG_SESSION_FSM_ICE_STATE_CONNECTED,    /* R3 */
	CG_SESSION_FSM_ICE_STATE_FAILED,       /* R5 */
};

/* cg_session_fsm_rtcp() flags: what an authenticated compound packet held. */
#define CG_SESSION_FSM_RTCP_KEYFRAME (1u << 0) /* a PLI or a FIR */
#define CG_SESSION_FSM_RTCP_BYE	     (1u << 1)

enum cg_session_fsm_action_type {
	CG_SESSION_FSM_ACT_NONE = 0,
	/* The state changed to .state (for the caller's log lines). */
	CG_SESSION_FSM_ACT_STATE,
	/* Send what DTLS has queued (cg_dtls_poll_transmit() until empty) to the peer. */
	CG_SESSION_FSM_ACT_SEND_DTLS,
	/* Call cg_dtls_handle_timeout(), then report its output and timer again. */
	CG_SESSION_FSM_ACT_DTLS_TIMEOUT,
	/* Key SRTP with the keys of the DTLS CONNECTED event; on failure, close with
	 * CG_SESSION_FSM_CLOSE_SRTP_FAILED (the FSM then drops START_MEDIA). */
	CG_SESSION_FSM_ACT_START_SRTP,
	/* Start the video at a keyframe: replay the worker's cached GOP if its keyframe was
	 * captured at most .replay_max_age_usec ago, else call
	 * cg_session_fsm_no_cached_keyframe(). */
	CG_SESSION_FSM_ACT_START_MEDIA,
	/* Ask the keyframe arbiter for a keyframe (cg_media_request_keyframe()). */
	CG_SESSION_FSM_ACT_REQUEST_KEYFRAME,
	/* Send the sender reports (for the streams that sent something). */
	CG_SESSION_FSM_ACT_SEND_SR,
	/* The gathering wait is over: .status 0, -ETIMEDOUT or -ECONNRESET (R12). */
	CG_SESSION_FSM_ACT_REPORT_GATHERED,
	/* Close for .reason: tear down (deferred if inside a callback), then
	 * cg_session_fsm_closed(). */
	CG_SESSION_FSM_ACT_CLOSE,
};

struct cg_session_fsm_action {
	enum cg_session_fsm_action_type type;
	enum cg_session_fsm_state state;	 /* STATE */
	enum cg_session_fsm_close_reason reason; /* CLOSE */
	int status;				 /* REPORT_GATHERED */
	uint64_t replay_max_age_usec;		 /* START_MEDIA */
};

struct cg_session_fsm_config {
	uint64_t setup_timeout_usec;   /* R1 */
	uint64_t consent_timeout_usec; /* R2 */
	uint64_t sr_interval_usec;     /* R11 */
	uint64_t skip_ask_usec;	       /* R10 */
	uint64_t join_replay_usec;     /* R6 */
	unsigned max_trickled;	       /* R14, at least 1 */
};

/* Private: embed it, touch it only through the functions below. */
struct cg_session_fsm {
	struct cg_session_fsm_config cfg;
	enum cg_session_fsm_state state;
	bool started;
	bool waiting_keyframe; /* STREAMING: a skip waits for the next keyframe (R10) */
	bool asked_keyframe;   /* a skip asked once: last_ask_usec is valid */
	bool gather_armed, gather_done, gather_reported;
	unsigned trickled;
	uint64_t created_usec;
	uint64_t last_rtcp_usec;
	uint64_t last_ask_usec;
	uint64_t sr_due_usec;
	uint64_t dtls_due_usec;
	uint64_t gather_due_usec;
	struct cg_session_fsm_action queue[CG_SESSION_FSM_QUEUE];
	unsigned head, len;
};

/* The defaults above in *ret, with max_trickled = CG_SESSION_FSM_MAX_TRICKLED. */
void cg_session_fsm_config_default(struct cg_session_fsm_config *ret);

/*
 * Starts fsm in NEW, created at now_usec, with cfg (copied; NULL: the defaults). Returns 0,
 * or -EINVAL for a zero time or a zero max_trickled (fsm is left untouched). Creating thread.
 */
int cg_session_fsm_init(struct cg_session_fsm *fsm, const struct cg_session_fsm_config *cfg,
			uint64_t now_usec);

/*
 * Every function below runs on the owner thread only (see the top of this file). fsm is
 * borrowed. Every input returns 0 when taken (actions may be queued), or a negative errno and
 * changes nothing: -EPROTO (not valid in this state yet: a bad order), -EALREADY (done
 * before), -ECANCELED (the session is closing or closed), or as listed. Callers may feed
 * inputs while draining (from an action's handler); new actions queue behind the others.
 */

/* The SDP exchange is complete and DTLS started: NEW → ANSWERED. */
int cg_session_fsm_answered(struct cg_session_fsm *fsm, uint64_t now_usec);

/* Attached to its worker: arms R1 and R2. -EPROTO in NEW; -ECANCELED once closing or
 * closed (the owner must still be told that it closed, R13). */
int cg_session_fsm_start(struct cg_session_fsm *fsm, uint64_t now_usec);

/* Arms the gathering wait with a cap of cap_usec (R12). Queues REPORT_GATHERED at once
 * when gathering is already done (0) or the session closing or closed (-ECONNRESET, and
 * returns 0). -EALREADY when armed before. */
int cg_session_fsm_gather_wait(struct cg_session_fsm *fsm, uint64_t now_usec, uint64_t cap_usec);

/* ICE gathering is done (R12). -EALREADY when told before. */
int cg_session_fsm_gathering_done(struct cg_session_fsm *fsm, uint64_t now_usec);

/* An ICE state change (R3, R5). CONNECTED in NEW is -EPROTO, after ANSWERED -EALREADY. */
int cg_session_fsm_ice_state(struct cg_session_fsm *fsm, uint64_t now_usec,
			     enum cg_session_fsm_ice_state state);

/* ICE selected a pair: as ICE CONNECTED (R3). */
int cg_session_fsm_selected_pair(struct cg_session_fsm *fsm, uint64_t now_usec);

/* n trickled remote candidates are about to be applied (R14): -EAGAIN in NEW, -E2BIG when
 * the total would pass max_trickled. */
int cg_session_fsm_trickle(struct cg_session_fsm *fsm, uint64_t now_usec, unsigned n);

/* DTLS has datagrams queued: SEND_DTLS once ICE has a pair, else they stay held (R4). */
int cg_session_fsm_dtls_output(struct cg_session_fsm *fsm, uint64_t now_usec);

/* DTLS wants cg_dtls_handle_timeout() in timeout_ms (cg_dtls_poll_timeout_ms(); -1: no
 * timer). Replaces the previous one. */
int cg_session_fsm_dtls_timer(struct cg_session_fsm *fsm, uint64_t now_usec, int timeout_ms);

/* The DTLS handshake completed (R6): ICE_CONNECTED → DTLS_CONNECTED. -EPROTO before ICE. */
int cg_session_fsm_dtls_connected(struct cg_session_fsm *fsm, uint64_t now_usec);

/* The DTLS handshake failed (R7). */
int cg_session_fsm_dtls_failed(struct cg_session_fsm *fsm, uint64_t now_usec);

/* The peer closed DTLS (R7). */
int cg_session_fsm_dtls_closed(struct cg_session_fsm *fsm, uint64_t now_usec);

/* An authenticated, well-formed RTCP compound packet with flags (R8). -EPROTO before the
 * keys. */
int cg_session_fsm_rtcp(struct cg_session_fsm *fsm, uint64_t now_usec, unsigned flags);

/* START_MEDIA found no cached keyframe young enough: REQUEST_KEYFRAME (R6). -EPROTO
 * outside DTLS_CONNECTED. */
int cg_session_fsm_no_cached_keyframe(struct cg_session_fsm *fsm, uint64_t now_usec);

/* Whether a video unit (keyframe or not) is to be sent now (R9). Any state. */
bool cg_session_fsm_wants_unit(const struct cg_session_fsm *fsm, bool keyframe);

/* A video unit went out (R9): ends a wait, DTLS_CONNECTED → STREAMING. -EPROTO when
 * cg_session_fsm_wants_unit() said no. */
int cg_session_fsm_unit_sent(struct cg_session_fsm *fsm, uint64_t now_usec, bool keyframe);

/* The send budget or the socket refused a unit (R10). -EPROTO before the keys. */
int cg_session_fsm_unit_skipped(struct cg_session_fsm *fsm, uint64_t now_usec);

/* The worker's queue dropped a unit (R10). -EALREADY while waiting for a keyframe anyway
 * (DTLS_CONNECTED included), -EPROTO before the keys. */
int cg_session_fsm_resync(struct cg_session_fsm *fsm, uint64_t now_usec);

/* Close for reason (R13): CLOSING, REPORT_GATHERED(-ECONNRESET) if owed, CLOSE.
 * -EALREADY once closing or closed. */
int cg_session_fsm_close(struct cg_session_fsm *fsm, uint64_t now_usec,
			 enum cg_session_fsm_close_reason reason);

/* The caller tore the session down (after CLOSE, or directly: shutdown, a failed
 * creation): CLOSED, REPORT_GATHERED(-ECONNRESET) if owed. -EALREADY when closed. */
int cg_session_fsm_closed(struct cg_session_fsm *fsm, uint64_t now_usec);

/* The caller's timer fired: handles every deadline at or before now_usec (R12 cap, DTLS
 * timeout, R1, R2, R11, in that order). Early calls are harmless. */
int cg_session_fsm_timeout(struct cg_session_fsm *fsm, uint64_t now_usec);

/* The earliest time cg_session_fsm_timeout() has something to do, or
 * CG_SESSION_FSM_NEVER. Re-read it after every input. */
uint64_t cg_session_fsm_next_deadline_usec(const struct cg_session_fsm *fsm);

/* Pops the next action into *ret: 1, or 0 when none is queued. */
int cg_session_fsm_poll_action(struct cg_session_fsm *fsm, struct cg_session_fsm_action *ret);

enum cg_session_fsm_state cg_session_fsm_state(const struct cg_session_fsm *fsm);

/* Keys in place and not closing: sound, sender reports and RTCP feedback may flow. */
bool cg_session_fsm_keyed(const struct cg_session_fsm *fsm);

/* Static names for log lines: "ICE_CONNECTED", "no RTCP for 30 s"... */
const char *cg_session_fsm_state_name(enum cg_session_fsm_state state);
const char *cg_session_fsm_close_reason_name(enum cg_session_fsm_close_reason reason);
