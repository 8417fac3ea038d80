/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Encoder backend interface and the access unit it produces. Owner: the media thread; every
 * op is media thread only. An access unit is immutable and reference-counted once handed
 * out, so any thread may read and unref it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/frame.h"
#include "util/refcount.h"

/*
 * One encoded frame: Annex-B H.264 with 4-byte start codes, no AUD or filler NALs. The H.264
 * backends all build it with hw/au_writer.h, which keeps this contract.
 */
struct cg_au {
	struct cg_refcount ref;
	uint8_t *data;
	size_t len;
	size_t cap;
	bool keyframe;		    /* an IDR, with SPS and PPS (once any came) */
	uint64_t capture_mono_usec; /* copied from the frame */
	uint64_t capture_wall_usec;
	uint64_t encode_usec; /* time spent encoding, for the latency breakdown */
	uint32_t frame_sequence;
	uint32_t copied_bytes; /* pixel bytes the encoder's CPU side copied for this AU */
};

/* Allocates an AU with room for cap bytes, refcount 1. Aborts on OOM. Any thread. */
struct cg_au *cg_au_new(size_t cap);
struct cg_au *cg_au_ref(struct cg_au *au);
/* Any thread. Returns NULL. */
struct cg_au *cg_au_unref(struct cg_au *au);

enum cg_h264_profile_choice {
	CG_ENCODER_PROFILE_CONSTRAINED_BASELINE = 0,
	CG_ENCODER_PROFILE_MAIN,
};

struct cg_encoder_cfg {
	uint32_t width;
	uint32_t height;
	uint32_t fps;
	uint32_t bitrate_kbps;
	uint32_t keyframe_interval; /* frames between IDRs */
	enum cg_h264_profile_choice profile;
	unsigned threads; /* 0: backend default */
	/* The frames it will get: fourcc (0: I420) and bytes per line of plane 0 (0: any). */
	uint32_t input_fourcc;
	uint32_t input_stride;
	/* Hardware backends: the node to use (NULL: the first suitable one found). */
	const char *device;
	/* Coded format (0: H.264). Only codec-agnostic backends accept others (tests). */
	uint32_t codec;
	/* Software backends with speed presets (x264): the one to start with (NULL: the
	 * backend's default, x264's "veryfast"). Others ignore it. */
	const char *preset;
};

struct cg_encoder;

struct cg_encoder_ops {
	unsigned version;
	const char *name;
	/* Returns 0, -ENOTSUP (this backend cannot do cfg), -ENODEV, -EIO. */
	int (*open)(const struct cg_encoder_cfg *cfg, struct cg_encoder **ret);
	/*
	 * Encodes one frame (borrowed for the call; a backend that keeps it takes a ref) and
	 * returns its access unit in *ret (new reference). Zero-latency backends return one AU
	 * per frame. Returns 0, -EAGAIN (no AU yet: asynchronous backends deliver it through
	 * fd() and receive()), -EINVAL (frame format), -EIO, -ENODEV (the device vanished).
	 */
	int (*encode)(struct cg_encoder *enc, struct cg_frame *frame, struct cg_au **ret);
	/* The next encoded frame is an IDR with SPS/PPS. */
	void (*request_keyframe)(struct cg_encoder *enc);
	/* Returns 0 or -ENOTSUP. */
	int (*set_bitrate)(struct cg_encoder *enc, uint32_t kbps);
	/* profile_idc, constraint byte and level_idc of the stream, for the SDP answer. */
	void (*get_profile)(struct cg_encoder *enc, uint8_t *profile_idc, uint8_t *constraints,
			    uint8_t *level_idc);
	void (*close)(struct cg_encoder *enc);
	/*
	 * Asynchronous backends only (NULL otherwise): a pollable fd that becomes readable
	 * (POLLIN) when receive() may have an AU, and receive() itself, which returns 0 with a
	 * new AU, -EAGAIN, -EIO or -ENODEV.
	 */
	int (*fd)(struct cg_encoder *enc);
	int (*receive)(struct cg_encoder *enc, struct cg_au **ret);
	/*
	 * Optional (NULL: the backend has no speed presets; hardware encoders): switches to
	 * the named preset (preset borrowed for the call). It applies at the next frame, or
	 * for a change the backend cannot make in place (x264 into or out of "ultrafast") at
	 * the next key frame due anyway, by reopening. Returns 0 (taken), -EINVAL (unknown
	 * preset) or -ENOTSUP (refused: the running preset stays).
	 */
	int (*set_preset)(struct cg_encoder *enc, const char *preset);
};
