/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Host check against DNS rebinding: how a Host value is normalized
 * (net/http_req.c) and which names the daemon answers to (hostnames.c).
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "app/config.h"
#include "signaling/hostnames.h"
#include "net/http_req.h"
#include "util/time.h"

static void test_normalize(void)
{
	static const struct {
		const char *in, *out;
		int r;
	} cases[] = {
		{ "localhost", "localhost", 0 },
		{ "LocalHost:8080", "localhost", 0 },
		{ "camgate.local.", "camgate.local", 0 },
		{ "127.0.0.1:8080", "127.0.0.1", 0 },
		{ "[::1]:8080", "::1", 0 },
		{ "[0:0::0001]", "::1", 0 },
		{ "[FE80::A]", "fe80::a", 0 },
		{ "a:", "a", 0 }, /* RFC 3986 §3.2.3: an empty port */
		{ "", NULL, -EINVAL },
		{ ":8080", NULL, -EINVAL },
		{ "evil.example/x", NULL, -EINVAL },
		{ "a b", NULL, -EINVAL },
		{ "user@host", NULL, -EINVAL },
		{ "host:99999", NULL, -EINVAL },
		{ "host:80x", NULL, -EINVAL },
		{ "[::1", NULL, -EINVAL },
		{ "[1.2.3.4]", NULL, -EINVAL },
		{ "[fe80::1%25eth0]", NULL, -EINVAL },
		{ "::1", NULL, -EINVAL }, /* an IPv6 literal needs its brackets */
	};
	char buf[64];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int r = cg_http_host_normalize(cases[i].in, buf, sizeof(buf));

		g_test_message("%s", cases[i].in);
		g_assert_cmpint(r, ==, cases[i].r);
		if (r == 0)
			g_assert_cmpstr(buf, ==, cases[i].out);
	}
	g_assert_cmpint(cg_http_host_normalize("abcdefgh", buf, 8), ==, -ENAMETOOLONG);
}

static struct cg_config *config(const char *extra)
{
	char *text = g_strdup_printf("[camgate]\nlisten = 10.1.2.3:8080\n%s", extra);
	struct cg_config *cfg = NULL;
	char *error = NULL;

	g_assert_cmpint(cg_config_parse_data("t.conf", text, strlen(text), &cfg, &error), ==, 0);
	g_free(text);
	return cfg;
}

static bool allowed(struct cg_hostnames *h, const char *host)
{
	char name[256];

	g_assert_cmpint(cg_http_host_normalize(host, name, sizeof(name)), ==, 0);
	return cg_hostnames_allowed(h, name, cg_mono_usec());
}

static void test_allowed(void)
{
	struct cg_config *cfg = config("server-name = cam.example.org, Other.Example\n");
	struct cg_hostnames *h = cg_hostnames_new(cfg);
	char name[256] = "", *local;

	g_assert_true(allowed(h, "localhost:8080"));
	g_assert_true(allowed(h, "[::1]:8080"));
	g_assert_true(allowed(h, "10.1.2.3:8080"));   /* the listen address */
	g_assert_true(allowed(h, "127.0.0.1"));	      /* lo's address */
	g_assert_true(allowed(h, "cam.example.org")); /* --server-name, case aside */
	g_assert_true(allowed(h, "other.example:443"));
	g_assert_false(allowed(h, "evil.example"));
	g_assert_false(allowed(h, "cam.example.org.evil.example"));
	g_assert_false(allowed(h, "10.1.2.4"));
	/* The machine's own name, and its mDNS name. */
	g_assert_cmpint(gethostname(name, sizeof(name) - 1), ==, 0);
	g_assert_true(allowed(h, name));
	if (strchr(name, '.'))
		*strchr(name, '.') = '\0';
	local = g_strconcat(name, ".local", NULL);
	g_assert_true(allowed(h, local));
	g_free(local);

	/* A reload replaces the configured names. */
	cg_config_free(cfg);
	cfg = config("");
	cg_hostnames_set_config(h, cfg);
	g_assert_false(allowed(h, "cam.example.org"));
	g_assert_true(allowed(h, "localhost"));
	cg_hostnames_free(h);
	cg_config_free(cfg);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http/host-normalize", test_normalize);
	g_test_add_func("/http/host-allowed", test_allowed);
	return g_test_run();
}
