/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * V4L2 mem2mem stateful encoder (Documentation/userspace-api/media/v4l/dev-encoder.rst),
 * through libv4l2. Codec-agnostic: cfg->codec picks the CAPTURE (coded) format, H.264 by
 * default, so vicodec's FWHT encoder, and vim2m as a "codec" of raw frames, exercise the
 * same queues and the same DMA-BUF import in tests.
 *
 * open(): cfg->device, or the first mem2mem node whose CAPTURE queue offers the codec and
 * whose OUTPUT queue takes cfg->input_fourcc. Sets both formats (coded first, as the spec's
 * Initialization asks) and the controls the driver has: bitrate (CBR), GOP and IDR period,
 * profile, level, no B-frames, SPS/PPS repeated before every IDR. Controls a driver lacks
 * are skipped; a value outside a control's range is clamped. An encoder that pads the OUTPUT
 * size to its alignment (the Pi: 1080 -> 1088 rows; Qualcomm: 32) is used with the OUTPUT
 * crop (VIDIOC_S_SELECTION, V4L2_SEL_TGT_CROP) set to the camera's size, or not at all when it
 * cannot crop; planes are placed by the driver's bytesperline and padded height, so a
 * camera's frame is imported only when its planes lie where the encoder wants them, and is
 * copied (counted) otherwise. Returns 0, -ENODEV (no such
 * node / no suitable node), -ENOTSUP (the encoder does not take the input format or size:
 * the log says which formats it takes), -EBUSY, or another -errno.
 *
 * An encoder that takes the camera's NV12 or YU12 only with a buffer per plane (NV12M,
 * YUV420M: Jetson, Qualcomm) is fed plane by plane: the frame's one DMA-BUF is imported once
 * per plane with the plane's offset as data_offset, or each plane is copied into its MMAP
 * buffer.
 *
 * encode(): at most one frame is in the encoder and one waits; a newer frame replaces the
 * waiting one (the newest frame wins). Frames with a DMA-BUF whose stride and size suit the
 * encoder are queued as V4L2_MEMORY_DMABUF and held until the encoder returns them: no
 * pixel is copied. Others (CPU frames, stride mismatch, a driver whose OUTPUT queue refuses
 * DMA-BUF, which is logged once) are copied into MMAP buffers and the copy is reported in
 * cg_au.copied_bytes. Always returns -EAGAIN (the AU comes from
 * receive()), or -EINVAL (format or size), -EIO, -ENODEV.
 *
 * request_keyframe(): V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME on the next frame; encoders
 * without it (vicodec) get the spec's Reset sequence instead: drain with V4L2_ENC_CMD_STOP,
 * then STREAMOFF/STREAMON on CAPTURE, after which the stream restarts standalone.
 *
 * fd()/receive(): the node's fd (POLLIN: an encoded buffer is done); receive() returns one
 * AU per call. H.264 goes through hw/au_writer.h: 4-byte start codes, SPS/PPS in front of
 * every IDR, a buffer of headers alone cached rather than returned, a buffer that is no H.264
 * dropped. Other codecs (FWHT, raw) come as the buffer is, a key frame by its flag.
 *
 * close(): drains (V4L2_ENC_CMD_STOP until the buffer flagged LAST, at most 1 s) and frees.
 * Owner: the media thread.
 */
#pragma once

#include "hw/encoder.h"

extern const struct cg_encoder_ops cg_v4l2_m2m_encoder_ops;

/*
 * Finds the first mem2mem node that encodes to codec from input_fourcc (0: any raw format)
 * and writes its path to path: Jetson's encoder by name (/dev/v4l2-nvenc, /dev/nvhost-msenc:
 * cg_v4l2_jetson_encoder_nodes, opened through libv4l2 so that NVIDIA's plugin serves it),
 * then /dev/videoN in N order. Returns 0 or -ENODEV. Any thread.
 */
int cg_v4l2_m2m_find(uint32_t codec, uint32_t input_fourcc, char *path, size_t size);
