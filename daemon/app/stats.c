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

/* 1, 2, 5, 10, 20, 50, 100, 200 ms: a frame interval at 30 fps falls in the middle. */
const uint32_t cg_histogram_bounds_usec[CG_HISTOGRAM_BOUNDS] = {
	1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000,
};

static const char *const stage_names[CG_STAGE_COUNT] = {
	[CG_STAGE_CAPTURE_TO_ENCODER] = "capture_to_encoder",
	[CG_STAGE_ENCODE] = "encode",
	[CG_STAGE_PACKETIZE] = "packetize",
	[CG_STAGE_FIRST_PACKET_SENT] = "first_packet_sent",
	[CG_STAGE_LAST_PACKET_SENT] = "last_packet_sent",
};

const char *cg_stage_name(enum cg_stage stage)
{
	return (unsigned)stage < CG_STAGE_COUNT ? stage_names[stage] : NULL;
}

void cg_stats_observe(struct cg_stats *s, enum cg_stage stage, uint64_t usec)
{
	struct cg_histogram *h;
	unsigned b = 0;

	if ((unsigned)stage >= CG_STAGE_COUNT)
		return;
	h = &s->stages[stage];
	/* Prometheus' le is "less or equal": a sample on a bound belongs to that bucket. */
	while (b < CG_HISTOGRAM_BOUNDS && usec > cg_histogram_bounds_usec[b])
		b++;
	cg_stats_add(&h->buckets[b], 1);
	cg_stats_add(&h->sum_usec, usec);
}

void cg_stats_histogram(const struct cg_stats *s, enum cg_stage stage, struct cg_histogram *ret)
{
	*ret = (struct cg_histogram){ 0 };
	if ((unsigned)stage >= CG_STAGE_COUNT)
		return;
	for (unsigned b = 0; b <= CG_HISTOGRAM_BOUNDS; b++)
		ret->buckets[b] = cg_stats_get(&s->stages[stage].buckets[b]);
	ret->sum_usec = cg_stats_get(&s->stages[stage].sum_usec);
}

void cg_stats_sample(struct cg_stats *s, struct cg_latency_window *w, uint64_t usec)
{
	if (w == &s->encode)
		cg_stats_observe(s, CG_STAGE_ENCODE, usec);
	else if (w == &s->capture_to_send)
		cg_stats_observe(s, CG_STAGE_LAST_PACKET_SENT, usec);
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
