/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Network workers: a fixed set of threads, each running its own GMainContext, each owning
 * the sessions pinned to it (their libnice agent, DTLS, SRTP and RTCP state). Media units
 * arrive through a small bounded queue and one eventfd wake per frame.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct cg_media_unit;
struct cg_session;
struct cg_stats;
struct cg_worker;

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

/* Session bookkeeping. Worker thread only. The worker holds a reference while attached. */
void cg_worker_attach_session(struct cg_worker *w, struct cg_session *s);
void cg_worker_detach_session(struct cg_worker *w, struct cg_session *s);
