/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Load client: N concurrent WHEP viewers (tests/harness/whep_client) doing real ICE, DTLS
 * and SRTP against a running camgate, spread over a few threads with one GMainContext
 * each. It verifies that every frame after a viewer's first is complete, and reports
 * frames, losses and join time per viewer. With --pid it also measures the daemon itself
 * over the steady state: CPU seconds (utime + stime from /proc/PID/stat) per viewer-minute
 * and resident memory (VmRSS) per viewer.
 *
 * usage: load --port P [--host 127.0.0.1] [--viewers N] [--threads T] [--ramp PER_S]
 *             [--duration S] [--settle S] [--pid PID] [--full] [--drop PERMILLE]
 *             [--delay MS] [--nack] [--remb BPS] [--check] [--check-complete] [--per-viewer] [--fps
 * N]
 *             [--idle S]   (with --pid: measure the daemon's idle CPU for S s first)
 *             [--paths /cam/a/whep,/cam/b/whep]   (viewers spread over these endpoints)
 *
 * By default viewers verify "light" (tests/harness/whep_client.h): exact completeness
 * from sequence numbers, SRTP authentication of each AU's first packet and every 16th
 * packet. --full decrypts and reassembles everything (costs the client far more CPU).
 * Output: "key=value" lines (and one line per viewer with --per-viewer), so scripts can
 * read them. Exit status: 0, 1 when --check fails, 2 on usage or setup errors.
 * --check: every viewer joined and got 90 % of the frames, each complete; --check-complete:
 * the same without the rate (for tests on a shared machine; the rate stays a printed figure).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "crypto/cert.h"
#include "crypto/srtp.h"
#include "util/macros.h"
#include "util/time.h"
#include "whep_client.h"

#define LOAD_MAX_THREADS     8
#define LOAD_JOIN_DEADLINE_S 20

struct load_opts {
	const char *host;
	unsigned port, viewers, threads, ramp, duration_s, settle_s, fps, idle_s;
	int pid;
	bool full, nack, check, per_viewer;
	bool complete_only; /* --check-complete: no rate in the check (a busy machine) */
	unsigned drop_permille, delay_ms;
	uint64_t remb_bps;
	/* --paths=P1,P2,...: viewer i watches paths[i % n_paths] (one camera each); none:
	 * /whep, the first camera. */
	char **paths;
	unsigned n_paths;
};

struct viewer {
	struct cg_whep_client *c;
	unsigned index;
	struct cg_whep_stats at_mark; /* stats when the steady state began */
	struct cg_whep_stats at_end;
	bool failed;
};

struct load_thread {
	unsigned index;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	struct viewer *viewers; /* this thread's share */
	unsigned n, started;
	GSource *ramp_timer;
};

struct daemon_sample;

struct load {
	struct load_opts o;
	struct cg_cert *cert;
	struct load_thread threads[LOAD_MAX_THREADS];
	int first_frames;	 /* atomic: viewers with a first frame */
	int failures;		 /* atomic */
	double idle_cpu_percent; /* the daemon before any viewer; < 0 when not measured */
	/* This process over the same window: a daemon starved by its own load client shows
	 * as the client's CPU beside the daemon's. */
	struct daemon_sample *client_mark, *client_end;
};

static struct load L;

static void on_event(struct cg_whep_client *c, enum cg_whep_event ev, void *userdata)
{
	struct viewer *v = userdata;

	if (ev == CG_WHEP_EVENT_FRAME && cg_whep_client_stats(c)->frames == 1)
		g_atomic_int_inc(&L.first_frames);
	if (ev == CG_WHEP_EVENT_FAILED && !v->failed) {
		v->failed = true;
		g_atomic_int_inc(&L.failures);
		fprintf(stderr, "load: viewer %u failed: %s (POST %d %s)\n", v->index,
			cg_whep_client_stats(c)->reason, cg_whep_client_stats(c)->post_status,
			cg_whep_client_stats(c)->post_reason);
	}
}

static int viewer_start(struct load_thread *t, struct viewer *v)
{
	struct cg_whep_client_cfg cfg = {
		.ctx = t->ctx,
		.cert = L.cert,
		.host = L.o.host,
		.port = (uint16_t)L.o.port,
		.path = L.o.n_paths ? L.o.paths[v->index % L.o.n_paths] : NULL,
		.on_event = on_event,
		.userdata = v,
		.light = !L.o.full,
		.drop_permille = L.o.drop_permille,
		.delay_ms = L.o.delay_ms,
		.seed = 0x1234567u + v->index * 7919u,
		.nack = L.o.nack,
		.remb_bps = L.o.remb_bps,
		.http_timeout_ms = 15000,
	};
	int r = cg_whep_client_new(&cfg, &v->c);

	if (r >= 0)
		r = cg_whep_client_start(v->c);
	return r;
}

/* Starts this thread's next viewer; the ramp spreads joins over time like real viewers. */
static gboolean on_ramp(gpointer userdata)
{
	struct load_thread *t = userdata;
	struct viewer *v;
	int r;

	if (t->started == t->n) {
		t->ramp_timer = NULL;
		return G_SOURCE_REMOVE;
	}
	v = &t->viewers[t->started++];
	r = viewer_start(t, v);
	if (r < 0) {
		fprintf(stderr, "load: cannot start viewer %u: %s\n", v->index, strerror(-r));
		v->failed = true;
		g_atomic_int_inc(&L.failures);
	}
	return G_SOURCE_CONTINUE;
}

static gpointer thread_main(gpointer userdata)
{
	struct load_thread *t = userdata;
	unsigned per_thread_rate = CG_MAX(1u, L.o.ramp / L.o.threads);

	g_main_context_push_thread_default(t->ctx);
	t->ramp_timer = g_timeout_source_new(CG_MAX(1u, 1000 / per_thread_rate));
	g_source_set_callback(t->ramp_timer, on_ramp, t, NULL);
	g_source_attach(t->ramp_timer, t->ctx);
	/* The context holds the source now; the pointer stays valid until on_ramp removes
	 * it (and clears the pointer) or we destroy it below. */
	g_source_unref(t->ramp_timer);
	g_main_loop_run(t->loop);
	if (t->ramp_timer)
		g_source_destroy(t->ramp_timer);
	for (unsigned i = 0; i < t->n; i++)
		t->viewers[i].c = cg_whep_client_free(t->viewers[i].c);
	g_main_context_pop_thread_default(t->ctx);
	return NULL;
}

/* Copies every viewer's stats into the marked slot, on the viewer's own thread. */
struct snapshot {
	struct load_thread *t;
	bool end;
	GMutex lock;
	GCond cond;
	bool done;
};

static gboolean snapshot_on_thread(gpointer userdata)
{
	struct snapshot *s = userdata;

	for (unsigned i = 0; i < s->t->n; i++) {
		struct viewer *v = &s->t->viewers[i];
		struct cg_whep_stats *dst = s->end ? &v->at_end : &v->at_mark;

		if (v->c)
			*dst = *cg_whep_client_stats(v->c);
	}
	if (s->end)
		g_main_loop_quit(s->t->loop);
	g_mutex_lock(&s->lock);
	s->done = true;
	g_cond_signal(&s->cond);
	g_mutex_unlock(&s->lock);
	return G_SOURCE_REMOVE;
}

/* Blocking invoke from the coordinating thread into each load thread (never the reverse). */
static void snapshot_all(bool end)
{
	for (unsigned i = 0; i < L.o.threads; i++) {
		struct snapshot s = { .t = &L.threads[i], .end = end };

		g_mutex_init(&s.lock);
		g_cond_init(&s.cond);
		g_main_context_invoke(s.t->ctx, snapshot_on_thread, &s);
		g_mutex_lock(&s.lock);
		while (!s.done)
			g_cond_wait(&s.cond, &s.lock);
		g_mutex_unlock(&s.lock);
		g_mutex_clear(&s.lock);
		g_cond_clear(&s.cond);
	}
}

/* ---- The daemon's own CPU and memory (from /proc) --------------------------------------- */

struct daemon_sample {
	bool ok;
	uint64_t cpu_ticks; /* utime + stime */
	uint64_t rss_kib;
	uint64_t mono_usec;
};

static void daemon_sample(int pid, struct daemon_sample *ret)
{
	char path[64], buf[4096], *p;
	unsigned long utime, stime;
	FILE *f;
	size_t n;

	*ret = (struct daemon_sample){ .mono_usec = cg_mono_usec() };
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* proc(5): fields 14 and 15 after the ")" that ends the command name. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return;
	ret->cpu_ticks = utime + stime;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "VmRSS: %" SCNu64, &ret->rss_kib) == 1)
			ret->ok = true;
	fclose(f);
}

/* ---- Report ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, unsigned n, unsigned p)
{
	unsigned i =
		n ? (unsigned)CG_MIN((uint64_t)n - 1, ((uint64_t)n * p + 99) / 100 - (p > 0)) : 0;

	return n ? sorted[i] : -1;
}

struct totals {
	unsigned joined, n_join;
	uint64_t frames, aus_lost, aus_lost_all, packets, lost, bad, dropped, nacks, rtx,
		rtx_recovered, twcc;
	uint64_t min_frames;
	double *join_ms;
};

static void viewer_line(const struct viewer *v)
{
	const struct cg_whep_stats *e = &v->at_end;

	printf("viewer=%u join_ms=%.1f frames=%" PRIu64 " window_frames=%" PRIu64
	       " aus_lost=%" PRIu64 " packets=%" PRIu64 " lost=%" PRIu64 " bad=%" PRIu64
	       " dropped=%" PRIu64 " nacks=%" PRIu64 " rtx=%" PRIu64 " failed=%d\n",
	       v->index, e->t_first_frame / 1000.0, e->frames, e->frames - v->at_mark.frames,
	       e->aus_lost, e->packets, e->packets_lost, e->packets_bad, e->dropped, e->nacks_sent,
	       e->rtx_received, v->failed);
}

static void totals_add(struct totals *t, const struct viewer *v)
{
	const struct cg_whep_stats *e = &v->at_end, *m = &v->at_mark;
	uint64_t window = e->frames - m->frames;

	if (e->t_first_frame) {
		t->joined++;
		t->join_ms[t->n_join++] = e->t_first_frame / 1000.0;
	}
	t->frames += window;
	t->min_frames = t->min_frames ? CG_MIN(t->min_frames, window) : window;
	t->aus_lost += e->aus_lost - m->aus_lost;
	t->aus_lost_all += e->aus_lost;
	t->packets += e->packets - m->packets;
	t->lost += e->packets_lost;
	t->bad += e->packets_bad;
	t->dropped += e->dropped;
	t->nacks += e->nacks_sent;
	t->rtx += e->rtx_received;
	t->rtx_recovered += e->rtx_recovered;
	t->twcc += e->twcc_packets;
}

static void report_daemon(const struct daemon_sample *b, const struct daemon_sample *m,
			  const struct daemon_sample *e)
{
	double secs = (e->mono_usec - m->mono_usec) / 1e6;
	double cpu = (double)(e->cpu_ticks - m->cpu_ticks) / (double)sysconf(_SC_CLK_TCK);

	if (!b->ok || !m->ok || !e->ok)
		return;
	printf("daemon_cpu_s=%.2f\ndaemon_cpu_percent=%.1f\n", cpu, 100.0 * cpu / secs);
	printf("daemon_cpu_s_per_viewer_minute=%.3f\n", cpu / (L.o.viewers * secs / 60.0));
	/* What one more viewer costs: the daemon's CPU over its idle CPU (encoder, timers). */
	if (L.idle_cpu_percent >= 0) {
		double extra = cpu - L.idle_cpu_percent / 100.0 * secs;

		printf("daemon_idle_cpu_percent=%.1f\n", L.idle_cpu_percent);
		printf("daemon_cpu_s_per_viewer_minute_marginal=%.3f\n",
		       extra / (L.o.viewers * secs / 60.0));
	}
	if (L.client_mark->ok && L.client_end->ok) {
		double client = (double)(L.client_end->cpu_ticks - L.client_mark->cpu_ticks) /
				(double)sysconf(_SC_CLK_TCK);

		printf("client_cpu_percent=%.1f\nclient_cpu_s_per_viewer_minute=%.3f\n",
		       100.0 * client / secs, client / (L.o.viewers * secs / 60.0));
	}
	printf("daemon_rss_kib_idle=%" PRIu64 "\ndaemon_rss_kib=%" PRIu64 "\n", b->rss_kib,
	       m->rss_kib);
	printf("daemon_rss_kib_per_viewer=%.1f\n",
	       ((double)m->rss_kib - (double)b->rss_kib) / L.o.viewers);
}

static bool report_check(const struct totals *t, bool joined)
{
	uint64_t want = (uint64_t)L.o.fps * L.o.duration_s * 9 / 10;
	bool impaired = L.o.drop_permille || L.o.delay_ms;
	bool ok = joined && t->joined == L.o.viewers;

	/* --check-complete: every viewer got frames, every one complete and authentic; how
	 * many per second is a figure (fps_per_viewer), not a pass/fail on a shared machine. */
	if (L.o.complete_only)
		want = 1;
	if (!impaired)
		ok = ok && t->min_frames >= want && t->aus_lost_all == 0 && t->bad == 0;
	else
		ok = ok && t->min_frames >= want / 2 && (!L.o.nack || t->rtx_recovered > 0);
	printf("check=%s\n", ok ? "pass" : "FAIL");
	return ok;
}

static int report(bool joined, const struct daemon_sample *b, const struct daemon_sample *m,
		  const struct daemon_sample *e)
{
	double secs = (e->mono_usec - m->mono_usec) / 1e6;
	struct totals t = { .join_ms = g_new0(double, L.o.viewers) };
	struct viewer *all = L.threads[0].viewers;
	bool ok;

	for (unsigned i = 0; i < L.o.viewers; i++) {
		if (L.o.per_viewer)
			viewer_line(&all[i]);
		totals_add(&t, &all[i]);
	}
	qsort(t.join_ms, t.n_join, sizeof(double), cmp_double);
	printf("viewers=%u\njoined=%u\nfailed=%d\nwindow_s=%.1f\n", L.o.viewers, t.joined,
	       g_atomic_int_get(&L.failures), secs);
	printf("join_ms_p50=%.1f\njoin_ms_p95=%.1f\njoin_ms_max=%.1f\n",
	       pct(t.join_ms, t.n_join, 50), pct(t.join_ms, t.n_join, 95),
	       pct(t.join_ms, t.n_join, 100));
	printf("fps_per_viewer=%.1f\nmin_window_frames=%" PRIu64 "\n",
	       t.frames / secs / L.o.viewers, t.min_frames);
	printf("aus_lost_window=%" PRIu64 "\naus_lost_total=%" PRIu64 "\n", t.aus_lost,
	       t.aus_lost_all);
	printf("packets_per_s=%.0f\npackets_lost=%" PRIu64 "\npackets_bad=%" PRIu64 "\n",
	       t.packets / secs, t.lost, t.bad);
	printf("dropped=%" PRIu64 "\nnacks_sent=%" PRIu64 "\nrtx_received=%" PRIu64
	       "\nrtx_recovered=%" PRIu64 "\ntwcc_packets=%" PRIu64 "\n",
	       t.dropped, t.nacks, t.rtx, t.rtx_recovered, t.twcc);
	report_daemon(b, m, e);
	ok = report_check(&t, joined);
	g_free(t.join_ms);
	g_free(all);
	return L.o.check && !ok ? 1 : 0;
}

static int parse_opts(int argc, char **argv, struct load_opts *o)
{
	*o = (struct load_opts){ .host = "127.0.0.1",
				 .viewers = 10,
				 .threads = 2,
				 .ramp = 50,
				 .duration_s = 10,
				 .settle_s = 2,
				 .fps = 30 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = strchr(a, '=');
		unsigned long n = v ? strtoul(v + 1, NULL, 10) : 0;

#define OPT(name) (strncmp(a, name "=", strlen(name) + 1) == 0)
		if (OPT("--host"))
			o->host = v + 1;
		else if (OPT("--port"))
			o->port = (unsigned)n;
		else if (OPT("--viewers"))
			o->viewers = (unsigned)n;
		else if (OPT("--threads"))
			o->threads = (unsigned)CG_MIN(CG_MAX(n, 1ul), LOAD_MAX_THREADS);
		else if (OPT("--ramp"))
			o->ramp = (unsigned)CG_MAX(n, 1ul);
		else if (OPT("--duration"))
			o->duration_s = (unsigned)n;
		else if (OPT("--settle"))
			o->settle_s = (unsigned)n;
		else if (OPT("--idle"))
			o->idle_s = (unsigned)n;
		else if (OPT("--fps"))
			o->fps = (unsigned)CG_MAX(n, 1ul);
		else if (OPT("--pid"))
			o->pid = (int)n;
		else if (OPT("--drop"))
			o->drop_permille = (unsigned)n;
		else if (OPT("--delay"))
			o->delay_ms = (unsigned)n;
		else if (OPT("--remb"))
			o->remb_bps = n;
		else if (OPT("--paths")) {
			g_strfreev(o->paths);
			o->paths = g_strsplit(v + 1, ",", 0);
			o->n_paths = g_strv_length(o->paths);
		} else if (strcmp(a, "--full") == 0)
			o->full = true;
		else if (strcmp(a, "--nack") == 0)
			o->nack = true;
		else if (strcmp(a, "--check") == 0)
			o->check = true;
		else if (strcmp(a, "--check-complete") == 0)
			o->check = o->complete_only = true;
		else if (strcmp(a, "--per-viewer") == 0)
			o->per_viewer = true;
		else
			return -EINVAL;
#undef OPT
	}
	if (!o->port || !o->viewers)
		return -EINVAL;
	o->threads = CG_MIN(o->threads, o->viewers);
	return 0;
}

static void threads_start(void)
{
	struct viewer *all = g_new0(struct viewer, L.o.viewers);
	unsigned next = 0;

	for (unsigned i = 0; i < L.o.viewers; i++)
		all[i].index = i;
	for (unsigned i = 0; i < L.o.threads; i++) {
		struct load_thread *t = &L.threads[i];
		unsigned share = L.o.viewers / L.o.threads + (i < L.o.viewers % L.o.threads);

		t->index = i;
		t->viewers = all + next;
		t->n = share;
		next += share;
		t->ctx = g_main_context_new();
		t->loop = g_main_loop_new(t->ctx, FALSE);
		t->thread = g_thread_new("load", thread_main, t);
	}
}

static void threads_stop(void)
{
	for (unsigned i = 0; i < L.o.threads; i++) {
		struct load_thread *t = &L.threads[i];

		g_thread_join(t->thread);
		g_main_loop_unref(t->loop);
		g_main_context_unref(t->ctx);
	}
}

/* Waits on a timer source of the default context: no sleeping. */
static gboolean on_wait_tick(gpointer userdata)
{
	g_main_loop_quit(userdata);
	return G_SOURCE_REMOVE;
}

static void wait_ms(unsigned ms)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	g_timeout_add(ms, on_wait_tick, loop);
	g_main_loop_run(loop);
	g_main_loop_unref(loop);
}

/* Waits until every viewer has a first frame or failed, at most LOAD_JOIN_DEADLINE_S after
 * the ramp should have ended. Returns true when all joined. */
static bool wait_joined(void)
{
	uint64_t deadline = cg_mono_usec() + ((uint64_t)L.o.viewers * 1000 / L.o.ramp +
					      LOAD_JOIN_DEADLINE_S * 1000) *
						     CG_USEC_PER_MSEC;

	while (cg_mono_usec() < deadline) {
		unsigned done = (unsigned)(g_atomic_int_get(&L.first_frames) +
					   g_atomic_int_get(&L.failures));

		if (done >= L.o.viewers)
			return g_atomic_int_get(&L.failures) == 0;
		wait_ms(50);
	}
	return false;
}

int main(int argc, char **argv)
{
	struct daemon_sample before_join = { 0 }, mark = { 0 }, end = { 0 };
	struct daemon_sample client_mark = { 0 }, client_end = { 0 };
	bool joined;
	int r;

	if (parse_opts(argc, argv, &L.o) < 0) {
		fprintf(stderr,
			"usage: %s --port=P [--host=H] [--viewers=N] [--threads=T] "
			"[--ramp=PER_S] [--duration=S] [--settle=S] [--pid=PID] [--full] "
			"[--drop=PERMILLE] [--delay=MS] [--nack] [--remb=BPS] [--check] "
			"[--check-complete] "
			"[--per-viewer] [--fps=N] [--idle=S] [--paths=P1,P2,...]\n",
			argv[0]);
		return 2;
	}
	r = cg_srtp_global_init();
	if (r >= 0)
		r = cg_cert_new(&L.cert);
	if (r < 0) {
		fprintf(stderr, "load: setup failed: %s\n", strerror(-r));
		return 2;
	}
	daemon_sample(L.o.pid, &before_join);
	L.idle_cpu_percent = -1;
	if (L.o.pid > 0 && L.o.idle_s > 0) {
		struct daemon_sample idle_end;

		wait_ms(L.o.idle_s * 1000);
		daemon_sample(L.o.pid, &idle_end);
		if (before_join.ok && idle_end.ok)
			L.idle_cpu_percent = 100.0 *
					     (double)(idle_end.cpu_ticks - before_join.cpu_ticks) /
					     (double)sysconf(_SC_CLK_TCK) /
					     ((idle_end.mono_usec - before_join.mono_usec) / 1e6);
		before_join = idle_end;
	}
	threads_start();
	joined = wait_joined();
	wait_ms(L.o.settle_s * 1000);
	daemon_sample(L.o.pid, &mark);
	daemon_sample(getpid(), &client_mark);
	snapshot_all(false);
	wait_ms(L.o.duration_s * 1000);
	daemon_sample(L.o.pid, &end);
	daemon_sample(getpid(), &client_end);
	L.client_mark = &client_mark;
	L.client_end = &client_end;
	snapshot_all(true);
	threads_stop();
	r = report(joined, &before_join, &mark, &end);
	L.cert = cg_cert_free(L.cert);
	return r;
}
