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
/*
 * "test:detailed": the picture pans over a texture this many pixels larger than the frame
 * each way (half in chroma), and fresh sensor-like noise of +-TESTSRC_NOISE/2 covers every
 * frame. Texture values stay TESTSRC_NOISE away from 0 and 255 so the noise needs no clamp.
 */
#define TESTSRC_DETAILED "test:detailed"
#define TESTSRC_PAN	 128u
#define TESTSRC_NOISE	 8u
#define TESTSRC_BAND	 48u /* rows of the texture that pan together */

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
	/* "test:detailed" only (NULL otherwise): luma and chroma textures, each row
	 * tex_stride (ctex_stride) bytes, and the noise generator's state. */
	uint8_t *tex, *ctex;
	uint32_t tex_stride, ctex_stride;
	uint64_t noise;
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
	free(src->tex);
	free(src->ctex);
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

/* xorshift64: the texture and the noise must be the same on every run (benchmarks compare). */
static uint64_t testsrc_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A w x h texture of random detail, smoothed over 2x2 pixels so it has the fine but
 * correlated structure of foliage or gravel rather than pure white noise, in lo..hi.
 */
static uint8_t *testsrc_texture(uint32_t w, uint32_t h, uint8_t lo, uint8_t hi, uint64_t *seed)
{
	uint8_t *t = cg_malloc0((size_t)w * h);

	for (size_t i = 0; i < (size_t)w * h; i++)
		t[i] = (uint8_t)(lo + testsrc_rand(seed) % (uint32_t)(hi - lo + 1));
	for (uint32_t y = 0; y + 1 < h; y++)
		for (uint32_t x = 0; x + 1 < w; x++) {
			uint8_t *p = t + (size_t)y * w + x;

			p[0] = (uint8_t)((p[0] + p[1] + p[w] + p[w + 1] + 2) / 4);
		}
	return t;
}

static void testsrc_detailed_init(struct cg_capture *src)
{
	src->noise = 0x9e3779b97f4a7c15ull;
	src->tex_stride = src->width + TESTSRC_PAN;
	src->ctex_stride = src->width / 2 + TESTSRC_PAN / 2;
	src->tex = testsrc_texture(src->tex_stride, src->height + TESTSRC_PAN, TESTSRC_NOISE,
				   255 - TESTSRC_NOISE, &src->noise);
	/* One chroma texture read at two offsets serves as both U and V. */
	src->ctex = testsrc_texture(src->ctex_stride, src->height / 2 + TESTSRC_PAN, 64, 192,
				    &src->noise);
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
	if (cfg->device && strcmp(cfg->device, TESTSRC_DETAILED) == 0)
		testsrc_detailed_init(src);

	cg_debug("test source %ux%u@%u%s", w, h, fps, src->tex ? " (detailed)" : "");
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

/* Adds fresh noise of -TESTSRC_NOISE/2..+TESTSRC_NOISE/2-1 to n bytes (the texture's margins
 * keep every sum in 0..255), eight pixels per random draw. */
static void testsrc_add_noise(struct cg_capture *src, uint8_t *p, uint32_t n)
{
	for (uint32_t x = 0; x < n; x += 8) {
		uint64_t r = testsrc_rand(&src->noise);

		for (uint32_t i = 0; i < 8 && x + i < n; i++, r >>= 8)
			p[x + i] =
				(uint8_t)(p[x + i] + (r & (TESTSRC_NOISE - 1)) - TESTSRC_NOISE / 2);
	}
}

/*
 * The hard case for an encoder, as a camera on a street or a garden gives it: fine detail
 * everywhere, moving every frame in bands of TESTSRC_BAND rows that pan back and forth at
 * four speeds (so no single motion vector fits the picture, and every block changes),
 * under fresh noise that no prediction removes, with the bouncing box on top. Drawing
 * costs a copy and a noise pass per row.
 */
static void testsrc_draw_detailed(struct cg_capture *src, struct cg_frame *f)
{
	uint32_t w = src->width, h = src->height, box = CG_MIN(w, h) / 4 & ~1u;
	uint64_t t = src->ticks;
	uint32_t dy = testsrc_bounce(t * 2, TESTSRC_PAN) & ~1u;
	uint32_t bx = testsrc_bounce(t * 6, w - box) & ~1u,
		 by = testsrc_bounce(t * 4, h - box) & ~1u;
	uint8_t *y = f->planes[0].data, *u = f->planes[1].data, *v = f->planes[2].data;
	uint32_t ys = f->planes[0].stride, cs = f->planes[1].stride;

	for (uint32_t row = 0; row < h; row++) {
		uint32_t bdx = testsrc_bounce(t * (1 + row / TESTSRC_BAND % 4), TESTSRC_PAN);

		memcpy(y + (size_t)row * ys, src->tex + (size_t)(row + dy) * src->tex_stride + bdx,
		       w);
		testsrc_add_noise(src, y + (size_t)row * ys, w);
	}
	for (uint32_t row = 0; row < h / 2; row++) {
		uint32_t cdx =
			testsrc_bounce(t * (1 + 2 * row / TESTSRC_BAND % 4), TESTSRC_PAN) / 2;
		const uint8_t *c = src->ctex + (size_t)(row + dy / 2) * src->ctex_stride + cdx;

		memcpy(u + (size_t)row * cs, c, w / 2);
		/* V: the same texture read from its other end, so U and V do not match. */
		memcpy(v + (size_t)row * cs,
		       src->ctex + (size_t)(h / 2 - 1 - row + dy / 2) * src->ctex_stride +
			       (TESTSRC_PAN / 2 - cdx),
		       w / 2);
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
	if (src->tex)
		testsrc_draw_detailed(src, f);
	else
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
