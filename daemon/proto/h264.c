/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/h264.h"
#include "util/macros.h"

/* RFC 6184 §5.7.1: at most this many NALs are aggregated in one STAP-A. */
#define STAP_MAX_NALS  16
#define FU_HEADER_SIZE 2

/* Finds the next start code (00 00 01) at or after pos: returns its offset, or len if none. */
static size_t h264_find_start(const uint8_t *buf, size_t len, size_t pos)
{
	while (pos + 3 <= len) {
		const uint8_t *one = memchr(buf + pos + 2, 0x01, len - pos - 2);
		size_t i;

		if (!one)
			return len;
		i = (size_t)(one - buf);
		if (buf[i - 1] == 0 && buf[i - 2] == 0)
			return i - 2;
		pos = i - 1;
	}
	return len;
}

/* Offset just after the first start code, where the first NAL begins (len if none). */
static size_t h264_first_nal(const uint8_t *buf, size_t len)
{
	size_t sc = h264_find_start(buf, len, 0);

	return sc == len ? len : sc + 3;
}

/*
 * Iterates NAL units: *pos is the offset just after a start code (or len at the end).
 * Returns true with *ret set, skipping empty NALs. The NAL ends where the next start code's
 * zero bytes begin, so the leading zero of a 4-byte start code and trailing_zero_8bits
 * (H.264 B.1.1) are never part of it.
 */
static bool h264_next_nal(const uint8_t *buf, size_t len, size_t *pos, struct cg_h264_nal *ret)
{
	while (*pos < len) {
		size_t start = *pos;
		size_t end = h264_find_start(buf, len, start);

		*pos = end == len ? len : end + 3;
		while (end > start && buf[end - 1] == 0)
			end--;
		if (end > start) {
			*ret = (struct cg_h264_nal){ buf + start, end - start, buf[start] & 0x1f };
			return true;
		}
	}
	return false;
}

int cg_h264_split_annexb(const uint8_t *buf, size_t len, struct cg_h264_nal *nals, size_t max_nals)
{
	size_t pos, n = 0;
	struct cg_h264_nal nal;

	if (!buf)
		return -EBADMSG;
	/* Bytes before the first start code (leading_zero_8bits or junk) are not a NAL. */
	pos = h264_first_nal(buf, len);
	while (h264_next_nal(buf, len, &pos, &nal)) {
		if (n == max_nals)
			return -ENOSPC;
		nals[n++] = nal;
	}
	return n ? (int)n : -EBADMSG;
}

size_t cg_h264_plan_arena_bound(size_t au_len, size_t max_payload)
{
	/*
	 * Every NAL is preceded by a ≥3-byte start code, which covers a STAP-A's 2-byte size
	 * field plus its share of the 1-byte STAP header, and a FU-A NAL's dropped header
	 * byte. What remains is 2 bytes of FU indicator/header per fragment.
	 */
	size_t frag = max_payload > FU_HEADER_SIZE ? max_payload - FU_HEADER_SIZE : 1;
	return au_len + 2 * (au_len / frag + 2) + 16;
}

size_t cg_h264_plan_items_bound(size_t au_len, size_t max_payload)
{
	size_t frag = max_payload > FU_HEADER_SIZE ? max_payload - FU_HEADER_SIZE : 1;
	/* A NAL costs ≥ 4 input bytes; fragments add one item per frag bytes. */
	return au_len / 4 + au_len / frag + 2;
}

struct plan_ctx {
	struct cg_h264_plan *plan;
	size_t max_payload;
	struct cg_h264_nal stap[STAP_MAX_NALS];
	size_t n_stap;
	size_t stap_size; /* payload size if flushed as a STAP-A now */
};

/* Appends one payload item and reserves its bytes in the arena. */
static uint8_t *plan_item(struct cg_h264_plan *plan, size_t len)
{
	uint8_t *p;

	if (plan->n_items == plan->items_cap || len > plan->arena_cap - plan->arena_len)
		return NULL;
	plan->items[plan->n_items++] = (struct cg_h264_payload){
		.offset = (uint32_t)plan->arena_len,
		.len = (uint16_t)len,
	};
	p = plan->arena + plan->arena_len;
	plan->arena_len += len;
	return p;
}

/* RFC 6184 §5.6: single NAL unit packet, the NAL verbatim. */
static int plan_single(struct cg_h264_plan *plan, const struct cg_h264_nal *nal)
{
	uint8_t *p = plan_item(plan, nal->len);

	if (!p)
		return -ENOSPC;
	memcpy(p, nal->data, nal->len);
	return 0;
}

/* RFC 6184 §5.8: FU-A fragments; the NAL header is carried split over indicator and header. */
static int plan_fu_a(struct cg_h264_plan *plan, const struct cg_h264_nal *nal, size_t max_payload)
{
	const uint8_t *src = nal->data + 1;
	size_t left = nal->len - 1, chunk = max_payload - FU_HEADER_SIZE;
	uint8_t indicator = (uint8_t)((nal->data[0] & 0xe0) | CG_H264_NAL_FU_A);
	bool first = true;

	while (left > 0) {
		size_t n = CG_MIN(left, chunk);
		uint8_t *p = plan_item(plan, n + FU_HEADER_SIZE);

		if (!p)
			return -ENOSPC;
		p[0] = indicator;
		p[1] = (uint8_t)((first ? 0x80 : 0) | (n == left ? 0x40 : 0) | nal->type);
		memcpy(p + FU_HEADER_SIZE, src, n);
		src += n;
		left -= n;
		first = false;
	}
	return 0;
}

static int plan_nal(struct plan_ctx *c, const struct cg_h264_nal *nal)
{
	/* A NAL of 1 byte has nothing to fragment; it always fits (max_payload ≥ 64). */
	if (nal->len <= c->max_payload)
		return plan_single(c->plan, nal);
	return plan_fu_a(c->plan, nal, c->max_payload);
}

/* RFC 6184 §5.7.1: STAP-A; F is the OR and NRI the maximum of the aggregated NALs. */
static int plan_flush_stap(struct plan_ctx *c)
{
	uint8_t hdr = 0, *p;
	struct cg_bytes_writer w;
	size_t n = c->n_stap;

	c->n_stap = 0;
	if (n == 0)
		return 0;
	if (n == 1)
		return plan_single(c->plan, &c->stap[0]);
	p = plan_item(c->plan, c->stap_size);
	if (!p)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		uint8_t h = c->stap[i].data[0];
		hdr = (uint8_t)((hdr & 0x80) | (h & 0x80) | CG_MAX(hdr & 0x60, h & 0x60));
	}
	cg_bytes_writer_init(&w, p, c->stap_size);
	cg_bytes_write_u8(&w, (uint8_t)(hdr | CG_H264_NAL_STAP_A));
	for (size_t i = 0; i < n; i++) {
		cg_bytes_write_u16(&w, (uint16_t)c->stap[i].len);
		cg_bytes_write_bytes(&w, c->stap[i].data, c->stap[i].len);
	}
	cg_assert(cg_bytes_writer_ok(&w) && cg_bytes_written(&w) == c->stap_size);
	return 0;
}

/* Queues a pre-slice NAL for aggregation; returns 1 if it was queued, 0 if it cannot be. */
static int plan_try_stap(struct plan_ctx *c, const struct cg_h264_nal *nal)
{
	int r;

	if (1 + 2 + nal->len > c->max_payload)
		return 0;
	if (c->n_stap == STAP_MAX_NALS || c->stap_size + 2 + nal->len > c->max_payload) {
		r = plan_flush_stap(c);
		if (r < 0)
			return r;
	}
	if (c->n_stap == 0)
		c->stap_size = 1;
	c->stap[c->n_stap++] = *nal;
	c->stap_size += 2 + nal->len;
	return 1;
}

static bool h264_is_slice(uint8_t type)
{
	return type >= CG_H264_NAL_SLICE && type <= CG_H264_NAL_IDR;
}

static int plan_add(struct plan_ctx *c, const struct cg_h264_nal *nal, bool *seen_slice)
{
	int r;

	if (nal->type == CG_H264_NAL_IDR)
		c->plan->keyframe = true;
	if (!*seen_slice && !h264_is_slice(nal->type)) {
		r = plan_try_stap(c, nal);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	r = plan_flush_stap(c);
	if (r < 0)
		return r;
	*seen_slice |= h264_is_slice(nal->type);
	return plan_nal(c, nal);
}

int cg_h264_plan_build(struct cg_h264_plan *plan, const uint8_t *annexb, size_t len,
		       size_t max_payload)
{
	struct plan_ctx c = { .plan = plan, .max_payload = max_payload };
	struct cg_h264_nal nal;
	bool seen_slice = false, sps = false, pps = false;
	size_t pos;
	int r = 0;

	if (max_payload < 64 || max_payload > UINT16_MAX)
		return -EINVAL;
	plan->arena_len = 0;
	plan->n_items = 0;
	plan->keyframe = false;
	plan->has_sps_pps = false;
	if (!annexb)
		return -EBADMSG;
	pos = h264_first_nal(annexb, len);
	while (r >= 0 && h264_next_nal(annexb, len, &pos, &nal)) {
		/* RFC 6184 §5.1 leaves AUDs to the sender; they are useless over RTP. */
		if (nal.type == CG_H264_NAL_AUD)
			continue;
		/* Types 0 and 24..31 would read as RTP aggregation/fragmentation units (§5.2). */
		if (nal.type == 0 || nal.type >= CG_H264_NAL_STAP_A) {
			r = -EBADMSG;
			break;
		}
		sps |= nal.type == CG_H264_NAL_SPS;
		pps |= nal.type == CG_H264_NAL_PPS;
		r = plan_add(&c, &nal, &seen_slice);
	}
	if (r >= 0)
		r = plan_flush_stap(&c);
	if (r < 0)
		return r;
	if (plan->n_items == 0)
		return -EBADMSG;
	if (plan->arena_len > UINT32_MAX)
		return -ENOSPC;
	plan->has_sps_pps = sps && pps;
	plan->items[plan->n_items - 1].marker = true;
	return 0;
}

/* Reads the first bytes of a NAL's RBSP, dropping emulation_prevention_three_byte (7.4.1). */
static size_t h264_unescape_prefix(const uint8_t *nal, size_t len, uint8_t *out, size_t n)
{
	size_t o = 0, zeros = 0;

	for (size_t i = 1; i < len && o < n; i++) {
		if (zeros >= 2 && nal[i] == 0x03) {
			zeros = 0;
			continue;
		}
		zeros = nal[i] == 0 ? zeros + 1 : 0;
		out[o++] = nal[i];
	}
	return o;
}

int cg_h264_sps_profile(const uint8_t *sps, size_t len, struct cg_h264_profile *ret)
{
	uint8_t b[3];

	if (!sps || len < 4 || (sps[0] & 0x1f) != CG_H264_NAL_SPS || (sps[0] & 0x80))
		return -EBADMSG;
	if (h264_unescape_prefix(sps, len, b, sizeof(b)) < sizeof(b))
		return -EBADMSG;
	*ret = (struct cg_h264_profile){ .profile_idc = b[0],
					 .constraints = b[1],
					 .level_idc = b[2] };
	return 0;
}

int cg_h264_au_sps_profile(const uint8_t *annexb, size_t len, struct cg_h264_profile *ret)
{
	size_t pos = annexb ? h264_first_nal(annexb, len) : len;

	while (pos < len) {
		uint8_t type = annexb[pos] & 0x1f;
		size_t end, n;

		if (type >= CG_H264_NAL_SLICE && type <= CG_H264_NAL_IDR)
			return -ENOENT;
		end = h264_find_start(annexb, len, pos);
		if (type == CG_H264_NAL_SPS) {
			/* As h264_next_nal: the next start code's zeros are not the SPS's. */
			for (n = end; n > pos && annexb[n - 1] == 0; n--)
				;
			return cg_h264_sps_profile(annexb + pos, n - pos, ret);
		}
		pos = end == len ? len : end + 3;
	}
	return -ENOENT;
}

static int h264_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cg_h264_profile_from_string(const char *hex6, struct cg_h264_profile *ret)
{
	uint8_t v[3];

	if (!hex6)
		return -EINVAL;
	for (size_t i = 0; i < 3; i++) {
		int hi = h264_hex(hex6[2 * i]), lo = hi < 0 ? -1 : h264_hex(hex6[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex6[6] != '\0')
		return -EINVAL;
	*ret = (struct cg_h264_profile){ v[0], v[1], v[2] };
	return 0;
}

void cg_h264_profile_to_string(const struct cg_h264_profile *p, char out[7])
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t v[3] = { p->profile_idc, p->constraints, p->level_idc };

	for (size_t i = 0; i < 3; i++) {
		out[2 * i] = digits[v[i] >> 4];
		out[2 * i + 1] = digits[v[i] & 0x0f];
	}
	out[6] = '\0';
}

bool cg_h264_profile_is_constrained_baseline(const struct cg_h264_profile *p)
{
	return p->profile_idc == 66 && (p->constraints & 0x40);
}

static void depack_reset(struct cg_h264_depacketizer *d)
{
	d->len = 0;
	d->in_fu = false;
}

static int depack_append_nal(struct cg_h264_depacketizer *d, const uint8_t *nal, size_t len)
{
	static const uint8_t start[4] = { 0, 0, 0, 1 };

	if (len == 0 || (nal[0] & 0x1f) == 0 || (nal[0] & 0x1f) >= CG_H264_NAL_STAP_A)
		return -EBADMSG;
	if (d->cap - d->len < sizeof(start) + len)
		return -ENOSPC;
	memcpy(d->buf + d->len, start, sizeof(start));
	memcpy(d->buf + d->len + sizeof(start), nal, len);
	d->len += sizeof(start) + len;
	return 0;
}

static int depack_stap_a(struct cg_h264_depacketizer *d, const uint8_t *p, size_t len)
{
	struct cg_bytes_reader r;
	int n = 0;

	cg_bytes_reader_init(&r, p + 1, len - 1);
	while (cg_bytes_remaining(&r) > 0) {
		size_t sz = cg_bytes_read_u16(&r);
		const uint8_t *nal = cg_bytes_read_ptr(&r, sz);
		int ret;

		if (!nal)
			return -EBADMSG;
		ret = depack_append_nal(d, nal, sz);
		if (ret < 0)
			return ret;
		n++;
	}
	return n ? 0 : -EBADMSG;
}

static int depack_fu_a(struct cg_h264_depacketizer *d, const uint8_t *p, size_t len)
{
	uint8_t fu, hdr;

	if (len < 3)
		return -EBADMSG;
	fu = p[1];
	if ((fu & 0xc0) == 0xc0 || (fu & 0x1f) == 0 || (fu & 0x1f) >= CG_H264_NAL_STAP_A)
		return -EBADMSG;
	if (fu & 0x80) {
		/* Start: rebuild the NAL header from the indicator's F/NRI and the FU type. */
		hdr = (uint8_t)((p[0] & 0xe0) | (fu & 0x1f));
		if (d->in_fu)
			return -EBADMSG;
		if (depack_append_nal(d, &hdr, 1) < 0)
			return -ENOSPC;
		d->in_fu = true;
	} else if (!d->in_fu) {
		return -EBADMSG; /* a start fragment was lost */
	}
	if (d->cap - d->len < len - 2)
		return -ENOSPC;
	memcpy(d->buf + d->len, p + 2, len - 2);
	d->len += len - 2;
	if (fu & 0x40)
		d->in_fu = false;
	return 0;
}

int cg_h264_depacketize(struct cg_h264_depacketizer *d, const uint8_t *payload, size_t len,
			bool marker)
{
	uint8_t type;
	int r;

	if (!payload || len == 0) {
		r = -EBADMSG;
		goto fail;
	}
	type = payload[0] & 0x1f;
	if (d->broken) {
		/* Drop everything up to the end of the broken AU. */
		if (marker)
			d->broken = false;
		depack_reset(d);
		return 0;
	}
	if (d->in_fu && type != CG_H264_NAL_FU_A)
		r = -EBADMSG; /* an end fragment was lost */
	else if (type == CG_H264_NAL_STAP_A)
		r = depack_stap_a(d, payload, len);
	else if (type == CG_H264_NAL_FU_A)
		r = depack_fu_a(d, payload, len);
	else
		r = depack_append_nal(d, payload, len);
	if (r < 0)
		goto fail;
	if (!marker)
		return 0;
	if (d->in_fu) {
		r = -EBADMSG; /* the marker cannot fall inside a fragmented NAL */
		goto fail;
	}
	return 1;
fail:
	depack_reset(d);
	d->broken = !marker;
	return r;
}
