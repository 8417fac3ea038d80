/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "notify"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/notify.h"
#include "util/log.h"
#include "util/macros.h"

struct cg_notify {
	int fd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec;
};

static int notify_address(struct cg_notify *n, const char *path)
{
	size_t len = strlen(path);

	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->addr.sun_path))
		return -EINVAL;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	/* '@' names a socket in the abstract namespace: a leading NUL, no terminator. */
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				  (path[0] == '/' ? 1 : 0));
	return 0;
}

static uint64_t notify_watchdog_from_env(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (!usec)
		return 0;
	if (pid && strtol(pid, NULL, 10) != getpid())
		return 0;
	v = strtoull(usec, &end, 10);
	return *end == '\0' ? v : 0;
}

struct cg_notify *cg_notify_new(void)
{
	struct cg_notify *n = cg_new0(struct cg_notify, 1);
	const char *path = getenv("NOTIFY_SOCKET");

	n->fd = -1;
	n->watchdog_usec = notify_watchdog_from_env();
	if (!path)
		return n;
	if (notify_address(n, path) < 0) {
		cg_warn("NOTIFY_SOCKET=%s is not a unix socket path, ignoring", path);
		return n;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		cg_warn("cannot create the notify socket: %m, ignoring");
	return n;
}

struct cg_notify *cg_notify_free(struct cg_notify *n)
{
	if (!n)
		return NULL;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
	return NULL;
}

int cg_notify_send(struct cg_notify *n, const char *state)
{
	if (n->fd < 0)
		return 0;
	if (sendto(n->fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&n->addr,
		   n->addr_len) < 0) {
		int r = -errno;
		cg_debug("sd_notify failed: %s", strerror(-r));
		return r;
	}
	return 0;
}

uint64_t cg_notify_watchdog_usec(const struct cg_notify *n)
{
	return n->watchdog_usec;
}
