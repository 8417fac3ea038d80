/* SPDX-License-Identifier: GPL-3.0-or-later */
/* --camera-control parsing (hw/libcamera/controls.c): values, ranges, and bad input. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hw/libcamera/controls.h"

static void test_defaults(void)
{
	struct cg_lc_controls c;

	g_assert_cmpint(cg_lc_controls_parse(NULL, &c, NULL, 0), ==, 0);
	g_assert_cmpuint(c.set, ==, 0);
	g_assert_cmpint(c.af_mode, ==, CG_LC_AF_CONTINUOUS);
	g_assert_cmpint(cg_lc_controls_parse("", &c, NULL, 0), ==, 0);
	g_assert_cmpuint(c.set, ==, 0);
}

static void test_values(void)
{
	struct cg_lc_controls c;
	char err[160];

	g_assert_cmpint(cg_lc_controls_parse("brightness=-0.25,contrast=1.5,Saturation=0,"
					     "sharpness=16,ev=-1.5,AeMeteringMode=spot,HDR=on,"
					     "AfMode=manual,rotation=180,hflip=1,vflip=off",
					     &c, err, sizeof(err)),
			==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpuint(c.set, ==, (1u << 11) - 1);
	g_assert_cmpfloat(c.brightness, ==, -0.25f);
	g_assert_cmpfloat(c.contrast, ==, 1.5f);
	g_assert_cmpfloat(c.saturation, ==, 0.0f);
	g_assert_cmpfloat(c.sharpness, ==, 16.0f);
	g_assert_cmpfloat(c.exposure_value, ==, -1.5f);
	g_assert_cmpint(c.metering, ==, CG_LC_METERING_SPOT);
	g_assert_true(c.hdr);
	g_assert_cmpint(c.af_mode, ==, CG_LC_AF_MANUAL);
	g_assert_cmpuint(c.rotation, ==, 180);
	g_assert_true(c.hflip);
	g_assert_false(c.vflip);
	g_assert_cmpint(
		cg_lc_controls_parse("ExposureValue=2,metering=center", &c, err, sizeof(err)), ==,
		0);
	g_assert_cmpfloat(c.exposure_value, ==, 2.0f);
	g_assert_cmpint(c.metering, ==, CG_LC_METERING_CENTRE);
	g_assert_cmpuint(c.set, ==, CG_LC_CTRL_EV | CG_LC_CTRL_METERING);
}

/* Each bad option is refused with its reason, and leaves nothing of what came before. */
static void test_bad(void)
{
	static const struct {
		const char *in, *says;
	} bad[] = {
		{ "brightness=2", "brightness=2: not a number in range -1..1" },
		{ "contrast=abc", "contrast=abc: not a number in range 0..32" },
		{ "contrast=", "contrast=: not a number" },
		{ "contrast=nan", "not a number" },
		{ "ev=9", "ExposureValue=9" },
		{ "AeMeteringMode=average", "not centre, spot or matrix" },
		{ "HDR=maybe", "not on or off" },
		{ "AfMode=fast", "not continuous, auto or manual" },
		{ "rotation=90", "not 0 or 180" },
		{ "zoom=2", "unknown control 'zoom'" },
		{ "brightness", "not KEY=VALUE" },
		{ "brightness=0.1,,contrast=1", "not KEY=VALUE" },
		{ "brightness=0.1,brightness=0.2", "brightness is given twice" },
		{ "saturation=1,ev=1,hflip=on,AfMode=auto,zoom=3", "unknown control" },
	};
	struct cg_lc_controls c;
	char err[200];

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(cg_lc_controls_parse(bad[i].in, &c, err, sizeof(err)), ==, -EINVAL);
		g_test_message("%s -> %s", bad[i].in, err);
		g_assert_nonnull(strstr(err, bad[i].says));
		g_assert_cmpuint(c.set, ==, 0);
		g_assert_cmpint(c.af_mode, ==, CG_LC_AF_CONTINUOUS);
		g_assert_false(c.hflip);
	}
	/* No room for the reason is no crash. */
	g_assert_cmpint(cg_lc_controls_parse("zoom=1", &c, NULL, 0), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lc-controls/defaults", test_defaults);
	g_test_add_func("/lc-controls/values", test_values);
	g_test_add_func("/lc-controls/bad", test_bad);
	return g_test_run();
}
