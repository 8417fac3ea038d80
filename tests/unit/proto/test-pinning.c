/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Worker pinning (daemon/fanout/hub.h cg_hub_pick): a new viewer goes to the least loaded worker,
 * ties to the lowest index, so N viewers spread evenly over K workers. */
#include <glib.h>

#include "fanout/hub.h"

static void test_pick(void)
{
	unsigned loads[] = { 3, 1, 2, 1 };

	g_assert_cmpuint(cg_hub_pick(loads, 4), ==, 1);
	g_assert_cmpuint(cg_hub_pick(loads, 1), ==, 0);
	g_assert_cmpuint(cg_hub_pick(loads, 0), ==, 0);
}

static void test_spread(void)
{
	unsigned loads[3] = { 0 };

	/* 200 joins fill 3 workers to within one viewer of each other. */
	for (unsigned i = 0; i < 200; i++)
		loads[cg_hub_pick(loads, 3)]++;
	g_assert_cmpuint(loads[0], ==, 67);
	g_assert_cmpuint(loads[1], ==, 67);
	g_assert_cmpuint(loads[2], ==, 66);
	/* Leaves on one worker: the next joins go there until it catches up. */
	loads[2] -= 10;
	for (unsigned i = 0; i < 10; i++) {
		g_assert_cmpuint(cg_hub_pick(loads, 3), ==, 2);
		loads[2]++;
	}
	g_assert_cmpuint(cg_hub_pick(loads, 3), ==, 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pinning/pick", test_pick);
	g_test_add_func("/pinning/spread", test_spread);
	return g_test_run();
}
