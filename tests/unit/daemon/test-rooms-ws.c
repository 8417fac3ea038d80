/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The WebSocket server framing (daemon/signaling/rooms/ws.c): RFC 6455 examples, fragments, limits.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signaling/rooms/ws.h"

/* Masks payload into a client frame (RFC 6455 §5.3) with the given first byte. */
static GByteArray *client_frame(uint8_t b0, const void *payload, size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	GByteArray *f = g_byte_array_new();
	uint8_t h[14];
	size_t n = 0;

	h[n++] = b0;
	if (len < 126) {
		h[n++] = 0x80 | (uint8_t)len;
	} else if (len <= 0xffff) {
		h[n++] = 0x80 | 126;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(h + n, mask, 4);
	n += 4;
	g_byte_array_append(f, h, (guint)n);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = ((const uint8_t *)payload)[i] ^ mask[i & 3];
		g_byte_array_append(f, &c, 1);
	}
	return f;
}

struct events {
	GPtrArray *list; /* "TEXT:payload", "PING:", "CLOSE:1000", … */
	int err;
	uint16_t close_code;
};

static const char *const names[] = { "TEXT", "BINARY", "TOO_BIG", "PING", "PONG", "CLOSE" };

/* Feeds data in chunks of step bytes, collecting every event. */
static void feed(struct cg_ws_reader *r, const uint8_t *data, size_t len, size_t step,
		 struct events *ev)
{
	size_t off = 0;

	while (off < len && ev->err == 0) {
		size_t chunk = MIN(step, len - off), used;
		struct cg_ws_event e;
		int res = cg_ws_reader_feed(r, data + off, chunk, &used, &e, &ev->close_code);

		if (res < 0) {
			ev->err = res;
			break;
		}
		g_assert_cmpuint(used, <=, chunk);
		off += used;
		if (res == 1) {
			char *s = e.type == CG_WS_EVENT_CLOSE
					  ? g_strdup_printf("CLOSE:%u", e.close_code)
					  : g_strdup_printf("%s:%.*s", names[e.type], (int)e.len,
							    (const char *)e.data);
			g_ptr_array_add(ev->list, s);
		} else {
			g_assert_cmpuint(used, ==, chunk);
		}
	}
}

static struct events run(const GByteArray *stream, size_t step, size_t max)
{
	struct cg_ws_reader r;
	struct events ev = { .list = g_ptr_array_new_with_free_func(g_free) };

	cg_ws_reader_init(&r, max);
	feed(&r, stream->data, stream->len, step, &ev);
	cg_ws_reader_fini(&r);
	return ev;
}

static void append(GByteArray *stream, GByteArray *frame)
{
	g_byte_array_append(stream, frame->data, frame->len);
	g_byte_array_unref(frame);
}

static void test_accept_key(void)
{
	char accept[CG_WS_ACCEPT_LEN + 1];

	/* RFC 6455 §1.3's example. */
	g_assert_cmpint(cg_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept), ==, 0);
	g_assert_cmpstr(accept, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	g_assert_cmpint(cg_ws_accept_key(NULL, accept), ==, -EINVAL);
	g_assert_cmpint(cg_ws_accept_key("short", accept), ==, -EINVAL);
	g_assert_cmpint(cg_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=!", accept), ==, -EINVAL);
	/* 24 characters, but 17 bytes */
	g_assert_cmpint(cg_ws_accept_key("dGhlIHNhbXBsZSBub25jZQEB", accept), ==, -EINVAL);
}

static void test_origin(void)
{
	/* Not a browser: no Origin. */
	g_assert_true(cg_ws_origin_allowed(NULL, "cam.local:8080"));
	/* The page's own origin, case aside, with and without a port; IPv6 literals. */
	g_assert_true(cg_ws_origin_allowed("http://cam.local:8080", "cam.local:8080"));
	g_assert_true(cg_ws_origin_allowed("HTTPS://Cam.Local", "cam.local"));
	g_assert_true(cg_ws_origin_allowed("http://[::1]:8080", "[::1]:8080"));
	/* Another site, port, or scheme; opaque origins; anything after the authority. */
	g_assert_false(cg_ws_origin_allowed("http://evil.example", "cam.local:8080"));
	g_assert_false(cg_ws_origin_allowed("http://cam.local:8081", "cam.local:8080"));
	g_assert_false(cg_ws_origin_allowed("http://cam.local", "cam.local:8080"));
	g_assert_false(cg_ws_origin_allowed("null", "cam.local"));
	g_assert_false(cg_ws_origin_allowed("file://cam.local", "cam.local"));
	g_assert_false(cg_ws_origin_allowed("http://cam.local/", "cam.local"));
	g_assert_false(cg_ws_origin_allowed("http://x@cam.local", "cam.local"));
	g_assert_false(cg_ws_origin_allowed("http://cam.local.evil.example", "cam.local"));
	g_assert_false(cg_ws_origin_allowed("http://", "cam.local"));
	/* A browser's request without Host cannot be matched. */
	g_assert_false(cg_ws_origin_allowed("http://cam.local", NULL));
	g_assert_false(cg_ws_origin_allowed("http://cam.local", ""));
}

static void test_rfc_example(void)
{
	/* RFC 6455 §5.7: a single-frame masked text message "Hello". */
	static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	GByteArray *s = g_byte_array_new();

	g_byte_array_append(s, hello, sizeof(hello));
	for (size_t step = 1; step <= sizeof(hello); step++) {
		struct events ev = run(s, step, 1024);

		g_assert_cmpint(ev.err, ==, 0);
		g_assert_cmpuint(ev.list->len, ==, 1);
		g_assert_cmpstr(g_ptr_array_index(ev.list, 0), ==, "TEXT:Hello");
		g_ptr_array_unref(ev.list);
	}
	g_byte_array_unref(s);
}

static void test_fragments_and_control(void)
{
	GByteArray *s = g_byte_array_new();
	struct events ev;

	append(s, client_frame(0x01, "Hel", 3));	  /* text, not FIN */
	append(s, client_frame(0x89, "p", 1));		  /* ping in the middle */
	append(s, client_frame(0x00, "lo ", 3));	  /* continuation */
	append(s, client_frame(0x80, "w\xc3\xb6rld", 6)); /* FIN continuation, UTF-8 */
	append(s, client_frame(0x81, "", 0));		  /* empty text */
	append(s, client_frame(0x8a, "", 0));		  /* pong */
	append(s, client_frame(0x82, "\x00\x01", 2));	  /* binary */
	append(s, client_frame(0x88,
			       "\x03\xe8"
			       "bye",
			       5)); /* close 1000 */
	for (size_t step = 1; step < 64; step += 7) {
		ev = run(s, step, 1024);
		g_assert_cmpint(ev.err, ==, 0);
		g_assert_cmpuint(ev.list->len, ==, 6);
		g_assert_cmpstr(g_ptr_array_index(ev.list, 0), ==, "PING:p");
		g_assert_cmpstr(g_ptr_array_index(ev.list, 1), ==, "TEXT:Hello w\xc3\xb6rld");
		g_assert_cmpstr(g_ptr_array_index(ev.list, 2), ==, "TEXT:");
		g_assert_cmpstr(g_ptr_array_index(ev.list, 3), ==, "PONG:");
		g_assert_cmpstr(g_ptr_array_index(ev.list, 4), ==, "BINARY:");
		g_assert_cmpstr(g_ptr_array_index(ev.list, 5), ==, "CLOSE:1000");
		g_ptr_array_unref(ev.list);
	}
	g_byte_array_unref(s);
}

static void test_too_big_then_ok(void)
{
	GByteArray *s = g_byte_array_new();
	char *big = g_malloc(70000);
	struct events ev;

	memset(big, 'x', 70000);
	append(s, client_frame(0x01, big, 100));   /* fits so far */
	append(s, client_frame(0x80, big, 70000)); /* 64-bit length; the whole is over */
	append(s, client_frame(0x81, "ok", 2));
	ev = run(s, 4096, 1000);
	g_assert_cmpint(ev.err, ==, 0);
	g_assert_cmpuint(ev.list->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(ev.list, 0), ==, "TOO_BIG:");
	g_assert_cmpstr(g_ptr_array_index(ev.list, 1), ==, "TEXT:ok");
	g_ptr_array_unref(ev.list);
	/* exactly at the limit is fine */
	g_byte_array_set_size(s, 0);
	append(s, client_frame(0x81, big, 1000));
	ev = run(s, 333, 1000);
	g_assert_cmpuint(ev.list->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(ev.list, 0), "TEXT:xxx"));
	g_ptr_array_unref(ev.list);
	g_free(big);
	g_byte_array_unref(s);
}

struct bad_case {
	const char *what;
	uint8_t b0;
	const char *payload;
	size_t len;
	int err;
	uint16_t code;
};

static void test_protocol_errors(void)
{
	static const struct bad_case cases[] = {
		{ "reserved bit", 0xc1, "x", 1, -EPROTO, 1002 },
		{ "reserved opcode", 0x83, "x", 1, -EPROTO, 1002 },
		{ "reserved control opcode", 0x8b, "", 0, -EPROTO, 1002 },
		{ "fragmented ping", 0x09, "", 0, -EPROTO, 1002 },
		{ "continuation first", 0x80, "x", 1, -EPROTO, 1002 },
		{ "close with 1 byte", 0x88, "x", 1, -EPROTO, 1002 },
		{ "bad UTF-8", 0x81, "\xc3\x28", 2, -EILSEQ, 1007 },
		{ "overlong UTF-8", 0x81, "\xc0\xaf", 2, -EILSEQ, 1007 },
		{ "surrogate", 0x81, "\xed\xa0\x80", 3, -EILSEQ, 1007 },
		{ "truncated UTF-8", 0x81, "\xe2\x82", 2, -EILSEQ, 1007 },
	};
	char big[200];

	memset(big, 'p', sizeof(big));
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GByteArray *s = g_byte_array_new();
		struct events ev;

		append(s, client_frame(cases[i].b0, cases[i].payload, cases[i].len));
		ev = run(s, 3, 1024);
		g_test_message("%s", cases[i].what);
		g_assert_cmpint(ev.err, ==, cases[i].err);
		g_assert_cmpuint(ev.close_code, ==, cases[i].code);
		g_ptr_array_unref(ev.list);
		g_byte_array_unref(s);
	}
	{
		/* unmasked client frame (§5.1), a ping over 125 bytes, a new message inside a
		 * fragmented one */
		static const uint8_t unmasked[] = { 0x81, 0x01, 'x' };
		GByteArray *s = g_byte_array_new();
		struct events ev;

		g_byte_array_append(s, unmasked, sizeof(unmasked));
		ev = run(s, 1, 1024);
		g_assert_cmpint(ev.err, ==, -EPROTO);
		g_ptr_array_unref(ev.list);
		g_byte_array_set_size(s, 0);
		append(s, client_frame(0x89, big, 126));
		ev = run(s, 50, 1024);
		g_assert_cmpint(ev.err, ==, -EPROTO);
		g_ptr_array_unref(ev.list);
		g_byte_array_set_size(s, 0);
		append(s, client_frame(0x01, "a", 1));
		append(s, client_frame(0x81, "b", 1));
		ev = run(s, 50, 1024);
		g_assert_cmpint(ev.err, ==, -EPROTO);
		g_ptr_array_unref(ev.list);
		g_byte_array_unref(s);
	}
}

static void test_dead_reader_stays_dead(void)
{
	static const uint8_t unmasked[] = { 0x81, 0x01, 'x' };
	struct cg_ws_reader r;
	struct cg_ws_event e;
	uint16_t code = 0;
	size_t used;

	cg_ws_reader_init(&r, 16);
	g_assert_cmpint(cg_ws_reader_feed(&r, unmasked, 3, &used, &e, &code), ==, -EPROTO);
	g_assert_cmpint(cg_ws_reader_feed(&r, unmasked, 3, &used, &e, &code), ==, -EPROTO);
	g_assert_cmpuint(used, ==, 0);
	cg_ws_reader_fini(&r);
}

static void test_frame_header(void)
{
	uint8_t h[CG_WS_MAX_HEADER];

	g_assert_cmpuint(cg_ws_frame_header(h, CG_WS_OP_TEXT, 125), ==, 2);
	g_assert_cmphex(h[0], ==, 0x81);
	g_assert_cmphex(h[1], ==, 125);
	g_assert_cmpuint(cg_ws_frame_header(h, CG_WS_OP_CLOSE, 126), ==, 4);
	g_assert_cmphex(h[0], ==, 0x88);
	g_assert_cmphex(h[1], ==, 126);
	g_assert_cmphex(h[2], ==, 0);
	g_assert_cmphex(h[3], ==, 126);
	g_assert_cmpuint(cg_ws_frame_header(h, CG_WS_OP_TEXT, 65535), ==, 4);
	g_assert_cmpuint(cg_ws_frame_header(h, CG_WS_OP_PING, 65536), ==, 10);
	g_assert_cmphex(h[1], ==, 127);
	g_assert_cmphex(h[7], ==, 1);
	g_assert_cmphex(h[9], ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ws/accept-key", test_accept_key);
	g_test_add_func("/ws/origin", test_origin);
	g_test_add_func("/ws/rfc-example", test_rfc_example);
	g_test_add_func("/ws/fragments-and-control", test_fragments_and_control);
	g_test_add_func("/ws/too-big-then-ok", test_too_big_then_ok);
	g_test_add_func("/ws/protocol-errors", test_protocol_errors);
	g_test_add_func("/ws/dead-reader", test_dead_reader_stays_dead);
	g_test_add_func("/ws/frame-header", test_frame_header);
	return g_test_run();
}
