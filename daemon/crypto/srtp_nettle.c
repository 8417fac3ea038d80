/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * AES-128 counter mode and HMAC-SHA1 for libsrtp2, on nettle (GnuTLS's own crypto).
 *
 * Debian builds libsrtp2 on NSS, whose AES and HMAC go through PKCS#11: every packet makes
 * a new PK11 context (an allocation, a mutex, a session lookup) for the cipher and another
 * for the HMAC, which made about half of a network worker's time at 150 viewers. libsrtp2
 * lets an application replace a cipher or auth type of its crypto kernel
 * (srtp_replace_cipher_type, srtp_replace_auth_type; the headers are public); libsrtp2
 * itself keeps doing SRTP (key derivation, ROC, replay window, packet layout). These types
 * keep their keyed state per stream and allocate nothing per packet; nettle uses AES-NI and
 * the SHA extensions where the CPU has them.
 *
 * Semantics follow libsrtp's own aes_icm.c and hmac.c: the ICM counter is the salt (14
 * bytes, then two zero bytes) XOR the 16-byte IV, its last 16 bits count blocks; keystream
 * left over from a partial block serves the next encrypt() call after the same set_iv().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/hmac.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

#include "crypto/srtp_nettle.h"
#include "util/macros.h"

#define ICM_KEY_LEN	  16
#define ICM_SALT_LEN	  14
#define ICM_KEY_LEN_WSALT (ICM_KEY_LEN + ICM_SALT_LEN)
#define ICM_BLOCK	  16
#define ICM_BATCH	  32 /* blocks per AES call: 512 bytes on the stack */

struct icm_state {
	struct aes128_ctx aes;
	uint8_t offset[ICM_BLOCK];  /* the salt, then two zero bytes */
	uint8_t counter[ICM_BLOCK]; /* offset XOR iv; the last two bytes count blocks */
	uint8_t keystream[ICM_BLOCK];
	unsigned keystream_left; /* unused bytes at the end of keystream */
};

struct icm_cipher {
	srtp_cipher_t cipher;
	struct icm_state state;
};

static const srtp_cipher_type_t icm_type;

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *ret, int key_len, int tag_len)
{
	struct icm_cipher *c;

	(void)tag_len;
	if (key_len != ICM_KEY_LEN_WSALT)
		return srtp_err_status_bad_param;
	c = calloc(1, sizeof(*c));
	if (!c)
		return srtp_err_status_alloc_fail;
	c->cipher.type = &icm_type;
	c->cipher.state = &c->state;
	c->cipher.algorithm = SRTP_AES_ICM_128;
	c->cipher.key_len = key_len;
	*ret = &c->cipher;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t cp)
{
	struct icm_cipher *c = (struct icm_cipher *)cp;

	if (c) {
		/* Key material: wiped, not merely freed. */
		explicit_bzero(c, sizeof(*c));
		free(c);
	}
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
	struct icm_state *s = state;

	aes128_set_encrypt_key(&s->aes, key);
	memset(s->offset, 0, sizeof(s->offset));
	memcpy(s->offset, key + ICM_KEY_LEN, ICM_SALT_LEN);
	memcpy(s->counter, s->offset, sizeof(s->counter));
	s->keystream_left = 0;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct icm_state *s = state;

	(void)dir;
	for (unsigned i = 0; i < ICM_BLOCK; i++)
		s->counter[i] = s->offset[i] ^ iv[i];
	s->keystream_left = 0;
	return srtp_err_status_ok;
}

/* count consecutive counter blocks into out, stepping the counter past them. */
static void icm_counters(struct icm_state *s, uint8_t *out, unsigned count)
{
	unsigned block = (unsigned)s->counter[14] << 8 | s->counter[15];

	for (unsigned i = 0; i < count; i++, block++) {
		memcpy(out + i * ICM_BLOCK, s->counter, ICM_BLOCK - 2);
		out[i * ICM_BLOCK + 14] = (uint8_t)(block >> 8);
		out[i * ICM_BLOCK + 15] = (uint8_t)block;
	}
	s->counter[14] = (uint8_t)(block >> 8);
	s->counter[15] = (uint8_t)block;
}

/* The next keystream block; the block counter (last 16 bits) steps, wrapping as libsrtp's. */
static void icm_next_block(struct icm_state *s, uint8_t out[ICM_BLOCK])
{
	unsigned count = ((unsigned)s->counter[14] << 8 | s->counter[15]) + 1;

	aes128_encrypt(&s->aes, ICM_BLOCK, out, s->counter);
	s->counter[14] = (uint8_t)(count >> 8);
	s->counter[15] = (uint8_t)count;
}

static srtp_err_status_t icm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct icm_state *s = state;
	unsigned n = *len, done = 0;
	unsigned block_count = (unsigned)s->counter[14] << 8 | s->counter[15];

	/* As libsrtp: the 16-bit block counter must not wrap within one IV (2^16 blocks). */
	if ((uint64_t)block_count + (n - CG_MIN(n, s->keystream_left) + ICM_BLOCK - 1) / ICM_BLOCK >
	    0xffff)
		return srtp_err_status_terminus;
	while (done < n && s->keystream_left > 0) {
		buf[done++] ^= s->keystream[ICM_BLOCK - s->keystream_left];
		s->keystream_left--;
	}
	/* Whole blocks, up to ICM_BATCH at a time: one AES call over many counters lets
	 * nettle's AES-NI code pipeline them. */
	while (n - done >= ICM_BLOCK) {
		uint8_t blocks[ICM_BATCH * ICM_BLOCK];
		unsigned count = CG_MIN((n - done) / ICM_BLOCK, (unsigned)ICM_BATCH);

		icm_counters(s, blocks, count);
		aes128_encrypt(&s->aes, count * ICM_BLOCK, blocks, blocks);
		for (unsigned i = 0; i < count * ICM_BLOCK; i++)
			buf[done + i] ^= blocks[i];
		done += count * ICM_BLOCK;
	}
	if (done < n) {
		unsigned tail = n - done;

		icm_next_block(s, s->keystream);
		for (unsigned i = 0; i < tail; i++)
			buf[done + i] ^= s->keystream[i];
		s->keystream_left = ICM_BLOCK - tail;
	}
	return srtp_err_status_ok;
}

/* RFC 3711 appendix B.2: the first 32 bytes of keystream for a zero IV. */
static const uint8_t icm_test_key[ICM_KEY_LEN_WSALT] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
	0x3c, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static uint8_t icm_test_iv[16];
static const uint8_t icm_test_plaintext[32];
static const uint8_t icm_test_ciphertext[32] = {
	0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1,
	0x6d, 0xd9, 0x2b, 0x4e, 0xb4, 0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02,
	0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
};
static const srtp_cipher_test_case_t icm_test = {
	.key_length_octets = ICM_KEY_LEN_WSALT,
	.key = icm_test_key,
	.idx = icm_test_iv,
	.plaintext_length_octets = sizeof(icm_test_plaintext),
	.plaintext = icm_test_plaintext,
	.ciphertext_length_octets = sizeof(icm_test_ciphertext),
	.ciphertext = icm_test_ciphertext,
};

static const srtp_cipher_type_t icm_type = {
	.alloc = icm_alloc,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_encrypt,
	.decrypt = icm_encrypt,
	.set_iv = icm_set_iv,
	.description = "AES-128 integer counter mode (camgate, nettle)",
	.test_data = &icm_test,
	.id = SRTP_AES_ICM_128,
};

/* ---- HMAC-SHA1 ---- */

struct sha1_auth_state {
	struct hmac_sha1_ctx keyed; /* as hmac_sha1_set_key left it: where each message starts */
	struct hmac_sha1_ctx ctx;
};

struct sha1_auth {
	srtp_auth_t auth;
	struct sha1_auth_state state;
};

static const srtp_auth_type_t sha1_auth_type;

static srtp_err_status_t sha1_auth_alloc(srtp_auth_pointer_t *ret, int key_len, int out_len)
{
	struct sha1_auth *a;

	if (key_len < 0 || key_len > SHA1_DIGEST_SIZE || out_len < 0 || out_len > SHA1_DIGEST_SIZE)
		return srtp_err_status_bad_param;
	a = calloc(1, sizeof(*a));
	if (!a)
		return srtp_err_status_alloc_fail;
	a->auth.type = &sha1_auth_type;
	a->auth.state = &a->state;
	a->auth.out_len = out_len;
	a->auth.key_len = key_len;
	a->auth.prefix_len = 0;
	*ret = &a->auth;
	return srtp_err_status_ok;
}

static srtp_err_status_t sha1_auth_dealloc(srtp_auth_pointer_t ap)
{
	struct sha1_auth *a = (struct sha1_auth *)ap;

	if (a) {
		explicit_bzero(a, sizeof(*a));
		free(a);
	}
	return srtp_err_status_ok;
}

static srtp_err_status_t sha1_auth_init(void *state, const uint8_t *key, int key_len)
{
	struct sha1_auth_state *s = state;

	hmac_sha1_set_key(&s->keyed, (size_t)key_len, key);
	s->ctx = s->keyed;
	return srtp_err_status_ok;
}

static srtp_err_status_t sha1_auth_start(void *state)
{
	struct sha1_auth_state *s = state;

	s->ctx = s->keyed;
	return srtp_err_status_ok;
}

static srtp_err_status_t sha1_auth_update(void *state, const uint8_t *buf, int len)
{
	struct sha1_auth_state *s = state;

	if (len < 0)
		return srtp_err_status_bad_param;
	hmac_sha1_update(&s->ctx, (size_t)len, buf);
	return srtp_err_status_ok;
}

static srtp_err_status_t sha1_auth_compute(void *state, const uint8_t *buf, int len, int tag_len,
					   uint8_t *tag)
{
	struct sha1_auth_state *s = state;
	uint8_t digest[SHA1_DIGEST_SIZE];

	if (len < 0 || tag_len < 0 || tag_len > SHA1_DIGEST_SIZE)
		return srtp_err_status_bad_param;
	hmac_sha1_update(&s->ctx, (size_t)len, buf);
	/* nettle starts the next message from the key again after a digest. */
	hmac_sha1_digest(&s->ctx, sizeof(digest), digest);
	memcpy(tag, digest, (size_t)tag_len);
	return srtp_err_status_ok;
}

/* RFC 2202 test case 1. */
static const uint8_t sha1_auth_test_key[20] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};
static const uint8_t sha1_auth_test_data[8] = { 'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e' };
static const uint8_t sha1_auth_test_tag[20] = {
	0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
	0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
};
static const srtp_auth_test_case_t sha1_auth_test = {
	.key_length_octets = sizeof(sha1_auth_test_key),
	.key = sha1_auth_test_key,
	.data_length_octets = sizeof(sha1_auth_test_data),
	.data = sha1_auth_test_data,
	.tag_length_octets = sizeof(sha1_auth_test_tag),
	.tag = sha1_auth_test_tag,
};

static const srtp_auth_type_t sha1_auth_type = {
	.alloc = sha1_auth_alloc,
	.dealloc = sha1_auth_dealloc,
	.init = sha1_auth_init,
	.compute = sha1_auth_compute,
	.update = sha1_auth_update,
	.start = sha1_auth_start,
	.description = "HMAC-SHA1 (camgate, nettle)",
	.test_data = &sha1_auth_test,
	.id = SRTP_HMAC_SHA1,
};

int cg_srtp_nettle_install(void)
{
	/* libsrtp runs our self-test and its own type's test vectors on both before taking
	 * them; a refusal leaves its own in place. */
	if (srtp_replace_cipher_type(&icm_type, SRTP_AES_ICM_128) != srtp_err_status_ok)
		return -EIO;
	if (srtp_replace_auth_type(&sha1_auth_type, SRTP_HMAC_SHA1) != srtp_err_status_ok)
		return -EIO;
	return 0;
}
