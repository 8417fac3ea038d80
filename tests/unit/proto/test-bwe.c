/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bandwidth: per-viewer estimates (REMB, TWCC, expiry), the send budget, and the bitrate
 * policy (lowest viewer at or above the floor, clamping, fast decrease, smooth increase,
 * unknown estimates), all on a fake clock. */
#include <glib.h>

#include "proto/bwe.h"
#include "proto/twcc.h"

#define S(x) ((uint64_t)(x)*1000000u)

static void test_remb(void)
{
	struct cg_bwe_viewer v = { 0 };

	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(1)), ==, 0);
	cg_bwe_on_remb(&v, 1500000, S(1));
	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(2)), ==, 1500);
	/* Stale after CG_BWE_ESTIMATE_TTL_MS. */
	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(1) + CG_BWE_ESTIMATE_TTL_MS * 1000 + 1), ==, 0);
}

static void test_twcc(void)
{
	struct cg_bwe_viewer v = { 0 };
	/* 100 packets of 1000 bytes over 400 ms, none lost: 2 Mbit/s delivered. */
	struct cg_twcc_report r = { .reported = 100,
				    .received = 100,
				    .bytes_received = 100000,
				    .recv_span_us = 400000,
				    .send_span_ms = 400 };

	cg_bwe_on_twcc(&v, &r, S(1));
	/* Under 2 % loss: 5 % headroom over what got through. */
	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(1)), ==, 2100);
	g_assert_cmpfloat(v.loss, ==, 0.0);
	/* 30 % loss (smoothed 0.8/0.2: 6 %) holds; a run of it backs off. */
	r.received = 70;
	r.bytes_received = 70000;
	for (unsigned i = 0; i < 10; i++)
		cg_bwe_on_twcc(&v, &r, S(2 + i));
	g_assert_cmpfloat(v.loss, >, 0.2);
	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(12)), <, 1400 * 0.9);
	/* A REMB, when fresh, wins over TWCC. */
	cg_bwe_on_remb(&v, 3000000, S(12));
	g_assert_cmpuint(cg_bwe_estimate_kbps(&v, S(12)), ==, 3000);
	/* Too few packets or too short a span say nothing about the rate. */
	struct cg_bwe_viewer w = { 0 };
	struct cg_twcc_report tiny = {
		.reported = 4, .received = 4, .bytes_received = 4000, .recv_span_us = 1000
	};
	cg_bwe_on_twcc(&w, &tiny, S(1));
	g_assert_cmpuint(cg_bwe_estimate_kbps(&w, S(1)), ==, 0);
}

static void test_rr_loss(void)
{
	struct cg_bwe_viewer v = { 0 };

	cg_bwe_on_rr(&v, 64, S(1));
	g_assert_cmpfloat(v.loss, ==, 0.25);
	g_assert_cmpuint(v.rr_fraction_lost, ==, 64);
}

static void test_budget(void)
{
	struct cg_bwe_budget b = { 0 };

	/* Unlimited until a rate is set. */
	g_assert_true(cg_bwe_budget_take(&b, 1000000, false, S(1)));
	cg_bwe_budget_set_rate(&b, 800000); /* 100 kB/s, bucket 100 kB */
	b.last_usec = 0;		    /* starts full */
	g_assert_true(cg_bwe_budget_take(&b, 60000, false, S(2)));
	g_assert_false(cg_bwe_budget_take(&b, 60000, false, S(2)));
	/* A keyframe may borrow while the bucket is not in debt... */
	g_assert_true(cg_bwe_budget_take(&b, 60000, true, S(2)));
	/* ...and then nothing fits until the debt is paid back. */
	g_assert_false(cg_bwe_budget_take(&b, 100, true, S(2) + 100000));
	g_assert_true(cg_bwe_budget_take(&b, 100, false, S(3)));
}

static void test_policy_lowest_and_floor(void)
{
	struct cg_bwe_policy p;
	unsigned below;
	uint32_t est[] = { 0, 1800, 3000, 200, 0 };

	cg_bwe_policy_init(&p, 500, 2500, 2000);
	g_assert_cmpuint(p.current_kbps, ==, 2000);
	/* Follows the lowest at or above the floor; 200 is below it and is only counted. */
	g_assert_cmpuint(cg_bwe_policy_decide(&p, est, 5, S(1), &below), ==, 1800);
	g_assert_cmpuint(below, ==, 1);
	/* Nothing known: keep. */
	uint32_t none[] = { 0, 0 };
	g_assert_cmpuint(cg_bwe_policy_decide(&p, none, 2, S(2), &below), ==, 1800);
	g_assert_cmpuint(cg_bwe_policy_decide(&p, NULL, 0, S(3), NULL), ==, 1800);
	/* Every viewer below the floor: keep too (they get keyframe-skipping). */
	uint32_t low[] = { 100, 300 };
	g_assert_cmpuint(cg_bwe_policy_decide(&p, low, 2, S(4), &below), ==, 1800);
	g_assert_cmpuint(below, ==, 2);
	/* The start is clamped into [min, max]. */
	cg_bwe_policy_init(&p, 500, 2500, 9000);
	g_assert_cmpuint(p.current_kbps, ==, 2500);
	cg_bwe_policy_init(&p, 500, 400, 100);
	g_assert_cmpuint(p.current_kbps, ==, 500);
}

static void test_policy_dynamics(void)
{
	struct cg_bwe_policy p;
	uint32_t est = 600;
	uint64_t t = S(10);

	cg_bwe_policy_init(&p, 300, 2000, 2000);
	/* Fast decrease: at once, even right after another change. */
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t, NULL), ==, 600);
	est = 400;
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t + 1000, NULL), ==, 400);
	/* Smooth increase: not within the interval, then +8 % per interval. */
	est = 5000;
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t + 500000, NULL), ==, 400);
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t + S(1) + 1000, NULL), ==, 432);
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t + S(2) + 2000, NULL), ==, 466);
	/* ...up to the ceiling, never above it. */
	for (unsigned i = 3; i < 60; i++)
		cg_bwe_policy_decide(&p, &est, 1, t + S(i) + i * 1000, NULL);
	g_assert_cmpuint(p.current_kbps, ==, 2000);
	/* Below the floor is clamped to the floor when it is the lowest usable viewer. */
	est = 300;
	g_assert_cmpuint(cg_bwe_policy_decide(&p, &est, 1, t + S(100), NULL), ==, 300);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bwe/remb", test_remb);
	g_test_add_func("/bwe/twcc", test_twcc);
	g_test_add_func("/bwe/rr-loss", test_rr_loss);
	g_test_add_func("/bwe/budget", test_budget);
	g_test_add_func("/bwe/policy/lowest-and-floor", test_policy_lowest_and_floor);
	g_test_add_func("/bwe/policy/dynamics", test_policy_dynamics);
	return g_test_run();
}
