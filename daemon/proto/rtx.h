/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Loss recovery (RFC 4585 generic NACK, RFC 4588 RTX). The history maps an RTP sequence
 * number to the shared, immutable unit (packetized access unit) that holds it: a ring of
 * the most recent units, so a retransmission allocates nothing and copies nothing until
 * the packet is rebuilt for the viewer that asked. The history only stores opaque
 * pointers; its owner takes a reference when pushing and drops the one push returns.
 * Pure. One owner thread per history (a network worker).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_rtp_header;

/* Units remembered: about 2 s at 30 fps, more than any NACK round trip worth serving. */
#define CG_RTX_HISTORY_UNITS 64

struct cg_rtx_entry {
	void *unit;
	uint16_t first_seq; /* sequence number of the unit's first packet */
	uint16_t count;	    /* its packets: first_seq .. first_seq + count - 1 */
};

struct cg_rtx_history {
	struct cg_rtx_entry e[CG_RTX_HISTORY_UNITS];
	unsigned head, len; /* oldest entry, number of entries */
};

/* Empties h (which must hold no units, or whose units the caller already released). */
void cg_rtx_history_init(struct cg_rtx_history *h);

/*
 * Remembers unit (borrowed pointer; the caller keeps a reference for the history) whose
 * packets are first_seq .. first_seq + count - 1. Returns the unit evicted to make room
 * (the caller drops its reference), or NULL.
 */
void *cg_rtx_history_push(struct cg_rtx_history *h, void *unit, uint16_t first_seq, uint16_t count);

/* Removes and returns the oldest unit (the caller drops its reference), NULL when empty. */
void *cg_rtx_history_pop(struct cg_rtx_history *h);

/*
 * Finds the unit holding sequence number seq. Returns the unit and writes the packet's
 * index within it to *ret_index, or returns NULL when seq is not remembered (too old,
 * never sent, or from a dropped unit).
 */
void *cg_rtx_history_find(const struct cg_rtx_history *h, uint16_t seq, unsigned *ret_index);

/*
 * Writes an RTX packet (RFC 4588 §4): the header h (the RTX payload type, SSRC and
 * sequence number; the original timestamp and marker; any extensions), then the original
 * sequence number osn, then the original payload. Returns the length written, -ENOSPC
 * when cap is too small, -EINVAL for a header cg_rtp_write_header rejects.
 */
int cg_rtx_build(uint8_t *buf, size_t cap, const struct cg_rtp_header *h, uint16_t osn,
		 const uint8_t *payload, size_t len);

/* NACK service limit per viewer: a token bucket in packets (time is a parameter). */
struct cg_rtx_budget {
	uint32_t rate_per_s; /* tokens per second */
	uint32_t burst;	     /* bucket size */
	uint64_t tokens_x1000;
	uint64_t last_usec;
	bool started;
};

/* Sets up b with rate_per_s tokens per second and a bucket of burst (full at start). */
void cg_rtx_budget_init(struct cg_rtx_budget *b, uint32_t rate_per_s, uint32_t burst);

/* Takes one token at now_usec; false when the bucket is empty (skip this retransmission). */
bool cg_rtx_budget_take(struct cg_rtx_budget *b, uint64_t now_usec);
