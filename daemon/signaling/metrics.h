/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * /metrics: the counters and gauges in Prometheus' text exposition format (version 0.0.4),
 * for a scraper or `curl`. Rendering is a pure function of a snapshot of the numbers, so
 * tests can check the format without a daemon. Any thread (reads stats atomically).
 */
#pragma once

#include <stdint.h>

struct cg_stats;

#define CG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct cg_metrics_input {
	struct cg_stats *stats; /* borrowed */
	const char *version;
	const char *source;
	const char *encoder;
	uint32_t width, height, fps;
	unsigned viewers;
	unsigned max_viewers;
	uint32_t bitrate_kbps;	      /* configured */
	uint32_t bitrate_target_kbps; /* what the encoder is asked for now */
	double start_time_s;	      /* CLOCK_REALTIME when the daemon started */
	double media_heartbeat_age_s; /* since the media thread's last loop */
};

/* Renders every metric; returns a new string (g_free it). */
char *cg_metrics_render(const struct cg_metrics_input *in);
