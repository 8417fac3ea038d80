/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "audio"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/alsa.h"
#include "audio/audio.h"
#include "media/audio_track.h"
#include "app/config.h"
#include "fanout/hub.h"
#include "media/media.h"
#include "app/stats.h"
#include "media/unit_pool.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

#define TALKBACK_FLOOR_USEC 500000 /* a talker keeps the floor while it sent this recently */
/* Opus packets this small carry silence (RFC 6716 §3: a TOC byte and a few bytes of a
 * silent frame); a browser sends them for a disabled microphone track. */
#define TALKBACK_SILENCE_BYTES 10

/* Spare Opus units kept for reuse (one comes back per packet in steady state). */
#define TRACK_FREE_UNITS 8

struct cg_audio_track {
	struct cg_unit_pool *units; /* the Opus units, recycled (audio thread gets) */
	struct cg_hub *hub;
	struct cg_stats *stats;
	struct cg_audio_capture *capture;
	struct cg_audio_playback *playback;
	uint32_t ssrc;
	uint16_t next_seq; /* audio thread */
	pthread_mutex_t floor_lock;
	uint32_t talker_ssrc; /* protected by floor_lock */
	uint64_t talker_last_usec;
};

/* Audio thread: one Opus packet becomes a unit every worker sends to its viewers. */
static void track_on_packet(const uint8_t *payload, size_t len, uint32_t rtp_timestamp,
			    uint64_t capture_mono_usec, uint64_t capture_wall_usec, void *userdata)
{
	struct cg_audio_track *t = userdata;
	struct cg_media_unit *u = cg_unit_pool_get(t->units, len, 1);

	u->plan.arena_len = len;
	memcpy(u->plan.arena, payload, len);
	u->plan.n_items = 1;
	u->plan.items[0] = (struct cg_h264_payload){ .offset = 0, .len = (uint16_t)len };
	u->first_seq = t->next_seq++;
	u->rtp_timestamp = rtp_timestamp;
	u->capture_mono_usec = capture_mono_usec;
	u->capture_wall_usec = capture_wall_usec;
	u->keyframe = true; /* every Opus packet decodes on its own */
	cg_hub_publish(t->hub, u);
	cg_media_unit_unref(u);
	cg_stats_add(&t->stats->audio_packets, 1);
}

/* "auto" means the default capture device, but only if it is there now: a board without a
 * microphone sends no sound rather than a tone nobody asked for. */
static const char *track_capture_device(const char *audio)
{
	snd_pcm_t *pcm;

	if (strcmp(audio, "none") == 0)
		return NULL;
	if (strcmp(audio, "auto") != 0)
		return audio;
	if (cg_alsa_open("default", true, 4, &pcm) < 0) {
		cg_info("no sound capture device, streaming video only");
		return NULL;
	}
	snd_pcm_close(pcm);
	return "default";
}

static int track_start(struct cg_audio_track *t, const struct cg_config *cfg)
{
	const char *capture = track_capture_device(cfg->audio ? cfg->audio : "auto");
	struct cg_audio_capture_cfg ccfg = {
		.device = capture,
		.bitrate_bps = 64000,
		.on_packet = track_on_packet,
		.userdata = t,
	};
	int r;

	if (capture) {
		r = cg_audio_capture_start(&ccfg, &t->capture);
		if (r < 0)
			return r;
		cg_info("sending sound from %s", capture);
	}
	if (cfg->speaker && strcmp(cfg->speaker, "none") != 0) {
		r = cg_audio_playback_start(cfg->speaker, &t->playback);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_audio_track_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		       struct cg_audio_track **ret)
{
	struct cg_audio_track *t = cg_new0(struct cg_audio_track, 1);
	int r;

	t->units = cg_unit_pool_new(CG_MEDIA_AUDIO, TRACK_FREE_UNITS);
	t->hub = hub;
	t->stats = stats;
	t->ssrc = cg_rand_u32();
	t->next_seq = (uint16_t)cg_rand_u32();
	pthread_mutex_init(&t->floor_lock, NULL);
	r = track_start(t, cfg);
	if (r < 0 || (!t->capture && !t->playback)) {
		cg_audio_track_free(t);
		*ret = NULL;
		return r < 0 ? r : 0;
	}
	*ret = t;
	return 0;
}

struct cg_audio_track *cg_audio_track_free(struct cg_audio_track *t)
{
	if (!t)
		return NULL;
	t->capture = cg_audio_capture_stop(t->capture);
	t->playback = cg_audio_playback_stop(t->playback);
	pthread_mutex_destroy(&t->floor_lock);
	cg_unit_pool_release(t->units); /* units still out keep it until they go */
	free(t);
	return NULL;
}

void cg_audio_track_stop_capture(struct cg_audio_track *t)
{
	if (t)
		t->capture = cg_audio_capture_stop(t->capture);
}

bool cg_audio_track_sends(const struct cg_audio_track *t)
{
	return t && t->capture;
}

bool cg_audio_track_receives(const struct cg_audio_track *t)
{
	return t && t->playback;
}

uint32_t cg_audio_track_ssrc(const struct cg_audio_track *t)
{
	return t->ssrc;
}

int cg_audio_track_talkback(struct cg_audio_track *t, uint32_t ssrc, uint16_t seq,
			    uint32_t timestamp, const uint8_t *payload, size_t len)
{
	uint64_t now = cg_mono_usec();
	bool voiced = len > TALKBACK_SILENCE_BYTES;
	bool mine;

	if (!t || !t->playback)
		return -ENOTSUP;
	pthread_mutex_lock(&t->floor_lock);
	mine = ssrc == t->talker_ssrc ||
	       (voiced && now - t->talker_last_usec > TALKBACK_FLOOR_USEC);
	if (mine && voiced) {
		if (ssrc != t->talker_ssrc)
			cg_info("talkback: a new browser has the floor");
		t->talker_ssrc = ssrc;
		t->talker_last_usec = now;
	}
	pthread_mutex_unlock(&t->floor_lock);
	if (!mine) {
		cg_stats_add(&t->stats->talkback_refused, 1);
		return -EBUSY;
	}
	cg_stats_add(&t->stats->talkback_packets, 1);
	return cg_audio_playback_push(t->playback, seq, timestamp, payload, len);
}
