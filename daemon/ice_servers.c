/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "ice_servers.h"

/* RFC 7064/7065 URIs put IPv6 literals in brackets. */
static char *ice_host_port(const char *host, uint16_t port)
{
	bool v6 = strchr(host, ':') != NULL;

	return g_strdup_printf("%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

char **cg_ice_servers_links(const struct cg_config *cfg)
{
	static const char *const transports[] = {[CG_CONFIG_TURN_UDP] = "udp",
						 [CG_CONFIG_TURN_TCP] = "tcp",
						 [CG_CONFIG_TURN_TLS] = "tcp"};
	GPtrArray *links = g_ptr_array_new();
	char *hp;

	if (cfg->stun_host) {
		hp = ice_host_port(cfg->stun_host, cfg->stun_port);
		g_ptr_array_add(links, g_strdup_printf("<stun:%s>; rel=\"ice-server\"", hp));
		g_free(hp);
	}
	if (cfg->turn_host) {
		/* The config admits no '"' or '\' in credentials: quoting needs no escapes. */
		hp = ice_host_port(cfg->turn_host, cfg->turn_port);
		g_ptr_array_add(links,
				g_strdup_printf("<%s:%s?transport=%s>; rel=\"ice-server\"; "
						"username=\"%s\"; credential=\"%s\"; "
						"credential-type=\"password\"",
						cfg->turn_transport == CG_CONFIG_TURN_TLS ? "turns"
											  : "turn",
						hp, transports[cfg->turn_transport],
						cfg->turn_user, cfg->turn_password));
		g_free(hp);
	}
	g_ptr_array_add(links, NULL);
	return (char **)g_ptr_array_free(links, FALSE);
}

static int ice_resolve(const char *host, char out[INET6_ADDRSTRLEN])
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res;

	out[0] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -EHOSTUNREACH;
	/* The first answer: getaddrinfo already orders them by RFC 6724 preference. */
	getnameinfo(res->ai_addr, res->ai_addrlen, out, INET6_ADDRSTRLEN, NULL, 0,
		    NI_NUMERICHOST);
	freeaddrinfo(res);
	return out[0] ? 0 : -EHOSTUNREACH;
}

int cg_ice_servers_resolve(const struct cg_config *cfg, struct cg_ice_servers *ret)
{
	int r = 0;

	*ret = (struct cg_ice_servers){.stun_port = cfg->stun_port,
				       .turn_port = cfg->turn_port,
				       .turn_transport = cfg->turn_transport,
				       .turn_user = cfg->turn_user,
				       .turn_password = cfg->turn_password};
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
