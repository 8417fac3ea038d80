/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "main"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "crypto/cert.h"
#include "crypto/srtp.h"
#include "hub.h"
#include "hw/registry.h"
#include "log_journal.h"
#include "media.h"
#include "notify.h"
#include "signaling.h"
#include "stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"
#include "worker.h"

#define STATUS_INTERVAL_S 5

struct daemon {
	struct cg_config *cfg;
	struct cg_stats stats;
	struct cg_cert *cert;
	struct cg_worker **workers;
	struct cg_hub hub;
	struct cg_media *media;
	struct cg_signaling *signaling;
	struct cg_notify *notify;
	GMainLoop *loop;
};

/* STATUS= for systemctl status: what streams and to how many. */
static gboolean daemon_send_status(gpointer userdata)
{
	struct daemon *d = userdata;
	char *status = g_strdup_printf("STATUS=streaming %s %ux%u@%u h264 (%s), %u viewer%s",
				       d->cfg->source, d->cfg->width, d->cfg->height,
				       d->cfg->fps, cg_media_encoder_name(d->media),
				       cg_signaling_viewers(d->signaling),
				       cg_signaling_viewers(d->signaling) == 1 ? "" : "s");

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
	uint64_t age = cg_mono_usec() - cg_media_heartbeat_usec(d->media);

	if (age < limit)
		cg_notify_send(d->notify, "WATCHDOG=1");
	else
		cg_err("media thread silent for %.1f s, not feeding the watchdog", age / 1e6);
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

static void daemon_print_url(const struct daemon *d)
{
	const char *host = d->cfg->listen_host;
	bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	bool v6 = strchr(host, ':') != NULL;

	printf("camgate: streaming %s %ux%u@%u (%s) — watch at http://%s%s%s:%u/\n",
	       d->cfg->source, d->cfg->width, d->cfg->height, d->cfg->fps,
	       cg_media_encoder_name(d->media), v6 && !any ? "[" : "",
	       any ? g_get_host_name() : host, v6 && !any ? "]" : "",
	       cg_signaling_port(d->signaling));
	fflush(stdout);
}

static int daemon_start(struct daemon *d)
{
	struct cg_signaling_deps deps;
	int r;

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
		if (!d->workers[i])
			return -EIO;
		d->hub.n_workers++;
	}
	d->hub.workers = d->workers;
	r = cg_media_new(d->cfg, &d->hub, &d->stats, &d->media);
	if (r < 0)
		return r;
	deps = (struct cg_signaling_deps){.cfg = d->cfg, .media = d->media, .hub = &d->hub,
					  .stats = &d->stats, .cert = d->cert,
					  .ctx = g_main_context_default()};
	r = cg_signaling_new(&deps, &d->signaling);
	if (r < 0) {
		cg_err("cannot listen on %s:%u: %s", d->cfg->listen_host, d->cfg->listen_port,
		       strerror(-r));
		return r;
	}
	return cg_media_start(d->media);
}

/* Teardown order: no new requests, no new frames, sessions closed on their workers, then
 * the registry learns of it and everything is freed. */
static void daemon_stop(struct daemon *d)
{
	if (d->signaling)
		cg_signaling_stop(d->signaling);
	d->media = cg_media_free(d->media);
	for (unsigned i = 0; i < d->hub.n_workers; i++)
		d->workers[i] = cg_worker_free(d->workers[i]);
	while (g_main_context_iteration(NULL, FALSE))
		;
	d->signaling = cg_signaling_free(d->signaling);
	free(d->workers);
	d->cert = cg_cert_free(d->cert);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	int r;

	r = cg_config_from_args(argc, argv, &d.cfg);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (d.cfg->list_devices) {
		r = cg_registry_print_devices(stdout);
		cg_config_free(d.cfg);
		return r < 0 ? 1 : 0;
	}
	cg_log_set_level((enum cg_log_level)d.cfg->log_level);
	cg_log_journal_install(false);
	d.notify = cg_notify_new();
	signal(SIGPIPE, SIG_IGN);
	cg_stats_init(&d.stats);
	d.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, daemon_on_signal, &d);
	g_unix_signal_add(SIGTERM, daemon_on_signal, &d);
	r = daemon_start(&d);
	if (r >= 0) {
		daemon_print_url(&d);
		daemon_notify_ready(&d);
		g_main_loop_run(d.loop);
	}
	cg_notify_send(d.notify, "STOPPING=1");
	daemon_stop(&d);
	d.notify = cg_notify_free(d.notify);
	g_main_loop_unref(d.loop);
	cg_stats_fini(&d.stats);
	d.cfg = cg_config_free(d.cfg);
	return r < 0 ? 1 : 0;
}
