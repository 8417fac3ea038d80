/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Runs camgate's own media thread (daemon/media/media.c) and hardware backends (hw/v4l2) against
 * the kernel's virtual drivers, inside the qemu guest of tests/vdev/run.sh: vivid capture,
 * buffers exported with VIDIOC_EXPBUF, imported by vicodec's stateful encoder or vim2m.
 * A timer ticks the scenario (no sleeps), which moves on by what happened, not by the
 * clock, so a slow or busy machine only makes it take longer: frames flow, a forced key
 * frame comes, /snapshot.jpg's encoder reads the camera's own buffer, then vivid is
 * unbound mid-stream, removed (rmmod, retried until camgate has let go of it), inserted
 * again and streams again. Prints what it sees and exits 0 when every check passes.
 *
 * vdev-media --source=/dev/videoN --encoder-device=/dev/videoM --codec=FWHT --format=YUYV
 *            [--encoder=v4l2-m2m|x264] [--size=640x480] [--fps=25] [--force-keyframe]
 *            [--snapshot] [--replug --insmod=KO [--modparams="..."]]
 *            [--copies=zero|nonzero] [--timeout=S] [--seconds=S [--bench] [--report]]
 *
 * Without --seconds it runs until the scenario is done (or --timeout, default 120 s, for a
 * hang). --seconds=S streams S seconds whatever happens, for rates: --bench prints them,
 * tests/hw/run.sh uses --report on real boards (one table row per run).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "app/config.h"
#include "fanout/hub.h"
#include "hw/encoder.h"
#include "media/media.h"
#include "media/snapshot.h"
#include "app/stats.h"
#include "util/log.h"
#include "util/time.h"

#ifdef VDEV_SNAPSHOT
#include <turbojpeg.h>
#endif

#define TICK_MS		100
#define VDEV_MIN_FRAMES 10  /* encoded before the scenario moves on; and after vivid is back */
#define VDEV_KEY_GIVEUP 200 /* AUs without a natural or forced key frame: stop waiting */
#define VDEV_JPEG_MAD	6.0 /* mean |JPEG - frame| per plane at quality 90 on vivid's bars */

enum vdev_phase {
	VDEV_STREAM,  /* until frames flow (and the key frame, the snapshot) */
	VDEV_RELEASE, /* vivid unbound: rmmod until camgate has closed it */
	VDEV_RESUME,  /* vivid inserted again: until frames flow again */
	VDEV_DONE,
};

struct vdev {
	const char *source, *encoder, *encoder_device, *insmod, *modparams, *copies;
	uint32_t codec, format, width, height, fps;
	double seconds; /* > 0: stream this long (rates); 0: until the scenario is done */
	double timeout;
	bool force_keyframe, replug, snapshot, bench, report;
	struct cg_media *media;
	struct cg_stats stats;
	/* Written by the AU hook on the media thread. */
	uint64_t aus, keys;
	uint64_t key_requested_at; /* AU count when the key frame was asked for, +1 */
	int64_t forced_distance;   /* AUs from the request to the next key frame, -1: none */
	/* Main thread. */
	enum vdev_phase phase;
	bool snapshot_done, released, rmmod_busy_logged;
	double unbind_t, release_t, insmod_t, resume_t; /* resume_t: first frame after insmod */
	uint64_t frames_at_unbind, frames_at_insmod, frames_at_outage_end;
	int failures;
};

static void vdev_on_au(const struct cg_au *au, void *userdata)
{
	struct vdev *v = userdata;
	uint64_t n = __atomic_add_fetch(&v->aus, 1, __ATOMIC_RELAXED);
	uint64_t req = __atomic_load_n(&v->key_requested_at, __ATOMIC_ACQUIRE);

	if (!au->keyframe)
		return;
	__atomic_add_fetch(&v->keys, 1, __ATOMIC_RELAXED);
	if (!v->force_keyframe)
		return;
	if (req == 0 && n > 5) {
		/* Right after a natural key frame, so the next natural one is a GOP away. */
		__atomic_store_n(&v->key_requested_at, n + 1, __ATOMIC_RELEASE);
		cg_media_request_keyframe(v->media);
	} else if (req && v->forced_distance < 0) {
		__atomic_store_n(&v->forced_distance, (int64_t)(n - (req - 1)), __ATOMIC_RELEASE);
	}
}

static void vdev_check(struct vdev *v, bool ok, const char *what)
{
	printf("vdev: CHECK %s: %s\n", what, ok ? "PASS" : "FAIL");
	v->failures += !ok;
}

static uint32_t vdev_fourcc(const char *s)
{
	char b[4] = { ' ', ' ', ' ', ' ' };

	memcpy(b, s, strnlen(s, 4));
	return CG_FOURCC(b[0], b[1], b[2], b[3]);
}

static int vdev_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* vivid's platform device goes away as if unplugged: open fds get POLLERR and ENODEV. */
static void vdev_unbind(struct vdev *v, double t)
{
	int r = vdev_write("/sys/bus/platform/drivers/vivid/unbind", "vivid.0");

	v->frames_at_unbind = cg_stats_get(&v->stats.frames_captured);
	v->unbind_t = t;
	printf("vdev: %.1f s: unbind vivid.0: %s (%lu frames so far)\n", t,
	       r < 0 ? strerror(-r) : "ok", (unsigned long)v->frames_at_unbind);
	vdev_check(v, r == 0, "unbind vivid");
	v->phase = r == 0 ? VDEV_RELEASE : VDEV_DONE;
}

static void vdev_insmod(struct vdev *v, double t)
{
	int fd = open(v->insmod, O_RDONLY | O_CLOEXEC);
	long r = fd < 0 ? -1 : syscall(SYS_finit_module, fd, v->modparams ? v->modparams : "", 0);
	int err = r < 0 ? errno : 0;

	if (fd >= 0)
		close(fd);
	v->frames_at_insmod = cg_stats_get(&v->stats.frames_captured);
	v->insmod_t = t;
	printf("vdev: %.1f s: insmod %s: %s\n", t, v->insmod, err ? strerror(err) : "ok");
	vdev_check(v, err == 0, "vivid back");
	v->phase = err ? VDEV_DONE : VDEV_RESUME;
}

/*
 * The module can only go once camgate has closed every fd of the vanished device; until
 * then delete_module() answers EWOULDBLOCK. Tried every tick: how long it takes is a
 * figure (--bench), that it happens is the check.
 */
static void vdev_try_rmmod(struct vdev *v, double t)
{
	long r = syscall(SYS_delete_module, "vivid", O_NONBLOCK);
	int err = r < 0 ? errno : 0;

	if (err == EWOULDBLOCK || err == EBUSY) {
		if (!v->rmmod_busy_logged)
			printf("vdev: %.1f s: rmmod vivid: %s, retrying\n", t, strerror(err));
		v->rmmod_busy_logged = true;
		return;
	}
	printf("vdev: %.1f s: rmmod vivid: %s\n", t, err ? strerror(err) : "ok");
	if (err) {
		v->phase = VDEV_DONE;
		return;
	}
	v->released = true;
	v->release_t = t;
	v->frames_at_outage_end = cg_stats_get(&v->stats.frames_captured);
	if (v->insmod)
		vdev_insmod(v, t);
	else
		v->phase = VDEV_DONE;
}

#ifdef VDEV_SNAPSHOT
/* Mean |a - b| over rows x cols samples, b every bstep bytes (NV12's interleaved chroma). */
static double vdev_mad(const uint8_t *a, int astride, const uint8_t *b, uint32_t bstride,
		       unsigned bstep, uint32_t cols, uint32_t rows)
{
	uint64_t sum = 0;

	for (uint32_t y = 0; y < rows; y++)
		for (uint32_t x = 0; x < cols; x++)
			sum += (uint64_t)abs((int)a[(size_t)y * (size_t)astride + x] -
					     (int)b[(size_t)y * bstride + (size_t)x * bstep]);
	return (double)sum / ((double)cols * rows);
}

/* The JPEG decoded back must show the frame: its size, and each plane close to the
 * camera's (a plane read from the wrong place would differ wholesale). */
static void vdev_check_jpeg(struct vdev *v, const struct cg_frame *f, const uint8_t *jpeg,
			    size_t len)
{
	uint32_t w = f->width & ~1u, h = f->height & ~1u;
	tjhandle tj = tjInitDecompress();
	uint8_t *yuv = malloc((size_t)w * h * 3 / 2);
	unsigned char *planes[3] = { yuv, yuv + (size_t)w * h, yuv + (size_t)w * h * 5 / 4 };
	int strides[3] = { (int)w, (int)w / 2, (int)w / 2 }, jw = 0, jh = 0, sub = -1, cs;
	bool nv12 = f->fourcc == CG_FOURCC_NV12, decoded;
	double mad[3] = { 0 };
	char what[128];

	/* Decoded only when it has the size and subsampling the buffers are made for. */
	decoded = tj && yuv && tjDecompressHeader3(tj, jpeg, len, &jw, &jh, &sub, &cs) == 0 &&
		  jw == (int)w && jh == (int)h && sub == TJSAMP_420 &&
		  tjDecompressToYUVPlanes(tj, jpeg, len, planes, (int)w, strides, (int)h, 0) == 0;
	printf("vdev: snapshot: %zu byte JPEG, %dx%d, subsampling %d\n", len, jw, jh, sub);
	snprintf(what, sizeof(what), "the snapshot is a valid %ux%u 4:2:0 JPEG", w, h);
	vdev_check(v, decoded, what);
	if (decoded) {
		mad[0] = vdev_mad(planes[0], strides[0], f->planes[0].data, f->planes[0].stride, 1,
				  w, h);
		mad[1] = vdev_mad(planes[1], strides[1], f->planes[1].data, f->planes[1].stride,
				  nv12 ? 2 : 1, w / 2, h / 2);
		mad[2] = vdev_mad(planes[2], strides[2],
				  nv12 ? f->planes[1].data + 1 : f->planes[2].data,
				  f->planes[nv12 ? 1 : 2].stride, nv12 ? 2 : 1, w / 2, h / 2);
		printf("vdev: snapshot: mean difference to the frame Y %.2f U %.2f V %.2f\n",
		       mad[0], mad[1], mad[2]);
	}
	snprintf(what, sizeof(what), "the snapshot shows the frame (each plane within %.0f)",
		 VDEV_JPEG_MAD);
	vdev_check(v,
		   decoded && mad[0] < VDEV_JPEG_MAD && mad[1] < VDEV_JPEG_MAD &&
			   mad[2] < VDEV_JPEG_MAD,
		   what);
	free(yuv);
	if (tj)
		tjDestroy(tj);
}

/*
 * /snapshot.jpg on the newest captured frame, as signaling.c does it: here that is vivid's
 * own NV12/YU12 buffer (mmap'ed, planes at offsets of one buffer), which reaches the
 * snapshot unconverted when the encoder takes the camera's format.
 */
static void vdev_snapshot(struct vdev *v)
{
	struct cg_frame *f = cg_media_latest_frame(v->media);
	struct cg_snapshot *snap;
	uint8_t *jpeg = NULL;
	size_t len = 0;
	int r;

	if (!f)
		return;
	v->snapshot_done = true;
	printf("vdev: snapshot of frame %u: %.4s %ux%u, %u planes, buffer %u bytes (fd %d)\n",
	       f->sequence, (const char *)&f->fourcc, f->width, f->height, f->n_planes, f->buf_size,
	       f->planes[0].dma_fd);
	for (unsigned p = 0; p < f->n_planes; p++)
		printf("vdev: snapshot:   plane %u: offset %u, stride %u\n", p, f->planes[p].offset,
		       f->planes[p].stride);
	vdev_check(v,
		   f->fourcc == v->format && f->n_planes >= 2 &&
			   f->planes[1].offset == f->planes[0].stride * f->height &&
			   f->planes[1].data == f->planes[0].data + f->planes[1].offset,
		   "the snapshot reads the camera's own buffer (planes at offsets)");
	snap = cg_snapshot_new();
	r = snap ? cg_snapshot_encode(snap, f, 90, &jpeg, &len) : -ENOMEM;
	printf("vdev: snapshot: cg_snapshot_encode: %s\n", r < 0 ? strerror(-r) : "ok");
	vdev_check(v, r == 0, "cg_snapshot_encode on a V4L2 frame");
	if (r == 0)
		vdev_check_jpeg(v, f, jpeg, len);
	g_free(jpeg);
	cg_snapshot_free(snap);
	cg_frame_unref(f);
}
#else
static void vdev_snapshot(struct vdev *v)
{
	printf("vdev: snapshot: built without libturbojpeg, not checked\n");
	v->snapshot_done = true;
}
#endif

/* Frames flow, the forced key frame has come (or will not), the snapshot is taken. */
static bool vdev_streamed(struct vdev *v)
{
	uint64_t aus = __atomic_load_n(&v->aus, __ATOMIC_RELAXED);
	bool key = !v->force_keyframe ||
		   __atomic_load_n(&v->forced_distance, __ATOMIC_ACQUIRE) >= 0 ||
		   aus > VDEV_KEY_GIVEUP;

	if (v->snapshot && !v->snapshot_done)
		vdev_snapshot(v);
	return cg_stats_get(&v->stats.frames_encoded) >= VDEV_MIN_FRAMES && key &&
	       (!v->snapshot || v->snapshot_done);
}

/* The scenario, one step per tick. */
static void vdev_tick(struct vdev *v, double t)
{
	uint64_t since_insmod;

	switch (v->phase) {
	case VDEV_STREAM:
		if (!vdev_streamed(v))
			break;
		if (v->replug)
			vdev_unbind(v, t);
		else
			v->phase = VDEV_DONE;
		break;
	case VDEV_RELEASE:
		vdev_try_rmmod(v, t);
		break;
	case VDEV_RESUME:
		since_insmod = cg_stats_get(&v->stats.frames_captured) - v->frames_at_insmod;
		if (since_insmod > 0 && v->resume_t == 0)
			v->resume_t = t;
		if (since_insmod >= VDEV_MIN_FRAMES)
			v->phase = VDEV_DONE;
		break;
	case VDEV_DONE:
		break;
	}
}

static const char *const vdev_phase_names[] = { "streaming", "waiting for rmmod",
						"waiting for frames after insmod", "done" };

static int vdev_loop(struct vdev *v)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { .it_interval.tv_nsec = TICK_MS * 1000000L,
				  .it_value.tv_nsec = TICK_MS * 1000000L };
	uint64_t t0 = cg_mono_usec(), n;
	double t = 0;

	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return -errno;
	for (;;) {
		if (read(tfd, &n, sizeof(n)) != sizeof(n))
			break;
		t = (double)(cg_mono_usec() - t0) / 1e6;
		vdev_tick(v, t);
		if (v->seconds > 0 ? t >= v->seconds : v->phase == VDEV_DONE)
			break;
		if (!v->seconds && t >= v->timeout) {
			printf("vdev: %.1f s: gave up %s\n", t, vdev_phase_names[v->phase]);
			break;
		}
	}
	close(tfd);
	return 0;
}

/* tests/hw: one table row; latency is capture to encoded AU (the encoder's share). */
static void vdev_row(struct vdev *v, double elapsed, uint64_t enc)
{
	struct rusage ru;
	double cpu;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("ROW\t%s\t%s\t%ux%u@%u\t%.1f\t%.1f/%.1f ms\t%.0f%%\t%.0f B/frame\n", v->source,
	       v->encoder, v->width, v->height, v->fps, (double)enc / elapsed,
	       cg_stats_percentile_ms(&v->stats, &v->stats.encode, 50),
	       cg_stats_percentile_ms(&v->stats, &v->stats.encode, 95), 100.0 * cpu / elapsed,
	       enc ? (double)cg_stats_get(&v->stats.copied_bytes) / (double)enc : 0.0);
}

static void vdev_report(struct vdev *v, double elapsed)
{
	uint64_t cap = cg_stats_get(&v->stats.frames_captured);
	uint64_t enc = cg_stats_get(&v->stats.frames_encoded);
	uint64_t copied = cg_stats_get(&v->stats.copied_bytes);
	int64_t dist = __atomic_load_n(&v->forced_distance, __ATOMIC_ACQUIRE);

	printf("vdev: %lu frames captured, %lu encoded, %lu key frames, %lu bytes copied in "
	       "%.1f s\n",
	       (unsigned long)cap, (unsigned long)enc, (unsigned long)v->keys,
	       (unsigned long)copied, elapsed);
	vdev_check(v, enc >= VDEV_MIN_FRAMES, "frames flow through the encoder");
	if (v->copies && strcmp(v->copies, "zero") == 0)
		vdev_check(v, copied == 0, "no pixel copied (DMA-BUF capture -> mem2mem)");
	if (v->copies && strcmp(v->copies, "nonzero") == 0)
		vdev_check(v, copied > 0, "CPU copies counted");
	if (v->force_keyframe) {
		printf("vdev: forced key frame %ld AU(s) after the request\n", (long)dist);
		vdev_check(v, dist >= 1 && dist <= 3, "a forced key frame arrives");
	}
	if (v->snapshot)
		vdev_check(v, v->snapshot_done, "a frame to snapshot");
	if (v->replug) {
		vdev_check(v, v->released, "camgate let go of the vanished device (rmmod vivid)");
		if (v->released)
			printf("vdev: vivid released %.1f s after the unbind, %lu frames during "
			       "the "
			       "outage\n",
			       v->release_t - v->unbind_t,
			       (unsigned long)(v->frames_at_outage_end - v->frames_at_unbind));
		if (v->resume_t > 0)
			printf("vdev: first frame %.1f s after insmod, %lu since\n",
			       v->resume_t - v->insmod_t,
			       (unsigned long)(cap - v->frames_at_insmod));
		vdev_check(v, v->insmod_t > 0 && cap - v->frames_at_insmod >= VDEV_MIN_FRAMES,
			   "the stream resumes");
	}
	if (v->report)
		vdev_row(v, elapsed, enc);
	if (v->bench && v->seconds > 0)
		printf("BENCH %s %ux%u %s -> %s: %.1f fps, %.0f bytes copied per frame\n",
		       v->source, v->width, v->height, v->encoder,
		       v->encoder_device ? v->encoder_device : "-", (double)enc / elapsed,
		       enc ? (double)copied / (double)enc : 0.0);
	if (v->bench && v->replug && v->released && v->resume_t > 0)
		printf("BENCH replug %s: vivid released %.0f ms after the unbind, first frame "
		       "%.0f ms after insmod\n",
		       v->source, (v->release_t - v->unbind_t) * 1e3,
		       (v->resume_t - v->insmod_t) * 1e3);
}

static int vdev_run(struct vdev *v)
{
	uint32_t formats[2] = { v->format, 0 };
	struct cg_config cfg = {
		.source = (char *)v->source,
		.encoder = (char *)v->encoder,
		.width = v->width,
		.height = v->height,
		.fps = v->fps,
		.bitrate_kbps = 1000,
		.keyframe_interval_frames = 300,
		.min_keyframe_interval_ms = 0,
	};
	struct cg_media_test_opts opts = {
		.codec = v->codec,
		.encoder_device = v->encoder_device,
		.formats = v->format ? formats : NULL,
		.exact_encoder = true, /* a row says what that encoder did, never x264's */
		.on_au = vdev_on_au,
		.userdata = v,
	};
	struct cg_hub *hub;
	uint64_t t0;
	int r;

	cg_stats_init(&v->stats);
	/* No worker: the hub has no lane, and the media thread publishes to nobody. */
	hub = cg_hub_new(&(struct cg_hub_cfg){ .name = "vdev",
					       .stats = &v->stats,
					       .min_kbps = cfg.bitrate_kbps,
					       .max_kbps = cfg.bitrate_kbps,
					       .start_kbps = cfg.bitrate_kbps });
	r = cg_media_new_test(&cfg, &opts, hub, &v->stats, &v->media);
	if (r == 0)
		r = cg_media_start(v->media);
	if (r < 0) {
		printf("vdev: cannot start the media thread: %s\n", strerror(-r));
		cg_hub_free(hub);
		return 1;
	}
	t0 = cg_mono_usec();
	r = vdev_loop(v);
	cg_media_free(v->media);
	cg_hub_free(hub);
	vdev_report(v, (double)(cg_mono_usec() - t0) / 1e6);
	cg_stats_fini(&v->stats);
	return r < 0 || v->failures ? 1 : 0;
}

/* Over 60 lines only because each option is a case: a table in all but syntax. */
static int vdev_parse(struct vdev *v, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", 1, 0, 's' },
		{ "encoder", 1, 0, 'e' },
		{ "encoder-device", 1, 0, 'd' },
		{ "codec", 1, 0, 'c' },
		{ "format", 1, 0, 'f' },
		{ "size", 1, 0, 'z' },
		{ "fps", 1, 0, 'r' },
		{ "seconds", 1, 0, 't' },
		{ "timeout", 1, 0, 'T' },
		{ "force-keyframe", 0, 0, 'k' },
		{ "snapshot", 0, 0, 'S' },
		{ "replug", 0, 0, 'u' },
		{ "insmod", 1, 0, 'I' },
		{ "modparams", 1, 0, 'p' },
		{ "copies", 1, 0, 'C' },
		{ "bench", 0, 0, 'b' },
		{ "report", 0, 0, 'R' },
		{ "verbose", 0, 0, 'v' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			v->source = optarg;
			break;
		case 'e':
			v->encoder = optarg;
			break;
		case 'd':
			v->encoder_device = optarg;
			break;
		case 'c':
			v->codec = vdev_fourcc(optarg);
			break;
		case 'f':
			v->format = vdev_fourcc(optarg);
			break;
		case 'z':
			sscanf(optarg, "%ux%u", &v->width, &v->height);
			break;
		case 'r':
			v->fps = (uint32_t)atoi(optarg);
			break;
		case 't':
			v->seconds = atof(optarg);
			break;
		case 'T':
			v->timeout = atof(optarg);
			break;
		case 'k':
			v->force_keyframe = true;
			break;
		case 'S':
			v->snapshot = true;
			break;
		case 'u':
			v->replug = true;
			break;
		case 'I':
			v->insmod = optarg;
			break;
		case 'p':
			v->modparams = optarg;
			break;
		case 'C':
			v->copies = optarg;
			break;
		case 'b':
			v->bench = true;
			break;
		case 'R':
			v->report = true;
			break;
		case 'v':
			cg_log_set_level(CG_LOG_DEBUG);
			break;
		default:
			return -EINVAL;
		}
	}
	return v->source && (!v->replug || v->insmod) ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct vdev v = {
		.encoder = "v4l2-m2m",
		.width = 640,
		.height = 480,
		.fps = 25,
		.timeout = 120,
		.forced_distance = -1,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vdev_parse(&v, argc, argv) < 0) {
		fprintf(stderr, "usage: see tests/vdev/vdev-media.c\n");
		return 2;
	}
	return vdev_run(&v);
}
