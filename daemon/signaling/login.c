/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sign-in for browsers: the login page, the form's secret checked by cg_auth (a password
 * hashed off the control loop while the request waits suspended), the cookie, sign-out.
 * Control thread.
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
	enum MHD_Result r = cg_signaling_respond(sig, req, conn, status, "text/html; charset=utf-8",
						 html, strlen(html), MHD_RESPMEM_MUST_COPY);

	g_free(html);
	return r;
}

enum MHD_Result cg_login_get(struct cg_signaling *sig, struct MHD_Connection *conn, const char *url,
			     struct request *req)
{
	return login_page(sig, req, conn, MHD_HTTP_OK, NULL);
}

/* The answer to a sign-in, once its secret was checked. */
static enum MHD_Result login_answer(struct cg_signaling *sig, struct request *req,
				    struct MHD_Connection *conn, int r, const char *cookie)
{
	if (r == 0) {
		cg_info("browser signed in");
		return cg_signaling_redirect(sig, req, conn, "/", cookie);
	}
	if (r == -EBUSY) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			strlen("busy, try again in a moment\n"),
			(void *)"busy, try again in a moment\n", MHD_RESPMEM_PERSISTENT);

		MHD_add_response_header(resp, "Retry-After", "1");
		return cg_signaling_queue(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
	}
	if (r == -ESHUTDOWN)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
						  "camgate is stopping");
	if (r == -EIO)
		return cg_signaling_respond_error(sig, req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
						  "sign-in failed");
	cg_stats_add(&sig->deps.stats->auth_failures, 1);
	cg_notice("sign-in refused%s",
		  r == -EAGAIN ? " (too many failures from this client, waiting)" : "");
	if (r == -EAGAIN)
		return login_page(sig, req, conn, MHD_HTTP_TOO_MANY_REQUESTS,
				  "Too many failed attempts: wait a minute and try again.");
	return login_page(sig, req, conn, MHD_HTTP_UNAUTHORIZED, "Wrong password or token.");
}

void cg_login_wait_free(struct login_wait *w)
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

enum MHD_Result cg_login_resume(struct cg_signaling *sig, struct MHD_Connection *conn,
				struct request *req)
{
	struct login_wait *w = req->login;
	enum MHD_Result r;

	g_hash_table_remove(sig->logins, w);
	req->login = NULL;
	r = login_answer(sig, req, conn, w->result, w->cookie);
	cg_login_wait_free(w);
	return r;
}

enum MHD_Result cg_login_post(struct cg_signaling *sig, struct MHD_Connection *conn,
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
		cg_login_wait_free(w);
		return login_answer(sig, req, conn, r, NULL);
	}
	req->login = w;
	g_hash_table_add(sig->logins, w);
	MHD_suspend_connection(conn);
	return MHD_YES;
}

enum MHD_Result cg_login_logout(struct cg_signaling *sig, struct MHD_Connection *conn,
				const char *url, struct request *req)
{
	/* Revokes this browser's sign-in for good (a stolen copy of the cookie dies too). */
	int r = cg_auth_logout(sig->deps.auth, cg_signaling_header(conn, MHD_HTTP_HEADER_COOKIE),
			       cg_wall_usec() / CG_USEC_PER_SEC);

	if (r < 0 && r != -ENOENT)
		cg_warn("signing out: cannot keep the revocation: %s", strerror(-r));
	return cg_signaling_redirect(sig, req, conn, "/login",
				     CG_AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
						    "SameSite=Strict");
}

/* Likewise for sign-ins waiting for their hash: they get 503. */
void cg_login_resume_all(struct cg_signaling *sig)
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
