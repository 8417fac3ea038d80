/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bandwidth: what one viewer can take (from REMB, transport-wide CC feedback and receiver
 * reports), a per-viewer send budget, and the policy that sets the single encoder's
 * bitrate from every viewer's estimate. Pure: time is a parameter, nothing is shared.
 *
 * The policy (also stated in README "Many viewers and bandwidth"):
 *  - the encoder follows the LOWEST estimate among viewers whose estimate is at or above
 *    the floor (min_kbps), clamped to [min_kbps, max_kbps];
 *  - viewers estimated below the floor do not drag everyone down: they are counted, and
 *    their sessions serve them what fits their budget, skipping to the next keyframe;
 *  - decreases apply at once; increases are smoothed: at most +CG_BWE_INCREASE_PCT
 *    percent per CG_BWE_INTERVAL_MS;
 *  - with no estimate at all (no viewer sends REMB or TWCC feedback) the bitrate is kept.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_twcc_report;

#define CG_BWE_INTERVAL_MS     1000 /* at most one increase per interval */
#define CG_BWE_INCREASE_PCT    8    /* largest increase per interval */
#define CG_BWE_ESTIMATE_TTL_MS 5000 /* an estimate older than this is unknown */

/* One viewer's estimate. Zero-initialise it. */
struct cg_bwe_viewer {
	uint64_t remb_bps;
	uint64_t remb_usec; /* when the last REMB arrived, 0 never */
	uint64_t twcc_bps;  /* loss-adjusted delivery rate */
	uint64_t twcc_usec;
	double loss;		  /* smoothed fraction lost, 0..1 (TWCC, else RR) */
	uint8_t rr_fraction_lost; /* last receiver report, /256 */
};

/* Records a REMB (draft-alvestrand-rmcat-remb) of bps at now_usec. */
void cg_bwe_on_remb(struct cg_bwe_viewer *v, uint64_t bps, uint64_t now_usec);

/* Records a receiver report's fraction lost (RFC 3550 §6.4.1, /256). */
void cg_bwe_on_rr(struct cg_bwe_viewer *v, uint8_t fraction_lost, uint64_t now_usec);

/*
 * Folds a transport-wide CC report in: the delivery rate (bytes received over their
 * arrival span) scaled by loss, after the loss-based rule of GCC
 * (draft-ietf-rmcat-gcc-02 §6): above 10 % loss back off by half the loss, under 2 %
 * allow 5 % headroom over what got through, else hold.
 */
void cg_bwe_on_twcc(struct cg_bwe_viewer *v, const struct cg_twcc_report *r, uint64_t now_usec);

/* The viewer's estimate in kbit/s at now_usec: REMB when fresh, else TWCC when fresh,
 * else 0 (unknown). */
uint32_t cg_bwe_estimate_kbps(const struct cg_bwe_viewer *v, uint64_t now_usec);

/* A send budget in bytes: a token bucket of one second at rate_bps. */
struct cg_bwe_budget {
	uint64_t rate_bps; /* 0: unlimited */
	int64_t bytes;	   /* tokens */
	uint64_t last_usec;
};

/* Sets the rate (0 = unlimited); the bucket keeps its tokens up to the new size. */
void cg_bwe_budget_set_rate(struct cg_bwe_budget *b, uint64_t rate_bps);

/*
 * Takes size bytes at now_usec. False when they do not fit (the frame is skipped). With
 * may_borrow (a keyframe, which may be larger than a second of a slow viewer's budget)
 * it succeeds whenever the bucket is not in debt, and may leave it in debt.
 */
bool cg_bwe_budget_take(struct cg_bwe_budget *b, size_t size, bool may_borrow, uint64_t now_usec);

struct cg_bwe_policy {
	uint32_t min_kbps, max_kbps;
	uint32_t current_kbps;
	uint64_t last_usec; /* last decision, 0 never */
};

/* Sets the floor, ceiling and starting bitrate (clamped into [min, max]). */
void cg_bwe_policy_init(struct cg_bwe_policy *p, uint32_t min_kbps, uint32_t max_kbps,
			uint32_t start_kbps);

/*
 * Decides the encoder bitrate from n viewer estimates (kbit/s, 0 = unknown) at now_usec.
 * Returns the new bitrate (also in p->current_kbps): lower at once, higher by at most
 * CG_BWE_INCREASE_PCT per CG_BWE_INTERVAL_MS. *ret_below_floor (may be NULL) gets the number of
 * viewers whose estimate is under the floor.
 */
uint32_t cg_bwe_policy_decide(struct cg_bwe_policy *p, const uint32_t *estimates_kbps, unsigned n,
			      uint64_t now_usec, unsigned *ret_below_floor);
