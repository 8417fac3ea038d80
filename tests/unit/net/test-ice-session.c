/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Two peers, each a session state machine (proto/session_fsm.h) driving a DTLS endpoint and
 * SRTP over an in-memory ICE transport (net/ice_mem.h), wired the way session.c is:
 * every callback feeds an input, then the actions are carried out and the one timer re-armed.
 * "camgate" answers (DTLS server), "viewer" offers (DTLS client). Shown without sockets: the
 * handshake completes and keys SRTP on both sides, media and RTCP pass the FSM's gates, the
 * handshake survives loss through DTLS_TIMEOUT, and ICE failure and an RTCP BYE close.
 * GnuTLS reads its own clock, so these run in real time (milliseconds).
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"
#include "net/ice_mem.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/session_fsm.h"
#include "util/time.h"

#define WAIT_LIMIT_MS 20000 /* a hang guard, not a timing threshold */
#define PACKET_MAX    1500
#define VIDEO_SSRC    0x11223344u
#define VIEWER_SSRC   0x55667788u

struct peer {
	const char *name;
	GMainContext *ctx;
	struct cg_session_fsm fsm;
	struct cg_ice *ice;
	struct cg_dtls *dtls;
	struct cg_srtp *srtp;
	bool dtls_server;
	struct cg_srtp_keys keys; /* from the CONNECTED event until START_SRTP */
	GSource *timer;
	GString *log; /* the FSM's states and closes, as text */
	unsigned keyframe_requests, rtp_received, rtcp_received, dtls_timeouts;
	bool closed;
	enum cg_session_fsm_close_reason reason;
	uint8_t packet[PACKET_MAX + CG_SRTP_MAX_TRAILER];
};

static void peer_run(struct peer *p);

static void peer_log(struct peer *p, const char *what)
{
	if (p->log->len)
		g_string_append_c(p->log, ' ');
	g_string_append(p->log, what);
}

/* DTLS has moved on: tell the FSM what it holds and wants, and what it said. */
static void peer_dtls_advance(struct peer *p)
{
	uint64_t now = cg_mono_usec();
	struct cg_dtls_event ev;

	cg_session_fsm_dtls_output(&p->fsm, now);
	cg_session_fsm_dtls_timer(&p->fsm, now, cg_dtls_poll_timeout_ms(p->dtls));
	while (cg_dtls_poll_event(p->dtls, &ev) > 0) {
		if (ev.type == CG_DTLS_EVENT_CONNECTED) {
			p->keys = ev.keys;
			cg_session_fsm_dtls_connected(&p->fsm, now);
		} else if (ev.type == CG_DTLS_EVENT_FAILED) {
			cg_session_fsm_dtls_failed(&p->fsm, now);
		} else if (ev.type == CG_DTLS_EVENT_CLOSED) {
			cg_session_fsm_dtls_closed(&p->fsm, now);
		}
	}
}

static void peer_send_dtls(struct peer *p)
{
	int len;

	while ((len = cg_dtls_poll_transmit(p->dtls, p->packet, sizeof(p->packet))) > 0)
		cg_ice_send_one(p->ice, p->packet, (size_t)len); /* lost when full: DTLS resends */
}

static void peer_start_srtp(struct peer *p)
{
	int r = cg_srtp_new(&p->keys, p->dtls_server, &p->srtp);

	memset(&p->keys, 0, sizeof(p->keys));
	if (r < 0)
		cg_session_fsm_close(&p->fsm, cg_mono_usec(), CG_SESSION_FSM_CLOSE_SRTP_FAILED);
}

static void peer_act(struct peer *p, const struct cg_session_fsm_action *a)
{
	switch (a->type) {
	case CG_SESSION_FSM_ACT_STATE:
		peer_log(p, cg_session_fsm_state_name(a->state));
		break;
	case CG_SESSION_FSM_ACT_SEND_DTLS:
		peer_send_dtls(p);
		break;
	case CG_SESSION_FSM_ACT_DTLS_TIMEOUT:
		p->dtls_timeouts++;
		cg_dtls_handle_timeout(p->dtls);
		peer_dtls_advance(p);
		break;
	case CG_SESSION_FSM_ACT_START_SRTP:
		peer_start_srtp(p);
		break;
	case CG_SESSION_FSM_ACT_START_MEDIA:
		/* No GOP cache here: always "ask the arbiter". */
		cg_session_fsm_no_cached_keyframe(&p->fsm, cg_mono_usec());
		break;
	case CG_SESSION_FSM_ACT_REQUEST_KEYFRAME:
		p->keyframe_requests++;
		break;
	case CG_SESSION_FSM_ACT_CLOSE:
		/* session.c defers the teardown to an idle; the test tears down at the end. */
		p->closed = true;
		p->reason = a->reason;
		peer_log(p, cg_session_fsm_close_reason_name(a->reason));
		cg_session_fsm_closed(&p->fsm, cg_mono_usec());
		break;
	case CG_SESSION_FSM_ACT_SEND_SR:
	case CG_SESSION_FSM_ACT_REPORT_GATHERED:
	case CG_SESSION_FSM_ACT_NONE:
		break;
	}
}

static gboolean peer_on_timer(gpointer userdata)
{
	struct peer *p = userdata;

	cg_session_fsm_timeout(&p->fsm, cg_mono_usec());
	peer_run(p);
	return G_SOURCE_CONTINUE;
}

/* A source with only a ready time: made once per session, re-armed without allocating. */
static gboolean peer_timer_dispatch(GSource *source, GSourceFunc callback, gpointer userdata)
{
	g_source_set_ready_time(source, -1);
	return callback(userdata);
}

static GSourceFuncs peer_timer_funcs = { .dispatch = peer_timer_dispatch };

/*
 * The one timer, at the FSM's next deadline. cg_mono_usec() and GLib's ready time are both
 * CLOCK_MONOTONIC microseconds (g_get_monotonic_time()), so the deadline is the ready time.
 */
static void peer_arm_timer(struct peer *p)
{
	uint64_t due = cg_session_fsm_next_deadline_usec(&p->fsm);

	g_source_set_ready_time(p->timer, due == CG_SESSION_FSM_NEVER ? -1 : (gint64)due);
}

/* str0m's rule: after every input, carry out every action, then re-arm the timer. */
static void peer_run(struct peer *p)
{
	struct cg_session_fsm_action a;

	while (cg_session_fsm_poll_action(&p->fsm, &a) > 0)
		peer_act(p, &a);
	peer_arm_timer(p);
}

static void peer_on_state(enum cg_ice_state state, void *userdata)
{
	static const enum cg_session_fsm_ice_state map[] = {
		[CG_ICE_CHECKING] = CG_SESSION_FSM_ICE_STATE_CHECKING,
		[CG_ICE_CONNECTED] = CG_SESSION_FSM_ICE_STATE_CONNECTED,
		[CG_ICE_FAILED] = CG_SESSION_FSM_ICE_STATE_FAILED,
	};
	struct peer *p = userdata;

	cg_session_fsm_ice_state(&p->fsm, cg_mono_usec(), map[state]);
	peer_run(p);
}

static void peer_on_pair(const char *local_type, const char *remote_type, void *userdata)
{
	struct peer *p = userdata;

	cg_session_fsm_selected_pair(&p->fsm, cg_mono_usec());
	peer_run(p);
}

static void peer_on_rtcp(struct peer *p, uint8_t *buf, size_t len)
{
	struct cg_rtcp_info info;
	unsigned flags = 0;
	int r;

	if (!cg_session_fsm_keyed(&p->fsm))
		return; /* no keys: nothing to authenticate it with */
	r = cg_srtp_unprotect_rtcp(p->srtp, buf, len);
	if (r < 0 || cg_rtcp_parse(buf, (size_t)r, &info) < 0)
		return;
	p->rtcp_received++;
	if (info.pli || info.fir)
		flags |= CG_SESSION_FSM_RTCP_KEYFRAME;
	if (info.bye)
		flags |= CG_SESSION_FSM_RTCP_BYE;
	cg_session_fsm_rtcp(&p->fsm, cg_mono_usec(), flags);
}

static void peer_on_recv(uint8_t *buf, size_t len, void *userdata)
{
	struct peer *p = userdata;

	switch (cg_rtp_demux(buf, len)) {
	case CG_DEMUX_DTLS:
		cg_dtls_handle_datagram(p->dtls, buf, len);
		peer_dtls_advance(p);
		break;
	case CG_DEMUX_RTCP:
		peer_on_rtcp(p, buf, len);
		break;
	case CG_DEMUX_RTP:
		if (cg_session_fsm_keyed(&p->fsm) && cg_srtp_unprotect(p->srtp, buf, len) > 0)
			p->rtp_received++;
		break;
	default:
		break;
	}
	peer_run(p);
}

static const struct cg_ice_callbacks peer_callbacks = {
	.state_changed = peer_on_state,
	.selected_pair = peer_on_pair,
	.recv = peer_on_recv,
};

static void peer_init(struct peer *p, const char *name, struct cg_ice_mem_net *net,
		      GMainContext *ctx, bool dtls_server)
{
	struct cg_ice_setup setup = {
		.ctx = ctx,
		.controlling = !dtls_server,
		.log_id = name,
		.cb = &peer_callbacks,
		.userdata = p,
	};

	memset(p, 0, sizeof(*p));
	p->name = name;
	p->ctx = ctx;
	p->dtls_server = dtls_server;
	p->log = g_string_new(NULL);
	p->timer = g_source_new(&peer_timer_funcs, sizeof(GSource));
	g_source_set_callback(p->timer, peer_on_timer, p, NULL);
	g_source_attach(p->timer, ctx);
	g_assert_cmpint(cg_session_fsm_init(&p->fsm, NULL, cg_mono_usec()), ==, 0);
	g_assert_cmpint(cg_ice_new(&cg_mem_ice_ops, net, &setup, &p->ice), ==, 0);
	g_assert_cmpint(cg_ice_gather(p->ice), ==, 0);
}

/* The SDP exchange, done: each knows the other's credentials and fingerprint. */
static void peers_answer(struct peer *camgate, struct cg_cert *camgate_cert, struct peer *viewer,
			 struct cg_cert *viewer_cert, unsigned retrans_ms)
{
	g_assert_cmpint(cg_dtls_new(camgate_cert, CG_DTLS_SERVER, "sha-256",
				    cg_cert_fingerprint(viewer_cert), &camgate->dtls),
			==, 0);
	g_assert_cmpint(cg_dtls_new(viewer_cert, CG_DTLS_CLIENT, "sha-256",
				    cg_cert_fingerprint(camgate_cert), &viewer->dtls),
			==, 0);
	cg_dtls_set_timeouts(camgate->dtls, retrans_ms, 15000);
	cg_dtls_set_timeouts(viewer->dtls, retrans_ms, 15000);
	g_assert_cmpint(cg_ice_mem_link(camgate->ice, viewer->ice), ==, 0);
	for (struct peer *p = camgate; p; p = p == camgate ? viewer : NULL) {
		g_assert_cmpint(cg_dtls_start(p->dtls), ==, 0);
		g_assert_cmpint(cg_session_fsm_answered(&p->fsm, cg_mono_usec()), ==, 0);
		g_assert_cmpint(cg_session_fsm_start(&p->fsm, cg_mono_usec()), ==, 0);
		g_assert_cmpint(cg_ice_attach(p->ice), ==, 0);
		/* The client's ClientHello is queued now, and held until ICE has a pair. */
		peer_dtls_advance(p);
		peer_run(p);
	}
}

static void peer_fini(struct peer *p)
{
	g_source_destroy(p->timer);
	g_source_unref(p->timer);
	p->ice = cg_ice_free(p->ice);
	p->dtls = cg_dtls_free(p->dtls);
	p->srtp = cg_srtp_free(p->srtp);
	g_string_free(p->log, TRUE);
}

static gboolean on_wait_limit(gpointer userdata)
{
	g_error("waited %d ms for %s", WAIT_LIMIT_MS, (const char *)userdata);
	return G_SOURCE_REMOVE;
}

/* Both keyed, or one closed: a failed handshake ends the wait at once. */
static bool both_keyed(struct peer *a, struct peer *b)
{
	return (cg_session_fsm_keyed(&a->fsm) && cg_session_fsm_keyed(&b->fsm)) || a->closed ||
	       b->closed;
}

static void assert_both_keyed(struct peer *camgate, struct peer *viewer)
{
	if (!cg_session_fsm_keyed(&camgate->fsm) || !cg_session_fsm_keyed(&viewer->fsm))
		g_error("not keyed: camgate [%s], viewer [%s]", camgate->log->str,
			viewer->log->str);
}

/* Runs ctx until done(a, b) holds. */
static void run_until(GMainContext *ctx, bool (*done)(struct peer *, struct peer *), struct peer *a,
		      struct peer *b, const char *what)
{
	GSource *limit = g_timeout_source_new(WAIT_LIMIT_MS);

	g_source_set_callback(limit, on_wait_limit, (gpointer)what, NULL);
	g_source_attach(limit, ctx);
	while (!done(a, b))
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(limit);
	g_source_unref(limit);
}

static void run_pending(GMainContext *ctx)
{
	while (g_main_context_iteration(ctx, FALSE))
		;
}

struct world {
	GMainContext *ctx;
	struct cg_ice_mem_net *net;
	struct cg_cert *camgate_cert, *viewer_cert;
	struct peer camgate, viewer;
};

static void world_init(struct world *w, unsigned loss_percent, unsigned retrans_ms)
{
	w->ctx = g_main_context_new();
	w->net = cg_ice_mem_net_new();
	g_assert_cmpint(cg_cert_new(&w->camgate_cert), ==, 0);
	g_assert_cmpint(cg_cert_new(&w->viewer_cert), ==, 0);
	peer_init(&w->camgate, "camgate", w->net, w->ctx, true);
	peer_init(&w->viewer, "viewer", w->net, w->ctx, false);
	cg_ice_mem_set_loss(w->camgate.ice, loss_percent, 7);
	cg_ice_mem_set_loss(w->viewer.ice, loss_percent, 11);
	peers_answer(&w->camgate, w->camgate_cert, &w->viewer, w->viewer_cert, retrans_ms);
}

static void world_fini(struct world *w)
{
	peer_fini(&w->camgate);
	peer_fini(&w->viewer);
	run_pending(w->ctx);
	cg_ice_mem_net_free(w->net);
	cg_cert_free(w->camgate_cert);
	cg_cert_free(w->viewer_cert);
	g_main_context_unref(w->ctx);
}

/* camgate sends one video unit of one packet through the FSM's gate. */
static bool camgate_send_unit(struct peer *p, bool keyframe, uint16_t seq)
{
	struct cg_rtp_header h = { .payload_type = 96,
				   .marker = true,
				   .sequence = seq,
				   .timestamp = seq * 3000u,
				   .ssrc = VIDEO_SSRC };
	int len;

	if (!cg_session_fsm_wants_unit(&p->fsm, keyframe))
		return false;
	len = cg_rtp_write_header(p->packet, PACKET_MAX, &h);
	g_assert_cmpint(len, >, 0);
	memset(p->packet + len, keyframe ? 0x65 : 0x41, 100);
	len = cg_srtp_protect(p->srtp, p->packet, (size_t)len + 100, sizeof(p->packet));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(cg_ice_send_one(p->ice, p->packet, (size_t)len), ==, 0);
	g_assert_cmpint(cg_session_fsm_unit_sent(&p->fsm, cg_mono_usec(), keyframe), ==, 0);
	peer_run(p);
	return true;
}

/* The viewer sends an RTCP compound: a receiver report, then a PLI or a BYE. */
static void viewer_send_rtcp(struct peer *p, bool pli, bool bye)
{
	int len = cg_rtcp_build_rr(p->packet, PACKET_MAX, VIEWER_SSRC, NULL, 0);
	uint8_t *at;

	g_assert_cmpint(len, >, 0);
	if (pli)
		len += cg_rtcp_build_pli(p->packet + len, PACKET_MAX - (size_t)len, VIEWER_SSRC,
					 VIDEO_SSRC);
	if (bye) {
		/* RFC 3550 §6.6: V=2, SC=1, PT=203, length 1, our SSRC. */
		at = p->packet + len;
		at[0] = 0x81;
		at[1] = 203;
		at[2] = 0;
		at[3] = 1;
		at[4] = (uint8_t)(VIEWER_SSRC >> 24);
		at[5] = (uint8_t)(VIEWER_SSRC >> 16);
		at[6] = (uint8_t)(VIEWER_SSRC >> 8);
		at[7] = (uint8_t)VIEWER_SSRC;
		len += 8;
	}
	len = cg_srtp_protect_rtcp(p->srtp, p->packet, (size_t)len, sizeof(p->packet));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(cg_ice_send_one(p->ice, p->packet, (size_t)len), ==, 0);
}

static void test_handshake_and_media(void)
{
	struct world w;

	world_init(&w, 0, 1000);
	run_until(w.ctx, both_keyed, &w.camgate, &w.viewer, "DTLS on both sides");
	assert_both_keyed(&w.camgate, &w.viewer);
	g_assert_cmpstr(w.camgate.log->str, ==, "ANSWERED ICE_CONNECTED DTLS_CONNECTED");
	g_assert_cmpstr(w.viewer.log->str, ==, "ANSWERED ICE_CONNECTED DTLS_CONNECTED");
	g_assert_nonnull(w.camgate.srtp);
	g_assert_nonnull(w.viewer.srtp);
	g_assert_cmpuint(w.camgate.keyframe_requests, ==, 1); /* the join asked for one */

	/* The join: P-frames wait, the keyframe goes, then everything. */
	g_assert_false(camgate_send_unit(&w.camgate, false, 1));
	g_assert_true(camgate_send_unit(&w.camgate, true, 2));
	g_assert_true(camgate_send_unit(&w.camgate, false, 3));
	run_pending(w.ctx);
	g_assert_cmpuint(w.viewer.rtp_received, ==, 2);
	g_assert_cmpstr(w.camgate.log->str, ==, "ANSWERED ICE_CONNECTED DTLS_CONNECTED STREAMING");

	/* The viewer's PLI reaches camgate authenticated and asks for a keyframe. */
	viewer_send_rtcp(&w.viewer, true, false);
	run_pending(w.ctx);
	g_assert_cmpuint(w.camgate.rtcp_received, ==, 1);
	g_assert_cmpuint(w.camgate.keyframe_requests, ==, 2);

	/* Its BYE closes the session. */
	viewer_send_rtcp(&w.viewer, false, true);
	run_pending(w.ctx);
	g_assert_true(w.camgate.closed);
	g_assert_cmpint(w.camgate.reason, ==, CG_SESSION_FSM_CLOSE_RTCP_BYE);
	g_assert_cmpint(cg_session_fsm_state(&w.camgate.fsm), ==, CG_SESSION_FSM_CLOSED);
	g_assert_false(camgate_send_unit(&w.camgate, true, 4));
	world_fini(&w);
}

/* With a quarter of all datagrams lost both ways, the handshake still completes: DTLS
 * retransmits when the FSM's deadline says so (DTLS_TIMEOUT). The losses repeat (seeded);
 * 20 ms retransmissions doubling within 15 s give it a dozen tries. */
static void test_handshake_under_loss(void)
{
	struct world w;
	struct cg_ice_mem_stats st;

	world_init(&w, 25, 20);
	run_until(w.ctx, both_keyed, &w.camgate, &w.viewer, "DTLS through loss");
	assert_both_keyed(&w.camgate, &w.viewer);
	cg_ice_mem_get_stats(w.viewer.ice, &st);
	g_assert_cmpuint(w.camgate.dtls_timeouts + w.viewer.dtls_timeouts, >, 0);
	g_assert_cmpuint(st.sent, >, 0);
	g_assert_false(w.camgate.closed);
	world_fini(&w);
}

static bool camgate_closed(struct peer *camgate, struct peer *viewer)
{
	return camgate->closed;
}

/* ICE fails under a keyed session: it closes for that reason. */
static void test_ice_failure(void)
{
	struct world w;

	world_init(&w, 0, 1000);
	run_until(w.ctx, both_keyed, &w.camgate, &w.viewer, "DTLS on both sides");
	assert_both_keyed(&w.camgate, &w.viewer);
	cg_ice_mem_fail(w.camgate.ice);
	run_until(w.ctx, camgate_closed, &w.camgate, &w.viewer, "the close");
	g_assert_cmpint(w.camgate.reason, ==, CG_SESSION_FSM_CLOSE_ICE_FAILED);
	g_assert_cmpstr(w.camgate.log->str, ==,
			"ANSWERED ICE_CONNECTED DTLS_CONNECTED CLOSING ICE failed CLOSED");
	g_assert_false(w.viewer.closed); /* it will notice by consent, 30 s on */
	world_fini(&w);
}

/* The timer wiring above rests on this: the FSM's time and GLib's ready time are one clock
 * (CLOCK_MONOTONIC µs). Another clock would be off by days or more, not by the call gap. */
static void test_same_clock(void)
{
	gint64 glib = g_get_monotonic_time();
	uint64_t ours = cg_mono_usec();

	g_assert_cmpint(glib, >, 0);
	g_assert_cmpuint(ours, >=, (uint64_t)glib);
	g_assert_cmpuint(ours - (uint64_t)glib, <, CG_USEC_PER_SEC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ice-session/same-clock", test_same_clock);
	g_test_add_func("/ice-session/handshake-and-media", test_handshake_and_media);
	g_test_add_func("/ice-session/handshake-under-loss", test_handshake_under_loss);
	g_test_add_func("/ice-session/ice-failure", test_ice_failure);
	return g_test_run();
}
