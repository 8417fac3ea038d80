/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening an ALSA PCM the way camgate uses it: 48 kHz, stereo, S16, 20 ms periods. */
#pragma once

#include <alsa/asoundlib.h>
#include <stdbool.h>

/*
 * Opens device for capture or playback in blocking mode with CG_AUDIO_* parameters and
 * periods buffered periods. Returns 0 with *ret set, or a negative ALSA/errno code
 * (-ENOENT: no such device, -EBUSY: in use).
 */
int cg_alsa_open(const char *device, bool capture, unsigned periods, snd_pcm_t **ret);

/* Exponential back-off for reopening a device: 1, 2, 4 … 30 s. */
unsigned cg_alsa_next_backoff_ms(unsigned current_ms);
