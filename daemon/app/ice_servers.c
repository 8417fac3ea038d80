/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "app/ice_servers.h"
#include "util/time.h"

/* RFC 7064/7065 URIs put IPv6 literals in brackets. */
static char *ice_host_port(const char *host, uint16_t port)
{
	bool v6 = strchr(host, ':') != NULL;

	return g_strdup_printf("%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

int cg_turn_rest_credentials(const char *secret, const char *user, int64_t expiry_s,
			     struct cg_turn_credentials *ret)
{
	uint8_t digest[20]; /* SHA-1 */
	int len, state = 0, save = 0;
	size_t n;

	len = snprintf(ret->username, sizeof(ret->username), "%" PRId64 ":%s", expiry_s, user);
	if (len < 0 || (size_t)len >= sizeof(ret->username)) {
		cg_turn_credentials_clear(ret);
		return -ENAMETOOLONG;
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, secret, strlen(secret), ret->username, (size_t)len,
			     digest) < 0) {
		cg_turn_credentials_clear(ret);
		return -EIO;
	}
	/* 20 bytes take 28 characters: far below the buffer g_base64_encode_step asks for. */
	G_STATIC_ASSERT(sizeof(ret->password) > (sizeof(digest) / 3 + 1) * 4 + 4);
	n = g_base64_encode_step(digest, sizeof(digest), FALSE, ret->password, &state, &save);
	n += g_base64_encode_close(FALSE, ret->password + n, &state, &save);
	ret->password[n] = '\0';
	gnutls_memset(digest, 0, sizeof(digest));
	return 0;
}

void cg_turn_credentials_clear(struct cg_turn_credentials *c)
{
	gnutls_memset(c, 0, sizeof(*c));
}

/* The credentials configured, or made from the secret: the one rule for both users. */
static int ice_turn_credentials(const char *user, const char *password, const char *secret,
				int64_t now_s, struct cg_turn_credentials *ret)
{
	if (secret)
		return cg_turn_rest_credentials(secret, user ? user : CG_TURN_REST_USER,
						now_s + CG_TURN_REST_TTL_S, ret);
	/* Both are set (config.c insists) and at most 128 characters long. */
	if (g_strlcpy(ret->username, user ? user : "", sizeof(ret->username)) >=
		    sizeof(ret->username) ||
	    g_strlcpy(ret->password, password ? password : "", sizeof(ret->password)) >=
		    sizeof(ret->password)) {
		cg_turn_credentials_clear(ret);
		return -ENAMETOOLONG;
	}
	return 0;
}

int cg_ice_servers_turn_credentials(const struct cg_ice_servers *ice, int64_t now_s,
				    struct cg_turn_credentials *ret)
{
	if (!ice->turn_ip[0]) {
		cg_turn_credentials_clear(ret);
		return -ENOENT;
	}
	return ice_turn_credentials(ice->turn_user, ice->turn_password, ice->turn_secret, now_s,
				    ret);
}

char **cg_ice_servers_links_at(const struct cg_config *cfg, int64_t now_s)
{
	static const char *const transports[] = { [CG_CONFIG_TURN_UDP] = "udp",
						  [CG_CONFIG_TURN_TCP] = "tcp",
						  [CG_CONFIG_TURN_TLS] = "tcp" };
	GPtrArray *links = g_ptr_array_new();
	struct cg_turn_credentials cred;
	char *hp;

	if (cfg->stun_host) {
		hp = ice_host_port(cfg->stun_host, cfg->stun_port);
		g_ptr_array_add(links, g_strdup_printf("<stun:%s>; rel=\"ice-server\"", hp));
		g_free(hp);
	}
	if (cfg->turn_host && ice_turn_credentials(cfg->turn_user, cfg->turn_password,
						   cfg->turn_secret, now_s, &cred) == 0) {
		/* The config admits no '"' or '\' in credentials, and base64 has none: quoting
		 * needs no escapes. */
		hp = ice_host_port(cfg->turn_host, cfg->turn_port);
		g_ptr_array_add(links,
				g_strdup_printf("<%s:%s?transport=%s>; rel=\"ice-server\"; "
						"username=\"%s\"; credential=\"%s\"; "
						"credential-type=\"password\"",
						cfg->turn_transport == CG_CONFIG_TURN_TLS ? "turns"
											  : "turn",
						hp, transports[cfg->turn_transport], cred.username,
						cred.password));
		g_free(hp);
		cg_turn_credentials_clear(&cred);
	}
	g_ptr_array_add(links, NULL);
	return (char **)g_ptr_array_free(links, FALSE);
}

char **cg_ice_servers_links(const struct cg_config *cfg)
{
	return cg_ice_servers_links_at(cfg, (int64_t)(cg_wall_usec() / CG_USEC_PER_SEC));
}

static int ice_resolve(const char *host, char out[INET6_ADDRSTRLEN])
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;

	out[0] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -EHOSTUNREACH;
	/* The first answer: getaddrinfo already orders them by RFC 6724 preference. */
	getnameinfo(res->ai_addr, res->ai_addrlen, out, INET6_ADDRSTRLEN, NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	return out[0] ? 0 : -EHOSTUNREACH;
}

int cg_ice_servers_resolve(const struct cg_config *cfg, struct cg_ice_servers *ret)
{
	int r = 0;

	*ret = (struct cg_ice_servers){ .stun_port = cfg->stun_port,
					.turn_port = cfg->turn_port,
					.turn_transport = cfg->turn_transport,
					.turn_user = cfg->turn_user,
					.turn_password = cfg->turn_password,
					.turn_secret = cfg->turn_secret };
	if (cfg->stun_host && ice_resolve(cfg->stun_host, ret->stun_ip) < 0)
		r = -EHOSTUNREACH;
	if (cfg->turn_host && ice_resolve(cfg->turn_host, ret->turn_ip) < 0)
		r = -EHOSTUNREACH;
	return r;
}

bool cg_ice_servers_any(const struct cg_ice_servers *ice)
{
	return ice && (ice->stun_ip[0] || ice->turn_ip[0]);
}
