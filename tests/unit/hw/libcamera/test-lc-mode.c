/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sensor mode choice (hw/libcamera/mode.c) on the modes Raspberry Pi camera modules list
 * (rpicam-hello --list-cameras): Camera Module 2 (imx219), 3 (imx708, and its HDR mode) and
 * the HQ camera (imx477).
 */
#include <errno.h>
#include <glib.h>

#include "hw/libcamera/mode.h"

static const struct cg_lc_mode imx219[] = {
	{ 640, 480, 8, 10333 },	  { 1640, 1232, 8, 4185 },  { 1920, 1080, 8, 4757 },
	{ 3280, 2464, 8, 2119 },  { 640, 480, 10, 10333 },  { 1640, 1232, 10, 4185 },
	{ 1920, 1080, 10, 4757 }, { 3280, 2464, 10, 2119 },
};

static const struct cg_lc_mode imx708[] = {
	{ 1536, 864, 10, 12013 },
	{ 2304, 1296, 10, 5603 },
	{ 4608, 2592, 10, 1435 },
};

static const struct cg_lc_mode imx708_hdr[] = { { 2304, 1296, 10, 3001 } };

static const struct cg_lc_mode imx477[] = {
	{ 1332, 990, 10, 12005 },
	{ 2028, 1080, 12, 5003 },
	{ 2028, 1520, 12, 4001 },
	{ 4056, 3040, 12, 1000 },
};

static const struct cg_lc_mode *pick(const struct cg_lc_mode *m, size_t n, uint32_t w, uint32_t h,
				     uint32_t fps)
{
	int i = cg_lc_mode_pick(m, n, w, h, fps);

	g_assert_cmpint(i, >=, 0);
	g_assert_cmpint(i, <, (int)n);
	return &m[i];
}

#define PICK(m, w, h, fps) pick(m, G_N_ELEMENTS(m), w, h, fps)

static void assert_mode(const struct cg_lc_mode *m, uint32_t w, uint32_t h, uint32_t depth)
{
	g_assert_cmpuint(m->width, ==, w);
	g_assert_cmpuint(m->height, ==, h);
	g_assert_cmpuint(m->bit_depth, ==, depth);
}

/* 720p comes from the binned full field of view, not from the 1080p crop or full size. */
static void test_imx219(void)
{
	assert_mode(PICK(imx219, 1280, 720, 30), 1640, 1232, 10);
	assert_mode(PICK(imx219, 1920, 1080, 30), 1920, 1080, 10);
	assert_mode(PICK(imx219, 640, 480, 90), 640, 480, 10);
	/* Nothing covering 1080p reaches 60: the fastest that covers it. */
	assert_mode(PICK(imx219, 1920, 1080, 60), 1920, 1080, 10);
	/* 1640x1232 covers 1280x960 but runs at 41 fps: at 30 it is the smallest that does. */
	assert_mode(PICK(imx219, 1280, 960, 30), 1640, 1232, 10);
	/* Larger than the sensor: its largest mode. */
	assert_mode(PICK(imx219, 3840, 2160, 30), 3280, 2464, 10);
}

static void test_imx708(void)
{
	assert_mode(PICK(imx708, 1280, 720, 30), 1536, 864, 10);
	assert_mode(PICK(imx708, 1920, 1080, 30), 2304, 1296, 10);
	assert_mode(PICK(imx708, 1280, 720, 100), 1536, 864, 10);
	assert_mode(PICK(imx708, 1920, 1080, 60), 2304, 1296, 10);
	assert_mode(PICK(imx708, 3840, 2160, 30), 4608, 2592, 10);
	/* HDR has one mode: it is taken whatever is asked. */
	assert_mode(PICK(imx708_hdr, 1280, 720, 30), 2304, 1296, 10);
	assert_mode(PICK(imx708_hdr, 3840, 2160, 60), 2304, 1296, 10);
}

static void test_imx477(void)
{
	assert_mode(PICK(imx477, 1280, 720, 60), 1332, 990, 10);
	assert_mode(PICK(imx477, 1920, 1080, 30), 2028, 1080, 12);
	assert_mode(PICK(imx477, 1920, 1440, 30), 2028, 1520, 12);
	/* 1440 lines at 45: 2028x1520 covers but tops out at 40, still the fastest that covers. */
	assert_mode(PICK(imx477, 1920, 1440, 45), 2028, 1520, 12);
}

/* A mode whose rate libcamera did not say counts as fast enough. */
static void test_unknown_rate(void)
{
	static const struct cg_lc_mode m[] = { { 1920, 1080, 10, 0 }, { 1280, 720, 10, 1500 } };

	g_assert_cmpint(cg_lc_mode_pick(m, 2, 1280, 720, 30), ==, 0);
	g_assert_cmpint(cg_lc_mode_pick(m, 2, 1280, 720, 15), ==, 1);
}

static void test_bad_input(void)
{
	g_assert_cmpint(cg_lc_mode_pick(imx708, 0, 1280, 720, 30), ==, -ENOENT);
	g_assert_cmpint(cg_lc_mode_pick(NULL, 3, 1280, 720, 30), ==, -ENOENT);
	g_assert_cmpint(cg_lc_mode_pick(imx708, 3, 0, 720, 30), ==, -EINVAL);
	g_assert_cmpint(cg_lc_mode_pick(imx708, 3, 1280, 0, 30), ==, -EINVAL);
	g_assert_cmpint(cg_lc_mode_pick(imx708, 3, 1280, 720, 0), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lc-mode/imx219", test_imx219);
	g_test_add_func("/lc-mode/imx708", test_imx708);
	g_test_add_func("/lc-mode/imx477", test_imx477);
	g_test_add_func("/lc-mode/unknown-rate", test_unknown_rate);
	g_test_add_func("/lc-mode/bad-input", test_bad_input);
	return g_test_run();
}
