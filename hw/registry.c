/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The compiled-in backends. The only file that tests HAVE_* (STYLE 4.11): everything else
 * is compiled unconditionally or not at all, and chosen here at run time.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "build-config.h"
#include "hw/fake/passthrough.h"
#include "hw/fake/testsrc.h"
#include "hw/registry.h"
#if HAVE_X264
#include "hw/sw/x264.h"
#endif
#if HAVE_V4L2
#include "hw/v4l2/capture.h"
#include "hw/v4l2/list.h"
#include "hw/v4l2/m2m_enc.h"
#endif
#if HAVE_VAAPI
#include "hw/vaapi/enc.h"
#endif
#if HAVE_JPEG
#include "hw/jpeg/mjpeg.h"
#endif

/* Best first: hardware that imports DMA-BUFs, then the GPU, then the CPU. */
static const struct cg_encoder_ops *const registry_encoders[] = {
#if HAVE_V4L2
	&cg_v4l2_m2m_encoder_ops,
#endif
#if HAVE_VAAPI
	&cg_vaapi_encoder_ops,
#endif
#if HAVE_X264
	&cg_x264_encoder_ops,
#endif
	&cg_passthrough_encoder_ops, NULL,
};

const struct cg_capture_ops *cg_registry_capture(const char *source)
{
	if (source && strcmp(source, cg_testsrc_capture_ops.name) == 0)
		return &cg_testsrc_capture_ops;
#if HAVE_V4L2
	if (source && strncmp(source, "/dev/", 5) == 0)
		return &cg_v4l2_capture_ops;
#endif
	return NULL;
}

int cg_registry_resolve_source(const char *source, char *buf, size_t size, char *reason,
			       size_t reason_size)
{
	const char *why = "no V4L2 support in this build";
	int r;

	if (source && strcmp(source, "auto") != 0) {
		r = snprintf(buf, size, "%s", source);
		return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
	}
#if HAVE_V4L2
	if (cg_v4l2_find_camera(buf, size, reason, reason_size) == 0)
		return 0;
	why = NULL;
#endif
	if (why && reason)
		snprintf(reason, reason_size, "%s", why);
	snprintf(buf, size, "%s", cg_testsrc_capture_ops.name);
	return 0;
}

unsigned cg_registry_find_cameras(char (*paths)[CG_REGISTRY_PATH_MAX], unsigned max)
{
#if HAVE_V4L2
	return cg_v4l2_find_cameras(paths, max);
#else
	return 0;
#endif
}

const struct cg_encoder_ops *cg_registry_encoder(const char *name)
{
	if (!name)
		return NULL;
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

const struct cg_encoder_ops *cg_registry_passthrough(void)
{
	return &cg_passthrough_encoder_ops;
}

const struct cg_mjpeg_ops *cg_registry_mjpeg(void)
{
#if HAVE_JPEG
	return &cg_mjpeg_turbo_ops;
#else
	return NULL;
#endif
}

int cg_registry_print_devices(FILE *out)
{
	fprintf(out,
		"cameras:\n  test: moving test pattern with a time code (any size and rate)\n");
#if HAVE_V4L2
	cg_v4l2_print_cameras(out);
#else
	fprintf(out, "  (no V4L2 support in this build)\n");
#endif
	fprintf(out, "encoders:\n");
#if HAVE_V4L2
	cg_v4l2_print_encoders(out);
#endif
#if HAVE_VAAPI
	cg_vaapi_print_devices(out);
#endif
#if HAVE_X264
	fprintf(out, "  x264: software H.264 (libx264), any size\n");
#endif
	fprintf(out, "  passthrough: H.264 from cameras that compress by themselves\n");
	fprintf(out, "MJPEG decoding: %s\n",
		cg_registry_mjpeg() ? cg_registry_mjpeg()->name : "not in this build");
	return 0;
}
