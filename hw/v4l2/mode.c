/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hw/v4l2/common.h"
#include "hw/v4l2/mode.h"
#include "util/macros.h"

const uint32_t cg_v4l2_default_formats[] = {
	V4L2_PIX_FMT_NV12,
	V4L2_PIX_FMT_YUYV,
	V4L2_PIX_FMT_YUV420,
	V4L2_PIX_FMT_MJPEG,
	V4L2_PIX_FMT_JPEG,
	V4L2_PIX_FMT_H264,
	0,
};

struct mode_list {
	struct cg_v4l2_mode *modes;
	size_t n, max;
	uint32_t want_w, want_h, want_fps;
};

static void mode_add(struct mode_list *l, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t num,
		     uint32_t den)
{
	if (l->n == l->max || !num || !den)
		return;
	l->modes[l->n++] = (struct cg_v4l2_mode){ fourcc, w, h, num, den };
}

static uint32_t mode_clamp_step(uint32_t v, uint32_t min, uint32_t max, uint32_t step)
{
	v = CG_MAX(min, CG_MIN(v, max));
	if (step > 1)
		v = min + (v - min) / step * step;
	return v;
}

/* Intervals are seconds per frame; a rate is their inverse (den/num frames per second). */
static void mode_list_intervals(int fd, struct mode_list *l, uint32_t fourcc, uint32_t w,
				uint32_t h)
{
	struct v4l2_frmivalenum iv = { .pixel_format = fourcc, .width = w, .height = h };

	for (iv.index = 0; cg_v4l2_ioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv) == 0; iv.index++) {
		if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
			mode_add(l, fourcc, w, h, iv.discrete.denominator, iv.discrete.numerator);
			continue;
		}
		/* Continuous or stepwise: the wanted rate, within [1/max, 1/min]. */
		struct v4l2_fract lo = iv.stepwise.min, hi = iv.stepwise.max;
		uint64_t want = l->want_fps ? l->want_fps : 30;
		uint64_t fmax = lo.numerator ? lo.denominator / lo.numerator : want;
		uint64_t fmin =
			hi.numerator ? (hi.denominator + hi.numerator - 1) / hi.numerator : 1;

		mode_add(l, fourcc, w, h, (uint32_t)CG_MAX(fmin, CG_MIN(want, fmax)), 1);
		return;
	}
	if (iv.index == 0) /* no interval enumeration: the driver decides the rate */
		mode_add(l, fourcc, w, h, l->want_fps ? l->want_fps : 30, 1);
}

static void mode_list_sizes(int fd, struct mode_list *l, uint32_t fourcc)
{
	struct v4l2_frmsizeenum fs = { .pixel_format = fourcc };

	for (fs.index = 0; cg_v4l2_ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0; fs.index++) {
		if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
			mode_list_intervals(fd, l, fourcc, fs.discrete.width, fs.discrete.height);
			continue;
		}
		const struct v4l2_frmsize_stepwise *s = &fs.stepwise;
		uint32_t w = mode_clamp_step(l->want_w, s->min_width, s->max_width, s->step_width);
		uint32_t h =
			mode_clamp_step(l->want_h, s->min_height, s->max_height, s->step_height);

		mode_list_intervals(fd, l, fourcc, w, h);
		return;
	}
	if (fs.index == 0) /* no size enumeration (some bridges): ask for the wanted size */
		mode_list_intervals(fd, l, fourcc, l->want_w, l->want_h);
}

static int mode_rank(const uint32_t *formats, uint32_t fourcc);

int cg_v4l2_mode_list(int fd, uint32_t type, uint32_t want_w, uint32_t want_h, uint32_t want_fps,
		      const uint32_t *formats, struct cg_v4l2_mode *modes, size_t max)
{
	struct mode_list l = { modes, 0, max, want_w, want_h, want_fps };
	struct v4l2_fmtdesc d = { .type = type };
	int r;

	for (d.index = 0; (r = cg_v4l2_ioctl(fd, VIDIOC_ENUM_FMT, &d)) == 0; d.index++)
		if (!formats || mode_rank(formats, d.pixelformat) >= 0)
			mode_list_sizes(fd, &l, d.pixelformat);
	if (r != -EINVAL)
		return r;
	return (int)l.n;
}

uint32_t cg_v4l2_mode_fps(const struct cg_v4l2_mode *m)
{
	return m->fps_den ? (m->fps_num + m->fps_den / 2) / m->fps_den : 0;
}

static int mode_rank(const uint32_t *formats, uint32_t fourcc)
{
	for (int i = 0; formats[i]; i++)
		if (formats[i] == fourcc)
			return i;
	return -1;
}

/* Smaller is better: exact 0, covering by the extra area, else a penalty plus the lack. */
static uint64_t mode_size_cost(const struct cg_v4l2_mode *m, uint32_t w, uint32_t h)
{
	uint64_t area = (uint64_t)m->width * m->height, want = (uint64_t)w * h;

	if (m->width >= w && m->height >= h)
		return area - want;
	return (UINT64_C(1) << 40) + (want > area ? want - area : 0);
}

/* In thousandths of a frame per second, to rank 29.97 below 30. */
static uint64_t mode_fps_cost(const struct cg_v4l2_mode *m, uint32_t fps)
{
	uint64_t mf = (uint64_t)m->fps_num * 1000 / m->fps_den, want = (uint64_t)fps * 1000;

	if (mf + 5 >= want) /* 29.97 counts as 30 */
		return mf > want ? mf - want : 0;
	return (UINT64_C(1) << 40) + want - mf;
}

int cg_v4l2_mode_pick(const struct cg_v4l2_mode *modes, size_t n, uint32_t want_w, uint32_t want_h,
		      uint32_t want_fps, const uint32_t *formats)
{
	uint64_t best_size = UINT64_MAX, best_fps = UINT64_MAX;
	int best = -ENOTSUP, best_rank = 0;

	for (size_t i = 0; i < n; i++) {
		int rank = mode_rank(formats, modes[i].fourcc);
		uint64_t sc = mode_size_cost(&modes[i], want_w, want_h);
		uint64_t fc = mode_fps_cost(&modes[i], want_fps);

		if (rank < 0)
			continue;
		if (best >= 0 && (sc > best_size || (sc == best_size && fc > best_fps) ||
				  (sc == best_size && fc == best_fps && rank >= best_rank)))
			continue;
		best = (int)i;
		best_size = sc;
		best_fps = fc;
		best_rank = rank;
	}
	return best;
}
