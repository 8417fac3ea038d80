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
#include "hw/libcamera-config.h"
#include "hw/libcamera/nodes.h"
#include "hw/registry.h"
#if HAVE_X264
#include "hw/sw/x264.h"
#endif
#if HAVE_V4L2
#include <stdlib.h>

#include "hw/v4l2/capture.h"
#include "hw/v4l2/common.h"
#include "hw/v4l2/list.h"
#include "hw/v4l2/m2m_enc.h"
#include "hw/v4l2/mode.h"
#endif
#if HAVE_LIBCAMERA
#include "hw/libcamera/camera.h"
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
	/* "test", or "test:detailed" (a texture panning under noise: hw/fake/testsrc.h). */
	if (source && (strcmp(source, cg_testsrc_capture_ops.name) == 0 ||
		       strcmp(source, "test:detailed") == 0))
		return &cg_testsrc_capture_ops;
#if HAVE_V4L2
	if (source && strncmp(source, "/dev/", 5) == 0)
		return &cg_v4l2_capture_ops;
#endif
#if HAVE_LIBCAMERA
	if (cg_libcamera_is_source(source))
		return &cg_libcamera_capture_ops;
#endif
	return NULL;
}

#if HAVE_V4L2
typedef bool (*registry_node_fn)(const struct cg_node_desc *node, const char *skip, void *userdata);

/*
 * What each /dev/videoN says of itself, and whether it may be a V4L2 camera
 * (cg_node_skip_reason()); fn returns false to stop. Returns how many nodes opened.
 */
static unsigned registry_scan_nodes(registry_node_fn fn, void *userdata)
{
	char *nodes[64];
	int n = cg_v4l2_list_nodes(nodes, 64);
	unsigned seen = 0;
	bool go = true;

	for (int i = 0; i < n; i++) {
		struct v4l2_capability vc;
		uint32_t caps = 0, type = 0;
		int fd = go ? cg_v4l2_open(nodes[i]) : -1;

		if (fd >= 0 && cg_v4l2_querycap(fd, &vc, &caps) == 0) {
			struct cg_node_desc d = {
				.path = nodes[i],
				.driver = (const char *)vc.driver,
				.card = (const char *)vc.card,
				.device_caps = caps,
			};

			d.capture = cg_v4l2_kind(caps, &type) == CG_V4L2_KIND_CAPTURE;
			for (const uint32_t *f = cg_v4l2_default_formats; d.capture && *f; f++)
				d.usable_format |= cg_v4l2_has_format(fd, type, *f);
			seen++;
			go = fn(&d, cg_node_skip_reason(&d), userdata);
		}
		cg_v4l2_close(fd);
		free(nodes[i]);
	}
	return seen;
}

struct registry_found {
	char (*paths)[CG_REGISTRY_PATH_MAX];
	unsigned max, n;
	unsigned capture; /* capture nodes seen, taken or not */
};

static bool registry_take_node(const struct cg_node_desc *node, const char *skip, void *userdata)
{
	struct registry_found *f = userdata;

	f->capture += node->capture;
	if (!skip && f->n < f->max)
		snprintf(f->paths[f->n++], CG_REGISTRY_PATH_MAX, "%s", node->path);
	return f->n < f->max;
}

static bool registry_print_skipped(const struct cg_node_desc *node, const char *skip,
				   void *userdata)
{
	/* Plain encoders and outputs are listed as what they are elsewhere: only say why a
	 * capture node, or a pipeline's node, is no camera. */
	if (skip && (node->capture || node->device_caps & CG_NODE_CAP_IO_MC ||
		     strcmp(skip, "not a video capture node") != 0))
		fprintf(userdata, "  %s: %s (%s): %s\n", node->path, node->card, node->driver,
			skip);
	return true;
}
#endif

/* The cameras auto may take, best first: libcamera's (camera modules), then V4L2 nodes. */
static unsigned registry_find(char (*paths)[CG_REGISTRY_PATH_MAX], unsigned max,
			      unsigned *v4l2_capture)
{
	unsigned n = 0;

	*v4l2_capture = 0;
#if HAVE_LIBCAMERA
	n = cg_libcamera_find_cameras(paths[0], CG_REGISTRY_PATH_MAX, max);
#endif
#if HAVE_V4L2
	if (n < max) {
		struct registry_found f = { paths + n, max - n, 0, 0 };

		registry_scan_nodes(registry_take_node, &f);
		n += f.n;
		*v4l2_capture = f.capture;
	}
#endif
	return n;
}

int cg_registry_resolve_source(const char *source, char *buf, size_t size, char *reason,
			       size_t reason_size)
{
	char found[1][CG_REGISTRY_PATH_MAX];
	unsigned capture;
	int r;

	if (source && strcmp(source, "auto") != 0) {
		r = snprintf(buf, size, "%s", source);
		return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
	}
	if (registry_find(found, 1, &capture) == 1) {
		r = snprintf(buf, size, "%s", found[0]);
		if (r >= 0 && (size_t)r < size)
			return 0;
	}
	if (reason && !HAVE_V4L2 && !HAVE_LIBCAMERA)
		snprintf(reason, reason_size, "no V4L2 or libcamera support in this build");
	else if (reason)
		snprintf(reason, reason_size, "%s",
			 capture ? "no camera offers NV12, YUYV, YU12, MJPEG or H.264"
				 : "no camera found");
	snprintf(buf, size, "%s", cg_testsrc_capture_ops.name);
	return 0;
}

unsigned cg_registry_find_cameras(char (*paths)[CG_REGISTRY_PATH_MAX], unsigned max)
{
	unsigned capture;

	return registry_find(paths, max, &capture);
}

int cg_registry_set_camera_controls(const char *controls, char *err, size_t err_size)
{
#if HAVE_LIBCAMERA
	return cg_libcamera_set_controls(controls, err, err_size);
#else
	if (!controls || !controls[0])
		return 0;
	snprintf(err, err_size, "camera controls need libcamera, which this build has not");
	return -ENOTSUP;
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
#if HAVE_LIBCAMERA
	if (cg_libcamera_print_cameras(out) < 0)
		fprintf(out, "  (libcamera did not start)\n");
#else
	fprintf(out, "  (no libcamera support in this build)\n");
#endif
#if HAVE_V4L2
	cg_v4l2_print_cameras(out);
	fprintf(out, "not taken as V4L2 cameras:\n");
	registry_scan_nodes(registry_print_skipped, out);
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
