/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fan-out from the media thread to the network workers: one reference and one wake-up per
 * worker per frame, never per viewer (STYLE 4.4 "Hub"). The worker set is fixed at start.
 */
#pragma once

#include <stddef.h>

struct cg_media_unit;
struct cg_worker;

struct cg_hub {
	struct cg_worker **workers; /* borrowed */
	unsigned n_workers;
};

/* Hands unit (borrowed; each worker takes its own ref) to every worker. The media thread
 * (video) and the audio thread call it; the worker queues are locked. */
void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit);

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

/* The worker with the fewest sessions (cg_hub_pick), for pinning a new viewer. A session
 * stays on its worker for life. Control thread. */
struct cg_worker *cg_hub_least_loaded(struct cg_hub *hub);
