/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "hub.h"
#include "worker.h"

void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit)
{
	for (unsigned i = 0; i < hub->n_workers; i++)
		cg_worker_post_unit(hub->workers[i], unit);
}

struct cg_worker *cg_hub_least_loaded(struct cg_hub *hub)
{
	struct cg_worker *best = hub->workers[0];

	for (unsigned i = 1; i < hub->n_workers; i++)
		if (cg_worker_load(hub->workers[i]) < cg_worker_load(best))
			best = hub->workers[i];
	return best;
}
