/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CG_LOG_TOPIC "passthrough"

#include "hw/au_writer.h"
#include "hw/fake/passthrough.h"
#include "hw/h264util.h"
#include "util/log.h"
#include "util/macros.h"

struct cg_encoder {
	struct cg_encoder_cfg cfg;
	cg_passthrough_keyframe_fn kf_fn;
	void *kf_data;
	uint8_t profile_idc, constraints, level_idc;
	struct cg_au_writer aw;
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
	cg_au_writer_init(&enc->aw);
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
	if (!enc)
		return;
	cg_au_writer_abort(&enc->aw);
	free(enc);
}

/* What the camera really sends: profile_idc, constraint flags, level_idc of its SPS. */
static void pass_note_profile(struct cg_encoder *enc)
{
	uint8_t b[3];

	if (cg_au_writer_profile(&enc->aw, b) < 0)
		return;
	if (b[0] != enc->profile_idc || b[1] != enc->constraints || b[2] != enc->level_idc)
		cg_debug("the camera's SPS says profile %u constraints 0x%02x level %u", b[0], b[1],
			 b[2]);
	enc->profile_idc = b[0];
	enc->constraints = b[1];
	enc->level_idc = b[2];
}

static int pass_encode(struct cg_encoder *enc, struct cg_frame *f, struct cg_au **ret)
{
	const uint8_t *p = f ? f->planes[0].data : NULL;
	size_t n = f ? f->bytesused : 0;
	struct cg_au *au;
	int r;

	if (!p || !n || f->fourcc != CG_FOURCC_H264)
		return -EINVAL;
	cg_au_writer_begin(&enc->aw, n);
	r = cg_au_writer_append_annexb(&enc->aw, p, n);
	if (r < 0) {
		cg_au_writer_abort(&enc->aw);
		return -EINVAL;
	}
	pass_note_profile(enc);
	r = cg_au_writer_finish(&enc->aw, &au);
	if (r < 0) /* -EAGAIN: headers alone, cached for the next IDR */
		return r;
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
