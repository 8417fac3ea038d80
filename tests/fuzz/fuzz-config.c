/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The key file (--config, re-read on SIGHUP): text → a validated snapshot, or errors that
 * each name the file and a line the text has, so an operator can find what to fix.
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
