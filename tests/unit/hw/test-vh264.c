/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The bitstream core of vh264enc (tests/vdev/vh264enc/vh264-core.c), the virtual kernel
 * H.264 encoder of the vdev suite, compiled for the host: its bit writer against hand-worked
 * Exp-Golomb codes and emulation prevention, and its pictures decoded by FFmpeg, which must
 * give back exactly what went in (I_PCM and P_Skip are lossless) for every input layout it
 * takes (I420, NV12 with padded lines, YUYV), at a size that is whole macroblocks and one
 * that is cropped, across IDRs with and without a change, P pictures with moving and
 * unchanged blocks, and a reset in the middle. Skips the decode without ffmpeg.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "../../vdev/vh264enc/vh264-core.h"

static void check_bits(void (*write)(struct vh264_bw *bw), const uint8_t *want, size_t n)
{
	uint8_t buf[64];
	struct vh264_bw bw;

	vh264_bw_init(&bw, buf, sizeof(buf));
	write(&bw);
	g_assert_false(bw.overflow);
	g_assert_cmpmem(buf, bw.len, want, n);
}

/* ue 0..4 = 1 010 011 00100 00101, then the stop bit: 1010 0110 0100 0010 11(000000). */
static void write_ue(struct vh264_bw *bw)
{
	for (uint32_t v = 0; v < 5; v++)
		vh264_bw_ue(bw, v);
	vh264_bw_trailing(bw);
}

/* se 0, 1, -1, 2, -2 = 1 010 011 00100 00101 (the same codes as ue 0..4). */
static void write_se(struct vh264_bw *bw)
{
	static const int32_t v[] = { 0, 1, -1, 2, -2 };

	for (unsigned i = 0; i < G_N_ELEMENTS(v); i++)
		vh264_bw_se(bw, v[i]);
	vh264_bw_trailing(bw);
}

/* ue(65534) is 15 zeros and 65535 in 16 bits; ue(2^31 - 2) takes 61 bits. */
static void write_ue_long(struct vh264_bw *bw)
{
	vh264_bw_ue(bw, 65534);
	vh264_bw_align_zero(bw);
	vh264_bw_ue(bw, 0x7ffffffe);
	vh264_bw_trailing(bw);
}

static void test_exp_golomb(void)
{
	static const uint8_t ue[] = { 0xa6, 0x42, 0xc0 };
	/* 30 zeros, 31 ones, the stop bit: 00 00 00 03 ff ff ff fc, escaped once. */
	static const uint8_t lng[] = { 0x00, 0x01, 0xff, 0xfe, 0x00, 0x00, 0x03,
				       0x00, 0x03, 0xff, 0xff, 0xff, 0xfc };

	check_bits(write_ue, ue, sizeof(ue));
	check_bits(write_se, ue, sizeof(ue));
	check_bits(write_ue_long, lng, sizeof(lng));
}

/* 00 00 0x (x <= 3) in a payload gets 03 before x; a start code is written raw. */
static void write_escapes(struct vh264_bw *bw)
{
	static const uint8_t in[] = { 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0 };

	vh264_bw_nal_start(bw, 3, 5);
	for (unsigned i = 0; i < sizeof(in); i++)
		vh264_bw_u(bw, 8, in[i]);
	vh264_bw_trailing(bw);
}

static void test_emulation_prevention(void)
{
	static const uint8_t want[] = { 0, 0, 0, 1, 0x65, 0, 0, 3, 0, 0, 3, 0, 1,   0,
					0, 3, 2, 0, 0,	  3, 3, 0, 0, 4, 0, 0, 0x80 };

	check_bits(write_escapes, want, sizeof(want));
}

/* ---- pictures through FFmpeg ---- */

#define N_FRAMES 10

struct vcase {
	enum vh264_input fmt;
	uint32_t w, h, pad; /* pad: extra bytes at the end of each line */
};

/* Frame i: a gradient with black and near-black stripes (zero bytes for the escaping) and a
 * block that moves from frame 2 on; frame 5 changes nothing (all P_Skip). */
static uint8_t sample(unsigned plane, uint32_t x, uint32_t y, unsigned i)
{
	unsigned f = i == 5 ? 4 : i;
	uint32_t bx = 8 + (f >= 2 ? f * 13 : 0), by = 8 + (f >= 2 ? f * 5 : 0);
	uint32_t sx = plane ? 2 * x : x, sy = plane ? 2 * y : y;

	if (sx >= bx && sx < bx + 40 && sy >= by && sy < by + 24)
		return (uint8_t)(plane == 0 ? 235 : plane == 1 ? 40 + f : 200 - f);
	if (sy % 32 < 4)
		return (uint8_t)(sx % 3); /* 00 00 01 02 runs */
	return (uint8_t)(plane * 60 + sx + 2 * sy);
}

/* Frame i of c in its own layout, into buf (returned planes point into it). */
static void make_picture(const struct vcase *c, unsigned i, uint8_t *buf, struct vh264_picture *pic)
{
	uint32_t w = c->w, h = c->h, cw = w / 2, ch = h / 2;

	memset(pic, 0, sizeof(*pic));
	pic->fmt = c->fmt;
	if (c->fmt == VH264_IN_YUYV) {
		pic->plane[0] = buf;
		pic->stride[0] = 2 * w + c->pad;
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++) {
				uint8_t *p = buf + (size_t)y * pic->stride[0] + 2 * x;

				p[0] = sample(0, x, y, i);
				/* odd lines get other chroma: the encoder must take the even one */
				p[1] = y & 1 ? 99 : sample(x & 1 ? 2 : 1, x / 2, y / 2, i);
			}
		return;
	}
	pic->stride[0] = w + c->pad;
	pic->plane[0] = buf;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			buf[(size_t)y * pic->stride[0] + x] = sample(0, x, y, i);
	buf += (size_t)pic->stride[0] * h;
	if (c->fmt == VH264_IN_NV12) {
		pic->plane[1] = buf;
		pic->stride[1] = pic->stride[0];
		for (uint32_t y = 0; y < ch; y++)
			for (uint32_t x = 0; x < cw; x++) {
				buf[(size_t)y * pic->stride[1] + 2 * x] = sample(1, x, y, i);
				buf[(size_t)y * pic->stride[1] + 2 * x + 1] = sample(2, x, y, i);
			}
		return;
	}
	for (unsigned p = 1; p < 3; p++) {
		pic->plane[p] = buf;
		pic->stride[p] = cw + c->pad / 2;
		for (uint32_t y = 0; y < ch; y++)
			for (uint32_t x = 0; x < cw; x++)
				buf[(size_t)y * pic->stride[p] + x] = sample(p, x, y, i);
		buf += (size_t)pic->stride[p] * ch;
	}
}

static void decode(const char *in, const char *out)
{
	const char *argv[] = { "ffmpeg", "-hide_banner", "-loglevel", "error",	 "-nostdin", "-y",
			       "-f",	 "h264",	 "-i",	      in,	 "-vsync",   "0",
			       "-f",	 "rawvideo",	 "-pix_fmt",  "yuv420p", out,	     NULL };
	g_autofree char *err = NULL;
	GError *error = NULL;
	int status = 0;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
				   &err, &status, &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("ffmpeg failed: %s", err);
	/* FFmpeg reports broken syntax as errors but may still exit 0. */
	if (err && *err)
		g_error("ffmpeg complained: %s", err);
}

/* Encodes N_FRAMES, decodes them with FFmpeg, compares every sample. */
static void test_lossless(gconstpointer data)
{
	const struct vcase *c = data;
	struct vh264_params p = { c->w, c->h, 30 };
	size_t fb = vh264_frame_bytes(c->w, c->h), vis = (size_t)c->w * c->h * 3 / 2;
	size_t cap = vh264_max_au_bytes(c->w, c->h);
	g_autofree uint8_t *cur = g_malloc(fb), *ref = g_malloc(fb), *au = g_malloc(cap);
	g_autofree uint8_t *in = g_malloc((2 * c->w + c->pad) * c->h * 2);
	g_autofree uint8_t *want = g_malloc(vis * N_FRAMES);
	g_autofree char *dir = NULL, *h264 = NULL, *yuv = NULL, *got = NULL, *ffmpeg = NULL;
	GString *stream = g_string_new(NULL);
	struct vh264_picture pic;
	struct vh264_enc enc;
	gsize got_len = 0;
	long idr_len = 0;

	g_assert_cmpint(vh264_init(&enc, &p, cur, ref), ==, 0);
	for (unsigned i = 0; i < N_FRAMES; i++) {
		bool force = i == 7, is_idr = false;
		long n;

		if (i == 8)
			vh264_reset(&enc); /* as after a drain: the next one is an IDR */
		make_picture(c, i, in, &pic);
		vh264_to_i420(&p, &pic, want + vis * i);
		n = vh264_encode(&enc, &pic, force, i == 0 || force || i == 8, au, cap, &is_idr);
		g_assert_cmpint(n, >, 0);
		g_assert_cmpint(is_idr, ==, i == 0 || i == 7 || i == 8);
		if (i == 0)
			idr_len = n;
		if (i == 5) /* nothing changed: every macroblock skipped */
			g_assert_cmpuint(enc.last_intra_mbs, ==, 0);
		if (i == 3) { /* the block moved: some intra, most skipped, far below an IDR */
			g_assert_cmpuint(enc.last_intra_mbs, >, 0);
			g_assert_cmpuint(enc.last_skip_mbs, >, enc.last_intra_mbs);
			g_assert_cmpint(n, <, idr_len / 2);
		}
		g_string_append_len(stream, (const char *)au, n);
	}
	/* Too small a buffer: an error, and the stream goes on from an IDR. */
	g_assert_cmpint(vh264_encode(&enc, &pic, true, false, au, 100, NULL), ==, -ENOSPC);
	g_assert_false(enc.have_ref);

	ffmpeg = g_find_program_in_path("ffmpeg");
	if (!ffmpeg) {
		g_string_free(stream, TRUE);
		g_test_skip("ffmpeg not installed: the stream was not decoded");
		return;
	}
	dir = g_dir_make_tmp("camgate-vh264-XXXXXX", NULL);
	g_assert_nonnull(dir);
	h264 = g_build_filename(dir, "in.h264", NULL);
	yuv = g_build_filename(dir, "out.yuv", NULL);
	g_assert_true(g_file_set_contents(h264, stream->str, (gssize)stream->len, NULL));
	g_string_free(stream, TRUE);
	decode(h264, yuv);
	g_assert_true(g_file_get_contents(yuv, &got, &got_len, NULL));
	g_assert_cmpuint(got_len, ==, vis * N_FRAMES);
	for (unsigned i = 0; i < N_FRAMES; i++) {
		if (memcmp(got + vis * i, want + vis * i, vis) != 0)
			g_error("frame %u decodes to other samples", i);
	}
	g_unlink(h264);
	g_unlink(yuv);
	g_rmdir(dir);
}

static void test_bad_sizes(void)
{
	uint8_t a[16], b[16];
	struct vh264_enc enc;

	g_assert_cmpint(vh264_init(&enc, &(struct vh264_params){ 0, 240, 30 }, a, b), ==, -EINVAL);
	g_assert_cmpint(vh264_init(&enc, &(struct vh264_params){ 321, 240, 30 }, a, b), ==,
			-EINVAL);
	g_assert_cmpint(vh264_init(&enc, &(struct vh264_params){ 4096, 240, 30 }, a, b), ==,
			-EINVAL);
}

int main(int argc, char **argv)
{
	static const struct vcase i420 = { VH264_IN_I420, 320, 240, 0 };
	static const struct vcase nv12 = { VH264_IN_NV12, 320, 240, 32 };
	static const struct vcase yuyv = { VH264_IN_YUYV, 320, 240, 0 };
	static const struct vcase crop = { VH264_IN_I420, 170, 98, 6 };

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vh264/exp-golomb", test_exp_golomb);
	g_test_add_func("/vh264/emulation-prevention", test_emulation_prevention);
	g_test_add_func("/vh264/bad-sizes", test_bad_sizes);
	g_test_add_data_func("/vh264/lossless/i420", &i420, test_lossless);
	g_test_add_data_func("/vh264/lossless/nv12-padded", &nv12, test_lossless);
	g_test_add_data_func("/vh264/lossless/yuyv", &yuyv, test_lossless);
	g_test_add_data_func("/vh264/lossless/cropped", &crop, test_lossless);
	return g_test_run();
}
