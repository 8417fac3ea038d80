/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The pieces of an HTTP request camgate reads itself (libmicrohttpd parses the request line
 * and headers): a media type against the one a route takes, and a resource id in a path.
 * Pure and fuzzed (tests/fuzz/fuzz-http.c). Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the Content-Type value content_type (may be NULL) is the media type expected
 * ("application/sdp"), compared case-insensitively, optionally followed by parameters
 * (RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS parameter )).
 */
bool cg_http_media_type_is(const char *content_type, const char *expected);

/*
 * The resource id in path after prefix ("/whep/" + "AbC123…"): 1 to max_len characters of
 * A-Z a-z 0-9, nothing after. Returns a pointer into path, or NULL.
 */
const char *cg_http_resource_id(const char *path, const char *prefix, size_t max_len);

/*
 * The host of a Host header value (RFC 9110 §7.2: uri-host [":" port]) in a form that
 * compares with strcmp: lower case, without the port and a trailing dot, an IPv6 literal
 * without its brackets and in inet_ntop's canonical form, an IPv4 literal as inet_ntop
 * writes it. Writes it to buf (size bytes). Returns 0, -EINVAL (not a host[:port]: empty,
 * a character a host cannot hold, a bad port or bracket) or -ENAMETOOLONG.
 */
int cg_http_host_normalize(const char *value, char *buf, size_t size);
