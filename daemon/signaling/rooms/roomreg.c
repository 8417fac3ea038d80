/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "signaling/rooms/room_msg.h"
#include "signaling/rooms/roomreg.h"
#include "util/macros.h"

struct room {
	char name[CG_ROOM_NAME_MAX + 1];
	GPtrArray *peers; /* struct cg_roomreg_peer *, borrowed, in join order */
};

struct cg_roomreg_peer {
	char id[CG_ROOM_PEER_ID_MAX + 1];
	struct room *room;		     /* NULL when in none */
	char camera[CG_ROOM_CAMERA_MAX + 1]; /* named in the join; "" the first camera */
	void *transport;
	uint64_t connected_at;
	uint64_t last_seen;
	bool close_requested;
};

struct cg_roomreg {
	struct cg_roomreg_limits limits;
	struct cg_roomreg_ops ops;
	void *userdata;
	GHashTable *rooms; /* name → struct room, owned */
	GHashTable *peers; /* id → struct cg_roomreg_peer, owned */
	uint64_t next_id;
};

typedef void (*reg_handler_fn)(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
			       const struct cg_room_msg *msg);

static void room_free(gpointer p)
{
	struct room *room = p;

	g_ptr_array_unref(room->peers);
	g_free(room);
}

struct cg_roomreg *cg_roomreg_new(const struct cg_roomreg_limits *limits,
				  const struct cg_roomreg_ops *ops, void *userdata)
{
	struct cg_roomreg *reg = cg_new0(struct cg_roomreg, 1);

	reg->limits = *limits;
	reg->ops = *ops;
	reg->userdata = userdata;
	reg->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
	reg->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	reg->next_id = 1;
	return reg;
}

struct cg_roomreg *cg_roomreg_free(struct cg_roomreg *reg)
{
	if (!reg)
		return NULL;
	g_hash_table_unref(reg->rooms);
	g_hash_table_unref(reg->peers);
	free(reg);
	return NULL;
}

/* Takes the text (g_free()s it). */
static void reg_send(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, char *json)
{
	reg->ops.send(peer->transport, json, strlen(json));
	g_free(json);
}

void cg_roomreg_send_error(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, const char *about,
			   const char *message)
{
	reg_send(reg, peer, cg_room_msg_build_error(about, message));
}

void cg_roomreg_send_from_camgate(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
				  const struct cg_room_msg *msg)
{
	reg_send(reg, peer, cg_room_msg_to_json(msg, CG_ROOM_CAMGATE_ID));
}

/* Sends json (borrowed) to everyone in the room but skip. */
static void reg_broadcast(struct cg_roomreg *reg, struct room *room,
			  const struct cg_roomreg_peer *skip, const char *json)
{
	for (guint i = 0; i < room->peers->len; i++) {
		struct cg_roomreg_peer *p = g_ptr_array_index(room->peers, i);

		if (p != skip)
			reg->ops.send(p->transport, json, strlen(json));
	}
}

int cg_roomreg_peer_new(struct cg_roomreg *reg, void *transport_userdata, uint64_t now,
			struct cg_roomreg_peer **ret)
{
	struct cg_roomreg_peer *peer;

	if (g_hash_table_size(reg->peers) >= reg->limits.max_peers)
		return -EUSERS;
	peer = cg_new0(struct cg_roomreg_peer, 1);
	snprintf(peer->id, sizeof(peer->id), "p%" PRIu64, reg->next_id++);
	peer->transport = transport_userdata;
	peer->connected_at = now;
	peer->last_seen = now;
	g_hash_table_insert(reg->peers, peer->id, peer);
	*ret = peer;
	return 0;
}

/* Takes the peer out of its room, tells the others and camgate. */
static void reg_leave_room(struct cg_roomreg *reg, struct cg_roomreg_peer *peer)
{
	struct room *room = peer->room;
	char *json;

	if (!room)
		return;
	g_ptr_array_remove(room->peers, peer);
	peer->room = NULL;
	json = cg_room_msg_build_event("peer left", peer->id, NULL);
	reg_broadcast(reg, room, NULL, json);
	g_free(json);
	if (room->peers->len == 0)
		g_hash_table_remove(reg->rooms, room->name);
	reg->ops.peer_gone(reg->userdata, peer);
}

void cg_roomreg_peer_free(struct cg_roomreg *reg, struct cg_roomreg_peer *peer)
{
	reg_leave_room(reg, peer);
	g_hash_table_remove(reg->peers, peer->id);
}

static struct room *reg_room_get(struct cg_roomreg *reg, const char *name)
{
	struct room *room = g_hash_table_lookup(reg->rooms, name);

	if (room || g_hash_table_size(reg->rooms) >= reg->limits.max_rooms)
		return room;
	room = cg_new0(struct room, 1);
	g_strlcpy(room->name, name, sizeof(room->name));
	room->peers = g_ptr_array_new();
	g_hash_table_insert(reg->rooms, room->name, room);
	return room;
}

static void reg_on_join(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
			const struct cg_room_msg *msg)
{
	const char *ids[64];
	struct room *room;
	unsigned n = 0;
	char *json;

	if (peer->room) {
		cg_roomreg_send_error(reg, peer, "join", "already in a room: send leave first");
		return;
	}
	room = reg_room_get(reg, msg->room);
	if (!room) {
		cg_roomreg_send_error(reg, peer, "join", "too many rooms, try again later");
		return;
	}
	if (room->peers->len >= reg->limits.max_peers_per_room) {
		cg_roomreg_send_error(reg, peer, "join", "the room is full");
		return;
	}
	for (guint i = 0; i < room->peers->len && n < CG_ARRAY_SIZE(ids); i++)
		ids[n++] = ((struct cg_roomreg_peer *)g_ptr_array_index(room->peers, i))->id;
	/* The first browser in a room offers, as in the classic flow; towards camgate every
	 * browser offers (camgate answers). */
	reg_send(reg, peer, cg_room_msg_build_joined(room->name, peer->id, ids, n, n == 0));
	json = cg_room_msg_build_event("peer joined", peer->id, NULL);
	reg_broadcast(reg, room, NULL, json);
	g_free(json);
	g_ptr_array_add(room->peers, peer);
	peer->room = room;
	memcpy(peer->camera, msg->camera, sizeof(peer->camera));
}

static void reg_on_leave(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
			 const struct cg_room_msg *msg)
{
	if (!peer->room) {
		cg_roomreg_send_error(reg, peer, "leave", "not in a room");
		return;
	}
	reg_leave_room(reg, peer);
	reg_send(reg, peer, cg_room_msg_build_event("left", NULL, NULL));
}

static void reg_on_ping(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
			const struct cg_room_msg *msg)
{
	reg_send(reg, peer, cg_room_msg_build_event("pong", NULL, NULL));
}

static struct cg_roomreg_peer *reg_find_in_room(struct room *room, const char *id)
{
	for (guint i = 0; i < room->peers->len; i++) {
		struct cg_roomreg_peer *p = g_ptr_array_index(room->peers, i);

		if (strcmp(p->id, id) == 0)
			return p;
	}
	return NULL;
}

static void reg_on_relay(struct cg_roomreg *reg, struct cg_roomreg_peer *peer,
			 const struct cg_room_msg *msg)
{
	const char *type = cg_room_msg_type_name(msg->type);
	struct cg_roomreg_peer *to = NULL;
	char *json;

	if (!peer->room) {
		cg_roomreg_send_error(reg, peer, type, "join a room first");
		return;
	}
	if (strcmp(msg->to, CG_ROOM_CAMGATE_ID) == 0 ||
	    (!msg->to[0] && peer->room->peers->len == 1)) {
		reg->ops.to_camgate(reg->userdata, peer, msg);
		return;
	}
	if (msg->to[0]) {
		to = reg_find_in_room(peer->room, msg->to);
		if (!to || to == peer) {
			cg_roomreg_send_error(reg, peer, type, "no such peer in this room");
			return;
		}
	}
	json = cg_room_msg_to_json(msg, peer->id);
	if (to)
		reg->ops.send(to->transport, json, strlen(json));
	else
		reg_broadcast(reg, peer->room, peer, json);
	g_free(json);
}

/* Indexed by enum cg_room_msg_type. */
static const reg_handler_fn reg_handlers[_CG_ROOM_MSG_MAX] = {
	[CG_ROOM_MSG_JOIN] = reg_on_join,
	[CG_ROOM_MSG_LEAVE] = reg_on_leave,
	[CG_ROOM_MSG_PING] = reg_on_ping,
	[CG_ROOM_MSG_STREAM_OK] = reg_on_relay,
	[CG_ROOM_MSG_CALL] = reg_on_relay,
	[CG_ROOM_MSG_OFFER] = reg_on_relay,
	[CG_ROOM_MSG_ANSWER] = reg_on_relay,
	[CG_ROOM_MSG_CANDIDATE] = reg_on_relay,
	[CG_ROOM_MSG_END_OF_CANDIDATES] = reg_on_relay,
	[CG_ROOM_MSG_BYE] = reg_on_relay,
};

void cg_roomreg_receive(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, const char *text,
			size_t len, uint64_t now)
{
	struct cg_room_msg msg;
	const char *reason = "";

	peer->last_seen = now;
	if (cg_room_msg_parse(text, len, &msg, &reason) < 0) {
		cg_roomreg_send_error(reg, peer, NULL, reason);
		return;
	}
	reg_handlers[msg.type](reg, peer, &msg);
	cg_room_msg_clear(&msg);
}

void cg_roomreg_touch(struct cg_roomreg *reg, struct cg_roomreg_peer *peer, uint64_t now)
{
	peer->last_seen = now;
}

static const char *reg_expiry(const struct cg_roomreg *reg, const struct cg_roomreg_peer *p,
			      uint64_t now)
{
	if (now - p->last_seen > reg->limits.idle_timeout_usec)
		return "idle for too long";
	if (!p->room && now - p->connected_at > reg->limits.join_timeout_usec)
		return "joined no room in time";
	return NULL;
}

unsigned cg_roomreg_expire(struct cg_roomreg *reg, uint64_t now)
{
	GHashTableIter it;
	gpointer value;
	unsigned n = 0;

	g_hash_table_iter_init(&it, reg->peers);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct cg_roomreg_peer *p = value;
		const char *why = p->close_requested ? NULL : reg_expiry(reg, p, now);

		if (!why)
			continue;
		p->close_requested = true;
		reg->ops.close(p->transport, why);
		n++;
	}
	return n;
}

const char *cg_roomreg_peer_id(const struct cg_roomreg_peer *peer)
{
	return peer->id;
}

const char *cg_roomreg_peer_camera(const struct cg_roomreg_peer *peer)
{
	return peer->camera;
}

const char *cg_roomreg_peer_room(const struct cg_roomreg_peer *peer)
{
	return peer->room ? peer->room->name : "";
}

void *cg_roomreg_peer_transport(const struct cg_roomreg_peer *peer)
{
	return peer->transport;
}

uint64_t cg_roomreg_peer_idle_usec(const struct cg_roomreg_peer *peer, uint64_t now)
{
	return now - peer->last_seen;
}

unsigned cg_roomreg_n_peers(const struct cg_roomreg *reg)
{
	return g_hash_table_size(reg->peers);
}

unsigned cg_roomreg_n_rooms(const struct cg_roomreg *reg)
{
	return g_hash_table_size(reg->rooms);
}

char *cg_roomreg_list_json(const struct cg_roomreg *reg)
{
	GString *s = g_string_new("{\"rooms\":[");
	GHashTableIter it;
	gpointer value;
	bool first = true;

	/* Room names are [A-Za-z0-9._-] (validated at join): nothing to escape. */
	g_hash_table_iter_init(&it, reg->rooms);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct room *room = value;

		g_string_append_printf(s, "%s{\"name\":\"%s\",\"peers\":%u}", first ? "" : ",",
				       room->name, room->peers->len);
		first = false;
	}
	g_string_append_printf(s, "],\"peers\":%u}\n", g_hash_table_size(reg->peers));
	return g_string_free(s, FALSE);
}
