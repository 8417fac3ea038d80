/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libsrtp2's AES-128 counter mode and HMAC-SHA1 done by nettle instead of the library it
 * was built on (Debian: NSS, a PKCS#11 context per packet); srtp_nettle.c says why.
 */
#pragma once

/*
 * Replaces the two types in libsrtp2's crypto kernel. After srtp_init(), before any
 * srtp_t is made; once per process (cg_srtp_global_init() calls it). libsrtp tests them
 * against its own and our vectors first. Returns 0, or -EIO when libsrtp refused them (its
 * own stay in place: correct, slower).
 */
int cg_srtp_nettle_install(void);
