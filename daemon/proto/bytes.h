/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bounds-checked big-endian cursors (STYLE 4.10 "Parsing"). Every wire-format parser and
 * writer in proto/ goes through these: no struct overlays, no unaligned casts, no
 * bit-fields. A cursor latches an error flag on the first out-of-bounds access; later
 * reads return 0 and later writes do nothing, so a chain of accesses is checked once at
 * the end with cg_bytes_reader_ok()/cg_bytes_writer_ok(). Pure. Any thread; a cursor is
 * owned by its caller and borrows the buffer it walks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_bytes_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool error;
};

struct cg_bytes_writer {
	uint8_t *data;
	size_t cap;
	size_t pos;
	bool error;
};

/* Starts reading data[0..len). data may be NULL when len is 0. */
void cg_bytes_reader_init(struct cg_bytes_reader *r, const uint8_t *data, size_t len);
/* Bytes left to read (0 once the error flag is set). */
size_t cg_bytes_remaining(const struct cg_bytes_reader *r);
/* True when no access has failed so far. */
bool cg_bytes_reader_ok(const struct cg_bytes_reader *r);

uint8_t cg_bytes_read_u8(struct cg_bytes_reader *r);
uint16_t cg_bytes_read_u16(struct cg_bytes_reader *r);
uint32_t cg_bytes_read_u24(struct cg_bytes_reader *r);
uint32_t cg_bytes_read_u32(struct cg_bytes_reader *r);
uint64_t cg_bytes_read_u64(struct cg_bytes_reader *r);
/* Returns a pointer to the next n bytes (borrowed from the buffer) and consumes them, or
 * NULL with the error flag set when fewer remain. */
const uint8_t *cg_bytes_read_ptr(struct cg_bytes_reader *r, size_t n);
/* Consumes n bytes; sets the error flag when fewer remain. */
void cg_bytes_skip(struct cg_bytes_reader *r, size_t n);
/* Splits off the next n bytes as an independent reader (for length-prefixed records); the
 * parent consumes them. On short input both readers are in error. */
void cg_bytes_sub_reader(struct cg_bytes_reader *r, size_t n, struct cg_bytes_reader *ret);
/* Returns the byte at offset pos + off without consuming, or -1 when out of range. Does not
 * set the error flag (lookahead is not an error). */
int cg_bytes_peek(const struct cg_bytes_reader *r, size_t off);

/* Starts writing into data[0..cap). */
void cg_bytes_writer_init(struct cg_bytes_writer *w, uint8_t *data, size_t cap);
bool cg_bytes_writer_ok(const struct cg_bytes_writer *w);
/* Bytes written so far (valid only when the writer is ok). */
size_t cg_bytes_written(const struct cg_bytes_writer *w);

void cg_bytes_write_u8(struct cg_bytes_writer *w, uint8_t v);
void cg_bytes_write_u16(struct cg_bytes_writer *w, uint16_t v);
void cg_bytes_write_u24(struct cg_bytes_writer *w, uint32_t v);
void cg_bytes_write_u32(struct cg_bytes_writer *w, uint32_t v);
void cg_bytes_write_u64(struct cg_bytes_writer *w, uint64_t v);
/* Copies n bytes from src (which may be NULL when n is 0). */
void cg_bytes_write_bytes(struct cg_bytes_writer *w, const void *src, size_t n);
void cg_bytes_write_zeros(struct cg_bytes_writer *w, size_t n);
/* Reserves n bytes to be filled later (a length field); returns their address or NULL with
 * the error flag set. */
uint8_t *cg_bytes_reserve(struct cg_bytes_writer *w, size_t n);

/* Stores v big-endian at p[0..1] / p[0..3]; for patching reserved length fields. */
void cg_bytes_put_u16(uint8_t *p, uint16_t v);
void cg_bytes_put_u32(uint8_t *p, uint32_t v);
