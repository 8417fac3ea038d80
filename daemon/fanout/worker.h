/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Network workers: a fixed set of threads, each running its own GMainContext, each owning
 * the sessions pinned to it (their libnice agent, DTLS, SRTP and RTCP state). Media units
 * arrive through a small bounded queue and one eventfd wake per frame.
 */
#pragma once

#include <glib.h>
#include <nice/agent.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/srtp.h"

struct cg_media_unit;
struct cg_session;
struct cg_stats;
struct cg_worker;

/* Packets a session hands to libnice in one call; a frame with more takes several calls. */
#define CG_WORKER_BATCH 64
/* One packet slot: an MTU-sized RTP packet plus the SRTP tag. */
#define CG_WORKER_SLOT (1500 + CG_SRTP_MAX_TRAILER)

/*
 * The worker's send scratch: preallocated once per worker and reused by each of its
 * sessions in turn (they all run on the worker thread, and libnice is done with a UDP
 * message when the send call returns). msgs[i] points at vecs[i], which points at
 * slots[i]; a session fills slots and vecs[i].size, then sends msgs[0..n).
 */
struct cg_worker_batch {
	NiceOutputMessage msgs[CG_WORKER_BATCH];
	GOutputVector vecs[CG_WORKER_BATCH];
	uint8_t slots[CG_WORKER_BATCH][CG_WORKER_SLOT];
};

/* The worker's send scratch (owned by the worker). Worker thread only. */
struct cg_worker_batch *cg_worker_batch(struct cg_worker *w);

/* Starts worker thread number index. stats is borrowed. Returns NULL on failure. Control
 * thread. */
struct cg_worker *cg_worker_new(unsigned index, struct cg_stats *stats);

/* Closes every session of the worker, stops its thread and frees it. Control thread. */
struct cg_worker *cg_worker_free(struct cg_worker *w);

/* The worker's context, for libnice agents and invokes. Any thread. */
GMainContext *cg_worker_context(struct cg_worker *w);

/* Queues a new reference to unit for the worker's sessions. Media thread. */
void cg_worker_post_unit(struct cg_worker *w, struct cg_media_unit *unit);

/* Number of sessions pinned to the worker. Any thread. */
unsigned cg_worker_load(struct cg_worker *w);

/*
 * Sends s the units from the newest keyframe on, if that keyframe was captured at most
 * max_age_usec ago: a joining viewer then starts without waiting for a new IDR. Returns
 * false when there is no such keyframe (ask the arbiter for one). Worker thread only.
 */
bool cg_worker_replay_gop(struct cg_worker *w, struct cg_session *s, uint64_t max_age_usec);

/*
 * The unit holding RTP sequence number seq among the worker's recent units (about 2 s),
 * with the packet's index in it; NULL when not remembered. The unit is borrowed: valid
 * until the worker handles its next unit. Worker thread only.
 */
struct cg_media_unit *cg_worker_find_packet(struct cg_worker *w, uint16_t seq, unsigned *ret_index);

/* Session bookkeeping. Worker thread only. The worker holds a reference while attached. */
void cg_worker_attach_session(struct cg_worker *w, struct cg_session *s);
void cg_worker_detach_session(struct cg_worker *w, struct cg_session *s);
