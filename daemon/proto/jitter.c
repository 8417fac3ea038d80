/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/jitter.h"

/* Pulls in a row above target + 2 before a frame is shed: 0.5 s of 20 ms frames. A short
 * burst drains by itself; a sender clock running fast keeps the buffer deep. */
#define JITTER_SHED_AFTER 25

int cg_jitter_init(struct cg_jitter *j, uint32_t clock_rate, uint32_t frame_samples,
		   unsigned min_frames, unsigned max_frames)
{
	if (clock_rate == 0 || frame_samples == 0 || min_frames == 0 || min_frames > max_frames ||
	    max_frames > CG_JITTER_SLOTS / 2)
		return -EINVAL;
	memset(j, 0, sizeof(*j));
	j->clock_rate = clock_rate;
	j->frame_samples = frame_samples;
	j->min_frames = min_frames;
	j->max_frames = max_frames;
	j->target_frames = min_frames;
	return 0;
}

unsigned cg_jitter_depth(const struct cg_jitter *j)
{
	int16_t d = (int16_t)(j->highest_seq - j->next_seq);

	return j->have_next && d >= 0 ? (unsigned)d + 1 : 0;
}

/* RFC 3550 §6.4.1 interarrival jitter, then the depth that covers it with margin. */
static void jitter_update_target(struct cg_jitter *j, uint32_t timestamp, uint64_t now_usec)
{
	int64_t arrival = (int64_t)((now_usec * j->clock_rate) / 1000000u);
	int64_t transit = arrival - (int64_t)timestamp;
	unsigned target;

	if (j->have_transit) {
		int64_t d = transit - j->last_transit;

		j->jitter += ((double)(d < 0 ? -d : d) - j->jitter) / 16.0;
	}
	j->have_transit = true;
	j->last_transit = transit;
	target = 1 + (unsigned)((3.0 * j->jitter) / j->frame_samples + 0.999);
	if (target < j->min_frames)
		target = j->min_frames;
	if (target > j->max_frames)
		target = j->max_frames;
	j->target_frames = target;
}

/* Starts over at seq: the first packet, or a jump too large to bridge. */
static void jitter_restart(struct cg_jitter *j, uint16_t seq)
{
	for (unsigned i = 0; i < CG_JITTER_SLOTS; i++)
		j->slots[i].used = false;
	j->have_next = true;
	j->playing = false;
	j->next_seq = seq;
	j->highest_seq = seq;
	j->deep_pulls = 0;
	/* A new timeline: the transit time across the jump says nothing about jitter. */
	j->have_transit = false;
}

/* Where a packet lands relative to the playout point; a not-yet-playing buffer may still
 * move its start back for packets of its first burst that arrive out of order. */
static int jitter_place(struct cg_jitter *j, uint16_t seq)
{
	int16_t ahead;

	if (!j->have_next) {
		jitter_restart(j, seq);
		return 0;
	}
	ahead = (int16_t)(seq - j->next_seq);
	if (ahead < 0 && !j->playing && -ahead < (int)(CG_JITTER_SLOTS - cg_jitter_depth(j))) {
		j->next_seq = seq;
		return 0;
	}
	if (ahead < 0) {
		j->stats.late++;
		return -ETIMEDOUT;
	}
	if (ahead >= CG_JITTER_SLOTS) {
		j->stats.overflow++;
		jitter_restart(j, seq);
	}
	return 0;
}

int cg_jitter_push(struct cg_jitter *j, uint16_t seq, uint32_t timestamp, const uint8_t *payload,
		   size_t len, uint64_t now_usec)
{
	struct cg_jitter_slot *slot;
	int r;

	if (len > CG_JITTER_MAX_PAYLOAD)
		return -E2BIG;
	r = jitter_place(j, seq);
	if (r < 0)
		return r;
	slot = &j->slots[seq % CG_JITTER_SLOTS];
	if (slot->used && slot->seq == seq) {
		j->stats.duplicates++;
		return -EALREADY;
	}
	*slot = (struct cg_jitter_slot){
		.used = true, .seq = seq, .timestamp = timestamp, .len = (uint16_t)len
	};
	memcpy(slot->data, payload, len);
	if ((int16_t)(seq - j->highest_seq) > 0)
		j->highest_seq = seq;
	else if (seq != j->highest_seq)
		j->stats.reordered++;
	j->stats.received++;
	jitter_update_target(j, timestamp, now_usec);
	return 0;
}

/* A buffer kept deep for long means the sender's clock outruns ours: drop one frame. */
static void jitter_shed_if_deep(struct cg_jitter *j)
{
	struct cg_jitter_slot *slot;

	if (cg_jitter_depth(j) <= j->target_frames + 2) {
		j->deep_pulls = 0;
		return;
	}
	if (++j->deep_pulls < JITTER_SHED_AFTER)
		return;
	j->deep_pulls = 0;
	slot = &j->slots[j->next_seq % CG_JITTER_SLOTS];
	if (slot->used && slot->seq == j->next_seq)
		slot->used = false;
	j->next_seq++;
	j->stats.shed++;
}

enum cg_jitter_result cg_jitter_pull(struct cg_jitter *j, const uint8_t **ret_payload,
				     size_t *ret_len)
{
	struct cg_jitter_slot *slot;

	if (!j->playing) {
		if (!j->have_next || cg_jitter_depth(j) < j->target_frames)
			return CG_JITTER_EMPTY;
		j->playing = true;
	}
	jitter_shed_if_deep(j);
	slot = &j->slots[j->next_seq % CG_JITTER_SLOTS];
	if (slot->used && slot->seq == j->next_seq) {
		slot->used = false;
		j->next_seq++;
		j->stats.played++;
		*ret_payload = slot->data;
		*ret_len = slot->len;
		return CG_JITTER_FRAME;
	}
	if (cg_jitter_depth(j) <= 1) {
		/* Ran dry: nothing after the hole either. Rebuffer up to the target. */
		j->playing = false;
		j->stats.underruns++;
		return CG_JITTER_EMPTY;
	}
	j->next_seq++;
	j->stats.concealed++;
	return CG_JITTER_LOST;
}
