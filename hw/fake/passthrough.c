/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CG_LOG_TOPIC "passthrough"

#include "hw/fake/passthrough.h"
#include "hw/h264util.h"
#include "util/log.h"
#include "util/macros.h"

#define PASS_PS_MAX 256u

struct cg_encoder {
	struct cg_encoder_cfg cfg;
	cg_passthrough_keyframe_fn kf_fn;
	void *kf_data;
	uint8_t profile_idc, constraints, level_idc;
	uint8_t ps[PASS_PS_MAX]; /* the last SPS + PPS, Annex-B */
	size_t ps_len;
};

static int pass_open(const struct cg_encoder_cfg *cfg, struct cg_encoder **ret)
{
	struct cg_encoder *enc;
	int level;

	if (!cfg || !ret)
		return -EINVAL;
	if (cfg->input_fourcc != CG_FOURCC_H264)
		return -ENOTSUP;
	enc = cg_new0(struct cg_encoder, 1);
	enc->cfg = *cfg;
	enc->cfg.device = NULL;
	/* Nothing is known of the camera's stream before its first SPS: declare what camgate
	 * asks of every encoder (cfg->profile, at the level for cfg). The media thread reads
	 * the SPS of the first key frame and announces that instead (daemon/media/media.c). */
	level = cg_h264util_level(cfg->width, cfg->height, cfg->fps, cfg->bitrate_kbps);
	enc->profile_idc = cfg->profile == CG_ENCODER_PROFILE_MAIN ? 77 : 66;
	enc->constraints = cfg->profile == CG_ENCODER_PROFILE_MAIN ? 0x00 : 0xc0;
	enc->level_idc = (uint8_t)(level < 0 ? 40 : level);
	*ret = enc;
	return 0;
}

static void pass_close(struct cg_encoder *enc)
{
	free(enc);
}

/* What the camera really sends: profile_idc, constraint flags, level_idc of its SPS. */
static void pass_note_profile(struct cg_encoder *enc, const struct cg_h264util_info *info)
{
	uint8_t b[3];

	if (!info->sps || cg_h264util_sps_profile(info->sps_nal, info->sps_len, b) < 0)
		return;
	if (b[0] != enc->profile_idc || b[1] != enc->constraints || b[2] != enc->level_idc)
		cg_debug("the camera's SPS says profile %u constraints 0x%02x level %u", b[0], b[1],
			 b[2]);
	enc->profile_idc = b[0];
	enc->constraints = b[1];
	enc->level_idc = b[2];
}

static void pass_note_ps(struct cg_encoder *enc, const struct cg_h264util_info *info)
{
	static const uint8_t sc4[4] = { 0, 0, 0, 1 };

	pass_note_profile(enc, info);
	if (!info->sps || !info->pps || info->sps_len + info->pps_len + 8 > PASS_PS_MAX ||
	    info->sps_len < 4)
		return;
	memcpy(enc->ps, sc4, 4);
	memcpy(enc->ps + 4, info->sps_nal, info->sps_len);
	memcpy(enc->ps + 4 + info->sps_len, sc4, 4);
	memcpy(enc->ps + 8 + info->sps_len, info->pps_nal, info->pps_len);
	enc->ps_len = info->sps_len + info->pps_len + 8;
}

static int pass_encode(struct cg_encoder *enc, struct cg_frame *f, struct cg_au **ret)
{
	struct cg_h264util_info info;
	const uint8_t *p = f ? f->planes[0].data : NULL;
	size_t n = f ? f->bytesused : 0;
	long len;
	bool add_ps;
	struct cg_au *au;

	if (!p || f->fourcc != CG_FOURCC_H264)
		return -EINVAL;
	len = cg_h264util_annexb(p, n, NULL, 0, &info);
	if (len < 0)
		return -EINVAL;
	pass_note_ps(enc, &info);
	if (!info.slice)
		return -EAGAIN;
	add_ps = info.idr && !info.sps && enc->ps_len;
	au = cg_au_new((size_t)len + (add_ps ? enc->ps_len : 0));
	if (add_ps) {
		memcpy(au->data, enc->ps, enc->ps_len);
		au->len = enc->ps_len;
	}
	au->len += (size_t)cg_h264util_annexb(p, n, au->data + au->len, au->cap - au->len, &info);
	au->keyframe = info.idr;
	au->capture_mono_usec = f->capture_mono_usec;
	au->capture_wall_usec = f->capture_wall_usec;
	au->frame_sequence = f->sequence;
	*ret = au;
	return 0;
}

static void pass_request_keyframe(struct cg_encoder *enc)
{
	int r;

	if (!enc->kf_fn)
		return;
	r = enc->kf_fn(enc->kf_data);
	if (r < 0)
		cg_debug("the camera cannot make a key frame on request: %s", strerror(-r));
}

static int pass_set_bitrate(struct cg_encoder *enc, uint32_t kbps)
{
	return -ENOTSUP;
}

static void pass_get_profile(struct cg_encoder *enc, uint8_t *profile_idc, uint8_t *constraints,
			     uint8_t *level_idc)
{
	if (profile_idc)
		*profile_idc = enc->profile_idc;
	if (constraints)
		*constraints = enc->constraints;
	if (level_idc)
		*level_idc = enc->level_idc;
}

void cg_passthrough_set_keyframe_fn(struct cg_encoder *enc, cg_passthrough_keyframe_fn fn,
				    void *userdata)
{
	enc->kf_fn = fn;
	enc->kf_data = userdata;
}

const struct cg_encoder_ops cg_passthrough_encoder_ops = {
	.version = 1,
	.name = "passthrough",
	.open = pass_open,
	.encode = pass_encode,
	.request_keyframe = pass_request_keyframe,
	.set_bitrate = pass_set_bitrate,
	.get_profile = pass_get_profile,
	.close = pass_close,
};
