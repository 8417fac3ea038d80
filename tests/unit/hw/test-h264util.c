/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hw/h264util (levels, SPS profile, the NAL walk), hw/convert (YUYV, RGB24/BGR24 to I420) and the
 * passthrough encoder. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "hw/convert.h"
#include "hw/fake/passthrough.h"
#include "hw/h264util.h"
#include "hw/registry.h"

static void test_level(void)
{
	g_assert_cmpint(cg_h264util_level(640, 480, 30, 2000), ==, 30);
	g_assert_cmpint(cg_h264util_level(1280, 720, 30, 2000), ==, 31);
	g_assert_cmpint(cg_h264util_level(1280, 720, 60, 2000), ==, 32);
	g_assert_cmpint(cg_h264util_level(1920, 1080, 30, 8000), ==, 40);
	g_assert_cmpint(cg_h264util_level(1920, 1080, 30, 30000), ==, 41);
	g_assert_cmpint(cg_h264util_level(16384, 16384, 30, 2000), ==, -ENOTSUP);
}

/* SPS (3-byte start code), PPS, IDR with trailing zero bytes. */
static const uint8_t stream[] = {
	0, 0,	 1,    0x67, 0x42, 0xc0, 0x1f, 0xaa, 0,	   0, 0,
	1, 0x68, 0xce, 0,    0,	   1,	 0x65, 0x88, 0x84, 0, 0,
};

/* The NALs one by one: start codes and trailing zero bytes left out, their lengths said. */
static void test_iter(void)
{
	static const uint8_t empty_nals[] = { 0, 0, 1, 0, 0, 0, 1, 0x65, 0x88, 0, 0, 1 };
	struct cg_h264util_iter it;
	const uint8_t *nal;
	size_t n, sc;

	g_assert_cmpint(cg_h264util_iter_init(&it, stream, sizeof(stream)), ==, 0);
	g_assert_true(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_cmpmem(nal, n, ((const uint8_t[]){ 0x67, 0x42, 0xc0, 0x1f, 0xaa }), 5);
	g_assert_cmpuint(sc, ==, 3);
	g_assert_true(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_cmpmem(nal, n, ((const uint8_t[]){ 0x68, 0xce }), 2);
	g_assert_cmpuint(sc, ==, 4);
	g_assert_true(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_cmpmem(nal, n, ((const uint8_t[]){ 0x65, 0x88, 0x84 }), 3); /* no trailing 0 0 */
	g_assert_cmpuint(sc, ==, 3);
	g_assert_false(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_false(cg_h264util_iter_next(&it, &nal, &n, &sc));

	/* Empty NALs (start codes back to back, one at the very end) are skipped. */
	g_assert_cmpint(cg_h264util_iter_init(&it, empty_nals, sizeof(empty_nals)), ==, 0);
	g_assert_true(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_cmpmem(nal, n, ((const uint8_t[]){ 0x65, 0x88 }), 2);
	g_assert_false(cg_h264util_iter_next(&it, &nal, &n, &sc));

	/* No start code in front: refused, and the iterator yields nothing. */
	g_assert_cmpint(cg_h264util_iter_init(&it, (const uint8_t *)"\x65\x88", 2), ==, -EBADMSG);
	g_assert_false(cg_h264util_iter_next(&it, &nal, &n, &sc));
	g_assert_cmpint(cg_h264util_iter_init(&it, (const uint8_t *)"\0\0", 2), ==, -EBADMSG);
	g_assert_cmpint(cg_h264util_iter_init(&it, NULL, 0), ==, 0);
	g_assert_false(cg_h264util_iter_next(&it, &nal, &n, &sc));
}

/* profile-level-id from an SPS: the three bytes after the NAL header, checked. */
static void test_sps_profile(void)
{
	static const struct {
		uint8_t sps[6];
		size_t len;
		int r;
		uint8_t want[3];
	} cases[] = {
		{ { 0x67, 0x42, 0xc0, 0x1f, 0xaa }, 5, 0, { 0x42, 0xc0, 0x1f } }, /* CB 3.1 */
		/* An M2M encoder that fell back to Baseline: no constraint flags. */
		{ { 0x67, 0x42, 0x00, 0x28, 0x8d }, 5, 0, { 0x42, 0x00, 0x28 } },
		{ { 0x27, 0x64, 0x00, 0x29, 0xac },
		  5,
		  0,
		  { 0x64, 0x00, 0x29 } }, /* nal_ref_idc 1 */
		{ { 0x67, 0x4d, 0x40, 0x1e }, 4, 0, { 0x4d, 0x40, 0x1e } },
		{ { 0x67, 0x42, 0xc0 }, 3, -EBADMSG, { 0 } },	    /* too short */
		{ { 0x68, 0x42, 0xc0, 0x1f }, 4, -EBADMSG, { 0 } }, /* a PPS */
		{ { 0xe7, 0x42, 0xc0, 0x1f }, 4, -EBADMSG, { 0 } }, /* forbidden_zero_bit */
		{ { 0x67, 0x00, 0xc0, 0x1f }, 4, -EBADMSG, { 0 } }, /* profile_idc 0 */
		{ { 0x67, 0x42, 0x00, 0x00, 0x03, 0x1f }, 6, -EBADMSG, { 0 } }, /* level_idc 0 */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t got[3] = { 0xee, 0xee, 0xee };

		g_assert_cmpint(cg_h264util_sps_profile(cases[i].sps, cases[i].len, got), ==,
				cases[i].r);
		if (cases[i].r == 0)
			g_assert_cmpmem(got, 3, cases[i].want, 3);
		else
			g_assert_cmpuint(got[0], ==, 0xee); /* untouched */
	}
	g_assert_cmpint(cg_h264util_sps_profile(NULL, 4, (uint8_t[3]){ 0 }), ==, -EBADMSG);
}

static struct cg_frame *frame_of(const uint8_t *data, size_t len, uint32_t fourcc)
{
	static struct cg_frame f;

	memset(&f, 0, sizeof(f));
	f.fourcc = fourcc;
	f.width = 640;
	f.height = 480;
	f.n_planes = 1;
	f.planes[0].data = (uint8_t *)data;
	f.planes[0].dma_fd = -1;
	f.bytesused = (uint32_t)len;
	f.sequence = 7;
	return &f;
}

static int kf_calls;
static int count_kf(void *userdata)
{
	kf_calls++;
	return 0;
}

static void test_passthrough(void)
{
	const struct cg_encoder_ops *ops = cg_registry_passthrough();
	struct cg_encoder_cfg cfg = { .width = 640,
				      .height = 480,
				      .fps = 30,
				      .bitrate_kbps = 1000,
				      .input_fourcc = CG_FOURCC_I420 };
	static const uint8_t idr_only[] = { 0, 0, 0, 1, 0x65, 0x11 };
	static const uint8_t high[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x29, 0xac, 0x2b };
	struct cg_encoder *enc = NULL;
	struct cg_au *au = NULL;
	uint8_t p, c, l;

	g_assert_cmpint(ops->open(&cfg, &enc), ==, -ENOTSUP);
	cfg.input_fourcc = CG_FOURCC_H264;
	g_assert_cmpint(ops->open(&cfg, &enc), ==, 0);
	/* Before any frame: what was asked (Constrained Baseline) at the level for cfg. */
	ops->get_profile(enc, &p, &c, &l);
	g_assert_cmpuint(p, ==, 66);
	g_assert_cmpuint(c, ==, 0xc0);
	g_assert_cmpuint(l, ==, 30);
	g_assert_cmpint(ops->encode(enc, frame_of(stream, sizeof(stream), CG_FOURCC_H264), &au), ==,
			0);
	g_assert_true(au->keyframe);
	g_assert_cmpuint(au->frame_sequence, ==, 7);
	g_assert_cmpuint(au->copied_bytes, ==, 0);
	au = cg_au_unref(au);
	ops->get_profile(enc, &p, &c, &l);
	g_assert_cmpuint(p, ==, 0x42);
	g_assert_cmpuint(c, ==, 0xc0);
	g_assert_cmpuint(l, ==, 0x1f);
	/* A camera that sends High: its SPS, not what was asked, from then on. */
	g_assert_cmpint(ops->encode(enc, frame_of(high, sizeof(high), CG_FOURCC_H264), &au), ==,
			-EAGAIN);
	ops->get_profile(enc, &p, &c, &l);
	g_assert_cmpuint(p, ==, 100);
	g_assert_cmpuint(c, ==, 0);
	g_assert_cmpuint(l, ==, 41);
	/* An IDR without headers gets the latest SPS (High, the camera's now) and PPS in front. */
	g_assert_cmpint(ops->encode(enc, frame_of(idr_only, sizeof(idr_only), CG_FOURCC_H264), &au),
			==, 0);
	g_assert_true(au->keyframe);
	g_assert_cmpmem(
		au->data, au->len,
		((const uint8_t[]){ 0, 0, 0, 1,	   0x67, 0x64, 0x00, 0x29, 0xac, 0x2b, 0,
				    0, 0, 1, 0x68, 0xce, 0,    0,    0,	   1,	 0x65, 0x11 }),
		22);
	au = cg_au_unref(au);
	/* Garbage from the camera: refused, and nothing else changes. */
	g_assert_cmpint(ops->encode(enc, frame_of(idr_only + 4, 2, CG_FOURCC_H264), &au), ==,
			-EINVAL);
	g_assert_cmpint(ops->encode(enc, frame_of(idr_only, 0, CG_FOURCC_H264), &au), ==, -EINVAL);
	ops->get_profile(enc, &p, &c, &l);
	g_assert_cmpuint(p, ==, 100);
	cg_passthrough_set_keyframe_fn(enc, count_kf, NULL);
	ops->request_keyframe(enc);
	g_assert_cmpint(kf_calls, ==, 1);
	g_assert_cmpint(ops->set_bitrate(enc, 500), ==, -ENOTSUP);
	ops->close(enc);
}

static void test_convert_yuyv(void)
{
	uint8_t *yuyv = g_malloc(640 * 2 * 480);
	struct cg_convert *c = NULL;
	struct cg_frame *in, *out = NULL, *more[CG_CONVERT_BUFFERS];

	for (size_t i = 0; i < 640 * 480; i++) {
		yuyv[2 * i] = (uint8_t)i;	      /* Y */
		yuyv[2 * i + 1] = (i & 1) ? 200 : 50; /* V : U */
	}
	g_assert_cmpint(cg_convert_new(CG_FOURCC_H264, 640, 480, NULL, &c), ==, -ENOTSUP);
	g_assert_cmpint(cg_convert_new(CG_FOURCC_MJPG, 640, 480, NULL, &c), ==, -ENOTSUP);
	g_assert_cmpint(cg_convert_new(CG_FOURCC_YUYV, 640, 480, NULL, &c), ==, 0);
	in = frame_of(yuyv, 640 * 2 * 480, CG_FOURCC_YUYV);
	in->planes[0].stride = 1280;
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, 0);
	g_assert_cmpuint(out->fourcc, ==, CG_FOURCC_I420);
	g_assert_cmpuint(out->copied_bytes, ==, 640 * 480 * 3 / 2);
	g_assert_cmpuint(out->sequence, ==, 7);
	g_assert_cmpuint(out->planes[0].data[5], ==, 5);
	g_assert_cmpuint(out->planes[1].data[3], ==, 50);
	g_assert_cmpuint(out->planes[2].data[3], ==, 200);
	/* The pool runs dry while frames are held, and the converter outlives its frames. */
	for (unsigned i = 0; i < CG_CONVERT_BUFFERS - 1; i++)
		g_assert_cmpint(cg_convert_frame(c, in, &more[i]), ==, 0);
	g_assert_cmpint(cg_convert_frame(c, in, &more[2]), ==, -EAGAIN);
	cg_convert_free(c);
	for (unsigned i = 0; i < CG_CONVERT_BUFFERS - 1; i++)
		cg_frame_unref(more[i]);
	g_assert_cmpuint(out->planes[0].data[5], ==, 5);
	cg_frame_unref(out);
	g_free(yuyv);
}

/* BT.601 limited range of the primaries, white and black (the standard's rounded values). */
static const struct {
	uint8_t r, g, b, y, u, v;
} rgb_colours[] = {
	{ 255, 255, 255, 235, 128, 128 }, { 0, 0, 0, 16, 128, 128 },
	{ 255, 0, 0, 81, 90, 240 },	  { 0, 255, 0, 145, 54, 34 },
	{ 0, 0, 255, 41, 240, 110 },	  { 128, 128, 128, 126, 128, 128 },
};

#define RGB_W	   24u
#define RGB_H	   4u
#define RGB_STRIDE (RGB_W * 3 + 8) /* padded rows, as a DMA-BUF's may be */

/*
 * An RGB24 or BGR24 picture of 2x2 blocks, block i (left to right, then the second block row)
 * of colour i, with a bright pixel in the last block so that its chroma is a mean.
 */
static void rgb_fill(uint8_t *buf, bool bgr)
{
	memset(buf, 0xee, RGB_STRIDE * RGB_H);
	for (uint32_t y = 0; y < RGB_H; y++) {
		for (uint32_t x = 0; x < RGB_W; x++) {
			unsigned i = (y / 2) * (RGB_W / 2) + x / 2;
			uint8_t *p = buf + y * RGB_STRIDE + 3 * x;
			uint8_t r = 0, g = 0, b = 0;

			if (i < G_N_ELEMENTS(rgb_colours)) {
				r = rgb_colours[i].r;
				g = rgb_colours[i].g;
				b = rgb_colours[i].b;
			}
			p[0] = bgr ? b : r;
			p[1] = g;
			p[2] = bgr ? r : b;
		}
	}
}

static void assert_near(uint8_t got, uint8_t want, const char *what, unsigned i)
{
	if (ABS((int)got - (int)want) > 1)
		g_error("colour %u: %s %u, expected %u +-1", i, what, got, want);
}

static void check_rgb(uint32_t fourcc)
{
	uint8_t buf[RGB_STRIDE * RGB_H];
	struct cg_convert *c = NULL, *odd = NULL;
	struct cg_frame *in, *out = NULL;
	const uint8_t *py, *pu, *pv;
	uint32_t ys, cs;

	rgb_fill(buf, fourcc == CG_FOURCC_BGR24);
	g_assert_true(cg_convert_supports(fourcc, false));
	g_assert_cmpint(cg_convert_new(fourcc, RGB_W, RGB_H, NULL, &c), ==, 0);
	in = frame_of(buf, sizeof(buf), fourcc);
	in->width = RGB_W;
	in->height = RGB_H;
	in->planes[0].stride = RGB_STRIDE;
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, 0);
	g_assert_cmpuint(out->fourcc, ==, CG_FOURCC_I420);
	g_assert_cmpuint(out->copied_bytes, ==, RGB_W * RGB_H * 3 / 2);
	g_assert_cmpuint(out->sequence, ==, 7);
	py = out->planes[0].data;
	pu = out->planes[1].data;
	pv = out->planes[2].data;
	ys = out->planes[0].stride;
	cs = out->planes[1].stride;
	for (unsigned i = 0; i < G_N_ELEMENTS(rgb_colours); i++) {
		uint32_t x = 2 * i, y = 0; /* every colour is in the first block row */

		for (uint32_t dy = 0; dy < 2; dy++)
			for (uint32_t dx = 0; dx < 2; dx++)
				assert_near(py[(y + dy) * ys + x + dx], rgb_colours[i].y, "Y", i);
		assert_near(pu[(y / 2) * cs + x / 2], rgb_colours[i].u, "U", i);
		assert_near(pv[(y / 2) * cs + x / 2], rgb_colours[i].v, "V", i);
	}
	/* The second block row is black. */
	assert_near(py[3 * ys + 5], 16, "Y", 99);
	assert_near(pu[1 * cs + 5], 128, "U", 99);
	cg_frame_unref(out);

	/* A 2x2 block half red, half blue: chroma is the mean colour's. */
	memset(buf, 0, sizeof(buf));
	for (uint32_t y = 0; y < 2; y++) {
		buf[y * RGB_STRIDE + (fourcc == CG_FOURCC_BGR24 ? 2 : 0)] = 255;     /* red */
		buf[y * RGB_STRIDE + 3 + (fourcc == CG_FOURCC_BGR24 ? 0 : 2)] = 255; /* blue */
	}
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, 0);
	assert_near(out->planes[0].data[0], 81, "Y", 100);
	assert_near(out->planes[0].data[1], 41, "Y", 101);
	/* (R, G, B) = (127.5, 0, 127.5): Cb 128 + (-37.797 + 112) / 2, Cr 128 + (112 - 18.214) / 2
	 */
	assert_near(out->planes[1].data[0], 165, "U", 102);
	assert_near(out->planes[2].data[0], 175, "V", 102);
	cg_frame_unref(out);

	/* Rows shorter than the picture, or a buffer shorter than its rows: refused. */
	in->planes[0].stride = RGB_W * 3 - 1;
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, -EINVAL);
	in->planes[0].stride = RGB_STRIDE;
	in->bytesused = RGB_STRIDE * (RGB_H - 1) + RGB_W * 3 - 1;
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, -EINVAL);
	in->bytesused = RGB_STRIDE * (RGB_H - 1) + RGB_W * 3;
	g_assert_cmpint(cg_convert_frame(c, in, &out), ==, 0);
	cg_frame_unref(out);
	g_assert_cmpint(cg_convert_new(fourcc, RGB_W + 1, RGB_H, NULL, &odd), ==, -EINVAL);
	cg_convert_free(c);
}

static void test_convert_rgb24(void)
{
	check_rgb(CG_FOURCC_RGB24);
}

static void test_convert_bgr24(void)
{
	check_rgb(CG_FOURCC_BGR24);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/h264util/level", test_level);
	g_test_add_func("/h264util/iter", test_iter);
	g_test_add_func("/h264util/sps-profile", test_sps_profile);
	g_test_add_func("/hw/passthrough", test_passthrough);
	g_test_add_func("/hw/convert-yuyv", test_convert_yuyv);
	g_test_add_func("/hw/convert-rgb24", test_convert_rgb24);
	g_test_add_func("/hw/convert-bgr24", test_convert_bgr24);
	return g_test_run();
}
