/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Checks that a JPEG is a picture of "now" from the test source: decodes it with
 * libjpeg-turbo and reads the block code (hw/fake/blockcode.h) from its luma.
 *
 * usage: snapshot-check FILE.jpg WIDTH HEIGHT MAX_AGE_MS
 * Exits 0 when the picture is WIDTHxHEIGHT and its capture time is at most MAX_AGE_MS old
 * (and not in the future); prints the time code and frame counter.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "hw/fake/blockcode.h"

int main(int argc, char **argv)
{
	unsigned char *jpeg, *yuv;
	gsize len;
	int w, h, sub, cs;
	uint64_t ms, now_ms = (uint64_t)(g_get_real_time() / 1000);
	uint16_t counter;
	tjhandle tj = tjInitDecompress();

	if (argc != 5 || !g_file_get_contents(argv[1], (char **)&jpeg, &len, NULL)) {
		fprintf(stderr, "usage: snapshot-check FILE.jpg WIDTH HEIGHT MAX_AGE_MS\n");
		return 2;
	}
	if (tjDecompressHeader3(tj, jpeg, len, &w, &h, &sub, &cs) < 0) {
		fprintf(stderr, "snapshot-check: not a JPEG: %s\n", tjGetErrorStr2(tj));
		return 1;
	}
	if (w != atoi(argv[2]) || h != atoi(argv[3])) {
		fprintf(stderr, "snapshot-check: %dx%d, expected %sx%s\n", w, h, argv[2], argv[3]);
		return 1;
	}
	yuv = g_malloc(tjBufSizeYUV2(w, 1, h, sub));
	if (tjDecompressToYUV2(tj, jpeg, len, yuv, w, 1, h, 0) < 0) {
		fprintf(stderr, "snapshot-check: cannot decode: %s\n", tjGetErrorStr2(tj));
		return 1;
	}
	/* The Y plane comes first, rows of exactly w bytes (pad 1). */
	if (cg_blockcode_read(yuv, (uint32_t)w, (uint32_t)w, (uint32_t)h, &ms, &counter) < 0) {
		fprintf(stderr, "snapshot-check: no block code in the picture\n");
		return 1;
	}
	printf("snapshot-check: %dx%d, captured %" G_GUINT64_FORMAT " ms ago, frame %u\n", w, h,
	       now_ms - ms, counter);
	if (ms > now_ms + 50 || now_ms - ms > (uint64_t)atoi(argv[4]))
		return 1;
	g_free(yuv);
	g_free(jpeg);
	tjDestroy(tj);
	return 0;
}
