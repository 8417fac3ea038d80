/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "worker"

#include <errno.h>
#include <glib-unix.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fanout/hub.h"
#include "media/media.h"
#include "fanout/session.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "fanout/worker.h"

/* How often viewers' estimates are posted to their cameras' bitrate boards. */
#define WORKER_BITRATE_TICK_MS 500
/* Cameras (hubs) one worker serves. */
#define WORKER_MAX_CAMERAS 32

struct cg_worker {
	unsigned index;
	struct cg_stats *stats;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	int wake_fd;
	GSource *wake_source;
	/* The cameras' lanes on this worker: written by the control thread before any viewer
	 * joins, n_lanes published last (atomic). */
	struct cg_hub_lane *lanes[WORKER_MAX_CAMERAS];
	unsigned n_lanes;
	GPtrArray *sessions;		/* worker thread only; holds refs */
	unsigned load;			/* atomic: sessions.len */
	struct cg_session_batch *batch; /* worker thread only */
	struct cg_session_host host;
	GSource *bitrate_tick;
};

/* Sends a unit the lane's queue gave to the lane's viewers. */
static void worker_send_unit(struct cg_worker *w, struct cg_hub_lane *lane, struct cg_media_unit *u)
{
	GPtrArray *viewers = cg_hub_lane_viewers(lane);

	/* Sound is sent as it comes: no keyframes to wait for, no retransmissions (Opus
	 * carries its own FEC), so it stays out of the GOP cache and the NACK history. */
	if (u->kind == CG_MEDIA_AUDIO) {
		for (guint i = 0; i < viewers->len; i++)
			cg_session_send_audio(g_ptr_array_index(viewers, i), u);
		return;
	}
	cg_hub_lane_remember(lane, u);
	for (guint i = 0; i < viewers->len; i++) {
		cg_session_send_unit(g_ptr_array_index(viewers, i), u);
		/* The frame's first packets are out (this worker's first viewer). */
		if (i == 0)
			cg_stats_observe(cg_hub_stats(cg_hub_lane_hub(lane)),
					 CG_STAGE_FIRST_PACKET_SENT,
					 cg_mono_usec() - u->capture_mono_usec);
	}
	if (viewers->len > 0) {
		struct cg_stats *st = cg_hub_stats(cg_hub_lane_hub(lane));

		cg_stats_sample(st, &st->capture_to_send, cg_mono_usec() - u->capture_mono_usec);
	}
}

static void worker_drain_lane(struct cg_worker *w, struct cg_hub_lane *lane)
{
	GPtrArray *viewers = cg_hub_lane_viewers(lane);
	struct cg_media_unit *u;
	bool gap;

	while ((u = cg_hub_lane_pop(lane, &gap))) {
		/* The queue overflowed: every viewer here missed a frame, and P-frames after
		 * a gap are undecodable. They skip to the next keyframe instead. */
		for (guint i = 0; gap && i < viewers->len; i++)
			cg_session_resync(g_ptr_array_index(viewers, i));
		worker_send_unit(w, lane, u);
		cg_media_unit_unref(u);
	}
}

static gboolean worker_on_wake(gint fd, GIOCondition cond, gpointer userdata)
{
	struct cg_worker *w = userdata;
	unsigned n = __atomic_load_n(&w->n_lanes, __ATOMIC_ACQUIRE);
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		cg_warn("worker %u: eventfd read failed: %m, ignoring", w->index);
	for (unsigned i = 0; i < n; i++)
		worker_drain_lane(w, w->lanes[i]);
	return G_SOURCE_CONTINUE;
}

/* The lowest estimate of a lane's viewers at or above the floor (0: none): viewers under
 * the floor do not set the encoder's rate (proto/bwe.h policy). Worker thread. */
static uint32_t worker_lowest_estimate(GPtrArray *viewers, uint32_t floor_kbps)
{
	uint32_t lowest = 0;

	for (guint i = 0; i < viewers->len; i++) {
		struct cg_session_stats st;

		cg_session_get_stats(g_ptr_array_index(viewers, i), &st);
		if (st.estimate_kbps == 0 || st.estimate_kbps < floor_kbps)
			continue;
		if (lowest == 0 || st.estimate_kbps < lowest)
			lowest = st.estimate_kbps;
	}
	return lowest;
}

/* Each camera's media thread decides its bitrate; the workers post their viewers' part. */
static gboolean worker_on_bitrate_tick(gpointer userdata)
{
	struct cg_worker *w = userdata;
	unsigned n = __atomic_load_n(&w->n_lanes, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++) {
		struct cg_hub *hub = cg_hub_lane_hub(w->lanes[i]);
		GPtrArray *viewers = cg_hub_lane_viewers(w->lanes[i]);

		cg_hub_post_estimate(hub, w->index,
				     worker_lowest_estimate(viewers, cg_hub_floor_kbps(hub)));
	}
	return G_SOURCE_CONTINUE;
}

/* host->attach: the session joins the worker's list and its camera's lane. Worker thread. */
static void worker_attach_session(void *host_data, struct cg_session *s)
{
	struct cg_worker *w = host_data;

	g_ptr_array_add(w->sessions, cg_session_ref(s));
	cg_hub_lane_add_viewer(cg_session_lane(s), s);
	__atomic_store_n(&w->load, w->sessions->len, __ATOMIC_RELAXED);
}

/* host->detach: the session closed; the worker drops its reference. Worker thread. */
static void worker_detach_session(void *host_data, struct cg_session *s)
{
	struct cg_worker *w = host_data;

	if (g_ptr_array_remove_fast(w->sessions, s)) {
		cg_hub_lane_remove_viewer(cg_session_lane(s), s);
		__atomic_store_n(&w->load, w->sessions->len, __ATOMIC_RELAXED);
		cg_session_unref(s);
	}
}

static gpointer worker_thread(gpointer userdata)
{
	struct cg_worker *w = userdata;

	g_main_context_push_thread_default(w->ctx);
	g_main_loop_run(w->loop);
	/* Sessions still attached are closed here, on their owner thread. */
	while (w->sessions->len > 0)
		cg_session_close_now(g_ptr_array_index(w->sessions, w->sessions->len - 1));
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

struct cg_worker *cg_worker_new(unsigned index, struct cg_stats *stats)
{
	struct cg_worker *w = cg_new0(struct cg_worker, 1);
	char name[16];

	w->index = index;
	w->stats = stats;
	w->sessions = g_ptr_array_new();
	w->batch = cg_new0(struct cg_session_batch, 1);
	for (unsigned i = 0; i < CG_SESSION_BATCH; i++)
		w->batch->msgs[i].buf = w->batch->slots[i];
	w->ctx = g_main_context_new();
	w->loop = g_main_loop_new(w->ctx, FALSE);
	w->host = (struct cg_session_host){ .ctx = w->ctx,
					    .ice_ops = &cg_nice_ice_ops,
					    .batch = w->batch,
					    .attach = worker_attach_session,
					    .detach = worker_detach_session,
					    .host_data = w };
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		cg_err("worker %u: eventfd: %m", index);
		return cg_worker_free(w);
	}
	w->wake_source = g_unix_fd_source_new(w->wake_fd, G_IO_IN);
	g_source_set_callback(w->wake_source, G_SOURCE_FUNC(worker_on_wake), w, NULL);
	g_source_attach(w->wake_source, w->ctx);
	w->bitrate_tick = g_timeout_source_new(WORKER_BITRATE_TICK_MS);
	g_source_set_callback(w->bitrate_tick, worker_on_bitrate_tick, w, NULL);
	g_source_attach(w->bitrate_tick, w->ctx);
	snprintf(name, sizeof(name), "cg-net%u", index);
	w->thread = g_thread_new(name, worker_thread, w);
	return w;
}

static gboolean worker_quit(gpointer userdata)
{
	struct cg_worker *w = userdata;

	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

struct cg_worker *cg_worker_free(struct cg_worker *w)
{
	if (!w)
		return NULL;
	if (w->thread) {
		g_main_context_invoke(w->ctx, worker_quit, w);
		g_thread_join(w->thread);
	}
	if (w->bitrate_tick) {
		g_source_destroy(w->bitrate_tick);
		g_source_unref(w->bitrate_tick);
	}
	if (w->wake_source) {
		g_source_destroy(w->wake_source);
		g_source_unref(w->wake_source);
	}
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	/* Let libnice and DTLS timers of closed sessions run their teardown. */
	while (g_main_context_iteration(w->ctx, FALSE))
		;
	g_main_loop_unref(w->loop);
	g_main_context_unref(w->ctx);
	g_ptr_array_unref(w->sessions);
	free(w->batch);
	free(w);
	return NULL;
}

const struct cg_session_host *cg_worker_host(struct cg_worker *w)
{
	return &w->host;
}

void cg_worker_use_ice(struct cg_worker *w, const struct cg_ice_ops *ops, void *backend)
{
	/* A session reads the backend only when its transport is made (cg_session_new(), on
	 * the control thread): set before the first one, it needs no lock. */
	w->host.ice_ops = ops;
	w->host.ice_backend = backend;
}

int cg_worker_wake_fd(struct cg_worker *w)
{
	return w->wake_fd;
}

int cg_worker_add_hub(struct cg_worker *w, struct cg_hub *hub)
{
	unsigned n = w->n_lanes;

	if (n == WORKER_MAX_CAMERAS)
		return -ENOSPC;
	w->lanes[n] = cg_hub_lane(hub, w->index);
	__atomic_store_n(&w->n_lanes, n + 1, __ATOMIC_RELEASE);
	return 0;
}

unsigned cg_worker_load(struct cg_worker *w)
{
	return __atomic_load_n(&w->load, __ATOMIC_RELAXED);
}

struct cg_worker *cg_worker_least_loaded(struct cg_worker **workers, unsigned n)
{
	unsigned loads[64];

	n = n < 64 ? n : 64; /* config.c allows 1..64 */
	for (unsigned i = 0; i < n; i++)
		loads[i] = cg_worker_load(workers[i]);
	return workers[cg_hub_pick(loads, n)];
}

unsigned cg_worker_index(const struct cg_worker *w)
{
	return w->index;
}
