/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Command-line parsing into the immutable configuration, and the latency percentiles. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "stats.h"

static int parse(struct cg_config **cfg, ...)
{
	char *argv[32] = {"camgate"};
	int argc = 1;
	va_list ap;
	const char *a;

	va_start(ap, cfg);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	*cfg = NULL;
	return cg_config_from_args(argc, argv, cfg);
}

/* --version prints to stdout, which carries TAP here: send it elsewhere for the call. */
static int parse_quietly(struct cg_config **cfg, const char *arg)
{
	int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY), r;

	fflush(stdout);
	dup2(devnull, STDOUT_FILENO);
	r = parse(cfg, arg, NULL);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(devnull);
	return r;
}

static void test_defaults(void)
{
	struct cg_config *cfg;

	g_assert_cmpint(parse(&cfg, NULL), ==, 0);
	g_assert_cmpstr(cfg->source, ==, "test");
	g_assert_cmpstr(cfg->listen_host, ==, "127.0.0.1");
	g_assert_cmpuint(cfg->listen_port, ==, 8080);
	g_assert_cmpuint(cfg->width, ==, 1280);
	g_assert_cmpuint(cfg->height, ==, 720);
	g_assert_cmpuint(cfg->fps, ==, 30);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 2000);
	g_assert_cmpuint(cfg->workers, >=, 1);
	g_assert_true(cg_config_listens_on_loopback(cfg));
	cg_config_free(cfg);
}

static void test_flags(void)
{
	struct cg_config *cfg;

	g_assert_cmpint(parse(&cfg, "--size=640x480", "--fps=15", "--bitrate=800",
			      "--listen=[::]:9000", "--workers=3", "--max-viewers=7", NULL),
			==, 0);
	g_assert_cmpuint(cfg->width, ==, 640);
	g_assert_cmpuint(cfg->height, ==, 480);
	g_assert_cmpuint(cfg->fps, ==, 15);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 800);
	g_assert_cmpstr(cfg->listen_host, ==, "::");
	g_assert_cmpuint(cfg->listen_port, ==, 9000);
	g_assert_cmpuint(cfg->workers, ==, 3);
	g_assert_cmpuint(cfg->max_viewers, ==, 7);
	g_assert_false(cg_config_listens_on_loopback(cfg));
	cg_config_free(cfg);

	g_assert_cmpint(parse(&cfg, "--bitrate=1000", "--min-bitrate=300", "--max-bitrate=4000",
			      NULL),
			==, 0);
	g_assert_cmpuint(cfg->min_bitrate_kbps, ==, 300);
	g_assert_cmpuint(cfg->max_bitrate_kbps, ==, 4000);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 1000);
	cg_config_free(cfg);
	g_assert_cmpint(parse(&cfg, "--bitrate=1000", "--min-bitrate=300", "--max-bitrate=3000",
			      NULL), ==, 0);
	cg_config_free(cfg);
	g_assert_cmpint(parse(&cfg, "--min-bitrate=3000", "--max-bitrate=2000", NULL), ==,
			-EINVAL);

	g_assert_cmpint(parse(&cfg, "--listen=:8081", NULL), ==, 0);
	g_assert_cmpstr(cfg->listen_host, ==, "0.0.0.0");
	cg_config_free(cfg);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"--size=640", "--size=641x480", "--size=10x10", "--size=640x480x", "--fps=0",
		"--fps=500", "--bitrate=1", "--listen=nope", "--listen=1.2.3.4:0",
		"--listen=1.2.3.4:70000", "--listen=1.2.3.4:", "--source=video9", "--min-bitrate=10",
		"--log-level=loud", "--workers=0", "--no-such-flag",
	};
	struct cg_config *cfg;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("rejecting %s", bad[i]);
		g_assert_cmpint(parse(&cfg, bad[i], NULL), ==, -EINVAL);
		g_assert_null(cfg);
	}
	g_assert_cmpint(parse(&cfg, "stray", NULL), ==, -EINVAL);
	g_assert_cmpint(parse_quietly(&cfg, "--version"), ==, 1);
	g_assert_null(cfg);
}

static void test_percentiles(void)
{
	struct cg_stats st;

	cg_stats_init(&st);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 50), ==, -1);
	for (unsigned i = 1; i <= 100; i++)
		cg_stats_sample(&st, &st.encode, i * 1000);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 50), ==, 51);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 95), ==, 96);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 100), ==, 100);
	/* The window keeps only the newest samples. */
	for (unsigned i = 0; i < 2 * 256; i++)
		cg_stats_sample(&st, &st.encode, 7000);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 100), ==, 7);
	cg_stats_fini(&st);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/flags", test_flags);
	g_test_add_func("/config/rejects", test_rejects);
	g_test_add_func("/stats/percentiles", test_percentiles);
	return g_test_run();
}
