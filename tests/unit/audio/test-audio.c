/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sound paths without a sound card: the test tone through the capture thread and Opus,
 * capture from a device that does not exist, and talkback through the jitter buffer, Opus
 * and a real ALSA playback PCM (ALSA's "file" plugin writing to a temporary file,
 * configured through ALSA_CONFIG_PATH).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <opus/opus.h>
#include <stdio.h>

#include "audio/audio.h"
#include "util/macros.h"
#include "util/time.h"

struct tone_sink {
	GMutex lock;
	unsigned packets;
	uint32_t first_ts, last_ts;
	OpusDecoder *decoder;
	double loud_energy, quiet_energy; /* mean square during and outside the beeps */
	unsigned loud_frames, quiet_frames;
	uint64_t last_wall;
};

static double mean_square(const int16_t *pcm, int samples)
{
	double sum = 0;

	for (int i = 0; i < samples; i++)
		sum += (double)pcm[i] * pcm[i];
	return sum / samples;
}

static void on_packet(const uint8_t *payload, size_t len, uint32_t ts, uint64_t mono, uint64_t wall,
		      void *userdata)
{
	struct tone_sink *s = userdata;
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
	int n = opus_decode(s->decoder, payload, (opus_int32)len, pcm, CG_AUDIO_FRAME_SAMPLES, 0);
	/* The tone sounds in the first 100 ms of each wall-clock second. */
	uint64_t in_second = wall % G_USEC_PER_SEC;

	g_mutex_lock(&s->lock);
	if (s->packets++ == 0)
		s->first_ts = ts;
	s->last_ts = ts;
	s->last_wall = wall;
	if (n == CG_AUDIO_FRAME_SAMPLES && in_second >= 20000 && in_second < 60000) {
		s->loud_energy += mean_square(pcm, n * CG_AUDIO_CHANNELS);
		s->loud_frames++;
	} else if (n == CG_AUDIO_FRAME_SAMPLES && in_second > 300000 && in_second < 900000) {
		s->quiet_energy += mean_square(pcm, n * CG_AUDIO_CHANNELS);
		s->quiet_frames++;
	}
	g_mutex_unlock(&s->lock);
}

static gboolean quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void run_for(unsigned ms)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	g_timeout_add(ms, quit_loop, loop);
	g_main_loop_run(loop);
	g_main_loop_unref(loop);
}

static bool enough_packets(struct tone_sink *s, unsigned n)
{
	bool enough;

	g_mutex_lock(&s->lock);
	enough = s->packets >= n;
	g_mutex_unlock(&s->lock);
	return enough;
}

static void wait_packets(struct tone_sink *s, unsigned n, unsigned deadline_ms)
{
	for (unsigned waited = 0; waited < deadline_ms && !enough_packets(s, n); waited += 50)
		run_for(50);
}

static void test_tone_capture(void)
{
	struct tone_sink s = { 0 };
	struct cg_audio_capture_cfg cfg = {
		.device = "test", .bitrate_bps = 64000, .on_packet = on_packet, .userdata = &s
	};
	struct cg_audio_capture *c;
	struct cg_audio_capture_stats st;
	int err;

	g_mutex_init(&s.lock);
	s.decoder = opus_decoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, &err);
	g_assert_nonnull(s.decoder);
	g_assert_cmpint(cg_audio_capture_start(&cfg, &c), ==, 0);
	/* Until 110 packets (2.2 s of sound, so at least two beeps) or a generous deadline:
	 * emulated CPUs (qemu-user) run the encoder slower than real time at first. */
	wait_packets(&s, 110, 15000);
	cg_audio_capture_get_stats(c, &st);
	c = cg_audio_capture_stop(c);
	g_test_message("%u packets, loud %u frames (%.0f), quiet %u frames (%.0f)", s.packets,
		       s.loud_frames, s.loud_frames ? s.loud_energy / s.loud_frames : 0,
		       s.quiet_frames, s.quiet_frames ? s.quiet_energy / s.quiet_frames : 0);
	/* 50 packets a second, 960 samples apart. */
	g_assert_cmpuint(s.packets, >=, 110);
	g_assert_cmpuint(s.last_ts - s.first_ts, ==, (s.packets - 1) * CG_AUDIO_FRAME_SAMPLES);
	/* The stats were taken before the stop, the packets counted after it: the capture
	 * thread may have sent one more in between (armhf under qemu did), never fewer. */
	g_assert_cmpuint(st.packets, >=, 110);
	g_assert_cmpuint(st.packets, <=, s.packets);
	/* The test tone is a device that cannot fail: open from the first frame until the stop. */
	g_assert_true(st.device_open);
	g_assert_cmpuint(st.device_errors, ==, 0);
	g_assert_cmpuint(st.overruns, ==, 0);
	/* The beeps are loud, the rest of the second is silent. */
	g_assert_cmpuint(s.loud_frames, >=, 2);
	g_assert_cmpfloat(s.loud_energy / s.loud_frames, >, 1e6);
	g_assert_cmpfloat(s.quiet_energy / CG_MAX(s.quiet_frames, 1), <, 1e4);
	opus_decoder_destroy(s.decoder);
	g_mutex_clear(&s.lock);
}

/* An ALSA configuration with one PCM, "cgtest", that writes what it plays to path. */
static char *write_alsa_config(const char *dir, const char *path)
{
	char *conf = g_build_filename(dir, "asound.conf", NULL);
	char *text = g_strdup_printf("pcm.cgtest {\n type file\n slave.pcm { type null }\n"
				     " file \"%s\"\n format \"raw\"\n}\n",
				     path);

	g_assert_true(g_file_set_contents(conf, text, -1, NULL));
	g_free(text);
	return conf;
}

static void on_packet_unexpected(const uint8_t *payload, size_t len, uint32_t ts, uint64_t mono,
				 uint64_t wall, void *userdata)
{
	unsigned *packets = userdata;

	(void)payload, (void)len, (void)ts, (void)mono, (void)wall;
	g_atomic_int_inc(packets);
}

static uint64_t capture_errors(struct cg_audio_capture *c, struct cg_audio_capture_stats *st)
{
	cg_audio_capture_get_stats(c, st);
	return st->device_errors;
}

/*
 * A sound device that does not exist: the capture thread reports it closed, counts the
 * failed open, sends nothing, and still stops at once (it waits out its back-off on the
 * stop event). ALSA reads only our configuration, so no PCM of this machine can answer.
 */
static void test_capture_missing_device(void)
{
	g_autofree char *dir = g_dir_make_tmp("cg-audio-XXXXXX", NULL);
	g_autofree char *raw = g_build_filename(dir, "unused.raw", NULL);
	g_autofree char *conf = write_alsa_config(dir, raw);
	unsigned packets = 0;
	struct cg_audio_capture_cfg cfg = { .device = "cgtest_no_such_pcm",
					    .on_packet = on_packet_unexpected,
					    .userdata = &packets };
	struct cg_audio_capture *c;
	struct cg_audio_capture_stats st;

	g_setenv("ALSA_CONFIG_PATH", conf, TRUE);
	g_assert_cmpint(cg_audio_capture_start(&cfg, &c), ==, 0);
	for (unsigned waited = 0; waited < 10000 && capture_errors(c, &st) == 0; waited += 20)
		run_for(20);
	c = cg_audio_capture_stop(c);
	g_assert_null(c);
	g_unsetenv("ALSA_CONFIG_PATH");
	g_test_message("%" G_GUINT64_FORMAT " failed opens", st.device_errors);
	g_assert_cmpuint(st.device_errors, >=, 1);
	g_assert_false(st.device_open);
	g_assert_cmpuint(st.packets, ==, 0);
	g_assert_cmpuint(g_atomic_int_get(&packets), ==, 0);
	g_unlink(conf);
	g_rmdir(dir);
}

static void test_talkback_playback(void)
{
	g_autofree char *dir = g_dir_make_tmp("cg-audio-XXXXXX", NULL);
	g_autofree char *raw = g_build_filename(dir, "played.raw", NULL);
	g_autofree char *conf = write_alsa_config(dir, raw);
	struct cg_audio_playback *p;
	struct cg_audio_playback_stats st;
	OpusEncoder *enc;
	int16_t pcm[CG_AUDIO_FRAME_SAMPLES * CG_AUDIO_CHANNELS];
	uint8_t packet[CG_AUDIO_MAX_PACKET];
	g_autofree char *played = NULL;
	gsize played_len = 0;
	double energy;
	int err;

	g_setenv("ALSA_CONFIG_PATH", conf, TRUE);
	enc = opus_encoder_create(CG_AUDIO_RATE, CG_AUDIO_CHANNELS, OPUS_APPLICATION_VOIP, &err);
	g_assert_cmpint(cg_audio_playback_start("cgtest", &p), ==, 0);
	/* A browser's microphone: a 300 Hz tone, 50 packets, one every 20 ms. */
	for (unsigned k = 0; k < 50; k++) {
		for (unsigned i = 0; i < CG_AUDIO_FRAME_SAMPLES; i++)
			pcm[2 * i] = pcm[2 * i + 1] =
				(int16_t)(8000 *
					  sin(2 * M_PI * 300 * (k * CG_AUDIO_FRAME_SAMPLES + i) /
					      CG_AUDIO_RATE));
		int n = opus_encode(enc, pcm, CG_AUDIO_FRAME_SAMPLES, packet, sizeof(packet));
		g_assert_cmpint(n, >, 0);
		g_assert_cmpint(cg_audio_playback_push(p, (uint16_t)(1000 + k),
						       k * CG_AUDIO_FRAME_SAMPLES, packet,
						       (size_t)n),
				==, 0);
		run_for(20);
	}
	run_for(300);
	cg_audio_playback_get_stats(p, &st);
	p = cg_audio_playback_stop(p);
	g_unsetenv("ALSA_CONFIG_PATH");
	g_assert_true(g_file_get_contents(raw, &played, &played_len, NULL));
	energy = mean_square((const int16_t *)played, (int)(played_len / 2));
	g_test_message("played %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
		       " concealed, %" G_GUINT64_FORMAT " silent; file %zu bytes, mean square %.0f",
		       st.frames_played, st.frames_concealed, st.silence_frames, played_len,
		       energy);
	g_assert_true(st.device_open); /* stats were read before the stop */
	g_assert_true(st.frames_played >= 45);
	g_assert_cmpuint(played_len, >, 45 * sizeof(pcm));
	g_assert_cmpfloat(energy, >, 1e5); /* not silence */
	opus_encoder_destroy(enc);
	g_unlink(raw);
	g_unlink(conf);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/audio/tone-capture", test_tone_capture);
	g_test_add_func("/audio/capture-missing-device", test_capture_missing_device);
	g_test_add_func("/audio/talkback-playback", test_talkback_playback);
	return g_test_run();
}
