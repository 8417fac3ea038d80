/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Discovery for --list-devices and --source=auto: V4L2 cameras with their modes, and
 * mem2mem encoders with the formats they take and make. Any thread.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Prints every capture node with each format's sizes and rates. Returns how many nodes. */
int cg_v4l2_print_cameras(FILE *out);

/* Prints every mem2mem node that encodes (H.264 or another coded format). */
int cg_v4l2_print_encoders(FILE *out);

/*
 * The first capture node offering a format in cg_v4l2_default_formats, into path.
 * Returns 0, or -ENODEV with the reason in reason (if not NULL).
 */
int cg_v4l2_find_camera(char *path, size_t size, char *reason, size_t reason_size);

#define CG_V4L2_PATH_MAX 64

/* Every capture node offering a format in cg_v4l2_default_formats, in node order, into
 * paths (at most max). Returns how many. */
unsigned cg_v4l2_find_cameras(char (*paths)[CG_V4L2_PATH_MAX], unsigned max);
