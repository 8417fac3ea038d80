/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What a client sends to get past auth (daemon/app/auth.c). The first byte picks the input:
 *   0  an Authorization header (and the token format check on the same text);
 *   1  a Cookie header, alone and around a valid login cookie: "PREFIX" 0xff "SUFFIX"; the
 *      header alone is also logged out, and the one around the cookie refreshed;
 *   2  a /login form body (application/x-www-form-urlencoded);
 *   3  a password-hash setting, and a password hashed and verified.
 * Invariants: a header passes only with the exact token or a valid cookie, a valid cookie
 * passes wherever the pair syntax puts it, a header without one logs nobody out, a valid
 * cookie is reissued once a day old and the reissue outlives it, and hash check and verify
 * agree.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/config.h"
#include "fuzz.h"

#define TOKEN	   "fuzz-token-0123456789abcdef"
#define NOW_S	   1700000000u
#define CHEAP_ITER 1000u /* the least cg_auth_hash_check accepts: keeps executions fast */

static struct cg_auth *auth;
static char *cookie; /* "camgate_auth=VALUE" of a valid login */

static void setup(void)
{
	struct cg_auth_credentials cred = { .token = TOKEN, .required = true };
	char *set_cookie;

	if (cg_auth_new(&cred, &auth) < 0 ||
	    cg_auth_login(auth, TOKEN, NOW_S, 1, false, &set_cookie) < 0)
		abort();
	cookie = g_strndup(set_cookie, strcspn(set_cookie, ";"));
	g_free(set_cookie);
}

static void fuzz_bearer(const char *s)
{
	const char *p;

	/* A token setting must be safe in a header, a cookie and a form without escaping. */
	if (cg_auth_token_check(s) == 0) {
		if (strlen(s) < 16 || strlen(s) > 256)
			abort();
		for (const char *c = s; *c; c++)
			if (!g_ascii_isalnum(*c) && !strchr("-._~", *c))
				abort();
	}
	if (!cg_auth_check(auth, s, NULL, NOW_S))
		return;
	if (g_ascii_strncasecmp(s, "Bearer ", 7) != 0)
		abort();
	for (p = s + 7; *p == ' '; p++)
		;
	if (strcmp(p, TOKEN) != 0)
		abort();
}

/* Whether the pair parser (split on ';', leading spaces and ';' skipped) starts a new pair
 * right after prefix. */
static bool pair_boundary(const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == ' ')
		n--;
	return n == 0 || prefix[n - 1] == ';' || strspn(prefix, " ;") == strlen(prefix);
}

/* The valid cookie in header (issued at NOW_S) is reissued when a day old, not before. */
static void check_refresh(const char *header)
{
	uint64_t later = NOW_S + CG_AUTH_COOKIE_REFRESH_S;
	char *fresh = cg_auth_refresh_cookie(auth, header, NOW_S, false);
	char *set_cookie = cg_auth_refresh_cookie(auth, header, later, false);
	char *pair;

	if (fresh || !set_cookie)
		abort();
	pair = g_strndup(set_cookie, strcspn(set_cookie, ";"));
	if (!cg_auth_check(auth, NULL, pair, later + CG_AUTH_COOKIE_MAX_AGE_S - 1) ||
	    cg_auth_check(auth, NULL, cookie, later + CG_AUTH_COOKIE_MAX_AGE_S - 1))
		abort();
	g_free(pair);
	g_free(set_cookie);
}

static void fuzz_cookie(const char *s)
{
	const char *sep = strchr(s, '\xff');
	char *prefix, *header;
	const char *suffix;

	/* No camgate_auth pair, no entry (the header alone never carries the token). */
	if (!strstr(s, "camgate_auth=") && cg_auth_check(auth, NULL, s, NOW_S))
		abort();
	/* The input cannot hold a valid cookie (the key is random): logging it out revokes
	 * nothing, and the valid cookie still passes. */
	if (cg_auth_logout(auth, s, NOW_S) != -ENOENT || !cg_auth_check(auth, NULL, cookie, NOW_S))
		abort();
	if (!sep)
		return;
	prefix = g_strndup(s, (gsize)(sep - s));
	suffix = sep + 1;
	header = g_strconcat(prefix, cookie, suffix, NULL);
	if (pair_boundary(prefix) && (suffix[0] == '\0' || suffix[0] == ';')) {
		if (!cg_auth_check(auth, NULL, header, NOW_S))
			abort();
		check_refresh(header);
	}
	/* Expired, and too far in the future, whatever surrounds it. */
	if (!strstr(prefix, "camgate_auth=") && !strstr(suffix, "camgate_auth=") &&
	    (cg_auth_check(auth, NULL, header, NOW_S + CG_AUTH_COOKIE_MAX_AGE_S) ||
	     cg_auth_check(auth, NULL, header, NOW_S - CG_AUTH_COOKIE_MAX_AGE_S - 1)))
		abort();
	g_free(header);
	g_free(prefix);
}

static void fuzz_form(const uint8_t *data, size_t size)
{
	char *secret = cg_auth_form_secret((const char *)data, size);
	const char *body_end = memchr(data, '\0', size);
	size_t body_len = body_end ? (size_t)(body_end - (const char *)data) : size;

	if (!secret)
		return;
	/* It came from a "secret=" field of the text before any NUL, and cannot be longer. */
	if (!g_strstr_len((const char *)data, (gssize)body_len, "secret=") ||
	    strlen(secret) > body_len)
		abort();
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

static void fuzz_hash(const char *s)
{
	int check = cg_auth_hash_check(s);
	char *hash;
	unsigned long iter;

	if (check != 0 && check != -EINVAL)
		abort();
	if (check == 0) {
		iter = strtoul(s + strlen("pbkdf2-sha256$"), NULL, 10);
		if (iter <= CHEAP_ITER && cg_auth_verify_password(s, "password") == -EINVAL)
			abort();
		return;
	}
	if (cg_auth_verify_password(s, "x") != -EINVAL)
		abort();
	/* Any password (the input) hashes to a setting that checks and verifies. */
	hash = cg_auth_hash_password(s, CHEAP_ITER);
	if (!hash || cg_auth_hash_check(hash) != 0 || cg_auth_verify_password(hash, s) != 0)
		abort();
	g_free(hash);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if (!auth)
		setup();
	if (data[0] % 4 == 2) {
		fuzz_form(data + 1, size - 1);
		return 0;
	}
	/* Headers and settings are C strings: MHD and GKeyFile stop at a NUL. */
	s = g_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		fuzz_bearer(s);
		break;
	case 1:
		fuzz_cookie(s);
		break;
	default:
		fuzz_hash(s);
		break;
	}
	g_free(s);
	return 0;
}
