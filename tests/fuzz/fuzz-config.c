/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The key file (--config, re-read on SIGHUP): text → a validated snapshot, or errors that
 * each name the file and a line the text has, so an operator can find what to fix. A
 * snapshot's cameras ([camera NAME] groups, else "main") each have a view that owns its own
 * strings and shares the rest (ASan sees a wrong free).
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/config.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = 1;

	for (size_t i = 0; i < size && data[i]; i++)
		n += data[i] == '\n';
	return n;
}

/* "NAME:LINE: …" with 1 ≤ LINE ≤ lines, or "NAME: …" (GKeyFile's own message). */
static void check_error_line(const char *line, unsigned lines)
{
	const char *p = line + strlen(NAME);
	char *end;
	unsigned long n;

	if (strncmp(line, NAME, strlen(NAME)) != 0 || *p != ':')
		abort();
	if (p[1] == ' ')
		return;
	n = strtoul(p + 1, &end, 10);
	if (end == p + 1 || *end != ':' || n < 1 || n > lines)
		abort();
}

/* A camera's view: the camera's own values in ranges, the rest the snapshot's. */
static void check_view(const struct cg_config *cfg, const struct cg_config *v, const char *name)
{
	if (!v || v->view_of != cfg || v->cameras || v->n_cameras || !v->camera_name ||
	    strcmp(v->camera_name, name) != 0)
		abort();
	if (!v->source || !v->encoder || !v->audio || v->source == cfg->source)
		abort();
	if (v->listen_host != cfg->listen_host || v->state_dir != cfg->state_dir ||
	    v->token != cfg->token || v->args != cfg->args)
		abort();
	if (v->width < 64 || v->height < 64 || v->fps < 1 || v->fps > 120)
		abort();
	if (v->min_bitrate_kbps > v->bitrate_kbps || v->bitrate_kbps > v->max_bitrate_kbps)
		abort();
}

/* At least one camera, unique valid names, all_auto only for "all", a view for each. */
static void check_cameras(const struct cg_config *cfg)
{
	if (cfg->n_cameras < 1 || !cfg->cameras || cfg->view_of || cfg->camera_name)
		abort();
	for (unsigned i = 0; i < cfg->n_cameras; i++) {
		const struct cg_camera *cam = &cfg->cameras[i];

		if (!cg_config_camera_name_ok(cam->name) ||
		    cam->all_auto != (strcmp(cam->name, CG_CONFIG_ALL_CAMERAS) == 0))
			abort();
		check_view(cfg, cam->view, cam->name);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->cameras[j].name, cam->name) == 0)
				abort();
		if (cam->all_auto) {
			/* What main.c does with the marker. */
			struct cg_config *v =
				cg_config_camera_view_new(cfg, "video0", "/dev/video0", true);

			check_view(cfg, v, "video0");
			cg_config_camera_view_free(v);
		}
	}
}

static void check_snapshot(const struct cg_config *cfg)
{
	if (!cfg->listen_host || !cfg->state_dir || cfg->state_dir[0] != '/' || !cfg->source)
		abort();
	if (cfg->width < 64 || cfg->height < 64 || cfg->fps < 1 || cfg->fps > 120)
		abort();
	/* Bandwidth adaptation relies on floor ≤ start ≤ ceiling. */
	if (cfg->min_bitrate_kbps > cfg->bitrate_kbps || cfg->bitrate_kbps > cfg->max_bitrate_kbps)
		abort();
	if (cfg->token && cg_auth_token_check(cfg->token) < 0)
		abort();
	if (cfg->password_hash && cg_auth_hash_check(cfg->password_hash) < 0)
		abort();
	if (cfg->turn_host && (!cfg->turn_user || !cfg->turn_password))
		abort();
	if (!cfg->tls_cert_path != !cfg->tls_key_path)
		abort();
	(void)cg_config_listens_on_loopback(cfg);
	check_cameras(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_config *cfg = NULL;
	char *error = NULL;
	int r = cg_config_parse_data(NAME, (const char *)data, size, &cfg, &error);

	if (r == 0) {
		check_snapshot(cfg);
		cg_config_free(cfg);
		return 0;
	}
	if (r != -EINVAL || !error || !error[0] || cfg)
		abort();
	/* One message a line, and nothing that moves a terminal's cursor (a CR, an ESC). */
	for (const char *p = error; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
			abort();
	{
		char **lines = g_strsplit(error, "\n", -1);
		unsigned n = count_lines(data, size);

		for (char **l = lines; *l; l++)
			check_error_line(*l, n);
		g_strfreev(lines);
	}
	g_free(error);
	return 0;
}
