/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <stdlib.h>

#include "app/stats.h"
#include "util/macros.h"

void cg_stats_init(struct cg_stats *s)
{
	GMutex *m = g_new0(GMutex, 1);

	g_mutex_init(m);
	*s = (struct cg_stats){ .lock = m };
}

void cg_stats_fini(struct cg_stats *s)
{
	if (s->lock) {
		g_mutex_clear(s->lock);
		g_free(s->lock);
		s->lock = NULL;
	}
}

void cg_stats_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

uint64_t cg_stats_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void cg_stats_sample(struct cg_stats *s, struct cg_latency_window *w, uint64_t usec)
{
	g_mutex_lock(s->lock);
	w->samples_usec[w->next] = (uint32_t)CG_MIN(usec, UINT32_MAX);
	w->next = (w->next + 1) % CG_STATS_WINDOW;
	if (w->count < CG_STATS_WINDOW)
		w->count++;
	g_mutex_unlock(s->lock);
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

double cg_stats_percentile_ms(struct cg_stats *s, struct cg_latency_window *w, unsigned p)
{
	uint32_t sorted[CG_STATS_WINDOW];
	unsigned n;

	g_mutex_lock(s->lock);
	n = w->count;
	memcpy(sorted, w->samples_usec, sizeof(sorted));
	g_mutex_unlock(s->lock);
	if (n == 0)
		return -1;
	qsort(sorted, n, sizeof(sorted[0]), compare_u32);
	return sorted[CG_MIN(n - 1, (n * p) / 100)] / 1000.0;
}
