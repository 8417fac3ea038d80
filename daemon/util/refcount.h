/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Atomic reference counts for immutable objects shared between threads (any thread). */
#pragma once

#include <stdbool.h>

struct cg_refcount {
	int count;
};

static inline void cg_refcount_init(struct cg_refcount *r)
{
	__atomic_store_n(&r->count, 1, __ATOMIC_RELAXED);
}

static inline void cg_refcount_inc(struct cg_refcount *r)
{
	__atomic_fetch_add(&r->count, 1, __ATOMIC_RELAXED);
}

/* Returns true when this was the last reference: the caller then frees the object. */
static inline bool cg_refcount_dec(struct cg_refcount *r)
{
	return __atomic_sub_fetch(&r->count, 1, __ATOMIC_ACQ_REL) == 0;
}
