/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "auth"

#include <errno.h>
#include <glib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

#define AUTH_HASH_PREFIX       "pbkdf2-sha256$"
#define AUTH_KEY_LEN	       32
#define AUTH_LOGIN_BURST       10
#define AUTH_LOGIN_REFILL_USEC (3 * CG_USEC_PER_SEC)

struct cg_auth {
	bool required;
	char *token;
	char *password_hash;
	uint8_t cookie_key[AUTH_KEY_LEN];
	unsigned login_tokens; /* failed logins still allowed now */
	uint64_t login_refill_usec;
};

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

/* The cookie key follows the credentials: changing either revokes every login cookie. */
static void auth_derive_cookie_key(struct cg_auth *auth)
{
	GString *msg = g_string_new("camgate-cookie-v1");
	const char *key = auth->token ? auth->token : "";

	g_string_append_c(msg, '\0');
	if (auth->password_hash)
		g_string_append(msg, auth->password_hash);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, strlen(key), msg->str, msg->len, auth->cookie_key);
	g_string_free(msg, TRUE);
}

void cg_auth_set_credentials(struct cg_auth *auth, const struct cg_config *cfg, const char *token)
{
	if (auth->token)
		gnutls_memset(auth->token, 0, strlen(auth->token));
	g_free(auth->token);
	g_free(auth->password_hash);
	auth->required = cfg->auth_required;
	auth->token = g_strdup(token);
	auth->password_hash = g_strdup(cfg->password_hash);
	auth_derive_cookie_key(auth);
}

int cg_auth_new(const struct cg_config *cfg, const char *token, struct cg_auth **ret)
{
	struct cg_auth *auth = cg_new0(struct cg_auth, 1);

	if (token && cg_auth_token_check(token) < 0) {
		free(auth);
		return -EINVAL;
	}
	auth->login_tokens = AUTH_LOGIN_BURST;
	cg_auth_set_credentials(auth, cfg, token);
	*ret = auth;
	return 0;
}

struct cg_auth *cg_auth_free(struct cg_auth *auth)
{
	if (!auth)
		return NULL;
	if (auth->token)
		gnutls_memset(auth->token, 0, strlen(auth->token));
	g_free(auth->token);
	g_free(auth->password_hash);
	gnutls_memset(auth->cookie_key, 0, sizeof(auth->cookie_key));
	free(auth);
	return NULL;
}

bool cg_auth_required(const struct cg_auth *auth)
{
	return auth->required;
}

/* "<expiry>.<hex HMAC-SHA256(cookie_key, expiry)>" */
static char *auth_cookie_value(const struct cg_auth *auth, uint64_t expiry_s)
{
	char expiry[24];
	uint8_t mac[32];
	GString *v = g_string_new(NULL);

	snprintf(expiry, sizeof(expiry), "%" G_GUINT64_FORMAT, expiry_s);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, auth->cookie_key, sizeof(auth->cookie_key), expiry,
			 strlen(expiry), mac);
	g_string_append_printf(v, "%s.", expiry);
	for (size_t i = 0; i < sizeof(mac); i++)
		g_string_append_printf(v, "%02x", mac[i]);
	return g_string_free(v, FALSE);
}

static bool auth_cookie_valid(const struct cg_auth *auth, const char *value, size_t len,
			      uint64_t now_s)
{
	char *v = g_strndup(value, len);
	char *end;
	uint64_t expiry = g_ascii_strtoull(v, &end, 10);
	char *want;
	bool ok = false;

	if (*end == '.' && expiry > now_s && expiry <= now_s + CG_AUTH_COOKIE_MAX_AGE_S) {
		want = auth_cookie_value(auth, expiry);
		ok = auth_equal(v, want);
		g_free(want);
	}
	g_free(v);
	return ok;
}

/* Finds camgate_auth=VALUE among "a=b; c=d" pairs (RFC 6265 §4.2.1). */
static bool auth_check_cookie(const struct cg_auth *auth, const char *header, uint64_t now_s)
{
	const char *p = header;
	size_t name_len = strlen(CG_AUTH_COOKIE);

	while (p && *p) {
		size_t len;

		p += strspn(p, " ;");
		len = strcspn(p, ";");
		if (len > name_len && strncmp(p, CG_AUTH_COOKIE "=", name_len + 1) == 0 &&
		    auth_cookie_valid(auth, p + name_len + 1, len - name_len - 1, now_s))
			return true;
		p += len;
	}
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
	if (!auth->required)
		return true;
	if (authorization && auth_check_bearer(auth, authorization))
		return true;
	return cookie && auth_check_cookie(auth, cookie, now_s);
}

static bool auth_login_allowed(struct cg_auth *auth, uint64_t now)
{
	if (!auth->login_refill_usec)
		auth->login_refill_usec = now;
	while (auth->login_tokens < AUTH_LOGIN_BURST &&
	       now - auth->login_refill_usec >= AUTH_LOGIN_REFILL_USEC) {
		auth->login_tokens++;
		auth->login_refill_usec += AUTH_LOGIN_REFILL_USEC;
	}
	if (auth->login_tokens == AUTH_LOGIN_BURST)
		auth->login_refill_usec = now;
	return auth->login_tokens > 0;
}

int cg_auth_login(struct cg_auth *auth, const char *secret, uint64_t now_s, uint64_t now_mono_usec,
		  bool secure, char **ret_cookie)
{
	bool ok;
	char *value;

	if (!auth_login_allowed(auth, now_mono_usec))
		return -EAGAIN;
	ok = (auth->token && auth_equal(secret, auth->token)) ||
	     (auth->password_hash && cg_auth_verify_password(auth->password_hash, secret) == 0);
	if (!ok) {
		auth->login_tokens--;
		return -EACCES;
	}
	value = auth_cookie_value(auth, now_s + CG_AUTH_COOKIE_MAX_AGE_S);
	*ret_cookie = g_strdup_printf(CG_AUTH_COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; "
						     "SameSite=Strict%s",
				      value, CG_AUTH_COOKIE_MAX_AGE_S, secure ? "; Secure" : "");
	g_free(value);
	return 0;
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
