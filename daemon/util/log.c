/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static int log_level = CG_LOG_INFO;
static cg_log_sink_fn log_sink;
static _Thread_local char log_context[CG_LOG_CONTEXT_MAX];

static const char *const level_names[] = {
	[CG_LOG_ERR] = "err",	[CG_LOG_WARN] = "warn",	  [CG_LOG_NOTICE] = "notice",
	[CG_LOG_INFO] = "info", [CG_LOG_DEBUG] = "debug", [CG_LOG_TRACE] = "trace",
};

void cg_log_set_level(enum cg_log_level level)
{
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum cg_log_level cg_log_get_level(void)
{
	return (enum cg_log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int cg_log_level_from_string(const char *s)
{
	for (size_t i = 0; i < CG_ARRAY_SIZE(level_names); i++)
		if (level_names[i] && s && strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void cg_log_set_sink(cg_log_sink_fn sink)
{
	log_sink = sink;
}

void cg_log_set_context(const char *context)
{
	snprintf(log_context, sizeof(log_context), "%s", context ? context : "");
}

const char *cg_log_get_context(void)
{
	return log_context;
}

static void log_stderr(enum cg_log_level level, const char *topic, const char *message)
{
	char line[1200];
	struct timespec ts;
	int n;

	/* Monotonic seconds: lines from several threads can be ordered and timed. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%5ld.%03ld camgate[%s] %s: %s\n", (long)ts.tv_sec,
		     ts.tv_nsec / 1000000, level_names[level], topic, message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write per line, so lines from several threads never interleave. */
	ssize_t CG_UNUSED ignored = write(STDERR_FILENO, line, (size_t)n);
}

void cg_log_write(enum cg_log_level level, const char *topic, const char *file, int line,
		  const char *func, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	int saved_errno = errno;
	int n = 0;

	if (log_context[0])
		n = snprintf(message, sizeof(message), "%s: ", log_context);
	/* Formatting may read errno (%m): it sees the caller's. */
	errno = saved_errno;
	va_start(ap, fmt);
	vsnprintf(message + n, sizeof(message) - (size_t)n, fmt, ap);
	va_end(ap);
	if (level < CG_LOG_ERR)
		level = CG_LOG_ERR;
	if (level > CG_LOG_TRACE)
		level = CG_LOG_TRACE;
	if (log_sink)
		log_sink(level, topic, file, line, func, message);
	else
		log_stderr(level, topic, message);
	errno = saved_errno;
}
