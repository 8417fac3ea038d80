/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hw/au_writer: every rule of the access-unit writer the encoder backends share, on
 * hand-made NALs: start codes, the SPS/PPS cache, IDR completion, what is dropped, and
 * refusals that change nothing.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "hw/au_writer.h"

/* Constrained Baseline 3.0 and High 4.1 SPSs, a PPS, slices. */
static const uint8_t sps_cb[] = { 0x67, 0x42, 0xc0, 0x1e, 0xda };
static const uint8_t sps_high[] = { 0x67, 0x64, 0x00, 0x29, 0xac, 0x2b };
static const uint8_t pps[] = { 0x68, 0xce, 0x3c, 0x80 };
static const uint8_t pps2[] = { 0x68, 0xee, 0x06, 0xf2 };
static const uint8_t idr[] = { 0x65, 0x88, 0x84, 0x21 };
static const uint8_t idr2[] = { 0x65, 0x00, 0x12 }; /* a second slice of the same IDR */
static const uint8_t pslice[] = { 0x41, 0x9a, 0x02 };
static const uint8_t sei[] = { 0x06, 0x05, 0x01, 0x80 };
static const uint8_t aud[] = { 0x09, 0xf0 };
static const uint8_t filler[] = { 0x0c, 0xff, 0xff, 0x80 };

/* Annex-B text built piece by piece: each NAL behind a start code of sc bytes. */
struct buf {
	uint8_t b[4096];
	size_t len;
};

static void add(struct buf *b, unsigned sc, const uint8_t *nal, size_t n)
{
	g_assert_cmpuint(b->len + sc + n, <=, sizeof(b->b));
	memset(b->b + b->len, 0, sc - 1);
	b->b[b->len + sc - 1] = 1;
	memcpy(b->b + b->len + sc, nal, n);
	b->len += sc + n;
}

#define ADD(b, sc, nal) add(b, sc, nal, sizeof(nal))

/* One AU from one Annex-B buffer: append_annexb's return, finish's in *r2. */
static struct cg_au *write_au(struct cg_au_writer *w, const struct buf *in, int *r2)
{
	struct cg_au *au = NULL;
	int r;

	cg_au_writer_begin(w, in->len);
	r = cg_au_writer_append_annexb(w, in->b, in->len);
	g_assert_cmpint(r, ==, 0);
	*r2 = cg_au_writer_finish(w, &au);
	g_assert_true((*r2 == 0) == (au != NULL));
	return au;
}

static void assert_au(const struct cg_au *au, const struct buf *want, bool keyframe)
{
	g_assert_nonnull(au);
	g_assert_cmpmem(au->data, au->len, want->b, want->len);
	g_assert_true(au->keyframe == keyframe);
	g_assert_cmpuint(au->len, <=, au->cap);
}

/* 3-byte start codes become 4-byte ones; padding zero bytes go. */
static void test_start_codes(void)
{
	struct cg_au_writer w;
	struct buf in = { 0 }, want = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 3, sps_cb);
	ADD(&in, 4, pps);
	ADD(&in, 3, idr);
	ADD(&in, 3, idr2);
	in.b[in.len++] = 0; /* trailing_zero_8bits */
	in.b[in.len++] = 0;
	ADD(&want, 4, sps_cb);
	ADD(&want, 4, pps);
	ADD(&want, 4, idr);
	ADD(&want, 4, idr2);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	g_assert_cmpuint(w.stats.short_start_codes, ==, 3);
	g_assert_cmpuint(w.stats.aus, ==, 1);
	g_assert_cmpuint(w.stats.keyframes, ==, 1);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 0); /* it had them: nothing doubled */
	cg_au_unref(au);
	cg_au_writer_abort(&w);
}

/* Headers alone: cached, not emitted; the next IDR gets them in front; P slices do not. */
static void test_headers_then_idr(void)
{
	struct cg_au_writer w;
	struct buf hdr = { 0 }, in = { 0 }, want = { 0 }, p = { 0 };
	struct cg_au *au;
	uint8_t prof[3];
	int r;

	cg_au_writer_init(&w);
	g_assert_cmpint(cg_au_writer_profile(&w, prof), ==, -ENODATA);
	ADD(&hdr, 4, sps_cb);
	ADD(&hdr, 4, pps);
	g_assert_null(write_au(&w, &hdr, &r));
	g_assert_cmpint(r, ==, -EAGAIN);
	g_assert_cmpuint(w.stats.headers_only, ==, 1);
	g_assert_cmpuint(w.stats.aus, ==, 0);
	g_assert_cmpint(cg_au_writer_profile(&w, prof), ==, 0);
	g_assert_cmpmem(prof, 3, sps_cb + 1, 3);

	ADD(&in, 4, idr);
	ADD(&want, 4, sps_cb);
	ADD(&want, 4, pps);
	ADD(&want, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 1);
	cg_au_unref(au);

	/* A P slice is left as it is. */
	ADD(&p, 4, pslice);
	au = write_au(&w, &p, &r);
	assert_au(au, &p, false);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 1);
	g_assert_cmpuint(w.stats.aus, ==, 2);
	g_assert_cmpuint(w.stats.keyframes, ==, 1);
	cg_au_unref(au);
}

/* An IDR that carries its own SPS/PPS is not doubled, even after an SEI. */
static void test_idr_not_doubled(void)
{
	struct cg_au_writer w;
	struct buf in = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, pps);
	ADD(&in, 4, idr);
	cg_au_unref(write_au(&w, &in, &r));
	in.len = 0;
	ADD(&in, 4, sei);
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, pps);
	ADD(&in, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &in, true);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 0);
	cg_au_unref(au);
}

/* A new SPS replaces the cached one (and the profile); so does a new PPS. */
static void test_sps_change(void)
{
	struct cg_au_writer w;
	struct buf in = { 0 }, want = { 0 };
	struct cg_au *au;
	uint8_t prof[3];
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, pps);
	g_assert_null(write_au(&w, &in, &r));
	g_assert_cmpuint(w.stats.sps_changes, ==, 1);
	g_assert_null(write_au(&w, &in, &r)); /* the same again: no change */
	g_assert_cmpuint(w.stats.sps_changes, ==, 1);
	g_assert_cmpuint(w.stats.headers_only, ==, 2);

	in.len = 0;
	ADD(&in, 4, sps_high);
	ADD(&in, 4, pps2);
	ADD(&in, 4, idr);
	cg_au_unref(write_au(&w, &in, &r));
	g_assert_cmpuint(w.stats.sps_changes, ==, 2);
	g_assert_cmpint(cg_au_writer_profile(&w, prof), ==, 0);
	g_assert_cmpmem(prof, 3, ((const uint8_t[]){ 100, 0x00, 41 }), 3);

	in.len = 0;
	ADD(&in, 4, idr);
	ADD(&want, 4, sps_high);
	ADD(&want, 4, pps2);
	ADD(&want, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	cg_au_unref(au);
}

/* Only what is missing is added, where a decoder needs it: SPS first, a PPS after the SPS. */
static void test_partial_headers(void)
{
	struct cg_au_writer w;
	struct buf in = { 0 }, want = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, pps);
	g_assert_null(write_au(&w, &in, &r));

	/* SPS in the AU, no PPS: the cached PPS right after that SPS, before the SEI. */
	in.len = 0;
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, sei);
	ADD(&in, 4, idr);
	ADD(&want, 4, sps_cb);
	ADD(&want, 4, pps);
	ADD(&want, 4, sei);
	ADD(&want, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	cg_au_unref(au);

	/* PPS in the AU, no SPS: the cached SPS at the front. */
	in.len = want.len = 0;
	ADD(&in, 4, pps);
	ADD(&in, 4, idr);
	ADD(&want, 4, sps_cb);
	ADD(&want, 4, pps);
	ADD(&want, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	cg_au_unref(au);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 2);
	g_assert_cmpuint(w.stats.bare_idrs, ==, 0);
}

/* With nothing cached an IDR goes out as it is (and is counted). */
static void test_bare_idr(void)
{
	struct cg_au_writer w;
	struct buf in = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &in, true);
	g_assert_cmpuint(w.stats.bare_idrs, ==, 1);
	g_assert_cmpuint(w.stats.ps_inserted, ==, 0);
	cg_au_unref(au);
}

/* AUD, filler and the types RTP reserves are dropped; SEI and end-of-sequence stay. */
static void test_dropped(void)
{
	static const uint8_t stap[] = { 0x18, 0x00, 0x02 };
	static const uint8_t eoseq[] = { 0x0a };
	struct cg_au_writer w;
	struct buf in = { 0 }, want = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, aud);
	ADD(&in, 4, sei);
	ADD(&in, 4, pslice);
	ADD(&in, 4, filler);
	ADD(&in, 4, stap);
	ADD(&in, 4, eoseq);
	ADD(&want, 4, sei);
	ADD(&want, 4, pslice);
	ADD(&want, 4, eoseq);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, false);
	g_assert_cmpuint(w.stats.dropped_nals, ==, 3);
	cg_au_unref(au);

	/* An AU of an AUD and an SEI holds no picture: nothing emitted, no headers counted. */
	in.len = 0;
	ADD(&in, 4, aud);
	ADD(&in, 4, sei);
	g_assert_null(write_au(&w, &in, &r));
	g_assert_cmpint(r, ==, -EAGAIN);
	g_assert_cmpuint(w.stats.headers_only, ==, 0);
}

/* NALs given one by one without start codes, as x264-like encoders could; AU growth. */
static void test_append_nal(void)
{
	static uint8_t big[20000];
	struct cg_au_writer w;
	struct cg_au *au = NULL;

	cg_au_writer_init(&w);
	g_assert_cmpint(cg_au_writer_append_nal(&w, idr, sizeof(idr)), ==, -EINVAL); /* no AU */
	g_assert_cmpint(cg_au_writer_finish(&w, &au), ==, -EINVAL);
	memset(big, 0x5a, sizeof(big));
	big[0] = 0x41;
	cg_au_writer_begin(&w, 0); /* a hint too small: the AU grows */
	g_assert_cmpint(cg_au_writer_append_nal(&w, sps_cb, sizeof(sps_cb)), ==, 0);
	g_assert_cmpint(cg_au_writer_append_nal(&w, pps, sizeof(pps)), ==, 0);
	g_assert_cmpint(cg_au_writer_append_nal(&w, aud, sizeof(aud)), ==, 0);
	g_assert_cmpint(cg_au_writer_append_nal(&w, big, sizeof(big)), ==, 0);
	g_assert_cmpint(cg_au_writer_append_nal(&w, idr, 0), ==, -EBADMSG);
	g_assert_cmpint(cg_au_writer_finish(&w, &au), ==, 0);
	g_assert_false(au->keyframe);
	g_assert_cmpuint(au->len, ==, 4 + sizeof(sps_cb) + 4 + sizeof(pps) + 4 + sizeof(big));
	g_assert_cmpuint(au->len, <=, au->cap);
	g_assert_cmpmem(au->data + au->len - sizeof(big), sizeof(big), big, sizeof(big));
	g_assert_cmpuint(w.stats.dropped_nals, ==, 1);
	cg_au_unref(au);
}

/* An SPS too big to cache empties the cache: no stale SPS in front of a later IDR. */
static void test_big_sps(void)
{
	static uint8_t big[CG_AU_WRITER_PS_MAX + 1];
	struct cg_au_writer w;
	struct buf in = { 0 }, want = { 0 };
	struct cg_au *au;
	int r;

	cg_au_writer_init(&w);
	ADD(&in, 4, sps_cb);
	ADD(&in, 4, pps);
	g_assert_null(write_au(&w, &in, &r));
	memset(big, 0x11, sizeof(big));
	memcpy(big, sps_high, 4);
	in.len = 0;
	ADD(&in, 4, big);
	g_assert_null(write_au(&w, &in, &r));
	in.len = 0;
	ADD(&in, 4, idr);
	ADD(&want, 4, pps); /* the PPS alone: better than the SPS of another stream */
	ADD(&want, 4, idr);
	au = write_au(&w, &in, &r);
	assert_au(au, &want, true);
	g_assert_cmpuint(w.stats.bare_idrs, ==, 1);
	cg_au_unref(au);
}

/* Not H.264: -EBADMSG, and neither the AU being written nor the cache changes. */
static void test_garbage(void)
{
	static const uint8_t no_sc[] = { 0x65, 0x88, 0x84 };
	static const uint8_t forbidden[] = { 0, 0, 0, 1, 0xe5, 0x88 };
	static const uint8_t type0[] = { 0, 0, 0, 1, 0x00, 0x88 };
	static const uint8_t short_slice[] = { 0, 0, 0, 1, 0x41 };
	static const uint8_t short_pps[] = { 0, 0, 0, 1, 0x68 };
	static const uint8_t short_sps[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00 };
	static const uint8_t level0_sps[] = { 0, 0, 1, 0x67, 0x42, 0xc0, 0x00, 0x11 };
	static const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {
		{ no_sc, sizeof(no_sc) },
		{ forbidden, sizeof(forbidden) },
		{ type0, sizeof(type0) },
		{ short_slice, sizeof(short_slice) },
		{ short_pps, sizeof(short_pps) },
		{ short_sps, sizeof(short_sps) },
		{ level0_sps, sizeof(level0_sps) },
		{ (const uint8_t *)"\0\0", 2 },
		{ NULL, 4 },
	};
	struct cg_au_writer w;
	struct buf hdr = { 0 }, in = { 0 }, want = { 0 };
	struct cg_au *au = NULL;
	uint8_t prof[3];
	int r;

	cg_au_writer_init(&w);
	ADD(&hdr, 4, sps_cb);
	ADD(&hdr, 4, pps);
	g_assert_null(write_au(&w, &hdr, &r));

	cg_au_writer_begin(&w, 16);
	ADD(&in, 3, pslice);
	g_assert_cmpint(cg_au_writer_append_annexb(&w, in.b, in.len), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(cg_au_writer_append_annexb(&w, bad[i].p, bad[i].n), ==, -EBADMSG);
	/* Good NALs in front of a bad one are not written either, nor is their SPS cached. */
	in.len = 0;
	ADD(&in, 4, sps_high);
	ADD(&in, 4, idr);
	memcpy(in.b + in.len, forbidden, sizeof(forbidden));
	in.len += sizeof(forbidden);
	g_assert_cmpint(cg_au_writer_append_annexb(&w, in.b, in.len), ==, -EBADMSG);
	g_assert_cmpint(cg_au_writer_append_nal(&w, forbidden + 4, 2), ==, -EBADMSG);
	g_assert_cmpuint(w.stats.bad_input, ==, G_N_ELEMENTS(bad) + 2);
	g_assert_cmpint(cg_au_writer_finish(&w, &au), ==, 0);
	ADD(&want, 4, pslice);
	assert_au(au, &want, false);
	cg_au_unref(au);
	g_assert_cmpint(cg_au_writer_profile(&w, prof), ==, 0);
	g_assert_cmpmem(prof, 3, sps_cb + 1, 3);
	g_assert_cmpuint(w.stats.sps_changes, ==, 1);
}

/* Random bytes, with and without start codes: never a crash, 0 or -EBADMSG, and what is
 * written is well-formed (4-byte start codes, within cap). */
static void test_random(void)
{
	struct cg_au_writer w;
	uint8_t in[256];

	cg_au_writer_init(&w);
	for (unsigned round = 0; round < 20000; round++) {
		size_t n = (size_t)g_test_rand_int_range(0, sizeof(in));
		struct cg_au *au = NULL;
		int r;

		for (size_t i = 0; i < n; i++) /* mostly small values: start codes are likely */
			in[i] = (uint8_t)(g_test_rand_bit() ? g_test_rand_int_range(0, 2)
							    : g_test_rand_int_range(0, 256));
		if (n >= 4 && g_test_rand_bit())
			memcpy(in, (const uint8_t[]){ 0, 0, 0, 1 }, 4);
		cg_au_writer_begin(&w, (size_t)g_test_rand_int_range(0, 64));
		r = cg_au_writer_append_annexb(&w, in, n);
		g_assert_true(r == 0 || r == -EBADMSG);
		r = cg_au_writer_finish(&w, &au);
		g_assert_true(r == 0 || r == -EAGAIN);
		if (!au)
			continue;
		g_assert_cmpuint(au->len, <=, au->cap);
		g_assert_cmpuint(au->len, >=, 5);
		g_assert_cmpmem(au->data, 4, ((const uint8_t[]){ 0, 0, 0, 1 }), 4);
		cg_au_unref(au);
	}
	g_assert_cmpuint(w.stats.aus + w.stats.bad_input, >, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/au-writer/start-codes", test_start_codes);
	g_test_add_func("/au-writer/headers-then-idr", test_headers_then_idr);
	g_test_add_func("/au-writer/idr-not-doubled", test_idr_not_doubled);
	g_test_add_func("/au-writer/sps-change", test_sps_change);
	g_test_add_func("/au-writer/partial-headers", test_partial_headers);
	g_test_add_func("/au-writer/bare-idr", test_bare_idr);
	g_test_add_func("/au-writer/dropped", test_dropped);
	g_test_add_func("/au-writer/append-nal", test_append_nal);
	g_test_add_func("/au-writer/big-sps", test_big_sps);
	g_test_add_func("/au-writer/garbage", test_garbage);
	g_test_add_func("/au-writer/random", test_random);
	return g_test_run();
}
