/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The media thread: capture → encode → packetize once → publish to the hub (STYLE 4.5).
 * Also the keyframe arbiter: any number of keyframe requests within
 * min_keyframe_interval_ms become one IDR.

 * It publishes media units (media/unit.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hw/encoder.h"
#include "media/unit.h"

struct cg_config;
struct cg_hub;
struct cg_stats;
struct cg_media;

/*
 * Opens the source and the encoder named in cfg (borrowed; must outlive the media). hub and
 * stats are borrowed. cfg->source "auto" is the first V4L2 camera, else the test pattern;
 * cfg->encoder "auto" is the best encoder that opens for the camera's format (the log
 * says which and why); a hardware encoder named there that does not open (its one context
 * taken by another camera, no device) falls back to x264 with a warning. A camera that is missing or fails is not an error: the media
 * thread reopens it with back-off (1 s doubling to 30 s) while viewers stay connected.
 * Returns 0, -ENODEV (an encoder or source kind not in this build), or the test
 * pattern's error. Control thread, before cg_media_start().
 */
int cg_media_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		 struct cg_media **ret);

/*
 * Options the daemon's configuration does not carry, for tests/vdev: a coded format
 * other than H.264 (vicodec's FWHT; its AUs are counted in stats but not packetized or
 * published), the encoder node, and the camera formats to accept (0-terminated, best
 * first), and a hook that sees every AU of the test codec. Zeroes and NULLs mean the
 * defaults.
 */
struct cg_media_test_opts {
	uint32_t codec;
	const char *encoder_device;
	const uint32_t *formats;
	/* The named encoder or none: no fall back to x264 (tests/hw measures that encoder). */
	bool exact_encoder;
	/* With codec set: called on the media thread with every AU (borrowed). */
	void (*on_au)(const struct cg_au *au, void *userdata);
	void *userdata;
};

/* cg_media_new() with test options (opts borrowed, may be NULL). Control thread. */
int cg_media_new_test(const struct cg_config *cfg, const struct cg_media_test_opts *opts,
		      struct cg_hub *hub, struct cg_stats *stats, struct cg_media **ret);

/* Starts the media thread. Returns 0 or -errno. Control thread. */
int cg_media_start(struct cg_media *m);

/* Stops the thread (if started) and frees everything. Control thread. Returns NULL. */
struct cg_media *cg_media_free(struct cg_media *m);

/*
 * Stops the media thread and closes the source and encoder: nothing more is published. The
 * object stays valid (its SSRC, profile, bitrate) for sessions still sending on the workers
 * until cg_media_free(). Control thread; idempotent.
 */
void cg_media_stop(struct cg_media *m);

/* Asks for an IDR; coalesced by the arbiter. Any thread. */
void cg_media_request_keyframe(struct cg_media *m);

/*
 * Sets the encoder's target bitrate (kbit/s); applied by the media thread before the next
 * frame. The caller enforces the configured floor and ceiling. Any thread.
 */
void cg_media_set_bitrate(struct cg_media *m, uint32_t kbps);
/* The current target bitrate in kbit/s. Any thread. */
uint32_t cg_media_bitrate(const struct cg_media *m);

/* A new reference to the newest captured frame (for /snapshot.jpg), or NULL before the
 * first one. Any thread; unref it soon, it holds a capture buffer. */
struct cg_frame *cg_media_latest_frame(struct cg_media *m);

/* The profile SDP answers announce (the encoder's declaration until the stream's first
 * SPS, then the SPS's; it changes when a later SPS differs) and the SSRC. Any thread. */
struct cg_h264_profile cg_media_profile(const struct cg_media *m);
uint32_t cg_media_ssrc(const struct cg_media *m);
const char *cg_media_encoder_name(const struct cg_media *m);
/* The x264 preset the camera's encoder runs (--x264-preset; with auto, the speed policy's
 * latest choice, which a change into or out of ultrafast reaches at the next key frame),
 * or NULL while its encoder has no presets (hardware) or before one opened. Any thread. */
const char *cg_media_x264_preset(const struct cg_media *m);
/* The source --source=auto resolved to ("test" or a /dev/videoN): fixed once created.
 * Any thread. */
const char *cg_media_source_name(const struct cg_media *m);

/* CLOCK_MONOTONIC µs of the media thread's last loop iteration (its heartbeat). Any thread. */
uint64_t cg_media_heartbeat_usec(const struct cg_media *m);

/* The pipeline's state: "idle", "opening", "streaming" or "failed" (retrying after a
 * back-off). Any thread. */
const char *cg_media_state(const struct cg_media *m);
