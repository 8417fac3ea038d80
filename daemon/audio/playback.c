/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "audio"

#include <errno.h>
#include <opus/opus.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "audio/alsa.h"
#include "audio/audio.h"
#include "proto/jitter.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

/* Talkback is speech: 2 frames (40 ms) of buffering at least, 10 (200 ms) at most. */
#define PLAYBACK_MIN_FRAMES 2
#define PLAYBACK_MAX_FRAMES 10

struct cg_audio_playback {
	char *device;
	char log_context[CG_LOG_CONTEXT_MAX]; /* its creator's, for its thread */
	pthread_t thread;
	bool started;
	int stop_fd;
	OpusDecoder *opus;
	pthread_mutex_t lock; /* protects jitter and stats */
	struct cg_jitter jitter;
	struct cg_audio_playback_stats stats;
	uint8_t packet[CG_JITTER_MAX_PAYLOAD];
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
};

int cg_audio_playback_push(struct cg_audio_playback *p, uint16_t seq, uint32_t timestamp,
			   const uint8_t *payload, size_t len)
{
	int r;

	pthread_mutex_lock(&p->lock);
	r = cg_jitter_push(&p->jitter, seq, timestamp, payload, len, cg_mono_usec());
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void playback_count(struct cg_audio_playback *p, uint64_t *field)
{
	pthread_mutex_lock(&p->lock);
	(*field)++;
	pthread_mutex_unlock(&p->lock);
}

static void playback_set_open(struct cg_audio_playback *p, bool open)
{
	pthread_mutex_lock(&p->lock);
	p->stats.device_open = open;
	pthread_mutex_unlock(&p->lock);
}

/* Takes the next frame under the lock and decodes it outside: 20 ms of PCM in p->pcm. */
static void playback_next_frame(struct cg_audio_playback *p)
{
	const uint8_t *payload = NULL;
	size_t len = 0;
	enum cg_jitter_result res;
	int n;

	pthread_mutex_lock(&p->lock);
	res = cg_jitter_pull(&p->jitter, &payload, &len);
	if (res == CG_JITTER_FRAME)
		memcpy(p->packet, payload, len);
	pthread_mutex_unlock(&p->lock);
	if (res == CG_JITTER_EMPTY) {
		memset(p->pcm, 0, sizeof(p->pcm));
		playback_count(p, &p->stats.silence_frames);
		return;
	}
	/* A lost frame is decoded from nothing: Opus conceals it (RFC 6716 §4.4). */
	n = opus_decode(p->opus, res == CG_JITTER_FRAME ? p->packet : NULL, (opus_int32)len, p->pcm,
			CG_AUDIO_FRAME_SAMPLES, 0);
	if (n != CG_AUDIO_FRAME_SAMPLES) {
		memset(p->pcm, 0, sizeof(p->pcm));
		cg_debug("opus_decode: %s, playing silence", n < 0 ? opus_strerror(n) : "short");
	}
	playback_count(p, res == CG_JITTER_FRAME ? &p->stats.frames_played
						 : &p->stats.frames_concealed);
}

/*
 * A real sound card paces the loop by blocking in writei. Some PCMs (ALSA's null and file
 * plugins, a broken driver) accept anything at once; then keep at most a few periods ahead
 * of the monotonic clock ourselves, or the jitter buffer would be drained at CPU speed.
 * Returns true when stopped while waiting.
 */
static bool playback_pace(struct cg_audio_playback *p, uint64_t start_usec, uint64_t written)
{
	struct pollfd stop = { .fd = p->stop_fd, .events = POLLIN };
	uint64_t written_usec = written * CG_USEC_PER_SEC / CG_AUDIO_RATE;
	uint64_t elapsed = cg_mono_usec() - start_usec;
	uint64_t limit = elapsed + 3 * 20000;

	if (written_usec <= limit)
		return false;
	return poll(&stop, 1, (int)((written_usec - limit) / 1000) + 1) > 0;
}

/* Writes periods until the device fails or we are stopped. Returns 0 when stopped. */
static int playback_write_device(struct cg_audio_playback *p, snd_pcm_t *pcm)
{
	struct pollfd stop = { .fd = p->stop_fd, .events = POLLIN };
	uint64_t start = cg_mono_usec(), written = 0;

	while (poll(&stop, 1, 0) == 0) {
		snd_pcm_sframes_t n;

		if (playback_pace(p, start, written))
			break;
		playback_next_frame(p);
		n = snd_pcm_writei(pcm, p->pcm, CG_AUDIO_FRAME_SAMPLES);
		if (n == -EPIPE) {
			/* An underrun: restart the PCM and write the frame taken above to it,
			 * rather than count it as played and lose it. */
			playback_count(p, &p->stats.underruns);
			snd_pcm_prepare(pcm);
			start = cg_mono_usec();
			written = 0;
			n = snd_pcm_writei(pcm, p->pcm, CG_AUDIO_FRAME_SAMPLES);
			if (n == -EPIPE)
				continue;
		}
		if (n < 0)
			return (int)n;
		written += (uint64_t)n;
	}
	return 0;
}

static void *playback_thread(void *userdata)
{
	struct cg_audio_playback *p = userdata;
	struct pollfd stop = { .fd = p->stop_fd, .events = POLLIN };
	unsigned backoff = 0;

	cg_log_set_context(p->log_context);
	bool logged = false;

	do {
		snd_pcm_t *pcm;
		int r = cg_alsa_open(p->device, false, 3, &pcm);

		if (r >= 0) {
			cg_info("talkback plays on %s", p->device);
			playback_set_open(p, true);
			backoff = 0;
			logged = false;
			r = playback_write_device(p, pcm);
			snd_pcm_drop(pcm);
			snd_pcm_close(pcm);
			playback_set_open(p, false);
			if (r == 0)
				return NULL;
		}
		backoff = cg_alsa_next_backoff_ms(backoff);
		if (!logged)
			cg_warn("talkback playback on %s failed: %s, retrying in %u s", p->device,
				snd_strerror(r), backoff / 1000);
		logged = true;
	} while (poll(&stop, 1, (int)backoff) == 0);
	return NULL;
}

int cg_audio_playback_start(const char *device, struct cg_audio_playback **ret)
{
	struct cg_audio_playback *p = cg_new0(struct cg_audio_playback, 1);
	int err, r;

	snprintf(p->log_context, sizeof(p->log_context), "%s", cg_log_get_context());
	p->device = cg_strdup(device);
	pthread_mutex_init(&p->lock, NULL);
	cg_jitter_init(&p->jitter, CG_AUDIO_RATE, CG_AUDIO_FRAME_SAMPLES, PLAYBACK_MIN_FRAMES,
		       PLAYBACK_MAX_FRAMES);
	p->opus = opus_decoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, &err);
	p->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (!p->opus || p->stop_fd < 0) {
		cg_audio_playback_stop(p);
		return -EIO;
	}
	r = pthread_create(&p->thread, NULL, playback_thread, p);
	if (r > 0) {
		cg_audio_playback_stop(p);
		return -r;
	}
	p->started = true;
	pthread_setname_np(p->thread, "cg-talkback");
	*ret = p;
	return 0;
}

struct cg_audio_playback *cg_audio_playback_stop(struct cg_audio_playback *p)
{
	uint64_t one = 1;

	if (!p)
		return NULL;
	if (p->started) {
		ssize_t CG_UNUSED n = write(p->stop_fd, &one, sizeof(one));
		pthread_join(p->thread, NULL);
	}
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->opus)
		opus_decoder_destroy(p->opus);
	pthread_mutex_destroy(&p->lock);
	free(p->device);
	free(p);
	return NULL;
}

void cg_audio_playback_get_stats(struct cg_audio_playback *p, struct cg_audio_playback_stats *ret)
{
	pthread_mutex_lock(&p->lock);
	*ret = p->stats;
	ret->late = p->jitter.stats.late;
	ret->shed = p->jitter.stats.shed;
	ret->depth_frames = cg_jitter_depth(&p->jitter);
	pthread_mutex_unlock(&p->lock);
}
