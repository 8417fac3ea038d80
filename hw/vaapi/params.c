/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/vaapi/params.h"

#define H264_PROFILE_MAIN 77

void cg_vaapi_gop_init(struct cg_vaapi_gop *g, uint32_t interval)
{
	memset(g, 0, sizeof(*g));
	g->interval = interval ? interval : 60;
}

struct cg_vaapi_pic_info cg_vaapi_gop_next(struct cg_vaapi_gop *g)
{
	struct cg_vaapi_pic_info pi = { 0 };

	if (!g->started || g->force_idr || g->frame_num + 1 >= g->interval) {
		/* H.264 7.4.3: consecutive IDRs must differ in idr_pic_id. */
		if (g->started)
			g->idr_pic_id++;
		g->started = true;
		g->force_idr = false;
		g->frame_num = 0;
		pi.idr = true;
	} else {
		g->frame_num++;
	}
	pi.frame_num = g->frame_num;
	pi.idr_pic_id = g->idr_pic_id;
	return pi;
}

uint32_t cg_vaapi_mbs(uint32_t pixels)
{
	return (pixels + 15) / 16;
}

static bool vaapi_main(const struct cg_encoder_cfg *cfg)
{
	return cfg->profile == CG_ENCODER_PROFILE_MAIN;
}

void cg_vaapi_fill_seq(VAEncSequenceParameterBufferH264 *s, const struct cg_encoder_cfg *cfg,
		       uint8_t level_idc)
{
	uint32_t w = cfg->width, h = cfg->height, mbw = cg_vaapi_mbs(w), mbh = cg_vaapi_mbs(h);

	memset(s, 0, sizeof(*s));
	s->level_idc = level_idc;
	s->intra_period = cfg->keyframe_interval;
	s->intra_idr_period = cfg->keyframe_interval;
	s->ip_period = 1; /* no B-frames: one frame in, its AU out */
	s->bits_per_second = cfg->bitrate_kbps * 1000;
	s->max_num_ref_frames = 1;
	s->picture_width_in_mbs = (uint16_t)mbw;
	s->picture_height_in_mbs = (uint16_t)mbh;
	s->seq_fields.bits.chroma_format_idc = 1;
	s->seq_fields.bits.frame_mbs_only_flag = 1;
	s->seq_fields.bits.direct_8x8_inference_flag = 1;
	s->seq_fields.bits.log2_max_frame_num_minus4 = 12; /* frame_num wraps at 65536 */
	s->seq_fields.bits.pic_order_cnt_type = 2;	   /* POC follows decode order */
	s->time_scale = cfg->fps * 2;
	s->num_units_in_tick = 1;
	s->vui_parameters_present_flag = 1;
	s->vui_fields.bits.timing_info_present_flag = 1;
	s->vui_fields.bits.fixed_frame_rate_flag = 1;
	s->vui_fields.bits.bitstream_restriction_flag = 1;
	s->vui_fields.bits.log2_max_mv_length_horizontal = 15;
	s->vui_fields.bits.log2_max_mv_length_vertical = 15;
	if (mbw * 16 != w || mbh * 16 != h) { /* crop the macroblock padding (7.4.2.1.1) */
		s->frame_cropping_flag = 1;
		s->frame_crop_right_offset = (mbw * 16 - w) / 2;
		s->frame_crop_bottom_offset = (mbh * 16 - h) / 2;
	}
}

void cg_vaapi_fill_pic(VAEncPictureParameterBufferH264 *p, const struct cg_encoder_cfg *cfg,
		       const struct cg_vaapi_pic_info *pi, VASurfaceID recon, VASurfaceID ref,
		       VABufferID coded)
{
	memset(p, 0, sizeof(*p));
	p->CurrPic.picture_id = recon;
	p->CurrPic.frame_idx = pi->frame_num;
	p->CurrPic.TopFieldOrderCnt = (int32_t)(pi->frame_num * 2);
	p->CurrPic.BottomFieldOrderCnt = p->CurrPic.TopFieldOrderCnt;
	for (unsigned i = 0; i < 16; i++) {
		p->ReferenceFrames[i].picture_id = VA_INVALID_SURFACE;
		p->ReferenceFrames[i].flags = VA_PICTURE_H264_INVALID;
	}
	if (!pi->idr) {
		p->ReferenceFrames[0].picture_id = ref;
		p->ReferenceFrames[0].frame_idx = pi->frame_num - 1;
		p->ReferenceFrames[0].flags = VA_PICTURE_H264_SHORT_TERM_REFERENCE;
		p->ReferenceFrames[0].TopFieldOrderCnt = (int32_t)((pi->frame_num - 1) * 2);
		p->ReferenceFrames[0].BottomFieldOrderCnt = p->ReferenceFrames[0].TopFieldOrderCnt;
	}
	p->coded_buf = coded;
	p->frame_num = (uint16_t)pi->frame_num;
	p->pic_init_qp = 26;
	p->pic_fields.bits.idr_pic_flag = pi->idr;
	p->pic_fields.bits.reference_pic_flag = 1;
	/* Constrained Baseline: CAVLC only; Main: CABAC. No 8x8 transform in either. */
	p->pic_fields.bits.entropy_coding_mode_flag = vaapi_main(cfg);
	p->pic_fields.bits.deblocking_filter_control_present_flag = 1;
}

void cg_vaapi_fill_slice(VAEncSliceParameterBufferH264 *s, const struct cg_encoder_cfg *cfg,
			 const struct cg_vaapi_pic_info *pi, VASurfaceID ref)
{
	memset(s, 0, sizeof(*s));
	s->num_macroblocks = cg_vaapi_mbs(cfg->width) * cg_vaapi_mbs(cfg->height);
	s->slice_type = pi->idr ? 2 : 0; /* I : P (Table 7-6) */
	s->idr_pic_id = pi->idr_pic_id;
	s->pic_order_cnt_lsb = (uint16_t)(pi->frame_num * 2);
	for (unsigned i = 0; i < 32; i++) {
		s->RefPicList0[i].picture_id = VA_INVALID_SURFACE;
		s->RefPicList0[i].flags = VA_PICTURE_H264_INVALID;
		s->RefPicList1[i].picture_id = VA_INVALID_SURFACE;
		s->RefPicList1[i].flags = VA_PICTURE_H264_INVALID;
	}
	if (!pi->idr) {
		s->RefPicList0[0].picture_id = ref;
		s->RefPicList0[0].frame_idx = pi->frame_num - 1;
		s->RefPicList0[0].flags = VA_PICTURE_H264_SHORT_TERM_REFERENCE;
		s->RefPicList0[0].TopFieldOrderCnt = (int32_t)((pi->frame_num - 1) * 2);
		s->RefPicList0[0].BottomFieldOrderCnt = s->RefPicList0[0].TopFieldOrderCnt;
	}
	s->slice_alpha_c0_offset_div2 = 0;
	s->slice_beta_offset_div2 = 0;
}

void cg_vaapi_fill_rc(VAEncMiscParameterRateControl *rc, uint32_t kbps)
{
	memset(rc, 0, sizeof(*rc));
	rc->bits_per_second = kbps * 1000;
	rc->target_percentage = 100; /* CBR: the target is the peak */
	rc->window_size = 1000;
	rc->initial_qp = 26;
	rc->min_qp = 10;
	rc->max_qp = 51;
}

uint64_t cg_vaapi_frame_key(const struct cg_frame *f)
{
	struct stat st;

	if (f->planes[0].dma_fd < 0 || fstat(f->planes[0].dma_fd, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

int cg_vaapi_cache_get(struct cg_vaapi_cache *c, const struct cg_frame *f, VASurfaceID *ret)
{
	uint64_t key = cg_vaapi_frame_key(f);
	struct cg_vaapi_cache_entry *lru = &c->e[0];
	int r;

	if (!key)
		return -EINVAL;
	c->clock++;
	for (unsigned i = 0; i < CG_VAAPI_CACHE; i++) {
		if (c->e[i].key == key) {
			c->e[i].used = c->clock;
			*ret = c->e[i].surface;
			return 0;
		}
		if (c->e[i].used < lru->used)
			lru = &c->e[i];
	}
	if (lru->key)
		c->destroy(c->userdata, lru->surface);
	lru->key = 0;
	r = c->import(c->userdata, f, &lru->surface);
	if (r < 0)
		return r;
	lru->key = key;
	lru->used = c->clock;
	*ret = lru->surface;
	return 0;
}

void cg_vaapi_cache_clear(struct cg_vaapi_cache *c)
{
	for (unsigned i = 0; i < CG_VAAPI_CACHE; i++) {
		if (c->e[i].key)
			c->destroy(c->userdata, c->e[i].surface);
		c->e[i].key = 0;
		c->e[i].used = 0;
	}
}
