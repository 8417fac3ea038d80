/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The whole HTTP request path: the input is what an HTTP/1.1 client writes on its
 * connection, and it goes through libmicrohttpd's parser (request line, headers, chunked
 * and Content-Length bodies, pipelining, WebSocket upgrades) into camgate's real signaling
 * (daemon/signaling/signaling.c: route table, credentials, CORS, WHEP POST/PATCH/DELETE, /status,
 * /metrics, /login, the embedded page, /rooms and its WebSocket), on the real
 * daemon/net/http_mhd.c glue and one GLib context, as the control thread runs them.
 *
 * The sessions are real too (daemon/fanout/session.c: ICE credentials and candidates, DTLS,
 * the state machine and its timer, the gathering wait, trickle, the close), over the
 * in-memory ICE (net/ice_mem.h) of a fake worker whose context is the control context. What
 * is not real: the media and the hub (a camera that has a frame and never changes), and the
 * worker (no thread, no queue). No viewer's ICE answers, so a session never gets past
 * ANSWERED; nothing leaves the process and no thread is made.
 *
 * One signaling object (one MHD daemon) serves every input. Each input is served twice,
 * once per configuration, swapped in like a SIGHUP reload:
 *   A  auth on (the token below), STUN and TURN on 127.0.0.1: WHEP POST suspends the
 *      connection until the fake session has "gathered", then answers;
 *   B  auth off, no server: WHEP POST answers at once.
 * A pass: a socketpair, one end handed to MHD with MHD_add_connection(); the input is
 * written to the other end and the loop is run until the server is idle; then the client
 * shuts its write side and the loop runs until the server closes, and then until MHD has
 * dropped the connection. At the end of the pass every session still open is closed, and
 * none may be left: every reference signaling took was given back.
 *
 * Checks besides "no crash, no leak": what came back starts with "HTTP/1.x NNN " and its
 * head is well-formed; the first request, when it is cut short or malformed (RFC 9112:
 * request line, field lines, framing) in a way libmicrohttpd refuses, never gets a 2xx
 * or a 101 (what MHD 0.9.75 takes against the RFC is listed at enum verdict and in
 * README.md: reported, not checked); with auth on, an input without the token or a login
 * cookie is served nothing but the CORS preflight and the login page; the server closes a
 * connection whose client has closed its side; every session is released; GLib
 * criticals abort.
 *
 * Time is a fake clock (the build wraps clock_gettime for these objects): the login
 * limiter and cookies behave the same on every run. It runs a day ahead of GLib's
 * monotonic clock (which it does not wrap), so the sessions' timers, armed at the fake
 * clock's deadlines, never fire during a run. The build also wraps MHD_get_daemon_info,
 * which http_mhd.c calls on its new daemon, to learn the daemon, and cg_rand_token, so that
 * session ids restart with each pass ("fz00000000000001", ...) and a seed can PATCH and
 * DELETE what it created, and cg_rand_bytes, so that auth's cookie key is FUZZ_COOKIE_KEY
 * and a seed can carry a valid login cookie (make-seeds.py signs them with it).
 *
 * CG_FUZZ_VERBOSE=1 prints each verdict, the log and what came back.
 */
#include <errno.h>
#include <glib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/config.h"
#include "crypto/cert.h"
#include "fuzz.h"
#include "fanout/hub.h"
#include "fanout/worker.h"
#include "hw/frame.h"
#include "media/media.h"
#include "net/ice_mem.h"
#include "proto/sdp.h"
#include "fanout/session.h"
#include "signaling/signaling.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/refcount.h"

#define FUZZ_TOKEN "fuzz-token-0123456789abcdef"
/* Per phase: enough for a few dozen pipelined requests, small enough to stay fast. */
#define DRIVE_MAX    512
#define RESPONSE_MAX (1024 * 1024) /* kept for the checks; the rest is read and dropped */

/* ---- the fake clock: every object of this target reads time through it ---- */

#define FAKE_WALL_S	INT64_C(1700000000)
#define FAKE_PASS_USEC	(INT64_C(3600) * 1000000)  /* each pass an hour later: limits refill */
#define FAKE_AHEAD_USEC (INT64_C(86400) * 1000000) /* of the real monotonic clock, at start */

static int64_t fake_mono_usec; /* set at setup, FAKE_AHEAD_USEC after the real clock */
/* Only this thread, only inside LLVMFuzzerTestOneInput: libFuzzer's own timing (linked
 * into the same binary, so wrapped too) and its watchdog thread keep the real clock. */
static __thread bool fake_clock_on;

int __real_clock_gettime(clockid_t clock, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clock, struct timespec *ts);

int __wrap_clock_gettime(clockid_t clock, struct timespec *ts)
{
	if (!fake_clock_on)
		return __real_clock_gettime(clock, ts);
	switch (clock) {
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
		ts->tv_sec = (time_t)(fake_mono_usec / 1000000);
		ts->tv_nsec = (long)(fake_mono_usec % 1000000) * 1000;
		return 0;
	case CLOCK_REALTIME:
		ts->tv_sec = (time_t)FAKE_WALL_S;
		ts->tv_nsec = 0;
		return 0;
	default:
		return __real_clock_gettime(clock, ts);
	}
}

/* ---- the MHD daemon, learnt from http_mhd.c's first query ---- */

static struct MHD_Daemon *fuzz_mhd;

const union MHD_DaemonInfo *__real_MHD_get_daemon_info(struct MHD_Daemon *daemon,
						       enum MHD_DaemonInfoType type, ...);
const union MHD_DaemonInfo *__wrap_MHD_get_daemon_info(struct MHD_Daemon *daemon,
						       enum MHD_DaemonInfoType type, ...);

const union MHD_DaemonInfo *__wrap_MHD_get_daemon_info(struct MHD_Daemon *daemon,
						       enum MHD_DaemonInfoType type, ...)
{
	if (!fuzz_mhd)
		fuzz_mhd = daemon;
	/* The types asked for here take no further argument. */
	return __real_MHD_get_daemon_info(daemon, type);
}

/* ---- fake media and hub: a camera that has a frame and never changes ---- */

struct cg_media {
	struct cg_frame frame;
};

static void fake_frame_release(struct cg_frame *frame, void *userdata)
{
	abort(); /* the media's own reference is never dropped */
}

const char *cg_media_source_name(const struct cg_media *m)
{
	return "test";
}

const char *cg_media_encoder_name(const struct cg_media *m)
{
	return "passthrough";
}

const char *cg_media_x264_preset(const struct cg_media *m)
{
	return NULL; /* passthrough has no presets */
}

const char *cg_media_state(const struct cg_media *m)
{
	return "streaming";
}

uint32_t cg_media_bitrate(const struct cg_media *m)
{
	return 2000;
}

uint64_t cg_media_heartbeat_usec(const struct cg_media *m)
{
	return (uint64_t)fake_mono_usec;
}

struct cg_frame *cg_media_latest_frame(struct cg_media *m)
{
	return cg_frame_ref(&m->frame);
}

uint32_t cg_media_ssrc(const struct cg_media *m)
{
	return 0x1234;
}

struct cg_h264_profile cg_media_profile(const struct cg_media *m)
{
	return (struct cg_h264_profile){ 0x42, 0xe0, 0x1f };
}

void cg_media_request_keyframe(struct cg_media *m)
{
}

struct cg_hub {
	int unused;
};

struct cg_hub_lane {
	int unused;
};

static struct cg_hub_lane fake_lane;

struct cg_hub_lane *cg_hub_lane(struct cg_hub *hub, unsigned i)
{
	return &fake_lane;
}

unsigned cg_hub_viewers(const struct cg_hub *hub)
{
	return 0;
}

/* No session gets its keys here, so nothing asks for the GOP or a NACKed packet. */
unsigned cg_hub_lane_gop(struct cg_hub_lane *lane, uint64_t max_age_usec,
			 struct cg_media_unit *const **ret_units)
{
	return 0;
}

struct cg_media_unit *cg_hub_lane_find_packet(struct cg_hub_lane *lane, uint16_t seq,
					      unsigned *ret_index)
{
	return NULL;
}

/* ---- a fake worker: the control context, the in-memory ICE ---- */

struct cg_worker {
	struct cg_session_host host; /* the control context, the in-memory ICE */
	struct cg_session_batch batch;
	GPtrArray *sessions; /* attached, each a reference as the real worker holds */
};

static struct cg_worker fake_worker;

struct cg_worker *cg_worker_least_loaded(struct cg_worker **workers, unsigned n)
{
	return &fake_worker;
}

unsigned cg_worker_index(const struct cg_worker *w)
{
	return 0;
}

const struct cg_session_host *cg_worker_host(struct cg_worker *w)
{
	return &w->host;
}

static void fake_worker_attach(void *host_data, struct cg_session *s)
{
	struct cg_worker *w = host_data;

	g_ptr_array_add(w->sessions, cg_session_ref(s));
}

static void fake_worker_detach(void *host_data, struct cg_session *s)
{
	struct cg_worker *w = host_data;

	if (g_ptr_array_remove_fast(w->sessions, s))
		cg_session_unref(s);
}

/* ---- the sessions signaling makes, tracked to close them at the end of a pass ---- */

static GPtrArray *pass_sessions; /* a reference to each session made this pass */
static unsigned session_serial;

void __real_cg_rand_token(char *out, size_t len);
void __wrap_cg_rand_token(char *out, size_t len);

void __wrap_cg_rand_token(char *out, size_t len)
{
	if (fake_clock_on && len == CG_SESSION_ID_LEN)
		snprintf(out, len + 1, "fz%014u", ++session_serial);
	else
		__real_cg_rand_token(out, len);
}

/* ---- the cookie key: make-seeds.py signs the seeds' login cookies with it ---- */

#define FUZZ_COOKIE_KEY "fuzz-cookie-key-0123456789abcdef" /* auth.c's key length, 32 */

/*
 * Set only around this target's calls into auth that make a cookie key (cg_auth_new, and
 * cg_auth_set_credentials when the credentials change, as every pass does): the key is
 * FUZZ_COOKIE_KEY, so a seed can carry a login cookie that passes, and every pass starts
 * with the same key and no revocations. Every other random byte stays random.
 */
static bool known_cookie_key;

void __real_cg_rand_bytes(void *buf, size_t len);
void __wrap_cg_rand_bytes(void *buf, size_t len);

void __wrap_cg_rand_bytes(void *buf, size_t len)
{
	if (known_cookie_key && len == strlen(FUZZ_COOKIE_KEY))
		memcpy(buf, FUZZ_COOKIE_KEY, len);
	else
		__real_cg_rand_bytes(buf, len);
}

static int track(int r, struct cg_session **s)
{
	if (r >= 0)
		g_ptr_array_add(pass_sessions, cg_session_ref(*s));
	return r;
}

int __real_cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
			  const struct cg_sdp_choice *choice, struct cg_session **ret,
			  char **ret_answer);
int __wrap_cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
			  const struct cg_sdp_choice *choice, struct cg_session **ret,
			  char **ret_answer);

int __wrap_cg_session_new(const struct cg_session_setup *setup, const struct cg_sdp_offer *offer,
			  const struct cg_sdp_choice *choice, struct cg_session **ret,
			  char **ret_answer)
{
	return track(__real_cg_session_new(setup, offer, choice, ret, ret_answer), ret);
}

int __real_cg_session_new_gathering(const struct cg_session_setup *setup,
				    const struct cg_sdp_offer *offer,
				    const struct cg_sdp_choice *choice, unsigned cap_ms,
				    cg_session_gathered_fn fn, void *userdata,
				    struct cg_session **ret);
int __wrap_cg_session_new_gathering(const struct cg_session_setup *setup,
				    const struct cg_sdp_offer *offer,
				    const struct cg_sdp_choice *choice, unsigned cap_ms,
				    cg_session_gathered_fn fn, void *userdata,
				    struct cg_session **ret);

int __wrap_cg_session_new_gathering(const struct cg_session_setup *setup,
				    const struct cg_sdp_offer *offer,
				    const struct cg_sdp_choice *choice, unsigned cap_ms,
				    cg_session_gathered_fn fn, void *userdata,
				    struct cg_session **ret)
{
	return track(
		__real_cg_session_new_gathering(setup, offer, choice, cap_ms, fn, userdata, ret),
		ret);
}

int __real_cg_session_new_offer(const struct cg_session_setup *setup, struct cg_session **ret,
				char **ret_offer);
int __wrap_cg_session_new_offer(const struct cg_session_setup *setup, struct cg_session **ret,
				char **ret_offer);

int __wrap_cg_session_new_offer(const struct cg_session_setup *setup, struct cg_session **ret,
				char **ret_offer)
{
	return track(__real_cg_session_new_offer(setup, ret, ret_offer), ret);
}

/* ---- the server, made once ---- */

static const char config_a[] = "[camgate]\n"
			       "listen = 127.0.0.1:8080\n"
			       "auth = on\n"
			       "tls = off\n"
			       "token = " FUZZ_TOKEN "\n"
			       "max-viewers = 2\n"
			       "max-candidates = 4\n"
			       "stun = 127.0.0.1:3478\n"
			       "turn = turn:127.0.0.1:3478\n"
			       "turn-user = fuzz\n"
			       "turn-password = fuzz\n"
			       "server-name = a\n"
			       "cors-origins = https://player.example\n"
			       "audio = none\n";
static const char config_b[] = "[camgate]\n"
			       "listen = 127.0.0.1:8080\n"
			       "auth = off\n"
			       "max-viewers = 2\n"
			       "server-name = a\n"
			       "cors-origins = *\n"
			       "audio = none\n";

static struct {
	GMainContext *ctx;
	struct cg_config *cfg[2];
	struct cg_auth *auth;
	struct cg_cert *cert;
	struct cg_stats stats;
	struct cg_hub hub;
	struct cg_media media;
	struct cg_signaling_camera cameras[2]; /* /cam/main/ and /cam/back/ */
	struct cg_signaling *sig;
	bool verbose;
} F;

static void fuzz_log_discard(enum cg_log_level level, const char *topic, const char *file, int line,
			     const char *func, const char *message)
{
}

static struct cg_config *fuzz_config(const char *text)
{
	struct cg_config *cfg;
	char *error = NULL;

	if (cg_config_parse_data("fuzz-http-server", text, strlen(text), &cfg, &error) < 0) {
		fprintf(stderr, "fuzz-http-server: %s\n", error);
		abort();
	}
	cfg->listen_port = 0; /* any free port: nothing connects there, MHD_add_connection does */
	return cfg;
}

static void fuzz_setup(void)
{
	struct cg_signaling_deps deps;
	int r;

	F.verbose = getenv("CG_FUZZ_VERBOSE") != NULL;
	/* A g_return_if_fail() tripping is a bug of ours too: abort on it. */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	/* Every log line is formatted (a bad format argument would show), then dropped. */
	cg_log_set_level(CG_LOG_TRACE);
	if (!F.verbose)
		cg_log_set_sink(fuzz_log_discard);
	fake_mono_usec = (int64_t)g_get_monotonic_time() + FAKE_AHEAD_USEC;
	pass_sessions = g_ptr_array_new();
	F.ctx = g_main_context_new();
	fake_worker.host = (struct cg_session_host){ .ctx = F.ctx,
						     .ice_ops = &cg_mem_ice_ops,
						     .ice_backend = cg_ice_mem_net_new(),
						     .batch = &fake_worker.batch,
						     .attach = fake_worker_attach,
						     .detach = fake_worker_detach,
						     .host_data = &fake_worker };
	fake_worker.sessions = g_ptr_array_new();
	for (unsigned i = 0; i < CG_SESSION_BATCH; i++)
		fake_worker.batch.msgs[i].buf = fake_worker.batch.slots[i];
	if (cg_cert_new(&F.cert) < 0)
		abort();
	F.cfg[0] = fuzz_config(config_a);
	F.cfg[1] = fuzz_config(config_b);
	known_cookie_key = true;
	r = cg_auth_new(&(struct cg_auth_credentials){ .token = F.cfg[0]->token,
						       .password_hash = F.cfg[0]->password_hash,
						       .required = F.cfg[0]->auth_required },
			&F.auth);
	known_cookie_key = false;
	if (r < 0)
		abort();
	cg_stats_init(&F.stats);
	cg_refcount_init(&F.media.frame.ref);
	F.media.frame.release = fake_frame_release;
	for (unsigned i = 0; i < 2; i++)
		F.cameras[i] = (struct cg_signaling_camera){ .name = i ? "back" : "main",
							     .cfg = F.cfg[0],
							     .media = &F.media,
							     .hub = &F.hub,
							     .stats = &F.stats };
	deps = (struct cg_signaling_deps){
		.cfg = F.cfg[0],
		.cameras = F.cameras,
		.n_cameras = 2,
		.stats = &F.stats,
		.cert = F.cert,
		.ctx = F.ctx,
		.auth = F.auth,
	};
	if (cg_signaling_new(&deps, &F.sig) < 0 || !fuzz_mhd)
		abort();
}

/* ---- driving one connection ---- */

struct pass {
	int client;
	GByteArray *out; /* what the server sent, up to RESPONSE_MAX */
	size_t out_total;
	bool eof;
};

/* Reads whatever the server sent. Returns true if anything came (or the end). */
static bool pass_read(struct pass *p)
{
	uint8_t buf[16384];
	bool progress = false;

	while (!p->eof) {
		ssize_t n = recv(p->client, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != ECONNRESET)
			abort();
		if (n < 0 && errno == EAGAIN)
			break;
		progress = true;
		if (n <= 0) {
			p->eof = true; /* a reset is a close too */
			break;
		}
		if (p->out->len < RESPONSE_MAX)
			g_byte_array_append(p->out, buf,
					    (guint)MIN((size_t)n, RESPONSE_MAX - p->out->len));
		p->out_total += (size_t)n;
	}
	return progress;
}

/* One turn of the control loop, then the client reads. Returns true if anything moved. */
static bool pass_step(struct pass *p)
{
	bool dispatched = g_main_context_iteration(F.ctx, FALSE);

	return pass_read(p) || dispatched;
}

/* Until nothing moves twice in a row (the server waits for the client), or the bound. */
static void pass_settle(struct pass *p)
{
	unsigned quiet = 0;

	for (unsigned i = 0; i < DRIVE_MAX && quiet < 2 && !p->eof; i++)
		quiet = pass_step(p) ? 0 : quiet + 1;
}

/* Writes the input, letting the server run whenever the socket is full. */
static void pass_write(struct pass *p, const uint8_t *data, size_t size)
{
	size_t off = 0;
	unsigned idle = 0;

	while (off < size && idle < DRIVE_MAX && !p->eof) {
		ssize_t n = send(p->client, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN) /* the server has not read yet: let it */
			idle = pass_step(p) ? 0 : idle + 1;
		else if (n < 0 && errno != EINTR)
			return; /* the server closed: the rest is never read */
	}
}

static unsigned mhd_connections(void)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(fuzz_mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/* ---- what a well-formed request is (RFC 9112), for the first one of the input ---- */

/* Worst last: a request gets the worst verdict any of its parts earns. */
enum verdict {
	REQ_OK,	    /* well-formed and complete */
	REQ_UNSURE, /* the RFC lets a server take it or refuse it */
	/* The RFC says refuse, and libmicrohttpd 0.9.75 takes it with camgate's options
	 * (its "strict" level 0): no or two Host fields, a field name that is not a token
	 * (white space before the colon), control characters or non-token bytes in the
	 * method or target; or MHD reads another message than the RFC does: a NUL in the
	 * head, an empty field name, two Content-Length or Transfer-Encoding fields.
	 * Reported, not checked (see README.md). */
	REQ_LAX,
	REQ_BAD,	/* malformed in a way MHD refuses: must never be served */
	REQ_INCOMPLETE, /* cut short: nothing can have served it */
};

struct cursor {
	const uint8_t *p, *end;
};

/* The first reason found for each verdict, for the message of a failed check. */
static const char *verdict_why[REQ_INCOMPLETE + 1];

static enum verdict because(enum verdict v, const char *why)
{
	if (!verdict_why[v])
		verdict_why[v] = why;
	return v;
}

static bool is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ws(uint8_t c)
{
	return c && strchr(" \t\v\f\r", c); /* RFC 9112 §3: what MAY separate the words */
}

/* The next line without its LF (and the CR before it). false: no LF before the end. */
static bool next_line(struct cursor *c, const uint8_t **line, size_t *len)
{
	const uint8_t *lf = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (!lf)
		return false;
	*line = c->p;
	*len = (size_t)(lf - c->p);
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	c->p = lf + 1;
	return true;
}

static bool has_byte(const uint8_t *s, size_t n, uint8_t b)
{
	return memchr(s, b, n) != NULL;
}

static enum verdict worst(enum verdict a, enum verdict b)
{
	return a > b ? a : b;
}

/* "HTTP/" DIGIT "." DIGIT: REQ_OK for 1.x (*http11 for 1.1 and later), else REQ_BAD. */
static enum verdict check_version(const uint8_t *v, size_t n, bool *http11)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !g_ascii_isdigit(v[5]) || v[6] != '.' ||
	    !g_ascii_isdigit(v[7]) || v[5] != '1')
		return because(REQ_BAD, "not HTTP/1.x"); /* 0.9 or 2.0: 400 or 505 */
	*http11 = v[7] != '0';
	return REQ_OK;
}

/* Splits l into at most 4 words at the bytes sep() accepts; empty words count. */
static unsigned split_words(const uint8_t *l, size_t n, bool (*sep)(uint8_t), bool keep_empty,
			    const uint8_t *word[4], size_t len[4])
{
	unsigned k = 0;
	size_t i = 0;

	while (i <= n && k < 4) {
		size_t start = i;

		while (i < n && !sep(l[i]))
			i++;
		if (keep_empty || i > start) {
			word[k] = l + start;
			len[k++] = i - start;
		}
		i++;
	}
	return i <= n ? 4 : k; /* more words than fit: as bad as four */
}

static bool is_sp(uint8_t c)
{
	return c == ' ';
}

static bool split_at_first_and_last_sp(const uint8_t *l, size_t n, const uint8_t *word[4],
				       size_t len[4])
{
	const uint8_t *first = memchr(l, ' ', n), *last = l + n;

	while (last > l && last[-1] != ' ')
		last--;
	if (!first || last - 1 <= first + 1 || first == l || last == l + n)
		return false;
	word[0] = l;
	len[0] = (size_t)(first - l);
	word[1] = first + 1;
	len[1] = (size_t)(last - 1 - word[1]);
	word[2] = last;
	len[2] = (size_t)(l + n - last);
	return true;
}

/*
 * method SP request-target SP HTTP-version. A line that splits so only on any white
 * space is UNSURE (RFC 9112 §3 lets a server do that); one with bytes the grammar has no
 * room for in the method or target is LAX (MHD splits at SP and takes them).
 */
static enum verdict check_request_line(const uint8_t *l, size_t n, bool *http11)
{
	const uint8_t *word[4];
	size_t len[4];
	enum verdict v = REQ_OK;

	if (split_words(l, n, is_sp, true, word, len) != 3 || !len[0] || !len[1]) {
		if (split_words(l, n, is_ws, false, word, len) == 3)
			v = because(REQ_UNSURE,
				    "white space other than one SP in the request line");
		else if (!split_at_first_and_last_sp(l, n, word, len))
			return because(REQ_BAD, "a request line of other than three words");
		else /* MHD's reading: the target is all between the first and the last SP */
			v = because(REQ_LAX, "SP in the target");
	}
	v = worst(v, check_version(word[2], len[2], http11));
	for (size_t i = 0; i < len[0]; i++)
		if (!is_tchar(word[0][i]))
			v = worst(v, because(REQ_LAX, "a method byte that is not a tchar"));
	for (size_t i = 0; i < len[1]; i++)
		if (word[1][i] < 0x21 || word[1][i] == 0x7f)
			v = worst(v, because(REQ_LAX, "a control character in the target"));
	return v;
}

struct framing {
	unsigned hosts, cl_fields, te_fields;
	bool has_cl, cl_bad, chunked;
	bool last_framing; /* the last field was Content-Length or Transfer-Encoding */
	bool misread;	   /* MHD reads this head differently: nothing can be said */
	uint64_t cl;
};

/* A Content-Length value: 1*DIGIT, or a list of one number (RFC 9110 §8.6). */
static void field_content_length(struct framing *f, const uint8_t *v, size_t n)
{
	size_t i = 0;

	f->cl_fields++;
	for (;;) {
		uint64_t x = 0;
		size_t d = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (; i < n && g_ascii_isdigit(v[i]); i++, d++)
			x = x > UINT64_MAX / 16 ? UINT64_MAX / 16 : x * 10 + (uint64_t)(v[i] - '0');
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (d == 0 || (i < n && v[i] != ',')) {
			f->cl_bad = true;
			return;
		}
		if (f->has_cl && f->cl != x)
			f->cl_bad = true;
		f->has_cl = true;
		f->cl = x;
		if (i++ >= n)
			return;
	}
}

/* Transfer-Encoding: chunked must be the last coding (RFC 9112 §6.3). */
static void field_transfer_encoding(struct framing *f, const uint8_t *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	f->te_fields++;
	f->chunked = n >= 7 && g_ascii_strncasecmp((const char *)v + n - 7, "chunked", 7) == 0 &&
		     (n == 7 || strchr(" \t,", v[n - 8]));
}

static bool name_is(const uint8_t *l, size_t n, const char *name)
{
	return n == strlen(name) && g_ascii_strncasecmp((const char *)l, name, n) == 0;
}

/* One field line into f. */
static enum verdict check_field(const uint8_t *l, size_t n, struct framing *f)
{
	enum verdict v = REQ_OK;
	size_t i = 0, name;
	const uint8_t *value;
	size_t vn;

	f->last_framing = false;
	while (i < n && l[i] != ':')
		i++;
	if (i == n)
		return because(REQ_BAD, "a field line without a colon");
	for (name = 0; name < i && is_tchar(l[name]); name++)
		;
	/* MHD 0.9.75 may take an empty name as the end of the header section. */
	if (i == 0) {
		f->misread = true;
		return because(REQ_LAX, "an empty field name");
	}
	/* RFC 9112 §5.1: white space before the colon is a MUST 400. MHD takes the field,
	 * under a name that may not be the one it looks like: it counts as none of ours. */
	if (name < i)
		return because(REQ_LAX, "a field name that is not a token");
	value = l + i + 1;
	vn = n - i - 1;
	while (vn && (*value == ' ' || *value == '\t'))
		value++, vn--;
	f->last_framing =
		name_is(l, name, "content-length") || name_is(l, name, "transfer-encoding");
	/* RFC 9110 §5.5: CR, LF or NUL in a value may be refused or replaced by SP. */
	if (has_byte(value, vn, '\r') || has_byte(value, vn, '\0')) {
		v = because(REQ_UNSURE, "CR or NUL in a field value");
		f->misread = f->last_framing; /* then the framing is anyone's guess */
	}
	if (name_is(l, name, "host"))
		f->hosts++;
	else if (name_is(l, name, "content-length"))
		field_content_length(f, value, vn);
	else if (name_is(l, name, "transfer-encoding"))
		field_transfer_encoding(f, value, vn);
	return v;
}

/*
 * Field lines up to the empty line (the header section, or a chunked body's trailers)
 * into f. Sets *stop when nothing more can be said of the request: cut short, malformed,
 * or read otherwise by MHD.
 */
static enum verdict check_field_section(struct cursor *c, struct framing *f, bool *stop)
{
	enum verdict v = REQ_OK;
	const uint8_t *l;
	size_t n;

	for (;;) {
		*stop = true;
		if (!next_line(c, &l, &n))
			return because(REQ_INCOMPLETE, "no end of a field section");
		if (n == 0)
			break;
		/* MHD ends a line at a NUL (C strings): it reads another message than this. */
		if (has_byte(l, n, '\0'))
			return because(REQ_LAX, "a NUL in a field section");
		if (l[0] == ' ' || l[0] == '\t') { /* refused or joined, §5.2 */
			v = worst(v, because(REQ_UNSURE, "an obs-fold"));
			if (f->last_framing) /* joined, it changes the framing */
				return v;
			continue;
		}
		v = worst(v, check_field(l, n, f));
		if (v == REQ_BAD || f->misread)
			return v;
	}
	*stop = false;
	return v;
}

/* chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF, then 0, trailers, CRLF. */
static enum verdict check_chunked(struct cursor *c)
{
	const uint8_t *l;
	size_t n;

	for (;;) {
		uint64_t size = 0;
		size_t i = 0;

		if (!next_line(c, &l, &n))
			return because(REQ_INCOMPLETE, "no last chunk");
		for (; i < n && g_ascii_isxdigit(l[i]); i++) {
			if (size > UINT64_C(0xffffffffff))
				return because(REQ_INCOMPLETE, "a chunk larger than the input");
			size = size * 16 + (uint64_t)g_ascii_xdigit_value(l[i]);
		}
		if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
			return because(REQ_BAD, "a bad chunk size");
		if (has_byte(l, n, '\r') || has_byte(l, n, '\0'))
			return because(REQ_UNSURE, "CR or NUL in a chunk extension");
		if (size == 0)
			break;
		if ((uint64_t)(c->end - c->p) < size + 1)
			return because(REQ_INCOMPLETE, "a chunk larger than the input");
		c->p += size;
		if (c->p[0] == '\r') {
			if (c->end - c->p < 2)
				return because(REQ_INCOMPLETE, "a chunk without its CRLF");
			c->p++;
		}
		if (c->p[0] != '\n')
			return because(REQ_BAD, "chunk data longer than its size");
		c->p++;
	}
	/* The trailer section: fields a server may drop, only their syntax counts. */
	return check_field_section(c, &(struct framing){ 0 }, &(bool){ false });
}

/* The framing of a request whose fields were read into f, its body at c. */
static enum verdict check_framing(struct cursor *c, const struct framing *f, bool http11)
{
	/* MHD reads the first of each only. */
	if (f->cl_fields > 1 || f->te_fields > 1)
		return because(REQ_LAX, "two Content-Length or Transfer-Encoding fields");
	/* §6.3: a coding other than chunked last, or a bad Content-Length: MUST 400. */
	if (f->te_fields && !f->chunked)
		return because(REQ_BAD, "a transfer coding other than chunked last");
	if (f->te_fields) /* §6.1, §6.3: with Content-Length too, or in HTTP/1.0: either way */
		return worst(f->has_cl || !http11
				     ? because(REQ_UNSURE, "Transfer-Encoding with Content-Length "
							   "or in HTTP/1.0")
				     : REQ_OK,
			     check_chunked(c));
	if (f->cl_bad)
		return because(REQ_BAD, "a Content-Length that is not a number");
	if (f->has_cl && (uint64_t)(c->end - c->p) < f->cl)
		return because(REQ_INCOMPLETE, "a body shorter than its Content-Length");
	return REQ_OK;
}

/* A NUL before the empty line that ends the header section (or the input). */
static bool head_has_nul(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\0')
			return true;
		if (p[i] == '\n' && ((i + 1 < n && p[i + 1] == '\n') ||
				     (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')))
			return false;
	}
	return false;
}

static enum verdict first_request_verdict(const uint8_t *data, size_t size)
{
	struct cursor c = { data, data + size };
	struct framing f = { 0 };
	enum verdict v;
	const uint8_t *l;
	size_t n;
	bool http11 = false, stop;

	/* RFC 9112 §2.2: empty lines before the request line SHOULD be ignored. */
	memset(verdict_why, 0, sizeof(verdict_why));
	do {
		if (!next_line(&c, &l, &n))
			return because(REQ_INCOMPLETE, "no request line");
	} while (n == 0);
	/* MHD ends a line at a NUL (C strings): it reads another request than this. */
	if (head_has_nul(l, (size_t)(c.end - l)))
		return because(REQ_LAX, "a NUL in the header section");
	v = check_request_line(l, n, &http11);
	if (v == REQ_BAD)
		return v;
	if (c.p < c.end && (*c.p == ' ' || *c.p == '\t')) /* §2.2 */
		v = worst(v, because(REQ_UNSURE, "white space before the first field line"));
	v = worst(v, check_field_section(&c, &f, &stop));
	if (stop)
		return v;
	/* §3.2: exactly one Host in HTTP/1.1 (MUST 400). */
	if (http11 && f.hosts != 1)
		v = worst(v, because(REQ_LAX, "not exactly one Host in HTTP/1.1"));
	return worst(v, check_framing(&c, &f, http11));
}

/* ---- what came back ---- */

/* "HTTP/1.x NNN reason" CRLF, then field lines up to an empty line. Returns the status
 * and moves *pos past the head; aborts on anything else. */
static unsigned check_response_head(const uint8_t *r, size_t len, size_t *pos)
{
	struct cursor c = { r + *pos, r + len };
	const uint8_t *l;
	size_t n;
	unsigned status;

	if (!next_line(&c, &l, &n) || n < 13 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    !g_ascii_isdigit(l[7]) || l[8] != ' ' || !g_ascii_isdigit(l[9]) ||
	    !g_ascii_isdigit(l[10]) || !g_ascii_isdigit(l[11]) || l[12] != ' ' || l[9] < '1' ||
	    l[9] > '5' || l[n] != '\r')
		abort();
	status = (unsigned)(l[9] - '0') * 100 + (unsigned)(l[10] - '0') * 10 +
		 (unsigned)(l[11] - '0');
	for (;;) {
		size_t i = 0;

		if (!next_line(&c, &l, &n) || l[n] != '\r')
			abort(); /* a head cut short, or a bare LF of ours */
		if (n == 0)
			break;
		while (i < n && is_tchar(l[i]))
			i++;
		if (i == 0 || i >= n || l[i] != ':')
			abort();
		for (; i < n; i++)
			if ((l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
				abort(); /* a header of ours carries a control character */
	}
	*pos = (size_t)(c.p - r);
	return status;
}

static void check_response(const struct pass *p, enum verdict v)
{
	size_t pos = 0;
	unsigned status;

	if (p->out->len == 0)
		return;
	/* Interim 100 Continue answers come before the final one. */
	do {
		status = check_response_head(p->out->data, p->out->len, &pos);
	} while (status == 100 && pos < p->out->len);
	if (status == 100)
		return;
	if ((v == REQ_BAD || v == REQ_INCOMPLETE) && (status / 100 == 2 || status == 101)) {
		fprintf(stderr, "fuzz-http-server: a %s request (%s) got %u\n",
			v == REQ_BAD ? "malformed" : "truncated", verdict_why[v], status);
		abort();
	}
}

/*
 * With auth on, what an input without the token and without any login cookie may get in
 * 2xx (or 101): OPTIONS' 204 (with the CORS preflight), the login page and its style
 * sheet. Anything else served to it
 * went past the credential check. A status line is looked for at each line start: no
 * body these requests can get holds one (no WebSocket is opened without credentials).
 */
static void check_no_credentials(const struct pass *p, const uint8_t *data, size_t size)
{
	const uint8_t *r = p->out->data, *end;

	if (p->out->len == 0 || memmem(data, size, FUZZ_TOKEN, strlen(FUZZ_TOKEN)) ||
	    memmem(data, size, CG_AUTH_COOKIE "=", strlen(CG_AUTH_COOKIE "=")))
		return;
	end = r + p->out->len;
	for (const uint8_t *l = r; l < end; l++) {
		const uint8_t *head_end;
		size_t rest = (size_t)(end - l);

		if ((l != r && l[-1] != '\n') || rest < 13 || memcmp(l, "HTTP/1.", 7) != 0 ||
		    (l[9] != '2' && memcmp(l + 9, "101", 3) != 0))
			continue;
		head_end = memmem(l, rest, "\r\n\r\n", 4);
		if (!head_end)
			head_end = end;
		/* OPTIONS: the methods a path takes, and the CORS preflight. */
		if (memcmp(l + 9, "204", 3) == 0 &&
		    memmem(l, (size_t)(head_end - l), "Allow: OPTIONS", 14))
			continue;
		if (memcmp(l + 9, "200", 3) == 0 &&
		    memmem(l, (size_t)(head_end - l), "Content-Type: text/css", 22))
			continue; /* the sign-in page's style sheet */
		if (memcmp(l + 9, "200", 3) == 0 &&
		    memmem(head_end, MIN((size_t)(end - head_end), 1024),
			   "<title>camgate: sign in</title>", 31))
			continue;
		fprintf(stderr, "fuzz-http-server: served %.12s without credentials\n", l);
		abort();
	}
}

/* ---- one pass ---- */

static void pass_reset_state(const struct cg_config *cfg)
{
	fake_mono_usec += FAKE_PASS_USEC;
	session_serial = 0;
	cg_stats_fini(&F.stats);
	cg_stats_init(&F.stats);
	/* As a SIGHUP reload does (main.c): new snapshot, same auth object. */
	known_cookie_key = true;
	cg_auth_set_credentials(F.auth,
				&(struct cg_auth_credentials){ .token = cfg->token,
							       .password_hash = cfg->password_hash,
							       .required = cfg->auth_required });
	known_cookie_key = false;
	cg_signaling_set_config(F.sig, cfg);
}

/* Closes what is still open, as the viewers leaving would, and lets the closes land: then
 * every session must be freed (a reference signaling kept would keep one). */
static void pass_close_sessions(void)
{
	for (unsigned i = 0; i < pass_sessions->len; i++)
		cg_session_close(g_ptr_array_index(pass_sessions, i));
	for (unsigned i = 0; i < DRIVE_MAX && g_main_context_iteration(F.ctx, FALSE); i++)
		;
	for (unsigned i = 0; i < pass_sessions->len; i++)
		cg_session_unref(g_ptr_array_index(pass_sessions, i));
	g_ptr_array_set_size(pass_sessions, 0);
	if (cg_session_count() > 0 || fake_worker.sessions->len > 0) {
		fprintf(stderr, "fuzz-http-server: %u session(s) still referenced\n",
			cg_session_count());
		abort();
	}
}

/* The client has closed its side: the server must close too. */
static void pass_until_closed(struct pass *p)
{
	for (unsigned i = 0; i < DRIVE_MAX && !p->eof; i++)
		if (!pass_step(p) && i > 2)
			break;
	if (!p->eof) {
		fprintf(stderr, "fuzz-http-server: the server kept the connection open after "
				"the client closed its side\n");
		abort();
	}
}

static void pass_run(const struct cg_config *cfg, const uint8_t *data, size_t size, enum verdict v)
{
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				    .sin_port = htons(40000) };
	struct pass p = { .out = g_byte_array_new() };
	int sv[2];
	unsigned i;

	pass_reset_state(cfg);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	p.client = sv[1];
	/* MHD owns sv[0] from here, and closes it even on failure. */
	if (MHD_add_connection(fuzz_mhd, sv[0], (const struct sockaddr *)&peer, sizeof(peer)) !=
	    MHD_YES)
		abort();
	pass_write(&p, data, size);
	pass_settle(&p);
	shutdown(p.client, SHUT_WR);
	pass_until_closed(&p);
	close(p.client);
	for (i = 0; i < DRIVE_MAX && mhd_connections() > 0; i++)
		g_main_context_iteration(F.ctx, FALSE);
	if (mhd_connections() > 0) {
		fprintf(stderr, "fuzz-http-server: MHD kept a closed connection\n");
		abort();
	}
	if (F.verbose)
		fprintf(stderr, "--- %s: %zu bytes back ---\n%.*s\n",
			cfg->auth_required ? "A" : "B", p.out_total, (int)p.out->len,
			(const char *)p.out->data);
	check_response(&p, v);
	if (cfg->auth_required)
		check_no_credentials(&p, data, size);
	g_byte_array_unref(p.out);
	pass_close_sessions();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	enum verdict v;

	fake_clock_on = true;
	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	v = first_request_verdict(data, size);
	if (F.verbose)
		fprintf(stderr, "verdict %d: %s\n", v, verdict_why[v] ? verdict_why[v] : "");
	pass_run(F.cfg[0], data, size, v);
	pass_run(F.cfg[1], data, size, v);
	fake_clock_on = false;
	return 0;
}
