/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The "passthrough" encoder: for cameras that compress to H.264 themselves (UVC H.264).
 * Each frame's bitstream becomes an AU through hw/au_writer.h (4-byte start codes, AUD and
 * filler dropped); nothing is decoded or re-encoded. Key frames are the camera's:
 * request_keyframe() calls the forward callback set with cg_passthrough_set_keyframe_fn() (the
 * capture's request_keyframe, when the camera has V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME); IDRs that
 * come without SPS/PPS get the last ones seen put in front.
 *
 * open(): cfg->input_fourcc must be H.264 (-ENOTSUP otherwise). The profile reported is
 * the one cfg asks for (Constrained Baseline or Main) at the level for cfg until the first
 * SPS is seen, a guess, since the camera decides; after that, the latest SPS's
 * (cg_h264util_sps_profile). The SDP does not rely on it: the media thread reads the SPS
 * of the AUs themselves. encode(): returns 0 with an AU, -EAGAIN (the frame held only SPS/PPS),
 * -EINVAL (not H.264 Annex-B, empty, no CPU mapping). set_bitrate(): -ENOTSUP. Owner: the media
 * thread.
 */
#pragma once

#include "hw/encoder.h"

extern const struct cg_encoder_ops cg_passthrough_encoder_ops;

typedef int (*cg_passthrough_keyframe_fn)(void *userdata);
/* Sets where key frame requests go (NULL: nowhere). Media thread. */
void cg_passthrough_set_keyframe_fn(struct cg_encoder *enc, cg_passthrough_keyframe_fn fn,
				    void *userdata);
