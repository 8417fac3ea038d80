/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "http"

#include <arpa/inet.h>
#include <glib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "app/config.h"
#include "signaling/hostnames.h"
#include "net/http_req.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

#define HOSTNAMES_REFRESH_USEC CG_USEC_PER_SEC

struct cg_hostnames {
	GHashTable *configured; /* normalized names: fixed ones, listen address, server-name */
	GHashTable *machine;	/* normalized names: host name, interface addresses */
	uint64_t read_usec;	/* when machine was last read; 0: never */
};

/* Adds name in normalized form; a name that cannot be a Host is left out. */
static void hostnames_add(GHashTable *set, const char *name)
{
	char norm[256];
	char *bracketed = NULL;

	/* A bare IPv6 address is written in brackets in a Host header. */
	if (strchr(name, ':') && name[0] != '[')
		name = bracketed = g_strdup_printf("[%s]", name);
	if (cg_http_host_normalize(name, norm, sizeof(norm)) == 0)
		g_hash_table_add(set, g_strdup(norm));
	g_free(bracketed);
}

static void hostnames_add_interfaces(GHashTable *set)
{
	struct ifaddrs *list, *ifa;
	char text[INET6_ADDRSTRLEN];

	if (getifaddrs(&list) < 0) {
		cg_warn("cannot list the interface addresses: %m");
		return;
	}
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		const void *addr;

		if (!ifa->ifa_addr)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET)
			addr = &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
		else if (ifa->ifa_addr->sa_family == AF_INET6)
			addr = &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(ifa->ifa_addr->sa_family, addr, text, sizeof(text)))
			hostnames_add(set, text);
	}
	freeifaddrs(list);
}

static void hostnames_read_machine(struct cg_hostnames *h, uint64_t now_usec)
{
	char name[256] = "";

	g_hash_table_remove_all(h->machine);
	if (gethostname(name, sizeof(name) - 1) == 0 && name[0]) {
		char *dot = strchr(name, '.');
		char *local;

		hostnames_add(h->machine, name);
		/* mDNS (Avahi) announces the first label under .local. */
		if (dot)
			*dot = '\0';
		local = g_strconcat(name, ".local", NULL);
		hostnames_add(h->machine, name);
		hostnames_add(h->machine, local);
		g_free(local);
	}
	hostnames_add_interfaces(h->machine);
	h->read_usec = now_usec;
}

void cg_hostnames_set_config(struct cg_hostnames *h, const struct cg_config *cfg)
{
	g_hash_table_remove_all(h->configured);
	hostnames_add(h->configured, "localhost");
	hostnames_add(h->configured, "127.0.0.1");
	hostnames_add(h->configured, "::1");
	hostnames_add(h->configured, cfg->listen_host);
	for (char **n = cfg->server_names; n && *n; n++)
		hostnames_add(h->configured, *n);
}

struct cg_hostnames *cg_hostnames_new(const struct cg_config *cfg)
{
	struct cg_hostnames *h = cg_new0(struct cg_hostnames, 1);

	h->configured = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	h->machine = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cg_hostnames_set_config(h, cfg);
	hostnames_read_machine(h, cg_mono_usec());
	return h;
}

bool cg_hostnames_allowed(struct cg_hostnames *h, const char *host, uint64_t now_usec)
{
	if (g_hash_table_contains(h->configured, host) || g_hash_table_contains(h->machine, host))
		return true;
	if (now_usec - h->read_usec < HOSTNAMES_REFRESH_USEC)
		return false;
	hostnames_read_machine(h, now_usec);
	return g_hash_table_contains(h->machine, host);
}

struct cg_hostnames *cg_hostnames_free(struct cg_hostnames *h)
{
	if (!h)
		return NULL;
	g_hash_table_unref(h->configured);
	g_hash_table_unref(h->machine);
	free(h);
	return NULL;
}
