/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DTLS-SRTP over GnuTLS without I/O. GnuTLS reads through dtls_pull(), which hands it the
 * one datagram being processed by cg_dtls_handle_datagram(), and writes through
 * dtls_push(), which queues datagrams for cg_dtls_poll_transmit(). Retransmission timers
 * come from gnutls_dtls_get_timeout(); the caller owns the clock wait.
 */
#define CG_LOG_TOPIC "dtls"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "crypto/cert.h"
#include "crypto/dtls.h"
#include "util/log.h"
#include "util/macros.h"

#define DTLS_SHA256_LEN	     32
#define DTLS_FINGERPRINT_LEN (DTLS_SHA256_LEN * 3 - 1)
/*
 * Path MTU for handshake records: 1200 bytes fits any IPv6 path with TURN overhead and is
 * what browsers use for DTLS in WebRTC.
 */
#define DTLS_MTU		1200
#define DTLS_DEFAULT_RETRANS_MS 1000
#define DTLS_DEFAULT_TOTAL_MS	30000
/*
 * The out-queue only holds the current flight (a few datagrams) plus alerts. A bound keeps
 * a peer from growing it; what overflows is dropped like a full UDP socket buffer would,
 * and DTLS retransmission recovers.
 */
#define DTLS_MAX_QUEUED 64
/* Upper bound on records taken from one datagram, so a loop can never spin. */
#define DTLS_MAX_STEPS	64
#define DTLS_MAX_EVENTS 4
/* Application data is read only to be dropped. */
#define DTLS_SCRATCH_SIZE 256

/*
 * ECDHE only (forward secrecy), DTLS 1.2 only (RFC 8827 §6.5 requires at least 1.2;
 * GnuTLS 3.7 has no DTLS 1.3). ECDHE-RSA stays for peers with RSA certificates when we are
 * the client; as a server our ECDSA certificate selects ECDHE-ECDSA.
 */
#define DTLS_PRIORITY                                                                              \
	"SECURE128:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* IANA "DTLS-SRTP Protection Profiles" values; GnuTLS < 3.8 has no enum for GCM. */
#define DTLS_SRTP_ID_AES128_CM_SHA1_80 0x0001
#define DTLS_SRTP_ID_AEAD_AES_128_GCM  0x0007

enum dtls_state {
	DTLS_STATE_NEW,
	DTLS_STATE_HANDSHAKING,
	DTLS_STATE_CONNECTED,
	DTLS_STATE_FAILED,
	DTLS_STATE_CLOSED,
};

struct dtls_datagram {
	struct dtls_datagram *next;
	size_t len;
	uint8_t data[];
};

struct cg_dtls {
	gnutls_session_t session;
	enum cg_dtls_role role;
	enum dtls_state state;
	uint8_t remote_fingerprint[DTLS_SHA256_LEN];
	bool peer_verified;	   /* the verify callback accepted the peer certificate */
	bool fingerprint_mismatch; /* ... or rejected it: the reason for FAILED */
	bool flight_sent;	   /* a handshake flight is out, so a retransmit timer runs */

	/* The datagram being fed to GnuTLS, borrowed for one handle_datagram() call. */
	const uint8_t *in;
	size_t in_len;

	struct dtls_datagram *out_head;
	struct dtls_datagram **out_tail;
	unsigned out_count;

	struct cg_dtls_event events[DTLS_MAX_EVENTS];
	unsigned event_head;
	unsigned event_count;
};

static const struct {
	enum cg_srtp_profile profile;
	const char *gnutls_name;
} dtls_srtp_names[] = {
	{ CG_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM" },
	{ CG_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_HMAC_SHA1_80" },
};

/* ---- transport callbacks (GnuTLS → queues) ---- */

static ssize_t dtls_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct cg_dtls *dtls = ptr;
	struct dtls_datagram *d;

	if (dtls->state == DTLS_STATE_HANDSHAKING)
		dtls->flight_sent = true;
	if (dtls->out_count >= DTLS_MAX_QUEUED) {
		cg_debug("out-queue full, dropping a %zu-byte datagram", len);
		return (ssize_t)len;
	}
	d = cg_malloc0(sizeof(*d) + len);
	d->len = len;
	memcpy(d->data, data, len);
	*dtls->out_tail = d;
	dtls->out_tail = &d->next;
	dtls->out_count++;
	return (ssize_t)len;
}

static ssize_t dtls_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct cg_dtls *dtls = ptr;
	size_t n;

	if (!dtls->in) {
		gnutls_transport_set_errno(dtls->session, EAGAIN);
		return -1;
	}
	/* Datagram semantics: one datagram per read, truncated like recv(2) would. */
	n = CG_MIN(len, dtls->in_len);
	memcpy(data, dtls->in, n);
	dtls->in = NULL;
	dtls->in_len = 0;
	return (ssize_t)n;
}

/* Non-blocking: GnuTLS always asks with ms == 0; >0 means "readable", 0 "timed out". */
static int dtls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	const struct cg_dtls *dtls = ptr;

	return dtls->in ? 1 : 0;
}

/* ---- events ---- */

static void dtls_push_event(struct cg_dtls *dtls, const struct cg_dtls_event *ev)
{
	/* At most CONNECTED then FAILED/CLOSED can ever be queued; the array has room. */
	cg_assert(dtls->event_count < DTLS_MAX_EVENTS);
	dtls->events[(dtls->event_head + dtls->event_count) % DTLS_MAX_EVENTS] = *ev;
	dtls->event_count++;
}

static const char *dtls_failure_reason(const struct cg_dtls *dtls, int err)
{
	if (dtls->fingerprint_mismatch)
		return "remote certificate fingerprint mismatch";
	switch (err) {
	case GNUTLS_E_TIMEDOUT:
		return "handshake timed out";
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return "peer sent a fatal alert";
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		return "no common DTLS parameters";
	default:
		return "DTLS failure";
	}
}

/*
 * Enters FAILED once. err is a GnuTLS code (0 if the failure is ours, e.g. no SRTP
 * profile). Tells the peer with an alert where that helps it fail fast.
 */
static void dtls_fail(struct cg_dtls *dtls, int err, const char *reason)
{
	struct cg_dtls_event ev = { .type = CG_DTLS_EVENT_FAILED };

	if (dtls->state == DTLS_STATE_FAILED || dtls->state == DTLS_STATE_CLOSED)
		return;
	ev.reason = reason ? reason : dtls_failure_reason(dtls, err);
	cg_debug("%s (%s)", ev.reason, err ? gnutls_strerror(err) : "-");
	if (err && err != GNUTLS_E_FATAL_ALERT_RECEIVED && err != GNUTLS_E_TIMEDOUT)
		gnutls_alert_send_appropriate(dtls->session, err);
	else if (!err)
		gnutls_alert_send(dtls->session, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
	dtls->state = DTLS_STATE_FAILED;
	dtls_push_event(dtls, &ev);
}

/* ---- peer verification ---- */

static int dtls_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -EINVAL;
}

/* Parses "AB:cd:…" (hex digits are case-insensitive, RFC 8122 §5) into 32 bytes. */
static int dtls_parse_fingerprint(const char *s, uint8_t *out)
{
	if (strlen(s) != DTLS_FINGERPRINT_LEN)
		return -EINVAL;
	for (size_t i = 0; i < DTLS_SHA256_LEN; i++) {
		const char *p = s + i * 3;
		int hi = dtls_hex_nibble(p[0]), lo = dtls_hex_nibble(p[1]);

		if (hi < 0 || lo < 0 || (i + 1 < DTLS_SHA256_LEN && p[2] != ':'))
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * Called by GnuTLS once the peer's Certificate arrived. WebRTC certificates are
 * self-signed; what authenticates the peer is that the certificate hashes to the
 * a=fingerprint from the signaled SDP (RFC 8122 §5, RFC 8827 §6.5). Non-zero fails the
 * handshake with GNUTLS_E_CERTIFICATE_ERROR.
 */
static int dtls_verify_peer(gnutls_session_t session)
{
	struct cg_dtls *dtls = gnutls_session_get_ptr(session);
	const gnutls_datum_t *certs;
	uint8_t digest[DTLS_SHA256_LEN];
	size_t digest_len = sizeof(digest);
	unsigned n = 0;

	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		goto reject;
	certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || n == 0)
		goto reject;
	/* RFC 8122 §5: the fingerprint covers the end-entity (first) certificate. */
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0], digest, &digest_len) < 0 ||
	    digest_len != DTLS_SHA256_LEN)
		goto reject;
	if (memcmp(digest, dtls->remote_fingerprint, DTLS_SHA256_LEN) != 0)
		goto reject;
	dtls->peer_verified = true;
	return 0;
reject:
	dtls->fingerprint_mismatch = true;
	return -1;
}

/* ---- keys ---- */

static int dtls_profile_lengths(unsigned id, struct cg_srtp_keys *keys)
{
	switch (id) {
	case DTLS_SRTP_ID_AES128_CM_SHA1_80: /* RFC 5764 §4.1.2 */
		keys->profile = CG_SRTP_AES128_CM_SHA1_80;
		keys->key_len = 16;
		keys->salt_len = 14;
		return 0;
	case DTLS_SRTP_ID_AEAD_AES_128_GCM: /* RFC 7714 §14.2 */
		keys->profile = CG_SRTP_AEAD_AES_128_GCM;
		keys->key_len = 16;
		keys->salt_len = 12;
		return 0;
	default:
		return -ENOTSUP;
	}
}

static void dtls_copy_key_salt(uint8_t *out, const gnutls_datum_t *key, const gnutls_datum_t *salt)
{
	memcpy(out, key->data, key->size);
	memcpy(out + key->size, salt->data, salt->size);
}

/*
 * RFC 5764 §4.2: the exporter ("EXTRACTOR-dtls_srtp") output is client key, server key,
 * client salt, server salt; gnutls_srtp_get_keys() does the export and the split.
 */
static int dtls_export_keys(struct cg_dtls *dtls, struct cg_srtp_keys *keys)
{
	uint8_t material[2 * CG_SRTP_MAX_KEY_SALT];
	gnutls_datum_t ck, cs, sk, ss;
	gnutls_srtp_profile_t id;
	int r;

	if (gnutls_srtp_get_selected_profile(dtls->session, &id) < 0)
		return -ENOTSUP;
	r = dtls_profile_lengths((unsigned)id, keys);
	if (r < 0)
		return r;
	r = gnutls_srtp_get_keys(dtls->session, material, sizeof(material), &ck, &cs, &sk, &ss);
	if (r < 0 || ck.size != keys->key_len || sk.size != keys->key_len ||
	    cs.size != keys->salt_len || ss.size != keys->salt_len) {
		r = -EIO;
		goto out;
	}
	dtls_copy_key_salt(keys->client_key_salt, &ck, &cs);
	dtls_copy_key_salt(keys->server_key_salt, &sk, &ss);
	r = 0;
out:
	gnutls_memset(material, 0, sizeof(material));
	return r;
}

static void dtls_on_handshake_done(struct cg_dtls *dtls)
{
	struct cg_dtls_event ev = { .type = CG_DTLS_EVENT_CONNECTED };

	/* Defence in depth: never report CONNECTED for an unverified peer. */
	if (!dtls->peer_verified) {
		dtls_fail(dtls, 0, "remote certificate not verified");
		return;
	}
	if (dtls_export_keys(dtls, &ev.keys) < 0) {
		dtls_fail(dtls, 0, "no SRTP protection profile negotiated");
		return;
	}
	cg_debug("handshake complete, SRTP profile %u", (unsigned)ev.keys.profile);
	dtls->state = DTLS_STATE_CONNECTED;
	dtls->flight_sent = false;
	dtls_push_event(dtls, &ev);
	gnutls_memset(&ev, 0, sizeof(ev));
}

/* ---- state machine ---- */

static bool dtls_is_retryable(int r)
{
	return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

/*
 * Drives gnutls_handshake() until it needs more input. Non-fatal codes (a warning alert,
 * a discarded record: RFC 6347 §4.1.2.7 says invalid records are silently dropped) keep
 * the handshake going.
 */
static void dtls_step_handshake(struct cg_dtls *dtls)
{
	for (unsigned i = 0; i < DTLS_MAX_STEPS; i++) {
		int r = gnutls_handshake(dtls->session);

		if (r == GNUTLS_E_SUCCESS) {
			dtls_on_handshake_done(dtls);
			return;
		}
		if (dtls_is_retryable(r))
			return;
		if (gnutls_error_is_fatal(r) || dtls->fingerprint_mismatch) {
			dtls_fail(dtls, r, NULL);
			return;
		}
		cg_debug("handshake: %s, ignoring", gnutls_strerror(r));
		if (!dtls->in)
			return;
	}
}

/*
 * RFC 8827 §6.5 (and RFC 5764 §4.1: keys are fixed for the association): renegotiation
 * is refused with a no_renegotiation warning; the association stays up.
 */
static void dtls_refuse_renegotiation(struct cg_dtls *dtls)
{
	cg_debug("peer asked for renegotiation, refusing");
	gnutls_alert_send(dtls->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
}

static void dtls_on_close_notify(struct cg_dtls *dtls)
{
	struct cg_dtls_event ev = { .type = CG_DTLS_EVENT_CLOSED };

	cg_debug("peer sent close_notify");
	dtls->state = DTLS_STATE_CLOSED;
	dtls_push_event(dtls, &ev);
}

/*
 * Reads the records of the current datagram after the handshake. We carry no data
 * channel, so application data is dropped; what matters are alerts and the peer's
 * retransmitted final flight, to which GnuTLS answers by resending ours.
 * gnutls_record_recv() into a small scratch buffer, not gnutls_record_recv_packet(): in
 * DTLS mode a longer record is truncated and its rest discarded, which is what we want, and
 * recv_packet leaks the buffered ClientHello after GNUTLS_E_REHANDSHAKE (GnuTLS 3.7).
 */
static void dtls_read_records(struct cg_dtls *dtls)
{
	uint8_t scratch[DTLS_SCRATCH_SIZE];

	for (unsigned i = 0; i < DTLS_MAX_STEPS && dtls->state == DTLS_STATE_CONNECTED; i++) {
		ssize_t r = gnutls_record_recv(dtls->session, scratch, sizeof(scratch));

		if (r > 0)
			continue;
		if (r == 0) {
			dtls_on_close_notify(dtls);
			return;
		}
		if (dtls_is_retryable((int)r))
			return;
		if (r == GNUTLS_E_REHANDSHAKE) {
			dtls_refuse_renegotiation(dtls);
			continue;
		}
		if (gnutls_error_is_fatal((int)r)) {
			dtls_fail(dtls, (int)r, NULL);
			return;
		}
		cg_debug("record: %s, ignoring", gnutls_strerror((int)r));
		if (!dtls->in)
			return;
	}
}

/* ---- setup ---- */

static int dtls_gnutls_error(const char *what, int r)
{
	cg_debug("%s failed: %s", what, gnutls_strerror(r));
	return -EIO;
}

/*
 * Offers GCM first when this GnuTLS knows it (3.8+), with the mandatory AES-CM profile
 * (RFC 8827 §6.5) as fallback; older GnuTLS rejects the unknown name, so retry without.
 */
static int dtls_set_default_profiles(struct cg_dtls *dtls)
{
	int r;

	r = gnutls_srtp_set_profile_direct(
		dtls->session, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80", NULL);
	if (r < 0)
		r = gnutls_srtp_set_profile_direct(dtls->session, "SRTP_AES128_CM_HMAC_SHA1_80",
						   NULL);
	if (r < 0)
		return dtls_gnutls_error("gnutls_srtp_set_profile_direct", r);
	return 0;
}

static int dtls_setup_session(struct cg_dtls *dtls, const struct cg_cert *cert)
{
	unsigned flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK;
	int r;

	flags |= dtls->role == CG_DTLS_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT;
	r = gnutls_init(&dtls->session, flags);
	if (r < 0) {
		dtls->session = NULL;
		return dtls_gnutls_error("gnutls_init", r);
	}
	r = gnutls_priority_set_direct(dtls->session, DTLS_PRIORITY, NULL);
	if (r < 0)
		return dtls_gnutls_error("gnutls_priority_set_direct", r);
	r = gnutls_credentials_set(dtls->session, GNUTLS_CRD_CERTIFICATE,
				   cg_cert_gnutls_credentials(cert));
	if (r < 0)
		return dtls_gnutls_error("gnutls_credentials_set", r);
	r = dtls_set_default_profiles(dtls);
	if (r < 0)
		return r;
	/* Mutual authentication: both ends' certificates are pinned by SDP fingerprints. */
	if (dtls->role == CG_DTLS_SERVER)
		gnutls_certificate_server_set_request(dtls->session, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_function(dtls->session, dtls_verify_peer);
	gnutls_session_set_ptr(dtls->session, dtls);
	gnutls_transport_set_ptr(dtls->session, dtls);
	gnutls_transport_set_push_function(dtls->session, dtls_push);
	gnutls_transport_set_pull_function(dtls->session, dtls_pull);
	gnutls_transport_set_pull_timeout_function(dtls->session, dtls_pull_timeout);
	gnutls_dtls_set_mtu(dtls->session, DTLS_MTU);
	gnutls_dtls_set_timeouts(dtls->session, DTLS_DEFAULT_RETRANS_MS, DTLS_DEFAULT_TOTAL_MS);
	return 0;
}

/* ---- public API ---- */

int cg_dtls_new(const struct cg_cert *cert, enum cg_dtls_role role,
		const char *remote_fingerprint_alg, const char *remote_fingerprint,
		struct cg_dtls **ret)
{
	struct cg_dtls *dtls;
	int r;

	if (!cert || !remote_fingerprint_alg || !remote_fingerprint || !ret)
		return -EINVAL;
	if (role != CG_DTLS_SERVER && role != CG_DTLS_CLIENT)
		return -EINVAL;
	/* RFC 8122 §5: hash function names are case-insensitive. */
	if (strcasecmp(remote_fingerprint_alg, "sha-256") != 0)
		return -ENOTSUP;
	dtls = cg_new0(struct cg_dtls, 1);
	dtls->role = role;
	dtls->out_tail = &dtls->out_head;
	r = dtls_parse_fingerprint(remote_fingerprint, dtls->remote_fingerprint);
	if (r < 0)
		goto fail;
	r = dtls_setup_session(dtls, cert);
	if (r < 0)
		goto fail;
	*ret = dtls;
	return 0;
fail:
	cg_dtls_free(dtls);
	return r;
}

struct cg_dtls *cg_dtls_free(struct cg_dtls *dtls)
{
	struct dtls_datagram *d, *next;

	if (!dtls)
		return NULL;
	if (dtls->session)
		gnutls_deinit(dtls->session);
	for (d = dtls->out_head; d; d = next) {
		next = d->next;
		free(d);
	}
	/* The events may hold SRTP keys. */
	gnutls_memset(dtls->events, 0, sizeof(dtls->events));
	free(dtls);
	return NULL;
}

void cg_dtls_set_timeouts(struct cg_dtls *dtls, unsigned retrans_ms, unsigned total_ms)
{
	cg_assert(dtls);
	gnutls_dtls_set_timeouts(dtls->session, retrans_ms, total_ms);
}

int cg_dtls_set_srtp_profiles(struct cg_dtls *dtls, const enum cg_srtp_profile *profiles,
			      size_t n_profiles)
{
	char list[128] = "";
	int r;

	if (!dtls || !profiles || n_profiles == 0 || dtls->state != DTLS_STATE_NEW)
		return -EINVAL;
	for (size_t i = 0; i < n_profiles; i++) {
		const char *name = NULL;

		for (size_t j = 0; j < CG_ARRAY_SIZE(dtls_srtp_names); j++) {
			if (dtls_srtp_names[j].profile == profiles[i])
				name = dtls_srtp_names[j].gnutls_name;
		}
		if (!name || strlen(list) + strlen(name) + 2 > sizeof(list))
			return -EINVAL;
		if (list[0])
			strcat(list, ":");
		strcat(list, name);
	}
	r = gnutls_srtp_set_profile_direct(dtls->session, list, NULL);
	if (r < 0) {
		cg_debug("SRTP profiles \"%s\": %s", list, gnutls_strerror(r));
		return -ENOTSUP;
	}
	return 0;
}

int cg_dtls_start(struct cg_dtls *dtls)
{
	if (!dtls || dtls->state != DTLS_STATE_NEW)
		return -EINVAL;
	dtls->state = DTLS_STATE_HANDSHAKING;
	/* The client queues its ClientHello; the server finds nothing to read yet. */
	dtls_step_handshake(dtls);
	return dtls->state == DTLS_STATE_FAILED ? -EIO : 0;
}

int cg_dtls_handle_datagram(struct cg_dtls *dtls, const uint8_t *buf, size_t len)
{
	if (!dtls || (!buf && len) || dtls->state == DTLS_STATE_NEW)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (dtls->state != DTLS_STATE_HANDSHAKING && dtls->state != DTLS_STATE_CONNECTED)
		return 0; /* finished: late datagrams are dropped */
	dtls->in = buf;
	dtls->in_len = len;
	if (dtls->state == DTLS_STATE_HANDSHAKING)
		dtls_step_handshake(dtls);
	/* Also reads records that followed the peer's Finished in the same datagram. */
	if (dtls->state == DTLS_STATE_CONNECTED)
		dtls_read_records(dtls);
	/* Never keep a pointer into the caller's buffer. */
	dtls->in = NULL;
	dtls->in_len = 0;
	return 0;
}

int cg_dtls_handle_timeout(struct cg_dtls *dtls)
{
	cg_assert(dtls);
	/* gnutls_handshake() retransmits the last flight if its timer expired (RFC 6347 §4.2.4). */
	if (dtls->state == DTLS_STATE_HANDSHAKING)
		dtls_step_handshake(dtls);
	return 0;
}

int cg_dtls_poll_timeout_ms(struct cg_dtls *dtls)
{
	unsigned ms;

	cg_assert(dtls);
	/*
	 * Only a sent flight has a retransmit timer. A server waiting for its ClientHello has
	 * none (GnuTLS would report 0 and make the caller spin). After the handshake GnuTLS
	 * resends our final flight when the peer retransmits, so no timer is needed either.
	 */
	if (dtls->state != DTLS_STATE_HANDSHAKING || !dtls->flight_sent)
		return -1;
	ms = gnutls_dtls_get_timeout(dtls->session);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int cg_dtls_poll_transmit(struct cg_dtls *dtls, uint8_t *buf, size_t cap)
{
	struct dtls_datagram *d;
	int len;

	if (!dtls || !buf)
		return -EINVAL;
	d = dtls->out_head;
	if (!d)
		return -EAGAIN;
	if (d->len > cap)
		return -ENOSPC;
	memcpy(buf, d->data, d->len);
	len = (int)d->len;
	dtls->out_head = d->next;
	if (!dtls->out_head)
		dtls->out_tail = &dtls->out_head;
	dtls->out_count--;
	free(d);
	return len;
}

int cg_dtls_poll_event(struct cg_dtls *dtls, struct cg_dtls_event *ret)
{
	struct cg_dtls_event *ev;

	cg_assert(dtls && ret);
	if (dtls->event_count == 0)
		return 0;
	ev = &dtls->events[dtls->event_head];
	*ret = *ev;
	gnutls_memset(ev, 0, sizeof(*ev));
	dtls->event_head = (dtls->event_head + 1) % DTLS_MAX_EVENTS;
	dtls->event_count--;
	return 1;
}

bool cg_dtls_is_connected(const struct cg_dtls *dtls)
{
	cg_assert(dtls);
	return dtls->state == DTLS_STATE_CONNECTED;
}

int cg_dtls_close(struct cg_dtls *dtls)
{
	int r;

	if (!dtls)
		return -EINVAL;
	if (dtls->state != DTLS_STATE_CONNECTED)
		return 0;
	/* RFC 5246 §7.2.1: close_notify; we don't wait for the peer's answer (SHUT_WR). */
	r = gnutls_bye(dtls->session, GNUTLS_SHUT_WR);
	dtls->state = DTLS_STATE_CLOSED;
	if (r < 0 && !dtls_is_retryable(r))
		return dtls_gnutls_error("gnutls_bye", r);
	return 0;
}
