/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "http"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "build-config.h"
#include "config.h"
#include "hub.h"
#include "media.h"
#include "net/http_mhd.h"
#include "proto/sdp.h"
#include "rooms.h"
#include "session.h"
#include "signaling.h"
#include "stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "web/assets.h"

#define SIGNALING_MAX_BODY (64 * 1024)
#define WHEP_PREFIX "/whep/"

struct cg_signaling {
	struct cg_signaling_deps deps;
	struct cg_http *http;
	struct cg_rooms *rooms;
	GHashTable *sessions; /* id → struct cg_session * (a reference) */
};

/* One HTTP request's state across MHD's calls of the handler. */
struct request {
	GByteArray *body;
	bool too_large;
	const char *method; /* MHD's string, valid for the request */
};

typedef enum MHD_Result (*route_fn)(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req);

struct route {
	const char *method;
	const char *path;
	bool prefix; /* path is a prefix, the rest is a resource id */
	route_fn handle;
};

static void add_cors_headers(struct MHD_Response *resp)
{
	/* WHEP players on other origins must be able to read Location and the answer. */
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Expose-Headers",
				"Location, Link, ETag, Accept-Patch, Retry-After");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
			       const char *content_type, const void *body, size_t len,
			       enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	add_cors_headers(resp);
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A text/plain error with a reason for the client: bad input changes nothing else. */
static enum MHD_Result respond_error(struct MHD_Connection *conn, unsigned status,
				     const char *reason)
{
	char *text = g_strdup_printf("%s\n", reason);
	enum MHD_Result r =
		respond(conn, status, "text/plain; charset=utf-8", text, strlen(text),
			MHD_RESPMEM_MUST_COPY);

	g_free(text);
	return r;
}

static bool content_type_is(struct MHD_Connection *conn, const char *expected)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(expected);

	return ct && strncasecmp(ct, expected, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

static enum MHD_Result handle_options(struct cg_signaling *sig, struct MHD_Connection *conn,
				      const char *url, struct request *req)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
								    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	add_cors_headers(resp);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"GET, POST, PATCH, DELETE, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"Content-Type, If-Match, Authorization");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	if (g_str_has_prefix(url, "/whep"))
		MHD_add_response_header(resp, "Accept-Post", "application/sdp");
	r = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result handle_asset(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req)
{
	const struct cg_web_asset *asset = cg_web_asset_find(url);

	if (!asset)
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "not found");
	return respond(conn, MHD_HTTP_OK, asset->content_type, asset->data, asset->len,
		       MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handle_status(struct cg_signaling *sig, struct MHD_Connection *conn,
				     const char *url, struct request *req)
{
	const struct cg_config *cfg = sig->deps.cfg;
	struct cg_stats *st = sig->deps.stats;
	GString *json = g_string_new(NULL);
	enum MHD_Result r;

	g_string_printf(json,
			"{\"version\":\"%s\",\"source\":\"%s\",\"encoder\":\"%s\","
			"\"width\":%u,\"height\":%u,\"fps\":%u,\"bitrate_kbps\":%u,"
			"\"viewers\":%u,\"frames_captured\":%" G_GUINT64_FORMAT
			",\"frames_encoded\":%" G_GUINT64_FORMAT
			",\"frames_dropped\":%" G_GUINT64_FORMAT ",\"keyframes\":%" G_GUINT64_FORMAT
			",\"keyframe_requests\":%" G_GUINT64_FORMAT
			",\"copied_bytes\":%" G_GUINT64_FORMAT ",\"bitrate_target_kbps\":%u"
			",\"latency_ms\":{"
			"\"encode_p50\":%.2f,\"encode_p95\":%.2f,"
			"\"capture_to_send_p50\":%.2f,\"capture_to_send_p95\":%.2f}}\n",
			CG_VERSION, cfg->source, cg_media_encoder_name(sig->deps.media),
			cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps,
			g_hash_table_size(sig->sessions), cg_stats_get(&st->frames_captured),
			cg_stats_get(&st->frames_encoded), cg_stats_get(&st->frames_dropped),
			cg_stats_get(&st->keyframes), cg_stats_get(&st->keyframe_requests),
			cg_stats_get(&st->copied_bytes), cg_media_bitrate(sig->deps.media),
			cg_stats_percentile_ms(st, &st->encode, 50),
			cg_stats_percentile_ms(st, &st->encode, 95),
			cg_stats_percentile_ms(st, &st->capture_to_send, 50),
			cg_stats_percentile_ms(st, &st->capture_to_send, 95));
	r = respond(conn, MHD_HTTP_OK, "application/json", json->str, json->len,
		    MHD_RESPMEM_MUST_COPY);
	g_string_free(json, TRUE);
	return r;
}

static void signaling_on_session_closed(struct cg_session *s, void *userdata)
{
	struct cg_signaling *sig = userdata;

	/* Only the registry's own entry: a new session may never reuse an id, but be exact. */
	if (g_hash_table_lookup(sig->sessions, cg_session_id(s)) == s)
		g_hash_table_remove(sig->sessions, cg_session_id(s));
}

static enum MHD_Result whep_reply_created(struct cg_signaling *sig, struct MHD_Connection *conn,
					  struct cg_session *s, char *answer)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(answer), answer, MHD_RESPMEM_MUST_COPY);
	char *location = g_strconcat(WHEP_PREFIX, cg_session_id(s), NULL);
	enum MHD_Result r;

	MHD_add_response_header(resp, "Content-Type", "application/sdp");
	MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Accept-Patch", "application/trickle-ice-sdpfrag");
	add_cors_headers(resp);
	r = MHD_queue_response(conn, MHD_HTTP_CREATED, resp);
	MHD_destroy_response(resp);
	g_free(location);
	g_free(answer);
	return r;
}

/* Parses and negotiates; on failure writes the HTTP status and reason. */
static int whep_negotiate(struct cg_signaling *sig, const struct request *req,
			  struct cg_sdp_offer *offer, struct cg_sdp_choice *choice,
			  unsigned *ret_status, const char **ret_reason)
{
	struct cg_sdp_capabilities caps = {.video_profile = cg_media_profile(sig->deps.media)};
	int r;

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

static enum MHD_Result whep_post(struct cg_signaling *sig, struct MHD_Connection *conn,
				 const char *url, struct request *req)
{
	const struct cg_config *cfg = sig->deps.cfg;
	struct cg_sdp_offer *offer;
	struct cg_sdp_choice choice;
	struct cg_session *s;
	const char *reason = "";
	unsigned status = 0;
	char *answer;
	enum MHD_Result mr;
	int r;

	if (!content_type_is(conn, "application/sdp"))
		return respond_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     "a WHEP offer must be Content-Type: application/sdp");
	if (g_hash_table_size(sig->sessions) >= cfg->max_viewers) {
		struct MHD_Response *resp;

		cg_notice("viewer limit of %u reached, refusing a new one", cfg->max_viewers);
		resp = MHD_create_response_from_buffer(strlen("too many viewers\n"),
						       (void *)"too many viewers\n",
						       MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Retry-After", "10");
		add_cors_headers(resp);
		mr = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
		MHD_destroy_response(resp);
		return mr;
	}
	offer = cg_new0(struct cg_sdp_offer, 1);
	r = whep_negotiate(sig, req, offer, &choice, &status, &reason);
	if (r < 0) {
		cg_info("offer refused (%u): %s", status, reason);
		free(offer);
		return respond_error(conn, status, reason);
	}
	struct cg_session_setup setup = {
		.worker = cg_hub_least_loaded(sig->deps.hub),
		.media = sig->deps.media,
		.stats = sig->deps.stats,
		.cert = sig->deps.cert,
		.loopback_only = cg_config_listens_on_loopback(cfg),
		.control_ctx = sig->deps.ctx,
		.on_closed = signaling_on_session_closed,
		.on_closed_userdata = sig,
	};
	r = cg_session_new(&setup, offer, &choice, &s, &answer);
	free(offer);
	if (r < 0) {
		cg_warn("cannot create a session: %s", strerror(-r));
		return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot create the session");
	}
	g_hash_table_insert(sig->sessions, g_strdup(cg_session_id(s)), s);
	cg_session_start(s);
	cg_info("[%s] new viewer, %u in all", cg_session_id(s), g_hash_table_size(sig->sessions));
	return whep_reply_created(sig, conn, s, answer);
}

static struct cg_session *whep_lookup(struct cg_signaling *sig, const char *url)
{
	return g_hash_table_lookup(sig->sessions, url + strlen(WHEP_PREFIX));
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
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such session");
	if (!content_type_is(conn, "application/trickle-ice-sdpfrag"))
		return respond_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     "PATCH needs Content-Type: application/trickle-ice-sdpfrag");
	frag = cg_new0(struct cg_sdp_fragment, 1);
	r = cg_sdp_parse_fragment((const char *)req->body->data, req->body->len, frag, &reason);
	if (r < 0)
		mr = respond_error(conn, MHD_HTTP_BAD_REQUEST, reason);
	else if (cg_session_add_remote_candidates(s, frag) < 0)
		mr = respond_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT,
				   "ICE credentials differ: ICE restart is not supported");
	else
		mr = respond(conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, MHD_RESPMEM_PERSISTENT);
	free(frag);
	return mr;
}

static enum MHD_Result whep_delete(struct cg_signaling *sig, struct MHD_Connection *conn,
				   const char *url, struct request *req)
{
	struct cg_session *s = whep_lookup(sig, url);

	if (!s)
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such session");
	cg_info("[%s] viewer left (DELETE)", cg_session_id(s));
	cg_session_close(s);
	g_hash_table_remove(sig->sessions, cg_session_id(s));
	return respond(conn, MHD_HTTP_OK, NULL, NULL, 0, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handle_rooms(struct cg_signaling *sig, struct MHD_Connection *conn,
				    const char *url, struct request *req)
{
	return cg_rooms_handle(sig->rooms, conn, url, req->method, req->body->data,
			       req->body->len);
}

static const struct route routes[] = {
	{"OPTIONS", "/", true, handle_options},
	{"GET", "/rooms", true, handle_rooms},
	{"POST", "/rooms", true, handle_rooms},
	{"DELETE", "/rooms", true, handle_rooms},
	{"POST", "/whep", false, whep_post},
	{"PATCH", WHEP_PREFIX, true, whep_patch},
	{"DELETE", WHEP_PREFIX, true, whep_delete},
	{"GET", "/status", false, handle_status},
	{"GET", "/", true, handle_asset},
	{"HEAD", "/", true, handle_asset},
};

static enum MHD_Result signaling_route(struct cg_signaling *sig, struct MHD_Connection *conn,
				       const char *url, const char *method, struct request *req)
{
	bool path_known = false;

	for (size_t i = 0; i < CG_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];
		bool match = rt->prefix ? g_str_has_prefix(url, rt->path)
					: strcmp(url, rt->path) == 0;

		if (!match)
			continue;
		if (strcmp(method, rt->method) == 0)
			return rt->handle(sig, conn, url, req);
		/* "/" prefixes everything: a method mismatch there is not a known path. */
		if (strcmp(rt->path, "/") != 0)
			path_known = true;
	}
	if (path_known)
		return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	return respond_error(conn, MHD_HTTP_NOT_FOUND, "not found");
}

/* MHD calls this once with the headers, then per body chunk, then once with no data. */
static enum MHD_Result signaling_on_request(void *cls, struct MHD_Connection *conn,
					    const char *url, const char *method,
					    const char *version, const char *upload_data,
					    size_t *upload_data_size, void **con_cls)
{
	struct cg_signaling *sig = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = g_new0(struct request, 1);
		req->body = g_byte_array_new();
		req->method = method;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (req->body->len + *upload_data_size > SIGNALING_MAX_BODY)
			req->too_large = true;
		else
			g_byte_array_append(req->body, (const guint8 *)upload_data,
					    (guint)*upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				     "request body larger than 64 KiB");
	return signaling_route(sig, conn, url, method, req);
}

static void signaling_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				   enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	if (!req)
		return;
	g_byte_array_unref(req->body);
	g_free(req);
	*con_cls = NULL;
}

static void signaling_unref_session(gpointer s)
{
	cg_session_unref(s);
}

int cg_signaling_new(const struct cg_signaling_deps *deps, struct cg_signaling **ret)
{
	struct cg_signaling *sig = cg_new0(struct cg_signaling, 1);
	struct cg_http_cfg http_cfg = {
		.host = deps->cfg->listen_host,
		.port = deps->cfg->listen_port,
		.max_connections = 512,
		.connection_timeout_s = 30,
		.connection_memory = 64 * 1024,
		.handler = signaling_on_request,
		.handler_cls = sig,
		.completed = signaling_on_completed,
	};
	int r;

	sig->deps = *deps;
	sig->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      signaling_unref_session);
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

void cg_signaling_stop(struct cg_signaling *sig)
{
	sig->http = cg_http_free(sig->http);
}

struct cg_signaling *cg_signaling_free(struct cg_signaling *sig)
{
	if (!sig)
		return NULL;
	sig->http = cg_http_free(sig->http);
	sig->rooms = cg_rooms_free(sig->rooms);
	g_hash_table_unref(sig->sessions);
	free(sig);
	return NULL;
}

uint16_t cg_signaling_port(const struct cg_signaling *sig)
{
	return cg_http_port(sig->http);
}

unsigned cg_signaling_viewers(const struct cg_signaling *sig)
{
	return g_hash_table_size(sig->sessions);
}
