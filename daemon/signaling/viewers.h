/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one viewer registry: every viewer's session, whatever signaling made it (WHEP, a
 * room call, anything added later), by id, with the limits that hold for all of them
 * together: --max-viewers viewers (answers still being gathered count), --max-candidates
 * remote candidates trickled per viewer. /status, /metrics and the systemd STATUS count
 * from here. A signaling protocol is a file of signaling/ that creates sessions with
 * cg_signaling_session_setup() and registers them here.
 *
 * Owner: the control thread; every function is control thread only.
 */
#pragma once

#include <stdbool.h>

struct cg_config;
struct cg_session;
struct cg_signaling_camera;
struct cg_viewers;

enum cg_viewer_kind {
	CG_VIEWER_WHEP,
	CG_VIEWER_ROOM_CALL,
	_CG_VIEWER_KIND_MAX,
};

/* cfg is borrowed until the next cg_viewers_set_config(). Never NULL. */
struct cg_viewers *cg_viewers_new(const struct cg_config *cfg);

/* Frees the registry and drops its references (the sessions close on their workers). */
struct cg_viewers *cg_viewers_free(struct cg_viewers *v);

/* The limits of a new configuration (cfg borrowed): for the next requests. */
void cg_viewers_set_config(struct cg_viewers *v, const struct cg_config *cfg);

/* Reserves room for a viewer whose answer is still being made (WHEP gathering): it counts
 * against the limit until cg_viewers_unreserve() or cg_viewers_add(..., reserved). */
void cg_viewers_reserve(struct cg_viewers *v);
void cg_viewers_unreserve(struct cg_viewers *v);

/* Whether --max-viewers viewers (registered or reserved) are watching already. */
bool cg_viewers_full(const struct cg_viewers *v);

/*
 * Registers s (takes a reference) as a viewer of cam (borrowed, outlives the registry) made
 * by signaling of kind; reserved: it takes the place cg_viewers_reserve() kept. Returns 0,
 * or -EEXIST when its id is registered already.
 */
int cg_viewers_add(struct cg_viewers *v, struct cg_session *s, enum cg_viewer_kind kind,
		   const struct cg_signaling_camera *cam, bool reserved);

/* The viewer with session id id (borrowed), or NULL. */
struct cg_session *cg_viewers_lookup(const struct cg_viewers *v, const char *id);

/* Whether s is registered (as itself, not an older session of the same id). */
bool cg_viewers_has(const struct cg_viewers *v, const struct cg_session *s);

/*
 * Counts n more remote candidates trickled for s. Returns 0, -E2BIG when that would pass
 * --max-candidates (nothing is counted: refuse the batch), -ENOENT when s is not a viewer.
 */
int cg_viewers_trickle(struct cg_viewers *v, const struct cg_session *s, unsigned n);

/* Forgets s (drops the registry's reference). Nothing when it is not registered. */
void cg_viewers_remove(struct cg_viewers *v, struct cg_session *s);

/* Viewers in all, of one kind, of one camera. */
unsigned cg_viewers_count(const struct cg_viewers *v);
unsigned cg_viewers_count_kind(const struct cg_viewers *v, enum cg_viewer_kind kind);
unsigned cg_viewers_count_camera(const struct cg_viewers *v, const struct cg_signaling_camera *cam);
