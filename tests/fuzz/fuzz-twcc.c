/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Transport-wide-cc feedback (RTPFB FMT 15) from a viewer, against a sender history shaped
 * by the input. Input: u16 first sequence number, u16 packets sent, then compound RTCP.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/twcc.h"

static struct cg_twcc twcc, before, history;

static void check_report(const struct cg_twcc_report *r)
{
	if (r->received > r->reported || r->recv_span_us < 0 || r->send_span_ms < 0)
		abort();
	/* Sizes are clamped to 16 bits when remembered. */
	if (r->bytes_received > (uint64_t)r->received * 0xffff)
		abort();
}

/* A single packet parse that fails must leave the history and the totals as they were. */
static void check_single(const uint8_t *buf, size_t len)
{
	struct cg_twcc_report rep;
	int r;

	memcpy(&before, &twcc, sizeof(twcc));
	r = cg_twcc_parse_feedback(&twcc, buf, len, &rep);
	if (r < 0 && memcmp(&before, &twcc, sizeof(twcc)) != 0)
		abort();
	if (r == 0) {
		check_report(&rep);
		if (rep.reported > 16384 || twcc.reported - before.reported != rep.reported)
			abort();
	} else if (r != -ENOMSG && r != -EBADMSG) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_twcc_report rep;
	unsigned sent;
	int n;

	if (size < 4)
		return 0;
	cg_twcc_init(&twcc);
	twcc.next_seq = (uint16_t)(data[0] << 8 | data[1]);
	sent = (unsigned)(data[2] << 8 | data[3]) % (2 * CG_TWCC_HISTORY);
	for (unsigned i = 0; i < sent; i++)
		cg_twcc_on_send(&twcc, 1000 + 20 * (uint64_t)i, 200 + i % 1100);
	memcpy(&history, &twcc, sizeof(twcc));
	data += 4;
	size -= 4;

	check_single(data, size);
	memcpy(&twcc, &history, sizeof(twcc));
	n = cg_twcc_read_compound(&twcc, data, size, &rep);
	if (n > 0) {
		check_report(&rep);
		if (twcc.received > twcc.reported)
			abort();
	} else if (n < 0 && n != -EBADMSG) {
		abort();
	}
	return 0;
}
