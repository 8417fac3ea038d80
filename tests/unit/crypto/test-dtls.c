/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cg_dtls: two endpoints wired back to back in memory. Datagrams are shuttled by hand, so
 * each test decides what is lost or forged. Retransmission tests wait on a real timer
 * (poll() without fds) for the few milliseconds GnuTLS asks for: GnuTLS reads its own
 * clock, so fake time cannot drive it.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <glib.h>
#include <gnutls/gnutls.h>

#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "crypto/srtp.h"

#define MAX_DATAGRAM 2048
#define MAX_ROUNDS   64

struct pair {
	struct cg_cert *client_cert;
	struct cg_cert *server_cert;
	struct cg_cert *other_cert; /* a third identity, for mismatches */
	struct cg_dtls *client;
	struct cg_dtls *server;
};

enum mismatch { MISMATCH_NONE, MISMATCH_AT_SERVER, MISMATCH_AT_CLIENT };

/* Creates both endpoints without starting them. */
static void pair_init(struct pair *p, enum mismatch mismatch)
{
	const char *server_expects, *client_expects;

	memset(p, 0, sizeof(*p));
	g_assert_cmpint(cg_cert_new(&p->client_cert), ==, 0);
	g_assert_cmpint(cg_cert_new(&p->server_cert), ==, 0);
	g_assert_cmpint(cg_cert_new(&p->other_cert), ==, 0);
	server_expects = cg_cert_fingerprint(mismatch == MISMATCH_AT_SERVER ? p->other_cert
									    : p->client_cert);
	client_expects = cg_cert_fingerprint(mismatch == MISMATCH_AT_CLIENT ? p->other_cert
									    : p->server_cert);
	g_assert_cmpint(
		cg_dtls_new(p->server_cert, CG_DTLS_SERVER, "sha-256", server_expects, &p->server),
		==, 0);
	g_assert_cmpint(
		cg_dtls_new(p->client_cert, CG_DTLS_CLIENT, "sha-256", client_expects, &p->client),
		==, 0);
}

static void pair_start(struct pair *p)
{
	g_assert_cmpint(cg_dtls_start(p->server), ==, 0);
	g_assert_cmpint(cg_dtls_start(p->client), ==, 0);
}

static void pair_fini(struct pair *p)
{
	p->client = cg_dtls_free(p->client);
	p->server = cg_dtls_free(p->server);
	p->client_cert = cg_cert_free(p->client_cert);
	p->server_cert = cg_cert_free(p->server_cert);
	p->other_cert = cg_cert_free(p->other_cert);
}

/* Moves every queued datagram from one endpoint to the other; returns how many. */
static unsigned shuttle(struct cg_dtls *from, struct cg_dtls *to)
{
	uint8_t buf[MAX_DATAGRAM];
	unsigned n = 0;
	int len;

	while ((len = cg_dtls_poll_transmit(from, buf, sizeof(buf))) > 0) {
		g_assert_cmpint(cg_dtls_handle_datagram(to, buf, (size_t)len), ==, 0);
		n++;
	}
	g_assert_cmpint(len, ==, -EAGAIN);
	return n;
}

/* Drops every queued datagram (a lost flight); returns how many. */
static unsigned drop_all(struct cg_dtls *from)
{
	uint8_t buf[MAX_DATAGRAM];
	unsigned n = 0;

	while (cg_dtls_poll_transmit(from, buf, sizeof(buf)) > 0)
		n++;
	return n;
}

/* Delivers until both sides are quiet. */
static void pump(struct pair *p)
{
	for (unsigned i = 0; i < MAX_ROUNDS; i++) {
		if (shuttle(p->client, p->server) + shuttle(p->server, p->client) == 0)
			return;
	}
	g_assert_not_reached();
}

static enum cg_dtls_event_type next_event(struct cg_dtls *dtls, struct cg_dtls_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!cg_dtls_poll_event(dtls, ev))
		return CG_DTLS_EVENT_NONE;
	return ev->type;
}

/* Waits until the endpoint's retransmit timer fires and it has resent something. */
static void wait_for_retransmit(struct cg_dtls *dtls)
{
	uint8_t buf[MAX_DATAGRAM];

	for (unsigned i = 0; i < MAX_ROUNDS; i++) {
		int ms = cg_dtls_poll_timeout_ms(dtls);

		g_assert_cmpint(ms, >=, 0);
		/* A timer wait, not a sleep-poll: poll() with no fds returns after ms. */
		poll(NULL, 0, ms);
		g_assert_cmpint(cg_dtls_handle_timeout(dtls), ==, 0);
		if (cg_dtls_poll_transmit(dtls, buf, 0) == -ENOSPC)
			return;
	}
	g_assert_not_reached();
}

static void assert_connected_pair(struct pair *p, struct cg_dtls_event *cev,
				  struct cg_dtls_event *sev)
{
	g_assert_cmpint(next_event(p->client, cev), ==, CG_DTLS_EVENT_CONNECTED);
	g_assert_cmpint(next_event(p->server, sev), ==, CG_DTLS_EVENT_CONNECTED);
	g_assert_true(cg_dtls_is_connected(p->client));
	g_assert_true(cg_dtls_is_connected(p->server));
	g_assert_cmpint(cev->keys.profile, ==, sev->keys.profile);
	g_assert_cmpuint(cev->keys.key_len, ==, 16);
	g_assert_cmpuint(cev->keys.salt_len, ==,
			 cev->keys.profile == CG_SRTP_AEAD_AES_128_GCM ? 12 : 14);
	g_assert_cmpuint(sev->keys.salt_len, ==, cev->keys.salt_len);
	/* RFC 5764 §4.2: both ends derive the same client and server halves. */
	g_assert_cmpmem(cev->keys.client_key_salt, sizeof(cev->keys.client_key_salt),
			sev->keys.client_key_salt, sizeof(sev->keys.client_key_salt));
	g_assert_cmpmem(cev->keys.server_key_salt, sizeof(cev->keys.server_key_salt),
			sev->keys.server_key_salt, sizeof(sev->keys.server_key_salt));
	g_assert_true(memcmp(cev->keys.client_key_salt, cev->keys.server_key_salt, 16) != 0);
	/* CONNECTED comes once; no timers once connected. */
	g_assert_cmpint(next_event(p->client, cev + 1), ==, CG_DTLS_EVENT_NONE);
	g_assert_cmpint(next_event(p->server, sev + 1), ==, CG_DTLS_EVENT_NONE);
	g_assert_cmpint(cg_dtls_poll_timeout_ms(p->client), ==, -1);
	g_assert_cmpint(cg_dtls_poll_timeout_ms(p->server), ==, -1);
}

static void test_dtls_handshake_default(void)
{
	struct cg_dtls_event cev[2], sev[2];
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	pair_start(&p);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	if (cev[0].keys.profile != CG_SRTP_AEAD_AES_128_GCM)
		g_test_message("this GnuTLS negotiates no GCM, got AES-CM");
	pair_fini(&p);
}

static void run_forced_profile(enum cg_srtp_profile profile, bool on_server)
{
	struct cg_dtls_event cev[2], sev[2];
	struct pair p;
	int r;

	pair_init(&p, MISMATCH_NONE);
	r = cg_dtls_set_srtp_profiles(on_server ? p.server : p.client, &profile, 1);
	if (r == -ENOTSUP) {
		pair_fini(&p);
		g_test_skip("this GnuTLS cannot negotiate the profile (GCM needs GnuTLS >= 3.8)");
		return;
	}
	g_assert_cmpint(r, ==, 0);
	pair_start(&p);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	g_assert_cmpint(cev[0].keys.profile, ==, profile);
	pair_fini(&p);
}

static void test_dtls_profile_cm(void)
{
	run_forced_profile(CG_SRTP_AES128_CM_SHA1_80, true);
	run_forced_profile(CG_SRTP_AES128_CM_SHA1_80, false);
}

static void test_dtls_profile_gcm(void)
{
	run_forced_profile(CG_SRTP_AEAD_AES_128_GCM, true);
}

static void test_dtls_profile_knob_misuse(void)
{
	enum cg_srtp_profile bogus = 3;
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	g_assert_cmpint(cg_dtls_set_srtp_profiles(p.client, &bogus, 1), ==, -EINVAL);
	g_assert_cmpint(cg_dtls_set_srtp_profiles(p.client, &bogus, 0), ==, -EINVAL);
	pair_start(&p);
	bogus = CG_SRTP_AES128_CM_SHA1_80;
	g_assert_cmpint(cg_dtls_set_srtp_profiles(p.client, &bogus, 1), ==, -EINVAL);
	pair_fini(&p);
}

static void run_mismatch(enum mismatch where)
{
	struct cg_dtls *verifier, *other;
	struct cg_dtls_event ev;
	struct pair p;

	pair_init(&p, where);
	verifier = where == MISMATCH_AT_SERVER ? p.server : p.client;
	other = where == MISMATCH_AT_SERVER ? p.client : p.server;
	pair_start(&p);
	pump(&p);
	g_assert_cmpint(next_event(verifier, &ev), ==, CG_DTLS_EVENT_FAILED);
	g_assert_nonnull(strstr(ev.reason, "fingerprint"));
	g_assert_false(cg_dtls_is_connected(verifier));
	g_assert_cmpint(next_event(verifier, &ev), ==, CG_DTLS_EVENT_NONE);
	/* The alert makes the other side fail too; it must never have connected. */
	g_assert_false(cg_dtls_is_connected(other));
	while (next_event(other, &ev) != CG_DTLS_EVENT_NONE)
		g_assert_cmpint(ev.type, ==, CG_DTLS_EVENT_FAILED);
	g_assert_cmpint(cg_dtls_poll_timeout_ms(verifier), ==, -1);
	pair_fini(&p);
}

static void test_dtls_mismatch_server(void)
{
	run_mismatch(MISMATCH_AT_SERVER);
}

static void test_dtls_mismatch_client(void)
{
	run_mismatch(MISMATCH_AT_CLIENT);
}

/* The ClientHello is lost: the client resends it when its timer fires. */
static void test_dtls_lost_client_hello(void)
{
	struct cg_dtls_event cev[2], sev[2];
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	cg_dtls_set_timeouts(p.client, 2, 5000);
	cg_dtls_set_timeouts(p.server, 2, 5000);
	pair_start(&p);
	/* Nothing sent yet by the server: it has no timer to run. */
	g_assert_cmpint(cg_dtls_poll_timeout_ms(p.server), ==, -1);
	g_assert_cmpint(cg_dtls_poll_timeout_ms(p.client), >=, 0);
	g_assert_cmpuint(drop_all(p.client), >, 0);
	wait_for_retransmit(p.client);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	pair_fini(&p);
}

/* The server's first flight is lost: a timer (either side's) brings it back. */
static void test_dtls_lost_server_flight(void)
{
	struct cg_dtls_event cev[2], sev[2];
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	cg_dtls_set_timeouts(p.client, 2, 5000);
	cg_dtls_set_timeouts(p.server, 2, 5000);
	pair_start(&p);
	g_assert_cmpuint(shuttle(p.client, p.server), >, 0);
	g_assert_cmpuint(drop_all(p.server), >, 0);
	wait_for_retransmit(p.server);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	pair_fini(&p);
}

/*
 * The server's final flight (CCS, Finished) is lost: the client resends its own flight and
 * the (already connected) server answers with its final flight again. GnuTLS resends at
 * most once per server retransmit window, so the client may need a second try.
 */
static void test_dtls_lost_final_flight(void)
{
	struct cg_dtls_event cev[2], sev[2];
	struct pair p;
	unsigned tries = 0;

	pair_init(&p, MISMATCH_NONE);
	cg_dtls_set_timeouts(p.client, 2, 5000);
	cg_dtls_set_timeouts(p.server, 2, 5000);
	pair_start(&p);
	g_assert_cmpuint(shuttle(p.client, p.server), >, 0); /* ClientHello */
	g_assert_cmpuint(shuttle(p.server, p.client), >, 0); /* ServerHello … Done */
	g_assert_cmpuint(shuttle(p.client, p.server), >, 0); /* Certificate … Finished */
	g_assert_true(cg_dtls_is_connected(p.server));
	g_assert_cmpuint(drop_all(p.server), >, 0);
	while (!cg_dtls_is_connected(p.client)) {
		g_assert_cmpuint(++tries, <, 8);
		wait_for_retransmit(p.client);
		pump(&p);
	}
	assert_connected_pair(&p, cev, sev);
	pair_fini(&p);
}

static void test_dtls_total_timeout(void)
{
	struct cg_dtls_event ev;
	struct pair p;
	unsigned i;

	pair_init(&p, MISMATCH_NONE);
	cg_dtls_set_timeouts(p.client, 1, 20);
	pair_start(&p);
	for (i = 0; i < MAX_ROUNDS && cg_dtls_poll_timeout_ms(p.client) >= 0; i++) {
		drop_all(p.client);
		poll(NULL, 0, cg_dtls_poll_timeout_ms(p.client));
		cg_dtls_handle_timeout(p.client);
	}
	g_assert_cmpuint(i, <, MAX_ROUNDS);
	g_assert_cmpint(next_event(p.client, &ev), ==, CG_DTLS_EVENT_FAILED);
	g_assert_cmpstr(ev.reason, ==, "handshake timed out");
	pair_fini(&p);
}

static void feed_garbage(struct cg_dtls *dtls)
{
	/* A record header claiming a handshake of a huge length, then junk. */
	static const uint8_t forged[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0,	 0, 0, 0,
					  0,  0xff, 0xff, 1, 0, 0, 0x10, 0, 0 };
	uint8_t junk[1500];
	GRand *rng = g_rand_new_with_seed(42);

	g_assert_cmpint(cg_dtls_handle_datagram(dtls, forged, sizeof(forged)), ==, 0);
	g_assert_cmpint(cg_dtls_handle_datagram(dtls, forged, 1), ==, 0);
	g_assert_cmpint(cg_dtls_handle_datagram(dtls, forged, 0), ==, 0);
	for (unsigned round = 0; round < 32; round++) {
		size_t len = 1 + g_rand_int_range(rng, 0, sizeof(junk));

		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)g_rand_int(rng);
		if (round % 2)
			junk[0] = 20 + round % 4; /* looks like DTLS to the demuxer */
		g_assert_cmpint(cg_dtls_handle_datagram(dtls, junk, len), ==, 0);
	}
	g_rand_free(rng);
}

static void test_dtls_garbage(void)
{
	struct cg_dtls_event cev[2], sev[2], ev;
	uint8_t buf[MAX_DATAGRAM];
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	pair_start(&p);
	feed_garbage(p.server);
	g_assert_false(cg_dtls_is_connected(p.server));
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_NONE);
	/* Invalid records are dropped silently (RFC 6347 §4.1.2.7): the handshake still works. */
	g_assert_cmpint(cg_dtls_poll_transmit(p.server, buf, sizeof(buf)), ==, -EAGAIN);
	shuttle(p.client, p.server);
	feed_garbage(p.client);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	/* ... and garbage after the handshake changes nothing. */
	feed_garbage(p.server);
	feed_garbage(p.client);
	g_assert_true(cg_dtls_is_connected(p.server));
	g_assert_true(cg_dtls_is_connected(p.client));
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_NONE);
	g_assert_cmpint(next_event(p.client, &ev), ==, CG_DTLS_EVENT_NONE);
	pair_fini(&p);
}

static void test_dtls_close_notify(void)
{
	struct cg_dtls_event cev[2], sev[2], ev;
	struct pair p;

	pair_init(&p, MISMATCH_NONE);
	pair_start(&p);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	g_assert_cmpint(cg_dtls_close(p.client), ==, 0);
	g_assert_false(cg_dtls_is_connected(p.client));
	g_assert_cmpuint(shuttle(p.client, p.server), ==, 1);
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_CLOSED);
	g_assert_false(cg_dtls_is_connected(p.server));
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_NONE);
	g_assert_cmpint(next_event(p.client, &ev), ==, CG_DTLS_EVENT_NONE);
	pair_fini(&p);
}

static void test_dtls_new_errors(void)
{
	char lower[96], bad[96];
	struct cg_dtls *dtls = NULL;
	struct cg_cert *cert = NULL;
	const char *fp;

	g_assert_cmpint(cg_cert_new(&cert), ==, 0);
	fp = cg_cert_fingerprint(cert);
	g_assert_cmpint(cg_dtls_new(cert, CG_DTLS_SERVER, "sha-1", fp, &dtls), ==, -ENOTSUP);
	g_assert_cmpint(cg_dtls_new(cert, CG_DTLS_SERVER, "sha-256", "AB:CD", &dtls), ==, -EINVAL);
	g_assert_cmpint(cg_dtls_new(NULL, CG_DTLS_SERVER, "sha-256", fp, &dtls), ==, -EINVAL);
	strcpy(bad, fp);
	bad[2] = '-';
	g_assert_cmpint(cg_dtls_new(cert, CG_DTLS_SERVER, "sha-256", bad, &dtls), ==, -EINVAL);
	strcpy(bad, fp);
	bad[94] = 'G';
	g_assert_cmpint(cg_dtls_new(cert, CG_DTLS_SERVER, "sha-256", bad, &dtls), ==, -EINVAL);
	g_assert_null(dtls);
	/* RFC 8122: hex digits and the algorithm name are case-insensitive. */
	for (size_t i = 0; i <= strlen(fp); i++)
		lower[i] = g_ascii_tolower(fp[i]);
	g_assert_cmpint(cg_dtls_new(cert, CG_DTLS_SERVER, "SHA-256", lower, &dtls), ==, 0);
	g_assert_cmpint(cg_dtls_handle_datagram(dtls, (const uint8_t *)"x", 1), ==, -EINVAL);
	g_assert_cmpint(cg_dtls_poll_timeout_ms(dtls), ==, -1);
	g_assert_cmpint(cg_dtls_start(dtls), ==, 0);
	g_assert_cmpint(cg_dtls_start(dtls), ==, -EINVAL);
	g_assert_null(cg_dtls_free(dtls));
	g_assert_null(cg_dtls_free(NULL));
	cg_cert_free(cert);
}

static void test_dtls_transmit_nospace(void)
{
	uint8_t buf[MAX_DATAGRAM];
	struct pair p;
	int len;

	pair_init(&p, MISMATCH_NONE);
	pair_start(&p);
	g_assert_cmpint(cg_dtls_poll_transmit(p.client, buf, 10), ==, -ENOSPC);
	len = cg_dtls_poll_transmit(p.client, buf, sizeof(buf));
	g_assert_cmpint(len, >, 10);
	g_assert_cmpint(len, <=, 1200);
	g_assert_cmpint(buf[0], ==, 22); /* handshake record: ClientHello */
	pair_fini(&p);
}

/* The exported keys key SRTP on both ends: what the server protects, the client opens. */
static void test_dtls_keys_drive_srtp(void)
{
	struct cg_dtls_event cev[2], sev[2];
	struct cg_srtp *ssrtp = NULL, *csrtp = NULL;
	uint8_t pkt[12 + 64 + CG_SRTP_MAX_TRAILER] = { 0x80, 96, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4 };
	uint8_t orig[12 + 64];
	struct pair p;
	int n;

	pair_init(&p, MISMATCH_NONE);
	pair_start(&p);
	pump(&p);
	assert_connected_pair(&p, cev, sev);
	g_assert_cmpint(cg_srtp_new(&sev[0].keys, true, &ssrtp), ==, 0);
	g_assert_cmpint(cg_srtp_new(&cev[0].keys, false, &csrtp), ==, 0);
	memset(pkt + 12, 0xab, 64);
	memcpy(orig, pkt, sizeof(orig));
	n = cg_srtp_protect(ssrtp, pkt, sizeof(orig), sizeof(pkt));
	g_assert_cmpint(n, >, (int)sizeof(orig));
	n = cg_srtp_unprotect(csrtp, pkt, (size_t)n);
	g_assert_cmpmem(pkt, n, orig, sizeof(orig));
	cg_srtp_free(ssrtp);
	cg_srtp_free(csrtp);
	pair_fini(&p);
}

/*
 * A plain GnuTLS DTLS client over the same in-memory transport, for what cg_dtls never
 * does itself: renegotiating.
 */
struct raw_peer {
	gnutls_session_t session;
	GQueue out; /* GBytes */
	const uint8_t *in;
	size_t in_len;
};

static ssize_t raw_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct raw_peer *peer = ptr;

	g_queue_push_tail(&peer->out, g_bytes_new(data, len));
	return (ssize_t)len;
}

static ssize_t raw_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct raw_peer *peer = ptr;
	size_t n = MIN(len, peer->in_len);

	if (!peer->in) {
		gnutls_transport_set_errno(peer->session, EAGAIN);
		return -1;
	}
	memcpy(data, peer->in, n);
	peer->in = NULL;
	return (ssize_t)n;
}

static int raw_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	return ((struct raw_peer *)ptr)->in ? 1 : 0;
}

static void raw_init(struct raw_peer *peer, const struct cg_cert *cert)
{
	memset(peer, 0, sizeof(*peer));
	g_queue_init(&peer->out);
	g_assert_cmpint(
		gnutls_init(&peer->session, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK), ==,
		0);
	g_assert_cmpint(gnutls_set_default_priority(peer->session), ==, 0);
	g_assert_cmpint(gnutls_credentials_set(peer->session, GNUTLS_CRD_CERTIFICATE,
					       cg_cert_gnutls_credentials(cert)),
			==, 0);
	g_assert_cmpint(gnutls_srtp_set_profile(peer->session, GNUTLS_SRTP_AES128_CM_HMAC_SHA1_80),
			==, 0);
	gnutls_transport_set_ptr(peer->session, peer);
	gnutls_transport_set_push_function(peer->session, raw_push);
	gnutls_transport_set_pull_function(peer->session, raw_pull);
	gnutls_transport_set_pull_timeout_function(peer->session, raw_pull_timeout);
}

static void raw_fini(struct raw_peer *peer)
{
	g_queue_clear_full(&peer->out, (GDestroyNotify)g_bytes_unref);
	gnutls_deinit(peer->session);
}

/* Runs gnutls_handshake() on the raw peer until the server stops answering. */
static int raw_handshake(struct raw_peer *peer, struct cg_dtls *server)
{
	uint8_t buf[MAX_DATAGRAM];
	int r = gnutls_handshake(peer->session);

	for (unsigned i = 0; i < MAX_ROUNDS && r == GNUTLS_E_AGAIN; i++) {
		GBytes *b;
		int len;

		while ((b = g_queue_pop_head(&peer->out))) {
			g_assert_cmpint(cg_dtls_handle_datagram(server, g_bytes_get_data(b, NULL),
								g_bytes_get_size(b)),
					==, 0);
			g_bytes_unref(b);
		}
		len = cg_dtls_poll_transmit(server, buf, sizeof(buf));
		if (len < 0)
			break;
		peer->in = buf;
		peer->in_len = (size_t)len;
		r = gnutls_handshake(peer->session);
	}
	return r;
}

/* RFC 8827 §6.5: a renegotiation attempt is refused and the association stays up. */
static void test_dtls_refuses_renegotiation(void)
{
	struct cg_dtls_event ev;
	struct raw_peer peer;
	struct pair p;
	int r;

	pair_init(&p, MISMATCH_NONE);
	raw_init(&peer, p.client_cert);
	g_assert_cmpint(cg_dtls_start(p.server), ==, 0);
	g_assert_cmpint(raw_handshake(&peer, p.server), ==, 0);
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_CONNECTED);
	r = raw_handshake(&peer, p.server);
	g_assert_cmpint(r, ==, GNUTLS_E_WARNING_ALERT_RECEIVED);
	g_assert_cmpint(gnutls_alert_get(peer.session), ==, GNUTLS_A_NO_RENEGOTIATION);
	g_assert_true(cg_dtls_is_connected(p.server));
	g_assert_cmpint(next_event(p.server, &ev), ==, CG_DTLS_EVENT_NONE);
	raw_fini(&peer);
	pair_fini(&p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crypto/dtls/handshake-default", test_dtls_handshake_default);
	g_test_add_func("/crypto/dtls/profile-aes-cm", test_dtls_profile_cm);
	g_test_add_func("/crypto/dtls/profile-aes-gcm", test_dtls_profile_gcm);
	g_test_add_func("/crypto/dtls/profile-knob-misuse", test_dtls_profile_knob_misuse);
	g_test_add_func("/crypto/dtls/fingerprint-mismatch-server", test_dtls_mismatch_server);
	g_test_add_func("/crypto/dtls/fingerprint-mismatch-client", test_dtls_mismatch_client);
	g_test_add_func("/crypto/dtls/lost-client-hello", test_dtls_lost_client_hello);
	g_test_add_func("/crypto/dtls/lost-server-flight", test_dtls_lost_server_flight);
	g_test_add_func("/crypto/dtls/lost-final-flight", test_dtls_lost_final_flight);
	g_test_add_func("/crypto/dtls/total-timeout", test_dtls_total_timeout);
	g_test_add_func("/crypto/dtls/garbage", test_dtls_garbage);
	g_test_add_func("/crypto/dtls/close-notify", test_dtls_close_notify);
	g_test_add_func("/crypto/dtls/new-errors", test_dtls_new_errors);
	g_test_add_func("/crypto/dtls/transmit-nospace", test_dtls_transmit_nospace);
	g_test_add_func("/crypto/dtls/keys-drive-srtp", test_dtls_keys_drive_srtp);
	g_test_add_func("/crypto/dtls/refuses-renegotiation", test_dtls_refuses_renegotiation);
	return g_test_run();
}
