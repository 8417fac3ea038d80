/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/state.h"
#include "util/rand.h"

#define STATE_TOKEN_LEN 32

int cg_state_dir_ensure(const char *dir)
{
	if (g_mkdir_with_parents(dir, 0700) < 0)
		return -errno;
	return 0;
}

int cg_state_read(const char *dir, const char *name, char **ret, size_t *ret_len)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *error = NULL;
	gsize len;
	int r = 0;

	if (!g_file_get_contents(path, ret, &len, &error)) {
		r = error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT ? -ENOENT
										       : -EIO;
		g_error_free(error);
	} else if (ret_len) {
		*ret_len = len;
	}
	g_free(path);
	return r;
}

static int state_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

int cg_state_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = g_build_filename(dir, name, NULL);
	char *tmp = g_strconcat(path, ".tmp", NULL);
	int fd, r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = state_write_all(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out:
	g_free(tmp);
	g_free(path);
	return r;
}

int cg_state_token(const char *dir, char **ret)
{
	char token[STATE_TOKEN_LEN + 1];
	char *text;
	int r;

	r = cg_state_read(dir, "token", &text, NULL);
	if (r == 0) {
		g_strstrip(text);
		if (cg_auth_token_check(text) < 0) {
			g_free(text);
			return -EINVAL;
		}
		*ret = text;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	cg_rand_token(token, STATE_TOKEN_LEN);
	r = cg_state_write(dir, "token", token, STATE_TOKEN_LEN);
	if (r < 0)
		return r;
	*ret = g_strdup(token);
	return 0;
}
