/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A whole viewer session without sockets (issue 13): the real pipeline in one process. A
 * camera's media (the test pattern through x264 at 320x240, configured from a command line
 * as the daemon's is) publishes into its hub; a real network worker, whose sessions run over
 * the in-memory ICE (cg_worker_use_ice), drains it into the real session.c; the viewer is
 * this test, on its own GMainContext: its own in-memory ICE transport, an SDP offer
 * negotiated as WHEP does, the DTLS client, SRTP, and RTP/RTCP parsed with proto/.
 *
 * What is checked, functionally (no rates, no timing thresholds):
 *  - stream:      the session keys SRTP and streams; the first access unit is a keyframe
 *                 (SPS, PPS, IDR), then N complete AUs: every RTP packet of each, in order,
 *                 one timestamp per AU, the marker on its last packet only; sender reports
 *                 authenticate; cg_session_close() ends it, cg_session_count() and the
 *                 worker's load return to 0.
 *  - loss-rtx:    10 % of what the session sends is lost (the loss knob on its transport);
 *                 the viewer's NACKs are answered by RFC 4588 retransmissions (the RTX
 *                 payload type and SSRC, the original sequence number first) and every AU
 *                 still completes.
 *  - pli:         a PLI yields an IDR sooner than the encoder's keyframe interval would.
 *  - consent:     receiver reports keep the session alive past several consent timeouts;
 *                 when they stop, the session closes ("no RTCP").
 *  - viewer-gone: the viewer's ICE fails (it stops answering): the session closes by
 *                 consent, and everything is released.
 * The consent timeout is 30 s in the daemon; the link wraps cg_session_fsm_init() to make
 * it TEST_CONSENT_USEC here (the session FSM takes it from its configuration).
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "app/config.h"
#include "app/stats.h"
#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"
#include "fanout/hub.h"
#include "fanout/session.h"
#include "fanout/worker.h"
#include "media/media.h"
#include "net/ice_mem.h"
#include "proto/h264.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "proto/session_fsm.h"
#include "util/log.h"
#include "util/time.h"

/* A wait this long is a hang, not slowness: the failure message says what was awaited. */
#define WAIT_LIMIT_MS 60000
#define FPS	      30
/* Far beyond any subtest: an IDR sooner than this many frames after the last was asked for. */
#define KEYFRAME_INTERVAL 600
#define TEST_CONSENT_USEC (2 * CG_USEC_PER_SEC)
#define RTCP_INTERVAL_MS  100
/* A missing packet NACKed this many times (one round per RTCP_INTERVAL_MS) was never
 * retransmitted: the session's history keeps a unit about 2 s. */
#define MAX_NACK_ROUNDS 40
#define RING		2048 /* packets between the oldest missing and the newest */
#define PACKET_MAX	1500
#define VIEWER_SSRC	0x5eed0001u
#define MAX_NALS	64
#define AU_MAX		(512 * 1024)

/* ---- The consent timeout, shortened ---------------------------------------------------- */

int __real_cg_session_fsm_init(struct cg_session_fsm *fsm, const struct cg_session_fsm_config *cfg,
			       uint64_t now_usec);

int __wrap_cg_session_fsm_init(struct cg_session_fsm *fsm, const struct cg_session_fsm_config *cfg,
			       uint64_t now_usec);

int __wrap_cg_session_fsm_init(struct cg_session_fsm *fsm, const struct cg_session_fsm_config *cfg,
			       uint64_t now_usec)
{
	struct cg_session_fsm_config c;

	if (cfg)
		c = *cfg;
	else
		cg_session_fsm_config_default(&c);
	c.consent_timeout_usec = TEST_CONSENT_USEC;
	return __real_cg_session_fsm_init(fsm, &c, now_usec);
}

/* ---- Log lines, kept to check why a session closed ------------------------------------- */

static GMutex log_lock;
static GString *log_text;

static void log_sink(enum cg_log_level level, const char *topic, const char *file, int line,
		     const char *func, const char *message)
{
	g_mutex_lock(&log_lock);
	g_string_append_printf(log_text, "%s: %s\n", topic, message);
	g_mutex_unlock(&log_lock);
	fprintf(stderr, "# %s: %s\n", topic, message);
}

static bool log_has(const char *needle)
{
	bool r;

	g_mutex_lock(&log_lock);
	r = strstr(log_text->str, needle) != NULL;
	g_mutex_unlock(&log_lock);
	return r;
}

static void log_clear(void)
{
	g_mutex_lock(&log_lock);
	g_string_truncate(log_text, 0);
	g_mutex_unlock(&log_lock);
}

/* ---- The session's transport, seen through the backend ---------------------------------- */

/* cg_mem_ice_ops with create watched: the session's transport, for the loss knob. */
static struct cg_ice_ops spy_ops;
static struct cg_ice *session_ice; /* control thread: cg_session_new() creates it there */

static int spy_create(void *backend, const struct cg_ice_setup *setup, struct cg_ice **ret)
{
	int r = cg_mem_ice_ops.create(backend, setup, ret);

	if (r == 0)
		session_ice = *ret;
	return r;
}

/* ---- The world: one camera, its hub, one worker ----------------------------------------- */

struct world {
	GMainContext *ctx; /* the test's: the viewer, and the sessions' control context */
	GSource *tick;	   /* wakes waits for what other threads change */
	struct cg_ice_mem_net *net;
	struct cg_config *cfg;
	const struct cg_config *cam; /* the camera's view */
	struct cg_stats worker_stats, cam_stats;
	struct cg_worker *worker;
	struct cg_hub *hub;
	struct cg_media *media;
	struct cg_cert *cert, *viewer_cert;
};

static gboolean on_tick(gpointer userdata)
{
	return G_SOURCE_CONTINUE;
}

static gboolean on_wait_limit(gpointer userdata);

/* Runs the test's loop until the camera encoded n frames. */
static void world_wait_encoded(struct world *w, uint64_t n)
{
	GSource *limit = g_timeout_source_new(WAIT_LIMIT_MS);

	g_source_set_callback(limit, on_wait_limit, (gpointer) "frames encoded", NULL);
	g_source_attach(limit, w->ctx);
	while (cg_stats_get(&w->cam_stats.frames_encoded) < n)
		g_main_context_iteration(w->ctx, TRUE);
	g_source_destroy(limit);
	g_source_unref(limit);
}

/* As main.c stops: media, then the workers (closing what is left), then the hub. */
static void world_fini(struct world *w)
{
	if (w->media)
		cg_media_stop(w->media);
	w->worker = cg_worker_free(w->worker);
	w->media = cg_media_free(w->media);
	w->hub = cg_hub_free(w->hub);
	cg_stats_fini(&w->cam_stats);
	cg_stats_fini(&w->worker_stats);
	while (g_main_context_iteration(w->ctx, FALSE))
		;
	g_source_destroy(w->tick);
	g_source_unref(w->tick);
	g_main_context_pop_thread_default(w->ctx);
	g_main_context_unref(w->ctx);
	w->net = cg_ice_mem_net_free(w->net);
	cg_cert_free(w->cert);
	cg_cert_free(w->viewer_cert);
	cg_config_free(w->cfg);
	session_ice = NULL;
}

/*
 * Returns false (the test is skipped) when this build cannot encode the test pattern.
 * min_keyframe_interval_ms: the keyframe arbiter's (0: the daemon's, 300 ms).
 */
static bool world_init_arbiter(struct world *w, uint32_t min_keyframe_interval_ms)
{
	char *argv[] = { "camgate",	   "--source=test", "--encoder=x264",
			 "--size=320x240", "--fps=30",	    "--keyframe-interval=600",
			 "--audio=none",   "--workers=1",   NULL };
	int fds[1];
	int r;

	memset(w, 0, sizeof(*w));
	g_assert_cmpint(cg_config_from_args(G_N_ELEMENTS(argv) - 1, argv, &w->cfg), ==, 0);
	w->cam = w->cfg->cameras[0].view;
	g_assert_cmpuint(w->cam->fps, ==, FPS);
	g_assert_cmpuint(w->cam->keyframe_interval_frames, ==, KEYFRAME_INTERVAL);
	if (min_keyframe_interval_ms)
		w->cfg->cameras[0].view->min_keyframe_interval_ms = min_keyframe_interval_ms;
	w->ctx = g_main_context_new();
	g_main_context_push_thread_default(w->ctx);
	w->tick = g_timeout_source_new(5);
	g_source_set_callback(w->tick, on_tick, NULL, NULL);
	g_source_attach(w->tick, w->ctx);
	w->net = cg_ice_mem_net_new();
	g_assert_cmpint(cg_cert_new(&w->cert), ==, 0);
	g_assert_cmpint(cg_cert_new(&w->viewer_cert), ==, 0);
	cg_stats_init(&w->worker_stats);
	cg_stats_init(&w->cam_stats);
	/* As main.c starts a camera: workers first, then the hub with a lane per worker. */
	w->worker = cg_worker_new(0, &w->worker_stats);
	g_assert_nonnull(w->worker);
	cg_worker_use_ice(w->worker, &spy_ops, w->net);
	fds[0] = cg_worker_wake_fd(w->worker);
	w->hub = cg_hub_new(&(struct cg_hub_cfg){ .name = "main",
						  .n_lanes = 1,
						  .wake_fds = fds,
						  .stats = &w->cam_stats,
						  .min_kbps = w->cam->min_bitrate_kbps,
						  .max_kbps = w->cam->max_bitrate_kbps,
						  .start_kbps = w->cam->bitrate_kbps });
	g_assert_cmpint(cg_worker_add_hub(w->worker, w->hub), ==, 0);
	r = cg_media_new(w->cam, w->hub, &w->cam_stats, &w->media);
	if (r == -ENODEV) {
		g_test_skip("this build has no x264 encoder");
		world_fini(w);
		return false;
	}
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpint(cg_media_start(w->media), ==, 0);
	/* Past the encoder's own first IDR: a viewer's join then asks the encoder for one. */
	world_wait_encoded(w, 5);
	log_clear();
	return true;
}

static bool world_init(struct world *w)
{
	return world_init_arbiter(w, 0);
}

/* ---- The viewer ------------------------------------------------------------------------- */

struct slot {
	int64_t ext; /* extended sequence number; -1 empty */
	bool have;
	bool marker;
	uint32_t ts;
	unsigned nacks; /* rounds it was asked for while missing */
	size_t len;
	uint8_t payload[PACKET_MAX];
};

struct viewer {
	struct world *w;
	struct cg_session *session; /* our reference, as the signaling registry keeps one */
	bool closed;		    /* on_closed ran */
	bool expect_close;	    /* the test made it close; else closing is a violation */
	struct cg_ice *ice;
	bool ice_connected, ice_failed;
	struct cg_dtls *dtls;
	GSource *dtls_timer;
	struct cg_srtp *srtp;
	GSource *rtcp_timer;
	bool rtcp_stopped;
	uint8_t video_pt, rtx_pt;
	uint32_t media_ssrc, rtx_ssrc;
	/* Reassembly: packets by extended sequence number, delivered in order. */
	struct slot *ring;
	bool started;
	int64_t next, highest;
	struct cg_h264_depacketizer depack;
	bool au_open;
	uint32_t au_ts;
	uint64_t last_idr_frame; /* frames index of the last IDR */
	/* What arrived. */
	uint64_t packets, frames, keyframes, srs, rtcp_other;
	uint64_t nacks_sent, rtx_received, rtx_filled, rtx_duplicate;
	bool first_au_keyframe;
	uint64_t frames_between_idrs; /* frames from the previous IDR to the last one */
	char *violation;	      /* the first thing that broke the stream's rules */
	uint8_t buf[PACKET_MAX + CG_SRTP_MAX_TRAILER];
};

static void viewer_violation(struct viewer *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void viewer_violation(struct viewer *v, const char *fmt, ...)
{
	va_list ap;

	if (v->violation)
		return;
	va_start(ap, fmt);
	v->violation = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_test_message("viewer: %s", v->violation);
}

static void viewer_send(struct viewer *v, const uint8_t *buf, size_t len)
{
	/* Unreliable, as UDP: -ENOTCONN before the pair, or after the viewer's ICE failed. */
	(void)cg_ice_send_one(v->ice, buf, len);
}

static void viewer_send_rtcp(struct viewer *v, int len)
{
	g_assert_cmpint(len, >, 0);
	len = cg_srtp_protect_rtcp(v->srtp, v->buf, (size_t)len, sizeof(v->buf));
	g_assert_cmpint(len, >, 0);
	viewer_send(v, v->buf, (size_t)len);
}

static gboolean viewer_on_dtls_timer(gpointer userdata);
static gboolean viewer_on_rtcp_timer(gpointer userdata);

static void viewer_destroy_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_source_unref(*src);
		*src = NULL;
	}
}

/* Sends what DTLS queued and re-arms its retransmission timer. */
static void viewer_flush_dtls(struct viewer *v)
{
	uint8_t out[PACKET_MAX];
	int len, ms;

	while ((len = cg_dtls_poll_transmit(v->dtls, out, sizeof(out))) > 0)
		viewer_send(v, out, (size_t)len);
	viewer_destroy_source(&v->dtls_timer);
	ms = cg_dtls_poll_timeout_ms(v->dtls);
	if (ms >= 0) {
		v->dtls_timer = g_timeout_source_new((guint)ms);
		g_source_set_callback(v->dtls_timer, viewer_on_dtls_timer, v, NULL);
		g_source_attach(v->dtls_timer, v->w->ctx);
	}
}

static void viewer_drain_dtls(struct viewer *v)
{
	struct cg_dtls_event ev;

	while (cg_dtls_poll_event(v->dtls, &ev) > 0) {
		if (ev.type == CG_DTLS_EVENT_CONNECTED) {
			/* We are the DTLS client (the answer said a=setup:passive). */
			g_assert_cmpint(cg_srtp_new(&ev.keys, false, &v->srtp), ==, 0);
			memset(&ev.keys, 0, sizeof(ev.keys));
			v->rtcp_timer = g_timeout_source_new(RTCP_INTERVAL_MS);
			g_source_set_callback(v->rtcp_timer, viewer_on_rtcp_timer, v, NULL);
			g_source_attach(v->rtcp_timer, v->w->ctx);
		} else if (ev.type != CG_DTLS_EVENT_NONE) {
			viewer_violation(v, "DTLS %s: %s",
					 ev.type == CG_DTLS_EVENT_FAILED ? "failed" : "closed",
					 ev.reason ? ev.reason : "-");
		}
	}
}

static gboolean viewer_on_dtls_timer(gpointer userdata)
{
	struct viewer *v = userdata;

	g_source_unref(v->dtls_timer);
	v->dtls_timer = NULL;
	cg_dtls_handle_timeout(v->dtls);
	viewer_flush_dtls(v);
	viewer_drain_dtls(v);
	return G_SOURCE_REMOVE;
}

static struct slot *viewer_slot(struct viewer *v, int64_t ext)
{
	return &v->ring[ext % RING];
}

/* Asks for every missing packet in [from, to) (RFC 4585 §6.2.1), 64 to a NACK. round: a
 * periodic round, which counts: a packet asked for in too many was never retransmitted. */
static void viewer_nack_missing(struct viewer *v, int64_t from, int64_t to, bool round)
{
	uint16_t seqs[CG_RTCP_MAX_NACKS];
	unsigned n = 0;

	for (int64_t e = from; v->started && e < to; e++) {
		struct slot *s = viewer_slot(v, e);

		if (s->have)
			continue;
		if (round && ++s->nacks > MAX_NACK_ROUNDS)
			viewer_violation(v,
					 "packet %" G_GINT64_FORMAT " NACKed %u times, never "
					 "retransmitted",
					 e, MAX_NACK_ROUNDS);
		seqs[n++] = (uint16_t)e;
		if (n == CG_RTCP_MAX_NACKS) {
			viewer_send_rtcp(v, cg_rtcp_build_nack(v->buf, PACKET_MAX, VIEWER_SSRC,
							       v->media_ssrc, seqs, n));
			v->nacks_sent += n;
			n = 0;
		}
	}
	if (n > 0) {
		viewer_send_rtcp(v, cg_rtcp_build_nack(v->buf, PACKET_MAX, VIEWER_SSRC,
						       v->media_ssrc, seqs, n));
		v->nacks_sent += n;
	}
}

/* A receiver report (what keeps the session's consent) and the NACKs still due. */
static gboolean viewer_on_rtcp_timer(gpointer userdata)
{
	struct viewer *v = userdata;
	struct cg_rtcp_report_block b = { .ssrc = v->media_ssrc,
					  .highest_seq = (uint32_t)v->highest };

	if (v->rtcp_stopped || v->ice_failed)
		return G_SOURCE_CONTINUE;
	viewer_send_rtcp(
		v, cg_rtcp_build_rr(v->buf, PACKET_MAX, VIEWER_SSRC, &b, v->media_ssrc ? 1 : 0));
	viewer_nack_missing(v, v->next, v->highest, true);
	return G_SOURCE_CONTINUE;
}

/* A complete access unit, in order: its NAL units say what it is. */
static void viewer_au(struct viewer *v)
{
	struct cg_h264_nal nals[MAX_NALS];
	int n = cg_h264_split_annexb(v->depack.buf, v->depack.len, nals, MAX_NALS);
	bool idr = false, sps = false, pps = false, slice = false;

	if (n < 0) {
		viewer_violation(v, "AU %" G_GUINT64_FORMAT " is not Annex-B (%d)", v->frames, n);
		return;
	}
	for (int i = 0; i < n; i++) {
		idr |= nals[i].type == CG_H264_NAL_IDR;
		sps |= nals[i].type == CG_H264_NAL_SPS;
		pps |= nals[i].type == CG_H264_NAL_PPS;
		slice |= nals[i].type == CG_H264_NAL_IDR || nals[i].type == CG_H264_NAL_SLICE;
	}
	if (!slice)
		viewer_violation(v, "AU %" G_GUINT64_FORMAT " has no slice", v->frames);
	if (v->frames == 0)
		v->first_au_keyframe = idr && sps && pps;
	if (idr && !(sps && pps))
		viewer_violation(v, "IDR without SPS and PPS in AU %" G_GUINT64_FORMAT, v->frames);
	if (idr) {
		if (v->keyframes > 0)
			v->frames_between_idrs = v->frames - v->last_idr_frame;
		v->last_idr_frame = v->frames;
		v->keyframes++;
	}
	v->frames++;
}

/* The next packet in sequence order: AUs are runs of one timestamp ending at a marker. */
static void viewer_deliver(struct viewer *v, struct slot *s)
{
	int r;

	if (v->au_open && s->ts != v->au_ts) {
		viewer_violation(v, "AU of timestamp %u ended without a marker", v->au_ts);
		v->au_open = false;
	}
	if (!v->au_open) {
		v->au_open = true;
		v->au_ts = s->ts;
		v->depack.len = 0;
		v->depack.in_fu = v->depack.broken = false;
	}
	r = cg_h264_depacketize(&v->depack, s->payload, s->len, s->marker);
	if (r < 0)
		viewer_violation(v, "payload of packet %" G_GINT64_FORMAT " rejected (%d)", s->ext,
				 r);
	if (!s->marker)
		return;
	v->au_open = false;
	if (r == 1)
		viewer_au(v);
	else
		viewer_violation(v, "AU of timestamp %u incomplete at its marker", s->ts);
}

static void viewer_drain(struct viewer *v)
{
	struct slot *s;

	while ((s = viewer_slot(v, v->next))->ext == v->next && s->have) {
		viewer_deliver(v, s);
		s->ext = -1;
		s->have = false;
		v->next++;
	}
}

/* Keeps the payload of packet ext (from the stream or an RTX), once. */
static bool viewer_store(struct viewer *v, int64_t ext, uint32_t ts, bool marker,
			 const uint8_t *payload, size_t len)
{
	struct slot *s = viewer_slot(v, ext);

	if (ext < v->next || (s->ext == ext && s->have))
		return false; /* delivered already, or a duplicate */
	if (s->ext != ext && s->ext >= 0) {
		viewer_violation(v, "more than %d packets behind packet %" G_GINT64_FORMAT, RING,
				 v->next);
		return false;
	}
	g_assert_cmpuint(len, <=, PACKET_MAX);
	*s = (struct slot){ .ext = ext, .have = true, .marker = marker, .ts = ts, .len = len };
	memcpy(s->payload, payload, len);
	viewer_drain(v);
	return true;
}

/* ext for a 16-bit sequence number near the newest one. */
static int64_t viewer_extend(const struct viewer *v, uint16_t seq)
{
	return v->highest + (int16_t)(seq - (uint16_t)v->highest);
}

static void viewer_on_media(struct viewer *v, const struct cg_rtp_packet *p)
{
	int64_t ext;

	if (!v->started) {
		/* The session's first packet: the stream starts here. */
		v->started = true;
		v->media_ssrc = p->header.ssrc;
		v->next = v->highest = 1 << 16 | p->header.sequence;
		ext = v->next;
	} else {
		if (p->header.ssrc != v->media_ssrc)
			viewer_violation(v, "video SSRC changed");
		ext = viewer_extend(v, p->header.sequence);
	}
	v->packets++;
	if (ext > v->highest) {
		int64_t first_missing = v->highest + 1;

		/* A gap: mark what is missing, and ask for it at once. */
		for (int64_t e = v->highest + 1; e < ext; e++) {
			struct slot *s = viewer_slot(v, e);

			if (s->ext >= 0) {
				viewer_violation(v, "more than %d packets behind", RING);
				break;
			}
			*s = (struct slot){ .ext = e };
		}
		v->highest = ext;
		viewer_nack_missing(v, first_missing, ext, false);
	}
	viewer_store(v, ext, p->header.timestamp, p->header.marker, p->payload, p->payload_len);
}

/* RFC 4588 §4: the original sequence number, then the original payload. */
static void viewer_on_rtx(struct viewer *v, const struct cg_rtp_packet *p)
{
	uint16_t osn;

	v->rtx_received++;
	if (!v->rtx_ssrc)
		v->rtx_ssrc = p->header.ssrc;
	if (p->header.ssrc != v->rtx_ssrc || p->header.ssrc == v->media_ssrc)
		viewer_violation(v, "RTX not on its own SSRC");
	if (p->payload_len < 2) {
		viewer_violation(v, "RTX packet without an original sequence number");
		return;
	}
	osn = (uint16_t)(p->payload[0] << 8 | p->payload[1]);
	if (viewer_store(v, viewer_extend(v, osn), p->header.timestamp, p->header.marker,
			 p->payload + 2, p->payload_len - 2))
		v->rtx_filled++;
	else
		v->rtx_duplicate++;
}

static void viewer_on_rtp(struct viewer *v, uint8_t *buf, size_t len)
{
	struct cg_rtp_packet p;
	int r = cg_srtp_unprotect(v->srtp, buf, len);

	if (r < 0) {
		viewer_violation(v, "SRTP unprotect failed (%d)", r);
		return;
	}
	if (cg_rtp_parse(buf, (size_t)r, &p) < 0) {
		viewer_violation(v, "not RTP after SRTP");
		return;
	}
	if (p.header.payload_type == v->video_pt)
		viewer_on_media(v, &p);
	else if (v->rtx_pt && p.header.payload_type == v->rtx_pt)
		viewer_on_rtx(v, &p);
	else
		viewer_violation(v, "unexpected payload type %u", p.header.payload_type);
}

static void viewer_on_rtcp(struct viewer *v, uint8_t *buf, size_t len)
{
	struct cg_rtcp_info info;
	int r = cg_srtp_unprotect_rtcp(v->srtp, buf, len);

	if (r < 0 || cg_rtcp_parse(buf, (size_t)r, &info) < 0) {
		viewer_violation(v, "SRTCP from the session did not authenticate or parse");
		return;
	}
	if (info.has_sr && v->started && info.sender_ssrc == v->media_ssrc)
		v->srs++;
	else
		v->rtcp_other++;
}

static void viewer_on_recv(uint8_t *buf, size_t len, void *userdata)
{
	struct viewer *v = userdata;

	switch (cg_rtp_demux(buf, len)) {
	case CG_DEMUX_DTLS:
		cg_dtls_handle_datagram(v->dtls, buf, len);
		viewer_flush_dtls(v);
		viewer_drain_dtls(v);
		break;
	case CG_DEMUX_RTP:
		if (v->srtp)
			viewer_on_rtp(v, buf, len);
		break;
	case CG_DEMUX_RTCP:
		if (v->srtp)
			viewer_on_rtcp(v, buf, len);
		break;
	default:
		viewer_violation(v, "a datagram that is neither DTLS, RTP nor RTCP");
		break;
	}
}

static void viewer_on_ice_state(enum cg_ice_state state, void *userdata)
{
	struct viewer *v = userdata;

	if (state == CG_ICE_CONNECTED) {
		v->ice_connected = true;
		viewer_flush_dtls(v); /* the ClientHello waited for the pair */
	} else if (state == CG_ICE_FAILED) {
		v->ice_failed = true;
	}
}

static const struct cg_ice_callbacks viewer_ice_callbacks = {
	.state_changed = viewer_on_ice_state,
	.recv = viewer_on_recv,
};

/* A browser-like recvonly offer: H.264 (packetization-mode 1, Constrained Baseline) with
 * NACK, PLI and RTX, BUNDLE, rtcp-mux, our transport; no REMB or transport-wide CC, so the
 * session has no estimate and sends everything (no send budget). */
static char *viewer_offer(struct viewer *v)
{
	const char *ufrag, *pwd;
	char *cands[2] = { NULL, NULL };

	cg_ice_local_credentials(v->ice, &ufrag, &pwd);
	g_assert_cmpint(cg_ice_local_candidates(v->ice, cands, 1), ==, 1);
	char *sdp = g_strdup_printf("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
				    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
				    "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\n"
				    "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
				    "a=%s\r\na=end-of-candidates\r\n"
				    "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
				    "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:0\r\n"
				    "a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
				    "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 ccm fir\r\n"
				    "a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
				    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
				    "profile-level-id=42e01f\r\n"
				    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n",
				    cands[0], ufrag, pwd, cg_cert_fingerprint(v->w->viewer_cert));

	g_free(cands[0]);
	return sdp;
}

#define PICK(m, a, field) ((m)->field[0] ? (m)->field : (a)->field)

/* The answer, as a browser reads it: payload types, ICE credentials, the DTLS role. */
static void viewer_apply_answer(struct viewer *v, const char *answer)
{
	struct cg_sdp_offer *a = g_new0(struct cg_sdp_offer, 1);
	const struct cg_sdp_media *m;
	const char *reason = NULL;

	g_assert_cmpint(cg_sdp_parse_offer(answer, strlen(answer), a, &reason), ==, 0);
	g_assert_cmpuint(a->n_media, ==, 1);
	m = &a->media[0];
	g_assert_cmpint(m->direction, ==, CG_SDP_SENDONLY);
	g_assert_cmpstr(m->codecs[0].name, ==, "H264");
	v->video_pt = m->codecs[0].pt;
	v->rtx_pt = cg_sdp_rtx_pt(m, v->video_pt);
	g_assert_cmpuint(v->rtx_pt, !=, 0); /* RTX offered and implemented: answered */
	g_assert_cmpstr(PICK(m, a, setup), ==, "passive");
	g_assert_cmpint(
		cg_ice_set_remote_credentials(v->ice, PICK(m, a, ice_ufrag), PICK(m, a, ice_pwd)),
		==, 0);
	for (unsigned i = 0; i < m->n_candidates; i++)
		g_assert_cmpint(cg_ice_add_remote_candidate(v->ice, m->candidates[i]), ==, 0);
	g_assert_cmpint(cg_dtls_new(v->w->viewer_cert, CG_DTLS_CLIENT, PICK(m, a, fingerprint_alg),
				    PICK(m, a, fingerprint), &v->dtls),
			==, 0);
	g_free(a);
}

static void viewer_on_closed(struct cg_session *s, void *userdata)
{
	struct viewer *v = userdata;

	g_assert_true(s == v->session);
	g_assert_false(v->closed); /* once */
	v->closed = true;
	if (!v->expect_close)
		viewer_violation(v, "the session closed by itself");
}

/* What signaling/whep.c does with a POST, then the viewer's side of the answer. */
static struct viewer *viewer_join(struct world *w)
{
	struct viewer *v = g_new0(struct viewer, 1);
	struct cg_ice_setup setup = {
		.ctx = w->ctx,
		.controlling = true, /* the offerer controls (RFC 8445 §6.1.1) */
		.log_id = "viewer",
		.cb = &viewer_ice_callbacks,
		.userdata = v,
	};
	struct cg_sdp_offer *offer = g_new0(struct cg_sdp_offer, 1);
	struct cg_sdp_capabilities caps;
	struct cg_sdp_choice choice;
	struct cg_session_setup ss = {
		.host = cg_worker_host(w->worker),
		.media = w->media,
		.lane = cg_hub_lane(w->hub, cg_worker_index(w->worker)),
		.stats = &w->cam_stats,
		.cert = w->cert,
		.loopback_only = true,
		.cfg = w->cam,
		.control_ctx = w->ctx,
		.on_closed = viewer_on_closed,
		.on_closed_userdata = v,
	};
	const char *reason = NULL;
	char *sdp, *answer = NULL;

	v->w = w;
	v->ring = g_new(struct slot, RING);
	for (unsigned i = 0; i < RING; i++)
		v->ring[i] = (struct slot){ .ext = -1 };
	v->depack.buf = g_malloc(AU_MAX);
	v->depack.cap = AU_MAX;
	g_assert_cmpint(cg_ice_new(&cg_mem_ice_ops, w->net, &setup, &v->ice), ==, 0);
	g_assert_cmpint(cg_ice_gather(v->ice), ==, 0);
	sdp = viewer_offer(v);
	cg_session_capabilities(w->media, NULL, &caps);
	if (cg_sdp_parse_offer(sdp, strlen(sdp), offer, &reason) < 0 ||
	    cg_sdp_negotiate(offer, &caps, &choice, &reason) < 0)
		g_error("the offer was refused: %s\n%s", reason, sdp);
	session_ice = NULL;
	g_assert_cmpint(cg_session_new(&ss, offer, &choice, &v->session, &answer), ==, 0);
	g_assert_nonnull(session_ice); /* made on the worker's backend: memory */
	viewer_apply_answer(v, answer);
	g_assert_cmpint(cg_dtls_start(v->dtls), ==, 0);
	g_assert_cmpint(cg_ice_attach(v->ice), ==, 0);
	cg_session_start(v->session);
	g_free(answer);
	g_free(offer);
	g_free(sdp);
	return v;
}

static void viewer_free(struct viewer *v)
{
	viewer_destroy_source(&v->dtls_timer);
	viewer_destroy_source(&v->rtcp_timer);
	v->ice = cg_ice_free(v->ice);
	v->dtls = cg_dtls_free(v->dtls);
	v->srtp = cg_srtp_free(v->srtp);
	v->session = v->session ? cg_session_unref(v->session) : NULL;
	g_free(v->depack.buf);
	g_free(v->ring);
	g_free(v->violation);
	g_free(v);
}

/* ---- Waiting ---------------------------------------------------------------------------- */

static gboolean on_wait_limit(gpointer userdata)
{
	g_error("waited %d ms for %s: a hang", WAIT_LIMIT_MS, (const char *)userdata);
	return G_SOURCE_REMOVE;
}

typedef bool (*done_fn)(struct viewer *v, uint64_t arg);

/* Runs the test's loop until done(v, arg) or a violation of the stream's rules. */
static void run_until(struct viewer *v, done_fn done, uint64_t arg, const char *what)
{
	GSource *limit = g_timeout_source_new(WAIT_LIMIT_MS);

	g_source_set_callback(limit, on_wait_limit, (gpointer)what, NULL);
	g_source_attach(limit, v->w->ctx);
	while (!done(v, arg) && !v->violation)
		g_main_context_iteration(v->w->ctx, TRUE);
	g_source_destroy(limit);
	g_source_unref(limit);
	if (v->violation)
		g_error("while waiting for %s: %s", what, v->violation);
}

static bool frames_at_least(struct viewer *v, uint64_t n)
{
	return v->frames >= n;
}

static bool keyframes_at_least(struct viewer *v, uint64_t n)
{
	return v->keyframes >= n;
}

static bool session_closed(struct viewer *v, uint64_t arg)
{
	return v->closed;
}

/* Every reference released: the registry's (ours), the worker's, the deferred calls'. */
static bool session_released(struct viewer *v, uint64_t arg)
{
	return v->closed && cg_worker_load(v->w->worker) == 0 && cg_session_count() == 1;
}

/* Joins, and streams until the first AU, which must be a keyframe. */
static struct viewer *viewer_join_streaming(struct world *w)
{
	struct viewer *v = viewer_join(w);

	run_until(v, frames_at_least, 1, "the first access unit");
	g_assert_true(v->ice_connected);
	g_assert_nonnull(v->srtp);
	g_assert_true(v->first_au_keyframe); /* SPS, PPS and IDR: a decoder can start here */
	g_assert_cmpuint(cg_worker_load(w->worker), ==, 1);
	return v;
}

/* The session closed (however): its worker let it go, and our reference is the last. */
static void viewer_leave(struct viewer *v)
{
	struct world *w = v->w;

	run_until(v, session_released, 0, "the session's release");
	v->session = cg_session_unref(v->session);
	g_assert_cmpuint(cg_session_count(), ==, 0);
	g_assert_cmpuint(cg_worker_load(w->worker), ==, 0);
	g_assert_cmpuint(cg_hub_viewers(w->hub), ==, 0);
	viewer_free(v);
}

/* ---- The subtests ----------------------------------------------------------------------- */

#define N_FRAMES 60

static void test_stream(void)
{
	struct world w;
	struct viewer *v;

	if (!world_init(&w))
		return;
	v = viewer_join_streaming(&w);
	run_until(v, frames_at_least, 1 + N_FRAMES, "N access units");
	/* Every AU whole and in order (else run_until stopped on a violation). */
	g_assert_cmpuint(v->keyframes, >=, 1);
	g_assert_cmpuint(v->srs, >=, 1); /* one a second; N_FRAMES is two seconds of video */
	g_assert_cmpuint(v->rtx_filled, ==, 0);
	g_assert_false(v->closed);
	/* WHEP's DELETE. */
	v->expect_close = true;
	cg_session_close(v->session);
	run_until(v, session_closed, 0, "the close");
	viewer_leave(v);
	world_fini(&w);
}

static void test_loss_rtx(void)
{
	struct world w;
	struct viewer *v;
	uint64_t start;

	if (!world_init(&w))
		return;
	v = viewer_join_streaming(&w);
	/* 10 % of what the session sends is lost from now on: media, RTX and reports. */
	cg_ice_mem_set_loss(session_ice, 10, 0x1234);
	start = v->frames;
	run_until(v, frames_at_least, start + 3 * N_FRAMES / 2, "AUs through 10 % loss");
	g_test_message("%" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
		       " asked for again, %" G_GUINT64_FORMAT " retransmissions (%" G_GUINT64_FORMAT
		       " filled a hole)",
		       v->packets, v->nacks_sent, v->rtx_received, v->rtx_filled);
	g_assert_cmpuint(v->nacks_sent, >, 0);
	g_assert_cmpuint(v->rtx_filled, >, 0);
	g_assert_cmpuint(v->rtx_ssrc, !=, v->media_ssrc);
	cg_ice_mem_set_loss(session_ice, 0, 1);
	v->expect_close = true;
	cg_session_close(v->session);
	run_until(v, session_closed, 0, "the close");
	/* Closed on its worker, after every NACK it served: the camera's counter is final. */
	g_assert_cmpuint(cg_stats_get(&w.cam_stats.retransmissions), >=, v->rtx_filled);
	viewer_leave(v);
	world_fini(&w);
}

static void test_pli(void)
{
	struct world w;
	struct viewer *v;
	int len;

	if (!world_init(&w))
		return;
	v = viewer_join_streaming(&w);
	run_until(v, frames_at_least, 10, "ten access units");
	g_assert_cmpuint(v->keyframes, ==, 1); /* the join's: the next is 600 frames on */
	len = cg_rtcp_build_pli(v->buf, PACKET_MAX, VIEWER_SSRC, v->media_ssrc);
	viewer_send_rtcp(v, len);
	run_until(v, keyframes_at_least, 2, "the IDR the PLI asked for");
	g_assert_cmpuint(cg_stats_get(&w.cam_stats.plis_received), ==, 1);
	/* Sooner than the encoder's own keyframe interval: the PLI made it. */
	g_assert_cmpuint(v->frames_between_idrs, <, KEYFRAME_INTERVAL);
	v->expect_close = true;
	cg_session_close(v->session);
	run_until(v, session_closed, 0, "the close");
	viewer_leave(v);
	world_fini(&w);
}

static bool keyframe_older_than_replay(struct viewer *v, uint64_t arg)
{
	/* The join's GOP replay takes a keyframe at most 200 ms old: 15 frames are 500 ms. */
	return v->frames - v->last_idr_frame >= 15;
}

/* Both sessions released but for our two references. */
static bool both_released(struct viewer *v, uint64_t arg)
{
	return cg_worker_load(v->w->worker) == 0 && cg_session_count() == 2;
}

/*
 * The keyframe-first rule when the keyframe cannot come at once: the arbiter asks the
 * encoder at most once per 2 s here, so a viewer joining half a second after another's
 * IDR (too late for the GOP replay) waits about 1.5 s for its IDR while P-frames flow to
 * the first viewer; it must get none of them. Both viewers share the one worker.
 */
static void test_join_waits_for_keyframe(void)
{
	struct world w;
	struct viewer *a, *b;

	if (!world_init_arbiter(&w, 2000))
		return;
	/* The first viewer's join asks the encoder for an IDR (world_init_arbiter() waited for
	 * the encoder's own): the next request can only be served 2 s after it. */
	a = viewer_join_streaming(&w);
	run_until(a, keyframe_older_than_replay, 0, "P-frames after the first IDR");
	b = viewer_join(&w);
	run_until(b, frames_at_least, 1, "the second viewer's first access unit");
	g_assert_true(b->first_au_keyframe);
	g_assert_cmpuint(cg_worker_load(w.worker), ==, 2);
	/* The first viewer got the same IDR, and everything before it whole. */
	run_until(a, keyframes_at_least, 2, "the first viewer's second IDR");
	run_until(b, frames_at_least, 1 + N_FRAMES / 2, "frames on the second viewer");
	g_assert_cmpuint(b->keyframes, >=, 1);
	a->expect_close = b->expect_close = true;
	cg_session_close(a->session);
	cg_session_close(b->session);
	run_until(a, session_closed, 0, "the first close");
	run_until(b, session_closed, 0, "the second close");
	run_until(a, both_released, 0, "the release of both sessions");
	a->session = cg_session_unref(a->session);
	b->session = cg_session_unref(b->session);
	g_assert_cmpuint(cg_session_count(), ==, 0);
	g_assert_cmpuint(cg_hub_viewers(w.hub), ==, 0);
	viewer_free(a);
	viewer_free(b);
	world_fini(&w);
}

static void test_consent(void)
{
	struct world w;
	struct viewer *v;
	uint64_t consent_frames = TEST_CONSENT_USEC * FPS / CG_USEC_PER_SEC;

	if (!world_init(&w))
		return;
	v = viewer_join_streaming(&w);
	/* Frames are paced by the camera's clock: this many take at least 2.5 consent timeouts,
	 * all the while kept alive by the receiver reports. */
	run_until(v, frames_at_least, 1 + consent_frames * 5 / 2,
		  "frames over several consent timeouts");
	g_assert_false(v->closed);
	g_assert_false(log_has("no RTCP"));
	/* Silence: the session lets the viewer go. */
	v->expect_close = true;
	v->rtcp_stopped = true;
	run_until(v, session_closed, 0, "the close for lack of RTCP");
	g_assert_true(log_has("no RTCP for"));
	viewer_leave(v);
	world_fini(&w);
}

static void test_viewer_gone(void)
{
	struct world w;
	struct viewer *v;

	if (!world_init(&w))
		return;
	v = viewer_join_streaming(&w);
	run_until(v, frames_at_least, 10, "ten access units");
	/* The viewer's network is gone: nothing of it reaches the session any more. */
	v->expect_close = true;
	cg_ice_mem_fail(v->ice);
	run_until(v, session_closed, 0, "the close of a vanished viewer");
	g_assert_true(v->ice_failed);
	g_assert_true(log_has("no RTCP for"));
	viewer_leave(v);
	world_fini(&w);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_text = g_string_new(NULL);
	cg_log_set_sink(log_sink);
	spy_ops = cg_mem_ice_ops;
	spy_ops.create = spy_create;
	g_assert_cmpint(cg_srtp_global_init(), ==, 0);
	g_test_add_func("/session-mem/stream", test_stream);
	g_test_add_func("/session-mem/loss-rtx", test_loss_rtx);
	g_test_add_func("/session-mem/pli", test_pli);
	g_test_add_func("/session-mem/join-waits-for-keyframe", test_join_waits_for_keyframe);
	g_test_add_func("/session-mem/consent", test_consent);
	g_test_add_func("/session-mem/viewer-gone", test_viewer_gone);
	return g_test_run();
}
