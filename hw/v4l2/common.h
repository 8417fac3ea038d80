/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Shared V4L2 plumbing for the capture and mem2mem backends: every device is opened and
 * driven through libv4l2 (v4l2_fd_open/v4l2_ioctl/v4l2_mmap) so vendor plugins such as
 * Jetson's encoder work, with libv4lconvert's format emulation disabled (it would copy
 * pixels on the CPU behind our back). Also the format table (plane layout of the formats
 * we handle), single- versus multi-planar buffer helpers and device discovery.
 *
 * No state; every function may be called from any thread on fds the caller owns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/videodev2.h>

#define CG_V4L2_MAX_DEVICES 64

/* Layout of one picture in a single buffer (STYLE 4.4: one buffer, planes at offsets). */
struct cg_v4l2_layout {
	unsigned n_planes;
	uint32_t offset[3];
	uint32_t stride[3];
	uint32_t size; /* bytes of the whole picture; 0 for compressed formats */
};

/*
 * Plane layout of fourcc at width x height with bytesperline bpl (of plane 0), as the
 * V4L2 pixel format documents it (Documentation/userspace-api/media/v4l/pixfmt-yuv-planar.rst:
 * NV12 chroma follows luma with the same bpl; YU12 Cb then Cr at bpl / 2). Compressed
 * formats have one plane and size 0. Returns 0 or -ENOTSUP (a format we do not handle).
 */
int cg_v4l2_layout(uint32_t fourcc, uint32_t width, uint32_t height, uint32_t bpl,
		   struct cg_v4l2_layout *ret);

/*
 * The one-buffer format whose planes fourcc keeps in a buffer each (NV12M -> NV12,
 * YUV420M -> YU12), or fourcc itself. Same samples and order, so a camera's NV12 frame can
 * feed an encoder that takes NV12M: plane by plane, at the frame's plane offsets.
 */
uint32_t cg_v4l2_single_buffer_fourcc(uint32_t fourcc);
/* The other way round: NV12 -> NV12M, YU12 -> YUV420M; 0 when fourcc has no such twin. */
uint32_t cg_v4l2_multi_buffer_fourcc(uint32_t fourcc);

/* True for MJPEG, JPEG, H.264 and FWHT: formats whose buffers carry a bitstream. */
bool cg_v4l2_is_compressed(uint32_t fourcc);

/* "NV12"; buf must hold 5 bytes. Returns buf. */
const char *cg_v4l2_fourcc_str(uint32_t fourcc, char buf[5]);

/*
 * Opens path read-write, non-blocking and close-on-exec, and hands it to libv4l2 with
 * conversion disabled. Returns the fd or -errno (-ENODEV/-ENOENT when it is gone).
 * Close it with cg_v4l2_close().
 */
int cg_v4l2_open(const char *path);
void cg_v4l2_close(int fd);

/* v4l2_ioctl() retried on EINTR. Returns 0 or -errno (saved at the call). */
int cg_v4l2_ioctl(int fd, unsigned long req, void *arg);

/* The device's own caps (device_caps when the driver reports them). Returns 0 or -errno. */
int cg_v4l2_querycap(int fd, struct v4l2_capability *cap, uint32_t *device_caps);

#define CG_V4L2_MAX_PLANES 3

/*
 * A buffer of queue type/memory at index. For the multi-planar API it has one plane after
 * cg_v4l2_buf_init() (formats in one buffer: plane is planes[0]); cg_v4l2_buf_set_planes()
 * gives it more for the formats with a buffer per plane (NV12M, YUV420M).
 */
struct cg_v4l2_buf {
	struct v4l2_buffer b;
	union {
		struct v4l2_plane plane;
		struct v4l2_plane planes[CG_V4L2_MAX_PLANES];
	};
};

void cg_v4l2_buf_init(struct cg_v4l2_buf *buf, uint32_t type, uint32_t memory, uint32_t index);
/* n (1..CG_V4L2_MAX_PLANES) planes on a multi-planar buffer; nothing on a single-planar one. */
void cg_v4l2_buf_set_planes(struct cg_v4l2_buf *buf, unsigned n);
uint32_t cg_v4l2_buf_bytesused(const struct cg_v4l2_buf *buf);
uint32_t cg_v4l2_buf_length(const struct cg_v4l2_buf *buf);
uint32_t cg_v4l2_buf_mem_offset(const struct cg_v4l2_buf *buf);
void cg_v4l2_buf_set_dmabuf(struct cg_v4l2_buf *buf, int fd, uint32_t length, uint32_t used);

/*
 * The pix or pix_mp fields of a format, whichever API type uses: bpl and sizeimage of plane
 * 0; with the multi-planar API also how many memory planes the format has (0 or 1: one
 * buffer) and each one's bytes per line and size.
 */
struct cg_v4l2_pix {
	uint32_t fourcc, width, height, bpl, sizeimage;
	unsigned n_planes;
	uint32_t plane_bpl[CG_V4L2_MAX_PLANES], plane_size[CG_V4L2_MAX_PLANES];
};

void cg_v4l2_fmt_get(const struct v4l2_format *f, struct cg_v4l2_pix *ret);
void cg_v4l2_fmt_set(struct v4l2_format *f, uint32_t type, const struct cg_v4l2_pix *pix);

/*
 * Whether a format the driver chose (pix) holds a width x height picture: 0 at exactly that
 * size, 1 when it is larger (an encoder that pads its input to its alignment, like the Pi's
 * 1088 rows for 1080: the rest must be cropped off), -ENOTSUP when it is smaller either way.
 */
int cg_v4l2_fmt_covers(const struct cg_v4l2_pix *pix, uint32_t width, uint32_t height);

struct cg_frame;

/*
 * Whether frame f's one buffer can be handed as it is to a device whose picture has layout l
 * and sizeimage bytes: every plane at the same offset with the same line length, and the
 * buffer at least sizeimage long. A padded layout (chroma after 1088 rows for 1080) does not
 * fit a camera's frame that has its chroma right after the picture.
 */
bool cg_v4l2_frame_fits(const struct cg_v4l2_layout *l, uint32_t sizeimage,
			const struct cg_frame *f);

/* True when fd's queue of this type lists fourcc in VIDIOC_ENUM_FMT. */
bool cg_v4l2_has_format(int fd, uint32_t type, uint32_t fourcc);

enum cg_v4l2_kind {
	CG_V4L2_KIND_OTHER = 0,
	CG_V4L2_KIND_CAPTURE,
	CG_V4L2_KIND_M2M,
};

/* What a node is from its device_caps, and its CAPTURE queue type (0 for OTHER). */
enum cg_v4l2_kind cg_v4l2_kind(uint32_t device_caps, uint32_t *capture_type);

/*
 * /dev/videoN paths in N order, up to max. Returns how many, or -errno when /dev cannot be
 * read. The caller frees each path.
 */
int cg_v4l2_list_nodes(char **paths, size_t max);

/*
 * Jetson's encoder, which is no /dev/videoN: /dev/v4l2-nvenc (L4T r35 and later) or
 * /dev/nvhost-msenc (older L4T), a V4L2 device only through NVIDIA's libv4l2 plugin, which
 * cg_v4l2_open() loads (v4l2_fd_open() is where libv4l2 loads its plugins; v4l2_open() is
 * open() followed by it). NULL-terminated, newest first.
 */
extern const char *const cg_v4l2_jetson_encoder_nodes[];

/*
 * Like cg_v4l2_list_nodes() in directory dir (tests give a fake one), with the entries of
 * named (NULL-terminated, may be NULL) that exist there first, in that order. Returns how
 * many paths, or -errno when dir cannot be read. The caller frees each path. Any thread.
 */
int cg_v4l2_list_nodes_in(const char *dir, const char *const *named, char **paths, size_t max);
