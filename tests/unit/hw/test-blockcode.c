/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Block code: write/read round trips, layout, size limits and rejection of garbage. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "hw/fake/blockcode.h"

struct pic {
	uint8_t *luma;
	uint32_t stride, width, height;
};

static struct pic pic_new(uint32_t width, uint32_t height, uint32_t stride, GRand *rng)
{
	struct pic p = { .stride = stride, .width = width, .height = height };

	p.luma = g_malloc((gsize)stride * height);
	/* Noise underneath proves the writer covers every cell completely. */
	for (gsize i = 0; i < (gsize)stride * height; i++)
		p.luma[i] = (uint8_t)g_rand_int_range(rng, 0, 256);
	return p;
}

static void roundtrip(uint32_t w, uint32_t h, uint32_t stride, uint64_t ms, uint16_t counter,
		      GRand *rng)
{
	struct pic p = pic_new(w, h, stride, rng);
	uint64_t got_ms = 0;
	uint16_t got_counter = 0;

	g_assert_cmpint(cg_blockcode_write(p.luma, p.stride, w, h, ms, counter), ==, 0);
	g_assert_cmpint(cg_blockcode_read(p.luma, p.stride, w, h, &got_ms, &got_counter), ==, 0);
	g_assert_cmpuint(got_ms, ==, ms & CG_BLOCKCODE_MS_MASK);
	g_assert_cmpuint(got_counter, ==, counter);
	g_free(p.luma);
}

static void test_roundtrip(void)
{
	static const struct {
		uint32_t w, h, stride;
	} sizes[] = {
		{ 320, 240, 320 },   { 320, 64, 384 }, { 330, 70, 330 },   { 640, 480, 704 },
		{ 1280, 720, 1280 }, { 16, 1056, 16 }, { 1056, 16, 1056 }, { 1920, 1080, 1920 },
	};
	const uint64_t times[] = { 0,
				   1,
				   CG_BLOCKCODE_MS_MASK,
				   UINT64_C(0xaaaaaaaaaaaa),
				   UINT64_C(0x555555555555),
				   UINT64_C(1700000000123),
				   (uint64_t)(g_get_real_time() / 1000) };
	const uint16_t counters[] = { 0, 1, 0xffff, 0x5555, 0xaaaa, 0x8000 };
	GRand *rng = g_rand_new_with_seed(1);

	for (gsize s = 0; s < G_N_ELEMENTS(sizes); s++)
		for (gsize t = 0; t < G_N_ELEMENTS(times); t++)
			for (gsize c = 0; c < G_N_ELEMENTS(counters); c++)
				roundtrip(sizes[s].w, sizes[s].h, sizes[s].stride, times[t],
					  counters[c], rng);
	g_rand_free(rng);
}

/* Times past 48 bits keep their low 48 bits (about 8900 years of range). */
static void test_ms_truncated(void)
{
	GRand *rng = g_rand_new_with_seed(2);

	roundtrip(320, 240, 320, UINT64_MAX, 7, rng);
	roundtrip(320, 240, 320, (UINT64_C(1) << 48) | 5, 7, rng);
	g_rand_free(rng);
}

/* The layout other tools rely on: exact cell positions and values. */
static void test_layout(void)
{
	GRand *rng = g_rand_new_with_seed(3);
	struct pic p = pic_new(320, 240, 320, rng);
	/* Only the LSB of ms (cell 49) and of the counter (cell 65) set. */
	g_assert_cmpint(cg_blockcode_write(p.luma, 320, 320, 240, 1, 1), ==, 0);

	g_assert_cmpuint(p.luma[0], ==, CG_BLOCKCODE_WHITE);
	g_assert_cmpuint(p.luma[15 * 320 + 15], ==, CG_BLOCKCODE_WHITE);
	g_assert_cmpuint(p.luma[16], ==, CG_BLOCKCODE_BLACK);
	g_assert_cmpuint(p.luma[32], ==, CG_BLOCKCODE_BLACK); /* cell 2: ms bit 47 */
	/* Cell 49 is row 2 (49 / 20), column 9. */
	g_assert_cmpuint(p.luma[(2 * 16 + 8) * 320 + 9 * 16 + 8], ==, CG_BLOCKCODE_WHITE);
	g_assert_cmpuint(p.luma[(2 * 16 + 8) * 320 + 8 * 16 + 8], ==, CG_BLOCKCODE_BLACK);
	/* Cell 65 is row 3, column 5; cell 64 is black. */
	g_assert_cmpuint(p.luma[(3 * 16 + 8) * 320 + 5 * 16 + 8], ==, CG_BLOCKCODE_WHITE);
	g_assert_cmpuint(p.luma[(3 * 16 + 8) * 320 + 4 * 16 + 8], ==, CG_BLOCKCODE_BLACK);
	g_free(p.luma);
	g_rand_free(rng);
}

static void test_extent(void)
{
	uint32_t w = 1, h = 1;

	g_assert_cmpint(cg_blockcode_extent(320, 240, &w, &h), ==, 0);
	g_assert_cmpuint(w, ==, 320);
	g_assert_cmpuint(h, ==, 64);
	g_assert_cmpint(cg_blockcode_extent(1280, 720, &w, &h), ==, 0);
	g_assert_cmpuint(w, ==, 1056);
	g_assert_cmpuint(h, ==, 16);
	g_assert_cmpint(cg_blockcode_extent(16, 1056, &w, &h), ==, 0);
	g_assert_cmpuint(w, ==, 16);
	g_assert_cmpuint(h, ==, 1056);
	w = h = 77;
	g_assert_cmpint(cg_blockcode_extent(15, 2000, &w, &h), ==, -EINVAL);
	g_assert_cmpuint(w, ==, 77);
	g_assert_cmpuint(h, ==, 77);
}

static void test_too_small(void)
{
	uint8_t buf[16 * 1056] = { 0 };
	uint64_t ms = 42;
	uint16_t counter = 42;

	g_assert_cmpint(cg_blockcode_write(buf, 15, 15, 1000, 1, 1), ==, -EINVAL);
	g_assert_cmpint(cg_blockcode_write(buf, 320, 320, 48, 1, 1), ==, -EINVAL); /* 60 cells */
	g_assert_cmpint(cg_blockcode_write(buf, 16, 16, 1040, 1, 1), ==, -EINVAL); /* 65 cells */
	g_assert_cmpint(cg_blockcode_write(buf, 10, 16, 1056, 1, 1), ==, -EINVAL); /* stride */
	g_assert_cmpint(cg_blockcode_write(NULL, 16, 16, 1056, 1, 1), ==, -EINVAL);
	g_assert_cmpint(cg_blockcode_read(buf, 320, 320, 48, &ms, &counter), ==, -EINVAL);
	g_assert_cmpint(cg_blockcode_read(buf, 15, 15, 1000, &ms, &counter), ==, -EINVAL);
	g_assert_cmpuint(ms, ==, 42);
	g_assert_cmpuint(counter, ==, 42);
}

static void test_rejects_garbage(void)
{
	GRand *rng = g_rand_new_with_seed(4);
	uint64_t ms = 42;
	uint16_t counter = 42;

	for (int i = 0; i < 50; i++) {
		struct pic p = pic_new(320, 240, 320, rng);

		g_assert_cmpint(cg_blockcode_read(p.luma, 320, 320, 240, &ms, &counter), ==,
				-EBADMSG);
		g_free(p.luma);
	}
	struct pic flat = pic_new(320, 240, 320, rng);
	memset(flat.luma, 128, 320 * 240);
	g_assert_cmpint(cg_blockcode_read(flat.luma, 320, 320, 240, &ms, &counter), ==, -EBADMSG);
	/* Swapped reference cells (an inverted picture) are not a code. */
	g_assert_cmpint(cg_blockcode_write(flat.luma, 320, 320, 240, 123, 4), ==, 0);
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 32; x++)
			flat.luma[y * 320 + x] = (uint8_t)(251 - flat.luma[y * 320 + x]);
	g_assert_cmpint(cg_blockcode_read(flat.luma, 320, 320, 240, &ms, &counter), ==, -EBADMSG);
	g_assert_cmpuint(ms, ==, 42);
	g_assert_cmpuint(counter, ==, 42);
	g_free(flat.luma);
	g_rand_free(rng);
}

/* A data cell near the threshold is rejected rather than guessed. */
static void test_rejects_ambiguous(void)
{
	GRand *rng = g_rand_new_with_seed(5);
	struct pic p = pic_new(320, 240, 320, rng);

	g_assert_cmpint(cg_blockcode_write(p.luma, 320, 320, 240, 99, 9), ==, 0);
	for (int y = 0; y < 16; y++)
		memset(p.luma + y * 320 + 10 * 16, 125, 16); /* cell 10 */
	g_assert_cmpint(cg_blockcode_read(p.luma, 320, 320, 240, NULL, NULL), ==, -EBADMSG);
	g_free(p.luma);
	g_rand_free(rng);
}

/* Coding noise of +-30 on every pixel still reads back exactly. */
static void test_noise_tolerated(void)
{
	GRand *rng = g_rand_new_with_seed(6);
	struct pic p = pic_new(640, 480, 640, rng);
	uint64_t ms = 0;
	uint16_t counter = 0;

	g_assert_cmpint(cg_blockcode_write(p.luma, 640, 640, 480, 0x123456789abc, 0xbeef), ==, 0);
	for (gsize i = 0; i < 640 * 64; i++) {
		int v = p.luma[i] + g_rand_int_range(rng, -30, 31);
		p.luma[i] = (uint8_t)CLAMP(v, 0, 255);
	}
	g_assert_cmpint(cg_blockcode_read(p.luma, 640, 640, 480, &ms, &counter), ==, 0);
	g_assert_cmpuint(ms, ==, 0x123456789abc);
	g_assert_cmpuint(counter, ==, 0xbeef);
	g_free(p.luma);
	g_rand_free(rng);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/blockcode/roundtrip", test_roundtrip);
	g_test_add_func("/blockcode/ms-truncated", test_ms_truncated);
	g_test_add_func("/blockcode/layout", test_layout);
	g_test_add_func("/blockcode/extent", test_extent);
	g_test_add_func("/blockcode/too-small", test_too_small);
	g_test_add_func("/blockcode/rejects-garbage", test_rejects_garbage);
	g_test_add_func("/blockcode/rejects-ambiguous", test_rejects_ambiguous);
	g_test_add_func("/blockcode/noise-tolerated", test_noise_tolerated);
	return g_test_run();
}
