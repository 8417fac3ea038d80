/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

#include "app/config.h"
#include "app/https.h"
#include "app/state.h"
#include "util/rand.h"

#define HTTPS_CERT_FILE	 "https-cert.pem"
#define HTTPS_KEY_FILE	 "https-key.pem"
#define HTTPS_VALID_DAYS (10 * 365)

/* The names a browser on the LAN may use for this box; the listen address if specific. */
static int https_set_names(gnutls_x509_crt_t crt, const struct cg_config *cfg)
{
	const char *host = g_get_host_name();
	char *local = g_strconcat(host, ".local", NULL); /* mDNS */
	const char *dns[] = { host, local, "localhost" };
	unsigned char ip[16];
	unsigned ip_len = 0;
	int r;

	/* GnuTLS wants the binary address; a wildcard listen address names nothing. */
	if (inet_pton(AF_INET, cfg->listen_host, ip) == 1 && strcmp(cfg->listen_host, "0.0.0.0"))
		ip_len = 4;
	else if (inet_pton(AF_INET6, cfg->listen_host, ip) == 1 && strcmp(cfg->listen_host, "::"))
		ip_len = 16;

	r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					  (unsigned)strlen(host));
	for (size_t i = 0; r >= 0 && i < G_N_ELEMENTS(dns); i++)
		r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns[i],
							 (unsigned)strlen(dns[i]),
							 GNUTLS_FSAN_APPEND);
	if (r >= 0 && ip_len)
		r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, ip_len,
							 GNUTLS_FSAN_APPEND);
	g_free(local);
	return r;
}

static int https_fill(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const struct cg_config *cfg)
{
	unsigned char serial[16];
	time_t now = time(NULL);
	int r;

	cg_rand_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f; /* RFC 5280 §4.1.2.2: a positive integer */
	r = gnutls_x509_crt_set_version(crt, 3);
	if (r >= 0)
		r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (r >= 0)
		r = gnutls_x509_crt_set_activation_time(crt, now - 24 * 3600);
	if (r >= 0)
		r = gnutls_x509_crt_set_expiration_time(crt, now + HTTPS_VALID_DAYS * 24 * 3600L);
	if (r >= 0)
		r = https_set_names(crt, cfg);
	if (r >= 0)
		r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (r >= 0)
		r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (r >= 0)
		r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (r >= 0)
		r = gnutls_x509_crt_set_key(crt, key);
	if (r >= 0)
		r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	return r < 0 ? -EIO : 0;
}

static int https_generate(const struct cg_config *cfg, char **ret_cert, char **ret_key)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t cert_pem = { 0 }, key_pem = { 0 };
	int r = -EIO;

	if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		goto out;
	r = https_fill(crt, key, cfg);
	if (r < 0)
		goto out;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem) < 0 ||
	    gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem) < 0) {
		r = -EIO;
		goto out;
	}
	*ret_cert = g_strndup((const char *)cert_pem.data, cert_pem.size);
	*ret_key = g_strndup((const char *)key_pem.data, key_pem.size);
	r = 0;
out:
	if (key_pem.data)
		gnutls_memset(key_pem.data, 0, key_pem.size);
	gnutls_free(key_pem.data);
	gnutls_free(cert_pem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return r;
}

/* A certificate and key GnuTLS accepts as a pair, so MHD will not fail later. */
static int https_check_pair(const char *cert, const char *key)
{
	gnutls_certificate_credentials_t creds;
	gnutls_datum_t c = { .data = (unsigned char *)cert, .size = (unsigned)strlen(cert) };
	gnutls_datum_t k = { .data = (unsigned char *)key, .size = (unsigned)strlen(key) };
	int r;

	if (gnutls_certificate_allocate_credentials(&creds) < 0)
		return -ENOMEM;
	r = gnutls_certificate_set_x509_key_mem(creds, &c, &k, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(creds);
	return r < 0 ? -EBADMSG : 0;
}

static int https_read_pair(const char *cert_path, const char *key_path, char **ret_cert,
			   char **ret_key)
{
	char *cert = NULL, *key = NULL;
	int r = 0;

	if (!g_file_get_contents(cert_path, &cert, NULL, NULL) ||
	    !g_file_get_contents(key_path, &key, NULL, NULL))
		r = -ENOENT;
	if (r == 0)
		r = https_check_pair(cert, key);
	if (r < 0) {
		g_free(cert);
		if (key)
			gnutls_memset(key, 0, strlen(key));
		g_free(key);
		return r;
	}
	*ret_cert = cert;
	*ret_key = key;
	return 0;
}

static int https_self_signed(const struct cg_config *cfg, char **ret_cert, char **ret_key,
			     bool *ret_generated)
{
	char *cert_path = g_build_filename(cfg->state_dir, HTTPS_CERT_FILE, NULL);
	char *key_path = g_build_filename(cfg->state_dir, HTTPS_KEY_FILE, NULL);
	int r;

	r = https_read_pair(cert_path, key_path, ret_cert, ret_key);
	*ret_generated = false;
	if (r == -ENOENT) {
		r = cg_state_dir_ensure(cfg->state_dir);
		if (r == 0)
			r = https_generate(cfg, ret_cert, ret_key);
		/* The key first: a certificate without its key would be regenerated anyway. */
		if (r == 0)
			r = cg_state_write(cfg->state_dir, HTTPS_KEY_FILE, *ret_key,
					   strlen(*ret_key));
		if (r == 0)
			r = cg_state_write(cfg->state_dir, HTTPS_CERT_FILE, *ret_cert,
					   strlen(*ret_cert));
		*ret_generated = r == 0;
	}
	g_free(cert_path);
	g_free(key_path);
	return r;
}

int cg_https_load(const struct cg_config *cfg, char **ret_cert, char **ret_key, bool *ret_generated)
{
	*ret_generated = false;
	if (cfg->tls_cert_path)
		return https_read_pair(cfg->tls_cert_path, cfg->tls_key_path, ret_cert, ret_key);
	return https_self_signed(cfg, ret_cert, ret_key, ret_generated);
}

char *cg_https_fingerprint(const char *cert_pem)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem = { .data = (unsigned char *)cert_pem,
			       .size = (unsigned)strlen(cert_pem) };
	unsigned char digest[32];
	size_t len = sizeof(digest);
	GString *out;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &len) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	gnutls_x509_crt_deinit(crt);
	out = g_string_new(NULL);
	for (size_t i = 0; i < len; i++)
		g_string_append_printf(out, "%s%02X", i ? ":" : "", digest[i]);
	return g_string_free(out, FALSE);
}
