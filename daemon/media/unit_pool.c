/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "media/unit_pool.h"
#include "util/macros.h"

struct cg_unit_pool {
	pthread_mutex_t lock;
	enum cg_media_kind kind;
	unsigned max_free;
	unsigned n_free;		 /* protected by lock */
	struct cg_media_unit *free_list; /* protected by lock; linked through pool_next */
	unsigned refs;			 /* owner + units out; protected by lock */
	bool released;			 /* protected by lock */
	struct cg_unit_pool_stats stats; /* protected by lock */
};

static void unit_free(struct cg_media_unit *u)
{
	free(u->plan.arena);
	free(u->plan.items);
	free(u);
}

static void pool_destroy(struct cg_unit_pool *p)
{
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct cg_unit_pool *cg_unit_pool_new(enum cg_media_kind kind, unsigned max_free)
{
	struct cg_unit_pool *p = cg_new0(struct cg_unit_pool, 1);

	pthread_mutex_init(&p->lock, NULL);
	p->kind = kind;
	p->max_free = max_free;
	p->refs = 1;
	return p;
}

/* Drops one reference with the lock held; unlocks. Returns true when the pool is gone. */
static bool pool_unref_unlock(struct cg_unit_pool *p)
{
	bool last = --p->refs == 0;

	pthread_mutex_unlock(&p->lock);
	if (last)
		pool_destroy(p);
	return last;
}

void cg_unit_pool_release(struct cg_unit_pool *p)
{
	struct cg_media_unit *list;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->released = true;
	list = p->free_list;
	p->free_list = NULL;
	p->n_free = 0;
	pool_unref_unlock(p);
	/* Free units hold no pool reference: they are the pool's own. */
	while (list) {
		struct cg_media_unit *next = list->pool_next;

		unit_free(list);
		list = next;
	}
}

/* An arena fits a need when it holds it without keeping a keyframe's worth of memory
 * around for a small frame: a unit that carried an IDR is not handed a P-frame. */
static bool arena_fits(size_t cap, size_t need)
{
	return cap >= need && cap <= 4 * need + 4096;
}

/* Makes the plan hold exactly what is asked when what it has does not fit. */
static bool unit_reserve(struct cg_media_unit *u, size_t arena_cap, size_t items_cap)
{
	bool changed = false;

	if (!arena_fits(u->plan.arena_cap, arena_cap)) {
		free(u->plan.arena);
		u->plan.arena = cg_new0(uint8_t, arena_cap);
		u->plan.arena_cap = arena_cap;
		changed = true;
	}
	if (u->plan.items_cap < items_cap) {
		free(u->plan.items);
		u->plan.items = cg_new0(struct cg_h264_payload, items_cap);
		u->plan.items_cap = items_cap;
		changed = true;
	}
	return changed;
}

/* Takes the free unit whose arena fits best (the list is short), else the first one, else
 * NULL. Lock held. */
static struct cg_media_unit *pool_take_locked(struct cg_unit_pool *p, size_t arena_cap)
{
	struct cg_media_unit **at = &p->free_list, **pick = NULL, *u;

	for (; *at; at = &(*at)->pool_next) {
		if (arena_fits((*at)->plan.arena_cap, arena_cap)) {
			pick = at;
			break;
		}
	}
	if (!pick)
		pick = p->free_list ? &p->free_list : NULL;
	if (!pick)
		return NULL;
	u = *pick;
	*pick = u->pool_next;
	p->n_free--;
	return u;
}

struct cg_media_unit *cg_unit_pool_get(struct cg_unit_pool *p, size_t arena_cap, size_t items_cap)
{
	struct cg_media_unit *u;
	struct cg_h264_plan plan = { 0 };
	bool changed;

	pthread_mutex_lock(&p->lock);
	u = pool_take_locked(p, arena_cap);
	p->stats.gets++;
	if (u)
		p->stats.reused++;
	p->refs++; /* the unit's */
	pthread_mutex_unlock(&p->lock);

	if (u) {
		plan = u->plan;
		memset(u, 0, sizeof(*u));
	} else {
		u = cg_new0(struct cg_media_unit, 1);
	}
	u->plan.arena = plan.arena;
	u->plan.arena_cap = plan.arena_cap;
	u->plan.items = plan.items;
	u->plan.items_cap = plan.items_cap;
	changed = unit_reserve(u, arena_cap, items_cap);
	cg_refcount_init(&u->ref);
	u->kind = p->kind;
	u->pool = p;
	if (changed && plan.arena) {
		pthread_mutex_lock(&p->lock);
		p->stats.grown++;
		pthread_mutex_unlock(&p->lock);
	}
	return u;
}

void cg_unit_pool_put(struct cg_media_unit *u)
{
	struct cg_unit_pool *p = u->pool;
	bool keep;

	pthread_mutex_lock(&p->lock);
	keep = !p->released && p->n_free < p->max_free;
	if (keep) {
		u->pool_next = p->free_list;
		p->free_list = u;
		p->n_free++;
	}
	pool_unref_unlock(p);
	if (!keep)
		unit_free(u);
}

struct cg_media_unit *cg_media_unit_ref(struct cg_media_unit *u)
{
	cg_refcount_inc(&u->ref);
	return u;
}

struct cg_media_unit *cg_media_unit_unref(struct cg_media_unit *u)
{
	if (u && cg_refcount_dec(&u->ref)) {
		u->au = cg_au_unref(u->au);
		if (u->pool)
			cg_unit_pool_put(u);
		else
			unit_free(u);
	}
	return NULL;
}

void cg_unit_pool_get_stats(struct cg_unit_pool *p, struct cg_unit_pool_stats *ret)
{
	pthread_mutex_lock(&p->lock);
	*ret = p->stats;
	ret->free_units = p->n_free;
	pthread_mutex_unlock(&p->lock);
}
