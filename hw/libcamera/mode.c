/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>

#include "hw/libcamera/mode.h"

static uint64_t mode_area(const struct cg_lc_mode *m)
{
	return (uint64_t)m->width * m->height;
}

static bool mode_covers(const struct cg_lc_mode *m, uint32_t w, uint32_t h)
{
	return m->width >= w && m->height >= h;
}

static bool mode_reaches(const struct cg_lc_mode *m, uint32_t fps)
{
	return m->max_fps_x100 == 0 || m->max_fps_x100 >= fps * 100u;
}

/* Unknown rates rank as the fastest: nothing says they are slow. */
static uint32_t mode_rate(const struct cg_lc_mode *m)
{
	return m->max_fps_x100 ? m->max_fps_x100 : UINT32_MAX;
}

/* The tie-breakers every class shares: deeper samples, then the faster mode. */
static bool mode_better_tie(const struct cg_lc_mode *a, const struct cg_lc_mode *b)
{
	if (a->bit_depth != b->bit_depth)
		return a->bit_depth > b->bit_depth;
	return mode_rate(a) > mode_rate(b);
}

/* 2: covers and reaches the rate; 1: covers only; 0: covers nothing. */
static int mode_class(const struct cg_lc_mode *m, uint32_t w, uint32_t h, uint32_t fps)
{
	if (!mode_covers(m, w, h))
		return 0;
	return mode_reaches(m, fps) ? 2 : 1;
}

/* Whether a is a better choice than b, both of class cls. */
static bool mode_better(const struct cg_lc_mode *a, const struct cg_lc_mode *b, int cls)
{
	switch (cls) {
	case 2: /* the smallest that does it all */
		if (mode_area(a) != mode_area(b))
			return mode_area(a) < mode_area(b);
		break;
	case 1: /* the fastest that covers, then the smallest */
		if (mode_rate(a) != mode_rate(b))
			return mode_rate(a) > mode_rate(b);
		if (mode_area(a) != mode_area(b))
			return mode_area(a) < mode_area(b);
		break;
	default: /* the largest */
		if (mode_area(a) != mode_area(b))
			return mode_area(a) > mode_area(b);
		break;
	}
	return mode_better_tie(a, b);
}

int cg_lc_mode_pick(const struct cg_lc_mode *modes, size_t n, uint32_t want_w, uint32_t want_h,
		    uint32_t want_fps)
{
	int best = -1, best_cls = -1;

	if (!want_w || !want_h || !want_fps)
		return -EINVAL;
	if (!modes || n == 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		int cls = mode_class(&modes[i], want_w, want_h, want_fps);

		if (cls > best_cls ||
		    (cls == best_cls && mode_better(&modes[i], &modes[best], cls))) {
			best = (int)i;
			best_cls = cls;
		}
	}
	return best;
}
