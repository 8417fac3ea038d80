/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fan-out policies (proto/fanout.c): drop-oldest with the video gap mark, and the GOP
 * cache a joining viewer starts from, on a fake clock. */
#include <glib.h>

#include "proto/fanout.h"

static int units[64]; /* their addresses stand for media units */

static void test_queue_drop_oldest(void)
{
	struct cg_fanout_queue q = { 0 };
	bool gap;

	for (int i = 0; i < CG_FANOUT_QUEUE; i++)
		g_assert_null(cg_fanout_queue_push(&q, &units[i], true));
	/* Full: the oldest goes, and since it was video, a gap is marked. */
	g_assert_true(cg_fanout_queue_push(&q, &units[16], true) == &units[0]);
	g_assert_true(cg_fanout_queue_pop(&q, &gap) == &units[1]);
	g_assert_true(gap);
	/* The mark is cleared by the pop that reported it. */
	g_assert_true(cg_fanout_queue_pop(&q, &gap) == &units[2]);
	g_assert_false(gap);
	for (int i = 3; i <= 16; i++)
		g_assert_true(cg_fanout_queue_pop(&q, NULL) == &units[i]);
	g_assert_null(cg_fanout_queue_pop(&q, &gap));
	g_assert_false(gap);
}

static void test_queue_audio_drop_no_gap(void)
{
	struct cg_fanout_queue q = { 0 };
	bool gap;

	g_assert_null(cg_fanout_queue_push(&q, &units[0], false));
	for (int i = 1; i < CG_FANOUT_QUEUE; i++)
		g_assert_null(cg_fanout_queue_push(&q, &units[i], true));
	/* Sound dropped: Opus frames decode on their own, nobody needs a keyframe. */
	g_assert_true(cg_fanout_queue_push(&q, &units[16], true) == &units[0]);
	g_assert_true(cg_fanout_queue_pop(&q, &gap) == &units[1]);
	g_assert_false(gap);
}

static struct cg_fanout_unit_info info(bool key, uint16_t seq, uint16_t n, uint64_t t)
{
	return (struct cg_fanout_unit_info){
		.keyframe = key, .first_seq = seq, .n_packets = n, .capture_usec = t
	};
}

static void test_gop_chain(void)
{
	struct cg_fanout_gop g = { 0 };
	void *released[CG_FANOUT_GOP_MAX];
	unsigned n;
	struct cg_fanout_unit_info i;

	/* No keyframe yet: nothing to start from, nothing kept. */
	i = info(false, 10, 3, 0);
	g_assert_false(cg_fanout_gop_offer(&g, &units[0], &i, released, &n));
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpuint(cg_fanout_gop_usable(&g, 0, 200000), ==, 0);
	i = info(true, 13, 20, 1000000);
	g_assert_true(cg_fanout_gop_offer(&g, &units[1], &i, released, &n));
	i = info(false, 33, 4, 1033000);
	g_assert_true(cg_fanout_gop_offer(&g, &units[2], &i, released, &n));
	/* Usable within max-age of the keyframe, not after (fake clock). */
	g_assert_cmpuint(cg_fanout_gop_usable(&g, 1200000, 200000), ==, 2);
	g_assert_cmpuint(cg_fanout_gop_usable(&g, 1200001, 200000), ==, 0);
	/* Sequence numbers wrap: 65534 + 4 continues at 2. */
	i = info(true, 65534, 4, 2000000);
	g_assert_true(cg_fanout_gop_offer(&g, &units[3], &i, released, &n));
	g_assert_cmpuint(n, ==, 2); /* the old chain is handed back */
	g_assert_true(released[0] == &units[2] && released[1] == &units[1]);
	i = info(false, 2, 1, 2033000);
	g_assert_true(cg_fanout_gop_offer(&g, &units[4], &i, released, &n));
	g_assert_cmpuint(g.len, ==, 2);
}

static void test_gop_gap_and_length(void)
{
	struct cg_fanout_gop g = { 0 };
	void *released[CG_FANOUT_GOP_MAX];
	unsigned n;
	struct cg_fanout_unit_info i = info(true, 0, 5, 0);

	g_assert_true(cg_fanout_gop_offer(&g, &units[0], &i, released, &n));
	/* A unit that does not follow (a dropped frame): the chain no longer decodes. */
	i = info(false, 6, 1, 0);
	g_assert_false(cg_fanout_gop_offer(&g, &units[1], &i, released, &n));
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(g.len, ==, 0);
	/* A chain longer than CG_FANOUT_GOP_MAX is not worth replaying. */
	i = info(true, 100, 1, 0);
	g_assert_true(cg_fanout_gop_offer(&g, &units[2], &i, released, &n));
	for (unsigned k = 1; k < CG_FANOUT_GOP_MAX; k++) {
		i = info(false, (uint16_t)(100 + k), 1, 0);
		g_assert_true(cg_fanout_gop_offer(&g, &units[2 + k], &i, released, &n));
	}
	i = info(false, 100 + CG_FANOUT_GOP_MAX, 1, 0);
	g_assert_false(cg_fanout_gop_offer(&g, &units[20], &i, released, &n));
	g_assert_cmpuint(n, ==, CG_FANOUT_GOP_MAX);
	g_assert_cmpuint(cg_fanout_gop_usable(&g, 0, 200000), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fanout/queue/drop-oldest", test_queue_drop_oldest);
	g_test_add_func("/fanout/queue/audio-drop-no-gap", test_queue_audio_drop_no_gap);
	g_test_add_func("/fanout/gop/chain", test_gop_chain);
	g_test_add_func("/fanout/gop/gap-and-length", test_gop_gap_and_length);
	return g_test_run();
}
