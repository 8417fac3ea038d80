/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "audio"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "audio/alsa.h"
#include "audio/audio.h"
#include "util/log.h"

static int alsa_set_params(snd_pcm_t *pcm, unsigned periods)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_uframes_t period = CG_AUDIO_FRAME_SAMPLES;
	snd_pcm_uframes_t buffer = (snd_pcm_uframes_t)CG_AUDIO_FRAME_SAMPLES * periods;
	unsigned rate = CG_AUDIO_RATE;
	int r;

	snd_pcm_hw_params_alloca(&hw);
	r = snd_pcm_hw_params_any(pcm, hw);
	if (r >= 0)
		r = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED);
	if (r >= 0)
		r = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE);
	if (r >= 0)
		r = snd_pcm_hw_params_set_channels(pcm, hw, CG_AUDIO_CHANNELS);
	if (r >= 0)
		r = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, NULL);
	if (r >= 0 && rate != CG_AUDIO_RATE)
		r = -EINVAL; /* plughw: or default convert; a raw hw: device without 48 kHz can't */
	if (r >= 0)
		r = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, NULL);
	if (r >= 0)
		r = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer);
	if (r >= 0)
		r = snd_pcm_hw_params(pcm, hw);
	return r;
}

/* ALSA prints its own errors to stderr ("cannot find card '0'" on a board without sound):
 * they become debug lines in our log instead. */
static void alsa_log(const char *file, int line, const char *function, int err, const char *fmt,
		     ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	cg_debug("alsa-lib %s: %s%s%s", function, message, err ? ": " : "",
		 err ? snd_strerror(err) : "");
}

static void alsa_quiet_once(void)
{
	snd_lib_error_set_handler(alsa_log);
}

int cg_alsa_open(const char *device, bool capture, unsigned periods, snd_pcm_t **ret)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	snd_pcm_t *pcm;
	int r;

	pthread_once(&once, alsa_quiet_once);
	/* Opened non-blocking whatever asound.conf says (defaults.pcm.nonblock): a device
	 * another program holds must answer -EBUSY, not park this thread in the kernel's open
	 * where a stop could not reach it. Reads and writes then block, pacing the thread. */
	r = snd_pcm_open(&pcm, device, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
			 SND_PCM_NONBLOCK);
	if (r < 0)
		return r;
	r = snd_pcm_nonblock(pcm, 0);
	if (r < 0) {
		snd_pcm_close(pcm);
		return r;
	}
	r = alsa_set_params(pcm, periods);
	if (r >= 0)
		r = snd_pcm_prepare(pcm);
	if (r < 0) {
		snd_pcm_close(pcm);
		return r;
	}
	*ret = pcm;
	return 0;
}

unsigned cg_alsa_next_backoff_ms(unsigned current_ms)
{
	if (current_ms == 0)
		return 1000;
	return current_ms >= 15000 ? 30000 : current_ms * 2;
}
