/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Small helpers shared by every layer: allocation that aborts on OOM (STYLE 4.7 rule 8),
 * array sizes, min/max, and the programmer-error assertion that stays on in release builds.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CG_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CG_UNUSED __attribute__((unused))
#define CG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Programmer errors only: never for input, network or hardware errors. */
#define cg_assert(expr)                                                                    \
	do {                                                                               \
		if (__builtin_expect(!(expr), 0)) {                                        \
			fprintf(stderr, "camgate: assertion '%s' failed at %s:%d\n", #expr, \
				__FILE__, __LINE__);                                       \
			abort();                                                           \
		}                                                                          \
	} while (0)

static inline void *cg_malloc0(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	cg_assert(p);
	return p;
}

#define cg_new0(type, n) ((type *)cg_malloc0(sizeof(type) * (n)))

static inline char *cg_strdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;
	cg_assert(!s || p);
	return p;
}

static inline void cg_freep(void *p)
{
	free(*(void **)p);
}
#define cg_autofree __attribute__((cleanup(cg_freep)))
