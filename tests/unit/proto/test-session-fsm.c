/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The session state machine (proto/session_fsm.h) on a fake clock: every transition, every
 * time-out, and inputs in the wrong order. Actions are drained after each input and compared
 * as text ("STATE:ICE_CONNECTED SEND_DTLS"), so that a failure shows the whole sequence.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "proto/session_fsm.h"

#define SEC(x)	((uint64_t)(x)*1000000)
#define MSEC(x) ((uint64_t)(x)*1000)

/* The fake clock: a non-zero start, so that "time 0" bugs show. */
#define T0 SEC(1000)

static const char *reason_token(enum cg_session_fsm_close_reason r)
{
	static const char *const t[] = {
		[CG_SESSION_FSM_CLOSE_REQUESTED] = "REQUESTED",
		[CG_SESSION_FSM_CLOSE_SETUP_TIMEOUT] = "SETUP_TIMEOUT",
		[CG_SESSION_FSM_CLOSE_CONSENT] = "CONSENT",
		[CG_SESSION_FSM_CLOSE_ICE_FAILED] = "ICE_FAILED",
		[CG_SESSION_FSM_CLOSE_DTLS_FAILED] = "DTLS_FAILED",
		[CG_SESSION_FSM_CLOSE_DTLS_CLOSED] = "DTLS_CLOSED",
		[CG_SESSION_FSM_CLOSE_RTCP_BYE] = "RTCP_BYE",
		[CG_SESSION_FSM_CLOSE_SRTP_FAILED] = "SRTP_FAILED",
	};

	return t[r];
}

static const char *status_token(int status)
{
	switch (status) {
	case 0:
		return "0";
	case -ETIMEDOUT:
		return "ETIMEDOUT";
	case -ECONNRESET:
		return "ECONNRESET";
	}
	return "?";
}

static void append_action(GString *s, const struct cg_session_fsm_action *a)
{
	static const char *const names[] = {
		[CG_SESSION_FSM_ACT_NONE] = "NONE",
		[CG_SESSION_FSM_ACT_STATE] = "STATE",
		[CG_SESSION_FSM_ACT_SEND_DTLS] = "SEND_DTLS",
		[CG_SESSION_FSM_ACT_DTLS_TIMEOUT] = "DTLS_TIMEOUT",
		[CG_SESSION_FSM_ACT_START_SRTP] = "START_SRTP",
		[CG_SESSION_FSM_ACT_START_MEDIA] = "START_MEDIA",
		[CG_SESSION_FSM_ACT_REQUEST_KEYFRAME] = "REQUEST_KEYFRAME",
		[CG_SESSION_FSM_ACT_SEND_SR] = "SEND_SR",
		[CG_SESSION_FSM_ACT_REPORT_GATHERED] = "REPORT_GATHERED",
		[CG_SESSION_FSM_ACT_CLOSE] = "CLOSE",
	};

	if (s->len)
		g_string_append_c(s, ' ');
	g_string_append(s, names[a->type]);
	if (a->type == CG_SESSION_FSM_ACT_STATE)
		g_string_append_printf(s, ":%s", cg_session_fsm_state_name(a->state));
	else if (a->type == CG_SESSION_FSM_ACT_CLOSE)
		g_string_append_printf(s, ":%s", reason_token(a->reason));
	else if (a->type == CG_SESSION_FSM_ACT_REPORT_GATHERED)
		g_string_append_printf(s, ":%s", status_token(a->status));
	else if (a->type == CG_SESSION_FSM_ACT_START_MEDIA)
		g_string_append_printf(s, ":%" G_GUINT64_FORMAT "ms",
				       a->replay_max_age_usec / 1000);
}

/* Every queued action as text; "" when none. Valid until the next call. */
static const char *drain(struct cg_session_fsm *f)
{
	static char buf[1024];
	struct cg_session_fsm_action a;
	GString *s = g_string_new(NULL);

	while (cg_session_fsm_poll_action(f, &a) > 0)
		append_action(s, &a);
	g_strlcpy(buf, s->str, sizeof(buf));
	g_string_free(s, TRUE);
	return buf;
}

static void fsm_new(struct cg_session_fsm *f)
{
	g_assert_cmpint(cg_session_fsm_init(f, NULL, T0), ==, 0);
}

/* ANSWERED (and started, when asked), actions drained. */
static void fsm_answered(struct cg_session_fsm *f, bool started)
{
	fsm_new(f);
	g_assert_cmpint(cg_session_fsm_answered(f, T0), ==, 0);
	if (started)
		g_assert_cmpint(cg_session_fsm_start(f, T0), ==, 0);
	drain(f);
}

static void fsm_ice(struct cg_session_fsm *f, uint64_t now)
{
	fsm_answered(f, true);
	g_assert_cmpint(cg_session_fsm_ice_state(f, now, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			0);
	drain(f);
}

/* DTLS_CONNECTED at now, started, actions drained. */
static void fsm_keyed(struct cg_session_fsm *f, uint64_t now)
{
	fsm_ice(f, now);
	g_assert_cmpint(cg_session_fsm_dtls_connected(f, now), ==, 0);
	drain(f);
}

/* STREAMING at now: the join keyframe went out. */
static void fsm_streaming(struct cg_session_fsm *f, uint64_t now)
{
	fsm_keyed(f, now);
	g_assert_cmpint(cg_session_fsm_unit_sent(f, now, true), ==, 0);
	g_assert_cmpstr(drain(f), ==, "STATE:STREAMING");
}

static void test_init(void)
{
	struct cg_session_fsm f;
	struct cg_session_fsm_config cfg;

	fsm_new(&f);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_NEW);
	g_assert_false(cg_session_fsm_keyed(&f));
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	g_assert_cmpstr(drain(&f), ==, "");

	/* Zero times and a zero candidate bound are refused; the struct stays as it was. */
	cg_session_fsm_config_default(&cfg);
	g_assert_cmpuint(cfg.setup_timeout_usec, ==, SEC(30));
	g_assert_cmpuint(cfg.consent_timeout_usec, ==, SEC(30));
	g_assert_cmpuint(cfg.sr_interval_usec, ==, SEC(1));
	g_assert_cmpuint(cfg.skip_ask_usec, ==, SEC(2));
	g_assert_cmpuint(cfg.join_replay_usec, ==, MSEC(200));
	g_assert_cmpuint(cfg.max_trickled, ==, 64);
	cfg.max_trickled = 0;
	g_assert_cmpint(cg_session_fsm_init(&f, &cfg, T0 + 1), ==, -EINVAL);
	cg_session_fsm_config_default(&cfg);
	cfg.consent_timeout_usec = 0;
	g_assert_cmpint(cg_session_fsm_init(&f, &cfg, T0 + 1), ==, -EINVAL);
	cg_session_fsm_config_default(&cfg);
	cfg.sr_interval_usec = 0;
	g_assert_cmpint(cg_session_fsm_init(&f, &cfg, T0 + 1), ==, -EINVAL);
	/* Still the first session: its creation time and its default bound. */
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_start(&f, T0), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(30));
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 64), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 1), ==, -E2BIG);
	g_assert_cmpint(cg_session_fsm_init(NULL, NULL, T0), ==, -EINVAL);
}

static void test_answered(void)
{
	struct cg_session_fsm f;

	fsm_new(&f);
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:ANSWERED");
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, -EALREADY);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_ANSWERED);
}

/* R1 is armed by start, counted from creation; start needs the SDP exchange (R15). */
static void test_start(void)
{
	struct cg_session_fsm f;

	fsm_new(&f);
	g_assert_cmpint(cg_session_fsm_start(&f, T0), ==, -EPROTO);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	g_assert_cmpint(cg_session_fsm_answered(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	g_assert_cmpint(cg_session_fsm_start(&f, T0 + SEC(20)), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(30));
	g_assert_cmpint(cg_session_fsm_start(&f, T0 + SEC(20)), ==, -EALREADY);
	g_assert_cmpstr(drain(&f), ==, "STATE:ANSWERED");
}

/* R3, R4: the pair releases the held DTLS output, from the state or the selected pair. */
static void test_ice_connected(void)
{
	struct cg_session_fsm f;

	fsm_new(&f);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			-EPROTO);
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0), ==, -EPROTO);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_NEW);
	g_assert_cmpstr(drain(&f), ==, "");

	fsm_answered(&f, true);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CHECKING), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_output(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, ""); /* held: no pair yet */
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			0);
	g_assert_cmpstr(drain(&f), ==, "STATE:ICE_CONNECTED SEND_DTLS");
	/* libnice goes on to READY; the pair is reported too: nothing new. */
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			-EALREADY);
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0), ==, -EALREADY);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CHECKING), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_dtls_output(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "SEND_DTLS");

	fsm_answered(&f, true);
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:ICE_CONNECTED SEND_DTLS");
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, (enum cg_session_fsm_ice_state)7), ==,
			-EINVAL);
}

/* R4: the DTLS retransmission time folds into the one deadline. */
static void test_dtls_timer(void)
{
	struct cg_session_fsm f;

	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0, 1000), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(1));
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(1) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "DTLS_TIMEOUT");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	/* A new time replaces the old; -1 (connected, or a server waiting) clears it. */
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0 + SEC(1), 2000), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0 + SEC(1), 500), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + MSEC(1500));
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0 + SEC(1), -1), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(10)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
}

/* R6 and R15: DTLS connected only after ICE, once. */
static void test_dtls_connected(void)
{
	struct cg_session_fsm f;

	fsm_answered(&f, true);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0), ==, -EPROTO);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_ANSWERED);
	g_assert_false(cg_session_fsm_keyed(&f));
	g_assert_cmpstr(drain(&f), ==, "");

	fsm_ice(&f, T0 + SEC(2));
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:DTLS_CONNECTED START_SRTP START_MEDIA:200ms");
	g_assert_true(cg_session_fsm_keyed(&f));
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0 + SEC(3)), ==, -EALREADY);
	g_assert_cmpstr(drain(&f), ==, "");
	/* The first SR 1 s after the keys (R11) comes before consent's 30 s (R2). */
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(4));
}

/* R6, R9: the join starts at a keyframe, replayed or asked for. */
static void test_join(void)
{
	struct cg_session_fsm f;

	fsm_keyed(&f, T0);
	g_assert_false(cg_session_fsm_wants_unit(&f, false));
	g_assert_true(cg_session_fsm_wants_unit(&f, true));
	g_assert_cmpint(cg_session_fsm_no_cached_keyframe(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0, false), ==, -EPROTO);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_DTLS_CONNECTED);
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + MSEC(40), true), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:STREAMING");
	g_assert_true(cg_session_fsm_wants_unit(&f, false));
	g_assert_true(cg_session_fsm_keyed(&f));
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + MSEC(80), false), ==, 0);
	g_assert_cmpint(cg_session_fsm_no_cached_keyframe(&f, T0), ==, -EPROTO);
	g_assert_cmpstr(drain(&f), ==, "");
}

/* The GOP replay feeds units while START_MEDIA is being carried out: inputs in the middle
 * of a drain queue behind what is left. */
static void test_join_replay_while_draining(void)
{
	struct cg_session_fsm f;
	struct cg_session_fsm_action a;
	GString *rest = g_string_new(NULL);

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_poll_action(&f, &a), ==, 1);
	g_assert_cmpint(a.type, ==, CG_SESSION_FSM_ACT_STATE);
	g_assert_cmpint(cg_session_fsm_poll_action(&f, &a), ==, 1);
	g_assert_cmpint(a.type, ==, CG_SESSION_FSM_ACT_START_SRTP);
	g_assert_cmpint(cg_session_fsm_poll_action(&f, &a), ==, 1);
	g_assert_cmpint(a.type, ==, CG_SESSION_FSM_ACT_START_MEDIA);
	g_assert_cmpuint(a.replay_max_age_usec, ==, MSEC(200));
	/* The cached GOP: a keyframe and seven P-frames. */
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0, true), ==, 0);
	for (int i = 0; i < 7; i++)
		g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0, false), ==, 0);
	while (cg_session_fsm_poll_action(&f, &a) > 0)
		append_action(rest, &a);
	g_assert_cmpstr(rest->str, ==, "STATE:STREAMING");
	g_string_free(rest, TRUE);
}

/* R1 in every state before the keys; only once started. */
static void test_setup_timeout(void)
{
	struct cg_session_fsm f;

	fsm_answered(&f, true);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(30) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(30)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:SETUP_TIMEOUT");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);

	fsm_ice(&f, T0 + SEC(29));
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(30));
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(30)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:SETUP_TIMEOUT");

	/* Not started (a gathering answer not yet sent, an offer not yet answered): no
	 * watchdog, as session.c arms it at attach. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(60)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_ANSWERED);
	/* Started late: the deadline has passed, the next timer closes. */
	g_assert_cmpint(cg_session_fsm_start(&f, T0 + SEC(60)), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(30));
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(60)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:SETUP_TIMEOUT");

	/* The keys end R1: DTLS connected at 29 s is not closed at 30 s. */
	fsm_keyed(&f, T0 + SEC(29));
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(30)), ==, 0);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_DTLS_CONNECTED);
	g_assert_cmpstr(drain(&f), ==, "SEND_SR");
}

/* R2: 30 s without authenticated RTCP, counted from the keys, refreshed by RTCP. */
static void test_consent(void)
{
	struct cg_session_fsm f;
	uint64_t t = T0 + SEC(5);

	fsm_keyed(&f, t);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, t + SEC(10), 0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	/* SRs every second up to the deadline; then consent expires. */
	for (uint64_t now = t + SEC(1); now < t + SEC(40); now += SEC(1)) {
		g_assert_cmpint(cg_session_fsm_timeout(&f, now), ==, 0);
		g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	}
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, t + SEC(40));
	g_assert_cmpint(cg_session_fsm_timeout(&f, t + SEC(40)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:CONSENT");

	/* The same in STREAMING, with no RTCP at all. */
	fsm_streaming(&f, t);
	g_assert_cmpint(cg_session_fsm_timeout(&f, t + SEC(30) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	g_assert_cmpint(cg_session_fsm_timeout(&f, t + SEC(30)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:CONSENT");
}

/* R11: an SR a second, re-armed from when the timer ran; none before the keys or after
 * close. */
static void test_sender_reports(void)
{
	struct cg_session_fsm f;

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(2)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0 + SEC(2)), ==, 0);
	drain(&f);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(3) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	/* A timer that ran 700 ms late gives one SR, the next a second after it. */
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + MSEC(4700)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + MSEC(5700));
	g_assert_cmpint(cg_session_fsm_close(&f, T0 + SEC(5), CG_SESSION_FSM_CLOSE_REQUESTED), ==,
			0);
	drain(&f);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(9)), ==, -ECANCELED);
	g_assert_cmpstr(drain(&f), ==, "");
}

/* R5, R7: failures close from every open state, with their reason. */
static void test_failures(void)
{
	static const enum cg_session_fsm_state states[] = {
		CG_SESSION_FSM_NEW,	      CG_SESSION_FSM_ANSWERED,
		CG_SESSION_FSM_ICE_CONNECTED, CG_SESSION_FSM_DTLS_CONNECTED,
		CG_SESSION_FSM_STREAMING,
	};
	static const char *const want[] = { "STATE:CLOSING CLOSE:ICE_FAILED",
					    "STATE:CLOSING CLOSE:DTLS_FAILED",
					    "STATE:CLOSING CLOSE:DTLS_CLOSED" };

	for (unsigned i = 0; i < G_N_ELEMENTS(states); i++) {
		for (unsigned k = 0; k < G_N_ELEMENTS(want); k++) {
			struct cg_session_fsm f;
			int r;

			if (states[i] == CG_SESSION_FSM_NEW)
				fsm_new(&f);
			else if (states[i] == CG_SESSION_FSM_ANSWERED)
				fsm_answered(&f, true);
			else if (states[i] == CG_SESSION_FSM_ICE_CONNECTED)
				fsm_ice(&f, T0);
			else if (states[i] == CG_SESSION_FSM_DTLS_CONNECTED)
				fsm_keyed(&f, T0);
			else
				fsm_streaming(&f, T0);
			drain(&f);
			if (k == 0)
				r = cg_session_fsm_ice_state(&f, T0,
							     CG_SESSION_FSM_ICE_STATE_FAILED);
			else if (k == 1)
				r = cg_session_fsm_dtls_failed(&f, T0);
			else
				r = cg_session_fsm_dtls_closed(&f, T0);
			g_assert_cmpint(r, ==, 0);
			g_assert_cmpstr(drain(&f), ==, want[k]);
			g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_CLOSING);
			/* A second failure is news to nobody. */
			g_assert_cmpint(
				cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_FAILED),
				==, -ECANCELED);
			g_assert_cmpint(cg_session_fsm_dtls_failed(&f, T0), ==, -ECANCELED);
			g_assert_cmpstr(drain(&f), ==, "");
		}
	}
}

/* R8: RTCP only once keyed; PLI/FIR ask; BYE closes. */
static void test_rtcp(void)
{
	struct cg_session_fsm f;

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME), ==, -EPROTO);
	g_assert_cmpstr(drain(&f), ==, "");

	fsm_keyed(&f, T0);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	/* Every PLI asks: the arbiter, not the session, throttles. */
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0 + 1, CG_SESSION_FSM_RTCP_KEYFRAME), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, 1u << 7), ==, -EINVAL);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_BYE), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:RTCP_BYE");
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, 0), ==, -ECANCELED);

	/* A PLI and a BYE in one compound: the close drops the request (R13). */
	fsm_streaming(&f, T0);
	g_assert_cmpint(
		cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME | CG_SESSION_FSM_RTCP_BYE),
		==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:RTCP_BYE");
}

/* R10: skips wait for a keyframe and ask at most every 2 s, the first time at once. */
static void test_skip(void)
{
	struct cg_session_fsm f;

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0), ==, -EPROTO);

	fsm_streaming(&f, T0);
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_false(cg_session_fsm_wants_unit(&f, false));
	g_assert_true(cg_session_fsm_wants_unit(&f, true));
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + SEC(1), false), ==, -EPROTO);
	/* The keyframe is refused too (the budget): skipped again, not asked again yet. */
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0 + SEC(3) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + SEC(4), true), ==, 0);
	g_assert_cmpstr(drain(&f), ==, ""); /* still STREAMING: no state change */
	g_assert_true(cg_session_fsm_wants_unit(&f, false));
	/* The socket refused part of a frame (the wait began after the unit went out). */
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0 + SEC(4)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0 + SEC(5)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");

	/* While joining the budget may refuse the keyframe: the join goes on waiting. */
	fsm_keyed(&f, T0);
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_DTLS_CONNECTED);
}

/* R10: a gap in the worker's queue. */
static void test_resync(void)
{
	struct cg_session_fsm f;

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_resync(&f, T0), ==, -EPROTO);
	fsm_keyed(&f, T0);
	g_assert_cmpint(cg_session_fsm_resync(&f, T0), ==, -EALREADY); /* joining: waits anyway */
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0, true), ==, 0);
	drain(&f);
	g_assert_cmpint(cg_session_fsm_resync(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_false(cg_session_fsm_wants_unit(&f, false));
	g_assert_cmpint(cg_session_fsm_resync(&f, T0 + MSEC(1500)), ==, -EALREADY);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + MSEC(1500), true), ==, 0);
	/* A gap within 2 s of the last ask waits without asking; a later one asks. */
	g_assert_cmpint(cg_session_fsm_resync(&f, T0 + SEC(2)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + MSEC(2500), true), ==, 0);
	g_assert_cmpint(cg_session_fsm_resync(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
}

/* R12: the gathering wait reports once, whatever ends it. */
static void test_gathering(void)
{
	struct cg_session_fsm f;

	/* Done after the wait was armed. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + SEC(3));
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:0");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0 + SEC(1)), ==, -EALREADY);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_close(&f, T0 + SEC(4), CG_SESSION_FSM_CLOSE_REQUESTED), ==,
			0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:REQUESTED");

	/* Done before the wait was armed (host candidates only): reported on arming. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:0");
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, -EALREADY);

	/* The cap: an unreachable STUN or TURN server. Done afterwards reports nothing. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(3) - 1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:ETIMEDOUT");
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0 + SEC(4)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");

	/* Closed while waiting: the viewer gets an error, before the close. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_FAILED), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING REPORT_GATHERED:ECONNRESET CLOSE:ICE_FAILED");
	g_assert_cmpint(cg_session_fsm_closed(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSED");

	/* Closed before the wait was armed: arming reports the close. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_REQUESTED), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:REQUESTED");
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:ECONNRESET");
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0), ==, -ECANCELED);

	/* Torn down directly (shutdown) while waiting. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_closed(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:ECONNRESET STATE:CLOSED");
}

/* A gathering session's ICE and DTLS may connect before it is started: no watchdog until
 * then, SRs already. */
static void test_connect_before_start(void)
{
	struct cg_session_fsm f;

	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0 + MSEC(100)), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0 + MSEC(200)), ==, 0);
	g_assert_cmpstr(drain(&f), ==,
			"STATE:ICE_CONNECTED SEND_DTLS STATE:DTLS_CONNECTED START_SRTP "
			"START_MEDIA:200ms");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + MSEC(1200));
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0 + SEC(1)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REPORT_GATHERED:0");
	g_assert_cmpint(cg_session_fsm_start(&f, T0 + SEC(1)), ==, 0);
	for (uint64_t now = T0 + MSEC(1200); now < T0 + MSEC(30200); now += SEC(1)) {
		g_assert_cmpint(cg_session_fsm_timeout(&f, now), ==, 0);
		g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	}
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, T0 + MSEC(30200));
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + MSEC(30200)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:CONSENT");
}

/* R14: trickled candidates, bounded, refused whole over the bound. */
static void test_trickle(void)
{
	struct cg_session_fsm_config cfg;
	struct cg_session_fsm f;

	cg_session_fsm_config_default(&cfg);
	cfg.max_trickled = 4;
	g_assert_cmpint(cg_session_fsm_init(&f, &cfg, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 1), ==, -EAGAIN);
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 3), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 2), ==, -E2BIG);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 1), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 1), ==, -E2BIG);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 0), ==, 0); /* end-of-candidates alone */
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, UINT32_MAX), ==, -E2BIG);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_REQUESTED), ==, 0);
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0, 0), ==, -ECANCELED);
	g_assert_cmpstr(drain(&f), ==, "STATE:ANSWERED STATE:CLOSING CLOSE:REQUESTED");
}

/* R13: one close; CLOSING refuses everything; CLOSED after teardown. */
static void test_close(void)
{
	struct cg_session_fsm f;

	fsm_streaming(&f, T0);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, (enum cg_session_fsm_close_reason)99), ==,
			-EINVAL);
	g_assert_cmpint(cg_session_fsm_state(&f), ==, CG_SESSION_FSM_STREAMING);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_REQUESTED), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:REQUESTED");
	g_assert_false(cg_session_fsm_keyed(&f));
	g_assert_false(cg_session_fsm_wants_unit(&f, true));
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);

	/* Everything else is refused and queues nothing. */
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_RTCP_BYE), ==, -EALREADY);
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_start(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			-ECANCELED);
	g_assert_cmpint(cg_session_fsm_dtls_output(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0, 10), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_dtls_closed(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_no_cached_keyframe(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0, true), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_unit_skipped(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_resync(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0), ==, -ECANCELED);
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + SEC(100)), ==, -ECANCELED);
	g_assert_cmpstr(drain(&f), ==, "");

	g_assert_cmpint(cg_session_fsm_closed(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSED");
	g_assert_cmpint(cg_session_fsm_closed(&f, T0), ==, -EALREADY);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_REQUESTED), ==,
			-EALREADY);
	g_assert_cmpint(cg_session_fsm_start(&f, T0), ==, -ECANCELED);
	g_assert_cmpstr(drain(&f), ==, "");

	/* Torn down without a close first (worker shutdown, a failed creation). */
	fsm_streaming(&f, T0);
	g_assert_cmpint(cg_session_fsm_closed(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSED");
	g_assert_cmpuint(cg_session_fsm_next_deadline_usec(&f), ==, CG_SESSION_FSM_NEVER);
}

/* R13: closing drops work not yet carried out. SRTP failing while START_SRTP is carried out
 * closes before START_MEDIA replays anything. */
static void test_close_drops_work(void)
{
	struct cg_session_fsm f;
	struct cg_session_fsm_action a;

	fsm_ice(&f, T0);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_poll_action(&f, &a), ==, 1); /* STATE */
	g_assert_cmpint(cg_session_fsm_poll_action(&f, &a), ==, 1);
	g_assert_cmpint(a.type, ==, CG_SESSION_FSM_ACT_START_SRTP);
	g_assert_cmpint(cg_session_fsm_close(&f, T0, CG_SESSION_FSM_CLOSE_SRTP_FAILED), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:SRTP_FAILED");

	/* Nothing drained at all: the state changes and a report stay, the work goes. */
	fsm_answered(&f, false);
	g_assert_cmpint(cg_session_fsm_gather_wait(&f, T0, SEC(3)), ==, 0);
	g_assert_cmpint(cg_session_fsm_gathering_done(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_ice_state(&f, T0, CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
			0);
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_closed(&f, T0), ==, 0);
	g_assert_cmpstr(drain(&f), ==,
			"REPORT_GATHERED:0 STATE:ICE_CONNECTED STATE:DTLS_CONNECTED "
			"STATE:CLOSING CLOSE:DTLS_CLOSED");
}

/* The whole life of a WHEP viewer, as session.c would feed it. */
static void test_happy_path(void)
{
	struct cg_session_fsm f;

	fsm_new(&f);
	g_assert_cmpint(cg_session_fsm_answered(&f, T0), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0, -1), ==, 0); /* server: waits */
	g_assert_cmpint(cg_session_fsm_trickle(&f, T0 + MSEC(5), 2), ==, 0);
	g_assert_cmpint(cg_session_fsm_start(&f, T0 + MSEC(10)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:ANSWERED");
	g_assert_cmpint(
		cg_session_fsm_ice_state(&f, T0 + MSEC(20), CG_SESSION_FSM_ICE_STATE_CHECKING), ==,
		0);
	/* The ClientHello arrives before our checks succeed: the answer is held. */
	g_assert_cmpint(cg_session_fsm_dtls_output(&f, T0 + MSEC(30)), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0 + MSEC(30), 1000), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "");
	g_assert_cmpint(cg_session_fsm_selected_pair(&f, T0 + MSEC(40)), ==, 0);
	g_assert_cmpint(
		cg_session_fsm_ice_state(&f, T0 + MSEC(40), CG_SESSION_FSM_ICE_STATE_CONNECTED), ==,
		-EALREADY);
	g_assert_cmpstr(drain(&f), ==, "STATE:ICE_CONNECTED SEND_DTLS");
	g_assert_cmpint(cg_session_fsm_dtls_connected(&f, T0 + MSEC(60)), ==, 0);
	g_assert_cmpint(cg_session_fsm_dtls_timer(&f, T0 + MSEC(60), -1), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:DTLS_CONNECTED START_SRTP START_MEDIA:200ms");
	g_assert_cmpint(cg_session_fsm_no_cached_keyframe(&f, T0 + MSEC(60)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "REQUEST_KEYFRAME");
	g_assert_false(cg_session_fsm_wants_unit(&f, false));
	g_assert_cmpint(cg_session_fsm_unit_sent(&f, T0 + MSEC(90), true), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:STREAMING");
	g_assert_cmpint(cg_session_fsm_timeout(&f, T0 + MSEC(1060)), ==, 0);
	g_assert_cmpint(cg_session_fsm_rtcp(&f, T0 + MSEC(1100), 0), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "SEND_SR");
	g_assert_cmpint(cg_session_fsm_close(&f, T0 + SEC(5), CG_SESSION_FSM_CLOSE_REQUESTED), ==,
			0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSING CLOSE:REQUESTED");
	g_assert_cmpint(cg_session_fsm_closed(&f, T0 + SEC(5)), ==, 0);
	g_assert_cmpstr(drain(&f), ==, "STATE:CLOSED");
}

/* A caller that never drains is a bug: the queue aborts rather than lose an action. */
static void test_queue_overflow(void)
{
	struct cg_session_fsm f;

	/* A child is this binary again: under qemu-user without binfmt it cannot start. */
	if (g_getenv("CG_TEST_NO_SUBPROCESS")) {
		g_test_skip("no child processes here (cross build under qemu-user)");
		return;
	}
	if (g_test_subprocess()) {
		fsm_keyed(&f, T0);
		for (int i = 0; i <= CG_SESSION_FSM_QUEUE; i++)
			cg_session_fsm_rtcp(&f, T0, CG_SESSION_FSM_RTCP_KEYFRAME);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*assertion*failed*");
}

static void test_names(void)
{
	g_assert_cmpstr(cg_session_fsm_state_name(CG_SESSION_FSM_NEW), ==, "NEW");
	g_assert_cmpstr(cg_session_fsm_state_name(CG_SESSION_FSM_CLOSED), ==, "CLOSED");
	g_assert_cmpstr(cg_session_fsm_state_name((enum cg_session_fsm_state)42), ==, "?");
	for (int r = CG_SESSION_FSM_CLOSE_REQUESTED; r <= CG_SESSION_FSM_CLOSE_SRTP_FAILED; r++)
		g_assert_cmpstr(cg_session_fsm_close_reason_name(r), !=, "?");
	g_assert_cmpstr(cg_session_fsm_close_reason_name(CG_SESSION_FSM_CLOSE_CONSENT), ==,
			"no RTCP in time");
	g_assert_cmpstr(cg_session_fsm_close_reason_name((enum cg_session_fsm_close_reason)42), ==,
			"?");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/session-fsm/init", test_init);
	g_test_add_func("/session-fsm/answered", test_answered);
	g_test_add_func("/session-fsm/start", test_start);
	g_test_add_func("/session-fsm/ice-connected", test_ice_connected);
	g_test_add_func("/session-fsm/dtls-timer", test_dtls_timer);
	g_test_add_func("/session-fsm/dtls-connected", test_dtls_connected);
	g_test_add_func("/session-fsm/join", test_join);
	g_test_add_func("/session-fsm/join-replay-while-draining", test_join_replay_while_draining);
	g_test_add_func("/session-fsm/setup-timeout", test_setup_timeout);
	g_test_add_func("/session-fsm/consent", test_consent);
	g_test_add_func("/session-fsm/sender-reports", test_sender_reports);
	g_test_add_func("/session-fsm/failures", test_failures);
	g_test_add_func("/session-fsm/rtcp", test_rtcp);
	g_test_add_func("/session-fsm/skip", test_skip);
	g_test_add_func("/session-fsm/resync", test_resync);
	g_test_add_func("/session-fsm/gathering", test_gathering);
	g_test_add_func("/session-fsm/connect-before-start", test_connect_before_start);
	g_test_add_func("/session-fsm/trickle", test_trickle);
	g_test_add_func("/session-fsm/close", test_close);
	g_test_add_func("/session-fsm/close-drops-work", test_close_drops_work);
	g_test_add_func("/session-fsm/happy-path", test_happy_path);
	g_test_add_func("/session-fsm/queue-overflow", test_queue_overflow);
	g_test_add_func("/session-fsm/names", test_names);
	return g_test_run();
}
