/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Camera modes: enumeration of a capture node's formats, frame sizes and frame intervals
 * (VIDIOC_ENUM_FMT / ENUM_FRAMESIZES / ENUM_FRAMEINTERVALS), and the choice of the best one
 * for a requested size and rate. The choice is a pure function so unit tests drive it
 * with made-up cameras. Any thread, on fds the caller owns.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CG_V4L2_MAX_MODES 512

struct cg_v4l2_mode {
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	uint32_t fps_num; /* frames per second as a fraction: fps_num / fps_den */
	uint32_t fps_den;
};

/*
 * The formats camgate can take from a camera, best first: raw formats a hardware encoder
 * imports without a copy, then MJPEG (decoded on the CPU), then H.264 (passed through).
 * 0-terminated.
 */
extern const uint32_t cg_v4l2_default_formats[];

/*
 * Lists fd's modes (queue type) into modes (up to max). Stepwise and continuous sizes and
 * intervals contribute the requested width/height/fps clamped to their range, since every
 * point of a range is a mode. Only formats in the 0-terminated list formats count (NULL:
 * all). Returns how many, or -errno.
 */
int cg_v4l2_mode_list(int fd, uint32_t type, uint32_t want_w, uint32_t want_h, uint32_t want_fps,
		      const uint32_t *formats, struct cg_v4l2_mode *modes, size_t max);

/*
 * Picks the best of n modes for want_w x want_h at want_fps among the formats (0-terminated,
 * best first). In order of importance: the size (exact; else the smallest that covers it;
 * else the largest), the rate (at least want_fps and the lowest such; else the highest),
 * then the format's rank. Returns the index, or -ENOTSUP when no mode has a listed format.
 */
int cg_v4l2_mode_pick(const struct cg_v4l2_mode *modes, size_t n, uint32_t want_w, uint32_t want_h,
		      uint32_t want_fps, const uint32_t *formats);

/* Frames per second of a mode, rounded. */
uint32_t cg_v4l2_mode_fps(const struct cg_v4l2_mode *m);
