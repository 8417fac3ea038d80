/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "hub"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "app/stats.h"
#include "fanout/hub.h"
#include "media/unit.h"
#include "proto/bwe.h"
#include "proto/fanout.h"
#include "proto/rtx.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

struct cg_hub_lane {
	struct cg_hub *hub;
	unsigned index;
	int wake_fd;		      /* the worker's (borrowed) */
	GMutex lock;		      /* protects queue */
	struct cg_fanout_queue queue; /* holds references */
	unsigned n_viewers;	      /* atomic: viewers.len, read by publishers */
	/* Worker thread only. */
	GPtrArray *viewers;
	struct cg_fanout_gop gop;      /* holds references */
	struct cg_rtx_history history; /* holds references */
};

struct cg_hub {
	char *name;
	struct cg_stats *stats;
	unsigned n_lanes;
	struct cg_hub_lane *lanes;
	/* The camera's bitrate board: workers post, the media thread decides. Low rate
	 * (twice a second per worker), so a mutex is fine. */
	GMutex board_lock;
	struct cg_bwe_policy policy;
	uint32_t *estimates_kbps; /* one per lane; 0: no estimate */
};

struct cg_hub *cg_hub_new(const struct cg_hub_cfg *cfg)
{
	struct cg_hub *hub = cg_new0(struct cg_hub, 1);

	hub->name = g_strdup(cfg->name);
	hub->stats = cfg->stats;
	hub->n_lanes = cfg->n_lanes;
	hub->lanes = cg_new0(struct cg_hub_lane, cfg->n_lanes ? cfg->n_lanes : 1);
	hub->estimates_kbps = cg_new0(uint32_t, cfg->n_lanes ? cfg->n_lanes : 1);
	g_mutex_init(&hub->board_lock);
	cg_bwe_policy_init(&hub->policy, cfg->min_kbps, cfg->max_kbps, cfg->start_kbps);
	for (unsigned i = 0; i < cfg->n_lanes; i++) {
		struct cg_hub_lane *l = &hub->lanes[i];

		l->hub = hub;
		l->index = i;
		l->wake_fd = cfg->wake_fds[i];
		g_mutex_init(&l->lock);
		l->viewers = g_ptr_array_new();
		cg_rtx_history_init(&l->history);
	}
	return hub;
}

static void hub_lane_clear(struct cg_hub_lane *l)
{
	struct cg_media_unit *u;

	while ((u = cg_fanout_queue_pop(&l->queue, NULL)))
		cg_media_unit_unref(u);
	while (l->gop.len > 0)
		cg_media_unit_unref(l->gop.items[--l->gop.len]);
	while ((u = cg_rtx_history_pop(&l->history)))
		cg_media_unit_unref(u);
}

struct cg_hub *cg_hub_free(struct cg_hub *hub)
{
	if (!hub)
		return NULL;
	for (unsigned i = 0; i < hub->n_lanes; i++) {
		hub_lane_clear(&hub->lanes[i]);
		g_ptr_array_unref(hub->lanes[i].viewers);
		g_mutex_clear(&hub->lanes[i].lock);
	}
	g_mutex_clear(&hub->board_lock);
	free(hub->estimates_kbps);
	free(hub->lanes);
	g_free(hub->name);
	free(hub);
	return NULL;
}

const char *cg_hub_name(const struct cg_hub *hub)
{
	return hub->name;
}

struct cg_stats *cg_hub_stats(const struct cg_hub *hub)
{
	return hub->stats;
}

unsigned cg_hub_viewers(const struct cg_hub *hub)
{
	unsigned n = 0;

	for (unsigned i = 0; i < hub->n_lanes; i++)
		n += __atomic_load_n(&hub->lanes[i].n_viewers, __ATOMIC_RELAXED);
	return n;
}

struct cg_hub_lane *cg_hub_lane(struct cg_hub *hub, unsigned i)
{
	return &hub->lanes[i];
}

struct cg_hub *cg_hub_lane_hub(const struct cg_hub_lane *lane)
{
	return lane->hub;
}

/* One queue push and one wake for the lane's worker; nothing per viewer. */
static void hub_lane_post(struct cg_hub_lane *l, struct cg_media_unit *unit)
{
	struct cg_media_unit *dropped;
	uint64_t one = 1;

	g_mutex_lock(&l->lock);
	dropped = cg_fanout_queue_push(&l->queue, cg_media_unit_ref(unit),
				       unit->kind == CG_MEDIA_VIDEO);
	g_mutex_unlock(&l->lock);
	if (dropped) {
		cg_stats_add(&l->hub->stats->frames_dropped, 1);
		cg_media_unit_unref(dropped);
	}
	if (write(l->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		cg_warn("%s: worker %u: eventfd write failed: %m, ignoring", l->hub->name,
			l->index);
}

void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit)
{
	for (unsigned i = 0; i < hub->n_lanes; i++)
		if (__atomic_load_n(&hub->lanes[i].n_viewers, __ATOMIC_RELAXED) > 0)
			hub_lane_post(&hub->lanes[i], unit);
}

struct cg_media_unit *cg_hub_lane_pop(struct cg_hub_lane *lane, bool *ret_gap)
{
	struct cg_media_unit *u;

	g_mutex_lock(&lane->lock);
	u = cg_fanout_queue_pop(&lane->queue, ret_gap);
	g_mutex_unlock(&lane->lock);
	return u;
}

void cg_hub_lane_remember(struct cg_hub_lane *lane, struct cg_media_unit *u)
{
	struct cg_fanout_unit_info info = {
		.keyframe = u->keyframe,
		.first_seq = u->first_seq,
		.n_packets = (uint16_t)u->plan.n_items,
		.capture_usec = u->capture_mono_usec,
	};
	void *released[CG_FANOUT_GOP_MAX];
	unsigned n;

	/* The NACK history holds every unit sent for about 2 s; units are immutable and
	 * refcounted, so remembering one costs a pointer. */
	cg_media_unit_unref(cg_rtx_history_push(&lane->history, cg_media_unit_ref(u), u->first_seq,
						(uint16_t)u->plan.n_items));
	if (cg_fanout_gop_offer(&lane->gop, u, &info, released, &n))
		cg_media_unit_ref(u);
	for (unsigned i = 0; i < n; i++)
		cg_media_unit_unref(released[i]);
}

unsigned cg_hub_lane_gop(struct cg_hub_lane *lane, uint64_t max_age_usec,
			 struct cg_media_unit *const **ret_units)
{
	*ret_units = (struct cg_media_unit *const *)lane->gop.items;
	return cg_fanout_gop_usable(&lane->gop, cg_mono_usec(), max_age_usec);
}

struct cg_media_unit *cg_hub_lane_find_packet(struct cg_hub_lane *lane, uint16_t seq,
					      unsigned *ret_index)
{
	return cg_rtx_history_find(&lane->history, seq, ret_index);
}

GPtrArray *cg_hub_lane_viewers(struct cg_hub_lane *lane)
{
	return lane->viewers;
}

void cg_hub_lane_add_viewer(struct cg_hub_lane *lane, void *viewer)
{
	g_ptr_array_add(lane->viewers, viewer);
	__atomic_store_n(&lane->n_viewers, lane->viewers->len, __ATOMIC_RELAXED);
}

bool cg_hub_lane_remove_viewer(struct cg_hub_lane *lane, void *viewer)
{
	bool found = g_ptr_array_remove_fast(lane->viewers, viewer);

	__atomic_store_n(&lane->n_viewers, lane->viewers->len, __ATOMIC_RELAXED);
	/* Nobody here watches: what the lane kept would be stale when someone joins. */
	if (lane->viewers->len == 0) {
		struct cg_media_unit *u;

		while (lane->gop.len > 0)
			cg_media_unit_unref(lane->gop.items[--lane->gop.len]);
		while ((u = cg_rtx_history_pop(&lane->history)))
			cg_media_unit_unref(u);
		cg_hub_post_estimate(lane->hub, lane->index, 0);
	}
	return found;
}

void cg_hub_post_estimate(struct cg_hub *hub, unsigned lane, uint32_t kbps)
{
	g_mutex_lock(&hub->board_lock);
	hub->estimates_kbps[lane] = kbps;
	g_mutex_unlock(&hub->board_lock);
}

uint32_t cg_hub_floor_kbps(const struct cg_hub *hub)
{
	return hub->policy.min_kbps; /* set once in cg_hub_new */
}

uint32_t cg_hub_decide_bitrate(struct cg_hub *hub, uint64_t now_usec)
{
	uint32_t kbps;

	g_mutex_lock(&hub->board_lock);
	kbps = cg_bwe_policy_decide(&hub->policy, hub->estimates_kbps, hub->n_lanes, now_usec,
				    NULL);
	g_mutex_unlock(&hub->board_lock);
	return kbps;
}
