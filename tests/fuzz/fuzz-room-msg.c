/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Room signaling (issue 8): everything a WebSocket client controls. The same input goes
 *   1. to cg_room_msg_parse() as one message: every failure has a reason and leaves
 *      nothing owned; an accepted message re-written by cg_room_msg_to_json() parses
 *      back to the same type and fields;
 *   2. to the WebSocket frame reader in chunks (the first byte picks the chunk size):
 *      every call consumes bytes or completes an event, never more than given; text
 *      events are within the limit and go to the room registry;
 *   3. line by line to a room registry as two peers' messages (join, relay, camgate
 *      routing, leave), with limits small enough to be reached.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "signaling/rooms/room_msg.h"
#include "signaling/rooms/roomreg.h"
#include "signaling/rooms/ws.h"

#define FUZZ_MAX_MESSAGE 4096

static size_t sent_bytes;

static void fuzz_send(void *transport, const char *json, size_t len)
{
	if (strlen(json) != len)
		abort();
	sent_bytes += len;
}

static void fuzz_close(void *transport, const char *why)
{
}

static void fuzz_to_camgate(void *userdata, struct cg_roomreg_peer *from,
			    const struct cg_room_msg *msg)
{
	struct cg_roomreg *reg = *(struct cg_roomreg **)userdata;

	if (!cg_room_msg_is_relayed(msg->type))
		abort();
	cg_roomreg_send_from_camgate(reg, from, msg);
}

static void fuzz_peer_gone(void *userdata, struct cg_roomreg_peer *peer)
{
}

static const struct cg_roomreg_ops fuzz_ops = {
	.send = fuzz_send,
	.close = fuzz_close,
	.to_camgate = fuzz_to_camgate,
	.peer_gone = fuzz_peer_gone,
};

static void check_roundtrip(const struct cg_room_msg *m)
{
	struct cg_room_msg back;
	const char *reason = NULL;
	char *json;

	if (!cg_room_msg_is_relayed(m->type))
		return;
	json = cg_room_msg_to_json(m, "p1");
	if (cg_room_msg_parse(json, strlen(json), &back, &reason) != 0)
		abort();
	if (back.type != m->type || back.label != m->label || back.has_mid != m->has_mid ||
	    strcmp(back.mid, m->mid) != 0 || strcmp(back.candidate, m->candidate) != 0 ||
	    strcmp(back.ufrag, m->ufrag) != 0 || (!back.sdp != !m->sdp) ||
	    (m->sdp && strcmp(back.sdp, m->sdp) != 0))
		abort();
	cg_room_msg_clear(&back);
	g_free(json);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct cg_room_msg m;
	const char *reason = NULL;

	if (cg_room_msg_parse((const char *)data, size, &m, &reason) < 0) {
		if (!reason || m.sdp || m.type != CG_ROOM_MSG_INVALID)
			abort();
		return;
	}
	if (m.type < 0 || m.type >= _CG_ROOM_MSG_MAX)
		abort();
	check_roundtrip(&m);
	cg_room_msg_clear(&m);
}

static void fuzz_frames(const uint8_t *data, size_t size, struct cg_roomreg *reg,
			struct cg_roomreg_peer *peer)
{
	struct cg_ws_reader r;
	size_t step = size ? (size_t)data[0] % 64 + 1 : 1, off = 0;

	cg_ws_reader_init(&r, FUZZ_MAX_MESSAGE);
	while (off < size) {
		size_t chunk = size - off < step ? size - off : step, used = 99999;
		struct cg_ws_event ev;
		uint16_t code = 0;
		int res = cg_ws_reader_feed(&r, data + off, chunk, &used, &ev, &code);

		if (used > chunk)
			abort();
		if (res < 0) {
			if (code != CG_WS_CLOSE_PROTOCOL_ERROR && code != CG_WS_CLOSE_INVALID_DATA)
				abort();
			break;
		}
		if (res == 0 && used != chunk)
			abort();
		if (res == 1 && ev.type == CG_WS_EVENT_TEXT) {
			if (ev.len > FUZZ_MAX_MESSAGE)
				abort();
			cg_roomreg_receive(reg, peer, (const char *)ev.data, ev.len, 1);
		}
		off += used;
	}
	cg_ws_reader_fini(&r);
}

static void fuzz_lines(const uint8_t *data, size_t size, struct cg_roomreg *reg,
		       struct cg_roomreg_peer *peers[2])
{
	size_t start = 0;
	unsigned n = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		cg_roomreg_receive(reg, peers[n++ & 1], (const char *)data + start, i - start,
				   (uint64_t)i);
		start = i + 1;
	}
	cg_roomreg_expire(reg, (uint64_t)size * 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cg_roomreg_limits limits = {
		.max_peers = 3,
		.max_rooms = 2,
		.max_peers_per_room = 2,
		.idle_timeout_usec = 1000,
		.join_timeout_usec = 500,
	};
	struct cg_roomreg *reg = NULL;
	struct cg_roomreg_peer *peers[3];

	fuzz_parse(data, size);
	reg = cg_roomreg_new(&limits, &fuzz_ops, &reg);
	for (int i = 0; i < 3; i++)
		if (cg_roomreg_peer_new(reg, NULL, 0, &peers[i]) != 0)
			abort();
	fuzz_frames(data, size, reg, peers[2]);
	fuzz_lines(data, size, reg, peers);
	cg_roomreg_peer_free(reg, peers[0]);
	cg_roomreg_free(reg);
	return 0;
}
