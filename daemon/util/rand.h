/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unpredictable identifiers (session IDs, ICE credentials, SSRCs) from getrandom(),
 * never rand(). Any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Fills buf with len random bytes. Aborts if the kernel cannot supply them (cannot happen
 * after early boot with getrandom's blocking default). */
void cg_rand_bytes(void *buf, size_t len);

uint32_t cg_rand_u32(void);

/* Writes len characters from [A-Za-z0-9] (ICE-char safe; RFC 8839 also allows '+' and '/')
 * and a terminating NUL into out, which must hold len + 1 bytes. */
void cg_rand_token(char *out, size_t len);
