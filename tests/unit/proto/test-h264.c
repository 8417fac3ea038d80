/* SPDX-License-Identifier: GPL-3.0-or-later */
/* H.264 Annex-B splitting, payload plans (RFC 6184) and the depacketizer round trip. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proto/h264.h"

#define MAXP 1200

struct plan_buf {
	struct cg_h264_plan plan;
	uint8_t *arena;
	struct cg_h264_payload *items;
};

static void plan_buf_init(struct plan_buf *b, size_t au_len, size_t max_payload)
{
	size_t an = cg_h264_plan_arena_bound(au_len, max_payload);
	size_t in = cg_h264_plan_items_bound(au_len, max_payload);

	b->arena = g_malloc(an);
	b->items = g_new0(struct cg_h264_payload, in);
	b->plan = (struct cg_h264_plan){
		.arena = b->arena, .arena_cap = an, .items = b->items, .items_cap = in
	};
}

static void plan_buf_fini(struct plan_buf *b)
{
	g_free(b->arena);
	g_free(b->items);
}

/* Appends a start code (3 or 4 bytes) and a NAL of type t, len bytes, filled with a pattern. */
static void add_nal(GByteArray *a, int sc, uint8_t hdr, size_t len)
{
	static const uint8_t sc4[] = { 0, 0, 0, 1 };

	g_byte_array_append(a, sc4 + (4 - sc), (guint)sc);
	g_byte_array_append(a, &hdr, 1);
	for (size_t i = 1; i < len; i++) {
		uint8_t v = (uint8_t)(i * 7 + 1) | 0x10; /* never 0: no start-code emulation */
		g_byte_array_append(a, &v, 1);
	}
}

static void test_split_start_codes(void)
{
	GByteArray *a = g_byte_array_new();
	struct cg_h264_nal nals[8];
	int n;

	add_nal(a, 4, 0x67, 10); /* SPS, 4-byte start code */
	add_nal(a, 3, 0x68, 4);	 /* PPS, 3-byte start code */
	add_nal(a, 4, 0x65, 100);
	g_byte_array_append(a, (const uint8_t *)"\0\0\0", 3); /* trailing_zero_8bits */
	n = cg_h264_split_annexb(a->data, a->len, nals, G_N_ELEMENTS(nals));
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpuint(nals[0].type, ==, CG_H264_NAL_SPS);
	g_assert_cmpuint(nals[0].len, ==, 10);
	g_assert_true(nals[0].data == a->data + 4);
	g_assert_cmpuint(nals[1].type, ==, CG_H264_NAL_PPS);
	g_assert_cmpuint(nals[1].len, ==, 4);
	g_assert_cmpuint(nals[2].type, ==, CG_H264_NAL_IDR);
	g_assert_cmpuint(nals[2].len, ==, 100);
	g_assert_cmpint(cg_h264_split_annexb(a->data, a->len, nals, 2), ==, -ENOSPC);
	g_byte_array_free(a, TRUE);
}

static void test_split_edge_cases(void)
{
	static const uint8_t none[] = { 0x65, 0x88, 0x84 };
	static const uint8_t empty[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 1 };
	static const uint8_t junk_then_nal[] = { 0xff, 0x12, 0, 0, 1, 0x41, 0x9a };
	struct cg_h264_nal nals[4];

	g_assert_cmpint(cg_h264_split_annexb(none, sizeof(none), nals, 4), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_split_annexb(empty, sizeof(empty), nals, 4), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_split_annexb(NULL, 0, nals, 4), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_split_annexb(junk_then_nal, sizeof(junk_then_nal), nals, 4), ==, 1);
	g_assert_cmpuint(nals[0].len, ==, 2);
	g_assert_cmpuint(nals[0].type, ==, CG_H264_NAL_SLICE);
}

/* Runs a plan through the depacketizer and checks the AU comes back (4-byte start codes). */
static void assert_round_trip(const struct cg_h264_plan *plan, const uint8_t *expect, size_t len)
{
	uint8_t *out = g_malloc(len + 64);
	struct cg_h264_depacketizer d = { .buf = out, .cap = len + 64 };
	int r = 0;

	for (size_t i = 0; i < plan->n_items; i++) {
		const struct cg_h264_payload *it = &plan->items[i];

		g_assert_true(it->marker == (i == plan->n_items - 1));
		r = cg_h264_depacketize(&d, plan->arena + it->offset, it->len, it->marker);
		g_assert_cmpint(r, ==, i == plan->n_items - 1 ? 1 : 0);
	}
	g_assert_cmpmem(out, d.len, expect, len);
	g_free(out);
}

/* Normalizes an AU the way the depacketizer writes it: 4-byte start codes, no AUD/zeros. */
static GByteArray *normalize(const uint8_t *au, size_t len)
{
	static const uint8_t sc[] = { 0, 0, 0, 1 };
	struct cg_h264_nal nals[256];
	int n = cg_h264_split_annexb(au, len, nals, G_N_ELEMENTS(nals));
	GByteArray *a = g_byte_array_new();

	g_assert_cmpint(n, >, 0);
	for (int i = 0; i < n; i++) {
		if (nals[i].type == CG_H264_NAL_AUD)
			continue;
		g_byte_array_append(a, sc, 4);
		g_byte_array_append(a, nals[i].data, (guint)nals[i].len);
	}
	return a;
}

static void test_plan_stap_a_layout(void)
{
	GByteArray *a = g_byte_array_new();
	struct plan_buf b;
	const uint8_t *p;

	add_nal(a, 4, 0x09, 2);	 /* AUD: dropped */
	add_nal(a, 4, 0x67, 12); /* SPS, NRI 3 */
	add_nal(a, 3, 0x48, 4);	 /* PPS with NRI 2 */
	add_nal(a, 3, 0x65, 300);
	plan_buf_init(&b, a->len, MAXP);
	g_assert_cmpint(cg_h264_plan_build(&b.plan, a->data, a->len, MAXP), ==, 0);
	g_assert_true(b.plan.keyframe);
	g_assert_true(b.plan.has_sps_pps);
	g_assert_cmpuint(b.plan.n_items, ==, 2);
	/* RFC 6184 §5.7.1: STAP-A header, then 16-bit size + NAL for each. */
	p = b.plan.arena + b.plan.items[0].offset;
	g_assert_cmpuint(b.plan.items[0].len, ==, 1 + 2 + 12 + 2 + 4);
	g_assert_cmphex(p[0], ==, 0x78); /* F=0, NRI=max(3,2)=3, type 24 */
	g_assert_cmpuint(p[1] << 8 | p[2], ==, 12);
	g_assert_cmpmem(p + 3, 12, a->data + 4 + 2 + 4, 12);
	g_assert_cmpuint(p[15] << 8 | p[16], ==, 4);
	g_assert_cmphex(p[17], ==, 0x48);
	g_assert_false(b.plan.items[0].marker);
	g_assert_true(b.plan.items[1].marker);
	g_assert_cmpuint(b.plan.items[1].len, ==, 300);
	{
		GByteArray *norm = normalize(a->data, a->len);
		assert_round_trip(&b.plan, norm->data, norm->len);
		g_byte_array_free(norm, TRUE);
	}
	plan_buf_fini(&b);
	g_byte_array_free(a, TRUE);
}

static void test_plan_single_boundary(void)
{
	for (size_t extra = 0; extra <= 1; extra++) {
		GByteArray *a = g_byte_array_new();
		struct plan_buf b;

		add_nal(a, 4, 0x41, MAXP + extra);
		plan_buf_init(&b, a->len, MAXP);
		g_assert_cmpint(cg_h264_plan_build(&b.plan, a->data, a->len, MAXP), ==, 0);
		g_assert_false(b.plan.keyframe);
		for (size_t i = 0; i < b.plan.n_items; i++)
			g_assert_cmpuint(b.plan.items[i].len, <=, MAXP);
		if (extra == 0) {
			/* Exactly max_payload: one single-NAL packet (§5.6). */
			g_assert_cmpuint(b.plan.n_items, ==, 1);
			g_assert_cmpmem(b.plan.arena, MAXP, a->data + 4, MAXP);
		} else {
			/* One byte more: FU-A, start and end fragments (§5.8). */
			const uint8_t *f0 = b.plan.arena + b.plan.items[0].offset;
			const uint8_t *f1 = b.plan.arena + b.plan.items[1].offset;

			g_assert_cmpuint(b.plan.n_items, ==, 2);
			g_assert_cmpuint(b.plan.items[0].len, ==, MAXP);
			g_assert_cmpuint(b.plan.items[1].len, ==, 2 + (MAXP + 1 - 1) - (MAXP - 2));
			g_assert_cmphex(f0[0], ==, 0x40 | 28);
			g_assert_cmphex(f0[1], ==, 0x80 | 1);
			g_assert_cmphex(f1[0], ==, 0x40 | 28);
			g_assert_cmphex(f1[1], ==, 0x40 | 1);
		}
		assert_round_trip(&b.plan, a->data, a->len);
		plan_buf_fini(&b);
		g_byte_array_free(a, TRUE);
	}
}

static void test_plan_fu_a_middle(void)
{
	GByteArray *a = g_byte_array_new();
	struct plan_buf b;

	add_nal(a, 3, 0x65, 3 * (MAXP - 2) + 1); /* exactly 3 full fragments of body */
	plan_buf_init(&b, a->len, MAXP);
	g_assert_cmpint(cg_h264_plan_build(&b.plan, a->data, a->len, MAXP), ==, 0);
	g_assert_cmpuint(b.plan.n_items, ==, 3);
	g_assert_cmphex(b.plan.arena[b.plan.items[0].offset + 1], ==, 0x85);
	g_assert_cmphex(b.plan.arena[b.plan.items[1].offset + 1], ==, 0x05);
	g_assert_cmphex(b.plan.arena[b.plan.items[2].offset + 1], ==, 0x45);
	g_assert_true(b.plan.keyframe);
	g_assert_false(b.plan.has_sps_pps);
	{
		GByteArray *norm = normalize(a->data, a->len);
		assert_round_trip(&b.plan, norm->data, norm->len);
		g_byte_array_free(norm, TRUE);
	}
	plan_buf_fini(&b);
	g_byte_array_free(a, TRUE);
}

static void test_plan_errors(void)
{
	static const uint8_t aud_only[] = { 0, 0, 0, 1, 0x09, 0xf0 };
	uint8_t arena[16];
	struct cg_h264_payload items[1];
	struct cg_h264_plan plan = {
		.arena = arena, .arena_cap = sizeof(arena), .items = items, .items_cap = 1
	};
	GByteArray *a = g_byte_array_new();

	g_assert_cmpint(cg_h264_plan_build(&plan, aud_only, sizeof(aud_only), MAXP), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_plan_build(&plan, aud_only, sizeof(aud_only), 10), ==, -EINVAL);
	add_nal(a, 4, 0x41, 100);
	g_assert_cmpint(cg_h264_plan_build(&plan, a->data, a->len, MAXP), ==, -ENOSPC);
	add_nal(a, 4, 0x41, 4);
	plan.arena_cap = 0;
	g_assert_cmpint(cg_h264_plan_build(&plan, a->data, a->len, MAXP), ==, -ENOSPC);
	g_byte_array_free(a, TRUE);
}

/* Real x264 output: every AU (delimited by AUDs) round-trips byte-exact at several MTUs. */
static void test_plan_real_stream(void)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "h264",
						      "testsrc-320x240-cb-aud.h264", NULL);
	g_autofree uint8_t *buf = NULL;
	gsize len;
	struct cg_h264_nal nals[512];
	int n;
	unsigned aus = 0, keyframes = 0;

	g_assert_true(g_file_get_contents(path, (char **)&buf, &len, NULL));
	n = cg_h264_split_annexb(buf, len, nals, G_N_ELEMENTS(nals));
	g_assert_cmpint(n, >, 10);
	for (int i = 0; i < n; i++) {
		const uint8_t *start, *end;
		int j;

		if (nals[i].type != CG_H264_NAL_AUD)
			continue;
		for (j = i + 1; j < n && nals[j].type != CG_H264_NAL_AUD; j++)
			;
		start = nals[i].data - 4;
		end = j < n ? nals[j].data - 4 : buf + len;
		for (size_t mp = 64; mp <= 1400; mp += 668) {
			struct plan_buf b;
			GByteArray *norm = normalize(start, (size_t)(end - start));

			plan_buf_init(&b, (size_t)(end - start), mp);
			g_assert_cmpint(
				cg_h264_plan_build(&b.plan, start, (size_t)(end - start), mp), ==,
				0);
			for (size_t k = 0; k < b.plan.n_items; k++)
				g_assert_cmpuint(b.plan.items[k].len, <=, mp);
			assert_round_trip(&b.plan, norm->data, norm->len);
			keyframes += b.plan.keyframe && mp == 64;
			if (b.plan.keyframe)
				g_assert_true(b.plan.has_sps_pps);
			plan_buf_fini(&b);
			g_byte_array_free(norm, TRUE);
		}
		aus++;
	}
	g_assert_cmpuint(aus, ==, 10);
	g_assert_cmpuint(keyframes, ==, 2);
}

static void test_sps_profile(void)
{
	static const uint8_t sps[] = { 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x05 };
	static const uint8_t escaped[] = { 0x67, 0x00, 0x00, 0x03, 0x01, 0x80 };
	struct cg_h264_profile p;
	char s[7];

	g_assert_cmpint(cg_h264_sps_profile(sps, sizeof(sps), &p), ==, 0);
	g_assert_cmpuint(p.profile_idc, ==, 66);
	g_assert_cmphex(p.constraints, ==, 0xc0);
	g_assert_cmpuint(p.level_idc, ==, 31);
	g_assert_true(cg_h264_profile_is_constrained_baseline(&p));
	cg_h264_profile_to_string(&p, s);
	g_assert_cmpstr(s, ==, "42c01f");
	g_assert_cmpint(cg_h264_sps_profile(escaped, sizeof(escaped), &p), ==, 0);
	g_assert_cmphex(p.constraints, ==, 0);
	g_assert_cmpuint(p.level_idc, ==, 1);
	g_assert_cmpint(cg_h264_sps_profile(sps, 3, &p), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_sps_profile((const uint8_t *)"\x68\x42\xc0\x1f", 4, &p), ==,
			-EBADMSG);
}

static void test_profile_strings(void)
{
	struct cg_h264_profile p;

	g_assert_cmpint(cg_h264_profile_from_string("42E01F", &p), ==, 0);
	g_assert_cmpuint(p.profile_idc, ==, 0x42);
	g_assert_cmpuint(p.constraints, ==, 0xe0);
	g_assert_cmpuint(p.level_idc, ==, 0x1f);
	g_assert_true(cg_h264_profile_is_constrained_baseline(&p));
	g_assert_cmpint(cg_h264_profile_from_string("4240", &p), ==, -EINVAL);
	g_assert_cmpint(cg_h264_profile_from_string("42e01f0", &p), ==, -EINVAL);
	g_assert_cmpint(cg_h264_profile_from_string("42g01f", &p), ==, -EINVAL);
	g_assert_cmpint(cg_h264_profile_from_string(NULL, &p), ==, -EINVAL);
	g_assert_cmpint(cg_h264_profile_from_string("42001f", &p), ==, 0);
	g_assert_false(cg_h264_profile_is_constrained_baseline(&p));
	g_assert_cmpint(cg_h264_profile_from_string("64001f", &p), ==, 0);
	g_assert_false(cg_h264_profile_is_constrained_baseline(&p));
}

static void test_depacketize_loss(void)
{
	uint8_t out[256];
	struct cg_h264_depacketizer d = { .buf = out, .cap = sizeof(out) };
	static const uint8_t fu_start[] = { 0x7c, 0x85, 1, 2, 3 };
	static const uint8_t fu_mid[] = { 0x7c, 0x05, 4, 5 };
	static const uint8_t fu_end[] = { 0x7c, 0x45, 6 };
	static const uint8_t single[] = { 0x41, 0x9a, 0x10 };

	/* A middle fragment without a start: the AU is dropped up to the marker. */
	g_assert_cmpint(cg_h264_depacketize(&d, fu_mid, sizeof(fu_mid), false), ==, -EBADMSG);
	g_assert_true(d.broken);
	g_assert_cmpint(cg_h264_depacketize(&d, fu_end, sizeof(fu_end), true), ==, 0);
	g_assert_false(d.broken);
	/* The next AU is whole again. */
	g_assert_cmpint(cg_h264_depacketize(&d, fu_start, sizeof(fu_start), false), ==, 0);
	g_assert_cmpint(cg_h264_depacketize(&d, fu_mid, sizeof(fu_mid), false), ==, 0);
	g_assert_cmpint(cg_h264_depacketize(&d, fu_end, sizeof(fu_end), true), ==, 1);
	g_assert_cmpmem(out, d.len, "\0\0\0\1\x65\1\2\3\4\5\6", 11);
	d.len = 0;
	/* A lost end fragment: the next single NAL is an error. */
	g_assert_cmpint(cg_h264_depacketize(&d, fu_start, sizeof(fu_start), false), ==, 0);
	g_assert_cmpint(cg_h264_depacketize(&d, single, sizeof(single), true), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_depacketize(&d, single, sizeof(single), true), ==, 1);
	g_assert_cmpuint(d.len, ==, 4 + sizeof(single));
	d.len = 0;
	/* Truncated STAP-A and a too-small buffer. */
	g_assert_cmpint(cg_h264_depacketize(&d, (const uint8_t *)"\x78\x00\x05\x67", 4, true), ==,
			-EBADMSG);
	d.cap = 5;
	g_assert_cmpint(cg_h264_depacketize(&d, single, sizeof(single), true), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/h264/split/start-codes", test_split_start_codes);
	g_test_add_func("/h264/split/edge-cases", test_split_edge_cases);
	g_test_add_func("/h264/plan/stap-a-layout", test_plan_stap_a_layout);
	g_test_add_func("/h264/plan/single-boundary", test_plan_single_boundary);
	g_test_add_func("/h264/plan/fu-a-middle", test_plan_fu_a_middle);
	g_test_add_func("/h264/plan/errors", test_plan_errors);
	g_test_add_func("/h264/plan/real-stream", test_plan_real_stream);
	g_test_add_func("/h264/sps-profile", test_sps_profile);
	g_test_add_func("/h264/profile-strings", test_profile_strings);
	g_test_add_func("/h264/depacketize/loss", test_depacketize_loss);
	return g_test_run();
}
