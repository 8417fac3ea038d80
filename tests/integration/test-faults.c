/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Faults around a viewer that is watching: another viewer that stops answering, and a flood
 * of bad HTTP requests (garbage, truncated and oversized requests, slow senders, bad
 * offers). Each is handled, and the watching viewer loses no packet and no frame.
 *
 * usage: test-faults CAMGATE --tap   (inside run-in-netns.sh)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "daemon.h"
#include "http_client.h"
#include "util/macros.h"
#include "util/time.h"
#include "whep_client.h"

#define FLOOD_REQUESTS	 1500
#define SLOW_CONNECTIONS 40

static struct cg_test_fixture fx;

static const char *const daemon_args[] = { "--size=320x240", "--fps=30", "--bitrate=300",
					   "--log-level=notice", NULL };

static void wait_frames(struct cg_whep_client *c, uint64_t n)
{
	cg_test_fixture_wait_frames(&fx, c, n, 10000);
}

static void test_silent_peer(void)
{
	struct cg_whep_client *watcher, *silent;

	cg_test_fixture_start(&fx, daemon_args, NULL);
	watcher = cg_test_fixture_viewer(&fx, NULL);
	wait_frames(watcher, 10);
	silent = cg_test_fixture_viewer(&fx, NULL);
	wait_frames(silent, 3);
	/* The second viewer's machine goes away: no DELETE, no BYE, no more packets. */
	silent = cg_whep_client_free(silent);
	g_assert_true(cg_test_daemon_wait_status(&fx.daemon, "viewers", 1, 60000));
	wait_frames(watcher, 30);
	cg_test_assert_nothing_lost("watcher", watcher);
	cg_whep_client_free(watcher);
	cg_test_fixture_stop(&fx);
}

/* ---- The flood: a thread of blocking sockets, so the watcher's loop keeps running ---- */

struct flood {
	uint16_t port;
	unsigned sent; /* flood thread only until finished */
	unsigned answered;
	gint finished; /* atomic */
};

static int flood_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* The i-th bad request: each kind is something a scanner or a broken client sends. */
static GString *flood_request(unsigned i)
{
	GString *r = g_string_new(NULL);
	uint8_t noise[256];

	switch (i % 8) {
	case 0: /* binary garbage */
		for (size_t k = 0; k < sizeof(noise); k++)
			noise[k] = (uint8_t)g_random_int();
		g_string_append_len(r, (const char *)noise, sizeof(noise));
		break;
	case 1: /* a request line that never ends */
		g_string_append(r, "GET /");
		for (int k = 0; k < 4000; k++)
			g_string_append_c(r, 'A');
		break;
	case 2: /* headers far beyond the connection's memory limit */
		g_string_append(r, "GET /status HTTP/1.1\r\nHost: x\r\n");
		for (int k = 0; k < 2000; k++)
			g_string_append_printf(r, "X-Junk-%d: %064d\r\n", k, k);
		g_string_append(r, "\r\n");
		break;
	case 3: /* a garbage offer */
		g_string_append(r, "POST /whep HTTP/1.1\r\nHost: x\r\nContent-Type: "
				   "application/sdp\r\nContent-Length: 11\r\n\r\nv=0\r\nm=zz\r\n");
		break;
	case 4: /* a body larger than allowed */
		g_string_append(r, "POST /whep HTTP/1.1\r\nHost: x\r\nContent-Type: "
				   "application/sdp\r\nContent-Length: 200000\r\n\r\n");
		for (int k = 0; k < 200000; k++)
			g_string_append_c(r, 'v');
		break;
	case 5: /* trickle for sessions that do not exist */
		g_string_append_printf(
			r,
			"PATCH /whep/%08x HTTP/1.1\r\nHost: x\r\nContent-Type: "
			"application/trickle-ice-sdpfrag\r\nContent-Length: 0\r\n\r\n",
			g_random_int());
		break;
	case 6: /* a lying Content-Length, then the connection closes */
		g_string_append(r, "POST /whep HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n"
				   "Content-Type: application/sdp\r\n\r\nv=0");
		break;
	default: /* a method and a path that mean nothing */
		g_string_append(r, "BREW /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n");
		break;
	}
	return r;
}

static void flood_one(struct flood *f, unsigned i)
{
	GString *req = flood_request(i);
	char buf[512];
	int fd = flood_connect(f->port);

	if (fd >= 0) {
		/* The daemon may close early (413, garbage): that is an answer too. */
		if (send(fd, req->str, req->len, MSG_NOSIGNAL) >= 0)
			f->sent++;
		shutdown(fd, SHUT_WR);
		if (recv(fd, buf, sizeof(buf), 0) >= 0)
			f->answered++;
		close(fd);
	}
	g_string_free(req, TRUE);
}

static gpointer flood_thread(gpointer data)
{
	struct flood *f = data;
	int slow[SLOW_CONNECTIONS];

	/* Slow senders hold connections open with a byte each while the rest floods. */
	for (unsigned k = 0; k < SLOW_CONNECTIONS; k++) {
		slow[k] = flood_connect(f->port);
		if (slow[k] >= 0)
			send(slow[k], "G", 1, MSG_NOSIGNAL);
	}
	for (unsigned i = 0; i < FLOOD_REQUESTS; i++)
		flood_one(f, i);
	for (unsigned k = 0; k < SLOW_CONNECTIONS; k++)
		if (slow[k] >= 0)
			close(slow[k]);
	g_atomic_int_set(&f->finished, 1);
	return NULL;
}

static bool flood_finished(void *data)
{
	return g_atomic_int_get(&((struct flood *)data)->finished);
}

static void test_http_flood(void)
{
	struct flood f = { 0 };
	struct cg_whep_client *watcher;
	GThread *thread;
	uint64_t started;

	cg_test_fixture_start(&fx, daemon_args, NULL);
	f.port = fx.daemon.port;
	watcher = cg_test_fixture_viewer(&fx, NULL);
	wait_frames(watcher, 10);
	started = cg_mono_usec();
	thread = g_thread_new("flood", flood_thread, &f);
	/* The watcher's loop keeps turning while the flood runs; the check of the flag wakes
	 * with every packet the watcher receives. */
	g_assert_true(cg_test_loop_until(fx.ctx, flood_finished, &f, 150000));
	g_thread_join(thread);
	g_test_message("flood: %u requests sent, %u answered or closed, in %.1f s", f.sent,
		       f.answered, (cg_mono_usec() - started) / 1e6);
	g_assert_cmpuint(f.sent, >, FLOOD_REQUESTS / 2);
	/* Still serving: the viewer keeps receiving and /status answers. */
	wait_frames(watcher, 30);
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "viewers"), ==, 1);
	cg_test_assert_nothing_lost("watcher", watcher);
	cg_whep_client_free(watcher);
	cg_test_fixture_stop(&fx);
}

/*
 * The encoder fails (as a hardware encoder that stops answering does): the media thread
 * closes the pipeline and reopens it after its back-off, and the viewer, still connected,
 * gets pictures again, starting at a keyframe, with no sequence gap.
 */
static void test_encoder_failure(void)
{
	struct cg_whep_client *watcher;
	const struct cg_whep_stats *st;
	uint64_t before;

	/* At 30 fps the 90th encode is 3 s in: the viewer is watching by then. */
	static const char *const encoder_fails[] = { "CAMGATE_TEST_ENCODER_FAILURE=90", NULL };

	cg_test_fixture_start(&fx, daemon_args, encoder_fails);
	watcher = cg_test_fixture_viewer(&fx, NULL);
	st = cg_whep_client_stats(watcher);
	wait_frames(watcher, 10);
	before = st->keyframes;
	/* Through the failure (frame 90), the 1 s back-off, and 30 frames after it. */
	wait_frames(watcher, 110);
	g_test_message("keyframes %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT, before,
		       st->keyframes);
	g_assert_cmpuint(st->keyframes, >, before);
	g_assert_cmpint(cg_test_daemon_status(&fx.daemon, "viewers"), ==, 1);
	cg_test_assert_nothing_lost("watcher", watcher);
	cg_whep_client_free(watcher);
	cg_test_fixture_stop(&fx);
}

int main(int argc, char **argv)
{
	fx.exe = cg_test_init(&argc, &argv);
	g_test_add_func("/faults/silent-peer", test_silent_peer);
	g_test_add_func("/faults/http-flood", test_http_flood);
	g_test_add_func("/faults/encoder-failure", test_encoder_failure);
	return g_test_run();
}
