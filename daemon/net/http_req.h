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
