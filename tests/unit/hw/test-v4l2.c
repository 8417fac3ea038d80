/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hw/v4l2 without a device: plane layouts, mode choice, buffer helpers, registry. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hw/registry.h"
#include "hw/v4l2/capture.h"
#include "hw/v4l2/common.h"
#include "hw/v4l2/mode.h"

static void test_layout(void)
{
	struct cg_v4l2_layout l;

	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_NV12, 640, 480, 640, &l), ==, 0);
	g_assert_cmpuint(l.n_planes, ==, 2);
	g_assert_cmpuint(l.offset[1], ==, 640 * 480);
	g_assert_cmpuint(l.stride[1], ==, 640);
	g_assert_cmpuint(l.size, ==, 640 * 480 * 3 / 2);
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_YUV420, 640, 480, 704, &l), ==, 0);
	g_assert_cmpuint(l.n_planes, ==, 3);
	g_assert_cmpuint(l.stride[2], ==, 352);
	g_assert_cmpuint(l.offset[2], ==, 704 * 480 + 352 * 240);
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_YUYV, 640, 480, 1280, &l), ==, 0);
	g_assert_cmpuint(l.size, ==, 1280 * 480);
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_MJPEG, 640, 480, 0, &l), ==, 0);
	g_assert_cmpuint(l.size, ==, 0);
	g_assert_true(cg_v4l2_is_compressed(V4L2_PIX_FMT_H264));
	g_assert_cmpint(cg_v4l2_layout(V4L2_PIX_FMT_SBGGR8, 640, 480, 640, &l), ==, -ENOTSUP);
}

#define M(f, w, h, fps)                                                                            \
	{                                                                                          \
		V4L2_PIX_FMT_##f, w, h, fps, 1                                                     \
	}

/* A typical UVC webcam: YUYV is slow at 720p, MJPEG is not. */
static const struct cg_v4l2_mode webcam[] = {
	M(YUYV, 640, 480, 30),	M(YUYV, 1280, 720, 10),	 M(YUYV, 1920, 1080, 5),
	M(MJPEG, 640, 480, 30), M(MJPEG, 1280, 720, 30), M(MJPEG, 1920, 1080, 30),
	M(H264, 1280, 720, 30),
};

static void test_pick(void)
{
	const struct cg_v4l2_mode *m = webcam;
	size_t n = G_N_ELEMENTS(webcam);
	int i;

	/* 720p30: only MJPEG and H.264 make the rate; MJPEG ranks first. */
	i = cg_v4l2_mode_pick(m, n, 1280, 720, 30, cg_v4l2_default_formats);
	g_assert_cmpuint(m[i].fourcc, ==, V4L2_PIX_FMT_MJPEG);
	g_assert_cmpuint(m[i].width, ==, 1280);
	/* 720p10: YUYV makes it and is the better format. */
	i = cg_v4l2_mode_pick(m, n, 1280, 720, 10, cg_v4l2_default_formats);
	g_assert_cmpuint(m[i].fourcc, ==, V4L2_PIX_FMT_YUYV);
	/* 800x600: the smallest size that covers it. */
	i = cg_v4l2_mode_pick(m, n, 800, 600, 30, cg_v4l2_default_formats);
	g_assert_cmpuint(m[i].width, ==, 1280);
	/* 4K: the largest there is. */
	i = cg_v4l2_mode_pick(m, n, 3840, 2160, 30, cg_v4l2_default_formats);
	g_assert_cmpuint(m[i].width, ==, 1920);
	g_assert_cmpuint(m[i].fourcc, ==, V4L2_PIX_FMT_MJPEG);
	/* Passthrough wants H.264 only. */
	i = cg_v4l2_mode_pick(m, n, 1280, 720, 30, (const uint32_t[]){ V4L2_PIX_FMT_H264, 0 });
	g_assert_cmpuint(m[i].fourcc, ==, V4L2_PIX_FMT_H264);
	g_assert_cmpint(
		cg_v4l2_mode_pick(m, n, 640, 480, 30, (const uint32_t[]){ V4L2_PIX_FMT_NV12, 0 }),
		==, -ENOTSUP);
	/* 29.97 counts as 30. */
	const struct cg_v4l2_mode ntsc[] = { { V4L2_PIX_FMT_NV12, 640, 480, 30000, 1001 },
					     { V4L2_PIX_FMT_NV12, 640, 480, 15, 1 } };
	i = cg_v4l2_mode_pick(ntsc, 2, 640, 480, 30, cg_v4l2_default_formats);
	g_assert_cmpint(i, ==, 0);
	g_assert_cmpuint(cg_v4l2_mode_fps(&ntsc[0]), ==, 30);
}

static void test_buf(void)
{
	struct cg_v4l2_buf b;
	struct v4l2_format f;
	struct cg_v4l2_pix pix = { V4L2_PIX_FMT_NV12, 640, 480, 640, 0 }, got;

	cg_v4l2_buf_init(&b, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_MEMORY_DMABUF, 1);
	g_assert_true(b.b.m.planes == &b.plane);
	cg_v4l2_buf_set_dmabuf(&b, 9, 1000, 900);
	g_assert_cmpint(b.plane.m.fd, ==, 9);
	g_assert_cmpuint(cg_v4l2_buf_length(&b), ==, 1000);
	cg_v4l2_buf_init(&b, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_DMABUF, 1);
	cg_v4l2_buf_set_dmabuf(&b, 9, 1000, 900);
	g_assert_cmpuint(cg_v4l2_buf_bytesused(&b), ==, 900);
	cg_v4l2_fmt_set(&f, V4L2_BUF_TYPE_VIDEO_CAPTURE, &pix);
	cg_v4l2_fmt_get(&f, &got);
	g_assert_cmpmem(&got, sizeof(got), &pix, sizeof(pix));
	/* The multi-planar API also says how many buffers and each one's line length. */
	pix.n_planes = 1;
	pix.plane_bpl[0] = 640;
	cg_v4l2_fmt_set(&f, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, &pix);
	cg_v4l2_fmt_get(&f, &got);
	g_assert_cmpmem(&got, sizeof(got), &pix, sizeof(pix));
}

/* NV12M and YUV420M: a buffer per plane, each with its own line length; four buffer planes. */
static void test_multi_buffer(void)
{
	struct cg_v4l2_pix pix = { V4L2_PIX_FMT_YUV420M, 640, 480, 640, 0, 3, { 640, 320, 320 } };
	struct cg_v4l2_pix got;
	struct v4l2_format f;
	struct cg_v4l2_buf b;

	cg_v4l2_fmt_set(&f, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, &pix);
	g_assert_cmpuint(f.fmt.pix_mp.num_planes, ==, 3);
	g_assert_cmpuint(f.fmt.pix_mp.plane_fmt[2].bytesperline, ==, 320);
	f.fmt.pix_mp.plane_fmt[1].sizeimage = 76800;
	cg_v4l2_fmt_get(&f, &got);
	g_assert_cmpuint(got.n_planes, ==, 3);
	g_assert_cmpuint(got.plane_bpl[1], ==, 320);
	g_assert_cmpuint(got.plane_size[1], ==, 76800);
	g_assert_cmpuint(cg_v4l2_single_buffer_fourcc(V4L2_PIX_FMT_NV12M), ==, V4L2_PIX_FMT_NV12);
	g_assert_cmpuint(cg_v4l2_single_buffer_fourcc(V4L2_PIX_FMT_YUV420M), ==,
			 V4L2_PIX_FMT_YUV420);
	g_assert_cmpuint(cg_v4l2_single_buffer_fourcc(V4L2_PIX_FMT_YUYV), ==, V4L2_PIX_FMT_YUYV);
	g_assert_cmpuint(cg_v4l2_multi_buffer_fourcc(V4L2_PIX_FMT_NV12), ==, V4L2_PIX_FMT_NV12M);
	g_assert_cmpuint(cg_v4l2_multi_buffer_fourcc(V4L2_PIX_FMT_YUYV), ==, 0);
	cg_v4l2_buf_init(&b, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_MEMORY_MMAP, 0);
	cg_v4l2_buf_set_planes(&b, 2);
	g_assert_cmpuint(b.b.length, ==, 2);
	g_assert_true(b.b.m.planes == b.planes);
	cg_v4l2_buf_set_planes(&b, 9);
	g_assert_cmpuint(b.b.length, ==, CG_V4L2_MAX_PLANES);
	cg_v4l2_buf_init(&b, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_MMAP, 0);
	cg_v4l2_buf_set_planes(&b, 2);
	g_assert_cmpuint(b.b.length, ==, 0);
}

static void test_kind(void)
{
	uint32_t t;

	g_assert_cmpint(cg_v4l2_kind(V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING, &t), ==,
			CG_V4L2_KIND_M2M);
	g_assert_cmpuint(t, ==, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
	g_assert_cmpint(cg_v4l2_kind(V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING, &t), ==,
			CG_V4L2_KIND_CAPTURE);
	g_assert_cmpint(cg_v4l2_kind(V4L2_CAP_VIDEO_CAPTURE, &t), ==, CG_V4L2_KIND_OTHER);
}

static void test_no_device(void)
{
	struct cg_capture_cfg cfg = {
		.device = "/dev/video-camgate-none", .width = 640, .height = 480, .fps = 30
	};
	struct cg_capture *cap = NULL;

	g_assert_true(cg_registry_capture("/dev/video0") == &cg_v4l2_capture_ops);
	g_assert_cmpint(cg_v4l2_capture_ops.open(&cfg, &cap), ==, -ENODEV);
	g_assert_null(cap);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/v4l2/layout", test_layout);
	g_test_add_func("/v4l2/pick", test_pick);
	g_test_add_func("/v4l2/buf", test_buf);
	g_test_add_func("/v4l2/multi-buffer", test_multi_buffer);
	g_test_add_func("/v4l2/kind", test_kind);
	g_test_add_func("/v4l2/no-device", test_no_device);
	return g_test_run();
}
