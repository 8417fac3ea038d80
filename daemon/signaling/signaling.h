/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The HTTP(S) API on libmicrohttpd: the embedded viewer page, WHEP (draft-ietf-wish-whep:
 * POST offer → 201 answer + Location + ICE server Link headers as WHIP, RFC 9725 §4.6,
 * defines them; PATCH trickle, DELETE), CORS, /status (JSON), /metrics (Prometheus),
 * /snapshot.jpg, and /login for browsers. Every route but /login and CORS preflights needs
 * a credential when auth is required (cg_auth). It owns the session registry. Control
 * thread only.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "signaling/deps.h"

struct cg_config;
struct cg_signaling;
struct cg_stats;

/* Starts serving. deps' pointers are borrowed. Returns 0 or -errno (bind failed: -EADDRINUSE). */
int cg_signaling_new(const struct cg_signaling_deps *deps, struct cg_signaling **ret);

/*
 * Swaps in a new configuration snapshot after SIGHUP (cfg borrowed: keep it alive until
 * the next swap or cg_signaling_free). The viewer limit, candidate limit and ICE servers
 * apply to the next request; running sessions are left alone.
 */
void cg_signaling_set_config(struct cg_signaling *sig, const struct cg_config *cfg);

/* The configured STUN/TURN servers resolved for libnice, valid until the next
 * cg_signaling_set_config(). */
const struct cg_ice_servers *cg_signaling_ice_servers(const struct cg_signaling *sig);

/* Stops accepting HTTP requests; sessions stay registered until they close. */
void cg_signaling_stop(struct cg_signaling *sig);

/* Stops serving and drops the registry's references to sessions. Returns NULL. */
struct cg_signaling *cg_signaling_free(struct cg_signaling *sig);

/* The bound HTTP port. */
uint16_t cg_signaling_port(const struct cg_signaling *sig);

/* Number of viewers: WHEP sessions and camgate's room calls. */
unsigned cg_signaling_viewers(const struct cg_signaling *sig);
