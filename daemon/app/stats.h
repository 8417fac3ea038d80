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
};

void cg_stats_init(struct cg_stats *s);
void cg_stats_fini(struct cg_stats *s);
void cg_stats_add(uint64_t *counter, uint64_t n);
uint64_t cg_stats_get(const uint64_t *counter);
/* Records one latency sample (microseconds). Any thread. */
void cg_stats_sample(struct cg_stats *s, struct cg_latency_window *w, uint64_t usec);
/* Returns the p-th percentile (0..100) in milliseconds, or -1 when there are no samples. */
double cg_stats_percentile_ms(struct cg_stats *s, struct cg_latency_window *w, unsigned p);
