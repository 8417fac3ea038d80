/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The classic WebRTC call flow (issue 8): named rooms whose peers relay `stream ok`, offer,
 * answer and candidate messages to each other through camgate, and camgate's own camera as
 * a peer that can be called. Served under /rooms/ by the signaling HTTP server. Control
 * thread only.
 */
#pragma once

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct cg_rooms;
struct cg_signaling_deps;

/* Creates the room registry. deps (borrowed) must outlive it. Returns 0 or -errno. */
int cg_rooms_new(const struct cg_signaling_deps *deps, struct cg_rooms **ret);
struct cg_rooms *cg_rooms_free(struct cg_rooms *rooms);

/*
 * Handles one complete HTTP request whose path starts with /rooms (body borrowed for the
 * call). Queues a response, or suspends/upgrades the connection for a long-lived channel.
 */
enum MHD_Result cg_rooms_handle(struct cg_rooms *rooms, struct MHD_Connection *conn,
				const char *url, const char *method, const uint8_t *body,
				size_t body_len);
