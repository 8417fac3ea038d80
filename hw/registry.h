/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The compiled-in backends. hw/registry.c is the only file that tests HAVE_*. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hw/capture.h"
#include "hw/convert.h"
#include "hw/encoder.h"

/*
 * The --camera-control settings (see hw/libcamera/controls.h) for every libcamera camera
 * opened from now on. Returns 0, -EINVAL with the reason in err, or -ENOTSUP (err says
 * so) when controls are given to a build without libcamera. Any thread.
 */
int cg_registry_set_camera_controls(const char *controls, char *err, size_t err_size);

/* Capture backend for a source name ("test", "/dev/videoN"), or NULL. */
const struct cg_capture_ops *cg_registry_capture(const char *source);

/*
 * Resolves a source name: "auto" becomes the first V4L2 camera node that offers a format
 * camgate can take, or "test" when there is none (reason, if not NULL, says why, for the
 * log); other names are copied as they are. Returns 0 or -ENAMETOOLONG.
 */
int cg_registry_resolve_source(const char *source, char *buf, size_t size, char *reason,
			       size_t reason_size);

#define CG_REGISTRY_PATH_MAX 64

/* Every usable V4L2 camera node (as --source=auto would take), in node order, into paths
 * (at most max); none in a build without V4L2. Returns how many. */
unsigned cg_registry_find_cameras(char (*paths)[CG_REGISTRY_PATH_MAX], unsigned max);

/*
 * Encoder backend by name ("x264", "v4l2-m2m", "vaapi", "passthrough"; "auto" is the first
 * of cg_registry_encoders()), or NULL when it is not compiled in.
 */
const struct cg_encoder_ops *cg_registry_encoder(const char *name);

/* NULL-terminated list of compiled-in encoder backends, best first. */
const struct cg_encoder_ops *const *cg_registry_encoders(void);

/* The passthrough encoder (always compiled in), for cameras that send H.264. */
const struct cg_encoder_ops *cg_registry_passthrough(void);

/* The MJPEG decoder, or NULL when libjpeg-turbo is not compiled in. */
const struct cg_mjpeg_ops *cg_registry_mjpeg(void);

/*
 * Prints every camera (with its formats, sizes and rates) and every encoder found, for
 * --list-devices. Returns 0 or -errno. Any thread.
 */
int cg_registry_print_devices(FILE *out);
