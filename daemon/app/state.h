/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The state directory (systemd's StateDirectory=, /var/lib/camgate): files camgate makes
 * once and keeps across restarts, such as the self-signed HTTPS certificate and the
 * generated access token. Files holding secrets are 0600 and written atomically (a
 * temporary file, fsync, rename), so a crash never leaves half a key. Control thread.
 */
#pragma once

#include <stddef.h>

/* Creates dir (and its parents) with mode 0700 if missing. Returns 0 or -errno. */
int cg_state_dir_ensure(const char *dir);

/* Reads dir/name into *ret (NUL-terminated, g_free it). Returns 0, -ENOENT or -errno. */
int cg_state_read(const char *dir, const char *name, char **ret, size_t *ret_len);

/* Atomically replaces dir/name with data, mode 0600. Returns 0 or -errno. */
int cg_state_write(const char *dir, const char *name, const void *data, size_t len);

/*
 * The access token kept in dir/token: read if there, else 32 random characters written
 * there first. Returns 0 with *ret (g_free it), or -errno (-EINVAL: the file holds no
 * valid token, and is left for the administrator to fix).
 */
int cg_state_token(const char *dir, char **ret);
