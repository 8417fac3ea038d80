/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fan-out from the media thread to the network workers: one reference and one wake-up per
 * worker per frame, never per viewer (STYLE 4.4 "Hub"). The worker set is fixed at start.
 */
#pragma once

struct cg_media_unit;
struct cg_worker;

struct cg_hub {
	struct cg_worker **workers; /* borrowed */
	unsigned n_workers;
};

/* Hands unit (borrowed; each worker takes its own ref) to every worker. Media thread. */
void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit);

/* The worker with the fewest sessions, for pinning a new viewer. Control thread. */
struct cg_worker *cg_hub_least_loaded(struct cg_hub *hub);
