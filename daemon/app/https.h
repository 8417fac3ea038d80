/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The HTTPS identity: the administrator's certificate and key (tls-cert, tls-key), or a
 * self-signed ECDSA P-256 certificate made once and kept in the state directory
 * (https-cert.pem, https-key.pem, both 0600), so browsers see the same certificate after
 * every restart and an exception made once stays valid. Control thread.
 */
#pragma once

#include <stdbool.h>

struct cg_config;

/*
 * Loads (or first generates) the PEM certificate chain and private key for cfg. On success
 * *ret_cert and *ret_key are NUL-terminated PEM (g_free them; wipe the key first) and
 * *ret_generated tells whether a certificate was created now. Returns 0, -ENOENT (a
 * configured file is missing), -EBADMSG (not a PEM certificate and key that GnuTLS can
 * use), -EIO (generation failed) or -errno from the state directory.
 */
int cg_https_load(const struct cg_config *cfg, char **ret_cert, char **ret_key,
		  bool *ret_generated);

/* The certificate's SHA-256 fingerprint "AB:CD:…" (g_free it), for the log and the
 * operator to compare with the browser's, or NULL if cert is not a PEM certificate. */
char *cg_https_fingerprint(const char *cert_pem);
