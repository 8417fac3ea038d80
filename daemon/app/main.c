/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "main"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/config.h"
#include "app/doctor.h"
#include "crypto/cert.h"
#include "app/https.h"
#include "crypto/srtp.h"
#include "media/audio_track.h"
#include "fanout/hub.h"
#include "hw/registry.h"
#include "app/log_journal.h"
#include "media/media.h"
#include "app/notify.h"
#include "signaling/signaling.h"
#include "app/state.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "fanout/worker.h"

#define STATUS_INTERVAL_S 5

struct daemon {
	struct cg_config *cfg;	    /* the current snapshot (swapped on SIGHUP) */
	struct cg_config *boot_cfg; /* the first one: the media thread reads it until exit */
	struct cg_auth *auth;
	char *state_token; /* generated token from the state directory, or NULL */
	struct cg_stats stats;
	struct cg_cert *cert;
	struct cg_worker **workers;
	unsigned n_workers;
	/* Every camera's pipeline: hub, media thread, sound. The first is the default one. */
	struct cg_signaling_camera *cams;
	unsigned n_cams;
	char **cam_names;	      /* the names cams[i].name points at */
	unsigned *cam_cfg_index;      /* cams[i]'s index in cfg->cameras; UINT_MAX: all=auto */
	struct cg_config **cam_views; /* views made for --camera=all=auto, or NULL: the
				       * snapshot's own (cfg->cameras[].view) */
	struct cg_signaling *signaling;
	struct cg_notify *notify;
	bool watchdog_starved;
	GMainLoop *loop;
};

/* STATUS= for systemctl status: what streams and to how many. */
static gboolean daemon_send_status(gpointer userdata)
{
	struct daemon *d = userdata;
	const struct cg_signaling_camera *c = &d->cams[0];
	char *more = d->n_cams > 1 ? g_strdup_printf(" and %u more camera%s", d->n_cams - 1,
						     d->n_cams > 2 ? "s" : "")
				   : g_strdup("");
	char *status = g_strdup_printf("STATUS=streaming %s %ux%u@%u h264 (%s)%s, %u viewer%s",
				       cg_media_source_name(c->media), c->cfg->width,
				       c->cfg->height, c->cfg->fps, cg_media_encoder_name(c->media),
				       more, cg_signaling_viewers(d->signaling),
				       cg_signaling_viewers(d->signaling) == 1 ? "" : "s");

	g_free(more);

	cg_notify_send(d->notify, status);
	g_free(status);
	return G_SOURCE_CONTINUE;
}

/*
 * Feeds the systemd watchdog only while the media thread is alive: a hung encoder ioctl
 * or a stuck capture then gets the daemon restarted instead of serving a frozen picture.
 */
static gboolean daemon_feed_watchdog(gpointer userdata)
{
	struct daemon *d = userdata;
	uint64_t limit = CG_MAX(cg_notify_watchdog_usec(d->notify) / 2, 2 * CG_USEC_PER_SEC);
	uint64_t oldest = UINT64_MAX, age;

	/* Every camera's media thread must be alive; a failed camera retrying is alive. */
	for (unsigned i = 0; i < d->n_cams; i++)
		oldest = CG_MIN(oldest, cg_media_heartbeat_usec(d->cams[i].media));
	age = cg_mono_usec() - oldest;

	if (age < limit) {
		if (d->watchdog_starved)
			cg_notice("media thread alive again, feeding the watchdog");
		d->watchdog_starved = false;
		cg_notify_send(d->notify, "WATCHDOG=1");
	} else if (!d->watchdog_starved) {
		/* Once per stall: systemd restarts us within WatchdogSec anyway. */
		cg_err("media thread silent for %.1f s, not feeding the watchdog", age / 1e6);
		d->watchdog_starved = true;
	}
	return G_SOURCE_CONTINUE;
}

static void daemon_notify_ready(struct daemon *d)
{
	uint64_t watchdog = cg_notify_watchdog_usec(d->notify);

	cg_notify_send(d->notify, "READY=1");
	daemon_send_status(d);
	g_timeout_add_seconds(STATUS_INTERVAL_S, daemon_send_status, d);
	if (watchdog > 0)
		g_timeout_add((guint)CG_MAX(watchdog / 4000, 100), daemon_feed_watchdog, d);
}

static gboolean daemon_on_signal(gpointer userdata)
{
	struct daemon *d = userdata;

	cg_notice("shutting down");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/*
 * The token viewers and players use when the configuration names none: made once, kept
 * in the state directory (0600), and never printed: only its path is.
 */
static const char *daemon_token(struct daemon *d, const struct cg_config *cfg)
{
	int r;

	if (cfg->token || !cfg->auth_required)
		return cfg->token;
	if (d->state_token)
		return d->state_token;
	r = cg_state_dir_ensure(cfg->state_dir);
	if (r == 0)
		r = cg_state_token(cfg->state_dir, &d->state_token);
	if (r < 0)
		cg_err("cannot keep an access token in %s: %s; only password-hash can sign in",
		       cfg->state_dir, strerror(-r));
	return d->state_token;
}

static void daemon_log_change(const char *key, const char *old_value, const char *new_value,
			      bool applied, void *userdata)
{
	if (!old_value && !new_value)
		cg_notice("%s changed%s", key, applied ? "" : "; restart camgate to apply it");
	else if (applied)
		cg_notice("%s: %s -> %s", key, old_value ? old_value : "(none)",
			  new_value ? new_value : "(none)");
	else
		cg_notice("%s: %s -> %s needs a restart, keeping %s", key,
			  old_value ? old_value : "(none)", new_value ? new_value : "(none)",
			  old_value ? old_value : "(none)");
}

/* Sign-in cookies survive a restart, and logouts too, where the state directory is kept. */
static void daemon_keep_cookie_key(struct daemon *d, const char *state_dir)
{
	int r = cg_auth_keep_cookie_key(d->auth, state_dir);

	if (r < 0)
		cg_warn("cannot keep the cookie key in %s: %s; sign-in cookies will not survive a "
			"restart",
			state_dir, strerror(-r));
}

/*
 * A reload keeps the running cameras (config.c): only their bitrates change. A configured
 * camera's view has the same index in both snapshots; a camera of --camera=all=auto
 * follows the global --bitrate.
 */
static void daemon_apply_bitrates(struct daemon *d, const struct cg_config *old,
				  const struct cg_config *new)
{
	for (unsigned i = 0; i < d->n_cams; i++) {
		unsigned k = d->cam_cfg_index[i];
		uint32_t was = old->bitrate_kbps, now = new->bitrate_kbps;

		if (k < old->n_cameras && k < new->n_cameras &&
		    old->cameras[k].view &&new->cameras[k].view) {
			was = old->cameras[k].view->bitrate_kbps;
			now = new->cameras[k].view->bitrate_kbps;
		}
		if (now != was)
			cg_media_set_bitrate(d->cams[i].media, now);
	}
}

/* What SIGHUP can change without dropping a viewer. */
static void daemon_apply(struct daemon *d, const struct cg_config *old, const struct cg_config *new)
{
	cg_log_set_level((enum cg_log_level) new->log_level);
	daemon_apply_bitrates(d, old, new);
	cg_auth_set_credentials(d->auth,
				&(struct cg_auth_credentials){ .token = daemon_token(d, new),
							       .password_hash = new->password_hash,
							       .required = new->auth_required });
	/* A credential change revoked every cookie: the kept key must say so too. */
	if (new->auth_required)
		daemon_keep_cookie_key(d, d->cfg->state_dir);
	cg_signaling_set_config(d->signaling, new);
}

/* SIGHUP: a new snapshot, or the running one stays and the reasons are logged. */
static gboolean daemon_on_reload(gpointer userdata)
{
	struct daemon *d = userdata;
	struct cg_config *new, *old = d->cfg;
	char *error = NULL;
	char **lines;

	cg_notify_send(d->notify, "RELOADING=1");
	if (cg_config_reload(d->cfg, &new, &error) < 0) {
		lines = g_strsplit(error, "\n", -1);
		for (char **l = lines; *l; l++)
			cg_err("%s", *l);
		cg_err("configuration rejected, still running the previous one");
		g_strfreev(lines);
		g_free(error);
	} else {
		if (cg_config_report_changes(old, new, daemon_log_change, d) == 0)
			cg_notice("configuration reloaded, nothing changed");
		daemon_apply(d, old, new);
		d->cfg = new;
		if (old != d->boot_cfg)
			cg_config_free(old);
	}
	cg_notify_send(d->notify, "READY=1");
	daemon_send_status(d);
	return G_SOURCE_CONTINUE;
}

static void daemon_print_url(const struct daemon *d)
{
	const char *host = d->cfg->listen_host;
	bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	bool v6 = strchr(host, ':') != NULL;

	for (unsigned i = 0; i < d->n_cams; i++) {
		const struct cg_signaling_camera *c = &d->cams[i];

		printf("camgate: %s streaming %s %ux%u@%u (%s) — watch at "
		       "http%s://%s%s%s:%u/%s%s%s\n",
		       c->name, cg_media_source_name(c->media), c->cfg->width, c->cfg->height,
		       c->cfg->fps, cg_media_encoder_name(c->media), d->cfg->tls ? "s" : "",
		       v6 && !any ? "[" : "", any ? g_get_host_name() : host, v6 && !any ? "]" : "",
		       cg_signaling_port(d->signaling), d->n_cams > 1 ? "cam/" : "",
		       d->n_cams > 1 ? c->name : "", d->n_cams > 1 ? "/" : "");
	}
	/* Where the secret is, never the secret: stdout may be the journal. */
	if (d->cfg->auth_required && d->state_token)
		printf("camgate: sign in with the access token in %s/token%s\n", d->cfg->state_dir,
		       d->cfg->password_hash ? " or the password" : "");
	else if (d->cfg->auth_required)
		printf("camgate: sign in with the configured token or password\n");
	fflush(stdout);
}

/* Secrets in a file anyone can read are no secrets: say so, once, at start. */
static void daemon_check_config_mode(const struct cg_config *cfg)
{
	struct stat st;

	if (!cfg->config_path || !(cfg->token || cfg->password_hash || cfg->turn_password))
		return;
	if (stat(cfg->config_path, &st) == 0 && (st.st_mode & S_IROTH))
		cg_warn("%s holds credentials and is readable by every user: chmod o-r it",
			cfg->config_path);
}

/* HTTPS identity and credentials, before anything listens. */
static int daemon_start_security(struct daemon *d, char **ret_cert, char **ret_key)
{
	bool generated;
	char *fingerprint;
	int r;

	daemon_check_config_mode(d->cfg);
	r = cg_auth_new(&(struct cg_auth_credentials){ .token = daemon_token(d, d->cfg),
						       .password_hash = d->cfg->password_hash,
						       .required = d->cfg->auth_required },
			&d->auth);
	if (r < 0) {
		cg_err("the token in %s/token is not valid: fix or delete it", d->cfg->state_dir);
		return r;
	}
	if (d->cfg->auth_required && !d->cfg->token && !d->state_token && !d->cfg->password_hash)
		return -EACCES;
	if (d->cfg->auth_required)
		daemon_keep_cookie_key(d, d->cfg->state_dir);
	if (!d->cfg->auth_required && !cg_config_listens_on_loopback(d->cfg))
		cg_warn("listening beyond loopback with auth=off: anyone who can reach %s:%u can "
			"watch",
			d->cfg->listen_host, d->cfg->listen_port);
	if (!d->cfg->tls)
		return 0;
	r = cg_https_load(d->cfg, ret_cert, ret_key, &generated);
	if (r < 0) {
		cg_err("cannot load the HTTPS certificate (%s): %s",
		       d->cfg->tls_cert_path ? d->cfg->tls_cert_path : d->cfg->state_dir,
		       strerror(-r));
		return r;
	}
	fingerprint = cg_https_fingerprint(*ret_cert);
	cg_notice("HTTPS with %s certificate, SHA-256 %s",
		  d->cfg->tls_cert_path ? "the configured"
		  : generated		? "a new self-signed"
					: "the self-signed",
		  fingerprint ? fingerprint : "?");
	g_free(fingerprint);
	return 0;
}

/* One camera's pipeline: its hub on every worker, its media thread, its sound. */
static int daemon_start_pipeline(struct daemon *d, struct cg_signaling_camera *c)
{
	int fds[64];
	struct cg_hub_cfg hub_cfg = { .name = c->name,
				      .n_lanes = d->n_workers,
				      .wake_fds = fds,
				      .stats = &d->stats,
				      .min_kbps = c->cfg->min_bitrate_kbps,
				      .max_kbps = c->cfg->max_bitrate_kbps,
				      .start_kbps = c->cfg->bitrate_kbps };
	int r;

	c->stats = cg_new0(struct cg_stats, 1);
	cg_stats_init(c->stats);
	hub_cfg.stats = c->stats;
	for (unsigned i = 0; i < d->n_workers && i < 64; i++)
		fds[i] = cg_worker_wake_fd(d->workers[i]);
	c->hub = cg_hub_new(&hub_cfg);
	for (unsigned i = 0; i < d->n_workers; i++) {
		r = cg_worker_add_hub(d->workers[i], c->hub);
		if (r < 0) {
			cg_err("too many cameras for one worker");
			return r;
		}
	}
	r = cg_media_new(c->cfg, c->hub, c->stats, &c->media);
	if (r < 0)
		return r;
	r = cg_audio_track_new(c->cfg, c->hub, c->stats, &c->audio);
	if (r < 0)
		cg_err("cannot start sound: %s", strerror(-r));
	return r;
}

/* Starts camera c's pipeline: what it logs while starting, and what its threads log, starts
 * with "camera NAME: ". */
static int daemon_start_camera(struct daemon *d, struct cg_signaling_camera *c)
{
	char context[CG_LOG_CONTEXT_MAX];
	int r;

	snprintf(context, sizeof(context), "camera %s", c->name);
	cg_log_set_context(context);
	r = daemon_start_pipeline(d, c);
	cg_log_set_context(NULL);
	return r;
}

/* A camera named after its device: "video2" for /dev/video2, as config.c allows names. */
static char *daemon_camera_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *name = g_ascii_strdown(base, 32);

	for (char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
			*p = '_';
	return name;
}

/* --camera=all=auto: one camera per usable V4L2 device; the test pattern when none. */
static void daemon_expand_all(struct daemon *d, GPtrArray *names, GPtrArray *views)
{
	char paths[16][CG_REGISTRY_PATH_MAX];
	unsigned n = cg_registry_find_cameras(paths, G_N_ELEMENTS(paths));

	if (n == 0) {
		cg_notice("--camera=all=auto: no usable camera, streaming the test pattern");
		g_ptr_array_add(names, g_strdup("test"));
		g_ptr_array_add(views, cg_config_camera_view_new(d->boot_cfg, "test", "test",
								 views->len == 0));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		char *name = daemon_camera_name(paths[i]);
		struct cg_config *view =
			cg_config_camera_view_new(d->boot_cfg, name, paths[i], views->len == 0);

		if (!view) {
			g_free(name);
			continue;
		}
		cg_info("--camera=all=auto: camera %s is %s", name, paths[i]);
		g_ptr_array_add(names, name);
		g_ptr_array_add(views, view);
	}
}

/* --camera-control, for the libcamera cameras about to open (checked by the config). */
static int daemon_set_camera_controls(struct daemon *d)
{
	char err[160];
	int r = cg_registry_set_camera_controls(d->boot_cfg->camera_controls, err, sizeof(err));

	if (r < 0)
		cg_err("--camera-control: %s", err);
	return r;
}

/* The cameras the configuration names (one, "main", without --camera), each started. */
static int daemon_start_cameras(struct daemon *d)
{
	GPtrArray *names = g_ptr_array_new(), *views = g_ptr_array_new();
	const struct cg_config *cfg = d->boot_cfg;

	for (unsigned i = 0; i < cfg->n_cameras; i++) {
		if (cfg->cameras[i].all_auto) {
			daemon_expand_all(d, names, views);
			continue;
		}
		g_ptr_array_add(names, g_strdup(cfg->cameras[i].name));
		g_ptr_array_add(views, NULL); /* the snapshot's own view */
	}
	d->n_cams = names->len;
	d->cams = cg_new0(struct cg_signaling_camera, CG_MAX(d->n_cams, 1u));
	g_ptr_array_add(names, NULL);
	d->cam_names = (char **)g_ptr_array_free(names, FALSE);
	d->cam_views = (struct cg_config **)g_ptr_array_free(views, FALSE);
	d->cam_cfg_index = cg_new0(unsigned, CG_MAX(d->n_cams, 1u));
	for (unsigned i = 0, k = 0; i < d->n_cams; i++) {
		d->cams[i].name = d->cam_names[i];
		d->cam_cfg_index[i] = UINT_MAX;
		if (d->cam_views[i]) {
			d->cams[i].cfg = d->cam_views[i];
			continue;
		}
		while (cfg->cameras[k].all_auto)
			k++;
		d->cam_cfg_index[i] = k;
		d->cams[i].cfg = cfg->cameras[k++].view;
	}
	for (unsigned i = 0; i < d->n_cams; i++) {
		int r = daemon_start_camera(d, &d->cams[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* The first start with this state directory logs where to watch, once (app/doctor.c). */
static void daemon_first_run(struct daemon *d, const char *cert_pem)
{
	int r = cg_doctor_first_run(d->cfg, cg_signaling_port(d->signaling), cert_pem);

	if (r < 0)
		cg_warn("cannot note the first run in %s: %s", d->cfg->state_dir, strerror(-r));
}

static int daemon_start(struct daemon *d)
{
	struct cg_signaling_deps deps;
	char *cert = NULL, *key = NULL;
	int r;

	r = daemon_start_security(d, &cert, &key);
	if (r < 0)
		goto out;
	r = cg_srtp_global_init();
	if (r < 0)
		return r;
	r = cg_cert_new(&d->cert);
	if (r < 0) {
		cg_err("cannot create the DTLS certificate: %s", strerror(-r));
		return r;
	}
	d->workers = cg_new0(struct cg_worker *, d->cfg->workers);
	for (unsigned i = 0; i < d->cfg->workers; i++) {
		d->workers[i] = cg_worker_new(i, &d->stats);
		if (!d->workers[i]) {
			r = -EIO;
			goto out;
		}
		d->n_workers++;
	}
	r = daemon_set_camera_controls(d);
	if (r == 0)
		r = daemon_start_cameras(d);
	if (r < 0)
		goto out;
	deps = (struct cg_signaling_deps){ .cfg = d->cfg,
					   .cameras = d->cams,
					   .n_cameras = d->n_cams,
					   .workers = d->workers,
					   .n_workers = d->n_workers,
					   .stats = &d->stats,
					   .cert = d->cert,
					   .ctx = g_main_context_default(),
					   .auth = d->auth,
					   .tls_cert_pem = cert,
					   .tls_key_pem = key };
	r = cg_signaling_new(&deps, &d->signaling);
	if (r < 0) {
		cg_err("cannot listen on %s:%u: %s%s", d->cfg->listen_host, d->cfg->listen_port,
		       strerror(-r),
		       r == -EADDRNOTAVAIL ? " (this machine has no such address)"
		       : r == -EADDRINUSE  ? " (another program listens on this port)"
					   : "");
		goto out;
	}
	for (unsigned i = 0; i < d->n_cams && r >= 0; i++)
		r = cg_media_start(d->cams[i].media);
	if (r >= 0)
		daemon_first_run(d, cert);
out:
	if (key)
		explicit_bzero(key, strlen(key));
	g_free(key);
	g_free(cert);
	return r;
}

/* Teardown order: no new requests, no new frames, sessions closed on their workers, then
 * the registry learns of it and everything is freed. */
/*
 * Test hook (CAMGATE_TEST_STALL=1 in the environment, never set by the unit): SIGUSR2
 * sent to one thread (tgkill) parks that thread in the handler, the way a hung encoder
 * ioctl would park the media thread, until shutdown releases it. The watchdog test stalls
 * the media thread with it. read(2) is async-signal-safe; the pipe's write end closing
 * makes it return.
 */
static int stall_pipe[2] = { -1, -1 };

static void daemon_stall_handler(int sig)
{
	char c;
	int saved = errno;

	while (read(stall_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	errno = saved;
}

static void daemon_stall_hook_install(void)
{
	struct sigaction sa = { .sa_handler = daemon_stall_handler };
	const char *env = getenv("CAMGATE_TEST_STALL");

	if (!env || strcmp(env, "1") != 0 || pipe2(stall_pipe, O_CLOEXEC) < 0)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	cg_warn("CAMGATE_TEST_STALL=1: SIGUSR2 stalls the thread it is sent to (tests only)");
}

static void daemon_stall_hook_release(void)
{
	if (stall_pipe[1] >= 0)
		close(stall_pipe[1]);
	stall_pipe[1] = -1;
}

/* Teardown order: no new requests, no new frames, sessions closed on their workers, then
 * the registry learns of it and everything is freed. */
static void daemon_stop(struct daemon *d)
{
	if (d->signaling)
		cg_signaling_stop(d->signaling);
	daemon_stall_hook_release();
	/* Producers stop first; the workers' sessions still read the media's SSRC and
	 * bitrate until the workers are gone, so the media object is freed after them. */
	for (unsigned i = 0; i < d->n_cams; i++) {
		cg_media_stop(d->cams[i].media);
		cg_audio_track_stop_capture(d->cams[i].audio);
	}
	for (unsigned i = 0; i < d->n_workers; i++)
		d->workers[i] = cg_worker_free(d->workers[i]);
	for (unsigned i = 0; i < d->n_cams; i++) {
		d->cams[i].media = cg_media_free(d->cams[i].media);
		/* Talkback outlives the sessions that fed it. */
		d->cams[i].audio = cg_audio_track_free(d->cams[i].audio);
		d->cams[i].hub = cg_hub_free(d->cams[i].hub);
		if (d->cams[i].stats)
			cg_stats_fini(d->cams[i].stats);
		free(d->cams[i].stats);
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	d->signaling = cg_signaling_free(d->signaling);
	for (unsigned i = 0; d->cam_views && i < d->n_cams; i++)
		cg_config_camera_view_free(d->cam_views[i]);
	free(d->cam_views);
	free(d->cam_cfg_index);
	free(d->cams);
	g_strfreev(d->cam_names);
	free(d->workers);
	d->cert = cg_cert_free(d->cert);
	d->auth = cg_auth_free(d->auth);
	if (d->state_token)
		explicit_bzero(d->state_token, strlen(d->state_token));
	g_free(d->state_token);
}

/*
 * --hash-password: one line from stdin (not echoed on a terminal), its hash on stdout. A
 * password shorter than CG_AUTH_PASSWORD_MIN_CHARS is refused: the hash guards the camera
 * against anyone on the network, and PBKDF2 only slows guessing down.
 */
static int daemon_hash_password(void)
{
	struct termios saved, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	char line[1024], error[96] = "no password on stdin";
	char *hash = NULL;
	size_t len;
	bool cut;

	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password: ");
	}
	if (fgets(line, sizeof(line), stdin)) {
		len = strcspn(line, "\r\n");
		/* A line that filled the buffer was cut: its hash would not match the password. */
		cut = !line[len] && len == sizeof(line) - 1;
		line[len] = '\0';
		if (cut)
			snprintf(error, sizeof(error), "the password is longer than %zu bytes",
				 sizeof(line) - 2);
		else if (line[0] && cg_auth_password_check(line) < 0)
			snprintf(error, sizeof(error),
				 "the password must be at least %u characters long",
				 CG_AUTH_PASSWORD_MIN_CHARS);
		else if (line[0] && !(hash = cg_auth_hash_password(line, 0)))
			snprintf(error, sizeof(error), "cannot hash the password (GnuTLS failed)");
	}
	explicit_bzero(line, sizeof(line));
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (!hash) {
		fprintf(stderr, "camgate: %s\n", error);
		return 1;
	}
	printf("%s\n", hash);
	g_free(hash);
	return 0;
}

static int daemon_run(struct daemon *d)
{
	int r;

	cg_log_set_level((enum cg_log_level)d->cfg->log_level);
	cg_log_journal_install(false);
	d->boot_cfg = d->cfg;
	d->notify = cg_notify_new();
	signal(SIGPIPE, SIG_IGN);
	daemon_stall_hook_install();
	cg_stats_init(&d->stats);
	d->loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, daemon_on_signal, d);
	g_unix_signal_add(SIGTERM, daemon_on_signal, d);
	g_unix_signal_add(SIGHUP, daemon_on_reload, d);
	r = daemon_start(d);
	if (r >= 0) {
		daemon_print_url(d);
		daemon_notify_ready(d);
		g_main_loop_run(d->loop);
	}
	cg_notify_send(d->notify, "STOPPING=1");
	daemon_stop(d);
	d->notify = cg_notify_free(d->notify);
	g_main_loop_unref(d->loop);
	cg_stats_fini(&d->stats);
	if (d->cfg != d->boot_cfg)
		cg_config_free(d->boot_cfg);
	d->cfg = cg_config_free(d->cfg);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	int r;

	/* camgate doctor, camgate --check: the checks, then exit (app/doctor.c). */
	if (argc > 1 && (strcmp(argv[1], "doctor") == 0 || strcmp(argv[1], "--check") == 0))
		return cg_doctor_main(argc - 1, argv + 1);
	r = cg_config_from_args(argc, argv, &d.cfg);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (d.cfg->list_devices || d.cfg->hash_password) {
		r = d.cfg->list_devices ? (cg_registry_print_devices(stdout) < 0 ? 1 : 0)
					: daemon_hash_password();
		cg_config_free(d.cfg);
		return r;
	}
	return daemon_run(&d);
}
