/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A WHEP viewer (draft-ietf-wish-whep) built from the project's own layers: libnice for ICE
 * (controlling), cg_dtls as the DTLS client, cg_srtp, the RTP/RTCP parsers and the H.264
 * depacketizer. It receives one H.264 stream, reassembles access units, checks them and measures
 * join times; it never decodes pixels. Used by the integration tests and, later, by the load client
 * (hundreds of viewers on one context).
 *
 * Threads: none of its own. Every client runs on the GMainContext given at creation and
 * must be used only from the thread iterating it; many clients may share one context.
 * Memory: buffers are allocated at creation; the packet path does not allocate.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "crypto/dtls.h"

struct cg_cert;
struct cg_whep_client;

enum cg_whep_event {
	CG_WHEP_EVENT_ANSWERED,	      /* POST returned 201 with a usable answer */
	CG_WHEP_EVENT_ICE_CONNECTED,  /* a candidate pair works */
	CG_WHEP_EVENT_DTLS_CONNECTED, /* SRTP keyed */
	CG_WHEP_EVENT_FRAME,	      /* a complete access unit arrived (stats updated) */
	CG_WHEP_EVENT_SR,	      /* an RTCP sender report from the media SSRC arrived */
	CG_WHEP_EVENT_FAILED,	      /* see stats.error / stats.reason; the client is inert */
	CG_WHEP_EVENT_DELETED,	      /* the DELETE finished; see stats.delete_status */
};

/* Called on the context's thread; it must not free the client (schedule that instead). */
typedef void (*cg_whep_event_fn)(struct cg_whep_client *c, enum cg_whep_event ev, void *userdata);

struct cg_whep_client_cfg {
	GMainContext *ctx;	    /* borrowed, outlives the client */
	const struct cg_cert *cert; /* borrowed, outlives the client; may be shared */
	const char *host;	    /* the server's numeric address, e.g. "127.0.0.1" */
	uint16_t port;
	const char *path;	       /* the WHEP endpoint; NULL means "/whep" */
	const char *profile_level_id;  /* offered H.264 profile; NULL means "42e01f" */
	size_t max_au_bytes;	       /* reassembly buffer; 0 means 512 KiB */
	unsigned rr_interval_ms;       /* receiver reports; 0 means 1000 */
	unsigned http_timeout_ms;      /* per request; 0 means 5000 */
	cg_whep_event_fn on_event;     /* may be NULL */
	const char *offer_fingerprint; /* NULL: the cert's; another forces a DTLS failure */
	void *userdata;
	/*
	 * Light verification (the load client): only the first packet of each access unit
	 * and every 16th packet are SRTP-authenticated and decrypted (the first one tells a
	 * keyframe); the rest are checked from their clear RTP header only. An AU still
	 * counts as complete only when every sequence number from its first packet to its
	 * marker arrived, so completeness is verified exactly; payload bytes are not.
	 */
	bool light;
	/*
	 * Receive-side impairment, for loss tests on kernels without sch_netem: after SRTP is
	 * keyed, each arriving RTP/RTCP datagram is dropped with probability
	 * drop_permille/1000 (deterministic generator seeded by seed) and the rest are held
	 * for delay_ms before processing.
	 */
	unsigned drop_permille;
	unsigned delay_ms;
	uint32_t seed;
	/* Send a generic NACK (RFC 4585 §6.2.1) for every gap; RTX (RFC 4588) is accepted. */
	bool nack;
	/* When > 0, send REMB (draft-alvestrand-rmcat-remb) with this bitrate each RR. */
	uint64_t remb_bps;
};

/* Times are microseconds since cg_whep_client_start(); 0 means "not yet". */
struct cg_whep_stats {
	int post_status;       /* HTTP status of the POST, 0 before the response */
	char post_reason[256]; /* body of a refused POST (text/plain reason) */
	int delete_status;     /* HTTP status of the DELETE, 0 before */
	int error;	       /* negative errno once FAILED, else 0 */
	const char *reason;    /* static text once FAILED */
	uint64_t t_answer, t_ice, t_dtls, t_first_frame, t_last_frame;
	enum cg_srtp_profile srtp_profile;
	uint32_t remote_ssrc;
	uint8_t video_pt; /* from the answer */
	bool playout_delay_answered;
	bool answer_setup_passive; /* a=setup:passive: we are the DTLS client */
	bool answer_end_of_candidates;
	unsigned answer_candidates; /* a=candidate lines in the accepted video section */
	/* Media. */
	uint64_t packets, bytes;
	uint64_t packets_lost;	/* sequence numbers skipped */
	uint64_t packets_bad;	/* failed SRTP, not RTP, wrong PT/SSRC, replayed */
	uint64_t audio_packets; /* Opus packets (the offer's PT 111), not counted above */
	/* RFC 7587 §4.1: 20 ms packets advance the 48 kHz timestamp by 960 and the sequence
	 * number by one; these count the packets that did otherwise. */
	uint64_t audio_ts_bad, audio_seq_bad;
	uint16_t audio_last_seq;
	uint32_t audio_last_ts;
	uint64_t frames;    /* complete access units */
	uint64_t keyframes; /* complete AUs with an IDR slice */
	uint64_t aus_lost;  /* AUs started but not completed (gap, bad payload, no marker) */
	bool first_is_idr;  /* of the first complete AU */
	bool first_has_sps_pps;
	uint32_t first_rtp_ts, last_rtp_ts;
	uint64_t ts_backwards; /* AUs whose timestamp did not advance */
	/* RTCP. */
	uint64_t srs;	     /* sender reports from the media SSRC */
	uint64_t rtcp_other; /* valid RTCP that was not an SR of the media SSRC */
	uint64_t rrs_sent, plis_sent;
	uint64_t pli_to_idr; /* last PLI → next complete IDR; 0 until that IDR arrives */
	/* Loss recovery and impairment. */
	uint64_t dropped;	/* datagrams the emulated impairment dropped */
	uint64_t nacks_sent;	/* sequence numbers asked for */
	uint64_t rtx_received;	/* RTX packets (RFC 4588) that authenticated */
	uint64_t rtx_recovered; /* of those, carrying a sequence number we asked for */
	uint8_t rtx_pt;		/* from the answer (apt= our video PT), 0 when not answered */
	uint32_t rtx_ssrc;	/* of the first RTX packet; differs from remote_ssrc */
	bool twcc_answered;	/* transport-wide-cc extmap in the answer */
	uint64_t twcc_packets;	/* media packets carrying a transport-wide sequence number */
};

/*
 * Creates a viewer: a libnice agent (controlling, RFC 5245, 127.0.0.1 added as local address
 * when host is a loopback address) gathering host candidates, and the reassembly buffers.
 * cfg is copied (its strings too). Nothing is sent before cg_whep_client_start().
 * Returns 0, -EINVAL for a bad cfg, or -EIO when libnice fails.
 */
int cg_whep_client_new(const struct cg_whep_client_cfg *cfg, struct cg_whep_client **ret);

/*
 * Sends the offer (POST) and, on 201, connects. Progress arrives as events; a refused offer
 * is a FAILED event with stats.post_status and post_reason set. Returns 0, -EALREADY when
 * already started, or -ENOSPC/-EIO when the offer cannot be built or sent.
 */
int cg_whep_client_start(struct cg_whep_client *c);

/*
 * Sends an RTCP PLI for the media SSRC and resets stats.pli_to_idr, which the next complete
 * IDR sets. Returns 0, -ENOTCONN before SRTP is keyed and the first RTP packet arrived.
 */
int cg_whep_client_send_pli(struct cg_whep_client *c);

/*
 * Protects an arbitrary RTCP packet (hostile-input tests: it need not be valid RTCP beyond
 * the 8 bytes SRTCP needs) and sends it. Returns 0, -ENOTCONN before SRTP is keyed, -EINVAL
 * for len < 8 or > 1200, or the SRTP error.
 */
int cg_whep_client_send_rtcp_raw(struct cg_whep_client *c, const uint8_t *rtcp, size_t len);

/*
 * Ends the session: sends DELETE to the resource URL and stops receiving. A DELETED event
 * reports the outcome (stats.delete_status, or stats.error on transport failure).
 * Returns 0, -ENOTCONN when there is no resource (never answered), -EALREADY.
 */
int cg_whep_client_delete(struct cg_whep_client *c);

/* Frees the client without sending anything (NULL allowed); returns NULL. */
struct cg_whep_client *cg_whep_client_free(struct cg_whep_client *c);

const struct cg_whep_stats *cg_whep_client_stats(const struct cg_whep_client *c);

/* The resource path from the Location header ("/whep/<id>"), or NULL before the answer. */
const char *cg_whep_client_resource(const struct cg_whep_client *c);

/* What an offer says; strings are borrowed for the call. */
struct cg_whep_offer_params {
	const char *ice_ufrag;
	const char *ice_pwd;
	const char *fingerprint;       /* sha-256, "AB:CD:…" */
	const char *profile_level_id;  /* e.g. "42e01f"; "640c1f" makes a High-only offer */
	const char *const *candidates; /* "candidate:…" values (no "a="), may be NULL */
	unsigned n_candidates;
	bool with_audio; /* a recvonly opus section, bundled */
};

/*
 * Writes a browser-like recvonly offer: video with H.264 PT 102 (packetization-mode 1) and
 * its rtx PT 103, optionally audio opus PT 111, BUNDLE, rtcp-mux, rtcp-rsize, setup:actpass,
 * the playout-delay extmap, and a=end-of-candidates. Returns the length written
 * (NUL-terminated) or -ENOSPC. Pure; any thread.
 */
int cg_whep_build_offer(char *buf, size_t cap, const struct cg_whep_offer_params *p);
