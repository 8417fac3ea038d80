/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/libcamera/nodes.h"
#include "hw/v4l2/common.h"
#include "hw/v4l2/list.h"
#include "hw/v4l2/mode.h"
#include "util/macros.h"

typedef int (*list_node_fn)(int fd, const char *path, const struct v4l2_capability *vc,
			    uint32_t caps, uint32_t capture_type, enum cg_v4l2_kind kind,
			    void *userdata);

/* Calls fn for every node that opens; stops early when fn returns > 0. */
static int list_nodes(list_node_fn fn, void *userdata)
{
	char *nodes[CG_V4L2_MAX_DEVICES];
	int n = cg_v4l2_list_nodes(nodes, CG_V4L2_MAX_DEVICES), hits = 0, stop = 0;

	for (int i = 0; i < n; i++) {
		struct v4l2_capability vc;
		uint32_t caps, type;
		int fd = stop ? -1 : cg_v4l2_open(nodes[i]);

		if (fd >= 0 && cg_v4l2_querycap(fd, &vc, &caps) == 0) {
			enum cg_v4l2_kind kind = cg_v4l2_kind(caps, &type);
			int r = fn(fd, nodes[i], &vc, caps, type, kind, userdata);

			hits += r != 0;
			stop = r > 0;
		}
		cg_v4l2_close(fd);
		free(nodes[i]);
	}
	return hits;
}

/* One line per format: "NV12 640x480@25,30 1280x720@25". */
static void list_print_modes(FILE *out, const struct cg_v4l2_mode *m, int n)
{
	char fcc[5];

	for (int i = 0; i < n; i++) {
		bool new_fmt = i == 0 || m[i].fourcc != m[i - 1].fourcc;
		bool new_size =
			new_fmt || m[i].width != m[i - 1].width || m[i].height != m[i - 1].height;

		if (new_fmt)
			fprintf(out, "%s    %s", i ? "\n" : "",
				cg_v4l2_fourcc_str(m[i].fourcc, fcc));
		if (new_size)
			fprintf(out, " %ux%u@%u", m[i].width, m[i].height, cg_v4l2_mode_fps(&m[i]));
		else
			fprintf(out, ",%u", cg_v4l2_mode_fps(&m[i]));
	}
	if (n > 0)
		fprintf(out, "\n");
}

/*
 * Why auto would not take this capture node as a camera (cg_node_skip_reason(), as the
 * registry decides), or NULL.
 */
static const char *list_skip_reason(int fd, const char *path, const struct v4l2_capability *vc,
				    uint32_t caps, uint32_t type, enum cg_v4l2_kind kind)
{
	struct cg_node_desc d = {
		.path = path,
		.driver = (const char *)vc->driver,
		.card = (const char *)vc->card,
		.device_caps = caps,
		.capture = kind == CG_V4L2_KIND_CAPTURE,
	};

	for (const uint32_t *f = cg_v4l2_default_formats; d.capture && *f; f++)
		d.usable_format |= cg_v4l2_has_format(fd, type, *f);
	return cg_node_skip_reason(&d);
}

/*
 * Only the nodes that may be V4L2 cameras: a pipeline's nodes (CSI receivers, ISPs,
 * media-controller nodes) and nodes without a usable format are in the registry's list of
 * skipped nodes, with the reason.
 */
static int list_camera(int fd, const char *path, const struct v4l2_capability *vc, uint32_t caps,
		       uint32_t type, enum cg_v4l2_kind kind, void *userdata)
{
	FILE *out = userdata;
	struct cg_v4l2_mode *modes;
	int n;

	if (kind != CG_V4L2_KIND_CAPTURE || list_skip_reason(fd, path, vc, caps, type, kind))
		return 0;
	modes = cg_new0(struct cg_v4l2_mode, CG_V4L2_MAX_MODES);
	n = cg_v4l2_mode_list(fd, type, 1280, 720, 30, NULL, modes, CG_V4L2_MAX_MODES);
	fprintf(out, "  %s: %s (%s, %s)\n", path, (const char *)vc->card, (const char *)vc->driver,
		(const char *)vc->bus_info);
	list_print_modes(out, modes, n);
	free(modes);
	return -1;
}

int cg_v4l2_print_cameras(FILE *out)
{
	return list_nodes(list_camera, out);
}

static void list_formats(FILE *out, int fd, uint32_t type)
{
	struct v4l2_fmtdesc d = { .type = type };
	char fcc[5];

	for (d.index = 0; cg_v4l2_ioctl(fd, VIDIOC_ENUM_FMT, &d) == 0; d.index++)
		fprintf(out, " %s", cg_v4l2_fourcc_str(d.pixelformat, fcc));
}

static int list_encoder(int fd, const char *path, const struct v4l2_capability *vc, uint32_t caps,
			uint32_t type, enum cg_v4l2_kind kind, void *userdata)
{
	FILE *out = userdata;
	uint32_t out_type = V4L2_TYPE_IS_MULTIPLANAR(type) ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
							   : V4L2_BUF_TYPE_VIDEO_OUTPUT;
	bool h264 = cg_v4l2_has_format(fd, type, V4L2_PIX_FMT_H264);

	if (kind != CG_V4L2_KIND_M2M)
		return 0;
	fprintf(out, "  v4l2-m2m %s: %s (%s)%s\n    takes", path, (const char *)vc->card,
		(const char *)vc->driver, h264 ? "" : ", no H.264: tests only");
	list_formats(out, fd, out_type);
	fprintf(out, "\n    makes");
	list_formats(out, fd, type);
	fprintf(out, "\n");
	return -1;
}

int cg_v4l2_print_encoders(FILE *out)
{
	return list_nodes(list_encoder, out);
}

struct list_find {
	char *path;
	size_t size;
	int seen;
};

static int list_find_camera(int fd, const char *path, const struct v4l2_capability *vc,
			    uint32_t caps, uint32_t type, enum cg_v4l2_kind kind, void *userdata)
{
	struct list_find *f = userdata;

	if (kind != CG_V4L2_KIND_CAPTURE)
		return 0;
	f->seen++;
	for (const uint32_t *fmt = cg_v4l2_default_formats; *fmt; fmt++) {
		if (cg_v4l2_has_format(fd, type, *fmt)) {
			snprintf(f->path, f->size, "%s", path);
			return 1;
		}
	}
	return 0;
}

int cg_v4l2_find_camera(char *path, size_t size, char *reason, size_t reason_size)
{
	struct list_find f = { path, size, 0 };

	if (list_nodes(list_find_camera, &f) > 0)
		return 0;
	if (reason)
		snprintf(reason, reason_size, "%s",
			 f.seen ? "no camera offers NV12, YUYV, YU12, MJPEG or H.264"
				: "no V4L2 camera found");
	return -ENODEV;
}

struct list_find_all {
	char (*paths)[CG_V4L2_PATH_MAX];
	unsigned max, n;
};

static int list_find_each_camera(int fd, const char *path, const struct v4l2_capability *vc,
				 uint32_t caps, uint32_t type, enum cg_v4l2_kind kind,
				 void *userdata)
{
	struct list_find_all *f = userdata;

	if (kind != CG_V4L2_KIND_CAPTURE || f->n == f->max)
		return 0;
	for (const uint32_t *fmt = cg_v4l2_default_formats; *fmt; fmt++) {
		if (cg_v4l2_has_format(fd, type, *fmt)) {
			snprintf(f->paths[f->n++], CG_V4L2_PATH_MAX, "%s", path);
			return -1; /* counted; go on with the next node */
		}
	}
	return 0;
}

unsigned cg_v4l2_find_cameras(char (*paths)[CG_V4L2_PATH_MAX], unsigned max)
{
	struct list_find_all f = { paths, max, 0 };

	list_nodes(list_find_each_camera, &f);
	return f.n;
}
