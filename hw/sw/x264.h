/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Software H.264 encoder on libx264, tuned for interactive streaming: zero latency (one AU
 * out per frame in), no B-frames, no lookahead, SPS/PPS before every IDR, Annex-B with
 * 4-byte start codes, ABR with a tight VBV so frames stay small.
 *
 * Owner: the media thread; every op is media thread only. AUs it returns are independent
 * of the encoder (any thread may keep and unref them, also after close).
 *
 * open(): cfg->width/height must be even and non-zero, fps and bitrate_kbps non-zero;
 * keyframe_interval 0 means 2 s; threads 0 means x264's default (slice threads, one per
 * core). The level is the lowest that fits the size, rate and bitrate (3.1 for 720p30 up to
 * 14 Mb/s, 4.0 for 1080p30). Constrained Baseline streams carry profile_idc 66 with
 * constraint_set0/1 set (profile-level-id 42c0xx). Returns 0, -EINVAL (bad cfg), -ENOTSUP
 * (no level fits, or x264 refuses the parameters).
 *
 * encode(): takes an I420 frame of the configured size with CPU-mapped planes
 * (planes[i].data is the plane's first byte; the pixels are read, not copied, during the
 * call). Returns 0 with a new AU, -EINVAL (format, size or no CPU mapping), -EAGAIN (x264
 * buffered the frame; does not happen with this configuration), -EIO (x264 failed).
 *
 * set_bitrate(): changes bitrate and VBV at the next frame; the level stays (it is in the
 * SDP answer already). Returns 0, -EINVAL (0 kbps) or -ENOTSUP (x264 refused).
 */
#pragma once

#include "hw/encoder.h"

extern const struct cg_encoder_ops cg_x264_encoder_ops;
