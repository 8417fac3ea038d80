/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VA-API H.264 encoder (libva + libva-drm on a DRM render node).
 *
 * open(): cfg->device (a /dev/dri/renderD* node) or the first render node whose driver
 * encodes H.264 in the profile asked for: Constrained Baseline (CAVLC) or Main (CABAC),
 * low-power entrypoint (VAEntrypointEncSliceLP) when the driver has it, else the normal
 * one; CBR rate control; input NV12 (DMA-BUF imported as a DRM PRIME surface, no copy) or
 * I420/NV12 in CPU memory (uploaded, counted in cg_au.copied_bytes). One reference frame,
 * no B-frames, an IDR every keyframe_interval frames and on request. SPS/PPS come from the
 * driver (no packed headers are sent); hw/au_writer.h caches the last ones seen and puts them
 * in front of any IDR that lacks them. Returns 0, -ENODEV (no render node / no H.264 encode),
 * -ENOTSUP (profile, input format or CBR not supported), -EIO.
 *
 * encode(): synchronous (vaSyncSurface): returns 0 with the frame's AU, -EAGAIN (the coded
 * buffer held no slice: the frame is dropped and the next one is an IDR), -EINVAL, -EIO.
 * The media thread blocks for the encode time; TODO(3): a dedicated encode thread if a
 * GPU turns out slower than a frame period.
 *
 * Owner: the media thread. Runs only where /dev/dri/renderD* exists (tests/hw).
 */
#pragma once

#include <stdio.h>

#include "hw/encoder.h"

extern const struct cg_encoder_ops cg_vaapi_encoder_ops;

/* Prints each render node and whether (and how) it encodes H.264. Returns how many do. */
int cg_vaapi_print_devices(FILE *out);
