/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What every signaling protocol is given (WHEP and the routes in signaling.c, camgate's
 * room calls in rooms/): the cameras, the workers, the shared viewer registry, and the
 * session setup for a new viewer. Kept apart from signaling.h so that a protocol depends on
 * these and not on the router that dispatches to it (the router includes the protocols).
 * Control thread only.
 */
#pragma once

#include <glib.h>

#include "fanout/session.h"

struct cg_auth;
struct cg_cert;
struct cg_config;
struct cg_audio_track;
struct cg_ice_servers;
struct cg_hub;
struct cg_media;
struct cg_stats;
struct cg_viewers;
struct cg_worker;
struct MHD_Response;

/* One camera as signaling serves it: /cam/NAME/…, its /status entry and its viewers. */
struct cg_signaling_camera {
	const char *name;
	const struct cg_config *cfg; /* the camera's view of the configuration */
	struct cg_media *media;
	struct cg_hub *hub;
	struct cg_audio_track *audio; /* its sound and the talkback speaker, or NULL */
	struct cg_stats *stats;	      /* what its media thread, hub and viewers count */
};

struct cg_signaling_deps {
	const struct cg_config *cfg;
	/* Every camera, the first also served at the old paths (/whep, /snapshot.jpg); the
	 * array is borrowed and outlives signaling. */
	const struct cg_signaling_camera *cameras;
	unsigned n_cameras;
	/* The network workers a new viewer is pinned to (the least loaded). */
	struct cg_worker **workers;
	unsigned n_workers;
	struct cg_stats *stats;
	const struct cg_cert *cert;
	GMainContext *ctx; /* the control context */
	struct cg_auth *auth;
	/* HTTPS: PEM certificate chain and key, read during cg_signaling_new only (then
	 * NULL in the copy it keeps); both NULL for plain HTTP. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	/* Filled in by cg_signaling_new (callers leave it NULL): the configured STUN/TURN
	 * servers resolved for libnice, for whoever creates sessions (WHEP, rooms). The
	 * pointer stays valid while signaling lives; the contents change on reload, so
	 * read them only while creating an agent, on the control thread. */
	const struct cg_ice_servers *ice;
	/* Filled in by cg_signaling_new too, for whoever creates sessions or takes over
	 * connections (rooms); control thread; pass signaling_userdata.
	 * session_closed: one of their sessions has closed, so the heap the viewer held goes
	 * back to the system soon (signaling trims, see signaling.c).
	 * http_kick: they resumed or closed a connection libmicrohttpd owns
	 * (MHD_upgrade_action), which takes effect only when MHD runs: run it now. */
	void (*session_closed)(void *userdata);
	void (*http_kick)(void *userdata);
	/* add_http_headers: the headers every response carries (security policy); call it
	 * on each response one builds before queueing it. */
	void (*add_http_headers)(void *userdata, struct MHD_Response *resp);
	/* Filled in by cg_signaling_new: the one viewer registry (signaling/viewers.h), where
	 * every signaling protocol registers its viewers, under one --max-viewers and one
	 * --max-candidates. Control thread. */
	struct cg_viewers *viewers;
	void *signaling_userdata;
};

/*
 * A session setup for a new viewer of camera cam: the least loaded worker, the camera's
 * lane on it, its media and sound, deps' certificate, STUN/TURN and control context.
 * on_closed(userdata) runs on the control context when the session has closed. Control
 * thread.
 */
void cg_signaling_session_setup(const struct cg_signaling_deps *deps,
				const struct cg_signaling_camera *cam,
				cg_session_closed_fn on_closed, void *userdata,
				struct cg_session_setup *ret);
