/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access units. The payload is a separate malloc'd block so that the encoder that creates
 * an AU may still grow it (realloc data, update cap) before handing it out; once shared it is
 * immutable and freed by the last unref on whatever thread that happens.
 */
#include <stdlib.h>

#include "hw/encoder.h"
#include "util/macros.h"

struct cg_au *cg_au_new(size_t cap)
{
	struct cg_au *au = cg_new0(struct cg_au, 1);

	au->data = cg_malloc0(cap);
	au->cap = cap;
	cg_refcount_init(&au->ref);
	return au;
}

struct cg_au *cg_au_ref(struct cg_au *au)
{
	cg_refcount_inc(&au->ref);
	return au;
}

struct cg_au *cg_au_unref(struct cg_au *au)
{
	if (au && cg_refcount_dec(&au->ref)) {
		free(au->data);
		free(au);
	}
	return NULL;
}
