/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A captured picture: plane layout, format, timestamps and, on hardware paths, the DMA-BUF
 * fds of its buffer. Reference-counted and immutable after the capture backend hands it
 * out; the last cg_frame_unref() on any thread calls the backend's release callback, which
 * gives the buffer back to its owner (on V4L2: posts the index to the media thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/refcount.h"

#define CG_FRAME_MAX_PLANES 3

/* fourcc codes as in linux/videodev2.h, repeated so hw users need not include it. */
#define CG_FOURCC(a, b, c, d)                                                                      \
	((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define CG_FOURCC_I420 CG_FOURCC('Y', 'U', '1', '2')
#define CG_FOURCC_NV12 CG_FOURCC('N', 'V', '1', '2')
#define CG_FOURCC_YUYV CG_FOURCC('Y', 'U', 'Y', 'V')
#define CG_FOURCC_MJPG CG_FOURCC('M', 'J', 'P', 'G')
#define CG_FOURCC_JPEG CG_FOURCC('J', 'P', 'E', 'G')
#define CG_FOURCC_H264 CG_FOURCC('H', '2', '6', '4')
#define CG_FOURCC_FWHT CG_FOURCC('F', 'W', 'H', 'T')

struct cg_frame_plane {
	int dma_fd;	 /* -1 when the plane is only in CPU memory */
	uint32_t offset; /* this plane's position in dma_fd's buffer; data already points at the
			    plane */
	uint32_t stride; /* bytes per line */
	uint8_t *data;	 /* CPU mapping of this plane, or NULL */
};

struct cg_frame;
typedef void (*cg_frame_release_fn)(struct cg_frame *frame, void *userdata);

struct cg_frame {
	struct cg_refcount ref;
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	unsigned n_planes;
	struct cg_frame_plane planes[CG_FRAME_MAX_PLANES];
	uint64_t capture_mono_usec; /* CLOCK_MONOTONIC at capture (the kernel's timestamp) */
	uint64_t capture_wall_usec; /* CLOCK_REALTIME at capture */
	uint32_t sequence;	    /* capture counter */
	/*
	 * The whole picture is one buffer: planes[0].dma_fd (when >= 0) is its DMA-BUF, of
	 * buf_size bytes, of which bytesused carry data (all of a raw picture, the bitstream
	 * of an MJPEG or H.264 frame). Planes 1.. share that buffer at their offsets.
	 */
	uint32_t buf_size;
	uint32_t bytesused;
	bool keyframe;	       /* compressed sources: the frame starts a GOP */
	uint32_t copied_bytes; /* pixel bytes the CPU wrote to make this frame (0: DMA) */
	cg_frame_release_fn release;
	void *release_userdata;
};

static inline struct cg_frame *cg_frame_ref(struct cg_frame *f)
{
	cg_refcount_inc(&f->ref);
	return f;
}

/* Drops a reference; the last one calls f->release. Any thread. Returns NULL. */
static inline struct cg_frame *cg_frame_unref(struct cg_frame *f)
{
	if (f && cg_refcount_dec(&f->ref))
		f->release(f, f->release_userdata);
	return NULL;
}
