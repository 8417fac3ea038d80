/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cg_log: level names, level filtering, the sink contract (STYLE 4.9) and per-thread
 * context ("camera NAME: "). */
#define CG_LOG_TOPIC "test"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "util/log.h"

static void test_level_from_string(void)
{
	static const struct {
		const char *s;
		int level;
	} cases[] = {
		{ "err", CG_LOG_ERR },	   { "warn", CG_LOG_WARN },   { "notice", CG_LOG_NOTICE },
		{ "info", CG_LOG_INFO },   { "debug", CG_LOG_DEBUG }, { "trace", CG_LOG_TRACE },
		{ "DEBUG", CG_LOG_DEBUG }, { "Warn", CG_LOG_WARN },   { "", -EINVAL },
		{ "warning", -EINVAL },	   { "error", -EINVAL },      { "7", -EINVAL },
		{ "info ", -EINVAL },	   { NULL, -EINVAL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(cg_log_level_from_string(cases[i].s), ==, cases[i].level);
}

static unsigned sink_calls;
static char sink_last[256];
static int sink_level;

static void test_sink(enum cg_log_level level, const char *topic, const char *file, int line,
		      const char *func, const char *message)
{
	sink_calls++;
	sink_level = level;
	g_assert_cmpstr(topic, ==, "test");
	g_assert_nonnull(strstr(file, "test-log.c"));
	g_assert_cmpint(line, >, 0);
	g_assert_true(g_str_has_prefix(func, "test_") || g_str_has_prefix(func, "context_"));
	g_strlcpy(sink_last, message, sizeof(sink_last));
}

static void test_filtering(void)
{
	enum cg_log_level old = cg_log_get_level();

	cg_log_set_sink(test_sink);
	cg_log_set_level(CG_LOG_NOTICE);
	g_assert_cmpint(cg_log_get_level(), ==, CG_LOG_NOTICE);
	cg_info("not shown %d", 1);
	cg_debug("not shown");
	g_assert_cmpuint(sink_calls, ==, 0);
	cg_warn("shown %d/%s", 2, "x");
	g_assert_cmpuint(sink_calls, ==, 1);
	g_assert_cmpstr(sink_last, ==, "shown 2/x");
	g_assert_cmpint(sink_level, ==, CG_LOG_WARN);
	cg_notice("edge");
	g_assert_cmpuint(sink_calls, ==, 2);
	cg_log_set_level(CG_LOG_TRACE);
	errno = EPIPE;
	cg_trace("trace");
	g_assert_cmpint(errno, ==, EPIPE); /* logging never clobbers errno (STYLE 4.7.3) */
	g_assert_cmpuint(sink_calls, ==, 3);
	cg_log_set_sink(NULL);
	cg_log_set_level(old);
}

static gpointer context_other_thread(gpointer userdata)
{
	char *line;

	/* A new thread starts without one: the context is the caller's, not the process's. */
	g_assert_cmpstr(cg_log_get_context(), ==, "");
	cg_warn("from %s", "elsewhere");
	line = g_strdup(sink_last);
	return line;
}

static void test_context(void)
{
	char long_name[100];
	char *other;

	cg_log_set_sink(test_sink);
	cg_log_set_context("camera front");
	g_assert_cmpstr(cg_log_get_context(), ==, "camera front");
	errno = ENOENT;
	cg_warn("source %s: %m", "/dev/video9");
	g_assert_cmpstr(sink_last, ==,
			"camera front: source /dev/video9: No such file or directory");
	other = g_thread_join(g_thread_new("log-other", context_other_thread, NULL));
	g_assert_cmpstr(other, ==, "from elsewhere");
	g_free(other);
	/* Truncated, never overflowing. */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cg_log_set_context(long_name);
	g_assert_cmpuint(strlen(cg_log_get_context()), ==, CG_LOG_CONTEXT_MAX - 1);
	cg_log_set_context(NULL);
	cg_warn("plain");
	g_assert_cmpstr(sink_last, ==, "plain");
	cg_log_set_sink(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/log/level-from-string", test_level_from_string);
	g_test_add_func("/log/filtering", test_filtering);
	g_test_add_func("/log/context", test_context);
	return g_test_run();
}
