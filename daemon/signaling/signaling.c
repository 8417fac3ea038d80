/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "http"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "app/auth.h"
#include "build-config.h"
#include "app/config.h"
#include "fanout/hub.h"
#include "signaling/hostnames.h"
#include "hw/frame.h"
#include "signaling/ice_servers.h"
#include "media/media.h"
#include "signaling/metrics.h"
#include "net/http_mhd.h"
#include "net/http_req.h"
#include "proto/sdp.h"
#include "signaling/rooms/rooms.h"
#include "fanout/session.h"
#include "fanout/worker.h"
#include "signaling/signaling.h"
#include "signaling/viewers.h"
#include "media/snapshot.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "signaling/rooms/ws.h"
#include "web/assets.h"

#define SIGNALING_MAX_BODY (64 * 1024)
#define WHEP_PREFIX	   "/whep/"
/* How long POST /whep waits for server-reflexive and relayed candidates when STUN or TURN
 * is configured: a reachable server answers in a round trip, an unreachable one would keep
 * libnice retransmitting for ~40 s, and players time out their POST (WHEP has no
 * server-to-client trickle: draft-ietf-wish-whep-03 §4.4.2, as WHIP RFC 9725 §4.3.2, so
 * what is not in the answer is never used). */
#define WHEP_GATHER_CAP_MS 3000
#define SNAPSHOT_QUALITY   85
/* A picture at most this old is served again: a client polling fast costs no encodes. */
#define SNAPSHOT_REUSE_USEC (100 * CG_USEC_PER_MSEC)
/* How long after viewers leave their freed memory goes back to the system (and how often,
 * at most, while viewers keep leaving). */
#define SIGNALING_TRIM_MS 2000
/* Browsers open about six connections to a server; players one or two. More from one
 * address is a client holding connections open to starve others. */
#define SIGNALING_CONNECTIONS_PER_CLIENT 16
/* An idle keep-alive connection is closed after this long (a WebSocket is not idle: rooms
 * pings it; a POST /whep suspended while gathering is not timed out). */
#define SIGNALING_IDLE_TIMEOUT_S 15
/* At most one "Host refused" line per this interval: a scanner must not flood the log. */
#define SIGNALING_MISDIRECTED_LOG_USEC (10 * CG_USEC_PER_SEC)

struct cg_signaling {
	struct cg_signaling_deps deps;
	struct cg_http *http;
	struct cg_rooms *rooms;
	struct cg_viewers *viewers; /* every viewer, WHEP and room calls (deps.viewers) */
	GHashTable *pending; /* session → struct whep_pending: answers waiting for STUN/TURN */
	GHashTable *logins;  /* struct login_wait set: sign-ins waiting for their hash */
	struct cg_ice_servers ice;
	double start_time_s;
	struct cg_snapshot *snapshot;
	struct snapshot_cache *snaps;	/* one per camera */
	GSource *trim_timer;		/* armed while departed viewers' memory waits for a trim */
	bool trim_again;		/* a viewer left after the timer was armed */
	struct cg_hostnames *hostnames; /* the Host names we answer to */
	uint64_t misdirected_log_usec;
};

struct route;

/* A camera's last picture, served again for SNAPSHOT_REUSE_USEC. */
struct snapshot_cache {
	uint8_t *jpeg;
	size_t len;
	uint64_t usec;
};

/* One HTTP request's state across MHD's calls of the handler. */
struct request {
	GByteArray *body;
	bool too_large;
	bool authorized;	      /* credentials checked once, with the headers */
	const struct route *route;    /* NULL: no such path or method */
	bool path_known;	      /* the path exists, for another method */
	const char *method;	      /* MHD's string, valid for the request */
	const char *url;	      /* likewise */
	char *path;		      /* url without its /cam/NAME prefix: what the routes see */
	char *prefix;		      /* "/cam/NAME" when the path named the camera, else "" */
	char *redirect;		      /* "/cam/NAME/" for "/cam/NAME": answered with 308 */
	struct whep_pending *pending; /* POST /whep suspended while its session gathers */
	struct cg_session *created;   /* POST /whep: the session answered (a reference) */
	const struct cg_signaling_camera *camera; /* /cam/NAME/…, else the first camera */
	unsigned refuse; /* non-zero: the status to refuse it with (signaling_gate) */
	const char *refuse_reason;
	char *cors_origin;	  /* the Access-Control-Allow-Origin to send, or NULL: no CORS */
	char *set_cookie;	  /* a reissued sign-in cookie to send (cg_auth_refresh_cookie) */
	struct login_wait *login; /* POST /login suspended while its password is hashed */
};

/*
 * A POST /login whose connection is suspended while its password is hashed off the control
 * loop (cg_auth_login_async): PBKDF2 takes tens of milliseconds, and the control loop feeds
 * the watchdog. Owned by the request; in sig->logins until the handler runs again.
 */
struct login_wait {
	struct cg_signaling *sig;
	struct MHD_Connection *conn;
	struct cg_auth_login *login; /* NULL once done has run */
	int result;		     /* cg_auth_login_fn's, or -ESHUTDOWN */
	char *cookie;
	bool resumed;
};

/*
 * A POST /whep whose connection is suspended (MHD_suspend_connection) until its session
 * has gathered server-reflexive and relayed candidates (STYLE 4.4): the control loop goes
 * on serving everyone else meanwhile. Owned by the request; in sig->pending until the
 * handler runs again or the request ends.
 */
struct whep_pending {
	struct MHD_Connection *conn;
	struct cg_session *session; /* a reference */
	struct cg_sdp_offer *offer;
	struct cg_sdp_choice choice;
	bool resumed;
	int status; /* the gathering report, or -ESHUTDOWN: the daemon stops */
};

typedef enum MHD_Result (*route_fn)(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req);

#define ROUTE_PUBLIC (1u << 0) /* served without a credential */
#define ROUTE_PAGE   (1u << 1) /* a browser navigates here: send it to /login, not a 401 */

struct route {
	const char *method;
	const char *path;
	bool prefix; /* path is a prefix, the rest is a resource id */
	route_fn handle;
	unsigned flags;
};

static char *signaling_allowed_methods(const char *url);

static const char *signaling_header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/*
 * What every response carries: nothing of ours may be framed, sniffed as another type,
 * leak its URL (a WHEP Location is a capability) or reach a script of another site. The
 * page loads its scripts, styles and icons from this server alone; its favicon is a data:
 * URL. HSTS only with a certificate the admin gave: a self-signed one is accepted per
 * browser, and HSTS would turn that exception into a hard failure.
 */
static void signaling_add_security_headers(struct cg_signaling *sig, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; connect-src 'self'; img-src 'self' data:; "
				"frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Permissions-Policy", "microphone=(self)");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (sig->deps.cfg->tls && sig->deps.cfg->tls_cert_path)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* For rooms' responses (deps.add_http_headers). */
static void signaling_add_security_headers_cb(void *userdata, struct MHD_Response *resp)
{
	signaling_add_security_headers(userdata, resp);
}

/* Adds the common headers (and CORS where the request earned it), queues and drops resp. */
static enum MHD_Result signaling_queue(struct cg_signaling *sig, struct request *req,
				       struct MHD_Connection *conn, unsigned status,
				       struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	signaling_add_security_headers(sig, resp);
	if (req && req->set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", req->set_cookie);
	if (req && req->cors_origin) {
		/* A WHEP player on an origin the admin listed reads Location and the answer. */
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", req->cors_origin);
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"Location, Link, Accept-Patch, Retry-After");
	}
	/* The answer depends on Origin: caches must not serve one origin's to another. */
	if (req && req->path && g_str_has_prefix(req->path, "/whep"))
		MHD_add_response_header(resp, "Vary", "Origin");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result respond(struct cg_signaling *sig, struct request *req,
			       struct MHD_Connection *conn, unsigned status,
			       const char *content_type, const void *body, size_t len,
			       enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);

	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return signaling_queue(sig, req, conn, status, resp);
}

/* A text/plain error with a reason for the client: bad input changes nothing else. */
static enum MHD_Result respond_error(struct cg_signaling *sig, struct request *req,
				     struct MHD_Connection *conn, unsigned status,
				     const char *reason)
{
	char *text = g_strdup_printf("%s\n", reason);
	enum MHD_Result r = respond(sig, req, conn, status, "text/plain; charset=utf-8", text,
				    strlen(text), MHD_RESPMEM_MUST_COPY);

	g_free(text);
	return r;
}

static bool content_type_is(struct MHD_Connection *conn, const char *expected)
{
	return cg_http_media_type_is(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		expected);
}

/* The ice-server Link headers (WHIP RFC 9725 §4.6, reused by the WHEP draft), one per
 * server. Made for each response: TURN REST credentials (turn-secret) expire. */
static void add_ice_links(struct cg_signaling *sig, struct MHD_Response *resp)
{
	char **links = cg_ice_servers_links(sig->deps.cfg);

	for (char **l = links; l && *l; l++)
		MHD_add_response_header(resp, "Link", *l); /* MHD copies it */
	g_strfreev(links);
}

static enum MHD_Result handle_options(struct cg_signaling *sig, struct MHD_Connection *conn,
				      const char *url, struct request *req)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char *allow;

	/* A CORS preflight is answered only for the origins signaling_gate allowed (the
	 * listed ones, on /whep): any other page's browser then refuses to send. */
	if (req->cors_origin) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods",
					"POST, PATCH, DELETE, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Content-Type, Authorization");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	}
	allow = signaling_allowed_methods(url);
	MHD_add_response_header(resp, "Allow", allow);
	g_free(allow);
	if (g_str_has_prefix(url, "/whep"))
		MHD_add_response_header(resp, "Accept-Post", "application/sdp");
	/* A player may ask before its offer (WHIP RFC 9725 §4.6, which the WHEP draft
	 * follows); TURN credentials only go to those allowed to watch anyway. */
	if (strcmp(url, "/whep") == 0 && req->authorized)
		add_ice_links(sig, resp);
	return signaling_queue(sig, req, conn, MHD_HTTP_NO_CONTENT, resp);
}

static enum MHD_Result handle_asset(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req)
{
	/* With several cameras "/" is the grid of them all; /cam/NAME/ is one camera's page. */
	bool grid = strcmp(url, "/") == 0 && !req->prefix[0] && sig->deps.n_cameras > 1;
	const struct cg_web_asset *asset = cg_web_asset_find(grid ? "/grid.html" : url);

	if (!asset)
		return respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "not found");
	return respond(sig, req, conn, MHD_HTTP_OK, asset->content_type, asset->data, asset->len,
		       MHD_RESPMEM_PERSISTENT);
}

/* Every viewer, whatever signaling brought it: WHEP sessions and camgate's room calls. */
static unsigned signaling_viewer_count(const struct cg_signaling *sig)
{
	return cg_viewers_count(sig->viewers);
}

/* One camera's part of /status and /cameras (no braces). */
static void status_camera_json(GString *json, const struct cg_signaling_camera *c)
{
	const struct cg_config *cfg = c->cfg;
	struct cg_stats *st = c->stats;

	g_string_append_printf(
		json,
		"\"camera\":\"%s\",\"source\":\"%s\",\"encoder\":\"%s\","
		"\"width\":%u,\"height\":%u,\"fps\":%u,\"bitrate_kbps\":%u,"
		"\"camera_viewers\":%u,\"frames_captured\":%" G_GUINT64_FORMAT
		",\"frames_encoded\":%" G_GUINT64_FORMAT ",\"frames_dropped\":%" G_GUINT64_FORMAT
		",\"keyframes\":%" G_GUINT64_FORMAT ",\"keyframe_requests\":%" G_GUINT64_FORMAT
		",\"copied_bytes\":%" G_GUINT64_FORMAT ",\"bitrate_target_kbps\":%u"
		",\"latency_ms\":{"
		"\"encode_p50\":%.2f,\"encode_p95\":%.2f,"
		"\"capture_to_send_p50\":%.2f,\"capture_to_send_p95\":%.2f}",
		c->name, cg_media_source_name(c->media), cg_media_encoder_name(c->media),
		cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps, cg_hub_viewers(c->hub),
		cg_stats_get(&st->frames_captured), cg_stats_get(&st->frames_encoded),
		cg_stats_get(&st->frames_dropped), cg_stats_get(&st->keyframes),
		cg_stats_get(&st->keyframe_requests), cg_stats_get(&st->copied_bytes),
		cg_media_bitrate(c->media), cg_stats_percentile_ms(st, &st->encode, 50),
		cg_stats_percentile_ms(st, &st->encode, 95),
		cg_stats_percentile_ms(st, &st->capture_to_send, 50),
		cg_stats_percentile_ms(st, &st->capture_to_send, 95));
}

/* GET /status (the first camera's) and /cam/NAME/status: the camera, and "viewers" for
 * the whole daemon (one limit covers every camera). */
static enum MHD_Result handle_status(struct cg_signaling *sig, struct MHD_Connection *conn,
				     const char *url, struct request *req)
{
	GString *json = g_string_new(NULL);
	enum MHD_Result r;

	g_string_printf(json, "{\"version\":\"%s\",\"viewers\":%u,\"cameras\":%u,", CG_VERSION,
			signaling_viewer_count(sig), sig->deps.n_cameras);
	status_camera_json(json, req->camera);
	g_string_append(json, "}\n");
	r = respond(sig, req, conn, MHD_HTTP_OK, "application/json", json->str, json->len,
		    MHD_RESPMEM_MUST_COPY);
	g_string_free(json, TRUE);
	return r;
}

/* GET /cameras: every camera, the first first (the grid page's list). */
static enum MHD_Result handle_cameras(struct cg_signaling *sig, struct MHD_Connection *conn,
				      const char *url, struct request *req)
{
	GString *json = g_string_new("{\"cameras\":[");
	enum MHD_Result r;

	for (unsigned i = 0; i < sig->deps.n_cameras; i++) {
		g_string_append(json, i ? ",{" : "{");
		status_camera_json(json, &sig->deps.cameras[i]);
		g_string_append_printf(json, ",\"name\":\"%s\",\"viewers\":%u,\"state\":\"%s\"}",
				       sig->deps.cameras[i].name,
				       cg_hub_viewers(sig->deps.cameras[i].hub),
				       cg_media_state(sig->deps.cameras[i].media));
	}
	g_string_append(json, "]}\n");
	r = respond(sig, req, conn, MHD_HTTP_OK, "application/json", json->str, json->len,
		    MHD_RESPMEM_MUST_COPY);
	g_string_free(json, TRUE);
	return r;
}

/*
 * A viewer holds about 220 KiB of heap (libnice's two 64 KiB receive buffers per
 * component, GnuTLS, the SRTP keys), all freed when it leaves. glibc keeps freed chunks
 * in its arenas, resident, and each round of viewers lands on other free pages: resident
 * memory crept up with churn (5 KiB a join over 2,000) while the heap in use came back to
 * its size (tests/bench/churn). malloc_trim() hands the free pages back. It walks every
 * arena under its lock (0.1-3 ms measured), so it runs on the control loop, once viewers
 * have left (their worker has freed what they held by then), at most every
 * SIGNALING_TRIM_MS while they keep leaving.
 */
static gboolean signaling_on_trim(gpointer userdata)
{
	struct cg_signaling *sig = userdata;
	uint64_t start = cg_mono_usec();

#ifdef __GLIBC__
	malloc_trim(0);
#endif
	cg_debug("heap trimmed in %.2f ms", (cg_mono_usec() - start) / 1000.0);
	if (sig->trim_again) {
		sig->trim_again = false;
		return G_SOURCE_CONTINUE;
	}
	g_source_unref(sig->trim_timer);
	sig->trim_timer = NULL;
	return G_SOURCE_REMOVE;
}

static void signaling_trim_soon(struct cg_signaling *sig)
{
	if (sig->trim_timer) {
		sig->trim_again = true;
		return;
	}
	sig->trim_timer = g_timeout_source_new(SIGNALING_TRIM_MS);
	g_source_set_callback(sig->trim_timer, signaling_on_trim, sig, NULL);
	g_source_attach(sig->trim_timer, sig->deps.ctx);
}

/* Rooms hand upgraded connections back to MHD (deps.http_kick). */
static void signaling_http_kick_cb(void *userdata)
{
	struct cg_signaling *sig = userdata;

	if (sig->http)
		cg_http_kick(sig->http);
}

/* The rooms' sessions close elsewhere; they tell through deps.session_closed. */
static void signaling_trim_soon_cb(void *userdata)
{
	signaling_trim_soon(userdata);
}

/* Every started WHEP session ends here, on the control loop, once its worker has closed
 * it. */
static void signaling_on_session_closed(struct cg_session *s, void *userdata)
{
	struct cg_signaling *sig = userdata;

	signaling_trim_soon(sig);
	cg_viewers_remove(sig->viewers, s);
}

static enum MHD_Result whep_reply_created(struct cg_signaling *sig, struct request *req,
					  struct MHD_Connection *conn, struct cg_session *s,
					  char *answer)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(answer), answer, MHD_RESPMEM_MUST_COPY);
	char *location = g_strconcat(req->prefix, WHEP_PREFIX, cg_session_id(s), NULL);
	enum MHD_Result r;

	MHD_add_response_header(resp, "Content-Type", "application/sdp");
	MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Accept-Patch", "application/trickle-ice-sdpfrag");
	add_ice_links(sig, resp);
	r = signaling_queue(sig, req, conn, MHD_HTTP_CREATED, resp);
	g_free(location);
	g_free(answer);
	return r;
}

/* Registers and starts an answered session (takes s's reference and answer) and says 201;
 * reserved: its place was kept while it gathered. */
static enum MHD_Result whep_created(struct cg_signaling *sig, struct MHD_Connection *conn,
				    struct request *req, struct cg_session *s, char *answer,
				    bool reserved)
{
	cg_viewers_add(sig->viewers, s, CG_VIEWER_WHEP, req->camera, reserved);
	req->created = s;
	cg_stats_add(&sig->deps.stats->sessions_created, 1);
	cg_session_start(s);
	cg_info("[%.8s] new viewer, %u in all", cg_session_id(s), signaling_viewer_count(sig));
	return whep_reply_created(sig, req, conn, s, answer);
}

static enum MHD_Result whep_too_many(struct cg_signaling *sig, struct request *req,
				     struct MHD_Connection *conn)
{
	const struct cg_config *cfg = sig->deps.cfg;
	struct MHD_Response *resp;

	cg_stats_add(&sig->deps.stats->sessions_refused, 1);
	cg_notice("viewer limit of %u reached, refusing a new one", cfg->max_viewers);
	resp = MHD_create_response_from_buffer(
		strlen("too many viewers\n"), (void *)"too many viewers\n", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Retry-After", "10");
	return signaling_queue(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* Parses and negotiates; on failure writes the HTTP status and reason. */
static int whep_negotiate(struct cg_signaling *sig, const struct request *req,
			  struct cg_sdp_offer *offer, struct cg_sdp_choice *choice,
			  unsigned *ret_status, const char **ret_reason)
{
	struct cg_sdp_capabilities caps;
	int r;

	cg_session_capabilities(req->camera->media, req->camera->audio, &caps);
	r = cg_sdp_parse_offer((const char *)req->body->data, req->body->len, offer, ret_reason);
	if (r < 0) {
		*ret_status = r == -E2BIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
		return r;
	}
	r = cg_sdp_negotiate(offer, &caps, choice, ret_reason);
	if (r < 0)
		*ret_status = r == -ENOTSUP ? MHD_HTTP_NOT_ACCEPTABLE : MHD_HTTP_BAD_REQUEST;
	return r;
}

void cg_signaling_session_setup(const struct cg_signaling_deps *deps,
				const struct cg_signaling_camera *cam,
				cg_session_closed_fn on_closed, void *userdata,
				struct cg_session_setup *ret)
{
	struct cg_worker *w = cg_worker_least_loaded(deps->workers, deps->n_workers);

	*ret = (struct cg_session_setup){
		.worker = w,
		.media = cam->media,
		.lane = cg_hub_lane(cam->hub, cg_worker_index(w)),
		.stats = cam->stats,
		.cert = deps->cert,
		.loopback_only = cg_config_listens_on_loopback(deps->cfg),
		.cfg = cam->cfg,
		.ice = deps->ice,
		.audio = cam->audio,
		.control_ctx = deps->ctx,
		.on_closed = on_closed,
		.on_closed_userdata = userdata,
	};
}

static void whep_session_setup(struct cg_signaling *sig, const struct request *req,
			       struct cg_session_setup *ret)
{
	cg_signaling_session_setup(&sig->deps, req->camera, signaling_on_session_closed, sig, ret);
}

static struct whep_pending *whep_pending_free(struct whep_pending *p)
{
	cg_session_unref(p->session);
	free(p->offer);
	g_free(p);
	return NULL;
}

/* The request ended while suspended (the daemon stops): nobody will get this answer. */
static void whep_pending_cancel(struct cg_signaling *sig, struct whep_pending *p)
{
	cg_info("[%.8s] request ended before its answer, closing", cg_session_id(p->session));
	g_hash_table_remove(sig->pending, p->session);
	cg_viewers_unreserve(sig->viewers);
	cg_session_close(p->session);
	whep_pending_free(p);
}

/* Gathering ended (or its cap passed): MHD calls the handler again, whep_resume answers. */
static void whep_on_gathered(struct cg_session *s, int status, void *userdata)
{
	struct cg_signaling *sig = userdata;
	struct whep_pending *p = g_hash_table_lookup(sig->pending, s);

	/* Not there: the request was cancelled and closed the session already. */
	if (!p || p->resumed)
		return;
	p->resumed = true;
	p->status = status;
	MHD_resume_connection(p->conn);
	cg_http_kick(sig->http);
}

/*
 * Whether the client closed its side while suspended (MHD does not watch a suspended
 * socket): end of stream on a peek. A client that only half-closed after its request
 * would look the same; WHEP players and browsers do not. With TLS the close_notify alert
 * is data, so only the TCP close is seen; the answer then fails to send instead.
 */
static bool whep_peer_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char byte;

	return info && recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static enum MHD_Result whep_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
				   struct request *req)
{
	struct whep_pending *p = req->pending;
	struct cg_session *s = cg_session_ref(p->session);
	char *answer = NULL;
	int r = p->status;

	req->pending = NULL;
	g_hash_table_remove(sig->pending, s);
	if (r != -ESHUTDOWN && whep_peer_gone(conn))
		r = -EPIPE;
	if (r != -ESHUTDOWN && r != -ECONNRESET && r != -EPIPE)
		r = cg_session_answer(s, p->offer, &p->choice, &answer);
	whep_pending_free(p);
	if (r < 0) {
		cg_info("[%.8s] no answer: %s", cg_session_id(s),
			r == -EPIPE ? "the viewer hung up while we gathered" : strerror(-r));
		cg_session_close(s);
		cg_session_unref(s);
		cg_viewers_unreserve(sig->viewers);
		if (r == -EPIPE)
			return MHD_NO;
		return respond_error(sig, req, conn,
				     r == -ESHUTDOWN ? MHD_HTTP_SERVICE_UNAVAILABLE
						     : MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot create the session");
	}
	return whep_created(sig, conn, req, s, answer, true);
}

/*
 * With STUN or TURN the answer must wait for their candidates (WHEP has no
 * server-to-client trickle: draft-ietf-wish-whep-03 §4.4.2, as WHIP RFC 9725 §4.3.2):
 * suspend the connection, never the control loop. Takes offer.
 */
static enum MHD_Result whep_suspend(struct cg_signaling *sig, struct MHD_Connection *conn,
				    struct request *req, const struct cg_session_setup *setup,
				    struct cg_sdp_offer *offer, const struct cg_sdp_choice *choice)
{
	struct whep_pending *p = g_new0(struct whep_pending, 1);
	int r = cg_session_new_gathering(setup, offer, choice, WHEP_GATHER_CAP_MS, whep_on_gathered,
					 sig, &p->session);

	p->offer = offer;
	if (r < 0) {
		cg_warn("cannot create a session: %s", strerror(-r));
		whep_pending_free(p);
		return respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot create the session");
	}
	p->conn = conn;
	p->choice = *choice;
	req->pending = p;
	g_hash_table_insert(sig->pending, p->session, p);
	/* Until it is answered it counts against the limit: it will be a viewer in a moment. */
	cg_viewers_reserve(sig->viewers);
	cg_debug("[%.8s] waiting for STUN/TURN candidates", cg_session_id(p->session));
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static enum MHD_Result whep_post(struct cg_signaling *sig, struct MHD_Connection *conn,
				 const char *url, struct request *req)
{
	struct cg_session_setup setup;
	struct cg_sdp_offer *offer;
	struct cg_sdp_choice choice;
	struct cg_session *s;
	const char *reason = "";
	unsigned status = 0;
	char *answer;
	int r;

	if (!content_type_is(conn, "application/sdp"))
		return respond_error(sig, req, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     "a WHEP offer must be Content-Type: application/sdp");
	if (cg_viewers_full(sig->viewers))
		return whep_too_many(sig, req, conn);
	offer = cg_new0(struct cg_sdp_offer, 1);
	r = whep_negotiate(sig, req, offer, &choice, &status, &reason);
	if (r < 0) {
		cg_stats_add(&sig->deps.stats->sessions_refused, 1);
		cg_info("offer refused (%u): %s", status, reason);
		free(offer);
		return respond_error(sig, req, conn, status, reason);
	}
	whep_session_setup(sig, req, &setup);
	if (cg_ice_servers_any(&sig->ice))
		return whep_suspend(sig, conn, req, &setup, offer, &choice);
	/* No server to ask: the host candidates are all there is, answer now. */
	r = cg_session_new(&setup, offer, &choice, &s, &answer);
	free(offer);
	if (r < 0) {
		cg_warn("cannot create a session: %s", strerror(-r));
		return respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot create the session");
	}
	return whep_created(sig, conn, req, s, answer, false);
}

static struct cg_session *whep_lookup(struct cg_signaling *sig, const char *url)
{
	const char *id = cg_http_resource_id(url, WHEP_PREFIX, CG_SESSION_ID_LEN);

	return cg_viewers_lookup(sig->viewers, id);
}

/* Bounds what one viewer can make its ICE agent check (STYLE 4.14). */
static int whep_count_candidates(struct cg_signaling *sig, struct cg_session *s, unsigned n)
{
	int r = cg_viewers_trickle(sig->viewers, s, n);

	if (r == -E2BIG)
		cg_notice("[%.8s] more than %u remote candidates, refusing them", cg_session_id(s),
			  sig->deps.cfg->max_candidates);
	return r;
}

static enum MHD_Result whep_patch(struct cg_signaling *sig, struct MHD_Connection *conn,
				  const char *url, struct request *req)
{
	struct cg_session *s = whep_lookup(sig, url);
	struct cg_sdp_fragment *frag;
	const char *reason = "";
	enum MHD_Result mr;
	int r;

	if (!s)
		return respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "no such session");
	if (!content_type_is(conn, "application/trickle-ice-sdpfrag"))
		return respond_error(sig, req, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     "PATCH needs Content-Type: application/trickle-ice-sdpfrag");
	frag = cg_new0(struct cg_sdp_fragment, 1);
	r = cg_sdp_parse_fragment((const char *)req->body->data, req->body->len, frag, &reason);
	if (r < 0)
		mr = respond_error(sig, req, conn, MHD_HTTP_BAD_REQUEST, reason);
	else if (whep_count_candidates(sig, s, frag->n_candidates) < 0)
		mr = respond_error(sig, req, conn, MHD_HTTP_TOO_MANY_REQUESTS,
				   "too many ICE candidates for this session");
	else if (cg_session_add_remote_candidates(s, frag) < 0)
		mr = respond_error(sig, req, conn, MHD_HTTP_UNPROCESSABLE_CONTENT,
				   "ICE credentials differ: ICE restart is not supported");
	else
		mr = respond(sig, req, conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0,
			     MHD_RESPMEM_PERSISTENT);
	free(frag);
	return mr;
}

static enum MHD_Result whep_delete(struct cg_signaling *sig, struct MHD_Connection *conn,
				   const char *url, struct request *req)
{
	struct cg_session *s = whep_lookup(sig, url);

	if (!s)
		return respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "no such session");
	cg_info("[%.8s] viewer left (DELETE)", cg_session_id(s));
	cg_session_close(s);
	cg_viewers_remove(sig->viewers, s);
	return respond(sig, req, conn, MHD_HTTP_OK, NULL, NULL, 0, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handle_rooms(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req)
{
	return cg_rooms_handle(sig->rooms, conn, url, req->method, req->body->data, req->body->len);
}

static enum MHD_Result handle_metrics(struct cg_signaling *sig, struct MHD_Connection *conn,
				      const char *url, struct request *req)
{
	struct cg_metrics_camera *cams = cg_new0(struct cg_metrics_camera, sig->deps.n_cameras);
	struct cg_metrics_input in = {
		.stats = sig->deps.stats,
		.version = CG_VERSION,
		.viewers = signaling_viewer_count(sig),
		.max_viewers = sig->deps.cfg->max_viewers,
		.start_time_s = sig->start_time_s,
		.cameras = cams,
		.n_cameras = sig->deps.n_cameras,
	};
	enum MHD_Result r;
	char *text;

	for (unsigned i = 0; i < sig->deps.n_cameras; i++) {
		const struct cg_signaling_camera *c = &sig->deps.cameras[i];

		cams[i] = (struct cg_metrics_camera){
			.name = c->name,
			.stats = c->stats,
			.source = cg_media_source_name(c->media),
			.encoder = cg_media_encoder_name(c->media),
			.width = c->cfg->width,
			.height = c->cfg->height,
			.fps = c->cfg->fps,
			.viewers = cg_hub_viewers(c->hub),
			.bitrate_kbps = c->cfg->bitrate_kbps,
			.bitrate_target_kbps = cg_media_bitrate(c->media),
			.media_heartbeat_age_s =
				(double)(cg_mono_usec() - cg_media_heartbeat_usec(c->media)) / 1e6,
		};
	}
	text = cg_metrics_render(&in);
	free(cams);
	r = respond(sig, req, conn, MHD_HTTP_OK, CG_METRICS_CONTENT_TYPE, text, strlen(text),
		    MHD_RESPMEM_MUST_COPY);
	g_free(text);
	return r;
}

/* Encodes the camera's newest frame unless its last picture is recent enough to serve again. */
static int snapshot_refresh(struct cg_signaling *sig, const struct cg_signaling_camera *cam,
			    struct snapshot_cache *c)
{
	uint64_t now = cg_mono_usec();
	struct cg_frame *frame;
	uint8_t *jpeg;
	size_t len;
	int r;

	if (c->jpeg && now - c->usec < SNAPSHOT_REUSE_USEC)
		return 0;
	if (!sig->snapshot)
		return -ENOTSUP;
	frame = cg_media_latest_frame(cam->media);
	if (!frame)
		return -EAGAIN;
	r = cg_snapshot_encode(sig->snapshot, frame, SNAPSHOT_QUALITY, &jpeg, &len);
	cg_frame_unref(frame);
	if (r < 0)
		return r;
	g_free(c->jpeg);
	c->jpeg = jpeg;
	c->len = len;
	c->usec = now;
	cg_stats_add(&sig->deps.stats->snapshots, 1);
	return 0;
}

static enum MHD_Result handle_snapshot(struct cg_signaling *sig, struct MHD_Connection *conn,
				       const char *url, struct request *req)
{
	struct snapshot_cache *c = &sig->snaps[req->camera - sig->deps.cameras];
	int r = snapshot_refresh(sig, req->camera, c);

	if (r == -EAGAIN)
		return respond_error(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "no frame captured yet");
	if (r == -ENOTSUP)
		return respond_error(sig, req, conn, MHD_HTTP_NOT_IMPLEMENTED,
				     "this source's frames cannot be read by the CPU");
	if (r < 0) {
		cg_warn("snapshot failed: %s", strerror(-r));
		return respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "snapshot failed");
	}
	return respond(sig, req, conn, MHD_HTTP_OK, "image/jpeg", c->jpeg, c->len,
		       MHD_RESPMEM_MUST_COPY);
}

static const char login_head[] =
	"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	"<title>camgate: sign in</title><link rel=\"stylesheet\" href=\"/login.css\">"
	"</head><body>"
	"<form method=\"post\" action=\"/login\"><h1>camgate</h1>";
static const char login_tail[] =
	"<label>Password or access token<br><input type=\"password\" name=\"secret\" "
	"autocomplete=\"current-password\" autofocus required></label>"
	"<button>Sign in</button></form></body></html>\n";

static enum MHD_Result login_page(struct cg_signaling *sig, struct request *req,
				  struct MHD_Connection *conn, unsigned status, const char *error)
{
	char *html = g_strconcat(login_head, error ? "<p class=\"e\">" : "", error ? error : "",
				 error ? "</p>" : "", login_tail, NULL);
	enum MHD_Result r = respond(sig, req, conn, status, "text/html; charset=utf-8", html,
				    strlen(html), MHD_RESPMEM_MUST_COPY);

	g_free(html);
	return r;
}

static enum MHD_Result handle_login_get(struct cg_signaling *sig, struct MHD_Connection *conn,
					const char *url, struct request *req)
{
	return login_page(sig, req, conn, MHD_HTTP_OK, NULL);
}

static enum MHD_Result redirect(struct cg_signaling *sig, struct request *req,
				struct MHD_Connection *conn, const char *location,
				const char *cookie)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(resp, "Location", location);
	if (cookie)
		MHD_add_response_header(resp, "Set-Cookie", cookie);
	return signaling_queue(sig, req, conn, MHD_HTTP_SEE_OTHER, resp);
}

/* The answer to a sign-in, once its secret was checked. */
static enum MHD_Result login_answer(struct cg_signaling *sig, struct request *req,
				    struct MHD_Connection *conn, int r, const char *cookie)
{
	if (r == 0) {
		cg_info("browser signed in");
		return redirect(sig, req, conn, "/", cookie);
	}
	if (r == -EBUSY) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			strlen("busy, try again in a moment\n"),
			(void *)"busy, try again in a moment\n", MHD_RESPMEM_PERSISTENT);

		MHD_add_response_header(resp, "Retry-After", "1");
		return signaling_queue(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
	}
	if (r == -ESHUTDOWN)
		return respond_error(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "camgate is stopping");
	if (r == -EIO)
		return respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "sign-in failed");
	cg_stats_add(&sig->deps.stats->auth_failures, 1);
	cg_notice("sign-in refused%s",
		  r == -EAGAIN ? " (too many failures from this client, waiting)" : "");
	if (r == -EAGAIN)
		return login_page(sig, req, conn, MHD_HTTP_TOO_MANY_REQUESTS,
				  "Too many failed attempts: wait a minute and try again.");
	return login_page(sig, req, conn, MHD_HTTP_UNAUTHORIZED, "Wrong password or token.");
}

static void login_wait_free(struct login_wait *w)
{
	if (w->login)
		cg_auth_login_cancel(w->login);
	g_free(w->cookie);
	g_free(w);
}

/* cg_auth_login_fn: the hash is done; the handler answers when MHD runs it again. */
static void login_on_done(int result, char *set_cookie, void *userdata)
{
	struct login_wait *w = userdata;

	w->login = NULL;
	w->result = result;
	w->cookie = set_cookie;
	if (w->resumed)
		return;
	w->resumed = true;
	MHD_resume_connection(w->conn);
	cg_http_kick(w->sig->http);
}

static enum MHD_Result login_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
				    struct request *req)
{
	struct login_wait *w = req->login;
	enum MHD_Result r;

	g_hash_table_remove(sig->logins, w);
	req->login = NULL;
	r = login_answer(sig, req, conn, w->result, w->cookie);
	login_wait_free(w);
	return r;
}

static enum MHD_Result handle_login_post(struct cg_signaling *sig, struct MHD_Connection *conn,
					 const char *url, struct request *req)
{
	/* The fuzzed parser (tests/fuzz/fuzz-auth.c); it clears what it frees. */
	char *secret = cg_auth_form_secret((const char *)req->body->data, req->body->len);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct login_wait *w;
	int r;

	if (!secret)
		return login_answer(sig, req, conn, -EACCES, NULL);
	w = cg_new0(struct login_wait, 1);
	w->sig = sig;
	w->conn = conn;
	/* The client's address: one client guessing is throttled without locking out others. */
	r = cg_auth_login_async(sig->deps.auth, ci ? ci->client_addr : NULL, secret,
				sig->deps.cfg->tls, cg_wall_usec() / CG_USEC_PER_SEC,
				cg_mono_usec(), sig->deps.ctx, login_on_done, w, &w->login);
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
	if (r < 0) {
		w->login = NULL;
		login_wait_free(w);
		return login_answer(sig, req, conn, r, NULL);
	}
	req->login = w;
	g_hash_table_add(sig->logins, w);
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static enum MHD_Result handle_logout(struct cg_signaling *sig, struct MHD_Connection *conn,
				     const char *url, struct request *req)
{
	/* Revokes this browser's sign-in for good (a stolen copy of the cookie dies too). */
	int r = cg_auth_logout(sig->deps.auth, signaling_header(conn, MHD_HTTP_HEADER_COOKIE),
			       cg_wall_usec() / CG_USEC_PER_SEC);

	if (r < 0 && r != -ENOENT)
		cg_warn("signing out: cannot keep the revocation: %s", strerror(-r));
	return redirect(sig, req, conn, "/login",
			CG_AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
				       "SameSite=Strict");
}

static const struct route routes[] = {
	{ "OPTIONS", "/", true, handle_options, ROUTE_PUBLIC },
	{ "GET", "/login", false, handle_login_get, ROUTE_PUBLIC },
	{ "GET", "/login.css", false, handle_asset, ROUTE_PUBLIC },
	{ "POST", "/login", false, handle_login_post, ROUTE_PUBLIC },
	{ "POST", "/logout", false, handle_logout, ROUTE_PUBLIC },
	{ "GET", "/rooms", true, handle_rooms, 0 },
	{ "POST", "/rooms", true, handle_rooms, 0 },
	{ "DELETE", "/rooms", true, handle_rooms, 0 },
	{ "POST", "/whep", false, whep_post, 0 },
	{ "PATCH", WHEP_PREFIX, true, whep_patch, 0 },
	{ "DELETE", WHEP_PREFIX, true, whep_delete, 0 },
	{ "GET", "/status", false, handle_status, 0 },
	{ "GET", "/cameras", false, handle_cameras, 0 },
	{ "GET", "/metrics", false, handle_metrics, 0 },
	{ "GET", "/snapshot.jpg", false, handle_snapshot, ROUTE_PAGE },
	{ "GET", "/", true, handle_asset, ROUTE_PAGE },
	{ "HEAD", "/", true, handle_asset, ROUTE_PAGE },
};

static bool route_matches(const struct route *rt, const char *url)
{
	return rt->prefix ? g_str_has_prefix(url, rt->path) : strcmp(url, rt->path) == 0;
}

/* RFC 9110 §10.2.1: the methods url takes, for OPTIONS' Allow (g_free it). */
static char *signaling_allowed_methods(const char *url)
{
	GString *allow = g_string_new("OPTIONS");

	for (size_t i = 0; i < CG_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];

		/* "/" (the page's assets) prefixes every path: it counts for none of the others. */
		if (strcmp(rt->method, "OPTIONS") == 0 || !route_matches(rt, url) ||
		    (strcmp(rt->path, "/") == 0 && strcmp(url, "/") != 0 &&
		     !cg_web_asset_find(url)))
			continue;
		if (!strstr(allow->str, rt->method))
			g_string_append_printf(allow, ", %s", rt->method);
	}
	return g_string_free(allow, FALSE);
}

static const struct route *signaling_find_route(const char *url, const char *method,
						bool *ret_path_known)
{
	*ret_path_known = false;
	for (size_t i = 0; i < CG_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];
		if (!route_matches(rt, url))
			continue;
		if (strcmp(method, rt->method) == 0)
			return rt;
		/* "/" prefixes everything: a method mismatch there is not a known path. */
		if (strcmp(rt->path, "/") != 0)
			*ret_path_known = true;
	}
	return NULL;
}

static bool signaling_authorized(struct cg_signaling *sig, struct MHD_Connection *conn)
{
	const char *authorization =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);

	return cg_auth_check(sig->deps.auth, authorization, cookie,
			     cg_wall_usec() / CG_USEC_PER_SEC);
}

static enum MHD_Result respond_unauthorized(struct cg_signaling *sig, struct request *req,
					    struct MHD_Connection *conn, const struct route *rt)
{
	struct MHD_Response *resp;

	cg_stats_add(&sig->deps.stats->auth_failures, 1);
	if (rt->flags & ROUTE_PAGE)
		return redirect(sig, req, conn, "/login", NULL);
	resp = MHD_create_response_from_buffer(strlen("sign in first\n"), (void *)"sign in first\n",
					       MHD_RESPMEM_PERSISTENT);
	/* RFC 6750 §3: tell WHEP players and scrapers which credential to send. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"camgate\"");
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	return signaling_queue(sig, req, conn, MHD_HTTP_UNAUTHORIZED, resp);
}

static enum MHD_Result signaling_route(struct cg_signaling *sig, struct MHD_Connection *conn,
				       const char *url, struct request *req)
{
	const struct route *rt = req->route;

	cg_stats_add(&sig->deps.stats->http_requests, 1);
	if (req->refuse)
		return respond_error(sig, req, conn, req->refuse, req->refuse_reason);
	if (req->redirect) {
		struct MHD_Response *resp =
			MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

		MHD_add_response_header(resp, "Location", req->redirect);
		return signaling_queue(sig, req, conn, MHD_HTTP_PERMANENT_REDIRECT, resp);
	}
	if (!rt && req->path_known)
		return respond_error(sig, req, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				     "method not allowed");
	if (!rt)
		return respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "not found");
	if (!(rt->flags & ROUTE_PUBLIC) && !req->authorized)
		return respond_unauthorized(sig, req, conn, rt);
	if (req->too_large)
		return respond_error(sig, req, conn, MHD_HTTP_CONTENT_TOO_LARGE,
				     "request body larger than 64 KiB");
	return rt->handle(sig, conn, req->path, req);
}

static void signaling_refuse(struct request *req, unsigned status, const char *reason)
{
	req->refuse = status;
	req->refuse_reason = reason;
}

/*
 * The origin that may read this response from a page of another site: only on the WHEP
 * resource (players embedded elsewhere), only an origin the admin listed (--cors-origins),
 * or any with "*". NULL: none (the page, its assets, /status, /metrics, /snapshot.jpg).
 */
static const char *signaling_cors_origin(struct cg_signaling *sig, const char *url,
					 const char *origin)
{
	if (!origin || !g_str_has_prefix(url, "/whep"))
		return NULL;
	for (char **o = sig->deps.cfg->cors_origins; o && *o; o++) {
		if (strcmp(*o, "*") == 0)
			return "*";
		if (g_ascii_strcasecmp(*o, origin) == 0)
			return origin;
	}
	return NULL;
}

/*
 * A browser request sent by a page of another site (Fetch Metadata, or an Origin that is
 * not this server: older browsers send no Sec-Fetch-Site). Clients that are not browsers
 * send neither.
 */
static bool signaling_cross_site(struct MHD_Connection *conn, const char *host)
{
	const char *site = signaling_header(conn, "Sec-Fetch-Site");
	const char *origin = signaling_header(conn, "Origin");

	if (site && g_ascii_strcasecmp(site, "cross-site") == 0)
		return true;
	return origin && !cg_ws_origin_allowed(origin, host ? host : "");
}

static bool signaling_changes_state(struct MHD_Connection *conn, const char *method)
{
	const char *upgrade = signaling_header(conn, MHD_HTTP_HEADER_UPGRADE);

	if (upgrade && g_ascii_strcasecmp(upgrade, "websocket") == 0)
		return true;
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

/* A Host that is not ours is a page of another site reaching us by DNS rebinding. */
static bool signaling_host_ok(struct cg_signaling *sig, struct request *req, const char *host,
			      const char *version)
{
	char name[256];

	if (!host) {
		/* RFC 9112 §3.2: HTTP/1.1 needs one; an HTTP/1.0 client may have none. */
		if (strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
			return true;
		signaling_refuse(req, MHD_HTTP_BAD_REQUEST, "no Host header");
		return false;
	}
	if (cg_http_host_normalize(host, name, sizeof(name)) < 0) {
		signaling_refuse(req, MHD_HTTP_BAD_REQUEST, "malformed Host header");
		return false;
	}
	if (cg_hostnames_allowed(sig->hostnames, name, cg_mono_usec()))
		return true;
	if (cg_mono_usec() - sig->misdirected_log_usec >= SIGNALING_MISDIRECTED_LOG_USEC) {
		sig->misdirected_log_usec = cg_mono_usec();
		cg_notice("refused a request for host \"%s\" (421): add it with --server-name if "
			  "camgate is reached by that name",
			  name);
	}
	signaling_refuse(req, MHD_HTTP_MISDIRECTED_REQUEST, "misdirected request");
	return false;
}

/*
 * Whether a browser's page may reach us at all: the Host must be ours, and a request that
 * changes something (a WHEP session, a sign-in, the rooms WebSocket) must come from our
 * own page, a WHEP player on an origin the admin listed, or carry a bearer token (which a
 * page of another site cannot add without our CORS consent). Also on loopback, where no
 * credential is asked. Sets req->refuse, or req->cors_origin.
 */
static void signaling_gate(struct cg_signaling *sig, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, struct request *req)
{
	const char *host = signaling_header(conn, MHD_HTTP_HEADER_HOST);
	const char *cors = signaling_cors_origin(sig, url, signaling_header(conn, "Origin"));
	bool bearer = signaling_header(conn, MHD_HTTP_HEADER_AUTHORIZATION) && req->authorized;

	if (!signaling_host_ok(sig, req, host, version))
		return;
	req->cors_origin = g_strdup(cors);
	if (signaling_changes_state(conn, method) && !cors && !bearer &&
	    signaling_cross_site(conn, host))
		signaling_refuse(req, MHD_HTTP_FORBIDDEN,
				 "cross-site request refused: open the page from this server");
}

/* The first camera, or the one named NAME (1-32 of a-z 0-9 _ -, as config.c allows). */
static const struct cg_signaling_camera *signaling_camera(struct cg_signaling *sig,
							  const char *name, size_t len)
{
	for (unsigned i = 0; i < sig->deps.n_cameras; i++) {
		const char *n = sig->deps.cameras[i].name;

		if (strlen(n) == len && strncmp(n, name, len) == 0)
			return &sig->deps.cameras[i];
	}
	return NULL;
}

/*
 * "/cam/NAME/REST" is camera NAME's "/REST" (its page, WHEP, snapshot, status); any other
 * path is the first camera's, so the paths of a one-camera camgate keep working. Sets
 * req->path, req->prefix and req->camera (NULL: no such camera).
 */
static void signaling_split_camera(struct cg_signaling *sig, const char *url, struct request *req)
{
	const char *name = url + strlen("/cam/"), *slash;

	if (g_str_has_prefix(url, "/cam/") && !strchr(name, '/') &&
	    signaling_camera(sig, name, strlen(name))) {
		/* "/cam/NAME": the page's relative links need the slash. */
		req->path = g_strdup(url);
		req->prefix = g_strdup("");
		req->camera = &sig->deps.cameras[0];
		req->redirect = g_strconcat(url, "/", NULL);
		return;
	}
	if (!g_str_has_prefix(url, "/cam/") || !(slash = strchr(name, '/'))) {
		req->path = g_strdup(url);
		req->prefix = g_strdup("");
		req->camera = sig->deps.n_cameras ? &sig->deps.cameras[0] : NULL;
		return;
	}
	req->path = g_strdup(slash);
	req->prefix = g_strndup(url, (gsize)(slash - url));
	req->camera = signaling_camera(sig, name, (size_t)(slash - name));
}

/* With the headers: where the request goes and whether it may. */
static struct request *signaling_request_new(struct cg_signaling *sig, struct MHD_Connection *conn,
					     const char *url, const char *method,
					     const char *version)
{
	struct request *req = g_new0(struct request, 1);

	req->body = g_byte_array_new();
	req->method = method;
	req->url = url;
	signaling_split_camera(sig, url, req);
	req->route = signaling_find_route(req->path, method, &req->path_known);
	req->authorized = signaling_authorized(sig, conn);
	signaling_gate(sig, conn, req->path, method, version, req);
	if (!req->camera && !req->refuse)
		signaling_refuse(req, MHD_HTTP_NOT_FOUND, "no such camera");
	/* A browser that keeps watching keeps its sign-in: its cookie is reissued daily. */
	if (req->authorized && req->route && !req->refuse &&
	    ((req->route->flags & ROUTE_PAGE) || strcmp(req->path, "/status") == 0))
		req->set_cookie = cg_auth_refresh_cookie(
			sig->deps.auth, signaling_header(conn, MHD_HTTP_HEADER_COOKIE),
			cg_wall_usec() / CG_USEC_PER_SEC, sig->deps.cfg->tls);
	return req;
}

/* MHD calls this once with the headers, then per body chunk, then once with no data. */
static enum MHD_Result signaling_on_request(void *cls, struct MHD_Connection *conn, const char *url,
					    const char *method, const char *version,
					    const char *upload_data, size_t *upload_data_size,
					    void **con_cls)
{
	struct cg_signaling *sig = cls;
	struct request *req = *con_cls;

	if (!req) {
		*con_cls = signaling_request_new(sig, conn, url, method, version);
		return MHD_YES;
	}
	if (req->pending)
		return whep_resume(sig, conn, req);
	if (req->login)
		return login_resume(sig, conn, req);
	if (*upload_data_size > 0) {
		/* A body nobody may act on is not kept. */
		bool wanted = req->route && !req->refuse &&
			      (req->authorized || (req->route->flags & ROUTE_PUBLIC));

		if (req->body->len + *upload_data_size > SIGNALING_MAX_BODY)
			req->too_large = true;
		else if (wanted)
			g_byte_array_append(req->body, (const guint8 *)upload_data,
					    (guint)*upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return signaling_route(sig, conn, url, req);
}

/*
 * A 201 that did not reach its viewer (it hung up while we gathered, or the send failed):
 * nobody knows the session's Location, so close it now rather than after the setup timeout.
 */
static void whep_request_done(struct cg_signaling *sig, struct request *req,
			      enum MHD_RequestTerminationCode toe)
{
	struct cg_session *s = req->created;

	if (req->pending)
		whep_pending_cancel(sig, req->pending);
	req->pending = NULL;
	if (s && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && cg_viewers_has(sig->viewers, s)) {
		cg_info("[%.8s] the answer did not reach the viewer, closing", cg_session_id(s));
		cg_session_close(s);
		cg_viewers_remove(sig->viewers, s);
	}
	req->created = s ? cg_session_unref(s) : NULL;
}

static void signaling_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				   enum MHD_RequestTerminationCode toe)
{
	struct cg_signaling *sig = cls;
	struct request *req = *con_cls;

	if (!req)
		return;
	whep_request_done(sig, req, toe);
	/* Bodies may hold a password (the login form). */
	if (req->body->len)
		explicit_bzero(req->body->data, req->body->len);
	g_byte_array_unref(req->body);
	if (req->login) {
		g_hash_table_remove(sig->logins, req->login);
		login_wait_free(req->login);
	}
	g_free(req->set_cookie);
	g_free(req->cors_origin);
	g_free(req->path);
	g_free(req->prefix);
	g_free(req->redirect);
	g_free(req);
	*con_cls = NULL;
}

/* STUN/TURN for viewers (Link headers) and for the daemon's agents (numeric addresses). */
static void signaling_load_ice_servers(struct cg_signaling *sig)
{
	const struct cg_config *cfg = sig->deps.cfg;

	if (cg_ice_servers_resolve(cfg, &sig->ice) < 0)
		cg_warn("cannot resolve the STUN/TURN server%s, the daemon will not use it until "
			"a reload",
			cfg->stun_host && cfg->turn_host ? "s" : "");
}

int cg_signaling_new(const struct cg_signaling_deps *deps, struct cg_signaling **ret)
{
	struct cg_signaling *sig = cg_new0(struct cg_signaling, 1);
	struct cg_http_cfg http_cfg = {
		.host = deps->cfg->listen_host,
		.port = deps->cfg->listen_port,
		.max_connections = 512,
		.connections_per_client = SIGNALING_CONNECTIONS_PER_CLIENT,
		.connection_timeout_s = SIGNALING_IDLE_TIMEOUT_S,
		.connection_memory = 64 * 1024,
		.handler = signaling_on_request,
		.handler_cls = sig,
		.completed = signaling_on_completed,
		.tls_cert_pem = deps->tls_cert_pem,
		.tls_key_pem = deps->tls_key_pem,
	};
	int r;

	sig->deps = *deps;
	/* The key was copied by MHD's wrapper; this copy of deps outlives the call. */
	sig->deps.tls_cert_pem = sig->deps.tls_key_pem = NULL;
	sig->deps.ice = &sig->ice;
	sig->deps.session_closed = signaling_trim_soon_cb;
	sig->deps.http_kick = signaling_http_kick_cb;
	sig->deps.signaling_userdata = sig;
	sig->start_time_s = (double)cg_wall_usec() / 1e6;
	sig->viewers = cg_viewers_new(deps->cfg);
	sig->deps.viewers = sig->viewers;
	sig->pending = g_hash_table_new(NULL, NULL);
	sig->logins = g_hash_table_new(NULL, NULL);
	sig->snapshot = cg_snapshot_new();
	sig->snaps = cg_new0(struct snapshot_cache, CG_MAX(deps->n_cameras, 1u));
	/* The first camera's, for code that serves one camera (the old paths, rooms). */
	if (deps->n_cameras > 0) {
		sig->deps.media = deps->cameras[0].media;
		sig->deps.hub = deps->cameras[0].hub;
		sig->deps.audio = deps->cameras[0].audio;
	}
	sig->hostnames = cg_hostnames_new(deps->cfg);
	sig->deps.add_http_headers = signaling_add_security_headers_cb;
	signaling_load_ice_servers(sig);
	r = cg_rooms_new(&sig->deps, &sig->rooms);
	if (r < 0) {
		cg_signaling_free(sig);
		return r;
	}
	r = cg_http_new(&http_cfg, deps->ctx, &sig->http);
	if (r < 0) {
		cg_signaling_free(sig);
		return r;
	}
	*ret = sig;
	return 0;
}

void cg_signaling_set_config(struct cg_signaling *sig, const struct cg_config *cfg)
{
	sig->deps.cfg = cfg;
	cg_hostnames_set_config(sig->hostnames, cfg);
	cg_viewers_set_config(sig->viewers, cfg);
	signaling_load_ice_servers(sig);
}

/*
 * libmicrohttpd must not stop with suspended connections: resume them, marked so that
 * whatever MHD does next (answer them or close them) ends their sessions.
 */
static void whep_pending_resume_all(struct cg_signaling *sig)
{
	GHashTableIter it;
	gpointer value;

	if (!sig->http)
		return;
	g_hash_table_iter_init(&it, sig->pending);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct whep_pending *p = value;

		if (p->resumed)
			continue;
		p->resumed = true;
		p->status = -ESHUTDOWN;
		MHD_resume_connection(p->conn);
	}
}

/* Likewise for sign-ins waiting for their hash: they get 503. */
static void login_resume_all(struct cg_signaling *sig)
{
	GHashTableIter it;
	gpointer key;

	if (!sig->http || !sig->logins)
		return;
	g_hash_table_iter_init(&it, sig->logins);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct login_wait *w = key;

		if (w->resumed)
			continue;
		w->resumed = true;
		w->result = -ESHUTDOWN;
		MHD_resume_connection(w->conn);
	}
}

void cg_signaling_stop(struct cg_signaling *sig)
{
	whep_pending_resume_all(sig);
	login_resume_all(sig);
	/* Open WebSockets get a close frame and go back to libmicrohttpd before it stops. */
	if (sig->rooms)
		cg_rooms_stop(sig->rooms);
	sig->http = cg_http_free(sig->http);
}

struct cg_signaling *cg_signaling_free(struct cg_signaling *sig)
{
	if (!sig)
		return NULL;
	whep_pending_resume_all(sig);
	login_resume_all(sig);
	sig->http = cg_http_free(sig->http);
	/* MHD ends every request it had; should one have escaped, its session still closes. */
	while (sig->pending && g_hash_table_size(sig->pending) > 0) {
		GHashTableIter it;
		gpointer value;

		g_hash_table_iter_init(&it, sig->pending);
		g_hash_table_iter_next(&it, NULL, &value);
		whep_pending_cancel(sig, value);
	}
	if (sig->pending)
		g_hash_table_unref(sig->pending);
	/* MHD ended every request, and each took its sign-in out of the set. */
	if (sig->logins)
		g_hash_table_unref(sig->logins);
	sig->rooms = cg_rooms_free(sig->rooms);
	sig->viewers = cg_viewers_free(sig->viewers);
	if (sig->trim_timer) {
		g_source_destroy(sig->trim_timer);
		g_source_unref(sig->trim_timer);
	}
	sig->snapshot = cg_snapshot_free(sig->snapshot);
	sig->hostnames = cg_hostnames_free(sig->hostnames);
	for (unsigned i = 0; sig->snaps && i < sig->deps.n_cameras; i++)
		g_free(sig->snaps[i].jpeg);
	free(sig->snaps);
	free(sig);
	return NULL;
}

uint16_t cg_signaling_port(const struct cg_signaling *sig)
{
	return cg_http_port(sig->http);
}

unsigned cg_signaling_viewers(const struct cg_signaling *sig)
{
	return signaling_viewer_count(sig);
}

const struct cg_ice_servers *cg_signaling_ice_servers(const struct cg_signaling *sig)
{
	return &sig->ice;
}
