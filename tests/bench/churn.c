/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Viewer churn against a running daemon: thousands of WHEP viewers join (real ICE, DTLS,
 * SRTP), receive a frame, and leave, some cleanly (DELETE) and some abruptly (they vanish
 * and the daemon must notice through ICE consent or RTCP silence). Afterwards the daemon's
 * open file descriptors and threads must be back at their baseline and its resident memory
 * close to it.
 *
 * usage: churn CAMGATE [--joins=N] [--concurrency=C] [--abrupt-every=K] [--rounds=R] [--check]
 * Run inside a network namespace (tests/integration/run-in-netns.sh). Prints the figures;
 * with --check, exits 1 when they did not return to baseline (the CI test uses a short
 * run; the benchmark runs 2,000 joins). The warm-up is one round of N joins, then R
 * measured rounds of N joins each (default 1).
 */
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "daemon.h"
#include "http_client.h"
#include "util/macros.h"
#include "util/time.h"
#include "whep_client.h"

#define HOST		   "127.0.0.1"
#define CLIENT_DEADLINE_MS 10000
#define DRAIN_DEADLINE_S   120
/* After a warm-up round of the same size, 200 joins grew RSS by 170-270 KiB here; before
 * the heap was trimmed after viewers leave they grew it by about 2 MiB, which this catches. */
#define RSS_TOLERANCE_KIB 1536
#define SETTLE_MS	  5000

struct churn {
	GMainContext *ctx;
	struct cg_cert *cert;
	struct cg_test_daemon daemon;
	unsigned joins, concurrency, abrupt_every, rounds;
	unsigned started, finished, active;
	unsigned failed, clean, abrupt;
	uint64_t join_usec_sum, join_usec_max;
};

struct viewer {
	struct churn *churn;
	struct cg_whep_client *client;
	unsigned index;
	uint64_t started_usec;
	guint deadline;
	bool leaving;
};

struct sample {
	unsigned fds, threads;
	unsigned long rss_kib;
};

static unsigned count_fds(pid_t pid)
{
	char path[64];
	unsigned n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static struct sample sample_daemon(struct churn *c, pid_t pid)
{
	struct sample s;

	/* Let the daemon close the HTTP connection of the last /status probe, and hand the
	 * memory of the last viewers back: it trims the heap within 4 s (signaling.c). */
	cg_test_loop_wait(c->ctx, SETTLE_MS);
	s = (struct sample){ .fds = count_fds(pid) };
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Threads: %u", &s.threads);
		sscanf(line, "VmRSS: %lu", &s.rss_kib);
	}
	if (f)
		fclose(f);
	return s;
}

static void viewer_free(struct viewer *v)
{
	if (v->deadline)
		g_source_remove(v->deadline);
	cg_whep_client_free(v->client);
	v->churn->active--;
	v->churn->finished++;
	g_free(v);
}

/* Clients are freed from an idle callback, never inside their own event callback. */
static gboolean viewer_free_idle(gpointer data)
{
	viewer_free(data);
	return G_SOURCE_REMOVE;
}

static void viewer_done(struct viewer *v)
{
	GSource *src = g_idle_source_new();

	g_source_set_callback(src, viewer_free_idle, v, NULL);
	g_source_attach(src, v->churn->ctx);
	g_source_unref(src);
}

static void viewer_leave(struct viewer *v)
{
	struct churn *c = v->churn;
	uint64_t join = cg_mono_usec() - v->started_usec;

	v->leaving = true;
	c->join_usec_sum += join;
	if (join > c->join_usec_max)
		c->join_usec_max = join;
	/* Abrupt: the viewer simply vanishes, as a closed laptop lid does. */
	if (c->abrupt_every && v->index % c->abrupt_every == 0) {
		c->abrupt++;
		viewer_done(v);
		return;
	}
	c->clean++;
	if (cg_whep_client_delete(v->client) < 0)
		viewer_done(v);
}

static void viewer_on_event(struct cg_whep_client *client, enum cg_whep_event ev, void *data)
{
	struct viewer *v = data;

	if (ev == CG_WHEP_EVENT_FRAME && !v->leaving) {
		viewer_leave(v);
	} else if (ev == CG_WHEP_EVENT_DELETED) {
		viewer_done(v);
	} else if (ev == CG_WHEP_EVENT_FAILED && !v->leaving) {
		const struct cg_whep_stats *st = cg_whep_client_stats(client);

		fprintf(stderr, "viewer %u failed: %s (HTTP %d)\n", v->index,
			st->reason ? st->reason : "?", st->post_status);
		v->churn->failed++;
		v->leaving = true;
		viewer_done(v);
	}
}

static gboolean viewer_on_deadline(gpointer data)
{
	struct viewer *v = data;

	v->deadline = 0;
	if (!v->leaving) {
		fprintf(stderr, "viewer %u: no frame within %d ms\n", v->index, CLIENT_DEADLINE_MS);
		v->churn->failed++;
		v->leaving = true;
		viewer_done(v);
	}
	return G_SOURCE_REMOVE;
}

static void viewer_start(struct churn *c)
{
	struct viewer *v = g_new0(struct viewer, 1);
	struct cg_whep_client_cfg cfg = {
		.ctx = c->ctx,
		.cert = c->cert,
		.host = HOST,
		.port = c->daemon.port,
		.on_event = viewer_on_event,
		.userdata = v,
	};

	v->churn = c;
	v->index = c->started++;
	v->started_usec = cg_mono_usec();
	c->active++;
	if (cg_whep_client_new(&cfg, &v->client) < 0 || cg_whep_client_start(v->client) < 0) {
		c->failed++;
		v->leaving = true;
		viewer_done(v);
		return;
	}
	v->deadline = g_timeout_add(CLIENT_DEADLINE_MS, viewer_on_deadline, v);
}

/* Keeps `concurrency` viewers in flight until `joins` have been started and finished. */
static void churn_run(struct churn *c, unsigned joins)
{
	unsigned target = c->started + joins;

	while (c->finished < target) {
		while (c->started < target && c->active < c->concurrency)
			viewer_start(c);
		g_main_context_iteration(c->ctx, TRUE);
	}
}

/* Waits, without sleeping the loop away, until the daemon has let every viewer go. */
static int churn_wait_drained(struct churn *c)
{
	uint64_t deadline = cg_mono_usec() + DRAIN_DEADLINE_S * CG_USEC_PER_SEC;
	int n;

	while ((n = cg_test_daemon_status(&c->daemon, "viewers")) != 0 && cg_mono_usec() < deadline)
		cg_test_loop_wait(c->ctx, 500);
	return n;
}

static void parse_args(int argc, char **argv, struct churn *c, bool *check)
{
	for (int i = 2; i < argc; i++) {
		if (sscanf(argv[i], "--joins=%u", &c->joins) == 1 ||
		    sscanf(argv[i], "--concurrency=%u", &c->concurrency) == 1 ||
		    sscanf(argv[i], "--abrupt-every=%u", &c->abrupt_every) == 1 ||
		    sscanf(argv[i], "--rounds=%u", &c->rounds) == 1)
			continue;
		if (strcmp(argv[i], "--check") == 0) {
			*check = true;
			continue;
		}
		fprintf(stderr, "churn: unknown argument %s\n", argv[i]);
		exit(2);
	}
	if (c->rounds == 0)
		c->rounds = 1;
}

/* AddressSanitizer keeps freed memory in quarantine: its resident size says nothing. */
static bool daemon_has_asan(pid_t pid)
{
	char path[64], line[512];
	bool asan = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && !asan && fgets(line, sizeof(line), f))
		asan = strstr(line, "libasan") != NULL;
	if (f)
		fclose(f);
	return asan;
}

static int churn_report(const struct churn *c, struct sample before, struct sample after, int left,
			bool check)
{
	long rss_growth = (long)after.rss_kib - (long)before.rss_kib;
	bool rss_counts = !daemon_has_asan(c->daemon.pid);
	bool ok = after.fds == before.fds && after.threads == before.threads &&
		  (!rss_counts || rss_growth < RSS_TOLERANCE_KIB) && left == 0 && c->failed == 0;

	printf("churn: %u joins (%u clean, %u abrupt), %u failed, concurrency %u\n", c->finished,
	       c->clean, c->abrupt, c->failed, c->concurrency);
	printf("churn: join to first frame: mean %.1f ms, max %.1f ms\n",
	       c->clean + c->abrupt ? c->join_usec_sum / 1000.0 / (c->clean + c->abrupt) : 0.0,
	       c->join_usec_max / 1000.0);
	printf("churn:            before    after\n");
	printf("churn: fds        %6u   %6u\n", before.fds, after.fds);
	printf("churn: threads    %6u   %6u\n", before.threads, after.threads);
	printf("churn: RSS (KiB)  %6lu   %6lu   (%+ld)%s\n", before.rss_kib, after.rss_kib,
	       rss_growth, rss_counts ? "" : "  (AddressSanitizer build: not judged)");
	printf("churn: viewers left: %d\n", left);
	printf("churn: %s\n", ok ? "back to baseline" : "NOT back to baseline");
	return check && !ok ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct churn c = { .joins = 2000, .concurrency = 20, .abrupt_every = 4, .rounds = 1 };
	static const char *const daemon_args[] = { "--size=320x240",   "--fps=15",
						   "--bitrate=200",    "--max-viewers=1000",
						   "--log-level=warn", NULL };
	struct sample before, after;
	bool check = false;
	int status, left = 0, r;

	if (argc < 2) {
		fprintf(stderr, "usage: churn CAMGATE [--joins=N] [--concurrency=C] "
				"[--abrupt-every=K] [--rounds=R] [--check]\n");
		return 2;
	}
	parse_args(argc, argv, &c, &check);
	signal(SIGPIPE, SIG_IGN);
	c.ctx = g_main_context_default();
	if (cg_cert_new(&c.cert) < 0)
		return 1;
	if (cg_test_daemon_start(&c.daemon, c.ctx, argv[1], daemon_args) < 0) {
		fprintf(stderr, "churn: camgate did not start\n");
		return 1;
	}
	/*
	 * Warm up with a round like the measured one: lazily initialised state (libnice,
	 * GnuTLS) and the allocator's high-water mark (freed heap stays resident) are then
	 * part of the baseline, and what remains is growth per join: a leak.
	 */
	churn_run(&c, c.joins);
	churn_wait_drained(&c);
	before = sample_daemon(&c, c.daemon.pid);
	c.failed = c.clean = c.abrupt = c.finished = c.started = 0;
	c.join_usec_sum = c.join_usec_max = 0;
	/* More rounds tell a leak (growing by each round alike) from the allocator settling. */
	for (unsigned round = 1; round <= c.rounds; round++) {
		churn_run(&c, c.joins);
		left = churn_wait_drained(&c);
		after = sample_daemon(&c, c.daemon.pid);
		if (c.rounds > 1)
			printf("churn: round %u: RSS %lu KiB (%+ld)\n", round, after.rss_kib,
			       (long)after.rss_kib - (long)before.rss_kib);
	}
	r = churn_report(&c, before, after, left, check);
	status = cg_test_daemon_stop(&c.daemon);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "churn: camgate did not exit cleanly (status %d)\n", status);
		r = 1;
	}
	cg_cert_free(c.cert);
	return r;
}
