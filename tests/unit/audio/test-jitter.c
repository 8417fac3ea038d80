/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The talkback jitter buffer on a simulated clock: order, loss, lateness, drift. */
#include <errno.h>
#include <glib.h>

#include "proto/jitter.h"

#define FRAME_USEC 20000
#define SAMPLES	   960

static struct cg_jitter jb;

static void push(uint16_t seq, uint64_t now)
{
	uint8_t payload[4] = { (uint8_t)(seq >> 8), (uint8_t)seq, 0xab, 0xcd };

	g_assert_cmpint(cg_jitter_push(&jb, seq, (uint32_t)seq * SAMPLES, payload, 4, now), ==, 0);
}

/* Pulls one frame; returns its sequence number, -1 for LOST, -2 for EMPTY. */
static int pull(void)
{
	const uint8_t *p;
	size_t len;

	switch (cg_jitter_pull(&jb, &p, &len)) {
	case CG_JITTER_FRAME:
		g_assert_cmpuint(len, ==, 4);
		return p[0] << 8 | p[1];
	case CG_JITTER_LOST:
		return -1;
	default:
		return -2;
	}
}

static void test_in_order(void)
{
	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 2, 10), ==, 0);
	g_assert_cmpint(pull(), ==, -2);
	push(100, 0);
	g_assert_cmpint(pull(), ==, -2); /* buffering up to the minimum depth */
	push(101, FRAME_USEC);
	for (uint16_t s = 102; s < 200; s++) {
		push(s, (uint64_t)(s - 100) * FRAME_USEC);
		g_assert_cmpint(pull(), ==, s - 2);
	}
	g_assert_cmpuint(jb.stats.played, ==, 98);
	g_assert_cmpuint(jb.stats.concealed + jb.stats.underruns + jb.stats.late, ==, 0);
}

static void test_reorder_and_duplicates(void)
{
	uint8_t x = 0;

	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 3, 10), ==, 0);
	push(11, 0);
	push(10, 1000); /* the first burst arrived out of order: the start moves back */
	push(13, 2000);
	push(12, 3000);
	g_assert_cmpint(cg_jitter_push(&jb, 12, 12 * SAMPLES, &x, 1, 4000), ==, -EALREADY);
	for (int s = 10; s <= 13; s++)
		g_assert_cmpint(pull(), ==, s);
	g_assert_cmpuint(jb.stats.reordered, >=, 2);
	g_assert_cmpuint(jb.stats.duplicates, ==, 1);
}

static void test_loss_and_late(void)
{
	uint8_t x = 0;

	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 2, 10), ==, 0);
	push(0, 0);
	push(1, FRAME_USEC);
	push(3, 3 * FRAME_USEC); /* 2 is lost */
	push(4, 4 * FRAME_USEC);
	g_assert_cmpint(pull(), ==, 0);
	g_assert_cmpint(pull(), ==, 1);
	g_assert_cmpint(pull(), ==, -1); /* the decoder conceals 2 */
	g_assert_cmpint(pull(), ==, 3);
	/* 2 turns up after its turn: dropped, never played out of order. */
	g_assert_cmpint(cg_jitter_push(&jb, 2, 2 * SAMPLES, &x, 1, 5 * FRAME_USEC), ==, -ETIMEDOUT);
	g_assert_cmpint(pull(), ==, 4);
	/* Nothing more: it runs dry and rebuffers instead of concealing forever. */
	g_assert_cmpint(pull(), ==, -2);
	g_assert_cmpuint(jb.stats.concealed, ==, 1);
	g_assert_cmpuint(jb.stats.late, ==, 1);
	g_assert_cmpuint(jb.stats.underruns, ==, 1);
}

/* Arrivals wobble by up to ±30 ms: the buffer deepens to cover it and loses nothing. */
static void test_adapts_to_jitter(void)
{
	unsigned played = 0, empty = 0;

	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 1, 12), ==, 0);
	g_test_rand_int(); /* seeded per run by GTest: reproducible with --seed */
	for (uint16_t s = 0; s < 1000; s++) {
		int64_t wobble = g_test_rand_int_range(-30000, 30000);

		push(s, (uint64_t)(s * FRAME_USEC + 100000 + wobble));
		if (s >= 5) {
			int r = pull();
			played += r >= 0;
			empty += r == -2;
		}
	}
	g_test_message("target %u frames, played %u, empty %u, late %" G_GUINT64_FORMAT,
		       jb.target_frames, played, empty, jb.stats.late);
	g_assert_cmpuint(jb.target_frames, >=, 3);
	g_assert_cmpuint(jb.stats.late, ==, 0);
	g_assert_cmpuint(played, >=, 980);
}

/* The sender's clock runs 1 % fast: the buffer sheds frames instead of growing forever. */
static void test_clock_drift(void)
{
	unsigned pulls = 0;
	uint16_t seq = 0;

	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 2, 8), ==, 0);
	for (uint64_t t = 0; t < 120 * G_USEC_PER_SEC; t += 1000) {
		if (t >= (uint64_t)seq * FRAME_USEC * 99 / 100)
			push(seq++, t);
		if (t >= (uint64_t)pulls * FRAME_USEC && seq > 2) {
			pull();
			pulls++;
		}
	}
	g_test_message("depth %u, shed %" G_GUINT64_FORMAT, cg_jitter_depth(&jb), jb.stats.shed);
	g_assert_cmpuint(cg_jitter_depth(&jb), <=, jb.target_frames + 3);
	g_assert_cmpuint(jb.stats.shed, >=, 40);
	g_assert_cmpuint(jb.stats.overflow, ==, 0);
}

static void test_jump_restarts(void)
{
	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 1, 4), ==, 0);
	push(1, 0);
	g_assert_cmpint(pull(), ==, 1);
	push(5000, FRAME_USEC); /* a restarted sender: far ahead */
	g_assert_cmpuint(jb.stats.overflow, ==, 1);
	g_assert_cmpint(pull(), ==, 5000);
	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 0, 4), ==, -EINVAL);
	g_assert_cmpint(cg_jitter_init(&jb, 48000, SAMPLES, 1, CG_JITTER_SLOTS), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/jitter/in-order", test_in_order);
	g_test_add_func("/jitter/reorder-duplicates", test_reorder_and_duplicates);
	g_test_add_func("/jitter/loss-late", test_loss_and_late);
	g_test_add_func("/jitter/adapts", test_adapts_to_jitter);
	g_test_add_func("/jitter/clock-drift", test_clock_drift);
	g_test_add_func("/jitter/jump", test_jump_restarts);
	return g_test_run();
}
