/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * MJPEG decoding with libjpeg-turbo's TurboJPEG API, for hw/convert.c: a camera's JPEG
 * frame into I420 planes. 4:2:0 JPEGs decode straight into the planes; 4:2:2 (what most
 * UVC cameras send) decode into a scratch chroma buffer whose even rows are then taken.
 * The decoder is used by one thread at a time (the media thread).
 */
#pragma once

#include "hw/convert.h"

extern const struct cg_mjpeg_ops cg_mjpeg_turbo_ops;
