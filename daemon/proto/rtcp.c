/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/rtcp.h"

/* RFC 3550 §4: NTP time starts in 1900, 70 years (17 leap days) before the Unix epoch. */
#define NTP_UNIX_OFFSET UINT64_C(2208988800)
#define SDES_CNAME	1

/* RFC 4585 §6.1 / RFC 5104 §4.3 / REMB draft §2: feedback message types (FMT). */
#define FB_NACK 1
#define FB_PLI	1
#define FB_FIR	4
#define FB_AFB	15

uint64_t cg_rtcp_ntp_from_unix_usec(uint64_t usec)
{
	uint64_t sec = usec / 1000000u + NTP_UNIX_OFFSET;
	uint64_t frac = ((usec % 1000000u) << 32) / 1000000u;

	return sec << 32 | frac;
}

/* RFC 3550 §6.4.1: V=2, P=0, count, PT, length in 32-bit words minus one. */
static void rtcp_write_header(struct cg_bytes_writer *w, uint8_t count, uint8_t pt, size_t bytes)
{
	cg_bytes_write_u8(w, (uint8_t)(0x80 | (count & 0x1f)));
	cg_bytes_write_u8(w, pt);
	cg_bytes_write_u16(w, (uint16_t)(bytes / 4 - 1));
}

/* RFC 3550 §6.5: one chunk, CNAME item, then a null item padding to 32 bits. */
static void rtcp_write_sdes_cname(struct cg_bytes_writer *w, uint32_t ssrc, const char *cname)
{
	size_t n = strlen(cname);
	size_t chunk = 4 + 2 + n;
	size_t pad = 4 - chunk % 4; /* at least one terminating zero byte */

	rtcp_write_header(w, 1, CG_RTCP_SDES, 4 + chunk + pad);
	cg_bytes_write_u32(w, ssrc);
	cg_bytes_write_u8(w, SDES_CNAME);
	cg_bytes_write_u8(w, (uint8_t)n);
	cg_bytes_write_bytes(w, cname, n);
	cg_bytes_write_zeros(w, pad);
}

int cg_rtcp_build_sr(uint8_t *buf, size_t cap, const struct cg_rtcp_sr *sr)
{
	struct cg_bytes_writer w;

	if (sr->cname && strnlen(sr->cname, 256) > 255)
		return -EINVAL;
	cg_bytes_writer_init(&w, buf, cap);
	/* RFC 3550 §6.4.1: header + SSRC + 20 bytes of sender info, no report blocks. */
	rtcp_write_header(&w, 0, CG_RTCP_SR, 28);
	cg_bytes_write_u32(&w, sr->ssrc);
	cg_bytes_write_u64(&w, sr->ntp);
	cg_bytes_write_u32(&w, sr->rtp_timestamp);
	cg_bytes_write_u32(&w, sr->packet_count);
	cg_bytes_write_u32(&w, sr->octet_count);
	if (sr->cname)
		rtcp_write_sdes_cname(&w, sr->ssrc, sr->cname);
	if (!cg_bytes_writer_ok(&w))
		return -ENOSPC;
	return (int)cg_bytes_written(&w);
}

int cg_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	struct cg_bytes_writer w;

	/* RFC 4585 §6.3.1: PLI has no FCI. */
	cg_bytes_writer_init(&w, buf, cap);
	rtcp_write_header(&w, FB_PLI, CG_RTCP_PSFB, 12);
	cg_bytes_write_u32(&w, sender_ssrc);
	cg_bytes_write_u32(&w, media_ssrc);
	return cg_bytes_writer_ok(&w) ? (int)cg_bytes_written(&w) : -ENOSPC;
}

int cg_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		      uint8_t seq)
{
	struct cg_bytes_writer w;

	/* RFC 5104 §4.3.1.1: the common media SSRC is 0; the FCI names the target. */
	cg_bytes_writer_init(&w, buf, cap);
	rtcp_write_header(&w, FB_FIR, CG_RTCP_PSFB, 20);
	cg_bytes_write_u32(&w, sender_ssrc);
	cg_bytes_write_u32(&w, 0);
	cg_bytes_write_u32(&w, media_ssrc);
	cg_bytes_write_u8(&w, seq);
	cg_bytes_write_zeros(&w, 3);
	return cg_bytes_writer_ok(&w) ? (int)cg_bytes_written(&w) : -ENOSPC;
}

int cg_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		     const struct cg_rtcp_report_block *blocks, unsigned n_blocks)
{
	struct cg_bytes_writer w;

	if (n_blocks > 31)
		return -EINVAL;
	cg_bytes_writer_init(&w, buf, cap);
	rtcp_write_header(&w, (uint8_t)n_blocks, CG_RTCP_RR, 8 + 24 * (size_t)n_blocks);
	cg_bytes_write_u32(&w, sender_ssrc);
	for (unsigned i = 0; i < n_blocks; i++) {
		const struct cg_rtcp_report_block *b = &blocks[i];

		cg_bytes_write_u32(&w, b->ssrc);
		cg_bytes_write_u8(&w, b->fraction_lost);
		cg_bytes_write_u24(&w, (uint32_t)b->cumulative_lost & 0xffffff);
		cg_bytes_write_u32(&w, b->highest_seq);
		cg_bytes_write_u32(&w, b->jitter);
		cg_bytes_write_u32(&w, b->lsr);
		cg_bytes_write_u32(&w, b->dlsr);
	}
	return cg_bytes_writer_ok(&w) ? (int)cg_bytes_written(&w) : -ENOSPC;
}

/* Packs sequence numbers into RFC 4585 §6.2.1 PID+BLP entries; returns the entry count. */
static size_t rtcp_nack_pack(const uint16_t *seqs, unsigned n, uint32_t *out)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t pid = k ? (uint16_t)(out[k - 1] >> 16) : 0;
		uint16_t d = (uint16_t)(seqs[i] - pid);

		if (k && d == 0)
			continue;
		if (k && d >= 1 && d <= 16)
			out[k - 1] |= 1u << (d - 1);
		else
			out[k++] = (uint32_t)seqs[i] << 16;
	}
	return k;
}

int cg_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		       const uint16_t *seqs, unsigned n_seqs)
{
	uint32_t fci[CG_RTCP_MAX_NACKS];
	struct cg_bytes_writer w;
	size_t k;

	if (n_seqs == 0 || n_seqs > CG_RTCP_MAX_NACKS)
		return -EINVAL;
	k = rtcp_nack_pack(seqs, n_seqs, fci);
	cg_bytes_writer_init(&w, buf, cap);
	rtcp_write_header(&w, FB_NACK, CG_RTCP_RTPFB, 12 + 4 * k);
	cg_bytes_write_u32(&w, sender_ssrc);
	cg_bytes_write_u32(&w, media_ssrc);
	for (size_t i = 0; i < k; i++)
		cg_bytes_write_u32(&w, fci[i]);
	return cg_bytes_writer_ok(&w) ? (int)cg_bytes_written(&w) : -ENOSPC;
}

/* ---- parsing ---- */

/* One packet of a compound: header fields and a reader over its body (after the header). */
struct rtcp_pkt {
	uint8_t count; /* RC, SC or FMT */
	uint8_t type;
	struct cg_bytes_reader body;
};

typedef int (*rtcp_parse_fn)(struct rtcp_pkt *p, struct cg_rtcp_info *info);

static void rtcp_read_block(struct cg_bytes_reader *r, struct cg_rtcp_report_block *b)
{
	uint32_t lost;

	b->ssrc = cg_bytes_read_u32(r);
	b->fraction_lost = cg_bytes_read_u8(r);
	lost = cg_bytes_read_u24(r);
	/* 24-bit two's complement (RFC 3550 §6.4.1: may be negative with duplicates). */
	b->cumulative_lost = (int32_t)(lost ^ 0x800000) - 0x800000;
	b->highest_seq = cg_bytes_read_u32(r);
	b->jitter = cg_bytes_read_u32(r);
	b->lsr = cg_bytes_read_u32(r);
	b->dlsr = cg_bytes_read_u32(r);
}

static int rtcp_parse_blocks(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	for (unsigned i = 0; i < p->count; i++) {
		struct cg_rtcp_report_block b;

		rtcp_read_block(&p->body, &b);
		if (!cg_bytes_reader_ok(&p->body))
			return -EBADMSG;
		if (info->n_report_blocks < CG_RTCP_MAX_REPORT_BLOCKS)
			info->report_blocks[info->n_report_blocks++] = b;
		else
			info->truncated++;
	}
	return 0;
}

static int rtcp_parse_sr(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	cg_bytes_skip(&p->body, 4); /* sender SSRC */
	info->sr_ntp = cg_bytes_read_u64(&p->body);
	cg_bytes_skip(&p->body, 12); /* RTP timestamp, packet and octet counts */
	if (!cg_bytes_reader_ok(&p->body))
		return -EBADMSG;
	info->has_sr = true;
	return rtcp_parse_blocks(p, info);
}

static int rtcp_parse_rr(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	cg_bytes_skip(&p->body, 4);
	if (!cg_bytes_reader_ok(&p->body))
		return -EBADMSG;
	return rtcp_parse_blocks(p, info);
}

static int rtcp_parse_bye(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	/* RFC 3550 §6.6: SC SSRCs, then an optional length-prefixed reason. */
	cg_bytes_skip(&p->body, 4 * (size_t)p->count);
	if (!cg_bytes_reader_ok(&p->body))
		return -EBADMSG;
	info->bye = true;
	return 0;
}

static int rtcp_parse_nack(struct cg_bytes_reader *r, struct cg_rtcp_info *info)
{
	uint32_t media = cg_bytes_read_u32(r);

	if (!cg_bytes_reader_ok(r) || cg_bytes_remaining(r) == 0)
		return -EBADMSG;
	info->nack_media_ssrc = media;
	while (cg_bytes_remaining(r) >= 4) {
		uint16_t pid = cg_bytes_read_u16(r), blp = cg_bytes_read_u16(r);

		/* RFC 4585 §6.2.1: PID is lost, and PID+i+1 for every bit i of BLP. */
		for (unsigned i = 0; i <= 16; i++) {
			if (i > 0 && !(blp & (1u << (i - 1))))
				continue;
			if (info->n_nacks < CG_RTCP_MAX_NACKS)
				info->nacks[info->n_nacks++] = (uint16_t)(pid + i);
			else
				info->truncated++;
		}
	}
	return 0;
}

static int rtcp_parse_rtpfb(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	cg_bytes_skip(&p->body, 4); /* sender SSRC */
	if (!cg_bytes_reader_ok(&p->body) || cg_bytes_remaining(&p->body) < 4)
		return -EBADMSG;
	if (p->count == FB_NACK)
		return rtcp_parse_nack(&p->body, info);
	return 0; /* TWCC (FMT 15) and others: ignored */
}

static int rtcp_parse_fir(struct cg_bytes_reader *r, struct cg_rtcp_info *info)
{
	size_t n = cg_bytes_remaining(r);

	/* RFC 5104 §4.3.1.2: one or more 8-byte FCI entries {SSRC, seq, reserved}. */
	if (n == 0 || n % 8)
		return -EBADMSG;
	info->fir = true;
	info->fir_media_ssrc = cg_bytes_read_u32(r);
	info->fir_seq = cg_bytes_read_u8(r);
	return 0;
}

static int rtcp_parse_remb(struct cg_bytes_reader *r, struct cg_rtcp_info *info)
{
	const uint8_t *id = cg_bytes_read_ptr(r, 4);
	uint8_t num_ssrc, exp;
	uint32_t mantissa;

	/* draft-alvestrand-rmcat-remb §2.2: "REMB", Num SSRC, BR Exp (6), BR Mantissa (18). */
	if (!id || memcmp(id, "REMB", 4) != 0)
		return 0; /* another application-layer feedback: ignored */
	num_ssrc = cg_bytes_read_u8(r);
	mantissa = cg_bytes_read_u24(r);
	exp = (uint8_t)(mantissa >> 18);
	mantissa &= 0x3ffff;
	cg_bytes_skip(r, 4 * (size_t)num_ssrc);
	if (!cg_bytes_reader_ok(r))
		return -EBADMSG;
	info->remb = true;
	/* 18-bit mantissa: shifts beyond 46 overflow 64 bits; saturate. */
	info->remb_bitrate_bps = exp > 46 ? UINT64_MAX : (uint64_t)mantissa << exp;
	return 0;
}

static int rtcp_parse_psfb(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	uint32_t media;

	cg_bytes_skip(&p->body, 4);
	media = cg_bytes_read_u32(&p->body);
	if (!cg_bytes_reader_ok(&p->body))
		return -EBADMSG;
	switch (p->count) {
	case FB_PLI:
		info->pli = true;
		info->pli_media_ssrc = media;
		return 0;
	case FB_FIR:
		return rtcp_parse_fir(&p->body, info);
	case FB_AFB:
		return rtcp_parse_remb(&p->body, info);
	default:
		return 0;
	}
}

static int rtcp_parse_skip(struct rtcp_pkt *p, struct cg_rtcp_info *info)
{
	return 0;
}

static rtcp_parse_fn rtcp_parser(uint8_t type)
{
	static const rtcp_parse_fn table[] = {
		[CG_RTCP_SR - CG_RTCP_SR] = rtcp_parse_sr,
		[CG_RTCP_RR - CG_RTCP_SR] = rtcp_parse_rr,
		[CG_RTCP_BYE - CG_RTCP_SR] = rtcp_parse_bye,
		[CG_RTCP_RTPFB - CG_RTCP_SR] = rtcp_parse_rtpfb,
		[CG_RTCP_PSFB - CG_RTCP_SR] = rtcp_parse_psfb,
	};

	if (type >= CG_RTCP_SR && (size_t)(type - CG_RTCP_SR) < sizeof(table) / sizeof(table[0]) &&
	    table[type - CG_RTCP_SR])
		return table[type - CG_RTCP_SR];
	return rtcp_parse_skip; /* SDES, APP, XR, …: nothing we act on */
}

/* Splits off the next packet of a compound (RFC 3550 §6.1, RFC 5761 §4 type range). */
static int rtcp_next(struct cg_bytes_reader *r, struct rtcp_pkt *p, uint32_t *ret_ssrc)
{
	uint8_t b0 = cg_bytes_read_u8(r);
	size_t words, len, pad = 0;

	p->count = b0 & 0x1f;
	p->type = cg_bytes_read_u8(r);
	words = cg_bytes_read_u16(r);
	len = words * 4;
	if (!cg_bytes_reader_ok(r) || (b0 >> 6) != 2 || p->type < 192 || p->type > 223 ||
	    len > cg_bytes_remaining(r))
		return -EBADMSG;
	if (b0 & 0x20) {
		/* Padding only on the last packet; its last octet counts the padding. */
		if (len != cg_bytes_remaining(r) || len == 0)
			return -EBADMSG;
		pad = r->data[r->pos + len - 1];
		if (pad == 0 || pad > len)
			return -EBADMSG;
	}
	cg_bytes_sub_reader(r, len, &p->body);
	p->body.len -= pad;
	*ret_ssrc = len >= 4 ? (uint32_t)p->body.data[0] << 24 | (uint32_t)p->body.data[1] << 16 |
				       (uint32_t)p->body.data[2] << 8 | p->body.data[3]
			     : 0;
	return 0;
}

int cg_rtcp_parse(const uint8_t *buf, size_t len, struct cg_rtcp_info *ret)
{
	struct cg_rtcp_info info = { 0 };
	struct cg_bytes_reader r;
	bool first = true;

	cg_bytes_reader_init(&r, buf, len);
	if (len < 4)
		return -EBADMSG;
	while (cg_bytes_remaining(&r) > 0) {
		struct rtcp_pkt p;
		uint32_t ssrc;

		if (rtcp_next(&r, &p, &ssrc) < 0)
			return -EBADMSG;
		if (first)
			info.sender_ssrc = ssrc;
		first = false;
		if (rtcp_parser(p.type)(&p, &info) < 0)
			return -EBADMSG;
	}
	*ret = info;
	return 0;
}
