/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * An adaptive jitter buffer for talkback audio (the browser's Opus, RFC 7587): packets go in
 * as they arrive, in any order; frames come out at the pace of the playback device, one per
 * pull. The depth it keeps follows the measured interarrival jitter (RFC 3550 §6.4.1)
 * between a floor and a ceiling; a buffer that runs deep because the sender's clock is
 * faster than the sound card's sheds a frame, one that runs dry rebuffers.
 *
 * Pure: time comes in as a parameter. One owner thread; no allocation after init.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_JITTER_SLOTS	      64   /* 1.28 s of 20 ms frames */
#define CG_JITTER_MAX_PAYLOAD 1276 /* the largest Opus frame (RFC 6716 §3.4) */

struct cg_jitter_slot {
	bool used;
	uint16_t seq;
	uint32_t timestamp;
	uint16_t len;
	uint8_t data[CG_JITTER_MAX_PAYLOAD];
};

struct cg_jitter_stats {
	uint64_t received;  /* packets accepted */
	uint64_t played;    /* frames handed out */
	uint64_t concealed; /* pulls answered with "lost": the decoder conceals */
	uint64_t late;	    /* arrived after their turn had passed */
	uint64_t duplicates;
	uint64_t reordered; /* arrived after a packet with a higher sequence number */
	uint64_t shed;	    /* frames dropped to shrink a buffer grown too deep */
	uint64_t underruns; /* pulls with nothing to play: rebuffering */
	uint64_t overflow;  /* packets too far ahead to hold */
};

struct cg_jitter {
	uint32_t clock_rate;	/* 48000 */
	uint32_t frame_samples; /* 960 for 20 ms */
	unsigned min_frames;	/* depth floor and ceiling, in frames */
	unsigned max_frames;
	unsigned target_frames; /* current depth goal */
	bool playing;		/* false while (re)buffering */
	bool have_next;
	uint16_t next_seq; /* the next sequence number to play */
	uint16_t highest_seq;
	bool have_transit;
	int64_t last_transit; /* RFC 3550 jitter state, in clock units */
	double jitter;	      /* in clock units */
	unsigned deep_pulls;  /* consecutive pulls with the buffer above target + 2 */
	struct cg_jitter_slot slots[CG_JITTER_SLOTS];
	struct cg_jitter_stats stats;
};

/*
 * Sets up an empty buffer for clock_rate Hz frames of frame_samples samples that keeps
 * between min_frames and max_frames (≤ CG_JITTER_SLOTS / 2) queued. Returns 0 or -EINVAL.
 */
int cg_jitter_init(struct cg_jitter *j, uint32_t clock_rate, uint32_t frame_samples,
		   unsigned min_frames, unsigned max_frames);

/*
 * Adds one packet's payload (copied). now_usec is its arrival time. Returns 0; -EALREADY for
 * a duplicate; -ETIMEDOUT when its turn has passed (late); -E2BIG for an oversized payload.
 * A packet too far ahead of the playout point to hold (a long gap, a restarted sender)
 * restarts the buffer from it (counted in stats.overflow).
 */
int cg_jitter_push(struct cg_jitter *j, uint16_t seq, uint32_t timestamp, const uint8_t *payload,
		   size_t len, uint64_t now_usec);

enum cg_jitter_result {
	CG_JITTER_FRAME = 0, /* *ret_payload/len point at the frame, valid until the next call */
	CG_JITTER_LOST,	     /* this frame is missing: let the decoder conceal it */
	CG_JITTER_EMPTY,     /* (re)buffering: play silence */
};

/* Takes the next frame to play; call once per frame period of the playback device. */
enum cg_jitter_result cg_jitter_pull(struct cg_jitter *j, const uint8_t **ret_payload,
				     size_t *ret_len);

/* Frames currently queued from the playout point on (holes included). */
unsigned cg_jitter_depth(const struct cg_jitter *j);
