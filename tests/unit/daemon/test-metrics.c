/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * /metrics with several cameras (issue 13): daemon/signaling/metrics.c renders two cameras
 * (one named with a quote, a backslash and a newline to be escaped) and the daemon's own
 * counters. The text is split into families here to check that each family's samples follow
 * its one HELP and TYPE, that every camera series carries each camera once per sample set and
 * that the daemon-wide series appear once, unlabelled; then tests/integration/promparse.py,
 * the strict parser the appliance test uses, parses it and checks values through its
 * selectors, and must refuse texts that break the format.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/stats.h"
#include "signaling/metrics.h"

#define ODD_NAME  "yard\"\\\n"
#define ODD_LABEL "camera=\"yard\\\"\\\\\\n\"" /* camera="yard\"\\\n" */

/* Every family /metrics had before issue 13: scrapers depend on these names. */
static const char *const kept_families[] = {
	"camgate_info",
	"camgate_frames_captured_total",
	"camgate_frames_encoded_total",
	"camgate_frames_dropped_total",
	"camgate_keyframes_total",
	"camgate_keyframe_requests_total",
	"camgate_copied_bytes_total",
	"camgate_rtp_packets_sent_total",
	"camgate_rtp_bytes_sent_total",
	"camgate_nacks_received_total",
	"camgate_retransmissions_total",
	"camgate_plis_received_total",
	"camgate_firs_received_total",
	"camgate_dtls_failures_total",
	"camgate_ice_failures_total",
	"camgate_rtcp_malformed_total",
	"camgate_sessions_created_total",
	"camgate_sessions_refused_total",
	"camgate_http_requests_total",
	"camgate_auth_failures_total",
	"camgate_snapshots_total",
	"camgate_audio_packets_total",
	"camgate_talkback_packets_total",
	"camgate_talkback_refused_total",
	"camgate_viewers",
	"camgate_max_viewers",
	"camgate_bitrate_bits_per_second",
	"camgate_bitrate_target_bits_per_second",
	"camgate_start_time_seconds",
	"camgate_media_heartbeat_age_seconds",
	"camgate_encode_latency_seconds",
	"camgate_capture_to_send_latency_seconds",
	"camgate_stage_latency_seconds", /* issue 18 */
};

/* The families with one unlabelled sample; every other family has a sample set per camera. */
static const char *const daemon_families[] = {
	"camgate_sessions_created_total",
	"camgate_sessions_refused_total",
	"camgate_http_requests_total",
	"camgate_auth_failures_total",
	"camgate_snapshots_total",
	"camgate_viewers",
	"camgate_max_viewers",
	"camgate_cameras",
	"camgate_start_time_seconds",
};

struct family {
	char *name;
	bool histogram;	    /* samples are NAME_bucket, NAME_sum and NAME_count */
	GPtrArray *samples; /* the sample lines, borrowed from the split text */
};

static void family_free(gpointer p)
{
	struct family *f = p;

	g_free(f->name);
	g_ptr_array_unref(f->samples);
	g_free(f);
}

/*
 * Splits text into families, asserting the grouping: "# HELP X" then "# TYPE X" once per
 * name, then only samples named X until the next HELP.
 */
static GPtrArray *split_families(char **lines)
{
	GPtrArray *families = g_ptr_array_new_with_free_func(family_free);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	struct family *cur = NULL;

	for (char **l = lines; *l; l++) {
		if (!**l)
			continue;
		if (g_str_has_prefix(*l, "# HELP ")) {
			cur = g_new0(struct family, 1);
			cur->name = g_strndup(*l + 7, strcspn(*l + 7, " "));
			cur->samples = g_ptr_array_new();
			g_assert_true(g_hash_table_add(seen, cur->name));
			g_ptr_array_add(families, cur);
			g_assert_nonnull(l[1]);
			g_assert_true(g_str_has_prefix(l[1], "# TYPE "));
			g_assert_cmpuint(strcspn(l[1] + 7, " "), ==, strlen(cur->name));
			g_assert_true(g_str_has_prefix(l[1] + 7, cur->name));
			cur->histogram = g_str_has_suffix(l[1], " histogram");
			l++;
			continue;
		}
		g_assert_nonnull(cur);
		g_assert_true(g_str_has_prefix(*l, cur->name));
		if (cur->histogram) {
			const char *suffix = *l + strlen(cur->name);
			size_t n = strcspn(suffix, "{ ");

			g_assert_true((n == 7 && g_str_has_prefix(suffix, "_bucket")) ||
				      (n == 4 && g_str_has_prefix(suffix, "_sum")) ||
				      (n == 6 && g_str_has_prefix(suffix, "_count")));
		} else {
			g_assert_cmpuint(strcspn(*l, "{ "), ==, strlen(cur->name));
		}
		g_ptr_array_add(cur->samples, *l);
	}
	g_hash_table_unref(seen);
	return families;
}

static struct family *find_family(GPtrArray *families, const char *name)
{
	for (guint i = 0; i < families->len; i++) {
		struct family *f = g_ptr_array_index(families, i);

		if (!strcmp(f->name, name))
			return f;
	}
	return NULL;
}

static bool is_daemon_family(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(daemon_families); i++)
		if (!strcmp(daemon_families[i], name))
			return true;
	return false;
}

/* A camera family holds its cameras' sample sets in order: n samples each, label first. */
static void check_camera_family(const struct family *f, const char *const *labels,
				unsigned n_cameras)
{
	guint per_camera;

	g_assert_cmpuint(f->samples->len % (n_cameras ? n_cameras : 1), ==, 0);
	if (!n_cameras) {
		g_assert_cmpuint(f->samples->len, ==, 0);
		return;
	}
	per_camera = f->samples->len / n_cameras;
	g_assert_cmpuint(per_camera, >=, 1);
	for (guint i = 0; i < f->samples->len; i++) {
		const char *s = g_ptr_array_index(f->samples, i);
		const char *label = labels[i / per_camera];

		const char *labels_at = s + strcspn(s, "{ ");

		g_assert_cmpint(*labels_at, ==, '{');
		if (!g_str_has_prefix(labels_at + 1, label))
			g_error("%s: sample %u is not camera %s's: %s", f->name, i, label, s);
	}
}

static void check_families(const char *text, const char *const *labels, unsigned n_cameras)
{
	char **lines = g_strsplit(text, "\n", -1);
	GPtrArray *families = split_families(lines);

	for (size_t i = 0; i < G_N_ELEMENTS(kept_families); i++)
		if (!find_family(families, kept_families[i]))
			g_error("%s is gone", kept_families[i]);
	g_assert_nonnull(find_family(families, "camgate_camera_viewers"));
	g_assert_nonnull(find_family(families, "camgate_cameras"));
	g_assert_cmpuint(families->len, ==, G_N_ELEMENTS(kept_families) + 2);
	for (guint i = 0; i < families->len; i++) {
		struct family *f = g_ptr_array_index(families, i);

		if (is_daemon_family(f->name)) {
			g_assert_cmpuint(f->samples->len, ==, 1);
			g_assert_cmpint(((char *)f->samples->pdata[0])[strlen(f->name)], ==, ' ');
		} else {
			check_camera_family(f, labels, n_cameras);
		}
	}
	g_assert_cmpuint(find_family(families, "camgate_encode_latency_seconds")->samples->len, ==,
			 3 * n_cameras);
	/* 5 stages × (8 bounds + Inf, _sum, _count) per camera. */
	g_assert_cmpuint(find_family(families, "camgate_stage_latency_seconds")->samples->len, ==,
			 5 * 11 * n_cameras);
	g_ptr_array_unref(families);
	g_strfreev(lines);
}

/*
 * Runs promparse.py on text with the selectors; returns its exit status, or -1 (the test
 * skipped) without python3.
 */
static int promparse(const char *text, const char *const *selectors)
{
	g_autofree char *python = g_find_program_in_path("python3");
	g_autofree char *script =
		g_test_build_filename(G_TEST_DIST, "integration", "promparse.py", NULL);
	g_autofree char *path = NULL, *out = NULL, *err = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	int fd, status;

	if (!python) {
		g_test_skip("python3 not installed: promparse.py not run");
		return -1;
	}
	fd = g_file_open_tmp("test-metrics-XXXXXX.txt", &path, &error);
	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	close(fd);
	g_ptr_array_add(argv, python);
	g_ptr_array_add(argv, script);
	g_ptr_array_add(argv, path);
	for (; selectors && *selectors; selectors++)
		g_ptr_array_add(argv, (char *)*selectors);
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   &out, &err, &status, &error));
	g_assert_no_error(error);
	g_test_message("promparse.py: %s%s", out, err);
	g_unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

struct fixture {
	struct cg_stats daemon, cam[2];
	struct cg_metrics_camera cameras[2];
	struct cg_metrics_input in;
};

static void fixture_init(struct fixture *fx)
{
	cg_stats_init(&fx->daemon);
	cg_stats_init(&fx->cam[0]);
	cg_stats_init(&fx->cam[1]);
	/* Daemon counters in the daemon's struct... */
	cg_stats_add(&fx->daemon.http_requests, 9);
	cg_stats_add(&fx->daemon.sessions_created, 2);
	cg_stats_add(&fx->daemon.auth_failures, 1);
	/* ...and, to see they are not read, camera counters there and the reverse. */
	cg_stats_add(&fx->daemon.frames_captured, 1000);
	cg_stats_add(&fx->cam[1].http_requests, 500);
	cg_stats_add(&fx->cam[0].frames_captured, 30);
	cg_stats_add(&fx->cam[0].plis_received, 7);
	cg_stats_sample(&fx->cam[0], &fx->cam[0].encode, 4000);
	/* Stages: on a bound (le is "less or equal"), past the last bound, between two. */
	cg_stats_observe(&fx->cam[0], CG_STAGE_PACKETIZE, 1000);
	cg_stats_observe(&fx->cam[0], CG_STAGE_CAPTURE_TO_ENCODER, 250000);
	cg_stats_observe(&fx->cam[0], CG_STAGE_FIRST_PACKET_SENT, 1500);
	cg_stats_observe(&fx->cam[0], CG_STAGE_FIRST_PACKET_SENT, 15000);
	cg_stats_sample(&fx->cam[1], &fx->cam[1].capture_to_send, 30000);
	cg_stats_add(&fx->cam[1].frames_captured, 60);
	cg_stats_add(&fx->cam[1].dtls_failures, 2);
	fx->cameras[0] = (struct cg_metrics_camera){
		.name = "main",
		.stats = &fx->cam[0],
		.source = "/dev/video0",
		.encoder = "v4l2m2m",
		.width = 1920,
		.height = 1080,
		.fps = 30,
		.viewers = 3,
		.bitrate_kbps = 2000,
		.bitrate_target_kbps = 1500,
		.media_heartbeat_age_s = 0.25,
	};
	fx->cameras[1] = (struct cg_metrics_camera){
		.name = ODD_NAME,
		.stats = &fx->cam[1],
		.source = "te\"st",
		.encoder = NULL,
		.width = 640,
		.height = 480,
		.fps = 15,
		.viewers = 2,
		.bitrate_kbps = 800,
		.bitrate_target_kbps = 800,
		.media_heartbeat_age_s = 0.5,
	};
	fx->in = (struct cg_metrics_input){
		.stats = &fx->daemon,
		.version = "1.2",
		.viewers = 5,
		.max_viewers = 8,
		.start_time_s = 1700000000.5,
		.cameras = fx->cameras,
		.n_cameras = 2,
	};
}

static void fixture_fini(struct fixture *fx)
{
	cg_stats_fini(&fx->daemon);
	cg_stats_fini(&fx->cam[0]);
	cg_stats_fini(&fx->cam[1]);
}

static void test_two_cameras(void)
{
	static const char *const labels[] = { "camera=\"main\"", ODD_LABEL };
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = cg_metrics_render(&fx.in);
	g_test_message("%s", text);
	check_families(text, labels, 2);
	g_assert_nonnull(strstr(text, "\ncamgate_frames_captured_total{camera=\"main\"} 30\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_frames_captured_total{" ODD_LABEL "} 60\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_http_requests_total 9\n"));
	g_assert_null(strstr(text, " 1000\n"));
	g_assert_null(strstr(text, " 500\n"));
	g_assert_nonnull(strstr(text, "camgate_info{camera=\"main\",version=\"1.2\","
				      "source=\"/dev/video0\",encoder=\"v4l2m2m\",width=\"1920\","
				      "height=\"1080\",fps=\"30\"} 1\n"));
	g_assert_nonnull(strstr(text, "camgate_info{" ODD_LABEL ",version=\"1.2\","
				      "source=\"te\\\"st\",encoder=\"\",width=\"640\","
				      "height=\"480\",fps=\"15\"} 1\n"));
	g_assert_nonnull(strstr(text, "# TYPE camgate_viewers gauge\ncamgate_viewers 5\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_camera_viewers{" ODD_LABEL "} 2\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_encode_latency_seconds{camera=\"main\","
				      "quantile=\"0.50\"} 0.004000\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_encode_latency_seconds{" ODD_LABEL
				      ",quantile=\"0.99\"} NaN\n"));
	g_free(text);
	fixture_fini(&fx);
}

/* Each stage's histogram per camera: cumulative buckets, seconds, the windows' samples too. */
static void test_stage_histograms(void)
{
	static const char *const selectors[] = {
		"camgate_stage_latency_seconds_bucket#90", /* 2 cameras × 5 stages × 9 */
		"camgate_stage_latency_seconds_count#10",
		"camgate_stage_latency_seconds_sum#10",
		/* encode, from the encode window's sample of 4 ms */
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"encode\","
		"le=\"0.002\"}=0",
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"encode\","
		"le=\"0.005\"}=1",
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"encode\","
		"le=\"+Inf\"}=1",
		"camgate_stage_latency_seconds_sum{camera=\"main\",stage=\"encode\"}=0.004",
		/* a sample on a bound is in that bucket */
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"packetize\","
		"le=\"0.001\"}=1",
		/* past 200 ms: +Inf only */
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"capture_to_encoder\","
		"le=\"0.2\"}=0",
		"camgate_stage_latency_seconds_count{camera=\"main\",stage=\"capture_to_encoder\"}="
		"1",
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"first_packet_sent\","
		"le=\"0.002\"}=1",
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"first_packet_sent\","
		"le=\"0.01\"}=1",
		"camgate_stage_latency_seconds_bucket{camera=\"main\",stage=\"first_packet_sent\","
		"le=\"0.02\"}=2",
		"camgate_stage_latency_seconds_sum{camera=\"main\",stage=\"first_packet_sent\"}="
		"0.0165",
		/* last packet sent, from the capture_to_send window's sample of 30 ms */
		"camgate_stage_latency_seconds_bucket{" ODD_LABEL ",stage=\"last_packet_sent\","
		"le=\"0.05\"}=1",
		"camgate_stage_latency_seconds_bucket{" ODD_LABEL ",stage=\"last_packet_sent\","
		"le=\"0.02\"}=0",
		"camgate_stage_latency_seconds_count{" ODD_LABEL ",stage=\"encode\"}=0",
		NULL,
	};
	struct fixture fx;
	char *text;
	int rc;

	fixture_init(&fx);
	text = cg_metrics_render(&fx.in);
	g_assert_nonnull(strstr(text, "# TYPE camgate_stage_latency_seconds histogram\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_stage_latency_seconds_bucket{camera=\"main\","
				      "stage=\"encode\",le=\"0.005\"} 1\n"));
	g_assert_nonnull(strstr(text, "\ncamgate_stage_latency_seconds_bucket{camera=\"main\","
				      "stage=\"encode\",le=\"0.1\"} 1\n"));
	rc = promparse(text, selectors);
	if (rc >= 0)
		g_assert_cmpint(rc, ==, 0);
	g_free(text);
	fixture_fini(&fx);
}

#define OBSERVERS    4
#define OBSERVATIONS 20000

static gpointer observe_thread(gpointer p)
{
	struct cg_stats *st = p;

	for (unsigned i = 0; i < OBSERVATIONS; i++)
		cg_stats_observe(st, CG_STAGE_ENCODE, i % 300000);
	return NULL;
}

/* Writers on several threads lose no sample (the histogram has no lock); an unknown stage
 * is ignored. */
static void test_stage_histogram_threads(void)
{
	struct cg_stats st;
	struct cg_histogram h;
	GThread *t[OBSERVERS];
	uint64_t total = 0, sum = 0;

	cg_stats_init(&st);
	for (unsigned i = 0; i < OBSERVERS; i++)
		t[i] = g_thread_new("observe", observe_thread, &st);
	for (unsigned i = 0; i < OBSERVERS; i++)
		g_thread_join(t[i]);
	cg_stats_observe(&st, CG_STAGE_COUNT, 5);
	cg_stats_observe(&st, (enum cg_stage) - 1, 5);
	cg_stats_histogram(&st, CG_STAGE_ENCODE, &h);
	for (unsigned b = 0; b <= CG_HISTOGRAM_BOUNDS; b++)
		total += h.buckets[b];
	for (unsigned i = 0; i < OBSERVATIONS; i++)
		sum += i % 300000;
	g_assert_cmpuint(total, ==, OBSERVERS * OBSERVATIONS);
	g_assert_cmpuint(h.sum_usec, ==, OBSERVERS * sum);
	/* 0..1000 µs: 1001 of each thread's samples in the first bucket. */
	g_assert_cmpuint(h.buckets[0], ==, OBSERVERS * 1001);
	for (unsigned s = 0; s < CG_STAGE_COUNT; s++) {
		if (s == CG_STAGE_ENCODE)
			continue;
		cg_stats_histogram(&st, s, &h);
		for (unsigned b = 0; b <= CG_HISTOGRAM_BOUNDS; b++)
			g_assert_cmpuint(h.buckets[b], ==, 0);
	}
	g_assert_null(cg_stage_name(CG_STAGE_COUNT));
	g_assert_cmpstr(cg_stage_name(CG_STAGE_PACKETIZE), ==, "packetize");
	cg_stats_fini(&st);
}

/* The parser the appliance test uses accepts the text and reads the values back. */
static void test_promparse_accepts(void)
{
	static const char *const selectors[] = {
		/* as test-appliance.sh asks today */
		"camgate_viewers=5",
		"camgate_max_viewers=8",
		"camgate_frames_captured_total",
		"camgate_encode_latency_seconds{quantile=\"0.50\"}",
		/* by camera, escapes included */
		"camgate_frames_captured_total#2",
		"camgate_frames_captured_total{camera=\"main\"}=30",
		"camgate_frames_captured_total{" ODD_LABEL "}=60",
		"camgate_plis_received_total{camera=\"main\"}=7",
		"camgate_dtls_failures_total{" ODD_LABEL "}=2",
		"camgate_camera_viewers{camera=\"main\"}=3",
		"camgate_bitrate_target_bits_per_second{camera=\"main\"}=1500000",
		"camgate_media_heartbeat_age_seconds{" ODD_LABEL "}=0.5",
		"camgate_encode_latency_seconds{quantile=\"0.50\"}#2",
		"camgate_encode_latency_seconds{camera=\"main\",quantile=\"0.50\"}=0.004",
		"camgate_info{" ODD_LABEL ",source=\"te\\\"st\",fps=\"15\"}=1",
		"camgate_info#2",
		/* daemon-wide, once */
		"camgate_http_requests_total=9",
		"camgate_http_requests_total#1",
		"camgate_sessions_created_total=2",
		"camgate_auth_failures_total=1",
		"camgate_cameras=2",
		"camgate_start_time_seconds=1700000000.5",
		NULL,
	};
	struct fixture fx;
	char *text;
	int rc;

	fixture_init(&fx);
	text = cg_metrics_render(&fx.in);
	rc = promparse(text, selectors);
	if (rc >= 0)
		g_assert_cmpint(rc, ==, 0);
	g_free(text);
	fixture_fini(&fx);
}

/* Selectors that must not hold, and texts the format does not allow: the parser can fail. */
static void test_promparse_refuses(void)
{
	static const char *const wrong[] = {
		"camgate_frames_captured_total=30", /* two series: ambiguous */
		"camgate_frames_captured_total{camera=\"main\"}=31",
		"camgate_frames_captured_total{camera=\"nope\"}",
		"camgate_http_requests_total#2",
		"camgate_http_requests_total{camera=\"main\"}",
		"camgate_no_such_metric",
	};
	static const char *const bad_tails[] = {
		/* a family's samples split */
		"camgate_frames_captured_total{camera=\"other\"} 1\n",
		/* a TYPE after the family's samples */
		"# TYPE camgate_viewers gauge\n",
		/* an escape the format lacks */
		"# HELP camgate_x X\n# TYPE camgate_x gauge\ncamgate_x{camera=\"a\\tb\"} 1\n",
		/* the same series twice */
		"# HELP camgate_y Y\n# TYPE camgate_y gauge\ncamgate_y{camera=\"a\"} 1\n"
		"camgate_y{camera=\"a\"} 2\n",
		/* histograms: cumulative counts that fall, no +Inf, _count not +Inf, no _sum,
		 * a bucket without le, a bare sample */
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"1\"} 2\n"
		"camgate_h_bucket{le=\"2\"} 1\ncamgate_h_bucket{le=\"+Inf\"} 2\n"
		"camgate_h_sum 1\ncamgate_h_count 2\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"1\"} 2\n"
		"camgate_h_sum 1\ncamgate_h_count 2\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"+Inf\"} 2\n"
		"camgate_h_sum 1\ncamgate_h_count 3\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"+Inf\"} 2\n"
		"camgate_h_count 2\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"+Inf\"} 2\n"
		"camgate_h_bucket 2\ncamgate_h_sum 1\ncamgate_h_count 2\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h 2\n",
		"# HELP camgate_h H\n# TYPE camgate_h histogram\ncamgate_h_bucket{le=\"x\"} 2\n"
		"camgate_h_bucket{le=\"+Inf\"} 2\ncamgate_h_sum 1\ncamgate_h_count 2\n",
	};
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = cg_metrics_render(&fx.in);
	for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
		const char *one[] = { wrong[i], NULL };
		int rc = promparse(text, one);

		if (rc < 0)
			break;
		if (rc != 1)
			g_error("promparse passed %s (rc %d)", wrong[i], rc);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad_tails); i++) {
		char *bad = g_strconcat(text, bad_tails[i], NULL);
		int rc = promparse(bad, NULL);

		g_free(bad);
		if (rc < 0)
			break;
		if (rc != 1)
			g_error("promparse accepted a text ending in %s (rc %d)", bad_tails[i], rc);
	}
	g_free(text);
	fixture_fini(&fx);
}

/* No camera (not a configuration the daemon starts with): daemon series alone, still valid. */
static void test_no_camera(void)
{
	static const char *const selectors[] = {
		"camgate_cameras=0",
		"camgate_http_requests_total=9",
		"camgate_info#0",
		"camgate_frames_captured_total#0",
		NULL,
	};
	struct fixture fx;
	char *text;
	int rc;

	fixture_init(&fx);
	fx.in.cameras = NULL;
	fx.in.n_cameras = 0;
	text = cg_metrics_render(&fx.in);
	check_families(text, NULL, 0);
	rc = promparse(text, selectors);
	if (rc >= 0)
		g_assert_cmpint(rc, ==, 0);
	g_free(text);
	fixture_fini(&fx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/metrics/two-cameras", test_two_cameras);
	g_test_add_func("/metrics/stage-histograms", test_stage_histograms);
	g_test_add_func("/metrics/stage-histogram-threads", test_stage_histogram_threads);
	g_test_add_func("/metrics/promparse-accepts", test_promparse_accepts);
	g_test_add_func("/metrics/promparse-refuses", test_promparse_refuses);
	g_test_add_func("/metrics/no-camera", test_no_camera);
	return g_test_run();
}
