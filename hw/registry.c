/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The compiled-in backends. The only file that tests HAVE_* (STYLE 4.11): everything else
 * is compiled unconditionally or not at all, and chosen here at run time.
 */
#include <stddef.h>
#include <string.h>

#include "build-config.h"
#include "hw/fake/testsrc.h"
#include "hw/registry.h"
#if HAVE_X264
#include "hw/sw/x264.h"
#endif

static const struct cg_encoder_ops *const registry_encoders[] = {
#if HAVE_X264
	&cg_x264_encoder_ops,
#endif
	NULL,
};

const struct cg_capture_ops *cg_registry_capture(const char *source)
{
	if (source && strcmp(source, cg_testsrc_capture_ops.name) == 0)
		return &cg_testsrc_capture_ops;
	return NULL;
}

const struct cg_encoder_ops *cg_registry_encoder(const char *name)
{
	if (!name)
		return NULL;
	/* "auto": the best compiled-in backend; the list is ordered best first. */
	if (strcmp(name, "auto") == 0)
		return registry_encoders[0];
	for (size_t i = 0; registry_encoders[i]; i++)
		if (strcmp(name, registry_encoders[i]->name) == 0)
			return registry_encoders[i];
	return NULL;
}

const struct cg_encoder_ops *const *cg_registry_encoders(void)
{
	return registry_encoders;
}

int cg_registry_print_devices(FILE *out)
{
	const struct cg_encoder_ops *const *enc;

	fprintf(out, "cameras:\n  test: moving test pattern with a time code (any size and rate)\n");
	fprintf(out, "encoders:\n");
	for (enc = cg_registry_encoders(); *enc; enc++)
		fprintf(out, "  %s\n", (*enc)->name);
	return 0;
}
