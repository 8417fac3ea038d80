/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The parts of an HTTP request camgate reads itself (daemon/net/http_req.c); the request
 * line and the header syntax are libmicrohttpd's. Input: the first line is a Content-Type
 * value, the rest a request path; the whole input is a Host value too. Checks that the answers are
 * consistent, not just that nothing crashes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "net/http_req.h"

static void check_media_type(const char *ct)
{
	bool sdp = cg_http_media_type_is(ct, "application/sdp");
	bool frag = cg_http_media_type_is(ct, "application/trickle-ice-sdpfrag");
	const char *start = ct + strspn(ct, " \t");

	/* Neither type is a prefix of the other followed by ';' or the end. */
	if (sdp && frag)
		abort();
	/* A match starts with the type itself, case aside. */
	if (sdp && strncasecmp(start, "application/sdp", 15) != 0)
		abort();
	if (cg_http_media_type_is(NULL, "application/sdp"))
		abort();
}

static void check_resource(const char *path)
{
	const char *id = cg_http_resource_id(path, "/whep/", 16);
	size_t n;

	if (!id)
		return;
	n = strlen(id);
	if (id != path + 6 || n == 0 || n > 16 || strncmp(path, "/whep/", 6) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9')))
			abort();
}

/* A normalized host is lower case, a name or an address literal, and normalizes to itself. */
static void check_host(const char *value)
{
	char host[256], again[256 + 2], bracketed[256 + 2];
	int r = cg_http_host_normalize(value, host, sizeof(host));

	if (r == -EINVAL || r == -ENAMETOOLONG)
		return;
	if (r != 0 || !host[0] || strlen(host) >= sizeof(host))
		abort();
	for (const char *p = host; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p == '[' || *p == ']' || *p == '/' || *p == ' ')
			abort();
	/* An IPv6 literal comes back without brackets: a Host writes it with them. */
	snprintf(bracketed, sizeof(bracketed), strchr(host, ':') ? "[%s]" : "%s", host);
	if (cg_http_host_normalize(bracketed, again, sizeof(again)) != 0 || strcmp(again, host))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *nl;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	check_media_type(text);
	check_resource(nl ? nl + 1 : text);
	if (nl)
		*nl = '\n';
	check_host(text);
	free(text);
	return 0;
}
