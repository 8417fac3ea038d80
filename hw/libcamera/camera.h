/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libcamera cameras (Raspberry Pi camera modules, and whatever else libcamera drives) behind
 * the capture vtable: --source=libcamera[:ID], ID as libcamera names the camera or its index
 * in libcamera's list. Frames are libcamera's own FrameBuffers, whose planes are DMA-BUFs:
 * they reach a mem2mem or VA-API encoder without a copy (copied_bytes 0) and x264 through a
 * read-only mapping; a buffer goes back to libcamera (its request queued again) when the
 * frame's last reference goes. The newest frame wins. The capture time is the sensor's
 * timestamp (controls::SensorTimestamp, CLOCK_MONOTONIC).
 *
 * The camera manager is one per process, shared by every libcamera camera and by
 * --list-devices, started when the first user comes and stopped when the last goes (so a
 * camera reopened alone is found again even without udev's hotplug events).
 *
 * C++ inside (hw/libcamera/camera.cpp), C outside. Threads: the capture ops are the media
 * thread's (as every capture backend's); the other functions any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hw/capture.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CG_LIBCAMERA_PREFIX "libcamera"

extern const struct cg_capture_ops cg_libcamera_capture_ops;

/* Whether source is "libcamera" or "libcamera:ID". */
bool cg_libcamera_is_source(const char *source);

/*
 * Every libcamera camera that --source=auto may take, best first (not USB ones: those are
 * V4L2 cameras too, see cg_lc_id_is_usb()), as "libcamera:ID" (or "libcamera:INDEX" when
 * the id does not fit in size bytes) into sources (at most max, each size bytes). Returns
 * how many; 0 when libcamera finds none or cannot start.
 */
unsigned cg_libcamera_find_cameras(char *sources, size_t size, unsigned max);

/*
 * Prints every libcamera camera for --list-devices: its source name, model, sensor modes
 * (size, bit depth, fastest rate) and the formats and sizes of its video stream. Returns
 * how many cameras, or -errno when the camera manager cannot start.
 */
int cg_libcamera_print_cameras(FILE *out);

/*
 * The --camera-control settings ("KEY=VALUE,...", see hw/libcamera/controls.h) every
 * libcamera camera opened from now on gets. Returns 0, or -EINVAL with the reason in err
 * (the settings in force are then unchanged). Any thread; cameras already open keep theirs.
 */
int cg_libcamera_set_controls(const char *controls, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
