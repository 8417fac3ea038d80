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
#include <unistd.h>

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

static void touch(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, "", 0, NULL));
}

static void free_paths(char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free(paths[i]);
}

/* Jetson's encoder is found by name, first, beside /dev/videoN in N order. */
static void test_jetson_nodes(void)
{
	g_autofree char *dir = g_dir_make_tmp("camgate-fake-dev-XXXXXX", NULL);
	g_autofree char *msenc = g_build_filename(dir, "nvhost-msenc", NULL);
	g_autofree char *nvenc = g_build_filename(dir, "v4l2-nvenc", NULL);
	g_autofree char *v2 = g_build_filename(dir, "video2", NULL);
	g_autofree char *v10 = g_build_filename(dir, "video10", NULL);
	char *paths[8];
	int n;

	touch(dir, "video10");
	touch(dir, "video2");
	touch(dir, "videox"); /* not a node name */
	touch(dir, "nvhost-ctrl");
	/* No Jetson node: only the video nodes, by number. */
	n = cg_v4l2_list_nodes_in(dir, cg_v4l2_jetson_encoder_nodes, paths, 8);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpstr(paths[0], ==, v2);
	g_assert_cmpstr(paths[1], ==, v10);
	free_paths(paths, n);
	/* Older L4T: /dev/nvhost-msenc comes first. */
	touch(dir, "nvhost-msenc");
	n = cg_v4l2_list_nodes_in(dir, cg_v4l2_jetson_encoder_nodes, paths, 8);
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpstr(paths[0], ==, msenc);
	g_assert_cmpstr(paths[1], ==, v2);
	free_paths(paths, n);
	/* Newer L4T has /dev/v4l2-nvenc (a symlink counts): it is tried before the old name. */
	g_assert_cmpint(symlink("nvhost-msenc", nvenc), ==, 0);
	n = cg_v4l2_list_nodes_in(dir, cg_v4l2_jetson_encoder_nodes, paths, 8);
	g_assert_cmpint(n, ==, 4);
	g_assert_cmpstr(paths[0], ==, nvenc);
	g_assert_cmpstr(paths[1], ==, msenc);
	g_assert_cmpstr(paths[3], ==, v10);
	free_paths(paths, n);
	/* Cameras are listed without the named nodes; max is respected. */
	n = cg_v4l2_list_nodes_in(dir, NULL, paths, 1);
	g_assert_cmpint(n, ==, 1);
	free_paths(paths, n);
	g_assert_cmpint(cg_v4l2_list_nodes_in("/nonexistent-camgate", NULL, paths, 8), ==, -ENOENT);
	g_unlink(nvenc);
	g_unlink(msenc);
	for (const char *const *p =
		     (const char *const[]){ "video10", "video2", "videox", "nvhost-ctrl", NULL };
	     *p; p++) {
		g_autofree char *path = g_build_filename(dir, *p, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

/*
 * Jetson's encoder takes YUV420M and NV12M only: a camera's YU12 or NV12 feeds it plane by
 * plane (the twin formats), and the layout the frame is copied into is the driver's per plane.
 */
static void test_jetson_formats(void)
{
	struct cg_v4l2_layout l;

	g_assert_cmpuint(cg_v4l2_multi_buffer_fourcc(V4L2_PIX_FMT_YUV420), ==,
			 V4L2_PIX_FMT_YUV420M);
	g_assert_cmpuint(cg_v4l2_multi_buffer_fourcc(V4L2_PIX_FMT_NV12), ==, V4L2_PIX_FMT_NV12M);
	/* 1920x1080 at the 256-byte pitch NVIDIA's buffers use: chroma lines are half of it. */
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_YUV420, 1920, 1080, 2048, &l), ==, 0);
	g_assert_cmpuint(l.stride[1], ==, 1024);
	g_assert_cmpuint(l.stride[2], ==, 1024);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/v4l2-enc/covers", test_covers);
	g_test_add_func("/v4l2-enc/frame-fits", test_frame_fits);
	g_test_add_func("/v4l2-enc/jetson-nodes", test_jetson_nodes);
	g_test_add_func("/v4l2-enc/jetson-formats", test_jetson_formats);
	return g_test_run();
}
