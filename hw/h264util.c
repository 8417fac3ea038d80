/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "hw/h264util.h"

struct h264_level {
	int idc;
	uint32_t max_fs;   /* macroblocks per frame */
	uint32_t max_mbps; /* macroblocks per second */
	uint32_t max_kbps; /* Baseline/Main MaxBR, kbit/s */
};

/* H.264 (08/2021) Table A-1; 1b is left out (browsers parse it poorly). */
static const struct h264_level h264_levels[] = {
	{ 10, 99, 1485, 64 },	       { 11, 396, 3000, 192 },
	{ 12, 396, 6000, 384 },	       { 13, 396, 11880, 768 },
	{ 20, 396, 11880, 2000 },      { 21, 792, 19800, 4000 },
	{ 22, 1620, 20250, 4000 },     { 30, 1620, 40500, 10000 },
	{ 31, 3600, 108000, 14000 },   { 32, 5120, 216000, 20000 },
	{ 40, 8192, 245760, 20000 },   { 41, 8192, 245760, 50000 },
	{ 42, 8704, 522240, 50000 },   { 50, 22080, 589824, 135000 },
	{ 51, 36864, 983040, 240000 }, { 52, 36864, 2073600, 240000 },
};

int cg_h264util_level(uint32_t width, uint32_t height, uint32_t fps, uint32_t kbps)
{
	uint64_t mbw = (width + 15) / 16, mbh = (height + 15) / 16, fs = mbw * mbh;

	for (size_t i = 0; i < sizeof(h264_levels) / sizeof(h264_levels[0]); i++) {
		const struct h264_level *l = &h264_levels[i];

		/* A.3.1: neither dimension may exceed sqrt(8 * MaxFS) macroblocks. */
		if (fs > l->max_fs || mbw * mbw > 8ull * l->max_fs || mbh * mbh > 8ull * l->max_fs)
			continue;
		if (fs * fps > l->max_mbps || kbps > l->max_kbps)
			continue;
		return l->idc;
	}
	return -ENOTSUP;
}

int cg_h264util_sps_profile(const uint8_t *sps, size_t len, uint8_t ret[3])
{
	/* forbidden_zero_bit set, or another NAL type */
	if (!sps || len < 4 || (sps[0] & 0x9f) != CG_H264_NAL_SPS)
		return -EBADMSG;
	/* An emulation_prevention_three_byte follows two zero bytes; with profile_idc and
	 * level_idc both nonzero, as every real profile and level is, these three bytes hold
	 * no such pair, so they are the RBSP's as they stand. */
	if (sps[1] == 0 || sps[3] == 0)
		return -EBADMSG;
	memcpy(ret, sps + 1, 3);
	return 0;
}

/* Offset of the next start code at or after i, and its length in *sc; len if none. */
static size_t h264_next_sc(const uint8_t *p, size_t len, size_t i, size_t *sc)
{
	for (; i + 3 <= len; i++) {
		if (p[i] || p[i + 1])
			continue;
		if (p[i + 2] == 1) {
			*sc = 3;
			return i;
		}
		if (i + 4 <= len && !p[i + 2] && p[i + 3] == 1) {
			*sc = 4;
			return i;
		}
	}
	*sc = 0;
	return len;
}

int cg_h264util_iter_init(struct cg_h264util_iter *it, const uint8_t *src, size_t len)
{
	*it = (struct cg_h264util_iter){ .src = src, .len = len };
	if (!len)
		return 0;
	if (!src || h264_next_sc(src, len, 0, &it->sc) != 0 || !it->sc) {
		it->at = len;
		return -EBADMSG;
	}
	return 0;
}

bool cg_h264util_iter_next(struct cg_h264util_iter *it, const uint8_t **nal, size_t *n, size_t *sc)
{
	while (it->at < it->len) {
		size_t start = it->at + it->sc, this_sc = it->sc, len;

		it->at = h264_next_sc(it->src, it->len, start, &it->sc);
		len = it->at - start;
		/* Trailing zero bytes belong to the stream, not the NAL (H.264 B.1.1). */
		while (len && it->src[start + len - 1] == 0)
			len--;
		if (!len)
			continue;
		*nal = it->src + start;
		*n = len;
		if (sc)
			*sc = this_sc;
		return true;
	}
	return false;
}
