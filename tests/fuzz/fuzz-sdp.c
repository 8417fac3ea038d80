/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP offer parser, negotiation and answer writer. Invariants: the answer to any accepted
 * offer is CRLF-terminated text that our own parser reads back with the chosen payload type,
 * every section it accepts has a port (a bundle-only offer section included), and it never
 * says a=bundle-only (RFC 9143 §7.3).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/sdp.h"

/* Single-threaded target: static storage instead of ~400 KiB of stack per run. */
static struct cg_sdp_offer offer, reparsed;
static char answer[16384];

static void check_answer(const struct cg_sdp_choice *c, int n)
{
	const char *reason;
	const struct cg_sdp_media *m;

	if (n < 0)
		return;
	if ((size_t)n != strlen(answer) || n < 2 || memcmp(answer + n - 2, "\r\n", 2) != 0)
		abort();
	if (cg_sdp_parse_offer(answer, (size_t)n, &reparsed, &reason) < 0)
		abort();
	if (reparsed.n_media != offer.n_media)
		abort();
	m = &reparsed.media[c->video_index];
	if (m->n_codecs != 1 || m->codecs[0].pt != c->video_pt || m->direction != CG_SDP_SENDONLY ||
	    m->port == 0)
		abort();
	if (c->audio_index >= 0) {
		m = &reparsed.media[c->audio_index];
		if (m->port == 0 || m->n_codecs != 1 || m->codecs[0].pt != c->audio_pt)
			abort();
	}
	for (unsigned i = 0; i < reparsed.n_media; i++)
		if (reparsed.media[i].bundle_only)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cands[] = { "candidate:1 1 udp 2130706431 192.0.2.1 9 typ host" };
	const struct cg_sdp_capabilities caps = { .video_profile = { 66, 0xe0, 0x1f },
						  .nack = size & 1,
						  .remb = size & 2,
						  .audio_send = size & 4,
						  .audio_receive = size & 8 };
	const struct cg_sdp_local local = {
		.session_id = 1,
		.ice_ufrag = "ufrg",
		.ice_pwd = "passwordpasswordpassword",
		.fingerprint = "AA:BB",
		.video_ssrc = 42,
		.audio_ssrc = 43,
		.cname = "c",
		.stream_id = "s",
		.candidates = cands,
		.n_candidates = 1,
		.end_of_candidates = true,
	};
	struct cg_sdp_choice choice;
	const char *reason = NULL;

	if (cg_sdp_parse_offer((const char *)data, size, &offer, &reason) < 0) {
		if (!reason)
			abort();
		return 0;
	}
	if (cg_sdp_negotiate(&offer, &caps, &choice, &reason) < 0) {
		if (!reason)
			abort();
		return 0;
	}
	check_answer(&choice, cg_sdp_build_answer(answer, sizeof(answer), &offer, &choice, &local));
	return 0;
}
