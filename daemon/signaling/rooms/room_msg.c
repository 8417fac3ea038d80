/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "signaling/rooms/room_msg.h"
#include "util/macros.h"

typedef int (*msg_parse_fn)(JsonObject *o, struct cg_room_msg *m, const char **ret_reason);

struct msg_spec {
	const char *name;
	msg_parse_fn parse; /* the type's own fields; NULL: none */
	bool relayed;
};

static int parse_join(JsonObject *o, struct cg_room_msg *m, const char **ret_reason);
static int parse_sdp(JsonObject *o, struct cg_room_msg *m, const char **ret_reason);
static int parse_candidate(JsonObject *o, struct cg_room_msg *m, const char **ret_reason);
static int parse_end_of_candidates(JsonObject *o, struct cg_room_msg *m, const char **ret_reason);

/* Indexed by enum cg_room_msg_type. */
static const struct msg_spec msg_specs[_CG_ROOM_MSG_MAX] = {
	[CG_ROOM_MSG_JOIN] = { "join", parse_join, false },
	[CG_ROOM_MSG_LEAVE] = { "leave", NULL, false },
	[CG_ROOM_MSG_PING] = { "ping", NULL, false },
	[CG_ROOM_MSG_STREAM_OK] = { "stream ok", NULL, true },
	[CG_ROOM_MSG_CALL] = { "call", NULL, true },
	[CG_ROOM_MSG_OFFER] = { "offer", parse_sdp, true },
	[CG_ROOM_MSG_ANSWER] = { "answer", parse_sdp, true },
	[CG_ROOM_MSG_CANDIDATE] = { "candidate", parse_candidate, true },
	[CG_ROOM_MSG_END_OF_CANDIDATES] = { "end of candidates", parse_end_of_candidates, true },
	[CG_ROOM_MSG_BYE] = { "bye", NULL, true },
};

const char *cg_room_msg_type_name(enum cg_room_msg_type type)
{
	if ((int)type < 0 || type >= _CG_ROOM_MSG_MAX)
		return NULL;
	return msg_specs[type].name;
}

bool cg_room_msg_is_relayed(enum cg_room_msg_type type)
{
	return (int)type >= 0 && type < _CG_ROOM_MSG_MAX && msg_specs[type].relayed;
}

static bool msg_room_char(char c)
{
	return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

bool cg_room_msg_valid_room(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CG_ROOM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!msg_room_char(name[i]))
			return false;
	return true;
}

/* Printable ASCII without spaces: ids, mids, ufrags. */
static bool msg_token_char(char c)
{
	return c > ' ' && c < 0x7f;
}

/* Printable ASCII with spaces: candidate lines (RFC 8839 §5.1 grammar is ASCII). */
static bool msg_line_char(char c)
{
	return c >= ' ' && c < 0x7f;
}

/* A string field: absent (returns 0 and leaves out alone), or a string of min..max chars
 * each accepted by ok(). Returns 1 when present and valid, 0 when absent, -EBADMSG. */
static int msg_get_string(JsonObject *o, const char *name, size_t min, size_t max, bool (*ok)(char),
			  char *out)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *s;
	size_t len;

	if (!n)
		return 0;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return -EBADMSG;
	s = json_node_get_string(n);
	len = strlen(s);
	if (len < min || len > max)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if (!ok(s[i]))
			return -EBADMSG;
	memcpy(out, s, len + 1);
	return 1;
}

/* Camera names as config.c allows them. */
static bool msg_camera_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int parse_join(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	if (msg_get_string(o, "room", 1, CG_ROOM_NAME_MAX, msg_room_char, m->room) <= 0) {
		*ret_reason = "join: 'room' must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
		return -EBADMSG;
	}
	if (msg_get_string(o, "camera", 1, CG_ROOM_CAMERA_MAX, msg_camera_char, m->camera) < 0) {
		*ret_reason = "join: 'camera' must be 1 to 32 characters of a-z 0-9 _ -";
		return -EBADMSG;
	}
	return 0;
}

static int parse_sdp(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	JsonNode *n = json_object_get_member(o, "sdp");
	const char *s;
	size_t len;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		*ret_reason = "offer/answer: 'sdp' must be a string";
		return -EBADMSG;
	}
	s = json_node_get_string(n);
	len = strlen(s);
	if (len > CG_ROOM_SDP_MAX) {
		*ret_reason = "offer/answer: 'sdp' is over 60 KiB";
		return -EBADMSG;
	}
	/* RFC 8866 §5: a session description starts with its version line. */
	if (strncmp(s, "v=0", 3) != 0) {
		*ret_reason = "offer/answer: 'sdp' is not a session description (no v=0)";
		return -EBADMSG;
	}
	m->sdp = g_strndup(s, len);
	return 0;
}

/* label (sdpMLineIndex) and id (sdpMid), both optional here. */
static int parse_mline(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	static const char *const label_names[] = { "label", "sdpMLineIndex" };
	static const char *const mid_names[] = { "id", "sdpMid" };

	for (size_t i = 0; i < CG_ARRAY_SIZE(label_names) && m->label < 0; i++) {
		JsonNode *n = json_object_get_member(o, label_names[i]);

		if (!n || JSON_NODE_HOLDS_NULL(n))
			continue;
		if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
		    json_node_get_int(n) < 0 || json_node_get_int(n) > CG_ROOM_LABEL_MAX) {
			*ret_reason = "candidate: 'label' (sdpMLineIndex) must be an integer 0..63";
			return -EBADMSG;
		}
		m->label = (int)json_node_get_int(n);
	}
	for (size_t i = 0; i < CG_ARRAY_SIZE(mid_names) && !m->has_mid; i++) {
		JsonNode *n = json_object_get_member(o, mid_names[i]);
		int r;

		if (n && JSON_NODE_HOLDS_NULL(n))
			continue;
		r = msg_get_string(o, mid_names[i], 1, CG_ROOM_MID_MAX, msg_token_char, m->mid);
		if (r < 0) {
			*ret_reason =
				"candidate: 'id' (sdpMid) must be 1 to 63 printable characters";
			return r;
		}
		m->has_mid = r > 0;
	}
	return 0;
}

static int parse_candidate(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	int r = parse_mline(o, m, ret_reason);

	if (r < 0)
		return r;
	if (m->label < 0 && !m->has_mid) {
		*ret_reason = "candidate: needs 'label' (sdpMLineIndex) or 'id' (sdpMid)";
		return -EBADMSG;
	}
	r = msg_get_string(o, "candidate", 0, CG_ROOM_CANDIDATE_MAX, msg_line_char, m->candidate);
	/* "" is how a browser says end of candidates (RFC 8838 §4.4); anything else must be
	 * an a=candidate value without the "a=" (RFC 8839 §5.1). */
	if (r <= 0 || (m->candidate[0] && strncmp(m->candidate, "candidate:", 10) != 0)) {
		*ret_reason = "candidate: 'candidate' must be a string \"candidate:…\" of at most "
			      "255 printable characters";
		return -EBADMSG;
	}
	if (msg_get_string(o, "usernameFragment", 1, CG_ROOM_UFRAG_MAX, msg_token_char, m->ufrag) <
	    0) {
		*ret_reason = "candidate: 'usernameFragment' must be an ICE ufrag";
		return -EBADMSG;
	}
	return 0;
}

static int parse_end_of_candidates(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	return parse_mline(o, m, ret_reason);
}

/*
 * What json-glib should never see: NUL bytes, invalid UTF-8, deep nesting (its parser
 * recurses once per level, so 64 KiB of '[' would exhaust the stack), and anything after
 * the top-level object (json-glib 1.6 accepts trailing values).
 */
static int msg_prescan(const char *text, size_t len, const char **ret_reason)
{
	unsigned depth = 0;
	bool in_string = false, escaped = false, done = false;

	if (memchr(text, '\0', len) || !g_utf8_validate(text, (gssize)len, NULL)) {
		*ret_reason = "a message must be UTF-8 JSON text";
		return -EBADMSG;
	}
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (done && !g_ascii_isspace(c)) {
			*ret_reason = "one JSON object per message";
			return -EBADMSG;
		}
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > CG_ROOM_MSG_MAX_DEPTH) {
				*ret_reason = "JSON nested too deeply";
				return -EBADMSG;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			done = --depth == 0;
		}
	}
	return 0;
}

static int msg_lookup_type(JsonObject *o, const char **ret_reason)
{
	JsonNode *n = json_object_get_member(o, "type");
	const char *name;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		*ret_reason = "a message needs a string 'type'";
		return -EBADMSG;
	}
	name = json_node_get_string(n);
	for (int t = 0; t < _CG_ROOM_MSG_MAX; t++)
		if (strcmp(name, msg_specs[t].name) == 0)
			return t;
	*ret_reason = "unknown message type (known: join, leave, ping, stream ok, call, offer, "
		      "answer, candidate, end of candidates, bye)";
	return -ENOTSUP;
}

/* The validated object's fields into m. */
static int msg_parse_object(JsonObject *o, struct cg_room_msg *m, const char **ret_reason)
{
	int t = msg_lookup_type(o, ret_reason);
	int r;

	if (t < 0)
		return t;
	m->type = t;
	if (msg_specs[t].relayed &&
	    msg_get_string(o, "to", 1, CG_ROOM_PEER_ID_MAX, msg_token_char, m->to) < 0) {
		*ret_reason = "'to' must be a peer id (1 to 31 printable characters)";
		return -EBADMSG;
	}
	if (!msg_specs[t].parse)
		return 0;
	r = msg_specs[t].parse(o, m, ret_reason);
	return r;
}

static void msg_init(struct cg_room_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = CG_ROOM_MSG_INVALID;
	m->label = -1;
}

int cg_room_msg_parse(const char *text, size_t len, struct cg_room_msg *ret,
		      const char **ret_reason)
{
	JsonParser *parser;
	JsonNode *root;
	int r;

	msg_init(ret);
	if (len > CG_ROOM_MSG_MAX) {
		*ret_reason = "message over 64 KiB";
		return -EMSGSIZE;
	}
	r = msg_prescan(text, len, ret_reason);
	if (r < 0)
		return r;
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, text, (gssize)len, NULL)) {
		*ret_reason = "not JSON";
		r = -EBADMSG;
	} else if (!(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
		*ret_reason = "a message must be a JSON object";
		r = -EBADMSG;
	} else {
		r = msg_parse_object(json_node_get_object(root), ret, ret_reason);
	}
	g_object_unref(parser);
	if (r < 0)
		cg_room_msg_clear(ret);
	return r;
}

void cg_room_msg_clear(struct cg_room_msg *m)
{
	g_free(m->sdp);
	msg_init(m);
}

static char *msg_finish(JsonBuilder *b)
{
	JsonGenerator *gen = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
	return text;
}

static JsonBuilder *msg_begin(const char *type)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, type);
	return b;
}

static void msg_add_string(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

char *cg_room_msg_to_json(const struct cg_room_msg *m, const char *from)
{
	JsonBuilder *b = msg_begin(cg_room_msg_type_name(m->type));

	if (from)
		msg_add_string(b, "from", from);
	if (m->sdp)
		msg_add_string(b, "sdp", m->sdp);
	if (m->type == CG_ROOM_MSG_CANDIDATE || m->type == CG_ROOM_MSG_END_OF_CANDIDATES) {
		if (m->label >= 0) {
			json_builder_set_member_name(b, "label");
			json_builder_add_int_value(b, m->label);
		}
		if (m->has_mid)
			msg_add_string(b, "id", m->mid);
	}
	if (m->type == CG_ROOM_MSG_CANDIDATE) {
		msg_add_string(b, "candidate", m->candidate);
		if (m->ufrag[0])
			msg_add_string(b, "usernameFragment", m->ufrag);
	}
	return msg_finish(b);
}

char *cg_room_msg_build_event(const char *type, const char *id, const char *from)
{
	JsonBuilder *b = msg_begin(type);

	if (id)
		msg_add_string(b, "id", id);
	if (from)
		msg_add_string(b, "from", from);
	return msg_finish(b);
}

char *cg_room_msg_build_error(const char *about, const char *message)
{
	JsonBuilder *b = msg_begin("error");

	if (about)
		msg_add_string(b, "about", about);
	msg_add_string(b, "message", message);
	return msg_finish(b);
}

char *cg_room_msg_build_joined(const char *room, const char *id, const char *const *peers,
			       unsigned n_peers, bool initiator)
{
	JsonBuilder *b = msg_begin("joined");

	msg_add_string(b, "room", room);
	msg_add_string(b, "id", id);
	json_builder_set_member_name(b, "peers");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < n_peers; i++)
		json_builder_add_string_value(b, peers[i]);
	json_builder_end_array(b);
	msg_add_string(b, "camgate", CG_ROOM_CAMGATE_ID);
	json_builder_set_member_name(b, "initiator");
	json_builder_add_boolean_value(b, initiator);
	return msg_finish(b);
}
