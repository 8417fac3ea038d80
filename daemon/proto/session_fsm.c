/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stddef.h>

#include "proto/session_fsm.h"
#include "util/macros.h"

static uint64_t fsm_add(uint64_t t, uint64_t d)
{
	return t > CG_SESSION_FSM_NEVER - d ? CG_SESSION_FSM_NEVER : t + d;
}

static bool fsm_open(const struct cg_session_fsm *fsm)
{
	return fsm->state < CG_SESSION_FSM_CLOSING;
}

bool cg_session_fsm_keyed(const struct cg_session_fsm *fsm)
{
	return fsm->state == CG_SESSION_FSM_DTLS_CONNECTED ||
	       fsm->state == CG_SESSION_FSM_STREAMING;
}

/* ICE has a pair: DTLS may talk (R4). */
static bool fsm_has_pair(const struct cg_session_fsm *fsm)
{
	return fsm->state >= CG_SESSION_FSM_ICE_CONNECTED && fsm_open(fsm);
}

static void fsm_push(struct cg_session_fsm *fsm, const struct cg_session_fsm_action *a)
{
	/* A caller that does not drain after each input is a bug, not an input error. */
	cg_assert(fsm->len < CG_SESSION_FSM_QUEUE);
	fsm->queue[(fsm->head + fsm->len) % CG_SESSION_FSM_QUEUE] = *a;
	fsm->len++;
}

static void fsm_act(struct cg_session_fsm *fsm, enum cg_session_fsm_action_type type)
{
	fsm_push(fsm, &(struct cg_session_fsm_action){ .type = type });
}

static void fsm_enter(struct cg_session_fsm *fsm, enum cg_session_fsm_state state)
{
	fsm->state = state;
	fsm_push(fsm, &(struct cg_session_fsm_action){ .type = CG_SESSION_FSM_ACT_STATE,
						       .state = state });
}

/* Work that makes no sense once closing; STATE and REPORT_GATHERED stay (R13). */
static bool fsm_action_survives_close(const struct cg_session_fsm_action *a)
{
	return a->type == CG_SESSION_FSM_ACT_STATE || a->type == CG_SESSION_FSM_ACT_REPORT_GATHERED;
}

static void fsm_drop_work(struct cg_session_fsm *fsm)
{
	unsigned n = fsm->len, kept = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct cg_session_fsm_action *a =
			&fsm->queue[(fsm->head + i) % CG_SESSION_FSM_QUEUE];

		if (fsm_action_survives_close(a))
			fsm->queue[(fsm->head + kept++) % CG_SESSION_FSM_QUEUE] = *a;
	}
	fsm->len = kept;
}

/* REPORT_GATHERED once per armed wait (R12). */
static void fsm_report_gathered(struct cg_session_fsm *fsm, int status)
{
	if (!fsm->gather_armed || fsm->gather_reported)
		return;
	fsm->gather_reported = true;
	fsm_push(fsm, &(struct cg_session_fsm_action){ .type = CG_SESSION_FSM_ACT_REPORT_GATHERED,
						       .status = status });
}

static void fsm_begin_close(struct cg_session_fsm *fsm, enum cg_session_fsm_close_reason reason)
{
	fsm_drop_work(fsm);
	fsm_enter(fsm, CG_SESSION_FSM_CLOSING);
	fsm_report_gathered(fsm, -ECONNRESET);
	fsm_push(fsm, &(struct cg_session_fsm_action){ .type = CG_SESSION_FSM_ACT_CLOSE,
						       .reason = reason });
}

void cg_session_fsm_config_default(struct cg_session_fsm_config *ret)
{
	*ret = (struct cg_session_fsm_config){
		.setup_timeout_usec = CG_SESSION_FSM_SETUP_TIMEOUT_USEC,
		.consent_timeout_usec = CG_SESSION_FSM_CONSENT_TIMEOUT_USEC,
		.sr_interval_usec = CG_SESSION_FSM_SR_INTERVAL_USEC,
		.skip_ask_usec = CG_SESSION_FSM_SKIP_ASK_USEC,
		.join_replay_usec = CG_SESSION_FSM_JOIN_REPLAY_USEC,
		.max_trickled = CG_SESSION_FSM_MAX_TRICKLED,
	};
}

int cg_session_fsm_init(struct cg_session_fsm *fsm, const struct cg_session_fsm_config *cfg,
			uint64_t now_usec)
{
	struct cg_session_fsm_config c;

	if (!fsm)
		return -EINVAL;
	if (cfg)
		c = *cfg;
	else
		cg_session_fsm_config_default(&c);
	/* A zero time-out would close at once, a zero interval would spin the timer. */
	if (!c.setup_timeout_usec || !c.consent_timeout_usec || !c.sr_interval_usec ||
	    !c.skip_ask_usec || !c.join_replay_usec || !c.max_trickled)
		return -EINVAL;
	*fsm = (struct cg_session_fsm){
		.cfg = c,
		.state = CG_SESSION_FSM_NEW,
		.created_usec = now_usec,
		.sr_due_usec = CG_SESSION_FSM_NEVER,
		.dtls_due_usec = CG_SESSION_FSM_NEVER,
		.gather_due_usec = CG_SESSION_FSM_NEVER,
	};
	return 0;
}

int cg_session_fsm_answered(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->state != CG_SESSION_FSM_NEW)
		return -EALREADY;
	fsm_enter(fsm, CG_SESSION_FSM_ANSWERED);
	return 0;
}

int cg_session_fsm_start(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->state == CG_SESSION_FSM_NEW)
		return -EPROTO;
	if (fsm->started)
		return -EALREADY;
	fsm->started = true;
	return 0;
}

int cg_session_fsm_gather_wait(struct cg_session_fsm *fsm, uint64_t now_usec, uint64_t cap_usec)
{
	if (fsm->gather_armed)
		return -EALREADY;
	fsm->gather_armed = true;
	if (!fsm_open(fsm))
		fsm_report_gathered(fsm, -ECONNRESET);
	else if (fsm->gather_done)
		fsm_report_gathered(fsm, 0);
	else
		fsm->gather_due_usec = fsm_add(now_usec, cap_usec);
	return 0;
}

int cg_session_fsm_gathering_done(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->gather_done)
		return -EALREADY;
	fsm->gather_done = true;
	fsm_report_gathered(fsm, 0);
	return 0;
}

/* R3: the first sign of a pair, from the state or the selected pair. */
static int fsm_ice_connected(struct cg_session_fsm *fsm)
{
	if (fsm->state == CG_SESSION_FSM_NEW)
		return -EPROTO;
	if (fsm->state != CG_SESSION_FSM_ANSWERED)
		return -EALREADY;
	fsm_enter(fsm, CG_SESSION_FSM_ICE_CONNECTED);
	/* Release what DTLS held (R4); draining an empty queue costs nothing. */
	fsm_act(fsm, CG_SESSION_FSM_ACT_SEND_DTLS);
	return 0;
}

int cg_session_fsm_ice_state(struct cg_session_fsm *fsm, uint64_t now_usec,
			     enum cg_session_fsm_ice_state state)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	switch (state) {
	case CG_SESSION_FSM_ICE_STATE_CHECKING:
		return 0;
	case CG_SESSION_FSM_ICE_STATE_CONNECTED:
		return fsm_ice_connected(fsm);
	case CG_SESSION_FSM_ICE_STATE_FAILED:
		fsm_begin_close(fsm, CG_SESSION_FSM_CLOSE_ICE_FAILED);
		return 0;
	}
	return -EINVAL;
}

int cg_session_fsm_selected_pair(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	return fsm_ice_connected(fsm);
}

int cg_session_fsm_trickle(struct cg_session_fsm *fsm, uint64_t now_usec, unsigned n)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->state == CG_SESSION_FSM_NEW)
		return -EAGAIN;
	if (n > fsm->cfg.max_trickled - fsm->trickled)
		return -E2BIG;
	fsm->trickled += n;
	return 0;
}

int cg_session_fsm_dtls_output(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm_has_pair(fsm))
		fsm_act(fsm, CG_SESSION_FSM_ACT_SEND_DTLS);
	return 0;
}

int cg_session_fsm_dtls_timer(struct cg_session_fsm *fsm, uint64_t now_usec, int timeout_ms)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	fsm->dtls_due_usec = timeout_ms < 0 ? CG_SESSION_FSM_NEVER
					    : fsm_add(now_usec, (uint64_t)timeout_ms * 1000);
	return 0;
}

int cg_session_fsm_dtls_connected(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->state < CG_SESSION_FSM_ICE_CONNECTED)
		return -EPROTO;
	if (fsm->state != CG_SESSION_FSM_ICE_CONNECTED)
		return -EALREADY;
	fsm_enter(fsm, CG_SESSION_FSM_DTLS_CONNECTED);
	fsm->last_rtcp_usec = now_usec;
	fsm->sr_due_usec = fsm_add(now_usec, fsm->cfg.sr_interval_usec);
	fsm_act(fsm, CG_SESSION_FSM_ACT_START_SRTP);
	fsm_push(fsm, &(struct cg_session_fsm_action){ .type = CG_SESSION_FSM_ACT_START_MEDIA,
						       .replay_max_age_usec =
							       fsm->cfg.join_replay_usec });
	return 0;
}

int cg_session_fsm_dtls_failed(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	fsm_begin_close(fsm, CG_SESSION_FSM_CLOSE_DTLS_FAILED);
	return 0;
}

int cg_session_fsm_dtls_closed(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	fsm_begin_close(fsm, CG_SESSION_FSM_CLOSE_DTLS_CLOSED);
	return 0;
}

int cg_session_fsm_rtcp(struct cg_session_fsm *fsm, uint64_t now_usec, unsigned flags)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (!cg_session_fsm_keyed(fsm))
		return -EPROTO;
	if (flags & ~(CG_SESSION_FSM_RTCP_KEYFRAME | CG_SESSION_FSM_RTCP_BYE))
		return -EINVAL;
	fsm->last_rtcp_usec = now_usec;
	if (flags & CG_SESSION_FSM_RTCP_KEYFRAME)
		fsm_act(fsm, CG_SESSION_FSM_ACT_REQUEST_KEYFRAME);
	if (flags & CG_SESSION_FSM_RTCP_BYE)
		fsm_begin_close(fsm, CG_SESSION_FSM_CLOSE_RTCP_BYE);
	return 0;
}

int cg_session_fsm_no_cached_keyframe(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (fsm->state != CG_SESSION_FSM_DTLS_CONNECTED)
		return -EPROTO;
	fsm_act(fsm, CG_SESSION_FSM_ACT_REQUEST_KEYFRAME);
	return 0;
}

bool cg_session_fsm_wants_unit(const struct cg_session_fsm *fsm, bool keyframe)
{
	if (fsm->state == CG_SESSION_FSM_DTLS_CONNECTED)
		return keyframe;
	if (fsm->state == CG_SESSION_FSM_STREAMING)
		return keyframe || !fsm->waiting_keyframe;
	return false;
}

int cg_session_fsm_unit_sent(struct cg_session_fsm *fsm, uint64_t now_usec, bool keyframe)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (!cg_session_fsm_wants_unit(fsm, keyframe))
		return -EPROTO;
	fsm->waiting_keyframe = false;
	if (fsm->state == CG_SESSION_FSM_DTLS_CONNECTED)
		fsm_enter(fsm, CG_SESSION_FSM_STREAMING);
	return 0;
}

/* R10: wait for the next keyframe, asking for one at most every skip_ask_usec. */
static void fsm_skip(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	fsm->waiting_keyframe = true;
	if (fsm->asked_keyframe && now_usec < fsm_add(fsm->last_ask_usec, fsm->cfg.skip_ask_usec))
		return;
	fsm->asked_keyframe = true;
	fsm->last_ask_usec = now_usec;
	fsm_act(fsm, CG_SESSION_FSM_ACT_REQUEST_KEYFRAME);
}

int cg_session_fsm_unit_skipped(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (!cg_session_fsm_keyed(fsm))
		return -EPROTO;
	fsm_skip(fsm, now_usec);
	return 0;
}

int cg_session_fsm_resync(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (!cg_session_fsm_keyed(fsm))
		return -EPROTO;
	if (fsm->state == CG_SESSION_FSM_DTLS_CONNECTED || fsm->waiting_keyframe)
		return -EALREADY;
	fsm_skip(fsm, now_usec);
	return 0;
}

int cg_session_fsm_close(struct cg_session_fsm *fsm, uint64_t now_usec,
			 enum cg_session_fsm_close_reason reason)
{
	if (!fsm_open(fsm))
		return -EALREADY;
	if ((unsigned)reason > CG_SESSION_FSM_CLOSE_SRTP_FAILED)
		return -EINVAL;
	fsm_begin_close(fsm, reason);
	return 0;
}

int cg_session_fsm_closed(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (fsm->state == CG_SESSION_FSM_CLOSED)
		return -EALREADY;
	if (fsm_open(fsm))
		fsm_drop_work(fsm);
	fsm_report_gathered(fsm, -ECONNRESET);
	fsm_enter(fsm, CG_SESSION_FSM_CLOSED);
	return 0;
}

/* R1 applies until the keys, R2 from then on; both only once started. */
static uint64_t fsm_watchdog_due(const struct cg_session_fsm *fsm)
{
	if (!fsm->started || !fsm_open(fsm))
		return CG_SESSION_FSM_NEVER;
	if (cg_session_fsm_keyed(fsm))
		return fsm_add(fsm->last_rtcp_usec, fsm->cfg.consent_timeout_usec);
	return fsm_add(fsm->created_usec, fsm->cfg.setup_timeout_usec);
}

static uint64_t fsm_gather_due(const struct cg_session_fsm *fsm)
{
	return fsm->gather_armed && !fsm->gather_reported ? fsm->gather_due_usec
							  : CG_SESSION_FSM_NEVER;
}

static uint64_t fsm_sr_due(const struct cg_session_fsm *fsm)
{
	return cg_session_fsm_keyed(fsm) ? fsm->sr_due_usec : CG_SESSION_FSM_NEVER;
}

uint64_t cg_session_fsm_next_deadline_usec(const struct cg_session_fsm *fsm)
{
	uint64_t due = fsm_watchdog_due(fsm);

	if (!fsm_open(fsm))
		return CG_SESSION_FSM_NEVER;
	due = CG_MIN(due, fsm_gather_due(fsm));
	due = CG_MIN(due, fsm->dtls_due_usec);
	return CG_MIN(due, fsm_sr_due(fsm));
}

int cg_session_fsm_timeout(struct cg_session_fsm *fsm, uint64_t now_usec)
{
	if (!fsm_open(fsm))
		return -ECANCELED;
	if (now_usec >= fsm_gather_due(fsm))
		fsm_report_gathered(fsm, -ETIMEDOUT);
	if (now_usec >= fsm->dtls_due_usec) {
		fsm->dtls_due_usec = CG_SESSION_FSM_NEVER;
		fsm_act(fsm, CG_SESSION_FSM_ACT_DTLS_TIMEOUT);
	}
	if (now_usec >= fsm_watchdog_due(fsm)) {
		fsm_begin_close(fsm, cg_session_fsm_keyed(fsm)
					     ? CG_SESSION_FSM_CLOSE_CONSENT
					     : CG_SESSION_FSM_CLOSE_SETUP_TIMEOUT);
		return 0;
	}
	if (now_usec >= fsm_sr_due(fsm)) {
		/* Re-armed from now, as a GLib timeout re-arms from its dispatch. */
		fsm->sr_due_usec = fsm_add(now_usec, fsm->cfg.sr_interval_usec);
		fsm_act(fsm, CG_SESSION_FSM_ACT_SEND_SR);
	}
	return 0;
}

int cg_session_fsm_poll_action(struct cg_session_fsm *fsm, struct cg_session_fsm_action *ret)
{
	if (fsm->len == 0)
		return 0;
	*ret = fsm->queue[fsm->head];
	fsm->head = (fsm->head + 1) % CG_SESSION_FSM_QUEUE;
	fsm->len--;
	return 1;
}

enum cg_session_fsm_state cg_session_fsm_state(const struct cg_session_fsm *fsm)
{
	return fsm->state;
}

const char *cg_session_fsm_state_name(enum cg_session_fsm_state state)
{
	static const char *const names[] = {
		[CG_SESSION_FSM_NEW] = "NEW",
		[CG_SESSION_FSM_ANSWERED] = "ANSWERED",
		[CG_SESSION_FSM_ICE_CONNECTED] = "ICE_CONNECTED",
		[CG_SESSION_FSM_DTLS_CONNECTED] = "DTLS_CONNECTED",
		[CG_SESSION_FSM_STREAMING] = "STREAMING",
		[CG_SESSION_FSM_CLOSING] = "CLOSING",
		[CG_SESSION_FSM_CLOSED] = "CLOSED",
	};

	return (unsigned)state < CG_ARRAY_SIZE(names) ? names[state] : "?";
}

const char *cg_session_fsm_close_reason_name(enum cg_session_fsm_close_reason reason)
{
	static const char *const names[] = {
		[CG_SESSION_FSM_CLOSE_REQUESTED] = "closed by its owner",
		[CG_SESSION_FSM_CLOSE_SETUP_TIMEOUT] = "no media path in time",
		[CG_SESSION_FSM_CLOSE_CONSENT] = "no RTCP in time",
		[CG_SESSION_FSM_CLOSE_ICE_FAILED] = "ICE failed",
		[CG_SESSION_FSM_CLOSE_DTLS_FAILED] = "DTLS failed",
		[CG_SESSION_FSM_CLOSE_DTLS_CLOSED] = "viewer closed DTLS",
		[CG_SESSION_FSM_CLOSE_RTCP_BYE] = "viewer sent BYE",
		[CG_SESSION_FSM_CLOSE_SRTP_FAILED] = "cannot set up SRTP",
	};

	return (unsigned)reason < CG_ARRAY_SIZE(names) ? names[reason] : "?";
}
