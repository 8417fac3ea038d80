/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * /metrics: the counters and gauges in Prometheus' text exposition format (version 0.0.4),
 * for a scraper or `curl`. Rendering is a pure function of a snapshot of the numbers, so
 * tests can check the format without a daemon. Any thread (reads stats atomically).
 *
 * Several cameras (issue 13): what a camera's media thread, hub, workers and viewers' sessions
 * count is one sample per camera with a camera="NAME" label; what the daemon counts as a whole
 * (HTTP, sign-in, the viewer registry, snapshots) is one unlabelled sample. Each counter of
 * struct cg_stats is read from exactly one place, so a counter bumped in the other struct
 * does not show:
 *   camera (cg_metrics_camera.stats): frames_captured, frames_encoded, frames_dropped,
 *     keyframes, keyframe_requests, copied_bytes, rtp_packets_sent, rtp_bytes_sent,
 *     nacks_received, retransmissions, plis_received, firs_received, dtls_failures,
 *     ice_failures, rtcp_malformed, audio_packets, talkback_packets, talkback_refused, and
 *     the encode and capture_to_send latency windows;
 *   daemon (cg_metrics_input.stats): sessions_created, sessions_refused, http_requests,
 *     auth_failures, snapshots.
 * Series by camera: camgate_info, every camera counter above, camgate_camera_viewers,
 * camgate_bitrate_bits_per_second, camgate_bitrate_target_bits_per_second,
 * camgate_media_heartbeat_age_seconds, camgate_encode_latency_seconds and
 * camgate_capture_to_send_latency_seconds (these two also by quantile), and
 * camgate_x264_preset_info (preset label) for each camera encoding with x264, and
 * camgate_stage_latency_seconds, a histogram by camera and stage (capture_to_encoder, encode,
 * packetize, first_packet_sent, last_packet_sent; buckets 1, 2, 5, 10, 20, 50, 100 and
 * 200 ms). Daemon-wide:
 * camgate_viewers (all cameras), camgate_max_viewers, camgate_cameras,
 * camgate_start_time_seconds and the daemon counters above.
 */
#pragma once

#include <stdint.h>

struct cg_stats;

#define CG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One camera's numbers; every pointer is borrowed for the call. */
struct cg_metrics_camera {
	const char *name;	/* the camera label's value (escaped when rendered) */
	struct cg_stats *stats; /* this camera's counters; not NULL */
	const char *source;	/* for camgate_info; NULL renders as "" */
	const char *encoder;	/* the backend in use now; NULL renders as "" */
	const char *preset;	/* the x264 preset running now; NULL: not x264 (no sample) */
	uint32_t width, height, fps;
	unsigned viewers;	      /* watching this camera now */
	uint32_t bitrate_kbps;	      /* configured */
	uint32_t bitrate_target_kbps; /* what the encoder is asked for now */
	double media_heartbeat_age_s; /* since this camera's media thread last looped */
};

struct cg_metrics_input {
	struct cg_stats *stats; /* daemon-wide counters (see above); borrowed, not NULL */
	const char *version;
	unsigned viewers;			 /* all cameras, all signaling paths */
	unsigned max_viewers;			 /* the limit shared by all cameras */
	double start_time_s;			 /* CLOCK_REALTIME when the daemon started */
	const struct cg_metrics_camera *cameras; /* borrowed; NULL when n_cameras is 0 */
	unsigned n_cameras;
};

/*
 * Renders every metric, each family's samples together under one HELP and TYPE, the cameras
 * in the order given. Returns a new string (g_free it); never fails. Any thread.
 */
char *cg_metrics_render(const struct cg_metrics_input *in);
