/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "hw/fake/blockcode.h"
#include "util/macros.h"

#define BLOCKCODE_MS_BITS	     48u
#define BLOCKCODE_COUNTER_BITS	     16u
#define BLOCKCODE_FIRST_MS_CELL	     2u
#define BLOCKCODE_FIRST_COUNTER_CELL (BLOCKCODE_FIRST_MS_CELL + BLOCKCODE_MS_BITS)
/* Side of the square averaged at each cell's centre: tolerant of ringing at cell edges. */
#define BLOCKCODE_SAMPLE 4u

/*
 * Encoding noise is a few luma steps on flat 16x16 blocks; the nominal white/black gap is
 * 219. Half of that still leaves a wide margin, yet random or unrelated pictures almost never
 * produce two such reference cells plus 64 unambiguous data cells.
 */
#define BLOCKCODE_MIN_CONTRAST 100
/* A data cell must sit at least a quarter of the contrast away from the threshold. */
#define BLOCKCODE_AMBIGUITY_DIV 4

static bool blockcode_fits(uint32_t width, uint32_t height)
{
	uint32_t per_row = width / CG_BLOCKCODE_CELL;

	if (per_row == 0)
		return false;
	/* 64-bit product: per_row * rows cannot overflow for any uint32_t size. */
	return (uint64_t)per_row * (height / CG_BLOCKCODE_CELL) >= CG_BLOCKCODE_CELLS;
}

int cg_blockcode_extent(uint32_t width, uint32_t height, uint32_t *ret_width, uint32_t *ret_height)
{
	uint32_t per_row, rows;

	if (!blockcode_fits(width, height))
		return -EINVAL;
	per_row = CG_MIN(width / CG_BLOCKCODE_CELL, CG_BLOCKCODE_CELLS);
	rows = (CG_BLOCKCODE_CELLS + per_row - 1) / per_row;
	if (ret_width)
		*ret_width = per_row * CG_BLOCKCODE_CELL;
	if (ret_height)
		*ret_height = rows * CG_BLOCKCODE_CELL;
	return 0;
}

/* Top-left pixel offset of a cell. */
static size_t blockcode_cell_offset(unsigned cell, uint32_t stride, uint32_t width)
{
	uint32_t per_row = width / CG_BLOCKCODE_CELL;
	size_t x = (size_t)(cell % per_row) * CG_BLOCKCODE_CELL;
	size_t y = (size_t)(cell / per_row) * CG_BLOCKCODE_CELL;

	return y * stride + x;
}

static void blockcode_fill(uint8_t *luma, uint32_t stride, uint32_t width, unsigned cell,
			   bool white)
{
	uint8_t *p = luma + blockcode_cell_offset(cell, stride, width);
	int v = white ? CG_BLOCKCODE_WHITE : CG_BLOCKCODE_BLACK;

	for (unsigned y = 0; y < CG_BLOCKCODE_CELL; y++, p += stride)
		memset(p, v, CG_BLOCKCODE_CELL);
}

int cg_blockcode_write(uint8_t *luma, uint32_t stride, uint32_t width, uint32_t height,
		       uint64_t wall_ms, uint16_t counter)
{
	uint64_t bits;

	if (!luma || stride < width || !blockcode_fits(width, height))
		return -EINVAL;

	/* 64 data bits in cell order: 48 bits of ms, then the counter, MSB first. */
	bits = ((wall_ms & CG_BLOCKCODE_MS_MASK) << BLOCKCODE_COUNTER_BITS) | counter;
	blockcode_fill(luma, stride, width, 0, true);
	blockcode_fill(luma, stride, width, 1, false);
	for (unsigned i = 0; i < BLOCKCODE_MS_BITS + BLOCKCODE_COUNTER_BITS; i++)
		blockcode_fill(luma, stride, width, BLOCKCODE_FIRST_MS_CELL + i,
			       (bits >> (63 - i)) & 1);
	return 0;
}

static int blockcode_sample(const uint8_t *luma, uint32_t stride, uint32_t width, unsigned cell)
{
	const unsigned start = (CG_BLOCKCODE_CELL - BLOCKCODE_SAMPLE) / 2;
	const uint8_t *p = luma + blockcode_cell_offset(cell, stride, width);
	unsigned sum = 0;

	p += (size_t)start * stride + start;
	for (unsigned y = 0; y < BLOCKCODE_SAMPLE; y++, p += stride)
		for (unsigned x = 0; x < BLOCKCODE_SAMPLE; x++)
			sum += p[x];
	return (int)(sum / (BLOCKCODE_SAMPLE * BLOCKCODE_SAMPLE));
}

int cg_blockcode_read(const uint8_t *luma, uint32_t stride, uint32_t width, uint32_t height,
		      uint64_t *ret_ms, uint16_t *ret_counter)
{
	int white, black, threshold, margin;
	uint64_t bits = 0;

	if (!luma || stride < width || !blockcode_fits(width, height))
		return -EINVAL;

	white = blockcode_sample(luma, stride, width, 0);
	black = blockcode_sample(luma, stride, width, 1);
	if (white - black < BLOCKCODE_MIN_CONTRAST)
		return -EBADMSG;
	threshold = (white + black) / 2;
	margin = (white - black) / BLOCKCODE_AMBIGUITY_DIV;

	for (unsigned i = 0; i < BLOCKCODE_MS_BITS + BLOCKCODE_COUNTER_BITS; i++) {
		int v = blockcode_sample(luma, stride, width, BLOCKCODE_FIRST_MS_CELL + i);

		if (v > threshold - margin && v < threshold + margin)
			return -EBADMSG;
		bits = (bits << 1) | (v >= threshold);
	}

	if (ret_ms)
		*ret_ms = bits >> BLOCKCODE_COUNTER_BITS;
	if (ret_counter)
		*ret_counter = (uint16_t)bits;
	return 0;
}
