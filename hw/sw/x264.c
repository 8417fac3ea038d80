/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* x264.h needs stdint.h first. */
#include <x264.h>

#define CG_LOG_TOPIC "x264"

#include "hw/au_writer.h"
#include "hw/sw/x264.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

/*
 * "veryfast" keeps deblocking and a real motion search (ultrafast drops both and looks
 * blocky at streaming bitrates) and still encodes 720p30 in a few ms per frame on 2 cores;
 * "zerolatency" removes lookahead, B-frames and frame threads so each frame comes out of
 * the encode call that took it in. A slower machine gets faster presets from the media
 * thread's speed policy (proto/speed.h) through set_preset.
 */
#define X264_PRESET "veryfast"
#define X264_TUNE   "zerolatency"
/*
 * x264.h: "many of the speed shortcuts used in ultrafast cannot be switched out of; using
 * reconfig to switch between ultrafast and other presets is not recommended". A change into
 * or out of it reopens the encoder instead, at the next key frame that is due anyway (a
 * requested one, or the keyframe interval's), so the switch costs no extra IDR.
 */
#define X264_PRESET_REOPEN "ultrafast"
/*
 * VBV buffer in frame periods at the target bitrate. One frame would bound every frame to
 * its average size, starving IDRs into mush; a few frames lets an IDR take several periods
 * on the wire while still capping the queueing delay it causes at about that long.
 */
#define X264_VBV_FRAMES	     4u
#define X264_DEFAULT_GOP_SEC 2u

#define H264_NAL_SPS	     7
#define H264_CONSTRAINT_SET0 0x80
#define H264_CONSTRAINT_SET1 0x40

struct cg_encoder {
	x264_t *x;
	x264_param_t param;
	struct cg_encoder_cfg cfg;
	bool want_idr;
	int64_t pts;
	const char *preset;	 /* running: one of x264_preset_names */
	const char *pending;	 /* a preset to reopen with at the next key frame, or NULL */
	uint32_t since_keyframe; /* frames encoded since the last IDR came out */
	/* From the SPS x264 wrote, after fixup: what the SDP answer must describe. */
	uint8_t profile_idc;
	uint8_t constraints;
	uint8_t level_idc;
	/* constraint_set bits to force into every SPS (x264 versions differ in what they set). */
	uint8_t force_constraints;
	struct cg_au_writer aw;
};

/*
 * Lowest level (x264's copy of H.264 Table A-1) that fits the size, macroblock rate,
 * bitrate and VBV buffer of cfg, or -ENOTSUP. Level 1b (idc 9) is skipped: it needs
 * constraint_set3 in Baseline, which browsers' profile-level-id parsers handle poorly.
 */
static int x264enc_pick_level(const struct cg_encoder_cfg *cfg, int vbv_kbit)
{
	int64_t mbw = (cfg->width + 15) / 16, mbh = (cfg->height + 15) / 16;
	int64_t fs = mbw * mbh;

	for (const x264_level_t *l = x264_levels; l->level_idc; l++) {
		if (l->level_idc == 9)
			continue;
		/* A.3.1: neither dimension may exceed sqrt(8 * MaxFS) macroblocks. */
		if (fs > l->frame_size || mbw * mbw > 8 * l->frame_size ||
		    mbh * mbh > 8 * l->frame_size)
			continue;
		if (fs * cfg->fps > l->mbps || (int64_t)cfg->bitrate_kbps > l->bitrate ||
		    vbv_kbit > l->cpb)
			continue;
		return l->level_idc;
	}
	return -ENOTSUP;
}

/* x264 would print to stderr; hw/ logs at debug at most and lets the caller decide. */
static void x264enc_log(void *opaque, int level, const char *fmt, va_list ap)
{
	char line[256];

	if (cg_log_get_level() < CG_LOG_DEBUG)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	cg_debug("x264[%d]: %s", level, line);
}

static void x264enc_set_rate(x264_param_t *p, uint32_t kbps, uint32_t fps)
{
	p->rc.i_rc_method = X264_RC_ABR;
	p->rc.i_bitrate = (int)kbps;
	p->rc.i_vbv_max_bitrate = (int)kbps;
	p->rc.i_vbv_buffer_size = (int)CG_MAX(kbps * X264_VBV_FRAMES / fps, 1u);
}

static int x264enc_validate(const struct cg_encoder_cfg *cfg)
{
	if (!cfg || !cfg->width || !cfg->height || cfg->width % 2 || cfg->height % 2 || !cfg->fps ||
	    !cfg->bitrate_kbps)
		return -EINVAL;
	if (cfg->profile != CG_ENCODER_PROFILE_CONSTRAINED_BASELINE &&
	    cfg->profile != CG_ENCODER_PROFILE_MAIN)
		return -EINVAL;
	/* I420 in CPU memory only: other formats go through hw/convert.h first. */
	if ((cfg->input_fourcc && cfg->input_fourcc != CG_FOURCC_I420) ||
	    (cfg->codec && cfg->codec != CG_FOURCC_H264))
		return -ENOTSUP;
	return 0;
}

/* x264's own spelling of name (a static string), or NULL when x264 has no such preset. */
static const char *x264enc_preset_name(const char *name)
{
	for (const char *const *n = x264_preset_names; name && *n; n++)
		if (strcmp(*n, name) == 0)
			return *n;
	return NULL;
}

/*
 * The parameter set for cfg at preset, built from x264's defaults for it each time (a
 * reconfig from the running set would keep the old preset's choices). level_idc 0 picks
 * the level from cfg; a running encoder passes its own so the SDP stays true. Returns 0, or
 * -ENOTSUP if x264 or the level table rejects it.
 */
static int x264enc_fill_param(x264_param_t *p, const struct cg_encoder_cfg *cfg, const char *preset,
			      int level_idc)
{
	const char *profile = cfg->profile == CG_ENCODER_PROFILE_MAIN ? "main" : "baseline";
	uint32_t gop =
		cfg->keyframe_interval ? cfg->keyframe_interval : cfg->fps * X264_DEFAULT_GOP_SEC;
	int level;

	if (x264_param_default_preset(p, preset, X264_TUNE) < 0)
		return -ENOTSUP;
	p->pf_log = x264enc_log;
	p->i_log_level = X264_LOG_WARNING;
	p->i_csp = X264_CSP_I420;
	p->i_width = (int)cfg->width;
	p->i_height = (int)cfg->height;
	p->i_fps_num = cfg->fps;
	p->i_fps_den = 1;
	p->b_vfr_input = 0;
	if (cfg->threads)
		p->i_threads = (int)cfg->threads;
	/* One frame in, its AU out: no frame threads, B-frames or lookahead to fill first. */
	p->b_sliced_threads = 1;
	p->i_sync_lookahead = 0;
	p->i_bframe = 0;
	p->rc.i_lookahead = 0;
	p->rc.b_mb_tree = 0;
	p->i_keyint_max = (int)gop;
	p->b_intra_refresh = 0;
	p->b_repeat_headers = 1; /* a viewer joining at any IDR needs SPS/PPS right there */
	p->b_annexb = 1;
	x264enc_set_rate(p, cfg->bitrate_kbps, cfg->fps);

	level = level_idc ? level_idc : x264enc_pick_level(cfg, p->rc.i_vbv_buffer_size);
	if (level < 0)
		return level;
	p->i_level_idc = level;
	if (x264_param_apply_profile(p, profile) < 0)
		return -ENOTSUP;
	return 0;
}

/* Length of the Annex-B start code at the head of an x264 NAL payload (3 or 4), or 0. */
static size_t x264enc_startcode_len(const uint8_t *p, size_t len)
{
	if (len >= 4 && !p[0] && !p[1] && !p[2] && p[3] == 1)
		return 4;
	if (len >= 3 && !p[0] && !p[1] && p[2] == 1)
		return 3;
	return 0;
}

/*
 * Forces the wanted constraint_set bits into an SPS (nal points at the NAL header). The
 * constraint byte follows profile_idc, which is never 0, so no emulation-prevention byte can
 * sit in front of it and OR-ing bits in keeps the escaping valid.
 */
static void x264enc_fix_sps(const struct cg_encoder *enc, uint8_t *nal, size_t len)
{
	if (len >= 4 && (nal[0] & 0x1f) == H264_NAL_SPS)
		nal[2] |= enc->force_constraints;
}

/* Reads profile, constraints and level from x264's SPS, as every IDR will carry it. */
static int x264enc_read_sps(struct cg_encoder *enc)
{
	x264_nal_t *nals;
	int n;

	if (x264_encoder_headers(enc->x, &nals, &n) < 0)
		return -EIO;
	for (int i = 0; i < n; i++) {
		uint8_t *p = nals[i].p_payload;
		size_t len = (size_t)nals[i].i_payload, sc = x264enc_startcode_len(p, len);

		if (nals[i].i_type != NAL_SPS || len < sc + 4)
			continue;
		x264enc_fix_sps(enc, p + sc, len - sc);
		enc->profile_idc = p[sc + 1];
		enc->constraints = p[sc + 2];
		enc->level_idc = p[sc + 3];
		return 0;
	}
	return -EIO;
}

static int x264enc_open(const struct cg_encoder_cfg *cfg, struct cg_encoder **ret)
{
	struct cg_encoder *enc;
	int r;

	r = x264enc_validate(cfg);
	if (r < 0)
		return r;
	enc = cg_new0(struct cg_encoder, 1);
	enc->cfg = *cfg;
	enc->cfg.preset = NULL; /* borrowed for the call only: enc->preset is x264's string */
	enc->want_idr = true;
	enc->preset = x264enc_preset_name(cfg->preset ? cfg->preset : X264_PRESET);
	if (!enc->preset) {
		r = -EINVAL;
		goto fail;
	}
	cg_au_writer_init(&enc->aw);
	/* Chromium matches the SDP's profile-level-id against the stream: 42e0/42c0 means
	 * Constrained Baseline only with constraint_set1. */
	if (cfg->profile == CG_ENCODER_PROFILE_CONSTRAINED_BASELINE)
		enc->force_constraints = H264_CONSTRAINT_SET0 | H264_CONSTRAINT_SET1;

	r = x264enc_fill_param(&enc->param, cfg, enc->preset, 0);
	if (r < 0)
		goto fail;
	enc->x = x264_encoder_open(&enc->param);
	if (!enc->x) {
		r = -ENOTSUP;
		goto fail;
	}
	r = x264enc_read_sps(enc);
	if (r < 0)
		goto fail;

	cg_debug("x264 %ux%u@%u %u kb/s preset %s profile %u constraints 0x%02x level %u",
		 cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps, enc->preset,
		 enc->profile_idc, enc->constraints, enc->level_idc);
	*ret = enc;
	return 0;

fail:
	if (enc->x)
		x264_encoder_close(enc->x);
	free(enc);
	return r;
}

static void x264enc_close(struct cg_encoder *enc)
{
	if (!enc)
		return;
	cg_au_writer_abort(&enc->aw);
	x264_encoder_close(enc->x);
	free(enc);
}

static int x264enc_check_frame(const struct cg_encoder *enc, const struct cg_frame *f)
{
	if (!f || f->fourcc != CG_FOURCC_I420 || f->n_planes < 3 || f->width != enc->cfg.width ||
	    f->height != enc->cfg.height)
		return -EINVAL;
	for (unsigned i = 0; i < 3; i++) {
		uint32_t w = i ? f->width / 2 : f->width;

		if (!f->planes[i].data || f->planes[i].stride < w)
			return -EINVAL;
	}
	return 0;
}

/*
 * The NALs as one AU (hw/au_writer.h: 4-byte start codes where x264 writes 3-byte ones for
 * all but the first slice), each SPS fixed up in x264's own buffer first so that the AU and
 * the writer's cache carry the fixed one.
 */
static int x264enc_build_au(struct cg_encoder *enc, x264_nal_t *nals, int n, int frame_size,
			    struct cg_au **ret)
{
	int r = 0;

	cg_au_writer_begin(&enc->aw, (size_t)frame_size + (size_t)n);
	for (int i = 0; i < n && r == 0; i++) {
		uint8_t *p = nals[i].p_payload;
		size_t len = (size_t)nals[i].i_payload, sc = x264enc_startcode_len(p, len);

		if (nals[i].i_type == NAL_SPS && sc)
			x264enc_fix_sps(enc, p + sc, len - sc);
		r = cg_au_writer_append_annexb(&enc->aw, p, len);
	}
	if (r < 0) { /* b_annexb guarantees start codes: x264 itself went wrong */
		cg_au_writer_abort(&enc->aw);
		return -EIO;
	}
	return cg_au_writer_finish(&enc->aw, ret);
}

/*
 * A pending preset change that reconfig cannot make: a new encoder with that preset takes
 * over when the next frame is to be an IDR anyway. If it does not open, the running one
 * stays (and says so at debug: the media thread's policy asks again if it must).
 */
static void x264enc_reopen_if_due(struct cg_encoder *enc)
{
	x264_param_t p;
	x264_t *x;

	if (!enc->pending ||
	    (!enc->want_idr && enc->since_keyframe + 1 < (uint32_t)enc->param.i_keyint_max))
		return;
	if (x264enc_fill_param(&p, &enc->cfg, enc->pending, enc->param.i_level_idc) < 0 ||
	    !(x = x264_encoder_open(&p))) {
		cg_debug("x264 cannot reopen with preset %s, keeping %s", enc->pending,
			 enc->preset);
		enc->pending = NULL;
		return;
	}
	x264_encoder_close(enc->x);
	enc->x = x;
	enc->param = p;
	cg_debug("x264 reopened: preset %s -> %s", enc->preset, enc->pending);
	enc->preset = enc->pending;
	enc->pending = NULL;
	enc->want_idr = true;
	if (x264enc_read_sps(enc) < 0)
		cg_debug("x264 wrote no SPS on reopen: the profile stays as it was");
}

static int x264enc_encode(struct cg_encoder *enc, struct cg_frame *frame, struct cg_au **ret)
{
	x264_picture_t in, out;
	x264_nal_t *nals;
	uint64_t t0, t1;
	struct cg_au *au;
	int n, size, r;

	r = x264enc_check_frame(enc, frame);
	if (r < 0)
		return r;

	x264enc_reopen_if_due(enc);
	x264_picture_init(&in);
	in.img.i_csp = X264_CSP_I420;
	in.img.i_plane = 3;
	for (int i = 0; i < 3; i++) {
		/* x264 copies the planes into its own frame inside the call (counted below). */
		in.img.plane[i] = frame->planes[i].data;
		in.img.i_stride[i] = (int)frame->planes[i].stride;
	}
	in.i_pts = enc->pts++;
	in.i_type = enc->want_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;

	t0 = cg_mono_usec();
	size = x264_encoder_encode(enc->x, &nals, &n, &in, &out);
	t1 = cg_mono_usec();
	if (size < 0)
		return -EIO;
	if (size == 0 || n == 0)
		return -EAGAIN;
	enc->want_idr = false;
	enc->since_keyframe = out.b_keyframe ? 0 : enc->since_keyframe + 1;

	r = x264enc_build_au(enc, nals, n, size, &au);
	if (r < 0)
		return r;
	au->capture_mono_usec = frame->capture_mono_usec;
	au->capture_wall_usec = frame->capture_wall_usec;
	au->frame_sequence = frame->sequence;
	au->encode_usec = t1 - t0;
	au->copied_bytes = frame->width * frame->height * 3 / 2;
	*ret = au;
	return 0;
}

static void x264enc_request_keyframe(struct cg_encoder *enc)
{
	enc->want_idr = true;
}

static int x264enc_set_bitrate(struct cg_encoder *enc, uint32_t kbps)
{
	x264_param_t p;

	if (!kbps)
		return -EINVAL;
	/* Work on a copy so a refused change leaves the stored parameters as they run. */
	p = enc->param;
	x264enc_set_rate(&p, kbps, enc->cfg.fps);
	if (x264_encoder_reconfig(enc->x, &p) < 0)
		return -ENOTSUP;
	enc->param = p;
	enc->cfg.bitrate_kbps = kbps;
	return 0;
}

static bool x264enc_needs_reopen(const char *from, const char *to)
{
	return from != to &&
	       (strcmp(from, X264_PRESET_REOPEN) == 0 || strcmp(to, X264_PRESET_REOPEN) == 0);
}

static int x264enc_set_preset(struct cg_encoder *enc, const char *name)
{
	const char *preset = x264enc_preset_name(name);
	x264_param_t p;

	if (!preset)
		return -EINVAL;
	if (x264enc_needs_reopen(enc->preset, preset)) {
		enc->pending = preset;
		return 0;
	}
	enc->pending = NULL; /* a change of mind before the key frame: nothing to reopen */
	if (preset == enc->preset)
		return 0;
	if (x264enc_fill_param(&p, &enc->cfg, preset, enc->param.i_level_idc) < 0 ||
	    x264_encoder_reconfig(enc->x, &p) < 0)
		return -ENOTSUP;
	cg_debug("x264 reconfigured: preset %s -> %s", enc->preset, preset);
	enc->param = p;
	enc->preset = preset;
	return 0;
}

static void x264enc_get_profile(struct cg_encoder *enc, uint8_t *profile_idc, uint8_t *constraints,
				uint8_t *level_idc)
{
	if (profile_idc)
		*profile_idc = enc->profile_idc;
	if (constraints)
		*constraints = enc->constraints;
	if (level_idc)
		*level_idc = enc->level_idc;
}

const struct cg_encoder_ops cg_x264_encoder_ops = {
	.version = 1,
	.name = "x264",
	.open = x264enc_open,
	.encode = x264enc_encode,
	.request_keyframe = x264enc_request_keyframe,
	.set_bitrate = x264enc_set_bitrate,
	.get_profile = x264enc_get_profile,
	.close = x264enc_close,
	.set_preset = x264enc_set_preset,
};
