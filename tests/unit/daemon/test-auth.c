/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sign-in hardening (daemon/app/auth.c, issue 12): buckets per client address (IPv6 by /64,
 * a bounded table), the cap on hashes in flight, the asynchronous sign-in on a
 * GMainContext (cancelled, or with auth freed under it), the cookie key in the state
 * directory (0600, kept across restarts, replaced when the credentials change), logout
 * revocation, sliding refresh on a fake clock, and the --hash-password length rule.
 *
 * The link wraps gnutls_memset (auth.c clears secrets with it) to see the sign-in's own
 * copy of a password cleared.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "app/auth.h"
#include "app/config.h"

#define TOKEN	  "test-token-0123456789abcdef"
#define PASSWORD  "correct horse battery"
#define NOW_S	  1700000000u
#define CHEAP	  1000u /* PBKDF2 iterations: the least a hash setting may have */
#define MONO_USEC 1000000u

/* ---- gnutls_memset, wrapped: counts clears of a buffer that holds the watched secret ---- */

void __real_gnutls_memset(void *p, int c, size_t n);
void __wrap_gnutls_memset(void *p, int c, size_t n);

static const char *watched; /* g_atomic: read on the pool's threads */
static gint wiped;

void __wrap_gnutls_memset(void *p, int c, size_t n)
{
	const char *w = g_atomic_pointer_get(&watched);

	if (w && n == strlen(w) && memcmp(p, w, n) == 0)
		g_atomic_int_inc(&wiped);
	__real_gnutls_memset(p, c, n);
}

/* ---- helpers ---- */

static GThread *main_thread;

struct result {
	GMainContext *ctx;
	unsigned calls;
	int r;
	char *set_cookie;
	bool on_ctx; /* called on the test thread, while it iterated ctx */
};

static void on_login(int r, char *set_cookie, void *userdata)
{
	struct result *res = userdata;

	res->calls++;
	res->r = r;
	g_free(res->set_cookie);
	res->set_cookie = set_cookie;
	res->on_ctx = g_thread_self() == main_thread && g_main_context_is_owner(res->ctx);
}

static void on_login_never(int r, char *set_cookie, void *userdata)
{
	g_assert_not_reached();
}

static void wait_result(struct result *res)
{
	while (!res->calls)
		g_main_context_iteration(res->ctx, TRUE);
}

/* "camgate_auth=VALUE" from a Set-Cookie value. */
static char *pair_of(const char *set_cookie)
{
	g_assert_nonnull(set_cookie);
	return g_strndup(set_cookie, strcspn(set_cookie, ";"));
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(40000);
	} else {
		g_assert_cmpint(inet_pton(AF_INET6, text, &in6->sin6_addr), ==, 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(40001);
	}
	return ss;
}

/* One sign-in from text's address: -EAGAIN/-EBUSY, or the callback's result. */
static int login_from(struct cg_auth *auth, GMainContext *ctx, const char *text, const char *secret,
		      uint64_t mono)
{
	struct sockaddr_storage ss = addr(text);
	struct result res = { .ctx = ctx };
	struct cg_auth_login *login;
	int r = cg_auth_login_async(auth, (struct sockaddr *)&ss, secret, false, NOW_S, mono, ctx,
				    on_login, &res, &login);

	if (r < 0)
		return r;
	g_assert_cmpint(r, ==, 0);
	g_assert_cmpuint(res.calls, ==, 0); /* never from within the call */
	wait_result(&res);
	g_assert_cmpuint(res.calls, ==, 1);
	g_assert_true(res.on_ctx);
	g_assert_true((res.r == 0) == (res.set_cookie != NULL));
	g_free(res.set_cookie);
	return res.r;
}

static struct cg_auth *auth_with(const char *token, const char *hash)
{
	struct cg_auth_credentials cred = { .token = token,
					    .password_hash = hash,
					    .required = true };
	struct cg_auth *auth;

	g_assert_cmpint(cg_auth_new(&cred, &auth), ==, 0);
	return auth;
}

static void set_credentials(struct cg_auth *auth, const char *token, const char *hash)
{
	struct cg_auth_credentials cred = { .token = token,
					    .password_hash = hash,
					    .required = true };

	cg_auth_set_credentials(auth, &cred);
}

/* A new sign-in's "camgate_auth=VALUE" (the synchronous form, with the token). */
static char *sign_in(struct cg_auth *auth, uint64_t now_s)
{
	char *set_cookie, *pair;

	g_assert_cmpint(cg_auth_login(auth, TOKEN, now_s, MONO_USEC, false, &set_cookie), ==, 0);
	pair = pair_of(set_cookie);
	g_free(set_cookie);
	return pair;
}

/* ---- tests ---- */

static void test_password_length(void)
{
	g_assert_cmpint(cg_auth_password_check(""), ==, -EINVAL);
	g_assert_cmpint(cg_auth_password_check("123456789"), ==, -EINVAL);
	g_assert_cmpint(cg_auth_password_check("1234567890"), ==, 0);
	/* Characters, not bytes: nine "é" are 18 bytes and still too short. */
	g_assert_cmpint(cg_auth_password_check("ééééééééé"), ==, -EINVAL);
	g_assert_cmpint(cg_auth_password_check("éééééééééé"), ==, 0);
	/* Not UTF-8: bytes count. */
	g_assert_cmpint(cg_auth_password_check("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7"), ==,
			-EINVAL);
	g_assert_cmpint(cg_auth_password_check("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6"), ==, 0);
}

/* One client guessing is throttled; another, and the owner, still get in. */
static void test_clients_apart(void)
{
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, NULL);
	uint64_t mono = MONO_USEC;

	for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", mono), ==, -EACCES);
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", mono), ==, -EAGAIN);
	/* Throttled means even the right secret waits... */
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", TOKEN, mono), ==, -EAGAIN);
	/* ...also over IPv6 as an IPv4-mapped address (a dual-stack socket)... */
	g_assert_cmpint(login_from(auth, ctx, "::ffff:192.0.2.1", TOKEN, mono), ==, -EAGAIN);
	/* ...but not another client, even in the same /24. */
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.2", TOKEN, mono), ==, 0);
	/* One attempt more every refill period. */
	mono += CG_AUTH_LOGIN_REFILL_USEC;
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", mono), ==, -EACCES);
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", TOKEN, mono), ==, -EAGAIN);
	mono += CG_AUTH_LOGIN_REFILL_USEC;
	/* Success fills the bucket again. */
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", TOKEN, mono), ==, 0);
	for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", mono), ==, -EACCES);
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", mono), ==, -EAGAIN);
	g_assert_cmpuint(cg_auth_n_clients(auth), ==, 2);
	cg_auth_free(auth);
	g_main_context_unref(ctx);
}

/* IPv6 clients are grouped by /64: a host picks any address in its own /64. */
static void test_ipv6_prefix(void)
{
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, NULL);

	for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "2001:db8:1:2::1", "guess", MONO_USEC), ==,
				-EACCES);
	g_assert_cmpint(login_from(auth, ctx, "2001:db8:1:2:ffff:eeee:dddd:cccc", TOKEN, MONO_USEC),
			==, -EAGAIN);
	g_assert_cmpint(login_from(auth, ctx, "2001:db8:1:3::1", TOKEN, MONO_USEC), ==, 0);
	/* An address that is not IP, or none, shares the "unknown" bucket. */
	{
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		struct result res = { .ctx = ctx };
		struct cg_auth_login *login;

		for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++) {
			g_assert_cmpint(cg_auth_login_async(auth,
							    i % 2 ? (struct sockaddr *)&un : NULL,
							    "guess", false, NOW_S, MONO_USEC, ctx,
							    on_login, &res, &login),
					==, 0);
			res.calls = 0;
			wait_result(&res);
			g_assert_cmpint(res.r, ==, -EACCES);
		}
		g_assert_cmpint(cg_auth_login_async(auth, NULL, TOKEN, false, NOW_S, MONO_USEC, ctx,
						    on_login, &res, &login),
				==, -EAGAIN);
	}
	g_assert_cmpuint(cg_auth_n_clients(auth), ==, 3);
	cg_auth_free(auth);
	g_main_context_unref(ctx);
}

/* A flood of source addresses keeps the table at its bound; the oldest go first. */
static void test_table_bound(void)
{
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, NULL);
	char text[INET_ADDRSTRLEN];
	unsigned n = 0;

	for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", "guess", MONO_USEC), ==,
				-EACCES);
	/*
	 * Three floods of new clients, each filling the table. After the first, 192.0.2.1
	 * is the least recently seen; it tries again (and is still throttled), which makes it
	 * the most recent, so the second flood evicts the first flood's clients and not it (a
	 * first-in first-out table would have). The third flood leaves it the oldest.
	 */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < CG_AUTH_CLIENTS_MAX - 1; i++, n++) {
			snprintf(text, sizeof(text), "10.%u.%u.%u", n >> 16 & 0xff, n >> 8 & 0xff,
				 n & 0xff);
			g_assert_cmpint(login_from(auth, ctx, text, "guess", MONO_USEC), ==,
					-EACCES);
			g_assert_cmpuint(cg_auth_n_clients(auth), <=, CG_AUTH_CLIENTS_MAX);
		}
		g_assert_cmpuint(cg_auth_n_clients(auth), ==, CG_AUTH_CLIENTS_MAX);
		if (round < 2)
			g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", TOKEN, MONO_USEC), ==,
					-EAGAIN);
	}
	/* One more new client evicts the oldest: 192.0.2.1, whose bucket is new again. */
	g_assert_cmpint(login_from(auth, ctx, "10.255.255.255", "guess", MONO_USEC), ==, -EACCES);
	g_assert_cmpuint(cg_auth_n_clients(auth), ==, CG_AUTH_CLIENTS_MAX);
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.1", TOKEN, MONO_USEC), ==, 0);
	cg_auth_free(auth);
	g_main_context_unref(ctx);
}

/* At most CG_AUTH_HASHES_MAX hashes at once, one per client; refusals cost nothing. */
static void test_hash_cap(void)
{
	char *hash = cg_auth_hash_password(PASSWORD, CHEAP);
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, hash);
	struct result res[CG_AUTH_HASHES_MAX];
	struct cg_auth_login *login;
	char text[INET_ADDRSTRLEN];
	struct sockaddr_storage ss;

	/* A finished hash is counted until its result is delivered on ctx, which is not
	 * iterated here: the checks below do not depend on how fast hashing is. */
	for (unsigned i = 0; i < CG_AUTH_HASHES_MAX; i++) {
		res[i] = (struct result){ .ctx = ctx };
		snprintf(text, sizeof(text), "198.51.100.%u", i);
		ss = addr(text);
		g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&ss, PASSWORD, false,
						    NOW_S, MONO_USEC, ctx, on_login, &res[i],
						    &login),
				==, 0);
	}
	/* The same client again, and anyone else, must retry... */
	g_assert_cmpint(login_from(auth, ctx, "198.51.100.0", PASSWORD, MONO_USEC), ==, -EBUSY);
	for (unsigned i = 0; i < 2 * CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "203.0.113.9", "guess", MONO_USEC), ==,
				-EBUSY);
	/* ...but the token needs no hash. */
	g_assert_cmpint(login_from(auth, ctx, "203.0.113.10", TOKEN, MONO_USEC), ==, 0);
	for (unsigned i = 0; i < CG_AUTH_HASHES_MAX; i++) {
		wait_result(&res[i]);
		g_assert_cmpint(res[i].r, ==, 0);
		g_assert_true(res[i].on_ctx);
		g_free(res[i].set_cookie);
	}
	/* The refusals were not counted against 203.0.113.9: its whole burst is there. */
	for (unsigned i = 0; i < CG_AUTH_LOGIN_BURST; i++)
		g_assert_cmpint(login_from(auth, ctx, "203.0.113.9", "guess", MONO_USEC), ==,
				-EACCES);
	g_assert_cmpint(login_from(auth, ctx, "203.0.113.9", PASSWORD, MONO_USEC), ==, -EAGAIN);
	cg_auth_free(auth);
	g_main_context_unref(ctx);
	g_free(hash);
}

/* The password is hashed off the calling thread, its copy cleared, the cookie valid. */
static void test_async(void)
{
	char *hash = cg_auth_hash_password(PASSWORD, CHEAP);
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, hash);
	struct sockaddr_storage ss = addr("192.0.2.7");
	struct result res = { .ctx = ctx };
	struct cg_auth_login *login;
	char *secret = g_strdup(PASSWORD);
	char *pair;

	g_atomic_pointer_set(&watched, PASSWORD);
	g_atomic_int_set(&wiped, 0);
	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&ss, secret, true, NOW_S,
					    MONO_USEC, ctx, on_login, &res, &login),
			==, 0);
	/* The caller may clear its own copy at once. */
	memset(secret, 0, strlen(secret));
	g_free(secret);
	/* Not delivered on another context (the default one here). */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(res.calls, ==, 0);
	wait_result(&res);
	g_assert_cmpint(res.r, ==, 0);
	g_assert_true(res.on_ctx);
	g_assert_nonnull(strstr(res.set_cookie, "; Secure"));
	g_assert_nonnull(strstr(res.set_cookie, "; HttpOnly; SameSite=Strict"));
	g_assert_cmpint(g_atomic_int_get(&wiped), ==, 1);
	pair = pair_of(res.set_cookie);
	g_assert_true(cg_auth_check(auth, NULL, pair, NOW_S));
	g_free(pair);

	/* A wrong password: -EACCES, its copy cleared too. */
	g_atomic_pointer_set(&watched, "not the password");
	g_atomic_int_set(&wiped, 0);
	g_assert_cmpint(login_from(auth, ctx, "192.0.2.7", "not the password", MONO_USEC), ==,
			-EACCES);
	g_assert_cmpint(g_atomic_int_get(&wiped), ==, 1);
	g_atomic_pointer_set(&watched, NULL);

	/* Credentials changed while it hashed: no cookie for the new key. */
	res.calls = 0;
	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&ss, PASSWORD, false, NOW_S,
					    MONO_USEC, ctx, on_login, &res, &login),
			==, 0);
	set_credentials(auth, TOKEN "x", hash);
	wait_result(&res);
	g_assert_cmpint(res.r, ==, -EACCES);
	g_assert_null(res.set_cookie);
	cg_auth_free(auth);
	g_main_context_unref(ctx);
	g_free(hash);
}

/* A cancelled sign-in never calls back, and its hash keeps its place until it ends. */
static void test_cancel(void)
{
	char *hash = cg_auth_hash_password(PASSWORD, CHEAP);
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, hash);
	struct sockaddr_storage ss = addr("192.0.2.8");
	struct cg_auth_login *login;
	int r;

	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&ss, PASSWORD, false, NOW_S,
					    MONO_USEC, ctx, on_login_never, NULL, &login),
			==, 0);
	cg_auth_login_cancel(login);
	/* Until the hash's end is seen on ctx, the client is still hashing. */
	while ((r = login_from(auth, ctx, "192.0.2.8", TOKEN, MONO_USEC)) == -EBUSY)
		g_main_context_iteration(ctx, TRUE);
	g_assert_cmpint(r, ==, 0);
	/* A token sign-in cancelled before its result is delivered. */
	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&ss, TOKEN, false, NOW_S,
					    MONO_USEC, ctx, on_login_never, NULL, &login),
			==, 0);
	cg_auth_login_cancel(login);
	while (g_main_context_iteration(ctx, FALSE))
		;
	cg_auth_free(auth);
	g_main_context_unref(ctx);
	g_free(hash);
}

/* Freeing auth with hashes in flight: no callback, no crash (and, under ASan, no leak). */
static void test_free_in_flight(void)
{
	char *hash = cg_auth_hash_password(PASSWORD, CG_AUTH_PBKDF2_ITERATIONS);
	GMainContext *ctx = g_main_context_new();
	struct cg_auth *auth = auth_with(TOKEN, hash);
	struct sockaddr_storage a = addr("192.0.2.9"), b = addr("192.0.2.10");
	struct cg_auth_login *login;

	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&a, PASSWORD, false, NOW_S,
					    MONO_USEC, ctx, on_login_never, NULL, &login),
			==, 0);
	g_assert_cmpint(cg_auth_login_async(auth, (struct sockaddr *)&b, TOKEN, false, NOW_S,
					    MONO_USEC, ctx, on_login_never, NULL, &login),
			==, 0);
	cg_auth_free(auth);
	while (g_main_context_iteration(ctx, FALSE))
		;
	g_main_context_unref(ctx);
	g_free(hash);
}

static char *temp_state_dir(char **ret_parent)
{
	char *parent = g_dir_make_tmp("camgate-auth-XXXXXX", NULL);

	g_assert_nonnull(parent);
	*ret_parent = parent;
	return g_build_filename(parent, "state", NULL); /* made by cg_auth_keep_cookie_key */
}

static char *read_key_file(const char *dir)
{
	char *path = g_build_filename(dir, CG_AUTH_COOKIE_KEY_FILE, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_free(path);
	return text;
}

static void remove_state_dir(char *parent, char *dir)
{
	char *path = g_build_filename(dir, CG_AUTH_COOKIE_KEY_FILE, NULL);

	g_unlink(path);
	g_rmdir(dir);
	g_rmdir(parent);
	g_free(path);
	g_free(dir);
	g_free(parent);
}

/* The key is random, kept 0600, reused by the next start, replaced when credentials change. */
static void test_cookie_key(void)
{
	char *parent, *dir = temp_state_dir(&parent);
	char *hash = cg_auth_hash_password(PASSWORD, CHEAP);
	char *other_hash = cg_auth_hash_password(PASSWORD "!", CHEAP);
	char *path = g_build_filename(dir, CG_AUTH_COOKIE_KEY_FILE, NULL);
	struct cg_auth *auth = auth_with(TOKEN, hash);
	char *pair, *pair2, *text, *text2;
	struct stat st;

	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_cmpint(stat(dir, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	text = read_key_file(dir);
	/* Not derived from the token: it appears nowhere in the file. */
	g_assert_null(strstr(text, TOKEN));
	pair = sign_in(auth, NOW_S);
	/* A reload with the same credentials keeps the key, and reading it again too. */
	set_credentials(auth, TOKEN, hash);
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_true(cg_auth_check(auth, NULL, pair, NOW_S));
	text2 = read_key_file(dir);
	g_assert_cmpstr(text, ==, text2);
	g_free(text2);
	cg_auth_free(auth);

	/* A restart reads the same key: the cookie still passes; the file is unchanged. */
	auth = auth_with(TOKEN, hash);
	g_assert_false(cg_auth_check(auth, NULL, pair, NOW_S)); /* before: a random key */
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_true(cg_auth_check(auth, NULL, pair, NOW_S));
	text2 = read_key_file(dir);
	g_assert_cmpstr(text, ==, text2);
	g_free(text2);

	/* A reload with a new password revokes every cookie, and writes a new key. */
	set_credentials(auth, TOKEN, other_hash);
	g_assert_false(cg_auth_check(auth, NULL, pair, NOW_S));
	text2 = read_key_file(dir);
	g_assert_cmpstr(text, !=, text2);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	pair2 = sign_in(auth, NOW_S);
	cg_auth_free(auth);
	g_free(text);
	text = text2;

	/* Credentials changed while camgate was down (a new token): the old key is void. */
	auth = auth_with(TOKEN "2", other_hash);
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_false(cg_auth_check(auth, NULL, pair2, NOW_S));
	text2 = read_key_file(dir);
	g_assert_cmpstr(text, !=, text2);
	g_free(text2);
	cg_auth_free(auth);

	/* Whatever else is in the file is replaced, 0600 again. */
	g_assert_true(g_file_set_contents(path, "camgate-cookie-key-v1\nkey AAAA\n", -1, NULL));
	g_assert_cmpint(chmod(path, 0644), ==, 0);
	auth = auth_with(TOKEN, hash);
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_free(pair2);
	pair2 = sign_in(auth, NOW_S);
	cg_auth_free(auth);
	auth = auth_with(TOKEN, hash);
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_true(cg_auth_check(auth, NULL, pair2, NOW_S));
	cg_auth_free(auth);

	g_free(pair);
	g_free(pair2);
	g_free(text);
	g_free(path);
	g_free(hash);
	g_free(other_hash);
	remove_state_dir(parent, dir);
}

/* Logging out revokes that browser's sign-in, here and after a restart; others stay. */
static void test_logout(void)
{
	char *parent, *dir = temp_state_dir(&parent);
	struct cg_auth *auth = auth_with(TOKEN, NULL);
	char *one, *two, *header, *set_cookie;

	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	one = sign_in(auth, NOW_S);
	two = sign_in(auth, NOW_S);
	g_assert_cmpint(cg_auth_logout(auth, NULL, NOW_S), ==, -ENOENT);
	g_assert_cmpint(cg_auth_logout(auth, "camgate_auth=nonsense; a=b", NOW_S), ==, -ENOENT);
	header = g_strconcat("theme=dark; ", one, NULL);
	g_assert_cmpint(cg_auth_logout(auth, header, NOW_S), ==, 0);
	g_assert_false(cg_auth_check(auth, NULL, one, NOW_S));
	g_assert_true(cg_auth_check(auth, NULL, two, NOW_S));
	g_assert_cmpint(cg_auth_logout(auth, header, NOW_S), ==, -ENOENT);
	/* Nor can it be refreshed into a new cookie. */
	g_assert_null(cg_auth_refresh_cookie(auth, one, NOW_S + CG_AUTH_COOKIE_REFRESH_S, false));
	cg_auth_free(auth);

	auth = auth_with(TOKEN, NULL);
	g_assert_cmpint(cg_auth_keep_cookie_key(auth, dir), ==, 0);
	g_assert_false(cg_auth_check(auth, NULL, one, NOW_S));
	g_assert_true(cg_auth_check(auth, NULL, two, NOW_S));
	/* A reissue of a sign-in is revoked with it. */
	set_cookie = cg_auth_refresh_cookie(auth, two, NOW_S + CG_AUTH_COOKIE_REFRESH_S, false);
	g_free(header);
	header = pair_of(set_cookie);
	g_assert_cmpint(cg_auth_logout(auth, two, NOW_S + CG_AUTH_COOKIE_REFRESH_S), ==, 0);
	g_assert_false(cg_auth_check(auth, NULL, header, NOW_S + CG_AUTH_COOKIE_REFRESH_S));
	cg_auth_free(auth);
	g_free(set_cookie);
	g_free(header);
	g_free(one);
	g_free(two);
	remove_state_dir(parent, dir);
}

/* The list of logged-out sign-ins is bounded: past it, every cookie is revoked. */
static void test_logout_bound(void)
{
	struct cg_auth *auth = auth_with(TOKEN, NULL);
	char *kept = sign_in(auth, NOW_S);
	char *pair;

	for (unsigned i = 0; i < CG_AUTH_REVOKED_MAX; i++) {
		pair = sign_in(auth, NOW_S);
		g_assert_cmpint(cg_auth_logout(auth, pair, NOW_S), ==, 0);
		g_free(pair);
	}
	g_assert_true(cg_auth_check(auth, NULL, kept, NOW_S));
	/* Expired entries are forgotten first: a month later there is room again... */
	pair = sign_in(auth, NOW_S + CG_AUTH_SESSION_MAX_S);
	g_free(kept);
	kept = sign_in(auth, NOW_S + CG_AUTH_SESSION_MAX_S);
	g_assert_cmpint(cg_auth_logout(auth, pair, NOW_S + CG_AUTH_SESSION_MAX_S), ==, 0);
	g_assert_true(cg_auth_check(auth, NULL, kept, NOW_S + CG_AUTH_SESSION_MAX_S));
	g_free(pair);
	/* ...while within it, one logout too many revokes everyone. */
	for (unsigned i = 0; i < CG_AUTH_REVOKED_MAX; i++) {
		pair = sign_in(auth, NOW_S + CG_AUTH_SESSION_MAX_S);
		g_assert_cmpint(cg_auth_logout(auth, pair, NOW_S + CG_AUTH_SESSION_MAX_S), ==, 0);
		g_assert_false(cg_auth_check(auth, NULL, pair, NOW_S + CG_AUTH_SESSION_MAX_S));
		g_free(pair);
	}
	g_assert_false(cg_auth_check(auth, NULL, kept, NOW_S + CG_AUTH_SESSION_MAX_S));
	pair = sign_in(auth, NOW_S + CG_AUTH_SESSION_MAX_S);
	g_assert_true(cg_auth_check(auth, NULL, pair, NOW_S + CG_AUTH_SESSION_MAX_S));
	g_free(pair);
	g_free(kept);
	cg_auth_free(auth);
}

static uint64_t max_age_of(const char *set_cookie)
{
	const char *p = strstr(set_cookie, "; Max-Age=");

	g_assert_nonnull(p);
	return g_ascii_strtoull(p + strlen("; Max-Age="), NULL, 10);
}

/* Seven days unused and a cookie dies; in use it is reissued daily, for 30 days at most. */
static void test_refresh(void)
{
	struct cg_auth *auth = auth_with(TOKEN, NULL);
	uint64_t t = NOW_S, day = 24 * 3600;
	char *set_cookie, *pair = NULL, *first;

	g_assert_cmpint(cg_auth_login(auth, TOKEN, t, MONO_USEC, false, &set_cookie), ==, 0);
	g_assert_cmpuint(max_age_of(set_cookie), ==, CG_AUTH_COOKIE_MAX_AGE_S);
	first = pair_of(set_cookie);
	g_free(set_cookie);
	g_assert_true(cg_auth_check(auth, NULL, first, t + CG_AUTH_COOKIE_MAX_AGE_S - 1));
	g_assert_false(cg_auth_check(auth, NULL, first, t + CG_AUTH_COOKIE_MAX_AGE_S));
	/* A clock stepped back an hour still takes it, not more. */
	g_assert_true(cg_auth_check(auth, NULL, first, t - 3600));
	g_assert_false(cg_auth_check(auth, NULL, first, t - 3601));
	g_assert_null(cg_auth_refresh_cookie(auth, first, t + CG_AUTH_COOKIE_REFRESH_S - 1, false));
	g_assert_null(cg_auth_refresh_cookie(auth, "a=b", t + CG_AUTH_COOKIE_REFRESH_S, false));
	g_assert_null(cg_auth_refresh_cookie(auth, NULL, t + CG_AUTH_COOKIE_REFRESH_S, false));

	/* Every six days: each reissue lives seven days from its own issue. */
	pair = g_strdup(first);
	for (t = NOW_S + 6 * day; t < NOW_S + CG_AUTH_SESSION_MAX_S; t += 6 * day) {
		char *next;

		g_assert_true(cg_auth_check(auth, NULL, pair, t));
		set_cookie = cg_auth_refresh_cookie(auth, pair, t, true);
		g_assert_nonnull(set_cookie);
		g_assert_nonnull(strstr(set_cookie, "; Secure"));
		/* Never past 30 days after the sign-in. */
		g_assert_cmpuint(max_age_of(set_cookie), ==,
				 MIN(CG_AUTH_COOKIE_MAX_AGE_S, NOW_S + CG_AUTH_SESSION_MAX_S - t));
		next = pair_of(set_cookie);
		g_free(set_cookie);
		g_assert_true(cg_auth_check(auth, NULL, next, t));
		g_free(pair);
		pair = next;
	}
	/* The first cookie died long ago; the last reissue dies with the sign-in. */
	g_assert_false(
		cg_auth_check(auth, NULL, first, NOW_S + 6 * day + CG_AUTH_COOKIE_MAX_AGE_S));
	g_assert_true(cg_auth_check(auth, NULL, pair, NOW_S + CG_AUTH_SESSION_MAX_S - 1));
	g_assert_false(cg_auth_check(auth, NULL, pair, NOW_S + CG_AUTH_SESSION_MAX_S));
	g_free(pair);
	g_free(first);
	cg_auth_free(auth);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	main_thread = g_thread_self();
	g_test_add_func("/auth/password-length", test_password_length);
	g_test_add_func("/auth/clients-apart", test_clients_apart);
	g_test_add_func("/auth/ipv6-prefix", test_ipv6_prefix);
	g_test_add_func("/auth/table-bound", test_table_bound);
	g_test_add_func("/auth/hash-cap", test_hash_cap);
	g_test_add_func("/auth/async", test_async);
	g_test_add_func("/auth/cancel", test_cancel);
	g_test_add_func("/auth/free-in-flight", test_free_in_flight);
	g_test_add_func("/auth/cookie-key", test_cookie_key);
	g_test_add_func("/auth/logout", test_logout);
	g_test_add_func("/auth/logout-bound", test_logout_bound);
	g_test_add_func("/auth/refresh", test_refresh);
	return g_test_run();
}
