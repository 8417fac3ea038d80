/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib.h>

#include "app/config.h"
#include "fanout/session.h"
#include "signaling/viewers.h"
#include "util/macros.h"

struct viewer {
	struct cg_session *session; /* a reference */
	enum cg_viewer_kind kind;
	const struct cg_signaling_camera *camera;
	unsigned candidates; /* trickled so far */
};

struct cg_viewers {
	const struct cg_config *cfg;
	GHashTable *by_id; /* session id (the session's own string) → struct viewer, owned */
	unsigned reserved;
	unsigned per_kind[_CG_VIEWER_KIND_MAX];
};

static void viewer_free(gpointer p)
{
	struct viewer *vw = p;

	cg_session_unref(vw->session);
	free(vw);
}

struct cg_viewers *cg_viewers_new(const struct cg_config *cfg)
{
	struct cg_viewers *v = cg_new0(struct cg_viewers, 1);

	v->cfg = cfg;
	v->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, viewer_free);
	return v;
}

struct cg_viewers *cg_viewers_free(struct cg_viewers *v)
{
	if (!v)
		return NULL;
	g_hash_table_unref(v->by_id);
	free(v);
	return NULL;
}

void cg_viewers_set_config(struct cg_viewers *v, const struct cg_config *cfg)
{
	v->cfg = cfg;
}

void cg_viewers_reserve(struct cg_viewers *v)
{
	v->reserved++;
}

void cg_viewers_unreserve(struct cg_viewers *v)
{
	if (v->reserved > 0)
		v->reserved--;
}

bool cg_viewers_full(const struct cg_viewers *v)
{
	return g_hash_table_size(v->by_id) + v->reserved >= v->cfg->max_viewers;
}

int cg_viewers_add(struct cg_viewers *v, struct cg_session *s, enum cg_viewer_kind kind,
		   const struct cg_signaling_camera *cam, bool reserved)
{
	struct viewer *vw;

	if (g_hash_table_contains(v->by_id, cg_session_id(s)))
		return -EEXIST;
	if (reserved)
		cg_viewers_unreserve(v);
	vw = cg_new0(struct viewer, 1);
	vw->session = cg_session_ref(s);
	vw->kind = kind;
	vw->camera = cam;
	/* The key is the session's own id string: it lives as long as the reference. */
	g_hash_table_insert(v->by_id, (gpointer)cg_session_id(s), vw);
	v->per_kind[kind]++;
	return 0;
}

static struct viewer *viewers_find(const struct cg_viewers *v, const struct cg_session *s)
{
	struct viewer *vw = g_hash_table_lookup(v->by_id, cg_session_id(s));

	return vw && vw->session == s ? vw : NULL;
}

struct cg_session *cg_viewers_lookup(const struct cg_viewers *v, const char *id)
{
	struct viewer *vw = id ? g_hash_table_lookup(v->by_id, id) : NULL;

	return vw ? vw->session : NULL;
}

bool cg_viewers_has(const struct cg_viewers *v, const struct cg_session *s)
{
	return viewers_find(v, s) != NULL;
}

int cg_viewers_trickle(struct cg_viewers *v, const struct cg_session *s, unsigned n)
{
	struct viewer *vw = viewers_find(v, s);

	if (!vw)
		return -ENOENT;
	if (vw->candidates + n > v->cfg->max_candidates)
		return -E2BIG;
	vw->candidates += n;
	return 0;
}

void cg_viewers_remove(struct cg_viewers *v, struct cg_session *s)
{
	struct viewer *vw = viewers_find(v, s);

	if (!vw)
		return;
	v->per_kind[vw->kind]--;
	g_hash_table_remove(v->by_id, cg_session_id(s));
}

unsigned cg_viewers_count(const struct cg_viewers *v)
{
	return g_hash_table_size(v->by_id);
}

unsigned cg_viewers_count_kind(const struct cg_viewers *v, enum cg_viewer_kind kind)
{
	return v->per_kind[kind];
}

unsigned cg_viewers_count_camera(const struct cg_viewers *v, const struct cg_signaling_camera *cam)
{
	GHashTableIter it;
	gpointer value;
	unsigned n = 0;

	g_hash_table_iter_init(&it, v->by_id);
	while (g_hash_table_iter_next(&it, NULL, &value))
		n += ((struct viewer *)value)->camera == cam;
	return n;
}
