/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compound RTCP from a (possibly hostile) receiver; a failed parse must report nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_rtcp_info info, untouched;
	int r;

	memset(&info, 0xa5, sizeof(info));
	memcpy(&untouched, &info, sizeof(info));
	r = cg_rtcp_parse(data, size, &info);
	if (r < 0) {
		if (memcmp(&info, &untouched, sizeof(info)) != 0)
			abort();
		return 0;
	}
	if (info.n_report_blocks > CG_RTCP_MAX_REPORT_BLOCKS || info.n_nacks > CG_RTCP_MAX_NACKS)
		abort();
	/* Rebuilding what was parsed must succeed and parse back the same. */
	if (info.n_nacks > 0) {
		uint8_t buf[12 + 4 * CG_RTCP_MAX_NACKS];
		struct cg_rtcp_info again;
		int n = cg_rtcp_build_nack(buf, sizeof(buf), 1, info.nack_media_ssrc, info.nacks,
					   info.n_nacks);

		if (n < 0 || cg_rtcp_parse(buf, (size_t)n, &again) < 0)
			abort();
	}
	return 0;
}
