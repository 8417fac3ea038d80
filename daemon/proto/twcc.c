/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/twcc.h"

#define TWCC_RTPFB	  205
#define TWCC_FMT	  15
#define TWCC_HEADER	  20	/* common header, two SSRCs, base, count, reference time */
#define TWCC_MAX_STATUSES 16384 /* far more than one feedback interval ever covers */
#define TWCC_DELTA_US	  250	/* receive deltas are multiples of 250 µs (§3.1.5) */

void cg_twcc_init(struct cg_twcc *t)
{
	memset(t, 0, sizeof(*t));
}

uint16_t cg_twcc_on_send(struct cg_twcc *t, uint64_t now_ms, size_t size)
{
	uint16_t seq = t->next_seq++;
	struct cg_twcc_sent *s = &t->sent[seq % CG_TWCC_HISTORY];

	*s = (struct cg_twcc_sent){ .send_ms = (uint32_t)now_ms,
				    .size = (uint16_t)(size > 0xffff ? 0xffff : size),
				    .seq = seq };
	return seq;
}

/* Walks the packet status chunks (§3.1.3, §3.1.4) one status symbol at a time. */
struct twcc_chunks {
	struct cg_bytes_reader r;
	uint16_t chunk;
	unsigned pos, left;
};

static int twcc_next_symbol(struct twcc_chunks *c)
{
	unsigned sym;

	if (c->left == 0) {
		c->chunk = cg_bytes_read_u16(&c->r);
		if (!cg_bytes_reader_ok(&c->r))
			return -EBADMSG;
		c->pos = 0;
		if (!(c->chunk & 0x8000))
			c->left = c->chunk & 0x1fff; /* run length chunk */
		else
			c->left = c->chunk & 0x4000 ? 7 : 14; /* status vector, 2- or 1-bit */
		if (c->left == 0)
			return -EBADMSG;
	}
	if (!(c->chunk & 0x8000))
		sym = (c->chunk >> 13) & 3;
	else if (!(c->chunk & 0x4000))
		sym = (c->chunk >> (13 - c->pos)) & 1;
	else
		sym = (c->chunk >> (12 - 2 * c->pos)) & 3;
	c->pos++;
	c->left--;
	return (int)sym;
}

/* First and last arrival, earliest and latest send time among received packets. */
struct twcc_span {
	int64_t arr_min, arr_max;
	uint32_t send0;		    /* send time of the first received packet */
	int64_t send_min, send_max; /* relative to send0: send times wrap at 2^32 ms */
};

/* Matches seq against the history; records it in rep when we still remember it. */
static void twcc_account(const struct cg_twcc *t, uint16_t seq, bool received, int64_t arrival_us,
			 struct cg_twcc_report *rep, struct twcc_span *sp)
{
	const struct cg_twcc_sent *s = &t->sent[seq % CG_TWCC_HISTORY];
	int64_t rel;

	if (s->seq != seq || s->size == 0 || (uint16_t)(t->next_seq - seq) > CG_TWCC_HISTORY)
		return;
	rep->reported++;
	if (!received)
		return;
	if (rep->received++ == 0) {
		*sp = (struct twcc_span){ .arr_min = arrival_us,
					  .arr_max = arrival_us,
					  .send0 = s->send_ms };
	}
	rep->bytes_received += s->size;
	rel = (int32_t)(s->send_ms - sp->send0);
	sp->arr_min = arrival_us < sp->arr_min ? arrival_us : sp->arr_min;
	sp->arr_max = arrival_us > sp->arr_max ? arrival_us : sp->arr_max;
	sp->send_min = rel < sp->send_min ? rel : sp->send_min;
	sp->send_max = rel > sp->send_max ? rel : sp->send_max;
}

/* Second pass: statuses and their receive deltas (§3.1.5) together. */
static int twcc_read_statuses(const struct cg_twcc *t, struct cg_bytes_reader chunks,
			      struct cg_bytes_reader *deltas, uint16_t base, unsigned count,
			      int64_t ref_us, struct cg_twcc_report *rep)
{
	struct twcc_chunks c = { .r = chunks };
	struct twcc_span sp = { 0 };
	int64_t arrival = ref_us;

	for (unsigned i = 0; i < count; i++) {
		int sym = twcc_next_symbol(&c);

		if (sym < 0 || sym == 3)
			return -EBADMSG;
		if (sym == 1)
			arrival += (int64_t)cg_bytes_read_u8(deltas) * TWCC_DELTA_US;
		else if (sym == 2)
			arrival += (int64_t)(int16_t)cg_bytes_read_u16(deltas) * TWCC_DELTA_US;
		if (!cg_bytes_reader_ok(deltas))
			return -EBADMSG;
		twcc_account(t, (uint16_t)(base + i), sym != 0, arrival, rep, &sp);
	}
	rep->recv_span_us = sp.arr_max - sp.arr_min;
	rep->send_span_ms = sp.send_max - sp.send_min;
	return 0;
}

int cg_twcc_parse_feedback(struct cg_twcc *t, const uint8_t *buf, size_t len,
			   struct cg_twcc_report *ret)
{
	struct cg_bytes_reader r, chunks, deltas;
	struct twcc_chunks first;
	struct cg_twcc_report rep = { 0 };
	uint16_t base, count;
	uint32_t ref;

	if (len < 2 || (buf[0] & 0x1f) != TWCC_FMT || buf[1] != TWCC_RTPFB)
		return -ENOMSG;
	if (len < TWCC_HEADER || (buf[0] >> 6) != 2)
		return -EBADMSG;
	cg_bytes_reader_init(&r, buf + 12, len - 12);
	base = cg_bytes_read_u16(&r);
	count = cg_bytes_read_u16(&r);
	ref = cg_bytes_read_u24(&r);
	cg_bytes_skip(&r, 1); /* feedback packet count */
	if (count == 0 || count > TWCC_MAX_STATUSES)
		return -EBADMSG;
	/* First pass: where the chunks end and the deltas begin. */
	chunks = r;
	first = (struct twcc_chunks){ .r = r };
	for (unsigned i = 0; i < count; i++)
		if (twcc_next_symbol(&first) < 0)
			return -EBADMSG;
	deltas = first.r;
	/* The reference time is a signed 24-bit count of 64 ms (§3.1). */
	int64_t ref_us = (int64_t)((int32_t)(ref << 8) >> 8) * 64000;
	if (twcc_read_statuses(t, chunks, &deltas, base, count, ref_us, &rep) < 0)
		return -EBADMSG;
	t->reported += rep.reported;
	t->received += rep.received;
	*ret = rep;
	return 0;
}

static void twcc_sum(struct cg_twcc_report *sum, const struct cg_twcc_report *r)
{
	sum->reported += r->reported;
	sum->received += r->received;
	sum->bytes_received += r->bytes_received;
	sum->recv_span_us += r->recv_span_us;
	sum->send_span_ms += r->send_span_ms;
}

int cg_twcc_read_compound(struct cg_twcc *t, const uint8_t *buf, size_t len,
			  struct cg_twcc_report *ret)
{
	struct cg_twcc_report sum = { 0 }, one;
	size_t off = 0;
	int n = 0;

	while (off + 4 <= len) {
		size_t plen = ((size_t)buf[off + 2] << 8 | buf[off + 3]) * 4 + 4;
		int r;

		if ((buf[off] >> 6) != 2 || plen > len - off)
			return -EBADMSG;
		r = cg_twcc_parse_feedback(t, buf + off, plen, &one);
		if (r == 0) {
			twcc_sum(&sum, &one);
			n++;
		} else if (r != -ENOMSG) {
			return r;
		}
		off += plen;
	}
	*ret = sum;
	return n;
}
