/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The media unit pool (daemon/media/unit_pool.c): reuse, the fit rule, release with units still
 * out, and units dropped on other threads than the one that gets them. */
#include <glib.h>
#include <pthread.h>

#include "media/unit_pool.h"

static void test_reuse(void)
{
	struct cg_unit_pool *p = cg_unit_pool_new(CG_MEDIA_VIDEO, 4);
	struct cg_unit_pool_stats st;
	struct cg_media_unit *a, *b;
	uint8_t *arena;

	a = cg_unit_pool_get(p, 1000, 4);
	g_assert_nonnull(a->plan.arena);
	g_assert_cmpuint(a->plan.arena_cap, >=, 1000);
	g_assert_cmpuint(a->plan.items_cap, >=, 4);
	g_assert_true(a->pool == p);
	g_assert_cmpint(a->kind, ==, CG_MEDIA_VIDEO);
	a->first_seq = 77;
	a->keyframe = true;
	a->plan.arena_len = 10;
	a->plan.n_items = 2;
	arena = a->plan.arena;
	cg_media_unit_unref(a);

	/* The same unit, its buffers kept, everything else as new. */
	b = cg_unit_pool_get(p, 900, 2);
	g_assert_true(b->plan.arena == arena);
	g_assert_cmpuint(b->first_seq, ==, 0);
	g_assert_false(b->keyframe);
	g_assert_cmpuint(b->plan.arena_len, ==, 0);
	g_assert_cmpuint(b->plan.n_items, ==, 0);
	g_assert_null(b->au);
	cg_unit_pool_get_stats(p, &st);
	g_assert_cmpuint(st.gets, ==, 2);
	g_assert_cmpuint(st.reused, ==, 1);
	g_assert_cmpuint(st.grown, ==, 0);
	cg_media_unit_unref(b);
	cg_unit_pool_release(p);
}

/* A unit that carried a keyframe is kept for the next keyframe, not given a small frame. */
static void test_fit(void)
{
	struct cg_unit_pool *p = cg_unit_pool_new(CG_MEDIA_VIDEO, 4);
	struct cg_media_unit *idr = cg_unit_pool_get(p, 200000, 200);
	struct cg_media_unit *small = cg_unit_pool_get(p, 8000, 10);
	uint8_t *idr_arena = idr->plan.arena, *small_arena = small->plan.arena;
	struct cg_media_unit *u;

	cg_media_unit_unref(small);
	cg_media_unit_unref(idr); /* now first on the free list */
	u = cg_unit_pool_get(p, 7000, 10);
	g_assert_true(u->plan.arena == small_arena);
	cg_media_unit_unref(u);
	u = cg_unit_pool_get(p, 180000, 150);
	g_assert_true(u->plan.arena == idr_arena);
	cg_media_unit_unref(u);
	/* Nothing fits: the first free unit is resized to the need, not kept oversized. */
	u = cg_unit_pool_get(p, 100, 1);
	g_assert_cmpuint(u->plan.arena_cap, <=, 4 * 100 + 4096);
	cg_media_unit_unref(u);
	cg_unit_pool_release(p);
}

/* The free list is bounded; units out when the owner lets go are freed when dropped (ASan
 * and LeakSanitizer check there is neither a use after free nor a leak). */
static void test_release_with_units_out(void)
{
	struct cg_unit_pool *p = cg_unit_pool_new(CG_MEDIA_AUDIO, 2);
	struct cg_media_unit *u[6];
	struct cg_unit_pool_stats st;

	for (unsigned i = 0; i < G_N_ELEMENTS(u); i++)
		u[i] = cg_unit_pool_get(p, 100, 1);
	for (unsigned i = 0; i < 4; i++)
		cg_media_unit_unref(u[i]);
	cg_unit_pool_get_stats(p, &st);
	g_assert_cmpuint(st.free_units, ==, 2);
	cg_media_unit_ref(u[5]);
	cg_unit_pool_release(p);
	cg_media_unit_unref(u[4]);
	cg_media_unit_unref(u[5]);
	cg_media_unit_unref(u[5]); /* the last unit out takes the pool with it */
}

#define RING   64
#define FRAMES 20000

struct ring {
	struct cg_media_unit *slot[RING];
	unsigned head, tail; /* protected by lock */
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* A worker: drops every unit it is handed, as the NACK history does on another thread. */
static void *dropper(void *arg)
{
	struct ring *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->head == r->tail && !r->done)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->head == r->tail)
			break;
		struct cg_media_unit *u = r->slot[r->tail++ % RING];

		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		cg_media_unit_unref(u);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void test_threads(void)
{
	/* The droppers wake in bursts and may hand back a whole ring at once; the daemon's
	 * NACK history hands back one per frame. */
	struct cg_unit_pool *p = cg_unit_pool_new(CG_MEDIA_VIDEO, RING);
	struct ring r = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct cg_unit_pool_stats st;
	pthread_t t[2];

	for (unsigned i = 0; i < 2; i++)
		g_assert_cmpint(pthread_create(&t[i], NULL, dropper, &r), ==, 0);
	for (unsigned i = 0; i < FRAMES; i++) {
		struct cg_media_unit *u = cg_unit_pool_get(p, i % 30 ? 8000 : 150000, 20);

		u->plan.arena[0] = (uint8_t)i;
		pthread_mutex_lock(&r.lock);
		while (r.head - r.tail == RING)
			pthread_cond_wait(&r.cond, &r.lock);
		r.slot[r.head++ % RING] = u;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
	}
	pthread_mutex_lock(&r.lock);
	r.done = true;
	pthread_cond_broadcast(&r.cond);
	pthread_mutex_unlock(&r.lock);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cg_unit_pool_get_stats(p, &st);
	g_test_message("%llu gets, %llu reused, %llu reallocated", st.gets, st.reused, st.grown);
	g_assert_cmpuint(st.gets, ==, FRAMES);
	/* Nearly every unit is a reused one (a unit a dropper holds in hand while the producer
	 * finds the free list empty is a new one). */
	g_assert_cmpuint(st.reused, >=, FRAMES * 95 / 100);
	cg_unit_pool_release(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/unit-pool/reuse", test_reuse);
	g_test_add_func("/unit-pool/fit", test_fit);
	g_test_add_func("/unit-pool/release-with-units-out", test_release_with_units_out);
	g_test_add_func("/unit-pool/threads", test_threads);
	return g_test_run();
}
