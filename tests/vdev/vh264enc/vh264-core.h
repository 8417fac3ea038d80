/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vh264-core: the bitstream half of vh264enc, the virtual V4L2 H.264 encoder of camgate's
 * vdev tests. Plain C shared by the kernel module (tests/vdev/vh264enc/vh264enc-main.c) and a
 * host unit test (tests/unit/hw/test-vh264.c) that decodes its output with FFmpeg.
 *
 * What it writes is real, decodable H.264 Constrained Baseline (profile_idc 66, constraint
 * flags 0 and 1), lossless by construction so a decoded frame equals the input:
 *  - an IDR is one slice of I_PCM macroblocks (raw samples);
 *  - a P picture is one slice where a macroblock equal to the previous picture is P_Skip
 *    (motion vector 0, no residual: a copy) and any other one is I_PCM;
 *  - deblocking is off in every slice, so nothing touches the copied samples;
 *  - SPS/PPS (with VUI: no reordering, one frame buffered) go in front of an IDR when asked.
 * Annex-B with 4-byte start codes; emulation prevention bytes inserted as written.
 *
 * Input: 8-bit 4:2:0 planes (any strides, chroma interleaved or not) or YUYV 4:2:2, whose
 * chroma is taken from the even lines. The coded size is the picture rounded up to whole
 * macroblocks, the edge repeated, and cropped back in the SPS.
 *
 * No allocation: the caller gives the two picture buffers (vh264_frame_bytes() each) and
 * the output buffer. Not thread-safe; one vh264_enc per stream.
 */
#ifndef VH264_CORE_H
#define VH264_CORE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#define VH264_MAX_WIDTH	 1920
#define VH264_MAX_HEIGHT 1088

/* A bit writer over a caller buffer: emulation prevention applied to NAL payload bytes. */
struct vh264_bw {
	uint8_t *buf;
	size_t cap, len;
	uint64_t cache; /* pending bits, most significant first */
	unsigned n;	/* bits in cache */
	unsigned zeros; /* consecutive 0x00 payload bytes written */
	bool overflow;
};

void vh264_bw_init(struct vh264_bw *bw, uint8_t *buf, size_t cap);
/* Writes the low n (<= 32) bits of v. */
void vh264_bw_u(struct vh264_bw *bw, unsigned n, uint32_t v);
/* Exp-Golomb ue(v) and se(v) (H.264 9.1). v <= 2^31 - 2. */
void vh264_bw_ue(struct vh264_bw *bw, uint32_t v);
void vh264_bw_se(struct vh264_bw *bw, int32_t v);
/* rbsp_trailing_bits(): a 1 and zeros to the byte boundary; flushes. */
void vh264_bw_trailing(struct vh264_bw *bw);
/* Zero bits to the byte boundary (pcm_alignment_zero_bit). */
void vh264_bw_align_zero(struct vh264_bw *bw);
/* Start code 00 00 00 01 and the NAL header byte, written raw (no escaping). */
void vh264_bw_nal_start(struct vh264_bw *bw, unsigned ref_idc, unsigned type);

enum vh264_input {
	VH264_IN_I420, /* planes 0, 1, 2: Y, Cb, Cr */
	VH264_IN_NV12, /* planes 0, 1: Y, CbCr interleaved */
	VH264_IN_YUYV, /* plane 0: Y0 Cb Y1 Cr */
};

struct vh264_picture {
	enum vh264_input fmt;
	const uint8_t *plane[3];
	uint32_t stride[3];
};

struct vh264_params {
	uint32_t width, height;
	uint8_t level_idc; /* written in the SPS */
};

struct vh264_enc {
	struct vh264_params p;
	uint32_t mb_w, mb_h;
	uint8_t *cur, *ref; /* coded-size I420 pictures: this one and the reference */
	bool have_ref;
	uint32_t frame_num; /* of the last picture */
	uint32_t idr_pic_id;
	/* What the last picture was (for the driver's counters and tests). */
	uint32_t last_intra_mbs, last_skip_mbs;
};

/* Bytes of one coded-size I420 picture for width x height. */
size_t vh264_frame_bytes(uint32_t width, uint32_t height);

/* Upper bound of one encoded picture with headers, for the output buffer. */
size_t vh264_max_au_bytes(uint32_t width, uint32_t height);

/*
 * Sets up enc for p with the two picture buffers (vh264_frame_bytes() each, owned by the
 * caller). Returns 0 or -EINVAL (size 0, odd, or above the maximum).
 */
int vh264_init(struct vh264_enc *enc, const struct vh264_params *p, uint8_t *cur, uint8_t *ref);

/* The next picture is an IDR (after init, a drain, a forced key frame). */
void vh264_reset(struct vh264_enc *enc);

/*
 * Encodes pic into out: an IDR when idr or when there is no reference yet, headed by
 * SPS/PPS when headers (an IDR always gets them when there was none before it is up to
 * the caller). Sets *is_idr. Returns the bytes written or -ENOSPC (cap too small; the
 * reference is then unchanged and the next picture is an IDR).
 */
long vh264_encode(struct vh264_enc *enc, const struct vh264_picture *pic, bool idr, bool headers,
		  uint8_t *out, size_t cap, bool *is_idr);

/* The picture as the decoder will show it, packed I420 width x height (for tests). */
void vh264_to_i420(const struct vh264_params *p, const struct vh264_picture *pic, uint8_t *out);

#endif
