/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>

#include "proto/fanout.h"

void *cg_fanout_queue_push(struct cg_fanout_queue *q, void *item, bool video)
{
	void *dropped = NULL;
	unsigned tail;

	if (q->len == CG_FANOUT_QUEUE) {
		dropped = q->items[q->head];
		if (q->video[q->head])
			q->gap = true;
		q->head = (q->head + 1) % CG_FANOUT_QUEUE;
		q->len--;
	}
	tail = (q->head + q->len) % CG_FANOUT_QUEUE;
	q->items[tail] = item;
	q->video[tail] = video;
	q->len++;
	return dropped;
}

void *cg_fanout_queue_pop(struct cg_fanout_queue *q, bool *ret_gap)
{
	void *item = NULL;

	if (ret_gap) {
		*ret_gap = q->gap;
		q->gap = false;
	}
	if (q->len > 0) {
		item = q->items[q->head];
		q->head = (q->head + 1) % CG_FANOUT_QUEUE;
		q->len--;
	}
	return item;
}

static void fanout_gop_clear(struct cg_fanout_gop *g, void **released, unsigned *n)
{
	while (g->len > 0)
		released[(*n)++] = g->items[--g->len];
}

bool cg_fanout_gop_offer(struct cg_fanout_gop *g, void *item,
			 const struct cg_fanout_unit_info *info, void **released,
			 unsigned *ret_n_released)
{
	const struct cg_fanout_unit_info *last = g->len ? &g->info[g->len - 1] : NULL;

	*ret_n_released = 0;
	if (info->keyframe) {
		fanout_gop_clear(g, released, ret_n_released);
	} else if (!last) {
		return false; /* no keyframe to start from */
	} else if (g->len == CG_FANOUT_GOP_MAX ||
		   info->first_seq != (uint16_t)(last->first_seq + last->n_packets)) {
		/* Too long to replay quickly, or a gap (a dropped frame, or nobody watched for
		 * a while): the chain no longer decodes. */
		fanout_gop_clear(g, released, ret_n_released);
		return false;
	}
	g->items[g->len] = item;
	g->info[g->len] = *info;
	g->len++;
	return true;
}

unsigned cg_fanout_gop_usable(const struct cg_fanout_gop *g, uint64_t now_usec,
			      uint64_t max_age_usec)
{
	if (g->len == 0 || now_usec - g->info[0].capture_usec > max_age_usec)
		return 0;
	return g->len;
}
