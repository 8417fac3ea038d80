/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "audio"

#include <errno.h>
#include <math.h>
#include <opus/opus.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "audio/alsa.h"
#include "audio/audio.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

#define FRAME_USEC 20000
#define TONE_HZ	   440.0
#define BEEP_USEC  100000 /* the tone sounds for the first 100 ms of every wall-clock second */

struct cg_audio_capture {
	struct cg_audio_capture_cfg cfg;
	char log_context[CG_LOG_CONTEXT_MAX]; /* its creator's, for its thread */
	char *device;
	pthread_t thread;
	bool started;
	int stop_fd;
	OpusEncoder *opus;
	uint32_t rtp_timestamp;
	double phase;
	pthread_mutex_t lock; /* protects stats */
	struct cg_audio_capture_stats stats;
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
	uint8_t packet[CG_AUDIO_MAX_PACKET];
};

static void capture_count(struct cg_audio_capture *c, uint64_t *field)
{
	pthread_mutex_lock(&c->lock);
	(*field)++;
	pthread_mutex_unlock(&c->lock);
}

static void capture_set_open(struct cg_audio_capture *c, bool open)
{
	pthread_mutex_lock(&c->lock);
	c->stats.device_open = open;
	pthread_mutex_unlock(&c->lock);
}

static void capture_emit(struct cg_audio_capture *c, uint64_t mono, uint64_t wall)
{
	opus_int32 n =
		opus_encode(c->opus, c->pcm, CG_AUDIO_FRAME_SAMPLES, c->packet, sizeof(c->packet));

	if (n > 0) {
		c->cfg.on_packet(c->packet, (size_t)n, c->rtp_timestamp, mono, wall,
				 c->cfg.userdata);
		capture_count(c, &c->stats.packets);
	} else {
		cg_debug("opus_encode failed: %s, dropping 20 ms", opus_strerror(n));
	}
	c->rtp_timestamp += CG_AUDIO_FRAME_SAMPLES;
}

/*
 * The test tone: 440 Hz that sounds during the first 100 ms of every wall-clock second and
 * is silent otherwise. A listener that knows the rule can tell from the onset when the
 * sound was captured, so the browser can measure audio latency and the A/V offset against
 * the video's time code.
 */
static void capture_make_tone(struct cg_audio_capture *c, uint64_t wall_usec)
{
	for (unsigned i = 0; i < CG_AUDIO_FRAME_SAMPLES; i++) {
		uint64_t t = wall_usec + (uint64_t)i * CG_USEC_PER_SEC / CG_AUDIO_RATE;
		bool on = t % CG_USEC_PER_SEC < BEEP_USEC;
		int16_t v = on ? (int16_t)(12000.0 * sin(c->phase)) : 0;

		c->phase += 2.0 * M_PI * TONE_HZ / CG_AUDIO_RATE;
		if (c->phase > 2.0 * M_PI)
			c->phase -= 2.0 * M_PI;
		c->pcm[2 * i] = c->pcm[2 * i + 1] = v;
	}
}

/*
 * A sound card delivers every period, late or not: so does the tone. Each timer expiration
 * is one 20 ms frame, and frames are stamped from a running sample clock (start + n × 20 ms)
 * rather than from when this thread happened to wake, so a late wake-up costs no frame and
 * makes no jitter of its own.
 */
static void capture_run_tone(struct cg_audio_capture *c)
{
	struct itimerspec spec = { .it_interval = { 0, FRAME_USEC * 1000 },
				   .it_value = { 0, FRAME_USEC * 1000 } };
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct pollfd fds[2] = { { .fd = tfd, .events = POLLIN },
				 { .fd = c->stop_fd, .events = POLLIN } };
	uint64_t mono0 = cg_mono_usec(), wall0 = cg_wall_usec(), frames = 0, expirations;

	if (tfd < 0 || timerfd_settime(tfd, 0, &spec, NULL) < 0) {
		cg_err("test tone: timerfd: %m");
		goto out;
	}
	capture_set_open(c, true);
	while (poll(fds, 2, -1) >= 0 && !fds[1].revents) {
		if (read(tfd, &expirations, sizeof(expirations)) < 0)
			continue;
		/* At most a second of catching up: beyond that, skip ahead (a stalled host). */
		if (expirations > CG_USEC_PER_SEC / FRAME_USEC) {
			uint64_t skipped = expirations - CG_USEC_PER_SEC / FRAME_USEC;

			frames += skipped;
			c->rtp_timestamp += (uint32_t)(skipped * CG_AUDIO_FRAME_SAMPLES);
		}
		for (uint64_t i = 0; i < CG_MIN(expirations, CG_USEC_PER_SEC / FRAME_USEC); i++) {
			uint64_t offset = frames++ * FRAME_USEC;

			capture_make_tone(c, wall0 + offset);
			capture_emit(c, mono0 + offset, wall0 + offset);
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
}

/* Reads periods until the device fails or we are stopped. Returns 0 when stopped. */
static int capture_read_device(struct cg_audio_capture *c, snd_pcm_t *pcm)
{
	struct pollfd stop = { .fd = c->stop_fd, .events = POLLIN };

	while (poll(&stop, 1, 0) == 0) {
		snd_pcm_sframes_t delay = 0;
		snd_pcm_sframes_t n = snd_pcm_readi(pcm, c->pcm, CG_AUDIO_FRAME_SAMPLES);
		uint64_t back;

		if (n == -EPIPE) {
			capture_count(c, &c->stats.overruns);
			cg_debug("capture overrun, recovering");
			snd_pcm_prepare(pcm);
			continue;
		}
		if (n < 0)
			return (int)n;
		if (n < CG_AUDIO_FRAME_SAMPLES)
			continue;
		snd_pcm_delay(pcm, &delay);
		/* The first sample of this period entered the device this long ago. */
		back = (uint64_t)(CG_AUDIO_FRAME_SAMPLES + CG_MAX(delay, 0)) * CG_USEC_PER_SEC /
		       CG_AUDIO_RATE;
		capture_emit(c, cg_mono_usec() - back, cg_wall_usec() - back);
	}
	return 0;
}

/* A stop-aware wait; returns true when stopped. */
static bool capture_wait_stop(struct cg_audio_capture *c, unsigned ms)
{
	struct pollfd stop = { .fd = c->stop_fd, .events = POLLIN };

	return poll(&stop, 1, (int)ms) > 0;
}

static void capture_run_device(struct cg_audio_capture *c)
{
	unsigned backoff = 0;
	bool logged = false;

	do {
		snd_pcm_t *pcm;
		int r = cg_alsa_open(c->device, true, 4, &pcm);

		if (r >= 0) {
			cg_info("capturing sound from %s", c->device);
			capture_set_open(c, true);
			backoff = 0;
			logged = false;
			r = capture_read_device(c, pcm);
			snd_pcm_close(pcm);
			capture_set_open(c, false);
			if (r == 0)
				return;
		}
		capture_count(c, &c->stats.device_errors);
		backoff = cg_alsa_next_backoff_ms(backoff);
		/* Logged once per outage, not on every retry. */
		if (!logged)
			cg_warn("sound capture from %s failed: %s, retrying in %u s", c->device,
				snd_strerror(r), backoff / 1000);
		logged = true;
	} while (!capture_wait_stop(c, backoff));
}

static void *capture_thread(void *userdata)
{
	struct cg_audio_capture *c = userdata;

	cg_log_set_context(c->log_context);
	if (strcmp(c->device, "test") == 0)
		capture_run_tone(c);
	else
		capture_run_device(c);
	return NULL;
}

static int capture_open_opus(struct cg_audio_capture *c)
{
	int err;

	c->opus =
		opus_encoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, OPUS_APPLICATION_AUDIO, &err);
	if (!c->opus)
		return -EIO;
	opus_encoder_ctl(c->opus,
			 OPUS_SET_BITRATE(c->cfg.bitrate_bps ? c->cfg.bitrate_bps : 64000));
	/* Browsers offer useinbandfec=1: redundancy lets them repair a lost packet. */
	opus_encoder_ctl(c->opus, OPUS_SET_INBAND_FEC(1));
	opus_encoder_ctl(c->opus, OPUS_SET_PACKET_LOSS_PERC(5));
	opus_encoder_ctl(c->opus, OPUS_SET_COMPLEXITY(5));
	return 0;
}

int cg_audio_capture_start(const struct cg_audio_capture_cfg *cfg, struct cg_audio_capture **ret)
{
	struct cg_audio_capture *c = cg_new0(struct cg_audio_capture, 1);
	int r;

	snprintf(c->log_context, sizeof(c->log_context), "%s", cg_log_get_context());
	c->cfg = *cfg;
	c->device = cg_strdup(cfg->device);
	c->rtp_timestamp = cg_rand_u32();
	pthread_mutex_init(&c->lock, NULL);
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0 || capture_open_opus(c) < 0) {
		cg_audio_capture_stop(c);
		return -EIO;
	}
	r = pthread_create(&c->thread, NULL, capture_thread, c);
	if (r > 0) {
		cg_audio_capture_stop(c);
		return -r;
	}
	c->started = true;
	pthread_setname_np(c->thread, "cg-audio");
	*ret = c;
	return 0;
}

struct cg_audio_capture *cg_audio_capture_stop(struct cg_audio_capture *c)
{
	uint64_t one = 1;

	if (!c)
		return NULL;
	if (c->started) {
		ssize_t CG_UNUSED n = write(c->stop_fd, &one, sizeof(one));
		pthread_join(c->thread, NULL);
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->opus)
		opus_encoder_destroy(c->opus);
	pthread_mutex_destroy(&c->lock);
	free(c->device);
	free(c);
	return NULL;
}

void cg_audio_capture_get_stats(struct cg_audio_capture *c, struct cg_audio_capture_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->stats;
	pthread_mutex_unlock(&c->lock);
}
