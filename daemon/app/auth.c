/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "auth"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "app/auth.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

#define AUTH_HASH_PREFIX     "pbkdf2-sha256$"
#define AUTH_KEY_LEN	     32
#define AUTH_MAC_LEN	     32
#define AUTH_ID_LEN	     16
#define AUTH_CLIENT_KEY_LEN  9	   /* family (0, 4 or 6), then 4 or 8 address bytes */
#define AUTH_NUM_DIGITS_MAX  19	   /* decimal seconds below 10^19 cannot overflow a uint64_t */
#define AUTH_COOKIE_SKEW_S   3600u /* issued this far "ahead" still passes: a clock stepped back */
#define AUTH_KEY_FILE_MAGIC  "camgate-cookie-key-v1"
#define AUTH_COOKIE_MAC_CTX  "camgate-cookie-v2"
#define AUTH_CREDENTIALS_CTX "camgate-credentials-v1"

/* One client's sign-in bucket (a token bucket of failed attempts). */
struct auth_client {
	GList link; /* in cg_auth.lru, most recently seen first; data is this */
	uint8_t key[AUTH_CLIENT_KEY_LEN]; /* blinded (cg_auth.blind), the table's key */
	unsigned tokens;		  /* attempts still allowed now */
	uint64_t refill_usec;		  /* when the next token was last counted from */
	bool hashing;			  /* a sign-in of this client is hashing: not evicted */
};

/* A logged-out sign-in, refused until the last of its cookies would have died anyway. */
struct auth_revoked {
	uint8_t id[AUTH_ID_LEN];
	uint64_t until_s;
};

/* A login cookie's fields (see auth.h). */
struct auth_cookie {
	uint8_t id[AUTH_ID_LEN];
	uint64_t login_s;
	uint64_t issued_s;
};

struct cg_auth {
	bool required;
	char *token;
	char *password_hash;
	unsigned generation; /* changes with the credentials: hashes started before fail */
	uint8_t cookie_key[AUTH_KEY_LEN];
	char *state_dir;     /* where the key is kept, or NULL: in memory only */
	GArray *revoked;     /* struct auth_revoked, at most CG_AUTH_REVOKED_MAX */
	GHashTable *clients; /* auth_client.key -> struct auth_client, no destroy functions */
	GQueue lru;	     /* of auth_client.link */
	uint8_t blind[AUTH_CLIENT_KEY_LEN]; /* xored into keys: hash collisions not chosen */
	unsigned n_hashing;
	GThreadPool *pool; /* made at the first hash */
	GQueue logins;	   /* of cg_auth_login.link: every sign-in not finished */
};

/* Whose a hashing sign-in's fields are (cg_auth_login.turn). */
enum { AUTH_TURN_CONTROL, AUTH_TURN_POOL };

/*
 * One asynchronous sign-in. The control thread owns it, except that while a pool thread
 * hashes, that thread alone touches secret, hash and result, and then makes source ready
 * (its last touch); source dispatches auth_login_finish on ctx. turn hands the fields over
 * and back with atomics, so the ordering does not rest on GLib's internal locks alone (the
 * pool's queue, the context's lock), which ThreadSanitizer cannot see.
 */
struct cg_auth_login {
	GList link; /* in cg_auth.logins; data is this */
	struct cg_auth *auth;
	struct auth_client *client; /* while hashing (pinned), else NULL */
	unsigned generation;
	cg_auth_login_fn done; /* NULL once cancelled */
	void *userdata;
	GMainContext *ctx; /* a reference */
	GSource *source;
	bool secure;
	uint64_t now_s;
	gint turn; /* AUTH_TURN_*, g_atomic */
	char *secret;
	char *hash;
	int result;
};

/* Clears a string that held a secret (gnutls_memset is not optimized away). */
static void auth_wipe(char *s)
{
	if (s)
		gnutls_memset(s, 0, strlen(s));
}

/* Compares without an early exit, so timing does not tell how much of a secret matched. */
static bool auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[lb ? i % lb : 0];
	return diff == 0;
}

int cg_auth_token_check(const char *token)
{
	size_t n = strlen(token);

	if (n < 16 || n > 256)
		return -EINVAL;
	/* It travels in an Authorization header, a cookie and a form: no escaping needed. */
	for (const char *p = token; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-._~", *p))
			return -EINVAL;
	return 0;
}

/* Splits "pbkdf2-sha256$ITER$SALT$HASH"; the decoded salt and hash are g_free'd by the
 * caller. */
static int auth_hash_parse(const char *s, unsigned *iter, guchar **salt, gsize *salt_len,
			   guchar **hash, gsize *hash_len)
{
	char **parts;
	char *end;
	unsigned long n;
	int r = -EINVAL;

	if (!g_str_has_prefix(s, AUTH_HASH_PREFIX))
		return -EINVAL;
	parts = g_strsplit(s + strlen(AUTH_HASH_PREFIX), "$", -1);
	if (g_strv_length(parts) != 3 || !parts[1][0] || !parts[2][0])
		goto out;
	/* Digits only: strtoul() alone would take " 1000", "+1000" and a wrapped "-…". */
	n = strtoul(parts[0], &end, 10);
	if (!g_ascii_isdigit(parts[0][0]) || *end || n < 1000 || n > 10000000)
		goto out;
	*iter = (unsigned)n;
	*salt = g_base64_decode(parts[1], salt_len);
	*hash = g_base64_decode(parts[2], hash_len);
	if (*salt_len >= 8 && *hash_len == 32) {
		r = 0;
	} else {
		g_free(*salt);
		g_free(*hash);
	}
out:
	g_strfreev(parts);
	return r;
}

int cg_auth_hash_check(const char *hash)
{
	guchar *salt, *digest;
	gsize salt_len, digest_len;
	unsigned iter;

	if (auth_hash_parse(hash, &iter, &salt, &salt_len, &digest, &digest_len) < 0)
		return -EINVAL;
	g_free(salt);
	g_free(digest);
	return 0;
}

static int auth_pbkdf2(const char *password, const guchar *salt, gsize salt_len, unsigned iter,
		       uint8_t out[32])
{
	gnutls_datum_t key = { .data = (unsigned char *)password,
			       .size = (unsigned)strlen(password) };
	gnutls_datum_t s = { .data = (unsigned char *)salt, .size = (unsigned)salt_len };

	return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iter, out, 32) < 0 ? -EIO : 0;
}

char *cg_auth_hash_password(const char *password, unsigned iterations)
{
	uint8_t salt[16], digest[32];
	char *salt64, *digest64, *out;

	if (!iterations)
		iterations = CG_AUTH_PBKDF2_ITERATIONS;
	cg_rand_bytes(salt, sizeof(salt));
	if (auth_pbkdf2(password, salt, sizeof(salt), iterations, digest) < 0)
		return NULL;
	salt64 = g_base64_encode(salt, sizeof(salt));
	digest64 = g_base64_encode(digest, sizeof(digest));
	out = g_strdup_printf(AUTH_HASH_PREFIX "%u$%s$%s", iterations, salt64, digest64);
	g_free(salt64);
	g_free(digest64);
	return out;
}

int cg_auth_verify_password(const char *hash, const char *password)
{
	guchar *salt, *want;
	gsize salt_len, want_len;
	uint8_t got[32];
	unsigned iter, diff = 0;
	int r;

	if (auth_hash_parse(hash, &iter, &salt, &salt_len, &want, &want_len) < 0)
		return -EINVAL;
	r = auth_pbkdf2(password, salt, salt_len, iter, got);
	for (size_t i = 0; i < sizeof(got); i++)
		diff |= got[i] ^ want[i];
	g_free(salt);
	g_free(want);
	if (r < 0)
		return r;
	return diff ? -EACCES : 0;
}

int cg_auth_password_check(const char *password)
{
	size_t n = g_utf8_validate(password, -1, NULL) ? (size_t)g_utf8_strlen(password, -1)
						       : strlen(password);

	return n < CG_AUTH_PASSWORD_MIN_CHARS ? -EINVAL : 0;
}

/* ---- the cookie key and its file ---- */

static void auth_append_hex(GString *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%02x", p[i]);
}

/* Lowercase hex only, exactly 2 * n characters: one spelling per value. */
static bool auth_parse_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(g_ascii_xdigit_value(s[2 * i]) << 4 |
				   g_ascii_xdigit_value(s[2 * i + 1]));
	return true;
}

/* 1 to AUTH_NUM_DIGITS_MAX decimal digits, nothing else. */
static bool auth_parse_num(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len < 1 || len > AUTH_NUM_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/*
 * What the key was made for: HMAC of the token and the password hash, kept with the key so
 * that credentials changed while camgate was down still revoke the old cookies.
 */
static void auth_credentials_tag(const struct cg_auth *auth, uint8_t out[AUTH_MAC_LEN])
{
	GString *msg = g_string_new(AUTH_CREDENTIALS_CTX);

	g_string_append_c(msg, '\0');
	if (auth->token)
		g_string_append(msg, auth->token);
	g_string_append_c(msg, '\0');
	if (auth->password_hash)
		g_string_append(msg, auth->password_hash);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, auth->cookie_key, sizeof(auth->cookie_key), msg->str,
			 msg->len, out);
	gnutls_memset(msg->str, 0, msg->len);
	g_string_free(msg, TRUE);
}

/*
 * The file: the magic line, "key BASE64", "credentials HEX" (auth_credentials_tag), then
 * one "revoked ID-HEX UNTIL" line per logged-out sign-in. Written whole, 0600, through a
 * temporary file, fsync and rename (GLib's g_file_set_contents_full does what state.c's
 * cg_state_write does; auth.c stays linkable alone, as the fuzz targets link it).
 */
static int auth_key_write(struct cg_auth *auth)
{
	char *path, *key64;
	uint8_t tag[AUTH_MAC_LEN];
	GString *text;
	GError *error = NULL;
	int r = 0;

	if (!auth->state_dir)
		return 0;
	if (g_mkdir_with_parents(auth->state_dir, 0700) < 0)
		return -errno;
	path = g_build_filename(auth->state_dir, CG_AUTH_COOKIE_KEY_FILE, NULL);
	key64 = g_base64_encode(auth->cookie_key, sizeof(auth->cookie_key));
	auth_credentials_tag(auth, tag);
	text = g_string_new(AUTH_KEY_FILE_MAGIC "\nkey ");
	g_string_append(text, key64);
	g_string_append(text, "\ncredentials ");
	auth_append_hex(text, tag, sizeof(tag));
	g_string_append_c(text, '\n');
	for (guint i = 0; i < auth->revoked->len; i++) {
		const struct auth_revoked *rv =
			&g_array_index(auth->revoked, struct auth_revoked, i);

		g_string_append(text, "revoked ");
		auth_append_hex(text, rv->id, sizeof(rv->id));
		g_string_append_printf(text, " %" G_GUINT64_FORMAT "\n", rv->until_s);
	}
	if (!g_file_set_contents_full(path, text->str, (gssize)text->len,
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				      0600, &error)) {
		cg_warn("cannot write the cookie key: %s", error->message);
		g_error_free(error);
		r = -EIO;
	}
	auth_wipe(key64);
	g_free(key64);
	gnutls_memset(text->str, 0, text->len);
	g_string_free(text, TRUE);
	g_free(path);
	return r;
}

static bool auth_key_parse_revoked(const char *line, struct auth_revoked *rv)
{
	const char *p = line + strlen("revoked ");
	const char *sp = strchr(p, ' ');

	return g_str_has_prefix(line, "revoked ") && sp &&
	       auth_parse_hex(p, (size_t)(sp - p), rv->id, sizeof(rv->id)) &&
	       auth_parse_num(sp + 1, strlen(sp + 1), &rv->until_s);
}

/* Parses the file's lines into key, tag and revoked; false when it is not such a file. */
static bool auth_key_parse(char **lines, uint8_t key[AUTH_KEY_LEN], uint8_t tag[AUTH_MAC_LEN],
			   GArray *revoked)
{
	guchar *raw = NULL;
	gsize raw_len = 0;
	unsigned n = g_strv_length(lines);
	bool ok;

	/* The text ends with a newline: the last piece is empty. */
	if (n < 4 || n - 4 > CG_AUTH_REVOKED_MAX || lines[n - 1][0] ||
	    strcmp(lines[0], AUTH_KEY_FILE_MAGIC) != 0 || !g_str_has_prefix(lines[1], "key ") ||
	    !g_str_has_prefix(lines[2], "credentials "))
		return false;
	raw = g_base64_decode(lines[1] + strlen("key "), &raw_len);
	ok = raw_len == AUTH_KEY_LEN &&
	     auth_parse_hex(lines[2] + strlen("credentials "),
			    strlen(lines[2] + strlen("credentials ")), tag, AUTH_MAC_LEN);
	if (ok)
		memcpy(key, raw, AUTH_KEY_LEN);
	for (unsigned i = 3; ok && i < n - 1; i++) {
		struct auth_revoked rv;

		ok = auth_key_parse_revoked(lines[i], &rv);
		if (ok)
			g_array_append_val(revoked, rv);
	}
	if (raw)
		gnutls_memset(raw, 0, raw_len);
	g_free(raw);
	return ok;
}

/*
 * Reads path into auth's key and revocations. Returns 0 (with *ret_current: made for the
 * current credentials), -ENOENT, -EINVAL (not a cookie key file: auth unchanged) or -EIO.
 */
static int auth_key_read(struct cg_auth *auth, const char *path, bool *ret_current)
{
	uint8_t key[AUTH_KEY_LEN], tag[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	GArray *revoked = g_array_new(FALSE, FALSE, sizeof(struct auth_revoked));
	GError *error = NULL;
	char *text;
	gsize len;
	char **lines;
	bool ok;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		bool missing = error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT;

		if (!missing)
			cg_warn("cannot read the cookie key: %s", error->message);
		g_error_free(error);
		g_array_unref(revoked);
		return missing ? -ENOENT : -EIO;
	}
	lines = strlen(text) == len ? g_strsplit(text, "\n", -1) : g_new0(char *, 1);
	ok = auth_key_parse(lines, key, tag, revoked);
	if (ok) {
		memcpy(auth->cookie_key, key, sizeof(key));
		g_array_unref(auth->revoked);
		auth->revoked = g_array_ref(revoked);
		auth_credentials_tag(auth, want);
		*ret_current = memcmp(tag, want, sizeof(tag)) == 0;
	}
	gnutls_memset(key, 0, sizeof(key));
	for (char **l = lines; *l; l++)
		auth_wipe(*l);
	g_strfreev(lines);
	gnutls_memset(text, 0, len);
	g_free(text);
	g_array_unref(revoked);
	return ok ? 0 : -EINVAL;
}

/* A new random key: every cookie of the old one and every revocation are void. */
static void auth_new_key(struct cg_auth *auth)
{
	cg_rand_bytes(auth->cookie_key, sizeof(auth->cookie_key));
	g_array_set_size(auth->revoked, 0);
}

int cg_auth_keep_cookie_key(struct cg_auth *auth, const char *state_dir)
{
	char *path;
	bool current = false;
	int r;

	g_free(auth->state_dir);
	auth->state_dir = NULL;
	path = g_build_filename(state_dir, CG_AUTH_COOKIE_KEY_FILE, NULL);
	r = auth_key_read(auth, path, &current);
	if (r == -EIO)
		goto out;
	auth->state_dir = g_strdup(state_dir);
	if (r == 0 && current)
		goto out;
	if (r == 0)
		cg_notice("the token or password changed since the last start: every sign-in "
			  "cookie is revoked");
	else if (r == -EINVAL)
		cg_warn("%s is not a cookie key, making a new one: every sign-in cookie is revoked",
			path);
	auth_new_key(auth);
	r = auth_key_write(auth);
	if (r < 0) {
		g_free(auth->state_dir);
		auth->state_dir = NULL;
	}
out:
	g_free(path);
	return r;
}

/* ---- credentials ---- */

void cg_auth_set_credentials(struct cg_auth *auth, const struct cg_auth_credentials *cred)
{
	bool changed = g_strcmp0(auth->token, cred->token) != 0 ||
		       g_strcmp0(auth->password_hash, cred->password_hash) != 0;

	auth->required = cred->required;
	if (!changed)
		return;
	auth_wipe(auth->token);
	g_free(auth->token);
	g_free(auth->password_hash);
	auth->token = g_strdup(cred->token);
	auth->password_hash = g_strdup(cred->password_hash);
	auth->generation++;
	auth_new_key(auth);
	if (auth->state_dir) {
		cg_notice("the token or password changed: every sign-in cookie is revoked");
		auth_key_write(auth);
	}
}

/* Client buckets are keyed by their blinded address bytes: FNV-1a over them. */
static guint auth_client_hash(gconstpointer key)
{
	const uint8_t *p = key;
	guint h = 2166136261u;

	for (size_t i = 0; i < AUTH_CLIENT_KEY_LEN; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static gboolean auth_client_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, AUTH_CLIENT_KEY_LEN) == 0;
}

int cg_auth_new(const struct cg_auth_credentials *cred, struct cg_auth **ret)
{
	struct cg_auth *auth;

	if (cred->token && cg_auth_token_check(cred->token) < 0)
		return -EINVAL;
	auth = cg_new0(struct cg_auth, 1);
	auth->revoked = g_array_new(FALSE, FALSE, sizeof(struct auth_revoked));
	auth->clients = g_hash_table_new(auth_client_hash, auth_client_equal);
	g_queue_init(&auth->lru);
	g_queue_init(&auth->logins);
	cg_rand_bytes(auth->blind, sizeof(auth->blind));
	cg_rand_bytes(auth->cookie_key, sizeof(auth->cookie_key));
	cg_auth_set_credentials(auth, cred);
	*ret = auth;
	return 0;
}

static void auth_login_free(struct cg_auth_login *login)
{
	g_source_destroy(login->source);
	g_source_unref(login->source);
	g_main_context_unref(login->ctx);
	auth_wipe(login->secret);
	g_free(login->secret);
	g_free(login->hash);
	g_free(login);
}

struct cg_auth *cg_auth_free(struct cg_auth *auth)
{
	GList *link;

	if (!auth)
		return NULL;
	/* The pool threads hold sign-ins: let them end (they touch nothing of auth). */
	if (auth->pool)
		g_thread_pool_free(auth->pool, FALSE, TRUE);
	while ((link = g_queue_pop_head_link(&auth->logins))) {
		struct cg_auth_login *login = link->data;

		cg_assert(g_atomic_int_get(&login->turn) == AUTH_TURN_CONTROL);
		auth_login_free(login);
	}
	while ((link = g_queue_pop_head_link(&auth->lru)))
		g_free(link->data);
	g_hash_table_unref(auth->clients);
	g_array_unref(auth->revoked);
	auth_wipe(auth->token);
	g_free(auth->token);
	g_free(auth->password_hash);
	g_free(auth->state_dir);
	gnutls_memset(auth->cookie_key, 0, sizeof(auth->cookie_key));
	free(auth);
	return NULL;
}

bool cg_auth_required(const struct cg_auth *auth)
{
	return auth->required;
}

unsigned cg_auth_n_clients(const struct cg_auth *auth)
{
	return g_hash_table_size(auth->clients);
}

/* ---- login cookies ---- */

static void auth_cookie_mac(const struct cg_auth *auth, const char *payload, size_t len,
			    uint8_t mac[AUTH_MAC_LEN])
{
	GString *msg = g_string_new(AUTH_COOKIE_MAC_CTX);

	g_string_append_c(msg, '\0');
	g_string_append_len(msg, payload, (gssize)len);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, auth->cookie_key, sizeof(auth->cookie_key), msg->str,
			 msg->len, mac);
	g_string_free(msg, TRUE);
}

/* The Set-Cookie value for c, issued at c->issued_s (= now). */
static char *auth_set_cookie(const struct cg_auth *auth, const struct auth_cookie *c, bool secure)
{
	GString *v = g_string_new(CG_AUTH_COOKIE "=");
	size_t start = v->len;
	uint8_t mac[AUTH_MAC_LEN];
	uint64_t max_age = CG_MIN((uint64_t)CG_AUTH_COOKIE_MAX_AGE_S,
				  c->login_s + CG_AUTH_SESSION_MAX_S - c->issued_s);

	auth_append_hex(v, c->id, sizeof(c->id));
	g_string_append_printf(v, ".%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT, c->login_s,
			       c->issued_s);
	auth_cookie_mac(auth, v->str + start, v->len - start, mac);
	g_string_append_c(v, '.');
	auth_append_hex(v, mac, sizeof(mac));
	g_string_append_printf(
		v, "; Path=/; Max-Age=%" G_GUINT64_FORMAT "; HttpOnly; SameSite=Strict%s", max_age,
		secure ? "; Secure" : "");
	return g_string_free(v, FALSE);
}

/* A new sign-in's cookie. */
static char *auth_login_cookie(const struct cg_auth *auth, uint64_t now_s, bool secure)
{
	struct auth_cookie c = { .login_s = now_s, .issued_s = now_s };

	cg_rand_bytes(c.id, sizeof(c.id));
	return auth_set_cookie(auth, &c, secure);
}

static bool auth_cookie_revoked(const struct cg_auth *auth, const uint8_t id[AUTH_ID_LEN])
{
	for (guint i = 0; i < auth->revoked->len; i++)
		if (memcmp(g_array_index(auth->revoked, struct auth_revoked, i).id, id,
			   AUTH_ID_LEN) == 0)
			return true;
	return false;
}

/* Whether c may pass at now_s (its MAC is checked already). */
static bool auth_cookie_current(const struct cg_auth *auth, const struct auth_cookie *c,
				uint64_t now_s)
{
	return c->login_s <= c->issued_s && c->issued_s <= now_s + AUTH_COOKIE_SKEW_S &&
	       now_s < c->issued_s + CG_AUTH_COOKIE_MAX_AGE_S &&
	       now_s < c->login_s + CG_AUTH_SESSION_MAX_S && !auth_cookie_revoked(auth, c->id);
}

/* "<id hex>.<login>.<issued>" */
static bool auth_cookie_parse_payload(const char *p, size_t len, struct auth_cookie *c)
{
	const char *end = p + len;
	const char *dot1 = memchr(p, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;

	return dot2 && auth_parse_hex(p, (size_t)(dot1 - p), c->id, sizeof(c->id)) &&
	       auth_parse_num(dot1 + 1, (size_t)(dot2 - dot1 - 1), &c->login_s) &&
	       auth_parse_num(dot2 + 1, (size_t)(end - dot2 - 1), &c->issued_s);
}

/* A camgate_auth value (len bytes): its fields when it is a valid cookie at now_s. */
static bool auth_cookie_valid(const struct cg_auth *auth, const char *v, size_t len, uint64_t now_s,
			      struct auth_cookie *ret)
{
	uint8_t mac[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	struct auth_cookie c;
	size_t payload_len;
	unsigned diff = 0;

	if (len < 2 * AUTH_MAC_LEN + 1)
		return false;
	payload_len = len - 2 * AUTH_MAC_LEN - 1;
	if (v[payload_len] != '.' ||
	    !auth_parse_hex(v + payload_len + 1, 2 * AUTH_MAC_LEN, mac, sizeof(mac)) ||
	    !auth_cookie_parse_payload(v, payload_len, &c))
		return false;
	auth_cookie_mac(auth, v, payload_len, want);
	/* No early exit: timing does not tell how much of a forged MAC was right. */
	for (size_t i = 0; i < sizeof(mac); i++)
		diff |= mac[i] ^ want[i];
	if (diff || !auth_cookie_current(auth, &c, now_s))
		return false;
	*ret = c;
	return true;
}

/*
 * Finds the next valid login cookie in a Cookie header ("a=b; c=d" pairs, RFC 6265
 * §4.2.1) from *pos on, and moves *pos past it. False when there is none left.
 */
static bool auth_next_cookie(const struct cg_auth *auth, const char **pos, uint64_t now_s,
			     struct auth_cookie *ret)
{
	const char *p = *pos;
	size_t name_len = strlen(CG_AUTH_COOKIE);

	while (p && *p) {
		size_t len;
		bool found;

		p += strspn(p, " ;");
		len = strcspn(p, ";");
		found = len > name_len && strncmp(p, CG_AUTH_COOKIE "=", name_len + 1) == 0 &&
			auth_cookie_valid(auth, p + name_len + 1, len - name_len - 1, now_s, ret);
		p += len;
		if (found) {
			*pos = p;
			return true;
		}
	}
	*pos = p;
	return false;
}

static bool auth_check_bearer(const struct cg_auth *auth, const char *header)
{
	/* RFC 6750 §2.1: the scheme is case-insensitive, then one or more spaces. */
	if (!auth->token || g_ascii_strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	header += 7;
	while (*header == ' ')
		header++;
	return auth_equal(header, auth->token);
}

bool cg_auth_check(const struct cg_auth *auth, const char *authorization, const char *cookie,
		   uint64_t now_s)
{
	struct auth_cookie c;

	if (!auth->required)
		return true;
	if (authorization && auth_check_bearer(auth, authorization))
		return true;
	return auth_next_cookie(auth, &cookie, now_s, &c);
}

char *cg_auth_refresh_cookie(const struct cg_auth *auth, const char *cookie, uint64_t now_s,
			     bool secure)
{
	struct auth_cookie c;

	if (!auth->required || !auth_next_cookie(auth, &cookie, now_s, &c) || c.issued_s > now_s ||
	    now_s - c.issued_s < CG_AUTH_COOKIE_REFRESH_S)
		return NULL;
	c.issued_s = now_s;
	return auth_set_cookie(auth, &c, secure);
}

/* Remembers c's sign-in as revoked, forgetting those that have expired meanwhile. */
static void auth_revoke(struct cg_auth *auth, const struct auth_cookie *c, uint64_t now_s)
{
	struct auth_revoked rv = { .until_s = c->login_s + CG_AUTH_SESSION_MAX_S };

	for (guint i = auth->revoked->len; i-- > 0;)
		if (g_array_index(auth->revoked, struct auth_revoked, i).until_s <= now_s)
			g_array_remove_index_fast(auth->revoked, i);
	if (auth->revoked->len >= CG_AUTH_REVOKED_MAX) {
		/* Still bounded, and still safe: revoking everyone revokes this one too. */
		cg_notice("%u sign-ins logged out within %u days: every sign-in cookie is revoked",
			  CG_AUTH_REVOKED_MAX, CG_AUTH_SESSION_MAX_S / (24 * 3600));
		auth_new_key(auth);
		return;
	}
	memcpy(rv.id, c->id, sizeof(rv.id));
	g_array_append_val(auth->revoked, rv);
}

int cg_auth_logout(struct cg_auth *auth, const char *cookie, uint64_t now_s)
{
	struct auth_cookie c;
	bool any = false;

	while (auth_next_cookie(auth, &cookie, now_s, &c)) {
		auth_revoke(auth, &c, now_s);
		any = true;
	}
	if (!any)
		return -ENOENT;
	return auth_key_write(auth);
}

/* ---- sign-in throttling ---- */

/* The bucket's key: IPv4 address, IPv6 /64 (an IPv4-mapped one is IPv4), or "unknown". */
static void auth_client_key(const struct cg_auth *auth, const struct sockaddr *sa,
			    uint8_t key[AUTH_CLIENT_KEY_LEN])
{
	memset(key, 0, AUTH_CLIENT_KEY_LEN);
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		key[0] = 4;
		memcpy(key + 1, &in->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, in6->sin6_addr.s6_addr, 8);
		}
	}
	for (size_t i = 0; i < AUTH_CLIENT_KEY_LEN; i++)
		key[i] ^= auth->blind[i];
}

static void auth_client_refill(struct auth_client *c, uint64_t now)
{
	uint64_t n;

	if (now < c->refill_usec)
		return;
	n = (now - c->refill_usec) / CG_AUTH_LOGIN_REFILL_USEC;
	if (c->tokens + n >= CG_AUTH_LOGIN_BURST) {
		/* Full: the next failure starts the refill clock. */
		c->tokens = CG_AUTH_LOGIN_BURST;
		c->refill_usec = now;
		return;
	}
	c->tokens += (unsigned)n;
	c->refill_usec += n * CG_AUTH_LOGIN_REFILL_USEC;
}

/* The least recently seen bucket that is not hashing (at most CG_AUTH_HASHES_MAX are). */
static struct auth_client *auth_client_evict(struct cg_auth *auth)
{
	GList *l = auth->lru.tail;
	struct auth_client *c;

	while (((struct auth_client *)l->data)->hashing)
		l = l->prev;
	c = l->data;
	g_queue_unlink(&auth->lru, l);
	g_hash_table_remove(auth->clients, c->key);
	return c;
}

/* The client's bucket, made (or taken from the oldest) if needed, refilled to now. */
static struct auth_client *auth_client_get(struct cg_auth *auth, const struct sockaddr *sa,
					   uint64_t now)
{
	uint8_t key[AUTH_CLIENT_KEY_LEN];
	struct auth_client *c;

	auth_client_key(auth, sa, key);
	c = g_hash_table_lookup(auth->clients, key);
	if (c) {
		g_queue_unlink(&auth->lru, &c->link);
	} else {
		if (g_hash_table_size(auth->clients) >= CG_AUTH_CLIENTS_MAX)
			c = auth_client_evict(auth);
		else
			c = g_new0(struct auth_client, 1);
		memcpy(c->key, key, sizeof(key));
		c->link.data = c;
		c->tokens = CG_AUTH_LOGIN_BURST;
		c->refill_usec = now;
		c->hashing = false;
		g_hash_table_insert(auth->clients, c->key, c);
	}
	g_queue_push_head_link(&auth->lru, &c->link);
	auth_client_refill(c, now);
	return c;
}

/*
 * What may be decided at once, on the control thread: 1 when the password must be hashed
 * (an attempt is counted), 0 with *ret_result when the result is known (a token, or no
 * password to hash), or -EAGAIN / -EBUSY (nothing counted). With async, the caps on hashes
 * in flight apply.
 */
static int auth_login_begin(struct cg_auth *auth, struct auth_client *c, const char *secret,
			    bool async, int *ret_result)
{
	if (c->tokens == 0)
		return -EAGAIN;
	if (c->hashing)
		return -EBUSY;
	if (auth->token && auth_equal(secret, auth->token)) {
		c->tokens = CG_AUTH_LOGIN_BURST;
		*ret_result = 0;
		return 0;
	}
	if (!auth->password_hash) {
		c->tokens--;
		*ret_result = -EACCES;
		return 0;
	}
	if (async && auth->n_hashing >= CG_AUTH_HASHES_MAX)
		return -EBUSY;
	c->tokens--;
	return 1;
}

/* What a verify result means to the client: the wrong password, or our failure. */
static int auth_verify_result(int r)
{
	return r == 0 || r == -EACCES ? r : -EIO;
}

int cg_auth_login(struct cg_auth *auth, const char *secret, uint64_t now_s, uint64_t now_mono_usec,
		  bool secure, char **ret_cookie)
{
	struct auth_client *c = auth_client_get(auth, NULL, now_mono_usec);
	int result = 0;
	int r = auth_login_begin(auth, c, secret, false, &result);

	if (r < 0)
		return r;
	if (r == 1) {
		result = auth_verify_result(cg_auth_verify_password(auth->password_hash, secret));
		if (result == 0)
			c->tokens = CG_AUTH_LOGIN_BURST;
	}
	if (result < 0)
		return result;
	*ret_cookie = auth_login_cookie(auth, now_s, secure);
	return 0;
}

/* ---- asynchronous sign-in ---- */

/* A pool thread: hash, clear the secret, hand the result back (the last touch). */
static void auth_hash_run(gpointer data, gpointer pool_data)
{
	struct cg_auth_login *login = data;
	GSource *source;

	cg_assert(g_atomic_int_get(&login->turn) == AUTH_TURN_POOL);
	source = login->source;
	login->result = cg_auth_verify_password(login->hash, login->secret);
	auth_wipe(login->secret);
	g_free(login->secret);
	login->secret = NULL;
	g_atomic_int_set(&login->turn, AUTH_TURN_CONTROL);
	g_source_set_ready_time(source, 0);
}

/* On ctx: count the hash done, settle the bucket, tell the requester (unless cancelled). */
static gboolean auth_login_finish(gpointer userdata)
{
	struct cg_auth_login *login = userdata;
	struct cg_auth *auth = login->auth;
	cg_auth_login_fn done = login->done;
	void *done_userdata = login->userdata;
	char *cookie = NULL;
	int result;

	cg_assert(g_atomic_int_get(&login->turn) == AUTH_TURN_CONTROL);
	result = login->result;
	g_queue_unlink(&auth->logins, &login->link);
	if (login->client) {
		login->client->hashing = false;
		auth->n_hashing--;
		result = auth_verify_result(result);
	}
	/* Checked against credentials that are gone since: no cookie for the new key. */
	if (result == 0 && login->generation != auth->generation)
		result = -EACCES;
	if (result == 0 && login->client)
		login->client->tokens = CG_AUTH_LOGIN_BURST;
	if (result == 0 && done)
		cookie = auth_login_cookie(auth, login->now_s, login->secure);
	auth_login_free(login);
	if (done)
		done(result, cookie, done_userdata);
	return G_SOURCE_REMOVE;
}

static gboolean auth_login_dispatch(GSource *source, GSourceFunc callback, gpointer userdata)
{
	return callback(userdata);
}

/* Ready only when its ready time is set: at once, or by the pool thread. */
static GSourceFuncs auth_login_source_funcs = {
	.dispatch = auth_login_dispatch,
};

static void auth_hash_start(struct cg_auth *auth, struct cg_auth_login *login,
			    struct auth_client *c, const char *secret)
{
	GError *error = NULL;

	login->client = c;
	login->secret = g_strdup(secret);
	login->hash = g_strdup(auth->password_hash);
	c->hashing = true;
	auth->n_hashing++;
	g_atomic_int_set(&login->turn, AUTH_TURN_POOL);
	/* Not exclusive: the threads are GLib's shared ones, at most CG_AUTH_HASHES_MAX here. */
	if (!auth->pool)
		auth->pool =
			g_thread_pool_new(auth_hash_run, NULL, CG_AUTH_HASHES_MAX, FALSE, NULL);
	/* On failure the task is queued still, for the next thread free. */
	if (!g_thread_pool_push(auth->pool, login, &error)) {
		cg_warn("cannot start a hashing thread: %s", error->message);
		g_error_free(error);
	}
}

int cg_auth_login_async(struct cg_auth *auth, const struct sockaddr *client, const char *secret,
			bool secure, uint64_t now_s, uint64_t now_mono_usec, GMainContext *ctx,
			cg_auth_login_fn done, void *userdata, struct cg_auth_login **ret_login)
{
	struct auth_client *c = auth_client_get(auth, client, now_mono_usec);
	struct cg_auth_login *login;
	int result = 0;
	int r = auth_login_begin(auth, c, secret, true, &result);

	if (r < 0)
		return r;
	login = g_new0(struct cg_auth_login, 1);
	login->link.data = login;
	login->auth = auth;
	login->generation = auth->generation;
	login->done = done;
	login->userdata = userdata;
	login->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	login->secure = secure;
	login->now_s = now_s;
	login->result = result;
	login->source = g_source_new(&auth_login_source_funcs, sizeof(GSource));
	g_source_set_name(login->source, "cg-auth-login");
	g_source_set_callback(login->source, auth_login_finish, login, NULL);
	g_source_set_ready_time(login->source, r == 1 ? -1 : 0);
	g_source_attach(login->source, login->ctx);
	g_queue_push_tail_link(&auth->logins, &login->link);
	if (r == 1)
		auth_hash_start(auth, login, c, secret);
	*ret_login = login;
	return 0;
}

void cg_auth_login_cancel(struct cg_auth_login *login)
{
	login->done = NULL;
	login->userdata = NULL;
	/* A hash keeps running, and counting, until it ends: auth_login_finish frees it. */
	if (login->client)
		return;
	g_queue_unlink(&login->auth->logins, &login->link);
	auth_login_free(login);
}

/* Clears each string before freeing the vector: they hold pieces of a password. */
static void auth_strfreev_secret(char **v)
{
	for (char **p = v; *p; p++)
		explicit_bzero(*p, strlen(*p));
	g_strfreev(v);
}

char *cg_auth_form_secret(const char *body, size_t len)
{
	/* An empty body may come as NULL (an empty GByteArray has no data): g_strndup() would
	 * return NULL and g_strsplit() NULL with it. */
	char *text = g_strndup(body ? body : "", body ? len : 0);
	char **pairs = g_strsplit(text, "&", -1);
	char *secret = NULL;

	for (char **p = pairs; *p && !secret; p++) {
		if (!g_str_has_prefix(*p, "secret="))
			continue;
		/* application/x-www-form-urlencoded: '+' is a space, then %XX escapes. */
		g_strdelimit(*p, "+", ' ');
		secret = g_uri_unescape_string(*p + strlen("secret="), NULL);
	}
	explicit_bzero(text, strlen(text));
	g_free(text);
	auth_strfreev_secret(pairs);
	return secret;
}
