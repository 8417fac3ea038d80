/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * WHEP (draft-ietf-wish-whep): POST an SDP offer → 201 with the answer, Location and the
 * ice-server Link headers; PATCH trickles candidates (RFC 8840 fragments); DELETE leaves.
 * Every session is a viewer in the one registry (signaling/viewers.h). Control thread.
 */
#define CG_LOG_TOPIC "http"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "app/auth.h"
#include "app/config.h"
#include "app/stats.h"
#include "fanout/hub.h"
#include "fanout/session.h"
#include "fanout/worker.h"
#include "net/http_mhd.h"
#include "net/http_req.h"
#include "proto/sdp.h"
#include "signaling/router.h"
#include "signaling/viewers.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

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

/* Every started WHEP session ends here, on the control loop, once its worker has closed
 * it. */
static void whep_on_session_closed(struct cg_session *s, void *userdata)
{
	struct cg_signaling *sig = userdata;

	cg_signaling_trim_soon(sig);
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
	cg_signaling_add_ice_links(sig, resp);
	r = cg_signaling_queue(sig, req, conn, MHD_HTTP_CREATED, resp);
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
	cg_info("[%.8s] new viewer, %u in all", cg_session_id(s), cg_signaling_viewer_count(sig));
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
	return cg_signaling_queue(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
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

static void whep_session_setup(struct cg_signaling *sig, const struct request *req,
			       struct cg_session_setup *ret)
{
	cg_signaling_session_setup(&sig->deps, req->camera, whep_on_session_closed, sig, ret);
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

enum MHD_Result cg_whep_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
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
		return cg_signaling_respond_error(sig, req, conn,
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
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
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

enum MHD_Result cg_whep_post(struct cg_signaling *sig, struct MHD_Connection *conn, const char *url,
			     struct request *req)
{
	struct cg_session_setup setup;
	struct cg_sdp_offer *offer;
	struct cg_sdp_choice choice;
	struct cg_session *s;
	const char *reason = "";
	unsigned status = 0;
	char *answer;
	int r;

	if (!cg_signaling_content_type_is(conn, "application/sdp"))
		return cg_signaling_respond_error(
			sig, req, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			"a WHEP offer must be Content-Type: application/sdp");
	if (cg_viewers_full(sig->viewers))
		return whep_too_many(sig, req, conn);
	offer = cg_new0(struct cg_sdp_offer, 1);
	r = whep_negotiate(sig, req, offer, &choice, &status, &reason);
	if (r < 0) {
		cg_stats_add(&sig->deps.stats->sessions_refused, 1);
		cg_info("offer refused (%u): %s", status, reason);
		free(offer);
		return cg_signaling_respond_error(sig, req, conn, status, reason);
	}
	whep_session_setup(sig, req, &setup);
	if (cg_ice_servers_any(&sig->ice))
		return whep_suspend(sig, conn, req, &setup, offer, &choice);
	/* No server to ask: the host candidates are all there is, answer now. */
	r = cg_session_new(&setup, offer, &choice, &s, &answer);
	free(offer);
	if (r < 0) {
		cg_warn("cannot create a session: %s", strerror(-r));
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
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

enum MHD_Result cg_whep_patch(struct cg_signaling *sig, struct MHD_Connection *conn,
			      const char *url, struct request *req)
{
	struct cg_session *s = whep_lookup(sig, url);
	struct cg_sdp_fragment *frag;
	const char *reason = "";
	enum MHD_Result mr;
	int r;

	if (!s)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND,
						  "no such session");
	if (!cg_signaling_content_type_is(conn, "application/trickle-ice-sdpfrag"))
		return cg_signaling_respond_error(
			sig, req, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			"PATCH needs Content-Type: application/trickle-ice-sdpfrag");
	frag = cg_new0(struct cg_sdp_fragment, 1);
	r = cg_sdp_parse_fragment((const char *)req->body->data, req->body->len, frag, &reason);
	if (r < 0)
		mr = cg_signaling_respond_error(sig, req, conn, MHD_HTTP_BAD_REQUEST, reason);
	else if (whep_count_candidates(sig, s, frag->n_candidates) < 0)
		mr = cg_signaling_respond_error(sig, req, conn, MHD_HTTP_TOO_MANY_REQUESTS,
						"too many ICE candidates for this session");
	else if (cg_session_add_remote_candidates(s, frag) < 0)
		mr = cg_signaling_respond_error(
			sig, req, conn, MHD_HTTP_UNPROCESSABLE_CONTENT,
			"ICE credentials differ: ICE restart is not supported");
	else
		mr = cg_signaling_respond(sig, req, conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0,
					  MHD_RESPMEM_PERSISTENT);
	free(frag);
	return mr;
}

enum MHD_Result cg_whep_delete(struct cg_signaling *sig, struct MHD_Connection *conn,
			       const char *url, struct request *req)
{
	struct cg_session *s = whep_lookup(sig, url);

	if (!s)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_NOT_FOUND,
						  "no such session");
	cg_info("[%.8s] viewer left (DELETE)", cg_session_id(s));
	cg_session_close(s);
	cg_viewers_remove(sig->viewers, s);
	return cg_signaling_respond(sig, req, conn, MHD_HTTP_OK, NULL, NULL, 0,
				    MHD_RESPMEM_PERSISTENT);
}

/*
 * A 201 that did not reach its viewer (it hung up while we gathered, or the send failed):
 * nobody knows the session's Location, so close it now rather than after the setup timeout.
 */
void cg_whep_request_done(struct cg_signaling *sig, struct request *req,
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

/*
 * libmicrohttpd must not stop with suspended connections: resume them, marked so that
 * whatever MHD does next (answer them or close them) ends their sessions.
 */
void cg_whep_resume_all(struct cg_signaling *sig)
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

void cg_whep_cancel_all(struct cg_signaling *sig)
{
	/* MHD ends every request it had; should one have escaped, its session still closes. */
	while (sig->pending && g_hash_table_size(sig->pending) > 0) {
		GHashTableIter it;
		gpointer value;

		g_hash_table_iter_init(&it, sig->pending);
		g_hash_table_iter_next(&it, NULL, &value);
		whep_pending_cancel(sig, value);
	}
}
