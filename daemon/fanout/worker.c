/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "worker"

#include <errno.h>
#include <glib-unix.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "media/media.h"
#include "proto/bwe.h"
#include "proto/rtx.h"
#include "fanout/session.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "fanout/worker.h"

/* Frames queued for a worker; a worker this far behind drops the oldest. */
#define WORKER_QUEUE 16
/* Units kept from the newest keyframe on, so a joining viewer can start at once. */
#define WORKER_GOP_MAX 8
/* How often viewers' estimates are folded into the encoder bitrate. */
#define WORKER_BITRATE_TICK_MS 500
#define WORKER_MAX	       64 /* config.c allows 1..64 workers */

struct cg_worker {
	unsigned index;
	struct cg_stats *stats;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	int wake_fd;
	GSource *wake_source;
	GMutex lock; /* protects queue, head, len */
	struct cg_media_unit *queue[WORKER_QUEUE];
	unsigned head;
	unsigned len;
	GPtrArray *sessions;			   /* worker thread only; holds refs */
	struct cg_media_unit *gop[WORKER_GOP_MAX]; /* worker thread only */
	unsigned gop_len;
	unsigned load;		       /* atomic: sessions.len */
	struct cg_worker_batch *batch; /* worker thread only */
	bool gap;		       /* under lock: the queue dropped a unit */
	struct cg_rtx_history history; /* worker thread only; holds refs */
	GSource *bitrate_tick;
};

/*
 * The one encoder's bitrate follows every viewer on every worker, so the workers share
 * one policy (proto/bwe.h): each worker folds its own sessions' estimates into its slot
 * (the lowest at or above the floor) and whichever worker ticks runs the policy over all
 * slots. Low rate (two per second per worker), so a mutex is fine.
 */
static struct {
	GMutex lock;
	bool ready;
	struct cg_bwe_policy policy;
	uint32_t slot_kbps[WORKER_MAX]; /* 0: no estimate from that worker */
	unsigned below_floor[WORKER_MAX];
} worker_board;

static struct cg_media_unit *worker_pop_unit(struct cg_worker *w, bool *ret_gap)
{
	struct cg_media_unit *u = NULL;

	g_mutex_lock(&w->lock);
	if (ret_gap) {
		*ret_gap = w->gap;
		w->gap = false;
	}
	if (w->len > 0) {
		u = w->queue[w->head];
		w->head = (w->head + 1) % WORKER_QUEUE;
		w->len--;
	}
	g_mutex_unlock(&w->lock);
	return u;
}

static void worker_clear_gop(struct cg_worker *w)
{
	while (w->gop_len > 0) {
		w->gop_len--;
		w->gop[w->gop_len] = cg_media_unit_unref(w->gop[w->gop_len]);
	}
}

/* Keeps the units since the newest keyframe while they are few and contiguous. */
static void worker_remember_unit(struct cg_worker *w, struct cg_media_unit *u)
{
	const struct cg_media_unit *last = w->gop_len ? w->gop[w->gop_len - 1] : NULL;

	if (u->keyframe) {
		worker_clear_gop(w);
		w->gop[w->gop_len++] = cg_media_unit_ref(u);
		return;
	}
	if (!last)
		return;
	/* A gap (a dropped frame, or no viewers for a while) makes the chain undecodable. */
	if (w->gop_len == WORKER_GOP_MAX ||
	    u->first_seq != (uint16_t)(last->first_seq + last->plan.n_items)) {
		worker_clear_gop(w);
		return;
	}
	w->gop[w->gop_len++] = cg_media_unit_ref(u);
}

bool cg_worker_replay_gop(struct cg_worker *w, struct cg_session *s, uint64_t max_age_usec)
{
	if (w->gop_len == 0 || cg_mono_usec() - w->gop[0]->capture_mono_usec > max_age_usec)
		return false;
	for (unsigned i = 0; i < w->gop_len; i++)
		cg_session_send_unit(s, w->gop[i]);
	return true;
}

struct cg_media_unit *cg_worker_find_packet(struct cg_worker *w, uint16_t seq, unsigned *ret_index)
{
	return cg_rtx_history_find(&w->history, seq, ret_index);
}

static void worker_send_unit(struct cg_worker *w, struct cg_media_unit *u)
{
	/* Sound is sent as it comes: no keyframes to wait for, no retransmissions (Opus
	 * carries its own FEC), so it stays out of the GOP cache and the NACK history. */
	if (u->kind == CG_MEDIA_AUDIO) {
		for (guint i = 0; i < w->sessions->len; i++)
			cg_session_send_audio(g_ptr_array_index(w->sessions, i), u);
		return;
	}
	/* The NACK history holds every unit sent for about 2 s; units are immutable and
	 * refcounted, so remembering one costs a pointer. */
	cg_media_unit_unref(cg_rtx_history_push(&w->history, cg_media_unit_ref(u), u->first_seq,
						(uint16_t)u->plan.n_items));
	worker_remember_unit(w, u);
	for (guint i = 0; i < w->sessions->len; i++)
		cg_session_send_unit(g_ptr_array_index(w->sessions, i), u);
	if (w->sessions->len > 0)
		cg_stats_sample(w->stats, &w->stats->capture_to_send,
				cg_mono_usec() - u->capture_mono_usec);
}

static gboolean worker_on_wake(gint fd, GIOCondition cond, gpointer userdata)
{
	struct cg_worker *w = userdata;
	struct cg_media_unit *u;
	uint64_t count;
	bool gap;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		cg_warn("worker %u: eventfd read failed: %m, ignoring", w->index);
	while ((u = worker_pop_unit(w, &gap))) {
		/* The queue overflowed: every viewer here missed a frame, and P-frames after
		 * a gap are undecodable. They skip to the next keyframe instead. */
		for (guint i = 0; gap && i < w->sessions->len; i++)
			cg_session_resync(g_ptr_array_index(w->sessions, i));
		worker_send_unit(w, u);
		cg_media_unit_unref(u);
	}
	return G_SOURCE_CONTINUE;
}

/* The lowest estimate of this worker's viewers at or above the floor (0: none), and how
 * many are below it: viewers under the floor do not set the encoder's rate (proto/bwe.h
 * policy). Worker thread. */
static uint32_t worker_lowest_estimate(struct cg_worker *w, uint32_t floor_kbps,
				       unsigned *ret_below)
{
	uint32_t lowest = 0;
	unsigned below = 0;

	for (guint i = 0; i < w->sessions->len; i++) {
		struct cg_session_stats st;

		cg_session_get_stats(g_ptr_array_index(w->sessions, i), &st);
		if (st.estimate_kbps == 0)
			continue;
		if (st.estimate_kbps < floor_kbps)
			below++;
		else if (lowest == 0 || st.estimate_kbps < lowest)
			lowest = st.estimate_kbps;
	}
	*ret_below = below;
	return lowest;
}

static gboolean worker_on_bitrate_tick(gpointer userdata)
{
	struct cg_worker *w = userdata;
	struct cg_media *media;
	uint32_t min, max, before, after;
	unsigned below;

	if (w->index >= WORKER_MAX)
		return G_SOURCE_CONTINUE;
	if (w->sessions->len == 0) {
		g_mutex_lock(&worker_board.lock);
		worker_board.slot_kbps[w->index] = 0;
		worker_board.below_floor[w->index] = 0;
		g_mutex_unlock(&worker_board.lock);
		return G_SOURCE_CONTINUE;
	}
	media = cg_session_media(g_ptr_array_index(w->sessions, 0));
	g_mutex_lock(&worker_board.lock);
	if (!worker_board.ready) {
		cg_session_bitrate_limits(g_ptr_array_index(w->sessions, 0), &min, &max);
		cg_bwe_policy_init(&worker_board.policy, min, max, cg_media_bitrate(media));
		worker_board.ready = true;
	}
	worker_board.slot_kbps[w->index] =
		worker_lowest_estimate(w, worker_board.policy.min_kbps, &below);
	worker_board.below_floor[w->index] = below;
	before = worker_board.policy.current_kbps;
	after = cg_bwe_policy_decide(&worker_board.policy, worker_board.slot_kbps, WORKER_MAX,
				     cg_mono_usec(), NULL);
	g_mutex_unlock(&worker_board.lock);
	if (after != before) {
		cg_info("encoder bitrate %u -> %u kbit/s (lowest viewer estimate)", before, after);
		cg_media_set_bitrate(media, after);
	}
	return G_SOURCE_CONTINUE;
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
	g_mutex_init(&w->lock);
	w->sessions = g_ptr_array_new();
	w->batch = cg_new0(struct cg_worker_batch, 1);
	for (unsigned i = 0; i < CG_WORKER_BATCH; i++) {
		w->batch->vecs[i].buffer = w->batch->slots[i];
		w->batch->msgs[i].buffers = &w->batch->vecs[i];
		w->batch->msgs[i].n_buffers = 1;
	}
	w->ctx = g_main_context_new();
	w->loop = g_main_loop_new(w->ctx, FALSE);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		cg_err("worker %u: eventfd: %m", index);
		return cg_worker_free(w);
	}
	w->wake_source = g_unix_fd_source_new(w->wake_fd, G_IO_IN);
	g_source_set_callback(w->wake_source, G_SOURCE_FUNC(worker_on_wake), w, NULL);
	g_source_attach(w->wake_source, w->ctx);
	cg_rtx_history_init(&w->history);
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
	struct cg_media_unit *u;

	if (!w)
		return NULL;
	if (w->thread) {
		g_main_context_invoke(w->ctx, worker_quit, w);
		g_thread_join(w->thread);
	}
	while ((u = worker_pop_unit(w, NULL)))
		cg_media_unit_unref(u);
	worker_clear_gop(w);
	while ((u = cg_rtx_history_pop(&w->history)))
		cg_media_unit_unref(u);
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
	g_mutex_clear(&w->lock);
	free(w);
	return NULL;
}

GMainContext *cg_worker_context(struct cg_worker *w)
{
	return w->ctx;
}

struct cg_worker_batch *cg_worker_batch(struct cg_worker *w)
{
	return w->batch;
}

void cg_worker_post_unit(struct cg_worker *w, struct cg_media_unit *unit)
{
	struct cg_media_unit *dropped = NULL;
	uint64_t one = 1;

	if (__atomic_load_n(&w->load, __ATOMIC_RELAXED) == 0)
		return;
	g_mutex_lock(&w->lock);
	if (w->len == WORKER_QUEUE) {
		dropped = w->queue[w->head];
		w->head = (w->head + 1) % WORKER_QUEUE;
		w->len--;
		/* A lost video frame breaks decoding until the next keyframe; lost sound does not.
		 */
		if (dropped->kind == CG_MEDIA_VIDEO)
			w->gap = true;
	}
	w->queue[(w->head + w->len) % WORKER_QUEUE] = cg_media_unit_ref(unit);
	w->len++;
	g_mutex_unlock(&w->lock);
	if (dropped) {
		cg_stats_add(&w->stats->frames_dropped, 1);
		cg_media_unit_unref(dropped);
	}
	if (write(w->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		cg_warn("worker %u: eventfd write failed: %m, ignoring", w->index);
}

unsigned cg_worker_load(struct cg_worker *w)
{
	return __atomic_load_n(&w->load, __ATOMIC_RELAXED);
}

void cg_worker_attach_session(struct cg_worker *w, struct cg_session *s)
{
	g_ptr_array_add(w->sessions, cg_session_ref(s));
	__atomic_store_n(&w->load, w->sessions->len, __ATOMIC_RELAXED);
}

void cg_worker_detach_session(struct cg_worker *w, struct cg_session *s)
{
	if (g_ptr_array_remove_fast(w->sessions, s)) {
		__atomic_store_n(&w->load, w->sessions->len, __ATOMIC_RELAXED);
		cg_session_unref(s);
	}
}
