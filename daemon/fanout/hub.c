/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fanout/hub.h"
#include "fanout/worker.h"

void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit)
{
	for (unsigned i = 0; i < hub->n_workers; i++)
		cg_worker_post_unit(hub->workers[i], unit);
}

struct cg_worker *cg_hub_least_loaded(struct cg_hub *hub)
{
	unsigned loads[64];
	size_t n = hub->n_workers < 64 ? hub->n_workers : 64; /* config.c allows 1..64 */

	for (size_t i = 0; i < n; i++)
		loads[i] = cg_worker_load(hub->workers[i]);
	return hub->workers[cg_hub_pick(loads, n)];
}
