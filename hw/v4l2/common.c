/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libv4l2.h>

#include "hw/frame.h"
#include "hw/v4l2/common.h"
#include "util/macros.h"

int cg_v4l2_layout(uint32_t fourcc, uint32_t width, uint32_t height, uint32_t bpl,
		   struct cg_v4l2_layout *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->n_planes = 1;
	switch (fourcc) {
	case V4L2_PIX_FMT_NV12:
		ret->n_planes = 2;
		ret->stride[0] = ret->stride[1] = bpl;
		ret->offset[1] = bpl * height;
		ret->size = bpl * height * 3 / 2;
		return 0;
	case V4L2_PIX_FMT_YUV420:
		ret->n_planes = 3;
		ret->stride[0] = bpl;
		ret->stride[1] = ret->stride[2] = bpl / 2;
		ret->offset[1] = bpl * height;
		ret->offset[2] = ret->offset[1] + bpl / 2 * (height / 2);
		ret->size = bpl * height * 3 / 2;
		return 0;
	case V4L2_PIX_FMT_YUYV:
	case V4L2_PIX_FMT_RGB24: /* vim2m's formats: packed, one plane */
	case V4L2_PIX_FMT_BGR24:
	case V4L2_PIX_FMT_RGB565:
		ret->stride[0] = bpl;
		ret->size = bpl * height;
		return 0;
	default:
		return cg_v4l2_is_compressed(fourcc) ? 0 : -ENOTSUP;
	}
}

uint32_t cg_v4l2_single_buffer_fourcc(uint32_t fourcc)
{
	switch (fourcc) {
	case V4L2_PIX_FMT_NV12M:
		return V4L2_PIX_FMT_NV12;
	case V4L2_PIX_FMT_YUV420M:
		return V4L2_PIX_FMT_YUV420;
	default:
		return fourcc;
	}
}

uint32_t cg_v4l2_multi_buffer_fourcc(uint32_t fourcc)
{
	switch (fourcc) {
	case V4L2_PIX_FMT_NV12:
		return V4L2_PIX_FMT_NV12M;
	case V4L2_PIX_FMT_YUV420:
		return V4L2_PIX_FMT_YUV420M;
	default:
		return 0;
	}
}

int cg_v4l2_fmt_covers(const struct cg_v4l2_pix *pix, uint32_t width, uint32_t height)
{
	if (pix->width < width || pix->height < height)
		return -ENOTSUP;
	return pix->width > width || pix->height > height;
}

bool cg_v4l2_frame_fits(const struct cg_v4l2_layout *l, uint32_t sizeimage,
			const struct cg_frame *f)
{
	if (f->n_planes < l->n_planes || f->buf_size < CG_MAX(sizeimage, l->size))
		return false;
	for (unsigned p = 0; p < l->n_planes; p++)
		if (f->planes[p].offset != l->offset[p] || f->planes[p].stride != l->stride[p])
			return false;
	return true;
}

bool cg_v4l2_is_compressed(uint32_t fourcc)
{
	return fourcc == V4L2_PIX_FMT_MJPEG || fourcc == V4L2_PIX_FMT_JPEG ||
	       fourcc == V4L2_PIX_FMT_H264 || fourcc == V4L2_PIX_FMT_FWHT;
}

const char *cg_v4l2_fourcc_str(uint32_t fourcc, char buf[5])
{
	for (unsigned i = 0; i < 4; i++) {
		char c = (char)((fourcc >> (8 * i)) & 0xff);

		buf[i] = c >= 32 && c < 127 ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

int cg_v4l2_open(const char *path)
{
	int fd, lfd, r;

	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* libv4l2 loads its plugins here; conversion off: no emulated formats, no copies. */
	lfd = v4l2_fd_open(fd, V4L2_DISABLE_CONVERSION);
	if (lfd < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return lfd;
}

void cg_v4l2_close(int fd)
{
	if (fd >= 0)
		v4l2_close(fd);
}

int cg_v4l2_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = v4l2_ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int cg_v4l2_querycap(int fd, struct v4l2_capability *cap, uint32_t *device_caps)
{
	int r;

	memset(cap, 0, sizeof(*cap));
	r = cg_v4l2_ioctl(fd, VIDIOC_QUERYCAP, cap);
	if (r < 0)
		return r;
	*device_caps =
		cap->capabilities & V4L2_CAP_DEVICE_CAPS ? cap->device_caps : cap->capabilities;
	return 0;
}

void cg_v4l2_buf_init(struct cg_v4l2_buf *buf, uint32_t type, uint32_t memory, uint32_t index)
{
	memset(buf, 0, sizeof(*buf));
	buf->b.type = type;
	buf->b.memory = memory;
	buf->b.index = index;
	if (V4L2_TYPE_IS_MULTIPLANAR(type)) {
		buf->b.m.planes = &buf->plane;
		buf->b.length = 1;
	}
}

void cg_v4l2_buf_set_planes(struct cg_v4l2_buf *buf, unsigned n)
{
	if (V4L2_TYPE_IS_MULTIPLANAR(buf->b.type))
		buf->b.length = CG_MAX(1u, CG_MIN(n, CG_V4L2_MAX_PLANES));
}

uint32_t cg_v4l2_buf_bytesused(const struct cg_v4l2_buf *buf)
{
	if (V4L2_TYPE_IS_MULTIPLANAR(buf->b.type))
		return buf->plane.bytesused - CG_MIN(buf->plane.data_offset, buf->plane.bytesused);
	return buf->b.bytesused;
}

uint32_t cg_v4l2_buf_length(const struct cg_v4l2_buf *buf)
{
	return V4L2_TYPE_IS_MULTIPLANAR(buf->b.type) ? buf->plane.length : buf->b.length;
}

uint32_t cg_v4l2_buf_mem_offset(const struct cg_v4l2_buf *buf)
{
	return V4L2_TYPE_IS_MULTIPLANAR(buf->b.type) ? buf->plane.m.mem_offset : buf->b.m.offset;
}

void cg_v4l2_buf_set_dmabuf(struct cg_v4l2_buf *buf, int fd, uint32_t length, uint32_t used)
{
	if (V4L2_TYPE_IS_MULTIPLANAR(buf->b.type)) {
		buf->plane.m.fd = fd;
		buf->plane.length = length;
		buf->plane.bytesused = used;
	} else {
		buf->b.m.fd = fd;
		buf->b.length = length;
		buf->b.bytesused = used;
	}
}

void cg_v4l2_fmt_get(const struct v4l2_format *f, struct cg_v4l2_pix *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (V4L2_TYPE_IS_MULTIPLANAR(f->type)) {
		ret->n_planes = CG_MIN(f->fmt.pix_mp.num_planes, CG_V4L2_MAX_PLANES);
		for (unsigned i = 0; i < ret->n_planes; i++) {
			ret->plane_bpl[i] = f->fmt.pix_mp.plane_fmt[i].bytesperline;
			ret->plane_size[i] = f->fmt.pix_mp.plane_fmt[i].sizeimage;
		}
		ret->fourcc = f->fmt.pix_mp.pixelformat;
		ret->width = f->fmt.pix_mp.width;
		ret->height = f->fmt.pix_mp.height;
		ret->bpl = f->fmt.pix_mp.plane_fmt[0].bytesperline;
		ret->sizeimage = f->fmt.pix_mp.plane_fmt[0].sizeimage;
	} else {
		ret->fourcc = f->fmt.pix.pixelformat;
		ret->width = f->fmt.pix.width;
		ret->height = f->fmt.pix.height;
		ret->bpl = f->fmt.pix.bytesperline;
		ret->sizeimage = f->fmt.pix.sizeimage;
	}
}

void cg_v4l2_fmt_set(struct v4l2_format *f, uint32_t type, const struct cg_v4l2_pix *pix)
{
	memset(f, 0, sizeof(*f));
	f->type = type;
	if (V4L2_TYPE_IS_MULTIPLANAR(type)) {
		f->fmt.pix_mp.pixelformat = pix->fourcc;
		f->fmt.pix_mp.width = pix->width;
		f->fmt.pix_mp.height = pix->height;
		f->fmt.pix_mp.field = V4L2_FIELD_NONE;
		f->fmt.pix_mp.num_planes =
			(uint8_t)CG_MAX(1u, CG_MIN(pix->n_planes, CG_V4L2_MAX_PLANES));
		f->fmt.pix_mp.plane_fmt[0].bytesperline = pix->bpl;
		f->fmt.pix_mp.plane_fmt[0].sizeimage = pix->sizeimage;
		for (unsigned i = 1; i < f->fmt.pix_mp.num_planes; i++)
			f->fmt.pix_mp.plane_fmt[i].bytesperline = pix->plane_bpl[i];
	} else {
		f->fmt.pix.pixelformat = pix->fourcc;
		f->fmt.pix.width = pix->width;
		f->fmt.pix.height = pix->height;
		f->fmt.pix.field = V4L2_FIELD_NONE;
		f->fmt.pix.bytesperline = pix->bpl;
		f->fmt.pix.sizeimage = pix->sizeimage;
	}
}

bool cg_v4l2_has_format(int fd, uint32_t type, uint32_t fourcc)
{
	struct v4l2_fmtdesc d = { .type = type };

	for (d.index = 0; cg_v4l2_ioctl(fd, VIDIOC_ENUM_FMT, &d) == 0; d.index++)
		if (d.pixelformat == fourcc)
			return true;
	return false;
}

enum cg_v4l2_kind cg_v4l2_kind(uint32_t caps, uint32_t *capture_type)
{
	*capture_type = 0;
	if (!(caps & V4L2_CAP_STREAMING))
		return CG_V4L2_KIND_OTHER;
	if (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) {
		*capture_type = caps & V4L2_CAP_VIDEO_M2M_MPLANE
					? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
					: V4L2_BUF_TYPE_VIDEO_CAPTURE;
		return CG_V4L2_KIND_M2M;
	}
	if (caps & V4L2_CAP_VIDEO_CAPTURE) {
		*capture_type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		return CG_V4L2_KIND_CAPTURE;
	}
	if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) {
		*capture_type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
		return CG_V4L2_KIND_CAPTURE;
	}
	return CG_V4L2_KIND_OTHER;
}

static long v4l2_node_number(const char *path)
{
	const char *base = strrchr(path, '/');

	return strtol((base ? base + 1 : path) + strlen("video"), NULL, 10);
}

static int v4l2_node_cmp(const void *a, const void *b)
{
	long nx = v4l2_node_number(*(char *const *)a), ny = v4l2_node_number(*(char *const *)b);

	return nx < ny ? -1 : nx > ny;
}

static bool v4l2_is_video_name(const char *name)
{
	return strncmp(name, "video", 5) == 0 && name[5] &&
	       strspn(name + 5, "0123456789") == strlen(name + 5);
}

const char *const cg_v4l2_jetson_encoder_nodes[] = { "v4l2-nvenc", "nvhost-msenc", NULL };

int cg_v4l2_list_nodes_in(const char *dir, const char *const *named, char **paths, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, n_named;

	if (!d)
		return -errno;
	/* Named nodes first, in the caller's order, when they are there (a symlink counts). */
	for (unsigned i = 0; named && named[i] && n < max; i++) {
		char path[300];

		snprintf(path, sizeof(path), "%s/%s", dir, named[i]);
		if (faccessat(AT_FDCWD, path, F_OK, 0) == 0)
			paths[n++] = cg_strdup(path);
	}
	n_named = n;
	while ((e = readdir(d)) && n < max) {
		char path[300];

		if (!v4l2_is_video_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		paths[n++] = cg_strdup(path);
	}
	closedir(d);
	qsort(paths + n_named, n - n_named, sizeof(*paths), v4l2_node_cmp); /* videoN by N */
	return (int)n;
}

int cg_v4l2_list_nodes(char **paths, size_t max)
{
	return cg_v4l2_list_nodes_in("/dev", NULL, paths, max);
}
