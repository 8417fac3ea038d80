/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One camera's fan-out: its media thread (video) and audio thread publish each unit once;
 * the hub hands it to every network worker that has a viewer of this camera, with one
 * reference and one eventfd wake per worker, never per viewer. Per worker the hub keeps a
 * lane: the bounded queue (proto/fanout.h: drop the oldest, mark a video gap), the GOP
 * cache joining viewers start from, and the NACK history (proto/rtx.h) retransmissions
 * are served from. It also holds the camera's bitrate board: each worker posts the lowest
 * estimate of its viewers of this camera, and the camera's media thread decides the
 * encoder's bitrate from them (proto/bwe.h).
 *
 * Dependencies flow one way: media → hub ← worker → session. The hub calls neither the
 * worker nor the sessions; a lane holds its viewers as opaque pointers for its worker.
 *
 * Threads: created and freed on the control thread (after the workers exist, before any
 * viewer, after every viewer is gone). cg_hub_publish: the producers. Lane functions: the
 * lane's worker thread only, unless marked otherwise.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_hub;
struct cg_hub_lane;
struct cg_media_unit;
struct cg_stats;

/* How often the media thread turns the posted estimates into a bitrate. */
#define CG_HUB_BITRATE_TICK_USEC (500 * 1000)

struct cg_hub_cfg {
	const char *name;	     /* the camera's (copied) */
	unsigned n_lanes;	     /* one per worker, in worker index order */
	const int *wake_fds;	     /* each worker's eventfd (borrowed; outlives the hub) */
	struct cg_stats *stats;	     /* the camera's counters (borrowed) */
	uint32_t min_kbps, max_kbps; /* the camera's bitrate range */
	uint32_t start_kbps;
};

/* Never NULL. Control thread. */
struct cg_hub *cg_hub_new(const struct cg_hub_cfg *cfg);

/* Drops every unit the lanes still hold. No viewer may be attached. Returns NULL. */
struct cg_hub *cg_hub_free(struct cg_hub *hub);

const char *cg_hub_name(const struct cg_hub *hub);

/* The camera's counters (cg_hub_cfg.stats). Any thread. */
struct cg_stats *cg_hub_stats(const struct cg_hub *hub);

/* Viewers of this camera on every worker. Any thread. */
unsigned cg_hub_viewers(const struct cg_hub *hub);

/* Hands unit (borrowed) to every lane with a viewer. The producers (media, audio thread). */
void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit);

/* The lane of worker index i (i < n_lanes). Any thread. */
struct cg_hub_lane *cg_hub_lane(struct cg_hub *hub, unsigned i);
struct cg_hub *cg_hub_lane_hub(const struct cg_hub_lane *lane);

/* The lane's next unit (a reference for the caller), or NULL; *ret_gap: video was dropped
 * before it, so its viewers must skip to a keyframe. */
struct cg_media_unit *cg_hub_lane_pop(struct cg_hub_lane *lane, bool *ret_gap);

/* Remembers a video unit the worker is about to send, for NACKs and for joining viewers. */
void cg_hub_lane_remember(struct cg_hub_lane *lane, struct cg_media_unit *unit);

/*
 * The units a viewer joining now can start from: the lane's GOP cache when its keyframe is
 * at most max_age_usec old. Returns their number (0: ask for a keyframe) and points
 * *ret_units at them (borrowed until the lane handles its next unit).
 */
unsigned cg_hub_lane_gop(struct cg_hub_lane *lane, uint64_t max_age_usec,
			 struct cg_media_unit *const **ret_units);

/* The unit holding RTP sequence number seq, and the packet's index in it; NULL when no
 * longer remembered (about 2 s). Borrowed until the lane handles its next unit. */
struct cg_media_unit *cg_hub_lane_find_packet(struct cg_hub_lane *lane, uint16_t seq,
					      unsigned *ret_index);

/* The lane's viewers, as its worker keeps them (opaque to the hub). */
GPtrArray *cg_hub_lane_viewers(struct cg_hub_lane *lane);
void cg_hub_lane_add_viewer(struct cg_hub_lane *lane, void *viewer);
bool cg_hub_lane_remove_viewer(struct cg_hub_lane *lane, void *viewer);

/* Posts the lowest estimate (kbit/s; 0: none) of the lane's viewers at or above the floor
 * (cg_hub_floor_kbps). Worker thread. */
void cg_hub_post_estimate(struct cg_hub *hub, unsigned lane, uint32_t kbps);
uint32_t cg_hub_floor_kbps(const struct cg_hub *hub);

/* The bitrate the encoder should have now, from the posted estimates (proto/bwe.h policy).
 * The camera's media thread, every CG_HUB_BITRATE_TICK_USEC. */
uint32_t cg_hub_decide_bitrate(struct cg_hub *hub, uint64_t now_usec);

/*
 * Pinning rule: the index of the least loaded of n workers (loads borrowed), the lowest
 * index among equals so that viewers fill workers evenly and deterministically; 0 when
 * n is 0. Pure; any thread.
 */
static inline unsigned cg_hub_pick(const unsigned *loads, size_t n)
{
	unsigned best = 0;

	for (size_t i = 1; i < n; i++)
		if (loads[i] < loads[best])
			best = (unsigned)i;
	return best;
}
