/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Room signaling messages (daemon/signaling/rooms/room_msg.c): every type, every rejection, round
 * trips. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/rooms/room_msg.h"

static int parse(const char *text, struct cg_room_msg *m, const char **reason)
{
	*reason = NULL;
	return cg_room_msg_parse(text, strlen(text), m, reason);
}

static void test_each_type(void)
{
	static const struct {
		const char *json;
		enum cg_room_msg_type type;
	} cases[] = {
		{ "{\"type\":\"join\",\"room\":\"lobby-1.a_b\"}", CG_ROOM_MSG_JOIN },
		{ "{\"type\":\"leave\"}", CG_ROOM_MSG_LEAVE },
		{ "{\"type\":\"ping\"}", CG_ROOM_MSG_PING },
		{ "{\"type\":\"stream ok\"}", CG_ROOM_MSG_STREAM_OK },
		{ "{\"type\":\"call\",\"to\":\"camgate\"}", CG_ROOM_MSG_CALL },
		{ "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n\"}",
		  CG_ROOM_MSG_OFFER },
		{ "{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\",\"to\":\"p2\"}", CG_ROOM_MSG_ANSWER },
		{ "{\"type\":\"candidate\",\"label\":0,\"id\":\"0\",\"candidate\":"
		  "\"candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\"}",
		  CG_ROOM_MSG_CANDIDATE },
		{ "{\"type\":\"end of candidates\"}", CG_ROOM_MSG_END_OF_CANDIDATES },
		{ "{\"type\":\"bye\"}", CG_ROOM_MSG_BYE },
		/* unknown fields are ignored, whitespace anywhere */
		{ " { \"extra\" : [1, {\"a\": null}], \"type\" : \"bye\" } ", CG_ROOM_MSG_BYE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct cg_room_msg m;
		const char *reason;

		g_test_message("%s", g_utf8_validate(cases[i].json, -1, NULL) ? cases[i].json
									      : "(not UTF-8)");
		g_assert_cmpint(parse(cases[i].json, &m, &reason), ==, 0);
		g_assert_cmpint(m.type, ==, cases[i].type);
		cg_room_msg_clear(&m);
	}
}

static void test_fields(void)
{
	struct cg_room_msg m;
	const char *reason;

	g_assert_cmpint(parse("{\"type\":\"join\",\"room\":\"r\"}", &m, &reason), ==, 0);
	g_assert_cmpstr(m.room, ==, "r");
	g_assert_cmpstr(m.to, ==, "");
	g_assert_cmpstr(m.camera, ==, ""); /* the first camera */
	cg_room_msg_clear(&m);
	/* Issue 13: the camera camgate offers in this room. */
	g_assert_cmpint(
		parse("{\"type\":\"join\",\"room\":\"r\",\"camera\":\"back-2_x\"}", &m, &reason),
		==, 0);
	g_assert_cmpstr(m.camera, ==, "back-2_x");
	cg_room_msg_clear(&m);

	g_assert_cmpint(parse("{\"type\":\"candidate\",\"sdpMLineIndex\":1,\"sdpMid\":\"v\","
			      "\"candidate\":\"candidate:x\",\"usernameFragment\":\"uf\","
			      "\"to\":\"p7\"}",
			      &m, &reason),
			==, 0);
	g_assert_cmpint(m.label, ==, 1);
	g_assert_true(m.has_mid);
	g_assert_cmpstr(m.mid, ==, "v");
	g_assert_cmpstr(m.candidate, ==, "candidate:x");
	g_assert_cmpstr(m.ufrag, ==, "uf");
	g_assert_cmpstr(m.to, ==, "p7");
	cg_room_msg_clear(&m);

	/* the empty candidate is a browser's end of candidates; sdpMid null is absent */
	g_assert_cmpint(parse("{\"type\":\"candidate\",\"label\":0,\"id\":null,"
			      "\"candidate\":\"\"}",
			      &m, &reason),
			==, 0);
	g_assert_false(m.has_mid);
	g_assert_cmpstr(m.candidate, ==, "");
	cg_room_msg_clear(&m);

	g_assert_cmpint(parse("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\ns=-\\r\\n\"}", &m, &reason),
			==, 0);
	g_assert_cmpstr(m.sdp, ==, "v=0\r\ns=-\r\n");
	cg_room_msg_clear(&m);
}

static void test_rejections(void)
{
	static const struct {
		const char *json;
		int err;
	} cases[] = {
		{ "", -EBADMSG },
		{ "not json", -EBADMSG },
		{ "{\"type\":\"join\"", -EBADMSG },
		{ "[\"join\"]", -EBADMSG },
		{ "\"join\"", -EBADMSG },
		{ "{}", -EBADMSG },
		{ "{\"type\":7}", -EBADMSG },
		{ "{\"type\":\"hello\"}", -ENOTSUP },
		{ "{\"type\":\"joined\"}", -ENOTSUP }, /* camgate's, not a client's */
		{ "{\"type\":\"join\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"a b\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"a/b\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"r\",\"camera\":\"Back\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"r\",\"camera\":\"\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"r\",\"camera\":7}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"r\",\"camera\":"
		  "\"abcdefghijabcdefghijabcdefghijabc\"}",
		  -EBADMSG },
		{ "{\"type\":\"join\",\"room\":\"\\u00e9t\\u00e9\"}", -EBADMSG },
		{ "{\"type\":\"join\",\"room\":42}", -EBADMSG },
		{ "{\"type\":\"offer\"}", -EBADMSG },
		{ "{\"type\":\"offer\",\"sdp\":\"hello\"}", -EBADMSG },
		{ "{\"type\":\"offer\",\"sdp\":{\"sdp\":\"v=0\"}}", -EBADMSG },
		{ "{\"type\":\"bye\",\"to\":\"\"}", -EBADMSG },
		{ "{\"type\":\"bye\",\"to\":\"a b\"}", -EBADMSG },
		{ "{\"type\":\"bye\",\"to\":1}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"candidate\":\"candidate:x\"}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":0}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":-1,\"candidate\":\"candidate:x\"}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":64,\"candidate\":\"candidate:x\"}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":0.5,\"candidate\":\"candidate:x\"}",
		  -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":\"0\",\"candidate\":\"candidate:x\"}",
		  -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":0,\"candidate\":\"a=candidate:x\"}",
		  -EBADMSG },
		{ "{\"type\":\"candidate\",\"label\":0,\"candidate\":\"candidate:x\\r\\nb=1\"}",
		  -EBADMSG },
		{ "{\"type\":\"candidate\",\"id\":\"\",\"candidate\":\"candidate:x\"}", -EBADMSG },
		{ "{\"type\":\"candidate\",\"id\":0,\"candidate\":\"candidate:x\"}", -EBADMSG },
		{ "{\"type\":\"end of candidates\",\"label\":true}", -EBADMSG },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		  "]",
		  -EBADMSG },
		{ "{\"type\":\"bye\",\"x\":[[[[[[[[[[]]]]]]]]]]}", -EBADMSG },
		{ "{\"type\":\"bye\"} {\"type\":\"bye\"}", -EBADMSG },
		{ "{\"type\":\"b\xff\"}", -EBADMSG },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct cg_room_msg m;
		const char *reason;

		g_test_message("%s", g_utf8_validate(cases[i].json, -1, NULL) ? cases[i].json
									      : "(not UTF-8)");
		g_assert_cmpint(parse(cases[i].json, &m, &reason), ==, cases[i].err);
		g_assert_nonnull(reason);
		g_assert_cmpint(m.type, ==, CG_ROOM_MSG_INVALID);
		g_assert_null(m.sdp);
	}
}

static void test_limits(void)
{
	struct cg_room_msg m;
	const char *reason;
	GString *s = g_string_new("{\"type\":\"join\",\"room\":\"");
	static const char nul[] = "{\"type\":\"bye\"}\0";

	for (int i = 0; i < CG_ROOM_NAME_MAX; i++)
		g_string_append_c(s, 'r');
	g_string_append(s, "\"}");
	g_assert_cmpint(parse(s->str, &m, &reason), ==, 0);
	cg_room_msg_clear(&m);
	g_string_insert_c(s, 25, 'r');
	g_assert_cmpint(parse(s->str, &m, &reason), ==, -EBADMSG);

	/* candidate lines up to 255 characters */
	g_string_assign(s, "{\"type\":\"candidate\",\"label\":0,\"candidate\":\"candidate:");
	for (int i = 10; i < CG_ROOM_CANDIDATE_MAX; i++)
		g_string_append_c(s, 'c');
	g_string_append(s, "\"}");
	g_assert_cmpint(parse(s->str, &m, &reason), ==, 0);
	cg_room_msg_clear(&m);
	g_string_insert_c(s, 60, 'c');
	g_assert_cmpint(parse(s->str, &m, &reason), ==, -EBADMSG);

	/* the whole message, and the SDP in it */
	g_string_assign(s, "{\"type\":\"offer\",\"sdp\":\"v=0");
	while (s->len < CG_ROOM_SDP_MAX + 100)
		g_string_append_c(s, 'x');
	g_string_append(s, "\"}");
	g_assert_cmpint(parse(s->str, &m, &reason), ==, -EBADMSG);
	while (s->len <= CG_ROOM_MSG_MAX)
		g_string_append_c(s, ' ');
	g_assert_cmpint(parse(s->str, &m, &reason), ==, -EMSGSIZE);

	/* a NUL byte inside the given length */
	g_assert_cmpint(cg_room_msg_parse(nul, sizeof(nul) - 1, &m, &reason), ==, -EBADMSG);
	g_string_free(s, TRUE);
}

static void roundtrip(const char *json, const char *from, const char *expect_substr)
{
	struct cg_room_msg m, back;
	const char *reason;
	char *out;

	g_assert_cmpint(parse(json, &m, &reason), ==, 0);
	out = cg_room_msg_to_json(&m, from);
	g_test_message("%s -> %s", json, out);
	g_assert_nonnull(strstr(out, expect_substr));
	g_assert_cmpint(parse(out, &back, &reason), ==, 0);
	g_assert_cmpint(back.type, ==, m.type);
	g_assert_cmpint(back.label, ==, m.label);
	g_assert_cmpstr(back.candidate, ==, m.candidate);
	g_assert_cmpstr(back.mid, ==, m.mid);
	g_assert_cmpstr(back.sdp, ==, m.sdp);
	g_assert_cmpstr(back.to, ==, ""); /* "to" is the sender's business, never relayed */
	cg_room_msg_clear(&back);
	cg_room_msg_clear(&m);
	g_free(out);
}

static void test_roundtrip(void)
{
	roundtrip("{\"type\":\"candidate\",\"sdpMLineIndex\":2,\"sdpMid\":\"1\",\"candidate\":"
		  "\"candidate:1 1 udp 1 ::1 9 typ host\",\"to\":\"p1\",\"junk\":1}",
		  "p2", "\"label\":2");
	roundtrip("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\\\"q\\\"\"}", "camgate",
		  "\"from\":\"camgate\"");
	roundtrip("{\"type\":\"stream ok\"}", "p9", "{\"type\":\"stream ok\",\"from\":\"p9\"}");
	roundtrip("{\"type\":\"end of candidates\",\"id\":\"0\"}", NULL, "\"id\":\"0\"");
}

static void test_built_messages(void)
{
	const char *const peers[] = { "p1", "p2" };
	char *s;

	s = cg_room_msg_build_joined("r", "p3", peers, 2, false);
	g_assert_cmpstr(s, ==,
			"{\"type\":\"joined\",\"room\":\"r\",\"id\":\"p3\",\"peers\":[\"p1\","
			"\"p2\"],\"camgate\":\"camgate\",\"initiator\":false}");
	g_free(s);
	s = cg_room_msg_build_error("offer", "say \"v=0\"");
	g_assert_cmpstr(s, ==,
			"{\"type\":\"error\",\"about\":\"offer\",\"message\":\"say \\\"v=0\\\"\"}");
	g_free(s);
	s = cg_room_msg_build_event("peer left", "p1", NULL);
	g_assert_cmpstr(s, ==, "{\"type\":\"peer left\",\"id\":\"p1\"}");
	g_free(s);
	g_assert_cmpstr(cg_room_msg_type_name(CG_ROOM_MSG_END_OF_CANDIDATES), ==,
			"end of candidates");
	g_assert_null(cg_room_msg_type_name(_CG_ROOM_MSG_MAX));
	g_assert_null(cg_room_msg_type_name(CG_ROOM_MSG_INVALID));
	g_assert_true(cg_room_msg_is_relayed(CG_ROOM_MSG_OFFER));
	g_assert_false(cg_room_msg_is_relayed(CG_ROOM_MSG_JOIN));
	g_assert_true(cg_room_msg_valid_room("a.B-9_"));
	g_assert_false(cg_room_msg_valid_room(""));
	g_assert_false(cg_room_msg_valid_room("a%20b"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-msg/each-type", test_each_type);
	g_test_add_func("/room-msg/fields", test_fields);
	g_test_add_func("/room-msg/rejections", test_rejections);
	g_test_add_func("/room-msg/limits", test_limits);
	g_test_add_func("/room-msg/roundtrip", test_roundtrip);
	g_test_add_func("/room-msg/built", test_built_messages);
	return g_test_run();
}
