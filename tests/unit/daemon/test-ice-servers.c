/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN credentials (issue 12): the TURN REST API pair (coturn's use-auth-secret) against
 * values computed independently, the Link headers that carry them, and the configured
 * pair without a secret.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "app/config.h"
#include "app/ice_servers.h"

/*
 * Expected passwords, computed outside camgate with OpenSSL:
 *   printf '%s' '1700000000:camgate' | openssl dgst -sha1 -hmac 'north' -binary | base64
 *   printf '%s' '1700043200:viewer' | openssl dgst -sha1 -hmac 'nat-test-secret' -binary | base64
 * (and checked against Python's hmac.new(secret, username, hashlib.sha1) + base64).
 */
#define VECTOR1_PASSWORD "LWEdsAiD0XTYwRluWSqd+nJN8C8="
#define VECTOR2_PASSWORD "e+2AONYTDAa8sZE2qokB2Qr3xbw="

static void test_rest_vector(void)
{
	struct cg_turn_credentials c;

	g_assert_cmpint(cg_turn_rest_credentials("north", "camgate", 1700000000, &c), ==, 0);
	g_assert_cmpstr(c.username, ==, "1700000000:camgate");
	g_assert_cmpstr(c.password, ==, VECTOR1_PASSWORD);
	g_assert_cmpint(cg_turn_rest_credentials("nat-test-secret", "viewer", 1700043200, &c), ==,
			0);
	g_assert_cmpstr(c.username, ==, "1700043200:viewer");
	g_assert_cmpstr(c.password, ==, VECTOR2_PASSWORD);
	/* Another expiry, another password: the HMAC covers the whole username. */
	g_assert_cmpint(cg_turn_rest_credentials("north", "camgate", 1700000001, &c), ==, 0);
	g_assert_cmpstr(c.password, !=, VECTOR1_PASSWORD);
	cg_turn_credentials_clear(&c);
	g_assert_cmpstr(c.password, ==, "");
}

static void test_rest_too_long(void)
{
	char user[CG_TURN_CREDENTIAL_MAX + 1];
	struct cg_turn_credentials c;

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	g_assert_cmpint(cg_turn_rest_credentials("north", user, 1700000000, &c), ==, -ENAMETOOLONG);
	g_assert_cmpstr(c.username, ==, "");
	g_assert_cmpstr(c.password, ==, "");
}

/* A TURN-only configuration as config.c leaves it (only the fields links read). */
static struct cg_config turn_config(const char *user, const char *password, const char *secret)
{
	return (struct cg_config){ .turn_host = (char *)"turn.example.net",
				   .turn_port = 3478,
				   .turn_transport = CG_CONFIG_TURN_UDP,
				   .turn_user = (char *)user,
				   .turn_password = (char *)password,
				   .turn_secret = (char *)secret };
}

static void test_links_rest(void)
{
	/* Expiry = now + CG_TURN_REST_TTL_S = 1700000000, the first vector. */
	const int64_t now = 1700000000 - CG_TURN_REST_TTL_S;
	struct cg_config cfg = turn_config(NULL, NULL, "north");
	char **links = cg_ice_servers_links_at(&cfg, now);

	g_assert_cmpuint(g_strv_length(links), ==, 1);
	g_assert_cmpstr(links[0], ==,
			"<turn:turn.example.net:3478?transport=udp>; rel=\"ice-server\"; "
			"username=\"1700000000:camgate\"; credential=\"" VECTOR1_PASSWORD "\"; "
			"credential-type=\"password\"");
	g_assert_null(strstr(links[0], "north"));
	g_strfreev(links);

	/* A configured user names the credentials; later links expire later. */
	cfg = turn_config("viewer", NULL, "nat-test-secret");
	links = cg_ice_servers_links_at(&cfg, 1700043200 - CG_TURN_REST_TTL_S);
	g_assert_nonnull(strstr(links[0], "username=\"1700043200:viewer\"; "
					  "credential=\"" VECTOR2_PASSWORD "\""));
	g_assert_null(strstr(links[0], "nat-test-secret"));
	g_strfreev(links);
	links = cg_ice_servers_links_at(&cfg, 1700043200 - CG_TURN_REST_TTL_S + 60);
	g_assert_nonnull(strstr(links[0], "username=\"1700043260:viewer\""));
	g_strfreev(links);

	/* A secret wins over a configured password, which never leaves. */
	cfg = turn_config("viewer", "long-term-password", "nat-test-secret");
	links = cg_ice_servers_links_at(&cfg, 1700043200 - CG_TURN_REST_TTL_S);
	g_assert_nonnull(strstr(links[0], "credential=\"" VECTOR2_PASSWORD "\""));
	g_assert_null(strstr(links[0], "long-term-password"));
	g_strfreev(links);
}

static void test_links_static(void)
{
	struct cg_config cfg = turn_config("u", "p w", NULL);
	char **links = cg_ice_servers_links_at(&cfg, 1700000000);

	g_assert_cmpuint(g_strv_length(links), ==, 1);
	g_assert_cmpstr(links[0], ==,
			"<turn:turn.example.net:3478?transport=udp>; rel=\"ice-server\"; "
			"username=\"u\"; credential=\"p w\"; credential-type=\"password\"");
	g_strfreev(links);
	/* The wall-clock form gives the same for a static pair. */
	links = cg_ice_servers_links(&cfg);
	g_assert_nonnull(strstr(links[0], "username=\"u\"; credential=\"p w\""));
	g_strfreev(links);
}

/* The daemon's agents: the same rule, from the resolved servers. */
static void test_agent_credentials(void)
{
	struct cg_ice_servers ice = { .turn_ip = "127.0.0.1", .turn_port = 3478 };
	struct cg_turn_credentials c;

	ice.turn_secret = "north";
	g_assert_cmpint(cg_ice_servers_turn_credentials(&ice, 1700000000 - CG_TURN_REST_TTL_S, &c),
			==, 0);
	g_assert_cmpstr(c.username, ==, "1700000000:" CG_TURN_REST_USER);
	g_assert_cmpstr(c.password, ==, VECTOR1_PASSWORD);

	ice.turn_secret = NULL;
	ice.turn_user = "u";
	ice.turn_password = "p";
	g_assert_cmpint(cg_ice_servers_turn_credentials(&ice, 1700000000, &c), ==, 0);
	g_assert_cmpstr(c.username, ==, "u");
	g_assert_cmpstr(c.password, ==, "p");

	/* An unresolved (or absent) TURN server: nothing to authenticate to. */
	ice.turn_ip[0] = '\0';
	g_assert_cmpint(cg_ice_servers_turn_credentials(&ice, 1700000000, &c), ==, -ENOENT);
	g_assert_cmpstr(c.password, ==, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ice-servers/rest-vector", test_rest_vector);
	g_test_add_func("/ice-servers/rest-too-long", test_rest_too_long);
	g_test_add_func("/ice-servers/links-rest", test_links_rest);
	g_test_add_func("/ice-servers/links-static", test_links_static);
	g_test_add_func("/ice-servers/agent-credentials", test_agent_credentials);
	return g_test_run();
}
