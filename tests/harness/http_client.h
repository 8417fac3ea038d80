/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A tiny asynchronous HTTP/1.1 client for tests and the load client: one request per TCP
 * connection ("Connection: close"), Content-Length bodies only, driven entirely by sources
 * on a caller-given GMainContext (no threads, no name resolution: numeric IPv4/IPv6 only).
 * Everything on the thread that iterates that context.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define CG_HTTP_MAX_RESPONSE (256 * 1024) /* headers + body; larger responses fail */

struct cg_http_request;

/* A parsed response: borrowed, valid only during the completion callback. */
struct cg_http_response {
	int status;	     /* e.g. 201 */
	const char *headers; /* the header lines after the status line, NUL-terminated */
	const char *body;    /* NUL-terminated (the NUL is not counted in body_len) */
	size_t body_len;
};

/*
 * Called once per request, on the context's thread. err is 0 with resp set, or a negative
 * errno with resp NULL: -ECONNREFUSED, -ETIMEDOUT (no complete response in time), -EPROTO
 * (not HTTP/1.x, chunked, truncated), -E2BIG (response > CG_HTTP_MAX_RESPONSE), -EIO.
 * The request is freed right after the callback returns: do not cancel it from here.
 */
typedef void (*cg_http_done_fn)(int err, const struct cg_http_response *resp, void *userdata);

struct cg_http_request_args {
	const char *host; /* numeric address, e.g. "127.0.0.1" */
	uint16_t port;
	const char *method;	  /* "GET", "POST", … */
	const char *path;	  /* "/whep" */
	const char *content_type; /* NULL: no Content-Type header */
	const void *body;	  /* may be NULL when body_len is 0; copied */
	size_t body_len;
	const char *extra_headers; /* "Name: value\r\n" lines, or NULL; copied */
	unsigned timeout_ms;	   /* whole exchange; 0 means 5000 */
};

/*
 * Starts a request on ctx (borrowed; must outlive the request). done is called exactly once
 * unless the request is cancelled first. On success returns 0 and, when ret is not NULL,
 * a handle valid until done returns. Returns -EINVAL for a bad host or arguments, or the
 * negated errno of socket creation; done is not called then.
 */
int cg_http_request_start(GMainContext *ctx, const struct cg_http_request_args *args,
			  cg_http_done_fn done, void *userdata, struct cg_http_request **ret);

/* Cancels a pending request: done is not called, everything is freed. NULL allowed. */
void cg_http_request_cancel(struct cg_http_request *req);

/*
 * Copies the value of the first header called name (case-insensitive, surrounding blanks
 * trimmed) into buf. Returns its length, -ENOENT when absent, -ENOSPC when buf is too small.
 */
int cg_http_response_header(const struct cg_http_response *resp, const char *name, char *buf,
			    size_t cap);
