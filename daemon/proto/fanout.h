/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fan-out's policies, pure: what a worker's queue does when it is full, and which
 * units a joining viewer can start from. The hub (fanout/hub.c) keeps one queue and one
 * GOP cache per camera per worker and adds the lock and the references; this file decides.
 *
 * Drop policy: a full queue drops its OLDEST unit (a late frame is worth less than a new
 * one). A dropped video unit breaks decoding until the next keyframe, so the queue marks a
 * gap: every viewer behind it then skips to the next keyframe and asks for one. Dropped
 * sound marks nothing (Opus frames decode on their own).
 *
 * GOP cache: the units from the newest keyframe on, while they are at most
 * CG_FANOUT_GOP_MAX and contiguous in RTP sequence numbers: a viewer that joins within
 * max-age of that keyframe starts from them at once instead of waiting for a new IDR.
 *
 * Pure: no clock, locks or allocation; items are opaque pointers. Any thread, one at a time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define CG_FANOUT_QUEUE	  16 /* units queued for one worker */
#define CG_FANOUT_GOP_MAX 8  /* units kept from the newest keyframe on */

struct cg_fanout_queue {
	void *items[CG_FANOUT_QUEUE];
	bool video[CG_FANOUT_QUEUE];
	unsigned head, len;
	bool gap; /* a video unit was dropped since the last pop */
};

/*
 * Appends item (video: a video unit). Returns the item dropped to make room (the caller
 * releases it), or NULL.
 */
void *cg_fanout_queue_push(struct cg_fanout_queue *q, void *item, bool video);

/* Takes the oldest item, or NULL. *ret_gap (may be NULL) says whether video was dropped
 * before it, and clears the mark. */
void *cg_fanout_queue_pop(struct cg_fanout_queue *q, bool *ret_gap);

/* One unit as the GOP cache sees it. */
struct cg_fanout_unit_info {
	bool keyframe;
	uint16_t first_seq; /* its first RTP sequence number */
	uint16_t n_packets;
	uint64_t capture_usec;
};

struct cg_fanout_gop {
	void *items[CG_FANOUT_GOP_MAX];
	struct cg_fanout_unit_info info[CG_FANOUT_GOP_MAX];
	unsigned len;
};

/*
 * Offers a video unit to the cache. The items no longer kept are written to released
 * (room for CG_FANOUT_GOP_MAX) and counted in *ret_n_released: the caller releases them.
 * Returns whether item itself is kept (the caller then holds a reference for the cache).
 */
bool cg_fanout_gop_offer(struct cg_fanout_gop *g, void *item,
			 const struct cg_fanout_unit_info *info, void **released,
			 unsigned *ret_n_released);

/* How many units a viewer joining at now_usec can start from (0: ask for a keyframe):
 * the cache's, when its keyframe was captured at most max_age_usec ago. */
unsigned cg_fanout_gop_usable(const struct cg_fanout_gop *g, uint64_t now_usec,
			      uint64_t max_age_usec);
