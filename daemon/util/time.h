/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One unit for time everywhere: microseconds in a uint64_t. Not for daemon/proto, which
 * takes time as a parameter. Any thread.
 */
#pragma once

#include <stdint.h>
#include <time.h>

#define CG_USEC_PER_SEC UINT64_C(1000000)
#define CG_USEC_PER_MSEC UINT64_C(1000)

static inline uint64_t cg_clock_usec(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * CG_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static inline uint64_t cg_mono_usec(void)
{
	return cg_clock_usec(CLOCK_MONOTONIC);
}

static inline uint64_t cg_wall_usec(void)
{
	return cg_clock_usec(CLOCK_REALTIME);
}
