/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Generic NACKs (RFC 4585) from a viewer, served as RFC 4588 RTX the way a session does:
 * parse the compound RTCP, find each lost sequence number in a history of units the input
 * shapes, take a budget token and rebuild the packet. Input: u8 units, then u16 first
 * sequence number + u8 packets per unit, then compound RTCP.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/rtx.h"

#define MAX_UNITS 255

struct unit {
	uint16_t first_seq, count;
};

static struct unit units[MAX_UNITS];
static struct cg_rtx_history history;

/* The newest pushed unit that still fits in the history and holds seq, or NULL. */
static const struct unit *model_find(unsigned pushed, uint16_t seq)
{
	unsigned kept = pushed < CG_RTX_HISTORY_UNITS ? pushed : CG_RTX_HISTORY_UNITS;

	for (unsigned i = pushed; i-- > pushed - kept;)
		if ((uint16_t)(seq - units[i].first_seq) < units[i].count)
			return &units[i];
	return NULL;
}

/* What a session sends for one NACKed packet: RTX carrying the OSN and the payload. */
static void check_rtx(uint16_t osn, unsigned index)
{
	uint8_t payload[64], out[256];
	struct cg_rtp_header h = { .payload_type = 97,
				   .sequence = (uint16_t)(osn ^ 0x5555),
				   .timestamp = 90000,
				   .ssrc = 0x1234 };
	struct cg_rtp_packet p;
	int n;

	memset(payload, (int)index, sizeof(payload));
	n = cg_rtx_build(out, sizeof(out), &h, osn, payload, sizeof(payload));
	if (n < 0 || cg_rtp_parse(out, (size_t)n, &p) < 0 || p.payload_len != 2 + sizeof(payload))
		abort();
	if ((p.payload[0] << 8 | p.payload[1]) != osn || memcmp(p.payload + 2, payload, 64) != 0)
		abort();
	if (cg_rtx_build(out, (size_t)n - 1, &h, osn, payload, sizeof(payload)) >= 0)
		abort();
}

static void serve(const struct cg_rtcp_info *info, unsigned pushed)
{
	struct cg_rtx_budget budget;
	unsigned served = 0;

	cg_rtx_budget_init(&budget, 200, 50);
	for (unsigned i = 0; i < info->n_nacks; i++) {
		uint16_t seq = info->nacks[i];
		unsigned index = ~0u;
		const struct unit *u = cg_rtx_history_find(&history, seq, &index);

		if (u != model_find(pushed, seq))
			abort();
		if (!u)
			continue;
		if (index >= u->count || (uint16_t)(u->first_seq + index) != seq)
			abort();
		if (!cg_rtx_budget_take(&budget, 1000 * (uint64_t)i))
			continue;
		served++;
		check_rtx(seq, index);
	}
	/* All NACKs of one packet arrive at once: never more than the burst plus refill. */
	if (served > 50 + info->n_nacks / 5 + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_rtcp_info info;
	unsigned n_units, pushed = 0;

	if (size < 1)
		return 0;
	n_units = data[0];
	data++;
	size--;
	cg_rtx_history_init(&history);
	for (; pushed < n_units && size >= 3; pushed++, data += 3, size -= 3) {
		units[pushed] = (struct unit){ .first_seq = (uint16_t)(data[0] << 8 | data[1]),
					       .count = (uint16_t)(data[2] + 1) };
		/* The caller releases what is evicted: it must be the oldest kept unit. */
		void *evicted = cg_rtx_history_push(&history, &units[pushed],
						    units[pushed].first_seq, units[pushed].count);
		if (evicted !=
		    (pushed >= CG_RTX_HISTORY_UNITS ? &units[pushed - CG_RTX_HISTORY_UNITS] : NULL))
			abort();
	}
	if (cg_rtcp_parse(data, size, &info) == 0)
		serve(&info, pushed);
	return 0;
}
