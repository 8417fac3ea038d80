/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The classic WebRTC call flow (issue 8): named rooms whose peers relay `stream ok`, offer,
 * answer and candidate messages to each other through camgate, and camgate's own camera as
 * a peer that can be called. Served under /rooms by the signaling HTTP server:
 *
 *   GET /rooms       {"rooms":[{"name":…,"peers":N},…],"peers":N}
 *   GET /rooms/ws    WebSocket (RFC 6455) carrying the JSON messages of room_msg.h
 *
 * The room logic is roomreg.c, the messages room_msg.c, the framing ws.c, camgate's side of
 * a call room_camgate.c; this file is the transport.
 *
 * Limits: 256 connected peers, 64 rooms, 8 peers a room, 64 KiB a message; a peer that joins
 * no room within 30 s, or sends nothing for 60 s (not even a pong to our pings), is
 * disconnected. A call to camgate's camera is a viewer: WHEP sessions and room calls share
 * one --max-viewers limit, which signaling.c keeps (cg_signaling_deps.viewers_full).
 *
 * Control thread only.
 */
#pragma once

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct cg_rooms;
struct cg_signaling_deps;

/* Creates the room registry. deps (borrowed) must outlive it. Returns 0 or -errno. */
int cg_rooms_new(const struct cg_signaling_deps *deps, struct cg_rooms **ret);

/*
 * Says goodbye to every WebSocket peer (close 1001) and hands the connections back to
 * libmicrohttpd, and hangs up camgate's calls. Call it before the MHD daemon stops: MHD
 * closes upgraded sockets itself when it stops. Idempotent.
 */
void cg_rooms_stop(struct cg_rooms *rooms);

/*
 * Frees everything. Connections still open (cg_rooms_stop() not called) are dropped
 * without touching libmicrohttpd, which must already be stopped. Returns NULL.
 */
struct cg_rooms *cg_rooms_free(struct cg_rooms *rooms);

/* Connected WebSocket peers (calls to camgate are viewers in signaling/viewers.h). */
unsigned cg_rooms_n_peers(const struct cg_rooms *rooms);

/*
 * Handles one complete HTTP request whose path starts with /rooms (body borrowed for the
 * call). Queues a response, or upgrades the connection to a WebSocket.
 */
enum MHD_Result cg_rooms_handle(struct cg_rooms *rooms, struct MHD_Connection *conn,
				const char *url, const char *method, const uint8_t *body,
				size_t body_len);
