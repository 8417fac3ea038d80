/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * /snapshot.jpg: the newest captured frame as a JPEG (libjpeg-turbo). Takes I420 and NV12
 * frames whose planes are in CPU memory (the test source; V4L2 buffers once mapped), read
 * through planes[i].data with planes[i].stride (hw/frame.h). An odd width or height loses
 * its last column or row: the capture layouts hold no chroma for it.
 * Any thread; the caller serializes calls on one cg_snapshot.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct cg_frame;
struct cg_snapshot;

/* A compressor with its scratch buffers. Returns NULL if libjpeg-turbo cannot start. */
struct cg_snapshot *cg_snapshot_new(void);
struct cg_snapshot *cg_snapshot_free(struct cg_snapshot *snap);

/*
 * Compresses frame (borrowed) at quality 1-100 into a new buffer in *ret (g_free it) of
 * *ret_len bytes. Returns 0, -ENOTSUP (a format or memory this cannot read: DMA-BUF only,
 * neither I420 nor NV12, or smaller than 2x2) or -EIO (libjpeg-turbo failed).
 */
int cg_snapshot_encode(struct cg_snapshot *snap, const struct cg_frame *frame, int quality,
		       uint8_t **ret, size_t *ret_len);
