/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The HTTP API on libmicrohttpd: the embedded viewer page, WHEP (RFC 9725: POST offer →
 * 201 answer + Location, PATCH trickle, DELETE), CORS, and /status. It owns the session
 * registry. Control thread only.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

struct cg_cert;
struct cg_config;
struct cg_hub;
struct cg_media;
struct cg_signaling;
struct cg_stats;

struct cg_signaling_deps {
	const struct cg_config *cfg;
	struct cg_media *media;
	struct cg_hub *hub;
	struct cg_stats *stats;
	const struct cg_cert *cert;
	GMainContext *ctx; /* the control context */
};

/* Starts serving. deps' pointers are borrowed. Returns 0 or -errno (bind failed: -EADDRINUSE). */
int cg_signaling_new(const struct cg_signaling_deps *deps, struct cg_signaling **ret);

/* Stops accepting HTTP requests; sessions stay registered until they close. */
void cg_signaling_stop(struct cg_signaling *sig);

/* Stops serving and drops the registry's references to sessions. Returns NULL. */
struct cg_signaling *cg_signaling_free(struct cg_signaling *sig);

/* The bound HTTP port. */
uint16_t cg_signaling_port(const struct cg_signaling *sig);

/* Number of live sessions. */
unsigned cg_signaling_viewers(const struct cg_signaling *sig);
