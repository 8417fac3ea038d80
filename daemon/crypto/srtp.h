/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP/SRTCP for one viewer (libsrtp2), keyed from DTLS-SRTP. In-place protect and
 * unprotect with the replay window on. One owner thread per object.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/dtls.h"

struct cg_srtp;

/* Initialises libsrtp2 once per process, with nettle's AES-CM and HMAC-SHA1 in its crypto
 * kernel (crypto/srtp_nettle.h) unless CAMGATE_SRTP_CRYPTO=libsrtp2. Thread-safe;
 * idempotent. Returns 0 or -EIO. */
int cg_srtp_global_init(void);

/* Whose AES-CM and HMAC-SHA1 SRTP runs on, once initialised: "nettle" or "libsrtp2" (the
 * library's own: NSS on Debian). Any thread. */
const char *cg_srtp_crypto_name(void);

/*
 * Creates inbound and outbound SRTP contexts from DTLS keys. is_dtls_server selects which
 * half protects what we send (RFC 5764 §4.2: the server writes with server_write keys).
 * keys is borrowed (copied into libsrtp; the caller should wipe its copy). Both contexts
 * accept any SSRC; the outbound one allows re-protecting a sequence number (NACK
 * retransmission); the replay window is 1024 packets.
 * Returns 0, -ENOTSUP for an unknown profile, -EINVAL for NULL arguments or key/salt
 * lengths that don't match the profile, or -EIO. Any thread; the object then belongs to it.
 */
int cg_srtp_new(const struct cg_srtp_keys *keys, bool is_dtls_server, struct cg_srtp **ret);

/* Frees srtp (NULL allowed); returns NULL. */
struct cg_srtp *cg_srtp_free(struct cg_srtp *srtp);

/* Bytes protect may append: cap must be at least len + CG_SRTP_MAX_TRAILER. */
#define CG_SRTP_MAX_TRAILER 32

/*
 * Protect an RTP (RTCP) packet in place: buf holds len bytes and has cap bytes of room.
 * Returns the new length, -ENOSPC when cap < len + CG_SRTP_MAX_TRAILER (buf untouched),
 * -EBADMSG for a packet libsrtp rejects (too short, bad header), -EINVAL for NULL
 * arguments, -EIO otherwise. Owner thread only.
 */
int cg_srtp_protect(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap);
int cg_srtp_protect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap);

/*
 * Unprotect in place. Returns the new length, -EACCES when authentication fails (buf is
 * then unspecified), -EALREADY for a replayed packet, -EBADMSG when malformed, -EINVAL for
 * NULL arguments, -EIO otherwise. Owner thread only.
 */
int cg_srtp_unprotect(struct cg_srtp *srtp, uint8_t *buf, size_t len);
int cg_srtp_unprotect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len);
