/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Synthetic capture source "test": moving I420 pictures in CPU memory with the block code
 * (hw/fake/blockcode.h) burned into the top-left corner, paced by a CLOCK_MONOTONIC timerfd.
 * The device "test:detailed" (--source=test:detailed) draws a fine texture panning every
 * frame in bands at four speeds under fresh noise instead: hard for an encoder, like a
 * real camera's picture, for measuring encode cost.
 *
 * Owner: the media thread; every op is media thread only, except that frames may be
 * released (cg_frame_unref) on any thread. Frames come from a fixed pool of
 * CG_TESTSRC_BUFFERS buffers allocated at open; a frame stays valid until its last unref,
 * even after close().
 */
#pragma once

#include "hw/capture.h"

#define CG_TESTSRC_BUFFERS	  4u
#define CG_TESTSRC_DEFAULT_WIDTH  1280u
#define CG_TESTSRC_DEFAULT_HEIGHT 720u
#define CG_TESTSRC_DEFAULT_FPS	  30u

/*
 * open(): cfg->width/height/fps of 0 mean the defaults (1280x720@30). Sizes must be even,
 * 16..8192; fps 1..240; otherwise -ENOTSUP. The device name is "test" or "test:detailed"
 * (the registry maps both here). Pixel strides are the width rounded up to 64 bytes.
 *
 * fd(): the pacing timerfd; readable once per frame period after start().
 * start()/stop(): arm/disarm the timer (0, or -errno from timerfd_settime).
 * dequeue(): consumes the timer; if several periods expired only one frame is produced.
 * Returns 0 with a new frame (refcount 1, capture times taken now, sequence + 1), -EAGAIN if
 * the timer has not expired or all buffers are still referenced (the tick is dropped), or
 * -errno from reading the timerfd.
 */
extern const struct cg_capture_ops cg_testsrc_capture_ops;
