/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The H.264 access-unit writer every encoder backend builds its struct cg_au with, so the
 * cg_au contract (hw/encoder.h) is kept in one place:
 *
 *  - every NAL goes out behind a 4-byte start code, whatever the input had (3 or 4 bytes;
 *    the zero bytes that pad a NAL's end are left out);
 *  - the latest SPS and PPS are cached (an SPS unlike the cached one replaces it), and the
 *    latest SPS's profile_idc, constraint flags and level_idc are cg_au_writer_profile()'s;
 *  - an IDR that comes without SPS or PPS gets the cached ones put in front (the SPS first,
 *    a PPS right after the AU's own SPS), so a viewer joining at any IDR can decode it; an
 *    IDR that carries them gets nothing more;
 *  - an AU with parameter sets but no slice (encoders that send headers in a buffer of
 *    their own) is not emitted: the sets are cached and go in front of the next IDR, which
 *    is the only picture that can activate a new SPS;
 *  - access unit delimiters and filler data (NAL types 9, 12) are dropped: a WebRTC
 *    receiver needs neither, and filler only burns bandwidth; so are the unspecified types
 *    24-31, which RTP (RFC 6184) would read as aggregation or fragmentation units;
 *  - keyframe is set on AUs with an IDR slice (NAL type 5).
 *
 * Input that is not H.264 Annex-B (no start code in front; a NAL with forbidden_zero_bit
 * set or of type 0; a slice or PPS shorter than 2 bytes; an SPS whose profile and level
 * cannot be read) is refused with -EBADMSG and changes nothing: neither the AU being
 * written nor the cache.
 *
 * Use: cg_au_writer_begin(), then append_annexb() or append_nal() for each piece of the
 * encoder's output, then finish() (or abort()). Pure: no I/O, no clock, no threads; begin()
 * allocates the AU (one per encoded frame, as before) and an append may grow it. A writer
 * is owned by one encoder, so every function below is for the thread that runs that encoder
 * (the media thread) only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/encoder.h"

/* The largest SPS or PPS cached; a larger one clears the cache rather than leave it stale. */
#define CG_AU_WRITER_PS_MAX 512u

/* What the writer did, since cg_au_writer_init(). */
struct cg_au_writer_stats {
	uint64_t aus;		    /* AUs finished with at least one slice */
	uint64_t keyframes;	    /* of which with an IDR */
	uint64_t headers_only;	    /* AUs of parameter sets (or SEI) alone: not emitted */
	uint64_t ps_inserted;	    /* IDRs that got cached SPS and/or PPS put in front */
	uint64_t bare_idrs;	    /* IDRs left without SPS or PPS: none cached yet */
	uint64_t sps_changes;	    /* SPSs unlike the cached one, the first one included */
	uint64_t short_start_codes; /* 3-byte start codes written as 4-byte ones */
	uint64_t dropped_nals;	    /* AUD, filler and unspecified NALs left out */
	uint64_t bad_input;	    /* appends refused with -EBADMSG */
};

/* Embedded in its encoder; the fields are the writer's own. */
struct cg_au_writer {
	struct cg_au *au; /* the AU being written, NULL between finish() and begin() */
	bool has_sps, has_pps, idr, slice;
	size_t sps_end; /* where the AU's first SPS ends (a missing PPS goes there) */
	uint8_t sps[CG_AU_WRITER_PS_MAX];
	size_t sps_len; /* 0: none cached */
	uint8_t pps[CG_AU_WRITER_PS_MAX];
	size_t pps_len;
	uint8_t profile[3]; /* of the latest SPS */
	bool has_profile;
	struct cg_au_writer_stats stats;
};

/* An empty writer: nothing cached, no AU. Cannot fail. */
void cg_au_writer_init(struct cg_au_writer *w);

/*
 * Starts a new AU with room for size_hint bytes of NALs (more is grown into) and for the
 * cached parameter sets. An AU begun and not finished is dropped. Aborts on OOM.
 */
void cg_au_writer_begin(struct cg_au_writer *w, size_t size_hint);

/*
 * Appends Annex-B data (one or more NALs, each behind a 3- or 4-byte start code; len 0
 * appends nothing). Borrows data. Returns 0, -EBADMSG (not Annex-B H.264, see above:
 * nothing appended, nothing cached) or -EINVAL (no AU begun).
 */
int cg_au_writer_append_annexb(struct cg_au_writer *w, const uint8_t *data, size_t len);

/*
 * Appends one NAL given without a start code (header byte first; len 0 is -EBADMSG).
 * Borrows nal. Same returns.
 */
int cg_au_writer_append_nal(struct cg_au_writer *w, const uint8_t *nal, size_t len);

/*
 * Completes the AU: cached SPS/PPS in front of an IDR that lacks them, keyframe set, and
 * the AU (refcount 1, the caller's; capture times and the rest of its fields are the
 * caller's to fill) in *ret. Returns 0, -EAGAIN when the AU holds no slice (nothing
 * emitted; its parameter sets are cached), or -EINVAL (no AU begun). Either way the writer
 * is ready for the next begin().
 */
int cg_au_writer_finish(struct cg_au_writer *w, struct cg_au **ret);

/*
 * Drops the AU being written, if any; the cache stays. Also what an encoder's close() calls
 * (the writer itself is its owner's memory).
 */
void cg_au_writer_abort(struct cg_au_writer *w);

/*
 * profile_idc, constraint flags and level_idc of the latest SPS (RFC 6184 profile-level-id)
 * in ret[3]. Returns 0, or -ENODATA before any SPS.
 */
int cg_au_writer_profile(const struct cg_au_writer *w, uint8_t ret[3]);
