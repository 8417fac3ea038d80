/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Trickle ICE fragments (RFC 8840) as WHEP PATCH bodies carry them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/sdp.h"

static struct cg_sdp_fragment frag;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *reason = NULL;

	if (cg_sdp_parse_fragment((const char *)data, size, &frag, &reason) < 0) {
		if (!reason)
			abort();
		return 0;
	}
	if (frag.n_candidates > CG_SDP_MAX_CANDIDATES)
		abort();
	for (unsigned i = 0; i < frag.n_candidates; i++)
		if (strncmp(frag.candidates[i], "candidate:", 10) != 0 ||
		    strlen(frag.candidates[i]) >= CG_SDP_CANDIDATE)
			abort();
	return 0;
}
