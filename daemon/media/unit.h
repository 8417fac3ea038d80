/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A media unit: one access unit packetized once (or one Opus packet), what a camera's
 * media thread (or its sound thread) publishes to the camera's hub and every worker sends.
 * Immutable once published and reference-counted, shared read-only by every worker; all
 * viewers send the same payloads with the same SSRC, sequence numbers and timestamps.
 * Units come from a producer's pool (media/unit_pool.h), where their last unref returns
 * them. This header is what the hub and the sessions need of the media, and nothing else.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hw/encoder.h"
#include "proto/h264.h"
#include "util/refcount.h"

#define CG_MEDIA_MAX_PAYLOAD 1100 /* leaves room for RTP header, extensions, SRTP tag: MTU 1200 */
#define CG_MEDIA_VIDEO_CLOCK 90000

struct cg_unit_pool;

enum cg_media_kind {
	CG_MEDIA_VIDEO = 0,
	CG_MEDIA_AUDIO, /* one Opus packet: au is NULL, plan has one payload */
};

struct cg_media_unit {
	struct cg_refcount ref;
	enum cg_media_kind kind;
	struct cg_au *au;
	struct cg_h264_plan plan; /* arena and items owned by the unit */
	uint16_t first_seq;	  /* RTP sequence number of plan.items[0] */
	uint32_t rtp_timestamp;
	uint64_t capture_mono_usec;
	uint64_t capture_wall_usec;
	bool keyframe;
	struct cg_unit_pool *pool;	 /* where the last unref returns it, or NULL: freed */
	struct cg_media_unit *pool_next; /* on the pool's free list */
};

/* Any thread. */
struct cg_media_unit *cg_media_unit_ref(struct cg_media_unit *u);
struct cg_media_unit *cg_media_unit_unref(struct cg_media_unit *u);
