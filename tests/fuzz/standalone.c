/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Replay driver for the libFuzzer targets in normal builds (STYLE 4.12 "fuzz-replay"): runs
 * LLVMFuzzerTestOneInput once per file named on the command line, recursing into
 * directories. Each input gets a buffer of exactly its size so ASan sees any overread.
 * Exit status 0 when every input ran (a crash aborts), 1 on I/O errors.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned n_inputs;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int r = -1;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(len ? (size_t)len : 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			n_inputs++;
			r = 0;
		}
	}
	if (r < 0)
		fprintf(stderr, "%s: read error\n", path);
	free(buf);
	fclose(f);
	return r;
}

static int run_path(const char *path);

static int run_dir(const char *path)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), r = 0;

	if (n < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
			char *child = malloc(len);

			if (!child)
				abort();
			snprintf(child, len, "%s/%s", path, names[i]->d_name);
			if (run_path(child) < 0)
				r = -1;
			free(child);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static int run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			status = 1;
	printf("replayed %u inputs\n", n_inputs);
	return status;
}
