/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "session"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "app/config.h"
#include "media/audio_track.h"
#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"
#include "app/ice_servers.h"
#include "media/media.h"
#include "net/ice.h"
#include "proto/rtcp.h"
#include "proto/bwe.h"
#include "proto/rtp.h"
#include "proto/rtx.h"
#include "proto/sdp.h"
#include "proto/session_fsm.h"
#include "proto/twcc.h"
#include "fanout/hub.h"
#include "fanout/session.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/refcount.h"
#include "util/time.h"

#define SESSION_PACKET_MAX 1500
/* NACK service per viewer: a hostile or hopeless receiver cannot make us resend the
 * stream (2 Mbit/s is about 250 packets/s; a 5 % loss needs ~13/s). */
#define SESSION_RTX_RATE  200
#define SESSION_RTX_BURST 100
/* A viewer whose estimate is below this share of the stream's bitrate gets a send budget. */
#define SESSION_BUDGET_PCT 90

struct cg_session {
	struct cg_refcount ref;
	char id[CG_SESSION_ID_LEN + 1];
	char log_id[CG_SESSION_LOG_ID_LEN + 1]; /* what log lines show of id */
	struct cg_session_setup setup;
	/* The session's life (proto/session_fsm.h): every transport, DTLS and RTCP event is an
	 * input, what it decides is carried out by session_run(). */
	struct cg_session_fsm fsm;
	bool running;  /* session_run() is draining: inputs fed meanwhile queue behind */
	bool attached; /* on its worker's list and its lane (cg_session_start()) */
	/* The one timer, at the FSM's next deadline (ready time; -1 none). */
	GSource *timer;
	gint64 timer_ready;
	struct cg_ice *ice; /* the transport (net/ice.h): libnice, or memory in tests */
	char *local_ufrag;
	char *local_pwd; /* copies: the control thread reads them after the transport is gone */
	char *remote_ufrag;
	struct cg_dtls *dtls;
	struct cg_srtp *srtp;
	struct cg_srtp_keys keys; /* from DTLS CONNECTED until START_SRTP, then wiped */
	const char *dtls_failure; /* why DTLS failed (static text), for the close's log line */
	int srtp_error;		  /* why SRTP could not be keyed, likewise */
	uint8_t pt;
	bool offerer;	  /* camgate sent the offer: ICE controlling, DTLS role from the answer */
	bool dtls_server; /* our DTLS role, which says which SRTP keys are ours */
	struct cg_sdp_offer_params offered; /* what we offered (strings not kept) */
	/* Sound (issue 4): what the answer said about the audio section. */
	uint8_t audio_pt;
	bool audio_sending;
	bool audio_receiving;
	uint32_t audio_packets_sent;
	uint32_t audio_octets_sent;
	uint32_t last_audio_rtp_timestamp;
	uint64_t last_audio_wall_usec;
	uint8_t playout_delay_id;
	uint8_t abs_send_time_id;
	uint8_t abs_capture_time_id;
	uint8_t rtx_pt; /* 0: retransmit in the original stream */
	uint8_t twcc_id;
	uint32_t rtx_ssrc; /* RFC 4588: own SSRC and sequence space */
	uint16_t rtx_seq;
	struct cg_twcc *twcc; /* only when negotiated (8 KiB) */
	struct cg_bwe_viewer bwe;
	struct cg_bwe_budget budget;
	struct cg_rtx_budget rtx_budget;
	struct cg_session_stats st;
	/* Waiting for server-reflexive and relayed candidates (cg_session_new_gathering). */
	struct {
		cg_session_gathered_fn fn; /* set at creation, then read-only */
		void *userdata;
		unsigned cap_ms;
		char **candidates; /* control: the report's candidates, for the answer */
		unsigned n_candidates;
	} gather;
	uint64_t created_usec;
	uint32_t packets_sent;
	uint32_t octets_sent;
	uint32_t last_rtp_timestamp;
	uint64_t last_capture_wall_usec;
	uint8_t packet[SESSION_PACKET_MAX + CG_SRTP_MAX_TRAILER];
};

/* Sessions made and not yet freed, for cg_session_count(). */
static unsigned session_count;

unsigned cg_session_count(void)
{
	return __atomic_load_n(&session_count, __ATOMIC_RELAXED);
}

struct cg_session *cg_session_ref(struct cg_session *s)
{
	cg_refcount_inc(&s->ref);
	return s;
}

struct cg_session *cg_session_unref(struct cg_session *s)
{
	if (s && cg_refcount_dec(&s->ref)) {
		/* close_now already released everything thread-bound. */
		g_free(s->local_ufrag);
		g_free(s->local_pwd);
		g_free(s->remote_ufrag);
		g_strfreev(s->gather.candidates);
		free(s->twcc);
		free(s);
		__atomic_sub_fetch(&session_count, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void session_unref_notify(gpointer s)
{
	cg_session_unref(s);
}

const char *cg_session_id(const struct cg_session *s)
{
	return s->id;
}

const char *cg_session_log_id(const struct cg_session *s)
{
	return s->log_id;
}

/* A fresh random id, and the prefix of it that log lines show. */
static void session_make_id(struct cg_session *s)
{
	cg_rand_token(s->id, CG_SESSION_ID_LEN);
	g_strlcpy(s->log_id, s->id, sizeof(s->log_id));
}

static void session_send_raw(struct cg_session *s, const uint8_t *buf, size_t len)
{
	if (cg_ice_send_one(s->ice, buf, len) < 0)
		cg_debug("[%s] send of %zu bytes failed, dropping", s->log_id, len);
}

/* The one timer: a source with only a ready time, made once per session and re-armed
 * without allocating. */
static gboolean session_timer_dispatch(GSource *source, GSourceFunc callback, gpointer userdata)
{
	g_source_set_ready_time(source, -1);
	return callback(userdata);
}

static GSourceFuncs session_timer_funcs = { .dispatch = session_timer_dispatch };

static gboolean session_on_timer(gpointer userdata);

/* Made at creation (any thread: attaching is thread-safe); armed on the worker only. */
static void session_timer_new(struct cg_session *s)
{
	s->timer = g_source_new(&session_timer_funcs, sizeof(GSource));
	s->timer_ready = -1;
	g_source_set_callback(s->timer, session_on_timer, s, NULL);
	g_source_attach(s->timer, s->setup.host->ctx);
}

static void session_timer_free(struct cg_session *s)
{
	if (s->timer) {
		g_source_destroy(s->timer);
		g_source_unref(s->timer);
		s->timer = NULL;
	}
}

/*
 * The timer at the FSM's next deadline. cg_mono_usec() and GLib's ready time are both
 * CLOCK_MONOTONIC microseconds (g_get_monotonic_time()), so the deadline is the ready time
 * (tests/unit/net/test-ice-session.c checks it); an unchanged deadline is not set again,
 * so a unit sent costs no lock here.
 */
static void session_arm_timer(struct cg_session *s)
{
	uint64_t due = cg_session_fsm_next_deadline_usec(&s->fsm);
	gint64 ready = due == CG_SESSION_FSM_NEVER || due > (uint64_t)G_MAXINT64 ? -1 : (gint64)due;

	if (!s->timer || ready == s->timer_ready)
		return;
	s->timer_ready = ready;
	g_source_set_ready_time(s->timer, ready);
}

static void session_act(struct cg_session *s, const struct cg_session_fsm_action *a);

/*
 * After every input: carry out what the FSM decided, in order (actions may feed inputs;
 * their actions queue behind), then re-arm the timer (str0m's rule). Not re-entered: a
 * nested call returns, and the outer loop drains what it queued.
 */
static void session_run(struct cg_session *s)
{
	struct cg_session_fsm_action a;

	if (s->running)
		return;
	s->running = true;
	while (cg_session_fsm_poll_action(&s->fsm, &a) > 0)
		session_act(s, &a);
	s->running = false;
	session_arm_timer(s);
}

static gboolean session_on_timer(gpointer userdata)
{
	struct cg_session *s = userdata;

	s->timer_ready = -1; /* the dispatch disarmed it */
	cg_session_fsm_timeout(&s->fsm, cg_mono_usec());
	session_run(s);
	return G_SOURCE_CONTINUE;
}

/* Sends what DTLS queued: the FSM says so only once ICE has a pair to answer on (R4). */
static void session_send_dtls(struct cg_session *s)
{
	int len;

	while ((len = cg_dtls_poll_transmit(s->dtls, s->packet, sizeof(s->packet))) > 0)
		session_send_raw(s, s->packet, (size_t)len);
}

/* The keys are secrets: kept from DTLS CONNECTED to START_SRTP only. Volatile stores, not
 * explicit_bzero(): GCC 12 with ASan misreads the struct's size there and fails the build. */
static void session_wipe_keys(struct cg_session *s)
{
	volatile uint8_t *p = (volatile uint8_t *)&s->keys;

	for (size_t i = 0; i < sizeof(s->keys); i++)
		p[i] = 0;
}

static void session_on_dtls_event(struct cg_session *s, const struct cg_dtls_event *ev,
				  uint64_t now)
{
	switch (ev->type) {
	case CG_DTLS_EVENT_CONNECTED:
		s->keys = ev->keys;
		if (cg_session_fsm_dtls_connected(&s->fsm, now) < 0)
			session_wipe_keys(s);
		break;
	case CG_DTLS_EVENT_FAILED:
		s->dtls_failure = ev->reason;
		cg_session_fsm_dtls_failed(&s->fsm, now);
		break;
	case CG_DTLS_EVENT_CLOSED:
		cg_session_fsm_dtls_closed(&s->fsm, now);
		break;
	case CG_DTLS_EVENT_NONE:
		break;
	}
}

/* DTLS moved on (a datagram, its timer, the start): whether it holds output, when it wants
 * its timer, and what happened, into the FSM. */
static void session_dtls_advance(struct cg_session *s)
{
	uint64_t now = cg_mono_usec();
	struct cg_dtls_event ev;

	cg_session_fsm_dtls_output(&s->fsm, now);
	cg_session_fsm_dtls_timer(&s->fsm, now, cg_dtls_poll_timeout_ms(s->dtls));
	while (cg_dtls_poll_event(s->dtls, &ev) > 0)
		session_on_dtls_event(s, &ev, now);
}

/*
 * A sender report maps a stream's RTP time to the capture wall clock. Audio and video both
 * map to that one clock, so the browser can line them up (RFC 3550 §6.4.1: lip sync
 * through NTP timestamps).
 */
static void session_send_sr(struct cg_session *s, const struct cg_rtcp_sr *sr)
{
	int len = cg_rtcp_build_sr(s->packet, SESSION_PACKET_MAX, sr);

	if (len < 0)
		return;
	len = cg_srtp_protect_rtcp(s->srtp, s->packet, (size_t)len, sizeof(s->packet));
	if (len > 0)
		session_send_raw(s, s->packet, (size_t)len);
}

static void session_send_srs(struct cg_session *s)
{
	/* Only for what was sent: an SR before the first packet would map nothing. */
	if (s->packets_sent > 0)
		session_send_sr(
			s, &(struct cg_rtcp_sr){
				   .ssrc = cg_media_ssrc(s->setup.media),
				   .ntp = cg_rtcp_ntp_from_unix_usec(s->last_capture_wall_usec),
				   .rtp_timestamp = s->last_rtp_timestamp,
				   .packet_count = s->packets_sent,
				   .octet_count = s->octets_sent,
				   .cname = "camgate",
			   });
	if (s->audio_packets_sent > 0)
		session_send_sr(s,
				&(struct cg_rtcp_sr){
					.ssrc = cg_audio_track_ssrc(s->setup.audio),
					.ntp = cg_rtcp_ntp_from_unix_usec(s->last_audio_wall_usec),
					.rtp_timestamp = s->last_audio_rtp_timestamp,
					.packet_count = s->audio_packets_sent,
					.octet_count = s->audio_octets_sent,
					.cname = "camgate",
				});
}

/* Sends the camera's cached GOP on this worker, if its keyframe is at most max_age_usec
 * old: a joining viewer then starts without waiting for a new IDR. */
static bool session_replay_gop(struct cg_session *s, uint64_t max_age_usec)
{
	struct cg_media_unit *const *units;
	unsigned n = cg_hub_lane_gop(s->setup.lane, max_age_usec, &units);

	for (unsigned i = 0; i < n; i++)
		cg_session_send_unit(s, units[i]);
	return n > 0;
}

/* START_SRTP (R6): the keys of the handshake, then wiped. */
static void session_start_srtp(struct cg_session *s)
{
	enum cg_srtp_profile profile = s->keys.profile;
	/* RFC 5764 §4.2: the DTLS client's keys protect what the client sends. A passive
	 * answer to camgate's offer makes camgate the client. */
	int r = cg_srtp_new(&s->keys, s->dtls_server, &s->srtp);

	session_wipe_keys(s);
	if (r < 0) {
		s->srtp_error = r;
		cg_session_fsm_close(&s->fsm, cg_mono_usec(), CG_SESSION_FSM_CLOSE_SRTP_FAILED);
		return;
	}
	cg_info("[%s] DTLS connected (%s), streaming", s->log_id,
		profile == CG_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
						    : "AES_CM_128_HMAC_SHA1_80");
}

/* START_MEDIA (R6): a keyframe of the last few frames starts the picture now; else the
 * FSM asks the arbiter for one. */
static void session_start_media(struct cg_session *s, uint64_t max_age_usec)
{
	if (!session_replay_gop(s, max_age_usec))
		cg_session_fsm_no_cached_keyframe(&s->fsm, cg_mono_usec());
}

/* Receiver report blocks about our stream: loss and jitter (RFC 3550 §6.4.1). */
static void session_on_report_blocks(struct cg_session *s, const struct cg_rtcp_info *info,
				     uint64_t now)
{
	uint32_t ssrc = cg_media_ssrc(s->setup.media);

	for (unsigned i = 0; i < info->n_report_blocks; i++) {
		const struct cg_rtcp_report_block *b = &info->report_blocks[i];

		if (b->ssrc != ssrc)
			continue;
		s->st.fraction_lost = b->fraction_lost;
		s->st.cumulative_lost = b->cumulative_lost;
		s->st.jitter = b->jitter;
		cg_bwe_on_rr(&s->bwe, b->fraction_lost, now);
	}
}

static void session_serve_nacks(struct cg_session *s, const struct cg_rtcp_info *info,
				uint64_t now);

/* Feedback that is not about keyframes: reports, REMB, TWCC, NACK. */
static void session_on_feedback(struct cg_session *s, const uint8_t *buf, size_t len,
				const struct cg_rtcp_info *info, uint64_t now)
{
	struct cg_twcc_report tr;

	session_on_report_blocks(s, info, now);
	if (info->remb) {
		s->st.rembs++;
		cg_bwe_on_remb(&s->bwe, info->remb_bitrate_bps, now);
	}
	/* cg_rtcp_parse skips RTPFB FMT 15; the TWCC module reads it from the same bytes. */
	if (s->twcc && cg_twcc_read_compound(s->twcc, buf, len, &tr) > 0) {
		s->st.twcc_feedbacks++;
		cg_bwe_on_twcc(&s->bwe, &tr, now);
	}
	if (info->n_nacks > 0 && info->nack_media_ssrc == cg_media_ssrc(s->setup.media))
		session_serve_nacks(s, info, now);
}

/* Keys in place (the FSM's DTLS_CONNECTED or STREAMING, and SRTP made). */
static bool session_keyed(const struct cg_session *s)
{
	return s->srtp && cg_session_fsm_keyed(&s->fsm);
}

static void session_on_rtcp(struct cg_session *s, uint8_t *buf, size_t len)
{
	struct cg_rtcp_info info;
	uint64_t now = cg_mono_usec();
	unsigned flags = 0;
	int r;

	if (!session_keyed(s))
		return;
	r = cg_srtp_unprotect_rtcp(s->srtp, buf, len);
	if (r < 0) {
		cg_trace("[%s] SRTCP unprotect failed: %s, dropping", s->log_id, strerror(-r));
		return;
	}
	if (cg_rtcp_parse(buf, (size_t)r, &info) < 0) {
		cg_stats_add(&s->setup.stats->rtcp_malformed, 1);
		cg_trace("[%s] malformed RTCP, dropping", s->log_id);
		return;
	}
	if (info.pli)
		cg_stats_add(&s->setup.stats->plis_received, 1);
	if (info.fir)
		cg_stats_add(&s->setup.stats->firs_received, 1);
	if (info.pli || info.fir) {
		cg_debug("[%s] %s received, asking for a keyframe", s->log_id,
			 info.pli ? "PLI" : "FIR");
		flags |= CG_SESSION_FSM_RTCP_KEYFRAME;
	}
	session_on_feedback(s, buf, (size_t)r, &info, now);
	if (info.bye)
		flags |= CG_SESSION_FSM_RTCP_BYE;
	/* Consent (R2), the keyframe request and the BYE's close (R8). */
	cg_session_fsm_rtcp(&s->fsm, now, flags);
}

/* RTP from the browser: its microphone, for talkback. Anything else is dropped. */
static void session_on_rtp(struct cg_session *s, uint8_t *buf, size_t len)
{
	struct cg_rtp_packet pkt;
	int r;

	if (!s->audio_receiving || !session_keyed(s))
		return;
	r = cg_srtp_unprotect(s->srtp, buf, len);
	if (r < 0) {
		cg_trace("[%s] SRTP unprotect failed: %s, dropping", s->log_id, strerror(-r));
		return;
	}
	if (cg_rtp_parse(buf, (size_t)r, &pkt) < 0 || pkt.header.payload_type != s->audio_pt)
		return;
	r = cg_audio_track_talkback(s->setup.audio, pkt.header.ssrc, pkt.header.sequence,
				    pkt.header.timestamp, pkt.payload, pkt.payload_len);
	if (r < 0 && r != -EBUSY)
		cg_trace("[%s] talkback packet dropped: %s", s->log_id, strerror(-r));
}

static void session_on_recv(uint8_t *data, size_t len, void *userdata)
{
	struct cg_session *s = userdata;

	if (cg_session_fsm_state(&s->fsm) >= CG_SESSION_FSM_CLOSING)
		return;
	switch (cg_rtp_demux(data, len)) {
	case CG_DEMUX_DTLS:
		cg_dtls_handle_datagram(s->dtls, data, len);
		session_dtls_advance(s);
		break;
	case CG_DEMUX_RTCP:
		session_on_rtcp(s, data, len);
		break;
	case CG_DEMUX_RTP:
		session_on_rtp(s, data, len);
		break;
	default:
		break; /* noise */
	}
	session_run(s);
}

static void session_on_ice_state(enum cg_ice_state state, void *userdata)
{
	static const enum cg_session_fsm_ice_state map[] = {
		[CG_ICE_CHECKING] = CG_SESSION_FSM_ICE_STATE_CHECKING,
		[CG_ICE_CONNECTED] = CG_SESSION_FSM_ICE_STATE_CONNECTED,
		[CG_ICE_FAILED] = CG_SESSION_FSM_ICE_STATE_FAILED,
	};
	struct cg_session *s = userdata;

	if ((unsigned)state < CG_ARRAY_SIZE(map))
		cg_session_fsm_ice_state(&s->fsm, cg_mono_usec(), map[state]);
	session_run(s);
}

static void session_on_selected_pair(const char *local_type, const char *remote_type,
				     void *userdata)
{
	struct cg_session *s = userdata;

	cg_debug("[%s] ICE pair selected: %s to %s", s->log_id, local_type, remote_type);
	cg_session_fsm_selected_pair(&s->fsm, cg_mono_usec());
	session_run(s);
}

/* abs-send-time: 6.18 fixed-point seconds, 24 bits; the browser's bandwidth estimator
 * compares send and arrival spacing, so any epoch will do. */
static void session_abs_send_time(struct cg_rtp_ext *ext, uint8_t id, uint64_t now_usec)
{
	uint32_t v = (uint32_t)(((now_usec << 18) / CG_USEC_PER_SEC) & 0xffffff);

	*ext = (struct cg_rtp_ext){ .id = id, .len = 3 };
	ext->data[0] = (uint8_t)(v >> 16);
	ext->data[1] = (uint8_t)(v >> 8);
	ext->data[2] = (uint8_t)v;
}

/* The header every packet of ours carries: payload type, marker, and the extensions the
 * viewer negotiated (playout-delay min = max = 0 asks the browser not to buffer). */
static void session_header(struct cg_session *s, struct cg_rtp_header *h, uint64_t now_usec,
			   size_t wire_size)
{
	if (s->playout_delay_id)
		cg_rtp_ext_playout_delay(&h->extensions[h->n_extensions++], s->playout_delay_id, 0,
					 0);
	if (s->abs_send_time_id)
		session_abs_send_time(&h->extensions[h->n_extensions++], s->abs_send_time_id,
				      now_usec);
	if (s->twcc) {
		/* draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: 16-bit, per session. */
		uint16_t seq = cg_twcc_on_send(s->twcc, now_usec / 1000, wire_size);
		struct cg_rtp_ext *e = &h->extensions[h->n_extensions++];

		*e = (struct cg_rtp_ext){ .id = s->twcc_id, .len = 2 };
		e->data[0] = (uint8_t)(seq >> 8);
		e->data[1] = (uint8_t)seq;
	}
}

/*
 * abs-capture-time (webrtc.org rtp-hdrext/abs-capture-time) on the first packet of each
 * frame: the capture instant on the clock our sender reports map RTP time to (the capture
 * wall clock, session_send_srs), so a browser can compute capture → display for any camera.
 * Every frame rather than libwebrtc's once a second: 9 bytes a frame costs nothing next to
 * the picture, and the receiver then needs no extrapolation across frames. The 8-byte form:
 * we are the capture system, so the offset would be 0, and a 16-byte element makes Chromium
 * add its own sender-to-receiver clock estimate, which it takes from our SRs, whose NTP
 * time is a frame's capture instant rather than the report's sending time (RFC 3550
 * §6.4.1): that estimate would be off by the capture-to-report delay.
 */
static void session_abs_capture_time(struct cg_session *s, struct cg_rtp_header *h,
				     const struct cg_media_unit *u)
{
	if (h->n_extensions < CG_RTP_MAX_EXTENSIONS)
		cg_rtp_ext_abs_capture_time(
			&h->extensions[h->n_extensions++], s->abs_capture_time_id,
			cg_rtcp_ntp_from_unix_usec(u->capture_wall_usec), false, 0);
}

/*
 * Writes RTP packet index of u, SRTP-protected, into out (cap bytes): as sent the first
 * time, or (rtx) as an RFC 4588 retransmission in the session's RTX stream. The payload
 * is the shared plan's slice: the copy next to the header is the one SRTP needs anyway,
 * since its output differs per viewer. Returns the length or a negative errno.
 */
static int session_build_packet(struct cg_session *s, const struct cg_media_unit *u, size_t index,
				bool rtx, uint64_t now_usec, uint8_t *out, size_t cap)
{
	const struct cg_h264_payload *p = &u->plan.items[index];
	uint16_t seq = (uint16_t)(u->first_seq + index);
	struct cg_rtp_header h = {
		.payload_type = rtx ? s->rtx_pt : s->pt,
		.marker = p->marker,
		.sequence = rtx ? s->rtx_seq++ : seq,
		.timestamp = u->rtp_timestamp,
		.ssrc = rtx ? s->rtx_ssrc : cg_media_ssrc(s->setup.media),
	};
	const uint8_t *payload = u->plan.arena + p->offset;
	int len;

	session_header(s, &h, now_usec, p->len + 48u);
	if (index == 0 && s->abs_capture_time_id)
		session_abs_capture_time(s, &h, u);
	if (rtx) {
		len = cg_rtx_build(out, cap - CG_SRTP_MAX_TRAILER, &h, seq, payload, p->len);
	} else {
		len = cg_rtp_write_header(out, cap - CG_SRTP_MAX_TRAILER, &h);
		if (len >= 0 && (size_t)len + p->len > cap - CG_SRTP_MAX_TRAILER)
			len = -ENOSPC;
		if (len >= 0) {
			memcpy(out + len, payload, p->len);
			len += p->len;
		}
	}
	if (len < 0)
		return len;
	return cg_srtp_protect(s->srtp, out, (size_t)len, cap);
}

/*
 * Hands n prepared messages of the worker's batch to the transport in one call. Returns
 * the number it took; fewer than n means the socket buffer is full.
 */
static unsigned session_flush_batch(struct cg_session *s, struct cg_session_batch *b, unsigned n)
{
	int sent;

	if (n == 0)
		return 0;
	sent = cg_ice_send(s->ice, b->msgs, n);
	if (sent < 0) {
		cg_trace("[%s] batch send failed: %s", s->log_id, strerror(-sent));
		return 0;
	}
	return (unsigned)sent;
}

/* Adds packet index of u to the batch (flushing it when full); returns packets the
 * socket refused. */
static unsigned session_batch_add(struct cg_session *s, struct cg_session_batch *b, unsigned *n,
				  const struct cg_media_unit *u, size_t index, bool rtx,
				  uint64_t now)
{
	int len = session_build_packet(s, u, index, rtx, now, b->slots[*n], CG_SESSION_SLOT);
	unsigned dropped = 0;

	if (len < 0) {
		cg_trace("[%s] cannot build packet: %s, dropping", s->log_id, strerror(-len));
		return 0;
	}
	b->msgs[*n].len = (size_t)len;
	if (++*n == CG_SESSION_BATCH) {
		dropped = *n - session_flush_batch(s, b, *n);
		*n = 0;
	}
	return dropped;
}

/*
 * Sends all packets of u: built into the worker's preallocated slots, then one transport
 * call per CG_SESSION_BATCH packets (one call per frame in the common case). Returns the
 * number of packets the socket did not take.
 */
static unsigned session_send_packets(struct cg_session *s, const struct cg_media_unit *u,
				     uint64_t now)
{
	struct cg_session_batch *b = s->setup.host->batch;
	unsigned n = 0, dropped = 0;

	for (size_t i = 0; i < u->plan.n_items; i++) {
		dropped += session_batch_add(s, b, &n, u, i, false, now);
		s->packets_sent++;
		s->octets_sent += u->plan.items[i].len;
	}
	dropped += n - session_flush_batch(s, b, n);
	s->st.packets_sent = s->packets_sent;
	/* Once per frame, not per packet: the counters are shared atomics. */
	cg_stats_add(&s->setup.stats->rtp_packets_sent, u->plan.n_items - dropped);
	cg_stats_add(&s->setup.stats->rtp_bytes_sent, u->au->len);
	return dropped;
}

/*
 * Answers a generic NACK (RFC 4585 §6.2.1) from the worker's shared history: each lost
 * packet is rebuilt from its unit, as RTX when negotiated (RFC 4588), else in the
 * original stream (libsrtp allows re-protecting a sequence number on the send side).
 * Everything goes out as one batch; a token bucket bounds what one viewer can ask for.
 */
static void session_serve_nacks(struct cg_session *s, const struct cg_rtcp_info *info, uint64_t now)
{
	struct cg_session_batch *b = s->setup.host->batch;
	uint64_t retransmitted = s->st.retransmitted;
	unsigned n = 0;

	for (unsigned i = 0; i < info->n_nacks; i++) {
		unsigned index;
		struct cg_media_unit *u =
			cg_hub_lane_find_packet(s->setup.lane, info->nacks[i], &index);

		s->st.nacks_received++;
		if (!u || !cg_rtx_budget_take(&s->rtx_budget, now)) {
			s->st.nacks_unserved++;
			continue;
		}
		session_batch_add(s, b, &n, u, index, s->rtx_pt != 0, now);
		s->st.retransmitted++;
	}
	session_flush_batch(s, b, n);
	cg_stats_add(&s->setup.stats->nacks_received, info->n_nacks);
	cg_stats_add(&s->setup.stats->retransmissions, s->st.retransmitted - retransmitted);
}

/*
 * The send budget: a viewer whose estimate is clearly below the stream's bitrate is
 * served what fits in a token bucket at its estimate; a frame that does not fit is
 * skipped with the rest of its GOP (a partial GOP is undecodable) rather than queued.
 */
static bool session_within_budget(struct cg_session *s, const struct cg_media_unit *u, uint64_t now)
{
	uint32_t est = cg_bwe_estimate_kbps(&s->bwe, now);
	uint64_t stream = cg_media_bitrate(s->setup.media);

	if (est && (uint64_t)est * 100 < stream * SESSION_BUDGET_PCT)
		cg_bwe_budget_set_rate(&s->budget, (uint64_t)est * 1000);
	else
		cg_bwe_budget_set_rate(&s->budget, 0);
	return cg_bwe_budget_take(&s->budget, u->plan.arena_len + 40 * u->plan.n_items, u->keyframe,
				  now);
}

/* The send budget or the socket refused (part of) a unit: the viewer resumes at the next
 * keyframe, and the FSM asks for one at most every 2 s (R10). */
static void session_skip(struct cg_session *s, uint64_t now)
{
	s->st.frames_skipped++;
	cg_session_fsm_unit_skipped(&s->fsm, now);
}

void cg_session_send_unit(struct cg_session *s, struct cg_media_unit *u)
{
	uint64_t now;
	unsigned dropped;
	bool joining;

	/* The video gate (R9): nothing before the keys, a keyframe to start from. */
	if (!s->srtp || !cg_session_fsm_wants_unit(&s->fsm, u->keyframe))
		return;
	now = cg_mono_usec();
	joining = !cg_session_fsm_wants_unit(&s->fsm, false);
	if (!session_within_budget(s, u, now)) {
		session_skip(s, now);
		session_run(s);
		return;
	}
	if (joining)
		cg_debug("[%s] keyframe, %.1f ms after the offer", s->log_id,
			 (now - s->created_usec) / 1000.0);
	dropped = session_send_packets(s, u, now);
	cg_session_fsm_unit_sent(&s->fsm, now, u->keyframe);
	/* A full socket buffer: this viewer cannot keep up. Rather than queue, it resumes at
	 * the next keyframe (STYLE 4.4 hub drop policy). */
	if (dropped > 0)
		session_skip(s, now);
	s->last_rtp_timestamp = u->rtp_timestamp;
	s->last_capture_wall_usec = u->capture_wall_usec;
	session_run(s);
}

void cg_session_resync(struct cg_session *s)
{
	/* Only while every unit is being sent: a viewer already waiting for a keyframe, or
	 * not keyed yet, has nothing to resync (R10). */
	if (cg_session_fsm_resync(&s->fsm, cg_mono_usec()) == 0) {
		s->st.frames_skipped++;
		session_run(s);
	}
}

void cg_session_get_stats(struct cg_session *s, struct cg_session_stats *ret)
{
	*ret = s->st;
	ret->estimate_kbps = cg_bwe_estimate_kbps(&s->bwe, cg_mono_usec());
	ret->loss = s->bwe.loss;
}

struct cg_hub_lane *cg_session_lane(const struct cg_session *s)
{
	return s->setup.lane;
}

static void session_add_remote_candidate(struct cg_session *s, const char *value)
{
	int r = cg_ice_add_remote_candidate(s->ice, value);

	/* mDNS ".local" names land on -EINVAL; the browser's checks still reach us and
	 * become peer-reflexive candidates. */
	if (r == -EINVAL)
		cg_debug("[%s] remote candidate not usable, ignoring", s->log_id);
	else if (r < 0)
		cg_debug("[%s] remote candidate rejected by ICE, ignoring", s->log_id);
}

/*
 * Waiting for server-reflexive and relayed candidates (cg_session_new_gathering). WHEP has
 * no server-to-client trickle (draft-ietf-wish-whep-03 §4.4.2, as WHIP RFC 9725 §4.3.2), so the
 * answer must wait for STUN and TURN; the wait runs on the worker, where cg_session_close_now()
 * also runs, so the transport cannot go away while its candidates are read. The control thread
 * gets one report.
 */
struct session_gathered {
	struct cg_session *s;
	char **candidates; /* NULL when the session closed first */
	unsigned n;
	int status;
};

static void session_on_worker(struct cg_session *s, GSourceFunc fn)
{
	GSource *src = g_idle_source_new();

	g_source_set_callback(src, fn, cg_session_ref(s), session_unref_notify);
	g_source_attach(src, s->setup.host->ctx);
	g_source_unref(src);
}

static gboolean session_deliver_gathered(gpointer userdata)
{
	struct session_gathered *g = userdata;
	struct cg_session *s = g->s;

	g_strfreev(s->gather.candidates);
	s->gather.candidates = g_steal_pointer(&g->candidates);
	s->gather.n_candidates = g->n;
	s->gather.fn(s, g->status, s->gather.userdata);
	return G_SOURCE_REMOVE;
}

static void session_gathered_free(gpointer userdata)
{
	struct session_gathered *g = userdata;

	cg_session_unref(g->s);
	g_strfreev(g->candidates);
	g_free(g);
}

static char **session_local_candidates(struct cg_session *s, unsigned *ret_n);

/* REPORT_GATHERED (R12): the candidates, or the news that the session closed, to the
 * control thread. The FSM says so once per wait, and only once it is armed. Worker
 * thread. */
static void session_report_gathered(struct cg_session *s, int status)
{
	struct session_gathered *g = g_new0(struct session_gathered, 1);
	GSource *src;

	g->s = cg_session_ref(s);
	g->status = status;
	/* An unreachable STUN or TURN server retransmits for ~40 s: the viewer does not wait
	 * that. */
	if (status == -ETIMEDOUT)
		cg_info("[%s] ICE gathering still running after %u ms, answering with what "
			"there is",
			s->log_id, s->gather.cap_ms);
	if (status != -ECONNRESET)
		g->candidates = session_local_candidates(s, &g->n);
	cg_debug("[%s] %u local candidates after %.1f ms%s", s->log_id, g->n,
		 (cg_mono_usec() - s->created_usec) / 1000.0,
		 status == -ETIMEDOUT ? " (gathering not done: capped)" : "");
	src = g_idle_source_new();
	g_source_set_callback(src, session_deliver_gathered, g, session_gathered_free);
	g_source_attach(src, s->setup.control_ctx);
	g_source_unref(src);
}

/* The transport calls back on the worker only, once attached (net/ice.h). */
static void session_on_gathering_done(void *userdata)
{
	struct cg_session *s = userdata;

	cg_session_fsm_gathering_done(&s->fsm, cg_mono_usec());
	session_run(s);
}

static gboolean session_gather_arm(gpointer userdata)
{
	struct cg_session *s = userdata;

	/* libnice reads its sockets only once the transport is attached: without that, the
	 * STUN and TURN responses would wait in the socket until cg_session_start(), and
	 * discovery would time out first. Creation is over, so the session is the worker's
	 * to run; what arrives before the answer is read as it would be after. */
	if (cg_session_fsm_state(&s->fsm) < CG_SESSION_FSM_CLOSING)
		cg_ice_attach(s->ice);
	cg_session_fsm_gather_wait(&s->fsm, cg_mono_usec(),
				   (uint64_t)s->gather.cap_ms * CG_USEC_PER_MSEC);
	session_run(s);
	return G_SOURCE_REMOVE;
}

/*
 * The configured STUN and TURN servers for the transport, in *ret (pointing into the
 * session's setup and cred): only when configured, so that on a LAN without them no packet
 * leaves for an outside server. NULL when none.
 */
static const struct cg_ice_servers_setup *session_ice_servers(struct cg_session *s,
							      struct cg_ice_servers_setup *ret,
							      struct cg_turn_credentials *cred)
{
	static const enum cg_ice_relay relays[] = {
		[CG_CONFIG_TURN_UDP] = CG_ICE_RELAY_UDP,
		[CG_CONFIG_TURN_TCP] = CG_ICE_RELAY_TCP,
		[CG_CONFIG_TURN_TLS] = CG_ICE_RELAY_TLS,
	};
	const struct cg_ice_servers *ice = s->setup.ice;

	if (!ice)
		return NULL;
	*ret = (struct cg_ice_servers_setup){ .stun_ip = ice->stun_ip,
					      .stun_port = ice->stun_port };
	if (!ice->turn_ip[0])
		return ret;
	/* REST credentials are made here, as the transport allocates: the server checks their
	 * expiry on the Allocate only, and libnice copies them for the refreshes. */
	if (cg_ice_servers_turn_credentials(ice, (int64_t)(cg_wall_usec() / CG_USEC_PER_SEC),
					    cred) < 0) {
		cg_warn("[%s] cannot make TURN credentials, not using the TURN server", s->log_id);
		return ret;
	}
	ret->turn_ip = ice->turn_ip;
	ret->turn_port = ice->turn_port;
	ret->turn_relay = relays[ice->turn_transport];
	ret->turn_username = cred->username;
	ret->turn_password = cred->password;
	return ret;
}

static const struct cg_ice_callbacks session_ice_callbacks = {
	.gathering_done = session_on_gathering_done,
	.state_changed = session_on_ice_state,
	.selected_pair = session_on_selected_pair,
	.recv = session_on_recv,
};

/* The transport on the host's backend and context, gathering, and our credentials. */
static int session_create_ice(struct cg_session *s)
{
	struct cg_ice_servers_setup servers;
	struct cg_turn_credentials cred = { 0 };
	struct cg_ice_setup setup = {
		.ctx = s->setup.host->ctx,
		/* The offerer controls (RFC 8445 §6.1.1): usually the browser. */
		.controlling = s->offerer,
		.loopback_only = s->setup.loopback_only,
		.servers = session_ice_servers(s, &servers, &cred),
		.log_id = s->log_id,
		.cb = &session_ice_callbacks,
		.userdata = s,
	};
	const char *ufrag, *pwd;
	int r = cg_ice_new(s->setup.host->ice_ops, s->setup.host->ice_backend, &setup, &s->ice);

	cg_turn_credentials_clear(&cred);
	if (r < 0)
		return r;
	r = cg_ice_gather(s->ice);
	if (r < 0)
		return r;
	cg_ice_local_credentials(s->ice, &ufrag, &pwd);
	s->local_ufrag = g_strdup(ufrag);
	s->local_pwd = g_strdup(pwd);
	return 0;
}

/*
 * The candidates gathered so far, as "candidate:…" values: server-reflexive and relayed
 * first, so that a board with many interfaces cannot crowd out the ones a viewer beyond
 * its NAT needs (the order of a=candidate lines means nothing to ICE, RFC 8839 §5.1).
 * Host candidates exist as soon as gathering starts.
 */
static char **session_local_candidates(struct cg_session *s, unsigned *ret_n)
{
	char **out = g_new0(char *, CG_ICE_MAX_LOCAL_CANDIDATES + 1);
	int n = cg_ice_local_candidates(s->ice, out, CG_ICE_MAX_LOCAL_CANDIDATES);

	*ret_n = n > 0 ? (unsigned)n : 0;
	return out;
}

/* Writes the answer with the given candidates and a=end-of-candidates (WHEP has no
 * server-to-client trickle, draft-ietf-wish-whep-03 §4.4.2: the answer must hold them all). */
static int session_write_answer(struct cg_session *s, const struct cg_sdp_offer *offer,
				const struct cg_sdp_choice *choice, char **candidates,
				unsigned n_candidates, char **ret_answer)
{
	size_t cap = 16 * 1024;
	char *answer = g_malloc(cap);
	struct cg_sdp_local local = {
		.session_id = ((uint64_t)cg_rand_u32() << 31) | cg_rand_u32(),
		.ice_ufrag = s->local_ufrag,
		.ice_pwd = s->local_pwd,
		.fingerprint = cg_cert_fingerprint(s->setup.cert),
		.video_ssrc = cg_media_ssrc(s->setup.media),
		.rtx_ssrc = s->rtx_ssrc,
		.audio_ssrc = s->setup.audio ? cg_audio_track_ssrc(s->setup.audio) : 0,
		.cname = "camgate",
		.stream_id = "camgate",
		.candidates = (const char *const *)candidates,
		.n_candidates = n_candidates,
		.end_of_candidates = true,
	};
	int r = cg_sdp_build_answer(answer, cap, offer, choice, &local);

	if (r < 0) {
		g_free(answer);
		return r;
	}
	*ret_answer = answer;
	return 0;
}

static int session_build_answer(struct cg_session *s, const struct cg_sdp_offer *offer,
				const struct cg_sdp_choice *choice, char **ret_answer)
{
	unsigned n_candidates;
	char **candidates = session_local_candidates(s, &n_candidates);
	int r = session_write_answer(s, offer, choice, candidates, n_candidates, ret_answer);

	g_strfreev(candidates);
	return r;
}

/*
 * The peer's side of the transport, from its offer or its answer: ICE credentials and
 * candidates, and a DTLS endpoint in the role the SDP gave us (RFC 8842 §5).
 */
static int session_apply_remote(struct cg_session *s, const struct cg_sdp_media *m,
				const struct cg_sdp_choice *choice, enum cg_dtls_role role)
{
	if (cg_ice_set_remote_credentials(s->ice, choice->remote_ufrag, choice->remote_pwd) < 0)
		return -EIO;
	s->remote_ufrag = g_strdup(choice->remote_ufrag);
	for (unsigned i = 0; i < m->n_candidates; i++)
		session_add_remote_candidate(s, m->candidates[i]);
	if (m->end_of_candidates)
		cg_ice_end_of_candidates(s->ice);
	s->dtls_server = role == CG_DTLS_SERVER;
	return cg_dtls_new(s->setup.cert, role, choice->remote_fingerprint_alg,
			   choice->remote_fingerprint, &s->dtls);
}

void cg_session_capabilities(struct cg_media *media, const struct cg_audio_track *audio,
			     struct cg_sdp_capabilities *ret)
{
	/* NACK with RTX, REMB and transport-wide CC are all implemented by sessions. */
	*ret = (struct cg_sdp_capabilities){ .video_profile = cg_media_profile(media),
					     .nack = true,
					     .remb = true,
					     .rtx = true,
					     .twcc = true,
					     .audio_send = cg_audio_track_sends(audio),
					     .audio_receive = cg_audio_track_receives(audio) };
}

static void session_apply_choice(struct cg_session *s, const struct cg_sdp_choice *c)
{
	s->pt = c->video_pt;
	if (c->audio_index >= 0) {
		s->audio_pt = c->audio_pt;
		s->audio_sending = c->audio_direction == CG_SDP_SENDRECV ||
				   c->audio_direction == CG_SDP_SENDONLY;
		s->audio_receiving = c->audio_direction == CG_SDP_SENDRECV ||
				     c->audio_direction == CG_SDP_RECVONLY;
	}
	s->playout_delay_id = c->playout_delay_id;
	s->abs_send_time_id = c->abs_send_time_id;
	s->abs_capture_time_id = c->abs_capture_time_id;
	s->rtx_pt = c->rtx_pt;
	s->rtx_ssrc = cg_rand_u32();
	s->rtx_seq = (uint16_t)cg_rand_u32();
	s->twcc_id = c->twcc_id;
	if (c->twcc_id && c->twcc) {
		s->twcc = cg_new0(struct cg_twcc, 1);
		cg_twcc_init(s->twcc);
	}
	cg_rtx_budget_init(&s->rtx_budget, SESSION_RTX_RATE, SESSION_RTX_BURST);
}

/* A session in NEW with its id, its FSM and its (unarmed) timer. Control thread. */
static struct cg_session *session_alloc(const struct cg_session_setup *setup, bool offerer)
{
	struct cg_session *s = cg_new0(struct cg_session, 1);
	struct cg_session_fsm_config cfg;

	__atomic_add_fetch(&session_count, 1, __ATOMIC_RELAXED);
	cg_refcount_init(&s->ref);
	session_make_id(s);
	s->setup = *setup;
	s->offerer = offerer;
	s->created_usec = cg_mono_usec();
	cg_session_fsm_config_default(&cfg);
	/* Trickled candidates are bounded by the viewer registry (--max-candidates, which a
	 * reload changes), not here: the FSM only orders them (R14). */
	cfg.max_trickled = UINT_MAX;
	cg_assert(cg_session_fsm_init(&s->fsm, &cfg, s->created_usec) == 0);
	session_timer_new(s);
	return s;
}

/* The SDP exchange is complete and DTLS started (R15's order: before the start). */
static void session_answered(struct cg_session *s)
{
	cg_session_fsm_answered(&s->fsm, cg_mono_usec());
	session_run(s);
}

/* The answering side up to the answer: ICE gathering, the offer applied, DTLS started. */
static int session_new_answerer(struct cg_session *s, const struct cg_sdp_offer *offer,
				const struct cg_sdp_choice *choice)
{
	int r;

	session_apply_choice(s, choice);
	r = session_create_ice(s);
	if (r >= 0)
		r = session_apply_remote(s, &offer->media[choice->video_index], choice,
					 CG_DTLS_SERVER);
	if (r >= 0)
		r = cg_dtls_start(s->dtls);
	if (r >= 0)
		session_answered(s);
	return r;
}

int cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
		   const struct cg_sdp_choice *choice, struct cg_session **ret, char **ret_answer)
{
	struct cg_session *s = session_alloc(setup, false);
	int r = session_new_answerer(s, offer, choice);

	if (r >= 0)
		r = session_build_answer(s, offer, choice, ret_answer);
	if (r < 0) {
		cg_session_close_now(s);
		cg_session_unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

int cg_session_new_gathering(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
			     const struct cg_sdp_choice *choice, unsigned cap_ms,
			     cg_session_gathered_fn fn, void *userdata, struct cg_session **ret)
{
	struct cg_session *s = session_alloc(setup, false);
	int r;

	s->gather.fn = fn;
	s->gather.userdata = userdata;
	s->gather.cap_ms = cap_ms;
	r = session_new_answerer(s, offer, choice);
	if (r < 0) {
		cg_session_close_now(s);
		cg_session_unref(s);
		return r;
	}
	session_on_worker(s, session_gather_arm);
	*ret = s;
	return 0;
}

int cg_session_answer(struct cg_session *s, const struct cg_sdp_offer *offer,
		      const struct cg_sdp_choice *choice, char **ret_answer)
{
	int r;

	if (!s->gather.candidates)
		return -ECONNRESET;
	r = session_write_answer(s, offer, choice, s->gather.candidates, s->gather.n_candidates,
				 ret_answer);
	g_strfreev(s->gather.candidates);
	s->gather.candidates = NULL;
	return r;
}

static gboolean session_notify_closed(gpointer userdata);

static gboolean session_attach(gpointer userdata)
{
	struct cg_session *s = userdata;
	uint64_t now = cg_mono_usec();
	int r = cg_session_fsm_start(&s->fsm, now);

	if (r == -EPROTO) {
		/* A caller's bug (an offer started before its answer): closed like a session
		 * that failed, so that its owner hears of it. */
		cg_warn("[%s] started before its SDP exchange was complete, closing", s->log_id);
		cg_session_fsm_close(&s->fsm, now, CG_SESSION_FSM_CLOSE_REQUESTED);
		session_run(s);
		r = -ECANCELED;
	}
	if (r == -ECANCELED) {
		/* Closed between the answer and now (ICE failed, or a close came first): the
		 * owner registered the session and must still hear that it closed, or it would
		 * count it for ever (R13). */
		g_main_context_invoke_full(s->setup.control_ctx, G_PRIORITY_DEFAULT,
					   session_notify_closed, cg_session_ref(s),
					   session_unref_notify);
		return G_SOURCE_REMOVE;
	}
	if (r < 0)
		return G_SOURCE_REMOVE; /* started twice */
	s->attached = true;
	s->setup.host->attach(s->setup.host->host_data, s);
	cg_ice_attach(s->ice); /* -EALREADY after a gathering wait */
	/* What DTLS queued at its start (an offering session's ClientHello), and the set-up
	 * and consent watch (R1, R2). */
	session_dtls_advance(s);
	session_run(s);
	return G_SOURCE_REMOVE;
}

void cg_session_start(struct cg_session *s)
{
	g_main_context_invoke_full(s->setup.host->ctx, G_PRIORITY_DEFAULT, session_attach,
				   cg_session_ref(s), session_unref_notify);
}

struct session_candidates {
	struct cg_session *session;
	unsigned n;
	char **candidates;
	bool end_of_candidates;
};

static gboolean session_apply_candidates(gpointer userdata)
{
	struct session_candidates *c = userdata;
	struct cg_session *s = c->session;

	/* Refused once closing (R14): the transport may be gone. */
	if (cg_session_fsm_trickle(&s->fsm, cg_mono_usec(), c->n) < 0)
		return G_SOURCE_REMOVE;
	for (unsigned i = 0; i < c->n; i++)
		session_add_remote_candidate(s, c->candidates[i]);
	if (c->end_of_candidates)
		cg_ice_end_of_candidates(s->ice);
	session_run(s);
	return G_SOURCE_REMOVE;
}

static void session_candidates_free(gpointer userdata)
{
	struct session_candidates *c = userdata;

	cg_session_unref(c->session);
	g_strfreev(c->candidates);
	g_free(c);
}

int cg_session_add_remote_candidates(struct cg_session *s, const struct cg_sdp_fragment *frag)
{
	struct session_candidates *c;

	/* An offering session knows the peer only once its answer is in. */
	if (!s->remote_ufrag)
		return -EAGAIN;
	if (frag->ice_ufrag[0] && strcmp(frag->ice_ufrag, s->remote_ufrag) != 0)
		return -EPERM;
	c = g_new0(struct session_candidates, 1);
	c->session = cg_session_ref(s);
	c->n = frag->n_candidates;
	c->candidates = g_new0(char *, frag->n_candidates + 1);
	for (unsigned i = 0; i < frag->n_candidates; i++)
		c->candidates[i] = g_strdup(frag->candidates[i]);
	c->end_of_candidates = frag->end_of_candidates;
	g_main_context_invoke_full(s->setup.host->ctx, G_PRIORITY_DEFAULT, session_apply_candidates,
				   c, session_candidates_free);
	return 0;
}

static gboolean session_close_idle(gpointer userdata)
{
	cg_session_close_now(userdata);
	return G_SOURCE_REMOVE;
}

void cg_session_close(struct cg_session *s)
{
	/* Always deferred: callers may be inside a libnice or DTLS callback of this session. */
	session_on_worker(s, session_close_idle);
}

static gboolean session_notify_closed(gpointer userdata)
{
	struct cg_session *s = userdata;

	s->setup.on_closed(s, s->setup.on_closed_userdata);
	return G_SOURCE_REMOVE;
}

void cg_session_close_now(struct cg_session *s)
{
	if (cg_session_fsm_closed(&s->fsm, cg_mono_usec()) < 0)
		return;
	session_timer_free(s);
	/* No callback runs after this; libnice releases TURN allocations as it goes. */
	s->ice = cg_ice_free(s->ice);
	s->dtls = cg_dtls_free(s->dtls);
	s->srtp = cg_srtp_free(s->srtp);
	session_wipe_keys(s);
	cg_info("[%s] closed after %.1f s, %u packets sent, %" PRIu64 " NACKed, %" PRIu64
		" retransmitted, %" PRIu64 " frames skipped, loss %.1f %%",
		s->log_id, (cg_mono_usec() - s->created_usec) / 1e6, s->packets_sent,
		s->st.nacks_received, s->st.retransmitted, s->st.frames_skipped,
		100.0 * s->bwe.loss);
	/* A viewer still waiting for its answer gets an error instead of candidates. */
	session_run(s);
	if (s->attached) {
		s->attached = false;
		g_main_context_invoke_full(s->setup.control_ctx, G_PRIORITY_DEFAULT,
					   session_notify_closed, cg_session_ref(s),
					   session_unref_notify);
		s->setup.host->detach(s->setup.host->host_data, s);
	}
}

/* CLOSE (R13): say why, count it, and tear down from an idle, since this may run inside a
 * callback of the transport. */
static void session_on_close(struct cg_session *s, enum cg_session_fsm_close_reason reason)
{
	switch (reason) {
	case CG_SESSION_FSM_CLOSE_SETUP_TIMEOUT:
		cg_info("[%s] no media path after %d s, closing", s->log_id,
			(int)(CG_SESSION_FSM_SETUP_TIMEOUT_USEC / CG_USEC_PER_SEC));
		break;
	case CG_SESSION_FSM_CLOSE_CONSENT:
		cg_info("[%s] no RTCP for %d s, closing", s->log_id,
			(int)(CG_SESSION_FSM_CONSENT_TIMEOUT_USEC / CG_USEC_PER_SEC));
		break;
	case CG_SESSION_FSM_CLOSE_ICE_FAILED:
		cg_stats_add(&s->setup.stats->ice_failures, 1);
		cg_info("[%s] ICE failed or consent lost, closing", s->log_id);
		break;
	case CG_SESSION_FSM_CLOSE_DTLS_FAILED:
		cg_stats_add(&s->setup.stats->dtls_failures, 1);
		cg_warn("[%s] DTLS failed: %s, closing", s->log_id,
			s->dtls_failure ? s->dtls_failure : "?");
		break;
	case CG_SESSION_FSM_CLOSE_DTLS_CLOSED:
		cg_info("[%s] viewer closed DTLS, closing", s->log_id);
		break;
	case CG_SESSION_FSM_CLOSE_RTCP_BYE:
		cg_info("[%s] viewer sent BYE, closing", s->log_id);
		break;
	case CG_SESSION_FSM_CLOSE_SRTP_FAILED:
		cg_warn("[%s] cannot set up SRTP: %s, closing", s->log_id,
			strerror(-s->srtp_error));
		break;
	case CG_SESSION_FSM_CLOSE_REQUESTED:
		break;
	}
	session_on_worker(s, session_close_idle);
}

static void session_on_state(struct cg_session *s, enum cg_session_fsm_state state)
{
	if (state == CG_SESSION_FSM_ICE_CONNECTED)
		cg_info("[%s] ICE connected, %.1f ms after the offer", s->log_id,
			(cg_mono_usec() - s->created_usec) / 1000.0);
	else
		cg_debug("[%s] %s", s->log_id, cg_session_fsm_state_name(state));
}

static void session_act(struct cg_session *s, const struct cg_session_fsm_action *a)
{
	switch (a->type) {
	case CG_SESSION_FSM_ACT_STATE:
		session_on_state(s, a->state);
		break;
	case CG_SESSION_FSM_ACT_SEND_DTLS:
		session_send_dtls(s);
		break;
	case CG_SESSION_FSM_ACT_DTLS_TIMEOUT:
		cg_dtls_handle_timeout(s->dtls);
		session_dtls_advance(s);
		break;
	case CG_SESSION_FSM_ACT_START_SRTP:
		session_start_srtp(s);
		break;
	case CG_SESSION_FSM_ACT_START_MEDIA:
		session_start_media(s, a->replay_max_age_usec);
		break;
	case CG_SESSION_FSM_ACT_REQUEST_KEYFRAME:
		cg_media_request_keyframe(s->setup.media);
		break;
	case CG_SESSION_FSM_ACT_SEND_SR:
		session_send_srs(s);
		break;
	case CG_SESSION_FSM_ACT_REPORT_GATHERED:
		session_report_gathered(s, a->status);
		break;
	case CG_SESSION_FSM_ACT_CLOSE:
		session_on_close(s, a->reason);
		break;
	case CG_SESSION_FSM_ACT_NONE:
		break;
	}
}

void cg_session_send_audio(struct cg_session *s, struct cg_media_unit *u)
{
	const struct cg_h264_payload *p = &u->plan.items[0];
	struct cg_rtp_header h = {
		.payload_type = s->audio_pt,
		.sequence = u->first_seq,
		.timestamp = u->rtp_timestamp,
		.ssrc = cg_audio_track_ssrc(s->setup.audio),
	};
	int len;

	if (!s->audio_sending || !session_keyed(s))
		return;
	len = cg_rtp_write_header(s->packet, SESSION_PACKET_MAX, &h);
	if (len < 0 || (size_t)len + p->len > SESSION_PACKET_MAX)
		return;
	memcpy(s->packet + len, u->plan.arena + p->offset, p->len);
	len = cg_srtp_protect(s->srtp, s->packet, (size_t)len + p->len, sizeof(s->packet));
	if (len < 0)
		return;
	session_send_raw(s, s->packet, (size_t)len);
	s->audio_packets_sent++;
	s->audio_octets_sent += p->len;
	s->last_audio_rtp_timestamp = u->rtp_timestamp;
	s->last_audio_wall_usec = u->capture_wall_usec;
}

/* Our offer: the same local parameters an answer would carry, from our side. */
static int session_build_offer(struct cg_session *s, char **ret_offer)
{
	unsigned n_candidates;
	char **candidates = session_local_candidates(s, &n_candidates);
	size_t cap = 16 * 1024;
	char *offer = g_malloc(cap);
	struct cg_sdp_offer_params *p = &s->offered;
	int r;

	*p = (struct cg_sdp_offer_params){
		.session_id = ((uint64_t)cg_rand_u32() << 31) | cg_rand_u32(),
		.ice_ufrag = s->local_ufrag,
		.ice_pwd = s->local_pwd,
		.fingerprint = cg_cert_fingerprint(s->setup.cert),
		.video_profile = cg_media_profile(s->setup.media),
		.video_ssrc = cg_media_ssrc(s->setup.media),
		.rtx_ssrc = s->rtx_ssrc,
		.audio_ssrc = s->setup.audio ? cg_audio_track_ssrc(s->setup.audio) : 0,
		.audio_send = cg_audio_track_sends(s->setup.audio),
		.audio_receive = cg_audio_track_receives(s->setup.audio),
		.cname = "camgate",
		.stream_id = "camgate",
		.candidates = (const char *const *)candidates,
		.n_candidates = n_candidates,
		.end_of_candidates = true,
	};
	r = cg_sdp_build_offer(offer, cap, p);
	/* Only the flags and numbers are needed to read the answer. */
	p->ice_ufrag = p->ice_pwd = NULL;
	p->candidates = NULL;
	g_strfreev(candidates);
	if (r < 0) {
		g_free(offer);
		return r;
	}
	*ret_offer = offer;
	return 0;
}

int cg_session_new_offer(const struct cg_session_setup *setup, struct cg_session **ret,
			 char **ret_offer)
{
	struct cg_session *s = session_alloc(setup, true);
	int r;

	s->rtx_ssrc = cg_rand_u32();
	r = session_create_ice(s);
	if (r >= 0)
		r = session_build_offer(s, ret_offer);
	if (r < 0) {
		cg_session_close_now(s);
		cg_session_unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

int cg_session_set_answer(struct cg_session *s, const char *sdp, size_t len,
			  const char **ret_reason)
{
	struct cg_sdp_offer *answer = cg_new0(struct cg_sdp_offer, 1);
	struct cg_sdp_choice choice;
	uint32_t rtx_ssrc = s->rtx_ssrc;
	int r;

	cg_assert(s->offerer && !s->dtls);
	r = cg_sdp_parse_offer(sdp, len, answer, ret_reason);
	if (r >= 0)
		r = cg_sdp_choose_from_answer(answer, &s->offered, &choice, ret_reason);
	if (r >= 0) {
		session_apply_choice(s, &choice);
		s->rtx_ssrc = rtx_ssrc; /* the one our offer announced */
		/* RFC 8842 §5.2: an active answerer makes us the DTLS server. */
		r = session_apply_remote(s, &answer->media[0], &choice,
					 strcmp(choice.remote_setup, "active") == 0
						 ? CG_DTLS_SERVER
						 : CG_DTLS_CLIENT);
		if (r < 0)
			*ret_reason = "cannot set up the transport";
	}
	if (r >= 0)
		r = cg_dtls_start(s->dtls);
	if (r >= 0)
		session_answered(s);
	free(answer);
	return r;
}
