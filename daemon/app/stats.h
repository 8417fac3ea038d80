/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Counters and latency samples for /status: written by the media thread and the workers
 * (once per frame, never per packet), read by the control thread. Any thread.
 */
#pragma once

#include <stdint.h>

#define CG_STATS_WINDOW 256 /* latency samples kept: about 8 s at 30 fps */

struct cg_latency_window {
	uint32_t samples_usec[CG_STATS_WINDOW];
	unsigned next;
	unsigned count;
};

/*
 * Per-stage latency histograms for /metrics (issue 18): what a frame spends in each stage,
 * counted into fixed buckets with atomic increments (no lock, no allocation). The stages
 * that end "sent" run from capture to that packet handed to the socket.
 */
enum cg_stage {
	CG_STAGE_CAPTURE_TO_ENCODER = 0, /* capture → the frame handed to the encoder */
	CG_STAGE_ENCODE,		 /* encoder in → access unit out */
	CG_STAGE_PACKETIZE,		 /* access unit → RTP plan published to the hub */
	CG_STAGE_FIRST_PACKET_SENT,	 /* capture → the frame's first packet sent */
	CG_STAGE_LAST_PACKET_SENT,	 /* capture → the frame's last packet sent, all viewers */
	CG_STAGE_COUNT,
};

#define CG_HISTOGRAM_BOUNDS 8 /* upper bounds, µs; one more bucket counts the rest (+Inf) */
extern const uint32_t cg_histogram_bounds_usec[CG_HISTOGRAM_BOUNDS];

struct cg_histogram {
	uint64_t buckets[CG_HISTOGRAM_BOUNDS + 1]; /* atomics; per bucket, not cumulative */
	uint64_t sum_usec;			   /* atomic */
};

struct cg_stats {
	uint64_t frames_captured; /* atomics */
	uint64_t frames_encoded;
	uint64_t frames_dropped;
	uint64_t keyframes;
	uint64_t keyframe_requests;
	uint64_t copied_bytes; /* pixel bytes the CPU copied on the capture→encoder path */
	unsigned viewers;
	/*
	 * Appended for /metrics (issue 6). Each names who increments it; all are atomics
	 * bumped with cg_stats_add, once per event or per frame batch, never per packet.
	 */
	uint64_t rtp_packets_sent; /* worker/session: packets handed to ICE, per frame batch */
	uint64_t rtp_bytes_sent;   /* worker/session: their bytes (SRTP included) */
	uint64_t nacks_received;   /* session: sequence numbers asked for in RTCP NACKs */
	uint64_t retransmissions;  /* session: packets resent for NACKs */
	uint64_t plis_received;	   /* session: RTCP PLI */
	uint64_t firs_received;	   /* session: RTCP FIR */
	uint64_t dtls_failures;	   /* session: handshakes that failed or timed out */
	uint64_t ice_failures;	   /* session: ICE checks that failed */
	uint64_t rtcp_malformed;   /* session: RTCP packets dropped as malformed */
	uint64_t sessions_created; /* signaling: viewers accepted */
	uint64_t sessions_refused; /* signaling: offers refused (limit, bad SDP) */
	uint64_t http_requests;	   /* signaling: requests answered */
	uint64_t auth_failures;	   /* signaling: requests and logins without a valid credential */
	uint64_t audio_packets;	   /* audio: Opus packets captured and published */
	uint64_t talkback_packets; /* audio: talkback packets queued for the speaker */
	uint64_t talkback_refused; /* audio: talkback packets of a browser without the floor */
	uint64_t snapshots;	   /* signaling: /snapshot.jpg pictures encoded */
	void *lock;		   /* GMutex, behind a pointer to keep GLib out of this header */
	struct cg_latency_window encode;
	struct cg_latency_window capture_to_send;
	struct cg_histogram stages[CG_STAGE_COUNT];
};

void cg_stats_init(struct cg_stats *s);
void cg_stats_fini(struct cg_stats *s);
void cg_stats_add(uint64_t *counter, uint64_t n);
uint64_t cg_stats_get(const uint64_t *counter);
/*
 * Records one latency sample (microseconds). Any thread. A sample of the encode window is
 * also counted in the encode stage's histogram, and one of capture_to_send in the
 * last-packet-sent stage's, so the windows' writers feed /metrics' histograms as they are.
 */
void cg_stats_sample(struct cg_stats *s, struct cg_latency_window *w, uint64_t usec);
/* Returns the p-th percentile (0..100) in milliseconds, or -1 when there are no samples. */
double cg_stats_percentile_ms(struct cg_stats *s, struct cg_latency_window *w, unsigned p);

/* Counts one sample (microseconds) of a stage into its histogram. Any thread; lock-free. */
void cg_stats_observe(struct cg_stats *s, enum cg_stage stage, uint64_t usec);
/* Reads a stage's histogram into *ret (each field atomically; the set may be a sample
 * apart under concurrent writers). Any thread. */
void cg_stats_histogram(const struct cg_stats *s, enum cg_stage stage, struct cg_histogram *ret);
/* The stage's label value ("encode", …), static; NULL for an unknown stage. */
const char *cg_stage_name(enum cg_stage stage);
