/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Many viewers and bad networks, whole daemon: RTX and transport-wide CC negotiated with a
 * browser-like offer; NACKs served (as RFC 4588 RTX) to viewers behind 5 % loss and 50 ms
 * delay; the encoder bitrate following the lowest REMB at or above the floor, and not a
 * viewer below the floor. The kernel here has no sch_netem, so loss and delay are
 * emulated inside the C viewer, on what it receives (tests/harness/whep_client.h).
 *
 * usage: test-viewers CAMGATE --tap   (inside run-in-netns.sh)
 */
#include <glib.h>
#include <string.h>

#include "daemon.h"
#include "util/macros.h"
#include "whep_client.h"

static struct cg_test_fixture fx;

/* Floor 250, ceiling 1000 kbit/s (config.c's defaults from --bitrate=1000). */
static const char *const daemon_args[] = { "--size=640x480", "--fps=30", "--bitrate=1000",
					   "--log-level=info", NULL };

/* A browser-like offer gets RTX (apt=, own SSRC) and transport-wide sequence numbers. */
static void test_negotiated(void)
{
	struct cg_whep_client_cfg cfg = { 0 };
	struct cg_whep_client *c;
	const struct cg_whep_stats *st;

	cg_test_fixture_start(&fx, daemon_args, NULL);
	c = cg_test_fixture_viewer(&fx, &cfg);
	cg_test_fixture_wait_frames(&fx, c, 30, 10000);
	st = cg_whep_client_stats(c);
	g_assert_cmpuint(st->rtx_pt, ==, 103);
	g_assert_true(st->twcc_answered);
	g_assert_cmpuint(st->twcc_packets, ==, st->packets); /* on every media packet */
	g_assert_cmpuint(st->aus_lost, ==, 0);
	cg_whep_client_free(c);
	cg_test_fixture_stop(&fx);
}

/* 5 % loss, 50 ms delay: NACKs are answered with RTX carrying the lost sequence numbers;
 * the stream goes on (frames keep arriving), and incomplete frames are counted. */
static void test_loss_recovery(void)
{
	struct cg_whep_client_cfg cfg = {
		.drop_permille = 50, .delay_ms = 50, .nack = true, .seed = 42
	};
	struct cg_whep_client *c[2];

	cg_test_fixture_start(&fx, daemon_args, NULL);
	for (unsigned i = 0; i < 2; i++) {
		cfg.seed = 42 + i;
		c[i] = cg_test_fixture_viewer(&fx, &cfg);
	}
	for (unsigned i = 0; i < 2; i++)
		cg_test_fixture_wait_frames(&fx, c[i], 150, 20000);
	for (unsigned i = 0; i < 2; i++) {
		const struct cg_whep_stats *st = cg_whep_client_stats(c[i]);

		g_test_message("viewer %u: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
			       " incomplete (freezes), %" G_GUINT64_FORMAT
			       " dropped, %" G_GUINT64_FORMAT " NACKed, %" G_GUINT64_FORMAT
			       " RTX, %" G_GUINT64_FORMAT " recovered",
			       i, st->frames, st->aus_lost, st->dropped, st->nacks_sent,
			       st->rtx_received, st->rtx_recovered);
		g_assert_cmpuint(st->dropped, >, 0);
		g_assert_cmpuint(st->nacks_sent, >, 0);
		/* Every NACKed packet is retransmitted once; the emulation drops 5 % of the
		 * retransmissions too, and a few NACKs may still be in flight. */
		g_assert_cmpuint(st->rtx_recovered * 100, >=, st->nacks_sent * 80);
		g_assert_cmpuint(st->rtx_ssrc, !=, st->remote_ssrc);
	}
	for (unsigned i = 0; i < 2; i++)
		cg_whep_client_free(c[i]);
	cg_test_fixture_stop(&fx);
}

/* The policy: follow the lowest REMB at or above the floor; one below it is ignored. */
static void test_remb_policy(void)
{
	struct cg_whep_client_cfg fast = { .remb_bps = 400000 }, slow = { .remb_bps = 100000 };
	struct cg_whep_client *a, *b;

	cg_test_fixture_start(&fx, daemon_args, NULL);
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "bitrate_target_kbps"), ==, 1000);
	a = cg_test_fixture_viewer(&fx, &fast);
	cg_test_fixture_wait_frames(&fx, a, 10, 10000);
	g_assert_true(cg_test_daemon_wait_status(&fx.daemon, "bitrate_target_kbps", 400, 10000));
	b = cg_test_fixture_viewer(&fx, &slow);
	cg_test_fixture_wait_frames(&fx, b, 1, 10000);
	/* Three policy ticks later the viewer under the floor has not dragged it down. */
	cg_test_loop_wait(fx.ctx, 1600);
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "bitrate_target_kbps"), ==, 400);
	cg_whep_client_free(b);
	cg_whep_client_free(a);
	cg_test_fixture_stop(&fx);
}

int main(int argc, char **argv)
{
	fx.exe = cg_test_init(&argc, &argv);
	g_test_add_func("/viewers/negotiated", test_negotiated);
	g_test_add_func("/viewers/loss-recovery", test_loss_recovery);
	g_test_add_func("/viewers/remb-policy", test_remb_policy);
	return g_test_run();
}
