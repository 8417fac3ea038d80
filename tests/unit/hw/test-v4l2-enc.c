/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hw/v4l2's encoder plumbing without a device: which OUTPUT formats an encoder may pick for a
 * camera's picture (a padded one, like the Pi's 1088 rows for 1080, is taken and cropped),
 * when a camera's buffer can be imported into a padded layout, and how Jetson's encoder
 * nodes are found by name in a /dev directory.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/frame.h"
#include "hw/v4l2/common.h"

static void test_covers(void)
{
	struct cg_v4l2_pix pix = { V4L2_PIX_FMT_NV12, 1920, 1080, 1920, 1920 * 1080 * 3 / 2 };

	g_assert_cmpint(cg_v4l2_fmt_covers(&pix, 1920, 1080), ==, 0);
	pix.height = 1088; /* bcm2835-codec */
	g_assert_cmpint(cg_v4l2_fmt_covers(&pix, 1920, 1080), ==, 1);
	pix.width = 1920;
	pix.height = 192; /* venus: 32 rows */
	g_assert_cmpint(cg_v4l2_fmt_covers(&pix, 320, 180), ==, 1);
	/* Smaller either way: the picture does not fit. */
	g_assert_cmpint(cg_v4l2_fmt_covers(&pix, 1920, 200), ==, -ENOTSUP);
	g_assert_cmpint(cg_v4l2_fmt_covers(&pix, 2560, 180), ==, -ENOTSUP);
}

/* A camera's NV12 frame of w x h at stride s in one buffer of size bytes. */
static struct cg_frame nv12_frame(uint32_t w, uint32_t h, uint32_t s, uint32_t size)
{
	struct cg_frame f = { .fourcc = V4L2_PIX_FMT_NV12, .width = w, .height = h };

	f.n_planes = 2;
	f.planes[0] = (struct cg_frame_plane){ .dma_fd = 3, .offset = 0, .stride = s };
	f.planes[1] = (struct cg_frame_plane){ .dma_fd = 3, .offset = s * h, .stride = s };
	f.buf_size = size;
	return f;
}

static void test_frame_fits(void)
{
	struct cg_v4l2_layout exact, padded;
	struct cg_frame f = nv12_frame(320, 180, 320, 320 * 180 * 3 / 2);

	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_NV12, 320, 180, 320, &exact), ==, 0);
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_NV12, 320, 192, 320, &padded), ==, 0);
	g_assert_true(cg_v4l2_frame_fits(&exact, exact.size, &f));
	/* The padded layout wants chroma after 192 rows; the camera's is after 180. */
	g_assert_cmpuint(padded.offset[1], ==, 320 * 192);
	g_assert_false(cg_v4l2_frame_fits(&padded, padded.size, &f));
	/* A camera that pads the same way (its buffer as big) can be imported. */
	f = nv12_frame(320, 192, 320, 320 * 192 * 3 / 2);
	f.height = 180;
	g_assert_true(cg_v4l2_frame_fits(&padded, padded.size, &f));
	/* ... but not when the driver's sizeimage asks for more than the buffer holds. */
	g_assert_false(cg_v4l2_frame_fits(&padded, padded.size + 4096, &f));
	/* Another line length never fits. */
	f = nv12_frame(320, 180, 384, 384 * 180 * 3 / 2);
	g_assert_false(cg_v4l2_frame_fits(&exact, exact.size, &f));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/v4l2-enc/covers", test_covers);
	g_test_add_func("/v4l2-enc/frame-fits", test_frame_fits);
	return g_test_run();
}
