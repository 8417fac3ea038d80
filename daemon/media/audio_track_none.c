/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Built without ALSA or Opus: no sound, and the answer rejects audio sections. */
#define CG_LOG_TOPIC "audio"

#include <errno.h>
#include <string.h>

#include "media/audio_track.h"
#include "app/config.h"
#include "util/log.h"

int cg_audio_track_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		       struct cg_audio_track **ret)
{
	if ((cfg->audio && strcmp(cfg->audio, "auto") != 0 && strcmp(cfg->audio, "none") != 0) ||
	    (cfg->speaker && strcmp(cfg->speaker, "none") != 0))
		cg_warn("this camgate was built without ALSA/Opus: no sound, ignoring");
	*ret = NULL;
	return 0;
}

struct cg_audio_track *cg_audio_track_free(struct cg_audio_track *t)
{
	return NULL;
}

void cg_audio_track_stop_capture(struct cg_audio_track *t)
{
}

bool cg_audio_track_sends(const struct cg_audio_track *t)
{
	return false;
}

bool cg_audio_track_receives(const struct cg_audio_track *t)
{
	return false;
}

uint32_t cg_audio_track_ssrc(const struct cg_audio_track *t)
{
	return 0;
}

int cg_audio_track_talkback(struct cg_audio_track *t, uint32_t ssrc, uint16_t seq,
			    uint32_t timestamp, const uint8_t *payload, size_t len)
{
	return -ENOTSUP;
}
