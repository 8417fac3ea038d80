/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A port: 0-5 digits (RFC 3986 §3.2.3 allows an empty one), at most 65535. */
static bool http_port_ok(const char *p)
{
	size_t n = strspn(p, "0123456789");

	return p[n] == '\0' && n <= 5 && (n == 0 || atoi(p) <= 65535);
}

/* Rewrites an address literal as inet_ntop does, so "::0001" and "::1" compare equal. */
static int http_host_canonical(int family, char *buf, size_t size)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(family, buf, addr) != 1)
		return family == AF_INET6 ? -EINVAL : 0; /* a name that looks numeric */
	if (!inet_ntop(family, addr, text, sizeof(text)) || strlen(text) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, text);
	return 0;
}

int cg_http_host_normalize(const char *value, char *buf, size_t size)
{
	/* reg-name (RFC 3986 §3.2.2) as DNS names use it; percent-encoding is not. */
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~";
	const char *host = value, *end;
	bool literal6 = value[0] == '[';
	size_t n;

	if (literal6) {
		host = value + 1;
		end = strchr(host, ']');
		if (!end || strspn(host, "0123456789abcdefABCDEF:.") != (size_t)(end - host))
			return -EINVAL;
		end++;
	} else {
		end = host + strspn(host, name_chars);
	}
	if (*end && (*end != ':' || !http_port_ok(end + 1)))
		return -EINVAL;
	n = (size_t)(end - host) - (literal6 ? 1 : 0);
	if (n > 0 && !literal6 && host[n - 1] == '.')
		n--; /* "example.com." is "example.com" */
	if (n == 0)
		return -EINVAL;
	if (n >= size)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)host[i]);
	buf[n] = '\0';
	return http_host_canonical(literal6 ? AF_INET6 : AF_INET, buf, size);
}
