/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The DTLS identity. WebRTC peers authenticate each other by the certificate fingerprint
 * carried in SDP (RFC 8122, RFC 8827 §6.5), not by a CA, so a fresh self-signed
 * certificate per process is all we need.
 */
#define CG_LOG_TOPIC "dtls"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "crypto/cert.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"

#define CERT_SHA256_LEN 32
/* "AB:" per byte, the last one without a colon, plus the NUL. */
#define CERT_FINGERPRINT_SIZE (CERT_SHA256_LEN * 3)
#define CERT_SERIAL_LEN	      16
#define CERT_DAY_SECONDS      (24 * 60 * 60)
#define CERT_VALIDITY_DAYS    30
#define CERT_COMMON_NAME      "camgate"

struct cg_cert {
	gnutls_certificate_credentials_t creds;
	char fingerprint[CERT_FINGERPRINT_SIZE];
};

/* Logs a GnuTLS failure at debug level (STYLE 4.7 rule 9) and maps it to -EIO. */
static int cert_gnutls_error(const char *what, int r)
{
	cg_debug("%s failed: %s", what, gnutls_strerror(r));
	return -EIO;
}

static void cert_format_fingerprint(const uint8_t *digest, char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < CERT_SHA256_LEN; i++) {
		out[i * 3] = hex[digest[i] >> 4];
		out[i * 3 + 1] = hex[digest[i] & 0xf];
		out[i * 3 + 2] = i + 1 < CERT_SHA256_LEN ? ':' : '\0';
	}
}

/*
 * Fills the to-be-signed fields. The serial is random (and positive: RFC 5280 §4.1.2.2
 * requires a positive integer of at most 20 octets). Validity starts a day in the past so
 * that a peer with a slightly wrong clock still accepts it; browsers don't check it anyway.
 */
static int cert_fill_fields(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	uint8_t serial[CERT_SERIAL_LEN];
	time_t not_before = time(NULL) - CERT_DAY_SECONDS;
	int r;

	cg_rand_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	serial[0] |= 0x01; /* no leading zero octet, so the DER length stays fixed */

	r = gnutls_x509_crt_set_version(crt, 3);
	if (r >= 0)
		r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (r >= 0)
		r = gnutls_x509_crt_set_activation_time(crt, not_before);
	if (r >= 0)
		r = gnutls_x509_crt_set_expiration_time(
			crt, not_before + (time_t)CERT_VALIDITY_DAYS * CERT_DAY_SECONDS);
	if (r >= 0)
		r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
						  CERT_COMMON_NAME, strlen(CERT_COMMON_NAME));
	if (r >= 0)
		r = gnutls_x509_crt_set_key(crt, key);
	if (r >= 0)
		r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	if (r < 0)
		return cert_gnutls_error("building the certificate", r);
	return 0;
}

/* Creates the key and certificate, computes the fingerprint and loads the credentials. */
static int cert_generate(struct cg_cert *cert)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	uint8_t digest[CERT_SHA256_LEN];
	size_t digest_len = sizeof(digest);
	int r;

	r = gnutls_x509_privkey_init(&key);
	if (r < 0)
		return cert_gnutls_error("gnutls_x509_privkey_init", r);
	r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (r < 0) {
		r = cert_gnutls_error("generating the P-256 key", r);
		goto out_key;
	}
	r = gnutls_x509_crt_init(&crt);
	if (r < 0) {
		r = cert_gnutls_error("gnutls_x509_crt_init", r);
		goto out_key;
	}
	r = cert_fill_fields(crt, key);
	if (r < 0)
		goto out_crt;
	r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &digest_len);
	if (r < 0 || digest_len != CERT_SHA256_LEN) {
		r = cert_gnutls_error("computing the fingerprint", r);
		goto out_crt;
	}
	cert_format_fingerprint(digest, cert->fingerprint);
	/* The credentials keep their own copies of crt and key. */
	r = gnutls_certificate_set_x509_key(cert->creds, &crt, 1, key);
	if (r < 0)
		r = cert_gnutls_error("gnutls_certificate_set_x509_key", r);
out_crt:
	gnutls_x509_crt_deinit(crt);
out_key:
	gnutls_x509_privkey_deinit(key);
	return r < 0 ? r : 0;
}

int cg_cert_new(struct cg_cert **ret)
{
	struct cg_cert *cert;
	int r;

	if (!ret)
		return -EINVAL;
	cert = cg_new0(struct cg_cert, 1);
	r = gnutls_certificate_allocate_credentials(&cert->creds);
	if (r < 0) {
		r = cert_gnutls_error("gnutls_certificate_allocate_credentials", r);
		goto fail;
	}
	r = cert_generate(cert);
	if (r < 0)
		goto fail;
	*ret = cert;
	return 0;
fail:
	cg_cert_free(cert);
	return r;
}

struct cg_cert *cg_cert_free(struct cg_cert *cert)
{
	if (!cert)
		return NULL;
	if (cert->creds)
		gnutls_certificate_free_credentials(cert->creds);
	free(cert);
	return NULL;
}

const char *cg_cert_fingerprint(const struct cg_cert *cert)
{
	cg_assert(cert);
	return cert->fingerprint;
}

void *cg_cert_gnutls_credentials(const struct cg_cert *cert)
{
	cg_assert(cert);
	return cert->creds;
}
