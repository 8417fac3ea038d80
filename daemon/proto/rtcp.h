/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RTCP (RFC 3550 §6, RFC 4585, RFC 5104, REMB draft): build sender reports, parse what
 * receivers send. Pure. Any thread; no shared state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cg_rtcp_type {
	CG_RTCP_SR = 200,
	CG_RTCP_RR = 201,
	CG_RTCP_SDES = 202,
	CG_RTCP_BYE = 203,
	CG_RTCP_APP = 204,
	CG_RTCP_RTPFB = 205, /* FMT 1: generic NACK */
	CG_RTCP_PSFB = 206,  /* FMT 1: PLI, 4: FIR, 15: REMB (AFB) */
};

struct cg_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp; /* 32.32 NTP time of rtp_timestamp */
	uint32_t rtp_timestamp;
	uint32_t packet_count;
	uint32_t octet_count;
	const char *cname; /* SDES CNAME, ≤ 255 bytes; NULL to omit the SDES chunk */
};

/* Converts a wall-clock time in microseconds since the Unix epoch to 32.32 NTP time. */
uint64_t cg_rtcp_ntp_from_unix_usec(uint64_t usec);

/*
 * Writes a compound packet: SR (no report blocks) followed by SDES CNAME when sr->cname is
 * set. Returns the bytes written, -ENOSPC if cap is too small, -EINVAL if cname is too long.
 */
int cg_rtcp_build_sr(uint8_t *buf, size_t cap, const struct cg_rtcp_sr *sr);

/* Report block of an RR or SR (RFC 3550 §6.4.1). */
struct cg_rtcp_report_block {
	uint32_t ssrc;		 /* source this block is about */
	uint8_t fraction_lost;	 /* /256 */
	int32_t cumulative_lost; /* 24-bit signed */
	uint32_t highest_seq;
	uint32_t jitter; /* in RTP timestamp units */
	uint32_t lsr;
	uint32_t dlsr;
};

#define CG_RTCP_MAX_REPORT_BLOCKS 8
#define CG_RTCP_MAX_NACKS	  64

/*
 * What one compound RTCP packet said. Fields accumulate over all packets of the compound;
 * counts beyond the maximums are dropped (and counted in truncated).
 */
struct cg_rtcp_info {
	uint32_t sender_ssrc; /* of the first packet */
	unsigned n_report_blocks;
	struct cg_rtcp_report_block report_blocks[CG_RTCP_MAX_REPORT_BLOCKS];
	bool pli; /* a PLI for some media SSRC */
	uint32_t pli_media_ssrc;
	bool fir; /* a FIR entry (RFC 5104 §4.3.1) */
	uint32_t fir_media_ssrc;
	uint8_t fir_seq;
	unsigned n_nacks; /* lost sequence numbers, expanded from PID+BLP */
	uint16_t nacks[CG_RTCP_MAX_NACKS];
	uint32_t nack_media_ssrc;
	bool remb;
	uint64_t remb_bitrate_bps;
	bool bye;
	bool has_sr; /* the peer sends media too */
	uint64_t sr_ntp;
	unsigned truncated; /* entries dropped for lack of room */
};

/*
 * Parses a compound (or reduced-size, RFC 5506) RTCP packet. Unknown packet types and
 * feedback formats are skipped. Returns 0 with *ret filled, or -EBADMSG when any packet's
 * header or length is invalid (nothing is reported then: a hostile packet changes nothing).
 */
int cg_rtcp_parse(const uint8_t *buf, size_t len, struct cg_rtcp_info *ret);

/* Builders for receivers (the test client and load client): return bytes written or -ENOSPC. */
int cg_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
int cg_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		      uint8_t seq);
int cg_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		     const struct cg_rtcp_report_block *blocks, unsigned n_blocks);
int cg_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		       const uint16_t *seqs, unsigned n_seqs);
