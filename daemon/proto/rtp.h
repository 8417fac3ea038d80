/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RTP fixed header and one-byte header extensions (RFC 3550 §5.1, RFC 8285 §4.2).
 * Pure: no I/O, no clock. Any thread; no shared state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_RTP_HEADER_SIZE    12
#define CG_RTP_MAX_EXTENSIONS 4

/* One-byte-header extension element: id 1..14, 1..16 bytes of data. */
struct cg_rtp_ext {
	uint8_t id;
	uint8_t len;
	uint8_t data[16];
};

struct cg_rtp_header {
	uint8_t payload_type; /* 0..127 */
	bool marker;
	uint16_t sequence;
	uint32_t timestamp;
	uint32_t ssrc;
	unsigned n_extensions;
	struct cg_rtp_ext extensions[CG_RTP_MAX_EXTENSIONS];
};

/*
 * Writes the header and, when h->n_extensions > 0, a one-byte-header extension block
 * (0xBEDE, padded to 32 bits) into buf. Returns the bytes written, -ENOSPC when cap is
 * too small, -EINVAL for an invalid id/len or payload type.
 */
int cg_rtp_write_header(uint8_t *buf, size_t cap, const struct cg_rtp_header *h);

/* A parsed packet borrows buf: payload points into it. */
struct cg_rtp_packet {
	struct cg_rtp_header header;
	const uint8_t *payload;
	size_t payload_len;
	size_t header_len; /* fixed header + CSRCs + extension block */
};

/*
 * Parses an RTP packet (version 2, CSRCs skipped, one-byte and two-byte extension blocks
 * read as far as they fit in CG_RTP_MAX_EXTENSIONS, padding removed). Returns 0, or
 * -EBADMSG when malformed or truncated. ret is written only on success.
 */
int cg_rtp_parse(const uint8_t *buf, size_t len, struct cg_rtp_packet *ret);

/* RFC 7983 §7 first-byte demultiplexing of what arrives on the ICE transport. */
enum cg_demux {
	CG_DEMUX_UNKNOWN = 0,
	CG_DEMUX_STUN, /* 0..3 */
	CG_DEMUX_DTLS, /* 20..63 */
	CG_DEMUX_RTP,  /* 128..191, payload type not in 64..95 */
	CG_DEMUX_RTCP, /* 128..191, second byte 192..223 (RFC 5761 §4) */
};
enum cg_demux cg_rtp_demux(const uint8_t *buf, size_t len);

/* Extension URIs we understand (RFC 8285 a=extmap). */
#define CG_RTP_EXT_URI_PLAYOUT_DELAY "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
#define CG_RTP_EXT_URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define CG_RTP_EXT_URI_ABS_CAPTURE_TIME                                                            \
	"http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"

/* Fills ext with a playout-delay element (12-bit min and max, units of 10 ms). */
void cg_rtp_ext_playout_delay(struct cg_rtp_ext *ext, uint8_t id, uint16_t min_10ms,
			      uint16_t max_10ms);

/*
 * Fills ext with an abs-capture-time element (webrtc.org rtp-hdrext/abs-capture-time): the
 * 64-bit NTP capture timestamp (UQ32.32 seconds since 1900, big-endian), 8 bytes; with
 * with_offset, followed by the estimated capture clock offset (Q32.32 seconds, signed,
 * big-endian), 16 bytes. The timestamp must be on the clock the RTCP sender reports use.
 * Any thread; writes only ext.
 */
void cg_rtp_ext_abs_capture_time(struct cg_rtp_ext *ext, uint8_t id, uint64_t ntp, bool with_offset,
				 int64_t offset_q32);

/* 90 kHz RTP timestamp from a microsecond capture time, with a random offset (RFC 3550 §5.1). */
static inline uint32_t cg_rtp_timestamp(uint64_t usec, uint32_t clock_rate, uint32_t offset)
{
	return (uint32_t)((usec * clock_rate) / 1000000u) + offset;
}
