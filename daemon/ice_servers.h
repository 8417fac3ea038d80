/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The configured STUN and TURN servers in the two forms they are used in: WHEP Link
 * headers for the viewer (RFC 9725 §4.4, rel="ice-server", RFC 8288 syntax), and numeric
 * addresses for the daemon's own libnice agents (libnice does not resolve names). With
 * none configured both are empty, so neither side contacts any outside server.
 * Control thread (resolution blocks on DNS: at start and on reload only).
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct cg_ice_servers {
	char stun_ip[INET6_ADDRSTRLEN]; /* "" when none or unresolved */
	uint16_t stun_port;
	char turn_ip[INET6_ADDRSTRLEN]; /* "" when none or unresolved */
	uint16_t turn_port;
	enum cg_config_turn_transport turn_transport;
	const char *turn_user;	   /* borrowed from the config snapshot */
	const char *turn_password; /* borrowed, secret */
};

/*
 * The Link header values for cfg's servers, e.g.
 *   <stun:stun.example.net:3478>; rel="ice-server"
 *   <turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u";
 *     credential="p"; credential-type="password"
 * as a NULL-terminated array (g_strfreev it; never NULL, empty without servers).
 * They carry the TURN password: send them only to authorized clients. Any thread.
 */
char **cg_ice_servers_links(const struct cg_config *cfg);

/* Whether a daemon agent would ask any server (a resolved STUN or TURN address): only
 * then is there something worth waiting for before answering. NULL: false. Any thread. */
bool cg_ice_servers_any(const struct cg_ice_servers *ice);

/*
 * Resolves cfg's STUN and TURN hosts to addresses for libnice. A host that does not
 * resolve is left "" and reported in the return value: 0 when every configured host
 * resolved, else -EHOSTUNREACH. cfg must outlive *ret (credentials are borrowed).
 */
int cg_ice_servers_resolve(const struct cg_config *cfg, struct cg_ice_servers *ret);
