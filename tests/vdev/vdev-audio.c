/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Runs camgate's sound paths (daemon/audio) on a real ALSA kernel driver, snd-aloop, inside
 * the qemu guest of tests/vdev/run.sh --audio. Talkback: Opus packets of a 440 Hz tone,
 * pushed at real-time pace into cg_audio_playback on the loopback's playback end; capture:
 * cg_audio_capture on its capture end, whose Opus packets must decode to the same tone.
 * Around it: capture from a device that does not exist keeps retrying, sends nothing and
 * stops without waiting out its back-off; playback on a device that is busy (held open by
 * this program, EBUSY) reports it, retries and plays once it is free.
 *
 * The checks are what must hold however busy the machine is: every packet accepted, every
 * frame played (or shed by the jitter buffer, counted), every captured packet delivered in
 * order with RTP timestamps 960 apart, silence before the tone, the tone there (440 Hz,
 * loud), never more of it than was pushed, and all of it when no overrun, underrun or shed
 * frame explains a loss. How fast and how evenly it ran (packets per second, latency from
 * the first push to the first loud packet, timestamp jitter, under- and overruns) is
 * printed, and with --bench as BENCH lines (meson test --benchmark bench-vdev-audio).
 *
 * vdev-audio [--playback=hw:Loopback,0,0] [--capture=hw:Loopback,1,0]
 *            [--missing=hw:Nothing,0] [--seconds=4] [--bench] [--verbose]
 */
#include <alsa/asoundlib.h>
#include <getopt.h>
#include <math.h>
#include <opus/opus.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/time.h"

#define TONE_HZ	       440.0
#define TONE_AMPLITUDE 10000.0
#define LOUD_RMS       1000.0 /* the tone's RMS is about 7000; silence is 0 */
#define SILENT_RMS     100.0  /* the loopback's silence is exactly 0 */
#define LOUD_SAMPLE    1000.0 /* |sample| inside the tone but for ~2 samples per zero crossing */
#define SEGMENT_GAP    480    /* 10 ms below LOUD_SAMPLE ends a stretch of tone */
#define TONE_SLACK     120    /* samples: the tone's edges, 2.5 ms; a lost frame is 960 */
#define MAX_PACKETS    2000
#define FRAME_USEC     20000
#define PATIENCE_MS    30000 /* waits for what must happen: only a hang runs out of it */
#define LEAD_PACKETS   5     /* captured before the first push: silence to compare with */

struct captured {
	uint8_t data[CG_AUDIO_MAX_PACKET];
	size_t len;
	uint32_t rtp_timestamp;
	uint64_t capture_mono, arrival_mono;
};

struct vaudio {
	const char *playback, *capture, *missing;
	double seconds;
	pthread_mutex_t lock; /* protects n_packets and packets */
	struct captured *packets;
	unsigned n_packets, dropped;
	unsigned missing_packets;
	bool bench;
	double missing_stop_ms;
	int failures;
};

/* Counted by the log sink: the sound threads report a failed device only in the log. */
static const char *busy_device;
static unsigned playback_warnings;

static void vaudio_sink(enum cg_log_level level, const char *topic, const char *file, int line,
			const char *func, const char *message)
{
	if (level == CG_LOG_WARN && busy_device && strstr(message, "talkback playback on") &&
	    strstr(message, busy_device))
		__atomic_add_fetch(&playback_warnings, 1, __ATOMIC_RELEASE);
	printf("vdev-audio: [%s] %s\n", topic, message);
	fflush(stdout);
}

static void vaudio_check(struct vaudio *v, bool ok, const char *what)
{
	printf("vdev-audio: CHECK %s: %s\n", what, ok ? "PASS" : "FAIL");
	fflush(stdout);
	v->failures += !ok;
}

static double vaudio_now(uint64_t t0)
{
	return (double)(cg_mono_usec() - t0) / 1e6;
}

/* Polls cond every 10 ms until it holds or deadline_ms pass. Returns whether it held. */
static bool vaudio_wait(bool (*cond)(void *), void *arg, unsigned deadline_ms)
{
	uint64_t end = cg_mono_usec() + (uint64_t)deadline_ms * CG_USEC_PER_MSEC;

	while (!cond(arg)) {
		if (cg_mono_usec() >= end)
			return false;
		poll(NULL, 0, 10);
	}
	return true;
}

static void on_captured(const uint8_t *payload, size_t len, uint32_t rtp_timestamp,
			uint64_t capture_mono, uint64_t capture_wall, void *userdata)
{
	struct vaudio *v = userdata;
	struct captured *c;

	pthread_mutex_lock(&v->lock);
	if (v->n_packets == MAX_PACKETS || len > sizeof(c->data)) {
		v->dropped++;
	} else {
		c = &v->packets[v->n_packets++];
		memcpy(c->data, payload, len);
		c->len = len;
		c->rtp_timestamp = rtp_timestamp;
		c->capture_mono = capture_mono;
		c->arrival_mono = cg_mono_usec();
	}
	pthread_mutex_unlock(&v->lock);
}

static void on_missing(const uint8_t *payload, size_t len, uint32_t rtp_timestamp,
		       uint64_t capture_mono, uint64_t capture_wall, void *userdata)
{
	struct vaudio *v = userdata;

	__atomic_add_fetch(&v->missing_packets, 1, __ATOMIC_RELAXED);
}

static unsigned vaudio_count(struct vaudio *v)
{
	unsigned n;

	pthread_mutex_lock(&v->lock);
	n = v->n_packets;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* ---- conditions for vaudio_wait ---- */

static bool cond_warned(void *arg)
{
	return __atomic_load_n(&playback_warnings, __ATOMIC_ACQUIRE) > 0;
}

static bool cond_playback_open(void *arg)
{
	struct cg_audio_playback_stats st;

	cg_audio_playback_get_stats(arg, &st);
	return st.device_open;
}

static bool cond_capture_open(void *arg)
{
	struct cg_audio_capture_stats st;

	cg_audio_capture_get_stats(arg, &st);
	return st.device_open;
}

static bool cond_two_errors(void *arg)
{
	struct cg_audio_capture_stats st;

	cg_audio_capture_get_stats(arg, &st);
	return st.device_errors >= 2;
}

struct played_goal {
	struct cg_audio_playback *p;
	uint64_t frames;
};

static bool cond_played(void *arg)
{
	struct played_goal *g = arg;
	struct cg_audio_playback_stats st;

	cg_audio_playback_get_stats(g->p, &st);
	return st.frames_played + st.frames_concealed + st.shed >= g->frames &&
	       st.depth_frames == 0;
}

struct count_goal {
	struct vaudio *v;
	unsigned packets;
};

static bool cond_captured(void *arg)
{
	struct count_goal *g = arg;

	return vaudio_count(g->v) >= g->packets;
}

/* ---- the talkback tone ---- */

/* n packets of a continuous 440 Hz tone, as a browser's microphone would send them. */
/* ... and *lookahead: the samples of the last packet's tone that only a further packet would
 * bring out of the decoder (Opus's algorithmic delay, 6.5 ms). */
static int vaudio_encode_tone(unsigned n, uint8_t (*packets)[CG_AUDIO_MAX_PACKET], int *lens,
			      opus_int32 *lookahead)
{
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
	OpusEncoder *enc;
	int err;

	enc = opus_encoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, OPUS_APPLICATION_AUDIO, &err);
	if (!enc)
		return -1;
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(64000));
	opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
	opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(lookahead));
	for (unsigned k = 0; k < n; k++) {
		for (unsigned i = 0; i < CG_AUDIO_FRAME_SAMPLES; i++) {
			uint64_t s = (uint64_t)k * CG_AUDIO_FRAME_SAMPLES + i;

			pcm[2 * i] = pcm[2 * i + 1] =
				(int16_t)(TONE_AMPLITUDE *
					  sin(2 * M_PI * TONE_HZ * (double)s / CG_AUDIO_RATE));
		}
		lens[k] = opus_encode(enc, pcm, CG_AUDIO_FRAME_SAMPLES, packets[k],
				      CG_AUDIO_MAX_PACKET);
		if (lens[k] <= 0) {
			opus_encoder_destroy(enc);
			return -1;
		}
	}
	opus_encoder_destroy(enc);
	return 0;
}

/* Pushes the packets one per 20 ms by a timerfd; late wake-ups push what is due at once. */
static int vaudio_push_tone(struct cg_audio_playback *p, unsigned n,
			    uint8_t (*packets)[CG_AUDIO_MAX_PACKET], const int *lens)
{
	struct itimerspec spec = { .it_interval = { 0, FRAME_USEC * 1000 }, .it_value = { 0, 1 } };
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	unsigned k = 0, errors = 0;
	uint64_t expirations;
	uint16_t seq0 = 40000; /* wraps mid-tone: the jitter buffer must not care */

	if (tfd < 0 || timerfd_settime(tfd, 0, &spec, NULL) < 0)
		return -1;
	while (k < n && read(tfd, &expirations, sizeof(expirations)) == sizeof(expirations)) {
		for (uint64_t e = 0; e < expirations && k < n; e++, k++)
			errors += cg_audio_playback_push(p, (uint16_t)(seq0 + k),
							 1000u + k * CG_AUDIO_FRAME_SAMPLES,
							 packets[k], (size_t)lens[k]) != 0;
	}
	close(tfd);
	return k == n ? (int)errors : -1;
}

/* ---- analysis of what came back ---- */

/* Power of frequency f in x (Goertzel). */
static double goertzel(const float *x, unsigned n, double f)
{
	double w = 2 * M_PI * f / CG_AUDIO_RATE, c = 2 * cos(w), s1 = 0, s2 = 0;

	for (unsigned i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

struct analysis {
	unsigned ts_gaps;	   /* consecutive packets not 960 apart */
	double rate;		   /* packets per second of arrival, after the first half second */
	double stamp_jitter_ms;	   /* largest |capture_mono step - 20 ms| */
	int first_loud, last_loud; /* packet indices, -1: none */
	unsigned loud, quiet_in_tone;
	int run_start; /* the longest of them */
	unsigned run_len;
	unsigned lead;	 /* silent packets before the one the tone starts in */
	double lead_rms; /* the loudest of them */
	double tone_rms, peak_hz, purity;
	uint64_t tone_samples; /* samples inside the tone's stretches, to the sample */
	unsigned segments;
	uint64_t first_loud_mono;
};

/* The dominant frequency, 50 Hz to 4 kHz, of len samples, and how much of the power it has. */
static void vaudio_peak(const float *x, unsigned len, double *peak_hz, double *purity)
{
	double best = -1, total = 0;

	for (unsigned i = 0; i < len; i++)
		total += (double)x[i] * x[i];
	for (double f = 50; f <= 4000; f += 2) {
		double pw = goertzel(x, len, f);

		if (pw > best) {
			best = pw;
			*peak_hz = f;
		}
	}
	/* Parseval: a pure tone's Goertzel power at its frequency is total * len / 2. */
	*purity = total > 0 ? best / (total * len / 2) : 0;
}

/* Loud packets: the longest run of them, the quiet ones between the first and last. */
static void vaudio_runs(const double *rms, unsigned n, struct analysis *a)
{
	unsigned len = 0;
	double tone = 0;

	for (unsigned i = 0; i < n; i++) {
		if (rms[i] <= LOUD_RMS) {
			len = 0;
			if (a->first_loud >= 0 && (int)i > a->first_loud && (int)i < a->last_loud)
				a->quiet_in_tone++;
			continue;
		}
		a->loud++;
		tone += rms[i] * rms[i];
		if (++len > a->run_len) {
			a->run_len = len;
			a->run_start = (int)(i + 1 - len);
		}
	}
	a->tone_rms = a->loud ? sqrt(tone / a->loud) : 0;
	/* The packet before the first loud one may hold the onset: the lead ends before it. */
	for (int i = 0; i < a->first_loud - 1; i++) {
		a->lead++;
		a->lead_rms = CG_MAX(a->lead_rms, rms[i]);
	}
}

/*
 * How many samples of tone came back, to the sample: stretches where |x| exceeds
 * LOUD_SAMPLE, split by 10 ms without (silence a rebuffering jitter buffer played between
 * them is not counted). A lost 20 ms frame shortens it by 960.
 */
static void vaudio_tone_samples(const float *x, size_t n, struct analysis *a)
{
	size_t start = 0, last = 0;
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (fabsf(x[i]) <= LOUD_SAMPLE)
			continue;
		if (in && i - last > SEGMENT_GAP) {
			a->tone_samples += last - start + 1;
			in = false;
		}
		if (!in) {
			start = i;
			a->segments++;
			in = true;
		}
		last = i;
	}
	if (in)
		a->tone_samples += last - start + 1;
}

static void vaudio_analyse(struct vaudio *v, struct analysis *a)
{
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
	unsigned n = v->n_packets;
	double *rms = calloc(n + 1, sizeof(*rms));
	float *mono = calloc((size_t)(n + 1) * CG_AUDIO_FRAME_SAMPLES, sizeof(*mono));
	OpusDecoder *dec;
	int err;

	memset(a, 0, sizeof(*a));
	a->first_loud = a->last_loud = a->run_start = -1;
	dec = opus_decoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, &err);
	if (!rms || !mono || !dec) {
		free(rms);
		free(mono);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct captured *c = &v->packets[i];
		int got = opus_decode(dec, c->data, (opus_int32)c->len, pcm, CG_AUDIO_FRAME_SAMPLES,
				      0);
		double sum = 0;

		if (i > 0 && c->rtp_timestamp - c[-1].rtp_timestamp != CG_AUDIO_FRAME_SAMPLES)
			a->ts_gaps++;
		if (i > 0) {
			double step = (double)(int64_t)(c->capture_mono - c[-1].capture_mono) / 1e3;

			a->stamp_jitter_ms = CG_MAX(a->stamp_jitter_ms, fabs(step - 20.0));
		}
		for (int j = 0; got == CG_AUDIO_FRAME_SAMPLES && j < got; j++) {
			mono[(size_t)i * CG_AUDIO_FRAME_SAMPLES + j] = pcm[2 * j];
			sum += (double)pcm[2 * j] * pcm[2 * j];
		}
		rms[i] = sqrt(sum / CG_AUDIO_FRAME_SAMPLES);
		if (rms[i] > LOUD_RMS) {
			if (a->first_loud < 0) {
				a->first_loud = (int)i;
				a->first_loud_mono = c->capture_mono;
			}
			a->last_loud = (int)i;
		}
	}
	opus_decoder_destroy(dec);

	/* Arrival rate once the capture thread has settled (a figure, not a check). */
	for (unsigned i = 0, first = 0; i < n; i++) {
		if (v->packets[i].arrival_mono < v->packets[0].arrival_mono + 500000)
			continue;
		if (!first)
			first = i;
		if (i > first)
			a->rate = (double)(i - first) * 1e6 /
				  (double)(v->packets[i].arrival_mono -
					   v->packets[first].arrival_mono);
	}
	vaudio_runs(rms, n, a);
	vaudio_tone_samples(mono, (size_t)n * CG_AUDIO_FRAME_SAMPLES, a);
	/* 100 ms from the middle of the longest loud stretch: a gap (an underrun under load)
	 * inside the window would smear the spectrum. */
	if (a->run_len >= 5) {
		unsigned mid = (unsigned)a->run_start + (a->run_len - 5) / 2;

		vaudio_peak(mono + (size_t)mid * CG_AUDIO_FRAME_SAMPLES, 5 * CG_AUDIO_FRAME_SAMPLES,
			    &a->peak_hz, &a->purity);
	}
	free(rms);
	free(mono);
}

/* ---- the scenario ---- */

static unsigned vaudio_backoff_ms(uint64_t errors)
{
	unsigned ms = 0;

	for (uint64_t i = 0; i < errors; i++)
		ms = ms == 0 ? 1000 : CG_MIN(ms * 2, 30000u);
	return ms;
}

/*
 * Capture from a device that is not there: it fails, retries with back-off and sends
 * nothing; stopped right after its second failure, with the next retry 2 s away, the stop
 * must not wait for it. Stopping takes milliseconds; waiting out the back-off would take
 * about 2 s, so half the pending back-off tells the two apart on any machine.
 */
static void vaudio_missing_check(struct vaudio *v, uint64_t t0)
{
	struct cg_audio_capture_cfg cfg = {
		.device = v->missing, .bitrate_bps = 64000, .on_packet = on_missing, .userdata = v
	};
	struct cg_audio_capture *m = NULL;
	struct cg_audio_capture_stats st;
	uint64_t stop_start;
	unsigned pending_ms;
	char what[200];

	vaudio_check(v, cg_audio_capture_start(&cfg, &m) == 0, "capture start on a missing device");
	if (!m)
		return;
	vaudio_wait(cond_two_errors, m, PATIENCE_MS);
	cg_audio_capture_get_stats(m, &st);
	stop_start = cg_mono_usec();
	cg_audio_capture_stop(m);
	v->missing_stop_ms = (double)(cg_mono_usec() - stop_start) / 1e3;
	pending_ms = vaudio_backoff_ms(st.device_errors);
	printf("vdev-audio: %.1f s: capture from %s: %lu device errors, %lu packets, open %d; "
	       "stopped in %.1f ms, %u ms of back-off pending\n",
	       vaudio_now(t0), v->missing, (unsigned long)st.device_errors,
	       (unsigned long)st.packets, st.device_open, v->missing_stop_ms, pending_ms);
	snprintf(what, sizeof(what), "capture from %s keeps retrying (errors >= 2, no packets)",
		 v->missing);
	vaudio_check(v,
		     st.device_errors >= 2 && st.packets == 0 && !st.device_open &&
			     __atomic_load_n(&v->missing_packets, __ATOMIC_RELAXED) == 0,
		     what);
	vaudio_check(v, st.device_errors >= 2 && v->missing_stop_ms < pending_ms / 2.0,
		     "stop does not wait out the back-off");
}

/* Playback on a device this program holds open: fails, retries, plays once it is free. */
static struct cg_audio_playback *vaudio_busy_playback(struct vaudio *v, uint64_t t0)
{
	struct cg_audio_playback *p = NULL;
	snd_pcm_t *hold = NULL;
	bool warned, open_while_held, opened;
	int r;

	r = snd_pcm_open(&hold, v->playback, SND_PCM_STREAM_PLAYBACK, 0);
	printf("vdev-audio: %.1f s: holding %s: %s\n", vaudio_now(t0), v->playback,
	       r < 0 ? snd_strerror(r) : "ok");
	vaudio_check(v, r == 0, "open the loopback's playback end");
	busy_device = v->playback;
	if (cg_audio_playback_start(v->playback, &p) < 0) {
		vaudio_check(v, false, "cg_audio_playback_start");
		if (hold)
			snd_pcm_close(hold);
		return NULL;
	}
	warned = vaudio_wait(cond_warned, NULL, PATIENCE_MS);
	open_while_held = cond_playback_open(p);
	printf("vdev-audio: %.1f s: busy: %u warning(s), device_open %d\n", vaudio_now(t0),
	       __atomic_load_n(&playback_warnings, __ATOMIC_ACQUIRE), open_while_held);
	vaudio_check(v, hold && warned && !open_while_held,
		     "playback on a busy device reports it and does not block");
	if (hold)
		snd_pcm_close(hold);
	/* The next retry is a second after the first failure. */
	opened = vaudio_wait(cond_playback_open, p, PATIENCE_MS);
	printf("vdev-audio: %.1f s: released; playback device_open %d\n", vaudio_now(t0), opened);
	vaudio_check(v, opened, "playback retries and opens the device once it is free");
	return p;
}

/* What the run saw; cs0/ps0 are the stats at the first push, cs/ps at the end. */
struct vaudio_result {
	struct analysis a;
	struct cg_audio_playback_stats ps0, ps;
	struct cg_audio_capture_stats cs0, cs;
	unsigned tone_packets;
	opus_int32 lookahead;
	int push_errors;
	uint64_t first_push;
};

static void vaudio_report(struct vaudio *v, const struct vaudio_result *r)
{
	const struct analysis *a = &r->a;
	double latency_ms = a->first_loud >= 0
				    ? (double)(int64_t)(a->first_loud_mono - r->first_push) / 1e3
				    : 0;

	printf("vdev-audio: captured %u packets (%u dropped here), %u RTP gaps; rate %.2f/s, "
	       "capture stamp jitter %.2f ms\n",
	       v->n_packets, v->dropped, a->ts_gaps, a->rate, a->stamp_jitter_ms);
	printf("vdev-audio: tone: %lu samples (%.2f frames) of %u frames pushed, in %u "
	       "stretch(es); %u loud packets, longest run %u, %u quiet inside; RMS %.0f (%u silent "
	       "packets before it, loudest %.1f), peak %.0f Hz, purity %.2f, first loud %.0f ms "
	       "after the first push\n",
	       (unsigned long)a->tone_samples, (double)a->tone_samples / CG_AUDIO_FRAME_SAMPLES,
	       r->tone_packets, a->segments, a->loud, a->run_len, a->quiet_in_tone, a->tone_rms,
	       a->lead, a->lead_rms, a->peak_hz, a->purity, latency_ms);
	printf("vdev-audio: playback: played %lu, concealed %lu, silence %lu, underruns %lu "
	       "(%lu during the tone), late %lu, shed %lu, push errors %d; capture: packets %lu, "
	       "overruns %lu (%lu during the tone), device errors %lu\n",
	       (unsigned long)r->ps.frames_played, (unsigned long)r->ps.frames_concealed,
	       (unsigned long)r->ps.silence_frames, (unsigned long)r->ps.underruns,
	       (unsigned long)(r->ps.underruns - r->ps0.underruns), (unsigned long)r->ps.late,
	       (unsigned long)r->ps.shed, r->push_errors, (unsigned long)r->cs.packets,
	       (unsigned long)r->cs.overruns, (unsigned long)(r->cs.overruns - r->cs0.overruns),
	       (unsigned long)r->cs.device_errors);
	if (!v->bench)
		return;
	printf("BENCH vdev-audio capture: %.2f packets/s, timestamp jitter %.2f ms, "
	       "%lu overruns\n",
	       a->rate, a->stamp_jitter_ms, (unsigned long)r->cs.overruns);
	printf("BENCH vdev-audio talkback: first push to first loud captured packet %.0f ms, "
	       "%lu underruns, %lu shed, %lu concealed\n",
	       latency_ms, (unsigned long)r->ps.underruns, (unsigned long)r->ps.shed,
	       (unsigned long)r->ps.frames_concealed);
	printf("BENCH vdev-audio tone: %.2f of %u frames came back, in %u stretch(es)\n",
	       (double)a->tone_samples / CG_AUDIO_FRAME_SAMPLES, r->tone_packets, a->segments);
	printf("BENCH vdev-audio missing device: stopped in %.1f ms while backing off\n",
	       v->missing_stop_ms);
}

static void vaudio_checks(struct vaudio *v, const struct vaudio_result *r)
{
	const struct analysis *a = &r->a;
	uint64_t expected, disturbed = (r->cs.overruns - r->cs0.overruns) +
				       (r->ps.underruns - r->ps0.underruns) + r->ps.shed;

	/* Talkback: in-order packets leave no holes, so each frame is played or shed. */
	vaudio_check(v, r->push_errors == 0, "every talkback packet accepted");
	vaudio_check(v,
		     r->ps.frames_played + r->ps.shed == r->tone_packets &&
			     r->ps.frames_concealed == 0,
		     "talkback played every frame it did not shed");
	/* Capture: r->cs was read just before the stop; the callback may have run once more. */
	vaudio_check(v,
		     v->dropped == 0 && r->cs.packets <= v->n_packets &&
			     r->cs.packets + 1 >= v->n_packets,
		     "capture delivered every packet it counted");
	vaudio_check(v, v->n_packets > 1 && a->ts_gaps == 0,
		     "captured packets in order, RTP timestamps 960 apart");
	vaudio_check(v, r->cs.device_errors == 0 && r->cs.device_open,
		     "capture device stayed open");
	/* What came back. */
	vaudio_check(v, a->lead >= LEAD_PACKETS - 1 && a->lead_rms < SILENT_RMS,
		     "silence captured before the tone");
	vaudio_check(v, a->run_len >= 5 && fabs(a->peak_hz - TONE_HZ) <= 10,
		     "the tone came back: 100 ms or more at 440 Hz (+-10)");
	vaudio_check(v, a->tone_rms > 3000, "the tone is loud (RMS > 3000)");
	/*
	 * The pushed samples less the last packet's look-ahead, which stays in the talkback
	 * decoder when the stream stops: at most that (nothing duplicated, whatever the load),
	 * and all of it when no counter explains a loss.
	 */
	expected = (uint64_t)r->tone_packets * CG_AUDIO_FRAME_SAMPLES - (uint64_t)r->lookahead;
	printf("vdev-audio: tone: %lu samples back, %lu expected (%u frames less %d samples of "
	       "look-ahead)\n",
	       (unsigned long)a->tone_samples, (unsigned long)expected, r->tone_packets,
	       (int)r->lookahead);
	vaudio_check(v, a->tone_samples <= expected + TONE_SLACK, "no more tone than was pushed");
	if (disturbed) {
		printf("vdev-audio: CHECK the whole tone came back: SKIP (%lu overruns, underruns "
		       "or shed frames while it played)\n",
		       (unsigned long)disturbed);
		return;
	}
	vaudio_check(v, a->tone_samples + TONE_SLACK >= expected,
		     "the whole tone came back (to 2.5 ms; no counter explains a loss)");
}

static int vaudio_run(struct vaudio *v)
{
	struct cg_audio_capture_cfg cfg = {
		.device = v->capture, .bitrate_bps = 64000, .on_packet = on_captured, .userdata = v
	};
	struct vaudio_result r = { .tone_packets = (unsigned)(v->seconds * 50) };
	uint8_t(*tone)[CG_AUDIO_MAX_PACKET] = calloc(r.tone_packets, CG_AUDIO_MAX_PACKET);
	int *lens = calloc(r.tone_packets, sizeof(*lens));
	struct cg_audio_capture *c = NULL;
	struct cg_audio_playback *p;
	struct played_goal played;
	struct count_goal goal;
	uint64_t t0 = cg_mono_usec();

	v->packets = calloc(MAX_PACKETS, sizeof(*v->packets));
	if (!tone || !lens || !v->packets ||
	    vaudio_encode_tone(r.tone_packets, tone, lens, &r.lookahead) < 0) {
		vaudio_check(v, false, "encode the tone");
		return 1;
	}
	printf("vdev-audio: %.1f s: %u tone packets encoded\n", vaudio_now(t0), r.tone_packets);
	vaudio_missing_check(v, t0);
	p = vaudio_busy_playback(v, t0);
	if (!p)
		return 1;
	vaudio_check(v, cg_audio_capture_start(&cfg, &c) == 0, "capture start on the loopback");
	vaudio_check(v, c && vaudio_wait(cond_capture_open, c, PATIENCE_MS),
		     "capture opens the loopback's capture end");
	if (!c)
		return 1;
	/* Some silence comes back first, however late the capture thread gets going. */
	goal = (struct count_goal){ .v = v, .packets = LEAD_PACKETS };
	vaudio_wait(cond_captured, &goal, PATIENCE_MS);

	cg_audio_capture_get_stats(c, &r.cs0);
	cg_audio_playback_get_stats(p, &r.ps0);
	r.first_push = cg_mono_usec();
	printf("vdev-audio: %.1f s: pushing %.1f s of 440 Hz\n", vaudio_now(t0), v->seconds);
	r.push_errors = vaudio_push_tone(p, r.tone_packets, tone, lens);
	/* Until the jitter buffer has drained into the device, then 15 packets more of
	 * capture so the tail of the tone (ALSA's buffers) comes back too. */
	played = (struct played_goal){ .p = p, .frames = r.tone_packets };
	vaudio_wait(cond_played, &played, PATIENCE_MS);
	goal = (struct count_goal){ .v = v, .packets = vaudio_count(v) + 15 };
	vaudio_wait(cond_captured, &goal, PATIENCE_MS);
	printf("vdev-audio: %.1f s: stopping\n", vaudio_now(t0));

	cg_audio_capture_get_stats(c, &r.cs);
	c = cg_audio_capture_stop(c);
	cg_audio_playback_get_stats(p, &r.ps);
	p = cg_audio_playback_stop(p);

	vaudio_analyse(v, &r.a);
	vaudio_report(v, &r);
	vaudio_checks(v, &r);
	free(tone);
	free(lens);
	free(v->packets);
	return v->failures;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "playback", required_argument, NULL, 'p' },
		{ "capture", required_argument, NULL, 'c' },
		{ "missing", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "bench", no_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct vaudio v = { .playback = "hw:Loopback,0,0",
			    .capture = "hw:Loopback,1,0",
			    .missing = "hw:Nothing,0",
			    .seconds = 4 };
	int opt, failures;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			v.playback = optarg;
			break;
		case 'c':
			v.capture = optarg;
			break;
		case 'm':
			v.missing = optarg;
			break;
		case 's':
			v.seconds = atof(optarg);
			break;
		case 'b':
			v.bench = true;
			break;
		case 'v':
			cg_log_set_level(CG_LOG_DEBUG);
			break;
		default:
			return 2;
		}
	}
	if (v.seconds < 1 || v.seconds * 50 > MAX_PACKETS / 2) {
		fprintf(stderr, "vdev-audio: --seconds must be 1 to %d\n", MAX_PACKETS / 100);
		return 2;
	}
	pthread_mutex_init(&v.lock, NULL);
	cg_log_set_sink(vaudio_sink);
	failures = vaudio_run(&v);
	printf("vdev-audio: %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
