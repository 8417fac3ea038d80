/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cg_srtp with fixed keys, for each profile: round trips in both directions (RTP, RTCP),
 * tamper, replay, retransmission, buffer room and malformed input.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "crypto/srtp.h"

#define RTP_HDR 12
#define PAYLOAD 160
#define RTP_LEN (RTP_HDR + PAYLOAD)
#define SR_LEN	28

struct fixture {
	struct cg_srtp *server; /* the DTLS server: us */
	struct cg_srtp *client; /* the viewer */
	enum cg_srtp_profile profile;
};

static void make_keys(enum cg_srtp_profile profile, struct cg_srtp_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	keys->profile = profile;
	keys->key_len = 16;
	keys->salt_len = profile == CG_SRTP_AEAD_AES_128_GCM ? 12 : 14;
	for (unsigned i = 0; i < keys->key_len + keys->salt_len; i++) {
		keys->client_key_salt[i] = (uint8_t)(0x10 + i);
		keys->server_key_salt[i] = (uint8_t)(0xa0 + 3 * i);
	}
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	struct cg_srtp_keys keys;

	f->profile = GPOINTER_TO_INT(data);
	make_keys(f->profile, &keys);
	g_assert_cmpint(cg_srtp_new(&keys, true, &f->server), ==, 0);
	g_assert_cmpint(cg_srtp_new(&keys, false, &f->client), ==, 0);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	f->server = cg_srtp_free(f->server);
	f->client = cg_srtp_free(f->client);
}

/* V=2, PT 96, the given sequence number, SSRC 0x01020304, a recognisable payload. */
static void make_rtp(uint8_t *buf, uint16_t seq)
{
	static const uint8_t hdr[RTP_HDR] = { 0x80, 96, 0, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4 };

	memcpy(buf, hdr, RTP_HDR);
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	for (unsigned i = 0; i < PAYLOAD; i++)
		buf[RTP_HDR + i] = (uint8_t)(i * 7 + seq);
}

/* An RTCP sender report without report blocks (RFC 3550 §6.4.1). */
static void make_sr(uint8_t *buf)
{
	static const uint8_t sr[SR_LEN] = {
		0x80, 200, 0, 6, 1,    2,    3, 4, 0xe0, 0, 0, 0, 0, 0,
		0,    0,   0, 0, 0x12, 0x34, 0, 0, 0,	 1, 0, 0, 0, 160
	};

	memcpy(buf, sr, SR_LEN);
}

static void round_trip_rtp(struct cg_srtp *tx, struct cg_srtp *rx, uint16_t seq)
{
	uint8_t buf[RTP_LEN + CG_SRTP_MAX_TRAILER], orig[RTP_LEN];
	int n;

	make_rtp(buf, seq);
	memcpy(orig, buf, RTP_LEN);
	n = cg_srtp_protect(tx, buf, RTP_LEN, sizeof(buf));
	g_assert_cmpint(n, >, RTP_LEN);
	g_assert_cmpint(n, <=, RTP_LEN + CG_SRTP_MAX_TRAILER);
	g_assert_true(memcmp(buf + RTP_HDR, orig + RTP_HDR, PAYLOAD) != 0); /* encrypted */
	n = cg_srtp_unprotect(rx, buf, (size_t)n);
	g_assert_cmpmem(buf, n, orig, RTP_LEN);
}

static void test_srtp_rtp_round_trip(struct fixture *f, gconstpointer data)
{
	for (uint16_t seq = 1; seq < 20; seq++)
		round_trip_rtp(f->server, f->client, seq);
	/* The other direction uses the other key half (RFC 5764 §4.2). */
	round_trip_rtp(f->client, f->server, 7);
}

static void test_srtp_rtcp_round_trip(struct fixture *f, gconstpointer data)
{
	uint8_t buf[SR_LEN + CG_SRTP_MAX_TRAILER], orig[SR_LEN];
	int n;

	for (unsigned dir = 0; dir < 2; dir++) {
		struct cg_srtp *tx = dir ? f->client : f->server;
		struct cg_srtp *rx = dir ? f->server : f->client;

		make_sr(buf);
		memcpy(orig, buf, SR_LEN);
		n = cg_srtp_protect_rtcp(tx, buf, SR_LEN, sizeof(buf));
		g_assert_cmpint(n, >, SR_LEN);
		g_assert_cmpint(n, <=, SR_LEN + CG_SRTP_MAX_TRAILER);
		n = cg_srtp_unprotect_rtcp(rx, buf, (size_t)n);
		g_assert_cmpmem(buf, n, orig, SR_LEN);
	}
}

static void test_srtp_tamper(struct fixture *f, gconstpointer data)
{
	uint8_t buf[RTP_LEN + CG_SRTP_MAX_TRAILER], copy[sizeof(buf)];
	uint8_t rtcp[SR_LEN + CG_SRTP_MAX_TRAILER];
	int n;

	make_rtp(buf, 100);
	n = cg_srtp_protect(f->server, buf, RTP_LEN, sizeof(buf));
	g_assert_cmpint(n, >, 0);
	memcpy(copy, buf, sizeof(buf));
	buf[RTP_HDR + 5] ^= 0x01; /* payload */
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, (size_t)n), ==, -EACCES);
	memcpy(buf, copy, sizeof(buf));
	buf[n - 1] ^= 0x80; /* tag */
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, (size_t)n), ==, -EACCES);
	/* A failed check does not burn the sequence number: the genuine packet still opens. */
	memcpy(buf, copy, sizeof(buf));
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, (size_t)n), ==, RTP_LEN);

	make_sr(rtcp);
	n = cg_srtp_protect_rtcp(f->server, rtcp, SR_LEN, sizeof(rtcp));
	g_assert_cmpint(n, >, 0);
	rtcp[10] ^= 0x40;
	g_assert_cmpint(cg_srtp_unprotect_rtcp(f->client, rtcp, (size_t)n), ==, -EACCES);
}

static void test_srtp_replay(struct fixture *f, gconstpointer data)
{
	uint8_t buf[RTP_LEN + CG_SRTP_MAX_TRAILER], copy[sizeof(buf)];
	uint8_t rtcp[SR_LEN + CG_SRTP_MAX_TRAILER], rtcp_copy[sizeof(rtcp)];
	int n;

	make_rtp(buf, 500);
	n = cg_srtp_protect(f->server, buf, RTP_LEN, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, (size_t)n), ==, RTP_LEN);
	memcpy(buf, copy, sizeof(buf));
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, (size_t)n), ==, -EALREADY);

	make_sr(rtcp);
	n = cg_srtp_protect_rtcp(f->server, rtcp, SR_LEN, sizeof(rtcp));
	memcpy(rtcp_copy, rtcp, sizeof(rtcp));
	g_assert_cmpint(cg_srtp_unprotect_rtcp(f->client, rtcp, (size_t)n), ==, SR_LEN);
	g_assert_cmpint(cg_srtp_unprotect_rtcp(f->client, rtcp_copy, (size_t)n), ==, -EALREADY);
}

/* NACK retransmission resends a sequence number: protect must accept it (allow_repeat_tx). */
static void test_srtp_retransmit(struct fixture *f, gconstpointer data)
{
	uint8_t a[RTP_LEN + CG_SRTP_MAX_TRAILER], b[sizeof(a)];
	int na, nb;

	make_rtp(a, 42);
	make_rtp(b, 42);
	na = cg_srtp_protect(f->server, a, RTP_LEN, sizeof(a));
	nb = cg_srtp_protect(f->server, b, RTP_LEN, sizeof(b));
	g_assert_cmpint(na, >, 0);
	g_assert_cmpmem(a, na, b, nb);
	g_assert_cmpint(cg_srtp_unprotect(f->client, b, (size_t)nb), ==, RTP_LEN);
}

static void test_srtp_room_and_malformed(struct fixture *f, gconstpointer data)
{
	uint8_t buf[RTP_LEN + CG_SRTP_MAX_TRAILER];

	make_rtp(buf, 9);
	g_assert_cmpint(cg_srtp_protect(f->server, buf, RTP_LEN, sizeof(buf) - 1), ==, -ENOSPC);
	g_assert_cmpint(cg_srtp_protect_rtcp(f->server, buf, SR_LEN, SR_LEN + 31), ==, -ENOSPC);
	/* The refused packet was left alone. */
	{
		uint8_t orig[RTP_LEN];

		make_rtp(orig, 9);
		g_assert_cmpmem(buf, RTP_LEN, orig, RTP_LEN);
	}
	g_assert_cmpint(cg_srtp_protect(f->server, buf, 4, sizeof(buf)), ==, -EBADMSG);
	g_assert_cmpint(cg_srtp_unprotect(f->client, buf, 4), ==, -EBADMSG);
	g_assert_cmpint(cg_srtp_unprotect_rtcp(f->client, buf, 4), ==, -EBADMSG);
	g_assert_cmpint(cg_srtp_protect(NULL, buf, RTP_LEN, sizeof(buf)), ==, -EINVAL);
}

static void test_srtp_new_errors(void)
{
	struct cg_srtp_keys keys;
	struct cg_srtp *srtp = NULL;

	make_keys(CG_SRTP_AES128_CM_SHA1_80, &keys);
	keys.profile = 3;
	g_assert_cmpint(cg_srtp_new(&keys, true, &srtp), ==, -ENOTSUP);
	make_keys(CG_SRTP_AES128_CM_SHA1_80, &keys);
	keys.salt_len = 12;
	g_assert_cmpint(cg_srtp_new(&keys, true, &srtp), ==, -EINVAL);
	g_assert_cmpint(cg_srtp_new(NULL, true, &srtp), ==, -EINVAL);
	g_assert_null(srtp);
	g_assert_null(cg_srtp_free(NULL));
}

/* Keys that don't match (another association) fail authentication, not parsing. */
static void test_srtp_wrong_key(void)
{
	struct cg_srtp_keys keys;
	struct cg_srtp *tx = NULL, *rx = NULL;
	uint8_t buf[RTP_LEN + CG_SRTP_MAX_TRAILER];
	int n;

	make_keys(CG_SRTP_AES128_CM_SHA1_80, &keys);
	g_assert_cmpint(cg_srtp_new(&keys, true, &tx), ==, 0);
	/* Same role on both ends: the receiver expects the client half. */
	g_assert_cmpint(cg_srtp_new(&keys, true, &rx), ==, 0);
	make_rtp(buf, 1);
	n = cg_srtp_protect(tx, buf, RTP_LEN, sizeof(buf));
	g_assert_cmpint(cg_srtp_unprotect(rx, buf, (size_t)n), ==, -EACCES);
	cg_srtp_free(tx);
	cg_srtp_free(rx);
}

static gpointer init_thread(gpointer data)
{
	return GINT_TO_POINTER(cg_srtp_global_init());
}

static void test_srtp_global_init_threads(void)
{
	GThread *threads[4];

	for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("init", init_thread, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++)
		g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(threads[i])), ==, 0);
	g_assert_cmpint(cg_srtp_global_init(), ==, 0);
}

/*
 * Known answers: packets of every length class (empty payload, under, at and over one AES
 * block, a video-sized one) and an SRTCP report, protected with fixed keys, hashed. The
 * hashes were made by libsrtp2's own AES-CM and HMAC-SHA1 (Debian's: NSS), run with
 * CAMGATE_SRTP_CRYPTO=libsrtp2; meson runs this test both ways (crypto-srtp and
 * crypto-srtp-libsrtp2), so nettle's (crypto/srtp_nettle.c) must give the same bytes.
 */
static void test_srtp_known_answer(void)
{
	static const unsigned payloads[] = { 0, 1, 15, 16, 17, 160, 1100 };
	const char *want = "40528de93320e170caac3481c81589b7dee69304e17a1042a54a6970c9f79070";
	const char *expect_crypto = g_getenv("CAMGATE_SRTP_CRYPTO") ? "libsrtp2" : "nettle";
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	struct cg_srtp_keys keys;
	struct cg_srtp *tx;
	uint8_t buf[12 + 1100 + CG_SRTP_MAX_TRAILER];
	int n;

	make_keys(CG_SRTP_AES128_CM_SHA1_80, &keys);
	g_assert_cmpint(cg_srtp_new(&keys, true, &tx), ==, 0);
	g_assert_cmpstr(cg_srtp_crypto_name(), ==, expect_crypto);
	for (unsigned round = 0; round < 3; round++) {
		for (size_t i = 0; i < G_N_ELEMENTS(payloads); i++) {
			uint16_t seq = (uint16_t)(65530 + round * G_N_ELEMENTS(payloads) + i);

			for (size_t b = 0; b < sizeof(buf); b++)
				buf[b] = (uint8_t)(b * 13 + seq);
			make_rtp(buf, seq); /* wraps past 65535: the ROC steps */
			n = cg_srtp_protect(tx, buf, RTP_HDR + payloads[i], sizeof(buf));
			g_assert_cmpint(n, ==, RTP_HDR + payloads[i] + 10);
			g_checksum_update(sum, buf, (gssize)n);
		}
		make_sr(buf);
		n = cg_srtp_protect_rtcp(tx, buf, SR_LEN, sizeof(buf));
		g_assert_cmpint(n, >, SR_LEN);
		g_checksum_update(sum, buf, (gssize)n);
	}
	g_test_message("protected bytes with %s: SHA-256 %s", cg_srtp_crypto_name(),
		       g_checksum_get_string(sum));
	g_assert_cmpstr(g_checksum_get_string(sum), ==, want);
	g_checksum_free(sum);
	cg_srtp_free(tx);
}

#define ADD(name, profile, fn)                                                                     \
	g_test_add(name, struct fixture, GINT_TO_POINTER(profile), fixture_setup, fn,              \
		   fixture_teardown)

static void add_profile_tests(const char *prefix, enum cg_srtp_profile profile)
{
	static const struct {
		const char *name;
		void (*fn)(struct fixture *, gconstpointer);
	} cases[] = {
		{ "rtp-round-trip", test_srtp_rtp_round_trip },
		{ "rtcp-round-trip", test_srtp_rtcp_round_trip },
		{ "tamper", test_srtp_tamper },
		{ "replay", test_srtp_replay },
		{ "retransmit", test_srtp_retransmit },
		{ "room-and-malformed", test_srtp_room_and_malformed },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("%s/%s", prefix, cases[i].name);

		ADD(path, profile, cases[i].fn);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crypto/srtp/global-init-threads", test_srtp_global_init_threads);
	g_test_add_func("/crypto/srtp/new-errors", test_srtp_new_errors);
	g_test_add_func("/crypto/srtp/wrong-key", test_srtp_wrong_key);
	g_test_add_func("/crypto/srtp/known-answer", test_srtp_known_answer);
	add_profile_tests("/crypto/srtp/aes-cm", CG_SRTP_AES128_CM_SHA1_80);
	add_profile_tests("/crypto/srtp/aes-gcm", CG_SRTP_AEAD_AES_128_GCM);
	return g_test_run();
}
