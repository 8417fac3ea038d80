/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define CG_LOG_TOPIC "testsrc"

#include "hw/fake/blockcode.h"
#include "hw/fake/testsrc.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/refcount.h"
#include "util/time.h"

#define TESTSRC_MIN_SIZE 16u
#define TESTSRC_MAX_SIZE 8192u
#define TESTSRC_MAX_FPS	 240u
/* Row alignment: lets SIMD in encoders use aligned loads. */
#define TESTSRC_ALIGN 64u
/* Period of the diagonal luma sawtooth, in pixels. */
#define TESTSRC_RAMP 256u

struct cg_capture;

struct testsrc_buf {
	struct cg_frame frame;
	struct cg_capture *src;
	uint8_t *mem;
	bool in_use; /* atomic: cleared by the release callback on any thread */
};

struct cg_capture {
	/* One ref for the owner plus one per frame out, so late releases find us alive. */
	struct cg_refcount ref;
	int timer_fd;
	uint32_t width;
	uint32_t height;
	uint32_t fps;
	uint32_t sequence;
	uint64_t ticks; /* timer periods seen: drives the motion, independent of drops */
	uint8_t *ramp;	/* width + TESTSRC_RAMP bytes of sawtooth, read by every luma row */
	struct testsrc_buf bufs[CG_TESTSRC_BUFFERS];
};

static uint32_t testsrc_align(uint32_t v)
{
	return (v + TESTSRC_ALIGN - 1) & ~(TESTSRC_ALIGN - 1);
}

static void testsrc_free(struct cg_capture *src)
{
	for (unsigned i = 0; i < CG_TESTSRC_BUFFERS; i++)
		free(src->bufs[i].mem);
	if (src->timer_fd >= 0)
		close(src->timer_fd);
	free(src->ramp);
	free(src);
}

static void testsrc_unref(struct cg_capture *src)
{
	if (cg_refcount_dec(&src->ref))
		testsrc_free(src);
}

/* Release callback: any thread. */
static void testsrc_release(struct cg_frame *frame, void *userdata)
{
	struct testsrc_buf *buf = userdata;
	struct cg_capture *src = buf->src;

	__atomic_store_n(&buf->in_use, false, __ATOMIC_RELEASE);
	testsrc_unref(src);
}

/* Lays out one I420 buffer; planes point into buf->mem, offsets are 0 (no fd to index). */
static void testsrc_buf_init(struct cg_capture *src, struct testsrc_buf *buf)
{
	uint32_t ystride = testsrc_align(src->width);
	uint32_t cstride = testsrc_align(src->width / 2);
	size_t ysize = (size_t)ystride * src->height;
	size_t csize = (size_t)cstride * (src->height / 2);
	struct cg_frame *f = &buf->frame;

	buf->src = src;
	buf->mem = aligned_alloc(TESTSRC_ALIGN, ysize + 2 * csize);
	cg_assert(buf->mem);
	f->fourcc = CG_FOURCC_I420;
	f->width = src->width;
	f->height = src->height;
	f->n_planes = 3;
	for (unsigned p = 0; p < 3; p++) {
		f->planes[p].dma_fd = -1;
		f->planes[p].offset = 0;
		f->planes[p].stride = p ? cstride : ystride;
	}
	f->planes[0].data = buf->mem;
	f->planes[1].data = buf->mem + ysize;
	f->planes[2].data = buf->mem + ysize + csize;
	f->buf_size = (uint32_t)(ysize + 2 * csize);
	f->bytesused = f->buf_size;
	f->release = testsrc_release;
	f->release_userdata = buf;
}

static int testsrc_check_cfg(const struct cg_capture_cfg *cfg, uint32_t *w, uint32_t *h,
			     uint32_t *fps)
{
	*w = cfg->width ? cfg->width : CG_TESTSRC_DEFAULT_WIDTH;
	*h = cfg->height ? cfg->height : CG_TESTSRC_DEFAULT_HEIGHT;
	*fps = cfg->fps ? cfg->fps : CG_TESTSRC_DEFAULT_FPS;
	if (*w % 2 || *h % 2 || *w < TESTSRC_MIN_SIZE || *h < TESTSRC_MIN_SIZE ||
	    *w > TESTSRC_MAX_SIZE || *h > TESTSRC_MAX_SIZE || *fps > TESTSRC_MAX_FPS)
		return -ENOTSUP;
	return 0;
}

static int testsrc_open(const struct cg_capture_cfg *cfg, struct cg_capture **ret)
{
	struct cg_capture *src;
	uint32_t w, h, fps;
	int r;

	if (!cfg || !ret)
		return -EINVAL;
	r = testsrc_check_cfg(cfg, &w, &h, &fps);
	if (r < 0)
		return r;

	src = cg_new0(struct cg_capture, 1);
	cg_refcount_init(&src->ref);
	src->width = w;
	src->height = h;
	src->fps = fps;
	src->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (src->timer_fd < 0) {
		r = -errno;
		goto fail;
	}
	src->ramp = cg_malloc0(w + TESTSRC_RAMP);
	for (uint32_t x = 0; x < w + TESTSRC_RAMP; x++)
		src->ramp[x] = (uint8_t)(32 + (x % TESTSRC_RAMP) * 192 / TESTSRC_RAMP);
	for (unsigned i = 0; i < CG_TESTSRC_BUFFERS; i++)
		testsrc_buf_init(src, &src->bufs[i]);

	cg_debug("test source %ux%u@%u", w, h, fps);
	*ret = src;
	return 0;

fail:
	testsrc_free(src);
	return r;
}

static int testsrc_fd(struct cg_capture *src)
{
	return src->timer_fd;
}

static int testsrc_arm(struct cg_capture *src, bool on)
{
	struct itimerspec its = { 0 };
	uint64_t period_ns = 1000000000ull / src->fps;
	struct timespec now;

	if (on) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Absolute first expiry one period from now, then periodic: no drift. */
		uint64_t first = (uint64_t)now.tv_nsec + period_ns;
		its.it_value.tv_sec = now.tv_sec + (time_t)(first / 1000000000ull);
		its.it_value.tv_nsec = (long)(first % 1000000000ull);
		its.it_interval.tv_sec = (time_t)(period_ns / 1000000000ull);
		its.it_interval.tv_nsec = (long)(period_ns % 1000000000ull);
	}
	if (timerfd_settime(src->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static int testsrc_start(struct cg_capture *src)
{
	return testsrc_arm(src, true);
}

static int testsrc_stop(struct cg_capture *src)
{
	return testsrc_arm(src, false);
}

/* Folds t into 0..range and back, so things bounce between the picture edges. */
static uint32_t testsrc_bounce(uint64_t t, uint32_t range)
{
	uint64_t m;

	if (range == 0)
		return 0;
	m = t % (2ull * range);
	return (uint32_t)(m < range ? m : 2ull * range - m);
}

static void testsrc_fill_rect(uint8_t *plane, uint32_t stride, uint32_t x, uint32_t y, uint32_t w,
			      uint32_t h, uint8_t v)
{
	for (uint32_t row = y; row < y + h; row++)
		memset(plane + (size_t)row * stride + x, v, w);
}

/*
 * A diagonal luma sawtooth sliding sideways, horizontal colour bands drifting down and a
 * bouncing box: motion everywhere so the encoder does real work, yet only memcpy/memset per
 * row so drawing costs little next to encoding.
 */
static void testsrc_draw(struct cg_capture *src, struct cg_frame *f)
{
	uint32_t w = src->width, h = src->height, box = CG_MIN(w, h) / 4 & ~1u;
	uint64_t t = src->ticks;
	uint32_t bx = testsrc_bounce(t * 6, w - box) & ~1u,
		 by = testsrc_bounce(t * 4, h - box) & ~1u;
	uint8_t *y = f->planes[0].data, *u = f->planes[1].data, *v = f->planes[2].data;
	uint32_t ys = f->planes[0].stride, cs = f->planes[1].stride;

	for (uint32_t row = 0; row < h; row++)
		memcpy(y + (size_t)row * ys, src->ramp + (t * 4 + row / 2) % TESTSRC_RAMP, w);
	for (uint32_t row = 0; row < h / 2; row++) {
		uint32_t band = (uint32_t)((row + t) / 32);

		memset(u + (size_t)row * cs, 96 + (int)(band * 37 % 64), w / 2);
		memset(v + (size_t)row * cs, 96 + (int)(band * 23 % 64), w / 2);
	}
	testsrc_fill_rect(y, ys, bx, by, box, box, 200);
	testsrc_fill_rect(u, cs, bx / 2, by / 2, box / 2, box / 2, 64);
	testsrc_fill_rect(v, cs, bx / 2, by / 2, box / 2, box / 2, 200);
}

/* Block code last, over neutral chroma so colour bleed cannot shift the cells' luma. */
static void testsrc_burn_in(struct cg_capture *src, struct cg_frame *f)
{
	uint32_t cw, ch;

	if (cg_blockcode_extent(src->width, src->height, &cw, &ch) < 0)
		return; /* too small to carry the code: the picture still moves */
	testsrc_fill_rect(f->planes[1].data, f->planes[1].stride, 0, 0, cw / 2, ch / 2, 128);
	testsrc_fill_rect(f->planes[2].data, f->planes[2].stride, 0, 0, cw / 2, ch / 2, 128);
	cg_blockcode_write(f->planes[0].data, f->planes[0].stride, src->width, src->height,
			   f->capture_wall_usec / CG_USEC_PER_MSEC, (uint16_t)f->sequence);
}

static struct testsrc_buf *testsrc_get_buf(struct cg_capture *src)
{
	for (unsigned i = 0; i < CG_TESTSRC_BUFFERS; i++) {
		bool expected = false;

		if (__atomic_compare_exchange_n(&src->bufs[i].in_use, &expected, true, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return &src->bufs[i];
	}
	return NULL;
}

static int testsrc_dequeue(struct cg_capture *src, struct cg_frame **ret)
{
	struct testsrc_buf *buf;
	struct cg_frame *f;
	uint64_t expirations;

	if (read(src->timer_fd, &expirations, sizeof(expirations)) < 0)
		return -errno; /* -EAGAIN when the period has not elapsed */
	/* Late by several periods: produce only the newest frame, the others are skipped. */
	src->ticks += expirations;

	buf = testsrc_get_buf(src);
	if (!buf) {
		cg_trace("all %u buffers in use, dropping a frame", CG_TESTSRC_BUFFERS);
		return -EAGAIN;
	}

	f = &buf->frame;
	f->capture_mono_usec = cg_mono_usec();
	f->capture_wall_usec = cg_wall_usec();
	f->sequence = ++src->sequence;
	testsrc_draw(src, f);
	testsrc_burn_in(src, f);

	cg_refcount_init(&f->ref);
	cg_refcount_inc(&src->ref);
	*ret = f;
	return 0;
}

static void testsrc_close(struct cg_capture *src)
{
	if (!src)
		return;
	testsrc_arm(src, false);
	testsrc_unref(src);
}

static void testsrc_get_format(struct cg_capture *src, struct cg_capture_format *ret)
{
	const struct cg_frame *f = &src->bufs[0].frame;

	*ret = (struct cg_capture_format){
		.fourcc = CG_FOURCC_I420,
		.width = src->width,
		.height = src->height,
		.fps = src->fps,
		.stride = f->planes[0].stride,
		.size = f->buf_size,
	};
	snprintf(ret->card, sizeof(ret->card), "test pattern");
}

const struct cg_capture_ops cg_testsrc_capture_ops = {
	.version = 1,
	.name = "test",
	.open = testsrc_open,
	.fd = testsrc_fd,
	.start = testsrc_start,
	.stop = testsrc_stop,
	.dequeue = testsrc_dequeue,
	.close = testsrc_close,
	.get_format = testsrc_get_format,
};
