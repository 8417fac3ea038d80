/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The viewer page, embedded into the binary at build time (web/embed.py generates
 * web_assets.c from the files in web/). Immutable; any thread.
 */
#pragma once

#include <stddef.h>

struct cg_web_asset {
	const char *path;	  /* URL path, e.g. "/", "/app.js" */
	const char *content_type; /* e.g. "text/html; charset=utf-8" */
	const unsigned char *data;
	size_t len;
};

/* The asset served at path ("/" is index.html), or NULL. */
const struct cg_web_asset *cg_web_asset_find(const char *path);
