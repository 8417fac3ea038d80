/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Network workers: a fixed set of threads, each running its own GMainContext, each owning
 * the sessions pinned to it (their ICE transport, DTLS, SRTP and RTCP state). Media units
 * arrive through a small bounded queue and one eventfd wake per frame.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/srtp.h"
#include "net/ice.h"

struct cg_hub;
struct cg_media_unit;
struct cg_session;
struct cg_stats;
struct cg_worker;

/* Packets a session hands to its ICE transport in one call; a frame with more takes several
 * calls. */
#define CG_WORKER_BATCH 64
/* One packet slot: an MTU-sized RTP packet plus the SRTP tag. */
#define CG_WORKER_SLOT (1500 + CG_SRTP_MAX_TRAILER)

/*
 * The worker's send scratch: preallocated once per worker and reused by each of its
 * sessions in turn (they all run on the worker thread, and a transport is done with a
 * datagram when cg_ice_send() returns). msgs[i].buf points at slots[i]; a session fills
 * slots and msgs[i].len, then sends msgs[0..n).
 */
struct cg_worker_batch {
	struct cg_ice_msg msgs[CG_WORKER_BATCH];
	uint8_t slots[CG_WORKER_BATCH][CG_WORKER_SLOT];
};

/* The worker's send scratch (owned by the worker). Worker thread only. */
struct cg_worker_batch *cg_worker_batch(struct cg_worker *w);

/* Starts worker thread number index. stats is borrowed. Returns NULL on failure. Control
 * thread. */
struct cg_worker *cg_worker_new(unsigned index, struct cg_stats *stats);

/* Closes every session of the worker, stops its thread and frees it. Control thread. */
struct cg_worker *cg_worker_free(struct cg_worker *w);

/* The worker's context, for ICE transports, timers and invokes. Any thread. */
GMainContext *cg_worker_context(struct cg_worker *w);

/* The ICE backend the worker's sessions use, for cg_ice_new(): libnice (its backend
 * context, NULL, in *ret_backend). Tests and the HTTP fuzzer give fake workers the
 * in-memory one (net/ice_mem.h). Any thread. */
const struct cg_ice_ops *cg_worker_ice(struct cg_worker *w, void **ret_backend);

/* Number of sessions pinned to the worker. Any thread. */
unsigned cg_worker_load(struct cg_worker *w);

/* The worker's index (its lane in every hub). Any thread. */
unsigned cg_worker_index(const struct cg_worker *w);

/* The eventfd hubs write to wake the worker (cg_hub_cfg.wake_fds). Any thread. */
int cg_worker_wake_fd(struct cg_worker *w);

/* Makes the worker drain hub's lane for it. Control thread, before any viewer of that hub
 * joins; at most 32 hubs per worker (-ENOSPC). */
int cg_worker_add_hub(struct cg_worker *w, struct cg_hub *hub);

/* The least loaded of n workers (cg_hub_pick), for pinning a new viewer. Control thread. */
struct cg_worker *cg_worker_least_loaded(struct cg_worker **workers, unsigned n);

/* Session bookkeeping, also on the session's lane (cg_session_lane) of its camera's hub.
 * Worker thread only. The worker holds a reference while attached. */
void cg_worker_attach_session(struct cg_worker *w, struct cg_session *s);
void cg_worker_detach_session(struct cg_worker *w, struct cg_session *s);
