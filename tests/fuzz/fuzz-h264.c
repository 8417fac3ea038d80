/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Annex-B splitting, payload plans and the depacketizer. The first input byte picks the
 * payload size; the rest is the access unit. Invariants: every payload fits, the marker is
 * on the last one only, and depacketizing the plan gives back the AU's NALs (AUDs dropped)
 * byte for byte. Arbitrary payloads are also fed to the depacketizer directly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/h264.h"

#define MAX_AU 65536

static uint8_t arena[MAX_AU * 2 + 1024];
static struct cg_h264_payload items[MAX_AU];
static struct cg_h264_nal nals[MAX_AU];
static uint8_t expect[MAX_AU * 2], out[MAX_AU * 2];

static size_t normalize(int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		if (nals[i].type == CG_H264_NAL_AUD)
			continue;
		memcpy(expect + len, "\0\0\0\1", 4);
		memcpy(expect + len + 4, nals[i].data, nals[i].len);
		len += 4 + nals[i].len;
	}
	return len;
}

static void check_plan(const struct cg_h264_plan *plan, size_t max_payload, size_t expect_len)
{
	struct cg_h264_depacketizer d = { .buf = out, .cap = sizeof(out) };
	int r = 0;

	for (size_t i = 0; i < plan->n_items; i++) {
		const struct cg_h264_payload *it = &plan->items[i];

		if (it->len == 0 || it->len > max_payload ||
		    it->marker != (i == plan->n_items - 1) ||
		    it->offset + (size_t)it->len > plan->arena_len)
			abort();
		r = cg_h264_depacketize(&d, plan->arena + it->offset, it->len, it->marker);
		if (r < 0)
			abort();
	}
	if (r != 1 || d.len != expect_len || memcmp(out, expect, expect_len) != 0)
		abort();
}

static void fuzz_depacketizer(const uint8_t *data, size_t size)
{
	struct cg_h264_depacketizer d = { .buf = out, .cap = 4096 };

	/* Chop the input into payloads: each one is prefixed with a length byte. */
	while (size > 1) {
		size_t n = data[0] % 64 + 1;
		bool marker = data[0] & 0x80;

		if (n > size - 1)
			n = size - 1;
		if (cg_h264_depacketize(&d, data + 1, n, marker) == 1)
			d.len = 0;
		if (d.len > d.cap)
			abort();
		data += 1 + n;
		size -= 1 + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_h264_plan plan = { .arena = arena, .items = items };
	size_t max_payload;
	int n, r;

	if (size < 2 || size > MAX_AU)
		return 0;
	max_payload = 64 + (size_t)data[0] * 6;
	fuzz_depacketizer(data + 1, size - 1);
	data++;
	size--;
	/* The published bounds must always suffice: -ENOSPC here is a bug. */
	plan.arena_cap = cg_h264_plan_arena_bound(size, max_payload);
	plan.items_cap = cg_h264_plan_items_bound(size, max_payload);
	if (plan.arena_cap > sizeof(arena) || plan.items_cap > MAX_AU)
		abort();
	n = cg_h264_split_annexb(data, size, nals, MAX_AU);
	r = cg_h264_plan_build(&plan, data, size, max_payload);
	if (r == -ENOSPC)
		abort();
	if (r < 0)
		return 0;
	if (n <= 0)
		abort();
	check_plan(&plan, max_payload, normalize(n));
	return 0;
}
