/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app/config.h"
#include "fanout/hub.h"
#include "fanout/worker.h"
#include "signaling/deps.h"

void cg_signaling_session_setup(const struct cg_signaling_deps *deps,
				const struct cg_signaling_camera *cam,
				cg_session_closed_fn on_closed, void *userdata,
				struct cg_session_setup *ret)
{
	struct cg_worker *w = cg_worker_least_loaded(deps->workers, deps->n_workers);

	*ret = (struct cg_session_setup){
		.host = cg_worker_host(w),
		.media = cam->media,
		.lane = cg_hub_lane(cam->hub, cg_worker_index(w)),
		.stats = cam->stats,
		.cert = deps->cert,
		.loopback_only = cg_config_listens_on_loopback(deps->cfg),
		.cfg = cam->cfg,
		.ice = deps->ice,
		.audio = cam->audio,
		.control_ctx = deps->ctx,
		.on_closed = on_closed,
		.on_closed_userdata = userdata,
	};
}
