// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vh264-core: see vh264-core.h. Syntax references are to ITU-T H.264 (08/2021): 7.3.2.1
 * (SPS), E.1.1 (VUI), 7.3.2.2 (PPS), 7.3.3 (slice header), 7.3.4 (slice data), 7.3.5
 * (macroblock layer), 9.1 (Exp-Golomb), 7.4.1 (emulation prevention).
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "vh264-core.h"

#define VH264_LOG2_MAX_FRAME_NUM 8
#define VH264_MB_TYPE_I_PCM	 25 /* in an I slice; 5 + 25 in a P slice (table 7-13) */
#define VH264_SLICE_P		 5  /* all slices of the picture are P (table 7-6) */
#define VH264_SLICE_I		 7

/* ---- bit writer ---- */

void vh264_bw_init(struct vh264_bw *bw, uint8_t *buf, size_t cap)
{
	memset(bw, 0, sizeof(*bw));
	bw->buf = buf;
	bw->cap = cap;
}

static void bw_raw(struct vh264_bw *bw, uint8_t b)
{
	if (bw->len == bw->cap) {
		bw->overflow = true;
		return;
	}
	bw->buf[bw->len++] = b;
}

/* A NAL payload byte: 00 00 followed by 00..03 gets an emulation prevention 03 first. */
static void bw_byte(struct vh264_bw *bw, uint8_t b)
{
	if (bw->zeros >= 2 && b <= 3) {
		bw_raw(bw, 3);
		bw->zeros = 0;
	}
	bw_raw(bw, b);
	bw->zeros = b ? 0 : bw->zeros + 1;
}

void vh264_bw_u(struct vh264_bw *bw, unsigned n, uint32_t v)
{
	if (!n)
		return;
	bw->cache = (bw->cache << n) | (v & (uint32_t)((1ull << n) - 1));
	bw->n += n;
	while (bw->n >= 8) {
		bw->n -= 8;
		bw_byte(bw, (uint8_t)(bw->cache >> bw->n));
	}
	bw->cache &= (1ull << bw->n) - 1;
}

void vh264_bw_ue(struct vh264_bw *bw, uint32_t v)
{
	uint32_t x = v + 1;
	unsigned len = 0;

	while (x >> len)
		len++;
	vh264_bw_u(bw, len - 1, 0);
	vh264_bw_u(bw, len, x);
}

void vh264_bw_se(struct vh264_bw *bw, int32_t v)
{
	vh264_bw_ue(bw, v > 0 ? 2 * (uint32_t)v - 1 : 2 * (uint32_t)(-(int64_t)v));
}

void vh264_bw_align_zero(struct vh264_bw *bw)
{
	if (bw->n)
		vh264_bw_u(bw, 8 - bw->n, 0);
}

void vh264_bw_trailing(struct vh264_bw *bw)
{
	vh264_bw_u(bw, 1, 1);
	vh264_bw_align_zero(bw);
}

void vh264_bw_nal_start(struct vh264_bw *bw, unsigned ref_idc, unsigned type)
{
	bw_raw(bw, 0);
	bw_raw(bw, 0);
	bw_raw(bw, 0);
	bw_raw(bw, 1);
	bw_raw(bw, (uint8_t)((ref_idc & 3) << 5 | (type & 31)));
	bw->zeros = 0;
}

/* ---- pictures ---- */

static uint32_t mbs(uint32_t n)
{
	return (n + 15) / 16;
}

size_t vh264_frame_bytes(uint32_t width, uint32_t height)
{
	size_t luma = (size_t)mbs(width) * 16 * mbs(height) * 16;

	return luma + luma / 2;
}

size_t vh264_max_au_bytes(uint32_t width, uint32_t height)
{
	/* 384 samples an MB, an escape byte at worst every other byte, mb_type and alignment. */
	return (size_t)mbs(width) * mbs(height) * (384 * 3 / 2 + 8) + 256;
}

/* n visible samples of row y of plane (0 Y, 1 Cb, 2 Cr) of pic, at 4:2:0 resolution. */
static void pic_row(const struct vh264_picture *pic, unsigned plane, uint32_t y, uint32_t n,
		    uint8_t *dst)
{
	const uint8_t *s;
	uint32_t x;

	switch (pic->fmt) {
	case VH264_IN_I420:
		memcpy(dst, pic->plane[plane] + (size_t)y * pic->stride[plane], n);
		return;
	case VH264_IN_NV12:
		if (!plane) {
			memcpy(dst, pic->plane[0] + (size_t)y * pic->stride[0], n);
			return;
		}
		s = pic->plane[1] + (size_t)y * pic->stride[1] + (plane - 1);
		for (x = 0; x < n; x++)
			dst[x] = s[2 * x];
		return;
	case VH264_IN_YUYV:
		/* 4:2:2 to 4:2:0: the chroma of the even line of each pair. */
		s = pic->plane[0] + (size_t)(plane ? 2 * y : y) * pic->stride[0];
		s += plane ? (plane == 1 ? 1 : 3) : 0;
		for (x = 0; x < n; x++)
			dst[x] = s[plane ? 4 * x : 2 * x];
		return;
	}
}

/* pic into enc->cur at the coded size, the right and bottom edges repeated. */
static void load_picture(struct vh264_enc *enc, const struct vh264_picture *pic)
{
	for (unsigned p = 0; p < 3; p++) {
		uint32_t cw = enc->mb_w * (p ? 8 : 16), ch = enc->mb_h * (p ? 8 : 16);
		uint32_t w = p ? enc->p.width / 2 : enc->p.width;
		uint32_t h = p ? enc->p.height / 2 : enc->p.height;
		size_t luma = (size_t)enc->mb_w * 16 * enc->mb_h * 16;
		uint8_t *base = enc->cur + (p ? luma + (p - 1) * luma / 4 : 0);

		for (uint32_t y = 0; y < ch; y++) {
			uint8_t *row = base + (size_t)y * cw;

			if (y < h)
				pic_row(pic, p, y, w, row);
			else
				memcpy(row, row - cw, cw);
			if (y < h && cw > w)
				memset(row + w, row[w - 1], cw - w);
		}
	}
}

void vh264_to_i420(const struct vh264_params *p, const struct vh264_picture *pic, uint8_t *out)
{
	for (unsigned pl = 0; pl < 3; pl++) {
		uint32_t w = pl ? p->width / 2 : p->width, h = pl ? p->height / 2 : p->height;

		for (uint32_t y = 0; y < h; y++, out += w)
			pic_row(pic, pl, y, w, out);
	}
}

int vh264_init(struct vh264_enc *enc, const struct vh264_params *p, uint8_t *cur, uint8_t *ref)
{
	if (!p->width || !p->height || (p->width | p->height) & 1 || p->width > VH264_MAX_WIDTH ||
	    p->height > VH264_MAX_HEIGHT || !cur || !ref)
		return -EINVAL;
	memset(enc, 0, sizeof(*enc));
	enc->p = *p;
	enc->mb_w = mbs(p->width);
	enc->mb_h = mbs(p->height);
	enc->cur = cur;
	enc->ref = ref;
	return 0;
}

void vh264_reset(struct vh264_enc *enc)
{
	enc->have_ref = false;
}

/* ---- parameter sets ---- */

static void write_vui(struct vh264_bw *bw)
{
	vh264_bw_u(bw, 5, 0); /* aspect ratio, overscan, signal type, chroma loc, timing */
	vh264_bw_u(bw, 3, 0); /* NAL HRD, VCL HRD, pic_struct */
	vh264_bw_u(bw, 1, 1); /* bitstream_restriction_flag: no frame waits for reordering */
	vh264_bw_u(bw, 1, 1); /* motion_vectors_over_pic_boundaries_flag */
	vh264_bw_ue(bw, 0);   /* max_bytes_per_pic_denom */
	vh264_bw_ue(bw, 0);   /* max_bits_per_mb_denom */
	vh264_bw_ue(bw, 9);   /* log2_max_mv_length_horizontal (every vector here is 0) */
	vh264_bw_ue(bw, 9);   /* log2_max_mv_length_vertical */
	vh264_bw_ue(bw, 0);   /* max_num_reorder_frames */
	vh264_bw_ue(bw, 1);   /* max_dec_frame_buffering */
}

static void write_sps(struct vh264_enc *enc, struct vh264_bw *bw)
{
	uint32_t crop_r = (enc->mb_w * 16 - enc->p.width) / 2;
	uint32_t crop_b = (enc->mb_h * 16 - enc->p.height) / 2;

	vh264_bw_nal_start(bw, 3, 7);
	vh264_bw_u(bw, 8, 66);	 /* profile_idc: Baseline */
	vh264_bw_u(bw, 8, 0xc0); /* constraint_set0 and 1: Constrained Baseline */
	vh264_bw_u(bw, 8, enc->p.level_idc);
	vh264_bw_ue(bw, 0); /* seq_parameter_set_id */
	vh264_bw_ue(bw, VH264_LOG2_MAX_FRAME_NUM - 4);
	vh264_bw_ue(bw, 2);   /* pic_order_cnt_type 2: output order is decoding order */
	vh264_bw_ue(bw, 1);   /* max_num_ref_frames */
	vh264_bw_u(bw, 1, 0); /* gaps_in_frame_num_value_allowed_flag */
	vh264_bw_ue(bw, enc->mb_w - 1);
	vh264_bw_ue(bw, enc->mb_h - 1);
	vh264_bw_u(bw, 1, 1); /* frame_mbs_only_flag */
	vh264_bw_u(bw, 1, 1); /* direct_8x8_inference_flag */
	vh264_bw_u(bw, 1, crop_r || crop_b);
	if (crop_r || crop_b) {
		vh264_bw_ue(bw, 0);
		vh264_bw_ue(bw, crop_r);
		vh264_bw_ue(bw, 0);
		vh264_bw_ue(bw, crop_b);
	}
	vh264_bw_u(bw, 1, 1); /* vui_parameters_present_flag */
	write_vui(bw);
	vh264_bw_trailing(bw);
}

static void write_pps(struct vh264_bw *bw)
{
	vh264_bw_nal_start(bw, 3, 8);
	vh264_bw_ue(bw, 0);   /* pic_parameter_set_id */
	vh264_bw_ue(bw, 0);   /* seq_parameter_set_id */
	vh264_bw_u(bw, 1, 0); /* entropy_coding_mode_flag: CAVLC */
	vh264_bw_u(bw, 1, 0); /* bottom_field_pic_order_in_frame_present_flag */
	vh264_bw_ue(bw, 0);   /* num_slice_groups_minus1 */
	vh264_bw_ue(bw, 0);   /* num_ref_idx_l0_default_active_minus1 */
	vh264_bw_ue(bw, 0);   /* num_ref_idx_l1_default_active_minus1 */
	vh264_bw_u(bw, 1, 0); /* weighted_pred_flag */
	vh264_bw_u(bw, 2, 0); /* weighted_bipred_idc */
	vh264_bw_se(bw, 0);   /* pic_init_qp_minus26 */
	vh264_bw_se(bw, 0);   /* pic_init_qs_minus26 */
	vh264_bw_se(bw, 0);   /* chroma_qp_index_offset */
	vh264_bw_u(bw, 1, 1); /* deblocking_filter_control_present_flag: slices turn it off */
	vh264_bw_u(bw, 1, 0); /* constrained_intra_pred_flag */
	vh264_bw_u(bw, 1, 0); /* redundant_pic_cnt_present_flag */
	vh264_bw_trailing(bw);
}

/* ---- slices ---- */

static void write_slice_header(struct vh264_enc *enc, struct vh264_bw *bw, bool idr)
{
	vh264_bw_nal_start(bw, idr ? 3 : 2, idr ? 5 : 1);
	vh264_bw_ue(bw, 0); /* first_mb_in_slice */
	vh264_bw_ue(bw, idr ? VH264_SLICE_I : VH264_SLICE_P);
	vh264_bw_ue(bw, 0); /* pic_parameter_set_id */
	vh264_bw_u(bw, VH264_LOG2_MAX_FRAME_NUM, enc->frame_num);
	if (idr)
		vh264_bw_ue(bw, enc->idr_pic_id);
	else
		vh264_bw_u(bw, 2, 0); /* num_ref_idx_active_override, ref_pic_list_modification */
	/* dec_ref_pic_marking: IDR no_output_of_prior_pics + long_term_reference; P adaptive */
	vh264_bw_u(bw, idr ? 2 : 1, 0);
	vh264_bw_se(bw, 0); /* slice_qp_delta */
	vh264_bw_ue(bw, 1); /* disable_deblocking_filter_idc: the samples stay as coded */
}

static const uint8_t *mb_at(const struct vh264_enc *enc, const uint8_t *pic, unsigned plane,
			    uint32_t mx, uint32_t my, uint32_t *stride, unsigned *size)
{
	size_t luma = (size_t)enc->mb_w * 16 * enc->mb_h * 16;

	*size = plane ? 8 : 16;
	*stride = enc->mb_w * *size;
	pic += plane ? luma + (plane - 1) * luma / 4 : 0;
	return pic + (size_t)my * *size * *stride + (size_t)mx * *size;
}

static bool mb_same(const struct vh264_enc *enc, uint32_t mx, uint32_t my)
{
	for (unsigned p = 0; p < 3; p++) {
		uint32_t stride;
		unsigned n;
		const uint8_t *a = mb_at(enc, enc->cur, p, mx, my, &stride, &n);
		const uint8_t *b = mb_at(enc, enc->ref, p, mx, my, &stride, &n);

		for (unsigned y = 0; y < n; y++)
			if (memcmp(a + (size_t)y * stride, b + (size_t)y * stride, n))
				return false;
	}
	return true;
}

static void write_pcm_mb(struct vh264_enc *enc, struct vh264_bw *bw, uint32_t mx, uint32_t my,
			 bool p_slice)
{
	vh264_bw_ue(bw, VH264_MB_TYPE_I_PCM + (p_slice ? 5 : 0));
	vh264_bw_align_zero(bw);
	for (unsigned p = 0; p < 3; p++) {
		uint32_t stride;
		unsigned n;
		const uint8_t *s = mb_at(enc, enc->cur, p, mx, my, &stride, &n);

		for (unsigned y = 0; y < n; y++)
			for (unsigned x = 0; x < n; x++)
				bw_byte(bw, s[(size_t)y * stride + x]);
	}
}

static void write_slice_data(struct vh264_enc *enc, struct vh264_bw *bw, bool idr)
{
	uint32_t skip = 0;

	enc->last_intra_mbs = enc->last_skip_mbs = 0;
	for (uint32_t my = 0; my < enc->mb_h; my++) {
		for (uint32_t mx = 0; mx < enc->mb_w; mx++) {
			if (!idr && mb_same(enc, mx, my)) {
				skip++;
				enc->last_skip_mbs++;
				continue;
			}
			if (!idr)
				vh264_bw_ue(bw, skip); /* mb_skip_run */
			skip = 0;
			write_pcm_mb(enc, bw, mx, my, !idr);
			enc->last_intra_mbs++;
		}
	}
	if (skip)
		vh264_bw_ue(bw, skip);
	vh264_bw_trailing(bw);
}

long vh264_encode(struct vh264_enc *enc, const struct vh264_picture *pic, bool idr, bool headers,
		  uint8_t *out, size_t cap, bool *is_idr)
{
	uint32_t frame_num = enc->frame_num;
	struct vh264_bw bw;
	uint8_t *t;

	idr = idr || !enc->have_ref;
	load_picture(enc, pic);
	enc->frame_num = idr ? 0 : (frame_num + 1) % (1u << VH264_LOG2_MAX_FRAME_NUM);
	vh264_bw_init(&bw, out, cap);
	if (headers) {
		write_sps(enc, &bw);
		write_pps(&bw);
	}
	write_slice_header(enc, &bw, idr);
	write_slice_data(enc, &bw, idr);
	if (bw.overflow) {
		enc->frame_num = frame_num;
		enc->have_ref = false;
		return -ENOSPC;
	}
	if (idr)
		enc->idr_pic_id = (enc->idr_pic_id + 1) % 65536;
	/* What the decoder now holds is this picture: the reference for the next one. */
	t = enc->ref;
	enc->ref = enc->cur;
	enc->cur = t;
	enc->have_ref = true;
	if (is_idr)
		*is_idr = idr;
	return (long)bw.len;
}
