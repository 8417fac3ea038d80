/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/rtp.h"
#include "proto/rtx.h"

void cg_rtx_history_init(struct cg_rtx_history *h)
{
	memset(h, 0, sizeof(*h));
}

void *cg_rtx_history_push(struct cg_rtx_history *h, void *unit, uint16_t first_seq, uint16_t count)
{
	void *evicted = NULL;

	if (h->len == CG_RTX_HISTORY_UNITS)
		evicted = cg_rtx_history_pop(h);
	h->e[(h->head + h->len) % CG_RTX_HISTORY_UNITS] =
		(struct cg_rtx_entry){ .unit = unit, .first_seq = first_seq, .count = count };
	h->len++;
	return evicted;
}

void *cg_rtx_history_pop(struct cg_rtx_history *h)
{
	void *u;

	if (h->len == 0)
		return NULL;
	u = h->e[h->head].unit;
	h->e[h->head] = (struct cg_rtx_entry){ 0 };
	h->head = (h->head + 1) % CG_RTX_HISTORY_UNITS;
	h->len--;
	return u;
}

void *cg_rtx_history_find(const struct cg_rtx_history *h, uint16_t seq, unsigned *ret_index)
{
	/* Newest first: a NACK is almost always about the last few frames. Sequence numbers
	 * compare modulo 2^16 (RFC 3550 §A.1). */
	for (unsigned i = h->len; i-- > 0;) {
		const struct cg_rtx_entry *e = &h->e[(h->head + i) % CG_RTX_HISTORY_UNITS];
		uint16_t off = (uint16_t)(seq - e->first_seq);

		if (off < e->count) {
			*ret_index = off;
			return e->unit;
		}
	}
	return NULL;
}

int cg_rtx_build(uint8_t *buf, size_t cap, const struct cg_rtp_header *h, uint16_t osn,
		 const uint8_t *payload, size_t len)
{
	int n = cg_rtp_write_header(buf, cap, h);

	if (n < 0)
		return n;
	if ((size_t)n + 2 + len > cap)
		return -ENOSPC;
	/* RFC 4588 §4: the OSN comes first in the RTX payload, then the original payload. */
	cg_bytes_put_u16(buf + n, osn);
	memcpy(buf + n + 2, payload, len);
	return n + 2 + (int)len;
}

void cg_rtx_budget_init(struct cg_rtx_budget *b, uint32_t rate_per_s, uint32_t burst)
{
	*b = (struct cg_rtx_budget){ .rate_per_s = rate_per_s,
				     .burst = burst,
				     .tokens_x1000 = (uint64_t)burst * 1000 };
}

bool cg_rtx_budget_take(struct cg_rtx_budget *b, uint64_t now_usec)
{
	uint64_t cap = (uint64_t)b->burst * 1000;

	if (b->started && now_usec > b->last_usec) {
		/* rate tokens/s = rate/1000 milli-tokens per ms = rate milli-tokens per ms. */
		uint64_t add = (now_usec - b->last_usec) * b->rate_per_s / 1000;

		b->tokens_x1000 = b->tokens_x1000 + add > cap ? cap : b->tokens_x1000 + add;
	}
	if (!b->started || now_usec > b->last_usec)
		b->last_usec = now_usec;
	b->started = true;
	if (b->tokens_x1000 < 1000)
		return false;
	b->tokens_x1000 -= 1000;
	return true;
}
