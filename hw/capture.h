/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Capture backend interface (STYLE 4.4). Owner: the media thread; every op is media thread
 * only. The daemon polls fd() for POLLIN and calls dequeue(), which returns the newest
 * complete frame (older ones are given back: the newest frame wins).
 */
#pragma once

#include <stdint.h>

#include "hw/frame.h"

struct cg_capture;

struct cg_capture_cfg {
	const char *device; /* "test", "/dev/video0", … */
	uint32_t width;
	uint32_t height;
	uint32_t fps;
	/* Pixel formats acceptable, best first, 0-terminated; NULL: the backend's default. */
	const uint32_t *formats;
};

/* The mode a capture runs in, known after open(). */
struct cg_capture_format {
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	uint32_t fps;	 /* frames per second, rounded */
	uint32_t stride; /* bytes per line of the first plane; 0 for compressed formats */
	uint32_t size;	 /* bytes of one buffer */
	char card[32];	 /* device name for logs ("vivid", "HD Pro Webcam C920") */
};

struct cg_capture_ops {
	unsigned version;
	const char *name;
	/* Returns 0, -ENODEV (no such device), -ENOTSUP (no usable mode), -EINVAL. */
	int (*open)(const struct cg_capture_cfg *cfg, struct cg_capture **ret);
	/* A pollable fd that becomes readable when a frame is ready. */
	int (*fd)(struct cg_capture *cap);
	int (*start)(struct cg_capture *cap);
	int (*stop)(struct cg_capture *cap);
	/*
	 * Returns 0 with a new reference in *ret, -EAGAIN when nothing is ready, -ENODEV when
	 * the device vanished, -ESTALE when its source changed (reopen to renegotiate), -EIO.
	 */
	int (*dequeue)(struct cg_capture *cap, struct cg_frame **ret);
	/* Frees the backend; frames still referenced stay valid until released. */
	void (*close)(struct cg_capture *cap);
	/* The negotiated mode. Valid from open() on. */
	void (*get_format)(struct cg_capture *cap, struct cg_capture_format *ret);
	/*
	 * Optional (NULL when the backend has none): asks a camera that compresses by itself
	 * for a key frame. Returns 0, or -ENOTSUP when this camera cannot.
	 */
	int (*request_keyframe)(struct cg_capture *cap);
};
