/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's sound (issue 4): the board's microphone (or a test tone) encoded to Opus and
 * published to the hub as audio media units, one per 20 ms, with their own SSRC and
 * sequence numbers; and the talkback speaker that plays what one browser at a time sends.
 * Created and freed on the control thread; the capture callback runs on the audio thread;
 * talkback packets come from the workers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_audio_track;
struct cg_config;
struct cg_hub;
struct cg_stats;

/*
 * Starts what cfg->audio and cfg->speaker ask for ("auto" captures from ALSA's default
 * device when it opens, else sends no sound). Returns 0 with *ret NULL when neither is on,
 * or a negative errno when a part could not start at all (Opus); a missing or busy sound
 * device is a state that is retried, not an error.
 */
int cg_audio_track_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		       struct cg_audio_track **ret);
struct cg_audio_track *cg_audio_track_free(struct cg_audio_track *t);

/* Stops capturing (no more units reach the hub); talkback keeps working until freed.
 * Control thread, before the workers go. NULL-safe. */
void cg_audio_track_stop_capture(struct cg_audio_track *t);

/* Whether viewers get sound, and whether talkback is played. Any thread; NULL-safe. */
bool cg_audio_track_sends(const struct cg_audio_track *t);
bool cg_audio_track_receives(const struct cg_audio_track *t);

/* The SSRC of the sound we send. Any thread. */
uint32_t cg_audio_track_ssrc(const struct cg_audio_track *t);

/*
 * Offers a talkback packet (after SRTP) from the browser whose RTP SSRC is ssrc. One
 * browser talks at a time: packets of another are ignored until the talker has been
 * silent for half a second. Packets too small to carry a voice (Opus silence, what a
 * disabled microphone track still sends) neither take nor keep the floor. Returns 0,
 * -EBUSY when another browser has the floor, or the jitter buffer's error. Any thread.
 */
int cg_audio_track_talkback(struct cg_audio_track *t, uint32_t ssrc, uint16_t seq,
			    uint32_t timestamp, const uint8_t *payload, size_t len);
