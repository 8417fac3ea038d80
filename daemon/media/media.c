/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "media"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "app/config.h"
#include "fanout/hub.h"
#include "hw/convert.h"
#include "hw/fake/passthrough.h"
#include "hw/registry.h"
#include "media/media.h"
#include "proto/rtp.h"
#include "proto/speed.h"
#include "app/stats.h"
#include "media/unit_pool.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/rand.h"
#include "util/time.h"

#define MEDIA_BACKOFF_MIN_MS 1000u
#define MEDIA_BACKOFF_MAX_MS 30000u
#define MEDIA_SOURCE_NAME    64

/*
 * The source's life (STYLE 4.7 rule 10: hardware failures are states). Viewers never see
 * these: while the source is away they keep their sessions and simply get no frames.
 */
enum media_state {
	MEDIA_IDLE,	 /* not started */
	MEDIA_OPENING,	 /* opening capture and encoder */
	MEDIA_STREAMING, /* frames flow */
	MEDIA_FAILED,	 /* closed; the retry timer reopens after the back-off */
};

static const char *const media_state_names[] = {
	[MEDIA_IDLE] = "idle",
	[MEDIA_OPENING] = "opening",
	[MEDIA_STREAMING] = "streaming",
	[MEDIA_FAILED] = "failed",
};

/*
 * Where the announced profile comes from, least to most trusted. A backend declares what
 * it configured when it opens, but only the stream's SPS says what the decoder will get
 * (a UVC H.264 camera picks its own profile; a driver may refuse the profile control or
 * clamp the level), so the first SPS seen corrects the declaration.
 */
enum media_profile_source {
	MEDIA_PROFILE_DEFAULT,	/* no encoder opened yet */
	MEDIA_PROFILE_DECLARED, /* the open encoder's get_profile() */
	MEDIA_PROFILE_SPS,	/* an SPS of the stream */
};

/* Spare units kept for reuse: in steady state one comes back per frame (the NACK history's
 * oldest), so a few cover it; a burst of releases beyond this is freed. */
#define MEDIA_FREE_UNITS 8

struct cg_media {
	const struct cg_config *cfg;
	char log_context[CG_LOG_CONTEXT_MAX]; /* its creator's ("camera NAME"), for its thread */
	struct cg_unit_pool *units;	      /* the video units, recycled (media thread gets) */
	struct cg_media_test_opts opts;
	struct cg_hub *hub;
	struct cg_stats *stats;
	enum media_state state; /* media thread writes; read atomically by cg_media_state */
	enum media_state shown; /* the last state logged (OPENING never is) */
	int last_error;		/* of the last failure, to log only changes */
	uint32_t backoff_ms;
	int retry_fd;			/* timerfd: the back-off */
	uint64_t encode_errors;		/* non-fatal encoder errors in a row */
	uint64_t encodes;		/* frames given to the encoder (fault injection) */
	uint64_t fail_encode_at;	/* test hook: this encode fails with -EIO; 0: never */
	char source[MEDIA_SOURCE_NAME]; /* resolved once: "test" or a /dev/videoN */
	const struct cg_capture_ops *capture_ops;
	struct cg_capture *capture;
	struct cg_capture_format format;
	const struct cg_encoder_ops *encoder_ops;
	struct cg_encoder *encoder;
	struct cg_convert *convert;
	const char *encoder_name; /* atomic: read by the control thread */
	/* The profile-level-id SDP answers and offers say, packed by media_pack_profile() for
	 * the control thread's atomic reads, and where it comes from. Written by the thread
	 * that owns the pipeline (control thread before cg_media_start, then the media
	 * thread). */
	uint32_t profile_packed; /* atomic */
	enum media_profile_source profile_source;
	uint32_t ssrc;
	uint32_t rtp_offset;
	uint16_t next_seq;
	pthread_t thread;
	bool started;
	int stop_fd;
	uint64_t keyframe_wanted_usec;	     /* atomic: time of the latest request, any thread */
	uint64_t last_keyframe_request_usec; /* when the encoder was last asked for an IDR */
	uint64_t last_idr_published_usec;
	uint64_t heartbeat_usec;       /* atomic */
	uint32_t bitrate_target_kbps;  /* atomic: set by any thread */
	uint32_t bitrate_applied_kbps; /* media thread */
	uint64_t bitrate_tick_usec;    /* media thread: the policy's last run */
	uint32_t bitrate_policy_kbps;  /* media thread: the policy's last decision */
	pthread_mutex_t latest_lock;   /* protects latest */
	struct cg_frame *latest;       /* newest captured frame, for snapshots */
	/* x264's speed (--x264-preset): the policy runs when auto, on the media thread. */
	struct cg_speed speed;
	bool speed_auto;
	unsigned speed_preset;		 /* media thread: the preset the encoder was given */
	const char *preset_name;	 /* atomic: its name while the encoder has presets */
	uint64_t test_encode_delay_usec; /* test hook: added to every encode (sleeping) */
};

/* Packetizes an AU once into a unit that every viewer will send. Media thread. */
static int media_packetize(struct cg_media *m, struct cg_au *au, struct cg_media_unit **ret)
{
	struct cg_media_unit *u =
		cg_unit_pool_get(m->units, cg_h264_plan_arena_bound(au->len, CG_MEDIA_MAX_PAYLOAD),
				 au->len / (CG_MEDIA_MAX_PAYLOAD - 2) + 16);
	int r;

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
/*
 * The camera's bitrate policy runs here, on its own media thread: the workers post their
 * viewers' estimates to the hub, and every CG_HUB_BITRATE_TICK_USEC this turns them into
 * the encoder's target (the lowest estimate at or above the floor, proto/bwe.h).
 */
static void media_follow_viewers(struct cg_media *m, uint64_t now)
{
	uint32_t before, after;

	if (!m->hub || now - m->bitrate_tick_usec < CG_HUB_BITRATE_TICK_USEC)
		return;
	m->bitrate_tick_usec = now;
	before = __atomic_load_n(&m->bitrate_target_kbps, __ATOMIC_RELAXED);
	after = cg_hub_decide_bitrate(m->hub, now);
	/* Only a change of the policy's mind moves the encoder: a bitrate set by a reload
	 * (cg_media_set_bitrate) stays until the viewers' estimates say otherwise. */
	if (after == m->bitrate_policy_kbps)
		return;
	m->bitrate_policy_kbps = after;
	if (after == before)
		return;
	cg_info("encoder bitrate %u -> %u kbit/s (lowest viewer estimate)", before, after);
	__atomic_store_n(&m->bitrate_target_kbps, after, __ATOMIC_RELAXED);
}

static void media_apply_bitrate(struct cg_media *m)
{
	uint32_t target = __atomic_load_n(&m->bitrate_target_kbps, __ATOMIC_RELAXED);
	int r;

	if (target == 0 || target == m->bitrate_applied_kbps)
		return;
	r = m->encoder_ops->set_bitrate(m->encoder, target);
	if (r < 0)
		cg_debug("encoder %s cannot change bitrate: %s", m->encoder_ops->name,
			 strerror(-r));
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

static uint32_t media_pack_profile(const struct cg_h264_profile *p)
{
	return (uint32_t)p->profile_idc << 16 | (uint32_t)p->constraints << 8 | p->level_idc;
}

static struct cg_h264_profile media_unpack_profile(uint32_t v)
{
	return (struct cg_h264_profile){ .profile_idc = (uint8_t)(v >> 16),
					 .constraints = (uint8_t)(v >> 8),
					 .level_idc = (uint8_t)v };
}

/* What SDP answers say from now on. Pipeline owner. */
static void media_announce_profile(struct cg_media *m, const struct cg_h264_profile *p,
				   enum media_profile_source source)
{
	__atomic_store_n(&m->profile_packed, media_pack_profile(p), __ATOMIC_RELEASE);
	m->profile_source = source;
}

/*
 * Every key frame carries the SPS (the cg_au contract), and its profile_idc, constraint
 * flags and level_idc are exactly profile-level-id (RFC 6184 §8.1): from the first one on,
 * the SDP says what the stream is, whatever the encoder declared. A viewer that was
 * answered before keeps its answer; the notice says so. Media thread.
 */
static void media_note_sps(struct cg_media *m, const struct cg_au *au)
{
	struct cg_h264_profile sps, was = cg_media_profile(m);
	char now[7], before[7];

	if (cg_h264_au_sps_profile(au->data, au->len, &sps) < 0)
		return;
	if (memcmp(&sps, &was, sizeof(sps)) == 0) {
		m->profile_source = MEDIA_PROFILE_SPS;
		return;
	}
	cg_h264_profile_to_string(&sps, now);
	cg_h264_profile_to_string(&was, before);
	cg_notice("encoder %s: the stream's SPS says profile-level-id %s, not %s as %s; SDP "
		  "answers say %s from now on (viewers answered before keep %s)",
		  m->encoder_ops->name, now, before,
		  m->profile_source == MEDIA_PROFILE_SPS ? "an earlier SPS said"
							 : "the encoder declared",
		  now, before);
	media_announce_profile(m, &sps, MEDIA_PROFILE_SPS);
}

/*
 * The camera's speed policy (proto/speed.h) also runs here: each synchronous encode's time
 * goes in, and a step it takes goes to the encoder's set_preset before the next frame. A
 * backend without presets (hardware) never gets here. Media thread.
 */
static void media_follow_speed(struct cg_media *m, uint64_t encode_usec)
{
	struct cg_speed_step step;
	const char *to;
	int r;

	if (!m->speed_auto || !m->encoder_ops->set_preset)
		return;
	if (cg_speed_add(&m->speed, (uint32_t)CG_MIN(encode_usec, UINT32_MAX), &step) != 1)
		return;
	to = cg_speed_preset_name(step.to);
	r = m->encoder_ops->set_preset(m->encoder, to);
	if (r < 0) {
		/* The policy stays where the encoder is; it asks again after its next window. */
		m->speed.preset = step.from;
		cg_warn("encoder %s: cannot change preset %s -> %s: %s", m->encoder_ops->name,
			cg_speed_preset_name(step.from), to, strerror(-r));
		return;
	}
	cg_info("encoder %s: preset %s -> %s (encode p%u %.1f ms of a %.1f ms frame)",
		m->encoder_ops->name, cg_speed_preset_name(step.from), to, CG_SPEED_PERCENTILE,
		step.encode_usec / 1000.0, step.interval_usec / 1000.0);
	m->speed_preset = step.to;
	__atomic_store_n(&m->preset_name, to, __ATOMIC_RELEASE);
}

/* An encoder opened: the preset it runs and, when auto, the policy for its frame rate,
 * from the preset it was opened with (a reopen after a failure keeps the last choice). */
static void media_start_speed(struct cg_media *m)
{
	struct cg_speed_cfg scfg;

	if (!m->encoder_ops->set_preset) {
		__atomic_store_n(&m->preset_name, NULL, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&m->preset_name, cg_speed_preset_name(m->speed_preset), __ATOMIC_RELEASE);
	if (!m->speed_auto)
		return;
	cg_speed_cfg_default(&scfg, m->format.fps ? m->format.fps : m->cfg->fps);
	scfg.start = CG_MIN(CG_MAX(m->speed_preset, scfg.slowest), scfg.fastest);
	if (cg_speed_init(&m->speed, &scfg) < 0)
		m->speed_auto = false; /* cannot happen with the defaults; stay fixed if it does */
}

/* Counts, packetizes once and publishes an AU (borrowed). Media thread. */
static void media_publish(struct cg_media *m, struct cg_au *au)
{
	struct cg_media_unit *unit;
	uint64_t published, packetize_start;
	int r;

	cg_stats_add(&m->stats->frames_encoded, 1);
	cg_stats_add(&m->stats->copied_bytes, au->copied_bytes);
	if (au->keyframe)
		cg_stats_add(&m->stats->keyframes, 1);
	cg_stats_sample(m->stats, &m->stats->encode, au->encode_usec);
	if (m->opts.codec) { /* a test codec (FWHT): counted, but it is not H.264 to send */
		if (au->keyframe)
			m->last_idr_published_usec = cg_mono_usec();
		if (m->opts.on_au)
			m->opts.on_au(au, m->opts.userdata);
		return;
	}
	if (au->keyframe)
		media_note_sps(m, au);
	packetize_start = cg_mono_usec();
	r = media_packetize(m, au, &unit);
	cg_stats_observe(m->stats, CG_STAGE_PACKETIZE, cg_mono_usec() - packetize_start);
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

/* A frame the encoder refused: dropped, and said once per run of failures (a broken
 * encoder must not write a line per frame). */
static void media_encode_error(struct cg_media *m, int r)
{
	cg_stats_add(&m->stats->frames_dropped, 1);
	if (m->encode_errors++ == 0)
		cg_warn("encoder %s failed: %s, dropping frames until it works again",
			m->encoder_ops->name, strerror(-r));
}

/* Returns 0, or the encoder's error when the pipeline must be reopened. */
static int media_handle_frame(struct cg_media *m, struct cg_frame *frame)
{
	struct cg_frame *in = frame;
	struct cg_au *au = NULL;
	int r;

	cg_stats_add(&m->stats->frames_captured, 1);
	if (m->convert) {
		r = cg_convert_frame(m->convert, frame, &in);
		if (r < 0) {
			cg_stats_add(&m->stats->frames_dropped, 1);
			cg_debug("cannot convert a frame: %s, dropping it", strerror(-r));
			return 0;
		}
		cg_stats_add(&m->stats->copied_bytes, in->copied_bytes);
	}
	media_keep_latest(m, in);
	media_arbitrate_keyframe(m, cg_mono_usec());
	media_follow_viewers(m, cg_mono_usec());
	media_apply_bitrate(m);
	cg_stats_observe(m->stats, CG_STAGE_CAPTURE_TO_ENCODER,
			 cg_mono_usec() - in->capture_mono_usec);
	r = m->encoder_ops->encode(m->encoder, in, &au);
	if (++m->encodes == m->fail_encode_at) {
		au = cg_au_unref(au);
		r = -EIO; /* the test hook: as a hardware encoder that stopped answering */
	}
	if (in != frame)
		cg_frame_unref(in);
	if (r == -EAGAIN)
		return 0;
	if (r == -ENODEV || r == -EIO)
		return r;
	if (r < 0) {
		media_encode_error(m, r);
		return 0;
	}
	if (m->encode_errors) {
		cg_info("encoder %s works again after %" PRIu64 " failed frames",
			m->encoder_ops->name, m->encode_errors);
		m->encode_errors = 0;
	}
	if (m->test_encode_delay_usec) { /* the test hook: as a slow machine would take */
		usleep((useconds_t)m->test_encode_delay_usec);
		au->encode_usec += m->test_encode_delay_usec;
	}
	media_follow_speed(m, au->encode_usec);
	media_publish(m, au);
	cg_au_unref(au);
	return 0;
}

/* Asynchronous encoders: every AU that is ready. */
static int media_receive(struct cg_media *m)
{
	struct cg_au *au;
	int r;

	for (;;) {
		r = m->encoder_ops->receive(m->encoder, &au);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		media_publish(m, au);
		cg_au_unref(au);
	}
}

/* The formats to ask the camera for, by what the encoder choice allows. */
static const uint32_t *media_formats(const struct cg_media *m)
{
	static const uint32_t h264_only[] = { CG_FOURCC_H264, 0 };
	static const uint32_t raw_first[] = { CG_FOURCC_NV12, CG_FOURCC_YUYV, CG_FOURCC_I420,
					      CG_FOURCC_MJPG, CG_FOURCC_JPEG, 0 };

	if (m->opts.formats)
		return m->opts.formats;
	if (strcmp(m->cfg->encoder, "passthrough") == 0)
		return h264_only;
	if (strcmp(m->cfg->encoder, "auto") == 0)
		return NULL; /* the backend's default: raw, then MJPEG, then H.264 */
	return raw_first;
}

static int media_open_capture(struct cg_media *m)
{
	const struct cg_config *cfg = m->cfg;
	struct cg_capture_cfg ccfg = {
		.device = m->source,
		.width = cfg->width,
		.height = cfg->height,
		.fps = cfg->fps,
		.formats = media_formats(m),
	};
	int r;

	r = m->capture_ops->open(&ccfg, &m->capture);
	if (r < 0)
		return r;
	m->capture_ops->get_format(m->capture, &m->format);
	return 0;
}

static void media_encoder_cfg(const struct cg_media *m, struct cg_encoder_cfg *ecfg)
{
	*ecfg = (struct cg_encoder_cfg){
		.width = m->format.width,
		.height = m->format.height,
		.fps = m->format.fps ? m->format.fps : m->cfg->fps,
		.bitrate_kbps = __atomic_load_n(&m->bitrate_target_kbps, __ATOMIC_RELAXED),
		.keyframe_interval = m->cfg->keyframe_interval_frames,
		.profile = CG_ENCODER_PROFILE_CONSTRAINED_BASELINE,
		.input_fourcc = m->format.fourcc,
		.input_stride = m->format.stride,
		.device = m->opts.encoder_device,
		.codec = m->opts.codec,
		.preset = cg_speed_preset_name(m->speed_preset),
	};
}

/*
 * Opens one encoder for the camera's format; if it cannot take that format, for I420
 * made by a CPU conversion (counted in copied_bytes). H.264 cameras go to passthrough only.
 */
static int media_try_encoder(struct cg_media *m, const struct cg_encoder_ops *ops)
{
	const struct cg_mjpeg_ops *mjpeg = cg_registry_mjpeg();
	uint32_t in = m->format.fourcc;
	struct cg_encoder_cfg ecfg;
	int r;

	if ((ops == cg_registry_passthrough()) != (in == CG_FOURCC_H264))
		return -ENOTSUP;
	media_encoder_cfg(m, &ecfg);
	r = ops->open(&ecfg, &m->encoder);
	if (r != -ENOTSUP && r != -EINVAL && r != -ENODEV)
		return r;
	if (in == CG_FOURCC_I420 || !cg_convert_supports(in, mjpeg != NULL))
		return r;
	ecfg.input_fourcc = CG_FOURCC_I420;
	ecfg.input_stride = 0;
	r = ops->open(&ecfg, &m->encoder);
	if (r < 0)
		return r;
	r = cg_convert_new(in, m->format.width, m->format.height, mjpeg, &m->convert);
	if (r < 0) {
		ops->close(m->encoder);
		m->encoder = NULL;
	}
	return r;
}

/* Passthrough: key frame requests go to the camera. */
static int media_camera_keyframe(void *userdata)
{
	struct cg_media *m = userdata;

	return m->capture_ops->request_keyframe(m->capture);
}

/*
 * cfg->encoder, or for "auto" the best that opens, saying why the better ones did not. A
 * hardware encoder named for this camera that cannot be opened (the board's only context
 * taken by another camera, a missing node) falls back to x264, saying so: the camera
 * streams, and no other camera is touched. The named one is tried again at every reopen.
 */
static int media_open_encoder(struct cg_media *m)
{
	const struct cg_encoder_ops *const *all = cg_registry_encoders();
	const struct cg_encoder_ops *named = cg_registry_encoder(m->cfg->encoder);
	const struct cg_encoder_ops *x264 = cg_registry_encoder("x264");
	const struct cg_encoder_ops *one[3] = { named, NULL, NULL };
	bool is_auto = strcmp(m->cfg->encoder, "auto") == 0;
	char why[256] = "";
	size_t at = 0;
	int r = -ENODEV;

	if (named && named != x264 && named != cg_registry_passthrough() && !m->opts.exact_encoder)
		one[1] = x264;
	for (const struct cg_encoder_ops *const *ops = is_auto ? all : one; *ops; ops++) {
		r = media_try_encoder(m, *ops);
		if (r == 0) {
			m->encoder_ops = *ops;
			break;
		}
		if (at < sizeof(why) - 1)
			at += (size_t)snprintf(why + at, sizeof(why) - at, "%s%s: %s",
					       at ? "; " : "", (*ops)->name, strerror(-r));
	}
	if (r < 0) {
		cg_debug("no encoder opens: %s", why);
		return r;
	}
	if (is_auto && at)
		cg_info("encoder auto: %s (skipped %s)", m->encoder_ops->name, why);
	else if (!is_auto && m->encoder_ops != named)
		cg_warn("encoder %s cannot be opened (%s): this camera falls back to %s",
			m->cfg->encoder, why, m->encoder_ops->name);
	if (m->encoder_ops == cg_registry_passthrough() && m->capture_ops->request_keyframe)
		cg_passthrough_set_keyframe_fn(m->encoder, media_camera_keyframe, m);
	__atomic_store_n(&m->encoder_name, m->encoder_ops->name, __ATOMIC_RELEASE);
	return 0;
}

/* Closes everything the source uses; frames still out stay valid until released. */
static void media_close_pipeline(struct cg_media *m)
{
	struct cg_frame *old;

	/* The snapshot frame pins a capture buffer and so the device node: let it go. */
	pthread_mutex_lock(&m->latest_lock);
	old = m->latest;
	m->latest = NULL;
	pthread_mutex_unlock(&m->latest_lock);
	cg_frame_unref(old);
	if (m->encoder)
		m->encoder_ops->close(m->encoder);
	m->encoder = NULL;
	m->convert = cg_convert_free(m->convert);
	if (m->capture) {
		m->capture_ops->stop(m->capture);
		m->capture_ops->close(m->capture);
	}
	m->capture = NULL;
}

/*
 * An encoder opened: until the first SPS of its stream, the SDP says what it declares
 * (answers may come before the first frame). Once an SPS has spoken, a reopen keeps that:
 * the new stream's first key frame corrects it if it differs (media_note_sps).
 */
static void media_note_profile(struct cg_media *m)
{
	struct cg_h264_profile p = { 0 }, cur = cg_media_profile(m);

	m->encoder_ops->get_profile(m->encoder, &p.profile_idc, &p.constraints, &p.level_idc);
	if (m->profile_source != MEDIA_PROFILE_SPS) {
		media_announce_profile(m, &p, MEDIA_PROFILE_DECLARED);
		return;
	}
	if (memcmp(&p, &cur, sizeof(p)) != 0)
		cg_debug("the reopened encoder declares another profile/level; the SDP keeps the "
			 "one the stream's SPS said until the new stream's SPS says otherwise");
}

static int media_open_pipeline(struct cg_media *m)
{
	char fcc[5] = { 0 };
	int r;

	r = media_open_capture(m);
	if (r < 0)
		return r;
	r = media_open_encoder(m);
	if (r < 0)
		goto fail;
	media_note_profile(m);
	media_start_speed(m);
	if (m->started) {
		r = m->capture_ops->start(m->capture);
		if (r < 0)
			goto fail;
	}
	memcpy(fcc, &m->format.fourcc, 4);
	cg_info("%s (%s): %s %ux%u@%u -> %s%s", m->source, m->format.card, fcc, m->format.width,
		m->format.height, m->format.fps, m->encoder_ops->name,
		m->convert ? " (converted to I420 on the CPU)" : "");
	return 0;
fail:
	media_close_pipeline(m);
	return r;
}

static void media_set_state(struct cg_media *m, enum media_state s, int error)
{
	enum media_state old = m->shown;

	__atomic_store_n(&m->state, s, __ATOMIC_RELAXED);
	if (s == MEDIA_OPENING)
		return; /* transient: logged by where it ends */
	if (s == MEDIA_FAILED && old == MEDIA_FAILED && error == m->last_error) {
		cg_debug("source %s still unavailable: %s, retrying in %u s", m->source,
			 strerror(-error), m->backoff_ms / 1000);
		return;
	}
	m->last_error = error;
	m->shown = s;
	if (s == MEDIA_FAILED)
		cg_warn("source %s: %s -> failed: %s, retrying in %u s", m->source,
			media_state_names[old], strerror(-error), m->backoff_ms / 1000);
	else
		cg_notice("source %s: %s -> %s", m->source, media_state_names[old],
			  media_state_names[s]);
}

static void media_arm_retry(struct cg_media *m, uint32_t ms)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + 1; /* 0 would disarm */
	timerfd_settime(m->retry_fd, 0, &its, NULL);
}

/*
 * The source failed (or did not open): close it and retry after the back-off, which
 * doubles from 1 s to 30 s while it keeps failing. A source change is no failure of the
 * camera: it reopens at once to renegotiate.
 */
static void media_fail(struct cg_media *m, int error)
{
	uint32_t delay;

	media_close_pipeline(m);
	if (error == -ESTALE) {
		delay = 1;
		m->backoff_ms = 0;
	} else {
		m->backoff_ms = m->backoff_ms ? CG_MIN(m->backoff_ms * 2, MEDIA_BACKOFF_MAX_MS)
					      : MEDIA_BACKOFF_MIN_MS;
		delay = m->backoff_ms;
	}
	media_set_state(m, MEDIA_FAILED, error);
	media_arm_retry(m, delay);
}

static void media_try_open(struct cg_media *m)
{
	int r;

	media_set_state(m, MEDIA_OPENING, 0);
	r = media_open_pipeline(m);
	if (r < 0) {
		media_fail(m, r);
		return;
	}
	m->backoff_ms = 0;
	media_set_state(m, MEDIA_STREAMING, 0);
}

enum { MEDIA_FD_CAPTURE, MEDIA_FD_ENCODER, MEDIA_FD_RETRY, MEDIA_FD_STOP, MEDIA_N_FDS };

static void media_poll_set(const struct cg_media *m, struct pollfd *fds)
{
	bool on = m->state == MEDIA_STREAMING;

	fds[MEDIA_FD_CAPTURE].fd = on ? m->capture_ops->fd(m->capture) : -1;
	fds[MEDIA_FD_ENCODER].fd = on && m->encoder_ops->fd ? m->encoder_ops->fd(m->encoder) : -1;
	fds[MEDIA_FD_RETRY].fd = m->retry_fd;
	fds[MEDIA_FD_STOP].fd = m->stop_fd;
	for (unsigned i = 0; i < MEDIA_N_FDS; i++) {
		fds[i].events = POLLIN;
		fds[i].revents = 0;
	}
}

/* One frame from the camera into the encoder. Returns 0 or the error to fail with. */
static int media_on_capture(struct cg_media *m)
{
	struct cg_frame *frame;
	int r;

	r = m->capture_ops->dequeue(m->capture, &frame);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	r = media_handle_frame(m, frame);
	cg_frame_unref(frame);
	return r;
}

static void media_on_retry(struct cg_media *m)
{
	uint64_t n;

	if (read(m->retry_fd, &n, sizeof(n)) == sizeof(n) && m->state == MEDIA_FAILED)
		media_try_open(m);
}

static void *media_thread(void *userdata)
{
	struct cg_media *m = userdata;
	struct pollfd fds[MEDIA_N_FDS];

	cg_log_set_context(m->log_context);
	for (;;) {
		int r = 0;

		__atomic_store_n(&m->heartbeat_usec, cg_mono_usec(), __ATOMIC_RELAXED);
		media_poll_set(m, fds);
		if (poll(fds, MEDIA_N_FDS, 1000) < 0 && errno != EINTR)
			break;
		if (fds[MEDIA_FD_STOP].revents)
			break;
		if (fds[MEDIA_FD_RETRY].revents)
			media_on_retry(m);
		if (fds[MEDIA_FD_ENCODER].revents & (POLLIN | POLLERR))
			r = media_receive(m);
		if (r == 0 && fds[MEDIA_FD_CAPTURE].revents)
			r = media_on_capture(m);
		if (r < 0)
			media_fail(m, r);
	}
	return NULL;
}

/* Only what the configuration names wrongly is fatal; a missing camera is a state. */
static int media_resolve(struct cg_media *m)
{
	const struct cg_config *cfg = m->cfg;
	char reason[128] = "";
	int r;

	if (strcmp(cfg->encoder, "auto") != 0 && !cg_registry_encoder(cfg->encoder)) {
		cg_err("no encoder '%s' in this build", cfg->encoder);
		return -ENODEV;
	}
	r = cg_registry_resolve_source(cfg->source, m->source, sizeof(m->source), reason,
				       sizeof(reason));
	if (r < 0)
		return r;
	if (strcmp(cfg->source, "auto") == 0)
		cg_info("source auto: %s%s%s", m->source, reason[0] ? ", " : "", reason);
	m->capture_ops = cg_registry_capture(m->source);
	if (!m->capture_ops) {
		cg_err("no capture backend for source '%s' in this build", m->source);
		return -ENODEV;
	}
	return 0;
}

/* Before any encoder opened: what every backend is asked for (Constrained Baseline). */
static void media_default_profile(struct cg_media *m)
{
	static const struct cg_h264_profile cb = { .profile_idc = 66,
						   .constraints = 0xc0,
						   .level_idc = 31 };

	media_announce_profile(m, &cb, MEDIA_PROFILE_DEFAULT);
}

int cg_media_new_test(const struct cg_config *cfg, const struct cg_media_test_opts *opts,
		      struct cg_hub *hub, struct cg_stats *stats, struct cg_media **ret)
{
	struct cg_media *m = cg_new0(struct cg_media, 1);
	/* Test hook (tests/integration/test-faults.c): the Nth encode fails as a broken
	 * encoder would, to show that the reopen with back-off keeps the viewers. */
	const char *fail_at = getenv("CAMGATE_TEST_ENCODER_FAILURE");
	const char *fail_camera = getenv("CAMGATE_TEST_ENCODER_FAILURE_CAMERA");
	/* Test hook (tests/integration/test-preset.c): every encode takes this many ms more,
	 * as on a machine too slow for the preset, to make the speed policy step. */
	const char *delay_ms = getenv("CAMGATE_TEST_ENCODE_DELAY_MS");
	int r;

	/* CAMGATE_TEST_ENCODER_FAILURE_CAMERA=NAME limits the hook to that camera's media. */
	if (fail_at && (!fail_camera || (hub && strcmp(cg_hub_name(hub), fail_camera) == 0)))
		m->fail_encode_at = strtoull(fail_at, NULL, 10);
	if (delay_ms)
		m->test_encode_delay_usec = strtoull(delay_ms, NULL, 10) * CG_USEC_PER_MSEC;
	snprintf(m->log_context, sizeof(m->log_context), "%s", cg_log_get_context());
	m->cfg = cfg;
	/* --x264-preset: auto starts at veryfast and lets the policy move; a name fixes it. */
	r = cg_speed_preset_from_name(cfg->x264_preset);
	m->speed_auto = r < 0;
	m->speed_preset = r < 0 ? CG_SPEED_VERYFAST : (unsigned)r;
	m->units = cg_unit_pool_new(CG_MEDIA_VIDEO, MEDIA_FREE_UNITS);
	m->opts = opts ? *opts : (struct cg_media_test_opts){ 0 };
	m->hub = hub;
	m->stats = stats;
	m->ssrc = cg_rand_u32();
	m->rtp_offset = cg_rand_u32();
	m->next_seq = (uint16_t)cg_rand_u32();
	m->bitrate_applied_kbps = m->bitrate_target_kbps = cfg->bitrate_kbps;
	m->bitrate_policy_kbps = cfg->bitrate_kbps; /* the hub's policy starts there too */
	m->encoder_name = cfg->encoder;
	pthread_mutex_init(&m->latest_lock, NULL);
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (m->stop_fd < 0 || m->retry_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = media_resolve(m);
	if (r < 0)
		goto fail;
	media_default_profile(m);
	media_try_open(m);
	/* The test pattern cannot come back later: its failure is a configuration error. */
	if (m->state != MEDIA_STREAMING && strncmp(m->source, "test", 4) == 0) {
		r = m->last_error;
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	cg_media_free(m);
	return r;
}

int cg_media_new(const struct cg_config *cfg, struct cg_hub *hub, struct cg_stats *stats,
		 struct cg_media **ret)
{
	return cg_media_new_test(cfg, NULL, hub, stats, ret);
}

int cg_media_start(struct cg_media *m)
{
	int r;

	if (m->state == MEDIA_STREAMING) {
		r = m->capture_ops->start(m->capture);
		if (r < 0)
			media_fail(m, r);
	}
	r = pthread_create(&m->thread, NULL, media_thread, m);
	if (r > 0)
		return -r;
	pthread_setname_np(m->thread, "cg-media");
	m->started = true;
	return 0;
}

void cg_media_stop(struct cg_media *m)
{
	uint64_t one = 1;

	if (!m || !m->started)
		return;
	ssize_t CG_UNUSED n = write(m->stop_fd, &one, sizeof(one));
	pthread_join(m->thread, NULL);
	m->started = false;
	media_close_pipeline(m);
}

struct cg_media *cg_media_free(struct cg_media *m)
{
	if (!m)
		return NULL;
	cg_media_stop(m);
	media_close_pipeline(m);
	pthread_mutex_destroy(&m->latest_lock);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->retry_fd >= 0)
		close(m->retry_fd);
	/* Units still in workers' caches keep the pool until they go. */
	cg_unit_pool_release(m->units);
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
	return media_unpack_profile(__atomic_load_n(&m->profile_packed, __ATOMIC_ACQUIRE));
}

uint32_t cg_media_ssrc(const struct cg_media *m)
{
	return m->ssrc;
}

const char *cg_media_source_name(const struct cg_media *m)
{
	return m->source;
}

const char *cg_media_encoder_name(const struct cg_media *m)
{
	return __atomic_load_n(&m->encoder_name, __ATOMIC_ACQUIRE);
}

const char *cg_media_x264_preset(const struct cg_media *m)
{
	return __atomic_load_n(&m->preset_name, __ATOMIC_ACQUIRE);
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

const char *cg_media_state(const struct cg_media *m)
{
	return media_state_names[__atomic_load_n(&m->state, __ATOMIC_RELAXED)];
}
