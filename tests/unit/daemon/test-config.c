/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Command-line parsing into the immutable configuration, and the latency percentiles. */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/config.h"
#include "app/ice_servers.h"
#include "signaling/metrics.h"
#include "app/stats.h"

static int parse(struct cg_config **cfg, ...)
{
	char *argv[32] = { "camgate" };
	int argc = 1;
	va_list ap;
	const char *a;

	va_start(ap, cfg);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	*cfg = NULL;
	return cg_config_from_args(argc, argv, cfg);
}

/* --version prints to stdout, which carries TAP here: send it elsewhere for the call. */
static int parse_quietly(struct cg_config **cfg, const char *arg)
{
	int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY), r;

	fflush(stdout);
	dup2(devnull, STDOUT_FILENO);
	r = parse(cfg, arg, NULL);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(devnull);
	return r;
}

static void test_defaults(void)
{
	struct cg_config *cfg;

	g_assert_cmpint(parse(&cfg, NULL), ==, 0);
	g_assert_cmpstr(cfg->source, ==, "auto");
	g_assert_cmpstr(cfg->listen_host, ==, "127.0.0.1");
	g_assert_cmpuint(cfg->listen_port, ==, 8080);
	g_assert_cmpuint(cfg->width, ==, 1280);
	g_assert_cmpuint(cfg->height, ==, 720);
	g_assert_cmpuint(cfg->fps, ==, 30);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 2000);
	g_assert_cmpuint(cfg->workers, >=, 1);
	g_assert_true(cg_config_listens_on_loopback(cfg));
	cg_config_free(cfg);
}

static void test_flags(void)
{
	struct cg_config *cfg;

	g_assert_cmpint(parse(&cfg, "--size=640x480", "--fps=15", "--bitrate=800",
			      "--listen=[::]:9000", "--workers=3", "--max-viewers=7", NULL),
			==, 0);
	g_assert_cmpuint(cfg->width, ==, 640);
	g_assert_cmpuint(cfg->height, ==, 480);
	g_assert_cmpuint(cfg->fps, ==, 15);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 800);
	g_assert_cmpstr(cfg->listen_host, ==, "::");
	g_assert_cmpuint(cfg->listen_port, ==, 9000);
	g_assert_cmpuint(cfg->workers, ==, 3);
	g_assert_cmpuint(cfg->max_viewers, ==, 7);
	g_assert_false(cg_config_listens_on_loopback(cfg));
	cg_config_free(cfg);

	g_assert_cmpint(
		parse(&cfg, "--bitrate=1000", "--min-bitrate=300", "--max-bitrate=4000", NULL), ==,
		0);
	g_assert_cmpuint(cfg->min_bitrate_kbps, ==, 300);
	g_assert_cmpuint(cfg->max_bitrate_kbps, ==, 4000);
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 1000);
	cg_config_free(cfg);
	g_assert_cmpint(
		parse(&cfg, "--bitrate=1000", "--min-bitrate=300", "--max-bitrate=3000", NULL), ==,
		0);
	cg_config_free(cfg);
	g_assert_cmpint(parse(&cfg, "--min-bitrate=3000", "--max-bitrate=2000", NULL), ==, -EINVAL);

	g_assert_cmpint(parse(&cfg, "--listen=:8081", NULL), ==, 0);
	g_assert_cmpstr(cfg->listen_host, ==, "0.0.0.0");
	cg_config_free(cfg);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"--size=640",
		"--size=641x480",
		"--size=10x10",
		"--size=640x480x",
		"--fps=0",
		"--fps=500",
		"--bitrate=1",
		"--listen=nope",
		"--listen=1.2.3.4:0",
		"--listen=1.2.3.4:70000",
		"--listen=1.2.3.4:",
		"--source=video9",
		"--min-bitrate=10",
		"--log-level=loud",
		"--workers=0",
		"--no-such-flag",
	};
	struct cg_config *cfg;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("rejecting %s", bad[i]);
		g_assert_cmpint(parse(&cfg, bad[i], NULL), ==, -EINVAL);
		g_assert_null(cfg);
	}
	g_assert_cmpint(parse(&cfg, "stray", NULL), ==, -EINVAL);
	g_assert_cmpint(parse_quietly(&cfg, "--version"), ==, 1);
	g_assert_null(cfg);
}

static void test_percentiles(void)
{
	struct cg_stats st;

	cg_stats_init(&st);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 50), ==, -1);
	for (unsigned i = 1; i <= 100; i++)
		cg_stats_sample(&st, &st.encode, i * 1000);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 50), ==, 51);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 95), ==, 96);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 100), ==, 100);
	/* The window keeps only the newest samples. */
	for (unsigned i = 0; i < 2 * 256; i++)
		cg_stats_sample(&st, &st.encode, 7000);
	g_assert_cmpfloat(cg_stats_percentile_ms(&st, &st.encode, 100), ==, 7);
	cg_stats_fini(&st);
}

/* A key file in a fresh temporary directory; returns its path (g_free it). */
static char *write_conf(const char *text)
{
	static char *dir;
	char *path;

	if (!dir)
		dir = g_dir_make_tmp("camgate-test-XXXXXX", NULL);
	path = g_build_filename(dir, "camgate.conf", NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static int parse_conf(struct cg_config **cfg, char **error, const char *text, ...)
{
	char *argv[32] = { "camgate" };
	char *path = write_conf(text);
	char *config_arg = g_strconcat("--config=", path, NULL);
	int argc = 1, r;
	va_list ap;
	const char *a;

	argv[argc++] = config_arg;
	va_start(ap, text);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	*cfg = NULL;
	*error = NULL;
	r = cg_config_parse(argc, argv, cfg, error);
	g_free(config_arg);
	g_free(path);
	return r;
}

static void test_file_good(void)
{
	struct cg_config *cfg;
	char *error;

	g_assert_cmpint(parse_conf(&cfg, &error,
				   "# camgate\n[camgate]\nlisten = 0.0.0.0:8443\nfps=15\n"
				   "bitrate = 900\n\nstun = stun:stun.example.net\n"
				   "turn = turn.example.net:3479\nturn-user = u\n"
				   "turn-password = p\nmax-candidates = 8\nauth = on\n"
				   "token = abcdefghijklmnopqrstuvwxyz012345\n",
				   "--fps=20", NULL),
			==, 0);
	g_assert_null(error);
	g_assert_cmpstr(cfg->listen_host, ==, "0.0.0.0");
	g_assert_cmpuint(cfg->listen_port, ==, 8443);
	g_assert_cmpuint(cfg->fps, ==, 20); /* the command line wins */
	g_assert_cmpuint(cfg->bitrate_kbps, ==, 900);
	g_assert_cmpstr(cfg->stun_host, ==, "stun.example.net");
	g_assert_cmpuint(cfg->stun_port, ==, 3478);
	g_assert_cmpstr(cfg->turn_host, ==, "turn.example.net");
	g_assert_cmpuint(cfg->turn_port, ==, 3479);
	g_assert_cmpuint(cfg->max_candidates, ==, 8);
	g_assert_true(cfg->tls);
	g_assert_true(cfg->auth_required);
	g_assert_cmpstr(cfg->token, ==, "abcdefghijklmnopqrstuvwxyz012345");
	cg_config_free(cfg);
}

static void test_file_bad(void)
{
	static const struct {
		const char *text;
		const char *error;
	} bad[] = {
		{ "[camgate]\nfps = 500\n", ":2: fps=500 is out of range 1-120" },
		{ "[camgate]\n\nfps = x\n", ":3: fps=x is not a number" },
		{ "[camgate]\nnope = 1\n", ":2: unknown key 'nope'" },
		{ "fps = 10\n", ":1: 'fps' is outside [camgate]" },
		{ "[other]\n", ":1: unknown group [other]" },
		{ "[camgate]\nfps\n", ":2: not a key = value line" },
		{ "[camgate]\nfps=10\nfps=12\n", ":3: 'fps' is already set on line 2" },
		{ "[camgate]\nsize = 10x10\n", ":2: size=10x10 is not WxH" },
		{ "[camgate]\ntoken = short\n", ":2: token=(secret) is not" },
		{ "[camgate]\ntls-cert = /a.pem\n", "needs both tls-cert and tls-key" },
		{ "[camgate]\nturn = t.example\n",
		  "turn=t.example needs turn-secret, or turn-user and turn-password" },
		{ "[camgate]\nserver-name = a.example, bad name\n", ":2: server-name=a.example" },
		{ "[camgate]\nserver-name = a,,b\n", "is not a comma-separated list" },
		{ "[camgate]\ncors-origins = ftp://x.example\n", ":2: cors-origins=ftp" },
		{ "[camgate]\ncors-origins = https://x.example/path\n", "is not * or" },
		{ "[camgate]\ncors-origins = https://\n", "is not * or" },
		{ "[camgate]\nturn-secret = a\"b\n", ":2: turn-secret=(secret)" },
		{ "[camgate]\npassword-hash = x\n", ":2: password-hash=(secret) is not a hash" },
	};
	struct cg_config *cfg;
	char *error;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(parse_conf(&cfg, &error, bad[i].text, NULL), ==, -EINVAL);
		g_assert_null(cfg);
		g_test_message("%s", error);
		g_assert_nonnull(strstr(error, bad[i].error));
		/* Secrets are never quoted back. */
		g_assert_null(strstr(error, "short"));
		g_free(error);
	}
	g_assert_cmpint(parse(&cfg, "--config=/nonexistent/camgate.conf", NULL), ==, -EINVAL);
}

struct changes {
	GString *log;
};

static void on_change(const char *key, const char *old_value, const char *new_value, bool applied,
		      void *userdata)
{
	struct changes *c = userdata;

	g_string_append_printf(c->log, "%s:%s:%s:%d;", key, old_value ? old_value : "-",
			       new_value ? new_value : "-", applied);
}

static void test_reload(void)
{
	struct cg_config *cfg, *next;
	struct changes c = { g_string_new(NULL) };
	char *error, *path;

	g_assert_cmpint(parse_conf(&cfg, &error,
				   "[camgate]\nbitrate = 1000\nmax-viewers = 5\n"
				   "listen = 127.0.0.1:9000\n",
				   "--log-level=debug", NULL),
			==, 0);
	/* Same path: parse_conf reuses its directory. */
	path = write_conf("[camgate]\nbitrate = 1500\nmax-viewers = 6\nlisten = 127.0.0.1:9001\n"
			  "log-level = err\ntoken = abcdefghijklmnopqrstuvwxyz\n");
	g_assert_cmpint(cg_config_reload(cfg, &next, &error), ==, 0);
	g_assert_cmpuint(next->bitrate_kbps, ==, 1500);
	g_assert_cmpuint(next->max_viewers, ==, 6);
	g_assert_cmpuint(next->listen_port, ==, 9000); /* needs a restart: kept */
	g_assert_cmpint(next->log_level, ==, 7);       /* the command line still wins */
	g_assert_cmpuint(cg_config_report_changes(cfg, next, on_change, &c), ==, 4);
	g_assert_cmpstr(c.log->str, ==,
			"listen:127.0.0.1:9000:127.0.0.1:9001:0;bitrate:1000:1500:1;"
			"max-viewers:5:6:1;token:-:-:1;");
	cg_config_free(cfg);

	/* A bad file: an error with the line, and the running snapshot is untouched. */
	g_free(write_conf("[camgate]\nbitrate = 1500\nmax-viewers = 0\n"));
	g_assert_cmpint(cg_config_reload(next, &cfg, &error), ==, -EINVAL);
	g_assert_nonnull(strstr(error, "camgate.conf:3: max-viewers=0 is out of range"));
	g_assert_cmpuint(next->max_viewers, ==, 6);
	g_free(error);
	/* Restart-only settings are validated too, though they would not apply yet. */
	g_free(write_conf("[camgate]\nworkers = 0\n"));
	g_assert_cmpint(cg_config_reload(next, &cfg, &error), ==, -EINVAL);
	g_assert_nonnull(strstr(error, "camgate.conf:2: workers=0 is out of range"));
	g_free(error);
	cg_config_free(next);
	g_string_free(c.log, TRUE);
	g_free(path);
}

/* The /login form's secret field; an empty body may come as NULL (it crashed the daemon:
 * found by fuzz-http-server). */
static void test_form_secret(void)
{
	const char form[] = "user=x&secret=a+b%21&secret=second";
	char *secret = cg_auth_form_secret(form, strlen(form));

	g_assert_cmpstr(secret, ==, "a b!");
	g_free(secret);
	g_assert_null(cg_auth_form_secret(NULL, 0));
	g_assert_null(cg_auth_form_secret("", 0));
	g_assert_null(cg_auth_form_secret("secret=%00", 10));
	/* len bounds the body: no NUL needed, nothing read past it */
	secret = cg_auth_form_secret("secret=abcXYZ", 10);
	g_assert_cmpstr(secret, ==, "abc");
	g_free(secret);
}

static void test_auth(void)
{
	const char *token = "0123456789abcdefghij";
	struct cg_config *cfg;
	struct cg_auth *auth;
	char *hash = cg_auth_hash_password("correct horse", 1000);
	char *cookie, *pair, *bearer;

	g_assert_nonnull(hash);
	g_assert_cmpint(cg_auth_hash_check(hash), ==, 0);
	g_assert_cmpint(cg_auth_verify_password(hash, "correct horse"), ==, 0);
	g_assert_cmpint(cg_auth_verify_password(hash, "correct horsE"), ==, -EACCES);
	g_assert_cmpint(cg_auth_token_check("short"), ==, -EINVAL);
	g_assert_cmpint(cg_auth_token_check("has space in the middle"), ==, -EINVAL);

	g_assert_cmpint(parse(&cfg, "--listen=0.0.0.0:8080", NULL), ==, 0);
	g_assert_true(cfg->auth_required);
	g_assert_cmpint(cg_auth_new(&(struct cg_auth_credentials){ .token = token,
								   .required = cfg->auth_required },
				    &auth),
			==, 0);
	g_assert_false(cg_auth_check(auth, NULL, NULL, 1000));
	g_assert_false(cg_auth_check(auth, "Bearer 0123456789abcdefghiX", NULL, 1000));
	bearer = g_strconcat("bearer  ", token, NULL);
	g_assert_true(cg_auth_check(auth, bearer, NULL, 1000));
	g_assert_cmpint(cg_auth_login(auth, "wrong", 1000, 1, false, &cookie), ==, -EACCES);
	g_assert_cmpint(cg_auth_login(auth, token, 1000, 2, true, &cookie), ==, 0);
	g_assert_nonnull(strstr(cookie, "; Secure"));
	pair = g_strndup(cookie, strcspn(cookie, ";"));
	g_assert_true(cg_auth_check(auth, NULL, pair, 1000));
	g_assert_false(cg_auth_check(auth, NULL, pair, 1000 + CG_AUTH_COOKIE_MAX_AGE_S));
	/* New credentials revoke the cookies made for the old ones. */
	cg_auth_set_credentials(
		auth, &(struct cg_auth_credentials){ .token = "abcdefghijklmnopqrstuvwxyz",
						     .required = true });
	g_assert_false(cg_auth_check(auth, NULL, pair, 1000));
	g_assert_false(cg_auth_check(auth, bearer, NULL, 1000));
	/* Guessing is rate-limited: after the burst, even the right secret waits. */
	for (unsigned i = 0; i < 20; i++)
		cg_auth_login(auth, "guess", 1000, 10, false, &cookie);
	g_assert_cmpint(cg_auth_login(auth, "abcdefghijklmnopqrstuvwxyz", 1000, 10, false, &cookie),
			==, -EAGAIN);
	g_free(pair);
	g_free(cookie);
	g_free(bearer);
	g_free(hash);
	cg_auth_free(auth);
	cg_config_free(cfg);
}

static void test_loopback_needs_no_auth(void)
{
	struct cg_config *cfg;
	struct cg_auth *auth;

	g_assert_cmpint(parse(&cfg, NULL), ==, 0);
	g_assert_false(cfg->auth_required);
	g_assert_false(cfg->tls);
	g_assert_cmpint(
		cg_auth_new(&(struct cg_auth_credentials){ .required = cfg->auth_required }, &auth),
		==, 0);
	g_assert_true(cg_auth_check(auth, NULL, NULL, 1));
	cg_auth_free(auth);
	cg_config_free(cfg);
}

static void test_ice_links(void)
{
	struct cg_config *cfg;
	char **links;

	g_assert_cmpint(parse(&cfg, NULL), ==, 0);
	links = cg_ice_servers_links(cfg);
	g_assert_cmpuint(g_strv_length(links), ==, 0); /* nothing outside by default */
	g_strfreev(links);
	cg_config_free(cfg);
	g_assert_cmpint(parse(&cfg, "--stun=[2001:db8::1]:3478", "--turn=turn.example.net",
			      "--turn-transport=tls", "--turn-user=u", "--turn-password=p w", NULL),
			==, 0);
	links = cg_ice_servers_links(cfg);
	g_assert_cmpuint(g_strv_length(links), ==, 2);
	g_assert_cmpstr(links[0], ==, "<stun:[2001:db8::1]:3478>; rel=\"ice-server\"");
	g_assert_cmpstr(links[1], ==,
			"<turns:turn.example.net:5349?transport=tcp>; rel=\"ice-server\"; "
			"username=\"u\"; credential=\"p w\"; credential-type=\"password\"");
	g_strfreev(links);
	cg_config_free(cfg);
}

static void test_metrics(void)
{
	struct cg_stats st, cam_st;
	struct cg_metrics_camera cam = {
		.name = "main", .stats = &cam_st, .source = "te\"st", .encoder = "x264"
	};
	struct cg_metrics_input in = {
		.stats = &st, .version = "1", .viewers = 3, .cameras = &cam, .n_cameras = 1
	};
	char *text;

	cg_stats_init(&st);
	cg_stats_init(&cam_st);
	cg_stats_add(&cam_st.plis_received, 7);
	text = cg_metrics_render(&in);
	g_assert_nonnull(strstr(text, "\ncamgate_plis_received_total{camera=\"main\"} 7\n"));
	g_assert_nonnull(strstr(text, "# TYPE camgate_viewers gauge\ncamgate_viewers 3\n"));
	g_assert_nonnull(strstr(text, "source=\"te\\\"st\""));
	g_assert_nonnull(strstr(
		text, "camgate_encode_latency_seconds{camera=\"main\",quantile=\"0.50\"} NaN"));
	g_free(text);
	cg_stats_fini(&cam_st);
	cg_stats_fini(&st);
}

/* The HTTP hardening's lists (issue 12): names and origins, blanks around commas dropped. */
static void test_http_lists(void)
{
	struct cg_config *cfg;
	char *error = NULL;

	g_assert_cmpint(parse_conf(&cfg, &error,
				   "[camgate]\nserver-name = cam.example.org , 10.0.0.5\n"
				   "cors-origins = https://a.example:8443, http://b.example\n"
				   "turn = t.example\nturn-secret = north\n",
				   NULL),
			==, 0);
	g_assert_cmpuint(g_strv_length(cfg->server_names), ==, 2);
	g_assert_cmpstr(cfg->server_names[0], ==, "cam.example.org");
	g_assert_cmpstr(cfg->server_names[1], ==, "10.0.0.5");
	g_assert_cmpstr(cfg->cors_origins[0], ==, "https://a.example:8443");
	g_assert_cmpstr(cfg->cors_origins[1], ==, "http://b.example");
	g_assert_cmpstr(cfg->turn_secret, ==, "north");
	cg_config_free(cfg);
	g_assert_cmpint(parse_conf(&cfg, &error, "[camgate]\ncors-origins = *\n", NULL), ==, 0);
	g_assert_cmpstr(cfg->cors_origins[0], ==, "*");
	g_assert_null(cfg->server_names);
	cg_config_free(cfg);
}

/* Like parse() but quiet: the reasons come back in *error (g_free it). */
static int parse_err(struct cg_config **cfg, char **error, ...)
{
	char *argv[32] = { "camgate" };
	int argc = 1;
	va_list ap;
	const char *a;

	va_start(ap, error);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	*cfg = NULL;
	*error = NULL;
	return cg_config_parse(argc, argv, cfg, error);
}

/* A view is the snapshot with the camera's own values: its strings, the snapshot's others. */
static void assert_view(const struct cg_config *cfg, const struct cg_camera *cam)
{
	const struct cg_config *v = cam->view;

	g_assert_nonnull(v);
	g_assert_true(v->view_of == cfg);
	g_assert_cmpstr(v->camera_name, ==, cam->name);
	g_assert_null(v->cameras);
	g_assert_cmpuint(v->n_cameras, ==, 0);
	g_assert_true(v->listen_host == cfg->listen_host);
	g_assert_true(v->state_dir == cfg->state_dir);
	g_assert_true(v->token == cfg->token);
	/* Talkback is the first camera's: the others' views play on no speaker. */
	if (cam == &cfg->cameras[0])
		g_assert_true(v->speaker == cfg->speaker);
	else
		g_assert_cmpstr(v->speaker, ==, "none");
	g_assert_true(v->server_names == cfg->server_names);
	g_assert_cmpuint(v->listen_port, ==, cfg->listen_port);
	g_assert_cmpuint(v->keyframe_interval_frames, ==, cfg->keyframe_interval_frames);
	g_assert_true(v->source != cfg->source && v->encoder != cfg->encoder &&
		      v->audio != cfg->audio);
	g_assert_cmpuint(v->min_bitrate_kbps, <=, v->bitrate_kbps);
	g_assert_cmpuint(v->bitrate_kbps, <=, v->max_bitrate_kbps);
}

/* Without --camera, the flags make one camera named main, so old command lines keep working. */
static void test_cameras_legacy(void)
{
	struct cg_config *cfg;
	const struct cg_config *v;

	g_assert_cmpint(parse(&cfg, NULL), ==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 1);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "main");
	g_assert_false(cfg->cameras[0].all_auto);
	assert_view(cfg, &cfg->cameras[0]);
	v = cfg->cameras[0].view;
	g_assert_cmpstr(v->source, ==, "auto");
	g_assert_cmpstr(v->audio, ==, "auto");
	g_assert_cmpuint(v->width, ==, 1280);
	g_assert_cmpuint(v->bitrate_kbps, ==, 2000);
	g_assert_null(cfg->camera_name);
	g_assert_null(cfg->view_of);
	cg_config_free(cfg);

	g_assert_cmpint(parse(&cfg, "--source=test", "--size=640x480", "--fps=15", "--encoder=x264",
			      "--bitrate=800", "--audio=hw:1,0", "--max-bitrate=3000",
			      "--token=abcdefghijklmnopqrstuvwxyz", NULL),
			==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 1);
	assert_view(cfg, &cfg->cameras[0]);
	v = cfg->cameras[0].view;
	g_assert_cmpstr(v->source, ==, "test");
	g_assert_cmpstr(v->encoder, ==, "x264");
	g_assert_cmpstr(v->audio, ==, "hw:1,0");
	g_assert_cmpuint(v->width, ==, 640);
	g_assert_cmpuint(v->height, ==, 480);
	g_assert_cmpuint(v->fps, ==, 15);
	g_assert_cmpuint(v->bitrate_kbps, ==, cfg->bitrate_kbps);
	g_assert_cmpuint(v->min_bitrate_kbps, ==, cfg->min_bitrate_kbps);
	g_assert_cmpuint(v->max_bitrate_kbps, ==, cfg->max_bitrate_kbps);
	g_assert_cmpuint(v->max_bitrate_kbps, ==, 3000);
	cg_config_free(cfg);
}

/* Several --camera: each its own options, the flags' values for the rest. */
static void test_cameras_cli(void)
{
	struct cg_config *cfg;
	const struct cg_config *front, *back, *side;

	g_assert_cmpint(
		parse(&cfg, "--camera=front=/dev/video0,size=640x480,fps=15",
		      "--camera=back=test,encoder=x264,bitrate=900,audio=plughw:CARD=Mic,DEV=0",
		      "--camera", "side_2=auto,audio=hw:1,0,fps=10", "--size=1920x1080", "--fps=25",
		      "--encoder=vaapi", "--bitrate=1500", "--audio=hw:0,0", "--max-bitrate=4000",
		      "--source=/dev/video9", NULL),
		==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 3);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "front");
	g_assert_cmpstr(cfg->cameras[1].name, ==, "back");
	g_assert_cmpstr(cfg->cameras[2].name, ==, "side_2");
	for (unsigned i = 0; i < 3; i++) {
		assert_view(cfg, &cfg->cameras[i]);
		g_assert_false(cfg->cameras[i].all_auto);
	}
	front = cfg->cameras[0].view;
	back = cfg->cameras[1].view;
	side = cfg->cameras[2].view;
	/* The snapshot keeps the flags' values: the defaults. */
	g_assert_cmpstr(cfg->source, ==, "/dev/video9");
	g_assert_cmpuint(cfg->width, ==, 1920);

	g_assert_cmpstr(front->source, ==, "/dev/video0");
	g_assert_cmpuint(front->width, ==, 640);
	g_assert_cmpuint(front->height, ==, 480);
	g_assert_cmpuint(front->fps, ==, 15);
	g_assert_cmpstr(front->encoder, ==, "vaapi");
	g_assert_cmpuint(front->bitrate_kbps, ==, 1500);
	g_assert_cmpuint(front->min_bitrate_kbps, ==, 375);
	g_assert_cmpuint(front->max_bitrate_kbps, ==, 4000);
	g_assert_cmpstr(front->audio, ==, "hw:0,0"); /* the first camera has the flags' sound */

	g_assert_cmpstr(back->source, ==, "test");
	g_assert_cmpuint(back->width, ==, 1920);
	g_assert_cmpuint(back->height, ==, 1080);
	g_assert_cmpuint(back->fps, ==, 25);
	g_assert_cmpstr(back->encoder, ==, "x264");
	g_assert_cmpuint(back->bitrate_kbps, ==, 900);
	g_assert_cmpuint(back->min_bitrate_kbps, ==, 225); /* derived again for 900 */
	g_assert_cmpuint(back->max_bitrate_kbps, ==, 4000);
	g_assert_cmpstr(back->audio, ==, "plughw:CARD=Mic,DEV=0");

	g_assert_cmpstr(side->source, ==, "auto");
	g_assert_cmpstr(side->audio, ==, "hw:1,0"); /* the device's comma is its own */
	g_assert_cmpuint(side->fps, ==, 10);
	cg_config_free(cfg);

	/* Only the first camera gets the flags' --audio; the others none unless they say. */
	g_assert_cmpint(parse(&cfg, "--audio=test", "--camera=a=test", "--camera=b=test",
			      "--camera=c=test,audio=default", NULL),
			==, 0);
	g_assert_cmpstr(cfg->cameras[0].view->audio, ==, "test");
	g_assert_cmpstr(cfg->cameras[1].view->audio, ==, "none");
	g_assert_cmpstr(cfg->cameras[2].view->audio, ==, "default");
	cg_config_free(cfg);

	/* A camera's bitrate outside the global bounds is held within them. */
	g_assert_cmpint(parse(&cfg, "--min-bitrate=500", "--max-bitrate=1000",
			      "--camera=a=test,bitrate=5000", "--camera=b=test,bitrate=100", NULL),
			==, 0);
	g_assert_cmpuint(cfg->cameras[0].view->bitrate_kbps, ==, 1000);
	g_assert_cmpuint(cfg->cameras[1].view->bitrate_kbps, ==, 500);
	g_assert_cmpuint(cfg->cameras[1].view->min_bitrate_kbps, ==, 500);
	g_assert_cmpuint(cfg->cameras[1].view->max_bitrate_kbps, ==, 1000);
	cg_config_free(cfg);
}

static void test_cameras_file(void)
{
	struct cg_config *cfg;
	char *error;

	g_assert_cmpint(parse_conf(&cfg, &error,
				   "[camgate]\nfps = 20\naudio = hw:3,0\n\n[camera front]\n"
				   "source = /dev/video2\nsize = 640x480\n"
				   "# the other one\n[camera back]\nsource = test\naudio = hw:2,0\n"
				   "bitrate = 700\n",
				   NULL),
			==, 0);
	g_assert_null(error);
	g_assert_cmpuint(cfg->n_cameras, ==, 2);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "front");
	g_assert_cmpstr(cfg->cameras[1].name, ==, "back");
	assert_view(cfg, &cfg->cameras[0]);
	assert_view(cfg, &cfg->cameras[1]);
	g_assert_cmpstr(cfg->cameras[0].view->source, ==, "/dev/video2");
	g_assert_cmpuint(cfg->cameras[0].view->width, ==, 640);
	g_assert_cmpuint(cfg->cameras[0].view->fps, ==, 20);
	g_assert_cmpstr(cfg->cameras[0].view->audio, ==, "hw:3,0");
	g_assert_cmpuint(cfg->cameras[0].view->bitrate_kbps, ==, 2000);
	g_assert_cmpstr(cfg->cameras[1].view->source, ==, "test");
	g_assert_cmpuint(cfg->cameras[1].view->width, ==, 1280);
	g_assert_cmpuint(cfg->cameras[1].view->fps, ==, 20);
	g_assert_cmpstr(cfg->cameras[1].view->audio, ==, "hw:2,0");
	g_assert_cmpuint(cfg->cameras[1].view->bitrate_kbps, ==, 700);
	cg_config_free(cfg);

	/* The command line's cameras replace the file's whole; their values are not read. */
	g_assert_cmpint(parse_conf(&cfg, &error,
				   "[camgate]\nfps = 20\n[camera front]\nsource = test\n"
				   "[camera back]\nsource = test\nfps = 0\n",
				   "--camera=side=test,size=640x480", NULL),
			==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 1);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "side");
	g_assert_cmpuint(cfg->cameras[0].view->fps, ==, 20); /* the file's [camgate] still counts */
	g_assert_cmpuint(cfg->cameras[0].view->width, ==, 640);
	cg_config_free(cfg);
}

static void test_cameras_rejects(void)
{
	static const struct {
		const char *arg, *arg2, *error;
	} bad[] = {
		{ "--camera==test", NULL, "--camera==test: '' is not a camera name (1-32 of a-z" },
		{ "--camera=abcdefghijklmnopqrstuvwxyz0123456=test", NULL,
		  "'abcdefghijklmnopqrstuvwxyz0123456' is not a camera name" },
		{ "--camera=Front=test", NULL,
		  "--camera=Front=test: 'Front' is not a camera name" },
		{ "--camera=a b=test", NULL, "'a b' is not a camera name" },
		{ "--camera=all=test", NULL,
		  "--camera=all=test: the name all is reserved for all=auto" },
		{ "--camera=front=test", "--camera=front=/dev/video2",
		  "--camera=front=/dev/video2: camera front is already given by "
		  "--camera=front=test" },
		{ "--camera=front", NULL, "--camera=front is not NAME=SOURCE[,KEY=VALUE...]" },
		{ "--camera=a=test,size=1x1", NULL,
		  "--camera=a=test,size=1x1: size=1x1 is not WxH with even sides" },
		{ "--camera=a=test,fps=0", NULL,
		  "--camera=a=test,fps=0: fps=0 is out of range 1-120" },
		{ "--camera=a=test,fps=x", NULL, "fps=x is not a number" },
		{ "--camera=a=test,bitrate=99", NULL, "bitrate=99 is out of range 100-50000" },
		{ "--camera=a=test,colour=red", NULL,
		  "--camera=a=test,colour=red: unknown option 'colour' (size, fps, encoder, "
		  "bitrate, audio or x264-preset)" },
		{ "--camera=a=test,fps", NULL, "--camera=a=test,fps: 'fps' is not KEY=VALUE" },
		{ "--camera=a=test,fps=1,fps=2", NULL, "fps is given twice" },
		{ "--camera=a=test,source=auto", NULL, "source is given twice" },
		{ "--camera=a=video9", NULL, "--camera=a=video9: source=video9 is not auto, test" },
		{ "--camera=a=", NULL, "--camera=a=: needs a source" },
		{ "--camera=a=,fps=10", NULL, "source= is not auto, test" },
		{ "--camera=a=test,audio=hw 1", NULL,
		  "audio=hw 1 is not auto, test, none or an ALSA" },
		{ "--camera=b=test", "--camera=a=test,size=640",
		  "--camera=a=test,size=640: size=640" },
	};
	struct cg_config *cfg;
	char *error;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("rejecting %s %s", bad[i].arg, bad[i].arg2 ? bad[i].arg2 : "");
		g_assert_cmpint(parse_err(&cfg, &error, bad[i].arg, bad[i].arg2, NULL), ==,
				-EINVAL);
		g_assert_null(cfg);
		g_test_message("%s", error);
		g_assert_nonnull(strstr(error, bad[i].error));
		g_free(error);
	}
}

static void test_cameras_file_rejects(void)
{
	static const struct {
		const char *text;
		const char *error;
	} bad[] = {
		{ "[camera front]\nsize = 640x480\n", ":1: [camera front]: needs a source" },
		{ "[camera Front]\nsource = test\n",
		  ":1: [camera Front]: 'Front' is not a camera name (1-32 of a-z 0-9 _ -)" },
		{ "[camera ]\nsource = test\n", ":1: [camera ]: '' is not a camera name" },
		{ "[camera abcdefghijklmnopqrstuvwxyz0123456]\nsource = test\n",
		  "is not a camera name" },
		{ "[camera a]\nsource = test\n\n[camera a]\nsource = auto\n",
		  ":4: [camera a]: already defined on line 1" },
		{ "[camera a]\nsource = test\nlisten = :9000\n",
		  ":3: [camera a]: unknown key 'listen' (a camera has source, size" },
		{ "[camera a]\nsource = test\nsource = auto\n",
		  ":3: [camera a]: 'source' is already set on line 2" },
		{ "[camera a]\nsource = test\nfps = 0\n",
		  ":3: [camera a]: fps=0 is out of range 1-120" },
		{ "[camera a]\nsource = test\nsize = 1x1\n",
		  ":3: [camera a]: size=1x1 is not WxH" },
		{ "[camera a]\nsource = video9\n", ":2: [camera a]: source=video9 is not auto" },
		{ "[camera all]\nsource = test\n",
		  ":2: [camera all]: the name all is reserved for all=auto" },
		{ "[camera]\nsource = test\n", ":1: unknown group [camera] (only [camgate] and "
					       "[camera NAME])" },
		{ "[camera a]\nfps = 10\n[camgate]\nsource = test\n",
		  ":1: [camera a]: needs a source" },
	};
	struct cg_config *cfg;
	char *error;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(parse_conf(&cfg, &error, bad[i].text, NULL), ==, -EINVAL);
		g_assert_null(cfg);
		g_test_message("%s", error);
		g_assert_nonnull(strstr(error, bad[i].error));
		g_free(error);
	}
	/* cg_config_parse_data() reads camera groups the same way. */
	{
		const char text[] = "[camera a]\nsource = test\nfps = 500\n";

		g_assert_cmpint(cg_config_parse_data("x.conf", text, strlen(text), &cfg, &error),
				==, -EINVAL);
		g_assert_cmpstr(error, ==, "x.conf:3: [camera a]: fps=500 is out of range 1-120");
		g_free(error);
	}
}

/* all=auto marks "every camera": main.c expands it with cg_config_camera_view_new(). */
static void test_cameras_all_auto(void)
{
	struct cg_config *cfg, *v0, *v1;

	g_assert_cmpint(parse(&cfg, "--camera=all=auto,size=640x480", "--fps=10", "--audio=hw:1,0",
			      "--token=abcdefghijklmnopqrstuvwxyz", NULL),
			==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 1);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "all");
	g_assert_true(cfg->cameras[0].all_auto);
	assert_view(cfg, &cfg->cameras[0]);
	g_assert_cmpstr(cfg->cameras[0].view->source, ==, "auto");

	v0 = cg_config_camera_view_new(cfg, "video0", "/dev/video0", true);
	v1 = cg_config_camera_view_new(cfg, "usb-cam_2", "/dev/video2", false);
	g_assert_nonnull(v0);
	g_assert_nonnull(v1);
	g_assert_true(v0->view_of == cfg && v1->view_of == cfg);
	g_assert_cmpstr(v0->camera_name, ==, "video0");
	g_assert_cmpstr(v0->source, ==, "/dev/video0");
	g_assert_cmpstr(v1->source, ==, "/dev/video2");
	g_assert_cmpuint(v0->width, ==, 640); /* the marker's options */
	g_assert_cmpuint(v1->height, ==, 480);
	g_assert_cmpuint(v0->fps, ==, 10); /* the flags' */
	g_assert_cmpstr(v0->audio, ==, "hw:1,0");
	g_assert_cmpstr(v1->audio, ==, "none");
	g_assert_true(v0->token == cfg->token);
	g_assert_null(v0->cameras);
	/* Refused: the reserved name, bad names and sources, a view as the snapshot. */
	g_assert_null(cg_config_camera_view_new(cfg, "all", "/dev/video0", false));
	g_assert_null(cg_config_camera_view_new(cfg, "Video0", "/dev/video0", false));
	g_assert_null(cg_config_camera_view_new(cfg, "", "/dev/video0", false));
	g_assert_null(cg_config_camera_view_new(cfg, "video0", "video0", false));
	g_assert_null(cg_config_camera_view_new(v0, "video3", "/dev/video3", false));
	cg_config_camera_view_free(v0);
	cg_config_free(v1); /* recognizes a view */
	g_assert_null(cg_config_camera_view_free(NULL));
	cg_config_free(cfg);

	/* The marker after another camera: its first camera has no sound unless it says. */
	g_assert_cmpint(parse(&cfg, "--camera=front=test", "--camera=all=auto", NULL), ==, 0);
	g_assert_cmpuint(cfg->n_cameras, ==, 2);
	g_assert_false(cfg->cameras[0].all_auto);
	g_assert_true(cfg->cameras[1].all_auto);
	v0 = cg_config_camera_view_new(cfg, "video0", "/dev/video0", true);
	g_assert_cmpstr(v0->audio, ==, "none");
	cg_config_camera_view_free(v0);
	cg_config_free(cfg);
	g_assert_cmpint(parse(&cfg, "--camera=front=test", "--camera=all=auto,audio=hw:3,0", NULL),
			==, 0);
	v0 = cg_config_camera_view_new(cfg, "video0", "/dev/video0", true);
	g_assert_cmpstr(v0->audio, ==, "hw:3,0");
	cg_config_camera_view_free(v0);
	cg_config_free(cfg);

	/* "auto" is a name like any other; "all" in a file group is the marker too. */
	g_assert_cmpint(parse(&cfg, "--camera=auto=test", NULL), ==, 0);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "auto");
	g_assert_false(cfg->cameras[0].all_auto);
	/* Without a marker, a view takes the flags' values. */
	v0 = cg_config_camera_view_new(cfg, "video0", "/dev/video0", true);
	g_assert_cmpuint(v0->width, ==, 1280);
	cg_config_camera_view_free(v0);
	cg_config_free(cfg);
	{
		char *error;

		g_assert_cmpint(parse_conf(&cfg, &error, "[camera all]\nsource = auto\n", NULL), ==,
				0);
		g_assert_true(cfg->cameras[0].all_auto);
		cg_config_free(cfg);
	}
}

/* Cameras need a restart: a reload keeps the running ones, and reports the difference. */
static void test_cameras_reload(void)
{
	struct cg_config *cfg, *next;
	struct changes c = { g_string_new(NULL) };
	char *error, *path;

	g_assert_cmpint(parse_conf(&cfg, &error,
				   "[camgate]\nbitrate = 1000\n[camera front]\nsource = test\n"
				   "bitrate = 800\n[camera back]\nsource = test\n",
				   NULL),
			==, 0);
	path = write_conf("[camgate]\nbitrate = 1200\n[camera front]\nsource = test\n"
			  "bitrate = 900\n[camera back]\nsource = test\nfps = 10\n"
			  "[camera side]\nsource = auto\n");
	g_assert_cmpint(cg_config_reload(cfg, &next, &error), ==, 0);
	g_assert_cmpuint(next->n_cameras, ==, 2); /* the running set */
	g_assert_cmpstr(next->cameras[0].name, ==, "front");
	g_assert_cmpstr(next->cameras[1].name, ==, "back");
	assert_view(next, &next->cameras[0]);
	assert_view(next, &next->cameras[1]);
	g_assert_cmpuint(next->cameras[0].view->bitrate_kbps, ==, 900);	 /* its own, applied */
	g_assert_cmpuint(next->cameras[1].view->bitrate_kbps, ==, 1200); /* the global, applied */
	g_assert_cmpuint(next->cameras[1].view->fps, ==, 30);		 /* kept */
	g_assert_cmpuint(cg_config_report_changes(cfg, next, on_change, &c), ==, 4);
	g_assert_cmpstr(c.log->str, ==,
			"bitrate:1000:1200:1;[camera front] bitrate:800:900:1;"
			"[camera back] fps:-:10:0;[camera side]:-:source=auto:0;");
	cg_config_free(cfg);

	/* Reordered, one removed: restart-only; the order of the running set stays. */
	g_string_truncate(c.log, 0);
	g_free(write_conf("[camgate]\nbitrate = 1200\n[camera back]\nsource = test\n"
			  "[camera side]\nsource = auto\n[camera front]\nsource = test\n"
			  "bitrate = 900\n"));
	g_assert_cmpint(cg_config_reload(next, &cfg, &error), ==, 0);
	g_assert_cmpstr(cfg->cameras[0].name, ==, "front");
	g_assert_cmpuint(cg_config_report_changes(next, cfg, on_change, &c), ==, 2);
	g_assert_cmpstr(c.log->str, ==,
			"[camera side]:-:source=auto:0;cameras:front,back:back,front:0;");
	cg_config_free(next);

	/* A bad camera refuses the whole file, even though cameras would not change yet. */
	g_free(write_conf("[camera front]\nsource = test\nfps = 0\n"));
	g_assert_cmpint(cg_config_reload(cfg, &next, &error), ==, -EINVAL);
	g_assert_nonnull(strstr(error, ":3: [camera front]: fps=0 is out of range"));
	g_free(error);

	/* From the flags' one camera to camera groups: still main until a restart. */
	cg_config_free(cfg);
	g_assert_cmpint(parse_conf(&cfg, &error, "[camgate]\nsource = test\n", NULL), ==, 0);
	g_free(write_conf(
		"[camgate]\nsource = test\n[camera front]\nsource = auto\nbitrate = 900\n"));
	g_string_truncate(c.log, 0);
	g_assert_cmpint(cg_config_reload(cfg, &next, &error), ==, 0);
	g_assert_cmpuint(next->n_cameras, ==, 1);
	g_assert_cmpstr(next->cameras[0].name, ==, "main");
	g_assert_cmpstr(next->cameras[0].view->source, ==, "test");
	g_assert_cmpuint(next->cameras[0].view->bitrate_kbps, ==, 2000);
	g_assert_cmpuint(cg_config_report_changes(cfg, next, on_change, &c), ==, 2);
	g_assert_cmpstr(c.log->str, ==,
			"[camera main]:(from the global settings):-:0;"
			"[camera front]:-:source=auto,bitrate=900:0;");
	cg_config_free(next);
	cg_config_free(cfg);

	/* The command line's cameras: the file's do not matter, now or on reload. */
	g_assert_cmpint(
		parse_conf(&cfg, &error, "[camera a]\nsource = test\n", "--camera=b=test", NULL),
		==, 0);
	g_free(write_conf("[camera a]\nsource = auto\n"));
	g_string_truncate(c.log, 0);
	g_assert_cmpint(cg_config_reload(cfg, &next, &error), ==, 0);
	g_assert_cmpstr(next->cameras[0].name, ==, "b");
	g_assert_cmpuint(cg_config_report_changes(cfg, next, on_change, &c), ==, 0);
	cg_config_free(next);
	cg_config_free(cfg);
	g_string_free(c.log, TRUE);
	g_free(path);
}

/* --help lists --camera (GOption prints it and exits, so in a child). */
static void test_cameras_help(void)
{
	struct cg_config *cfg;

	/* A child is this binary again: under qemu-user without binfmt it cannot start. */
	if (g_getenv("CG_TEST_NO_SUBPROCESS")) {
		g_test_skip("no child processes here (cross build under qemu-user)");
		return;
	}
	if (g_test_subprocess()) {
		parse(&cfg, "--help", NULL);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*--camera=NAME=SRC[,KEY=VALUE...]*A camera, repeatable*");
	g_test_trap_assert_stdout("*[camera NAME] groups*");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/file-good", test_file_good);
	g_test_add_func("/config/file-bad", test_file_bad);
	g_test_add_func("/config/reload", test_reload);
	g_test_add_func("/auth/credentials", test_auth);
	g_test_add_func("/auth/form-secret", test_form_secret);
	g_test_add_func("/auth/loopback", test_loopback_needs_no_auth);
	g_test_add_func("/ice-servers/links", test_ice_links);
	g_test_add_func("/metrics/render", test_metrics);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/flags", test_flags);
	g_test_add_func("/config/rejects", test_rejects);
	g_test_add_func("/stats/percentiles", test_percentiles);
	g_test_add_func("/config/http-lists", test_http_lists);
	g_test_add_func("/config/cameras/legacy", test_cameras_legacy);
	g_test_add_func("/config/cameras/cli", test_cameras_cli);
	g_test_add_func("/config/cameras/file", test_cameras_file);
	g_test_add_func("/config/cameras/rejects", test_cameras_rejects);
	g_test_add_func("/config/cameras/file-rejects", test_cameras_file_rejects);
	g_test_add_func("/config/cameras/all-auto", test_cameras_all_auto);
	g_test_add_func("/config/cameras/reload", test_cameras_reload);
	g_test_add_func("/config/cameras/help", test_cameras_help);
	return g_test_run();
}
