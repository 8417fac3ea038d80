/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The block code burned into test pictures so that anything downstream (the browser page,
 * tests, an ffmpeg decode) can read back when and which frame was captured.
 *
 * Format (other tools read it, so it is fixed): cells of 16x16 luma pixels, laid left to
 * right from the top-left corner, wrapping to the next 16-pixel row at the picture's width
 * (cells per row = width / 16). Cell 0 is white (luma 235), cell 1 black (luma 16). Cells
 * 2–49 hold the capture time in ms since the Unix epoch (CLOCK_REALTIME) as 48 bits, most
 * significant first, white = 1. Cells 50–65 hold a 16-bit frame counter the same way.
 * Chroma under the code should be neutral (128) so the cells survive encoding.
 *
 * Pure functions on caller-owned memory: any thread.
 */
#pragma once

#include <stdint.h>

#define CG_BLOCKCODE_CELL    16u
#define CG_BLOCKCODE_CELLS   66u
#define CG_BLOCKCODE_WHITE   235u
#define CG_BLOCKCODE_BLACK   16u
#define CG_BLOCKCODE_MS_MASK ((UINT64_C(1) << 48) - 1)

/*
 * Extent of the code in a width x height picture: the code covers luma columns
 * [0, *ret_width) and rows [0, *ret_height) (whole cell rows, so a little more than the 66
 * cells on the last row). Returns 0, or -EINVAL if the picture cannot hold the code
 * (width < 16 or fewer than 66 cells); outputs untouched on error.
 */
int cg_blockcode_extent(uint32_t width, uint32_t height, uint32_t *ret_width, uint32_t *ret_height);

/*
 * Draws the code into the luma plane luma (caller-owned, stride bytes per line, at least
 * width x height). wall_ms is truncated to 48 bits. Chroma is the caller's business (make it
 * 128 under cg_blockcode_extent()). Returns 0 or -EINVAL (picture too small, NULL luma,
 * stride < width); nothing is written on error.
 */
int cg_blockcode_write(uint8_t *luma, uint32_t stride, uint32_t width, uint32_t height,
		       uint64_t wall_ms, uint16_t counter);

/*
 * Reads the code from a luma plane (borrowed). Each cell is sampled at its centre (a 4x4
 * average) and thresholded halfway between cell 0 and cell 1. Returns 0 and fills
 * *ret_ms / *ret_counter (either may be NULL); -EINVAL if the picture is too small;
 * -EBADMSG if the reference cells are not clearly white and black or a data cell is too
 * close to the threshold to trust. Outputs are written only on success.
 */
int cg_blockcode_read(const uint8_t *luma, uint32_t stride, uint32_t width, uint32_t height,
		      uint64_t *ret_ms, uint16_t *ret_counter);
