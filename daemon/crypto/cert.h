/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The DTLS identity: an ECDSA P-256 key and self-signed certificate, and its SHA-256
 * fingerprint for SDP (RFC 8122). Immutable after creation, so any thread may read it;
 * create and free it on one thread.
 */
#pragma once

struct cg_cert;

/*
 * Generates a fresh key pair and a self-signed certificate (random serial from getrandom,
 * valid from one day ago for 30 days, CN "camgate"). Returns 0, -EINVAL when ret is NULL,
 * or -EIO when GnuTLS fails. Any thread.
 */
int cg_cert_new(struct cg_cert **ret);

/* Frees cert (NULL allowed); returns NULL. */
struct cg_cert *cg_cert_free(struct cg_cert *cert);

/* "AB:CD:…" (uppercase hex, colon-separated SHA-256), valid as long as cert. */
const char *cg_cert_fingerprint(const struct cg_cert *cert);

/*
 * Internal to crypto/: the GnuTLS credentials (gnutls_certificate_credentials_t) for a DTLS
 * session, borrowed.
 */
void *cg_cert_gnutls_credentials(const struct cg_cert *cert);
