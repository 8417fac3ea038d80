/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DTLS 1.2 for DTLS-SRTP (RFC 5764, RFC 8842) over GnuTLS, sans-IO: datagrams go in through
 * cg_dtls_handle_datagram(), come out through cg_dtls_poll_transmit(); no sockets, no
 * threads. One owner thread per object (the session's worker).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_cert;
struct cg_dtls;

enum cg_dtls_role {
	CG_DTLS_SERVER, /* a=setup:passive: we wait for the ClientHello */
	CG_DTLS_CLIENT, /* a=setup:active */
};

enum cg_srtp_profile {
	CG_SRTP_AES128_CM_SHA1_80 = 1, /* RFC 5764 */
	CG_SRTP_AEAD_AES_128_GCM = 7,  /* RFC 7714 */
};

#define CG_SRTP_MAX_KEY_SALT 46 /* 32-byte key + 14-byte salt, the largest we use */

/* The exported keying material, split per RFC 5764 §4.2. */
struct cg_srtp_keys {
	enum cg_srtp_profile profile;
	unsigned key_len;			       /* 16 */
	unsigned salt_len;			       /* 14 for AES-CM, 12 for GCM */
	uint8_t client_key_salt[CG_SRTP_MAX_KEY_SALT]; /* key then salt */
	uint8_t server_key_salt[CG_SRTP_MAX_KEY_SALT];
};

enum cg_dtls_event_type {
	CG_DTLS_EVENT_NONE = 0,
	CG_DTLS_EVENT_CONNECTED, /* keys valid, remote fingerprint verified */
	CG_DTLS_EVENT_FAILED,	 /* handshake failed or fingerprint mismatch: close the session */
	CG_DTLS_EVENT_CLOSED,	 /* the peer sent close_notify */
};

struct cg_dtls_event {
	enum cg_dtls_event_type type;
	struct cg_srtp_keys keys; /* CONNECTED */
	const char *reason;	  /* FAILED: static text, no secrets */
};

/*
 * Creates a DTLS endpoint. cert is borrowed and must outlive it. remote_fingerprint is the
 * peer's a=fingerprint value for remote_fingerprint_alg (only "sha-256" is accepted);
 * it is copied. Offers SRTP_AEAD_AES_128_GCM (only when the GnuTLS build knows it: GnuTLS
 * >= 3.8; 3.7 has no GCM DTLS-SRTP profile) and SRTP_AES128_CM_HMAC_SHA1_80.
 * The peer must present a certificate whose SHA-256 matches remote_fingerprint (hex is
 * compared case-insensitively); a server requires a client certificate.
 * Returns 0; -ENOTSUP for another algorithm; -EINVAL for a malformed fingerprint or a NULL
 * argument; -EIO when GnuTLS fails. Any thread; the object then belongs to that thread.
 */
int cg_dtls_new(const struct cg_cert *cert, enum cg_dtls_role role,
		const char *remote_fingerprint_alg, const char *remote_fingerprint,
		struct cg_dtls **ret);

/* Frees dtls and everything queued (NULL allowed), without sending anything; returns NULL. */
struct cg_dtls *cg_dtls_free(struct cg_dtls *dtls);

/*
 * Sets handshake retransmission timeouts (defaults 1 s / 30 s); tests use short ones.
 * The retransmission timeout doubles per retransmit (RFC 6347 §4.2.4.1); when total_ms
 * has passed since the handshake started, it fails with a FAILED event.
 */
void cg_dtls_set_timeouts(struct cg_dtls *dtls, unsigned retrans_ms, unsigned total_ms);

/*
 * Replaces the offered SRTP protection profiles (in preference order) before
 * cg_dtls_start(); for tests and for configuration that forbids a profile. profiles is
 * borrowed. Returns 0; -ENOTSUP when this GnuTLS cannot negotiate one of them (GCM before
 * GnuTLS 3.8); -EINVAL for an empty list, an unknown value, or after cg_dtls_start().
 */
int cg_dtls_set_srtp_profiles(struct cg_dtls *dtls, const enum cg_srtp_profile *profiles,
			      size_t n_profiles);

/*
 * Starts the handshake (a client queues its ClientHello). Call once, after cg_dtls_new.
 * Returns 0, -EINVAL when already started, or -EIO (a FAILED event is queued too).
 */
int cg_dtls_start(struct cg_dtls *dtls);

/*
 * Feeds one datagram received from the peer and advances the handshake. Application data
 * after the handshake is discarded (we carry no data channel yet). Returns 0; failures are
 * reported as a FAILED event, not as a return value, except -EINVAL for misuse.
 */
int cg_dtls_handle_datagram(struct cg_dtls *dtls, const uint8_t *buf, size_t len);

/*
 * Advances retransmission after cg_dtls_poll_timeout_ms() elapsed (calling it early is
 * harmless: nothing is resent before the timer expires). Returns 0; a handshake that ran
 * out of total time is reported as a FAILED event.
 */
int cg_dtls_handle_timeout(struct cg_dtls *dtls);

/*
 * Milliseconds until cg_dtls_handle_timeout() is due (0: now), or -1 when no timer is
 * needed (not started, a server still waiting for the ClientHello, connected, finished).
 * GnuTLS measures the elapsed time itself (CLOCK_REALTIME-based gettime).
 */
int cg_dtls_poll_timeout_ms(struct cg_dtls *dtls);

/*
 * Pops one datagram to send into buf. Returns its length, -EAGAIN when nothing is queued,
 * -ENOSPC when buf is too small (the datagram stays queued).
 */
int cg_dtls_poll_transmit(struct cg_dtls *dtls, uint8_t *buf, size_t cap);

/*
 * Pops the next event. Returns 1 with *ret filled, 0 when there is none. CONNECTED is
 * reported once; then at most one FAILED or CLOSED. The caller should wipe ret->keys
 * after keying SRTP.
 */
int cg_dtls_poll_event(struct cg_dtls *dtls, struct cg_dtls_event *ret);

/* True once the handshake completed, until FAILED, CLOSED or cg_dtls_close(). */
bool cg_dtls_is_connected(const struct cg_dtls *dtls);

/*
 * Queues a close_notify alert for the peer (RFC 5246 §7.2.1) when connected; the endpoint
 * is closed afterwards (no event for our own close). Returns 0, -EINVAL, or -EIO.
 */
int cg_dtls_close(struct cg_dtls *dtls);
