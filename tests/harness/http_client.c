/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gio/gio.h>

#include "http_client.h"

#define HTTP_INITIAL_BUF	4096
#define HTTP_DEFAULT_TIMEOUT_MS 5000

enum http_state { HTTP_CONNECTING, HTTP_SENDING, HTTP_RECEIVING };

struct cg_http_request {
	GMainContext *ctx;
	GSocket *sock;
	GSource *io;
	GSource *timer;
	enum http_state state;
	int pending_err; /* a failure found in start(), reported from the context */
	cg_http_done_fn done;
	void *userdata;
	char *out;
	size_t out_len, out_off;
	char *in; /* response bytes, always one spare byte for a NUL */
	size_t in_len, in_cap;
};

static void http_free(struct cg_http_request *req)
{
	if (req->io) {
		g_source_destroy(req->io);
		g_source_unref(req->io);
	}
	if (req->timer) {
		g_source_destroy(req->timer);
		g_source_unref(req->timer);
	}
	if (req->sock) {
		g_socket_close(req->sock, NULL);
		g_object_unref(req->sock);
	}
	g_free(req->out);
	g_free(req->in);
	g_free(req);
}

static void http_finish(struct cg_http_request *req, int err, const struct cg_http_response *resp)
{
	req->done(err, err < 0 ? NULL : resp, req->userdata);
	http_free(req);
}

static int http_errno_from_gerror(const GError *e)
{
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return -ECONNREFUSED;
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
	    g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
		return -EPIPE;
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		return -ETIMEDOUT;
	return -EIO;
}

int cg_http_response_header(const struct cg_http_response *resp, const char *name, char *buf,
			    size_t cap)
{
	size_t name_len = strlen(name);

	for (const char *line = resp->headers; line && *line;) {
		const char *eol = strstr(line, "\r\n");
		const char *end = eol ? eol : line + strlen(line);

		if ((size_t)(end - line) > name_len && line[name_len] == ':' &&
		    strncasecmp(line, name, name_len) == 0) {
			const char *v = line + name_len + 1;
			size_t len;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			len = (size_t)(end - v);
			if (len + 1 > cap)
				return -ENOSPC;
			memcpy(buf, v, len);
			buf[len] = '\0';
			return (int)len;
		}
		line = eol ? eol + 2 : end;
	}
	return -ENOENT;
}

/*
 * Tries to complete the response from what has arrived. Returns 1 when *resp is complete,
 * 0 when more bytes are needed (at_eof false), or a negative errno.
 */
static int http_parse(struct cg_http_request *req, bool at_eof, struct cg_http_response *resp)
{
	char *hdr_end, *sp, len_buf[32];
	size_t have, want;
	int status;

	req->in[req->in_len] = '\0';
	hdr_end = strstr(req->in, "\r\n\r\n");
	if (!hdr_end)
		return at_eof ? -EPROTO : 0;
	if (strncmp(req->in, "HTTP/1.", 7) != 0 || !(sp = strchr(req->in, ' ')))
		return -EPROTO;
	status = atoi(sp + 1);
	if (status < 100 || status > 599)
		return -EPROTO;
	/* Terminate the header block in place: the body starts four bytes later. */
	hdr_end[2] = '\0';
	resp->status = status;
	resp->headers = strstr(req->in, "\r\n") + 2;
	resp->body = hdr_end + 4;
	have = req->in_len - (size_t)(resp->body - req->in);
	if (cg_http_response_header(resp, "Transfer-Encoding", len_buf, sizeof(len_buf)) >= 0)
		return -EPROTO; /* MHD answers buffers with Content-Length; keep this small */
	if (cg_http_response_header(resp, "Content-Length", len_buf, sizeof(len_buf)) >= 0)
		want = strtoull(len_buf, NULL, 10);
	else if (status == 204 || status == 304 || status < 200)
		want = 0;
	else if (at_eof)
		want = have;
	else
		want = SIZE_MAX;
	if (have < want) {
		hdr_end[2] = '\r'; /* parse again when more arrives */
		return at_eof ? -EPROTO : 0;
	}
	resp->body_len = want;
	((char *)resp->body)[want] = '\0';
	return 1;
}

static void http_watch(struct cg_http_request *req, GIOCondition cond);

static gboolean http_send_some(struct cg_http_request *req)
{
	GError *e = NULL;
	gssize n = g_socket_send(req->sock, req->out + req->out_off, req->out_len - req->out_off,
				 NULL, &e);

	if (n < 0 && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
		g_error_free(e);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0) {
		/* The server may answer early (413) and close: read what it said. */
		g_error_free(e);
		req->out_off = req->out_len;
	} else {
		req->out_off += (size_t)n;
	}
	if (req->out_off < req->out_len)
		return G_SOURCE_CONTINUE;
	req->state = HTTP_RECEIVING;
	http_watch(req, G_IO_IN);
	return G_SOURCE_REMOVE;
}

static gboolean http_receive_some(struct cg_http_request *req)
{
	struct cg_http_response resp = { 0 };
	GError *e = NULL;
	gssize n;
	int r;

	if (req->in_cap - req->in_len < 2) {
		if (req->in_cap > CG_HTTP_MAX_RESPONSE) {
			http_finish(req, -E2BIG, NULL);
			return G_SOURCE_REMOVE;
		}
		req->in_cap *= 2;
		req->in = g_realloc(req->in, req->in_cap);
	}
	n = g_socket_receive(req->sock, req->in + req->in_len, req->in_cap - req->in_len - 1, NULL,
			     &e);
	if (n < 0 && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
		g_error_free(e);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0) {
		r = http_errno_from_gerror(e);
		g_error_free(e);
		http_finish(req, r, NULL);
		return G_SOURCE_REMOVE;
	}
	req->in_len += (size_t)n;
	r = http_parse(req, n == 0, &resp);
	if (r == 0)
		return G_SOURCE_CONTINUE;
	http_finish(req, r < 0 ? r : 0, &resp);
	return G_SOURCE_REMOVE;
}

static gboolean http_on_io(GSocket *sock, GIOCondition cond, gpointer userdata)
{
	struct cg_http_request *req = userdata;
	GError *e = NULL;
	int r;

	if (req->state == HTTP_CONNECTING) {
		if (!g_socket_check_connect_result(sock, &e)) {
			r = http_errno_from_gerror(e);
			g_error_free(e);
			http_finish(req, r, NULL);
			return G_SOURCE_REMOVE;
		}
		req->state = HTTP_SENDING;
	}
	if (req->state == HTTP_SENDING)
		return http_send_some(req);
	return http_receive_some(req);
}

/* Replaces the I/O source: one per request, waiting for cond (errors always wake it). */
static void http_watch(struct cg_http_request *req, GIOCondition cond)
{
	if (req->io) {
		g_source_destroy(req->io);
		g_source_unref(req->io);
	}
	req->io = g_socket_create_source(req->sock, cond | G_IO_ERR | G_IO_HUP, NULL);
	g_source_set_callback(req->io, G_SOURCE_FUNC(http_on_io), req, NULL);
	g_source_attach(req->io, req->ctx);
}

static gboolean http_on_timer(gpointer userdata)
{
	struct cg_http_request *req = userdata;

	/* A failure from start() is reported here, after start() returned. */
	http_finish(req, req->pending_err ? req->pending_err : -ETIMEDOUT, NULL);
	return G_SOURCE_REMOVE;
}

static void http_set_timer(struct cg_http_request *req, unsigned ms)
{
	if (req->timer) {
		g_source_destroy(req->timer);
		g_source_unref(req->timer);
	}
	req->timer = g_timeout_source_new(ms);
	g_source_set_callback(req->timer, http_on_timer, req, NULL);
	g_source_attach(req->timer, req->ctx);
}

static char *http_format(const struct cg_http_request_args *a, size_t *ret_len)
{
	GString *s = g_string_new(NULL);
	bool v6 = strchr(a->host, ':') != NULL;

	g_string_printf(s, "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nConnection: close\r\n", a->method,
			a->path, v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
	if (a->content_type)
		g_string_append_printf(s, "Content-Type: %s\r\n", a->content_type);
	if (a->body_len || strcmp(a->method, "POST") == 0 || strcmp(a->method, "PATCH") == 0)
		g_string_append_printf(s, "Content-Length: %zu\r\n", a->body_len);
	if (a->extra_headers)
		g_string_append(s, a->extra_headers);
	g_string_append(s, "\r\n");
	if (a->body_len)
		g_string_append_len(s, a->body, (gssize)a->body_len);
	*ret_len = s->len;
	return g_string_free(s, FALSE);
}

static GSocket *http_socket(const struct cg_http_request_args *a, GSocketAddress **ret_addr)
{
	GInetAddress *ia = g_inet_address_new_from_string(a->host);
	GSocket *sock;

	if (!ia)
		return NULL;
	*ret_addr = g_inet_socket_address_new(ia, a->port);
	sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
			    G_SOCKET_PROTOCOL_TCP, NULL);
	g_object_unref(ia);
	if (!sock) {
		g_object_unref(*ret_addr);
		return NULL;
	}
	g_socket_set_blocking(sock, FALSE);
	return sock;
}

int cg_http_request_start(GMainContext *ctx, const struct cg_http_request_args *args,
			  cg_http_done_fn done, void *userdata, struct cg_http_request **ret)
{
	struct cg_http_request *req;
	GSocketAddress *addr = NULL;
	GError *e = NULL;

	if (!ctx || !args || !args->host || !args->method || !args->path || !done ||
	    (args->body_len && !args->body))
		return -EINVAL;
	req = g_new0(struct cg_http_request, 1);
	req->ctx = ctx;
	req->done = done;
	req->userdata = userdata;
	req->sock = http_socket(args, &addr);
	if (!req->sock) {
		http_free(req);
		return -EINVAL;
	}
	req->out = http_format(args, &req->out_len);
	req->in_cap = HTTP_INITIAL_BUF;
	req->in = g_malloc(req->in_cap);
	http_set_timer(req, args->timeout_ms ? args->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
	if (!g_socket_connect(req->sock, addr, NULL, &e) &&
	    !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PENDING)) {
		req->pending_err = http_errno_from_gerror(e);
		http_set_timer(req, 0);
	} else {
		req->state = HTTP_CONNECTING;
		http_watch(req, G_IO_OUT);
	}
	g_clear_error(&e);
	g_object_unref(addr);
	if (ret)
		*ret = req;
	return 0;
}

void cg_http_request_cancel(struct cg_http_request *req)
{
	if (req)
		http_free(req);
}
