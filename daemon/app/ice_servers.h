/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The configured STUN and TURN servers in the two forms they are used in: WHEP Link
 * headers for the viewer (WHIP RFC 9725 §4.6, reused by draft-ietf-wish-whep; rel="ice-server", RFC
 * 8288 syntax), and numeric addresses for the daemon's own libnice agents (libnice does not resolve
 * names). With none configured both are empty, so neither side contacts any outside server.
 *
 * TURN credentials are either the configured user and password (coturn's lt-cred-mech),
 * or, with a turn-secret, made per use by the TURN REST API (draft-uberti-behave-turn-rest-00
 * §2.2, coturn's use-auth-secret): username "EXPIRY:USER", password
 * base64(HMAC-SHA1(secret, username)). The server checks the expiry when it authenticates
 * an Allocate and keeps the key for that allocation's refreshes, so the credentials need
 * to outlive only the gathering they are made for.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/config.h"

/*
 * How long REST credentials stay valid after they are made. Gathering needs seconds; the
 * margin is for a board whose clock is behind the TURN server's (a Raspberry Pi has no
 * RTC and may run hours behind until NTP syncs), while a copied credential (a viewer's
 * devtools, a HAR file) opens the relay for half a day instead of for good.
 */
#define CG_TURN_REST_TTL_S (12 * 60 * 60)
/* The USER part of a REST username when no turn-user is configured. */
#define CG_TURN_REST_USER "camgate"
/* Room for a configured user or password (config.c admits 128 characters) and for a REST
 * username ("EXPIRY:" + user). */
#define CG_TURN_CREDENTIAL_MAX 192

struct cg_turn_credentials {
	char username[CG_TURN_CREDENTIAL_MAX];
	char password[CG_TURN_CREDENTIAL_MAX]; /* secret: never log it */
};

struct cg_ice_servers {
	char stun_ip[INET6_ADDRSTRLEN]; /* "" when none or unresolved */
	uint16_t stun_port;
	char turn_ip[INET6_ADDRSTRLEN]; /* "" when none or unresolved */
	uint16_t turn_port;
	enum cg_config_turn_transport turn_transport;
	const char *turn_user;	   /* borrowed from the config snapshot */
	const char *turn_password; /* borrowed, secret */
	const char *turn_secret;   /* borrowed, secret; set: REST credentials per agent */
};

/*
 * The TURN REST API pair for user, valid until expiry_s (Unix time), in *ret. Returns 0,
 * -ENAMETOOLONG (user too long for ret) or -EIO (the HMAC failed). Any thread.
 */
int cg_turn_rest_credentials(const char *secret, const char *user, int64_t expiry_s,
			     struct cg_turn_credentials *ret);

/*
 * The Link header values for cfg's servers at now_s (Unix time), e.g.
 *   <stun:stun.example.net:3478>; rel="ice-server"
 *   <turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u";
 *     credential="p"; credential-type="password"
 * as a NULL-terminated array (g_strfreev it; never NULL, empty without servers). With a
 * turn-secret the username is "EXPIRY:USER", expiring CG_TURN_REST_TTL_S after now_s. They
 * carry a TURN password: send them only to authorized clients, and never log them. A TURN
 * server whose credentials cannot be made is left out. Any thread.
 */
char **cg_ice_servers_links_at(const struct cg_config *cfg, int64_t now_s);

/* cg_ice_servers_links_at() now (the wall clock). REST credentials expire: make the links
 * for each response rather than once. Any thread. */
char **cg_ice_servers_links(const struct cg_config *cfg);

/*
 * The TURN credentials for an agent made at now_s (Unix time): the configured pair, or
 * with a secret a REST pair expiring CG_TURN_REST_TTL_S later. Returns 0, -ENOENT (no TURN
 * server) or an error of cg_turn_rest_credentials(). Any thread.
 */
int cg_ice_servers_turn_credentials(const struct cg_ice_servers *ice, int64_t now_s,
				    struct cg_turn_credentials *ret);

/* Wipes credentials (the password is a secret). Any thread. */
void cg_turn_credentials_clear(struct cg_turn_credentials *c);

/* Whether a daemon agent would ask any server (a resolved STUN or TURN address): only
 * then is there something worth waiting for before answering. NULL: false. Any thread. */
bool cg_ice_servers_any(const struct cg_ice_servers *ice);

/*
 * Resolves cfg's STUN and TURN hosts to addresses for libnice. A host that does not
 * resolve is left "" and reported in the return value: 0 when every configured host
 * resolved, else -EHOSTUNREACH. cfg must outlive *ret (credentials are borrowed). Control
 * thread (resolution blocks on DNS: at start and on reload only).
 */
int cg_ice_servers_resolve(const struct cg_config *cfg, struct cg_ice_servers *ret);
