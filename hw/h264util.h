/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * H.264 helpers the hardware backends share: the level for a stream (H.264 Table A-1), the
 * profile-level bytes of an SPS, and a walk over the NALs of Annex-B data (hw/au_writer.h
 * builds access units on it). Pure functions; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_H264_NAL_SLICE  1
#define CG_H264_NAL_IDR	   5
#define CG_H264_NAL_SPS	   7
#define CG_H264_NAL_PPS	   8
#define CG_H264_NAL_AUD	   9
#define CG_H264_NAL_FILLER 12

/* level_idc (30 for 3.0, 31 for 3.1, …) of the lowest level that fits, or -ENOTSUP. */
int cg_h264util_level(uint32_t width, uint32_t height, uint32_t fps, uint32_t kbps);

/*
 * profile_idc, the constraint_set flags byte and level_idc of an SPS NAL (header byte
 * included): the three bytes after the header, which are exactly RFC 6184 §8.1
 * profile-level-id. Fills ret[3]; returns 0, or -EBADMSG when it is no SPS, is too short,
 * or says profile_idc or level_idc 0 (no such profile or level). Any thread.
 */
int cg_h264util_sps_profile(const uint8_t *sps, size_t len, uint8_t ret[3]);

/*
 * Walks Annex-B data NAL by NAL. Start codes of 3 or 4 bytes both count; the zero bytes
 * that pad a NAL's end belong to the stream, not the NAL (H.264 B.1.1), and are left out;
 * empty NALs (two start codes in a row) are skipped. The iterator borrows src. Pure; any
 * thread.
 */
struct cg_h264util_iter {
	const uint8_t *src;
	size_t len;
	size_t at; /* offset of the next start code, len at the end */
	size_t sc; /* its length */
};

/* Returns 0, or -EBADMSG when src (len > 0) does not begin with a start code. */
int cg_h264util_iter_init(struct cg_h264util_iter *it, const uint8_t *src, size_t len);

/*
 * The next NAL (header byte first, start code left out) in *nal and *n, and the length of
 * the start code it came behind in *sc (3 or 4; NULL: not wanted). Returns true, or false
 * at the end.
 */
bool cg_h264util_iter_next(struct cg_h264util_iter *it, const uint8_t **nal, size_t *n, size_t *sc);
