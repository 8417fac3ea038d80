/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The names a browser may use to reach this daemon, for the HTTP Host check that stops
 * DNS rebinding (a page of another site whose name resolves to this machine): the listen
 * address, localhost and ::1, the machine's host name (and NAME.local, as mDNS announces
 * it), the addresses of its interfaces, and the configured server-name list. Interface
 * addresses and the host name change at run time (DHCP, hostnamectl), so a name that is
 * not known yet makes the list be read again, at most once a second.
 *
 * Owner: the control thread; every function is control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cg_config;
struct cg_hostnames;

/* Reads the machine's names and addresses. cfg is read during the call only. Never NULL. */
struct cg_hostnames *cg_hostnames_new(const struct cg_config *cfg);

/* Takes the listen address and server names of a new configuration (read during the call). */
void cg_hostnames_set_config(struct cg_hostnames *h, const struct cg_config *cfg);

/*
 * Whether host, a Host header's host normalized by cg_http_host_normalize(), names this
 * daemon. now_usec (monotonic) paces re-reading the machine's names on a miss.
 */
bool cg_hostnames_allowed(struct cg_hostnames *h, const char *host, uint64_t now_usec);

/* Frees (NULL allowed). Returns NULL. */
struct cg_hostnames *cg_hostnames_free(struct cg_hostnames *h);
