/* SPDX-License-Identifier: GPL-3.0-or-later */
/* NACK history (lookup, eviction, sequence wrap), RTX packets (RFC 4588) and the NACK
 * service budget, on a fake clock. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proto/rtp.h"
#include "proto/rtx.h"

static int units[CG_RTX_HISTORY_UNITS + 8]; /* stand-ins for refcounted media units */

static void test_history_find(void)
{
	struct cg_rtx_history h;
	unsigned index = 99;

	cg_rtx_history_init(&h);
	g_assert_null(cg_rtx_history_find(&h, 0, &index));
	g_assert_null(cg_rtx_history_push(&h, &units[0], 100, 5));  /* 100..104 */
	g_assert_null(cg_rtx_history_push(&h, &units[1], 105, 1));  /* 105 */
	g_assert_null(cg_rtx_history_push(&h, &units[2], 106, 40)); /* 106..145 */
	g_assert_true(cg_rtx_history_find(&h, 100, &index) == &units[0]);
	g_assert_cmpuint(index, ==, 0);
	g_assert_true(cg_rtx_history_find(&h, 104, &index) == &units[0]);
	g_assert_cmpuint(index, ==, 4);
	g_assert_true(cg_rtx_history_find(&h, 105, &index) == &units[1]);
	g_assert_cmpuint(index, ==, 0);
	g_assert_true(cg_rtx_history_find(&h, 145, &index) == &units[2]);
	g_assert_cmpuint(index, ==, 39);
	g_assert_null(cg_rtx_history_find(&h, 146, &index));
	g_assert_null(cg_rtx_history_find(&h, 99, &index));
}

static void test_history_wrap(void)
{
	struct cg_rtx_history h;
	unsigned index;

	/* A unit whose packets straddle 65535 → 0 (RFC 3550 §A.1: modulo 2^16). */
	cg_rtx_history_init(&h);
	cg_rtx_history_push(&h, &units[0], 65533, 6); /* 65533..2 */
	g_assert_true(cg_rtx_history_find(&h, 65535, &index) == &units[0]);
	g_assert_cmpuint(index, ==, 2);
	g_assert_true(cg_rtx_history_find(&h, 2, &index) == &units[0]);
	g_assert_cmpuint(index, ==, 5);
	g_assert_null(cg_rtx_history_find(&h, 3, &index));
}

static void test_history_evict(void)
{
	struct cg_rtx_history h;
	unsigned index;
	uint16_t seq = 1000;

	cg_rtx_history_init(&h);
	for (unsigned i = 0; i < CG_RTX_HISTORY_UNITS; i++, seq += 3)
		g_assert_null(cg_rtx_history_push(&h, &units[i], seq, 3));
	/* Full: the next push returns the oldest for the caller to unref. */
	g_assert_true(cg_rtx_history_push(&h, &units[CG_RTX_HISTORY_UNITS], seq, 3) == &units[0]);
	g_assert_null(cg_rtx_history_find(&h, 1000, &index));
	g_assert_true(cg_rtx_history_find(&h, 1003, &index) == &units[1]);
	g_assert_true(cg_rtx_history_find(&h, seq + 2, &index) == &units[CG_RTX_HISTORY_UNITS]);
	/* Draining returns every unit once, oldest first. */
	for (unsigned i = 1; i <= CG_RTX_HISTORY_UNITS; i++)
		g_assert_true(cg_rtx_history_pop(&h) == &units[i]);
	g_assert_null(cg_rtx_history_pop(&h));
	g_assert_null(cg_rtx_history_find(&h, seq, &index));
}

static void test_rtx_build(void)
{
	static const uint8_t payload[] = { 0x7c, 0x85, 0xaa, 0xbb, 0xcc };
	struct cg_rtp_header h = {
		.payload_type = 103,
		.marker = true,
		.sequence = 7,
		.timestamp = 0x01020304,
		.ssrc = 0xcafebabe,
	};
	struct cg_rtp_packet p;
	uint8_t buf[64];
	int n = cg_rtx_build(buf, sizeof(buf), &h, 0xfffe, payload, sizeof(payload));

	g_assert_cmpint(n, ==, 12 + 2 + 5);
	g_assert_cmpint(cg_rtp_parse(buf, (size_t)n, &p), ==, 0);
	/* Own PT, SSRC and sequence number; the original timestamp and marker. */
	g_assert_cmpuint(p.header.payload_type, ==, 103);
	g_assert_cmpuint(p.header.ssrc, ==, 0xcafebabe);
	g_assert_cmpuint(p.header.sequence, ==, 7);
	g_assert_cmpuint(p.header.timestamp, ==, 0x01020304);
	g_assert_true(p.header.marker);
	/* RFC 4588 §4: OSN first, then the original payload. */
	g_assert_cmpuint(p.payload_len, ==, 7);
	g_assert_cmpuint(p.payload[0], ==, 0xff);
	g_assert_cmpuint(p.payload[1], ==, 0xfe);
	g_assert_cmpmem(p.payload + 2, 5, payload, 5);
	g_assert_cmpint(cg_rtx_build(buf, 18, &h, 1, payload, sizeof(payload)), ==, -ENOSPC);
	h.payload_type = 200;
	g_assert_cmpint(cg_rtx_build(buf, sizeof(buf), &h, 1, payload, 5), ==, -EINVAL);
}

static void test_rtx_build_extensions(void)
{
	static const uint8_t payload[] = { 1, 2, 3 };
	struct cg_rtp_header h = { .payload_type = 97, .sequence = 1, .ssrc = 1 };
	struct cg_rtp_packet p;
	uint8_t buf[64];
	int n;

	cg_rtp_ext_playout_delay(&h.extensions[h.n_extensions++], 6, 0, 0);
	n = cg_rtx_build(buf, sizeof(buf), &h, 42, payload, sizeof(payload));
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(cg_rtp_parse(buf, (size_t)n, &p), ==, 0);
	g_assert_cmpuint(p.header.n_extensions, ==, 1);
	g_assert_cmpuint(p.payload_len, ==, 5);
	g_assert_cmpuint(p.payload[1], ==, 42);
}

static void test_budget(void)
{
	struct cg_rtx_budget b;
	uint64_t t = 1000000;
	unsigned ok = 0;

	cg_rtx_budget_init(&b, 100, 10); /* 100/s, burst 10 */
	for (unsigned i = 0; i < 20; i++)
		ok += cg_rtx_budget_take(&b, t);
	g_assert_cmpuint(ok, ==, 10);
	/* 50 ms later: 5 more tokens. */
	t += 50000;
	ok = 0;
	for (unsigned i = 0; i < 20; i++)
		ok += cg_rtx_budget_take(&b, t);
	g_assert_cmpuint(ok, ==, 5);
	/* A long pause refills only up to the burst; time going backwards adds nothing. */
	t += 10 * 1000000;
	ok = 0;
	for (unsigned i = 0; i < 20; i++)
		ok += cg_rtx_budget_take(&b, t);
	g_assert_cmpuint(ok, ==, 10);
	g_assert_false(cg_rtx_budget_take(&b, t - 500000));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtx/history/find", test_history_find);
	g_test_add_func("/rtx/history/wrap", test_history_wrap);
	g_test_add_func("/rtx/history/evict", test_history_evict);
	g_test_add_func("/rtx/build", test_rtx_build);
	g_test_add_func("/rtx/build-extensions", test_rtx_build_extensions);
	g_test_add_func("/rtx/budget", test_budget);
	return g_test_run();
}
