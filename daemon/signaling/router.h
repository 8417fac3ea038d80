/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inside signaling/: the HTTP router's state that its protocol files share. signaling.c
 * owns the server, the route table, the gate (Host, CORS, cross-site, credentials) and the
 * common responses; whep.c is WHEP, login.c the sign-in page, rooms/ the call flow. A new
 * signaling protocol is a new file here with its routes in signaling.c's table. Not for
 * use outside signaling/. Control thread only.
 */
#pragma once

#include <glib.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/ice_servers.h"
#include "signaling/signaling.h"

struct cg_http;
struct cg_rooms;
struct cg_snapshot;
struct cg_hostnames;
struct cg_viewers;
struct login_wait;
struct whep_pending;

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

/* The value of request header name, or NULL. */
const char *cg_signaling_header(struct MHD_Connection *conn, const char *name);

/* Adds the security headers (and CORS where the request earned it), queues and drops resp;
 * resp NULL: MHD_NO. */
enum MHD_Result cg_signaling_queue(struct cg_signaling *sig, struct request *req,
				   struct MHD_Connection *conn, unsigned status,
				   struct MHD_Response *resp);
/* A response with body (as MHD_create_response_from_buffer takes it). */
enum MHD_Result cg_signaling_respond(struct cg_signaling *sig, struct request *req,
				     struct MHD_Connection *conn, unsigned status,
				     const char *content_type, const void *body, size_t len,
				     enum MHD_ResponseMemoryMode mode);
/* A text/plain error with a one-line reason. */
enum MHD_Result cg_signaling_respond_error(struct cg_signaling *sig, struct request *req,
					   struct MHD_Connection *conn, unsigned status,
					   const char *reason);
/* 303 to location, with a Set-Cookie value or NULL. */
enum MHD_Result cg_signaling_redirect(struct cg_signaling *sig, struct request *req,
				      struct MHD_Connection *conn, const char *location,
				      const char *cookie);
/* Whether the request's Content-Type is the media type expected. */
bool cg_signaling_content_type_is(struct MHD_Connection *conn, const char *expected);
/* The ice-server Link headers for the configured STUN/TURN servers. */
void cg_signaling_add_ice_links(struct cg_signaling *sig, struct MHD_Response *resp);
/* A viewer left: its heap goes back to the system soon. */
void cg_signaling_trim_soon(struct cg_signaling *sig);
/* Every viewer, of every camera and signaling protocol. */
unsigned cg_signaling_viewer_count(const struct cg_signaling *sig);

/* WHEP (whep.c): POST /whep and /cam/NAME/whep, PATCH and DELETE of a session, the
 * handler's second call for a POST suspended while gathering, the request's end (a 201
 * that did not arrive closes its session), and resuming every suspended POST at stop. */
enum MHD_Result cg_whep_post(struct cg_signaling *sig, struct MHD_Connection *conn, const char *url,
			     struct request *req);
enum MHD_Result cg_whep_patch(struct cg_signaling *sig, struct MHD_Connection *conn,
			      const char *url, struct request *req);
enum MHD_Result cg_whep_delete(struct cg_signaling *sig, struct MHD_Connection *conn,
			       const char *url, struct request *req);
enum MHD_Result cg_whep_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
			       struct request *req);
void cg_whep_request_done(struct cg_signaling *sig, struct request *req,
			  enum MHD_RequestTerminationCode toe);
void cg_whep_resume_all(struct cg_signaling *sig);
/* Closes the sessions of POSTs still suspended (MHD has stopped). */
void cg_whep_cancel_all(struct cg_signaling *sig);

/* Sign-in (login.c): the page, the form (hashed off the control loop, the request
 * suspended meanwhile), sign-out, the handler's second call, freeing a request's wait,
 * resuming every suspended sign-in at stop. */
enum MHD_Result cg_login_get(struct cg_signaling *sig, struct MHD_Connection *conn, const char *url,
			     struct request *req);
enum MHD_Result cg_login_post(struct cg_signaling *sig, struct MHD_Connection *conn,
			      const char *url, struct request *req);
enum MHD_Result cg_login_logout(struct cg_signaling *sig, struct MHD_Connection *conn,
				const char *url, struct request *req);
enum MHD_Result cg_login_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
				struct request *req);
void cg_login_wait_free(struct login_wait *w);
void cg_login_resume_all(struct cg_signaling *sig);
