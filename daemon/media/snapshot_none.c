/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Built without libjpeg-turbo: /snapshot.jpg answers 501. */
#include <errno.h>
#include <stddef.h>

#include "media/snapshot.h"

struct cg_snapshot *cg_snapshot_new(void)
{
	return NULL;
}

struct cg_snapshot *cg_snapshot_free(struct cg_snapshot *snap)
{
	return NULL;
}

int cg_snapshot_encode(struct cg_snapshot *snap, const struct cg_frame *frame, int quality,
		       uint8_t **ret, size_t *ret_len)
{
	return -ENOTSUP;
}
