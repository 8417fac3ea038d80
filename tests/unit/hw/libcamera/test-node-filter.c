/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Which V4L2 nodes may be cameras (hw/libcamera/nodes.c), fed the nodes a Raspberry Pi 4
 * and a Raspberry Pi 5 (Bookworm, a camera module on the CSI connector and a USB webcam)
 * and a Jetson (a CSI imx219 and a USB webcam) show: driver and card as VIDIOC_QUERYCAP
 * gives them (v4l2-ctl --list-devices / --info), capture or not, formats camgate takes or
 * not. Only the webcams may be taken; the ISP's capture nodes, which do offer YUV, must not.
 */
#include <glib.h>
#include <string.h>

#include "hw/libcamera/nodes.h"

#define MC CG_NODE_CAP_IO_MC

struct board_node {
	struct cg_node_desc d;
	bool camera; /* what the filter must say */
};

static const struct board_node pi4[] = {
	{ { "/dev/video0", "unicam", "unicam", MC, true, false }, false },  /* Bayer, MC */
	{ { "/dev/video1", "unicam", "unicam", MC, false, false }, false }, /* embedded data */
	{ { "/dev/video10", "bcm2835-codec", "bcm2835-codec-decode", 0, false, false }, false },
	{ { "/dev/video11", "bcm2835-codec", "bcm2835-codec-encode", 0, false, false }, false },
	{ { "/dev/video12", "bcm2835-codec", "bcm2835-codec-isp", 0, false, false }, false },
	{ { "/dev/video13", "bcm2835-isp", "bcm2835-isp", 0, false, false }, false },
	/* The ISP's outputs are capture nodes offering YUV420 and NV12: not cameras. */
	{ { "/dev/video14", "bcm2835-isp", "bcm2835-isp", MC, true, true }, false },
	{ { "/dev/video15", "bcm2835-isp", "bcm2835-isp", 0, true, true }, false },
	{ { "/dev/video16", "bcm2835-isp", "bcm2835-isp", 0, false, false }, false },
	{ { "/dev/video18", "bcm2835-codec", "bcm2835-codec-image_fx", 0, false, false }, false },
	{ { "/dev/video19", "rpivid", "rpivid", 0, false, false }, false },
	{ { "/dev/video20", "bcm2835-isp", "bcm2835-isp", 0, false, false }, false },
	{ { "/dev/video21", "bcm2835-isp", "bcm2835-isp", 0, true, true }, false },
	{ { "/dev/video31", "bcm2835-codec", "bcm2835-codec-encode_image", 0, false, false },
	  false },
	{ { "/dev/video32", "uvcvideo", "HD Pro Webcam C920", 0, true, true }, true },
	{ { "/dev/video33", "uvcvideo", "HD Pro Webcam C920", 0, false, false }, false },
};

static const struct board_node pi5[] = {
	{ { "/dev/video0", "rp1-cfe", "rp1-cfe", MC, true, false }, false },
	{ { "/dev/video1", "rp1-cfe", "rp1-cfe", MC, true, false }, false },
	{ { "/dev/video4", "rp1-cfe", "rp1-cfe", MC, false, false }, false },
	{ { "/dev/video19", "rpi-hevc-dec", "rpi-hevc-dec", 0, false, false }, false },
	/* The back end's outputs give YUV too; skipped by driver whether or not they say
	 * V4L2_CAP_IO_MC (kernels differ). */
	{ { "/dev/video20", "pispbe", "pispbe", MC, false, false }, false },
	{ { "/dev/video22", "pispbe", "pispbe", MC, true, true }, false },
	{ { "/dev/video23", "pispbe", "pispbe", 0, true, true }, false },
	{ { "/dev/video35", "pispbe", "pispbe", MC, false, false }, false },
	{ { "/dev/video36", "uvcvideo", "Logitech BRIO", 0, true, true }, true },
};

static const struct board_node jetson[] = {
	{ { "/dev/video0", "tegra-video", "vi-output, imx219 9-0010", 0, true, false }, false },
	{ { "/dev/video1", "uvcvideo", "USB Camera: USB Camera", 0, true, true }, true },
	{ { "/dev/video2", "uvcvideo", "USB Camera: USB Camera", 0, false, false }, false },
};

static void check_board(const struct board_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = cg_node_skip_reason(&nodes[i].d);

		g_test_message("%s %s (%s): %s", nodes[i].d.path, nodes[i].d.card,
			       nodes[i].d.driver, why ? why : "camera");
		if (nodes[i].camera)
			g_assert_null(why);
		else
			g_assert_nonnull(why);
	}
}

static void test_pi4(void)
{
	check_board(pi4, G_N_ELEMENTS(pi4));
}

static void test_pi5(void)
{
	check_board(pi5, G_N_ELEMENTS(pi5));
}

static void test_jetson(void)
{
	check_board(jetson, G_N_ELEMENTS(jetson));
}

/* The reasons say what the node is, whatever else is true of it. */
static void test_reasons(void)
{
	struct cg_node_desc isp = { "/dev/video14", "bcm2835-isp", "bcm2835-isp", 0, true, true };
	struct cg_node_desc vimc = { "/dev/video2", "vimc", "Raw Capture 0", MC, true, true };
	struct cg_node_desc bayer = { "/dev/video0", "vivid", "vivid", 0, true, false };
	struct cg_node_desc m2m = { "/dev/video3", "vicodec", "stateful-encoder", 0, false, false };

	g_assert_nonnull(strstr(cg_node_skip_reason(&isp), "ISP"));
	g_assert_nonnull(strstr(cg_node_skip_reason(&vimc), "media-controller"));
	g_assert_nonnull(strstr(cg_node_skip_reason(&bayer), "offers no"));
	g_assert_nonnull(strstr(cg_node_skip_reason(&m2m), "not a video capture"));
	/* A NULL driver (a node that said nothing) is no crash. */
	bayer.driver = NULL;
	g_assert_nonnull(cg_node_skip_reason(&bayer));
}

static void test_usb_ids(void)
{
	/* libcamera's uvcvideo ids: the USB path, then vendor:product. */
	g_assert_true(cg_lc_id_is_usb("\\_SB_.PCI0.XHC_.RHUB.HS08-8:1.0-046d:0825"));
	g_assert_true(cg_lc_id_is_usb("/base/scb/pcie@7d500000/pci@0,0/usb@0,0-1.2:1.0-046D:085E"));
	/* Camera modules and vimc. */
	g_assert_false(cg_lc_id_is_usb("/base/soc/i2c0mux/i2c@1/imx708@1a"));
	g_assert_false(cg_lc_id_is_usb("/base/axi/pcie@120000/rp1/i2c@88000/imx219@10"));
	g_assert_false(cg_lc_id_is_usb("platform/vimc.0 Sensor B"));
	g_assert_false(cg_lc_id_is_usb("-046d:08"));
	g_assert_false(cg_lc_id_is_usb("x-04g6:0825"));
	g_assert_false(cg_lc_id_is_usb(""));
	g_assert_false(cg_lc_id_is_usb(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/node-filter/pi4", test_pi4);
	g_test_add_func("/node-filter/pi5", test_pi5);
	g_test_add_func("/node-filter/jetson", test_jetson);
	g_test_add_func("/node-filter/reasons", test_reasons);
	g_test_add_func("/node-filter/usb-ids", test_usb_ids);
	return g_test_run();
}
