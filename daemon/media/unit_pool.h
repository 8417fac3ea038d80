/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Recycled media units for one producer (the media thread's video, the audio thread's
 * sound), so that steady streaming allocates nothing per frame (STYLE: no malloc in the
 * steady state). A unit's last unref, on whichever thread drops it, hands it back with its
 * arena and payload table; the next cg_unit_pool_get() reuses them, and grows them only for
 * an access unit that fits none of the free ones. A unit that carried a keyframe (tens to
 * hundreds of KiB) is kept for the next keyframe, not handed to a small frame, so the
 * units in flight (a worker's NACK history holds 64) do not all grow to keyframe size.
 *
 * The pool is kept alive by its owner and by every unit out of it, so a unit that outlives
 * its producer (in a worker's GOP cache or NACK history at shutdown) is freed when dropped,
 * never handed back to freed memory.
 */
#pragma once

#include <stddef.h>

#include "media/unit.h"

struct cg_unit_pool;

struct cg_unit_pool_stats {
	unsigned long long gets;   /* units handed out */
	unsigned long long reused; /* of which came from the free list */
	unsigned long long grown;  /* of which had their arena or payload table reallocated */
	unsigned free_units;	   /* on the free list now */
};

/*
 * A pool for units of kind, keeping at most max_free units on its free list (more are
 * freed when dropped). The caller owns the returned pool: cg_unit_pool_release() it.
 * Never fails (allocation failure aborts, like cg_new0). Any thread.
 */
struct cg_unit_pool *cg_unit_pool_new(enum cg_media_kind kind, unsigned max_free);

/*
 * The owner lets go: units on the free list are freed now, units still out are freed when
 * their last reference goes, and the pool with the last of them. NULL is a no-op. Any
 * thread, once; no cg_unit_pool_get() after it.
 */
void cg_unit_pool_release(struct cg_unit_pool *p);

/*
 * A unit with one reference (the caller's), of the pool's kind, its plan's arena and
 * payload table at least arena_cap bytes and items_cap entries (contents unspecified;
 * arena_len and n_items 0), every other field zero. Drop it with cg_media_unit_unref().
 * Never fails. The producer's thread (any one thread at a time).
 */
struct cg_media_unit *cg_unit_pool_get(struct cg_unit_pool *p, size_t arena_cap, size_t items_cap);

/*
 * Takes back a pooled unit whose last reference is gone (cg_media_unit_unref() calls it;
 * nothing else should). Any thread.
 */
void cg_unit_pool_put(struct cg_media_unit *u);

/* Counters, for tests and /status. Any thread. */
void cg_unit_pool_get_stats(struct cg_unit_pool *p, struct cg_unit_pool_stats *ret);
