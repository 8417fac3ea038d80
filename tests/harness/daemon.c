/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "daemon.h"
#include "http_client.h"
#include "util/time.h"
#include "whep_client.h"

static gboolean loop_wake(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

void cg_test_loop_wait(GMainContext *ctx, unsigned ms)
{
	GSource *src = g_timeout_source_new(ms);
	bool woke = false;

	g_source_set_callback(src, loop_wake, &woke, NULL);
	g_source_attach(src, ctx);
	while (!woke)
		g_main_context_iteration(ctx, TRUE);
	g_source_unref(src);
}

bool cg_test_loop_until(GMainContext *ctx, bool (*done)(void *data), void *data, unsigned ms)
{
	GSource *src = g_timeout_source_new(ms);
	bool woke = false;

	g_source_set_callback(src, loop_wake, &woke, NULL);
	g_source_attach(src, ctx);
	while (!woke && !done(data))
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(src);
	g_source_unref(src);
	return done(data);
}

static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	/* Only this test runs in its namespace: the port stays free until camgate binds. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

struct status_probe {
	bool done;
	const char *key;
	long value;
	char text[64]; /* a string value, without its quotes (no escapes in camgate's) */
};

static void status_done(int err, const struct cg_http_response *resp, void *data)
{
	struct status_probe *p = data;
	char pattern[80];
	const char *v;

	snprintf(pattern, sizeof(pattern), "\"%s\":", p->key);
	v = !err && resp && resp->status == 200 ? strstr(resp->body, pattern) : NULL;
	p->value = v ? strtol(v + strlen(pattern), NULL, 10) : -1;
	if (v && v[strlen(pattern)] == '"') {
		const char *start = v + strlen(pattern) + 1, *end = strchr(start, '"');

		if (end)
			snprintf(p->text, sizeof(p->text), "%.*s", (int)(end - start), start);
	}
	p->done = true;
}

static bool status_settled(void *data)
{
	return ((struct status_probe *)data)->done;
}

long cg_test_daemon_status(struct cg_test_daemon *d, const char *key)
{
	return cg_test_daemon_status_at(d, "/status", key);
}

static struct status_probe status_probe_at(struct cg_test_daemon *d, const char *path,
					   const char *key)
{
	struct status_probe p = { .key = key, .value = -1 };
	struct cg_http_request *req;
	struct cg_http_request_args args = {
		.host = "127.0.0.1",
		.port = d->port,
		.method = "GET",
		.path = path,
		.timeout_ms = 2000,
	};

	if (cg_http_request_start(d->ctx, &args, status_done, &p, &req) < 0)
		return p;
	if (!cg_test_loop_until(d->ctx, status_settled, &p, 3000)) {
		cg_http_request_cancel(req);
		p.value = -1;
		p.text[0] = '\0';
	}
	return p;
}

long cg_test_daemon_status_at(struct cg_test_daemon *d, const char *path, const char *key)
{
	return status_probe_at(d, path, key).value;
}

char *cg_test_daemon_status_text_at(struct cg_test_daemon *d, const char *path, const char *key)
{
	struct status_probe p = status_probe_at(d, path, key);

	return p.text[0] ? g_strdup(p.text) : NULL;
}

struct status_wait {
	struct cg_test_daemon *d;
	const char *key;
	long want;
};

static bool status_is(void *data)
{
	struct status_wait *w = data;

	return cg_test_daemon_status(w->d, w->key) == w->want;
}

bool cg_test_daemon_wait_status(struct cg_test_daemon *d, const char *key, long want, unsigned ms)
{
	struct status_wait w = { d, key, want };

	return cg_test_loop_until(d->ctx, status_is, &w, ms);
}

static pid_t daemon_spawn(const char *exe, uint16_t port, const char *const *extra)
{
	char listen[64];
	/* The test pattern, even on a machine with a camera: tests read its time code. */
	const char *argv[32] = { exe, listen, "--source=test" };
	unsigned n = 3;
	pid_t pid;

	snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%u", port);
	for (; extra && *extra && n < G_N_ELEMENTS(argv) - 1; extra++)
		argv[n++] = *extra;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Its stdout would corrupt a TAP stream: both of its outputs go to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int cg_test_daemon_start(struct cg_test_daemon *d, GMainContext *ctx, const char *exe,
			 const char *const *extra_args)
{
	uint64_t deadline = cg_mono_usec() + 10 * CG_USEC_PER_SEC;

	*d = (struct cg_test_daemon){ .ctx = ctx, .port = free_port() };
	if (d->port == 0)
		return -EIO;
	d->pid = daemon_spawn(exe, d->port, extra_args);
	if (d->pid < 0)
		return -errno;
	while (cg_mono_usec() < deadline) {
		if (cg_test_daemon_status(d, "viewers") >= 0)
			return 0;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			return -EIO;
		}
		cg_test_loop_wait(ctx, 50);
	}
	return -EIO;
}

int cg_test_daemon_stop(struct cg_test_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return -ESRCH;
	kill(d->pid, SIGTERM);
	if (waitpid(d->pid, &status, 0) < 0)
		return -errno;
	d->pid = 0;
	return status;
}

struct cg_whep_client *cg_test_viewer_start(struct cg_test_daemon *d, const struct cg_cert *cert,
					    const struct cg_whep_client_cfg *cfg)
{
	struct cg_whep_client_cfg c = cfg ? *cfg : (struct cg_whep_client_cfg){ 0 };
	struct cg_whep_client *client;

	c.ctx = d->ctx;
	c.cert = cert;
	c.host = "127.0.0.1";
	c.port = d->port;
	if (cg_whep_client_new(&c, &client) < 0)
		return NULL;
	if (cg_whep_client_start(client) < 0)
		return cg_whep_client_free(client);
	return client;
}

struct frames_wait {
	struct cg_whep_client *client;
	uint64_t frames;
};

static bool has_frames(void *data)
{
	struct frames_wait *w = data;
	const struct cg_whep_stats *st = cg_whep_client_stats(w->client);

	return st->frames >= w->frames || st->error;
}

bool cg_test_wait_frames(struct cg_test_daemon *d, struct cg_whep_client *c, uint64_t n,
			 unsigned ms)
{
	struct frames_wait w = { c, cg_whep_client_stats(c)->frames + n };

	return cg_test_loop_until(d->ctx, has_frames, &w, ms) &&
	       cg_whep_client_stats(c)->error == 0;
}

/* ---- the GTest fixture ---- */

const char *cg_test_init(int *argc, char ***argv)
{
	g_test_init(argc, argv, NULL);
	if (*argc < 2) {
		fprintf(stderr, "usage: %s CAMGATE [--tap]\n", (*argv)[0]);
		exit(2);
	}
	return (*argv)[1];
}

void cg_test_fixture_start(struct cg_test_fixture *fx, const char *const *args,
			   const char *const *env)
{
	int r;

	fx->ctx = g_main_context_default();
	g_assert_cmpint(cg_cert_new(&fx->cert), ==, 0);
	/* The daemon inherits the environment when it is spawned: a hook is set for it alone. */
	for (const char *const *e = env; e && *e; e++) {
		g_auto(GStrv) kv = g_strsplit(*e, "=", 2);

		g_assert_nonnull(kv[1]);
		g_setenv(kv[0], kv[1], TRUE);
	}
	r = cg_test_daemon_start(&fx->daemon, fx->ctx, fx->exe, args);
	for (const char *const *e = env; e && *e; e++) {
		g_auto(GStrv) kv = g_strsplit(*e, "=", 2);

		g_unsetenv(kv[0]);
	}
	g_assert_cmpint(r, ==, 0);
}

void cg_test_fixture_stop(struct cg_test_fixture *fx)
{
	int status = cg_test_daemon_stop(&fx->daemon);

	/* Whatever the test did to it, the daemon shuts down cleanly. */
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	fx->cert = cg_cert_free(fx->cert);
}

struct cg_whep_client *cg_test_fixture_viewer(struct cg_test_fixture *fx,
					      const struct cg_whep_client_cfg *cfg)
{
	struct cg_whep_client *c = cg_test_viewer_start(&fx->daemon, fx->cert, cfg);

	g_assert_nonnull(c);
	return c;
}

struct cg_whep_client *cg_test_fixture_viewer_on(struct cg_test_fixture *fx, const char *path)
{
	struct cg_whep_client_cfg cfg = { .path = path };

	return cg_test_fixture_viewer(fx, &cfg);
}

void cg_test_fixture_wait_frames(struct cg_test_fixture *fx, struct cg_whep_client *c, uint64_t n,
				 unsigned ms)
{
	g_assert_true(cg_test_wait_frames(&fx->daemon, c, n, ms));
}

void cg_test_assert_nothing_lost(const char *name, struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);

	g_test_message("%s: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
		       " packets, %" G_GUINT64_FORMAT " lost, %" G_GUINT64_FORMAT " incomplete",
		       name, st->frames, st->packets, st->packets_lost, st->aus_lost);
	g_assert_cmpuint(st->packets_lost, ==, 0);
	g_assert_cmpuint(st->aus_lost, ==, 0);
	g_assert_cmpuint(st->packets_bad, ==, 0);
}
