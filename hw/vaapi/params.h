/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The VA-API encoder's pure parts, unit-tested without a GPU (there is no software VA
 * driver): the H.264 parameter buffers for a configuration, the GOP (IDR on request or
 * every keyframe_interval frames, P frames referencing the previous one), and the cache of
 * surfaces imported from DMA-BUFs, keyed by the buffer's identity (the dma-buf inode), with
 * the import and destroy steps passed in so tests can fake them. Only va.h types are used,
 * no libva calls. Owner: the media thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <va/va.h>
#include <va/va_enc_h264.h>

#include "hw/encoder.h"

#define CG_VAAPI_CACHE 8

struct cg_vaapi_gop {
	uint32_t interval;  /* frames between IDRs */
	uint32_t frame_num; /* frames since the IDR */
	uint16_t idr_pic_id;
	bool force_idr;
	bool started;
};

/* The next frame: whether it is an IDR and its frame_num (0 on IDRs). */
struct cg_vaapi_pic_info {
	bool idr;
	uint32_t frame_num;
	uint16_t idr_pic_id;
};

void cg_vaapi_gop_init(struct cg_vaapi_gop *g, uint32_t interval);
struct cg_vaapi_pic_info cg_vaapi_gop_next(struct cg_vaapi_gop *g);

/* Width and height in macroblocks, rounded up. */
uint32_t cg_vaapi_mbs(uint32_t pixels);

void cg_vaapi_fill_seq(VAEncSequenceParameterBufferH264 *s, const struct cg_encoder_cfg *cfg,
		       uint8_t level_idc);
void cg_vaapi_fill_pic(VAEncPictureParameterBufferH264 *p, const struct cg_encoder_cfg *cfg,
		       const struct cg_vaapi_pic_info *pi, VASurfaceID recon, VASurfaceID ref,
		       VABufferID coded);
void cg_vaapi_fill_slice(VAEncSliceParameterBufferH264 *s, const struct cg_encoder_cfg *cfg,
			 const struct cg_vaapi_pic_info *pi, VASurfaceID ref);
/* CBR at kbps with a one-second window. */
void cg_vaapi_fill_rc(VAEncMiscParameterRateControl *rc, uint32_t kbps);

struct cg_vaapi_cache_entry {
	uint64_t key; /* dma-buf inode; 0: free */
	VASurfaceID surface;
	uint64_t used; /* LRU clock */
};

struct cg_vaapi_cache {
	struct cg_vaapi_cache_entry e[CG_VAAPI_CACHE];
	uint64_t clock;
	/* Imports a buffer as a surface (0 or -errno); destroys an evicted one. */
	int (*import)(void *userdata, const struct cg_frame *f, VASurfaceID *ret);
	void (*destroy)(void *userdata, VASurfaceID s);
	void *userdata;
};

/* The buffer's identity: the inode of its dma-buf fd. Returns 0 when fstat fails. */
uint64_t cg_vaapi_frame_key(const struct cg_frame *f);

/*
 * The surface for frame f: cached when this buffer was seen, else imported (evicting the
 * least recently used entry). Returns 0 or the import's -errno.
 */
int cg_vaapi_cache_get(struct cg_vaapi_cache *c, const struct cg_frame *f, VASurfaceID *ret);
/* Destroys every cached surface. */
void cg_vaapi_cache_clear(struct cg_vaapi_cache *c);
