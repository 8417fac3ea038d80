/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <string.h>

#include "hw/libcamera/nodes.h"

/*
 * Drivers whose capture nodes are a pipeline's insides: Raspberry Pi 4's CSI receiver
 * (unicam), ISP and codec, Raspberry Pi 5's CSI receiver (rp1-cfe) and ISP back end
 * (pispbe), and Jetson's CSI receiver (tegra-video, raw Bayer for libargus).
 */
static const struct {
	const char *driver;
	const char *why;
} node_pipeline_drivers[] = {
	{ "unicam", "CSI receiver (raw Bayer; the camera module is a libcamera camera)" },
	{ "rp1-cfe", "CSI receiver (raw Bayer; the camera module is a libcamera camera)" },
	{ "bcm2835-isp", "ISP node (libcamera drives it)" },
	{ "pispbe", "ISP node (libcamera drives it)" },
	{ "bcm2835-codec", "codec node (an encoder or decoder, not a camera)" },
	{ "tegra-video", "CSI receiver (raw Bayer)" },
};

const char *cg_node_skip_reason(const struct cg_node_desc *node)
{
	const char *driver = node->driver ? node->driver : "";

	for (size_t i = 0; i < sizeof(node_pipeline_drivers) / sizeof(node_pipeline_drivers[0]);
	     i++)
		if (strcmp(driver, node_pipeline_drivers[i].driver) == 0)
			return node_pipeline_drivers[i].why;
	if (!node->capture)
		return "not a video capture node";
	/* A node the media controller routes only carries what a pipeline handler set up. */
	if (node->device_caps & CG_NODE_CAP_IO_MC)
		return "media-controller pipeline node (libcamera's pipeline handler owns it)";
	if (!node->usable_format)
		return "offers no NV12, YUYV, YU12, MJPEG or H.264";
	return NULL;
}

static bool nodes_is_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

bool cg_lc_id_is_usb(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	const char *t;

	if (n < 10)
		return false;
	t = id + n - 10; /* "-VVVV:PPPP" */
	return t[0] == '-' && nodes_is_hex4(t + 1) && t[5] == ':' && nodes_is_hex4(t + 6);
}
