/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --camera-control for libcamera cameras: "KEY=VALUE[,KEY=VALUE...]" parsed into what the
 * backend sets when the camera starts. Everything not given stays automatic (exposure,
 * white balance) or at the camera's default; autofocus is continuous where the camera has
 * it. A pure parser: the configuration checks the option with it, the backend applies
 * its result. Any thread.
 *
 * Keys (case does not matter): brightness (-1..1), contrast (0..32, 1 is neutral),
 * saturation (0..32), sharpness (0..16), ExposureValue or ev (-8..8 stops),
 * AeMeteringMode (centre, spot, matrix), HDR (on, off; the Camera Module 3's sensor HDR),
 * AfMode (continuous, auto, manual), rotation (0, 180), hflip, vflip (on, off).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cg_lc_ctrl {
	CG_LC_CTRL_BRIGHTNESS = 1u << 0,
	CG_LC_CTRL_CONTRAST = 1u << 1,
	CG_LC_CTRL_SATURATION = 1u << 2,
	CG_LC_CTRL_SHARPNESS = 1u << 3,
	CG_LC_CTRL_EV = 1u << 4,
	CG_LC_CTRL_METERING = 1u << 5,
	CG_LC_CTRL_HDR = 1u << 6,
	CG_LC_CTRL_AF = 1u << 7,
	CG_LC_CTRL_ROTATION = 1u << 8,
	CG_LC_CTRL_HFLIP = 1u << 9,
	CG_LC_CTRL_VFLIP = 1u << 10,
};

/* libcamera's AeMeteringMode and AfMode values. */
enum cg_lc_metering {
	CG_LC_METERING_CENTRE = 0,
	CG_LC_METERING_SPOT = 1,
	CG_LC_METERING_MATRIX = 2
};
enum cg_lc_af { CG_LC_AF_MANUAL = 0, CG_LC_AF_AUTO = 1, CG_LC_AF_CONTINUOUS = 2 };

struct cg_lc_controls {
	unsigned set; /* enum cg_lc_ctrl bits of the keys given */
	float brightness;
	float contrast;
	float saturation;
	float sharpness;
	float exposure_value;
	int metering; /* enum cg_lc_metering */
	bool hdr;
	int af_mode;	   /* enum cg_lc_af; CG_LC_AF_CONTINUOUS when not given */
	unsigned rotation; /* 0 or 180 */
	bool hflip;
	bool vflip;
};

/*
 * Parses s (NULL or "" is no control) into *out, which is reset first. Returns 0, or
 * -EINVAL with the reason in err ("contrast=abc: not a number in 0..32"); *out is then
 * reset again, so a bad option changes nothing.
 */
int cg_lc_controls_parse(const char *s, struct cg_lc_controls *out, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
