/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Writes a man page from its template (camgate.8.in, camgate.conf.5.in) and the option
 * table --help is printed from (cg_config_options()), so that the page and --help cannot
 * disagree: @OPTIONS@ becomes every command-line option, @KEYS@ every key of the key
 * file's [camgate] group, @VERSION@ the version.
 *   camgate-man TEMPLATE OUTPUT
 * The pages in docs/man/ are this program's output, checked in so that a build that
 * cannot run it (a cross build) installs the same pages; the unit test "man-pages" fails
 * when they are stale, and `meson compile -C BUILD update-man` writes them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "build-config.h"

#define MAX_OPTIONS 64

/* Text for roff: backslashes escaped, and hyphens too where they are typed (option names). */
static void roff_text(FILE *out, const char *s, int hyphens)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-' && hyphens)
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

/* The help text as a paragraph; a line that would start with a dot is guarded. */
static void roff_paragraph(FILE *out, const char *help)
{
	if (help[0] == '.' || help[0] == '\'')
		fputs("\\&", out);
	roff_text(out, help, 0);
	fputc('\n', out);
}

static void write_options(FILE *out, const struct cg_config_option *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n", out);
		if (o[i].short_name)
			fprintf(out, "\\fB\\-%c\\fR, ", o[i].short_name);
		fputs("\\fB\\-\\-", out);
		roff_text(out, o[i].name, 1);
		fputs("\\fR", out);
		if (o[i].arg) {
			fputs("=\\fI", out);
			roff_text(out, o[i].arg, 1);
			fputs("\\fR", out);
		}
		fputc('\n', out);
		roff_paragraph(out, o[i].help);
	}
	fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow help options\n", out);
}

static void write_keys(FILE *out, const struct cg_config_option *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!o[i].in_file)
			continue;
		fputs(".TP\n\\fB", out);
		roff_text(out, o[i].name, 1);
		fputs("\\fR = \\fI", out);
		roff_text(out, o[i].arg ? o[i].arg : "VALUE", 1);
		fputs("\\fR\n", out);
		roff_paragraph(out, o[i].help);
		if (o[i].reload)
			fputs(".br\nA new value applies on reload (SIGHUP), viewers stay connected.\n",
			      out);
		else
			fputs(".br\nA new value applies when camgate restarts.\n", out);
		if (o[i].secret)
			fputs("Secret: never logged; keep the file from other users.\n", out);
	}
}

static int generate(FILE *in, FILE *out)
{
	struct cg_config_option opts[MAX_OPTIONS];
	size_t n = cg_config_options(opts, MAX_OPTIONS);
	char line[4096];

	if (n > MAX_OPTIONS)
		return -E2BIG;
	while (fgets(line, sizeof(line), in)) {
		char *at = strstr(line, "@VERSION@");

		if (strcmp(line, "@OPTIONS@\n") == 0) {
			write_options(out, opts, n);
		} else if (strcmp(line, "@KEYS@\n") == 0) {
			write_keys(out, opts, n);
		} else if (at) {
			fwrite(line, 1, (size_t)(at - line), out);
			fputs(CG_VERSION, out);
			fputs(at + strlen("@VERSION@"), out);
		} else {
			fputs(line, out);
		}
	}
	return ferror(in) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	FILE *in, *out;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s TEMPLATE OUTPUT\n", argv[0]);
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "camgate-man: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "camgate-man: %s: %s\n", argv[2], strerror(errno));
		fclose(in);
		return 1;
	}
	r = generate(in, out);
	fclose(in);
	if (fclose(out) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		fprintf(stderr, "camgate-man: %s: %s\n", argv[2], strerror(-r));
		return 1;
	}
	return 0;
}
