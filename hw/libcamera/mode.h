/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sensor mode choice for libcamera cameras: the sensor's modes (its raw sizes, each with the
 * fastest rate it runs at) and the picture asked for give the mode the ISP scales from. A
 * pure function, so unit tests drive it with the modes real sensors list. Any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cg_lc_mode {
	uint32_t width;
	uint32_t height;
	uint32_t bit_depth;    /* bits per raw sample (10, 12); 0 when unknown */
	uint32_t max_fps_x100; /* fastest rate in this mode, frames per 100 s; 0 when unknown */
};

/*
 * Picks the mode for want_w x want_h at want_fps among n modes. In order of importance:
 * a mode that covers the size (both sides at least as large) and reaches the rate, the
 * smallest such (a binned mode: the whole field of view read at less cost, so faster
 * and less noisy than a full-resolution one scaled down); else a mode that covers the size,
 * the fastest; else the largest mode. Ties go to the deeper bit depth, then the faster.
 * A mode of unknown rate counts as reaching any rate. Returns the index, or -ENOENT when
 * n is 0, -EINVAL when want_w, want_h or want_fps is 0.
 */
int cg_lc_mode_pick(const struct cg_lc_mode *modes, size_t n, uint32_t want_w, uint32_t want_h,
		    uint32_t want_fps);

#ifdef __cplusplus
}
#endif
