/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libmicrohttpd driven from a GMainContext in external epoll mode (no HTTP thread): MHD's
 * epoll fd is a GSource, and MHD's own timeout re-arms a timer. Owner: the thread that
 * runs ctx (the control thread); every function is control thread only.
 */
#pragma once

#include <glib.h>
#include <microhttpd.h>
#include <stdint.h>

struct cg_http;

struct cg_http_cfg {
	const char *host; /* numeric IPv4 or IPv6 address */
	uint16_t port;
	unsigned max_connections;
	unsigned connections_per_client; /* open at once from one client address */
	unsigned connection_timeout_s;	 /* idle time before a connection is closed */
	size_t connection_memory;	 /* per connection, bounds headers */
	MHD_AccessHandlerCallback handler;
	void *handler_cls;
	MHD_RequestCompletedCallback completed; /* frees per-request state, may be NULL */
	const char *tls_cert_pem; /* HTTPS: PEM chain and key (copied), or NULL for HTTP */
	const char *tls_key_pem;
};

/*
 * HTTPS: TLS 1.2 and 1.3, key exchange by ECDHE alone (no RSA key transport, no finite
 * field DH), AEAD ciphers alone (no CBC): what Mozilla's "intermediate" profile allows.
 */
#define CG_HTTP_TLS_PRIORITIES                                                                     \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"           \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"                 \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"

/*
 * Binds and starts serving on ctx. Returns 0, -EINVAL (host is not a numeric address),
 * -ENOTSUP (HTTPS asked but libmicrohttpd was built without GnuTLS), the bind's -errno
 * (-EADDRNOTAVAIL: the machine has no such address; -EADDRINUSE; -EACCES), or -EIO (MHD
 * did not start, e.g. it refused the TLS key: the reason is logged at debug level).
 */
int cg_http_new(const struct cg_http_cfg *cfg, GMainContext *ctx, struct cg_http **ret);

struct cg_http *cg_http_free(struct cg_http *http);

/* Runs MHD now and re-arms the timer: call after resuming a suspended connection. */
void cg_http_kick(struct cg_http *http);

/* The bound port (useful with port 0). */
uint16_t cg_http_port(const struct cg_http *http);
