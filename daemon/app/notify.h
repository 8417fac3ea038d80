/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * systemd's notification protocol (sd_notify(3)): READY, STATUS, WATCHDOG, STOPPING, sent
 * as datagrams to $NOTIFY_SOCKET. Spoken directly (it is one sendmsg), so camgate needs no
 * libsystemd for it and tests can point NOTIFY_SOCKET at their own socket. Control thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cg_notify;

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID). Never fails: without a
 * socket every call does nothing. */
struct cg_notify *cg_notify_new(void);
struct cg_notify *cg_notify_free(struct cg_notify *n);

/* Sends a newline-separated state string such as "READY=1\nSTATUS=…". Returns 0, 0 when
 * there is no socket, or -errno. */
int cg_notify_send(struct cg_notify *n, const char *state);

/* The watchdog interval systemd asked for, in µs, or 0 when there is none. */
uint64_t cg_notify_watchdog_usec(const struct cg_notify *n);
