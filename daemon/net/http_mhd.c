/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "http"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_mhd.h"
#include "util/log.h"
#include "util/macros.h"

struct cg_http {
	struct MHD_Daemon *daemon;
	GMainContext *ctx;
	GSource *io_source;
	GSource *timer_source;
	uint16_t port;
	char *tls_cert; /* MHD reads these while it runs: kept until it stops */
	char *tls_key;
};

static gboolean http_on_timer(gpointer userdata);

static void http_rearm_timer(struct cg_http *http)
{
	MHD_UNSIGNED_LONG_LONG timeout_ms;

	if (http->timer_source) {
		g_source_destroy(http->timer_source);
		g_source_unref(http->timer_source);
		http->timer_source = NULL;
	}
	if (MHD_get_timeout(http->daemon, &timeout_ms) != MHD_YES)
		return;
	http->timer_source = g_timeout_source_new((guint)CG_MIN(timeout_ms, 60000));
	g_source_set_callback(http->timer_source, http_on_timer, http, NULL);
	g_source_attach(http->timer_source, http->ctx);
}

void cg_http_kick(struct cg_http *http)
{
	MHD_run(http->daemon);
	http_rearm_timer(http);
}

static gboolean http_on_timer(gpointer userdata)
{
	struct cg_http *http = userdata;

	/* The source is replaced (and this one destroyed) by the kick. */
	g_source_unref(http->timer_source);
	http->timer_source = NULL;
	cg_http_kick(http);
	return G_SOURCE_REMOVE;
}

static gboolean http_on_io(gint fd, GIOCondition cond, gpointer userdata)
{
	cg_http_kick(userdata);
	return G_SOURCE_CONTINUE;
}

/* MHD's own format strings: the attribute lets clang check them as such (-Wformat=2). */
__attribute__((format(printf, 2, 0))) static void http_log_mhd(void *cls, const char *fmt,
							       va_list ap)
{
	char message[512];

	vsnprintf(message, sizeof(message), fmt, ap);
	g_strchomp(message);
	cg_debug("libmicrohttpd: %s", message);
}

static int http_parse_address(const char *host, uint16_t port, struct sockaddr_storage *ss,
			      socklen_t *len, unsigned *flags)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -EINVAL;
}

/* The TLS options, or none: MHD_OPTION_ARRAY lets one call serve both. */
static int http_tls_options(struct cg_http *http, const struct cg_http_cfg *cfg,
			    struct MHD_OptionItem *items, unsigned *flags)
{
	unsigned n = 0;

	if (cfg->tls_cert_pem) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			return -ENOTSUP;
		http->tls_cert = g_strdup(cfg->tls_cert_pem);
		http->tls_key = g_strdup(cfg->tls_key_pem);
		items[n++] =
			(struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, http->tls_cert };
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, http->tls_key };
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						      (void *)CG_HTTP_TLS_PRIORITIES };
		*flags |= MHD_USE_TLS;
	}
	items[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return 0;
}

/*
 * The listening socket, bound here rather than by MHD so that a failure says why: an
 * address the machine does not have is EADDRNOTAVAIL, a port below 1024 EACCES, a taken
 * one EADDRINUSE (MHD reports each of these as one failure). IPv6 listens on IPv6 alone,
 * as MHD does without MHD_USE_DUAL_STACK. Returns the fd or -errno.
 */
static int http_listen(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int on = 1, r;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int http_start(struct cg_http *http, const struct cg_http_cfg *cfg)
{
	struct sockaddr_storage ss;
	socklen_t ss_len = 0;
	struct MHD_OptionItem tls[4];
	unsigned flags =
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	int r, fd;

	if (http_parse_address(cfg->host, cfg->port, &ss, &ss_len, &flags) < 0)
		return -EINVAL;
	r = http_tls_options(http, cfg, tls, &flags);
	if (r < 0)
		return r;
	fd = http_listen(&ss, ss_len);
	if (fd < 0)
		return fd;
	/* MHD owns fd once it started; it closes it when it stops. */
	http->daemon = MHD_start_daemon(
		flags, cfg->port, NULL, NULL, cfg->handler, cfg->handler_cls,
		MHD_OPTION_EXTERNAL_LOGGER, http_log_mhd, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->connections_per_client,
		MHD_OPTION_NOTIFY_COMPLETED, cfg->completed, cfg->handler_cls, MHD_OPTION_ARRAY,
		tls, MHD_OPTION_END);
	if (!http->daemon) {
		close(fd);
		return -EIO;
	}
	info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
	http->port = info ? info->port : cfg->port;
	info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EIO;
	http->io_source = g_unix_fd_source_new(info->epoll_fd, G_IO_IN);
	g_source_set_callback(http->io_source, G_SOURCE_FUNC(http_on_io), http, NULL);
	g_source_attach(http->io_source, http->ctx);
	http_rearm_timer(http);
	return 0;
}

int cg_http_new(const struct cg_http_cfg *cfg, GMainContext *ctx, struct cg_http **ret)
{
	struct cg_http *http = cg_new0(struct cg_http, 1);
	int r;

	http->ctx = g_main_context_ref(ctx);
	r = http_start(http, cfg);
	if (r < 0) {
		cg_http_free(http);
		return r;
	}
	*ret = http;
	return 0;
}

struct cg_http *cg_http_free(struct cg_http *http)
{
	if (!http)
		return NULL;
	if (http->io_source) {
		g_source_destroy(http->io_source);
		g_source_unref(http->io_source);
	}
	if (http->timer_source) {
		g_source_destroy(http->timer_source);
		g_source_unref(http->timer_source);
	}
	if (http->daemon)
		MHD_stop_daemon(http->daemon);
	g_main_context_unref(http->ctx);
	if (http->tls_key)
		explicit_bzero(http->tls_key, strlen(http->tls_key));
	g_free(http->tls_key);
	g_free(http->tls_cert);
	free(http);
	return NULL;
}

uint16_t cg_http_port(const struct cg_http *http)
{
	return http->port;
}
