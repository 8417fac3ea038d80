/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * WebSocket (RFC 6455) for the server side only, sans-IO: the opening handshake's accept
 * key, a streaming frame reader that turns bytes from a client into whole messages and
 * control frames, and the header writer for the frames we send. No sockets, no clocks, no
 * global state: the caller owns the reader and feeds it what recv() returned.
 *
 * Why our own: Debian's libwebsockets owns its sockets and its HTTP server (it cannot take
 * a connection that libmicrohttpd has upgraded), and libwslay would be one more dependency
 * for what is, on the server side, about 200 lines: no extensions are negotiated, client
 * frames are always masked, server frames never are. It is fuzzed (tests/fuzz) and has
 * unit tests. Any thread; a reader is used by one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_WS_ACCEPT_LEN  28  /* base64 of a SHA-1 digest */
#define CG_WS_MAX_HEADER  10  /* a server (unmasked) frame header */
#define CG_WS_MAX_CONTROL 125 /* RFC 6455 §5.5 */

enum cg_ws_opcode {
	CG_WS_OP_CONTINUATION = 0x0,
	CG_WS_OP_TEXT = 0x1,
	CG_WS_OP_BINARY = 0x2,
	CG_WS_OP_CLOSE = 0x8,
	CG_WS_OP_PING = 0x9,
	CG_WS_OP_PONG = 0xa,
};

/* RFC 6455 §7.4.1 status codes we send. */
enum cg_ws_close_code {
	CG_WS_CLOSE_NORMAL = 1000,
	CG_WS_CLOSE_GOING_AWAY = 1001,
	CG_WS_CLOSE_PROTOCOL_ERROR = 1002,
	CG_WS_CLOSE_INVALID_DATA = 1007,
	CG_WS_CLOSE_POLICY = 1008,
};

enum cg_ws_event_type {
	CG_WS_EVENT_TEXT,    /* a whole text message, valid UTF-8 */
	CG_WS_EVENT_BINARY,  /* a whole binary message (its payload is not kept) */
	CG_WS_EVENT_TOO_BIG, /* a message over the limit, skipped to its end */
	CG_WS_EVENT_PING,    /* answer with a pong carrying the same payload */
	CG_WS_EVENT_PONG,
	CG_WS_EVENT_CLOSE, /* the client's close: answer it, then close the connection */
};

struct cg_ws_event {
	enum cg_ws_event_type type;
	const uint8_t *data; /* TEXT, PING, PONG, CLOSE payload: valid until the next feed */
	size_t len;
	uint16_t close_code; /* CLOSE: 0 when the client sent none */
};

/* Streaming state. Initialize with cg_ws_reader_init(); free with cg_ws_reader_fini(). */
struct cg_ws_reader {
	size_t max_message;
	/* the frame being read */
	uint8_t header[14];
	unsigned header_len;
	uint8_t opcode;
	bool fin;
	uint8_t mask[4];
	uint64_t payload_len;
	uint64_t payload_done;
	/* the message being assembled (text or binary, maybe fragmented) */
	bool in_message;
	bool discarding; /* over max_message, or binary: skip to FIN */
	uint8_t message_opcode;
	uint64_t message_total;
	uint8_t *message; /* max_message bytes, allocated by init */
	size_t message_len;
	uint8_t control[CG_WS_MAX_CONTROL];
	size_t control_len;
	bool failed;
};

/* max_message bounds one assembled text message (bytes). The buffer is allocated here
 * (aborts on OOM). */
void cg_ws_reader_init(struct cg_ws_reader *r, size_t max_message);
void cg_ws_reader_fini(struct cg_ws_reader *r);

/*
 * Consumes bytes from data until one event is complete or the input is used up; *ret_used
 * says how many bytes were consumed (call again with the rest). Returns 1 with *ret_event
 * set, 0 when everything was consumed without completing an event, or a negative errno
 * after which the connection must be failed with *ret_close_code (and the reader is dead):
 * -EPROTO (unmasked client frame, reserved bits or opcode, fragmented or oversized control
 * frame, continuation without a start, a new message inside a fragmented one) or -EILSEQ
 * (a text message that is not UTF-8).
 */
int cg_ws_reader_feed(struct cg_ws_reader *r, const uint8_t *data, size_t len, size_t *ret_used,
		      struct cg_ws_event *ret_event, uint16_t *ret_close_code);

/*
 * Writes the header of one unfragmented, unmasked server frame of len payload bytes into
 * out (CG_WS_MAX_HEADER bytes). Returns the header length.
 */
size_t cg_ws_frame_header(uint8_t out[CG_WS_MAX_HEADER], enum cg_ws_opcode op, uint64_t len);

/*
 * Checks a Sec-WebSocket-Key (base64 of 16 bytes, RFC 6455 §4.1) and writes the
 * Sec-WebSocket-Accept value (NUL-terminated) into ret. Returns 0 or -EINVAL.
 */
int cg_ws_accept_key(const char *client_key, char ret[CG_WS_ACCEPT_LEN + 1]);

/*
 * Whether a browser's WebSocket opening handshake may come from origin (the Origin header,
 * NULL when absent) to a server it reached as host (the Host header). Browsers send Origin
 * on every WebSocket and do not apply the same-origin policy to it, so a page on another
 * site could otherwise open the rooms socket with the viewer's cookie (cross-site WebSocket
 * hijacking). Allowed: no Origin (not a browser: the cookie is then the client's own), or
 * an http/https Origin whose host[:port] equals host, case aside. "null", other schemes,
 * paths or a different host or port are refused. Pure; any thread.
 */
bool cg_ws_origin_allowed(const char *origin, const char *host);
