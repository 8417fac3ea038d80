/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "session"

#include <errno.h>
#include <nice/agent.h>
#include <string.h>

#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"
#include "media.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "session.h"
#include "stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/refcount.h"
#include "util/time.h"
#include "worker.h"

#define SESSION_SETUP_TIMEOUT_S 30 /* offer to media flowing */
#define SESSION_RTCP_TIMEOUT_S	30 /* browsers send RTCP every second or so */
#define SESSION_SR_INTERVAL_MS	1000
#define SESSION_MAX_CANDIDATES	16
#define SESSION_PACKET_MAX	1500
/* A joining viewer replays at most this much of the past rather than wait for an IDR. */
#define SESSION_JOIN_REPLAY_MAX_AGE_MS 200

enum session_state {
	SESSION_NEW,	       /* answered, waiting for ICE */
	SESSION_ICE_CONNECTED, /* waiting for the DTLS handshake */
	SESSION_STREAMING,     /* keys in place, media flowing */
	SESSION_CLOSED,
};

struct cg_session {
	struct cg_refcount ref;
	char id[CG_SESSION_ID_LEN + 1];
	struct cg_session_setup setup;
	enum session_state state;
	NiceAgent *agent;
	guint stream_id;
	char *local_ufrag;
	char *remote_ufrag;
	struct cg_dtls *dtls;
	struct cg_srtp *srtp;
	uint8_t pt;
	uint8_t playout_delay_id;
	uint8_t abs_send_time_id;
	bool waiting_keyframe; /* a new viewer starts at an IDR */
	GSource *dtls_timer;
	GSource *sr_timer;
	GSource *watchdog_timer;
	uint64_t created_usec;
	uint64_t last_rtcp_usec;
	uint32_t packets_sent;
	uint32_t octets_sent;
	uint32_t last_rtp_timestamp;
	uint64_t last_capture_wall_usec;
	uint8_t packet[SESSION_PACKET_MAX + CG_SRTP_MAX_TRAILER];
};

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
		g_free(s->remote_ufrag);
		free(s);
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

static void session_destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_source_unref(*source);
		*source = NULL;
	}
}

static GSource *session_add_timeout(struct cg_session *s, guint ms, GSourceFunc fn)
{
	GSource *src = g_timeout_source_new(ms);

	g_source_set_callback(src, fn, s, NULL);
	g_source_attach(src, cg_worker_context(s->setup.worker));
	return src;
}

static void session_send_raw(struct cg_session *s, const uint8_t *buf, size_t len)
{
	if (nice_agent_send(s->agent, s->stream_id, 1, (guint)len, (const gchar *)buf) < 0)
		cg_debug("[%s] send of %zu bytes failed, dropping", s->id, len);
}

static gboolean session_on_dtls_timer(gpointer userdata);

/* Sends what DTLS queued and re-arms its retransmission timer. */
static void session_flush_dtls(struct cg_session *s)
{
	int len, ms;

	/* The browser's ClientHello can arrive before ICE has selected a pair for us to
	 * answer on; leave the flight queued until then instead of losing it to a 1 s
	 * retransmission. */
	while (s->state >= SESSION_ICE_CONNECTED && s->state != SESSION_CLOSED &&
	       (len = cg_dtls_poll_transmit(s->dtls, s->packet, sizeof(s->packet))) > 0)
		session_send_raw(s, s->packet, (size_t)len);
	session_destroy_source(&s->dtls_timer);
	ms = cg_dtls_poll_timeout_ms(s->dtls);
	if (ms >= 0 && s->state != SESSION_CLOSED)
		s->dtls_timer = session_add_timeout(s, (guint)ms, session_on_dtls_timer);
}

static void session_on_dtls_event(struct cg_session *s, const struct cg_dtls_event *ev);

static void session_drain_dtls_events(struct cg_session *s)
{
	struct cg_dtls_event ev;

	while (s->state != SESSION_CLOSED && cg_dtls_poll_event(s->dtls, &ev) > 0)
		session_on_dtls_event(s, &ev);
}

static gboolean session_on_dtls_timer(gpointer userdata)
{
	struct cg_session *s = userdata;

	g_source_unref(s->dtls_timer);
	s->dtls_timer = NULL;
	cg_dtls_handle_timeout(s->dtls);
	session_flush_dtls(s);
	session_drain_dtls_events(s);
	return G_SOURCE_REMOVE;
}

static void session_send_sr(struct cg_session *s)
{
	struct cg_rtcp_sr sr = {
		.ssrc = cg_media_ssrc(s->setup.media),
		.ntp = cg_rtcp_ntp_from_unix_usec(s->last_capture_wall_usec),
		.rtp_timestamp = s->last_rtp_timestamp,
		.packet_count = s->packets_sent,
		.octet_count = s->octets_sent,
		.cname = "camgate",
	};
	int len = cg_rtcp_build_sr(s->packet, SESSION_PACKET_MAX, &sr);

	if (len < 0)
		return;
	len = cg_srtp_protect_rtcp(s->srtp, s->packet, (size_t)len, sizeof(s->packet));
	if (len > 0)
		session_send_raw(s, s->packet, (size_t)len);
}

static gboolean session_on_sr_timer(gpointer userdata)
{
	struct cg_session *s = userdata;

	/* An SR maps RTP time to the capture wall clock: only once something was sent. */
	if (s->state == SESSION_STREAMING && s->packets_sent > 0)
		session_send_sr(s);
	return G_SOURCE_CONTINUE;
}

static void session_on_dtls_connected(struct cg_session *s, const struct cg_srtp_keys *keys)
{
	int r = cg_srtp_new(keys, true, &s->srtp);

	if (r < 0) {
		cg_warn("[%s] cannot set up SRTP: %s, closing", s->id, strerror(-r));
		cg_session_close(s);
		return;
	}
	s->state = SESSION_STREAMING;
	s->waiting_keyframe = true;
	s->last_rtcp_usec = cg_mono_usec();
	s->sr_timer = session_add_timeout(s, SESSION_SR_INTERVAL_MS, session_on_sr_timer);
	/* A keyframe of the last few frames starts the picture now; else ask for one. */
	if (!cg_worker_replay_gop(s->setup.worker, s, SESSION_JOIN_REPLAY_MAX_AGE_MS * 1000))
		cg_media_request_keyframe(s->setup.media);
	cg_info("[%s] DTLS connected (%s), streaming", s->id,
		keys->profile == CG_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
							  : "AES_CM_128_HMAC_SHA1_80");
}

static void session_on_dtls_event(struct cg_session *s, const struct cg_dtls_event *ev)
{
	switch (ev->type) {
	case CG_DTLS_EVENT_CONNECTED:
		session_on_dtls_connected(s, &ev->keys);
		break;
	case CG_DTLS_EVENT_FAILED:
		cg_warn("[%s] DTLS failed: %s, closing", s->id, ev->reason ? ev->reason : "?");
		cg_session_close(s);
		break;
	case CG_DTLS_EVENT_CLOSED:
		cg_info("[%s] viewer closed DTLS, closing", s->id);
		cg_session_close(s);
		break;
	case CG_DTLS_EVENT_NONE:
		break;
	}
}

static void session_on_rtcp(struct cg_session *s, uint8_t *buf, size_t len)
{
	struct cg_rtcp_info info;
	int r;

	if (!s->srtp)
		return;
	r = cg_srtp_unprotect_rtcp(s->srtp, buf, len);
	if (r < 0) {
		cg_trace("[%s] SRTCP unprotect failed: %s, dropping", s->id, strerror(-r));
		return;
	}
	if (cg_rtcp_parse(buf, (size_t)r, &info) < 0) {
		cg_trace("[%s] malformed RTCP, dropping", s->id);
		return;
	}
	s->last_rtcp_usec = cg_mono_usec();
	if (info.pli || info.fir) {
		cg_debug("[%s] %s received, asking for a keyframe", s->id,
			 info.pli ? "PLI" : "FIR");
		cg_media_request_keyframe(s->setup.media);
	}
	if (info.bye) {
		cg_info("[%s] viewer sent BYE, closing", s->id);
		cg_session_close(s);
	}
}

static void session_on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len,
			    gchar *buf, gpointer userdata)
{
	struct cg_session *s = userdata;
	uint8_t *data = (uint8_t *)buf;

	if (s->state == SESSION_CLOSED)
		return;
	switch (cg_rtp_demux(data, len)) {
	case CG_DEMUX_DTLS:
		cg_dtls_handle_datagram(s->dtls, data, len);
		session_flush_dtls(s);
		session_drain_dtls_events(s);
		break;
	case CG_DEMUX_RTCP:
		session_on_rtcp(s, data, len);
		break;
	default:
		/* RTP from a send-only viewer, or noise: nothing to do with it yet. */
		break;
	}
}

static void session_on_component_state(NiceAgent *agent, guint stream_id, guint component_id,
				       guint state, gpointer userdata)
{
	struct cg_session *s = userdata;

	cg_debug("[%s] ICE %s", s->id, nice_component_state_to_string(state));
	if (s->state == SESSION_CLOSED)
		return;
	if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
	    s->state == SESSION_NEW) {
		s->state = SESSION_ICE_CONNECTED;
		cg_info("[%s] ICE connected, %.1f ms after the offer", s->id,
			(cg_mono_usec() - s->created_usec) / 1000.0);
		session_flush_dtls(s);
	} else if (state == NICE_COMPONENT_STATE_FAILED) {
		cg_info("[%s] ICE failed or consent lost, closing", s->id);
		cg_session_close(s);
	}
}

/* Closes sessions that never connect, and viewers that went silent. */
static gboolean session_on_watchdog(gpointer userdata)
{
	struct cg_session *s = userdata;
	uint64_t now = cg_mono_usec();

	if (s->state != SESSION_STREAMING &&
	    now - s->created_usec > SESSION_SETUP_TIMEOUT_S * CG_USEC_PER_SEC) {
		cg_info("[%s] no media path after %d s, closing", s->id, SESSION_SETUP_TIMEOUT_S);
		cg_session_close(s);
	} else if (s->state == SESSION_STREAMING &&
		   now - s->last_rtcp_usec > SESSION_RTCP_TIMEOUT_S * CG_USEC_PER_SEC) {
		cg_info("[%s] no RTCP for %d s, closing", s->id, SESSION_RTCP_TIMEOUT_S);
		cg_session_close(s);
	}
	return G_SOURCE_CONTINUE;
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

/*
 * Writes RTP packet index of u, SRTP-protected, into out (cap bytes). The payload is the
 * shared plan's slice: the copy next to the header is the one SRTP needs anyway, since
 * its output differs per viewer. Returns the length or a negative errno.
 */
static int session_build_packet(struct cg_session *s, const struct cg_media_unit *u, size_t index,
				uint64_t now_usec, uint8_t *out, size_t cap)
{
	const struct cg_h264_payload *p = &u->plan.items[index];
	struct cg_rtp_header h = {
		.payload_type = s->pt,
		.marker = p->marker,
		.sequence = (uint16_t)(u->first_seq + index),
		.timestamp = u->rtp_timestamp,
		.ssrc = cg_media_ssrc(s->setup.media),
	};
	int len;

	/* Ask the browser not to buffer: min = max = 0 (playout-delay extension). */
	if (s->playout_delay_id)
		cg_rtp_ext_playout_delay(&h.extensions[h.n_extensions++], s->playout_delay_id, 0,
					 0);
	if (s->abs_send_time_id)
		session_abs_send_time(&h.extensions[h.n_extensions++], s->abs_send_time_id,
				      now_usec);
	len = cg_rtp_write_header(out, cap - CG_SRTP_MAX_TRAILER, &h);
	if (len < 0)
		return len;
	if ((size_t)len + p->len > cap - CG_SRTP_MAX_TRAILER)
		return -ENOSPC;
	memcpy(out + len, u->plan.arena + p->offset, p->len);
	return cg_srtp_protect(s->srtp, out, (size_t)len + p->len, cap);
}

/*
 * Hands n prepared messages of the worker's batch to libnice in one call. Returns the
 * number libnice took; fewer than n means the socket buffer is full.
 */
static unsigned session_flush_batch(struct cg_session *s, struct cg_worker_batch *b, unsigned n)
{
	GError *err = NULL;
	gint sent;

	if (n == 0)
		return 0;
	sent = nice_agent_send_messages_nonblocking(s->agent, s->stream_id, 1, b->msgs, n, NULL,
						    &err);
	if (sent < 0) {
		cg_trace("[%s] batch send failed: %s", s->id, err ? err->message : "?");
		g_clear_error(&err);
		return 0;
	}
	return (unsigned)sent;
}

/*
 * Sends packets [first, end) of u: built into the worker's preallocated slots, then one
 * libnice call per CG_WORKER_BATCH packets (one call per frame in the common case).
 * Returns the number of packets the socket did not take.
 */
static unsigned session_send_packets(struct cg_session *s, const struct cg_media_unit *u,
				     size_t first, size_t end, uint64_t now)
{
	struct cg_worker_batch *b = cg_worker_batch(s->setup.worker);
	unsigned n = 0, dropped = 0;

	for (size_t i = first; i < end; i++) {
		int len = session_build_packet(s, u, i, now, b->slots[n], CG_WORKER_SLOT);

		if (len < 0) {
			cg_trace("[%s] cannot build packet: %s, dropping", s->id, strerror(-len));
			continue;
		}
		b->vecs[n].size = (gsize)len;
		s->packets_sent++;
		s->octets_sent += u->plan.items[i].len;
		if (++n == CG_WORKER_BATCH) {
			dropped += n - session_flush_batch(s, b, n);
			n = 0;
		}
	}
	dropped += n - session_flush_batch(s, b, n);
	return dropped;
}

void cg_session_send_unit(struct cg_session *s, struct cg_media_unit *u)
{
	if (s->state != SESSION_STREAMING)
		return;
	if (s->waiting_keyframe) {
		if (!u->keyframe)
			return;
		s->waiting_keyframe = false;
		cg_debug("[%s] first keyframe, %.1f ms after the offer", s->id,
			 (cg_mono_usec() - s->created_usec) / 1000.0);
	}
	if (session_send_packets(s, u, 0, u->plan.n_items, cg_mono_usec()) > 0) {
		/* The socket buffer is full: this viewer cannot keep up. Rather than queue, it
		 * resumes at the next keyframe (STYLE 4.4 hub drop policy). */
		s->waiting_keyframe = true;
		cg_media_request_keyframe(s->setup.media);
	}
	s->last_rtp_timestamp = u->rtp_timestamp;
	s->last_capture_wall_usec = u->capture_wall_usec;
}

static void session_add_remote_candidate(struct cg_session *s, const char *value)
{
	gchar *line = g_strconcat("a=", value, NULL);
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(s->agent, s->stream_id, line);
	GSList list = { .data = c };

	if (!c) {
		/* mDNS ".local" names and TCP candidates land here; the browser's checks still
		 * reach us and become peer-reflexive candidates. */
		cg_debug("[%s] remote candidate not usable, ignoring", s->id);
	} else {
		c->component_id = 1;
		c->stream_id = s->stream_id;
		if (nice_agent_set_remote_candidates(s->agent, s->stream_id, 1, &list) < 0)
			cg_debug("[%s] remote candidate rejected by ICE, ignoring", s->id);
		nice_candidate_free(c);
	}
	g_free(line);
}

static int session_create_agent(struct cg_session *s)
{
	NiceAddress loopback;

	s->agent = nice_agent_new_full(
		cg_worker_context(s->setup.worker), NICE_COMPATIBILITY_RFC5245,
		NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_CONSENT_FRESHNESS);
	if (!s->agent)
		return -EIO;
	/* The browser offers, so it controls (RFC 8445 §6.1.1). No TCP candidates, and no
	 * UPnP: a camera must not ask the router to open ports for every viewer. */
	g_object_set(s->agent, "controlling-mode", FALSE, "ice-tcp", FALSE, "upnp", FALSE, NULL);
	if (s->setup.loopback_only) {
		/* libnice skips loopback when enumerating interfaces. */
		nice_address_init(&loopback);
		nice_address_set_from_string(&loopback, "127.0.0.1");
		nice_agent_add_local_address(s->agent, &loopback);
	}
	s->stream_id = nice_agent_add_stream(s->agent, 1);
	if (s->stream_id == 0)
		return -EIO;
	g_signal_connect(s->agent, "component-state-changed",
			 G_CALLBACK(session_on_component_state), s);
	if (!nice_agent_gather_candidates(s->agent, s->stream_id))
		return -EIO;
	return 0;
}

/* Host candidates exist as soon as gathering starts (no STUN/TURN server is configured). */
static char **session_local_candidates(struct cg_session *s, unsigned *ret_n)
{
	GSList *cands = nice_agent_get_local_candidates(s->agent, s->stream_id, 1);
	char **out = g_new0(char *, SESSION_MAX_CANDIDATES + 1);
	unsigned n = 0;

	for (GSList *l = cands; l; l = l->next) {
		gchar *sdp = nice_agent_generate_local_candidate_sdp(s->agent, l->data);

		if (sdp && n < SESSION_MAX_CANDIDATES && g_str_has_prefix(sdp, "a="))
			out[n++] = g_strdup(sdp + 2);
		g_free(sdp);
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	*ret_n = n;
	return out;
}

static int session_build_answer(struct cg_session *s, const struct cg_sdp_offer *offer,
				const struct cg_sdp_choice *choice, char **ret_answer)
{
	gchar *ufrag = NULL, *pwd = NULL;
	unsigned n_candidates;
	char **candidates = session_local_candidates(s, &n_candidates);
	size_t cap = 16 * 1024;
	char *answer = g_malloc(cap);
	int r;

	nice_agent_get_local_credentials(s->agent, s->stream_id, &ufrag, &pwd);
	s->local_ufrag = g_strdup(ufrag);
	struct cg_sdp_local local = {
		.session_id = ((uint64_t)cg_rand_u32() << 31) | cg_rand_u32(),
		.ice_ufrag = ufrag,
		.ice_pwd = pwd,
		.fingerprint = cg_cert_fingerprint(s->setup.cert),
		.video_ssrc = cg_media_ssrc(s->setup.media),
		.cname = "camgate",
		.stream_id = "camgate",
		.candidates = (const char *const *)candidates,
		.n_candidates = n_candidates,
		.end_of_candidates = true,
	};
	r = cg_sdp_build_answer(answer, cap, offer, choice, &local);
	g_strfreev(candidates);
	g_free(ufrag);
	g_free(pwd);
	if (r < 0) {
		g_free(answer);
		return r;
	}
	*ret_answer = answer;
	return 0;
}

static int session_apply_offer(struct cg_session *s, const struct cg_sdp_offer *offer,
			       const struct cg_sdp_choice *choice)
{
	const struct cg_sdp_media *m = &offer->media[choice->video_index];

	if (!nice_agent_set_remote_credentials(s->agent, s->stream_id, choice->remote_ufrag,
					       choice->remote_pwd))
		return -EIO;
	s->remote_ufrag = g_strdup(choice->remote_ufrag);
	for (unsigned i = 0; i < m->n_candidates; i++)
		session_add_remote_candidate(s, m->candidates[i]);
	if (m->end_of_candidates)
		nice_agent_peer_candidate_gathering_done(s->agent, s->stream_id);
	return cg_dtls_new(s->setup.cert, CG_DTLS_SERVER, choice->remote_fingerprint_alg,
			   choice->remote_fingerprint, &s->dtls);
}

int cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
		   const struct cg_sdp_choice *choice, struct cg_session **ret, char **ret_answer)
{
	struct cg_session *s = cg_new0(struct cg_session, 1);
	int r;

	cg_refcount_init(&s->ref);
	cg_rand_token(s->id, CG_SESSION_ID_LEN);
	s->setup = *setup;
	s->pt = choice->video_pt;
	s->playout_delay_id = choice->playout_delay_id;
	s->abs_send_time_id = choice->abs_send_time_id;
	s->created_usec = cg_mono_usec();
	r = session_create_agent(s);
	if (r >= 0)
		r = session_apply_offer(s, offer, choice);
	if (r >= 0)
		r = cg_dtls_start(s->dtls);
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

static gboolean session_attach(gpointer userdata)
{
	struct cg_session *s = userdata;

	if (s->state != SESSION_CLOSED) {
		cg_worker_attach_session(s->setup.worker, s);
		nice_agent_attach_recv(s->agent, s->stream_id, 1,
				       cg_worker_context(s->setup.worker), session_on_recv, s);
		s->watchdog_timer = session_add_timeout(s, 1000, session_on_watchdog);
		session_flush_dtls(s);
	}
	return G_SOURCE_REMOVE;
}

void cg_session_start(struct cg_session *s)
{
	g_main_context_invoke_full(cg_worker_context(s->setup.worker), G_PRIORITY_DEFAULT,
				   session_attach, cg_session_ref(s), session_unref_notify);
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

	if (c->session->state != SESSION_CLOSED) {
		for (unsigned i = 0; i < c->n; i++)
			session_add_remote_candidate(c->session, c->candidates[i]);
		if (c->end_of_candidates)
			nice_agent_peer_candidate_gathering_done(c->session->agent,
								 c->session->stream_id);
	}
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

	if (frag->ice_ufrag[0] && strcmp(frag->ice_ufrag, s->remote_ufrag) != 0)
		return -EPERM;
	c = g_new0(struct session_candidates, 1);
	c->session = cg_session_ref(s);
	c->n = frag->n_candidates;
	c->candidates = g_new0(char *, frag->n_candidates + 1);
	for (unsigned i = 0; i < frag->n_candidates; i++)
		c->candidates[i] = g_strdup(frag->candidates[i]);
	c->end_of_candidates = frag->end_of_candidates;
	g_main_context_invoke_full(cg_worker_context(s->setup.worker), G_PRIORITY_DEFAULT,
				   session_apply_candidates, c, session_candidates_free);
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
	GSource *src = g_idle_source_new();

	g_source_set_callback(src, session_close_idle, cg_session_ref(s), session_unref_notify);
	g_source_attach(src, cg_worker_context(s->setup.worker));
	g_source_unref(src);
}

static gboolean session_notify_closed(gpointer userdata)
{
	struct cg_session *s = userdata;

	s->setup.on_closed(s, s->setup.on_closed_userdata);
	return G_SOURCE_REMOVE;
}

void cg_session_close_now(struct cg_session *s)
{
	bool was_started = s->watchdog_timer != NULL;

	if (s->state == SESSION_CLOSED)
		return;
	s->state = SESSION_CLOSED;
	session_destroy_source(&s->dtls_timer);
	session_destroy_source(&s->sr_timer);
	session_destroy_source(&s->watchdog_timer);
	if (s->agent) {
		nice_agent_attach_recv(s->agent, s->stream_id, 1,
				       cg_worker_context(s->setup.worker), NULL, NULL);
		g_signal_handlers_disconnect_by_data(s->agent, s);
		g_object_unref(s->agent);
		s->agent = NULL;
	}
	s->dtls = cg_dtls_free(s->dtls);
	s->srtp = cg_srtp_free(s->srtp);
	cg_info("[%s] closed after %.1f s, %u packets sent", s->id,
		(cg_mono_usec() - s->created_usec) / 1e6, s->packets_sent);
	if (was_started) {
		g_main_context_invoke_full(s->setup.control_ctx, G_PRIORITY_DEFAULT,
					   session_notify_closed, cg_session_ref(s),
					   session_unref_notify);
		cg_worker_detach_session(s->setup.worker, s);
	}
}
