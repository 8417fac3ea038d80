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

/* The string value of "key" in the JSON at path (g_free it), or NULL on any failure. */
char *cg_test_daemon_status_text_at(struct cg_test_daemon *d, const char *path, const char *key);

/* Runs d's context until /status's "key" is want, or ms elapse; returns whether it is. */
bool cg_test_daemon_wait_status(struct cg_test_daemon *d, const char *key, long want, unsigned ms);

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

/*
 * ---- A GTest fixture ----
 *
 * One daemon on the default main context, and a certificate for its viewers: what the
 * whole-daemon tests (tests/integration) start, watch and stop in every test case. Unlike the
 * functions above, these assert (g_assert*) instead of returning errors: for GTest programs
 * only, on the thread that runs the default main context.
 */
struct cg_test_fixture {
	const char *exe;      /* camgate's path, borrowed (cg_test_init) */
	GMainContext *ctx;    /* the default context, while started */
	struct cg_cert *cert; /* the viewers' certificate, owned, while started */
	struct cg_test_daemon daemon;
};

/*
 * g_test_init() for a program run as "PROGRAM [GTest options] CAMGATE" (run-in-netns.sh
 * passes --tap). Returns CAMGATE (argv's, borrowed); prints the usage and exits 2 without
 * it.
 */
const char *cg_test_init(int *argc, char ***argv);

/*
 * Starts fx->exe with args (NULL-terminated, see cg_test_daemon_start) and makes the
 * certificate. env (may be NULL) is a NULL-terminated list of "NAME=VALUE" set for this
 * daemon alone: the process environment has them only while it is spawned (test hooks such
 * as CAMGATE_TEST_ENCODER_FAILURE). Asserts that the daemon came up.
 */
void cg_test_fixture_start(struct cg_test_fixture *fx, const char *const *args,
			   const char *const *env);

/* Stops the daemon, asserts that it exited with status 0, and frees the certificate. */
void cg_test_fixture_stop(struct cg_test_fixture *fx);

/* A started viewer of fx's daemon (cg_test_viewer_start; cfg may be NULL), owned by the
 * caller (cg_whep_client_free). Asserts that it started. */
struct cg_whep_client *cg_test_fixture_viewer(struct cg_test_fixture *fx,
					      const struct cg_whep_client_cfg *cfg);

/* The same, with default options, on the WHEP endpoint path (e.g. "/cam/back/whep"). */
struct cg_whep_client *cg_test_fixture_viewer_on(struct cg_test_fixture *fx, const char *path);

/* Asserts that c gets n more complete frames within ms, without an error
 * (cg_test_wait_frames). */
void cg_test_fixture_wait_frames(struct cg_test_fixture *fx, struct cg_whep_client *c, uint64_t n,
				 unsigned ms);

/*
 * Asserts that c lost nothing so far: no sequence gap, no incomplete frame, no bad packet.
 * Logs name and c's counts (g_test_message) first, so a failure shows them.
 */
void cg_test_assert_nothing_lost(const char *name, struct cg_whep_client *c);
