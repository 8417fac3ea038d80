/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <sys/random.h>

#include "util/macros.h"
#include "util/rand.h"

void cg_rand_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			cg_assert(errno == EINTR);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

uint32_t cg_rand_u32(void)
{
	uint32_t v;
	cg_rand_bytes(&v, sizeof(v));
	return v;
}

void cg_rand_token(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t raw[64];

	for (size_t i = 0; i < len; i++) {
		if (i % sizeof(raw) == 0)
			cg_rand_bytes(raw, sizeof(raw));
		/* 62 symbols: the modulo bias is below 2 %, irrelevant for tokens of >= 16 chars. */
		out[i] = alphabet[raw[i % sizeof(raw)] % (sizeof(alphabet) - 1)];
	}
	out[len] = '\0';
}
