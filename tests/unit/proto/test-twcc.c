/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Transport-wide CC: sequence numbering, feedback parsing (run-length and status-vector
 * chunks, small and large deltas), matching against the send history, malformed input. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proto/twcc.h"

/* Sent 10..19 every 5 ms, 1000 bytes each (sequence numbers start at 10). */
static void sent_ten(struct cg_twcc *t)
{
	cg_twcc_init(t);
	t->next_seq = 10;
	for (unsigned i = 0; i < 10; i++)
		g_assert_cmpuint(cg_twcc_on_send(t, 5000 + i * 5, 1000), ==, 10 + i);
}

/* clang-format off */
static const uint8_t feedback[] = {
	0x8f, 205, 0x00, 0x08,		/* V=2 FMT=15 RTPFB, length 8 (36 bytes) */
	0x11, 0x11, 0x11, 0x11,		/* sender SSRC */
	0x22, 0x22, 0x22, 0x22,		/* media SSRC */
	0x00, 10, 0x00, 10,		/* base 10, 10 statuses */
	0x00, 0x00, 0x01, 0x00,		/* reference time 1 (64 ms), fb count 0 */
	0xd4, 0x56,			/* 2-bit vector: 1 1 0 1 1 1 2 */
	0x20, 0x03,			/* run of 3 × "small delta" */
	4, 20, 20, 20, 20,		/* deltas of 10, 11, 13, 14, 15 (×250 µs) */
	0x00, 0x28,			/* 16: large delta, 10 ms */
	20, 20, 20,			/* 17, 18, 19 */
	0x00, 0x00,			/* padding */
};
/* clang-format on */

static void test_feedback(void)
{
	struct cg_twcc t;
	struct cg_twcc_report r;

	sent_ten(&t);
	g_assert_cmpint(cg_twcc_parse_feedback(&t, feedback, sizeof(feedback), &r), ==, 0);
	g_assert_cmpuint(r.reported, ==, 10);
	g_assert_cmpuint(r.received, ==, 9); /* 12 was lost */
	g_assert_cmpuint(r.bytes_received, ==, 9000);
	g_assert_cmpint(r.recv_span_us, ==, 45000);
	g_assert_cmpint(r.send_span_ms, ==, 45);
	g_assert_cmpuint(t.reported, ==, 10);
	g_assert_cmpuint(t.received, ==, 9);
}

static void test_unknown_sequence(void)
{
	struct cg_twcc t;
	struct cg_twcc_report r;

	/* Feedback about packets we never sent (or forgot) is parsed but matches nothing. */
	cg_twcc_init(&t);
	t.next_seq = 3000;
	g_assert_cmpint(cg_twcc_parse_feedback(&t, feedback, sizeof(feedback), &r), ==, 0);
	g_assert_cmpuint(r.reported, ==, 0);
	g_assert_cmpuint(r.received, ==, 0);
}

static void test_malformed(void)
{
	struct cg_twcc t;
	struct cg_twcc_report r = { .reported = 77 };
	uint8_t b[sizeof(feedback)];

	sent_ten(&t);
	/* Every truncation inside the chunks or deltas is rejected and changes nothing. */
	for (size_t n = 0; n < 33; n++) {
		int e = cg_twcc_parse_feedback(&t, feedback, n, &r);

		g_assert_true(e == -EBADMSG || (n < 2 && e == -ENOMSG));
	}
	g_assert_cmpuint(r.reported, ==, 77);
	g_assert_cmpuint(t.reported, ==, 0);
	memcpy(b, feedback, sizeof(b));
	b[0] = 0x81; /* FMT 1: a generic NACK, not ours */
	g_assert_cmpint(cg_twcc_parse_feedback(&t, b, sizeof(b), &r), ==, -ENOMSG);
	memcpy(b, feedback, sizeof(b));
	b[21] = 0x57; /* last 2-bit symbol = 3, reserved */
	g_assert_cmpint(cg_twcc_parse_feedback(&t, b, sizeof(b), &r), ==, -EBADMSG);
	memcpy(b, feedback, sizeof(b));
	b[15] = 0; /* zero statuses */
	g_assert_cmpint(cg_twcc_parse_feedback(&t, b, sizeof(b), &r), ==, -EBADMSG);
	memcpy(b, feedback, sizeof(b));
	b[22] = 0x20, b[23] = 0x00; /* run length 0 */
	g_assert_cmpint(cg_twcc_parse_feedback(&t, b, sizeof(b), &r), ==, -EBADMSG);
}

static void test_compound(void)
{
	uint8_t buf[8 + sizeof(feedback)] = { 0x80, 201, 0x00, 0x01, 1, 2, 3, 4 }; /* empty RR */
	struct cg_twcc t;
	struct cg_twcc_report r;

	sent_ten(&t);
	memcpy(buf + 8, feedback, sizeof(feedback));
	g_assert_cmpint(cg_twcc_read_compound(&t, buf, sizeof(buf), &r), ==, 1);
	g_assert_cmpuint(r.received, ==, 9);
	g_assert_cmpint(cg_twcc_read_compound(&t, buf, 8, &r), ==, 0);
	buf[3] = 0x40; /* the RR claims more than there is */
	g_assert_cmpint(cg_twcc_read_compound(&t, buf, sizeof(buf), &r), ==, -EBADMSG);
}

static void test_history_wrap(void)
{
	struct cg_twcc t;

	cg_twcc_init(&t);
	t.next_seq = 65534;
	g_assert_cmpuint(cg_twcc_on_send(&t, 1, 100), ==, 65534);
	g_assert_cmpuint(cg_twcc_on_send(&t, 2, 100), ==, 65535);
	g_assert_cmpuint(cg_twcc_on_send(&t, 3, 100), ==, 0);
	g_assert_cmpuint(t.sent[0].seq, ==, 0);
	g_assert_cmpuint(t.sent[65535 % CG_TWCC_HISTORY].send_ms, ==, 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/twcc/feedback", test_feedback);
	g_test_add_func("/twcc/unknown-sequence", test_unknown_sequence);
	g_test_add_func("/twcc/malformed", test_malformed);
	g_test_add_func("/twcc/compound", test_compound);
	g_test_add_func("/twcc/history-wrap", test_history_wrap);
	return g_test_run();
}
