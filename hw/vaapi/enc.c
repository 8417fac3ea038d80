/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <va/va.h>
#include <va/va_drm.h>
#include <va/va_drmcommon.h>

#define CG_LOG_TOPIC "vaapi"

#include "hw/au_writer.h"
#include "hw/h264util.h"
#include "hw/vaapi/enc.h"
#include "hw/vaapi/params.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

#define VAAPI_MAX_NODES 8

struct cg_encoder {
	int drm_fd;
	VADisplay dpy;
	VAConfigID config;
	VAContextID ctx;
	VASurfaceID surfaces[3]; /* two reconstructed frames, one upload surface */
	bool have_surfaces;
	VABufferID coded;
	char path[32];
	bool low_power;
	struct cg_encoder_cfg cfg;
	uint8_t level_idc;
	unsigned cur; /* which reconstructed surface this frame writes */
	bool rc_dirty;
	struct cg_vaapi_gop gop;
	struct cg_vaapi_cache cache;
	struct cg_au_writer aw;
};

static int vaapi_err(VAStatus s)
{
	switch (s) {
	case VA_STATUS_SUCCESS:
		return 0;
	case VA_STATUS_ERROR_UNSUPPORTED_PROFILE:
	case VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT:
	case VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT:
	case VA_STATUS_ERROR_ATTR_NOT_SUPPORTED:
		return -ENOTSUP;
	case VA_STATUS_ERROR_ALLOCATION_FAILED:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* libva prints to stderr by default; hw/ logs at debug at most. */
static void vaapi_log(void *ctx, const char *msg)
{
	cg_debug("libva: %.*s", (int)strcspn(msg, "\n"), msg);
}

static int vaapi_open_display(struct cg_encoder *enc, const char *path)
{
	int major, minor;

	enc->drm_fd = open(path, O_RDWR | O_CLOEXEC);
	if (enc->drm_fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	enc->dpy = vaGetDisplayDRM(enc->drm_fd);
	if (!enc->dpy)
		return -ENODEV;
	vaSetErrorCallback(enc->dpy, vaapi_log, NULL);
	vaSetInfoCallback(enc->dpy, vaapi_log, NULL);
	if (vaInitialize(enc->dpy, &major, &minor) != VA_STATUS_SUCCESS) {
		vaTerminate(enc->dpy);
		enc->dpy = NULL;
		return -ENODEV;
	}
	snprintf(enc->path, sizeof(enc->path), "%s", path);
	return 0;
}

/* Low power first (fixed-function, Intel Gen9+), then the shader-assisted entrypoint. */
static int vaapi_entrypoint(VADisplay dpy, VAProfile profile, VAEntrypoint *ret)
{
	int n = vaMaxNumEntrypoints(dpy), r = -ENOTSUP;
	VAEntrypoint *eps = cg_new0(VAEntrypoint, n > 0 ? (size_t)n : 1);

	if (vaQueryConfigEntrypoints(dpy, profile, eps, &n) != VA_STATUS_SUCCESS)
		n = 0;
	for (int i = 0; i < n; i++) {
		if (eps[i] == VAEntrypointEncSliceLP) {
			*ret = eps[i];
			r = 0;
			break;
		}
		if (eps[i] == VAEntrypointEncSlice) {
			*ret = eps[i];
			r = 0;
		}
	}
	free(eps);
	return r;
}

static VAProfile vaapi_profile(const struct cg_encoder_cfg *cfg)
{
	return cfg->profile == CG_ENCODER_PROFILE_MAIN ? VAProfileH264Main
						       : VAProfileH264ConstrainedBaseline;
}

static int vaapi_create_config(struct cg_encoder *enc)
{
	VAConfigAttrib attr[2] = { { .type = VAConfigAttribRTFormat },
				   { .type = VAConfigAttribRateControl } };
	VAProfile profile = vaapi_profile(&enc->cfg);
	VAEntrypoint ep;
	int r;

	r = vaapi_entrypoint(enc->dpy, profile, &ep);
	if (r < 0)
		return r;
	r = vaapi_err(vaGetConfigAttributes(enc->dpy, profile, ep, attr, 2));
	if (r < 0)
		return r;
	if (!(attr[0].value & VA_RT_FORMAT_YUV420) || !(attr[1].value & VA_RC_CBR))
		return -ENOTSUP;
	attr[0].value = VA_RT_FORMAT_YUV420;
	attr[1].value = VA_RC_CBR;
	enc->low_power = ep == VAEntrypointEncSliceLP;
	return vaapi_err(vaCreateConfig(enc->dpy, profile, ep, attr, 2, &enc->config));
}

static int vaapi_create_context(struct cg_encoder *enc)
{
	uint32_t w = cg_vaapi_mbs(enc->cfg.width) * 16, h = cg_vaapi_mbs(enc->cfg.height) * 16;
	int r;

	r = vaapi_err(
		vaCreateSurfaces(enc->dpy, VA_RT_FORMAT_YUV420, w, h, enc->surfaces, 3, NULL, 0));
	if (r < 0)
		return r;
	enc->have_surfaces = true;
	r = vaapi_err(vaCreateContext(enc->dpy, enc->config, (int)w, (int)h, VA_PROGRESSIVE,
				      enc->surfaces, 2, &enc->ctx));
	if (r < 0)
		return r;
	/* Room for an incompressible frame; CBR keeps real ones far below. */
	return vaapi_err(vaCreateBuffer(enc->dpy, enc->ctx, VAEncCodedBufferType,
					w * h * 3 / 2 + 65536, 1, NULL, &enc->coded));
}

/* DRM PRIME import of a linear NV12 DMA-BUF (a V4L2 capture buffer) as a VA surface. */
static int vaapi_import(void *userdata, const struct cg_frame *f, VASurfaceID *ret)
{
	struct cg_encoder *enc = userdata;
	VADRMPRIMESurfaceDescriptor d = {
		.fourcc = VA_FOURCC_NV12,
		.width = f->width,
		.height = f->height,
		.num_objects = 1,
		.num_layers = 1,
	};
	VASurfaceAttrib attrs[2] = {
		{ .type = VASurfaceAttribMemoryType,
		  .flags = VA_SURFACE_ATTRIB_SETTABLE,
		  .value = { .type = VAGenericValueTypeInteger,
			     .value.i = VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2 } },
		{ .type = VASurfaceAttribExternalBufferDescriptor,
		  .flags = VA_SURFACE_ATTRIB_SETTABLE,
		  .value = { .type = VAGenericValueTypePointer, .value.p = &d } },
	};

	d.objects[0].fd = f->planes[0].dma_fd;
	d.objects[0].size = f->buf_size;
	d.objects[0].drm_format_modifier = DRM_FORMAT_MOD_LINEAR;
	d.layers[0].drm_format = DRM_FORMAT_NV12;
	d.layers[0].num_planes = 2;
	for (unsigned p = 0; p < 2; p++) {
		d.layers[0].object_index[p] = 0;
		d.layers[0].offset[p] = f->planes[p].offset;
		d.layers[0].pitch[p] = f->planes[p].stride;
	}
	return vaapi_err(vaCreateSurfaces(enc->dpy, VA_RT_FORMAT_YUV420, f->width, f->height, ret,
					  1, attrs, 2));
}

static void vaapi_destroy_surface(void *userdata, VASurfaceID s)
{
	struct cg_encoder *enc = userdata;

	vaDestroySurfaces(enc->dpy, &s, 1);
}

/* Back to nothing opened, so the next render node can be tried. */
static void vaapi_teardown(struct cg_encoder *enc)
{
	if (enc->dpy) {
		cg_vaapi_cache_clear(&enc->cache);
		if (enc->coded != VA_INVALID_ID)
			vaDestroyBuffer(enc->dpy, enc->coded);
		if (enc->ctx != VA_INVALID_ID)
			vaDestroyContext(enc->dpy, enc->ctx);
		if (enc->have_surfaces)
			vaDestroySurfaces(enc->dpy, enc->surfaces, 3);
		if (enc->config != VA_INVALID_ID)
			vaDestroyConfig(enc->dpy, enc->config);
		vaTerminate(enc->dpy);
	}
	if (enc->drm_fd >= 0)
		close(enc->drm_fd);
	enc->dpy = NULL;
	enc->drm_fd = -1;
	enc->coded = enc->ctx = enc->config = VA_INVALID_ID;
	enc->have_surfaces = false;
}

static int vaapi_setup(struct cg_encoder *enc, const char *path)
{
	int r = vaapi_open_display(enc, path);

	if (r >= 0)
		r = vaapi_create_config(enc);
	if (r >= 0)
		r = vaapi_create_context(enc);
	if (r < 0)
		vaapi_teardown(enc);
	return r;
}

/* cfg->device, or each render node in turn until one encodes what cfg asks. */
static int vaapi_find(struct cg_encoder *enc, const char *device)
{
	char path[32];
	int r = -ENODEV, best = -ENODEV;

	if (device)
		return vaapi_setup(enc, device);
	for (unsigned i = 0; i < VAAPI_MAX_NODES; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%u", 128 + i);
		if (access(path, F_OK) < 0)
			continue;
		r = vaapi_setup(enc, path);
		if (r == 0)
			return 0;
		if (r == -ENOTSUP)
			best = r; /* a GPU that cannot do this beats no GPU in the error */
	}
	return best;
}

static int vaapi_validate(const struct cg_encoder_cfg *cfg)
{
	if (!cfg || !cfg->width || !cfg->height || cfg->width % 2 || cfg->height % 2 || !cfg->fps ||
	    !cfg->bitrate_kbps)
		return -EINVAL;
	if (cfg->codec && cfg->codec != CG_FOURCC_H264)
		return -ENOTSUP;
	if (cfg->input_fourcc && cfg->input_fourcc != CG_FOURCC_I420 &&
	    cfg->input_fourcc != CG_FOURCC_NV12)
		return -ENOTSUP;
	return 0;
}

static int vaapi_open(const struct cg_encoder_cfg *cfg, struct cg_encoder **ret)
{
	struct cg_encoder *enc;
	int level, r;

	r = vaapi_validate(cfg);
	if (r < 0)
		return r;
	enc = cg_new0(struct cg_encoder, 1);
	cg_au_writer_init(&enc->aw);
	enc->cfg = *cfg;
	enc->cfg.device = NULL;
	if (!enc->cfg.keyframe_interval)
		enc->cfg.keyframe_interval = cfg->fps * 2;
	level = cg_h264util_level(cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps);
	enc->level_idc = (uint8_t)(level < 0 ? 40 : level);
	enc->drm_fd = -1;
	enc->coded = enc->ctx = enc->config = VA_INVALID_ID;
	cg_vaapi_gop_init(&enc->gop, enc->cfg.keyframe_interval);
	enc->cache = (struct cg_vaapi_cache){ .import = vaapi_import,
					      .destroy = vaapi_destroy_surface,
					      .userdata = enc };
	r = vaapi_find(enc, cfg->device);
	if (r < 0) {
		free(enc);
		return r;
	}
	cg_debug("%s (%s): H.264 %s, %s entrypoint, %ux%u@%u CBR %u kb/s", enc->path,
		 vaQueryVendorString(enc->dpy),
		 cfg->profile == CG_ENCODER_PROFILE_MAIN ? "Main" : "Constrained Baseline",
		 enc->low_power ? "low-power" : "normal", cfg->width, cfg->height, cfg->fps,
		 cfg->bitrate_kbps);
	*ret = enc;
	return 0;
}

static void vaapi_close(struct cg_encoder *enc)
{
	if (!enc)
		return;
	vaapi_teardown(enc);
	cg_au_writer_abort(&enc->aw);
	free(enc);
}

/* Copies a CPU frame (I420 or NV12) into the upload surface as NV12. */
static long vaapi_upload(struct cg_encoder *enc, const struct cg_frame *f, VASurfaceID s)
{
	VAImage img;
	uint8_t *p;
	int r;

	r = vaapi_err(vaDeriveImage(enc->dpy, s, &img));
	if (r < 0)
		return r;
	r = vaapi_err(vaMapBuffer(enc->dpy, img.buf, (void **)&p));
	if (r < 0)
		goto out;
	for (uint32_t y = 0; y < f->height; y++)
		memcpy(p + img.offsets[0] + (size_t)y * img.pitches[0],
		       f->planes[0].data + (size_t)y * f->planes[0].stride, f->width);
	for (uint32_t y = 0; y < f->height / 2; y++) {
		uint8_t *d = p + img.offsets[1] + (size_t)y * img.pitches[1];

		if (f->fourcc == CG_FOURCC_NV12) {
			memcpy(d, f->planes[1].data + (size_t)y * f->planes[1].stride, f->width);
			continue;
		}
		for (uint32_t x = 0; x < f->width / 2; x++) {
			d[2 * x] = f->planes[1].data[(size_t)y * f->planes[1].stride + x];
			d[2 * x + 1] = f->planes[2].data[(size_t)y * f->planes[2].stride + x];
		}
	}
	vaUnmapBuffer(enc->dpy, img.buf);
out:
	vaDestroyImage(enc->dpy, img.image_id);
	return r < 0 ? r : (long)f->width * f->height * 3 / 2;
}

/* The surface to encode from: the imported DMA-BUF, or the upload surface. */
static int vaapi_source(struct cg_encoder *enc, const struct cg_frame *f, VASurfaceID *s,
			uint32_t *copied)
{
	long n;

	*copied = 0;
	if (f->planes[0].dma_fd >= 0 && f->fourcc == CG_FOURCC_NV12)
		return cg_vaapi_cache_get(&enc->cache, f, s);
	if (!f->planes[0].data)
		return -EINVAL;
	*s = enc->surfaces[2];
	n = vaapi_upload(enc, f, *s);
	if (n < 0)
		return (int)n;
	*copied = (uint32_t)n;
	return 0;
}

static int vaapi_buffer(struct cg_encoder *enc, VABufferType type, const void *data, size_t size,
			VABufferID *ids, unsigned *n)
{
	int r = vaapi_err(vaCreateBuffer(enc->dpy, enc->ctx, type, (unsigned)size, 1, (void *)data,
					 &ids[*n]));

	if (r == 0)
		(*n)++;
	return r;
}

/* A misc parameter: VAEncMiscParameterBuffer header, then the payload. */
static int vaapi_misc(struct cg_encoder *enc, VAEncMiscParameterType type, const void *data,
		      size_t size, VABufferID *ids, unsigned *n)
{
	uint8_t buf[sizeof(VAEncMiscParameterBuffer) + 64] = { 0 };
	VAEncMiscParameterBuffer *misc = (VAEncMiscParameterBuffer *)buf;

	cg_assert(size <= 64);
	misc->type = type;
	memcpy(misc->data, data, size);
	return vaapi_buffer(enc, VAEncMiscParameterBufferType, buf,
			    sizeof(VAEncMiscParameterBuffer) + size, ids, n);
}

/* Sequence (on IDRs), rate control (on IDRs and bitrate changes), picture and slice. */
static int vaapi_params(struct cg_encoder *enc, const struct cg_vaapi_pic_info *pi, VABufferID *ids,
			unsigned *n)
{
	VASurfaceID recon = enc->surfaces[enc->cur], ref = enc->surfaces[enc->cur ^ 1];
	VAEncSequenceParameterBufferH264 seq;
	VAEncPictureParameterBufferH264 pic;
	VAEncSliceParameterBufferH264 slice;
	VAEncMiscParameterRateControl rc;
	VAEncMiscParameterFrameRate fr = { .framerate = enc->cfg.fps };
	int r = 0;

	if (pi->idr) {
		cg_vaapi_fill_seq(&seq, &enc->cfg, enc->level_idc);
		r = vaapi_buffer(enc, VAEncSequenceParameterBufferType, &seq, sizeof(seq), ids, n);
		if (r == 0)
			r = vaapi_misc(enc, VAEncMiscParameterTypeFrameRate, &fr, sizeof(fr), ids,
				       n);
	}
	if (r == 0 && (pi->idr || enc->rc_dirty)) {
		cg_vaapi_fill_rc(&rc, enc->cfg.bitrate_kbps);
		r = vaapi_misc(enc, VAEncMiscParameterTypeRateControl, &rc, sizeof(rc), ids, n);
		enc->rc_dirty = false;
	}
	cg_vaapi_fill_pic(&pic, &enc->cfg, pi, recon, ref, enc->coded);
	cg_vaapi_fill_slice(&slice, &enc->cfg, pi, ref);
	if (r == 0)
		r = vaapi_buffer(enc, VAEncPictureParameterBufferType, &pic, sizeof(pic), ids, n);
	if (r == 0)
		r = vaapi_buffer(enc, VAEncSliceParameterBufferType, &slice, sizeof(slice), ids, n);
	return r;
}

/*
 * The coded buffer's segments as one AU (hw/au_writer.h: 4-byte start codes, the driver's
 * SPS/PPS cached and put in front of an IDR it did not repeat them for). A segment that is
 * no H.264 is left out, as a driver's status or padding segment would be.
 */
static int vaapi_read_coded(struct cg_encoder *enc, struct cg_au **ret)
{
	VACodedBufferSegment *seg, *s;
	size_t total = 0;
	int r;

	r = vaapi_err(vaMapBuffer(enc->dpy, enc->coded, (void **)&seg));
	if (r < 0)
		return r;
	for (s = seg; s; s = s->next)
		total += s->size;
	cg_au_writer_begin(&enc->aw, total + total / 3 + 16); /* 3-byte start codes grow */
	for (s = seg; s; s = s->next)
		if (cg_au_writer_append_annexb(&enc->aw, s->buf, s->size) < 0)
			cg_debug("a coded segment of %u bytes is no H.264: left out", s->size);
	vaUnmapBuffer(enc->dpy, enc->coded);
	/* -EAGAIN: no slice came back (a skipped frame); the caller drops it and asks for an
	 * IDR, as the reference may be lost. */
	return cg_au_writer_finish(&enc->aw, ret);
}

static int vaapi_encode(struct cg_encoder *enc, struct cg_frame *f, struct cg_au **ret)
{
	struct cg_vaapi_pic_info pi;
	VABufferID ids[8];
	unsigned n = 0;
	VASurfaceID src;
	uint32_t copied;
	uint64_t t0 = cg_mono_usec();
	int r;

	if (!f || f->width != enc->cfg.width || f->height != enc->cfg.height)
		return -EINVAL;
	r = vaapi_source(enc, f, &src, &copied);
	if (r < 0)
		return r;
	pi = cg_vaapi_gop_next(&enc->gop);
	r = vaapi_params(enc, &pi, ids, &n);
	if (r == 0)
		r = vaapi_err(vaBeginPicture(enc->dpy, enc->ctx, src));
	if (r == 0)
		r = vaapi_err(vaRenderPicture(enc->dpy, enc->ctx, ids, (int)n));
	if (r == 0)
		r = vaapi_err(vaEndPicture(enc->dpy, enc->ctx));
	if (r == 0)
		r = vaapi_err(vaSyncSurface(enc->dpy, src));
	for (unsigned i = 0; i < n; i++)
		vaDestroyBuffer(enc->dpy, ids[i]);
	if (r == 0)
		r = vaapi_read_coded(enc, ret);
	if (r < 0) {
		enc->gop.force_idr = true; /* the reference may be lost */
		return r;
	}
	enc->cur ^= 1;
	(*ret)->capture_mono_usec = f->capture_mono_usec;
	(*ret)->capture_wall_usec = f->capture_wall_usec;
	(*ret)->frame_sequence = f->sequence;
	(*ret)->encode_usec = cg_mono_usec() - t0;
	(*ret)->copied_bytes = copied;
	return 0;
}

static void vaapi_request_keyframe(struct cg_encoder *enc)
{
	enc->gop.force_idr = true;
}

static int vaapi_set_bitrate(struct cg_encoder *enc, uint32_t kbps)
{
	if (!kbps)
		return -EINVAL;
	enc->cfg.bitrate_kbps = kbps;
	enc->rc_dirty = true;
	return 0;
}

static void vaapi_get_profile(struct cg_encoder *enc, uint8_t *profile_idc, uint8_t *constraints,
			      uint8_t *level_idc)
{
	bool main = enc->cfg.profile == CG_ENCODER_PROFILE_MAIN;

	if (profile_idc)
		*profile_idc = main ? 77 : 66;
	if (constraints)
		*constraints = main ? 0x00 : 0xc0;
	if (level_idc)
		*level_idc = enc->level_idc;
}

int cg_vaapi_print_devices(FILE *out)
{
	struct cg_encoder_cfg cfg = {
		.width = 1280, .height = 720, .fps = 30, .bitrate_kbps = 2000
	};
	int found = 0;

	for (unsigned i = 0; i < VAAPI_MAX_NODES; i++) {
		struct cg_encoder probe = { .drm_fd = -1, .cfg = cfg };
		char path[32];
		int r;

		probe.coded = probe.ctx = probe.config = VA_INVALID_ID;
		probe.cache = (struct cg_vaapi_cache){ .destroy = vaapi_destroy_surface,
						       .userdata = &probe };
		snprintf(path, sizeof(path), "/dev/dri/renderD%u", 128 + i);
		if (access(path, F_OK) < 0)
			continue;
		r = vaapi_setup(&probe, path);
		fprintf(out, "  vaapi %s: %s\n", path,
			r == 0 ? (probe.low_power ? "H.264 CBR, low-power entrypoint"
						  : "H.264 CBR, normal entrypoint")
			       : strerror(-r));
		found += r == 0;
		vaapi_teardown(&probe);
	}
	if (!found)
		fprintf(out, "  vaapi: no render node encodes H.264 here\n");
	return found;
}

const struct cg_encoder_ops cg_vaapi_encoder_ops = {
	.version = 1,
	.name = "vaapi",
	.open = vaapi_open,
	.encode = vaapi_encode,
	.request_keyframe = vaapi_request_keyframe,
	.set_bitrate = vaapi_set_bitrate,
	.get_profile = vaapi_get_profile,
	.close = vaapi_close,
};
