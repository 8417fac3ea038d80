/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The in-memory ICE transport (net/ice_mem.h) through the net/ice.h seam: two ends connect
 * when they know each other's credentials, datagrams flow both ways (also between two
 * threads), a freed end gets no more callbacks and its peer's sends are lost, and the loss,
 * capacity and failure knobs do what they say. No sockets.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "net/ice_mem.h"

/* A functional bound, not a timing threshold: a wait that takes this long is a hang. */
#define WAIT_LIMIT_MS 20000

struct end {
	struct cg_ice *ice;
	GMainContext *ctx;
	int gathered;
	enum cg_ice_state states[8];
	unsigned n_states;
	char pair[32];
	GPtrArray *received; /* GBytes */
	gint n_received;     /* atomic: read by another thread in the echo test */
	bool echo;
};

static void on_gathered(void *userdata)
{
	struct end *e = userdata;

	e->gathered++;
}

static void on_state(enum cg_ice_state state, void *userdata)
{
	struct end *e = userdata;

	g_assert_cmpuint(e->n_states, <, G_N_ELEMENTS(e->states));
	e->states[e->n_states++] = state;
}

static void on_pair(const char *local_type, const char *remote_type, void *userdata)
{
	struct end *e = userdata;

	g_snprintf(e->pair, sizeof(e->pair), "%s/%s", local_type, remote_type);
}

static void on_recv(uint8_t *buf, size_t len, void *userdata)
{
	struct end *e = userdata;

	g_ptr_array_add(e->received, g_bytes_new(buf, len));
	if (e->echo)
		g_assert_cmpint(cg_ice_send_one(e->ice, buf, len), ==, 0);
	g_atomic_int_inc(&e->n_received);
}

static const struct cg_ice_callbacks callbacks = {
	.gathering_done = on_gathered,
	.state_changed = on_state,
	.selected_pair = on_pair,
	.recv = on_recv,
};

static void end_init(struct end *e, struct cg_ice_mem_net *net, GMainContext *ctx)
{
	struct cg_ice_setup setup = {
		.ctx = ctx,
		.cb = &callbacks,
		.userdata = e,
		.log_id = "test",
	};

	memset(e, 0, sizeof(*e));
	e->ctx = ctx;
	e->received = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_assert_cmpint(cg_ice_new(&cg_mem_ice_ops, net, &setup, &e->ice), ==, 0);
}

static void end_fini(struct end *e)
{
	e->ice = cg_ice_free(e->ice);
	g_ptr_array_unref(e->received);
}

static void run_pending(GMainContext *ctx)
{
	while (g_main_context_iteration(ctx, FALSE))
		;
}

static gboolean on_wait_limit(gpointer userdata)
{
	g_error("waited %d ms for %s", WAIT_LIMIT_MS, (const char *)userdata);
	return G_SOURCE_REMOVE;
}

/* A source that fails the test if a wait on ctx never ends. */
static GSource *limit_start(GMainContext *ctx, const char *what)
{
	GSource *limit = g_timeout_source_new(WAIT_LIMIT_MS);

	g_source_set_callback(limit, on_wait_limit, (gpointer)what, NULL);
	g_source_attach(limit, ctx);
	return limit;
}

static void limit_stop(GSource *limit)
{
	g_source_destroy(limit);
	g_source_unref(limit);
}

/* Runs ctx until *counter reaches want. */
static void wait_count(GMainContext *ctx, gint *counter, int want, const char *what)
{
	GSource *limit = limit_start(ctx, what);

	while (g_atomic_int_get(counter) < want)
		g_main_context_iteration(ctx, TRUE);
	limit_stop(limit);
}

static void send_text(struct end *e, const char *text)
{
	g_assert_cmpint(cg_ice_send_one(e->ice, (const uint8_t *)text, strlen(text)), ==, 0);
}

static void assert_received(struct end *e, guint index, const char *text)
{
	GBytes *b;

	g_assert_cmpuint(index, <, e->received->len);
	b = g_ptr_array_index(e->received, index);
	g_assert_cmpmem(g_bytes_get_data(b, NULL), g_bytes_get_size(b), text, strlen(text));
}

/* Two ends on one context, gathered, linked and attached. */
static void connect_pair(struct cg_ice_mem_net *net, GMainContext *ctx, struct end *a,
			 struct end *b)
{
	end_init(a, net, ctx);
	end_init(b, net, ctx);
	g_assert_cmpint(cg_ice_gather(a->ice), ==, 0);
	g_assert_cmpint(cg_ice_gather(b->ice), ==, 0);
	g_assert_cmpint(cg_ice_mem_link(a->ice, b->ice), ==, 0);
	g_assert_cmpint(cg_ice_attach(a->ice), ==, 0);
	g_assert_cmpint(cg_ice_attach(b->ice), ==, 0);
	run_pending(ctx);
}

static void test_connect(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	const char *au, *ap, *bu, *bp;
	char *cands[CG_ICE_MAX_LOCAL_CANDIDATES] = { 0 };
	struct cg_ice_mem_stats st;

	end_init(&a, net, ctx);
	end_init(&b, net, ctx);
	cg_ice_local_credentials(a.ice, &au, &ap);
	cg_ice_local_credentials(b.ice, &bu, &bp);
	g_assert_cmpuint(strlen(au), >=, 4);
	g_assert_cmpuint(strlen(ap), >=, 22);
	g_assert_cmpstr(au, !=, bu);
	g_assert_cmpstr(ap, !=, bp);

	/* Gathering before the hand-over: no callback until attached. */
	g_assert_cmpint(cg_ice_local_candidates(a.ice, cands, G_N_ELEMENTS(cands)), ==, 0);
	g_assert_cmpint(cg_ice_gather(a.ice), ==, 0);
	g_assert_cmpint(cg_ice_gather(a.ice), ==, -EALREADY);
	g_assert_cmpint(cg_ice_gather(b.ice), ==, 0);
	g_assert_cmpint(cg_ice_local_candidates(a.ice, cands, G_N_ELEMENTS(cands)), ==, 1);
	g_assert_true(g_str_has_prefix(cands[0], "candidate:"));
	g_assert_nonnull(strstr(cands[0], " typ host"));
	g_free(cands[0]);
	run_pending(ctx);
	g_assert_cmpint(a.gathered, ==, 0);

	/* Candidates need the peer's credentials first; a bad one is refused. */
	g_assert_cmpint(cg_ice_add_remote_candidate(a.ice, "candidate:1 1 udp 1 192.0.2.9 9 typ "
							   "host"),
			==, -EAGAIN);
	g_assert_cmpint(cg_ice_send_one(a.ice, (const uint8_t *)"x", 1), ==, -ENOTCONN);
	g_assert_cmpint(cg_ice_mem_link(a.ice, b.ice), ==, 0);
	g_assert_cmpint(cg_ice_set_remote_credentials(a.ice, bu, bp), ==, -EALREADY);
	g_assert_cmpint(cg_ice_set_remote_credentials(a.ice, "", bp), ==, -EINVAL);
	g_assert_cmpint(cg_ice_add_remote_candidate(a.ice, "candidate:1 1 udp 1 192.0.2.9 9 typ "
							   "host"),
			==, 0);
	g_assert_cmpint(cg_ice_add_remote_candidate(a.ice, "a=candidate:x"), ==, -EINVAL);
	g_assert_cmpint(cg_ice_end_of_candidates(a.ice), ==, 0);

	/* One end attached: checking, not connected. */
	g_assert_cmpint(cg_ice_attach(a.ice), ==, 0);
	g_assert_cmpint(cg_ice_attach(a.ice), ==, -EALREADY);
	run_pending(ctx);
	g_assert_cmpint(a.gathered, ==, 1);
	g_assert_cmpuint(a.n_states, ==, 1);
	g_assert_cmpint(a.states[0], ==, CG_ICE_CHECKING);
	g_assert_cmpint(cg_ice_send_one(a.ice, (const uint8_t *)"x", 1), ==, -ENOTCONN);

	g_assert_cmpint(cg_ice_attach(b.ice), ==, 0);
	run_pending(ctx);
	g_assert_cmpuint(a.n_states, ==, 2);
	g_assert_cmpint(a.states[1], ==, CG_ICE_CONNECTED);
	g_assert_cmpstr(a.pair, ==, "host/host");
	g_assert_cmpint(b.gathered, ==, 1);
	g_assert_cmpuint(b.n_states, ==, 2);
	g_assert_cmpint(b.states[0], ==, CG_ICE_CHECKING);
	g_assert_cmpint(b.states[1], ==, CG_ICE_CONNECTED);
	g_assert_cmpstr(b.pair, ==, "host/host");
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_true(st.connected);
	g_assert_cmpuint(st.remote_candidates, ==, 1);
	g_assert_true(st.end_of_candidates);

	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

/* Wrong credentials never connect (checks would fail on a real network too). */
static void test_wrong_credentials(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	const char *au, *ap, *bu, *bp;

	end_init(&a, net, ctx);
	end_init(&b, net, ctx);
	cg_ice_local_credentials(a.ice, &au, &ap);
	cg_ice_local_credentials(b.ice, &bu, &bp);
	g_assert_cmpint(cg_ice_set_remote_credentials(a.ice, bu, "not-the-password-of-b-at-all"),
			==, 0);
	g_assert_cmpint(cg_ice_set_remote_credentials(b.ice, au, ap), ==, 0);
	cg_ice_attach(a.ice);
	cg_ice_attach(b.ice);
	run_pending(ctx);
	g_assert_cmpuint(a.n_states, ==, 1);
	g_assert_cmpuint(b.n_states, ==, 1);
	g_assert_cmpint(cg_ice_send_one(b.ice, (const uint8_t *)"x", 1), ==, -ENOTCONN);
	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

static void test_both_ways(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	const uint8_t big[1500] = { [0] = 0x80, [1499] = 0x42 };
	const struct cg_ice_msg batch[3] = {
		{ .buf = (const uint8_t *)"one", .len = 3 },
		{ .buf = big, .len = sizeof(big) },
		{ .buf = (const uint8_t *)"three", .len = 5 },
	};
	struct cg_ice_mem_stats st;
	GBytes *got;

	connect_pair(net, ctx, &a, &b);
	g_assert_cmpint(cg_ice_send(a.ice, batch, 3), ==, 3);
	send_text(&b, "back");
	send_text(&b, "again");
	g_assert_cmpuint(b.received->len, ==, 0); /* delivered from the loop, not inline */
	run_pending(ctx);
	g_assert_cmpuint(b.received->len, ==, 3);
	assert_received(&b, 0, "one");
	got = g_ptr_array_index(b.received, 1);
	g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), big, sizeof(big));
	assert_received(&b, 2, "three");
	g_assert_cmpuint(a.received->len, ==, 2);
	assert_received(&a, 0, "back");
	assert_received(&a, 1, "again");
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_cmpuint(st.sent, ==, 3);
	g_assert_cmpuint(st.delivered, ==, 2);
	g_assert_cmpuint(st.lost, ==, 0);

	/* An empty batch, and a datagram no UDP packet can carry. */
	g_assert_cmpint(cg_ice_send(a.ice, batch, 0), ==, 0);
	{
		static uint8_t huge[65536];
		const struct cg_ice_msg m[2] = { { .buf = huge, .len = sizeof(huge) },
						 { .buf = big, .len = 1 } };

		g_assert_cmpint(cg_ice_send(a.ice, m, 2), ==, -EMSGSIZE);
		g_assert_cmpint(cg_ice_send(a.ice, batch, 1), ==, 1);
	}
	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

/* A freed end: what was queued for it is dropped without a callback, its peer stays
 * connected and loses what it sends. */
static void test_close(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	struct cg_ice_mem_stats st;
	GPtrArray *b_received;

	connect_pair(net, ctx, &a, &b);
	send_text(&a, "never read");
	b_received = g_ptr_array_ref(b.received);
	end_fini(&b);
	run_pending(ctx);
	g_assert_cmpuint(b_received->len, ==, 0);
	g_ptr_array_unref(b_received);
	send_text(&a, "into the void");
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_cmpuint(st.sent, ==, 2);
	g_assert_cmpuint(st.lost, ==, 1);
	g_assert_true(st.connected);
	g_assert_cmpuint(a.n_states, ==, 2); /* no FAILED: consent is the session's job */

	end_fini(&a);
	g_assert_null(cg_ice_free(NULL));
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

static unsigned count_delivered(unsigned percent, uint32_t seed, unsigned n)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	struct cg_ice_mem_stats st;
	unsigned delivered;

	connect_pair(net, ctx, &a, &b);
	cg_ice_mem_set_loss(a.ice, percent, seed);
	for (unsigned i = 0; i < n; i++) {
		uint8_t byte = (uint8_t)i;

		g_assert_cmpint(cg_ice_send_one(a.ice, &byte, 1), ==, 0);
	}
	run_pending(ctx);
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_cmpuint(st.sent, ==, n);
	g_assert_cmpuint(st.lost + b.received->len, ==, n);
	delivered = b.received->len;
	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
	return delivered;
}

static void test_loss(void)
{
	unsigned half = count_delivered(50, 1234, 1000);

	g_assert_cmpuint(count_delivered(0, 1234, 1000), ==, 1000);
	g_assert_cmpuint(count_delivered(100, 1234, 1000), ==, 0);
	/* About half, and the same again with the same seed. */
	g_assert_cmpuint(half, >, 300);
	g_assert_cmpuint(half, <, 700);
	g_assert_cmpuint(count_delivered(50, 1234, 1000), ==, half);
	g_assert_cmpuint(count_delivered(10, 0, 1000), >, 800); /* seed 0 still loses some */
	g_assert_cmpuint(count_delivered(10, 0, 1000), <, 1000);
}

/* A full receiver: the sender's batch is taken only in part, as from a full socket. */
static void test_capacity(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	struct cg_ice_msg batch[10];
	struct cg_ice_mem_stats st;

	connect_pair(net, ctx, &a, &b);
	for (unsigned i = 0; i < G_N_ELEMENTS(batch); i++)
		batch[i] = (struct cg_ice_msg){ .buf = (const uint8_t *)"datagram", .len = 8 };
	cg_ice_mem_set_capacity(b.ice, 4);
	g_assert_cmpint(cg_ice_send(a.ice, batch, 10), ==, 4);
	g_assert_cmpint(cg_ice_send_one(a.ice, batch[0].buf, batch[0].len), ==, -EAGAIN);
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_cmpuint(st.sent, ==, 4);
	g_assert_cmpuint(st.refused, ==, 7);
	run_pending(ctx);
	g_assert_cmpuint(b.received->len, ==, 4);
	g_assert_cmpint(cg_ice_send(a.ice, batch, 10), ==, 4);
	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

static void test_fail(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct end a, b;
	struct cg_ice_mem_stats st;

	connect_pair(net, ctx, &a, &b);
	cg_ice_mem_fail(a.ice);
	cg_ice_mem_fail(a.ice);
	run_pending(ctx);
	g_assert_cmpuint(a.n_states, ==, 3);
	g_assert_cmpint(a.states[2], ==, CG_ICE_FAILED);
	g_assert_cmpuint(b.n_states, ==, 2);
	g_assert_cmpint(cg_ice_send_one(a.ice, (const uint8_t *)"x", 1), ==, -ENOTCONN);
	send_text(&b, "lost");
	run_pending(ctx);
	g_assert_cmpuint(a.received->len, ==, 0);
	cg_ice_mem_get_stats(b.ice, &st);
	g_assert_cmpuint(st.lost, ==, 1);
	cg_ice_mem_get_stats(a.ice, &st);
	g_assert_false(st.connected);
	end_fini(&a);
	end_fini(&b);
	cg_ice_mem_net_free(net);
	g_main_context_unref(ctx);
}

/* The echo end lives on its own thread and context, as a session on a worker does. */
struct worker {
	GMainContext *ctx;
	GMainLoop *loop;
	struct end *end;
};

static gpointer worker_main(gpointer userdata)
{
	struct worker *w = userdata;

	g_main_context_push_thread_default(w->ctx);
	g_main_loop_run(w->loop);
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

static gboolean worker_attach(gpointer userdata)
{
	struct worker *w = userdata;

	g_assert_cmpint(cg_ice_attach(w->end->ice), ==, 0);
	return G_SOURCE_REMOVE;
}

static gboolean worker_stop(gpointer userdata)
{
	struct worker *w = userdata;

	end_fini(w->end); /* on its owner thread */
	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

static void test_threads(void)
{
	struct cg_ice_mem_net *net = cg_ice_mem_net_new();
	GMainContext *ctx = g_main_context_new();
	struct worker w = { .ctx = g_main_context_new() };
	struct end a, b;
	GThread *thread;
	GSource *limit;
	const int n = 500;

	w.loop = g_main_loop_new(w.ctx, FALSE);
	w.end = &b;
	end_init(&a, net, ctx);
	end_init(&b, net, w.ctx);
	b.echo = true;
	g_assert_cmpint(cg_ice_mem_link(a.ice, b.ice), ==, 0); /* before the hand-over */
	thread = g_thread_new("ice-mem-echo", worker_main, &w);
	g_main_context_invoke(w.ctx, worker_attach, &w);
	g_assert_cmpint(cg_ice_attach(a.ice), ==, 0);
	limit = limit_start(ctx, "the connection");
	while (a.n_states < 2)
		g_main_context_iteration(ctx, TRUE);
	limit_stop(limit);
	g_assert_cmpint(a.states[1], ==, CG_ICE_CONNECTED);
	for (int i = 0; i < n; i++) {
		char text[16];

		g_snprintf(text, sizeof(text), "echo %d", i);
		send_text(&a, text);
	}
	wait_count(ctx, &a.n_received, n, "the echoes");
	for (int i = 0; i < n; i += 97) {
		char text[16];

		g_snprintf(text, sizeof(text), "echo %d", i);
		assert_received(&a, (guint)i, text);
	}
	g_main_context_invoke(w.ctx, worker_stop, &w);
	g_thread_join(thread);
	g_assert_cmpint(g_atomic_int_get(&b.n_received), ==, n);
	end_fini(&a);
	cg_ice_mem_net_free(net);
	g_main_loop_unref(w.loop);
	g_main_context_unref(w.ctx);
	g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ice-mem/connect", test_connect);
	g_test_add_func("/ice-mem/wrong-credentials", test_wrong_credentials);
	g_test_add_func("/ice-mem/both-ways", test_both_ways);
	g_test_add_func("/ice-mem/close", test_close);
	g_test_add_func("/ice-mem/loss", test_loss);
	g_test_add_func("/ice-mem/capacity", test_capacity);
	g_test_add_func("/ice-mem/fail", test_fail);
	g_test_add_func("/ice-mem/threads", test_threads);
	return g_test_run();
}
