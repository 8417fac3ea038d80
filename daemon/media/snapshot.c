/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <turbojpeg.h>

#include "hw/frame.h"
#include "media/snapshot.h"
#include "util/macros.h"

struct cg_snapshot {
	tjhandle tj;
	uint8_t *chroma; /* NV12 → planar U and V, grown as needed */
	size_t chroma_cap;
};

struct cg_snapshot *cg_snapshot_new(void)
{
	struct cg_snapshot *snap = cg_new0(struct cg_snapshot, 1);

	snap->tj = tjInitCompress();
	if (!snap->tj) {
		free(snap);
		return NULL;
	}
	return snap;
}

struct cg_snapshot *cg_snapshot_free(struct cg_snapshot *snap)
{
	if (!snap)
		return NULL;
	tjDestroy(snap->tj);
	g_free(snap->chroma);
	free(snap);
	return NULL;
}

/* libjpeg-turbo reads planar chroma only: NV12's interleaved UV is split once here. */
static void snapshot_split_nv12(struct cg_snapshot *snap, const struct cg_frame *f, uint32_t w,
				uint32_t h, const uint8_t *planes[3], int strides[3])
{
	uint32_t cw = w / 2, ch = h / 2;
	size_t need = (size_t)cw * ch * 2;
	const struct cg_frame_plane *uv = &f->planes[1];

	if (need > snap->chroma_cap) {
		g_free(snap->chroma);
		snap->chroma = g_malloc(need);
		snap->chroma_cap = need;
	}
	for (uint32_t y = 0; y < ch; y++) {
		const uint8_t *row = uv->data + (size_t)y * uv->stride;

		for (uint32_t x = 0; x < cw; x++) {
			snap->chroma[(size_t)y * cw + x] = row[2 * x];
			snap->chroma[(size_t)cw * ch + (size_t)y * cw + x] = row[2 * x + 1];
		}
	}
	planes[1] = snap->chroma;
	planes[2] = snap->chroma + (size_t)cw * ch;
	strides[1] = strides[2] = (int)cw;
}

/*
 * Plane pointers for libjpeg-turbo. planes[i].data already points at plane i (hw/frame.h:
 * V4L2 capture maps the buffer and adds the plane's offset itself); .offset indexes the
 * DMA-BUF and must not be added again, or the chroma of a single-buffer NV12/YU12 frame is
 * read past the end of its buffer.
 */
static int snapshot_planes(struct cg_snapshot *snap, const struct cg_frame *f, uint32_t w,
			   uint32_t h, const uint8_t *planes[3], int strides[3])
{
	unsigned need = f->fourcc == CG_FOURCC_I420 ? 3 : f->fourcc == CG_FOURCC_NV12 ? 2 : 0;

	if (!need || f->n_planes < need)
		return -ENOTSUP;
	for (unsigned i = 0; i < need; i++)
		if (!f->planes[i].data)
			return -ENOTSUP;
	for (unsigned i = 0; i < need; i++) {
		planes[i] = f->planes[i].data;
		strides[i] = (int)f->planes[i].stride;
	}
	if (f->fourcc == CG_FOURCC_NV12)
		snapshot_split_nv12(snap, f, w, h, planes, strides);
	return 0;
}

int cg_snapshot_encode(struct cg_snapshot *snap, const struct cg_frame *frame, int quality,
		       uint8_t **ret, size_t *ret_len)
{
	const uint8_t *planes[3];
	int strides[3];
	unsigned char *jpeg = NULL;
	unsigned long len = 0;
	/* Even sizes only: the capture layouts (hw/v4l2, the test source) hold width / 2 by
	 * height / 2 chroma samples, where 4:2:0 JPEG would read (width + 1) / 2 of them. */
	uint32_t w = frame->width & ~1u, h = frame->height & ~1u;
	int r;

	if (!w || !h)
		return -ENOTSUP;
	r = snapshot_planes(snap, frame, w, h, planes, strides);
	if (r < 0)
		return r;
	if (tjCompressFromYUVPlanes(snap->tj, planes, (int)w, strides, (int)h, TJSAMP_420, &jpeg,
				    &len, CG_MIN(CG_MAX(quality, 1), 100), TJFLAG_FASTDCT) < 0) {
		tjFree(jpeg);
		return -EIO;
	}
	*ret = g_malloc(len);
	memcpy(*ret, jpeg, len);
	*ret_len = len;
	tjFree(jpeg);
	return 0;
}
