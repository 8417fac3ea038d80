/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * H.264 Annex-B access units → RTP payloads (RFC 6184, packetization-mode 1), built once per
 * access unit and shared by every viewer ("packetize once, fan out many"). Also the small
 * SPS facts the SDP answer needs. Pure. Any thread; a plan is owned by its builder until it
 * is published, then read-only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cg_h264_nal_type {
	CG_H264_NAL_SLICE = 1,
	CG_H264_NAL_IDR = 5,
	CG_H264_NAL_SEI = 6,
	CG_H264_NAL_SPS = 7,
	CG_H264_NAL_PPS = 8,
	CG_H264_NAL_AUD = 9,
	CG_H264_NAL_STAP_A = 24,
	CG_H264_NAL_FU_A = 28,
};

/* A NAL unit inside an Annex-B buffer (borrowed; start code excluded). */
struct cg_h264_nal {
	const uint8_t *data;
	size_t len;
	uint8_t type; /* nal_unit_type, low 5 bits of data[0] */
};

/*
 * Splits an Annex-B buffer at 3- and 4-byte start codes. Trailing zero bytes of a NAL
 * (trailing_zero_8bits) are not part of it. Empty NALs are skipped. Returns the number of
 * NALs written to nals (≤ max_nals), -ENOSPC when there are more than max_nals, or
 * -EBADMSG when buf contains no NAL unit.
 */
int cg_h264_split_annexb(const uint8_t *buf, size_t len, struct cg_h264_nal *nals, size_t max_nals);

/* One RTP payload of the plan: bytes [offset, offset+len) of the plan's arena. */
struct cg_h264_payload {
	uint32_t offset;
	uint16_t len;
	bool marker; /* last packet of the access unit */
};

/*
 * A payload plan: all RTP payloads of one access unit, laid out contiguously in a caller-
 * provided arena. The caller owns arena and items and sizes them; cg_h264_plan_build
 * fills them.
 */
struct cg_h264_plan {
	uint8_t *arena;
	size_t arena_cap;
	size_t arena_len;
	struct cg_h264_payload *items;
	size_t items_cap;
	size_t n_items;
	bool keyframe;	  /* the AU contains an IDR slice */
	bool has_sps_pps; /* the AU carries SPS and PPS */
};

/*
 * Builds the plan for one Annex-B access unit with payloads of at most max_payload bytes
 * (≥ 64). SPS/PPS (and any other NALs before the first slice that fit together) are
 * aggregated into one STAP-A (RFC 6184 §5.7.1); a NAL that fits is sent as a single NAL
 * unit packet (§5.6); a larger one is split into FU-A fragments (§5.8). AUD NALs are
 * dropped. The last payload carries the marker. Resets plan->arena_len/n_items first.
 * Returns 0; -EBADMSG when the AU has no NAL, or has a NAL of type 0 or 24..31 (which a
 * receiver would misread as an RTP aggregation/fragmentation unit, RFC 6184 §5.2); -ENOSPC
 * when the arena or item array is too small (the plan is then unusable; the arena and
 * item bounds below always suffice); -EINVAL when max_payload is < 64 or > 65535.
 */
int cg_h264_plan_build(struct cg_h264_plan *plan, const uint8_t *annexb, size_t len,
		       size_t max_payload);

/* Upper bound of arena bytes the plan of an AU of au_len bytes needs. */
size_t cg_h264_plan_arena_bound(size_t au_len, size_t max_payload);

/* What profile-level-id (RFC 6184 §8.1) describes: profile_idc, constraint flags, level_idc. */
struct cg_h264_profile {
	uint8_t profile_idc;
	uint8_t constraints; /* profile_iop byte: constraint_set0..5 flags */
	uint8_t level_idc;
};

/* Reads profile_idc, constraint flags and level_idc from an SPS NAL (header byte
 * included). Returns 0 or -EBADMSG. */
int cg_h264_sps_profile(const uint8_t *sps, size_t len, struct cg_h264_profile *ret);

/*
 * The profile of the SPS that heads an Annex-B access unit: looks at the NALs before the
 * first slice (an SPS is only ever there, H.264 7.4.1.2.3) and reads the first SPS with
 * cg_h264_sps_profile(), so an AU that starts with a slice costs one byte to look at.
 * Returns 0, -ENOENT (no SPS before the first slice, or no NAL at all) or -EBADMSG (an SPS
 * too short to say). Any thread.
 */
int cg_h264_au_sps_profile(const uint8_t *annexb, size_t len, struct cg_h264_profile *ret);

/* Parses a 6-hex-digit profile-level-id. Returns 0 or -EINVAL. */
int cg_h264_profile_from_string(const char *hex6, struct cg_h264_profile *ret);

/* Writes 6 lowercase hex digits and a NUL into out[7]. */
void cg_h264_profile_to_string(const struct cg_h264_profile *p, char out[7]);

/* True for Constrained Baseline: profile_idc 66 with constraint_set1 (RFC 6184 table 5). */
bool cg_h264_profile_is_constrained_baseline(const struct cg_h264_profile *p);

/*
 * Depacketizer for tests and the talkback path: feeds RTP payloads of one stream in order
 * and reassembles Annex-B access units (4-byte start codes) into a caller buffer.
 */
struct cg_h264_depacketizer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool in_fu;  /* inside a FU-A run */
	bool broken; /* a fragment was lost: drop until the next AU */
};

/*
 * Adds one payload. Returns 1 when marker is set and a complete AU is in d->buf[0..d->len)
 * (the caller consumes it and sets d->len = 0), 0 when more is needed, -EBADMSG for an
 * invalid payload (the AU in progress is dropped), -ENOSPC when buf is too small.
 */
int cg_h264_depacketize(struct cg_h264_depacketizer *d, const uint8_t *payload, size_t len,
			bool marker);

/* Upper bound of payload items the plan of an AU of au_len bytes needs (added API). */
size_t cg_h264_plan_items_bound(size_t au_len, size_t max_payload);
