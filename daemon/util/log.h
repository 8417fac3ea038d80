/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one logging front-end (STYLE 4.9). Each .c file defines CG_LOG_TOPIC before
 * including this header. Levels follow syslog priorities. Any thread: a line is formatted
 * on the caller's stack and written with one write(2), so lines never interleave.
 * Nothing in proto/, crypto/, util/ or hw/ logs above debug.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "util/macros.h"

enum cg_log_level {
	CG_LOG_ERR = 3,
	CG_LOG_WARN = 4,
	CG_LOG_NOTICE = 5,
	CG_LOG_INFO = 6,
	CG_LOG_DEBUG = 7,
	CG_LOG_TRACE = 8,
};

/* A sink receives every line that passes the level check. */
typedef void (*cg_log_sink_fn)(enum cg_log_level level, const char *topic, const char *file,
			       int line, const char *func, const char *message);

/* Sets the maximum level logged (default CG_LOG_INFO). Any thread. */
void cg_log_set_level(enum cg_log_level level);
enum cg_log_level cg_log_get_level(void);
/* Parses "err|warn|notice|info|debug|trace"; returns the level or -EINVAL. */
int cg_log_level_from_string(const char *s);
/* Replaces the sink (NULL restores stderr). Call before threads start. */
void cg_log_set_sink(cg_log_sink_fn sink);

#define CG_LOG_CONTEXT_MAX 48

/*
 * Names what the calling thread works for ("camera front"): every line it logs from now on
 * starts with "camera front: ", so that with several cameras a line says which one it is
 * about. NULL or "" clears it. Copied (truncated to CG_LOG_CONTEXT_MAX - 1 bytes). Calling
 * thread only.
 */
void cg_log_set_context(const char *context);

/* The calling thread's context, "" when none; valid until the thread changes it. A thread
 * started on its behalf copies it and sets it as its own. Calling thread only. */
const char *cg_log_get_context(void);

void cg_log_write(enum cg_log_level level, const char *topic, const char *file, int line,
		  const char *func, const char *fmt, ...) CG_PRINTF(6, 7);

#ifndef CG_LOG_TOPIC
#define CG_LOG_TOPIC "camgate"
#endif

#define cg_log(level, ...)                                                                  \
	do {                                                                                \
		if (__builtin_expect((level) <= cg_log_get_level(), 0))                     \
			cg_log_write((level), CG_LOG_TOPIC, __FILE__, __LINE__, __func__,   \
				     __VA_ARGS__);                                          \
	} while (0)

#define cg_err(...) cg_log(CG_LOG_ERR, __VA_ARGS__)
#define cg_warn(...) cg_log(CG_LOG_WARN, __VA_ARGS__)
#define cg_notice(...) cg_log(CG_LOG_NOTICE, __VA_ARGS__)
#define cg_info(...) cg_log(CG_LOG_INFO, __VA_ARGS__)
#define cg_debug(...) cg_log(CG_LOG_DEBUG, __VA_ARGS__)
#define cg_trace(...) cg_log(CG_LOG_TRACE, __VA_ARGS__)
