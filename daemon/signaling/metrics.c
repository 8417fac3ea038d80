/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "signaling/metrics.h"
#include "app/stats.h"

/*
 * Which struct cg_stats a counter is read from. A counter belongs to a camera when what it
 * counts happens on that camera's path: its capture and encoder (media thread), its hub and
 * workers, the sessions of the viewers watching it (RTP sent, RTCP feedback, DTLS and ICE
 * failures) and its sound track (each camera may carry audio=DEV, and talkback goes to that
 * camera's speaker). It belongs to the daemon when it happens before or outside any one
 * camera: HTTP requests and sign-in, the viewer registry that accepts or refuses offers under
 * the shared limit (a refusal may come before a camera is known), and /snapshot.jpg, which
 * signaling counts.
 */
enum metrics_kind {
	METRICS_CAMERA,
	METRICS_DAEMON,
};

struct metrics_counter {
	const char *name; /* without the camgate_ prefix and _total suffix */
	const char *help;
	size_t field; /* offset of a uint64_t in struct cg_stats */
	enum metrics_kind kind;
};

#define COUNTER(n, f, k, h)                                                                        \
	{                                                                                          \
		n, h, offsetof(struct cg_stats, f), k                                              \
	}
#define CAMERA(n, f, h) COUNTER(n, f, METRICS_CAMERA, h)
#define DAEMON(n, f, h) COUNTER(n, f, METRICS_DAEMON, h)

static const struct metrics_counter counters[] = {
	CAMERA("frames_captured", frames_captured, "Frames the source delivered."),
	CAMERA("frames_encoded", frames_encoded, "Frames the encoder turned into access units."),
	CAMERA("frames_dropped", frames_dropped,
	       "Frames dropped (encoder error or a slow viewer)."),
	CAMERA("keyframes", keyframes, "IDR frames encoded."),
	CAMERA("keyframe_requests", keyframe_requests, "Keyframe requests (joins, PLI, FIR)."),
	CAMERA("copied_bytes", copied_bytes,
	       "Pixel bytes the CPU copied between capture and encoder."),
	CAMERA("rtp_packets_sent", rtp_packets_sent, "RTP packets sent, all viewers."),
	CAMERA("rtp_bytes_sent", rtp_bytes_sent, "RTP bytes sent, all viewers."),
	CAMERA("nacks_received", nacks_received, "Packets viewers asked for again (RTCP NACK)."),
	CAMERA("retransmissions", retransmissions, "Packets resent for NACKs."),
	CAMERA("plis_received", plis_received, "RTCP picture loss indications received."),
	CAMERA("firs_received", firs_received, "RTCP full intra requests received."),
	CAMERA("dtls_failures", dtls_failures, "DTLS handshakes that failed or timed out."),
	CAMERA("ice_failures", ice_failures, "ICE connectivity checks that failed."),
	CAMERA("rtcp_malformed", rtcp_malformed, "RTCP packets dropped as malformed."),
	DAEMON("sessions_created", sessions_created, "Viewers accepted."),
	DAEMON("sessions_refused", sessions_refused, "Offers refused (viewer limit, bad SDP)."),
	DAEMON("http_requests", http_requests, "HTTP requests answered."),
	DAEMON("auth_failures", auth_failures, "Requests and logins without a valid credential."),
	DAEMON("snapshots", snapshots, "JPEG snapshots encoded."),
	CAMERA("audio_packets", audio_packets, "Opus packets of the camera's sound published."),
	CAMERA("talkback_packets", talkback_packets, "Talkback packets queued for the speaker."),
	CAMERA("talkback_refused", talkback_refused,
	       "Talkback packets dropped: another browser had the floor."),
};

/* A render's input with each camera's label value escaped once. */
struct metrics_render {
	GString *out;
	const struct cg_metrics_input *in;
	char **camera; /* escaped names, in->n_cameras of them */
};

static void metrics_header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP camgate_%s %s\n# TYPE camgate_%s %s\n", name, help,
			       name, type);
}

/* Gauges print with %.17g so a double survives the round trip. */
static void metrics_value(GString *out, double value)
{
	g_string_append_printf(out, " %.17g\n", value);
}

static void metrics_gauge(GString *out, const char *name, const char *help, double value)
{
	metrics_header(out, name, "gauge", help);
	g_string_append_printf(out, "camgate_%s", name);
	metrics_value(out, value);
}

typedef double (*metrics_camera_get)(const struct cg_metrics_camera *cam);

/* One gauge family with a sample per camera. */
static void metrics_camera_gauge(struct metrics_render *r, const char *name, const char *help,
				 metrics_camera_get get)
{
	metrics_header(r->out, name, "gauge", help);
	for (unsigned c = 0; c < r->in->n_cameras; c++) {
		g_string_append_printf(r->out, "camgate_%s{camera=\"%s\"}", name, r->camera[c]);
		metrics_value(r->out, get(&r->in->cameras[c]));
	}
}

static uint64_t metrics_counter_value(const struct metrics_counter *k, struct cg_stats *st)
{
	return cg_stats_get((const uint64_t *)((const char *)st + k->field));
}

static void metrics_counter(struct metrics_render *r, const struct metrics_counter *k)
{
	char *name = g_strconcat(k->name, "_total", NULL);

	metrics_header(r->out, name, "counter", k->help);
	if (k->kind == METRICS_DAEMON)
		g_string_append_printf(r->out, "camgate_%s %" G_GUINT64_FORMAT "\n", name,
				       metrics_counter_value(k, r->in->stats));
	for (unsigned c = 0; k->kind == METRICS_CAMERA && c < r->in->n_cameras; c++)
		g_string_append_printf(r->out, "camgate_%s{camera=\"%s\"} %" G_GUINT64_FORMAT "\n",
				       name, r->camera[c],
				       metrics_counter_value(k, r->in->cameras[c].stats));
	g_free(name);
}

/* Percentiles as a gauge per quantile: the window is not a Prometheus summary (no sum). */
static void metrics_latency(struct metrics_render *r, size_t window, const char *name,
			    const char *help)
{
	static const unsigned quantiles[] = { 50, 95, 99 };

	metrics_header(r->out, name, "gauge", help);
	for (unsigned c = 0; c < r->in->n_cameras; c++) {
		struct cg_stats *st = r->in->cameras[c].stats;
		struct cg_latency_window *w = (struct cg_latency_window *)((char *)st + window);

		for (size_t i = 0; i < G_N_ELEMENTS(quantiles); i++) {
			double ms = cg_stats_percentile_ms(st, w, quantiles[i]);

			g_string_append_printf(r->out,
					       "camgate_%s{camera=\"%s\",quantile=\"0.%02u\"}",
					       name, r->camera[c], quantiles[i]);
			if (ms < 0)
				g_string_append(r->out, " NaN\n");
			else
				g_string_append_printf(r->out, " %.6f\n", ms / 1000.0);
		}
	}
}

/* Prometheus renders bounds as seconds: the µs bound written exactly ("0.001", "0.2"). */
static void metrics_le(GString *out, uint32_t usec)
{
	char buf[16];
	int n = g_snprintf(buf, sizeof(buf), "%u.%06u", usec / 1000000u, usec % 1000000u);

	while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';
	g_string_append(out, buf);
}

/* One histogram per camera and stage: cumulative buckets, +Inf equal to _count (the
 * buckets read once, so the two always agree), and the sum in seconds. */
static void metrics_stages(struct metrics_render *r)
{
	metrics_header(r->out, "stage_latency_seconds", "histogram",
		       "Time a frame spends in each stage: capture_to_encoder (capture to encoder "
		       "input), encode, packetize; first_packet_sent and last_packet_sent are "
		       "from capture.");
	for (unsigned c = 0; c < r->in->n_cameras; c++) {
		for (unsigned st = 0; st < CG_STAGE_COUNT; st++) {
			struct cg_histogram h;
			const char *stage = cg_stage_name(st);
			uint64_t cum = 0;

			cg_stats_histogram(r->in->cameras[c].stats, st, &h);
			for (unsigned b = 0; b < CG_HISTOGRAM_BOUNDS; b++) {
				cum += h.buckets[b];
				g_string_append_printf(
					r->out,
					"camgate_stage_latency_seconds_bucket{camera="
					"\"%s\",stage=\"%s\",le=\"",
					r->camera[c], stage);
				metrics_le(r->out, cg_histogram_bounds_usec[b]);
				g_string_append_printf(r->out, "\"} %" G_GUINT64_FORMAT "\n", cum);
			}
			cum += h.buckets[CG_HISTOGRAM_BOUNDS];
			g_string_append_printf(r->out,
					       "camgate_stage_latency_seconds_bucket{camera=\"%s\","
					       "stage=\"%s\",le=\"+Inf\"} %" G_GUINT64_FORMAT "\n",
					       r->camera[c], stage, cum);
			g_string_append_printf(r->out,
					       "camgate_stage_latency_seconds_sum{camera=\"%s\","
					       "stage=\"%s\"} %.6f\n",
					       r->camera[c], stage, h.sum_usec / 1e6);
			g_string_append_printf(r->out,
					       "camgate_stage_latency_seconds_count{camera=\"%s\","
					       "stage=\"%s\"} %" G_GUINT64_FORMAT "\n",
					       r->camera[c], stage, cum);
		}
	}
}

/* Label values are escaped per the format: backslash, quote and newline. */
static char *metrics_label(const char *v)
{
	GString *s = g_string_new(NULL);

	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(s, '\\');
		if (*v == '\n')
			g_string_append(s, "\\n");
		else
			g_string_append_c(s, *v);
	}
	return g_string_free(s, FALSE);
}

/* camgate_info is per camera (its source, encoder and size); the version repeats in each. */
static void metrics_info(struct metrics_render *r)
{
	char *version = metrics_label(r->in->version);

	metrics_header(r->out, "info", "gauge",
		       "Build and each camera's stream description (always 1).");
	for (unsigned c = 0; c < r->in->n_cameras; c++) {
		const struct cg_metrics_camera *cam = &r->in->cameras[c];
		char *source = metrics_label(cam->source), *encoder = metrics_label(cam->encoder);

		g_string_append_printf(r->out,
				       "camgate_info{camera=\"%s\",version=\"%s\",source=\"%s\","
				       "encoder=\"%s\",width=\"%u\",height=\"%u\",fps=\"%u\"} 1\n",
				       r->camera[c], version, source, encoder, cam->width,
				       cam->height, cam->fps);
		g_free(source);
		g_free(encoder);
	}
	g_free(version);
}

/* The x264 preset of each camera that encodes with x264 (--x264-preset=auto moves it). */
static void metrics_x264_preset(struct metrics_render *r)
{
	bool any = false;

	for (unsigned c = 0; c < r->in->n_cameras; c++) {
		const struct cg_metrics_camera *cam = &r->in->cameras[c];
		char *preset;

		if (!cam->preset)
			continue;
		if (!any)
			metrics_header(r->out, "x264_preset_info", "gauge",
				       "The x264 preset each camera encodes with now (always 1).");
		any = true;
		preset = metrics_label(cam->preset);
		g_string_append_printf(r->out,
				       "camgate_x264_preset_info{camera=\"%s\",preset=\"%s\"} 1\n",
				       r->camera[c], preset);
		g_free(preset);
	}
}

static double camera_viewers(const struct cg_metrics_camera *cam)
{
	return cam->viewers;
}

static double camera_bitrate(const struct cg_metrics_camera *cam)
{
	return cam->bitrate_kbps * 1000.0;
}

static double camera_bitrate_target(const struct cg_metrics_camera *cam)
{
	return cam->bitrate_target_kbps * 1000.0;
}

static double camera_heartbeat_age(const struct cg_metrics_camera *cam)
{
	return cam->media_heartbeat_age_s;
}

static void metrics_gauges(struct metrics_render *r)
{
	const struct cg_metrics_input *in = r->in;

	metrics_gauge(r->out, "viewers", "Viewers connected now, all cameras.", in->viewers);
	metrics_camera_gauge(r, "camera_viewers", "Viewers watching each camera now.",
			     camera_viewers);
	metrics_gauge(r->out, "max_viewers", "The viewer limit, shared by all cameras.",
		      in->max_viewers);
	metrics_gauge(r->out, "cameras", "Cameras configured.", in->n_cameras);
	metrics_camera_gauge(r, "bitrate_bits_per_second", "Configured video bitrate.",
			     camera_bitrate);
	metrics_camera_gauge(r, "bitrate_target_bits_per_second",
			     "Bitrate the encoder is asked for now (after adaptation).",
			     camera_bitrate_target);
	metrics_gauge(r->out, "start_time_seconds", "When the daemon started, Unix time.",
		      in->start_time_s);
	metrics_camera_gauge(r, "media_heartbeat_age_seconds",
			     "Time since the camera's media thread last looped (the watchdog's "
			     "input).",
			     camera_heartbeat_age);
}

char *cg_metrics_render(const struct cg_metrics_input *in)
{
	struct metrics_render r = {
		.out = g_string_sized_new(4096 + 4096 * in->n_cameras),
		.in = in,
		.camera = g_new0(char *, in->n_cameras + 1),
	};

	for (unsigned c = 0; c < in->n_cameras; c++)
		r.camera[c] = metrics_label(in->cameras[c].name);
	metrics_info(&r);
	for (size_t i = 0; i < G_N_ELEMENTS(counters); i++)
		metrics_counter(&r, &counters[i]);
	metrics_gauges(&r);
	metrics_x264_preset(&r);
	metrics_latency(&r, offsetof(struct cg_stats, encode), "encode_latency_seconds",
			"Encoder latency over the last 256 frames, by quantile.");
	metrics_latency(&r, offsetof(struct cg_stats, capture_to_send),
			"capture_to_send_latency_seconds",
			"Capture to last packet sent over the last 256 frames, by quantile.");
	metrics_stages(&r);
	g_strfreev(r.camera);
	return g_string_free(r.out, FALSE);
}
