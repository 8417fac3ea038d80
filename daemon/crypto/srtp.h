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

/* Initialises libsrtp2 once per process. Thread-safe; idempotent. Returns 0 or -EIO. */
int cg_srtp_global_init(void);

/*
 * Creates inbound and outbound SRTP contexts from DTLS keys. is_dtls_server selects which
 * half protects what we send (RFC 5764 §4.2: the server writes with server_write keys).
 * Returns 0, -ENOTSUP for an unknown profile, or -EIO.
 */
int cg_srtp_new(const struct cg_srtp_keys *keys, bool is_dtls_server, struct cg_srtp **ret);

struct cg_srtp *cg_srtp_free(struct cg_srtp *srtp);

/* Bytes protect may append: cap must be at least len + CG_SRTP_MAX_TRAILER. */
#define CG_SRTP_MAX_TRAILER 32

/*
 * Protect an RTP (RTCP) packet in place: buf holds len bytes and has cap bytes of room.
 * Returns the new length, -ENOSPC when cap < len + CG_SRTP_MAX_TRAILER, -EBADMSG for a
 * packet libsrtp rejects, -EIO otherwise.
 */
int cg_srtp_protect(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap);
int cg_srtp_protect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap);

/*
 * Unprotect in place. Returns the new length, -EACCES when authentication fails, -EALREADY
 * for a replayed packet, -EBADMSG when malformed.
 */
int cg_srtp_unprotect(struct cg_srtp *srtp, uint8_t *buf, size_t len);
int cg_srtp_unprotect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len);
