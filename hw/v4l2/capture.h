/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * V4L2 camera capture (STYLE 4.4), through libv4l2.
 *
 * open(): cfg->device is a /dev/videoN capture node. The mode is the best of the node's
 * formats, sizes and rates for cfg's size and rate (hw/v4l2/mode.h), among cfg->formats
 * (NULL: cg_v4l2_default_formats). CG_V4L2_CAPTURE_BUFFERS MMAP buffers are mapped and
 * exported once with VIDIOC_EXPBUF; a node that cannot export gives CPU-only frames
 * (planes[].dma_fd -1). Returns 0, -ENODEV (no such node, or not a capture node), -ENOTSUP
 * (no mode in an acceptable format), -EBUSY (in use), or another -errno from the driver.
 *
 * fd(): an epoll fd that is readable when a buffer is done, an event (source change,
 * disconnect) is pending, or a frame was released and its buffer can go back to the
 * driver. Buffers go back to the driver only on the media thread, inside dequeue().
 *
 * dequeue(): gives released buffers back, then returns the newest done buffer as a frame
 * (older done buffers are requeued at once: the newest frame wins). The frame's
 * capture_mono_usec is the driver's CLOCK_MONOTONIC timestamp, capture_wall_usec the same
 * instant on CLOCK_REALTIME. Returns 0, -EAGAIN, -ENODEV (the device vanished: POLLERR,
 * ENODEV), -ESTALE (V4L2_EVENT_SOURCE_CHANGE: reopen to renegotiate), -EIO.
 *
 * Frames stay valid after close() until released (they hold the mapping and the export).
 * Owner: the media thread; frames may be released on any thread.
 */
#pragma once

#include "hw/capture.h"

#define CG_V4L2_CAPTURE_BUFFERS 5u

extern const struct cg_capture_ops cg_v4l2_capture_ops;
