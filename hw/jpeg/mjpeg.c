/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "hw/jpeg/mjpeg.h"
#include "util/macros.h"

struct mjpeg_dec {
	tjhandle tj;
	uint8_t *chroma; /* 4:2:2 scratch: two planes of width/2 x height */
	size_t chroma_cap;
};

static void *mjpeg_new(void)
{
	struct mjpeg_dec *d = cg_new0(struct mjpeg_dec, 1);

	d->tj = tjInitDecompress();
	if (!d->tj) {
		free(d);
		return NULL;
	}
	return d;
}

static void mjpeg_free(void *p)
{
	struct mjpeg_dec *d = p;

	tjDestroy(d->tj);
	free(d->chroma);
	free(d);
}

/* 4:2:2: full-height chroma into scratch, then every other row into the I420 planes. */
static long mjpeg_decode_422(struct mjpeg_dec *d, const uint8_t *jpeg, size_t len, uint32_t w,
			     uint32_t h, uint8_t *planes[3], const uint32_t strides[3])
{
	size_t cw = w / 2, need = cw * h * 2;
	unsigned char *dst[3];
	int st[3] = { (int)strides[0], (int)cw, (int)cw };

	if (need > d->chroma_cap) {
		free(d->chroma);
		d->chroma = cg_malloc0(need);
		d->chroma_cap = need;
	}
	dst[0] = planes[0];
	dst[1] = d->chroma;
	dst[2] = d->chroma + cw * h;
	if (tjDecompressToYUVPlanes(d->tj, jpeg, (unsigned long)len, dst, (int)w, st, (int)h, 0))
		return -EINVAL;
	for (uint32_t y = 0; y < h / 2; y++) {
		memcpy(planes[1] + (size_t)y * strides[1], dst[1] + 2 * y * cw, cw);
		memcpy(planes[2] + (size_t)y * strides[2], dst[2] + 2 * y * cw, cw);
	}
	return (long)((size_t)w * h + need + cw * h);
}

static long mjpeg_decode(void *p, const uint8_t *jpeg, size_t len, uint32_t w, uint32_t h,
			 uint8_t *planes[3], const uint32_t strides[3])
{
	struct mjpeg_dec *d = p;
	int jw, jh, sub, cs;
	int st[3] = { (int)strides[0], (int)strides[1], (int)strides[2] };

	if (tjDecompressHeader3(d->tj, jpeg, (unsigned long)len, &jw, &jh, &sub, &cs))
		return -EINVAL;
	if ((uint32_t)jw != w || (uint32_t)jh != h)
		return -EINVAL;
	if (sub == TJSAMP_422)
		return mjpeg_decode_422(d, jpeg, len, w, h, planes, strides);
	if (sub != TJSAMP_420)
		return -ENOTSUP;
	if (tjDecompressToYUVPlanes(d->tj, jpeg, (unsigned long)len, planes, jw, st, jh, 0))
		return -EINVAL;
	return (long)w * h * 3 / 2;
}

const struct cg_mjpeg_ops cg_mjpeg_turbo_ops = {
	.name = "libjpeg-turbo",
	.new = mjpeg_new,
	.decode = mjpeg_decode,
	.free = mjpeg_free,
};
