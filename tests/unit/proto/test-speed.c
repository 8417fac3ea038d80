/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The x264 speed policy (proto/speed.h) on synthetic encode times: steps faster over the
 * threshold, not on a single spike, back slower only after a sustained margin, the
 * hold growing after a bounce, the range and the names. */
#include <errno.h>
#include <glib.h>
#include <stdint.h>

#include "proto/speed.h"

#define FPS	 30u
#define INTERVAL 33333u

/* Feeds a window's worth of frames of t microseconds; returns how many steps came, the
 * last one in *step. */
static unsigned feed(struct cg_speed *s, uint32_t t, unsigned windows, struct cg_speed_step *step)
{
	unsigned steps = 0;
	struct cg_speed_step st;

	for (unsigned i = 0; i < windows * s->cfg.window; i++)
		if (cg_speed_add(s, t, &st) == 1) {
			steps++;
			if (step)
				*step = st;
		}
	return steps;
}

static void start(struct cg_speed *s)
{
	struct cg_speed_cfg cfg;

	cg_speed_cfg_default(&cfg, FPS);
	g_assert_cmpuint(cfg.window, ==, FPS);
	g_assert_cmpuint(cfg.interval_usec, ==, INTERVAL);
	g_assert_cmpint(cg_speed_init(s, &cfg), ==, 0);
	g_assert_cmpuint(s->preset, ==, CG_SPEED_VERYFAST);
}

static void test_names(void)
{
	g_assert_cmpstr(cg_speed_preset_name(CG_SPEED_VERYFAST), ==, "veryfast");
	g_assert_cmpstr(cg_speed_preset_name(CG_SPEED_ULTRAFAST), ==, "ultrafast");
	g_assert_null(cg_speed_preset_name(CG_SPEED_N_PRESETS));
	g_assert_cmpint(cg_speed_preset_from_name("superfast"), ==, CG_SPEED_SUPERFAST);
	g_assert_cmpint(cg_speed_preset_from_name("medium"), ==, CG_SPEED_MEDIUM);
	g_assert_cmpint(cg_speed_preset_from_name("placebo"), ==, -EINVAL);
	g_assert_cmpint(cg_speed_preset_from_name("auto"), ==, -EINVAL);
	g_assert_cmpint(cg_speed_preset_from_name(NULL), ==, -EINVAL);
}

static void test_bad_cfg(void)
{
	struct cg_speed s = { .preset = 77 };
	struct cg_speed_cfg cfg;

	cg_speed_cfg_default(&cfg, FPS);
	cfg.start = CG_SPEED_MEDIUM; /* outside veryfast..ultrafast */
	g_assert_cmpint(cg_speed_init(&s, &cfg), ==, -EINVAL);
	cg_speed_cfg_default(&cfg, FPS);
	cfg.low_pct = cfg.high_pct;
	g_assert_cmpint(cg_speed_init(&s, &cfg), ==, -EINVAL);
	cg_speed_cfg_default(&cfg, FPS);
	cfg.interval_usec = 0;
	g_assert_cmpint(cg_speed_init(&s, &cfg), ==, -EINVAL);
	g_assert_cmpint(cg_speed_init(&s, NULL), ==, -EINVAL);
	g_assert_cmpuint(s.preset, ==, 77); /* untouched */
	/* Window bounds follow the frame rate, clamped. */
	cg_speed_cfg_default(&cfg, 1);
	g_assert_cmpuint(cfg.window, ==, CG_SPEED_WINDOW_MIN);
	cg_speed_cfg_default(&cfg, 1000);
	g_assert_cmpuint(cfg.window, ==, CG_SPEED_WINDOW_MAX);
}

/* Plenty of room at the slowest preset of the range: nothing moves. */
static void test_room_stays(void)
{
	struct cg_speed s;

	start(&s);
	g_assert_cmpuint(feed(&s, 5000, 100, NULL), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_VERYFAST);
	g_assert_cmpuint(s.last_pct_usec, ==, 5000);
}

/* Over 60 % of the interval for two windows: one step, the window after a change unjudged,
 * and never past the fastest. */
static void test_steps_faster(void)
{
	struct cg_speed_step step = { 0 };
	struct cg_speed s;

	start(&s);
	g_assert_cmpuint(feed(&s, 24000, 1, &step), ==, 0);
	g_assert_cmpuint(feed(&s, 24000, 1, &step), ==, 1);
	g_assert_cmpuint(step.from, ==, CG_SPEED_VERYFAST);
	g_assert_cmpuint(step.to, ==, CG_SPEED_SUPERFAST);
	g_assert_cmpuint(step.encode_usec, ==, 24000);
	g_assert_cmpuint(step.interval_usec, ==, INTERVAL);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_SUPERFAST);
	/* The settling window and one more: still slow, no step yet. */
	g_assert_cmpuint(feed(&s, 24000, 2, NULL), ==, 0);
	g_assert_cmpuint(feed(&s, 24000, 1, &step), ==, 1);
	g_assert_cmpuint(step.to, ==, CG_SPEED_ULTRAFAST);
	g_assert_cmpuint(feed(&s, 30000, 20, NULL), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_ULTRAFAST);
}

/* The percentile, not the mean nor the worst: a few slow frames (under 10 %) do not move
 * it, a tenth or more do. */
static void test_percentile(void)
{
	struct cg_speed_step step = { 0 };
	struct cg_speed s;

	start(&s);
	for (unsigned w = 0; w < 10; w++)
		for (unsigned i = 0; i < FPS; i++)
			g_assert_cmpint(cg_speed_add(&s, i < 2 ? 40000 : 4000, &step), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_VERYFAST);
	for (unsigned i = 0; i < 2 * FPS - 1; i++)
		g_assert_cmpint(cg_speed_add(&s, i % FPS < 4 ? 40000 : 4000, &step), ==, 0);
	g_assert_cmpint(cg_speed_add(&s, 4000, &step), ==, 1);
	g_assert_cmpuint(step.to, ==, CG_SPEED_SUPERFAST);
	g_assert_cmpuint(step.encode_usec, ==, 40000);
}

/* Exactly at the threshold is not over it; just above is. */
static void test_threshold_edge(void)
{
	struct cg_speed s;
	struct cg_speed_cfg cfg;

	cg_speed_cfg_default(&cfg, FPS);
	cfg.interval_usec = 10000;
	g_assert_cmpint(cg_speed_init(&s, &cfg), ==, 0);
	g_assert_cmpuint(feed(&s, 6000, 3, NULL), ==, 0);
	g_assert_cmpuint(feed(&s, 6001, 2, NULL), ==, 1);
}

/* One slow second at a time (another program's burst), however often, is no slow machine. */
static void test_single_spikes(void)
{
	struct cg_speed s;

	start(&s);
	for (unsigned i = 0; i < 50; i++) {
		g_assert_cmpuint(feed(&s, 30000, 1, NULL), ==, 0);
		g_assert_cmpuint(feed(&s, 10000, 1, NULL), ==, 0);
	}
	g_assert_cmpuint(s.preset, ==, CG_SPEED_VERYFAST);
}

/* Back slower only after hold_windows of room in a row; a window in the middle band resets
 * the count. */
static void test_steps_back(void)
{
	struct cg_speed_step step = { 0 };
	struct cg_speed s;

	start(&s);
	g_assert_cmpuint(feed(&s, 30000, 5, NULL), ==, 2);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_ULTRAFAST);
	feed(&s, 30000, 1, NULL); /* the settling window */
	/* 40 % of the interval: between the thresholds, stays. */
	g_assert_cmpuint(feed(&s, 13000, 50, NULL), ==, 0);
	/* Room (under 20 %) for one window short of the hold, then one in the band. */
	g_assert_cmpuint(feed(&s, 3000, CG_SPEED_HOLD_WINDOWS - 1, NULL), ==, 0);
	g_assert_cmpuint(feed(&s, 13000, 1, NULL), ==, 0);
	g_assert_cmpuint(feed(&s, 3000, CG_SPEED_HOLD_WINDOWS - 1, NULL), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_ULTRAFAST);
	g_assert_cmpuint(feed(&s, 3000, 1, &step), ==, 1);
	g_assert_cmpuint(step.from, ==, CG_SPEED_ULTRAFAST);
	g_assert_cmpuint(step.to, ==, CG_SPEED_SUPERFAST);
	/* And on to veryfast, the slowest of auto's range, never beyond. */
	g_assert_cmpuint(feed(&s, 3000, 1 + CG_SPEED_HOLD_WINDOWS, &step), ==, 1);
	g_assert_cmpuint(step.to, ==, CG_SPEED_VERYFAST);
	g_assert_cmpuint(feed(&s, 1000, 200, NULL), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_VERYFAST);
}

/*
 * A load between two presets: the faster one has room, the slower one does not. Each step
 * slower that is undone doubles the wait, so over a long run the changes thin out instead
 * of flapping once per hold.
 */
static void test_no_flapping(void)
{
	struct cg_speed_step step = { 0 };
	struct cg_speed s;
	unsigned changes = 0, windows = 0, last_hold = 0;

	start(&s);
	/* veryfast takes 30 ms (over 60 %), superfast 6 ms (under 20 %). */
	while (windows < 3000) {
		uint32_t t = s.preset == CG_SPEED_VERYFAST ? 30000 : 6000;

		changes += feed(&s, t, 1, &step);
		windows++;
		g_assert_cmpuint(s.hold, >=, last_hold);
		last_hold = s.hold;
	}
	g_assert_cmpuint(s.hold, ==, CG_SPEED_HOLD_WINDOWS * CG_SPEED_HOLD_MAX_FACTOR);
	/* Without the growing hold this would be about 3000 / 12 * 2 = 500 changes. */
	g_assert_cmpuint(changes, <, 40);
	g_assert_cmpuint(s.preset, >=, CG_SPEED_VERYFAST);
	g_assert_cmpuint(s.preset, <=, CG_SPEED_SUPERFAST);
}

/* A fixed range of one preset never changes. */
static void test_single_preset(void)
{
	struct cg_speed s;
	struct cg_speed_cfg cfg;

	cg_speed_cfg_default(&cfg, FPS);
	cfg.slowest = cfg.fastest = cfg.start = CG_SPEED_MEDIUM;
	g_assert_cmpint(cg_speed_init(&s, &cfg), ==, 0);
	g_assert_cmpuint(feed(&s, 100000, 20, NULL), ==, 0);
	g_assert_cmpuint(feed(&s, 10, 20, NULL), ==, 0);
	g_assert_cmpuint(s.preset, ==, CG_SPEED_MEDIUM);
}

/* Extreme inputs: no overflow in the comparison. */
static void test_extremes(void)
{
	struct cg_speed_step step = { 0 };
	struct cg_speed s;

	start(&s);
	g_assert_cmpuint(feed(&s, UINT32_MAX, 2, &step), ==, 1);
	g_assert_cmpuint(step.encode_usec, ==, UINT32_MAX);
	g_assert_cmpuint(feed(&s, 0, 1, NULL), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/speed/names", test_names);
	g_test_add_func("/speed/bad-cfg", test_bad_cfg);
	g_test_add_func("/speed/room-stays", test_room_stays);
	g_test_add_func("/speed/steps-faster", test_steps_faster);
	g_test_add_func("/speed/percentile", test_percentile);
	g_test_add_func("/speed/threshold-edge", test_threshold_edge);
	g_test_add_func("/speed/single-spikes", test_single_spikes);
	g_test_add_func("/speed/steps-back", test_steps_back);
	g_test_add_func("/speed/no-flapping", test_no_flapping);
	g_test_add_func("/speed/single-preset", test_single_preset);
	g_test_add_func("/speed/extremes", test_extremes);
	return g_test_run();
}
