/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>
#include <strings.h>

#include "net/http_req.h"

bool cg_http_media_type_is(const char *content_type, const char *expected)
{
	size_t n = strlen(expected);
	const char *rest;

	if (!content_type)
		return false;
	/* Leading OWS is stripped by libmicrohttpd; be as lenient about it here. */
	content_type += strspn(content_type, " \t");
	if (strncasecmp(content_type, expected, n) != 0)
		return false;
	rest = content_type + n;
	rest += strspn(rest, " \t");
	return *rest == '\0' || *rest == ';';
}

const char *cg_http_resource_id(const char *path, const char *prefix, size_t max_len)
{
	size_t plen = strlen(prefix), n;
	const char *id;

	if (!path || strncmp(path, prefix, plen) != 0)
		return NULL;
	id = path + plen;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
	return n > 0 && n <= max_len && id[n] == '\0' ? id : NULL;
}
