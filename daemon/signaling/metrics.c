/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <math.h>
#include <stddef.h>

#include "signaling/metrics.h"
#include "app/stats.h"

struct metrics_counter {
	const char *name; /* without the camgate_ prefix and _total suffix */
	const char *help;
	size_t field; /* offset of a uint64_t in struct cg_stats */
};

#define COUNTER(n, f, h)                                                                           \
	{                                                                                          \
		n, h, offsetof(struct cg_stats, f)                                                 \
	}

static const struct metrics_counter counters[] = {
	COUNTER("frames_captured", frames_captured, "Frames the source delivered."),
	COUNTER("frames_encoded", frames_encoded, "Frames the encoder turned into access units."),
	COUNTER("frames_dropped", frames_dropped,
		"Frames dropped (encoder error or a slow viewer)."),
	COUNTER("keyframes", keyframes, "IDR frames encoded."),
	COUNTER("keyframe_requests", keyframe_requests, "Keyframe requests (joins, PLI, FIR)."),
	COUNTER("copied_bytes", copied_bytes,
		"Pixel bytes the CPU copied between capture and encoder."),
	COUNTER("rtp_packets_sent", rtp_packets_sent, "RTP packets sent, all viewers."),
	COUNTER("rtp_bytes_sent", rtp_bytes_sent, "RTP bytes sent, all viewers."),
	COUNTER("nacks_received", nacks_received, "Packets viewers asked for again (RTCP NACK)."),
	COUNTER("retransmissions", retransmissions, "Packets resent for NACKs."),
	COUNTER("plis_received", plis_received, "RTCP picture loss indications received."),
	COUNTER("firs_received", firs_received, "RTCP full intra requests received."),
	COUNTER("dtls_failures", dtls_failures, "DTLS handshakes that failed or timed out."),
	COUNTER("ice_failures", ice_failures, "ICE connectivity checks that failed."),
	COUNTER("rtcp_malformed", rtcp_malformed, "RTCP packets dropped as malformed."),
	COUNTER("sessions_created", sessions_created, "Viewers accepted."),
	COUNTER("sessions_refused", sessions_refused, "Offers refused (viewer limit, bad SDP)."),
	COUNTER("http_requests", http_requests, "HTTP requests answered."),
	COUNTER("auth_failures", auth_failures, "Requests and logins without a valid credential."),
	COUNTER("snapshots", snapshots, "JPEG snapshots encoded."),
	COUNTER("audio_packets", audio_packets, "Opus packets of the board's sound published."),
	COUNTER("talkback_packets", talkback_packets, "Talkback packets queued for the speaker."),
	COUNTER("talkback_refused", talkback_refused,
		"Talkback packets dropped: another browser had the floor."),
};

static void metrics_header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP camgate_%s %s\n# TYPE camgate_%s %s\n", name, help,
			       name, type);
}

static void metrics_gauge(GString *out, const char *name, const char *help, double value)
{
	metrics_header(out, name, "gauge", help);
	g_string_append_printf(out, "camgate_%s %.17g\n", name, value);
}

/* Percentiles as a gauge per quantile: the window is not a Prometheus summary (no sum). */
static void metrics_latency(GString *out, struct cg_stats *st, struct cg_latency_window *w,
			    const char *name, const char *help)
{
	static const unsigned quantiles[] = { 50, 95, 99 };

	metrics_header(out, name, "gauge", help);
	for (size_t i = 0; i < G_N_ELEMENTS(quantiles); i++) {
		double ms = cg_stats_percentile_ms(st, w, quantiles[i]);

		if (ms < 0)
			g_string_append_printf(out, "camgate_%s{quantile=\"0.%02u\"} NaN\n", name,
					       quantiles[i]);
		else
			g_string_append_printf(out, "camgate_%s{quantile=\"0.%02u\"} %.6f\n", name,
					       quantiles[i], ms / 1000.0);
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

static void metrics_info(GString *out, const struct cg_metrics_input *in)
{
	char *version = metrics_label(in->version), *source = metrics_label(in->source);
	char *encoder = metrics_label(in->encoder);

	metrics_header(out, "info", "gauge", "Build and stream description (always 1).");
	g_string_append_printf(out,
			       "camgate_info{version=\"%s\",source=\"%s\",encoder=\"%s\","
			       "width=\"%u\",height=\"%u\",fps=\"%u\"} 1\n",
			       version, source, encoder, in->width, in->height, in->fps);
	g_free(version);
	g_free(source);
	g_free(encoder);
}

char *cg_metrics_render(const struct cg_metrics_input *in)
{
	GString *out = g_string_sized_new(4096);

	metrics_info(out, in);
	for (size_t i = 0; i < G_N_ELEMENTS(counters); i++) {
		const uint64_t *v = (const uint64_t *)((const char *)in->stats + counters[i].field);
		char *name = g_strconcat(counters[i].name, "_total", NULL);

		metrics_header(out, name, "counter", counters[i].help);
		g_string_append_printf(out, "camgate_%s %" G_GUINT64_FORMAT "\n", name,
				       cg_stats_get(v));
		g_free(name);
	}
	metrics_gauge(out, "viewers", "Viewers connected now.", in->viewers);
	metrics_gauge(out, "max_viewers", "The viewer limit.", in->max_viewers);
	metrics_gauge(out, "bitrate_bits_per_second", "Configured video bitrate.",
		      in->bitrate_kbps * 1000.0);
	metrics_gauge(out, "bitrate_target_bits_per_second",
		      "Bitrate the encoder is asked for now (after adaptation).",
		      in->bitrate_target_kbps * 1000.0);
	metrics_gauge(out, "start_time_seconds", "When the daemon started, Unix time.",
		      in->start_time_s);
	metrics_gauge(out, "media_heartbeat_age_seconds",
		      "Time since the media thread last looped (the watchdog's input).",
		      in->media_heartbeat_age_s);
	metrics_latency(out, in->stats, &in->stats->encode, "encode_latency_seconds",
			"Encoder latency over the last 256 frames, by quantile.");
	metrics_latency(out, in->stats, &in->stats->capture_to_send,
			"capture_to_send_latency_seconds",
			"Capture to last packet sent over the last 256 frames, by quantile.");
	return g_string_free(out, FALSE);
}
