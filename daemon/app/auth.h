/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Who may watch: a bearer token (Authorization: Bearer, for WHEP players and scrapers), a
 * password stored only as a PBKDF2-HMAC-SHA256 hash, and the login cookie a browser gets
 * for either. Secrets never reach a log.
 *
 * Login cookie: "<id>.<login>.<issued>.<mac>": a random 16-byte sign-in id (hex), the wall
 * time of the sign-in and of this issue (seconds), and HMAC-SHA256 over them with a random
 * 32-byte cookie key. The key is made once and kept in the state directory (see
 * cg_auth_keep_cookie_key), so cookies survive restarts; it is replaced, which revokes every
 * cookie, when the token or the password changes (on reload, or while camgate was down).
 * A cookie lives CG_AUTH_COOKIE_MAX_AGE_S after its issue, and a browser that keeps coming
 * gets it reissued (cg_auth_refresh_cookie) up to CG_AUTH_SESSION_MAX_S after its sign-in.
 * Logging out revokes that sign-in's id (cg_auth_logout), kept with the key until it would
 * have expired anyway.
 *
 * Sign-in attempts are throttled per client address (an IPv4 address, or an IPv6 /64; a
 * bounded table of buckets, the least recently seen evicted first), so one client guessing
 * cannot lock the owner out from another; and at most CG_AUTH_HASHES_MAX password hashes
 * run at once, on a small thread pool, never on the control loop (cg_auth_login_async).
 *
 * The format checks and hashing are pure (any thread). struct cg_auth is owned by the
 * control thread: every function taking one is control thread only.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_auth;
struct cg_auth_login;
struct sockaddr;

#define CG_AUTH_COOKIE		   "camgate_auth"
#define CG_AUTH_COOKIE_MAX_AGE_S   (7u * 24 * 3600)  /* unused this long, a cookie dies */
#define CG_AUTH_COOKIE_REFRESH_S   (24u * 3600)	     /* older than this, it is reissued */
#define CG_AUTH_SESSION_MAX_S	   (30u * 24 * 3600) /* reissues end this long after sign-in */
#define CG_AUTH_COOKIE_KEY_FILE	   "cookie-key"
#define CG_AUTH_PBKDF2_ITERATIONS  200000u
#define CG_AUTH_PASSWORD_MIN_CHARS 10u
#define CG_AUTH_LOGIN_BURST	   10u		  /* failed sign-ins a client may make at once */
#define CG_AUTH_LOGIN_REFILL_USEC  (3u * 1000000) /* then one more per this much */
#define CG_AUTH_CLIENTS_MAX	   4096u	  /* client buckets kept */
#define CG_AUTH_HASHES_MAX	   2u		  /* password hashes running at once */
#define CG_AUTH_REVOKED_MAX	   1024u	  /* logged-out sign-ins remembered */

/* 0 when token is 16-256 characters of RFC 6750's token68 minus '+', '/', '=', else
 * -EINVAL. Any thread. */
int cg_auth_token_check(const char *token);

/* 0 when hash has the form "pbkdf2-sha256$ITER$SALT$HASH" (base64), else -EINVAL. */
int cg_auth_hash_check(const char *hash);

/*
 * 0 when password is acceptable for --hash-password: at least CG_AUTH_PASSWORD_MIN_CHARS
 * characters (UTF-8 characters when it is valid UTF-8, else bytes); -EINVAL when shorter.
 * Any thread.
 */
int cg_auth_password_check(const char *password);

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

/* The credentials a checker accepts, as the configuration gives them (borrowed for the
 * call: secrets are copied). */
struct cg_auth_credentials {
	const char *token;	   /* the configured or generated token, NULL: none */
	const char *password_hash; /* --password-hash (cg_auth_hash_password), NULL: none */
	bool required;		   /* false: every request passes (loopback without secrets) */
};

/*
 * Creates the checker for cred. The cookie key is random and in memory only until
 * cg_auth_keep_cookie_key. Returns 0 or -EINVAL (a bad token).
 */
int cg_auth_new(const struct cg_auth_credentials *cred, struct cg_auth **ret);

/*
 * Frees auth. Sign-ins still hashing are waited for (one hash time at most, as they run in
 * parallel) and their callbacks never run, even if the caller did not cancel them; their
 * handles are freed. NULL is accepted; returns NULL.
 */
struct cg_auth *cg_auth_free(struct cg_auth *auth);

/*
 * Keeps the cookie key in state_dir/CG_AUTH_COOKIE_KEY_FILE (the directory is made 0700 if
 * missing; the file is written 0600 through a temporary file, fsync and rename, like the
 * token and the HTTPS key): read if it is there and was made for the current credentials,
 * else a new random key is made and written (revoking every cookie of the old one). From
 * then on, credential changes and logouts are written there too. Each call reads the file
 * again (a reload may call it every time). Returns 0, or -errno when the file cannot be read
 * or written (a file that is not a cookie key is replaced, not an error); the key then stays
 * in memory only: cookies work until camgate restarts. Call it when credentials are
 * required.
 */
int cg_auth_keep_cookie_key(struct cg_auth *auth, const char *state_dir);

/*
 * Replaces the credentials on reload. When the token or the password hash differs from
 * before, the cookie key is replaced (and written, see above): every cookie stops working,
 * and sign-ins still hashing against the old password fail with -EACCES.
 */
void cg_auth_set_credentials(struct cg_auth *auth, const struct cg_auth_credentials *cred);

/* True when credentials are required at all (auth=on, or auto beyond loopback). */
bool cg_auth_required(const struct cg_auth *auth);

/*
 * True when a request may pass: auth not required, or its Authorization header carries the
 * token, or its Cookie header carries a valid login cookie (any camgate_auth pair of it).
 * Either header may be NULL. now_s is CLOCK_REALTIME in seconds (cookies carry wall times).
 */
bool cg_auth_check(const struct cg_auth *auth, const char *authorization, const char *cookie,
		   uint64_t now_s);

/*
 * For a request that carries a valid login cookie in its Cookie header (NULL accepted):
 * when that cookie was issued CG_AUTH_COOKIE_REFRESH_S ago or more, returns a Set-Cookie
 * value reissuing it (same sign-in, issued now_s; Max-Age up to CG_AUTH_COOKIE_MAX_AGE_S,
 * never past CG_AUTH_SESSION_MAX_S after the sign-in; "; Secure" when secure) to send with
 * the response (g_free it). Else NULL: nothing to send.
 */
char *cg_auth_refresh_cookie(const struct cg_auth *auth, const char *cookie, uint64_t now_s,
			     bool secure);

/*
 * Logs out: revokes the sign-in of every valid login cookie in the Cookie header (NULL
 * accepted), so that neither the cookie nor any reissue of it passes again, here or after
 * a restart. Other browsers' cookies stay valid. When CG_AUTH_REVOKED_MAX sign-ins are
 * already revoked and none has expired, the cookie key is replaced instead (every cookie
 * revoked). Returns 0, -ENOENT when the header held no valid login cookie (nothing
 * changed), or -errno when the revocation could not be written to the state directory (it
 * holds until camgate restarts). The caller still sends a Set-Cookie clearing the cookie.
 */
int cg_auth_logout(struct cg_auth *auth, const char *cookie, uint64_t now_s);

/*
 * The end of an asynchronous sign-in, called on the GMainContext given to
 * cg_auth_login_async, never from within it. result: 0 (signed in: set_cookie is the
 * Set-Cookie value, which the callee owns and g_frees), -EACCES (wrong secret, or the
 * credentials changed meanwhile), -EIO (GnuTLS failed). set_cookie is NULL unless result is
 * 0. The handle is freed once this returns.
 */
typedef void (*cg_auth_login_fn)(int result, char *set_cookie, void *userdata);

/*
 * Checks a secret typed into the login form (the token, or the password) from the client
 * at address client (an AF_INET or AF_INET6 address; NULL or another family: one shared
 * "unknown" bucket). The secret is copied (and the copy cleared once used): the caller may
 * clear its own at once. now_s (CLOCK_REALTIME seconds) dates the cookie; now_mono_usec
 * (CLOCK_MONOTONIC) drives the client's bucket. secure adds "; Secure" to the cookie.
 *
 * Returns 0 and *ret_login (a handle, valid until done has run or cg_auth_login_cancel)
 * when done will be called on ctx (the context of the thread that owns auth; it is
 * referenced until then); a token is compared at once, a password hashed on a pool thread.
 * Or, without calling done:
 *   -EAGAIN  this client failed too often: CG_AUTH_LOGIN_BURST attempts, then one per
 *            CG_AUTH_LOGIN_REFILL_USEC (answer 429, "try again later");
 *   -EBUSY   this client already has a sign-in hashing, or CG_AUTH_HASHES_MAX are hashing
 *            for everyone: nothing was counted against the client (answer 503 with
 *            Retry-After: 1, "busy, retry").
 * Every attempt counts against the client's bucket when it starts; success refills it.
 */
int cg_auth_login_async(struct cg_auth *auth, const struct sockaddr *client, const char *secret,
			bool secure, uint64_t now_s, uint64_t now_mono_usec, GMainContext *ctx,
			cg_auth_login_fn done, void *userdata, struct cg_auth_login **ret_login);

/*
 * The requester is gone (its HTTP request ended while suspended): done will not be called
 * and the handle is freed (now, or when its hash ends: the hash keeps its place in the
 * CG_AUTH_HASHES_MAX until then, so hanging up does not make room for more guesses). Must
 * not be called after done has run.
 */
void cg_auth_login_cancel(struct cg_auth_login *login);

/*
 * The synchronous sign-in, for tests and tools: the hash runs on the calling thread (never
 * call it on the control loop with a password configured). Attempts count against the
 * "unknown client" bucket. On success returns 0 with a Set-Cookie value in *ret_cookie
 * (g_free it); else -EACCES (wrong), -EAGAIN (too many failures: try later) or -EIO.
 */
int cg_auth_login(struct cg_auth *auth, const char *secret, uint64_t now_s, uint64_t now_mono_usec,
		  bool secure, char **ret_cookie);

/* How many client buckets are kept (at most CG_AUTH_CLIENTS_MAX), for /metrics and tests. */
unsigned cg_auth_n_clients(const struct cg_auth *auth);
