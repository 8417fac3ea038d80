/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "proto/bytes.h"

void cg_bytes_reader_init(struct cg_bytes_reader *r, const uint8_t *data, size_t len)
{
	*r = (struct cg_bytes_reader){ .data = data, .len = data ? len : 0 };
}

size_t cg_bytes_remaining(const struct cg_bytes_reader *r)
{
	return r->error ? 0 : r->len - r->pos;
}

bool cg_bytes_reader_ok(const struct cg_bytes_reader *r)
{
	return !r->error;
}

/* The single bounds check every read goes through; latches the error. */
static const uint8_t *bytes_take(struct cg_bytes_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->error || n > r->len - r->pos) {
		r->error = true;
		return NULL;
	}
	p = r->data + r->pos;
	r->pos += n;
	return p;
}

uint8_t cg_bytes_read_u8(struct cg_bytes_reader *r)
{
	const uint8_t *p = bytes_take(r, 1);
	return p ? p[0] : 0;
}

uint16_t cg_bytes_read_u16(struct cg_bytes_reader *r)
{
	const uint8_t *p = bytes_take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t cg_bytes_read_u24(struct cg_bytes_reader *r)
{
	const uint8_t *p = bytes_take(r, 3);
	return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

uint32_t cg_bytes_read_u32(struct cg_bytes_reader *r)
{
	const uint8_t *p = bytes_take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t cg_bytes_read_u64(struct cg_bytes_reader *r)
{
	uint64_t hi = cg_bytes_read_u32(r);
	return hi << 32 | cg_bytes_read_u32(r);
}

const uint8_t *cg_bytes_read_ptr(struct cg_bytes_reader *r, size_t n)
{
	return bytes_take(r, n);
}

void cg_bytes_skip(struct cg_bytes_reader *r, size_t n)
{
	bytes_take(r, n);
}

void cg_bytes_sub_reader(struct cg_bytes_reader *r, size_t n, struct cg_bytes_reader *ret)
{
	const uint8_t *p = bytes_take(r, n);

	cg_bytes_reader_init(ret, p, n);
	ret->error = !p;
}

int cg_bytes_peek(const struct cg_bytes_reader *r, size_t off)
{
	if (r->error || off >= r->len - r->pos)
		return -1;
	return r->data[r->pos + off];
}

void cg_bytes_writer_init(struct cg_bytes_writer *w, uint8_t *data, size_t cap)
{
	*w = (struct cg_bytes_writer){ .data = data, .cap = data ? cap : 0 };
}

bool cg_bytes_writer_ok(const struct cg_bytes_writer *w)
{
	return !w->error;
}

size_t cg_bytes_written(const struct cg_bytes_writer *w)
{
	return w->pos;
}

uint8_t *cg_bytes_reserve(struct cg_bytes_writer *w, size_t n)
{
	uint8_t *p;

	if (w->error || n > w->cap - w->pos) {
		w->error = true;
		return NULL;
	}
	p = w->data + w->pos;
	w->pos += n;
	return p;
}

void cg_bytes_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void cg_bytes_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void cg_bytes_write_u8(struct cg_bytes_writer *w, uint8_t v)
{
	uint8_t *p = cg_bytes_reserve(w, 1);
	if (p)
		p[0] = v;
}

void cg_bytes_write_u16(struct cg_bytes_writer *w, uint16_t v)
{
	uint8_t *p = cg_bytes_reserve(w, 2);
	if (p)
		cg_bytes_put_u16(p, v);
}

void cg_bytes_write_u24(struct cg_bytes_writer *w, uint32_t v)
{
	uint8_t *p = cg_bytes_reserve(w, 3);
	if (p) {
		p[0] = (uint8_t)(v >> 16);
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)v;
	}
}

void cg_bytes_write_u32(struct cg_bytes_writer *w, uint32_t v)
{
	uint8_t *p = cg_bytes_reserve(w, 4);
	if (p)
		cg_bytes_put_u32(p, v);
}

void cg_bytes_write_u64(struct cg_bytes_writer *w, uint64_t v)
{
	cg_bytes_write_u32(w, (uint32_t)(v >> 32));
	cg_bytes_write_u32(w, (uint32_t)v);
}

void cg_bytes_write_bytes(struct cg_bytes_writer *w, const void *src, size_t n)
{
	uint8_t *p = cg_bytes_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void cg_bytes_write_zeros(struct cg_bytes_writer *w, size_t n)
{
	uint8_t *p = cg_bytes_reserve(w, n);
	if (p && n)
		memset(p, 0, n);
}
