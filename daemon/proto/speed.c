/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proto/speed.h"

static const char *const speed_names[CG_SPEED_N_PRESETS] = {
	[CG_SPEED_MEDIUM] = "medium",	    [CG_SPEED_FAST] = "fast",
	[CG_SPEED_FASTER] = "faster",	    [CG_SPEED_VERYFAST] = "veryfast",
	[CG_SPEED_SUPERFAST] = "superfast", [CG_SPEED_ULTRAFAST] = "ultrafast",
};

const char *cg_speed_preset_name(unsigned preset)
{
	return preset < CG_SPEED_N_PRESETS ? speed_names[preset] : NULL;
}

int cg_speed_preset_from_name(const char *name)
{
	for (unsigned i = 0; name && i < CG_SPEED_N_PRESETS; i++)
		if (strcmp(name, speed_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void cg_speed_cfg_default(struct cg_speed_cfg *cfg, uint32_t fps)
{
	uint32_t w = fps < CG_SPEED_WINDOW_MIN ? CG_SPEED_WINDOW_MIN : fps;

	*cfg = (struct cg_speed_cfg){
		.interval_usec = fps ? 1000000u / fps : 1000000u,
		.slowest = CG_SPEED_VERYFAST,
		.fastest = CG_SPEED_ULTRAFAST,
		.start = CG_SPEED_VERYFAST,
		.window = w > CG_SPEED_WINDOW_MAX ? CG_SPEED_WINDOW_MAX : w,
		.high_pct = CG_SPEED_HIGH_PCT,
		.over_windows = CG_SPEED_OVER_WINDOWS,
		.low_pct = CG_SPEED_LOW_PCT,
		.hold_windows = CG_SPEED_HOLD_WINDOWS,
	};
}

static bool speed_cfg_ok(const struct cg_speed_cfg *c)
{
	return c->interval_usec && c->slowest <= c->fastest && c->fastest < CG_SPEED_N_PRESETS &&
	       c->start >= c->slowest && c->start <= c->fastest &&
	       c->window >= CG_SPEED_WINDOW_MIN && c->window <= CG_SPEED_WINDOW_MAX &&
	       c->high_pct >= 1 && c->high_pct <= 100 && c->low_pct < c->high_pct &&
	       c->hold_windows >= 1 && c->over_windows >= 1;
}

int cg_speed_init(struct cg_speed *s, const struct cg_speed_cfg *cfg)
{
	if (!cfg || !speed_cfg_ok(cfg))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->preset = cfg->start;
	s->hold = cfg->hold_windows;
	s->since_slower = UINT32_MAX;
	return 0;
}

/* The window's p-th percentile (nearest rank), sorting the samples in place: once a
 * window, at most CG_SPEED_WINDOW_MAX of them. */
static uint32_t speed_percentile(uint32_t *v, unsigned n, unsigned p)
{
	unsigned rank;

	for (unsigned i = 1; i < n; i++) {
		uint32_t x = v[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

/* Whether t is above pct percent of the interval (64-bit: no overflow at any input). */
static bool speed_above(const struct cg_speed *s, uint32_t t, unsigned pct)
{
	return (uint64_t)t * 100u > (uint64_t)s->cfg.interval_usec * pct;
}

static int speed_change(struct cg_speed *s, unsigned to, uint32_t t, struct cg_speed_step *step)
{
	*step = (struct cg_speed_step){
		.from = s->preset, .to = to, .encode_usec = t, .interval_usec = s->cfg.interval_usec
	};
	s->preset = to;
	s->settle = 1;
	s->calm = 0;
	s->over = 0;
	return 1;
}

/* A full window's verdict. */
static int speed_judge(struct cg_speed *s, uint32_t t, struct cg_speed_step *step)
{
	unsigned max_hold = s->cfg.hold_windows * CG_SPEED_HOLD_MAX_FACTOR;

	if (s->since_slower != UINT32_MAX)
		s->since_slower++;
	if (speed_above(s, t, s->cfg.high_pct)) {
		s->calm = 0;
		if (s->preset >= s->cfg.fastest || ++s->over < s->cfg.over_windows)
			return 0;
		/* Undoing a recent step slower: that preset did not fit, wait longer next time. */
		if (s->since_slower <= s->hold)
			s->hold = s->hold * 2 > max_hold ? max_hold : s->hold * 2;
		s->since_slower = UINT32_MAX;
		return speed_change(s, s->preset + 1, t, step);
	}
	s->over = 0;
	if (speed_above(s, t, s->cfg.low_pct) || s->preset <= s->cfg.slowest) {
		s->calm = 0;
		return 0;
	}
	if (++s->calm < s->hold)
		return 0;
	s->since_slower = 0;
	return speed_change(s, s->preset - 1, t, step);
}

int cg_speed_add(struct cg_speed *s, uint32_t encode_usec, struct cg_speed_step *step)
{
	uint32_t t;

	s->samples[s->n++] = encode_usec;
	if (s->n < s->cfg.window)
		return 0;
	t = speed_percentile(s->samples, s->n, CG_SPEED_PERCENTILE);
	s->n = 0;
	s->last_pct_usec = t;
	if (s->settle) {
		s->settle--;
		return 0;
	}
	return speed_judge(s, t, step);
}
