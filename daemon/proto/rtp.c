/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/rtp.h"

/* RFC 8285 §4.2: one-byte header extensions are introduced by this profile value. */
#define RTP_EXT_ONE_BYTE 0xBEDE
/* RFC 8285 §4.3: two-byte header extensions use 0x100 plus 4 "appbits". */
#define RTP_EXT_TWO_BYTE_MASK 0xFFF0
#define RTP_EXT_TWO_BYTE      0x1000

static bool rtp_ext_valid(const struct cg_rtp_ext *e)
{
	/* One-byte form: id 15 is reserved, 0 is padding; len is encoded as len - 1 in 4 bits. */
	return e->id >= 1 && e->id <= 14 && e->len >= 1 && e->len <= 16;
}

static void rtp_write_extensions(struct cg_bytes_writer *w, const struct cg_rtp_header *h)
{
	size_t body = 0;

	for (unsigned i = 0; i < h->n_extensions; i++)
		body += 1u + h->extensions[i].len;
	cg_bytes_write_u16(w, RTP_EXT_ONE_BYTE);
	cg_bytes_write_u16(w, (uint16_t)((body + 3) / 4));
	for (unsigned i = 0; i < h->n_extensions; i++) {
		const struct cg_rtp_ext *e = &h->extensions[i];

		cg_bytes_write_u8(w, (uint8_t)(e->id << 4 | (e->len - 1)));
		cg_bytes_write_bytes(w, e->data, e->len);
	}
	/* RFC 8285 §4.2: pad the block to a 32-bit boundary with zero bytes. */
	cg_bytes_write_zeros(w, (4 - body % 4) % 4);
}

int cg_rtp_write_header(uint8_t *buf, size_t cap, const struct cg_rtp_header *h)
{
	struct cg_bytes_writer w;
	bool ext = h->n_extensions > 0;

	if (h->payload_type > 127 || h->n_extensions > CG_RTP_MAX_EXTENSIONS)
		return -EINVAL;
	for (unsigned i = 0; i < h->n_extensions; i++)
		if (!rtp_ext_valid(&h->extensions[i]))
			return -EINVAL;

	cg_bytes_writer_init(&w, buf, cap);
	/* RFC 3550 §5.1: V=2, P=0, X, CC=0. */
	cg_bytes_write_u8(&w, (uint8_t)(0x80 | (ext ? 0x10 : 0)));
	cg_bytes_write_u8(&w, (uint8_t)((h->marker ? 0x80 : 0) | h->payload_type));
	cg_bytes_write_u16(&w, h->sequence);
	cg_bytes_write_u32(&w, h->timestamp);
	cg_bytes_write_u32(&w, h->ssrc);
	if (ext)
		rtp_write_extensions(&w, h);
	if (!cg_bytes_writer_ok(&w))
		return -ENOSPC;
	return (int)cg_bytes_written(&w);
}

static void rtp_store_ext(struct cg_rtp_header *h, uint8_t id, const uint8_t *data, size_t len)
{
	struct cg_rtp_ext *e;

	/* Elements that do not fit our fixed storage are skipped, not errors. */
	if (h->n_extensions >= CG_RTP_MAX_EXTENSIONS || len > sizeof(e->data))
		return;
	e = &h->extensions[h->n_extensions++];
	e->id = id;
	e->len = (uint8_t)len;
	if (len)
		memcpy(e->data, data, len);
}

/* RFC 8285 §4.2/§4.3: walk the elements of one extension block. */
static int rtp_parse_ext_block(struct cg_bytes_reader *r, bool two_byte, struct cg_rtp_header *h)
{
	while (cg_bytes_remaining(r) > 0) {
		uint8_t b = cg_bytes_read_u8(r);
		uint8_t id;
		size_t len;
		const uint8_t *data;

		if (b == 0)
			continue; /* padding */
		if (two_byte) {
			id = b;
			len = cg_bytes_read_u8(r);
		} else {
			id = b >> 4;
			len = (size_t)(b & 0x0f) + 1;
			if (id == 15)
				return 0; /* §4.2: stop processing the block */
		}
		data = cg_bytes_read_ptr(r, len);
		if (!data)
			return -EBADMSG;
		rtp_store_ext(h, id, data, len);
	}
	return cg_bytes_reader_ok(r) ? 0 : -EBADMSG;
}

static int rtp_parse_extension(struct cg_bytes_reader *r, struct cg_rtp_header *h)
{
	uint16_t profile = cg_bytes_read_u16(r);
	size_t words = cg_bytes_read_u16(r);
	struct cg_bytes_reader block;

	cg_bytes_sub_reader(r, words * 4, &block);
	if (!cg_bytes_reader_ok(r))
		return -EBADMSG;
	if (profile == RTP_EXT_ONE_BYTE)
		return rtp_parse_ext_block(&block, false, h);
	if ((profile & RTP_EXT_TWO_BYTE_MASK) == RTP_EXT_TWO_BYTE)
		return rtp_parse_ext_block(&block, true, h);
	return 0; /* another profile's extension: skipped */
}

int cg_rtp_parse(const uint8_t *buf, size_t len, struct cg_rtp_packet *ret)
{
	struct cg_rtp_packet pkt = { 0 };
	struct cg_bytes_reader r;
	uint8_t b0, b1;
	size_t pad = 0;

	cg_bytes_reader_init(&r, buf, len);
	b0 = cg_bytes_read_u8(&r);
	b1 = cg_bytes_read_u8(&r);
	pkt.header.payload_type = b1 & 0x7f;
	pkt.header.marker = b1 & 0x80;
	pkt.header.sequence = cg_bytes_read_u16(&r);
	pkt.header.timestamp = cg_bytes_read_u32(&r);
	pkt.header.ssrc = cg_bytes_read_u32(&r);
	cg_bytes_skip(&r, (size_t)(b0 & 0x0f) * 4); /* CSRCs */
	if (!cg_bytes_reader_ok(&r) || (b0 >> 6) != 2)
		return -EBADMSG;
	if ((b0 & 0x10) && rtp_parse_extension(&r, &pkt.header) < 0)
		return -EBADMSG;
	pkt.header_len = r.pos;
	pkt.payload = buf + r.pos;
	pkt.payload_len = len - r.pos;
	if (b0 & 0x20) {
		/* RFC 3550 §5.1: the last octet counts the padding, itself included. */
		pad = pkt.payload_len ? buf[len - 1] : 0;
		if (pad == 0 || pad > pkt.payload_len)
			return -EBADMSG;
		pkt.payload_len -= pad;
	}
	*ret = pkt;
	return 0;
}

enum cg_demux cg_rtp_demux(const uint8_t *buf, size_t len)
{
	uint8_t b;

	if (!buf || len == 0)
		return CG_DEMUX_UNKNOWN;
	b = buf[0];
	/* RFC 7983 §7: STUN 0..3, DTLS 20..63, RTP/RTCP 128..191. */
	if (b <= 3)
		return CG_DEMUX_STUN;
	if (b >= 20 && b <= 63)
		return CG_DEMUX_DTLS;
	if (b >= 128 && b <= 191) {
		if (len < 2)
			return CG_DEMUX_UNKNOWN;
		/* RFC 5761 §4: RTCP packet types 192..223 occupy the marker+PT byte. */
		if (buf[1] >= 192 && buf[1] <= 223)
			return CG_DEMUX_RTCP;
		return CG_DEMUX_RTP;
	}
	return CG_DEMUX_UNKNOWN;
}

void cg_rtp_ext_playout_delay(struct cg_rtp_ext *ext, uint8_t id, uint16_t min_10ms,
			      uint16_t max_10ms)
{
	/* 12-bit MIN then 12-bit MAX, big-endian, 3 bytes. */
	min_10ms &= 0x0fff;
	max_10ms &= 0x0fff;
	*ext = (struct cg_rtp_ext){ .id = id, .len = 3 };
	ext->data[0] = (uint8_t)(min_10ms >> 4);
	ext->data[1] = (uint8_t)((min_10ms & 0x0f) << 4 | max_10ms >> 8);
	ext->data[2] = (uint8_t)max_10ms;
}

static void rtp_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void cg_rtp_ext_abs_capture_time(struct cg_rtp_ext *ext, uint8_t id, uint64_t ntp, bool with_offset,
				 int64_t offset_q32)
{
	*ext = (struct cg_rtp_ext){ .id = id, .len = with_offset ? 16 : 8 };
	rtp_put_u64(ext->data, ntp);
	/* Two's complement, as the spec's signed Q32.32 is. */
	if (with_offset)
		rtp_put_u64(ext->data + 8, (uint64_t)offset_q32);
}
