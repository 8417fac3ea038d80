/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP protect cost per packet, on the crypto camgate runs (nettle) or libsrtp2's own
 * (CAMGATE_SRTP_CRYPTO=libsrtp2: NSS on Debian): a viewer's sending is one protect per
 * packet, so this is the part of a viewer's cost that the crypto decides.
 *
 * usage: srtp [PACKETS]   prints crypto=…, bytes=…, ns_per_packet=… for 1100- and 200-byte
 * payloads (AES128_CM_SHA1_80, one stream, as a worker protects for one viewer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/srtp.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run(unsigned payload, unsigned packets)
{
	struct cg_srtp_keys keys = { .profile = CG_SRTP_AES128_CM_SHA1_80,
				     .key_len = 16,
				     .salt_len = 14 };
	static uint8_t buf[12 + 1500 + CG_SRTP_MAX_TRAILER];
	struct cg_srtp *tx;
	double start;

	for (unsigned i = 0; i < 30; i++)
		keys.server_key_salt[i] = keys.client_key_salt[i] = (uint8_t)(i * 7 + 1);
	if (cg_srtp_new(&keys, true, &tx) < 0)
		return -1;
	start = now_ns();
	for (unsigned i = 0; i < packets; i++) {
		memset(buf, 0x5a, 12 + payload);
		buf[0] = 0x80;
		buf[1] = 96;
		buf[2] = (uint8_t)(i >> 8);
		buf[3] = (uint8_t)i;
		if (cg_srtp_protect(tx, buf, 12 + payload, sizeof(buf)) < 0) {
			cg_srtp_free(tx);
			return -1;
		}
	}
	printf("crypto=%s payload=%u packets=%u ns_per_packet=%.0f\n", cg_srtp_crypto_name(),
	       payload, packets, (now_ns() - start) / packets);
	cg_srtp_free(tx);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned packets = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200000;

	if (cg_srtp_global_init() < 0 || run(1100, packets) < 0 || run(200, packets) < 0) {
		fprintf(stderr, "srtp bench: SRTP failed\n");
		return 1;
	}
	return 0;
}
