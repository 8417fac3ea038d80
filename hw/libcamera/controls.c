/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hw/libcamera/controls.h"

#define CTRL_PIECE_MAX 64

enum ctrl_kind { CTRL_FLOAT, CTRL_BOOL, CTRL_METERING, CTRL_AF, CTRL_ROTATION };

struct ctrl_key {
	const char *name;
	const char *alias;
	enum cg_lc_ctrl bit;
	enum ctrl_kind kind;
	float lo, hi;
	size_t field; /* offsetof the float or bool in struct cg_lc_controls */
};

#define FLOAT_KEY(n, a, b, l, h, f)                                                                \
	{                                                                                          \
		n, a, b, CTRL_FLOAT, l, h, offsetof(struct cg_lc_controls, f)                      \
	}

static const struct ctrl_key ctrl_keys[] = {
	FLOAT_KEY("brightness", NULL, CG_LC_CTRL_BRIGHTNESS, -1, 1, brightness),
	FLOAT_KEY("contrast", NULL, CG_LC_CTRL_CONTRAST, 0, 32, contrast),
	FLOAT_KEY("saturation", NULL, CG_LC_CTRL_SATURATION, 0, 32, saturation),
	FLOAT_KEY("sharpness", NULL, CG_LC_CTRL_SHARPNESS, 0, 16, sharpness),
	FLOAT_KEY("ExposureValue", "ev", CG_LC_CTRL_EV, -8, 8, exposure_value),
	{ "AeMeteringMode", "metering", CG_LC_CTRL_METERING, CTRL_METERING, 0, 0, 0 },
	{ "HDR", NULL, CG_LC_CTRL_HDR, CTRL_BOOL, 0, 0, offsetof(struct cg_lc_controls, hdr) },
	{ "AfMode", "af", CG_LC_CTRL_AF, CTRL_AF, 0, 0, 0 },
	{ "rotation", NULL, CG_LC_CTRL_ROTATION, CTRL_ROTATION, 0, 0, 0 },
	{ "hflip", NULL, CG_LC_CTRL_HFLIP, CTRL_BOOL, 0, 0,
	  offsetof(struct cg_lc_controls, hflip) },
	{ "vflip", NULL, CG_LC_CTRL_VFLIP, CTRL_BOOL, 0, 0,
	  offsetof(struct cg_lc_controls, vflip) },
};

static const struct ctrl_key *ctrl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ctrl_keys) / sizeof(ctrl_keys[0]); i++)
		if (strcasecmp(name, ctrl_keys[i].name) == 0 ||
		    (ctrl_keys[i].alias && strcasecmp(name, ctrl_keys[i].alias) == 0))
			return &ctrl_keys[i];
	return NULL;
}

/* Returns 0/1 for the words a configuration file uses, -1 otherwise. */
static int ctrl_bool(const char *v)
{
	static const char *const on[] = { "on", "1", "true", "yes" };
	static const char *const off[] = { "off", "0", "false", "no" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, on[i]) == 0)
			return 1;
		if (strcasecmp(v, off[i]) == 0)
			return 0;
	}
	return -1;
}

static int ctrl_word(const char *v, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0)
			return (int)i;
	return -1;
}

/* Sets one key's value; returns NULL or what is wrong with the value. */
static const char *ctrl_apply(const struct ctrl_key *k, const char *v, struct cg_lc_controls *c)
{
	static const char *const metering[] = { "centre", "spot", "matrix", "center" };
	static const char *const af[] = { "manual", "auto", "continuous" };
	char *end;
	float f;
	int i;

	switch (k->kind) {
	case CTRL_FLOAT:
		errno = 0;
		f = strtof(v, &end);
		if (!v[0] || *end || errno || !isfinite(f) || f < k->lo || f > k->hi)
			return "not a number in range";
		*(float *)((char *)c + k->field) = f;
		return NULL;
	case CTRL_BOOL:
		i = ctrl_bool(v);
		if (i < 0)
			return "not on or off";
		*(bool *)((char *)c + k->field) = i;
		return NULL;
	case CTRL_METERING:
		i = ctrl_word(v, metering, 4);
		if (i < 0)
			return "not centre, spot or matrix";
		c->metering = i == 3 ? CG_LC_METERING_CENTRE : i;
		return NULL;
	case CTRL_AF:
		i = ctrl_word(v, af, 3);
		if (i < 0)
			return "not continuous, auto or manual";
		c->af_mode = i;
		return NULL;
	case CTRL_ROTATION:
		if (strcmp(v, "0") != 0 && strcmp(v, "180") != 0)
			return "not 0 or 180 (the sensor reads out only these)";
		c->rotation = (unsigned)atoi(v);
		return NULL;
	}
	return "unknown kind";
}

/* One "KEY=VALUE" piece. */
static int ctrl_piece(const char *p, size_t len, struct cg_lc_controls *c, char *err,
		      size_t err_size)
{
	char buf[CTRL_PIECE_MAX], *eq;
	const struct ctrl_key *k;
	const char *why;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, err_size, "'%.*s': not KEY=VALUE", (int)(len > 40 ? 40 : len), p);
		return -EINVAL;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	eq = strchr(buf, '=');
	if (!eq) {
		snprintf(err, err_size, "'%s': not KEY=VALUE", buf);
		return -EINVAL;
	}
	*eq = '\0';
	k = ctrl_find(buf);
	if (!k) {
		snprintf(err, err_size,
			 "unknown control '%s' (brightness, contrast, saturation, sharpness, "
			 "ExposureValue, AeMeteringMode, HDR, AfMode, rotation, hflip, vflip)",
			 buf);
		return -EINVAL;
	}
	if (c->set & k->bit) {
		snprintf(err, err_size, "%s is given twice", k->name);
		return -EINVAL;
	}
	why = ctrl_apply(k, eq + 1, c);
	if (why) {
		if (k->kind == CTRL_FLOAT)
			snprintf(err, err_size, "%s=%s: %s %g..%g", k->name, eq + 1, why,
				 (double)k->lo, (double)k->hi);
		else
			snprintf(err, err_size, "%s=%s: %s", k->name, eq + 1, why);
		return -EINVAL;
	}
	c->set |= k->bit;
	return 0;
}

static void ctrl_reset(struct cg_lc_controls *c)
{
	memset(c, 0, sizeof(*c));
	c->af_mode = CG_LC_AF_CONTINUOUS;
}

int cg_lc_controls_parse(const char *s, struct cg_lc_controls *out, char *err, size_t err_size)
{
	const char *p = s;

	ctrl_reset(out);
	if (err && err_size)
		err[0] = '\0';
	while (p && *p) {
		size_t len = strcspn(p, ",");
		int r = ctrl_piece(p, len, out, err, err ? err_size : 0);

		if (r < 0) {
			ctrl_reset(out);
			return r;
		}
		p += len;
		p += *p == ',';
	}
	return 0;
}
