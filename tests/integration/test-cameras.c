/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Several cameras in one daemon (issue 13): two test-pattern cameras of different sizes,
 * a C WHEP viewer on each camera's path and one on the default path, every frame complete
 * on each; one camera's encoder failing costs the other camera's viewer nothing; one
 * --max-viewers for every camera and path.
 *
 * usage: test-cameras CAMGATE --tap   (inside run-in-netns.sh)
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "crypto/cert.h"
#include "daemon.h"
#include "whep_client.h"

#define FRAMES_MS 15000 /* generous: the machine may be busy; frames, not time, are checked */

static const char *camgate_path;

struct fixture {
	GMainContext *ctx;
	struct cg_cert *cert;
	struct cg_test_daemon daemon;
};

static struct fixture fx;

static void fixture_start(const char *const *args)
{
	fx.ctx = g_main_context_default();
	g_assert_cmpint(cg_cert_new(&fx.cert), ==, 0);
	g_assert_cmpint(cg_test_daemon_start(&fx.daemon, fx.ctx, camgate_path, args), ==, 0);
}

static void fixture_stop(void)
{
	int status = cg_test_daemon_stop(&fx.daemon);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	fx.cert = cg_cert_free(fx.cert);
}

static struct cg_whep_client *viewer_on(const char *path)
{
	struct cg_whep_client_cfg cfg = { .path = path };
	struct cg_whep_client *c = cg_test_viewer_start(&fx.daemon, fx.cert, &cfg);

	g_assert_nonnull(c);
	return c;
}

static void wait_frames(struct cg_whep_client *c, uint64_t n)
{
	g_assert_true(cg_test_wait_frames(&fx.daemon, c, n, FRAMES_MS));
}

/* Every frame the viewer started arrived whole, in order, starting at a keyframe. */
static void assert_complete(const char *name, struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);

	g_test_message("%s: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
		       " packets, %" G_GUINT64_FORMAT " lost, %" G_GUINT64_FORMAT " incomplete",
		       name, st->frames, st->packets, st->packets_lost, st->aus_lost);
	g_assert_true(st->first_is_idr);
	g_assert_cmpuint(st->packets_lost, ==, 0);
	g_assert_cmpuint(st->aus_lost, ==, 0);
	g_assert_cmpuint(st->packets_bad, ==, 0);
	g_assert_cmpuint(st->ts_backwards, ==, 0);
}

static const char *const two_cameras[] = { "--camera=front=test,size=640x480",
					   "--camera=back=test,size=1280x720",
					   "--fps=15",
					   "--bitrate=500",
					   "--max-viewers=3",
					   "--audio=none",
					   "--log-level=notice",
					   NULL };

static void test_two_cameras(void)
{
	struct cg_whep_client *front, *back, *dflt, *extra;
	const struct cg_whep_stats *st;

	fixture_start(two_cameras);
	/* Each camera's status says its own size; the daemon's viewers are everyone. */
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/front/status", "width"), ==,
			640);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/back/status", "width"), ==,
			1280);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/back/status", "height"), ==,
			720);
	/* The default paths are the first camera's. */
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "width"), ==, 640);
	front = viewer_on("/cam/front/whep");
	back = viewer_on("/cam/back/whep");
	dflt = viewer_on("/whep");
	wait_frames(front, 30);
	wait_frames(back, 30);
	wait_frames(dflt, 30);
	/* Each viewer gets its own camera's stream: the front and default viewers share the
	 * front camera's SSRC, the back viewer has another. */
	g_assert_cmpuint(cg_whep_client_stats(front)->remote_ssrc, ==,
			 cg_whep_client_stats(dflt)->remote_ssrc);
	g_assert_cmpuint(cg_whep_client_stats(front)->remote_ssrc, !=,
			 cg_whep_client_stats(back)->remote_ssrc);
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "viewers"), ==, 3);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/back/status", "camera_viewers"),
			==, 1);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/front/status", "camera_viewers"),
			==, 2);
	/* One limit for every camera and path: a fourth viewer, of either camera, is refused. */
	extra = viewer_on("/cam/back/whep");
	cg_test_wait_frames(&fx.daemon, extra, 1, 5000); /* returns once the POST failed */
	st = cg_whep_client_stats(extra);
	g_test_message("fourth viewer: POST %d %s", st->post_status, st->post_reason);
	g_assert_cmpint(st->post_status, ==, 503);
	cg_whep_client_free(extra);
	/* An unknown camera is 404, and changes nothing for the others. */
	extra = viewer_on("/cam/nope/whep");
	cg_test_wait_frames(&fx.daemon, extra, 1, 5000);
	g_assert_cmpint(cg_whep_client_stats(extra)->post_status, ==, 404);
	cg_whep_client_free(extra);
	wait_frames(front, 15);
	wait_frames(back, 15);
	assert_complete("front", front);
	assert_complete("back", back);
	assert_complete("default", dflt);
	cg_whep_client_free(front);
	cg_whep_client_free(back);
	cg_whep_client_free(dflt);
	fixture_stop();
}

/*
 * The back camera's encoder fails (as a hardware encoder that stops answering): its media
 * thread reopens it after the back-off and its viewer gets pictures again, while the front
 * camera's viewer loses nothing at all.
 */
static void test_one_camera_fails(void)
{
	struct cg_whep_client *front, *back;
	uint64_t keyframes;

	/* At 15 fps the 45th encode is 3 s in: both viewers are watching by then. */
	g_setenv("CAMGATE_TEST_ENCODER_FAILURE", "45", TRUE);
	g_setenv("CAMGATE_TEST_ENCODER_FAILURE_CAMERA", "back", TRUE);
	fixture_start(two_cameras);
	g_unsetenv("CAMGATE_TEST_ENCODER_FAILURE");
	g_unsetenv("CAMGATE_TEST_ENCODER_FAILURE_CAMERA");
	front = viewer_on("/cam/front/whep");
	back = viewer_on("/cam/back/whep");
	wait_frames(front, 5);
	wait_frames(back, 5);
	keyframes = cg_whep_client_stats(back)->keyframes;
	/* Through the failure, the 1 s back-off and 15 frames after it. */
	wait_frames(back, 60);
	g_assert_cmpuint(cg_whep_client_stats(back)->keyframes, >, keyframes);
	wait_frames(front, 15);
	assert_complete("front", front);
	assert_complete("back", back);
	cg_whep_client_free(front);
	cg_whep_client_free(back);
	fixture_stop();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: test-cameras CAMGATE [--tap]\n");
		return 2;
	}
	camgate_path = argv[1];
	g_test_add_func("/cameras/two", test_two_cameras);
	g_test_add_func("/cameras/one-fails", test_one_camera_fails);
	return g_test_run();
}
