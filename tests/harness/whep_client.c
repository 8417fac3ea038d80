/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <nice/agent.h>

#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"
#include "http_client.h"
#include "proto/h264.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"
#include "whep_client.h"

#define WHEP_PACKET_MAX		  2048
#define WHEP_OFFER_MAX		  (16 * 1024)
#define WHEP_MAX_LOCAL_CANDIDATES 16
#define WHEP_MAX_NALS		  256
#define WHEP_DEFAULT_AU_BYTES	  (512 * 1024)
#define WHEP_RESOURCE_MAX	  256
#define WHEP_DELAY_SLOTS	  256 /* datagrams held by the emulated delay */
#define WHEP_LIGHT_SAMPLE	  16  /* light mode authenticates every 16th packet */
#define WHEP_TWCC_URI		  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* A datagram held back by the emulated network delay. */
struct whep_delayed {
	uint64_t due_usec;
	uint16_t len;
	uint8_t data[WHEP_PACKET_MAX];
};

/* Receive statistics for receiver reports (RFC 3550 appendix A.1, A.3, A.8). */
struct whep_rx {
	bool started;
	uint16_t max_seq;
	uint16_t last_seq; /* of the previous in-order packet, for NACK ranges */
	uint32_t cycles;
	uint32_t base_seq;
	uint32_t received;
	uint32_t expected_prior, received_prior;
	bool have_transit;
	uint32_t transit;
	uint32_t jitter_q4; /* jitter × 16, in RTP timestamp units */
	uint32_t lsr;	    /* middle 32 bits of the last SR's NTP time */
	uint64_t sr_arrival_usec;
};

struct cg_whep_client {
	struct cg_whep_client_cfg cfg; /* strings point at the copies below */
	char *host, *path, *profile_level_id, *offer_fingerprint;
	bool loopback;
	NiceAgent *agent;
	guint stream_id;
	bool gathered, start_wanted, started, ice_connected, deleting, failed;
	struct cg_http_request *http;
	char resource[WHEP_RESOURCE_MAX];
	enum cg_dtls_role role;
	struct cg_dtls *dtls;
	GSource *dtls_timer;
	struct cg_srtp *srtp;
	GSource *rr_timer;
	uint32_t local_ssrc;
	uint64_t t0;
	/* Access-unit reassembly. */
	struct cg_h264_depacketizer depack;
	bool au_open, au_broken;
	uint32_t au_ts;
	uint64_t au_first_usec;
	uint64_t pli_sent_usec; /* 0 when no PLI is waiting for its IDR */
	struct whep_rx rx;
	bool au_idr, au_sps;	      /* light mode: sniffed from the AU's first packet */
	uint32_t rng;		      /* impairment: xorshift32 state */
	struct whep_delayed *delayed; /* ring of WHEP_DELAY_SLOTS when delay_ms > 0 */
	unsigned delayed_head, delayed_len;
	GSource *delay_timer;
	uint8_t twcc_id; /* transport-wide-cc extension id from the answer */
	struct cg_whep_stats stats;
	uint8_t pkt[WHEP_PACKET_MAX + CG_SRTP_MAX_TRAILER];
};

static uint64_t whep_now(const struct cg_whep_client *c)
{
	uint64_t t = cg_mono_usec() - c->t0;

	return t ? t : 1; /* 0 means "not yet" in the stats */
}

static void whep_emit(struct cg_whep_client *c, enum cg_whep_event ev)
{
	if (c->cfg.on_event)
		c->cfg.on_event(c, ev, c->cfg.userdata);
}

static void whep_destroy_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_source_unref(*src);
		*src = NULL;
	}
}

/* Records the first failure, stops timers and tells the owner; later input is ignored. */
static void whep_fail(struct cg_whep_client *c, int err, const char *reason)
{
	if (c->failed)
		return;
	c->failed = true;
	c->stats.error = err;
	c->stats.reason = reason;
	whep_destroy_source(&c->dtls_timer);
	whep_destroy_source(&c->rr_timer);
	whep_destroy_source(&c->delay_timer);
	whep_emit(c, CG_WHEP_EVENT_FAILED);
}

/* ---- Offer ---------------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static CG_PRINTF(2, 3) void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

/* The transport attributes every bundled section repeats, as browsers write them. */
static void offer_transport(struct sbuf *b, const struct cg_whep_offer_params *p, unsigned mid)
{
	sb_printf(b, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
	if (mid == 0) {
		for (unsigned i = 0; i < p->n_candidates; i++)
			sb_printf(b, "a=%s\r\n", p->candidates[i]);
		sb_printf(b, "a=end-of-candidates\r\n");
	}
	sb_printf(b,
		  "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
		  "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:%u\r\n",
		  p->ice_ufrag, p->ice_pwd, p->fingerprint, mid);
}

int cg_whep_build_offer(char *buf, size_t cap, const struct cg_whep_offer_params *p)
{
	struct sbuf b = { .p = buf, .cap = cap };

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	sb_printf(&b,
		  "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		  "a=group:BUNDLE 0%s\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n",
		  p->with_audio ? " 1" : "");
	sb_printf(&b, "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\n");
	offer_transport(&b, p, 0);
	sb_printf(&b, "a=extmap:3 %s\r\n", WHEP_TWCC_URI);
	sb_printf(&b, "a=extmap:6 %s\r\na=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n",
		  CG_RTP_EXT_URI_PLAYOUT_DELAY);
	sb_printf(&b,
		  "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 goog-remb\r\na=rtcp-fb:102 ccm fir\r\n"
		  "a=rtcp-fb:102 transport-cc\r\n"
		  "a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
		  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
		  "profile-level-id=%s\r\n"
		  "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n",
		  p->profile_level_id ? p->profile_level_id : "42e01f");
	if (p->with_audio) {
		sb_printf(&b, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
		offer_transport(&b, p, 1);
		sb_printf(&b, "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
			      "a=rtcp-fb:111 transport-cc\r\n"
			      "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
	}
	return b.overflow ? -ENOSPC : (int)b.len;
}

/* ---- DTLS and SRTP --------------------------------------------------------------------- */

static void whep_send(struct cg_whep_client *c, const uint8_t *buf, size_t len)
{
	/* Unreliable transport: a failed send is a lost datagram, as on a real network. */
	nice_agent_send(c->agent, c->stream_id, 1, (guint)len, (const gchar *)buf);
}

static gboolean whep_on_dtls_timer(gpointer userdata);

/* Sends what DTLS queued and re-arms its retransmission timer. */
static void whep_flush_dtls(struct cg_whep_client *c)
{
	uint8_t out[WHEP_PACKET_MAX];
	int len, ms;

	while ((len = cg_dtls_poll_transmit(c->dtls, out, sizeof(out))) > 0)
		whep_send(c, out, (size_t)len);
	whep_destroy_source(&c->dtls_timer);
	ms = cg_dtls_poll_timeout_ms(c->dtls);
	if (ms >= 0 && !c->failed) {
		c->dtls_timer = g_timeout_source_new((guint)ms);
		g_source_set_callback(c->dtls_timer, whep_on_dtls_timer, c, NULL);
		g_source_attach(c->dtls_timer, c->cfg.ctx);
	}
}

static gboolean whep_on_rr_timer(gpointer userdata);

static void whep_dtls_connected(struct cg_whep_client *c, struct cg_dtls_event *ev)
{
	int r = cg_srtp_new(&ev->keys, c->role == CG_DTLS_SERVER, &c->srtp);

	c->stats.srtp_profile = ev->keys.profile;
	memset(&ev->keys, 0, sizeof(ev->keys));
	if (r < 0) {
		whep_fail(c, r, "cannot key SRTP");
		return;
	}
	c->stats.t_dtls = whep_now(c);
	c->rr_timer = g_timeout_source_new(c->cfg.rr_interval_ms);
	g_source_set_callback(c->rr_timer, whep_on_rr_timer, c, NULL);
	g_source_attach(c->rr_timer, c->cfg.ctx);
	whep_emit(c, CG_WHEP_EVENT_DTLS_CONNECTED);
}

static void whep_drain_dtls(struct cg_whep_client *c)
{
	struct cg_dtls_event ev;

	while (!c->failed && cg_dtls_poll_event(c->dtls, &ev) > 0) {
		if (ev.type == CG_DTLS_EVENT_CONNECTED)
			whep_dtls_connected(c, &ev);
		else if (ev.type == CG_DTLS_EVENT_FAILED)
			whep_fail(c, -EPROTO, ev.reason ? ev.reason : "DTLS handshake failed");
		else if (ev.type == CG_DTLS_EVENT_CLOSED)
			whep_fail(c, -ECONNRESET, "the server closed DTLS");
	}
}

static gboolean whep_on_dtls_timer(gpointer userdata)
{
	struct cg_whep_client *c = userdata;

	g_source_unref(c->dtls_timer);
	c->dtls_timer = NULL;
	cg_dtls_handle_timeout(c->dtls);
	whep_flush_dtls(c);
	whep_drain_dtls(c);
	return G_SOURCE_REMOVE;
}

/* ---- RTCP ------------------------------------------------------------------------------ */

static void whep_send_rtcp(struct cg_whep_client *c, uint8_t *buf, int len)
{
	if (len < 0)
		return;
	len = cg_srtp_protect_rtcp(c->srtp, buf, (size_t)len,
				   WHEP_PACKET_MAX + CG_SRTP_MAX_TRAILER);
	if (len > 0)
		whep_send(c, buf, (size_t)len);
}

/* The report block about the media SSRC (RFC 3550 §6.4.1 and appendix A.3). */
static void whep_report_block(struct cg_whep_client *c, struct cg_rtcp_report_block *b)
{
	struct whep_rx *rx = &c->rx;
	uint32_t ext_max = rx->cycles + rx->max_seq;
	uint32_t expected = ext_max - rx->base_seq + 1;
	uint32_t exp_int = expected - rx->expected_prior;
	int64_t lost_int = (int64_t)exp_int - (rx->received - rx->received_prior);
	int64_t lost = (int64_t)expected - rx->received;

	rx->expected_prior = expected;
	rx->received_prior = rx->received;
	*b = (struct cg_rtcp_report_block){
		.ssrc = c->stats.remote_ssrc,
		.fraction_lost = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0,
		.cumulative_lost = (int32_t)CG_MAX(CG_MIN(lost, 0x7fffff), -0x800000),
		.highest_seq = ext_max,
		.jitter = rx->jitter_q4 >> 4,
		.lsr = rx->lsr,
	};
	if (rx->sr_arrival_usec)
		b->dlsr = (uint32_t)(((cg_mono_usec() - rx->sr_arrival_usec) << 16) / 1000000);
}

/* REMB (draft-alvestrand-rmcat-remb §2.2): PSFB FMT 15, "REMB", 6-bit exponent and
 * 18-bit mantissa, one SSRC. buf has room for 24 bytes. */
static int whep_build_remb(uint8_t *buf, uint32_t sender, uint32_t media_ssrc, uint64_t bps)
{
	unsigned exp = 0;

	while (bps >> exp > 0x3ffff)
		exp++;
	uint32_t mantissa = (uint32_t)(bps >> exp);
	uint8_t p[24] = {
		0x80 | 15,
		206,
		0,
		5,
		(uint8_t)(sender >> 24),
		(uint8_t)(sender >> 16),
		(uint8_t)(sender >> 8),
		(uint8_t)sender,
		0,
		0,
		0,
		0,
		'R',
		'E',
		'M',
		'B',
		1,
		(uint8_t)(exp << 2 | mantissa >> 16),
		(uint8_t)(mantissa >> 8),
		(uint8_t)mantissa,
		(uint8_t)(media_ssrc >> 24),
		(uint8_t)(media_ssrc >> 16),
		(uint8_t)(media_ssrc >> 8),
		(uint8_t)media_ssrc,
	};

	memcpy(buf, p, sizeof(p));
	return (int)sizeof(p);
}

static gboolean whep_on_rr_timer(gpointer userdata)
{
	struct cg_whep_client *c = userdata;
	uint8_t buf[WHEP_PACKET_MAX + CG_SRTP_MAX_TRAILER];
	struct cg_rtcp_report_block block;

	if (c->deleting)
		return G_SOURCE_CONTINUE;
	if (!c->rx.started) {
		/* An empty RR still tells the server we are alive. */
		whep_send_rtcp(c, buf,
			       cg_rtcp_build_rr(buf, WHEP_PACKET_MAX, c->local_ssrc, NULL, 0));
	} else {
		whep_report_block(c, &block);
		whep_send_rtcp(c, buf,
			       cg_rtcp_build_rr(buf, WHEP_PACKET_MAX, c->local_ssrc, &block, 1));
	}
	c->stats.rrs_sent++;
	if (c->cfg.remb_bps && c->stats.remote_ssrc)
		whep_send_rtcp(
			c, buf,
			whep_build_remb(buf, c->local_ssrc, c->stats.remote_ssrc, c->cfg.remb_bps));
	return G_SOURCE_CONTINUE;
}

static void whep_on_rtcp(struct cg_whep_client *c, uint8_t *buf, size_t len)
{
	struct cg_rtcp_info info;
	int r = cg_srtp_unprotect_rtcp(c->srtp, buf, len);

	if (r < 0 || cg_rtcp_parse(buf, (size_t)r, &info) < 0) {
		c->stats.packets_bad++;
		return;
	}
	if (!info.has_sr || !c->stats.remote_ssrc || info.sender_ssrc != c->stats.remote_ssrc) {
		c->stats.rtcp_other++;
		return;
	}
	c->stats.srs++;
	c->rx.lsr = (uint32_t)(info.sr_ntp >> 16);
	c->rx.sr_arrival_usec = cg_mono_usec();
	whep_emit(c, CG_WHEP_EVENT_SR);
}

int cg_whep_client_send_pli(struct cg_whep_client *c)
{
	uint8_t buf[64 + CG_SRTP_MAX_TRAILER];
	int len;

	if (!c->srtp || !c->stats.remote_ssrc || c->failed || c->deleting)
		return -ENOTCONN;
	len = cg_rtcp_build_pli(buf, 64, c->local_ssrc, c->stats.remote_ssrc);
	if (len < 0)
		return len;
	len = cg_srtp_protect_rtcp(c->srtp, buf, (size_t)len, sizeof(buf));
	if (len < 0)
		return len;
	whep_send(c, buf, (size_t)len);
	c->stats.plis_sent++;
	c->stats.pli_to_idr = 0;
	c->pli_sent_usec = whep_now(c);
	return 0;
}

int cg_whep_client_send_rtcp_raw(struct cg_whep_client *c, const uint8_t *rtcp, size_t len)
{
	uint8_t buf[1200 + CG_SRTP_MAX_TRAILER];
	int r;

	if (!c->srtp || c->failed || c->deleting)
		return -ENOTCONN;
	if (len < 8 || len > 1200)
		return -EINVAL;
	memcpy(buf, rtcp, len);
	r = cg_srtp_protect_rtcp(c->srtp, buf, len, sizeof(buf));
	if (r < 0)
		return r;
	whep_send(c, buf, (size_t)r);
	return 0;
}

/* ---- RTP and access units ---------------------------------------------------------------- */

enum seq_verdict { SEQ_NEXT, SEQ_GAP, SEQ_LATE };

static enum seq_verdict whep_seq_update(struct cg_whep_client *c, uint16_t seq)
{
	struct whep_rx *rx = &c->rx;
	int16_t d;

	if (!rx->started) {
		rx->started = true;
		rx->base_seq = seq;
		rx->max_seq = seq;
		rx->received = 1;
		return SEQ_NEXT;
	}
	d = (int16_t)(seq - (uint16_t)(rx->max_seq + 1));
	if (d < 0)
		return SEQ_LATE; /* reordered or duplicated: SRTP replay protection saw it */
	c->stats.packets_lost += (uint64_t)d;
	if (seq < rx->max_seq)
		rx->cycles += 1u << 16;
	rx->max_seq = seq;
	rx->received++;
	return d ? SEQ_GAP : SEQ_NEXT;
}

/* Interarrival jitter (RFC 3550 §6.4.1), arrival measured in 90 kHz units. */
static void whep_jitter_update(struct whep_rx *rx, uint32_t rtp_ts)
{
	/* Modulo-2^32 arithmetic: both clocks wrap, only differences matter. */
	uint32_t arrival = (uint32_t)(cg_mono_usec() * 9 / 100);
	uint32_t transit = arrival - rtp_ts;
	int32_t d = (int32_t)(transit - rx->transit);
	uint32_t abs_d = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;

	if (rx->have_transit)
		rx->jitter_q4 += abs_d - ((rx->jitter_q4 + 8) >> 4);
	rx->transit = transit;
	rx->have_transit = true;
}

/* Updates the stats for a complete AU whose NAL types the caller determined. */
static void whep_au_complete(struct cg_whep_client *c, bool idr, bool sps_pps)
{
	struct cg_whep_stats *st = &c->stats;

	if (st->frames == 0) {
		st->first_is_idr = idr;
		st->first_has_sps_pps = sps_pps;
		st->first_rtp_ts = c->au_ts;
		st->t_first_frame = whep_now(c);
	} else if ((int32_t)(c->au_ts - st->last_rtp_ts) <= 0) {
		st->ts_backwards++;
	}
	st->last_rtp_ts = c->au_ts;
	st->t_last_frame = whep_now(c);
	st->frames++;
	if (idr) {
		st->keyframes++;
		if (c->pli_sent_usec && c->au_first_usec >= c->pli_sent_usec) {
			st->pli_to_idr = st->t_last_frame - c->pli_sent_usec;
			c->pli_sent_usec = 0;
		}
	}
	whep_emit(c, CG_WHEP_EVENT_FRAME);
}

/* Full verification: the reassembled Annex-B AU must split into NAL units. */
static void whep_au_check(struct cg_whep_client *c)
{
	struct cg_h264_nal nals[WHEP_MAX_NALS];
	bool idr = false, sps = false, pps = false;
	int n = cg_h264_split_annexb(c->depack.buf, c->depack.len, nals, WHEP_MAX_NALS);

	if (n < 0) {
		c->stats.aus_lost++;
		return;
	}
	for (int i = 0; i < n; i++) {
		idr |= nals[i].type == CG_H264_NAL_IDR;
		sps |= nals[i].type == CG_H264_NAL_SPS;
		pps |= nals[i].type == CG_H264_NAL_PPS;
	}
	whep_au_complete(c, idr, sps && pps);
}

/* Light mode: what the AU's first (decrypted) payload says (RFC 6184 §5.7.1, §5.8). */
static void whep_sniff_first(struct cg_whep_client *c, const uint8_t *p, size_t len)
{
	uint8_t type = len ? p[0] & 0x1f : 0;

	c->au_idr = type == CG_H264_NAL_IDR ||
		    (type == CG_H264_NAL_FU_A && len > 1 && (p[1] & 0x1f) == CG_H264_NAL_IDR);
	c->au_sps = type == CG_H264_NAL_SPS;
	for (size_t o = 1; type == CG_H264_NAL_STAP_A && o + 3 <= len;) {
		size_t n = (size_t)p[o] << 8 | p[o + 1];
		uint8_t t = p[o + 2] & 0x1f;

		c->au_idr |= t == CG_H264_NAL_IDR;
		c->au_sps |= t == CG_H264_NAL_SPS;
		o += 2 + n;
	}
	/* x264 puts SPS+PPS and the IDR's first slice in the AU's first packets. */
	c->au_idr |= c->au_sps;
}

static void whep_au_open(struct cg_whep_client *c, const struct cg_rtp_packet *p, bool clear)
{
	c->au_open = true;
	c->au_broken = false;
	c->au_ts = p->header.timestamp;
	c->au_first_usec = whep_now(c);
	c->depack.len = 0;
	c->depack.in_fu = false;
	c->depack.broken = false;
	c->au_idr = c->au_sps = false;
	if (c->cfg.light && clear)
		whep_sniff_first(c, p->payload, p->payload_len);
}

/* Feeds one payload; an AU counts only when all its packets arrived in order. clear: the
 * payload was decrypted (always, unless light mode). */
static void whep_au_packet(struct cg_whep_client *c, const struct cg_rtp_packet *p, bool gap,
			   bool clear)
{
	int r = 1;

	if (c->au_open && p->header.timestamp != c->au_ts) {
		c->stats.aus_lost++; /* its marker packet never came */
		c->au_open = false;
	}
	if (!c->au_open)
		whep_au_open(c, p, clear);
	/* After a gap we cannot know whether this AU's first packets were lost. */
	if (gap)
		c->au_broken = true;
	if (!c->au_broken && !c->cfg.light) {
		r = cg_h264_depacketize(&c->depack, p->payload, p->payload_len, p->header.marker);
		if (r < 0)
			c->au_broken = true;
	}
	if (!p->header.marker)
		return;
	c->au_open = false;
	if (c->au_broken || r != 1)
		c->stats.aus_lost++;
	else if (c->cfg.light)
		whep_au_complete(c, c->au_idr, c->au_sps);
	else
		whep_au_check(c);
}

/* Asks for the n sequence numbers before seq (RFC 4585 §6.2.1), at most 64 at a time. */
static void whep_send_nack(struct cg_whep_client *c, uint16_t seq, unsigned n)
{
	uint8_t buf[256 + CG_SRTP_MAX_TRAILER];
	uint16_t seqs[CG_RTCP_MAX_NACKS];
	unsigned k = CG_MIN(n, CG_RTCP_MAX_NACKS);

	for (unsigned i = 0; i < k; i++)
		seqs[i] = (uint16_t)(seq - k + i);
	whep_send_rtcp(c, buf,
		       cg_rtcp_build_nack(buf, 256, c->local_ssrc, c->stats.remote_ssrc, seqs, k));
	c->stats.nacks_sent += k;
}

/* RFC 4588 §4: the RTX payload starts with the original sequence number (OSN). */
static void whep_on_rtx(struct cg_whep_client *c, const struct cg_rtp_packet *p)
{
	uint16_t osn;
	int16_t age;

	if (p->payload_len < 2) {
		c->stats.packets_bad++;
		return;
	}
	osn = (uint16_t)(p->payload[0] << 8 | p->payload[1]);
	age = (int16_t)(c->rx.max_seq - osn);
	c->stats.rtx_received++;
	if (!c->stats.rtx_ssrc)
		c->stats.rtx_ssrc = p->header.ssrc;
	if (c->rx.started && age >= 0 && age < 1024)
		c->stats.rtx_recovered++;
}

/* Light mode decrypts an AU's first packet and a sample; the rest are read in the clear
 * (SRTP leaves the RTP header unencrypted, RFC 3711 §3.1). */
static bool whep_must_decrypt(const struct cg_whep_client *c, const struct cg_rtp_packet *p)
{
	if (!c->cfg.light || !c->rx.started || p->header.payload_type != c->stats.video_pt)
		return true;
	if (!c->au_open || p->header.timestamp != c->au_ts)
		return true;
	return p->header.sequence % WHEP_LIGHT_SAMPLE == 0;
}

static bool whep_has_ext(const struct cg_rtp_packet *p, uint8_t id)
{
	for (unsigned i = 0; id && i < p->header.n_extensions; i++)
		if (p->header.extensions[i].id == id)
			return true;
	return false;
}

static void whep_on_rtp(struct cg_whep_client *c, uint8_t *buf, size_t len)
{
	struct cg_rtp_packet p;
	enum seq_verdict v;
	bool clear;
	int r;

	if (cg_rtp_parse(buf, len, &p) < 0) {
		c->stats.packets_bad++;
		return;
	}
	clear = whep_must_decrypt(c, &p);
	if (clear) {
		r = cg_srtp_unprotect(c->srtp, buf, len);
		if (r < 0 || cg_rtp_parse(buf, (size_t)r, &p) < 0) {
			c->stats.packets_bad++;
			return;
		}
	}
	if (c->stats.rtx_pt && p.header.payload_type == c->stats.rtx_pt) {
		whep_on_rtx(c, &p);
		return;
	}
	/* The offer's Opus payload type: the board's sound, in the same BUNDLE. */
	if (p.header.payload_type == 111) {
		if (c->stats.audio_packets++ > 0) {
			c->stats.audio_seq_bad +=
				p.header.sequence != (uint16_t)(c->stats.audio_last_seq + 1);
			c->stats.audio_ts_bad +=
				p.header.timestamp != c->stats.audio_last_ts + 960;
		}
		c->stats.audio_last_seq = p.header.sequence;
		c->stats.audio_last_ts = p.header.timestamp;
		return;
	}
	if (p.header.payload_type != c->stats.video_pt ||
	    (c->stats.remote_ssrc && p.header.ssrc != c->stats.remote_ssrc)) {
		c->stats.packets_bad++;
		return;
	}
	c->stats.remote_ssrc = p.header.ssrc;
	v = whep_seq_update(c, p.header.sequence);
	if (v == SEQ_LATE) {
		c->stats.packets_bad++;
		return;
	}
	if (v == SEQ_GAP && c->cfg.nack)
		whep_send_nack(c, p.header.sequence,
			       (uint16_t)(p.header.sequence - (uint16_t)(c->rx.last_seq + 1)));
	c->rx.last_seq = p.header.sequence;
	c->stats.packets++;
	c->stats.bytes += p.payload_len;
	c->stats.twcc_packets += whep_has_ext(&p, c->twcc_id);
	whep_jitter_update(&c->rx, p.header.timestamp);
	whep_au_packet(c, &p, v == SEQ_GAP, clear);
}

static void whep_process(struct cg_whep_client *c, uint8_t *pkt, size_t len)
{
	switch (cg_rtp_demux(pkt, len)) {
	case CG_DEMUX_DTLS:
		cg_dtls_handle_datagram(c->dtls, pkt, len);
		whep_flush_dtls(c);
		whep_drain_dtls(c);
		break;
	case CG_DEMUX_RTP:
		if (c->srtp)
			whep_on_rtp(c, pkt, len);
		break;
	case CG_DEMUX_RTCP:
		if (c->srtp)
			whep_on_rtcp(c, pkt, len);
		break;
	default:
		c->stats.packets_bad++;
		break;
	}
}

/* ---- Emulated impairment (no sch_netem on every kernel) ------------------------------- */

static bool whep_drop(struct cg_whep_client *c)
{
	/* xorshift32: deterministic for a given seed, cheap per packet. */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return c->rng % 1000 < c->cfg.drop_permille;
}

static gboolean whep_on_delay_timer(gpointer userdata);

static void whep_arm_delay(struct cg_whep_client *c)
{
	uint64_t now = cg_mono_usec(), due;

	whep_destroy_source(&c->delay_timer);
	if (c->delayed_len == 0)
		return;
	due = c->delayed[c->delayed_head].due_usec;
	c->delay_timer = g_timeout_source_new(due > now ? (guint)((due - now + 999) / 1000) : 0);
	g_source_set_callback(c->delay_timer, whep_on_delay_timer, c, NULL);
	g_source_attach(c->delay_timer, c->cfg.ctx);
}

static gboolean whep_on_delay_timer(gpointer userdata)
{
	struct cg_whep_client *c = userdata;
	uint64_t now = cg_mono_usec();

	while (c->delayed_len > 0 && c->delayed[c->delayed_head].due_usec <= now && !c->failed &&
	       !c->deleting) {
		struct whep_delayed *d = &c->delayed[c->delayed_head];

		memcpy(c->pkt, d->data, d->len);
		c->delayed_head = (c->delayed_head + 1) % WHEP_DELAY_SLOTS;
		c->delayed_len--;
		whep_process(c, c->pkt, d->len);
	}
	g_source_unref(c->delay_timer);
	c->delay_timer = NULL;
	whep_arm_delay(c);
	return G_SOURCE_REMOVE;
}

/* Returns true when the impairment took the datagram (dropped or held). */
static bool whep_impair(struct cg_whep_client *c, const uint8_t *data, size_t len)
{
	struct whep_delayed *d;

	if (!c->srtp || (c->cfg.drop_permille == 0 && c->cfg.delay_ms == 0))
		return false;
	if (c->cfg.drop_permille && whep_drop(c)) {
		c->stats.dropped++;
		return true;
	}
	if (!c->cfg.delay_ms)
		return false;
	if (c->delayed_len == WHEP_DELAY_SLOTS) {
		c->stats.dropped++; /* the emulated queue is full: tail drop */
		return true;
	}
	d = &c->delayed[(c->delayed_head + c->delayed_len) % WHEP_DELAY_SLOTS];
	d->due_usec = cg_mono_usec() + c->cfg.delay_ms * CG_USEC_PER_MSEC;
	d->len = (uint16_t)len;
	memcpy(d->data, data, len);
	if (c->delayed_len++ == 0)
		whep_arm_delay(c);
	return true;
}

static void whep_on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len,
			 gchar *data, gpointer userdata)
{
	struct cg_whep_client *c = userdata;

	if (c->failed || c->deleting || !c->dtls || len > WHEP_PACKET_MAX)
		return;
	if (cg_rtp_demux((const uint8_t *)data, len) != CG_DEMUX_DTLS &&
	    whep_impair(c, (const uint8_t *)data, len))
		return;
	/* A private copy: SRTP works in place and libnice's buffer is not ours. */
	memcpy(c->pkt, data, len);
	whep_process(c, c->pkt, len);
}

/* ---- ICE --------------------------------------------------------------------------------- */

static void whep_on_component_state(NiceAgent *agent, guint stream_id, guint component_id,
				    guint state, gpointer userdata)
{
	struct cg_whep_client *c = userdata;

	if (c->failed || c->deleting)
		return;
	if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
	    !c->ice_connected) {
		c->ice_connected = true;
		c->stats.t_ice = whep_now(c);
		whep_emit(c, CG_WHEP_EVENT_ICE_CONNECTED);
		/* We are the DTLS client (the answer said setup:passive): speak first. */
		if (cg_dtls_start(c->dtls) < 0)
			whep_fail(c, -EIO, "cannot start DTLS");
		else
			whep_flush_dtls(c);
		whep_drain_dtls(c);
	} else if (state == NICE_COMPONENT_STATE_FAILED) {
		whep_fail(c, -EHOSTUNREACH, "ICE failed");
	}
}

static int whep_post_offer(struct cg_whep_client *c);

static void whep_on_gathering_done(NiceAgent *agent, guint stream_id, gpointer userdata)
{
	struct cg_whep_client *c = userdata;
	int r;

	c->gathered = true;
	if (c->start_wanted && !c->started) {
		r = whep_post_offer(c);
		if (r < 0)
			whep_fail(c, r, "cannot send the offer");
	}
}

static int whep_create_agent(struct cg_whep_client *c)
{
	NiceAddress lo;

	c->agent = nice_agent_new_full(c->cfg.ctx, NICE_COMPATIBILITY_RFC5245,
				       NICE_AGENT_OPTION_ICE_TRICKLE);
	if (!c->agent)
		return -EIO;
	/* No UPnP: it would multicast SSDP searches and hold gathering-done back for its
	 * 200 ms timeout, which would then count in every join time. */
	g_object_set(c->agent, "controlling-mode", TRUE, "ice-tcp", FALSE, "upnp", FALSE, NULL);
	if (c->loopback) {
		/* libnice skips loopback interfaces when it enumerates them itself. */
		nice_address_init(&lo);
		nice_address_set_from_string(&lo, "127.0.0.1");
		nice_agent_add_local_address(c->agent, &lo);
	}
	c->stream_id = nice_agent_add_stream(c->agent, 1);
	if (c->stream_id == 0)
		return -EIO;
	g_signal_connect(c->agent, "component-state-changed", G_CALLBACK(whep_on_component_state),
			 c);
	g_signal_connect(c->agent, "candidate-gathering-done", G_CALLBACK(whep_on_gathering_done),
			 c);
	nice_agent_attach_recv(c->agent, c->stream_id, 1, c->cfg.ctx, whep_on_recv, c);
	if (!nice_agent_gather_candidates(c->agent, c->stream_id))
		return -EIO;
	return 0;
}

static void whep_add_remote_candidates(struct cg_whep_client *c, const struct cg_sdp_media *m)
{
	GSList *list = NULL;

	for (unsigned i = 0; i < m->n_candidates; i++) {
		char line[CG_SDP_CANDIDATE + 3];
		NiceCandidate *cand;

		snprintf(line, sizeof(line), "a=%s", m->candidates[i]);
		cand = nice_agent_parse_remote_candidate_sdp(c->agent, c->stream_id, line);
		if (cand && cand->component_id == 1)
			list = g_slist_append(list, cand);
		else if (cand)
			nice_candidate_free(cand);
	}
	if (list)
		nice_agent_set_remote_candidates(c->agent, c->stream_id, 1, list);
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	if (m->end_of_candidates)
		nice_agent_peer_candidate_gathering_done(c->agent, c->stream_id);
}

/* ---- Signaling ----------------------------------------------------------------------------- */

static const struct cg_sdp_media *answer_video(const struct cg_sdp_offer *a)
{
	for (unsigned i = 0; i < a->n_media; i++)
		if (a->media[i].kind == CG_SDP_KIND_VIDEO && a->media[i].port != 0 &&
		    a->media[i].n_codecs > 0)
			return &a->media[i];
	return NULL;
}

#define PICK(m, a, field) ((m)->field[0] ? (m)->field : (a)->field)

/* Checks the answer and configures ICE and DTLS from it. */
static int whep_apply_answer(struct cg_whep_client *c, const struct cg_sdp_offer *a,
			     const char **ret_reason)
{
	const struct cg_sdp_media *m = answer_video(a);
	const char *setup;
	int r;

	if (!m) {
		*ret_reason = "the answer accepts no video section";
		return -EPROTO;
	}
	if (g_ascii_strcasecmp(m->codecs[0].name, "H264") != 0 || m->direction != CG_SDP_SENDONLY) {
		*ret_reason = "the answer's video is not a sendonly H264 section";
		return -EPROTO;
	}
	c->stats.video_pt = m->codecs[0].pt;
	for (unsigned i = 0; i < m->n_extmaps; i++) {
		if (strcmp(m->extmaps[i].uri, CG_RTP_EXT_URI_PLAYOUT_DELAY) == 0)
			c->stats.playout_delay_answered = true;
		if (strcmp(m->extmaps[i].uri, WHEP_TWCC_URI) == 0) {
			c->stats.twcc_answered = true;
			c->twcc_id = m->extmaps[i].id;
		}
	}
	c->stats.rtx_pt = cg_sdp_rtx_pt(m, c->stats.video_pt);
	setup = PICK(m, a, setup);
	c->stats.answer_setup_passive = strcmp(setup, "passive") == 0;
	c->stats.answer_end_of_candidates = m->end_of_candidates;
	c->stats.answer_candidates = m->n_candidates;
	c->role = strcmp(setup, "active") == 0 ? CG_DTLS_SERVER : CG_DTLS_CLIENT;
	if (strcmp(setup, "passive") != 0 && strcmp(setup, "active") != 0) {
		*ret_reason = "the answer's a=setup is neither active nor passive";
		return -EPROTO;
	}
	if (!nice_agent_set_remote_credentials(c->agent, c->stream_id, PICK(m, a, ice_ufrag),
					       PICK(m, a, ice_pwd))) {
		*ret_reason = "the answer's ICE credentials are unusable";
		return -EPROTO;
	}
	whep_add_remote_candidates(c, m);
	r = cg_dtls_new(c->cfg.cert, c->role, PICK(m, a, fingerprint_alg), PICK(m, a, fingerprint),
			&c->dtls);
	if (r < 0)
		*ret_reason = "the answer's fingerprint is unusable";
	return r;
}

/* Keeps the path of the Location header (it may be an absolute URL). */
static int whep_take_location(struct cg_whep_client *c, const struct cg_http_response *resp)
{
	char loc[WHEP_RESOURCE_MAX];
	const char *path = loc;
	int r = cg_http_response_header(resp, "Location", loc, sizeof(loc));

	if (r <= 0)
		return -EPROTO;
	if (strstr(loc, "://")) {
		path = strchr(strstr(loc, "://") + 3, '/');
		if (!path)
			return -EPROTO;
	}
	g_strlcpy(c->resource, path, sizeof(c->resource));
	return 0;
}

static void whep_on_post_done(int err, const struct cg_http_response *resp, void *userdata)
{
	struct cg_whep_client *c = userdata;
	struct cg_sdp_offer *answer;
	const char *reason = "malformed answer";
	int r;

	c->http = NULL;
	if (err < 0) {
		whep_fail(c, err, "the POST got no response");
		return;
	}
	c->stats.post_status = resp->status;
	if (resp->status != 201) {
		g_strlcpy(c->stats.post_reason, resp->body, sizeof(c->stats.post_reason));
		whep_fail(c, -EPROTO, "the offer was refused");
		return;
	}
	if (whep_take_location(c, resp) < 0) {
		whep_fail(c, -EPROTO, "201 without a Location header");
		return;
	}
	answer = g_new0(struct cg_sdp_offer, 1); /* ~200 KiB: once per session, not per packet */
	r = cg_sdp_parse_offer(resp->body, resp->body_len, answer, &reason);
	if (r >= 0)
		r = whep_apply_answer(c, answer, &reason);
	g_free(answer);
	if (r < 0) {
		whep_fail(c, r, reason);
		return;
	}
	c->stats.t_answer = whep_now(c);
	whep_emit(c, CG_WHEP_EVENT_ANSWERED);
}

/* Our host candidates as "candidate:…" strings (NULL-terminated, g_strfreev). */
static char **whep_local_candidates(struct cg_whep_client *c, unsigned *ret_n)
{
	GSList *cands = nice_agent_get_local_candidates(c->agent, c->stream_id, 1);
	char **out = g_new0(char *, WHEP_MAX_LOCAL_CANDIDATES + 1);
	unsigned n = 0;

	for (GSList *l = cands; l; l = l->next) {
		gchar *sdp = nice_agent_generate_local_candidate_sdp(c->agent, l->data);

		if (sdp && n < WHEP_MAX_LOCAL_CANDIDATES && g_str_has_prefix(sdp, "a="))
			out[n++] = g_strdup(sdp + 2);
		g_free(sdp);
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	*ret_n = n;
	return out;
}

static int whep_post_offer(struct cg_whep_client *c)
{
	gchar *ufrag = NULL, *pwd = NULL;
	unsigned n;
	char **cands = whep_local_candidates(c, &n);
	char *offer = g_malloc(WHEP_OFFER_MAX);
	struct cg_whep_offer_params p = {
		.fingerprint = c->cfg.offer_fingerprint ? c->cfg.offer_fingerprint
							: cg_cert_fingerprint(c->cfg.cert),
		.profile_level_id = c->cfg.profile_level_id,
		.candidates = (const char *const *)cands,
		.n_candidates = n,
		.with_audio = true,
	};
	int len;

	c->started = true;
	nice_agent_get_local_credentials(c->agent, c->stream_id, &ufrag, &pwd);
	p.ice_ufrag = ufrag;
	p.ice_pwd = pwd;
	len = cg_whep_build_offer(offer, WHEP_OFFER_MAX, &p);
	if (len >= 0) {
		struct cg_http_request_args args = {
			.host = c->cfg.host,
			.port = c->cfg.port,
			.method = "POST",
			.path = c->cfg.path,
			.content_type = "application/sdp",
			.body = offer,
			.body_len = (size_t)len,
			.timeout_ms = c->cfg.http_timeout_ms,
		};
		len = cg_http_request_start(c->cfg.ctx, &args, whep_on_post_done, c, &c->http);
	}
	g_free(offer);
	g_free(ufrag);
	g_free(pwd);
	g_strfreev(cands);
	return len < 0 ? len : 0;
}

int cg_whep_client_start(struct cg_whep_client *c)
{
	if (c->started || c->start_wanted)
		return -EALREADY;
	c->t0 = cg_mono_usec();
	c->start_wanted = true;
	/* Host candidates only: gathering normally finished inside cg_whep_client_new(). */
	if (!c->gathered)
		return 0;
	return whep_post_offer(c);
}

static void whep_on_delete_done(int err, const struct cg_http_response *resp, void *userdata)
{
	struct cg_whep_client *c = userdata;

	c->http = NULL;
	if (err < 0)
		c->stats.error = err;
	else
		c->stats.delete_status = resp->status;
	whep_emit(c, CG_WHEP_EVENT_DELETED);
}

int cg_whep_client_delete(struct cg_whep_client *c)
{
	struct cg_http_request_args args = {
		.host = c->cfg.host,
		.port = c->cfg.port,
		.method = "DELETE",
		.path = c->resource,
		.timeout_ms = c->cfg.http_timeout_ms,
	};

	if (!c->resource[0])
		return -ENOTCONN;
	if (c->deleting)
		return -EALREADY;
	c->deleting = true;
	whep_destroy_source(&c->rr_timer);
	whep_destroy_source(&c->dtls_timer);
	whep_destroy_source(&c->delay_timer);
	cg_http_request_cancel(c->http);
	c->http = NULL;
	return cg_http_request_start(c->cfg.ctx, &args, whep_on_delete_done, c, &c->http);
}

/* ---- Lifetime ------------------------------------------------------------------------------ */

static bool host_is_loopback(const char *host)
{
	GInetAddress *a = g_inet_address_new_from_string(host);
	bool lo = a && g_inet_address_get_is_loopback(a);

	if (a)
		g_object_unref(a);
	return lo;
}

int cg_whep_client_new(const struct cg_whep_client_cfg *cfg, struct cg_whep_client **ret)
{
	struct cg_whep_client *c;
	int r;

	if (!cfg || !cfg->ctx || !cfg->cert || !cfg->host || !cfg->port)
		return -EINVAL;
	c = g_new0(struct cg_whep_client, 1);
	c->cfg = *cfg;
	c->cfg.host = c->host = g_strdup(cfg->host);
	c->cfg.path = c->path = g_strdup(cfg->path ? cfg->path : "/whep");
	c->cfg.offer_fingerprint = c->offer_fingerprint = g_strdup(cfg->offer_fingerprint);
	c->cfg.profile_level_id = c->profile_level_id =
		g_strdup(cfg->profile_level_id ? cfg->profile_level_id : "42e01f");
	if (!c->cfg.max_au_bytes)
		c->cfg.max_au_bytes = WHEP_DEFAULT_AU_BYTES;
	if (!c->cfg.rr_interval_ms)
		c->cfg.rr_interval_ms = 1000;
	c->loopback = host_is_loopback(cfg->host);
	c->local_ssrc = cg_rand_u32();
	c->rng = cfg->seed ? cfg->seed : 0x9e3779b9u;
	if (cfg->delay_ms)
		c->delayed = g_new(struct whep_delayed, WHEP_DELAY_SLOTS);
	c->depack.buf = g_malloc(c->cfg.max_au_bytes);
	c->depack.cap = c->cfg.max_au_bytes;
	r = cg_srtp_global_init();
	if (r >= 0)
		r = whep_create_agent(c);
	if (r < 0) {
		cg_whep_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct cg_whep_client *cg_whep_client_free(struct cg_whep_client *c)
{
	if (!c)
		return NULL;
	cg_http_request_cancel(c->http);
	whep_destroy_source(&c->dtls_timer);
	whep_destroy_source(&c->rr_timer);
	whep_destroy_source(&c->delay_timer);
	g_free(c->delayed);
	if (c->agent) {
		if (c->stream_id)
			nice_agent_attach_recv(c->agent, c->stream_id, 1, c->cfg.ctx, NULL, NULL);
		g_signal_handlers_disconnect_by_data(c->agent, c);
		g_object_unref(c->agent);
	}
	cg_dtls_free(c->dtls);
	cg_srtp_free(c->srtp);
	g_free(c->depack.buf);
	g_free(c->host);
	g_free(c->path);
	g_free(c->profile_level_id);
	g_free(c->offer_fingerprint);
	g_free(c);
	return NULL;
}

const struct cg_whep_stats *cg_whep_client_stats(const struct cg_whep_client *c)
{
	return &c->stats;
}

const char *cg_whep_client_resource(const struct cg_whep_client *c)
{
	return c->resource[0] ? c->resource : NULL;
}
