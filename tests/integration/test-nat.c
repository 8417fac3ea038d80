/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAT traversal (issue 6, item 4) against a real STUN/TURN server: Debian's coturn
 * (turnserver) on 127.0.0.1 in the test's own network namespace, started and ended by PID.
 *
 * - STUN and TURN configured: POST /whep waits for gathering, so the answer carries a relayed
 *   candidate (WHEP has no server-to-client trickle: draft-ietf-wish-whep-03 §4.4.2, as WHIP RFC
 * 9725 §4.3.2), the Link headers name both servers, and a viewer still gets frames.
 * - An unreachable TURN server (a socket that swallows what it gets): the answer comes within
 *   the cap, with host candidates, and the control loop kept serving meanwhile.
 * - A viewer that hangs up while its answer is waiting: its session is closed.
 * - Nothing configured: the answer is immediate, host candidates only, no Link header, and
 *   no packet reaches the default STUN port.
 * - TURN REST API credentials (coturn's use-auth-secret, camgate's --turn-secret): the
 *   daemon's agent allocates with the credentials it derives; the Link header carries
 *   "EXPIRY:camgate" and a derived password, never the secret, and those allocate too; a
 *   wrong secret gets no relay. The secret, the derived password and whole session ids
 *   stay out of the daemon's log.
 *
 * usage: test-nat CAMGATE --tap   (inside run-in-netns.sh; skips without turnserver)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nice/agent.h>

#include "crypto/cert.h"
#include "daemon.h"
#include "http_client.h"
#include "util/time.h"
#include "whep_client.h"

#define HOST	      "127.0.0.1"
#define TURN_USER     "camgate"
#define TURN_PASS     "nat-test-secret"
#define TURN_SECRET   "nat-test-rest-secret"
#define GATHER_CAP_MS 3000 /* WHEP_GATHER_CAP_MS in daemon/signaling/signaling.c */

static const char *camgate_path;
static struct cg_cert *client_cert;

/* ---- UDP helpers: a free port, a socket that swallows datagrams, a STUN probe. ---- */

static int udp_bind(uint16_t port, uint16_t *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
	if (ret_port)
		*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* Datagrams waiting on fd (read and counted). */
static unsigned udp_drain(int fd)
{
	char buf[2048];
	unsigned n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static uint16_t free_udp_port(void)
{
	uint16_t port;

	close(udp_bind(0, &port));
	return port;
}

/* Whether a STUN Binding request (RFC 8489 §5) to port gets any answer within ms. */
static bool stun_answers(uint16_t port, unsigned ms)
{
	uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,	2,
			    3,	  4,	5,    6,    7,	  8,	9,    10,   11, 12 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = udp_bind(0, NULL);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool ok;

	inet_pton(AF_INET, HOST, &to.sin_addr);
	sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to));
	ok = poll(&pfd, 1, (int)ms) == 1 && udp_drain(fd) > 0;
	close(fd);
	return ok;
}

/* ---- coturn ---- */

struct turn {
	GPid pid;
	uint16_t port;
	char *dir;
};

/* A failed assertion aborts the test: the server goes with it. */
static void turn_child_setup(gpointer userdata)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* auth: coturn's authentication options (two of them). */
static bool turn_start(struct turn *t, const char *const auth[2])
{
	g_autofree char *listen = NULL, *log = NULL, *pidfile = NULL;
	uint64_t deadline = cg_mono_usec() + 10 * CG_USEC_PER_SEC;
	GError *err = NULL;

	t->port = free_udp_port();
	t->dir = g_dir_make_tmp("cg-nat-XXXXXX", NULL);
	g_assert_nonnull(t->dir);
	listen = g_strdup_printf("--listening-port=%u", t->port);
	log = g_strdup_printf("--log-file=%s/turn.log", t->dir);
	pidfile = g_strdup_printf("--pidfile=%s/turn.pid", t->dir);
	const char *argv[] = { "turnserver",
			       "-n",
			       "--listening-ip=" HOST,
			       "--relay-ip=" HOST,
			       listen,
			       "--min-port=49152",
			       "--max-port=49400",
			       auth[0],
			       auth[1],
			       "--realm=camgate.test",
			       "--no-tls",
			       "--no-dtls",
			       "--no-cli",
			       "--allow-loopback-peers",
			       "--simple-log",
			       log,
			       pidfile,
			       NULL };
	if (!g_spawn_async(NULL, (char **)argv, NULL,
			   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
				   G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
			   turn_child_setup, NULL, &t->pid, &err)) {
		g_test_message("cannot start turnserver: %s", err->message);
		g_error_free(err);
		return false;
	}
	while (cg_mono_usec() < deadline)
		if (stun_answers(t->port, 100))
			return true;
	return false;
}

/* The long-term credential mechanism with one user and password (RFC 8489 §9.2). */
static bool turn_start_lt(struct turn *t)
{
	const char *auth[] = { "--lt-cred-mech", "--user=" TURN_USER ":" TURN_PASS };

	return turn_start(t, auth);
}

static void turn_stop(struct turn *t)
{
	g_autofree char *log = g_strdup_printf("%s/turn.log", t->dir);
	g_autofree char *pidfile = g_strdup_printf("%s/turn.pid", t->dir);

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
		g_spawn_close_pid(t->pid);
	}
	unlink(log);
	unlink(pidfile);
	rmdir(t->dir);
	g_free(t->dir);
}

/* ---- HTTP ---- */

struct http_result {
	bool done;
	int err;
	int status;
	char *headers;
	char *body;
	uint64_t done_usec;
};

static void on_http_done(int err, const struct cg_http_response *resp, void *userdata)
{
	struct http_result *res = userdata;

	res->done = true;
	res->done_usec = cg_mono_usec();
	res->err = err;
	if (resp) {
		res->status = resp->status;
		res->headers = g_strdup(resp->headers);
		res->body = g_strndup(resp->body, resp->body_len);
	}
}

static bool http_is_done(void *data)
{
	return ((struct http_result *)data)->done;
}

static void http_result_clear(struct http_result *res)
{
	g_free(res->headers);
	g_free(res->body);
	memset(res, 0, sizeof(*res));
}

/* A recvonly offer whose only candidate is a socket that never answers: the daemon's
 * agent has something to check, and nothing connects. */
static char *quiet_offer(uint16_t port)
{
	char cand[128];
	const char *cands[] = { cand };
	struct cg_whep_offer_params p = {
		.ice_ufrag = "natt",
		.ice_pwd = "abcdefghijklmnopqrstuvwx",
		.fingerprint = cg_cert_fingerprint(client_cert),
		.candidates = cands,
		.n_candidates = 1,
	};
	char *buf = g_malloc(16 * 1024);

	snprintf(cand, sizeof(cand), "candidate:1 1 UDP 2130706431 %s %u typ host", HOST, port);
	g_assert_cmpint(cg_whep_build_offer(buf, 16 * 1024, &p), >, 0);
	return buf;
}

static struct cg_http_request *http_start(struct cg_test_daemon *d, const char *method,
					  const char *path, const char *body,
					  struct http_result *res)
{
	struct cg_http_request_args args = {
		.host = HOST,
		.port = d->port,
		.method = method,
		.path = path,
		.content_type = body ? "application/sdp" : NULL,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = GATHER_CAP_MS + 5000,
	};
	struct cg_http_request *req;

	memset(res, 0, sizeof(*res));
	g_assert_cmpint(cg_http_request_start(d->ctx, &args, on_http_done, res, &req), ==, 0);
	return req;
}

static void http_sync(struct cg_test_daemon *d, const char *method, const char *path,
		      const char *body, struct http_result *res)
{
	http_start(d, method, path, body, res);
	g_assert_true(cg_test_loop_until(d->ctx, http_is_done, res, GATHER_CAP_MS + 6000));
	g_assert_cmpint(res->err, ==, 0);
}

/* How many Link header lines contain needle (all of them when needle is ""). */
static unsigned links_with(const struct http_result *res, const char *needle)
{
	g_auto(GStrv) lines = g_strsplit(res->headers ? res->headers : "", "\n", -1);
	unsigned n = 0;

	for (char **l = lines; *l; l++)
		if (g_ascii_strncasecmp(*l, "Link:", 5) == 0 && strstr(*l, needle))
			n++;
	return n;
}

/* a=candidate lines of the answer with " typ <type> ". */
static unsigned candidates_of_type(const char *sdp, const char *type)
{
	g_autofree char *needle = g_strdup_printf(" typ %s", type);
	g_auto(GStrv) lines = g_strsplit(sdp ? sdp : "", "\n", -1);
	unsigned n = 0;

	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, "a=candidate:") && strstr(*l, needle))
			n++;
	return n;
}

static void daemon_start(struct cg_test_daemon *d, const char *const *ice_args)
{
	const char *args[16] = { "--size=320x240", "--fps=30", "--bitrate=300",
				 "--log-level=info" };
	unsigned n = 4;

	for (; ice_args && *ice_args; ice_args++)
		args[n++] = *ice_args;
	g_assert_cmpint(cg_test_daemon_start(d, g_main_context_default(), camgate_path, args), ==,
			0);
}

static void daemon_stop(struct cg_test_daemon *d)
{
	int status = cg_test_daemon_stop(d);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* ---- the tests ---- */

/* A real viewer, offered the relayed candidate among the rest, still gets the stream. */
static void expect_viewer_works(struct cg_test_daemon *d, unsigned min_candidates)
{
	struct cg_whep_client *c = cg_test_viewer_start(d, client_cert, NULL);

	g_assert_nonnull(c);
	g_assert_true(cg_test_wait_frames(d, c, 30, 15000));
	g_assert_cmpuint(cg_whep_client_stats(c)->answer_candidates, >=, min_candidates);
	g_test_message("viewer: %" G_GUINT64_FORMAT " frames, answer with %u candidates",
		       cg_whep_client_stats(c)->frames, cg_whep_client_stats(c)->answer_candidates);
	cg_whep_client_free(c);
}

static void test_turn(void)
{
	struct turn t = { 0 };
	struct cg_test_daemon d;
	struct http_result res;
	uint16_t quiet_port;
	int quiet = udp_bind(0, &quiet_port);
	g_autofree char *offer = quiet_offer(quiet_port);
	g_autofree char *stun = NULL, *turn = NULL, *stun_link = NULL, *turn_link = NULL;
	uint64_t t0;

	g_assert_true(turn_start_lt(&t));
	stun = g_strdup_printf("--stun=%s:%u", HOST, t.port);
	turn = g_strdup_printf("--turn=%s:%u", HOST, t.port);
	const char *ice[] = { stun,
			      turn,
			      "--turn-user=" TURN_USER,
			      "--turn-password=" TURN_PASS,
			      "--turn-transport=udp",
			      NULL };
	daemon_start(&d, ice);

	t0 = cg_mono_usec();
	http_sync(&d, "POST", "/whep", offer, &res);
	g_test_message("answer after %.1f ms:\n%s", (res.done_usec - t0) / 1000.0, res.body);
	g_assert_cmpint(res.status, ==, 201);
	/* Gathering finished: a reachable server does not make the viewer wait for the cap. */
	g_assert_cmpuint(res.done_usec - t0, <, (GATHER_CAP_MS - 500) * 1000ull);
	g_assert_cmpuint(candidates_of_type(res.body, "relay"), >=, 1);
	g_assert_cmpuint(candidates_of_type(res.body, "host"), >=, 1);
	g_assert_nonnull(strstr(res.body, "a=end-of-candidates"));
	stun_link = g_strdup_printf("<stun:%s:%u>; rel=\"ice-server\"", HOST, t.port);
	turn_link = g_strdup_printf("<turn:%s:%u?transport=udp>; rel=\"ice-server\"", HOST, t.port);
	g_assert_cmpuint(links_with(&res, stun_link), ==, 1);
	g_assert_cmpuint(links_with(&res, turn_link), ==, 1);
	g_assert_cmpuint(links_with(&res, "username=\"" TURN_USER "\""), ==, 1);
	http_result_clear(&res);

	/* WHIP RFC 9725 §4.6 (reused by WHEP): a player may ask before offering. */
	http_sync(&d, "OPTIONS", "/whep", NULL, &res);
	g_assert_cmpuint(links_with(&res, stun_link), ==, 1);
	g_assert_cmpuint(links_with(&res, turn_link), ==, 1);
	http_result_clear(&res);

	expect_viewer_works(&d, 2);
	daemon_stop(&d);
	turn_stop(&t);
	close(quiet);
}

struct unreachable {
	struct cg_test_daemon d;
	bool tcp;
	int hole; /* the "TURN server": receives (or accepts), never answers */
	uint16_t hole_port;
	int quiet;
	uint16_t quiet_port;
};

/* A TCP listener that never accepts: the kernel completes connections into its backlog. */
static int tcp_listen(uint16_t *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 16), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* What reached the silent server: datagrams, or connections (each closed). */
static unsigned hole_drain(struct unreachable *u)
{
	unsigned n = 0;
	int c;

	if (!u->tcp)
		return udp_drain(u->hole);
	while ((c = accept(u->hole, NULL, NULL)) >= 0) {
		close(c);
		n++;
	}
	return n;
}

static void unreachable_start(struct unreachable *u, bool tcp, const char *extra)
{
	g_autofree char *turn = NULL;

	u->tcp = tcp;
	u->hole = tcp ? tcp_listen(&u->hole_port) : udp_bind(0, &u->hole_port);
	u->quiet = udp_bind(0, &u->quiet_port);
	turn = g_strdup_printf("--turn=%s:%u", HOST, u->hole_port);
	const char *ice[] = { turn,
			      "--turn-user=u",
			      "--turn-password=p",
			      tcp ? "--turn-transport=tcp" : "--turn-transport=udp",
			      extra,
			      NULL };
	daemon_start(&u->d, ice);
}

static void unreachable_stop(struct unreachable *u)
{
	daemon_stop(&u->d);
	close(u->hole);
	close(u->quiet);
}

/*
 * While one answer waits for a silent server, the control loop serves everyone else; the
 * answer comes by the cap at the latest, with host candidates. (libnice 0.1.21 gives up on
 * a silent server after ~2 s by itself, over UDP and TCP alike: the cap guards the rest.)
 */
static void expect_answer_despite(bool tcp)
{
	struct unreachable u = { 0 };
	struct http_result post, status;
	g_autofree char *offer = NULL;
	uint64_t t0;

	unreachable_start(&u, tcp, NULL);
	offer = quiet_offer(u.quiet_port);
	t0 = cg_mono_usec();
	http_start(&u.d, "POST", "/whep", offer, &post);
	http_sync(&u.d, "GET", "/status", NULL, &status);
	g_assert_cmpint(status.status, ==, 200);
	g_assert_false(post.done);
	g_assert_true(cg_test_loop_until(u.d.ctx, http_is_done, &post, GATHER_CAP_MS + 6000));
	g_test_message("/status after %.1f ms, answer after %.1f ms",
		       (status.done_usec - t0) / 1000.0, (post.done_usec - t0) / 1000.0);
	g_assert_cmpint(post.err, ==, 0);
	g_assert_cmpint(post.status, ==, 201);
	g_assert_cmpuint(post.done_usec - t0, <, (GATHER_CAP_MS + 1500) * 1000ull);
	g_assert_cmpuint(candidates_of_type(post.body, "host"), >=, 1);
	g_assert_cmpuint(candidates_of_type(post.body, "relay"), ==, 0);
	g_assert_cmpuint(links_with(&post, "<turn:"), ==, 1);
	/* The daemon did try the configured server. */
	g_assert_cmpuint(hole_drain(&u), >, 0);
	http_result_clear(&post);
	http_result_clear(&status);
	unreachable_stop(&u);
}

static void test_unreachable_turn_udp(void)
{
	expect_answer_despite(false);
}

static void test_silent_turn_tcp(void)
{
	expect_answer_despite(true);
}

/* POSTs until one is answered 201 (503 while the viewer limit is taken), up to ms; returns
 * how many were refused, or -1 when none was admitted in time. */
static int post_until_created(struct cg_test_daemon *d, const char *offer, unsigned ms)
{
	uint64_t deadline = cg_mono_usec() + ms * 1000ull;
	struct http_result res;
	int refused = 0;

	while (cg_mono_usec() < deadline) {
		http_sync(d, "POST", "/whep", offer, &res);
		if (res.status == 201) {
			http_result_clear(&res);
			return refused;
		}
		g_assert_cmpint(res.status, ==, 503);
		http_result_clear(&res);
		refused++;
		cg_test_loop_wait(d->ctx, 100);
	}
	return -1;
}

/*
 * A viewer hangs up while its answer waits: its session must not hold a place for the
 * 30 s setup timeout. With --max-viewers=1, the next viewer is refused while the first
 * waits, and admitted once the daemon found the first gone.
 */
static void test_hangup_while_waiting(void)
{
	struct unreachable u = { 0 };
	struct http_result post, status;
	struct cg_http_request *req;
	g_autofree char *offer = NULL;
	int refused;

	unreachable_start(&u, false, "--max-viewers=1");
	offer = quiet_offer(u.quiet_port);
	req = http_start(&u.d, "POST", "/whep", offer, &post);
	/* Once /status answers, the POST went out too (same loop, sent first). */
	http_sync(&u.d, "GET", "/status", NULL, &status);
	http_result_clear(&status);
	g_assert_false(post.done);
	cg_http_request_cancel(req);
	refused = post_until_created(&u.d, offer, 2 * GATHER_CAP_MS + 3000);
	g_test_message("refused %d times while the first viewer's answer waited", refused);
	g_assert_cmpint(refused, >, 0);
	unreachable_stop(&u);
}

/* A LAN without servers: nothing waits, nothing goes out. */
static void test_nothing_configured(void)
{
	struct cg_test_daemon d;
	struct http_result res;
	uint16_t quiet_port;
	int quiet = udp_bind(0, &quiet_port);
	int stun_default = udp_bind(3478, NULL);
	g_autofree char *offer = quiet_offer(quiet_port);
	uint64_t t0;

	daemon_start(&d, NULL);
	t0 = cg_mono_usec();
	http_sync(&d, "POST", "/whep", offer, &res);
	g_assert_cmpint(res.status, ==, 201);
	g_assert_cmpuint(res.done_usec - t0, <, 1000 * 1000ull);
	g_assert_cmpuint(candidates_of_type(res.body, "host"), >=, 1);
	g_assert_cmpuint(candidates_of_type(res.body, "srflx"), ==, 0);
	g_assert_cmpuint(candidates_of_type(res.body, "relay"), ==, 0);
	g_assert_cmpuint(links_with(&res, ""), ==, 0);
	http_result_clear(&res);
	http_sync(&d, "OPTIONS", "/whep", NULL, &res);
	g_assert_cmpuint(links_with(&res, ""), ==, 0);
	http_result_clear(&res);
	expect_viewer_works(&d, 1);
	daemon_stop(&d);
	g_assert_cmpuint(udp_drain(stun_default), ==, 0);
	close(stun_default);
	close(quiet);
}

/* ---- TURN REST API credentials ---- */

/* Redirects this process's stderr, which the daemon inherits when it is spawned, to path;
 * returns the saved descriptor for stderr_restore(). */
static int stderr_to_file(const char *path)
{
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	g_assert_cmpint(saved, >=, 0);
	g_assert_cmpint(fd, >=, 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static void stderr_restore(int saved)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* The username and credential of the Link header that names a TURN server. */
static bool turn_link_credentials(const struct http_result *res, char **ret_user, char **ret_cred)
{
	g_auto(GStrv) lines = g_strsplit(res->headers ? res->headers : "", "\n", -1);

	for (char **l = lines; *l; l++) {
		const char *u, *c;

		if (g_ascii_strncasecmp(*l, "Link:", 5) != 0 || !strstr(*l, "<turn:"))
			continue;
		u = strstr(*l, "username=\"");
		c = strstr(*l, "credential=\"");
		if (!u || !c)
			return false;
		u += strlen("username=\"");
		c += strlen("credential=\"");
		*ret_user = g_strndup(u, strcspn(u, "\""));
		*ret_cred = g_strndup(c, strcspn(c, "\""));
		return true;
	}
	return false;
}

/* The session id of a 201's Location (/whep/<id>), or NULL. */
static char *location_id(const struct http_result *res)
{
	g_auto(GStrv) lines = g_strsplit(res->headers ? res->headers : "", "\n", -1);

	for (char **l = lines; *l; l++) {
		const char *slash;

		if (g_ascii_strncasecmp(*l, "Location:", 9) != 0 || !(slash = strrchr(*l, '/')))
			continue;
		return g_strndup(slash + 1, strcspn(slash + 1, "\r\n "));
	}
	return NULL;
}

static void on_probe_gathered(NiceAgent *agent, guint stream_id, gpointer data)
{
	*(bool *)data = true;
}

/* Nothing arrives but STUN, which libnice handles itself. */
static void on_probe_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len,
			  gchar *buf, gpointer data)
{
}

static void on_probe_closed(GObject *agent, GAsyncResult *res, gpointer data)
{
	*(bool *)data = true;
}

static bool is_true(void *data)
{
	return *(bool *)data;
}

/*
 * Whether the TURN server grants an allocation for user and password: an agent of the
 * test's own, as a viewer's browser would use the Link header, gathers against it and
 * looks for a relayed candidate.
 */
static bool relay_allocates(GMainContext *ctx, uint16_t port, const char *user,
			    const char *password)
{
	NiceAgent *agent = nice_agent_new(ctx, NICE_COMPATIBILITY_RFC5245);
	NiceAddress lo;
	bool done = false, relayed = false;
	GSList *cands;
	guint stream;

	g_object_set(agent, "ice-tcp", FALSE, "upnp", FALSE, NULL);
	/* libnice skips loopback when it enumerates interfaces. */
	nice_address_init(&lo);
	g_assert_true(nice_address_set_from_string(&lo, HOST));
	nice_agent_add_local_address(agent, &lo);
	stream = nice_agent_add_stream(agent, 1);
	g_assert_cmpuint(stream, >, 0);
	g_assert_true(nice_agent_set_relay_info(agent, stream, 1, HOST, port, user, password,
						NICE_RELAY_TYPE_TURN_UDP));
	/* libnice reads its sockets (the server's answers too) only with a receiver. */
	g_assert_true(nice_agent_attach_recv(agent, stream, 1, ctx, on_probe_recv, NULL));
	g_signal_connect(agent, "candidate-gathering-done", G_CALLBACK(on_probe_gathered), &done);
	g_assert_true(nice_agent_gather_candidates(agent, stream));
	g_assert_true(cg_test_loop_until(ctx, is_true, &done, 15000));
	cands = nice_agent_get_local_candidates(agent, stream, 1);
	for (GSList *l = cands; l; l = l->next)
		relayed |= ((NiceCandidate *)l->data)->type == NICE_CANDIDATE_TYPE_RELAYED;
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	/* Releases the allocation (a Refresh with lifetime 0) before the agent goes. */
	done = false;
	nice_agent_close_async(agent, on_probe_closed, &done);
	g_assert_true(cg_test_loop_until(ctx, is_true, &done, 5000));
	g_object_unref(agent);
	return relayed;
}

/* CG_TURN_REST_TTL_S in daemon/app/ice_servers.h. */
#define REST_TTL_S (12 * 60 * 60)

static void test_turn_rest(void)
{
	const char *auth[] = { "--use-auth-secret", "--static-auth-secret=" TURN_SECRET };
	struct turn t = { 0 };
	struct cg_test_daemon d;
	struct http_result res;
	uint16_t quiet_port;
	int quiet = udp_bind(0, &quiet_port), saved;
	g_autofree char *offer = quiet_offer(quiet_port);
	g_autofree char *turn = NULL, *turn_link = NULL, *user = NULL, *cred = NULL, *id = NULL;
	g_autofree char *logpath = NULL, *log = NULL, *tag = NULL;
	int64_t before, after, expiry;
	char *end;

	g_assert_true(turn_start(&t, auth));
	turn = g_strdup_printf("--turn=%s:%u", HOST, t.port);
	logpath = g_strdup_printf("%s/camgate.log", t.dir);
	const char *ice[] = { turn, "--turn-secret=" TURN_SECRET, "--turn-transport=udp",
			      "--log-level=debug", NULL };
	saved = stderr_to_file(logpath);
	daemon_start(&d, ice);
	stderr_restore(saved);

	before = g_get_real_time() / G_USEC_PER_SEC;
	http_sync(&d, "POST", "/whep", offer, &res);
	after = g_get_real_time() / G_USEC_PER_SEC;
	g_test_message("answer:\n%s", res.body);
	g_assert_cmpint(res.status, ==, 201);
	/* The daemon's agent allocated with the credentials it derived from the secret. */
	g_assert_cmpuint(candidates_of_type(res.body, "relay"), >=, 1);

	turn_link = g_strdup_printf("<turn:%s:%u?transport=udp>; rel=\"ice-server\"", HOST, t.port);
	g_assert_cmpuint(links_with(&res, turn_link), ==, 1);
	g_assert_true(turn_link_credentials(&res, &user, &cred));
	g_test_message("Link username \"%s\"", user);
	/* "EXPIRY:camgate", expiring REST_TTL_S after the response was made. */
	expiry = g_ascii_strtoll(user, &end, 10);
	g_assert_cmpint(*end, ==, ':');
	g_assert_cmpstr(end + 1, ==, "camgate");
	g_assert_cmpint(expiry, >=, before + REST_TTL_S);
	g_assert_cmpint(expiry, <=, after + REST_TTL_S);
	/* base64 of an HMAC-SHA1, never the secret itself. */
	g_assert_cmpuint(strlen(cred), ==, 28);
	g_assert_null(strstr(res.headers, TURN_SECRET));
	id = location_id(&res);
	g_assert_nonnull(id);
	g_assert_cmpuint(strlen(id), >, 8);
	http_result_clear(&res);

	/* The viewer's credentials allocate too, and the server does check them. */
	g_assert_true(relay_allocates(d.ctx, t.port, user, cred));
	g_assert_false(relay_allocates(d.ctx, t.port, user, TURN_SECRET));

	daemon_stop(&d);
	g_assert_true(g_file_get_contents(logpath, &log, NULL, NULL));
	fputs(log, stderr);
	g_assert_null(strstr(log, TURN_SECRET));
	g_assert_null(strstr(log, cred));
	/* The session's log lines carry the first 8 characters of its id, never all of it. */
	tag = g_strdup_printf("[%.8s]", id);
	g_assert_nonnull(strstr(log, tag));
	g_assert_null(strstr(log, id));
	unlink(logpath);

	/* A daemon with the wrong secret: the server refuses its allocation. */
	const char *wrong[] = { turn, "--turn-secret=not-" TURN_SECRET, "--turn-transport=udp",
				NULL };
	daemon_start(&d, wrong);
	http_sync(&d, "POST", "/whep", offer, &res);
	g_assert_cmpint(res.status, ==, 201);
	g_assert_cmpuint(candidates_of_type(res.body, "host"), >=, 1);
	g_assert_cmpuint(candidates_of_type(res.body, "relay"), ==, 0);
	http_result_clear(&res);
	daemon_stop(&d);

	turn_stop(&t);
	close(quiet);
}

int main(int argc, char **argv)
{
	g_autofree char *turnserver = g_find_program_in_path("turnserver");
	int r;

	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CAMGATE --tap\n", argv[0]);
		return 2;
	}
	if (!turnserver) {
		const char *skip = g_getenv("CG_SKIP_STATUS");

		printf("1..0 # SKIP no turnserver (coturn): tools/install-deps.sh --test\n");
		fprintf(stderr, "SKIP: no turnserver (coturn): tools/install-deps.sh --test\n");
		return skip ? atoi(skip) : 77;
	}
	camgate_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	g_assert_cmpint(cg_cert_new(&client_cert), ==, 0);
	g_test_add_func("/nat/stun-turn", test_turn);
	g_test_add_func("/nat/unreachable-turn-udp", test_unreachable_turn_udp);
	g_test_add_func("/nat/silent-turn-tcp", test_silent_turn_tcp);
	g_test_add_func("/nat/hangup-while-waiting", test_hangup_while_waiting);
	g_test_add_func("/nat/nothing-configured", test_nothing_configured);
	g_test_add_func("/nat/turn-rest", test_turn_rest);
	r = g_test_run();
	client_cert = cg_cert_free(client_cert);
	return r;
}
