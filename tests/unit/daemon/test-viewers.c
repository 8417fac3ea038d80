/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one viewer registry (signaling/viewers.c): one limit for every kind of viewer and
 * the answers still being gathered, trickle limits per viewer, exact removal. Sessions
 * are fakes: the registry only keeps, counts and finds them.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "app/config.h"
#include "fanout/session.h"
#include "signaling/signaling.h"
#include "signaling/viewers.h"

struct cg_session {
	char id[CG_SESSION_ID_LEN + 1];
	int refs;
};

const char *cg_session_id(const struct cg_session *s)
{
	return s->id;
}

struct cg_session *cg_session_ref(struct cg_session *s)
{
	s->refs++;
	return s;
}

struct cg_session *cg_session_unref(struct cg_session *s)
{
	g_assert_cmpint(s->refs, >, 0);
	s->refs--;
	return NULL;
}

static struct cg_config *config(unsigned max_viewers, unsigned max_candidates)
{
	char *text = g_strdup_printf("[camgate]\nmax-viewers = %u\nmax-candidates = %u\n",
				     max_viewers, max_candidates);
	struct cg_config *cfg = NULL;
	char *error = NULL;

	g_assert_cmpint(cg_config_parse_data("t.conf", text, strlen(text), &cfg, &error), ==, 0);
	g_free(text);
	return cfg;
}

static void test_one_limit(void)
{
	struct cg_config *cfg = config(3, 4);
	struct cg_viewers *v = cg_viewers_new(cfg);
	struct cg_signaling_camera front = { .name = "front" }, back = { .name = "back" };
	struct cg_session a = { "aaaa" }, b = { "bbbb" }, c = { "cccc" };

	g_assert_false(cg_viewers_full(v));
	g_assert_cmpint(cg_viewers_add(v, &a, CG_VIEWER_WHEP, &front, false), ==, 0);
	g_assert_cmpint(cg_viewers_add(v, &b, CG_VIEWER_ROOM_CALL, &back, false), ==, 0);
	g_assert_cmpint(a.refs, ==, 1);
	/* An answer being gathered holds the third place. */
	cg_viewers_reserve(v);
	g_assert_true(cg_viewers_full(v));
	g_assert_cmpint(cg_viewers_add(v, &c, CG_VIEWER_WHEP, &front, true), ==, 0);
	g_assert_true(cg_viewers_full(v));
	g_assert_cmpuint(cg_viewers_count(v), ==, 3);
	g_assert_cmpuint(cg_viewers_count_kind(v, CG_VIEWER_WHEP), ==, 2);
	g_assert_cmpuint(cg_viewers_count_kind(v, CG_VIEWER_ROOM_CALL), ==, 1);
	g_assert_cmpuint(cg_viewers_count_camera(v, &front), ==, 2);
	g_assert_cmpuint(cg_viewers_count_camera(v, &back), ==, 1);
	g_assert_true(cg_viewers_lookup(v, "bbbb") == &b);
	g_assert_null(cg_viewers_lookup(v, "zzzz"));
	/* The same id twice is refused and changes nothing. */
	g_assert_cmpint(cg_viewers_add(v, &a, CG_VIEWER_WHEP, &front, false), ==, -EEXIST);
	g_assert_cmpint(a.refs, ==, 1);
	cg_viewers_remove(v, &b);
	g_assert_cmpint(b.refs, ==, 0);
	g_assert_false(cg_viewers_full(v));
	g_assert_cmpuint(cg_viewers_count_kind(v, CG_VIEWER_ROOM_CALL), ==, 0);
	/* Removing what is not there is nothing. */
	cg_viewers_remove(v, &b);
	/* A cancelled reservation gives the place back. */
	cg_viewers_reserve(v);
	g_assert_true(cg_viewers_full(v));
	cg_viewers_unreserve(v);
	g_assert_false(cg_viewers_full(v));
	cg_viewers_free(v);
	g_assert_cmpint(a.refs, ==, 0);
	g_assert_cmpint(c.refs, ==, 0);
	cg_config_free(cfg);
}

static void test_trickle(void)
{
	struct cg_config *cfg = config(10, 4);
	struct cg_viewers *v = cg_viewers_new(cfg);
	struct cg_signaling_camera cam = { .name = "main" };
	struct cg_session a = { "aaaa" }, stale = { "aaaa" }, other = { "bbbb" };

	cg_viewers_add(v, &a, CG_VIEWER_WHEP, &cam, false);
	g_assert_cmpint(cg_viewers_trickle(v, &a, 3), ==, 0);
	/* A batch that would pass the limit is refused whole, and nothing is counted. */
	g_assert_cmpint(cg_viewers_trickle(v, &a, 2), ==, -E2BIG);
	g_assert_cmpint(cg_viewers_trickle(v, &a, 1), ==, 0);
	g_assert_cmpint(cg_viewers_trickle(v, &a, 1), ==, -E2BIG);
	g_assert_cmpint(cg_viewers_trickle(v, &other, 1), ==, -ENOENT);
	/* Another session with the same id is not the registered one. */
	g_assert_false(cg_viewers_has(v, &stale));
	cg_viewers_remove(v, &stale);
	g_assert_true(cg_viewers_has(v, &a));
	cg_viewers_free(v);
	cg_config_free(cfg);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/viewers/one-limit", test_one_limit);
	g_test_add_func("/viewers/trickle", test_trickle);
	return g_test_run();
}
