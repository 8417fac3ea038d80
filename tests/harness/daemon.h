/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A camgate process for tests and benchmarks: started on a free loopback port inside the
 * caller's network namespace, killed with the caller (PR_SET_PDEATHSIG), and asked for
 * /status through the harness HTTP client. Everything runs on the given GMainContext;
 * single thread.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cg_test_daemon {
	GMainContext *ctx;
	pid_t pid;
	uint16_t port;
};

/* Starts exe with --listen=127.0.0.1:<free port> and extra_args (NULL-terminated), and waits
 * up to 10 s until it answers /status. Returns 0, or -EIO when it did not come up. */
int cg_test_daemon_start(struct cg_test_daemon *d, GMainContext *ctx, const char *exe,
			 const char *const *extra_args);

/* Sends SIGTERM and waits; returns the exit status as waitpid reports it, or -errno. */
int cg_test_daemon_stop(struct cg_test_daemon *d);

/* GET /status and return the integer value of "key", or -1 on any failure. */
long cg_test_daemon_status(struct cg_test_daemon *d, const char *key);

/* The same for the JSON at path (e.g. "/cam/back/status"). */
long cg_test_daemon_status_at(struct cg_test_daemon *d, const char *path, const char *key);

struct cg_cert;
struct cg_whep_client;
struct cg_whep_client_cfg;

/*
 * A C WHEP viewer of d, started: cfg (may be NULL) gives its options; the context, cert,
 * host and port are d's and cert. Returns NULL when it cannot start. Owned by the caller.
 */
struct cg_whep_client *cg_test_viewer_start(struct cg_test_daemon *d, const struct cg_cert *cert,
					    const struct cg_whep_client_cfg *cfg);

/* Runs d's context until c has n more complete frames than now, or failed, or ms elapse.
 * Returns true when the frames arrived and c has no error. */
bool cg_test_wait_frames(struct cg_test_daemon *d, struct cg_whep_client *c, uint64_t n,
			 unsigned ms);

/* Runs the context for ms milliseconds (events keep being dispatched). */
void cg_test_loop_wait(GMainContext *ctx, unsigned ms);

/* Runs the context until done(data) is true or ms elapse; returns done(data). */
bool cg_test_loop_until(GMainContext *ctx, bool (*done)(void *data), void *data, unsigned ms);
