/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "util/macros.h"
#include "signaling/rooms/ws.h"

/* RFC 6455 §1.3: appended to the client's key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void cg_ws_reader_init(struct cg_ws_reader *r, size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->max_message = max_message;
	r->message = cg_malloc0(max_message);
}

void cg_ws_reader_fini(struct cg_ws_reader *r)
{
	free(r->message);
	r->message = NULL;
}

static bool ws_is_control(uint8_t opcode)
{
	return opcode & 0x8;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool ws_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		unsigned n;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (len - i <= n)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* Bytes of header needed, known once the first two bytes are in. */
static unsigned ws_header_needed(const struct cg_ws_reader *r)
{
	unsigned n = 2;

	if (r->header_len < 2)
		return 2;
	if ((r->header[1] & 0x7f) == 126)
		n += 2;
	else if ((r->header[1] & 0x7f) == 127)
		n += 8;
	return n + ((r->header[1] & 0x80) ? 4 : 0);
}

/* Validates a complete header (RFC 6455 §5.2, §5.4, §5.5) and starts the frame. */
static int ws_begin_frame(struct cg_ws_reader *r)
{
	const uint8_t *h = r->header;
	unsigned len7 = h[1] & 0x7f, pos = 2;

	r->fin = h[0] & 0x80;
	r->opcode = h[0] & 0x0f;
	if ((h[0] & 0x70) || !(h[1] & 0x80))
		return -EPROTO; /* no extension negotiated; §5.1: clients must mask */
	r->payload_len = len7;
	if (len7 == 126) {
		r->payload_len = (uint64_t)h[2] << 8 | h[3];
		pos = 4;
	} else if (len7 == 127) {
		r->payload_len = 0;
		for (unsigned i = 0; i < 8; i++)
			r->payload_len = r->payload_len << 8 | h[2 + i];
		if (r->payload_len >> 63)
			return -EPROTO;
		pos = 10;
	}
	memcpy(r->mask, h + pos, 4);
	r->payload_done = 0;
	r->control_len = 0;
	if (ws_is_control(r->opcode)) {
		if (!r->fin || r->payload_len > CG_WS_MAX_CONTROL ||
		    (r->opcode != CG_WS_OP_CLOSE && r->opcode != CG_WS_OP_PING &&
		     r->opcode != CG_WS_OP_PONG))
			return -EPROTO;
		return 0;
	}
	if (r->opcode > CG_WS_OP_BINARY)
		return -EPROTO;
	if ((r->opcode == CG_WS_OP_CONTINUATION) != r->in_message)
		return -EPROTO;
	if (!r->in_message) {
		r->in_message = true;
		r->message_opcode = r->opcode;
		r->discarding = r->opcode == CG_WS_OP_BINARY;
		r->message_total = 0;
		r->message_len = 0;
	}
	r->message_total += r->payload_len;
	if (r->message_total > r->max_message)
		r->discarding = true;
	return 0;
}

static int ws_end_control(struct cg_ws_reader *r, struct cg_ws_event *ev)
{
	ev->data = r->control;
	ev->len = r->control_len;
	ev->close_code = 0;
	switch (r->opcode) {
	case CG_WS_OP_PING:
		ev->type = CG_WS_EVENT_PING;
		return 1;
	case CG_WS_OP_PONG:
		ev->type = CG_WS_EVENT_PONG;
		return 1;
	default:
		break;
	}
	/* §5.5.1: a close body is a 2-byte status code, then an optional reason. */
	if (r->control_len == 1)
		return -EPROTO;
	ev->type = CG_WS_EVENT_CLOSE;
	if (r->control_len >= 2) {
		ev->close_code = (uint16_t)(r->control[0] << 8 | r->control[1]);
		ev->data = r->control + 2;
		ev->len = r->control_len - 2;
	}
	return 1;
}

/* The frame's payload is complete: returns 1 with an event, 0, or -errno. */
static int ws_end_frame(struct cg_ws_reader *r, struct cg_ws_event *ev)
{
	r->header_len = 0;
	if (ws_is_control(r->opcode))
		return ws_end_control(r, ev);
	if (!r->fin)
		return 0;
	r->in_message = false;
	ev->close_code = 0;
	ev->data = r->message;
	ev->len = 0;
	if (r->message_opcode == CG_WS_OP_BINARY) {
		ev->type = CG_WS_EVENT_BINARY;
		return 1;
	}
	if (r->discarding) {
		ev->type = CG_WS_EVENT_TOO_BIG;
		return 1;
	}
	if (!ws_utf8_valid(r->message, r->message_len))
		return -EILSEQ;
	ev->type = CG_WS_EVENT_TEXT;
	ev->len = r->message_len;
	return 1;
}

/* Unmasks payload bytes into where they belong (control buffer, message, or nowhere). */
static size_t ws_take_payload(struct cg_ws_reader *r, const uint8_t *data, size_t len)
{
	uint64_t left = r->payload_len - r->payload_done;
	size_t n = (size_t)CG_MIN((uint64_t)len, left);
	uint8_t *dst = NULL;

	if (ws_is_control(r->opcode))
		dst = r->control + r->control_len;
	else if (!r->discarding)
		dst = r->message + r->message_len;
	if (dst) {
		for (size_t i = 0; i < n; i++)
			dst[i] = data[i] ^ r->mask[(r->payload_done + i) & 3];
		if (ws_is_control(r->opcode))
			r->control_len += n;
		else
			r->message_len += n;
	}
	r->payload_done += n;
	return n;
}

static int ws_fail(struct cg_ws_reader *r, int err, uint16_t *ret_close_code)
{
	r->failed = true;
	*ret_close_code = err == -EILSEQ ? CG_WS_CLOSE_INVALID_DATA : CG_WS_CLOSE_PROTOCOL_ERROR;
	return err;
}

int cg_ws_reader_feed(struct cg_ws_reader *r, const uint8_t *data, size_t len, size_t *ret_used,
		      struct cg_ws_event *ret_event, uint16_t *ret_close_code)
{
	size_t used = 0;
	int res = 0;

	*ret_used = 0;
	if (r->failed)
		return ws_fail(r, -EPROTO, ret_close_code);
	while (res == 0 && used < len) {
		if (r->header_len < ws_header_needed(r)) {
			r->header[r->header_len++] = data[used++];
			if (r->header_len < ws_header_needed(r))
				continue;
			res = ws_begin_frame(r);
			/* an empty payload ends the frame right with its header */
			if (res < 0 || r->payload_len != 0)
				continue;
		} else {
			used += ws_take_payload(r, data + used, len - used);
			if (r->payload_done < r->payload_len)
				continue;
		}
		res = ws_end_frame(r, ret_event);
	}
	*ret_used = used;
	if (res < 0)
		return ws_fail(r, res, ret_close_code);
	return res;
}

size_t cg_ws_frame_header(uint8_t out[CG_WS_MAX_HEADER], enum cg_ws_opcode op, uint64_t len)
{
	out[0] = 0x80 | (uint8_t)op;
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (unsigned i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

int cg_ws_accept_key(const char *client_key, char ret[CG_WS_ACCEPT_LEN + 1])
{
	uint8_t digest[20];
	gsize digest_len = sizeof(digest);
	GChecksum *sha1;
	guchar *raw;
	gsize raw_len;
	char *b64;

	/* §4.1: the key is base64 of exactly 16 bytes, so 24 characters. */
	if (!client_key || strlen(client_key) != 24 ||
	    strspn(client_key,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != 24)
		return -EINVAL;
	raw = g_base64_decode(client_key, &raw_len);
	g_free(raw);
	if (raw_len != 16)
		return -EINVAL;
	sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(sha1, (const guchar *)client_key, 24);
	g_checksum_update(sha1, (const guchar *)WS_GUID, strlen(WS_GUID));
	g_checksum_get_digest(sha1, digest, &digest_len);
	g_checksum_free(sha1);
	b64 = g_base64_encode(digest, sizeof(digest));
	memcpy(ret, b64, CG_WS_ACCEPT_LEN + 1);
	g_free(b64);
	return 0;
}

bool cg_ws_origin_allowed(const char *origin, const char *host)
{
	const char *authority;

	if (!origin)
		return true;
	if (!host || !*host)
		return false;
	if (g_ascii_strncasecmp(origin, "http://", 7) == 0)
		authority = origin + 7;
	else if (g_ascii_strncasecmp(origin, "https://", 8) == 0)
		authority = origin + 8;
	else
		return false; /* "null" (sandboxed, file:), or a scheme that is no web page */
	/* An Origin is scheme://host[:port] (RFC 6454 §6.2): nothing after the authority. */
	return strpbrk(authority, "/?#@ \t") == NULL && g_ascii_strcasecmp(authority, host) == 0;
}
