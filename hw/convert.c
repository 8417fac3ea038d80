/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/convert.h"
#include "util/macros.h"
#include "util/refcount.h"

#define CONVERT_ALIGN 64u

struct convert_buf {
	struct cg_frame frame;
	struct cg_convert *c;
	uint8_t *mem;
	bool in_use; /* atomic: cleared by the release callback on any thread */
};

struct cg_convert {
	struct cg_refcount ref; /* the owner plus one per frame out */
	uint32_t fourcc, width, height;
	const struct cg_mjpeg_ops *mjpeg;
	void *dec;
	struct convert_buf bufs[CG_CONVERT_BUFFERS];
};

bool cg_convert_supports(uint32_t fourcc, bool have_mjpeg)
{
	return fourcc == CG_FOURCC_YUYV || fourcc == CG_FOURCC_NV12 || fourcc == CG_FOURCC_RGB24 ||
	       fourcc == CG_FOURCC_BGR24 ||
	       (have_mjpeg && (fourcc == CG_FOURCC_MJPG || fourcc == CG_FOURCC_JPEG));
}

static void convert_unref(struct cg_convert *c)
{
	if (!cg_refcount_dec(&c->ref))
		return;
	for (unsigned i = 0; i < CG_CONVERT_BUFFERS; i++)
		free(c->bufs[i].mem);
	if (c->dec)
		c->mjpeg->free(c->dec);
	free(c);
}

static void convert_release(struct cg_frame *f, void *userdata)
{
	struct convert_buf *b = userdata;
	struct cg_convert *c = b->c;

	__atomic_store_n(&b->in_use, false, __ATOMIC_RELEASE);
	convert_unref(c);
}

static void convert_buf_init(struct cg_convert *c, struct convert_buf *b)
{
	uint32_t ys = (c->width + CONVERT_ALIGN - 1) & ~(CONVERT_ALIGN - 1), cs = ys / 2;
	size_t ysize = (size_t)ys * c->height, csize = (size_t)cs * (c->height / 2);
	struct cg_frame *f = &b->frame;

	b->c = c;
	b->mem = aligned_alloc(CONVERT_ALIGN, ysize + 2 * csize);
	cg_assert(b->mem);
	f->fourcc = CG_FOURCC_I420;
	f->width = c->width;
	f->height = c->height;
	f->n_planes = 3;
	for (unsigned p = 0; p < 3; p++) {
		f->planes[p].dma_fd = -1;
		f->planes[p].stride = p ? cs : ys;
	}
	f->planes[0].data = b->mem;
	f->planes[1].data = b->mem + ysize;
	f->planes[2].data = b->mem + ysize + csize;
	f->buf_size = f->bytesused = (uint32_t)(ysize + 2 * csize);
	f->release = convert_release;
	f->release_userdata = b;
}

int cg_convert_new(uint32_t fourcc, uint32_t width, uint32_t height,
		   const struct cg_mjpeg_ops *mjpeg, struct cg_convert **ret)
{
	struct cg_convert *c;

	if (!cg_convert_supports(fourcc, mjpeg != NULL))
		return -ENOTSUP;
	if (!width || !height || width % 2 || height % 2)
		return -EINVAL;
	c = cg_new0(struct cg_convert, 1);
	cg_refcount_init(&c->ref);
	c->fourcc = fourcc;
	c->width = width;
	c->height = height;
	if (fourcc == CG_FOURCC_MJPG || fourcc == CG_FOURCC_JPEG) {
		c->mjpeg = mjpeg;
		c->dec = mjpeg->new ();
		if (!c->dec) {
			free(c);
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < CG_CONVERT_BUFFERS; i++)
		convert_buf_init(c, &c->bufs[i]);
	*ret = c;
	return 0;
}

/* YUYV 4:2:2 packed to I420: luma every pixel, chroma from even rows (vertical decimation). */
static uint32_t convert_yuyv(const struct cg_frame *in, struct cg_frame *out)
{
	for (uint32_t y = 0; y < in->height; y++) {
		const uint8_t *s = in->planes[0].data + (size_t)y * in->planes[0].stride;
		uint8_t *dy = out->planes[0].data + (size_t)y * out->planes[0].stride;
		uint8_t *du = out->planes[1].data + (size_t)(y / 2) * out->planes[1].stride;
		uint8_t *dv = out->planes[2].data + (size_t)(y / 2) * out->planes[2].stride;

		for (uint32_t x = 0; x < in->width / 2; x++) {
			dy[2 * x] = s[4 * x];
			dy[2 * x + 1] = s[4 * x + 2];
			if (!(y & 1)) {
				du[x] = s[4 * x + 1];
				dv[x] = s[4 * x + 3];
			}
		}
	}
	return in->width * in->height * 3 / 2;
}

/* NV12 to I420: luma rows copied, interleaved CbCr split. */
static uint32_t convert_nv12(const struct cg_frame *in, struct cg_frame *out)
{
	for (uint32_t y = 0; y < in->height; y++)
		memcpy(out->planes[0].data + (size_t)y * out->planes[0].stride,
		       in->planes[0].data + (size_t)y * in->planes[0].stride, in->width);
	for (uint32_t y = 0; y < in->height / 2; y++) {
		const uint8_t *s = in->planes[1].data + (size_t)y * in->planes[1].stride;
		uint8_t *du = out->planes[1].data + (size_t)y * out->planes[1].stride;
		uint8_t *dv = out->planes[2].data + (size_t)y * out->planes[2].stride;

		for (uint32_t x = 0; x < in->width / 2; x++) {
			du[x] = s[2 * x];
			dv[x] = s[2 * x + 1];
		}
	}
	return in->width * in->height * 3 / 2;
}

/*
 * BT.601 limited range (Y 16-235, Cb/Cr 16-240), what x264 and browsers assume for
 * camgate's streams, in 8-bit fixed point: the coefficients are the standard's times 256.
 * r, g, b are sums of n pixels (1 for luma, 4 for chroma: shift 8 or 10), so a 2x2 block's
 * chroma comes from its mean colour. The offsets keep the sums positive before the shift.
 */
static inline uint8_t rgb_to_y(uint32_t r, uint32_t g, uint32_t b)
{
	return (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
}

static inline uint8_t rgb4_to_u(int32_t r, int32_t g, int32_t b)
{
	return (uint8_t)((-38 * r - 74 * g + 112 * b + (128 << 10) + 512) >> 10);
}

static inline uint8_t rgb4_to_v(int32_t r, int32_t g, int32_t b)
{
	return (uint8_t)((112 * r - 94 * g - 18 * b + (128 << 10) + 512) >> 10);
}

/*
 * RGB24 (R, G, B in memory) or BGR24 (B, G, R) packed to I420, two rows at a time: luma
 * every pixel, chroma from each 2x2 block's mean. ri and bi are red's and blue's byte offsets.
 */
static uint32_t convert_rgb(const struct cg_frame *in, struct cg_frame *out, unsigned ri,
			    unsigned bi)
{
	for (uint32_t y = 0; y < in->height; y += 2) {
		const uint8_t *s0 = in->planes[0].data + (size_t)y * in->planes[0].stride;
		const uint8_t *s1 = s0 + in->planes[0].stride;
		uint8_t *y0 = out->planes[0].data + (size_t)y * out->planes[0].stride;
		uint8_t *y1 = y0 + out->planes[0].stride;
		uint8_t *du = out->planes[1].data + (size_t)(y / 2) * out->planes[1].stride;
		uint8_t *dv = out->planes[2].data + (size_t)(y / 2) * out->planes[2].stride;

		for (uint32_t x = 0; x < in->width; x += 2) {
			const uint8_t *a = s0 + 3 * x, *b = a + 3, *c = s1 + 3 * x, *d = c + 3;
			int32_t rs = a[ri] + b[ri] + c[ri] + d[ri];
			int32_t gs = a[1] + b[1] + c[1] + d[1];
			int32_t bs = a[bi] + b[bi] + c[bi] + d[bi];

			y0[x] = rgb_to_y(a[ri], a[1], a[bi]);
			y0[x + 1] = rgb_to_y(b[ri], b[1], b[bi]);
			y1[x] = rgb_to_y(c[ri], c[1], c[bi]);
			y1[x + 1] = rgb_to_y(d[ri], d[1], d[bi]);
			du[x / 2] = rgb4_to_u(rs, gs, bs);
			dv[x / 2] = rgb4_to_v(rs, gs, bs);
		}
	}
	return in->width * in->height * 3 / 2;
}

static struct convert_buf *convert_get_buf(struct cg_convert *c)
{
	for (unsigned i = 0; i < CG_CONVERT_BUFFERS; i++) {
		bool expected = false;

		if (__atomic_compare_exchange_n(&c->bufs[i].in_use, &expected, true, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return &c->bufs[i];
	}
	return NULL;
}

static long convert_pixels(struct cg_convert *c, const struct cg_frame *in, struct cg_frame *out)
{
	uint8_t *planes[3] = { out->planes[0].data, out->planes[1].data, out->planes[2].data };
	uint32_t strides[3] = { out->planes[0].stride, out->planes[1].stride,
				out->planes[2].stride };

	switch (c->fourcc) {
	case CG_FOURCC_YUYV:
		return convert_yuyv(in, out);
	case CG_FOURCC_NV12:
		return convert_nv12(in, out);
	case CG_FOURCC_RGB24:
		return convert_rgb(in, out, 0, 2);
	case CG_FOURCC_BGR24:
		return convert_rgb(in, out, 2, 0);
	default:
		return c->mjpeg->decode(c->dec, in->planes[0].data, in->bytesused, c->width,
					c->height, planes, strides);
	}
}

/* Packed RGB is read by its stride: a row shorter than the picture, or a buffer shorter than
 * its rows, would be read past its end. */
static bool convert_rgb_fits(const struct cg_frame *in)
{
	size_t row = (size_t)in->width * 3, stride = in->planes[0].stride;

	return stride >= row && (size_t)in->bytesused >= stride * (in->height - 1) + row;
}

int cg_convert_frame(struct cg_convert *c, const struct cg_frame *in, struct cg_frame **ret)
{
	struct convert_buf *b;
	long n;

	if (!in || in->fourcc != c->fourcc || in->width != c->width || in->height != c->height ||
	    !in->planes[0].data)
		return -EINVAL;
	if ((c->fourcc == CG_FOURCC_RGB24 || c->fourcc == CG_FOURCC_BGR24) && !convert_rgb_fits(in))
		return -EINVAL;
	b = convert_get_buf(c);
	if (!b)
		return -EAGAIN;
	n = convert_pixels(c, in, &b->frame);
	if (n < 0) {
		__atomic_store_n(&b->in_use, false, __ATOMIC_RELEASE);
		return (int)n;
	}
	b->frame.copied_bytes = (uint32_t)n;
	b->frame.capture_mono_usec = in->capture_mono_usec;
	b->frame.capture_wall_usec = in->capture_wall_usec;
	b->frame.sequence = in->sequence;
	cg_refcount_init(&b->frame.ref);
	cg_refcount_inc(&c->ref);
	*ret = &b->frame;
	return 0;
}

struct cg_convert *cg_convert_free(struct cg_convert *c)
{
	if (c)
		convert_unref(c);
	return NULL;
}
