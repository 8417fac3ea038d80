/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * x264's speed policy (--x264-preset=auto, proto/speed.h) in the whole daemon: with every
 * encode made slower than the frame interval allows (the CAMGATE_TEST_ENCODE_DELAY_MS
 * hook), the preset steps from veryfast through superfast (reconfig) to ultrafast (a
 * reopen at the next key frame), /status and /metrics say so, and a viewer watching through
 * both changes gets every frame complete. A fixed --x264-preset never moves, and a camera's
 * own x264-preset= is that camera's. Functional
 * only: the hook's delay is far over the threshold, and the waits are deadlines, not
 * measurements.
 *
 * usage: test-preset CAMGATE --tap   (inside run-in-netns.sh)
 */
#include <glib.h>
#include <string.h>

#include "daemon.h"
#include "http_client.h"
#include "whep_client.h"

/* 10 fps: a 100 ms interval, and 70 ms of added time per encode is over its 60 %. A
 * keyframe each second keeps the wait for the reopen short. */
static const char *const slow_env[] = { "CAMGATE_TEST_ENCODE_DELAY_MS=70", NULL };

static struct cg_test_fixture fx;

static char *preset_now(void)
{
	return cg_test_daemon_status_text_at(&fx.daemon, "/status", "x264_preset");
}

struct preset_wait {
	const char *want;
};

static bool preset_is(void *data)
{
	struct preset_wait *w = data;
	char *now = preset_now();
	bool is = now && strcmp(now, w->want) == 0;

	g_free(now);
	if (!is)
		cg_test_loop_wait(fx.ctx, 200);
	return is;
}

struct fetch {
	bool done;
	char *body;
};

static void fetch_done(int err, const struct cg_http_response *resp, void *data)
{
	struct fetch *f = data;

	if (!err && resp->status == 200)
		f->body = g_strdup(resp->body);
	f->done = true;
}

static bool fetch_settled(void *data)
{
	return ((struct fetch *)data)->done;
}

/* GET path's body (g_free it); asserts a 200. */
static char *get_body(const char *path)
{
	struct fetch f = { 0 };
	struct cg_http_request_args args = {
		.host = "127.0.0.1",
		.port = fx.daemon.port,
		.method = "GET",
		.path = path,
		.timeout_ms = 5000,
	};

	g_assert_cmpint(cg_http_request_start(fx.ctx, &args, fetch_done, &f, NULL), ==, 0);
	g_assert_true(cg_test_loop_until(fx.ctx, fetch_settled, &f, 10000));
	g_assert_nonnull(f.body);
	return f.body;
}

static void assert_complete(const char *name, struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);

	cg_test_assert_nothing_lost(name, c);
	g_assert_cmpuint(st->aus_lost, ==, 0);
	g_assert_true(st->first_is_idr);
	g_assert_cmpuint(st->ts_backwards, ==, 0);
}

static void test_steps_faster(void)
{
	static const char *const args[] = { "--size=320x240",
					    "--fps=10",
					    "--bitrate=300",
					    "--encoder=x264",
					    "--keyframe-interval=10",
					    "--log-level=info",
					    NULL };
	struct preset_wait ultra = { "ultrafast" };
	struct cg_whep_client *viewer;
	char *preset, *metrics;

	cg_test_fixture_start(&fx, args, slow_env);
	preset = cg_test_daemon_status_text_at(&fx.daemon, "/status", "x264_preset_setting");
	g_assert_cmpstr(preset, ==, "auto");
	g_free(preset);
	viewer = cg_test_fixture_viewer(&fx, NULL);
	cg_test_fixture_wait_frames(&fx, viewer, 5, 20000);
	/* One step a judged window (a second here), the window after each unjudged, and the
	 * reopen into ultrafast waits for a key frame: a few seconds; the deadline is generous
	 * for a busy machine. */
	g_assert_true(cg_test_loop_until(fx.ctx, preset_is, &ultra, 90000));
	/* Frames keep coming, complete, after the reopen. */
	cg_test_fixture_wait_frames(&fx, viewer, 20, 30000);
	assert_complete("viewer", viewer);
	metrics = get_body("/metrics");
	g_assert_nonnull(strstr(
		metrics, "camgate_x264_preset_info{camera=\"main\",preset=\"ultrafast\"} 1"));
	g_free(metrics);
	/* It stays at the fastest: nothing faster to go to, and no room to go back. */
	cg_test_fixture_wait_frames(&fx, viewer, 30, 30000);
	preset = preset_now();
	g_assert_cmpstr(preset, ==, "ultrafast");
	g_free(preset);
	assert_complete("viewer", viewer);
	cg_whep_client_free(viewer);
	cg_test_fixture_stop(&fx);
}

static void test_fixed(void)
{
	static const char *const args[] = { "--size=320x240",
					    "--fps=10",
					    "--bitrate=300",
					    "--encoder=x264",
					    "--x264-preset=superfast",
					    "--log-level=info",
					    NULL };
	struct cg_whep_client *viewer;
	char *preset;

	cg_test_fixture_start(&fx, args, slow_env);
	viewer = cg_test_fixture_viewer(&fx, NULL);
	/* Five of auto's one-second windows, all over the threshold. */
	cg_test_fixture_wait_frames(&fx, viewer, 50, 60000);
	preset = preset_now();
	g_assert_cmpstr(preset, ==, "superfast");
	g_free(preset);
	preset = cg_test_daemon_status_text_at(&fx.daemon, "/status", "x264_preset_setting");
	g_assert_cmpstr(preset, ==, "superfast");
	g_free(preset);
	assert_complete("viewer", viewer);
	cg_whep_client_free(viewer);
	cg_test_fixture_stop(&fx);
}

/* A camera's own x264-preset= wins over the flags' for that camera alone. */
static void test_per_camera(void)
{
	static const char *const args[] = { "--size=320x240",
					    "--fps=10",
					    "--bitrate=300",
					    "--encoder=x264",
					    "--x264-preset=faster",
					    "--camera=a=test",
					    "--camera=b=test,x264-preset=ultrafast",
					    "--log-level=notice",
					    NULL };
	char *a, *b;

	cg_test_fixture_start(&fx, args, NULL);
	a = cg_test_daemon_status_text_at(&fx.daemon, "/cam/a/status", "x264_preset");
	b = cg_test_daemon_status_text_at(&fx.daemon, "/cam/b/status", "x264_preset");
	g_assert_cmpstr(a, ==, "faster");
	g_assert_cmpstr(b, ==, "ultrafast");
	g_free(a);
	g_free(b);
	cg_test_fixture_stop(&fx);
}

int main(int argc, char **argv)
{
	fx.exe = cg_test_init(&argc, &argv);
	g_test_add_func("/preset/steps-faster", test_steps_faster);
	g_test_add_func("/preset/fixed", test_fixed);
	g_test_add_func("/preset/per-camera", test_per_camera);
	return g_test_run();
}
