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

#include "fanout/session.h"

struct cg_hub;
struct cg_media_unit;
struct cg_session;
struct cg_stats;
struct cg_worker;

/* Starts worker thread number index. stats is borrowed. Returns NULL on failure. Control
 * thread. */
struct cg_worker *cg_worker_new(unsigned index, struct cg_stats *stats);

/* Closes every session of the worker, stops its thread and frees it. Control thread. */
struct cg_worker *cg_worker_free(struct cg_worker *w);

/* The worker as a session host (cg_session_setup.host): its context, the ICE backend (libnice
 * unless cg_worker_use_ice() chose another), its send scratch, and its session list (the worker
 * holds a reference to each session between host->attach and host->detach, and feeds it its camera
 * lane's units). Owned by the worker. Any thread. */
const struct cg_session_host *cg_worker_host(struct cg_worker *w);

/*
 * Makes the worker's sessions use another ICE backend (cg_session_host.ice_ops and
 * ice_backend): ops and backend are borrowed and must outlive the worker's sessions. For
 * tests, which run sessions over the in-memory ICE (net/ice_mem.h) without sockets; the
 * daemon keeps libnice. Control thread, before any session is made on the worker.
 */
void cg_worker_use_ice(struct cg_worker *w, const struct cg_ice_ops *ops, void *backend);

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
