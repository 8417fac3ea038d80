/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cg_rand_token: length, NUL, alphabet (ICE-char safe, RFC 8839 §5.4) and non-repetition. */
#include <glib.h>
#include <string.h>

#include "util/rand.h"

static void test_token_alphabet_length(void)
{
	static const size_t lens[] = { 0, 1, 4, 16, 24, 63, 64, 65, 128, 200 };
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
		char buf[256];

		memset(buf, '#', sizeof(buf));
		cg_rand_token(buf, lens[i]);
		g_assert_cmpuint(strlen(buf), ==, lens[i]);
		g_assert_cmpint(buf[lens[i] + 1], ==, '#'); /* nothing written past the NUL */
		for (size_t k = 0; k < lens[i]; k++) {
			g_assert_true(g_ascii_isalnum(buf[k]));
			g_hash_table_add(seen, GINT_TO_POINTER(buf[k]));
		}
	}
	/* Over ~560 characters every one of the 62 symbols is all but certain to appear
	 * (a missing symbol has probability < 62 * (61/62)^560 ≈ 7e-3); require 55. */
	g_assert_cmpuint(g_hash_table_size(seen), >=, 55);
	g_hash_table_destroy(seen);
}

static void test_token_unique(void)
{
	GHashTable *tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (int i = 0; i < 1000; i++) {
		char buf[17];

		cg_rand_token(buf, 16);
		g_assert_true(g_hash_table_add(tokens, g_strdup(buf)));
	}
	g_hash_table_destroy(tokens);
}

static void test_rand_bytes(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	cg_rand_bytes(a, sizeof(a));
	cg_rand_bytes(b, sizeof(b));
	g_assert_true(memcmp(a, b, sizeof(a)) != 0);
	cg_rand_bytes(a, 0);
	g_assert_true(cg_rand_u32() != cg_rand_u32() || cg_rand_u32() != cg_rand_u32());
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rand/token/alphabet-length", test_token_alphabet_length);
	g_test_add_func("/rand/token/unique", test_token_unique);
	g_test_add_func("/rand/bytes", test_rand_bytes);
	return g_test_run();
}
