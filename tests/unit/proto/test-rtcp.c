/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RTCP: SR+SDES golden bytes, compound parsing, and rejection of every truncation. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proto/rtcp.h"

static void test_ntp(void)
{
	g_assert_cmphex(cg_rtcp_ntp_from_unix_usec(0), ==, 2208988800ull << 32);
	g_assert_cmphex(cg_rtcp_ntp_from_unix_usec(1500000), ==,
			(2208988801ull << 32) | 0x80000000ull);
}

static void test_build_sr_golden(void)
{
	/* clang-format off */
	static const uint8_t golden[] = {
		/* SR: V=2 RC=0, PT=200, length 6 */
		0x80, 0xc8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44,
		0x83, 0xaa, 0x7e, 0x81, 0x80, 0x00, 0x00, 0x00, /* NTP */
		0x00, 0x01, 0x5f, 0x90, /* RTP ts 90000 */
		0x00, 0x00, 0x00, 0x0a, /* packets */
		0x00, 0x00, 0x30, 0x39, /* octets */
		/* SDES: V=2 SC=1, PT=202, length 3; CNAME "abcd", 2 zero bytes */
		0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
		0x01, 0x04, 'a', 'b', 'c', 'd', 0x00, 0x00,
	};
	/* clang-format on */
	struct cg_rtcp_sr sr = { .ssrc = 0x11223344,
				 .ntp = cg_rtcp_ntp_from_unix_usec(1500000),
				 .rtp_timestamp = 90000,
				 .packet_count = 10,
				 .octet_count = 12345,
				 .cname = "abcd" };
	uint8_t buf[128];
	char longname[300];
	struct cg_rtcp_info info;

	g_assert_cmpint(cg_rtcp_build_sr(buf, sizeof(buf), &sr), ==, sizeof(golden));
	g_assert_cmpmem(buf, sizeof(golden), golden, sizeof(golden));
	g_assert_cmpint(cg_rtcp_parse(buf, sizeof(golden), &info), ==, 0);
	g_assert_true(info.has_sr);
	g_assert_cmphex(info.sr_ntp, ==, sr.ntp);
	g_assert_cmphex(info.sender_ssrc, ==, 0x11223344);
	g_assert_cmpint(cg_rtcp_build_sr(buf, sizeof(golden) - 1, &sr), ==, -ENOSPC);
	/* A CNAME of length ≡ 2 mod 4 still gets a terminating zero: 4 bytes of padding. */
	sr.cname = "ab";
	g_assert_cmpint(cg_rtcp_build_sr(buf, sizeof(buf), &sr), ==, 28 + 8 + 8);
	g_assert_cmpmem(buf + 36, 8,
			"\x01\x02"
			"ab\0\0\0\0",
			8);
	sr.cname = NULL;
	g_assert_cmpint(cg_rtcp_build_sr(buf, sizeof(buf), &sr), ==, 28);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	sr.cname = longname;
	g_assert_cmpint(cg_rtcp_build_sr(buf, sizeof(buf), &sr), ==, -EINVAL);
}

/* Every proper prefix of a valid packet must be rejected, leaving *ret untouched. */
static void assert_truncations_rejected(const uint8_t *pkt, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		struct cg_rtcp_info info = { .sender_ssrc = 0x5a5a5a5a };

		if (n % 4 == 0 && n > 0)
			continue; /* may be a valid shorter compound; checked separately */
		g_assert_cmpint(cg_rtcp_parse(pkt, n, &info), ==, -EBADMSG);
		g_assert_cmphex(info.sender_ssrc, ==, 0x5a5a5a5a);
	}
}

static void test_rr_round_trip(void)
{
	struct cg_rtcp_report_block blocks[2] = {
		{ .ssrc = 0xabcdef01,
		  .fraction_lost = 25,
		  .cumulative_lost = -3,
		  .highest_seq = 0x00010203,
		  .jitter = 42,
		  .lsr = 0x11112222,
		  .dlsr = 65536 },
		{ .ssrc = 2, .cumulative_lost = 0x7fffff },
	};
	uint8_t buf[128];
	struct cg_rtcp_info info;
	int n = cg_rtcp_build_rr(buf, sizeof(buf), 0x99, blocks, 2);

	g_assert_cmpint(n, ==, 8 + 48);
	g_assert_cmpint(cg_rtcp_parse(buf, (size_t)n, &info), ==, 0);
	g_assert_cmphex(info.sender_ssrc, ==, 0x99);
	g_assert_false(info.has_sr);
	g_assert_cmpuint(info.n_report_blocks, ==, 2);
	g_assert_cmphex(info.report_blocks[0].ssrc, ==, blocks[0].ssrc);
	g_assert_cmpuint(info.report_blocks[0].fraction_lost, ==, 25);
	g_assert_cmpint(info.report_blocks[0].cumulative_lost, ==, -3);
	g_assert_cmphex(info.report_blocks[0].highest_seq, ==, blocks[0].highest_seq);
	g_assert_cmpuint(info.report_blocks[0].jitter, ==, 42);
	g_assert_cmphex(info.report_blocks[0].lsr, ==, blocks[0].lsr);
	g_assert_cmpuint(info.report_blocks[0].dlsr, ==, 65536);
	g_assert_cmpint(info.report_blocks[1].cumulative_lost, ==, 0x7fffff);
	assert_truncations_rejected(buf, (size_t)n);
	/* The header claims 2 blocks but the length covers 1. */
	buf[3] = 7;
	g_assert_cmpint(cg_rtcp_parse(buf, 32, &info), ==, -EBADMSG);
}

static void test_feedback(void)
{
	uint8_t buf[64];
	struct cg_rtcp_info info;
	static const uint16_t seqs[] = { 100, 101, 116, 117, 200 };
	int n;

	n = cg_rtcp_build_pli(buf, sizeof(buf), 1, 0xfeed);
	g_assert_cmpint(n, ==, 12);
	g_assert_cmpint(cg_rtcp_parse(buf, (size_t)n, &info), ==, 0);
	g_assert_true(info.pli);
	g_assert_cmphex(info.pli_media_ssrc, ==, 0xfeed);
	assert_truncations_rejected(buf, (size_t)n);

	n = cg_rtcp_build_fir(buf, sizeof(buf), 1, 0xbeef, 7);
	g_assert_cmpint(n, ==, 20);
	g_assert_cmpint(cg_rtcp_parse(buf, (size_t)n, &info), ==, 0);
	g_assert_true(info.fir);
	g_assert_cmphex(info.fir_media_ssrc, ==, 0xbeef);
	g_assert_cmpuint(info.fir_seq, ==, 7);
	assert_truncations_rejected(buf, (size_t)n);
	buf[3] = 2; /* FIR without an FCI entry */
	g_assert_cmpint(cg_rtcp_parse(buf, 12, &info), ==, -EBADMSG);

	n = cg_rtcp_build_nack(buf, sizeof(buf), 1, 0xcafe, seqs, G_N_ELEMENTS(seqs));
	g_assert_cmpint(n, ==, 12 + 3 * 4); /* {100: +1, +16}, {117}, {200} */
	g_assert_cmpint(cg_rtcp_parse(buf, (size_t)n, &info), ==, 0);
	g_assert_cmphex(info.nack_media_ssrc, ==, 0xcafe);
	g_assert_cmpuint(info.n_nacks, ==, 5);
	for (unsigned i = 0; i < G_N_ELEMENTS(seqs); i++)
		g_assert_cmpuint(info.nacks[i], ==, seqs[i]);
	assert_truncations_rejected(buf, (size_t)n);
}

static void test_nack_overflow(void)
{
	/* 5 FCI entries with all 17 bits each: 85 > 64 NACKs, 21 counted as truncated. */
	uint8_t buf[12 + 20] = { 0x81, 205, 0, 7 };
	struct cg_rtcp_info info;

	for (int i = 0; i < 5; i++) {
		buf[12 + 4 * i] = (uint8_t)(i + 1);
		buf[14 + 4 * i] = 0xff;
		buf[15 + 4 * i] = 0xff;
	}
	g_assert_cmpint(cg_rtcp_parse(buf, sizeof(buf), &info), ==, 0);
	g_assert_cmpuint(info.n_nacks, ==, CG_RTCP_MAX_NACKS);
	g_assert_cmpuint(info.truncated, ==, 85 - CG_RTCP_MAX_NACKS);
	g_assert_cmpuint(info.nacks[0], ==, 256);
	g_assert_cmpuint(info.nacks[1], ==, 257);
}

static void test_remb_bye_compound(void)
{
	/* clang-format off */
	static const uint8_t pkt[] = {
		/* RR with no blocks */
		0x80, 201, 0, 1, 0, 0, 0, 0x42,
		/* REMB: FMT 15, PT 206, len 5; bitrate exp 3 mantissa 0x3ffff; 1 SSRC */
		0x8f, 206, 0, 5, 0, 0, 0, 0x42, 0, 0, 0, 0,
		'R', 'E', 'M', 'B', 1, 0x0f, 0xff, 0xff, 0x12, 0x34, 0x56, 0x78,
		/* SDES (skipped) */
		0x81, 202, 0, 2, 0, 0, 0, 0x42, 1, 1, 'x', 0,
		/* TWCC (RTPFB FMT 15, ignored) */
		0x8f, 205, 0, 3, 0, 0, 0, 0x42, 0, 0, 0, 1, 0, 0, 0, 0,
		/* BYE with one SSRC and padding of 4 bytes */
		0xa1, 203, 0, 2, 0, 0, 0, 0x42, 0, 0, 0, 4,
	};
	/* clang-format on */
	struct cg_rtcp_info info;

	g_assert_cmpint(cg_rtcp_parse(pkt, sizeof(pkt), &info), ==, 0);
	g_assert_cmphex(info.sender_ssrc, ==, 0x42);
	g_assert_true(info.remb);
	g_assert_cmpuint(info.remb_bitrate_bps, ==, 0x3ffffull << 3);
	g_assert_true(info.bye);
	g_assert_false(info.pli);
	assert_truncations_rejected(pkt, sizeof(pkt));
}

static void test_malformed(void)
{
	uint8_t pkt[] = { 0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2 };
	struct cg_rtcp_info info = { .pli = false };

	g_assert_cmpint(cg_rtcp_parse(pkt, sizeof(pkt), &info), ==, 0);
	g_assert_true(info.pli);
	/* A valid PLI followed by a bad packet reports nothing. */
	{
		uint8_t two[24];
		struct cg_rtcp_info none = { 0 };

		memcpy(two, pkt, 12);
		memcpy(two + 12, pkt, 12);
		two[12] = 0x41; /* version 1 */
		g_assert_cmpint(cg_rtcp_parse(two, sizeof(two), &none), ==, -EBADMSG);
		g_assert_false(none.pli);
	}
	pkt[1] = 96; /* not an RTCP packet type (RFC 5761 §4) */
	g_assert_cmpint(cg_rtcp_parse(pkt, sizeof(pkt), &info), ==, -EBADMSG);
	pkt[1] = 206;
	pkt[0] = 0xa1; /* padding of 0 bytes */
	pkt[11] = 0;
	g_assert_cmpint(cg_rtcp_parse(pkt, sizeof(pkt), &info), ==, -EBADMSG);
	pkt[11] = 13; /* padding longer than the packet */
	g_assert_cmpint(cg_rtcp_parse(pkt, sizeof(pkt), &info), ==, -EBADMSG);
	pkt[0] = 0x81;
	pkt[3] = 0; /* a zero-length PSFB has no SSRCs */
	g_assert_cmpint(cg_rtcp_parse(pkt, 4, &info), ==, -EBADMSG);
	g_assert_cmpint(cg_rtcp_parse(NULL, 0, &info), ==, -EBADMSG);
}

static void test_reduced_size(void)
{
	/* RFC 5506: a lone PLI, no RR first. */
	uint8_t buf[16];
	struct cg_rtcp_info info;
	int n = cg_rtcp_build_pli(buf, sizeof(buf), 0x7, 0x8);

	g_assert_cmpint(cg_rtcp_parse(buf, (size_t)n, &info), ==, 0);
	g_assert_true(info.pli);
	g_assert_cmpuint(info.n_report_blocks, ==, 0);
	g_assert_cmpint(cg_rtcp_build_pli(buf, 11, 0x7, 0x8), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtcp/ntp", test_ntp);
	g_test_add_func("/rtcp/build-sr-golden", test_build_sr_golden);
	g_test_add_func("/rtcp/rr-round-trip", test_rr_round_trip);
	g_test_add_func("/rtcp/feedback", test_feedback);
	g_test_add_func("/rtcp/nack-overflow", test_nack_overflow);
	g_test_add_func("/rtcp/remb-bye-compound", test_remb_bye_compound);
	g_test_add_func("/rtcp/malformed", test_malformed);
	g_test_add_func("/rtcp/reduced-size", test_reduced_size);
	return g_test_run();
}
