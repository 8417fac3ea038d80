/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/au_writer.h"
#include "hw/h264util.h"
#include "util/macros.h"

enum aw_verdict {
	AW_KEEP,
	AW_DROP,
};

static const uint8_t aw_sc4[4] = { 0, 0, 0, 1 };

void cg_au_writer_init(struct cg_au_writer *w)
{
	memset(w, 0, sizeof(*w));
}

/* Whether a NAL is kept or dropped, or -EBADMSG when it cannot be H.264. */
static int aw_check(const uint8_t *nal, size_t n)
{
	uint8_t prof[3];
	unsigned type = nal[0] & 0x1f;

	if ((nal[0] & 0x80) || type == 0) /* forbidden_zero_bit, or no NAL type at all */
		return -EBADMSG;
	switch (type) {
	case CG_H264_NAL_SPS:
		return cg_h264util_sps_profile(nal, n, prof) < 0 ? -EBADMSG : AW_KEEP;
	case CG_H264_NAL_PPS:
		return n < 2 ? -EBADMSG : AW_KEEP;
	case CG_H264_NAL_AUD:
	case CG_H264_NAL_FILLER:
		return AW_DROP;
	default:
		if (type <= CG_H264_NAL_IDR) /* a slice has a header after the NAL's */
			return n < 2 ? -EBADMSG : AW_KEEP;
		/* RTP would read 24-31 as STAP/MTAP/FU (RFC 6184 5.2). */
		return type >= 24 ? AW_DROP : AW_KEEP;
	}
}

/* Room for more bytes in the AU; the payload is the AU's own block until it is handed out. */
static void aw_reserve(struct cg_au *au, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (au->len + more <= au->cap)
		return;
	cap = CG_MAX(au->cap * 2, au->len + more);
	p = realloc(au->data, cap);
	cg_assert(p);
	au->data = p;
	au->cap = cap;
}

/* Copies a parameter set into its cache slot. Returns whether the slot changed. */
static bool aw_cache(uint8_t *slot, size_t *slot_len, const uint8_t *nal, size_t n)
{
	if (n > CG_AU_WRITER_PS_MAX) { /* better none than a stale one in front of an IDR */
		bool had = *slot_len;

		*slot_len = 0;
		return had;
	}
	if (*slot_len == n && memcmp(slot, nal, n) == 0)
		return false;
	memcpy(slot, nal, n);
	*slot_len = n;
	return true;
}

static void aw_note(struct cg_au_writer *w, const uint8_t *nal, size_t n)
{
	switch (nal[0] & 0x1f) {
	case CG_H264_NAL_SPS:
		if (!w->has_sps)
			w->sps_end = w->au->len + 4 + n;
		w->has_sps = true;
		w->stats.sps_changes += aw_cache(w->sps, &w->sps_len, nal, n);
		w->has_profile = cg_h264util_sps_profile(nal, n, w->profile) == 0;
		break;
	case CG_H264_NAL_PPS:
		w->has_pps = true;
		aw_cache(w->pps, &w->pps_len, nal, n);
		break;
	case CG_H264_NAL_IDR:
		w->idr = true;
		w->slice = true;
		break;
	case 1: /* non-IDR slices and data partitions */
	case 2:
	case 3:
	case 4:
		w->slice = true;
		break;
	}
}

/* Writes a NAL aw_check() kept, behind a 4-byte start code. */
static void aw_put(struct cg_au_writer *w, const uint8_t *nal, size_t n)
{
	struct cg_au *au = w->au;

	aw_reserve(au, 4 + n);
	aw_note(w, nal, n);
	memcpy(au->data + au->len, aw_sc4, 4);
	memcpy(au->data + au->len + 4, nal, n);
	au->len += 4 + n;
}

void cg_au_writer_abort(struct cg_au_writer *w)
{
	w->au = cg_au_unref(w->au);
	w->has_sps = w->has_pps = w->idr = w->slice = false;
	w->sps_end = 0;
}

void cg_au_writer_begin(struct cg_au_writer *w, size_t size_hint)
{
	cg_au_writer_abort(w);
	w->au = cg_au_new(size_hint + w->sps_len + w->pps_len + 8);
}

int cg_au_writer_append_nal(struct cg_au_writer *w, const uint8_t *nal, size_t len)
{
	int r;

	if (!w->au)
		return -EINVAL;
	r = nal && len ? aw_check(nal, len) : -EBADMSG;
	if (r < 0) {
		w->stats.bad_input++;
		return r;
	}
	if (r == AW_DROP)
		w->stats.dropped_nals++;
	else
		aw_put(w, nal, len);
	return 0;
}

/* First pass: every NAL checked before anything is written, so a refusal changes nothing. */
static int aw_scan(const uint8_t *data, size_t len, size_t *out)
{
	struct cg_h264util_iter it;
	const uint8_t *nal;
	size_t n;
	int r = cg_h264util_iter_init(&it, data, len);

	*out = 0;
	while (r == 0 && cg_h264util_iter_next(&it, &nal, &n, NULL)) {
		r = aw_check(nal, n);
		if (r == AW_KEEP)
			*out += 4 + n;
		r = r < 0 ? r : 0;
	}
	return r;
}

int cg_au_writer_append_annexb(struct cg_au_writer *w, const uint8_t *data, size_t len)
{
	struct cg_h264util_iter it;
	const uint8_t *nal;
	size_t n, sc, out;
	int r;

	if (!w->au)
		return -EINVAL;
	r = aw_scan(data, len, &out);
	if (r < 0) {
		w->stats.bad_input++;
		return r;
	}
	aw_reserve(w->au, out);
	cg_h264util_iter_init(&it, data, len);
	while (cg_h264util_iter_next(&it, &nal, &n, &sc)) {
		w->stats.short_start_codes += sc == 3;
		if (aw_check(nal, n) == AW_DROP)
			w->stats.dropped_nals++;
		else
			aw_put(w, nal, n);
	}
	return 0;
}

/* Opens a gap of n bytes at offset at of the AU. */
static uint8_t *aw_gap(struct cg_au *au, size_t at, size_t n)
{
	aw_reserve(au, n);
	memmove(au->data + at + n, au->data + at, au->len - at);
	au->len += n;
	return au->data + at;
}

static uint8_t *aw_put_ps(uint8_t *p, const uint8_t *ps, size_t n)
{
	memcpy(p, aw_sc4, 4);
	memcpy(p + 4, ps, n);
	return p + 4 + n;
}

/*
 * An IDR without SPS or PPS gets the cached ones: the SPS at the front, a PPS after the
 * SPS (the AU's own, or the one just put in), as a decoder reads a PPS against its SPS.
 */
static void aw_complete_idr(struct cg_au_writer *w)
{
	bool add_sps = !w->has_sps && w->sps_len, add_pps = !w->has_pps && w->pps_len;
	size_t at = w->has_sps ? w->sps_end : 0;
	size_t n = (add_sps ? 4 + w->sps_len : 0) + (add_pps ? 4 + w->pps_len : 0);
	uint8_t *p;

	if (n) {
		p = aw_gap(w->au, at, n);
		if (add_sps)
			p = aw_put_ps(p, w->sps, w->sps_len);
		if (add_pps)
			aw_put_ps(p, w->pps, w->pps_len);
		w->stats.ps_inserted++;
	}
	if (!(w->has_sps || add_sps) || !(w->has_pps || add_pps))
		w->stats.bare_idrs++;
}

int cg_au_writer_finish(struct cg_au_writer *w, struct cg_au **ret)
{
	if (!w->au)
		return -EINVAL;
	if (!w->slice) {
		w->stats.headers_only += w->has_sps || w->has_pps;
		cg_au_writer_abort(w);
		return -EAGAIN;
	}
	if (w->idr)
		aw_complete_idr(w);
	w->au->keyframe = w->idr;
	w->stats.aus++;
	w->stats.keyframes += w->idr;
	*ret = w->au;
	w->au = NULL;
	cg_au_writer_abort(w); /* resets the per-AU flags; the AU is the caller's now */
	return 0;
}

int cg_au_writer_profile(const struct cg_au_writer *w, uint8_t ret[3])
{
	if (!w->has_profile)
		return -ENODATA;
	memcpy(ret, w->profile, 3);
	return 0;
}
