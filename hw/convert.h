/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * CPU conversion of camera frames to I420 in CPU memory, for encoders that take nothing
 * else (x264): YUYV and NV12 are repacked, RGB24 and BGR24 (what libcamera gives for
 * vimc and some ISPs) are converted to BT.601 limited range, MJPEG is decoded (with a decoder from
 * hw/jpeg, through cg_mjpeg_ops so this file needs no libjpeg). Every output frame says in
 * copied_bytes how many pixel bytes the CPU wrote for it: these paths are not zero-copy,
 * and the counter shows it.
 *
 * Owner: the media thread; output frames may be released on any thread and stay valid
 * after cg_convert_free() until then. Frames come from a pool of CG_CONVERT_BUFFERS.
 */
#pragma once

#include <stdint.h>

#include "hw/frame.h"

#define CG_CONVERT_BUFFERS 3u

/* V4L2's packed RGB: R, G, B in memory (RGB3) and B, G, R (BGR3). */
#define CG_FOURCC_RGB24 CG_FOURCC('R', 'G', 'B', '3')
#define CG_FOURCC_BGR24 CG_FOURCC('B', 'G', 'R', '3')

struct cg_convert;

/* A JPEG decoder into I420 planes (hw/jpeg/mjpeg.h). */
struct cg_mjpeg_ops {
	const char *name;
	void *(*new)(void);
	/*
	 * Decodes len bytes of JPEG into 3 planes (Y, Cb, Cr, 4:2:0 after any vertical chroma
	 * decimation the decoder does) of width x height. Returns the pixel bytes written,
	 * -EINVAL (corrupt or a different size), -ENOTSUP (a subsampling it cannot give).
	 */
	long (*decode)(void *dec, const uint8_t *jpeg, size_t len, uint32_t width, uint32_t height,
		       uint8_t *planes[3], const uint32_t strides[3]);
	void (*free)(void *dec);
};

/*
 * A converter from fourcc (YUYV, NV12, RGB3, BGR3, MJPG/JPEG with mjpeg != NULL) at
 * width x height.
 * Returns 0, -ENOTSUP (no conversion from that format), -EINVAL (odd size).
 */
int cg_convert_new(uint32_t fourcc, uint32_t width, uint32_t height,
		   const struct cg_mjpeg_ops *mjpeg, struct cg_convert **ret);

/*
 * Converts in (borrowed) into a new I420 frame with its times and sequence. Returns 0,
 * -EAGAIN (every pool buffer is still referenced: drop the frame), -EINVAL (bad input).
 */
int cg_convert_frame(struct cg_convert *c, const struct cg_frame *in, struct cg_frame **ret);

/* Returns NULL. */
struct cg_convert *cg_convert_free(struct cg_convert *c);

/* True when cg_convert_new() accepts fourcc (given an MJPEG decoder or not). */
bool cg_convert_supports(uint32_t fourcc, bool have_mjpeg);
