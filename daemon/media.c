/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "media"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "hub.h"
#include "hw/registry.h"
#include "media.h"
#include "proto/rtp.h"
#include "stats.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

struct cg_media {
	const struct cg_config *cfg;
	struct cg_hub *hub;
	struct cg_stats *stats;
	const struct cg_capture_ops *capture_ops;
	struct cg_capture *capture;
	const struct cg_encoder_ops *encoder_ops;
	struct cg_encoder *encoder;
	struct cg_h264_profile profile;
	uint32_t ssrc;
	uint32_t rtp_offset;
	uint16_t next_seq;
	pthread_t thread;
	bool started;
	int stop_fd;
	uint64_t keyframe_wanted_usec;	  /* atomic: time of the latest request, any thread */
	uint64_t last_keyframe_request_usec; /* when the encoder was last asked for an IDR */
	uint64_t last_idr_published_usec;
	uint64_t heartbeat_usec; /* atomic */
	uint32_t bitrate_target_kbps;  /* atomic: set by any thread */
	uint32_t bitrate_applied_kbps; /* media thread */
	pthread_mutex_t latest_lock;   /* protects latest */
	struct cg_frame *latest;       /* newest captured frame, for snapshots */
};

struct cg_media_unit *cg_media_unit_ref(struct cg_media_unit *u)
{
	cg_refcount_inc(&u->ref);
	return u;
}

struct cg_media_unit *cg_media_unit_unref(struct cg_media_unit *u)
{
	if (u && cg_refcount_dec(&u->ref)) {
		cg_au_unref(u->au);
		free(u->plan.arena);
		free(u->plan.items);
		free(u);
	}
	return NULL;
}

/* Packetizes an AU once into a unit that every viewer will send. Media thread. */
static int media_packetize(struct cg_media *m, struct cg_au *au, struct cg_media_unit **ret)
{
	struct cg_media_unit *u = cg_new0(struct cg_media_unit, 1);
	size_t arena = cg_h264_plan_arena_bound(au->len, CG_MEDIA_MAX_PAYLOAD);
	int r;

	cg_refcount_init(&u->ref);
	u->plan.arena = cg_new0(uint8_t, arena);
	u->plan.arena_cap = arena;
	u->plan.items_cap = au->len / (CG_MEDIA_MAX_PAYLOAD - 2) + 16;
	u->plan.items = cg_new0(struct cg_h264_payload, u->plan.items_cap);
	r = cg_h264_plan_build(&u->plan, au->data, au->len, CG_MEDIA_MAX_PAYLOAD);
	if (r < 0) {
		cg_media_unit_unref(u);
		return r;
	}
	u->au = cg_au_ref(au);
	u->first_seq = m->next_seq;
	m->next_seq = (uint16_t)(m->next_seq + u->plan.n_items);
	u->rtp_timestamp =
		cg_rtp_timestamp(au->capture_mono_usec, CG_MEDIA_VIDEO_CLOCK, m->rtp_offset);
	u->capture_mono_usec = au->capture_mono_usec;
	u->capture_wall_usec = au->capture_wall_usec;
	u->keyframe = au->keyframe;
	*ret = u;
	return 0;
}

/*
 * The keyframe arbiter. A request is satisfied by any IDR published after it was made, so
 * every join, PLI and FIR that arrives before the next IDR goes out shares that IDR; and
 * the encoder is asked at most once per min_keyframe_interval_ms however many ask.
 */
static void media_arbitrate_keyframe(struct cg_media *m, uint64_t now)
{
	uint64_t interval = (uint64_t)m->cfg->min_keyframe_interval_ms * CG_USEC_PER_MSEC;
	uint64_t wanted = __atomic_load_n(&m->keyframe_wanted_usec, __ATOMIC_ACQUIRE);

	if (wanted == 0 || wanted <= m->last_idr_published_usec)
		return;
	if (m->last_keyframe_request_usec && now - m->last_keyframe_request_usec < interval)
		return;
	m->last_keyframe_request_usec = now;
	m->encoder_ops->request_keyframe(m->encoder);
	cg_debug("keyframe requested");
}

/* Bitrate changes are applied between frames, on the thread that owns the encoder. */
static void media_apply_bitrate(struct cg_media *m)
{
	uint32_t target = __atomic_load_n(&m->bitrate_target_kbps, __ATOMIC_RELAXED);
	int r;

	if (target == 0 || target == m->bitrate_applied_kbps)
		return;
	r = m->encoder_ops->set_bitrate(m->encoder, target);
	if (r < 0)
		cg_debug("encoder %s cannot change bitrate: %s", m->encoder_ops->name, strerror(-r));
	m->bitrate_applied_kbps = target;
}

static void media_keep_latest(struct cg_media *m, struct cg_frame *frame)
{
	struct cg_frame *old;

	pthread_mutex_lock(&m->latest_lock);
	old = m->latest;
	m->latest = cg_frame_ref(frame);
	pthread_mutex_unlock(&m->latest_lock);
	cg_frame_unref(old);
}

static void media_handle_frame(struct cg_media *m, struct cg_frame *frame)
{
	struct cg_media_unit *unit;
	struct cg_au *au = NULL;
	uint64_t published;
	int r;

	cg_stats_add(&m->stats->frames_captured, 1);
	media_keep_latest(m, frame);
	media_arbitrate_keyframe(m, cg_mono_usec());
	media_apply_bitrate(m);
	r = m->encoder_ops->encode(m->encoder, frame, &au);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		cg_stats_add(&m->stats->frames_dropped, 1);
		cg_warn("encoder %s failed: %s, dropping the frame", m->encoder_ops->name,
			strerror(-r));
		return;
	}
	cg_stats_add(&m->stats->frames_encoded, 1);
	if (au->keyframe)
		cg_stats_add(&m->stats->keyframes, 1);
	cg_stats_sample(m->stats, &m->stats->encode, au->encode_usec);
	r = media_packetize(m, au, &unit);
	cg_au_unref(au);
	if (r < 0) {
		cg_warn("cannot packetize an access unit: %s, dropping it", strerror(-r));
		return;
	}
	/* Taken before the publish: a request made after this instant may have reached its
	 * worker after the worker sent this IDR, so it is not satisfied by it. */
	published = cg_mono_usec();
	cg_hub_publish(m->hub, unit);
	if (unit->keyframe)
		m->last_idr_published_usec = published;
	cg_media_unit_unref(unit);
}

static void *media_thread(void *userdata)
{
	struct cg_media *m = userdata;
	struct pollfd fds[2] = {
		{.fd = m->capture_ops->fd(m->capture), .events = POLLIN},
		{.fd = m->stop_fd, .events = POLLIN},
	};

	for (;;) {
		struct cg_frame *frame;
		int r;

		__atomic_store_n(&m->heartbeat_usec, cg_mono_usec(), __ATOMIC_RELAXED);
		if (poll(fds, CG_ARRAY_SIZE(fds), 1000) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		r = m->capture_ops->dequeue(m->capture, &frame);
		if (r == -EAGAIN)
			continue;
		if (r < 0) {
			cg_err("capture %s failed: %s", m->capture_ops->name, strerror(-r));
			break;
		}
		media_handle_frame(m, frame);
		cg_frame_unref(frame);
	}
	return NULL;
}

static int media_open_encoder(struct cg_media *m)
{
	const struct cg_config *cfg = m->cfg;
	struct cg_encoder_cfg ecfg = {
		.width = cfg->width,
		.height = cfg->height,
		.fps = cfg->fps,
		.bitrate_kbps = cfg->bitrate_kbps,
		.keyframe_interval = cfg->keyframe_interval_frames,
		.profile = CG_ENCODER_PROFILE_CONSTRAINED_BASELINE,
	};
	int r;

	m->encoder_ops = cg_registry_encoder(cfg->encoder);
	if (!m->encoder_ops) {
		cg_err("no encoder '%s' in this build", cfg->encoder);
		return -ENODEV;
	}
	r = m->encoder_ops->open(&ecfg, &m->encoder);
	if (r < 0) {
		cg_err("cannot open encoder %s: %s", m->encoder_ops->name, strerror(-r));
		return r;
	}
	m->encoder_ops->get_profile(m->encoder, &m->profile.profile_idc,
				    &m->profile.constraints, &m->profile.level_idc);
	return 0;
}

static int media_open_capture(struct cg_media *m)
{
	const struct cg_config *cfg = m->cfg;
	struct cg_capture_cfg ccfg = {
		.device = cfg->source, .width = cfg->width, .height = cfg->height, .fps = cfg->fps};
	int r;

	m->capture_ops = cg_registry_capture(cfg->source);
	if (!m->capture_ops) {
		cg_err("no capture backend for source '%s'", cfg->source);
		return -ENODEV;
	}
	r = m->capture_ops->open(&ccfg, &m->capture);
	if (r < 0) {
		cg_err("cannot open source %s: %s", cfg->source, strerror(-r));
		return r;
	}
	return 0;
}

int cg_media_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		 struct cg_media **ret)
{
	struct cg_media *m = cg_new0(struct cg_media, 1);
	int r;

	m->cfg = cfg;
	m->hub = hub;
	m->stats = stats;
	m->ssrc = cg_rand_u32();
	m->rtp_offset = cg_rand_u32();
	m->next_seq = (uint16_t)cg_rand_u32();
	pthread_mutex_init(&m->latest_lock, NULL);
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = media_open_capture(m);
	if (r < 0)
		goto fail;
	r = media_open_encoder(m);
	if (r < 0)
		goto fail;
	m->bitrate_applied_kbps = cfg->bitrate_kbps;
	m->bitrate_target_kbps = cfg->bitrate_kbps;
	*ret = m;
	return 0;
fail:
	cg_media_free(m);
	return r;
}

int cg_media_start(struct cg_media *m)
{
	int r = m->capture_ops->start(m->capture);

	if (r < 0)
		return r;
	r = pthread_create(&m->thread, NULL, media_thread, m);
	if (r > 0)
		return -r;
	pthread_setname_np(m->thread, "cg-media");
	m->started = true;
	return 0;
}

struct cg_media *cg_media_free(struct cg_media *m)
{
	if (!m)
		return NULL;
	if (m->started) {
		uint64_t one = 1;
		ssize_t CG_UNUSED n = write(m->stop_fd, &one, sizeof(one));
		pthread_join(m->thread, NULL);
		m->capture_ops->stop(m->capture);
	}
	m->latest = cg_frame_unref(m->latest);
	pthread_mutex_destroy(&m->latest_lock);
	if (m->encoder)
		m->encoder_ops->close(m->encoder);
	if (m->capture)
		m->capture_ops->close(m->capture);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	free(m);
	return NULL;
}

void cg_media_request_keyframe(struct cg_media *m)
{
	cg_stats_add(&m->stats->keyframe_requests, 1);
	__atomic_store_n(&m->keyframe_wanted_usec, cg_mono_usec(), __ATOMIC_RELEASE);
}

struct cg_h264_profile cg_media_profile(const struct cg_media *m)
{
	return m->profile;
}

uint32_t cg_media_ssrc(const struct cg_media *m)
{
	return m->ssrc;
}

const char *cg_media_encoder_name(const struct cg_media *m)
{
	return m->encoder_ops->name;
}

uint64_t cg_media_heartbeat_usec(const struct cg_media *m)
{
	return __atomic_load_n(&m->heartbeat_usec, __ATOMIC_RELAXED);
}

void cg_media_set_bitrate(struct cg_media *m, uint32_t kbps)
{
	__atomic_store_n(&m->bitrate_target_kbps, kbps, __ATOMIC_RELAXED);
}

uint32_t cg_media_bitrate(const struct cg_media *m)
{
	return __atomic_load_n(&m->bitrate_target_kbps, __ATOMIC_RELAXED);
}

struct cg_frame *cg_media_latest_frame(struct cg_media *m)
{
	struct cg_frame *f;

	pthread_mutex_lock(&m->latest_lock);
	f = m->latest ? cg_frame_ref(m->latest) : NULL;
	pthread_mutex_unlock(&m->latest_lock);
	return f;
}
