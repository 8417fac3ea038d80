/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RTP header writer/parser (RFC 3550 §5.1, RFC 8285) and RFC 7983 demux; the byte cursor. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"

static void test_bytes_reader(void)
{
	static const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct cg_bytes_reader r, sub;

	cg_bytes_reader_init(&r, d, sizeof(d));
	g_assert_cmphex(cg_bytes_read_u8(&r), ==, 1);
	g_assert_cmphex(cg_bytes_read_u16(&r), ==, 0x0203);
	g_assert_cmphex(cg_bytes_read_u24(&r), ==, 0x040506);
	g_assert_cmpint(cg_bytes_peek(&r, 0), ==, 7);
	g_assert_cmpint(cg_bytes_peek(&r, 3), ==, -1);
	cg_bytes_sub_reader(&r, 2, &sub);
	g_assert_cmphex(cg_bytes_read_u16(&sub), ==, 0x0708);
	g_assert_cmpuint(cg_bytes_remaining(&r), ==, 1);
	/* The error latches: a short read returns 0 and every later read fails too. */
	g_assert_cmphex(cg_bytes_read_u32(&r), ==, 0);
	g_assert_false(cg_bytes_reader_ok(&r));
	g_assert_cmphex(cg_bytes_read_u8(&r), ==, 0);
	g_assert_cmpuint(cg_bytes_remaining(&r), ==, 0);
	g_assert_null(cg_bytes_read_ptr(&r, 0));
	cg_bytes_reader_init(&r, d, sizeof(d));
	cg_bytes_sub_reader(&r, 10, &sub);
	g_assert_false(cg_bytes_reader_ok(&r));
	g_assert_false(cg_bytes_reader_ok(&sub));
	cg_bytes_reader_init(&r, d, 8);
	g_assert_cmphex(cg_bytes_read_u64(&r), ==, 0x0102030405060708ull);
	g_assert_true(cg_bytes_reader_ok(&r));
}

static void test_bytes_writer(void)
{
	uint8_t buf[8];
	struct cg_bytes_writer w;

	cg_bytes_writer_init(&w, buf, sizeof(buf));
	cg_bytes_write_u16(&w, 0xa1b2);
	cg_bytes_write_u24(&w, 0xc3d4e5);
	cg_bytes_write_u8(&w, 0xf6);
	g_assert_true(cg_bytes_writer_ok(&w));
	cg_bytes_write_u32(&w, 0x11223344); /* 2 bytes left: fails, writes nothing */
	g_assert_false(cg_bytes_writer_ok(&w));
	g_assert_cmpuint(cg_bytes_written(&w), ==, 6);
	g_assert_cmpmem(buf, 6, "\xa1\xb2\xc3\xd4\xe5\xf6", 6);
	cg_bytes_write_u8(&w, 1);
	g_assert_cmpuint(cg_bytes_written(&w), ==, 6);
}

static void test_write_parse_plain(void)
{
	static const uint8_t golden[] = { 0x80, 0xe6, 0x12, 0x34, 0xde, 0xad,
					  0xbe, 0xef, 0x01, 0x02, 0x03, 0x04 };
	struct cg_rtp_header h = { .payload_type = 102,
				   .marker = true,
				   .sequence = 0x1234,
				   .timestamp = 0xdeadbeef,
				   .ssrc = 0x01020304 };
	uint8_t buf[64];
	struct cg_rtp_packet pkt;

	g_assert_cmpint(cg_rtp_write_header(buf, sizeof(buf), &h), ==, 12);
	g_assert_cmpmem(buf, 12, golden, sizeof(golden));
	memcpy(buf + 12, "payload", 7);
	g_assert_cmpint(cg_rtp_parse(buf, 19, &pkt), ==, 0);
	g_assert_cmpuint(pkt.header.payload_type, ==, 102);
	g_assert_true(pkt.header.marker);
	g_assert_cmpuint(pkt.header.sequence, ==, 0x1234);
	g_assert_cmpuint(pkt.header.timestamp, ==, 0xdeadbeef);
	g_assert_cmpuint(pkt.header.ssrc, ==, 0x01020304);
	g_assert_cmpuint(pkt.header_len, ==, 12);
	g_assert_cmpmem(pkt.payload, pkt.payload_len, "payload", 7);
	g_assert_cmpint(cg_rtp_write_header(buf, 11, &h), ==, -ENOSPC);
	h.payload_type = 128;
	g_assert_cmpint(cg_rtp_write_header(buf, sizeof(buf), &h), ==, -EINVAL);
}

static void test_playout_delay_extension(void)
{
	/* RFC 8285 §4.2 layout: BEDE, length 1 word, id 5 len-1=2, 3 bytes, no padding. */
	static const uint8_t golden_ext[] = { 0xbe, 0xde, 0x00, 0x01, 0x52, 0x00, 0x00, 0x00 };
	struct cg_rtp_header h = { .payload_type = 96, .sequence = 1, .n_extensions = 1 };
	uint8_t buf[64];
	struct cg_rtp_packet pkt;
	int n;

	cg_rtp_ext_playout_delay(&h.extensions[0], 5, 0, 0);
	n = cg_rtp_write_header(buf, sizeof(buf), &h);
	g_assert_cmpint(n, ==, 20);
	g_assert_cmphex(buf[0], ==, 0x90);
	g_assert_cmpmem(buf + 12, 8, golden_ext, sizeof(golden_ext));
	g_assert_cmpint(cg_rtp_parse(buf, (size_t)n, &pkt), ==, 0);
	g_assert_cmpuint(pkt.header_len, ==, 20);
	g_assert_cmpuint(pkt.payload_len, ==, 0);
	g_assert_cmpuint(pkt.header.n_extensions, ==, 1);
	g_assert_cmpuint(pkt.header.extensions[0].id, ==, 5);
	g_assert_cmpuint(pkt.header.extensions[0].len, ==, 3);
	cg_rtp_ext_playout_delay(&h.extensions[0], 5, 0x123, 0x456);
	g_assert_cmpmem(h.extensions[0].data, 3, "\x12\x34\x56", 3);
	/* Two elements: 4 + 2 bytes, padded to 8. */
	h.n_extensions = 2;
	h.extensions[1] = (struct cg_rtp_ext){ .id = 3, .len = 1, .data = { 0xaa } };
	g_assert_cmpint(cg_rtp_write_header(buf, sizeof(buf), &h), ==, 12 + 4 + 8);
	g_assert_cmpint(cg_rtp_parse(buf, 24, &pkt), ==, 0);
	g_assert_cmpuint(pkt.header.n_extensions, ==, 2);
	g_assert_cmphex(pkt.header.extensions[1].data[0], ==, 0xaa);
	h.extensions[1].id = 15;
	g_assert_cmpint(cg_rtp_write_header(buf, sizeof(buf), &h), ==, -EINVAL);
}

/*
 * abs-capture-time (webrtc.org rtp-hdrext/abs-capture-time): the 8-byte form is the UQ32.32
 * NTP capture time, big-endian; the 16-byte form adds the signed Q32.32 clock offset. The
 * time is the one our sender reports carry (cg_rtcp_ntp_from_unix_usec).
 */
static void test_abs_capture_time_extension(void)
{
	/* 2026-01-01T00:00:00.5 UTC = 1767225600.5 s Unix = 3976214400.5 s NTP. */
	uint64_t ntp = cg_rtcp_ntp_from_unix_usec(1767225600500000ull);
	static const uint8_t golden[] = {
		0xbe, 0xde, 0x00, 0x03,				/* one-byte block, 3 words */
		0x77,						/* id 7, len - 1 = 7 */
		0xed, 0x00, 0x37, 0x80, 0x80, 0x00, 0x00, 0x00, /* 0xed003780.80000000 */
		0x00, 0x00, 0x00,				/* padding to 32 bits */
	};
	struct cg_rtp_header h = { .payload_type = 102, .sequence = 9, .n_extensions = 1 };
	struct cg_rtp_packet pkt;
	uint8_t buf[64];
	int n;

	g_assert_cmphex(ntp, ==, 0xed00378080000000ull);
	/* The NTP fraction: 1 µs is 4294.967296 units of 2^-32 s, rounded down. */
	g_assert_cmphex(cg_rtcp_ntp_from_unix_usec(1) & 0xffffffffu, ==, 4294);
	g_assert_cmphex(cg_rtcp_ntp_from_unix_usec(0) >> 32, ==, 2208988800u);
	cg_rtp_ext_abs_capture_time(&h.extensions[0], 7, ntp, false, 0);
	g_assert_cmpuint(h.extensions[0].len, ==, 8);
	n = cg_rtp_write_header(buf, sizeof(buf), &h);
	g_assert_cmpint(n, ==, 12 + (int)sizeof(golden));
	g_assert_cmpmem(buf + 12, sizeof(golden), golden, sizeof(golden));
	g_assert_cmpint(cg_rtp_parse(buf, (size_t)n, &pkt), ==, 0);
	g_assert_cmpuint(pkt.header.n_extensions, ==, 1);
	g_assert_cmpuint(pkt.header.extensions[0].id, ==, 7);
	g_assert_cmpmem(pkt.header.extensions[0].data, 8, golden + 5, 8);

	/* 16 bytes: offset -1.5 s is 0xfffffffe.80000000 in two's complement Q32.32. */
	cg_rtp_ext_abs_capture_time(&h.extensions[0], 14, ntp, true, -(3ll << 31));
	g_assert_cmpuint(h.extensions[0].len, ==, 16);
	g_assert_cmpmem(h.extensions[0].data, 8, golden + 5, 8);
	g_assert_cmpmem(h.extensions[0].data + 8, 8, "\xff\xff\xff\xfe\x80\x00\x00\x00", 8);
	n = cg_rtp_write_header(buf, sizeof(buf), &h);
	g_assert_cmpint(n, ==, 12 + 4 + 20); /* 1 + 16 bytes, padded to 20 */
	g_assert_cmphex(buf[16], ==, 0xef);  /* id 14, len - 1 = 15 */

	/* With the other three extensions a packet of ours may carry: all fit, in order. */
	cg_rtp_ext_playout_delay(&h.extensions[0], 1, 0, 0);
	h.extensions[1] = (struct cg_rtp_ext){ .id = 2, .len = 3 };
	h.extensions[2] = (struct cg_rtp_ext){ .id = 3, .len = 2 };
	cg_rtp_ext_abs_capture_time(&h.extensions[3], 4, ntp, false, 0);
	h.n_extensions = 4;
	n = cg_rtp_write_header(buf, sizeof(buf), &h);
	g_assert_cmpint(n, ==, 12 + 4 + 20); /* 4 + 4 + 3 + 9 = 20 bytes */
	g_assert_cmpint(cg_rtp_parse(buf, (size_t)n, &pkt), ==, 0);
	g_assert_cmpuint(pkt.header.n_extensions, ==, 4);
	g_assert_cmpuint(pkt.header.extensions[3].id, ==, 4);
	g_assert_cmpmem(pkt.header.extensions[3].data, 8, golden + 5, 8);
	/* A capacity one short of the packet: -ENOSPC, not a short write. */
	g_assert_cmpint(cg_rtp_write_header(buf, (size_t)n - 1, &h), ==, -ENOSPC);
}

static void test_parse_csrc_two_byte_padding(void)
{
	/* V=2 P=1 X=1 CC=1; two-byte extension block 0x1000 with id 7 len 2; 2 pad bytes. */
	static const uint8_t pkt_bytes[] = {
		0xb1, 0x60, 0,	  1,	0, 0, 0,    2,	  0, 0, 0, 3, /* fixed header */
		0xca, 0xfe, 0xba, 0xbe,				      /* CSRC */
		0x10, 0x00, 0x00, 0x01, 7, 2, 0xab, 0xcd,	      /* extension */
		'x',  'y',  0,	  2				      /* payload + padding */
	};
	struct cg_rtp_packet pkt;

	g_assert_cmpint(cg_rtp_parse(pkt_bytes, sizeof(pkt_bytes), &pkt), ==, 0);
	g_assert_cmpuint(pkt.header_len, ==, 24);
	g_assert_cmpuint(pkt.payload_len, ==, 2);
	g_assert_cmpmem(pkt.payload, 2, "xy", 2);
	g_assert_cmpuint(pkt.header.n_extensions, ==, 1);
	g_assert_cmpuint(pkt.header.extensions[0].id, ==, 7);
	g_assert_cmpuint(pkt.header.extensions[0].len, ==, 2);
}

static void test_parse_malformed(void)
{
	uint8_t b[32] = { 0x80, 96 };
	struct cg_rtp_packet pkt = { .header_len = 777 };

	g_assert_cmpint(cg_rtp_parse(b, 11, &pkt), ==, -EBADMSG);
	g_assert_cmpuint(pkt.header_len, ==, 777); /* untouched on failure */
	b[0] = 0x40;				   /* version 1 */
	g_assert_cmpint(cg_rtp_parse(b, 12, &pkt), ==, -EBADMSG);
	b[0] = 0x8f; /* 15 CSRCs do not fit */
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, -EBADMSG);
	b[0] = 0x90; /* extension header missing */
	g_assert_cmpint(cg_rtp_parse(b, 14, &pkt), ==, -EBADMSG);
	b[12] = 0xbe, b[13] = 0xde, b[14] = 0, b[15] = 9; /* 9 words claimed */
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, -EBADMSG);
	b[15] = 1, b[16] = 0x3f; /* element of 16 bytes in a 4-byte block */
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, -EBADMSG);
	b[0] = 0xa0; /* padding count larger than the payload */
	b[31] = 40;
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, -EBADMSG);
	b[31] = 0;
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, -EBADMSG);
	b[31] = 20;
	g_assert_cmpint(cg_rtp_parse(b, 32, &pkt), ==, 0);
	g_assert_cmpuint(pkt.payload_len, ==, 0);
}

static void test_demux(void)
{
	static const uint8_t stun[] = { 0x00, 0x01, 0, 0 };
	static const uint8_t dtls[] = { 22, 0xfe, 0xfd };
	static const uint8_t rtp[] = { 0x80, 0x60 };
	static const uint8_t rtp_m[] = { 0x80, 0xe0 };
	static const uint8_t rtcp_sr[] = { 0x80, 200 };
	static const uint8_t rtcp_psfb[] = { 0x81, 206 };
	static const uint8_t turn[] = { 0x40, 0 };

	g_assert_cmpint(cg_rtp_demux(stun, sizeof(stun)), ==, CG_DEMUX_STUN);
	g_assert_cmpint(cg_rtp_demux(dtls, sizeof(dtls)), ==, CG_DEMUX_DTLS);
	g_assert_cmpint(cg_rtp_demux(rtp, sizeof(rtp)), ==, CG_DEMUX_RTP);
	g_assert_cmpint(cg_rtp_demux(rtp_m, sizeof(rtp_m)), ==, CG_DEMUX_RTP);
	g_assert_cmpint(cg_rtp_demux(rtcp_sr, sizeof(rtcp_sr)), ==, CG_DEMUX_RTCP);
	g_assert_cmpint(cg_rtp_demux(rtcp_psfb, sizeof(rtcp_psfb)), ==, CG_DEMUX_RTCP);
	g_assert_cmpint(cg_rtp_demux(turn, sizeof(turn)), ==, CG_DEMUX_UNKNOWN);
	g_assert_cmpint(cg_rtp_demux(rtp, 1), ==, CG_DEMUX_UNKNOWN);
	g_assert_cmpint(cg_rtp_demux(NULL, 0), ==, CG_DEMUX_UNKNOWN);
}

static void test_timestamp(void)
{
	g_assert_cmpuint(cg_rtp_timestamp(1000000, 90000, 0), ==, 90000);
	g_assert_cmpuint(cg_rtp_timestamp(33333, 90000, 10), ==, 2999 + 10);
	g_assert_cmpuint(cg_rtp_timestamp(0, 90000, 0xffffffffu), ==, 0xffffffffu);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bytes/reader", test_bytes_reader);
	g_test_add_func("/bytes/writer", test_bytes_writer);
	g_test_add_func("/rtp/write-parse-plain", test_write_parse_plain);
	g_test_add_func("/rtp/playout-delay-extension", test_playout_delay_extension);
	g_test_add_func("/rtp/abs-capture-time-extension", test_abs_capture_time_extension);
	g_test_add_func("/rtp/parse-csrc-two-byte-padding", test_parse_csrc_two_byte_padding);
	g_test_add_func("/rtp/parse-malformed", test_parse_malformed);
	g_test_add_func("/rtp/demux", test_demux);
	g_test_add_func("/rtp/timestamp", test_timestamp);
	return g_test_run();
}
