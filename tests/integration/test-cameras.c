/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Several cameras in one daemon (issue 13): two test-pattern cameras of different sizes,
 * a C WHEP viewer on each camera's path and one on the default path, every frame complete
 * on each; one camera's encoder failing costs the other camera's viewer nothing; a named
 * hardware encoder that does not open falls back to x264 for its camera; one
 * --max-viewers for every camera and path.
 *
 * usage: test-cameras CAMGATE --tap   (inside run-in-netns.sh)
 */
#include <glib.h>
#include <string.h>

#include "daemon.h"
#include "whep_client.h"

#define FRAMES_MS 15000 /* generous: the machine may be busy; frames, not time, are checked */

static struct cg_test_fixture fx;

static void wait_frames(struct cg_whep_client *c, uint64_t n)
{
	cg_test_fixture_wait_frames(&fx, c, n, FRAMES_MS);
}

/* Every frame the viewer started arrived whole, in order, starting at a keyframe. */
static void assert_complete(const char *name, struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);

	cg_test_assert_nothing_lost(name, c);
	g_assert_true(st->first_is_idr);
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

	cg_test_fixture_start(&fx, two_cameras, NULL);
	/* Each camera's status says its own size; the daemon's viewers are everyone. */
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/front/status", "width"), ==,
			640);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/back/status", "width"), ==,
			1280);
	g_assert_cmpint(cg_test_daemon_status_at(&fx.daemon, "/cam/back/status", "height"), ==,
			720);
	/* The default paths are the first camera's. */
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "width"), ==, 640);
	front = cg_test_fixture_viewer_on(&fx, "/cam/front/whep");
	back = cg_test_fixture_viewer_on(&fx, "/cam/back/whep");
	dflt = cg_test_fixture_viewer_on(&fx, "/whep");
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
	extra = cg_test_fixture_viewer_on(&fx, "/cam/back/whep");
	cg_test_wait_frames(&fx.daemon, extra, 1, 5000); /* returns once the POST failed */
	st = cg_whep_client_stats(extra);
	g_test_message("fourth viewer: POST %d %s", st->post_status, st->post_reason);
	g_assert_cmpint(st->post_status, ==, 503);
	cg_whep_client_free(extra);
	/* An unknown camera is 404, and changes nothing for the others. */
	extra = cg_test_fixture_viewer_on(&fx, "/cam/nope/whep");
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
	cg_test_fixture_stop(&fx);
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
	static const char *const back_fails[] = { "CAMGATE_TEST_ENCODER_FAILURE=45",
						  "CAMGATE_TEST_ENCODER_FAILURE_CAMERA=back",
						  NULL };

	cg_test_fixture_start(&fx, two_cameras, back_fails);
	front = cg_test_fixture_viewer_on(&fx, "/cam/front/whep");
	back = cg_test_fixture_viewer_on(&fx, "/cam/back/whep");
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
	cg_test_fixture_stop(&fx);
}

/*
 * A hardware encoder named for a camera that does not open (here: no v4l2-m2m H.264
 * encoder on this machine, as when a board's one context is taken) leaves that camera on
 * x264, streaming, and the other camera untouched.
 */
static void test_named_encoder_falls_back(void)
{
	static const char *const args[] = { "--camera=front=test,size=640x480",
					    "--camera=back=test,size=640x480,encoder=v4l2-m2m",
					    "--fps=15",
					    "--bitrate=500",
					    "--audio=none",
					    NULL };
	struct cg_whep_client *front, *back;
	g_autofree char *back_encoder = NULL;

	cg_test_fixture_start(&fx, args, NULL);
	back_encoder = cg_test_daemon_status_text_at(&fx.daemon, "/cam/back/status", "encoder");
	g_assert_nonnull(back_encoder);
	if (strcmp(back_encoder, "v4l2-m2m") == 0) {
		cg_test_fixture_stop(&fx);
		g_test_skip("a v4l2-m2m H.264 encoder opened on this machine: nothing to fall back "
			    "from");
		return;
	}
	g_assert_cmpstr(back_encoder, ==, "x264");
	front = cg_test_fixture_viewer_on(&fx, "/cam/front/whep");
	back = cg_test_fixture_viewer_on(&fx, "/cam/back/whep");
	wait_frames(front, 30);
	wait_frames(back, 30);
	assert_complete("front", front);
	assert_complete("back", back);
	cg_whep_client_free(front);
	cg_whep_client_free(back);
	cg_test_fixture_stop(&fx);
}

int main(int argc, char **argv)
{
	fx.exe = cg_test_init(&argc, &argv);
	g_test_add_func("/cameras/two", test_two_cameras);
	g_test_add_func("/cameras/one-fails", test_one_camera_fails);
	g_test_add_func("/cameras/named-encoder-falls-back", test_named_encoder_falls_back);
	return g_test_run();
}
