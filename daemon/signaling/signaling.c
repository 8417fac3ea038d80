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
#include "app/ice_servers.h"
#include "media/media.h"
#include "signaling/metrics.h"
#include "net/http_mhd.h"
#include "net/http_req.h"
#include "proto/sdp.h"
#include "signaling/rooms/rooms.h"
#include "fanout/session.h"
#include "fanout/worker.h"
#include "signaling/router.h"
#include "signaling/signaling.h"
#include "signaling/viewers.h"
#include "media/snapshot.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "signaling/rooms/ws.h"
#include "web/assets.h"

static char *signaling_allowed_methods(const char *url);

const char *cg_signaling_header(struct MHD_Connection *conn, const char *name)
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
enum MHD_Result cg_signaling_queue(struct cg_signaling *sig, struct request *req,
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

enum MHD_Result cg_signaling_respond(struct cg_signaling *sig, struct request *req,
				     struct MHD_Connection *conn, unsigned status,
				     const char *content_type, const void *body, size_t len,
				     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);

	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return cg_signaling_queue(sig, req, conn, status, resp);
}

/* A text/plain error with a reason for the client: bad input changes nothing else. */
enum MHD_Result cg_signaling_respond_error(struct cg_signaling *sig, struct request *req,
					   struct MHD_Connection *conn, unsigned status,
					   const char *reason)
{
	char *text = g_strdup_printf("%s\n", reason);
	enum MHD_Result r =
		cg_signaling_respond(sig, req, conn, status, "text/plain; charset=utf-8", text,
				     strlen(text), MHD_RESPMEM_MUST_COPY);

	g_free(text);
	return r;
}

bool cg_signaling_content_type_is(struct MHD_Connection *conn, const char *expected)
{
	return cg_http_media_type_is(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		expected);
}

/* The ice-server Link headers (WHIP RFC 9725 §4.6, reused by the WHEP draft), one per
 * server. Made for each response: TURN REST credentials (turn-secret) expire. */
void cg_signaling_add_ice_links(struct cg_signaling *sig, struct MHD_Response *resp)
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
		cg_signaling_add_ice_links(sig, resp);
	return cg_signaling_queue(sig, req, conn, MHD_HTTP_NO_CONTENT, resp);
}

static enum MHD_Result handle_asset(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req)
{
	/* With several cameras "/" is the grid of them all; /cam/NAME/ is one camera's page. */
	bool grid = strcmp(url, "/") == 0 && !req->prefix[0] && sig->deps.n_cameras > 1;
	const struct cg_web_asset *asset = cg_web_asset_find(grid ? "/grid.html" : url);

	if (!asset)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "not found");
	return cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, asset->content_type, asset->data,
				    asset->len, MHD_RESPMEM_PERSISTENT);
}

/* Every viewer, whatever signaling brought it: WHEP sessions and camgate's room calls. */
unsigned cg_signaling_viewer_count(const struct cg_signaling *sig)
{
	return cg_viewers_count(sig->viewers);
}

/* The x264 preset running now (null while the camera's encoder has none) and what
 * --x264-preset asked for ("auto" or a fixed preset). */
static void status_x264_preset_json(GString *json, const struct cg_signaling_camera *c)
{
	const char *preset = cg_media_x264_preset(c->media);

	if (preset)
		g_string_append_printf(json, ",\"x264_preset\":\"%s\"", preset);
	else
		g_string_append(json, ",\"x264_preset\":null");
	g_string_append_printf(json, ",\"x264_preset_setting\":\"%s\"", c->cfg->x264_preset);
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
	status_x264_preset_json(json, c);
}

/* GET /status (the first camera's) and /cam/NAME/status: the camera, and "viewers" for
 * the whole daemon (one limit covers every camera). */
static enum MHD_Result handle_status(struct cg_signaling *sig, struct MHD_Connection *conn,
				     const char *url, struct request *req)
{
	GString *json = g_string_new(NULL);
	enum MHD_Result r;

	g_string_printf(json, "{\"version\":\"%s\",\"viewers\":%u,\"cameras\":%u,", CG_VERSION,
			cg_signaling_viewer_count(sig), sig->deps.n_cameras);
	status_camera_json(json, req->camera);
	g_string_append(json, "}\n");
	r = cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, "application/json", json->str,
				 json->len, MHD_RESPMEM_MUST_COPY);
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
	r = cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, "application/json", json->str,
				 json->len, MHD_RESPMEM_MUST_COPY);
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

void cg_signaling_trim_soon(struct cg_signaling *sig)
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
	cg_signaling_trim_soon(userdata);
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
		.viewers = cg_signaling_viewer_count(sig),
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
			.preset = cg_media_x264_preset(c->media),
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
	r = cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, CG_METRICS_CONTENT_TYPE, text,
				 strlen(text), MHD_RESPMEM_MUST_COPY);
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
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
						  "no frame captured yet");
	if (r == -ENOTSUP)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_NOT_IMPLEMENTED,
						  "this source's frames cannot be read by the CPU");
	if (r < 0) {
		cg_warn("snapshot failed: %s", strerror(-r));
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
						  "snapshot failed");
	}
	return cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, "image/jpeg", c->jpeg, c->len,
				    MHD_RESPMEM_MUST_COPY);
}

enum MHD_Result cg_signaling_redirect(struct cg_signaling *sig, struct request *req,
				      struct MHD_Connection *conn, const char *location,
				      const char *cookie)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(resp, "Location", location);
	if (cookie)
		MHD_add_response_header(resp, "Set-Cookie", cookie);
	return cg_signaling_queue(sig, req, conn, MHD_HTTP_SEE_OTHER, resp);
}

static const struct route routes[] = {
	{ "OPTIONS", "/", true, handle_options, ROUTE_PUBLIC },
	{ "GET", "/login", false, cg_login_get, ROUTE_PUBLIC },
	{ "GET", "/login.css", false, handle_asset, ROUTE_PUBLIC },
	{ "POST", "/login", false, cg_login_post, ROUTE_PUBLIC },
	{ "POST", "/logout", false, cg_login_logout, ROUTE_PUBLIC },
	{ "GET", "/rooms", true, handle_rooms, 0 },
	{ "POST", "/rooms", true, handle_rooms, 0 },
	{ "DELETE", "/rooms", true, handle_rooms, 0 },
	{ "POST", "/whep", false, cg_whep_post, 0 },
	{ "PATCH", WHEP_PREFIX, true, cg_whep_patch, 0 },
	{ "DELETE", WHEP_PREFIX, true, cg_whep_delete, 0 },
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
		return cg_signaling_redirect(sig, req, conn, "/login", NULL);
	resp = MHD_create_response_from_buffer(strlen("sign in first\n"), (void *)"sign in first\n",
					       MHD_RESPMEM_PERSISTENT);
	/* RFC 6750 §3: tell WHEP players and scrapers which credential to send. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"camgate\"");
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	return cg_signaling_queue(sig, req, conn, MHD_HTTP_UNAUTHORIZED, resp);
}

static enum MHD_Result signaling_route(struct cg_signaling *sig, struct MHD_Connection *conn,
				       const char *url, struct request *req)
{
	const struct route *rt = req->route;

	cg_stats_add(&sig->deps.stats->http_requests, 1);
	if (req->refuse)
		return cg_signaling_respond_error(sig, req, conn, req->refuse, req->refuse_reason);
	if (req->redirect) {
		struct MHD_Response *resp =
			MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

		MHD_add_response_header(resp, "Location", req->redirect);
		return cg_signaling_queue(sig, req, conn, MHD_HTTP_PERMANENT_REDIRECT, resp);
	}
	if (!rt && req->path_known)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
						  "method not allowed");
	if (!rt)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND, "not found");
	if (!(rt->flags & ROUTE_PUBLIC) && !req->authorized)
		return respond_unauthorized(sig, req, conn, rt);
	if (req->too_large)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_CONTENT_TOO_LARGE,
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
	const char *site = cg_signaling_header(conn, "Sec-Fetch-Site");
	const char *origin = cg_signaling_header(conn, "Origin");

	if (site && g_ascii_strcasecmp(site, "cross-site") == 0)
		return true;
	return origin && !cg_ws_origin_allowed(origin, host ? host : "");
}

static bool signaling_changes_state(struct MHD_Connection *conn, const char *method)
{
	const char *upgrade = cg_signaling_header(conn, MHD_HTTP_HEADER_UPGRADE);

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
	const char *host = cg_signaling_header(conn, MHD_HTTP_HEADER_HOST);
	const char *cors = signaling_cors_origin(sig, url, cg_signaling_header(conn, "Origin"));
	bool bearer = cg_signaling_header(conn, MHD_HTTP_HEADER_AUTHORIZATION) && req->authorized;

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
			sig->deps.auth, cg_signaling_header(conn, MHD_HTTP_HEADER_COOKIE),
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
		return cg_whep_resume(sig, conn, req);
	if (req->login)
		return cg_login_resume(sig, conn, req);
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

static void signaling_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				   enum MHD_RequestTerminationCode toe)
{
	struct cg_signaling *sig = cls;
	struct request *req = *con_cls;

	if (!req)
		return;
	cg_whep_request_done(sig, req, toe);
	/* Bodies may hold a password (the login form). */
	if (req->body->len)
		explicit_bzero(req->body->data, req->body->len);
	g_byte_array_unref(req->body);
	if (req->login) {
		g_hash_table_remove(sig->logins, req->login);
		cg_login_wait_free(req->login);
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

void cg_signaling_stop(struct cg_signaling *sig)
{
	cg_whep_resume_all(sig);
	cg_login_resume_all(sig);
	/* Open WebSockets get a close frame and go back to libmicrohttpd before it stops. */
	if (sig->rooms)
		cg_rooms_stop(sig->rooms);
	sig->http = cg_http_free(sig->http);
}

struct cg_signaling *cg_signaling_free(struct cg_signaling *sig)
{
	if (!sig)
		return NULL;
	cg_whep_resume_all(sig);
	cg_login_resume_all(sig);
	sig->http = cg_http_free(sig->http);
	cg_whep_cancel_all(sig);
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
	return cg_signaling_viewer_count(sig);
}

const struct cg_ice_servers *cg_signaling_ice_servers(const struct cg_signaling *sig)
{
	return &sig->ice;
}
