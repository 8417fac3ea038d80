/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sound both ways (issue 4). Capture: an audio thread reads 20 ms periods from an ALSA
 * device (or makes a test tone paced by a timerfd), encodes them with Opus and hands each
 * packet to a callback. Playback (talkback): Opus packets from a viewer's browser go into an
 * adaptive jitter buffer; a playback thread pulls one frame per 20 ms period, decodes it
 * (concealing losses) and writes it to an ALSA device.
 *
 * Each object owns one thread. Errors of the sound device are states: logged once,
 * retried with back-off; they never stop the video.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_AUDIO_RATE	       48000
#define CG_AUDIO_CHANNELS      2
#define CG_AUDIO_FRAME_SAMPLES 960  /* 20 ms at 48 kHz, per channel */
#define CG_AUDIO_MAX_PACKET    1276 /* RFC 6716 §3.4 */

struct cg_audio_capture;
struct cg_audio_playback;

/*
 * One encoded 20 ms packet. rtp_timestamp counts 48 kHz samples (RFC 7587 §4.1) from a
 * random origin; capture_mono_usec/wall_usec are the capture time of its first sample, for
 * RTCP sender reports that put audio and video on one clock. Runs on the audio thread; the
 * payload is borrowed for the call.
 */
typedef void (*cg_audio_packet_fn)(const uint8_t *payload, size_t len, uint32_t rtp_timestamp,
				   uint64_t capture_mono_usec, uint64_t capture_wall_usec,
				   void *userdata);

struct cg_audio_capture_cfg {
	const char *device;   /* "test" (a tone), "default", "hw:1,0", any ALSA PCM name */
	uint32_t bitrate_bps; /* Opus target, e.g. 64000 */
	cg_audio_packet_fn on_packet;
	void *userdata;
};

/* Starts the capture thread. cfg is copied. Returns 0, or -ENOMEM/-EIO (Opus). A missing or
 * busy device is not an error here: the thread retries it with back-off. Control thread. */
int cg_audio_capture_start(const struct cg_audio_capture_cfg *cfg, struct cg_audio_capture **ret);

/* Stops the thread and frees. Control thread. Returns NULL. */
struct cg_audio_capture *cg_audio_capture_stop(struct cg_audio_capture *c);

struct cg_audio_capture_stats {
	uint64_t packets;
	uint64_t overruns; /* ALSA -EPIPE on capture */
	uint64_t device_errors;
	bool device_open;
};

/* Any thread. */
void cg_audio_capture_get_stats(struct cg_audio_capture *c, struct cg_audio_capture_stats *ret);

/* Starts the playback thread on an ALSA device (any PCM name). Returns 0, -ENOMEM, -EIO. */
int cg_audio_playback_start(const char *device, struct cg_audio_playback **ret);
struct cg_audio_playback *cg_audio_playback_stop(struct cg_audio_playback *p);

/*
 * Queues one received Opus packet (after SRTP) with its RTP sequence number and timestamp.
 * Any thread (the jitter buffer is locked). Returns 0 or the jitter buffer's error.
 */
int cg_audio_playback_push(struct cg_audio_playback *p, uint16_t seq, uint32_t timestamp,
			   const uint8_t *payload, size_t len);

struct cg_audio_playback_stats {
	uint64_t frames_played; /* decoded frames written to the device */
	uint64_t frames_concealed;
	uint64_t silence_frames; /* written while (re)buffering */
	uint64_t underruns;	 /* ALSA -EPIPE on playback */
	uint64_t late, shed;
	unsigned depth_frames;
	bool device_open;
};

void cg_audio_playback_get_stats(struct cg_audio_playback *p, struct cg_audio_playback_stats *ret);
