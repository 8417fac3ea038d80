/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Why a WebSocket and not Server-Sent Events plus POST: both keep the control thread
 * free of threads and blocking, but with SSE every message up is a separate HTTP request
 * that a browser may send on another connection, so a page's offer and its first
 * candidates can arrive out of order, and every message down needs MHD's content reader
 * to be suspended and resumed. A WebSocket is one ordered, full-duplex socket: after
 * libmicrohttpd hands it over (MHD_create_response_for_upgrade), it is one more fd source
 * on the control GMainContext, read and written non-blocking, with a bounded output
 * queue. It is also what the classic tutorials' pages use.
 */
#define CG_LOG_TOPIC "rooms"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "signaling/rooms/room_camgate.h"
#include "signaling/rooms/room_msg.h"
#include "signaling/rooms/roomreg.h"
#include "signaling/rooms/rooms.h"
#include "signaling/deps.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "signaling/rooms/ws.h"

#define ROOMS_MAX_PEERS		 256
#define ROOMS_MAX_ROOMS		 64
#define ROOMS_MAX_PEERS_PER_ROOM 8
#define ROOMS_IDLE_USEC		 (60 * CG_USEC_PER_SEC)
#define ROOMS_JOIN_USEC		 (30 * CG_USEC_PER_SEC)
/* Browsers answer pings by themselves: a page needs no keep-alive of its own. */
#define ROOMS_PING_USEC (20 * CG_USEC_PER_SEC)
#define ROOMS_TICK_MS	5000
/* A peer that does not read what we send (a stuck tab) is dropped past this. */
#define ROOMS_MAX_QUEUED (1024 * 1024)
#define ROOMS_READ_CHUNK 16384

struct ws_peer {
	struct cg_rooms *rooms;
	int fd; /* libmicrohttpd's: never close()d here */
	struct MHD_UpgradeResponseHandle *urh;
	GSource *in_source;
	GSource *out_source; /* only while output is queued */
	GSource *close_source;
	struct cg_ws_reader reader;
	GByteArray *out;
	struct cg_roomreg_peer *peer;
	uint64_t last_ping;
	bool closing; /* no more input, no more output but the close frame */
};

struct cg_rooms {
	const struct cg_signaling_deps *deps;
	struct cg_roomreg *reg;
	struct cg_room_camgate *camgate;
	GHashTable *peers; /* struct ws_peer * set, owned */
	GSource *tick;
	bool stopped;
};

static void ws_destroy(struct ws_peer *wp, bool tell_mhd);
static void ws_queue_frame(struct ws_peer *wp, enum cg_ws_opcode op, const void *data, size_t len);

/* ---- output ---- */

static gboolean ws_on_writable(gint fd, GIOCondition cond, gpointer userdata);

static void ws_schedule_destroy(struct ws_peer *wp);

static gboolean ws_on_close_idle(gpointer userdata)
{
	struct ws_peer *wp = userdata;

	g_source_unref(wp->close_source);
	wp->close_source = NULL;
	ws_destroy(wp, true);
	return G_SOURCE_REMOVE;
}

/*
 * Closing is always deferred to an idle callback: it announces the leave to the room,
 * which sends to other peers, and callers may be iterating over a room's peers.
 */
static void ws_close_later(struct ws_peer *wp, uint16_t code, const char *reason)
{
	uint8_t body[2 + 64];
	size_t n = CG_MIN(strlen(reason), sizeof(body) - 2);

	if (wp->closing)
		return;
	if (code) {
		body[0] = (uint8_t)(code >> 8);
		body[1] = (uint8_t)code;
		memcpy(body + 2, reason, n);
		ws_queue_frame(wp, CG_WS_OP_CLOSE, body, n + 2);
	}
	wp->closing = true;
	ws_schedule_destroy(wp);
}

static void ws_drop_source(GSource **src);

static void ws_schedule_destroy(struct ws_peer *wp)
{
	/* Stop reading now: a socket at EOF stays readable, and polling it would starve
	 * the idle callback (lower priority) that finishes the close. */
	ws_drop_source(&wp->in_source);
	if (wp->close_source)
		return;
	wp->close_source = g_idle_source_new();
	g_source_set_callback(wp->close_source, ws_on_close_idle, wp, NULL);
	g_source_attach(wp->close_source, wp->rooms->deps->ctx);
}

/* Sends what the socket takes now; watches for writability while anything is left. */
static void ws_flush(struct ws_peer *wp)
{
	while (wp->out->len > 0) {
		ssize_t n = send(wp->fd, wp->out->data, wp->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			cg_debug("websocket send: %s, closing", strerror(errno));
			g_byte_array_set_size(wp->out, 0);
			wp->closing = true;
			ws_schedule_destroy(wp);
			return;
		}
		g_byte_array_remove_range(wp->out, 0, (guint)n);
	}
	if (wp->out->len > 0 && !wp->out_source) {
		wp->out_source = g_unix_fd_source_new(wp->fd, G_IO_OUT);
		g_source_set_callback(wp->out_source, G_SOURCE_FUNC(ws_on_writable), wp, NULL);
		g_source_attach(wp->out_source, wp->rooms->deps->ctx);
	} else if (wp->out->len == 0 && wp->out_source) {
		g_source_destroy(wp->out_source);
		g_source_unref(wp->out_source);
		wp->out_source = NULL;
	}
}

static gboolean ws_on_writable(gint fd, GIOCondition cond, gpointer userdata)
{
	struct ws_peer *wp = userdata;

	/* ws_flush() destroys this source once the queue is empty (GLib keeps a reference
	 * while it dispatches). */
	ws_flush(wp);
	return G_SOURCE_CONTINUE;
}

static void ws_queue_frame(struct ws_peer *wp, enum cg_ws_opcode op, const void *data, size_t len)
{
	uint8_t header[CG_WS_MAX_HEADER];
	size_t hlen;

	if (wp->closing)
		return;
	if (wp->out->len + len + sizeof(header) > ROOMS_MAX_QUEUED) {
		cg_notice("room peer %s reads too slowly, dropping it",
			  wp->peer ? cg_roomreg_peer_id(wp->peer) : "?");
		wp->closing = true;
		ws_schedule_destroy(wp);
		return;
	}
	hlen = cg_ws_frame_header(header, op, len);
	g_byte_array_append(wp->out, header, (guint)hlen);
	g_byte_array_append(wp->out, data, (guint)len);
	ws_flush(wp);
}

/* ---- input ---- */

static void ws_send_text(struct ws_peer *wp, const char *json)
{
	ws_queue_frame(wp, CG_WS_OP_TEXT, json, strlen(json));
}

static void ws_send_error(struct ws_peer *wp, const char *message)
{
	char *json = cg_room_msg_build_error(NULL, message);

	ws_send_text(wp, json);
	g_free(json);
}

static void ws_on_event(struct ws_peer *wp, const struct cg_ws_event *ev)
{
	struct cg_roomreg *reg = wp->rooms->reg;
	uint64_t now = cg_mono_usec();

	switch (ev->type) {
	case CG_WS_EVENT_TEXT:
		cg_roomreg_receive(reg, wp->peer, (const char *)ev->data, ev->len, now);
		break;
	case CG_WS_EVENT_BINARY:
		cg_roomreg_touch(reg, wp->peer, now);
		ws_send_error(wp, "binary messages are not supported: send JSON text");
		break;
	case CG_WS_EVENT_TOO_BIG:
		cg_roomreg_touch(reg, wp->peer, now);
		ws_send_error(wp, "message over 64 KiB, ignored");
		break;
	case CG_WS_EVENT_PING:
		cg_roomreg_touch(reg, wp->peer, now);
		ws_queue_frame(wp, CG_WS_OP_PONG, ev->data, ev->len);
		break;
	case CG_WS_EVENT_PONG:
		cg_roomreg_touch(reg, wp->peer, now);
		break;
	case CG_WS_EVENT_CLOSE:
		/* RFC 6455 §5.5.1: echo the status code, then close. */
		ws_close_later(wp, ev->close_code ? ev->close_code : CG_WS_CLOSE_NORMAL, "");
		break;
	}
}

static void ws_on_bytes(struct ws_peer *wp, const uint8_t *data, size_t len)
{
	while (len > 0 && !wp->closing) {
		struct cg_ws_event ev;
		uint16_t code = 0;
		size_t used = 0;
		int r = cg_ws_reader_feed(&wp->reader, data, len, &used, &ev, &code);

		if (r < 0) {
			cg_info("room peer %s broke the WebSocket protocol (%s), closing",
				cg_roomreg_peer_id(wp->peer), strerror(-r));
			ws_close_later(wp, code, "protocol error");
			return;
		}
		data += used;
		len -= used;
		if (r > 0)
			ws_on_event(wp, &ev);
	}
}

static gboolean ws_on_readable(gint fd, GIOCondition cond, gpointer userdata)
{
	struct ws_peer *wp = userdata;
	uint8_t buf[ROOMS_READ_CHUNK];
	ssize_t n;

	if (cond & G_IO_NVAL) {
		/* libmicrohttpd stopped and closed the socket (cg_rooms_stop() was not
		 * called first): the handle is gone too. */
		ws_destroy(wp, false);
		return G_SOURCE_REMOVE;
	}
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		cg_debug("room peer %s disconnected%s%s", cg_roomreg_peer_id(wp->peer),
			 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		wp->closing = true;
		ws_schedule_destroy(wp);
		return G_SOURCE_CONTINUE;
	}
	ws_on_bytes(wp, buf, (size_t)n);
	return G_SOURCE_CONTINUE;
}

/* ---- connection lifetime ---- */

static gboolean rooms_on_tick(gpointer userdata);

static void rooms_tick_update(struct cg_rooms *rooms)
{
	bool want = g_hash_table_size(rooms->peers) > 0;

	/* Only while someone is connected: an idle daemon has no timer to wake it. */
	if (want && !rooms->tick) {
		rooms->tick = g_timeout_source_new(ROOMS_TICK_MS);
		g_source_set_callback(rooms->tick, rooms_on_tick, rooms, NULL);
		g_source_attach(rooms->tick, rooms->deps->ctx);
	} else if (!want && rooms->tick) {
		g_source_destroy(rooms->tick);
		g_source_unref(rooms->tick);
		rooms->tick = NULL;
	}
}

static void ws_drop_source(GSource **src)
{
	if (!*src)
		return;
	g_source_destroy(*src);
	g_source_unref(*src);
	*src = NULL;
}

/*
 * Leaves the room (announced), hands the socket back to libmicrohttpd when tell_mhd
 * (it closes it) and frees. The peer's last queued bytes get one last try.
 */
static void ws_destroy(struct ws_peer *wp, bool tell_mhd)
{
	struct cg_rooms *rooms = wp->rooms;

	if (wp->peer)
		cg_roomreg_peer_free(rooms->reg, wp->peer);
	if (tell_mhd && wp->out->len > 0)
		(void)!send(wp->fd, wp->out->data, wp->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	ws_drop_source(&wp->in_source);
	ws_drop_source(&wp->out_source);
	ws_drop_source(&wp->close_source);
	if (tell_mhd) {
		if (MHD_upgrade_action(wp->urh, MHD_UPGRADE_ACTION_CLOSE) != MHD_YES)
			cg_debug("libmicrohttpd refused to close an upgraded connection, ignoring");
		/* MHD closes the socket when it next runs: now, or the browser never sees the
		 * close until other HTTP traffic wakes it. */
		if (rooms->deps->http_kick)
			rooms->deps->http_kick(rooms->deps->signaling_userdata);
	}
	g_hash_table_remove(rooms->peers, wp);
	cg_ws_reader_fini(&wp->reader);
	g_byte_array_unref(wp->out);
	g_free(wp);
	rooms_tick_update(rooms);
}

static void rooms_on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls,
			      const char *extra_in, size_t extra_in_size, MHD_socket sock,
			      struct MHD_UpgradeResponseHandle *urh)
{
	struct cg_rooms *rooms = cls;
	struct ws_peer *wp = g_new0(struct ws_peer, 1);

	wp->rooms = rooms;
	wp->fd = sock;
	wp->urh = urh;
	wp->out = g_byte_array_new();
	cg_ws_reader_init(&wp->reader, CG_ROOM_MSG_MAX);
	g_hash_table_add(rooms->peers, wp);
	rooms_tick_update(rooms);
	g_unix_set_fd_nonblocking(sock, TRUE, NULL);
	wp->in_source = g_unix_fd_source_new(sock, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(wp->in_source, G_SOURCE_FUNC(ws_on_readable), wp, NULL);
	g_source_attach(wp->in_source, rooms->deps->ctx);
	wp->last_ping = cg_mono_usec();
	if (cg_roomreg_peer_new(rooms->reg, wp, wp->last_ping, &wp->peer) < 0) {
		cg_notice("%u room peers connected, refusing one more", ROOMS_MAX_PEERS);
		ws_close_later(wp, CG_WS_CLOSE_POLICY, "too many peers");
		return;
	}
	cg_debug("room peer %s connected", cg_roomreg_peer_id(wp->peer));
	/* Bytes the client sent right after its request, already read by MHD. */
	ws_on_bytes(wp, (const uint8_t *)extra_in, extra_in_size);
}

static gboolean rooms_on_tick(gpointer userdata)
{
	struct cg_rooms *rooms = userdata;
	uint64_t now = cg_mono_usec();
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, rooms->peers);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct ws_peer *wp = key;

		if (!wp->peer || wp->closing ||
		    cg_roomreg_peer_idle_usec(wp->peer, now) < ROOMS_PING_USEC ||
		    now - wp->last_ping < ROOMS_PING_USEC)
			continue;
		wp->last_ping = now;
		ws_queue_frame(wp, CG_WS_OP_PING, NULL, 0);
	}
	cg_roomreg_expire(rooms->reg, now);
	return G_SOURCE_CONTINUE;
}

/* ---- the registry's side ---- */

static void rooms_op_send(void *transport, const char *json, size_t len)
{
	ws_queue_frame(transport, CG_WS_OP_TEXT, json, len);
}

static void rooms_op_close(void *transport, const char *why)
{
	struct ws_peer *wp = transport;

	cg_info("room peer %s: %s, closing", cg_roomreg_peer_id(wp->peer), why);
	ws_close_later(wp, CG_WS_CLOSE_POLICY, why);
}

static void rooms_op_to_camgate(void *userdata, struct cg_roomreg_peer *from,
				const struct cg_room_msg *msg)
{
	struct cg_rooms *rooms = userdata;

	cg_room_camgate_receive(rooms->camgate, from, msg);
}

static void rooms_op_peer_gone(void *userdata, struct cg_roomreg_peer *peer)
{
	struct cg_rooms *rooms = userdata;

	cg_room_camgate_hang_up(rooms->camgate, peer);
}

static const struct cg_roomreg_ops rooms_reg_ops = {
	.send = rooms_op_send,
	.close = rooms_op_close,
	.to_camgate = rooms_op_to_camgate,
	.peer_gone = rooms_op_peer_gone,
};

/* ---- HTTP ---- */

/* Signaling's security headers (and no-store) on every response. */
static void rooms_add_headers(struct cg_rooms *rooms, struct MHD_Response *resp)
{
	if (rooms->deps->add_http_headers)
		rooms->deps->add_http_headers(rooms->deps->signaling_userdata, resp);
	else
		MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result rooms_respond(struct cg_rooms *rooms, struct MHD_Connection *conn,
				     unsigned status, const char *content_type, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", content_type);
	rooms_add_headers(rooms, resp);
	if (status == MHD_HTTP_UPGRADE_REQUIRED)
		MHD_add_response_header(resp, "Sec-WebSocket-Version", "13");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result rooms_error(struct cg_rooms *rooms, struct MHD_Connection *conn,
				   unsigned status, const char *reason)
{
	char *text = g_strdup_printf("%s\n", reason);
	enum MHD_Result r = rooms_respond(rooms, conn, status, "text/plain; charset=utf-8", text);

	g_free(text);
	return r;
}

/* A comma-separated header (RFC 9110 §5.6.1) lists token, case-insensitively. */
static bool rooms_header_has(struct MHD_Connection *conn, const char *name, const char *token)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	char **items;
	bool found = false;

	if (!v)
		return false;
	items = g_strsplit(v, ",", 32);
	for (char **i = items; *i && !found; i++)
		found = g_ascii_strcasecmp(g_strstrip(*i), token) == 0;
	g_strfreev(items);
	return found;
}

/* RFC 6455 §4.2.1-§4.2.2: the client's opening handshake, and our 101. */
static enum MHD_Result rooms_upgrade(struct cg_rooms *rooms, struct MHD_Connection *conn)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *version =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	char accept[CG_WS_ACCEPT_LEN + 1];
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!rooms_header_has(conn, "Upgrade", "websocket") ||
	    !rooms_header_has(conn, "Connection", "upgrade"))
		return rooms_error(rooms, conn, MHD_HTTP_UPGRADE_REQUIRED,
				   "/rooms/ws is a WebSocket: connect with new WebSocket(url)");
	if (!version || strcmp(version, "13") != 0)
		return rooms_error(rooms, conn, MHD_HTTP_UPGRADE_REQUIRED,
				   "WebSocket version 13 only");
	if (cg_ws_accept_key(key, accept) < 0)
		return rooms_error(rooms, conn, MHD_HTTP_BAD_REQUEST, "bad Sec-WebSocket-Key");
	if (!cg_ws_origin_allowed(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
				  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host")))
		return rooms_error(rooms, conn, MHD_HTTP_FORBIDDEN,
				   "WebSocket from another origin: open the page from this server");
	if (rooms->stopped || g_hash_table_size(rooms->peers) >= ROOMS_MAX_PEERS)
		return rooms_error(rooms, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "too many room peers");
	resp = MHD_create_response_for_upgrade(rooms_on_upgraded, rooms);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	rooms_add_headers(rooms, resp);
	r = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return r;
}

enum MHD_Result cg_rooms_handle(struct cg_rooms *rooms, struct MHD_Connection *conn,
				const char *url, const char *method, const uint8_t *body,
				size_t body_len)
{
	bool get = strcmp(method, "GET") == 0;

	if (strcmp(url, "/rooms") == 0 || strcmp(url, "/rooms/") == 0) {
		char *json;
		enum MHD_Result r;

		if (!get)
			return rooms_error(rooms, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		json = cg_roomreg_list_json(rooms->reg);
		r = rooms_respond(rooms, conn, MHD_HTTP_OK, "application/json", json);
		g_free(json);
		return r;
	}
	if (strcmp(url, "/rooms/ws") != 0)
		return rooms_error(rooms, conn, MHD_HTTP_NOT_FOUND, "not found");
	if (!get)
		return rooms_error(rooms, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "GET with Upgrade: websocket");
	return rooms_upgrade(rooms, conn);
}

int cg_rooms_new(const struct cg_signaling_deps *deps, struct cg_rooms **ret)
{
	const struct cg_roomreg_limits limits = {
		.max_peers = ROOMS_MAX_PEERS,
		.max_rooms = ROOMS_MAX_ROOMS,
		.max_peers_per_room = ROOMS_MAX_PEERS_PER_ROOM,
		.idle_timeout_usec = ROOMS_IDLE_USEC,
		.join_timeout_usec = ROOMS_JOIN_USEC,
	};
	struct cg_rooms *rooms = cg_new0(struct cg_rooms, 1);

	rooms->deps = deps;
	rooms->reg = cg_roomreg_new(&limits, &rooms_reg_ops, rooms);
	rooms->camgate = cg_room_camgate_new(deps, rooms->reg);
	rooms->peers = g_hash_table_new(NULL, NULL);
	*ret = rooms;
	return 0;
}

unsigned cg_rooms_n_peers(const struct cg_rooms *rooms)
{
	return cg_roomreg_n_peers(rooms->reg);
}

static void rooms_drop_all(struct cg_rooms *rooms, bool tell_mhd)
{
	GHashTableIter it;
	gpointer key;

	/* Without libmicrohttpd the fds may be closed, even reused: send nothing at all. */
	g_hash_table_iter_init(&it, rooms->peers);
	while (!tell_mhd && g_hash_table_iter_next(&it, &key, NULL))
		((struct ws_peer *)key)->closing = true;
	/* ws_destroy() removes the entry: restart the iteration each time. */
	for (;;) {
		g_hash_table_iter_init(&it, rooms->peers);
		if (!g_hash_table_iter_next(&it, &key, NULL))
			break;
		ws_destroy(key, tell_mhd);
	}
}

void cg_rooms_stop(struct cg_rooms *rooms)
{
	GHashTableIter it;
	gpointer key;

	if (rooms->stopped)
		return;
	rooms->stopped = true;
	g_hash_table_iter_init(&it, rooms->peers);
	while (g_hash_table_iter_next(&it, &key, NULL))
		ws_close_later(key, CG_WS_CLOSE_GOING_AWAY, "camgate is stopping");
	rooms_drop_all(rooms, true);
}

struct cg_rooms *cg_rooms_free(struct cg_rooms *rooms)
{
	if (!rooms)
		return NULL;
	rooms_drop_all(rooms, false);
	rooms->camgate = cg_room_camgate_free(rooms->camgate);
	rooms->reg = cg_roomreg_free(rooms->reg);
	g_hash_table_unref(rooms->peers);
	ws_drop_source(&rooms->tick);
	free(rooms);
	return NULL;
}
