/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Room logic (daemon/signaling/rooms/roomreg.c) with fake transports and a fake camgate: no
 * sockets. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/rooms/room_msg.h"
#include "signaling/rooms/roomreg.h"

#define SEC 1000000ULL

struct fake_peer {
	const char *name;
	struct cg_roomreg_peer *peer;
	GPtrArray *inbox; /* JSON texts */
	char *closed;	  /* why, once asked to close */
};

struct fixture {
	struct cg_roomreg *reg;
	struct fake_peer peers[12];
	GPtrArray *camgate; /* "from-id type" */
	GPtrArray *gone;    /* peer ids */
};

static void fake_send(void *transport, const char *json, size_t len)
{
	struct fake_peer *p = transport;

	g_assert_cmpuint(strlen(json), ==, len);
	g_ptr_array_add(p->inbox, g_strdup(json));
}

static void fake_close(void *transport, const char *why)
{
	struct fake_peer *p = transport;

	g_assert_null(p->closed);
	p->closed = g_strdup(why);
}

static void fake_to_camgate(void *userdata, struct cg_roomreg_peer *from,
			    const struct cg_room_msg *msg)
{
	struct fixture *f = userdata;

	g_ptr_array_add(f->camgate, g_strdup_printf("%s %s", cg_roomreg_peer_id(from),
						    cg_room_msg_type_name(msg->type)));
	if (msg->type == CG_ROOM_MSG_STREAM_OK)
		cg_roomreg_send_from_camgate(f->reg, from, msg);
}

static void fake_peer_gone(void *userdata, struct cg_roomreg_peer *peer)
{
	struct fixture *f = userdata;

	g_ptr_array_add(f->gone, g_strdup(cg_roomreg_peer_id(peer)));
}

static const struct cg_roomreg_ops fake_ops = {
	.send = fake_send,
	.close = fake_close,
	.to_camgate = fake_to_camgate,
	.peer_gone = fake_peer_gone,
};

static void setup(struct fixture *f, unsigned max_peers, unsigned max_rooms, unsigned per_room)
{
	const struct cg_roomreg_limits limits = {
		.max_peers = max_peers,
		.max_rooms = max_rooms,
		.max_peers_per_room = per_room,
		.idle_timeout_usec = 60 * SEC,
		.join_timeout_usec = 30 * SEC,
	};

	memset(f, 0, sizeof(*f));
	f->reg = cg_roomreg_new(&limits, &fake_ops, f);
	f->camgate = g_ptr_array_new_with_free_func(g_free);
	f->gone = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < G_N_ELEMENTS(f->peers); i++)
		f->peers[i].inbox = g_ptr_array_new_with_free_func(g_free);
}

static void teardown(struct fixture *f)
{
	f->reg = cg_roomreg_free(f->reg);
	for (size_t i = 0; i < G_N_ELEMENTS(f->peers); i++) {
		g_ptr_array_unref(f->peers[i].inbox);
		g_free(f->peers[i].closed);
	}
	g_ptr_array_unref(f->camgate);
	g_ptr_array_unref(f->gone);
}

static struct fake_peer *connect_peer(struct fixture *f, unsigned i, uint64_t now)
{
	struct fake_peer *p = &f->peers[i];

	g_assert_cmpint(cg_roomreg_peer_new(f->reg, p, now, &p->peer), ==, 0);
	return p;
}

static void say(struct fixture *f, struct fake_peer *p, const char *json, uint64_t now)
{
	cg_roomreg_receive(f->reg, p->peer, json, strlen(json), now);
}

/* Pops the oldest message of p's inbox (g_free() it), failing if there is none. */
static char *pop(struct fake_peer *p)
{
	g_assert_cmpuint(p->inbox->len, >, 0);
	return g_ptr_array_steal_index(p->inbox, 0);
}

static void expect(struct fake_peer *p, const char *json)
{
	char *got = pop(p);

	g_assert_cmpstr(got, ==, json);
	g_free(got);
}

static void expect_prefix(struct fake_peer *p, const char *prefix)
{
	char *got = pop(p);

	if (!g_str_has_prefix(got, prefix))
		g_error("got %s, want %s…", got, prefix);
	g_free(got);
}

static void test_join_relay_leave(void)
{
	struct fixture f;
	struct fake_peer *a, *b, *c;

	setup(&f, 10, 10, 8);
	a = connect_peer(&f, 0, 0);
	b = connect_peer(&f, 1, 0);
	c = connect_peer(&f, 2, 0);
	say(&f, a, "{\"type\":\"join\",\"room\":\"r\"}", 1);
	expect(a, "{\"type\":\"joined\",\"room\":\"r\",\"id\":\"p1\",\"peers\":[],"
		  "\"camgate\":\"camgate\",\"initiator\":true}");
	say(&f, b, "{\"type\":\"join\",\"room\":\"r\"}", 1);
	expect(b, "{\"type\":\"joined\",\"room\":\"r\",\"id\":\"p2\",\"peers\":[\"p1\"],"
		  "\"camgate\":\"camgate\",\"initiator\":false}");
	expect(a, "{\"type\":\"peer joined\",\"id\":\"p2\"}");
	g_assert_cmpstr(cg_roomreg_peer_room(b->peer), ==, "r");
	g_assert_cmpuint(cg_roomreg_n_rooms(f.reg), ==, 1);

	/* untargeted: to the other peer, normalized, with from */
	say(&f, a, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\",\"junk\":[1]}", 2);
	expect(b, "{\"type\":\"offer\",\"from\":\"p1\",\"sdp\":\"v=0\\r\\n\"}");
	g_assert_cmpuint(a->inbox->len, ==, 0);
	say(&f, b,
	    "{\"type\":\"candidate\",\"label\":0,\"id\":\"0\",\"candidate\":"
	    "\"candidate:1 1 udp 9 192.0.2.1 9 typ host\",\"to\":\"p1\"}",
	    2);
	expect(a, "{\"type\":\"candidate\",\"from\":\"p2\",\"label\":0,\"id\":\"0\","
		  "\"candidate\":\"candidate:1 1 udp 9 192.0.2.1 9 typ host\"}");
	/* a third peer elsewhere hears nothing; a peer out of the room cannot relay */
	g_assert_cmpuint(c->inbox->len, ==, 0);
	say(&f, c, "{\"type\":\"stream ok\"}", 2);
	expect(c, "{\"type\":\"error\",\"about\":\"stream ok\",\"message\":\"join a room first\"}");
	/* to a peer in another room, or to oneself */
	say(&f, c, "{\"type\":\"join\",\"room\":\"other\"}", 2);
	g_free(pop(c));
	say(&f, c, "{\"type\":\"bye\",\"to\":\"p1\"}", 2);
	expect_prefix(c, "{\"type\":\"error\",\"about\":\"bye\",\"message\":\"no such peer");
	say(&f, a, "{\"type\":\"bye\",\"to\":\"p1\"}", 2);
	expect_prefix(a, "{\"type\":\"error\",\"about\":\"bye\"");

	/* leave is announced, the room goes when empty */
	say(&f, b, "{\"type\":\"leave\"}", 3);
	expect(a, "{\"type\":\"peer left\",\"id\":\"p2\"}");
	expect(b, "{\"type\":\"left\"}");
	g_assert_cmpstr(g_ptr_array_index(f.gone, 0), ==, "p2");
	say(&f, b, "{\"type\":\"leave\"}", 3);
	expect_prefix(b, "{\"type\":\"error\",\"about\":\"leave\"");
	cg_roomreg_peer_free(f.reg, a->peer);
	g_assert_cmpuint(cg_roomreg_n_rooms(f.reg), ==, 1); /* "other" */
	g_assert_cmpuint(cg_roomreg_n_peers(f.reg), ==, 2);
	teardown(&f);
}

static void test_camgate_routing(void)
{
	struct fixture f;
	struct fake_peer *a, *b;

	setup(&f, 10, 10, 8);
	a = connect_peer(&f, 0, 0);
	b = connect_peer(&f, 1, 0);
	say(&f, a, "{\"type\":\"join\",\"room\":\"r\"}", 1);
	g_free(pop(a));
	/* alone in the room: untargeted messages go to camgate */
	say(&f, a, "{\"type\":\"stream ok\"}", 1);
	g_assert_cmpstr(g_ptr_array_index(f.camgate, 0), ==, "p1 stream ok");
	expect(a, "{\"type\":\"stream ok\",\"from\":\"camgate\"}");
	say(&f, b, "{\"type\":\"join\",\"room\":\"r\"}", 1);
	g_free(pop(a));
	g_free(pop(b));
	/* with company: untargeted to the other browser; "to":"camgate" still reaches it */
	say(&f, a, "{\"type\":\"stream ok\"}", 1);
	expect(b, "{\"type\":\"stream ok\",\"from\":\"p1\"}");
	g_assert_cmpuint(f.camgate->len, ==, 1);
	say(&f, b, "{\"type\":\"offer\",\"sdp\":\"v=0\",\"to\":\"camgate\"}", 1);
	g_assert_cmpstr(g_ptr_array_index(f.camgate, 1), ==, "p2 offer");
	g_assert_cmpuint(a->inbox->len, ==, 0);
	/* disconnecting tells camgate (to hang up) and the room */
	cg_roomreg_peer_free(f.reg, b->peer);
	g_assert_cmpstr(g_ptr_array_index(f.gone, 0), ==, "p2");
	expect(a, "{\"type\":\"peer left\",\"id\":\"p2\"}");
	teardown(&f);
}

static void test_errors_keep_the_peer(void)
{
	struct fixture f;
	struct fake_peer *a;

	setup(&f, 10, 10, 8);
	a = connect_peer(&f, 0, 0);
	say(&f, a, "garbage", 1);
	expect(a, "{\"type\":\"error\",\"message\":\"not JSON\"}");
	say(&f, a, "{\"type\":\"dance\"}", 1);
	expect_prefix(a, "{\"type\":\"error\",\"message\":\"unknown message type");
	say(&f, a, "{\"type\":\"join\",\"room\":\"../etc\"}", 1);
	expect_prefix(a, "{\"type\":\"error\",\"message\":\"join: 'room' must be");
	say(&f, a, "{\"type\":\"ping\"}", 1);
	expect(a, "{\"type\":\"pong\"}");
	say(&f, a, "{\"type\":\"join\",\"room\":\"r\"}", 1);
	g_free(pop(a));
	say(&f, a, "{\"type\":\"join\",\"room\":\"s\"}", 1);
	expect_prefix(a, "{\"type\":\"error\",\"about\":\"join\",\"message\":\"already in a room");
	g_assert_null(a->closed);
	teardown(&f);
}

static void test_limits(void)
{
	struct fixture f;
	struct cg_roomreg_peer *extra;
	char *list;

	setup(&f, 4, 2, 2);
	for (unsigned i = 0; i < 4; i++)
		connect_peer(&f, i, 0);
	g_assert_cmpint(cg_roomreg_peer_new(f.reg, &f.peers[4], 0, &extra), ==, -EUSERS);
	say(&f, &f.peers[0], "{\"type\":\"join\",\"room\":\"a\"}", 1);
	say(&f, &f.peers[1], "{\"type\":\"join\",\"room\":\"a\"}", 1);
	say(&f, &f.peers[2], "{\"type\":\"join\",\"room\":\"a\"}", 1);
	expect(&f.peers[2],
	       "{\"type\":\"error\",\"about\":\"join\",\"message\":\"the room is full\"}");
	say(&f, &f.peers[2], "{\"type\":\"join\",\"room\":\"b\"}", 1);
	g_free(pop(&f.peers[2]));
	say(&f, &f.peers[3], "{\"type\":\"join\",\"room\":\"c\"}", 1);
	expect_prefix(&f.peers[3],
		      "{\"type\":\"error\",\"about\":\"join\",\"message\":\"too many rooms");
	list = cg_roomreg_list_json(f.reg);
	g_assert_nonnull(strstr(list, "{\"name\":\"a\",\"peers\":2}"));
	g_assert_nonnull(strstr(list, "{\"name\":\"b\",\"peers\":1}"));
	g_assert_nonnull(strstr(list, "],\"peers\":4}"));
	g_free(list);
	teardown(&f);
}

static void test_expiry(void)
{
	struct fixture f;
	struct fake_peer *a, *b, *c;

	setup(&f, 10, 10, 8);
	a = connect_peer(&f, 0, 0);
	b = connect_peer(&f, 1, 0);
	c = connect_peer(&f, 2, 0);
	say(&f, a, "{\"type\":\"join\",\"room\":\"r\"}", 10 * SEC);
	say(&f, b, "{\"type\":\"join\",\"room\":\"r\"}", 10 * SEC);
	/* c never joins: closed after the join timeout; a and b are fine */
	g_assert_cmpuint(cg_roomreg_expire(f.reg, 29 * SEC), ==, 0);
	g_assert_cmpuint(cg_roomreg_expire(f.reg, 31 * SEC), ==, 1);
	g_assert_cmpstr(c->closed, ==, "joined no room in time");
	/* asked once only */
	g_assert_cmpuint(cg_roomreg_expire(f.reg, 32 * SEC), ==, 0);
	/* a pong keeps a alive, b goes idle */
	cg_roomreg_touch(f.reg, a->peer, 50 * SEC);
	g_assert_cmpuint(cg_roomreg_peer_idle_usec(b->peer, 50 * SEC), ==, 40 * SEC);
	g_assert_cmpuint(cg_roomreg_expire(f.reg, 71 * SEC), ==, 1);
	g_assert_cmpstr(b->closed, ==, "idle for too long");
	g_assert_null(a->closed);
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/roomreg/join-relay-leave", test_join_relay_leave);
	g_test_add_func("/roomreg/camgate-routing", test_camgate_routing);
	g_test_add_func("/roomreg/errors-keep-the-peer", test_errors_keep_the_peer);
	g_test_add_func("/roomreg/limits", test_limits);
	g_test_add_func("/roomreg/expiry", test_expiry);
	return g_test_run();
}
