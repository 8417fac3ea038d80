/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cg_cert: fingerprint format (RFC 8122 §5) and freshness of each identity. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "crypto/cert.h"

static void test_cert_fingerprint_format(void)
{
	struct cg_cert *cert = NULL;
	const char *fp;

	g_assert_cmpint(cg_cert_new(&cert), ==, 0);
	fp = cg_cert_fingerprint(cert);
	/* 32 bytes: 64 hex digits and 31 colons. */
	g_assert_cmpuint(strlen(fp), ==, 95);
	for (size_t i = 0; i < 95; i++) {
		if (i % 3 == 2)
			g_assert_cmpint(fp[i], ==, ':');
		else
			g_assert_true(isxdigit((unsigned char)fp[i]) &&
				      !islower((unsigned char)fp[i]));
	}
	g_assert_nonnull(cg_cert_gnutls_credentials(cert));
	g_assert_null(cg_cert_free(cert));
}

static void test_cert_unique(void)
{
	struct cg_cert *a = NULL, *b = NULL;

	g_assert_cmpint(cg_cert_new(&a), ==, 0);
	g_assert_cmpint(cg_cert_new(&b), ==, 0);
	g_assert_cmpstr(cg_cert_fingerprint(a), !=, cg_cert_fingerprint(b));
	cg_cert_free(a);
	cg_cert_free(b);
}

static void test_cert_misuse(void)
{
	g_assert_cmpint(cg_cert_new(NULL), ==, -EINVAL);
	g_assert_null(cg_cert_free(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crypto/cert/fingerprint-format", test_cert_fingerprint_format);
	g_test_add_func("/crypto/cert/unique", test_cert_unique);
	g_test_add_func("/crypto/cert/misuse", test_cert_misuse);
	return g_test_run();
}
