// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vh264enc: a virtual V4L2 stateful H.264 encoder for camgate's vdev tests
 * (Documentation/userspace-api/media/v4l/dev-encoder.rst), on the v4l2-mem2mem framework.
 *
 * It looks to userspace like a board's encoder (the Raspberry Pi's bcm2835-codec was the
 * model for the interface; nothing is taken from its code): the multi-planar API, raw
 * pictures on OUTPUT (NV12, YU12, YUYV with bytesperline aligned to 32), H.264 on CAPTURE,
 * the controls an application sets (bitrate and its mode, profile, level, IDR period,
 * repeat sequence header, force key frame), drain with V4L2_ENC_CMD_STOP ending in a buffer
 * flagged LAST and V4L2_EVENT_EOS. OUTPUT buffers may be imported DMA-BUFs (vb2-vmalloc
 * maps them, as vim2m does).
 *
 * The bitstream comes from vh264-core.c: real Constrained Baseline H.264 that decodes to
 * exactly the input (I_PCM and P_Skip macroblocks), so a test can compare pictures.
 *
 * Module parameters pick a personality at load time:
 *   multiplanar_formats=1  OUTPUT takes NV12M and YUV420M (a buffer per plane, as Jetson's
 *                          and Qualcomm's encoders want) instead of NV12/YU12/YUYV;
 *   dmabuf=0               OUTPUT refuses V4L2_MEMORY_DMABUF (MMAP only);
 *   align_height=N         the OUTPUT height is rounded up to a multiple of N, as the Pi's
 *                          bcm2835-codec (16: 1080 -> 1088) and Qualcomm's venus (32) do;
 *                          the picture is the OUTPUT crop (VIDIOC_S_SELECTION,
 *                          V4L2_SEL_TGT_CROP), which starts as the whole padded size, so
 *                          an application that does not set it gets the padding encoded;
 * and read-only ones tell a test what the driver received and did, since controls belong
 * to the application's file handle: bitrate, i_period, level_idc, profile,
 * repeat_seq_header, crop_width, crop_height (the last values set), frames, idr_frames,
 * forced_key_frames, dmabuf_frames (OUTPUT buffers that were imported DMA-BUFs), drains.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/workqueue.h>

#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include <media/v4l2-mem2mem.h>
#include <media/videobuf2-vmalloc.h>

#include "vh264-core.h"

MODULE_DESCRIPTION("Virtual V4L2 stateful H.264 encoder (lossless I_PCM/P_Skip) for tests");
MODULE_LICENSE("GPL");

#define VH_NAME	      "vh264enc"
#define VH_MIN_SIZE   32
#define VH_BPL_ALIGN  32
#define VH_MAX_PLANES 3

static bool multiplanar_formats;
module_param(multiplanar_formats, bool, 0444);
MODULE_PARM_DESC(multiplanar_formats, "OUTPUT takes NV12M/YUV420M instead of NV12/YU12/YUYV");
static bool dmabuf = true;
module_param(dmabuf, bool, 0444);
MODULE_PARM_DESC(dmabuf, "OUTPUT imports DMA-BUF (0: MMAP only)");
static unsigned int align_height;
module_param(align_height, uint, 0444);
MODULE_PARM_DESC(align_height, "OUTPUT height rounded up to this (0: none); crop for the picture");

/* What the driver received and did, for tests (read-only in /sys/module/vh264enc/). */
static int bitrate, i_period, level_idc, profile = -1, repeat_seq_header;
static unsigned int frames, idr_frames, forced_key_frames, dmabuf_frames, drains;
static unsigned int crop_width, crop_height;
module_param(bitrate, int, 0444);
module_param(i_period, int, 0444);
module_param(level_idc, int, 0444);
module_param(profile, int, 0444);
module_param(repeat_seq_header, int, 0444);
module_param(frames, uint, 0444);
module_param(idr_frames, uint, 0444);
module_param(forced_key_frames, uint, 0444);
module_param(dmabuf_frames, uint, 0444);
module_param(drains, uint, 0444);
module_param(crop_width, uint, 0444);
module_param(crop_height, uint, 0444);

struct vh_fmt {
	u32 fourcc;
	u8 n_planes;   /* memory planes (buffers) */
	u8 components; /* 2: Y + CbCr, 3: Y, Cb, Cr; 1: packed YUYV */
	enum vh264_input in;
};

static const struct vh_fmt vh_single_fmts[] = {
	{ V4L2_PIX_FMT_NV12, 1, 2, VH264_IN_NV12 },
	{ V4L2_PIX_FMT_YUV420, 1, 3, VH264_IN_I420 },
	{ V4L2_PIX_FMT_YUYV, 1, 1, VH264_IN_YUYV },
};

static const struct vh_fmt vh_multi_fmts[] = {
	{ V4L2_PIX_FMT_NV12M, 2, 2, VH264_IN_NV12 },
	{ V4L2_PIX_FMT_YUV420M, 3, 3, VH264_IN_I420 },
};

struct vh_dev {
	struct v4l2_device v4l2_dev;
	struct video_device vfd;
	struct mutex dev_mutex;
	struct v4l2_m2m_dev *m2m_dev;
	struct workqueue_struct *wq;
};

struct vh_ctx {
	struct v4l2_fh fh;
	struct vh_dev *dev;
	struct v4l2_ctrl_handler hdl;
	struct v4l2_ctrl *repeat_ctrl, *period_ctrl, *level_ctrl;
	struct mutex vb_mutex;
	struct work_struct work;
	/* OUTPUT format */
	const struct vh_fmt *fmt;
	u32 width, height;
	u32 bpl[VH_MAX_PLANES], plane_size[VH_MAX_PLANES]; /* per memory plane */
	u32 sizeimage;					   /* of the picture, all planes */
	u32 cap_size;
	u32 crop_w, crop_h; /* the picture: top left of the OUTPUT format, which may be padded */
	u32 out_seq, cap_seq;
	/* encoder */
	struct vh264_enc enc;
	u8 *pics; /* the core's two pictures */
	bool force_key, headers_sent;
	u32 since_idr;
	enum v4l2_colorspace colorspace;
};

static const struct v4l2_event vh_eos_event = { .type = V4L2_EVENT_EOS };

static struct vh_ctx *file2ctx(struct file *file)
{
	return container_of(file->private_data, struct vh_ctx, fh);
}

static const struct vh_fmt *vh_fmts(unsigned int *n)
{
	*n = multiplanar_formats ? ARRAY_SIZE(vh_multi_fmts) : ARRAY_SIZE(vh_single_fmts);
	return multiplanar_formats ? vh_multi_fmts : vh_single_fmts;
}

static const struct vh_fmt *vh_find_fmt(u32 fourcc)
{
	unsigned int n, i;
	const struct vh_fmt *f = vh_fmts(&n);

	for (i = 0; i < n; i++)
		if (f[i].fourcc == fourcc)
			return &f[i];
	return NULL;
}

/*
 * The raw layout: bytesperline of the luma (or YUYV) plane aligned to 32 as the Pi does,
 * chroma at half of it; single-buffer formats hold their planes back to back
 * (pixfmt-yuv-planar.rst), multi-buffer ones one per buffer.
 */
static void vh_layout(const struct vh_fmt *f, u32 w, u32 h, u32 bpl_in, u32 *bpl, u32 *size,
		      u32 *total)
{
	u32 min = f->components == 1 ? 2 * w : w;
	u32 y = ALIGN(max(bpl_in, min), VH_BPL_ALIGN), luma = y * h;
	u32 chroma = f->components == 2 ? luma / 2 : luma / 4;

	memset(bpl, 0, sizeof(u32) * VH_MAX_PLANES);
	memset(size, 0, sizeof(u32) * VH_MAX_PLANES);
	bpl[0] = y;
	if (f->components == 1) {
		size[0] = luma;
	} else if (f->n_planes == 1) {
		size[0] = luma + (f->components == 2 ? chroma : 2 * chroma);
	} else {
		size[0] = luma;
		bpl[1] = f->components == 2 ? y : y / 2;
		size[1] = chroma;
		if (f->n_planes == 3) {
			bpl[2] = y / 2;
			size[2] = chroma;
		}
	}
	*total = size[0] + size[1] + size[2];
}

/* level_idc of a V4L2_MPEG_VIDEO_H264_LEVEL_* value (1b is written as 1.1). */
static u8 level_idc_of(s32 v4l2_level)
{
	static const u8 idc[] = { 10, 11, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51 };

	return v4l2_level >= 0 && v4l2_level < ARRAY_SIZE(idc) ? idc[v4l2_level] : 40;
}

/* ---- encoding ---- */

static void vh_picture(struct vh_ctx *ctx, struct vb2_buffer *vb, struct vh264_picture *pic)
{
	u8 *p[VH_MAX_PLANES];
	unsigned int i;

	for (i = 0; i < ctx->fmt->n_planes; i++)
		p[i] = (u8 *)vb2_plane_vaddr(vb, i) + vb->planes[i].data_offset;
	pic->fmt = ctx->fmt->in;
	pic->stride[0] = ctx->bpl[0];
	pic->plane[0] = p[0];
	if (ctx->fmt->components == 1)
		return;
	if (ctx->fmt->n_planes == 1) {
		u32 luma = ctx->bpl[0] * ctx->height;

		pic->plane[1] = p[0] + luma;
		pic->stride[1] = ctx->fmt->components == 2 ? ctx->bpl[0] : ctx->bpl[0] / 2;
		pic->plane[2] = p[0] + luma + luma / 4;
		pic->stride[2] = ctx->bpl[0] / 2;
		return;
	}
	for (i = 1; i < ctx->fmt->n_planes; i++) {
		pic->plane[i] = p[i];
		pic->stride[i] = ctx->bpl[i];
	}
}

/* A job ran out of its picture: each plane must hold what the format says. */
static bool vh_src_ok(struct vh_ctx *ctx, struct vb2_buffer *vb)
{
	unsigned int i;

	for (i = 0; i < ctx->fmt->n_planes; i++) {
		if (!vb2_plane_vaddr(vb, i) ||
		    vb2_get_plane_payload(vb, i) < vb->planes[i].data_offset + ctx->plane_size[i])
			return false;
	}
	return true;
}

static bool vh_want_idr(struct vh_ctx *ctx)
{
	s32 period = ctx->period_ctrl->val;
	bool forced = xchg(&ctx->force_key, false);

	if (forced)
		forced_key_frames++;
	return forced || !ctx->enc.have_ref || (period > 0 && ctx->since_idr >= period);
}

static int vh_encode(struct vh_ctx *ctx, struct vb2_v4l2_buffer *src, struct vb2_v4l2_buffer *dst)
{
	struct vh264_picture pic = {};
	bool idr, is_idr = false;
	long n;

	if (!vh_src_ok(ctx, &src->vb2_buf))
		return -EINVAL;
	vh_picture(ctx, &src->vb2_buf, &pic);
	idr = vh_want_idr(ctx);
	ctx->enc.p.level_idc = level_idc_of(ctx->level_ctrl->val);
	n = vh264_encode(&ctx->enc, &pic, idr, idr && (ctx->repeat_ctrl->val || !ctx->headers_sent),
			 vb2_plane_vaddr(&dst->vb2_buf, 0), vb2_plane_size(&dst->vb2_buf, 0),
			 &is_idr);
	if (n < 0)
		return (int)n;
	if (is_idr)
		ctx->headers_sent = true;
	ctx->since_idr = is_idr ? 1 : ctx->since_idr + 1;
	vb2_set_plane_payload(&dst->vb2_buf, 0, n);
	dst->flags &= ~(V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_PFRAME);
	dst->flags |= is_idr ? V4L2_BUF_FLAG_KEYFRAME : V4L2_BUF_FLAG_PFRAME;
	frames++;
	idr_frames += is_idr;
	dmabuf_frames += src->vb2_buf.memory == VB2_MEMORY_DMABUF;
	return 0;
}

static void vh_work(struct work_struct *w)
{
	struct vh_ctx *ctx = container_of(w, struct vh_ctx, work);
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	struct vb2_v4l2_buffer *src = v4l2_m2m_next_src_buf(m2m);
	struct vb2_v4l2_buffer *dst = v4l2_m2m_next_dst_buf(m2m);
	enum vb2_buffer_state state = VB2_BUF_STATE_DONE;

	if (!src || !dst) {
		v4l2_m2m_job_finish(ctx->dev->m2m_dev, m2m);
		return;
	}
	if (vh_encode(ctx, src, dst) < 0)
		state = VB2_BUF_STATE_ERROR;
	v4l2_m2m_buf_copy_metadata(src, dst, true);
	src->sequence = ctx->out_seq++;
	dst->sequence = ctx->cap_seq++;
	dst->flags &= ~V4L2_BUF_FLAG_LAST;
	if (v4l2_m2m_is_last_draining_src_buf(m2m, src)) {
		/* The drain's last picture: LAST, EOS, and the next one starts anew. */
		dst->flags |= V4L2_BUF_FLAG_LAST;
		v4l2_event_queue_fh(&ctx->fh, &vh_eos_event);
		v4l2_m2m_mark_stopped(m2m);
		vh264_reset(&ctx->enc);
		drains++;
	}
	v4l2_m2m_src_buf_remove(m2m);
	v4l2_m2m_dst_buf_remove(m2m);
	v4l2_m2m_buf_done(src, state);
	v4l2_m2m_buf_done(dst, state);
	v4l2_m2m_job_finish(ctx->dev->m2m_dev, m2m);
}

static void vh_device_run(void *priv)
{
	struct vh_ctx *ctx = priv;

	queue_work(ctx->dev->wq, &ctx->work);
}

static const struct v4l2_m2m_ops vh_m2m_ops = {
	.device_run = vh_device_run,
};

/* ---- formats ---- */

static int vh_querycap(struct file *file, void *priv, struct v4l2_capability *cap)
{
	strscpy(cap->driver, VH_NAME, sizeof(cap->driver));
	snprintf(cap->card, sizeof(cap->card), "%s%s%s%s", VH_NAME,
		 multiplanar_formats ? "-multiplanar" : "", dmabuf ? "" : "-nodmabuf",
		 align_height > 1 ? "-aligned" : "");
	snprintf(cap->bus_info, sizeof(cap->bus_info), "platform:%s", VH_NAME);
	return 0;
}

static int vh_enum_fmt_out(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	unsigned int n;
	const struct vh_fmt *fmts = vh_fmts(&n);

	if (f->index >= n)
		return -EINVAL;
	f->pixelformat = fmts[f->index].fourcc;
	return 0;
}

static int vh_enum_fmt_cap(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	if (f->index)
		return -EINVAL;
	f->pixelformat = V4L2_PIX_FMT_H264;
	f->flags = V4L2_FMT_FLAG_COMPRESSED;
	return 0;
}

static int vh_enum_framesizes(struct file *file, void *priv, struct v4l2_frmsizeenum *fs)
{
	if (fs->index || (fs->pixel_format != V4L2_PIX_FMT_H264 && !vh_find_fmt(fs->pixel_format)))
		return -EINVAL;
	fs->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fs->stepwise = (struct v4l2_frmsize_stepwise){ VH_MIN_SIZE, VH264_MAX_WIDTH,  2,
						       VH_MIN_SIZE, VH264_MAX_HEIGHT, 2 };
	return 0;
}

static void vh_clamp_size(u32 *w, u32 *h)
{
	*w = clamp_t(u32, *w, VH_MIN_SIZE, VH264_MAX_WIDTH) & ~1u;
	*h = clamp_t(u32, *h, VH_MIN_SIZE, VH264_MAX_HEIGHT) & ~1u;
	/* The align_height personality: the padded height is the format's, as on the Pi. */
	if (align_height > 1 && *h % align_height)
		*h = min_t(u32, roundup(*h, align_height),
			   rounddown(VH264_MAX_HEIGHT, align_height));
}

/* A new OUTPUT size: the crop is all of it again (V4L2_SEL_TGT_CROP_DEFAULT). */
static void vh_set_size(struct vh_ctx *ctx, u32 w, u32 h)
{
	ctx->width = w;
	ctx->height = h;
	ctx->crop_w = w;
	ctx->crop_h = h;
}

static void vh_fill_out(struct vh_ctx *ctx, struct v4l2_pix_format_mplane *mp,
			const struct vh_fmt *f)
{
	u32 bpl[VH_MAX_PLANES], size[VH_MAX_PLANES], total;
	unsigned int i;

	vh_clamp_size(&mp->width, &mp->height);
	vh_layout(f, mp->width, mp->height, mp->plane_fmt[0].bytesperline, bpl, size, &total);
	mp->pixelformat = f->fourcc;
	mp->field = V4L2_FIELD_NONE;
	mp->num_planes = f->n_planes;
	mp->colorspace = ctx->colorspace;
	memset(mp->reserved, 0, sizeof(mp->reserved));
	for (i = 0; i < f->n_planes; i++) {
		mp->plane_fmt[i].bytesperline = bpl[i];
		mp->plane_fmt[i].sizeimage = size[i];
		memset(mp->plane_fmt[i].reserved, 0, sizeof(mp->plane_fmt[i].reserved));
	}
}

static void vh_fill_cap(struct vh_ctx *ctx, struct v4l2_pix_format_mplane *mp)
{
	mp->width = ctx->width;
	mp->height = ctx->height;
	mp->pixelformat = V4L2_PIX_FMT_H264;
	mp->field = V4L2_FIELD_NONE;
	mp->num_planes = 1;
	mp->colorspace = ctx->colorspace;
	mp->plane_fmt[0].bytesperline = 0;
	mp->plane_fmt[0].sizeimage = vh264_max_au_bytes(ctx->width, ctx->height);
	memset(mp->reserved, 0, sizeof(mp->reserved));
}

static int vh_g_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vh_ctx *ctx = file2ctx(file);
	struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;

	mp->width = ctx->width;
	mp->height = ctx->height;
	mp->plane_fmt[0].bytesperline = ctx->bpl[0];
	vh_fill_out(ctx, mp, ctx->fmt);
	return 0;
}

static int vh_g_fmt_cap(struct file *file, void *priv, struct v4l2_format *f)
{
	vh_fill_cap(file2ctx(file), &f->fmt.pix_mp);
	return 0;
}

static int vh_try_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vh_ctx *ctx = file2ctx(file);
	const struct vh_fmt *fmt = vh_find_fmt(f->fmt.pix_mp.pixelformat);

	vh_fill_out(ctx, &f->fmt.pix_mp, fmt ? fmt : ctx->fmt);
	return 0;
}

static int vh_try_fmt_cap(struct file *file, void *priv, struct v4l2_format *f)
{
	vh_fill_cap(file2ctx(file), &f->fmt.pix_mp);
	return 0;
}

/* The raw size and layout come from OUTPUT (dev-encoder.rst: CAPTURE follows it). */
static int vh_s_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vh_ctx *ctx = file2ctx(file);
	struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;
	struct vb2_queue *vq = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, f->type);
	struct vb2_queue *cq = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);

	if (vb2_is_busy(vq) || vb2_is_busy(cq))
		return -EBUSY;
	vh_try_fmt_out(file, priv, f);
	ctx->fmt = vh_find_fmt(mp->pixelformat);
	vh_set_size(ctx, mp->width, mp->height);
	ctx->colorspace = mp->colorspace;
	vh_layout(ctx->fmt, ctx->width, ctx->height, mp->plane_fmt[0].bytesperline, ctx->bpl,
		  ctx->plane_size, &ctx->sizeimage);
	return 0;
}

/* CAPTURE is H.264 at the OUTPUT size whatever is asked; busy once it has buffers. */
static int vh_s_fmt_cap(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vh_ctx *ctx = file2ctx(file);

	if (vb2_is_busy(v4l2_m2m_get_vq(ctx->fh.m2m_ctx, f->type)))
		return -EBUSY;
	if (f->fmt.pix_mp.width && f->fmt.pix_mp.height) {
		/* dev-encoder.rst sets CAPTURE first: take its size as the starting point. */
		u32 w = f->fmt.pix_mp.width, h = f->fmt.pix_mp.height;

		vh_clamp_size(&w, &h);
		if (!vb2_is_busy(
			    v4l2_m2m_get_vq(ctx->fh.m2m_ctx, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE))) {
			vh_set_size(ctx, w, h);
			vh_layout(ctx->fmt, w, h, 0, ctx->bpl, ctx->plane_size, &ctx->sizeimage);
		}
	}
	vh_fill_cap(ctx, &f->fmt.pix_mp);
	return 0;
}

/* dev-encoder.rst: the OUTPUT crop is the visible picture; bounds and default are the format. */
static int vh_g_selection(struct file *file, void *priv, struct v4l2_selection *s)
{
	struct vh_ctx *ctx = file2ctx(file);

	if (s->type != V4L2_BUF_TYPE_VIDEO_OUTPUT)
		return -EINVAL;
	switch (s->target) {
	case V4L2_SEL_TGT_CROP:
		s->r = (struct v4l2_rect){ 0, 0, ctx->crop_w, ctx->crop_h };
		return 0;
	case V4L2_SEL_TGT_CROP_DEFAULT:
	case V4L2_SEL_TGT_CROP_BOUNDS:
		s->r = (struct v4l2_rect){ 0, 0, ctx->width, ctx->height };
		return 0;
	default:
		return -EINVAL;
	}
}

/* The crop starts at the top left (what the encoders modelled here take), even sizes inside. */
static int vh_s_selection(struct file *file, void *priv, struct v4l2_selection *s)
{
	struct vh_ctx *ctx = file2ctx(file);

	if (s->type != V4L2_BUF_TYPE_VIDEO_OUTPUT || s->target != V4L2_SEL_TGT_CROP)
		return -EINVAL;
	if (vb2_is_streaming(v4l2_m2m_get_vq(ctx->fh.m2m_ctx, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)))
		return -EBUSY;
	ctx->crop_w = clamp_t(u32, s->r.width, VH_MIN_SIZE, ctx->width) & ~1u;
	ctx->crop_h = clamp_t(u32, s->r.height, VH_MIN_SIZE, ctx->height) & ~1u;
	s->r = (struct v4l2_rect){ 0, 0, ctx->crop_w, ctx->crop_h };
	return 0;
}

static int vh_s_parm(struct file *file, void *priv, struct v4l2_streamparm *a)
{
	if (!V4L2_TYPE_IS_OUTPUT(a->type))
		return -EINVAL;
	/* Rate control has nothing to do here (lossless); the rate is taken and echoed. */
	a->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
	if (!a->parm.output.timeperframe.numerator || !a->parm.output.timeperframe.denominator)
		a->parm.output.timeperframe = (struct v4l2_fract){ 1, 30 };
	return 0;
}

static int vh_g_parm(struct file *file, void *priv, struct v4l2_streamparm *a)
{
	if (!V4L2_TYPE_IS_OUTPUT(a->type))
		return -EINVAL;
	a->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
	a->parm.output.timeperframe = (struct v4l2_fract){ 1, 30 };
	return 0;
}

static int vh_encoder_cmd(struct file *file, void *fh, struct v4l2_encoder_cmd *ec)
{
	struct vh_ctx *ctx = file2ctx(file);
	struct v4l2_m2m_ctx *m2m = ctx->fh.m2m_ctx;
	int ret = v4l2_m2m_ioctl_try_encoder_cmd(file, fh, ec);

	if (ret < 0)
		return ret;
	if (!vb2_is_streaming(&m2m->cap_q_ctx.q) || !vb2_is_streaming(&m2m->out_q_ctx.q))
		return 0;
	ret = v4l2_m2m_ioctl_encoder_cmd(file, fh, ec);
	if (ret < 0)
		return ret;
	if (ec->cmd == V4L2_ENC_CMD_STOP && v4l2_m2m_has_stopped(m2m)) {
		/* Nothing was queued: the framework flagged a CAPTURE buffer LAST. */
		v4l2_event_queue_fh(&ctx->fh, &vh_eos_event);
		vh264_reset(&ctx->enc);
		drains++;
	}
	if (ec->cmd == V4L2_ENC_CMD_START && v4l2_m2m_has_stopped(m2m))
		vb2_clear_last_buffer_dequeued(&m2m->cap_q_ctx.q);
	return 0;
}

static int vh_subscribe_event(struct v4l2_fh *fh, const struct v4l2_event_subscription *sub)
{
	if (sub->type == V4L2_EVENT_EOS)
		return v4l2_event_subscribe(fh, sub, 0, NULL);
	return v4l2_ctrl_subscribe_event(fh, sub);
}

static const struct v4l2_ioctl_ops vh_ioctl_ops = {
	.vidioc_querycap = vh_querycap,
	.vidioc_enum_fmt_vid_cap = vh_enum_fmt_cap,
	.vidioc_enum_fmt_vid_out = vh_enum_fmt_out,
	.vidioc_enum_framesizes = vh_enum_framesizes,
	.vidioc_g_fmt_vid_cap_mplane = vh_g_fmt_cap,
	.vidioc_try_fmt_vid_cap_mplane = vh_try_fmt_cap,
	.vidioc_s_fmt_vid_cap_mplane = vh_s_fmt_cap,
	.vidioc_g_fmt_vid_out_mplane = vh_g_fmt_out,
	.vidioc_try_fmt_vid_out_mplane = vh_try_fmt_out,
	.vidioc_s_fmt_vid_out_mplane = vh_s_fmt_out,
	.vidioc_g_selection = vh_g_selection,
	.vidioc_s_selection = vh_s_selection,
	.vidioc_s_parm = vh_s_parm,
	.vidioc_g_parm = vh_g_parm,
	.vidioc_reqbufs = v4l2_m2m_ioctl_reqbufs,
	.vidioc_querybuf = v4l2_m2m_ioctl_querybuf,
	.vidioc_qbuf = v4l2_m2m_ioctl_qbuf,
	.vidioc_dqbuf = v4l2_m2m_ioctl_dqbuf,
	.vidioc_prepare_buf = v4l2_m2m_ioctl_prepare_buf,
	.vidioc_create_bufs = v4l2_m2m_ioctl_create_bufs,
	.vidioc_expbuf = v4l2_m2m_ioctl_expbuf,
	.vidioc_streamon = v4l2_m2m_ioctl_streamon,
	.vidioc_streamoff = v4l2_m2m_ioctl_streamoff,
	.vidioc_try_encoder_cmd = v4l2_m2m_ioctl_try_encoder_cmd,
	.vidioc_encoder_cmd = vh_encoder_cmd,
	.vidioc_subscribe_event = vh_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

/* ---- queues ---- */

static int vh_queue_setup(struct vb2_queue *vq, unsigned int *nbuffers, unsigned int *nplanes,
			  unsigned int sizes[], struct device *alloc_devs[])
{
	struct vh_ctx *ctx = vb2_get_drv_priv(vq);
	unsigned int i, n = 1;
	u32 want[VH_MAX_PLANES] = { vh264_max_au_bytes(ctx->width, ctx->height) };

	if (V4L2_TYPE_IS_OUTPUT(vq->type)) {
		n = ctx->fmt->n_planes;
		memcpy(want, ctx->plane_size, sizeof(want));
	}
	if (*nplanes) {
		if (*nplanes != n)
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (sizes[i] < want[i])
				return -EINVAL;
		return 0;
	}
	*nplanes = n;
	for (i = 0; i < n; i++)
		sizes[i] = want[i];
	return 0;
}

static int vh_buf_out_validate(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);

	if (vbuf->field == V4L2_FIELD_ANY)
		vbuf->field = V4L2_FIELD_NONE;
	return vbuf->field == V4L2_FIELD_NONE ? 0 : -EINVAL;
}

static int vh_buf_prepare(struct vb2_buffer *vb)
{
	struct vh_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);
	unsigned int i;

	if (!V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type))
		return vb2_plane_size(vb, 0) < vh264_max_au_bytes(ctx->width, ctx->height) ? -EINVAL
											   : 0;
	for (i = 0; i < ctx->fmt->n_planes; i++) {
		if (vb2_plane_size(vb, i) < vb->planes[i].data_offset + ctx->plane_size[i])
			return -EINVAL;
		/* An application that says nothing means the whole plane. */
		if (!vb2_get_plane_payload(vb, i))
			vb2_set_plane_payload(vb, i,
					      vb->planes[i].data_offset + ctx->plane_size[i]);
	}
	return 0;
}

static void vh_buf_queue(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);
	struct vh_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);

	if (V4L2_TYPE_IS_CAPTURE(vb->vb2_queue->type) && vb2_is_streaming(vb->vb2_queue) &&
	    v4l2_m2m_dst_buf_is_last(ctx->fh.m2m_ctx)) {
		/* Drained with nothing left to encode: this buffer is the empty LAST one. */
		vb2_set_plane_payload(vb, 0, 0);
		vbuf->field = V4L2_FIELD_NONE;
		vbuf->sequence = ctx->cap_seq++;
		v4l2_m2m_last_buffer_done(ctx->fh.m2m_ctx, vbuf);
		v4l2_event_queue_fh(&ctx->fh, &vh_eos_event);
		vh264_reset(&ctx->enc);
		drains++;
		return;
	}
	v4l2_m2m_buf_queue(ctx->fh.m2m_ctx, vbuf);
}

static int vh_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct vh_ctx *ctx = vb2_get_drv_priv(q);
	struct vh264_params p = { ctx->crop_w, ctx->crop_h, level_idc_of(ctx->level_ctrl->val) };
	size_t fb = vh264_frame_bytes(ctx->crop_w, ctx->crop_h);

	v4l2_m2m_update_start_streaming_state(ctx->fh.m2m_ctx, q);
	if (!V4L2_TYPE_IS_OUTPUT(q->type)) {
		ctx->cap_seq = 0;
		return 0;
	}
	ctx->out_seq = 0;
	crop_width = ctx->crop_w;
	crop_height = ctx->crop_h;
	kvfree(ctx->pics);
	ctx->pics = kvmalloc(2 * fb, GFP_KERNEL);
	if (!ctx->pics)
		return -ENOMEM;
	ctx->headers_sent = false;
	ctx->since_idr = 0;
	return vh264_init(&ctx->enc, &p, ctx->pics, ctx->pics + fb);
}

static void vh_stop_streaming(struct vb2_queue *q)
{
	struct vh_ctx *ctx = vb2_get_drv_priv(q);
	struct vb2_v4l2_buffer *vbuf;

	flush_work(&ctx->work);
	for (;;) {
		vbuf = V4L2_TYPE_IS_OUTPUT(q->type) ? v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx)
						    : v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);
		if (!vbuf)
			break;
		v4l2_m2m_buf_done(vbuf, VB2_BUF_STATE_ERROR);
	}
	v4l2_m2m_update_stop_streaming_state(ctx->fh.m2m_ctx, q);
	if (V4L2_TYPE_IS_OUTPUT(q->type) && v4l2_m2m_has_stopped(ctx->fh.m2m_ctx))
		v4l2_event_queue_fh(&ctx->fh, &vh_eos_event);
	/* A new stream (CAPTURE restarted after a drain, dev-encoder.rst Reset) starts at an IDR.
	 */
	vh264_reset(&ctx->enc);
}

static const struct vb2_ops vh_qops = {
	.queue_setup = vh_queue_setup,
	.buf_out_validate = vh_buf_out_validate,
	.buf_prepare = vh_buf_prepare,
	.buf_queue = vh_buf_queue,
	.start_streaming = vh_start_streaming,
	.stop_streaming = vh_stop_streaming,
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
};

static int vh_queue_init(void *priv, struct vb2_queue *src, struct vb2_queue *dst)
{
	struct vh_ctx *ctx = priv;
	int ret;

	src->type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	src->io_modes = VB2_MMAP | (dmabuf ? VB2_DMABUF : 0);
	src->drv_priv = ctx;
	src->buf_struct_size = sizeof(struct v4l2_m2m_buffer);
	src->ops = &vh_qops;
	src->mem_ops = &vb2_vmalloc_memops;
	src->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
	src->lock = &ctx->vb_mutex;
	ret = vb2_queue_init(src);
	if (ret)
		return ret;
	dst->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	dst->io_modes = VB2_MMAP | VB2_DMABUF;
	dst->drv_priv = ctx;
	dst->buf_struct_size = sizeof(struct v4l2_m2m_buffer);
	dst->ops = &vh_qops;
	dst->mem_ops = &vb2_vmalloc_memops;
	dst->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
	dst->lock = &ctx->vb_mutex;
	return vb2_queue_init(dst);
}

/* ---- controls ---- */

static int vh_s_ctrl(struct v4l2_ctrl *c)
{
	struct vh_ctx *ctx = container_of(c->handler, struct vh_ctx, hdl);

	switch (c->id) {
	case V4L2_CID_MPEG_VIDEO_BITRATE:
		bitrate = c->val;
		break;
	case V4L2_CID_MPEG_VIDEO_H264_I_PERIOD:
		i_period = c->val;
		break;
	case V4L2_CID_MPEG_VIDEO_H264_LEVEL:
		level_idc = level_idc_of(c->val);
		break;
	case V4L2_CID_MPEG_VIDEO_H264_PROFILE:
		profile = c->val;
		break;
	case V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER:
		repeat_seq_header = c->val;
		break;
	case V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME:
		WRITE_ONCE(ctx->force_key, true);
		break;
	}
	return 0;
}

static const struct v4l2_ctrl_ops vh_ctrl_ops = { .s_ctrl = vh_s_ctrl };

static int vh_controls(struct vh_ctx *ctx)
{
	struct v4l2_ctrl_handler *h = &ctx->hdl;
	const struct v4l2_ctrl_ops *o = &vh_ctrl_ops;

	v4l2_ctrl_handler_init(h, 8);
	v4l2_ctrl_new_std_menu(h, o, V4L2_CID_MPEG_VIDEO_BITRATE_MODE,
			       V4L2_MPEG_VIDEO_BITRATE_MODE_CBR, 0,
			       V4L2_MPEG_VIDEO_BITRATE_MODE_VBR);
	v4l2_ctrl_new_std(h, o, V4L2_CID_MPEG_VIDEO_BITRATE, 25000, 25000000, 25000, 10000000);
	/* Only what the bitstream is: Constrained Baseline (Baseline accepted as well). */
	v4l2_ctrl_new_std_menu(h, o, V4L2_CID_MPEG_VIDEO_H264_PROFILE,
			       V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE,
			       ~(BIT(V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE) |
				 BIT(V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE)),
			       V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE);
	ctx->level_ctrl = v4l2_ctrl_new_std_menu(h, o, V4L2_CID_MPEG_VIDEO_H264_LEVEL,
						 V4L2_MPEG_VIDEO_H264_LEVEL_4_2, 0,
						 V4L2_MPEG_VIDEO_H264_LEVEL_4_0);
	ctx->period_ctrl =
		v4l2_ctrl_new_std(h, o, V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, 0, 0x7fffffff, 1, 60);
	ctx->repeat_ctrl =
		v4l2_ctrl_new_std(h, o, V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 0, 1, 1, 0);
	v4l2_ctrl_new_std(h, o, V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, 0, 0, 0, 0);
	if (h->error) {
		int ret = h->error;

		v4l2_ctrl_handler_free(h);
		return ret;
	}
	ctx->fh.ctrl_handler = h;
	return 0;
}

/* ---- file and device ---- */

static int vh_open(struct file *file)
{
	struct vh_dev *dev = video_drvdata(file);
	struct vh_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	v4l2_fh_init(&ctx->fh, video_devdata(file));
	file->private_data = &ctx->fh;
	ctx->dev = dev;
	mutex_init(&ctx->vb_mutex);
	INIT_WORK(&ctx->work, vh_work);
	ctx->fmt = vh_fmts(&(unsigned int){ 0 });
	vh_set_size(ctx, 640, 480);
	ctx->colorspace = V4L2_COLORSPACE_REC709;
	vh_layout(ctx->fmt, ctx->width, ctx->height, 0, ctx->bpl, ctx->plane_size, &ctx->sizeimage);
	ret = vh_controls(ctx);
	if (ret)
		goto err_free;
	if (mutex_lock_interruptible(&dev->dev_mutex)) {
		ret = -ERESTARTSYS;
		goto err_ctrls;
	}
	ctx->fh.m2m_ctx = v4l2_m2m_ctx_init(dev->m2m_dev, ctx, vh_queue_init);
	mutex_unlock(&dev->dev_mutex);
	if (IS_ERR(ctx->fh.m2m_ctx)) {
		ret = PTR_ERR(ctx->fh.m2m_ctx);
		goto err_ctrls;
	}
	v4l2_ctrl_handler_setup(&ctx->hdl);
	v4l2_fh_add(&ctx->fh);
	return 0;

err_ctrls:
	v4l2_ctrl_handler_free(&ctx->hdl);
err_free:
	v4l2_fh_exit(&ctx->fh);
	kfree(ctx);
	return ret;
}

static int vh_release(struct file *file)
{
	struct vh_dev *dev = video_drvdata(file);
	struct vh_ctx *ctx = file2ctx(file);

	v4l2_fh_del(&ctx->fh);
	mutex_lock(&dev->dev_mutex);
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
	mutex_unlock(&dev->dev_mutex);
	v4l2_ctrl_handler_free(&ctx->hdl);
	v4l2_fh_exit(&ctx->fh);
	kvfree(ctx->pics);
	kfree(ctx);
	return 0;
}

static const struct v4l2_file_operations vh_fops = {
	.owner = THIS_MODULE,
	.open = vh_open,
	.release = vh_release,
	.poll = v4l2_m2m_fop_poll,
	.unlocked_ioctl = video_ioctl2,
	.mmap = v4l2_m2m_fop_mmap,
};

static void vh_vdev_release(struct video_device *vdev)
{
	struct vh_dev *dev = container_of(vdev, struct vh_dev, vfd);

	v4l2_m2m_release(dev->m2m_dev);
	destroy_workqueue(dev->wq);
	v4l2_device_unregister(&dev->v4l2_dev);
	kfree(dev);
}

static const struct video_device vh_videodev = {
	.name = VH_NAME,
	.vfl_dir = VFL_DIR_M2M,
	.fops = &vh_fops,
	.ioctl_ops = &vh_ioctl_ops,
	.minor = -1,
	.release = vh_vdev_release,
	.device_caps = V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
};

static int vh_probe(struct platform_device *pdev)
{
	struct vh_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	int ret;

	if (!dev)
		return -ENOMEM;
	ret = v4l2_device_register(&pdev->dev, &dev->v4l2_dev);
	if (ret)
		goto err_free;
	mutex_init(&dev->dev_mutex);
	dev->wq = alloc_ordered_workqueue(VH_NAME, 0);
	if (!dev->wq) {
		ret = -ENOMEM;
		goto err_v4l2;
	}
	dev->m2m_dev = v4l2_m2m_init(&vh_m2m_ops);
	if (IS_ERR(dev->m2m_dev)) {
		ret = PTR_ERR(dev->m2m_dev);
		goto err_wq;
	}
	dev->vfd = vh_videodev;
	dev->vfd.lock = &dev->dev_mutex;
	dev->vfd.v4l2_dev = &dev->v4l2_dev;
	video_set_drvdata(&dev->vfd, dev);
	platform_set_drvdata(pdev, dev);
	ret = video_register_device(&dev->vfd, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto err_m2m;
	v4l2_info(&dev->v4l2_dev, "%s%s%s (height aligned to %u) as /dev/video%d\n", VH_NAME,
		  multiplanar_formats ? " (multi-planar formats)" : "",
		  dmabuf ? "" : " (no DMA-BUF import)", max(align_height, 1u), dev->vfd.num);
	return 0;

err_m2m:
	v4l2_m2m_release(dev->m2m_dev);
err_wq:
	destroy_workqueue(dev->wq);
err_v4l2:
	v4l2_device_unregister(&dev->v4l2_dev);
err_free:
	kfree(dev);
	return ret;
}

static int vh_remove(struct platform_device *pdev)
{
	struct vh_dev *dev = platform_get_drvdata(pdev);

	video_unregister_device(&dev->vfd); /* vh_vdev_release frees the rest */
	return 0;
}

static void vh_pdev_release(struct device *dev)
{
}

static struct platform_device vh_pdev = {
	.name = VH_NAME,
	.dev.release = vh_pdev_release,
};

static struct platform_driver vh_pdrv = {
	.probe = vh_probe,
	.remove = vh_remove,
	.driver = { .name = VH_NAME },
};

static int __init vh_init(void)
{
	int ret = platform_device_register(&vh_pdev);

	if (ret)
		return ret;
	ret = platform_driver_register(&vh_pdrv);
	if (ret)
		platform_device_unregister(&vh_pdev);
	return ret;
}

static void __exit vh_exit(void)
{
	platform_driver_unregister(&vh_pdrv);
	platform_device_unregister(&vh_pdev);
}

module_init(vh_init);
module_exit(vh_exit);
