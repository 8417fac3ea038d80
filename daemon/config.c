/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "config"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "config.h"
#include "util/log.h"
#include "util/macros.h"

struct config_args {
	gchar *source;
	gchar *encoder;
	gchar *listen;
	gchar *size;
	gint fps;
	gint bitrate;
	gint min_bitrate;
	gint max_bitrate;
	gboolean list_devices;
	gint keyframe_interval;
	gint workers;
	gint max_viewers;
	gchar *log_level;
	gboolean version;
};

static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	unsigned a, b;
	char tail;

	if (sscanf(s, "%ux%u%c", &a, &b, &tail) != 2 || a < 64 || b < 64 || a > 7680 ||
	    b > 4320 || a % 2 || b % 2)
		return -EINVAL;
	*w = a;
	*h = b;
	return 0;
}

/* "host:port", "[v6]:port" or ":port". */
static int parse_listen(const char *s, char **host, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;

	if (!colon)
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || p == 0 || p > 65535)
		return -EINVAL;
	if (s[0] == '[' && colon > s && colon[-1] == ']')
		*host = g_strndup(s + 1, (gsize)(colon - s - 2));
	else if (colon == s)
		*host = g_strdup("0.0.0.0");
	else
		*host = g_strndup(s, (gsize)(colon - s));
	*port = (uint16_t)p;
	return 0;
}

static GOptionContext *config_option_context(struct config_args *a)
{
	const GOptionEntry entries[] = {
		{"source", 0, 0, G_OPTION_ARG_STRING, &a->source,
		 "Video source: 'test' (moving test pattern with a time code) [test]", "SRC"},
		{"encoder", 0, 0, G_OPTION_ARG_STRING, &a->encoder,
		 "H.264 encoder: auto|x264 [auto]", "ENC"},
		{"listen", 0, 0, G_OPTION_ARG_STRING, &a->listen,
		 "HTTP address and port: HOST:PORT, [V6]:PORT or :PORT [127.0.0.1:8080]",
		 "ADDR"},
		{"size", 0, 0, G_OPTION_ARG_STRING, &a->size, "Picture size WxH [1280x720]",
		 "WxH"},
		{"fps", 0, 0, G_OPTION_ARG_INT, &a->fps, "Frames per second, 1-120 [30]", "N"},
		{"bitrate", 0, 0, G_OPTION_ARG_INT, &a->bitrate,
		 "Video bitrate in kbit/s, 100-50000 [2000]", "KBPS"},
		{"min-bitrate", 0, 0, G_OPTION_ARG_INT, &a->min_bitrate,
		 "Lowest bitrate bandwidth adaptation may choose, kbit/s [bitrate/4]", "KBPS"},
		{"max-bitrate", 0, 0, G_OPTION_ARG_INT, &a->max_bitrate,
		 "Highest bitrate bandwidth adaptation may choose, kbit/s [bitrate]", "KBPS"},
		{"list-devices", 0, 0, G_OPTION_ARG_NONE, &a->list_devices,
		 "Print the cameras and encoders found, then exit", NULL},
		{"keyframe-interval", 0, 0, G_OPTION_ARG_INT, &a->keyframe_interval,
		 "Frames between periodic keyframes, 1-600 [60]", "N"},
		{"workers", 0, 0, G_OPTION_ARG_INT, &a->workers,
		 "Network worker threads, 1-64 [number of cores, at most 4]", "N"},
		{"max-viewers", 0, 0, G_OPTION_ARG_INT, &a->max_viewers,
		 "Most simultaneous viewers, 1-1000 [100]", "N"},
		{"log-level", 0, 0, G_OPTION_ARG_STRING, &a->log_level,
		 "err|warn|notice|info|debug|trace [info]", "LEVEL"},
		{"version", 0, 0, G_OPTION_ARG_NONE, &a->version, "Print the version and exit",
		 NULL},
		{NULL},
	};
	GOptionContext *ctx = g_option_context_new("- WebRTC camera gateway");

	g_option_context_set_summary(ctx,
				     "Streams a camera (or a test pattern) to browsers over WebRTC.\n"
				     "Open http://ADDR:PORT/ to watch; WHEP players use /whep.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	return ctx;
}

static int config_check_range(const char *name, gint value, gint lo, gint hi)
{
	if (value >= lo && value <= hi)
		return 0;
	fprintf(stderr, "camgate: --%s=%d is out of range %d-%d\n", name, value, lo, hi);
	return -EINVAL;
}

static int config_validate_bitrates(const struct config_args *a)
{
	if (a->min_bitrate && config_check_range("min-bitrate", a->min_bitrate, 50, 50000) < 0)
		return -EINVAL;
	if (a->max_bitrate && config_check_range("max-bitrate", a->max_bitrate, 100, 50000) < 0)
		return -EINVAL;
	if (a->min_bitrate && a->max_bitrate && a->min_bitrate > a->max_bitrate) {
		fprintf(stderr, "camgate: --min-bitrate is above --max-bitrate\n");
		return -EINVAL;
	}
	return 0;
}

static int config_validate(const struct config_args *a, struct cg_config *cfg)
{
	int r = 0;

	if (config_check_range("fps", a->fps, 1, 120) < 0 ||
	    config_check_range("bitrate", a->bitrate, 100, 50000) < 0 ||
	    config_check_range("keyframe-interval", a->keyframe_interval, 1, 600) < 0 ||
	    config_check_range("workers", a->workers, 1, 64) < 0 ||
	    config_check_range("max-viewers", a->max_viewers, 1, 1000) < 0)
		return -EINVAL;
	if (parse_size(a->size, &cfg->width, &cfg->height) < 0) {
		fprintf(stderr, "camgate: --size=%s is not WxH with even sides 64-7680\n",
			a->size);
		return -EINVAL;
	}
	if (parse_listen(a->listen, &cfg->listen_host, &cfg->listen_port) < 0) {
		fprintf(stderr, "camgate: --listen=%s is not HOST:PORT\n", a->listen);
		return -EINVAL;
	}
	if (strcmp(a->source, "test") != 0 && strcmp(a->source, "auto") != 0 &&
	    !g_str_has_prefix(a->source, "/dev/")) {
		fprintf(stderr, "camgate: --source=%s is not auto, test or /dev/videoN\n",
			a->source);
		r = -EINVAL;
	}
	if (config_validate_bitrates(a) < 0)
		r = -EINVAL;
	cfg->log_level = cg_log_level_from_string(a->log_level);
	if (cfg->log_level < 0) {
		fprintf(stderr, "camgate: --log-level=%s is not a level\n", a->log_level);
		r = -EINVAL;
	}
	return r;
}

static void config_args_fini(struct config_args *a)
{
	g_free(a->source);
	g_free(a->encoder);
	g_free(a->listen);
	g_free(a->size);
	g_free(a->log_level);
}

/*
 * GOption overwrites a string option without freeing what was there, so string defaults are
 * filled in after parsing, only where the command line left them unset.
 */
static void config_args_defaults(struct config_args *a)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	*a = (struct config_args){
		.fps = 30,
		.bitrate = 2000,
		.keyframe_interval = 60,
		.workers = (gint)CG_MAX(1, CG_MIN(ncpu, 4)),
		.max_viewers = 100,
	};
}

static void config_args_default_strings(struct config_args *a)
{
	if (!a->source)
		a->source = g_strdup("test");
	if (!a->encoder)
		a->encoder = g_strdup("auto");
	if (!a->listen)
		a->listen = g_strdup("127.0.0.1:8080");
	if (!a->size)
		a->size = g_strdup("1280x720");
	if (!a->log_level)
		a->log_level = g_strdup("info");
}

int cg_config_from_args(int argc, char **argv, struct cg_config **ret)
{
	struct config_args a;
	GOptionContext *ctx;
	GError *error = NULL;
	struct cg_config *cfg;
	int r;

	config_args_defaults(&a);
	ctx = config_option_context(&a);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "camgate: %s (see --help)\n", error->message);
		g_error_free(error);
		r = -EINVAL;
		goto out;
	}
	if (a.version) {
		printf("camgate %s\n", CG_VERSION);
		r = 1;
		goto out;
	}
	config_args_default_strings(&a);
	if (argc > 1) {
		fprintf(stderr, "camgate: unexpected argument '%s' (see --help)\n", argv[1]);
		r = -EINVAL;
		goto out;
	}
	cfg = cg_new0(struct cg_config, 1);
	r = config_validate(&a, cfg);
	if (r < 0) {
		cg_config_free(cfg);
		goto out;
	}
	cfg->source = cg_strdup(a.source);
	cfg->encoder = cg_strdup(a.encoder);
	cfg->fps = (uint32_t)a.fps;
	cfg->bitrate_kbps = (uint32_t)a.bitrate;
	cfg->max_bitrate_kbps = (uint32_t)(a.max_bitrate ? a.max_bitrate : a.bitrate);
	cfg->min_bitrate_kbps = (uint32_t)(a.min_bitrate ? a.min_bitrate
						      : CG_MAX(a.bitrate / 4, 50));
	cfg->bitrate_kbps = CG_MIN(CG_MAX(cfg->bitrate_kbps, cfg->min_bitrate_kbps),
				   cfg->max_bitrate_kbps);
	cfg->list_devices = a.list_devices;
	cfg->keyframe_interval_frames = (uint32_t)a.keyframe_interval;
	cfg->min_keyframe_interval_ms = 300;
	cfg->workers = (unsigned)a.workers;
	cfg->max_viewers = (unsigned)a.max_viewers;
	*ret = cfg;
	r = 0;
out:
	g_option_context_free(ctx);
	config_args_fini(&a);
	return r;
}

struct cg_config *cg_config_free(struct cg_config *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->source);
	free(cfg->encoder);
	g_free(cfg->listen_host);
	free(cfg);
	return NULL;
}

bool cg_config_listens_on_loopback(const struct cg_config *cfg)
{
	return g_str_has_prefix(cfg->listen_host, "127.") ||
	       strcmp(cfg->listen_host, "::1") == 0 ||
	       strcmp(cfg->listen_host, "localhost") == 0;
}
