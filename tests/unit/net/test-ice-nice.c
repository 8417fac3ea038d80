/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The libnice transport (net/ice_nice.c) without the network: creating and freeing agents
 * (with and without STUN/TURN settings), their credentials, remote candidates and attaching.
 * Nothing here gathers or sends (gathering binds sockets on the machine's interfaces):
 * connectivity is for the integration suite, where every session runs over this backend
 * inside a network namespace.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "net/ice.h"

static void on_recv(uint8_t *buf, size_t len, void *userdata)
{
	g_assert_not_reached(); /* nothing is received: nothing is gathered */
}

static const struct cg_ice_callbacks callbacks = { .recv = on_recv };

static struct cg_ice *make(GMainContext *ctx, bool controlling,
			   const struct cg_ice_servers_setup *servers)
{
	struct cg_ice_setup setup = {
		.ctx = ctx,
		.controlling = controlling,
		.loopback_only = true,
		.servers = servers,
		.log_id = "test",
		.cb = &callbacks,
	};
	struct cg_ice *ice = NULL;

	g_assert_cmpint(cg_ice_new(&cg_nice_ice_ops, NULL, &setup, &ice), ==, 0);
	g_assert_nonnull(ice);
	return ice;
}

static void test_create(void)
{
	GMainContext *ctx = g_main_context_new();
	struct cg_ice *a = make(ctx, false, NULL), *b = make(ctx, true, NULL);
	const char *au, *ap, *bu, *bp;
	char *cands[CG_ICE_MAX_LOCAL_CANDIDATES];
	struct cg_ice_setup bad = { .cb = &callbacks };
	struct cg_ice *none = NULL;

	g_assert_cmpstr(cg_nice_ice_ops.name, ==, "nice");
	cg_ice_local_credentials(a, &au, &ap);
	cg_ice_local_credentials(b, &bu, &bp);
	/* RFC 8839 §5.4: at least 4 and 22 characters; fresh per agent. */
	g_assert_cmpuint(strlen(au), >=, 4);
	g_assert_cmpuint(strlen(ap), >=, 22);
	g_assert_cmpstr(au, !=, bu);
	g_assert_cmpstr(ap, !=, bp);
	g_assert_cmpint(cg_ice_local_candidates(a, cands, G_N_ELEMENTS(cands)), ==, 0);
	/* No context, or no receiver: refused. */
	g_assert_cmpint(cg_ice_new(&cg_nice_ice_ops, NULL, &bad, &none), ==, -EINVAL);
	g_assert_null(none);
	g_assert_null(cg_ice_free(a));
	g_assert_null(cg_ice_free(b));
	g_assert_null(cg_ice_free(NULL));
	while (g_main_context_iteration(ctx, FALSE))
		;
	g_main_context_unref(ctx);
}

static void test_remote(void)
{
	GMainContext *ctx = g_main_context_new();
	struct cg_ice *a = make(ctx, false, NULL);

	g_assert_cmpint(cg_ice_add_remote_candidate(a, "candidate:1 1 udp 2130706431 192.0.2.1 "
						       "9 typ host"),
			==, -EAGAIN);
	g_assert_cmpint(cg_ice_set_remote_credentials(a, "", "x"), ==, -EINVAL);
	g_assert_cmpint(cg_ice_set_remote_credentials(a, "abcd", "0123456789012345678901"), ==, 0);
	g_assert_cmpint(cg_ice_set_remote_credentials(a, "abcd", "0123456789012345678901"), ==,
			-EALREADY);
	/* TEST-NET-1: never routed, and nothing is sent before gathering anyway. */
	g_assert_cmpint(cg_ice_add_remote_candidate(a, "candidate:1 1 udp 2130706431 192.0.2.1 "
						       "9 typ host"),
			==, 0);
	/* An mDNS name libnice cannot resolve, and garbage: not usable. */
	g_assert_cmpint(cg_ice_add_remote_candidate(a, "candidate:2 1 udp 2130706431 "
						       "0b5a7d1e-2f3c.local 9 typ host"),
			==, -EINVAL);
	/* A TCP candidate parses and is kept, but with ice-tcp off nothing pairs with it. */
	g_assert_cmpint(cg_ice_add_remote_candidate(a, "candidate:3 1 tcp 1518280447 192.0.2.1 "
						       "9 typ host tcptype passive"),
			==, 0);
	g_assert_cmpint(cg_ice_add_remote_candidate(a, "candidate:garbage"), ==, -EINVAL);
	g_assert_cmpint(cg_ice_end_of_candidates(a), ==, 0);
	/* Attached on the (only) thread that runs ctx, then freed: no callback runs. */
	g_assert_cmpint(cg_ice_attach(a), ==, 0);
	g_assert_cmpint(cg_ice_attach(a), ==, -EALREADY);
	g_assert_cmpint(cg_ice_send_one(a, (const uint8_t *)"x", 1), ==, -ENOTCONN);
	cg_ice_free(a);
	while (g_main_context_iteration(ctx, FALSE))
		;
	g_main_context_unref(ctx);
}

/* STUN and TURN settings are applied at creation; nothing is contacted before gathering. */
static void test_servers(void)
{
	GMainContext *ctx = g_main_context_new();
	const struct cg_ice_servers_setup separate = {
		.stun_ip = "192.0.2.10",
		.stun_port = 3478,
		.turn_ip = "192.0.2.11",
		.turn_port = 3478,
		.turn_relay = CG_ICE_RELAY_TCP,
		.turn_username = "1700000000:camgate",
		.turn_password = "secret",
	};
	const struct cg_ice_servers_setup same = {
		.stun_ip = "192.0.2.10",
		.stun_port = 3478,
		.turn_ip = "192.0.2.10",
		.turn_port = 3478,
		.turn_relay = CG_ICE_RELAY_UDP,
		.turn_username = "u",
		.turn_password = "p",
	};
	const struct cg_ice_servers_setup stun_only = { .stun_ip = "192.0.2.10",
							.stun_port = 19302 };

	cg_ice_free(make(ctx, false, &separate));
	cg_ice_free(make(ctx, false, &same));
	cg_ice_free(make(ctx, true, &stun_only));
	while (g_main_context_iteration(ctx, FALSE))
		;
	g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ice-nice/create", test_create);
	g_test_add_func("/ice-nice/remote", test_remote);
	g_test_add_func("/ice-nice/servers", test_servers);
	return g_test_run();
}
