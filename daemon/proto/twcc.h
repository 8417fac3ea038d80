/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01):
 * the 16-bit transport-wide sequence number header extension we write on every media
 * packet, the sender's record of what it sent, and the parser of the receiver's feedback
 * (RTCP RTPFB FMT 15) into loss and delivery-rate figures. Pure: time is a parameter.
 * One owner (the session's worker); no shared state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_RTP_EXT_URI_TWCC                                                                        \
	"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* Packets remembered for matching feedback: about 4 s at 250 packets/s. */
#define CG_TWCC_HISTORY 1024

/* What one sender remembers per transport-wide sequence number. */
struct cg_twcc_sent {
	uint32_t send_ms; /* sender time, ms (wraps; only differences matter) */
	uint16_t size;	  /* bytes on the wire */
	uint16_t seq;	  /* which sequence number this slot holds */
};

struct cg_twcc {
	uint16_t next_seq; /* the next number to send */
	struct cg_twcc_sent sent[CG_TWCC_HISTORY];
	/* Totals of the feedback read so far (monotonic counters). */
	uint64_t reported, received;
};

/* Zeroes t. */
void cg_twcc_init(struct cg_twcc *t);

/* Assigns the next transport-wide sequence number to a packet of size bytes sent at
 * now_ms and remembers it. Returns the number to write in the extension. */
uint16_t cg_twcc_on_send(struct cg_twcc *t, uint64_t now_ms, size_t size);

/* What one feedback packet said about packets we remember. */
struct cg_twcc_report {
	unsigned reported;	 /* statuses covering packets still in the history */
	unsigned received;	 /* of those, received */
	uint64_t bytes_received; /* their sizes */
	int64_t recv_span_us;	 /* first to last arrival among them (receiver clock) */
	int64_t send_span_ms;	 /* first to last send time among the received (our clock) */
};

/*
 * Parses one RTCP packet that must be an RTPFB with FMT 15 (buf points at its header,
 * len covers exactly that packet), matches it against the history and fills *ret.
 * Returns 0, -ENOMSG when it is not a TWCC feedback packet, -EBADMSG when malformed
 * (nothing is changed then).
 */
int cg_twcc_parse_feedback(struct cg_twcc *t, const uint8_t *buf, size_t len,
			   struct cg_twcc_report *ret);

/*
 * Walks a compound RTCP packet and feeds every TWCC feedback in it to
 * cg_twcc_parse_feedback, summing the reports into *ret. Returns the number of feedback
 * packets read (0 when none), or -EBADMSG when the compound is malformed.
 */
int cg_twcc_read_compound(struct cg_twcc *t, const uint8_t *buf, size_t len,
			  struct cg_twcc_report *ret);
