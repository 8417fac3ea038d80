/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP/SRTCP over libsrtp2. Two srtp_t per viewer: libsrtp allows one wildcard stream
 * template per session, so outbound (whatever SSRCs we send) and inbound (whatever SSRCs
 * the viewer sends: receiver reports, feedback) each get their own.
 */
#define CG_LOG_TOPIC "srtp"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "crypto/srtp.h"
#include "crypto/srtp_nettle.h"
#include "util/log.h"
#include "util/macros.h"

/*
 * Replay window in packets. libsrtp's default (128) is too small at video rates: a
 * keyframe burst reordered by the network can exceed it (RFC 3711 §3.3.2 only sets 64 as
 * the minimum).
 */
#define SRTP_REPLAY_WINDOW 1024

struct cg_srtp {
	srtp_t out; /* protects what we send */
	srtp_t in;  /* unprotects what the peer sends */
};

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static int srtp_init_result;
static const char *srtp_crypto_name = "libsrtp2";

static void srtp_global_init_once(void)
{
	srtp_err_status_t s = srtp_init();
	const char *want = getenv("CAMGATE_SRTP_CRYPTO");

	if (s != srtp_err_status_ok) {
		cg_debug("srtp_init failed: %d", (int)s);
		srtp_init_result = -EIO;
		return;
	}
	/* CAMGATE_SRTP_CRYPTO=libsrtp2 keeps the library's own (benchmarks compare). */
	if (want && strcmp(want, "libsrtp2") == 0)
		return;
	if (cg_srtp_nettle_install() == 0)
		srtp_crypto_name = "nettle";
	else
		cg_debug("libsrtp2 refused nettle's AES-CM/HMAC-SHA1, keeping its own");
}

const char *cg_srtp_crypto_name(void)
{
	return srtp_crypto_name;
}

int cg_srtp_global_init(void)
{
	int r = pthread_once(&srtp_once, srtp_global_init_once);

	if (r != 0)
		return -r;
	return srtp_init_result;
}

/* STYLE 4.7 rule 4: libsrtp's status codes become errno at this boundary. */
static int srtp_status_to_errno(srtp_err_status_t s)
{
	switch (s) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return -EACCES;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
	case srtp_err_status_no_ctx:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* Checks the lengths match the profile and picks the libsrtp crypto policy. */
static int srtp_policy_for(const struct cg_srtp_keys *keys, srtp_policy_t *policy)
{
	switch (keys->profile) {
	case CG_SRTP_AES128_CM_SHA1_80:
		if (keys->key_len != SRTP_AES_128_KEY_LEN || keys->salt_len != SRTP_SALT_LEN)
			return -EINVAL;
		/* RFC 5764 §4.1.2: AES-CM with HMAC-SHA1-80 for both RTP and RTCP. */
		srtp_crypto_policy_set_rtp_default(&policy->rtp);
		srtp_crypto_policy_set_rtcp_default(&policy->rtcp);
		return 0;
	case CG_SRTP_AEAD_AES_128_GCM:
		if (keys->key_len != SRTP_AES_128_KEY_LEN || keys->salt_len != SRTP_AEAD_SALT_LEN)
			return -EINVAL;
		/* RFC 7714 §14.2: AEAD_AES_128_GCM, 16-octet tag, RTP and RTCP alike. */
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
		return 0;
	default:
		return -ENOTSUP;
	}
}

/* Creates one direction's session with a wildcard SSRC template. */
static int srtp_create_one(srtp_t *ret, const struct cg_srtp_keys *keys, const uint8_t *key_salt,
			   srtp_ssrc_type_t type)
{
	uint8_t key[CG_SRTP_MAX_KEY_SALT];
	srtp_policy_t policy = { 0 };
	srtp_err_status_t s;
	int r;

	r = srtp_policy_for(keys, &policy);
	if (r < 0)
		return r;
	/* libsrtp wants a mutable key buffer; it expands the key into its own context. */
	memcpy(key, key_salt, sizeof(key));
	policy.ssrc.type = type;
	policy.key = key;
	policy.window_size = SRTP_REPLAY_WINDOW;
	/* NACK-driven retransmissions resend the same sequence number (RFC 4585 §6.2.1). */
	policy.allow_repeat_tx = type == ssrc_any_outbound;
	s = srtp_create(ret, &policy);
	explicit_bzero(key, sizeof(key));
	if (s != srtp_err_status_ok) {
		cg_debug("srtp_create failed: %d", (int)s);
		*ret = NULL;
		return -EIO;
	}
	return 0;
}

/*
 * RFC 5764 §4.2: the DTLS client protects with the client_write key, the server with the
 * server_write key; each side unprotects with the other half.
 */
static int srtp_create_ctx(struct cg_srtp *srtp, const struct cg_srtp_keys *keys,
			   bool is_dtls_server)
{
	const uint8_t *local = is_dtls_server ? keys->server_key_salt : keys->client_key_salt;
	const uint8_t *remote = is_dtls_server ? keys->client_key_salt : keys->server_key_salt;
	int r;

	r = srtp_create_one(&srtp->out, keys, local, ssrc_any_outbound);
	if (r < 0)
		return r;
	return srtp_create_one(&srtp->in, keys, remote, ssrc_any_inbound);
}

int cg_srtp_new(const struct cg_srtp_keys *keys, bool is_dtls_server, struct cg_srtp **ret)
{
	struct cg_srtp *srtp;
	int r;

	if (!keys || !ret)
		return -EINVAL;
	r = cg_srtp_global_init();
	if (r < 0)
		return r;
	srtp = cg_new0(struct cg_srtp, 1);
	r = srtp_create_ctx(srtp, keys, is_dtls_server);
	if (r < 0) {
		cg_srtp_free(srtp);
		return r;
	}
	*ret = srtp;
	return 0;
}

struct cg_srtp *cg_srtp_free(struct cg_srtp *srtp)
{
	if (!srtp)
		return NULL;
	if (srtp->out)
		srtp_dealloc(srtp->out);
	if (srtp->in)
		srtp_dealloc(srtp->in);
	free(srtp);
	return NULL;
}

/*
 * libsrtp 2.x takes no buffer size and appends up to the tag (16 bytes), the SRTCP index
 * (4) and no MKI (we never set one), so CG_SRTP_MAX_TRAILER (32) covers both RTP and RTCP.
 */
static int srtp_check_room(size_t len, size_t cap)
{
	if (len > (size_t)INT_MAX - CG_SRTP_MAX_TRAILER || cap < len + CG_SRTP_MAX_TRAILER)
		return -ENOSPC;
	return 0;
}

/* libsrtp's four in-place transforms share one signature. */
typedef srtp_err_status_t (*srtp_transform_fn)(srtp_t ctx, void *buf, int *len);

static int srtp_run(srtp_t ctx, srtp_transform_fn transform, uint8_t *buf, size_t len)
{
	int n = (int)len;
	int r = srtp_status_to_errno(transform(ctx, buf, &n));

	return r < 0 ? r : n;
}

static int srtp_protect_common(struct cg_srtp *srtp, srtp_transform_fn transform, uint8_t *buf,
			       size_t len, size_t cap)
{
	int r;

	if (!srtp || !buf)
		return -EINVAL;
	r = srtp_check_room(len, cap);
	if (r < 0)
		return r;
	return srtp_run(srtp->out, transform, buf, len);
}

static int srtp_unprotect_common(struct cg_srtp *srtp, srtp_transform_fn transform, uint8_t *buf,
				 size_t len)
{
	if (!srtp || !buf)
		return -EINVAL;
	if (len > INT_MAX)
		return -EBADMSG;
	return srtp_run(srtp->in, transform, buf, len);
}

int cg_srtp_protect(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap)
{
	return srtp_protect_common(srtp, srtp_protect, buf, len, cap);
}

int cg_srtp_protect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len, size_t cap)
{
	return srtp_protect_common(srtp, srtp_protect_rtcp, buf, len, cap);
}

int cg_srtp_unprotect(struct cg_srtp *srtp, uint8_t *buf, size_t len)
{
	return srtp_unprotect_common(srtp, srtp_unprotect, buf, len);
}

int cg_srtp_unprotect_rtcp(struct cg_srtp *srtp, uint8_t *buf, size_t len)
{
	return srtp_unprotect_common(srtp, srtp_unprotect_rtcp, buf, len);
}
