/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libv4l2.h>

#define CG_LOG_TOPIC "v4l2-m2m"

#include "hw/au_writer.h"
#include "hw/h264util.h"
#include "hw/v4l2/common.h"
#include "hw/v4l2/m2m_enc.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

#define M2M_OUT_BUFS 2u /* one in the encoder, one spare for the MMAP copy path */
#define M2M_CAP_BUFS 4u
#define M2M_META     8u
#define M2M_DRAIN_MS 1000

enum m2m_state {
	M2M_IDLE, /* formats set, no buffers yet: they are made for the first frame */
	M2M_ENCODING,
	M2M_DRAINING, /* V4L2_ENC_CMD_STOP sent, waiting for the LAST buffer */
};

struct m2m_out {
	struct cg_frame *frame;	       /* DMABUF: held until the encoder gives it back */
	void *map[CG_V4L2_MAX_PLANES]; /* MMAP: our copy of the frame, a map per plane */
	uint32_t length[CG_V4L2_MAX_PLANES];
	bool queued;
};

struct m2m_cap {
	void *map;
	uint32_t length;
};

struct m2m_meta {
	uint64_t ts, wall;
	uint32_t seq;
};

struct cg_encoder {
	int fd;
	char path[64];
	struct cg_encoder_cfg cfg;
	uint32_t codec;
	uint32_t out_type, cap_type, out_memory;
	enum m2m_state state;
	struct cg_v4l2_pix out_pix;
	/* The frame's planes (cg_v4l2_layout of its one-buffer format); with a buffer per
	 * plane (NV12M, YUV420M: out_planes > 1) plane p is memory plane p at offset 0. */
	struct cg_v4l2_layout out_layout;
	unsigned out_planes;
	bool kf_ctrl, want_key, stride_ok, dmabuf_refused;
	bool padded; /* OUTPUT larger than the picture, cropped back (m2m_crop) */
	uint8_t profile_idc, constraints, level_idc;
	struct m2m_out out[M2M_OUT_BUFS];
	struct m2m_cap cap[M2M_CAP_BUFS];
	unsigned n_out, n_cap;
	struct cg_frame *pending; /* the newest frame not yet queued */
	struct m2m_meta meta[M2M_META];
	unsigned meta_next;
	uint32_t copied;	/* bytes copied into MMAP buffers since the last AU */
	struct cg_au_writer aw; /* H.264 only */
};

static int m2m_errno(int r)
{
	return r == -ENXIO ? -ENODEV : r;
}

/*
 * What the OUTPUT queue takes for frames of input: input itself, or on the multi-planar API
 * its twin with a buffer per plane (NV12 -> NV12M, as Jetson's and Qualcomm's encoders
 * want). 0 when neither.
 */
static uint32_t m2m_out_fourcc(int fd, uint32_t out_type, uint32_t input)
{
	uint32_t multi = cg_v4l2_multi_buffer_fourcc(input);

	if (cg_v4l2_has_format(fd, out_type, input))
		return input;
	if (multi && V4L2_TYPE_IS_MULTIPLANAR(out_type) && cg_v4l2_has_format(fd, out_type, multi))
		return multi;
	return 0;
}

/* Node discovery: a mem2mem node that encodes input into codec. */
static bool m2m_node_fits(int fd, uint32_t codec, uint32_t input, uint32_t *cap_type)
{
	struct v4l2_capability vc;
	uint32_t caps, out_type;

	if (cg_v4l2_querycap(fd, &vc, &caps) < 0 ||
	    cg_v4l2_kind(caps, cap_type) != CG_V4L2_KIND_M2M)
		return false;
	out_type = V4L2_TYPE_IS_MULTIPLANAR(*cap_type) ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
						       : V4L2_BUF_TYPE_VIDEO_OUTPUT;
	if (!cg_v4l2_has_format(fd, *cap_type, codec))
		return false;
	return !input || m2m_out_fourcc(fd, out_type, input);
}

int cg_v4l2_m2m_find(uint32_t codec, uint32_t input_fourcc, char *path, size_t size)
{
	char *nodes[CG_V4L2_MAX_DEVICES];
	int n = cg_v4l2_list_nodes_in("/dev", cg_v4l2_jetson_encoder_nodes, nodes,
				      CG_V4L2_MAX_DEVICES),
	    r = -ENODEV;
	uint32_t type;

	for (int i = 0; i < n; i++) {
		int fd = r < 0 ? cg_v4l2_open(nodes[i]) : -1;

		if (fd >= 0 && m2m_node_fits(fd, codec, input_fourcc, &type)) {
			snprintf(path, size, "%s", nodes[i]);
			r = 0;
		}
		cg_v4l2_close(fd);
		free(nodes[i]);
	}
	return r;
}

/* Sets a control if the driver has it, clamped to its range. Returns 0 or -errno. */
static int m2m_ctrl(struct cg_encoder *enc, uint32_t id, int32_t val, const char *name)
{
	struct v4l2_queryctrl qc = { .id = id };
	struct v4l2_control c = { .id = id, .value = val };
	int r;

	r = cg_v4l2_ioctl(enc->fd, VIDIOC_QUERYCTRL, &qc);
	if (r < 0 || (qc.flags & V4L2_CTRL_FLAG_DISABLED)) {
		cg_debug("%s: no %s control", enc->path, name);
		return -ENOTSUP;
	}
	if (qc.type == V4L2_CTRL_TYPE_INTEGER)
		c.value = CG_MAX(qc.minimum, CG_MIN(qc.maximum, val));
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_S_CTRL, &c);
	if (r < 0)
		cg_debug("%s: %s = %d refused: %s", enc->path, name, c.value, strerror(-r));
	return r;
}

/* V4L2 level enum from level_idc (V4L2_MPEG_VIDEO_H264_LEVEL_1_0 = 0, then 1b, 1.1, …). */
static int32_t m2m_v4l2_level(int idc)
{
	static const int idcs[] = { 10, 9, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51 };

	for (unsigned i = 0; i < CG_ARRAY_SIZE(idcs); i++)
		if (idcs[i] == idc)
			return (int32_t)i;
	return V4L2_MPEG_VIDEO_H264_LEVEL_4_0;
}

/*
 * Sets the profile and says which one the stream will have until its first SPS tells:
 * Constrained Baseline (constraint_set0 + 1) when the driver takes it; plain Baseline,
 * without constraint flags, when it only takes Baseline, since nothing then promises the
 * constraints; Main when asked. A driver without the control keeps its own default, which
 * the SPS will tell; CB, what was asked, is declared meanwhile.
 */
static void m2m_h264_profile(struct cg_encoder *enc)
{
	bool main = enc->cfg.profile == CG_ENCODER_PROFILE_MAIN;

	enc->profile_idc = main ? 77 : 66;
	enc->constraints = main ? 0x00 : 0xc0;
	if (main) {
		m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_MPEG_VIDEO_H264_PROFILE_MAIN,
			 "profile");
		return;
	}
	if (m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_PROFILE,
		     V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE, "profile") == 0)
		return;
	if (m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE,
		     "profile") == 0) {
		enc->constraints = 0x00;
		cg_info("%s: no Constrained Baseline, Baseline instead; the stream's SPS will say "
			"which constraint flags it sets",
			enc->path);
	}
}

static void m2m_h264_controls(struct cg_encoder *enc)
{
	const struct cg_encoder_cfg *cfg = &enc->cfg;
	int level = cg_h264util_level(cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps);

	enc->level_idc = (uint8_t)(level < 0 ? 40 : level);
	m2m_h264_profile(enc);
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_LEVEL, m2m_v4l2_level(enc->level_idc), "level");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, (int32_t)cfg->keyframe_interval,
		 "IDR period");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_B_FRAMES, 0, "B-frames");
	/* A viewer joining at any IDR needs SPS/PPS right there. */
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 1, "repeat headers");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_PREPEND_SPSPPS_TO_IDR, 1, "SPS/PPS before IDR");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_HEADER_MODE,
		 V4L2_MPEG_VIDEO_HEADER_MODE_JOINED_WITH_1ST_FRAME, "header mode");
}

static void m2m_controls(struct cg_encoder *enc)
{
	struct v4l2_queryctrl qc = { .id = V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME };
	const struct cg_encoder_cfg *cfg = &enc->cfg;
	struct v4l2_streamparm parm = { .type = enc->out_type };

	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE_MODE, V4L2_MPEG_VIDEO_BITRATE_MODE_CBR,
		 "bitrate mode");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE, (int32_t)(cfg->bitrate_kbps * 1000), "bitrate");
	m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_GOP_SIZE, (int32_t)cfg->keyframe_interval, "GOP size");
	if (enc->codec == V4L2_PIX_FMT_H264)
		m2m_h264_controls(enc);
	enc->kf_ctrl = cg_v4l2_ioctl(enc->fd, VIDIOC_QUERYCTRL, &qc) == 0 &&
		       !(qc.flags & V4L2_CTRL_FLAG_DISABLED);
	/* Rate control needs the frame rate (dev-encoder.rst, Initialization step 3). */
	parm.parm.output.timeperframe.numerator = 1;
	parm.parm.output.timeperframe.denominator = cfg->fps;
	cg_v4l2_ioctl(enc->fd, VIDIOC_S_PARM, &parm);
}

/* Lists what the OUTPUT queue takes, for the error that says why we cannot feed it. */
static void m2m_log_inputs(struct cg_encoder *enc, uint32_t wanted)
{
	struct v4l2_fmtdesc d = { .type = enc->out_type };
	char list[128] = "", fcc[5];
	size_t at = 0;

	for (d.index = 0; cg_v4l2_ioctl(enc->fd, VIDIOC_ENUM_FMT, &d) == 0 && at < 120; d.index++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, " %s",
				       cg_v4l2_fourcc_str(d.pixelformat, fcc));
	cg_info("%s takes%s, not %s: convert first (or pick another camera format)", enc->path,
		list, cg_v4l2_fourcc_str(wanted, fcc));
}

/* The OUTPUT format asked for: the camera's line length, each plane's for NV12M/YUV420M. */
static void m2m_out_pix(uint32_t fourcc, const struct cg_encoder_cfg *cfg, struct cg_v4l2_pix *pix)
{
	uint32_t s = cfg->input_stride;

	*pix = (struct cg_v4l2_pix){ fourcc, cfg->width, cfg->height, s, 0 };
	if (fourcc == V4L2_PIX_FMT_NV12M)
		*pix = (struct cg_v4l2_pix){ fourcc, cfg->width, cfg->height, s, 0, 2, { s, s } };
	if (fourcc == V4L2_PIX_FMT_YUV420M)
		*pix = (struct cg_v4l2_pix){ fourcc, cfg->width, cfg->height,	     s,
					     0,	     3,		 { s, s / 2, s / 2 } };
}

/*
 * Where each plane of a picture goes: at offsets of one buffer, or with a buffer per plane
 * (NV12M, YUV420M) at each buffer's start with that plane's line length. Returns 0 or
 * -ENOTSUP (a layout we cannot fill).
 */
static int m2m_out_layout(struct cg_encoder *enc, uint32_t input)
{
	const struct cg_v4l2_pix *px = &enc->out_pix;
	int r = cg_v4l2_layout(input, px->width, px->height, px->bpl, &enc->out_layout);

	enc->out_planes = px->fourcc == input ? 1 : px->n_planes;
	if (r < 0 || enc->out_planes == 1)
		return r;
	if (enc->out_planes != enc->out_layout.n_planes)
		return -ENOTSUP;
	for (unsigned p = 0; p < enc->out_planes; p++) {
		enc->out_layout.offset[p] = 0;
		enc->out_layout.stride[p] = px->plane_bpl[p];
		/* The camera's planes must have the encoder's line lengths to be imported. */
		enc->stride_ok =
			enc->stride_ok && (!enc->cfg.input_stride ||
					   px->plane_bpl[p] == (p && input == V4L2_PIX_FMT_YUV420
									? enc->cfg.input_stride / 2
									: enc->cfg.input_stride));
	}
	return 0;
}

/*
 * dev-encoder.rst Initialization step 6: the visible rectangle of a source the driver padded
 * (bcm2835-codec takes 1920x1080 as 1920x1088, Qualcomm's venus aligns to 32) is the
 * OUTPUT crop. A driver that cannot crop to it is used only if its crop already is that size;
 * otherwise the padding rows would be encoded as picture.
 */
static int m2m_crop(struct cg_encoder *enc)
{
	struct v4l2_selection sel = {
		.type = V4L2_BUF_TYPE_VIDEO_OUTPUT, /* the API's type also for MPLANE queues */
		.target = V4L2_SEL_TGT_CROP,
		.r = { 0, 0, enc->cfg.width, enc->cfg.height },
	};
	int r = cg_v4l2_ioctl(enc->fd, VIDIOC_S_SELECTION, &sel);

	if (r < 0)
		r = cg_v4l2_ioctl(enc->fd, VIDIOC_G_SELECTION, &sel);
	if (r == 0 && !sel.r.left && !sel.r.top && sel.r.width == enc->cfg.width &&
	    sel.r.height == enc->cfg.height)
		return 0;
	cg_info("%s pads %ux%u to %ux%u and cannot crop it back (%s): not used", enc->path,
		enc->cfg.width, enc->cfg.height, enc->out_pix.width, enc->out_pix.height,
		r < 0 ? strerror(-r) : "it keeps another rectangle");
	return -ENOTSUP;
}

/*
 * The OUTPUT format the driver chose must hold the camera's picture: the same size, or a
 * padded one (cg_v4l2_fmt_covers()) cropped back to the camera's.
 */
static int m2m_fit(struct cg_encoder *enc)
{
	int r = cg_v4l2_fmt_covers(&enc->out_pix, enc->cfg.width, enc->cfg.height);

	if (r < 0) {
		cg_info("%s cannot encode %ux%u (it offers %ux%u)", enc->path, enc->cfg.width,
			enc->cfg.height, enc->out_pix.width, enc->out_pix.height);
		return -ENOTSUP;
	}
	enc->padded = r > 0;
	return enc->padded ? m2m_crop(enc) : 0;
}

/* dev-encoder.rst Initialization: coded format on CAPTURE first, then the raw OUTPUT. */
static int m2m_formats(struct cg_encoder *enc)
{
	const struct cg_encoder_cfg *cfg = &enc->cfg;
	uint32_t input = cfg->input_fourcc ? cfg->input_fourcc : V4L2_PIX_FMT_YUV420;
	struct cg_v4l2_pix pix = { enc->codec, cfg->width, cfg->height, 0, 0 };
	uint32_t fourcc = m2m_out_fourcc(enc->fd, enc->out_type, input);
	struct v4l2_format f;
	int r;

	cg_v4l2_fmt_set(&f, enc->cap_type, &pix);
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_S_FMT, &f);
	cg_v4l2_fmt_get(&f, &pix);
	if (r < 0 || pix.fourcc != enc->codec)
		return r < 0 ? r : -ENOTSUP;
	if (!fourcc) {
		m2m_log_inputs(enc, input);
		return -ENOTSUP;
	}
	m2m_out_pix(fourcc, cfg, &pix);
	cg_v4l2_fmt_set(&f, enc->out_type, &pix);
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_S_FMT, &f);
	cg_v4l2_fmt_get(&f, &enc->out_pix);
	if (r < 0 || enc->out_pix.fourcc != fourcc) {
		m2m_log_inputs(enc, input);
		return r < 0 ? r : -ENOTSUP;
	}
	r = m2m_fit(enc);
	if (r < 0)
		return r;
	/* DMA-BUF import needs the camera's exact line length; otherwise we copy. */
	enc->stride_ok = !cfg->input_stride || enc->out_pix.bpl == cfg->input_stride;
	return m2m_out_layout(enc, input);
}

static int m2m_open_node(struct cg_encoder *enc)
{
	uint32_t input = enc->cfg.input_fourcc;
	int r;

	if (enc->cfg.device)
		snprintf(enc->path, sizeof(enc->path), "%s", enc->cfg.device);
	else if (cg_v4l2_m2m_find(enc->codec, input, enc->path, sizeof(enc->path)) < 0)
		return -ENODEV;
	enc->fd = cg_v4l2_open(enc->path);
	if (enc->fd < 0)
		return enc->fd == -ENOENT ? -ENODEV : enc->fd;
	if (!m2m_node_fits(enc->fd, enc->codec, 0, &enc->cap_type))
		return -ENODEV;
	enc->out_type = V4L2_TYPE_IS_MULTIPLANAR(enc->cap_type) ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
								: V4L2_BUF_TYPE_VIDEO_OUTPUT;
	r = m2m_formats(enc);
	if (r < 0)
		return r;
	m2m_controls(enc);
	return 0;
}

static void m2m_free_bufs(struct cg_encoder *enc)
{
	for (unsigned i = 0; i < M2M_OUT_BUFS; i++) {
		enc->out[i].frame = cg_frame_unref(enc->out[i].frame);
		for (unsigned p = 0; p < CG_V4L2_MAX_PLANES; p++)
			if (enc->out[i].map[p])
				v4l2_munmap(enc->out[i].map[p], enc->out[i].length[p]);
		enc->out[i] = (struct m2m_out){ 0 };
	}
	for (unsigned i = 0; i < M2M_CAP_BUFS; i++) {
		if (enc->cap[i].map)
			v4l2_munmap(enc->cap[i].map, enc->cap[i].length);
		enc->cap[i] = (struct m2m_cap){ 0 };
	}
}

static void m2m_free(struct cg_encoder *enc)
{
	m2m_free_bufs(enc);
	cg_au_writer_abort(&enc->aw);
	enc->pending = cg_frame_unref(enc->pending);
	cg_v4l2_close(enc->fd);
	free(enc);
}

static int m2m_open(const struct cg_encoder_cfg *cfg, struct cg_encoder **ret)
{
	struct cg_encoder *enc;
	char fcc[5], fcc2[5];
	int r;

	if (!cfg || !ret || !cfg->width || !cfg->height || !cfg->fps || !cfg->bitrate_kbps)
		return -EINVAL;
	enc = cg_new0(struct cg_encoder, 1);
	cg_au_writer_init(&enc->aw);
	enc->cfg = *cfg;
	enc->cfg.device = NULL; /* borrowed: the path is copied */
	enc->codec = cfg->codec ? cfg->codec : V4L2_PIX_FMT_H264;
	if (!enc->cfg.keyframe_interval)
		enc->cfg.keyframe_interval = cfg->fps * 2;
	enc->fd = -1;
	enc->cfg.device = cfg->device;
	r = m2m_open_node(enc);
	enc->cfg.device = NULL;
	if (r < 0) {
		m2m_free(enc);
		return m2m_errno(r);
	}
	cg_debug("%s: %s %ux%u (in %ux%u, bpl %u) -> %s, %u kb/s, GOP %u, %s", enc->path,
		 cg_v4l2_fourcc_str(enc->out_pix.fourcc, fcc), cfg->width, cfg->height,
		 enc->out_pix.width, enc->out_pix.height, enc->out_pix.bpl,
		 cg_v4l2_fourcc_str(enc->codec, fcc2), cfg->bitrate_kbps,
		 enc->cfg.keyframe_interval,
		 enc->kf_ctrl ? "FORCE_KEY_FRAME" : "keyframes by reset");
	*ret = enc;
	return 0;
}

static int m2m_reqbufs(struct cg_encoder *enc, uint32_t type, uint32_t memory, unsigned count,
		       unsigned *got)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = type, .memory = memory };
	int r = cg_v4l2_ioctl(enc->fd, VIDIOC_REQBUFS, &rb);

	if (r < 0)
		return r;
	if (count && rb.count < 1)
		return -ENOMEM;
	*got = CG_MIN(rb.count, count);
	return 0;
}

/* Maps the n planes of MMAP buffer i into map[] (their lengths into length[]). */
static int m2m_map_planes(struct cg_encoder *enc, uint32_t type, unsigned i, unsigned n, void **map,
			  uint32_t *length)
{
	struct cg_v4l2_buf vb;
	int r;

	cg_v4l2_buf_init(&vb, type, V4L2_MEMORY_MMAP, i);
	cg_v4l2_buf_set_planes(&vb, n);
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_QUERYBUF, &vb.b);
	for (unsigned p = 0; r >= 0 && p < n; p++) {
		bool mp = V4L2_TYPE_IS_MULTIPLANAR(type);
		void *m;

		length[p] = mp ? vb.planes[p].length : vb.b.length;
		m = v4l2_mmap(NULL, length[p], PROT_READ | PROT_WRITE, MAP_SHARED, enc->fd,
			      mp ? vb.planes[p].m.mem_offset : vb.b.m.offset);
		map[p] = m == MAP_FAILED ? NULL : m;
		r = map[p] ? 0 : -ENOMEM;
	}
	return r;
}

static void *m2m_map(struct cg_encoder *enc, uint32_t type, unsigned i, uint32_t *length)
{
	void *map = NULL;

	return m2m_map_planes(enc, type, i, 1, &map, length) < 0 ? NULL : map;
}

static int m2m_queue_cap(struct cg_encoder *enc, unsigned i)
{
	struct cg_v4l2_buf vb;

	cg_v4l2_buf_init(&vb, enc->cap_type, V4L2_MEMORY_MMAP, i);
	return m2m_errno(cg_v4l2_ioctl(enc->fd, VIDIOC_QBUF, &vb.b));
}

static int m2m_streamon(struct cg_encoder *enc, uint32_t type)
{
	int t = (int)type;

	return m2m_errno(cg_v4l2_ioctl(enc->fd, VIDIOC_STREAMON, &t));
}

/* CAPTURE buffers: mapped, all queued, streaming. */
static int m2m_start_capture(struct cg_encoder *enc)
{
	int r = m2m_reqbufs(enc, enc->cap_type, V4L2_MEMORY_MMAP, M2M_CAP_BUFS, &enc->n_cap);

	for (unsigned i = 0; r >= 0 && i < enc->n_cap; i++) {
		enc->cap[i].map = m2m_map(enc, enc->cap_type, i, &enc->cap[i].length);
		r = enc->cap[i].map ? m2m_queue_cap(enc, i) : -ENOMEM;
	}
	return r < 0 ? r : m2m_streamon(enc, enc->cap_type);
}

/* The frame's buffer can be imported as it is: its line lengths, room for every plane. */
static bool m2m_frame_importable(const struct cg_encoder *enc, const struct cg_frame *f)
{
	if (f->planes[0].dma_fd < 0 || !enc->stride_ok)
		return false;
	if (enc->out_planes == 1)
		return cg_v4l2_frame_fits(&enc->out_layout, enc->out_pix.sizeimage, f);
	for (unsigned p = 0; p < enc->out_planes; p++)
		if (p >= f->n_planes || f->planes[p].stride != enc->out_layout.stride[p] ||
		    (uint64_t)f->planes[p].offset + enc->out_pix.plane_size[p] > f->buf_size)
			return false;
	return true;
}

/*
 * OUTPUT buffers: imported DMA-BUFs when the frame can be, else MMAP buffers we copy into.
 * A driver that refuses DMA-BUF (REQBUFS fails) gets the copies, said once.
 */
static int m2m_out_bufs(struct cg_encoder *enc, bool dmabuf)
{
	int r = -EINVAL;

	if (dmabuf && !enc->dmabuf_refused) {
		r = m2m_reqbufs(enc, enc->out_type, V4L2_MEMORY_DMABUF, M2M_OUT_BUFS, &enc->n_out);
		if (r < 0) {
			enc->dmabuf_refused = true;
			cg_info("%s imports no DMA-BUF (%s): frames are copied into its own "
				"buffers",
				enc->path, strerror(-r));
		}
	}
	enc->out_memory = r >= 0 ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
	if (r >= 0)
		return 0;
	r = m2m_reqbufs(enc, enc->out_type, V4L2_MEMORY_MMAP, M2M_OUT_BUFS, &enc->n_out);
	for (unsigned i = 0; r >= 0 && i < enc->n_out; i++)
		r = m2m_map_planes(enc, enc->out_type, i, enc->out_planes, enc->out[i].map,
				   enc->out[i].length);
	return r;
}

/* Buffers are made for the first frame, whose kind (DMA-BUF or CPU) picks the memory. */
static int m2m_start(struct cg_encoder *enc, const struct cg_frame *f)
{
	bool dmabuf = m2m_frame_importable(enc, f);
	int r;

	r = m2m_out_bufs(enc, dmabuf);
	dmabuf = enc->out_memory == V4L2_MEMORY_DMABUF;
	if (r >= 0)
		r = m2m_start_capture(enc);
	if (r >= 0)
		r = m2m_streamon(enc, enc->out_type);
	if (r < 0)
		return r;
	if (!dmabuf && !enc->dmabuf_refused)
		cg_info("%s: frames are copied into the encoder (%s)", enc->path,
			f->planes[0].dma_fd < 0 ? "no DMA-BUF"
						: "its planes are not laid out as the encoder's");
	enc->state = M2M_ENCODING;
	return 0;
}

/*
 * Copies a CPU frame into an MMAP OUTPUT buffer (maps: one, or one per plane), line by line
 * at the encoder's strides.
 */
static uint32_t m2m_copy_in(struct cg_encoder *enc, const struct cg_frame *f, void *const *maps)
{
	const struct cg_v4l2_layout *l = &enc->out_layout;
	uint32_t copied = 0;

	for (unsigned p = 0; p < l->n_planes && p < f->n_planes; p++) {
		uint32_t rows = p ? f->height / 2 : f->height; /* 4:2:0 chroma planes */
		uint32_t n = CG_MIN(l->stride[p], f->planes[p].stride);
		uint8_t *dst = maps[enc->out_planes > 1 ? p : 0];

		for (uint32_t y = 0; y < rows; y++)
			memcpy(dst + l->offset[p] + (size_t)y * l->stride[p],
			       f->planes[p].data + (size_t)y * f->planes[p].stride, n);
		copied += rows * n;
	}
	return copied;
}

static void m2m_meta_add(struct cg_encoder *enc, const struct cg_frame *f)
{
	enc->meta[enc->meta_next++ % M2M_META] =
		(struct m2m_meta){ f->capture_mono_usec, f->capture_wall_usec, f->sequence };
}

/*
 * A buffer per plane: MMAP planes are full; an imported frame gives each plane the same
 * DMA-BUF with the plane's offset as data_offset (bytesused counts from the buffer's start).
 */
static void m2m_set_planes(struct cg_encoder *enc, const struct cg_frame *f, struct cg_v4l2_buf *vb)
{
	cg_v4l2_buf_set_planes(vb, enc->out_planes);
	for (unsigned p = 0; p < enc->out_planes; p++) {
		struct v4l2_plane *pl = &vb->planes[p];

		pl->bytesused = enc->out_pix.plane_size[p];
		if (enc->out_memory != V4L2_MEMORY_DMABUF)
			continue;
		pl->m.fd = f->planes[0].dma_fd;
		pl->length = f->buf_size;
		pl->data_offset = f->planes[p].offset;
		pl->bytesused += f->planes[p].offset;
	}
}

static int m2m_queue_out(struct cg_encoder *enc, struct cg_frame *f)
{
	struct cg_v4l2_buf vb;
	unsigned i;
	int r;

	for (i = 0; i < enc->n_out && enc->out[i].queued; i++)
		;
	if (i == enc->n_out)
		return -EBUSY;
	cg_v4l2_buf_init(&vb, enc->out_type, enc->out_memory, i);
	if (enc->out_planes > 1)
		m2m_set_planes(enc, f, &vb);
	else if (enc->out_memory == V4L2_MEMORY_DMABUF)
		cg_v4l2_buf_set_dmabuf(&vb, f->planes[0].dma_fd, f->buf_size,
				       CG_MAX(f->bytesused, enc->out_pix.sizeimage));
	if (enc->out_memory == V4L2_MEMORY_MMAP) {
		enc->copied += m2m_copy_in(enc, f, enc->out[i].map);
		if (enc->out_planes == 1 && V4L2_TYPE_IS_MULTIPLANAR(enc->out_type))
			vb.plane.bytesused = enc->out_pix.sizeimage;
		else if (enc->out_planes == 1)
			vb.b.bytesused = enc->out_pix.sizeimage;
	}
	/* The CAPTURE buffer carries this timestamp back (V4L2_BUF_FLAG_TIMESTAMP_COPY). */
	vb.b.timestamp.tv_sec = (time_t)(f->capture_mono_usec / CG_USEC_PER_SEC);
	vb.b.timestamp.tv_usec = (suseconds_t)(f->capture_mono_usec % CG_USEC_PER_SEC);
	if (enc->want_key && enc->kf_ctrl) {
		m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, 1, "force key frame");
		enc->want_key = false;
	}
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_QBUF, &vb.b);
	if (r < 0)
		return m2m_errno(r);
	m2m_meta_add(enc, f);
	enc->out[i].queued = true;
	if (enc->out_memory == V4L2_MEMORY_DMABUF)
		enc->out[i].frame = cg_frame_ref(f);
	return 0;
}

static unsigned m2m_in_flight(const struct cg_encoder *enc)
{
	unsigned n = 0;

	for (unsigned i = 0; i < enc->n_out; i++)
		n += enc->out[i].queued;
	return n;
}

/* Queues the waiting frame if the encoder has room and is not draining. */
static int m2m_feed(struct cg_encoder *enc)
{
	struct cg_frame *f = enc->pending;
	int r;

	if (!f || enc->state != M2M_ENCODING || m2m_in_flight(enc) > 0)
		return 0;
	enc->pending = NULL;
	r = m2m_queue_out(enc, f);
	cg_frame_unref(f);
	return r;
}

static int m2m_check_frame(const struct cg_encoder *enc, const struct cg_frame *f)
{
	if (!f || f->fourcc != cg_v4l2_single_buffer_fourcc(enc->out_pix.fourcc) ||
	    f->width != enc->cfg.width || f->height != enc->cfg.height || !f->n_planes)
		return -EINVAL;
	if (f->planes[0].dma_fd < 0 && !f->planes[0].data)
		return -EINVAL;
	return 0;
}

static int m2m_encode(struct cg_encoder *enc, struct cg_frame *frame, struct cg_au **ret)
{
	int r = m2m_check_frame(enc, frame);

	if (r < 0)
		return r;
	if (enc->state == M2M_IDLE) {
		r = m2m_start(enc, frame);
		if (r < 0)
			return r;
	}
	/* The newest frame wins: it replaces one still waiting. */
	cg_frame_unref(enc->pending);
	enc->pending = cg_frame_ref(frame);
	r = m2m_feed(enc);
	return r < 0 ? r : -EAGAIN;
}

/* Takes back OUTPUT buffers the encoder is done with, releasing their frames. */
static int m2m_reclaim_out(struct cg_encoder *enc)
{
	struct cg_v4l2_buf vb;
	int r;

	for (;;) {
		cg_v4l2_buf_init(&vb, enc->out_type, enc->out_memory, 0);
		cg_v4l2_buf_set_planes(&vb, enc->out_planes);
		r = cg_v4l2_ioctl(enc->fd, VIDIOC_DQBUF, &vb.b);
		if (r == -EAGAIN || r == -EPIPE)
			return 0;
		if (r < 0)
			return m2m_errno(r);
		if (vb.b.index < enc->n_out) {
			enc->out[vb.b.index].queued = false;
			enc->out[vb.b.index].frame = cg_frame_unref(enc->out[vb.b.index].frame);
		}
	}
}

static void m2m_stamp(struct cg_encoder *enc, struct cg_au *au, const struct v4l2_buffer *b)
{
	uint64_t ts =
		(uint64_t)b->timestamp.tv_sec * CG_USEC_PER_SEC + (uint64_t)b->timestamp.tv_usec;

	for (unsigned i = 0; i < M2M_META; i++) {
		const struct m2m_meta *m = &enc->meta[i];

		if (m->ts == ts && ts) {
			au->capture_mono_usec = m->ts;
			au->capture_wall_usec = m->wall;
			au->frame_sequence = m->seq;
			return;
		}
	}
	au->capture_mono_usec = ts ? ts : cg_mono_usec();
	au->capture_wall_usec = cg_wall_usec() - (cg_mono_usec() - au->capture_mono_usec);
}

/*
 * H.264, through the AU writer: 4-byte start codes, SPS/PPS in front of an IDR that came
 * without them, and a buffer of headers alone (HEADER_MODE_SEPARATE) kept for the next IDR
 * rather than sent (NULL). A buffer that is no H.264 is dropped (NULL) too.
 */
static struct cg_au *m2m_h264_au(struct cg_encoder *enc, const uint8_t *p, size_t n)
{
	struct cg_au *au = NULL;
	uint8_t prof[3];
	int r;

	cg_au_writer_begin(&enc->aw, n);
	r = cg_au_writer_append_annexb(&enc->aw, p, n);
	if (r < 0) {
		cg_au_writer_abort(&enc->aw);
		cg_debug("%s: a CAPTURE buffer of %zu bytes is no H.264: %s", enc->path, n,
			 strerror(-r));
		return NULL;
	}
	/* get_profile() says what the stream is, once it has said it (the driver may have
	 * clamped the level or ignored the profile). */
	if (cg_au_writer_profile(&enc->aw, prof) == 0) {
		enc->profile_idc = prof[0];
		enc->constraints = prof[1];
		enc->level_idc = prof[2];
	}
	return cg_au_writer_finish(&enc->aw, &au) == 0 ? au : NULL;
}

/*
 * vicodec's encoder flags key frames only in the FWHT header (struct fwht_cframe_hdr:
 * big-endian flags at byte 20, V4L2_FWHT_FL_I_FRAME), not with V4L2_BUF_FLAG_KEYFRAME.
 */
static bool m2m_fwht_key(const struct cg_encoder *enc, const uint8_t *p, size_t n)
{
	uint32_t flags;

	if (enc->codec != V4L2_PIX_FMT_FWHT || n < 24)
		return false;
	flags = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
	return flags & V4L2_FWHT_FL_I_FRAME;
}

static struct cg_au *m2m_make_au(struct cg_encoder *enc, const struct cg_v4l2_buf *vb)
{
	const uint8_t *p = enc->cap[vb->b.index].map;
	size_t n = CG_MIN(cg_v4l2_buf_bytesused(vb), enc->cap[vb->b.index].length);
	struct cg_au *au;

	if (V4L2_TYPE_IS_MULTIPLANAR(vb->b.type))
		p += CG_MIN(vb->plane.data_offset, n);
	if (!n)
		return NULL;
	if (enc->codec == V4L2_PIX_FMT_H264) {
		au = m2m_h264_au(enc, p, n);
		if (!au)
			return NULL;
	} else { /* other codecs (tests): the buffer as it is, key frames by its flag */
		au = cg_au_new(n);
		memcpy(au->data, p, n);
		au->len = n;
		au->keyframe = (vb->b.flags & V4L2_BUF_FLAG_KEYFRAME) || m2m_fwht_key(enc, p, n);
	}
	m2m_stamp(enc, au, &vb->b);
	au->encode_usec = cg_mono_usec() - au->capture_mono_usec;
	au->copied_bytes = enc->copied;
	enc->copied = 0;
	return au;
}

/*
 * dev-encoder.rst Reset: after the drain's LAST buffer, STREAMOFF/STREAMON on CAPTURE
 * restarts a standalone stream (a key frame) from the next OUTPUT buffer.
 */
static int m2m_reset_capture(struct cg_encoder *enc)
{
	int t = (int)enc->cap_type, r;

	r = m2m_errno(cg_v4l2_ioctl(enc->fd, VIDIOC_STREAMOFF, &t));
	for (unsigned i = 0; r >= 0 && i < enc->n_cap; i++)
		r = m2m_queue_cap(enc, i);
	if (r >= 0)
		r = m2m_streamon(enc, enc->cap_type);
	if (r >= 0)
		enc->state = M2M_ENCODING;
	cg_debug("%s: stream restarted for a key frame", enc->path);
	return r;
}

/* One done CAPTURE buffer as an AU (NULL when it held none), the buffer requeued. */
static int m2m_dq_capture(struct cg_encoder *enc, struct cg_au **ret)
{
	struct cg_v4l2_buf vb;
	int r;

	*ret = NULL;
	cg_v4l2_buf_init(&vb, enc->cap_type, V4L2_MEMORY_MMAP, 0);
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_DQBUF, &vb.b);
	if (r == -EPIPE && enc->state == M2M_DRAINING) /* LAST already dequeued */
		return m2m_reset_capture(enc);
	if (r < 0)
		return m2m_errno(r);
	if (vb.b.index >= enc->n_cap)
		return -EIO;
	if (!(vb.b.flags & V4L2_BUF_FLAG_ERROR))
		*ret = m2m_make_au(enc, &vb);
	if (vb.b.flags & V4L2_BUF_FLAG_LAST && enc->state == M2M_DRAINING)
		return m2m_reset_capture(enc);
	return m2m_queue_cap(enc, vb.b.index);
}

static int m2m_receive(struct cg_encoder *enc, struct cg_au **ret)
{
	struct cg_au *au = NULL;
	int r;

	if (enc->state == M2M_IDLE)
		return -EAGAIN;
	r = m2m_reclaim_out(enc);
	if (r >= 0)
		r = m2m_dq_capture(enc, &au);
	if (r >= 0 || r == -EAGAIN) {
		int f = m2m_feed(enc);

		r = f < 0 ? f : r;
	}
	if (r < 0 && r != -EAGAIN) {
		cg_au_unref(au);
		return r;
	}
	if (!au)
		return -EAGAIN;
	*ret = au;
	return 0;
}

static int m2m_fd(struct cg_encoder *enc)
{
	return enc->fd;
}

static void m2m_request_keyframe(struct cg_encoder *enc)
{
	struct v4l2_encoder_cmd cmd = { .cmd = V4L2_ENC_CMD_STOP };
	int r;

	if (enc->kf_ctrl || enc->state != M2M_ENCODING) {
		enc->want_key = true; /* IDLE: the first frame is a key frame anyway */
		return;
	}
	r = cg_v4l2_ioctl(enc->fd, VIDIOC_ENCODER_CMD, &cmd);
	if (r < 0)
		cg_debug("%s: cannot drain for a key frame: %s", enc->path, strerror(-r));
	else
		enc->state = M2M_DRAINING;
}

static int m2m_set_bitrate(struct cg_encoder *enc, uint32_t kbps)
{
	int r;

	if (!kbps)
		return -EINVAL;
	r = m2m_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE, (int32_t)(kbps * 1000), "bitrate");
	if (r < 0)
		return -ENOTSUP;
	enc->cfg.bitrate_kbps = kbps;
	return 0;
}

static void m2m_get_profile(struct cg_encoder *enc, uint8_t *profile_idc, uint8_t *constraints,
			    uint8_t *level_idc)
{
	if (profile_idc)
		*profile_idc = enc->profile_idc;
	if (constraints)
		*constraints = enc->constraints;
	if (level_idc)
		*level_idc = enc->level_idc;
}

/* dev-encoder.rst Drain: V4L2_ENC_CMD_STOP, then CAPTURE buffers until one flagged LAST. */
static void m2m_drain(struct cg_encoder *enc)
{
	struct v4l2_encoder_cmd cmd = { .cmd = V4L2_ENC_CMD_STOP };
	struct pollfd p = { .fd = enc->fd, .events = POLLIN };
	uint64_t deadline = cg_mono_usec() + M2M_DRAIN_MS * CG_USEC_PER_MSEC;
	struct cg_v4l2_buf vb;
	int r;

	if (enc->state != M2M_ENCODING || cg_v4l2_ioctl(enc->fd, VIDIOC_ENCODER_CMD, &cmd) < 0)
		return;
	for (;;) {
		uint64_t now = cg_mono_usec();

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000) + 1) <= 0)
			break;
		cg_v4l2_buf_init(&vb, enc->cap_type, V4L2_MEMORY_MMAP, 0);
		r = cg_v4l2_ioctl(enc->fd, VIDIOC_DQBUF, &vb.b);
		if ((r < 0 && r != -EAGAIN) || (r == 0 && (vb.b.flags & V4L2_BUF_FLAG_LAST)))
			break;
	}
}

static void m2m_close(struct cg_encoder *enc)
{
	int t;

	if (!enc)
		return;
	m2m_drain(enc);
	if (enc->state != M2M_IDLE) {
		t = (int)enc->out_type;
		cg_v4l2_ioctl(enc->fd, VIDIOC_STREAMOFF, &t);
		t = (int)enc->cap_type;
		cg_v4l2_ioctl(enc->fd, VIDIOC_STREAMOFF, &t);
	}
	m2m_free(enc);
}

const struct cg_encoder_ops cg_v4l2_m2m_encoder_ops = {
	.version = 1,
	.name = "v4l2-m2m",
	.open = m2m_open,
	.encode = m2m_encode,
	.request_keyframe = m2m_request_keyframe,
	.set_bitrate = m2m_set_bitrate,
	.get_profile = m2m_get_profile,
	.close = m2m_close,
	.fd = m2m_fd,
	.receive = m2m_receive,
};
