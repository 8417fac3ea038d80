/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RTP parsing (header, CSRCs, RFC 8285 extensions, padding) and RFC 7983 demux. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "proto/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_rtp_packet pkt;
	uint8_t buf[12 + 4 + CG_RTP_MAX_EXTENSIONS * 17 + 3];
	int n;

	(void)cg_rtp_demux(data, size);
	if (cg_rtp_parse(data, size, &pkt) < 0)
		return 0;
	if (pkt.header_len > size || pkt.payload_len > size - pkt.header_len ||
	    pkt.payload != data + pkt.header_len || pkt.header.n_extensions > CG_RTP_MAX_EXTENSIONS)
		abort();
	/* What we parsed, we can write again when it fits the one-byte form. */
	for (unsigned i = 0; i < pkt.header.n_extensions; i++) {
		const struct cg_rtp_ext *e = &pkt.header.extensions[i];

		if (e->id < 1 || e->id > 14 || e->len < 1 || e->len > 16)
			return 0;
	}
	n = cg_rtp_write_header(buf, sizeof(buf), &pkt.header);
	if (n < 0)
		abort();
	{
		struct cg_rtp_packet again;

		if (cg_rtp_parse(buf, (size_t)n, &again) < 0 ||
		    again.header.sequence != pkt.header.sequence ||
		    again.header.n_extensions != pkt.header.n_extensions)
			abort();
	}
	return 0;
}
