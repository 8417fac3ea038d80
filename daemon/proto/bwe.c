/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "proto/bwe.h"
#include "proto/twcc.h"

#define BWE_USEC_PER_MS 1000u

void cg_bwe_on_remb(struct cg_bwe_viewer *v, uint64_t bps, uint64_t now_usec)
{
	v->remb_bps = bps;
	v->remb_usec = now_usec ? now_usec : 1;
}

void cg_bwe_on_rr(struct cg_bwe_viewer *v, uint8_t fraction_lost, uint64_t now_usec)
{
	v->rr_fraction_lost = fraction_lost;
	/* Without TWCC the receiver report is the only loss signal. */
	if (!v->twcc_usec || now_usec - v->twcc_usec > CG_BWE_ESTIMATE_TTL_MS * BWE_USEC_PER_MS)
		v->loss = fraction_lost / 256.0;
}

void cg_bwe_on_twcc(struct cg_bwe_viewer *v, const struct cg_twcc_report *r, uint64_t now_usec)
{
	double loss, rate;

	if (r->reported == 0)
		return;
	loss = 1.0 - (double)r->received / r->reported;
	v->loss = v->twcc_usec ? 0.8 * v->loss + 0.2 * loss : loss;
	/* A rate needs a span: a handful of packets in one burst says nothing. */
	if (r->received < 8 || r->recv_span_us < 20000)
		return;
	rate = (double)r->bytes_received * 8e6 / (double)r->recv_span_us;
	if (v->loss > 0.10)
		rate *= 1.0 - 0.5 * v->loss;
	else if (v->loss < 0.02)
		rate *= 1.05;
	v->twcc_bps =
		v->twcc_usec ? (uint64_t)(0.7 * (double)v->twcc_bps + 0.3 * rate) : (uint64_t)rate;
	v->twcc_usec = now_usec ? now_usec : 1;
}

static bool bwe_fresh(uint64_t at, uint64_t now)
{
	return at && now >= at && now - at <= CG_BWE_ESTIMATE_TTL_MS * BWE_USEC_PER_MS;
}

uint32_t cg_bwe_estimate_kbps(const struct cg_bwe_viewer *v, uint64_t now_usec)
{
	uint64_t bps = 0;

	if (bwe_fresh(v->remb_usec, now_usec))
		bps = v->remb_bps;
	else if (bwe_fresh(v->twcc_usec, now_usec))
		bps = v->twcc_bps;
	if (bps == 0)
		return 0;
	bps = (bps + 999) / 1000;
	return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

void cg_bwe_budget_set_rate(struct cg_bwe_budget *b, uint64_t rate_bps)
{
	int64_t cap = (int64_t)(rate_bps / 8);

	b->rate_bps = rate_bps;
	if (b->bytes > cap)
		b->bytes = cap;
}

bool cg_bwe_budget_take(struct cg_bwe_budget *b, size_t size, bool may_borrow, uint64_t now_usec)
{
	int64_t cap = (int64_t)(b->rate_bps / 8); /* one second of sending */

	if (b->rate_bps == 0) {
		b->last_usec = now_usec;
		return true;
	}
	if (b->last_usec == 0)
		b->bytes = cap;
	else if (now_usec > b->last_usec)
		b->bytes += (int64_t)((now_usec - b->last_usec) * b->rate_bps / 8000000u);
	if (b->bytes > cap)
		b->bytes = cap;
	b->last_usec = now_usec;
	if ((int64_t)size > b->bytes && !(may_borrow && b->bytes >= 0))
		return false;
	b->bytes -= (int64_t)size;
	return true;
}

static uint32_t bwe_clamp(const struct cg_bwe_policy *p, uint64_t kbps)
{
	if (kbps < p->min_kbps)
		return p->min_kbps;
	return kbps > p->max_kbps ? p->max_kbps : (uint32_t)kbps;
}

void cg_bwe_policy_init(struct cg_bwe_policy *p, uint32_t min_kbps, uint32_t max_kbps,
			uint32_t start_kbps)
{
	*p = (struct cg_bwe_policy){ .min_kbps = min_kbps,
				     .max_kbps = max_kbps < min_kbps ? min_kbps : max_kbps };
	p->current_kbps = bwe_clamp(p, start_kbps);
}

uint32_t cg_bwe_policy_decide(struct cg_bwe_policy *p, const uint32_t *estimates_kbps, unsigned n,
			      uint64_t now_usec, unsigned *ret_below_floor)
{
	uint64_t lowest = UINT64_MAX, step;
	unsigned below = 0;

	for (unsigned i = 0; i < n; i++) {
		if (estimates_kbps[i] == 0)
			continue;
		if (estimates_kbps[i] < p->min_kbps)
			below++;
		else if (estimates_kbps[i] < lowest)
			lowest = estimates_kbps[i];
	}
	if (ret_below_floor)
		*ret_below_floor = below;
	if (lowest == UINT64_MAX)
		return p->current_kbps; /* nothing known: keep */
	lowest = bwe_clamp(p, lowest);
	if (lowest < p->current_kbps) {
		/* Fast decrease: a viewer is losing packets now. */
		p->current_kbps = (uint32_t)lowest;
		p->last_usec = now_usec ? now_usec : 1;
		return p->current_kbps;
	}
	if (lowest == p->current_kbps ||
	    (p->last_usec && now_usec - p->last_usec < CG_BWE_INTERVAL_MS * BWE_USEC_PER_MS))
		return p->current_kbps;
	/* Smooth increase: probing upward too fast overshoots into loss. */
	step = (uint64_t)p->current_kbps * CG_BWE_INCREASE_PCT / 100;
	step = step ? step : 1;
	p->current_kbps =
		(uint32_t)(lowest - p->current_kbps > step ? p->current_kbps + step : lowest);
	p->last_usec = now_usec ? now_usec : 1;
	return p->current_kbps;
}
