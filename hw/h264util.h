/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * H.264 helpers the hardware backends share: the level for a stream (H.264 Table A-1),
 * and copying a bitstream into an access unit with 4-byte start codes (the cg_au contract)
 * while noting what it carries. Pure functions; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_H264_NAL_SLICE 1
#define CG_H264_NAL_IDR	  5
#define CG_H264_NAL_SPS	  7
#define CG_H264_NAL_PPS	  8

/* level_idc (30 for 3.0, 31 for 3.1, …) of the lowest level that fits, or -ENOTSUP. */
int cg_h264util_level(uint32_t width, uint32_t height, uint32_t fps, uint32_t kbps);

/*
 * profile_idc, the constraint_set flags byte and level_idc of an SPS NAL (header byte
 * included): the three bytes after the header, which are exactly RFC 6184 §8.1
 * profile-level-id. Fills ret[3]; returns 0, or -EBADMSG when it is no SPS, is too short,
 * or says profile_idc or level_idc 0 (no such profile or level). Any thread.
 */
int cg_h264util_sps_profile(const uint8_t *sps, size_t len, uint8_t ret[3]);

struct cg_h264util_info {
	bool sps, pps, idr, slice; /* NAL types present */
	const uint8_t *sps_nal;	   /* the last SPS/PPS, pointing into the source */
	size_t sps_len;
	const uint8_t *pps_nal;
	size_t pps_len;
};

/*
 * Scans Annex-B data (3- or 4-byte start codes) and reports the NAL types in it. If dst is
 * not NULL, also writes every NAL there behind a 4-byte start code, up to dst_cap bytes.
 * Returns the bytes written (or that would be written), or -EINVAL when src does not
 * start with a start code.
 */
long cg_h264util_annexb(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap,
			struct cg_h264util_info *info);
