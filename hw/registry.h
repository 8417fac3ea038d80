/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The compiled-in backends. hw/registry.c is the only file that tests HAVE_*. Any thread.
 */
#pragma once

#include <stdio.h>

#include "hw/capture.h"
#include "hw/encoder.h"

/* Capture backend for a source name ("test"), or NULL. */
const struct cg_capture_ops *cg_registry_capture(const char *source);

/* Encoder backend by name ("x264", "auto"), or NULL when it is not compiled in. */
const struct cg_encoder_ops *cg_registry_encoder(const char *name);

/*
 * Prints every camera (with its formats, sizes and rates) and every encoder found, for
 * --list-devices. Returns 0 or -errno. Any thread.
 */
int cg_registry_print_devices(FILE *out);

/* NULL-terminated list of compiled-in encoder backends, best first. */
const struct cg_encoder_ops *const *cg_registry_encoders(void);
