/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Which V4L2 nodes may be taken as a camera by V4L2 capture, and which libcamera cameras
 * are worth preferring: on a Raspberry Pi the nodes of the CSI receiver (raw Bayer), the ISP
 * and the codec are libcamera's (or an encoder's) to drive, never a camera of their own.
 * Pure functions over what the nodes say of themselves (VIDIOC_QUERYCAP), so unit tests
 * feed them the node lists of real boards. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* V4L2_CAP_IO_MC (linux/videodev2.h): the media controller routes this node's data. */
#define CG_NODE_CAP_IO_MC 0x20000000u

struct cg_node_desc {
	const char *path;     /* "/dev/video0" */
	const char *driver;   /* VIDIOC_QUERYCAP driver: "uvcvideo", "unicam", "rp1-cfe" */
	const char *card;     /* VIDIOC_QUERYCAP card */
	uint32_t device_caps; /* VIDIOC_QUERYCAP device_caps */
	bool capture;	      /* a video capture node (not mem2mem, output or metadata) */
	bool usable_format;   /* offers a format camgate takes (NV12, YUYV, YU12, MJPEG, H.264) */
};

/*
 * NULL when the node may be a V4L2 camera, else why not (a static string for logs and
 * --list-devices): an ISP, codec or CSI receiver node, a node a media-controller pipeline
 * owns, not a capture node, no usable format.
 */
const char *cg_node_skip_reason(const struct cg_node_desc *node);

/*
 * Whether a libcamera camera id names a USB (UVC) camera: libcamera's uvcvideo pipeline
 * handler ends its ids with "-VVVV:PPPP", the USB vendor and product in hex. Such a camera
 * is better taken by V4L2 capture itself (MJPEG, H.264 passthrough), so `auto` does not
 * prefer it over V4L2 the way it prefers a CSI camera module.
 */
bool cg_lc_id_is_usb(const char *id);

#ifdef __cplusplus
}
#endif
