/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Who may watch: a bearer token (Authorization: Bearer, for WHEP players and scrapers), a
 * password stored only as a PBKDF2-HMAC-SHA256 hash, and the login cookie a browser gets
 * for either. The cookie is "<expiry>.<HMAC-SHA256>" keyed by the credentials, so it
 * survives restarts and dies when the token or password changes. Secrets never reach a log.
 *
 * The format checks and hashing are pure (any thread). struct cg_auth is owned by the
 * control thread: every function taking one is control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_auth;
struct cg_config;

#define CG_AUTH_COOKIE "camgate_auth"
#define CG_AUTH_COOKIE_MAX_AGE_S (30u * 24 * 3600)
#define CG_AUTH_PBKDF2_ITERATIONS 200000u

/* 0 when token is 16-256 characters of RFC 6750's token68 minus '+', '/', '=', else
 * -EINVAL. Any thread. */
int cg_auth_token_check(const char *token);

/* 0 when hash has the form "pbkdf2-sha256$ITER$SALT$HASH" (base64), else -EINVAL. */
int cg_auth_hash_check(const char *hash);

/*
 * The "secret" field of a /login form body (application/x-www-form-urlencoded: body is
 * len bytes, not NUL-terminated; the first field of that name wins). Returns it unescaped
 * in a new string (clear it, then g_free it), or NULL when the field is missing or badly
 * escaped (a "%00" too). Any thread.
 */
char *cg_auth_form_secret(const char *body, size_t len);

/*
 * Hashes password with PBKDF2-HMAC-SHA256, a random 16-byte salt and iterations rounds
 * (0: CG_AUTH_PBKDF2_ITERATIONS). Returns a new string for the password-hash setting
 * (g_free it), or NULL if GnuTLS fails. Any thread.
 */
char *cg_auth_hash_password(const char *password, unsigned iterations);

/* 0 when password matches hash, -EACCES when it does not, -EINVAL for a bad hash. Any
 * thread; takes as long as the hash's iteration count asks. */
int cg_auth_verify_password(const char *hash, const char *password);

/*
 * Creates the checker for cfg's credentials (borrowed for the call: secrets are copied).
 * token is the configured or generated token (NULL: none). Returns 0 or -EINVAL.
 */
int cg_auth_new(const struct cg_config *cfg, const char *token, struct cg_auth **ret);
struct cg_auth *cg_auth_free(struct cg_auth *auth);

/* Replaces the credentials on reload. Cookies issued for the old ones stop working. */
void cg_auth_set_credentials(struct cg_auth *auth, const struct cg_config *cfg,
			     const char *token);

/* True when credentials are required at all (auth=on, or auto beyond loopback). */
bool cg_auth_required(const struct cg_auth *auth);

/*
 * True when a request may pass: auth not required, or its Authorization header carries the
 * token, or its Cookie header carries a valid login cookie. Either header may be NULL.
 * now_s is CLOCK_REALTIME in seconds (cookies carry wall-clock expiry).
 */
bool cg_auth_check(const struct cg_auth *auth, const char *authorization, const char *cookie,
		   uint64_t now_s);

/*
 * Checks a secret typed into the login form (the password, or the token) and on success
 * returns a Set-Cookie value in *ret_cookie (g_free it). Failures are rate-limited
 * globally (a token bucket of 10, one more every 3 s) so the password cannot be guessed
 * quickly. now_mono_usec drives the bucket. Returns 0, -EACCES (wrong) or -EAGAIN (too
 * many failures: try later).
 */
int cg_auth_login(struct cg_auth *auth, const char *secret, uint64_t now_s,
		  uint64_t now_mono_usec, bool secure, char **ret_cookie);
