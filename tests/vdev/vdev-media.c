/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Runs camgate's own media thread (daemon/media.c) and hardware backends (hw/v4l2) against
 * the kernel's virtual drivers, inside the qemu guest of tests/vdev/run.sh: vivid capture,
 * buffers exported with VIDIOC_EXPBUF, imported by vicodec's stateful encoder or vim2m.
 * Timers drive the scenario (no sleeps): a forced key frame, then vivid unbound
 * mid-stream, removed (rmmod), inserted again and streaming again. Prints what it sees
 * and exits 0 when every check passes.
 *
 * vdev-media --source=/dev/videoN --encoder-device=/dev/videoM --codec=FWHT --format=YUYV
 *            [--encoder=v4l2-m2m|x264] [--size=640x480] [--fps=25] [--seconds=S]
 *            [--force-keyframe] [--unbind-at=S --rmmod-at=S --insmod-at=S --insmod=KO]
 *            [--modparams="..."] [--copies=zero|nonzero] [--bench] [--report]
 *
 * tests/hw/run.sh uses it on real boards too (--report: one table row per run).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "hub.h"
#include "hw/encoder.h"
#include "media.h"
#include "stats.h"
#include "util/log.h"
#include "util/time.h"

#define TICK_MS 100

struct vdev {
	const char *source, *encoder, *encoder_device, *insmod, *modparams, *copies;
	uint32_t codec, format, width, height, fps;
	double seconds, unbind_at, rmmod_at, insmod_at;
	bool force_keyframe, bench, report;
	struct cg_media *media;
	struct cg_stats stats;
	/* Written by the AU hook on the media thread. */
	uint64_t aus, keys;
	uint64_t key_requested_at; /* AU count when the key frame was asked for, +1 */
	int64_t forced_distance;   /* AUs from the request to the next key frame, -1: none */
	/* Main thread. */
	uint64_t frames_at_unbind, frames_at_insmod, frames_at_outage_end, first_after;
	double outage_start;
	int failures;
};

/* The hub has no workers here: media.c publishes H.264 units into nothing. */
void cg_hub_publish(struct cg_hub *hub, struct cg_media_unit *unit)
{
}

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
	v->outage_start = t;
	printf("vdev: %.1f s: unbind vivid.0: %s (%lu frames so far)\n", t,
	       r < 0 ? strerror(-r) : "ok", (unsigned long)v->frames_at_unbind);
	vdev_check(v, r == 0, "unbind vivid");
}

static void vdev_rmmod(struct vdev *v, double t)
{
	long r = syscall(SYS_delete_module, "vivid", O_NONBLOCK);
	int err = r < 0 ? errno : 0;

	printf("vdev: %.1f s: rmmod vivid: %s\n", t, err ? strerror(err) : "ok");
	/* It can only go once camgate has closed every fd of the vanished device. */
	vdev_check(v, err == 0, "camgate let go of the vanished device (rmmod vivid)");
	v->frames_at_outage_end = cg_stats_get(&v->stats.frames_captured);
}

static void vdev_insmod(struct vdev *v, double t)
{
	int fd = open(v->insmod, O_RDONLY | O_CLOEXEC);
	long r = fd < 0 ? -1 : syscall(SYS_finit_module, fd, v->modparams ? v->modparams : "", 0);
	int err = r < 0 ? errno : 0;

	if (fd >= 0)
		close(fd);
	v->frames_at_insmod = cg_stats_get(&v->stats.frames_captured);
	printf("vdev: %.1f s: insmod %s: %s\n", t, v->insmod, err ? strerror(err) : "ok");
	vdev_check(v, err == 0, "vivid back");
}

/* Scheduled events, each once, at tick resolution. */
static void vdev_tick(struct vdev *v, double t, double prev)
{
#define VDEV_AT(x) ((x) > 0 && prev < (x) && t >= (x))
	if (VDEV_AT(v->unbind_at))
		vdev_unbind(v, t);
	if (VDEV_AT(v->rmmod_at))
		vdev_rmmod(v, t);
	if (VDEV_AT(v->insmod_at) && v->insmod)
		vdev_insmod(v, t);
#undef VDEV_AT
}

static int vdev_loop(struct vdev *v)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { .it_interval.tv_nsec = TICK_MS * 1000000L,
				  .it_value.tv_nsec = TICK_MS * 1000000L };
	uint64_t t0 = cg_mono_usec(), n;
	double t = 0, prev;

	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return -errno;
	while (t < v->seconds) {
		if (read(tfd, &n, sizeof(n)) != sizeof(n))
			break;
		prev = t;
		t = (double)(cg_mono_usec() - t0) / 1e6;
		vdev_tick(v, t, prev);
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

	printf("vdev: %lu frames captured, %lu encoded, %lu key frames, %lu bytes copied\n",
	       (unsigned long)cap, (unsigned long)enc, (unsigned long)v->keys,
	       (unsigned long)copied);
	vdev_check(v, enc >= 10, "frames flow through the encoder");
	if (v->copies && strcmp(v->copies, "zero") == 0)
		vdev_check(v, copied == 0, "no pixel copied (DMA-BUF capture -> mem2mem)");
	if (v->copies && strcmp(v->copies, "nonzero") == 0)
		vdev_check(v, copied > 0, "CPU copies counted");
	if (v->force_keyframe) {
		printf("vdev: forced key frame %ld AU(s) after the request\n", (long)dist);
		vdev_check(v, dist >= 1 && dist <= 3, "a forced key frame arrives");
	}
	if (v->insmod_at > 0) {
		printf("vdev: %lu frames during the outage, %lu after vivid came back\n",
		       (unsigned long)(v->frames_at_outage_end - v->frames_at_unbind),
		       (unsigned long)(cap - v->frames_at_insmod));
		vdev_check(v, cap - v->frames_at_insmod >= 10, "the stream resumes");
	}
	if (v->report)
		vdev_row(v, elapsed, enc);
	if (v->bench)
		printf("BENCH %s %ux%u %s -> %s: %.1f fps, %.0f bytes copied per frame\n",
		       v->source, v->width, v->height, v->encoder,
		       v->encoder_device ? v->encoder_device : "-", (double)enc / elapsed,
		       enc ? (double)copied / (double)enc : 0.0);
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
		.on_au = vdev_on_au,
		.userdata = v,
	};
	struct cg_hub hub = { 0 };
	uint64_t t0;
	int r;

	cg_stats_init(&v->stats);
	r = cg_media_new_test(&cfg, &opts, &hub, &v->stats, &v->media);
	if (r == 0)
		r = cg_media_start(v->media);
	if (r < 0) {
		printf("vdev: cannot start the media thread: %s\n", strerror(-r));
		return 1;
	}
	t0 = cg_mono_usec();
	r = vdev_loop(v);
	cg_media_free(v->media);
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
		{ "force-keyframe", 0, 0, 'k' },
		{ "unbind-at", 1, 0, 'u' },
		{ "rmmod-at", 1, 0, 'm' },
		{ "insmod-at", 1, 0, 'i' },
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
		case 'k':
			v->force_keyframe = true;
			break;
		case 'u':
			v->unbind_at = atof(optarg);
			break;
		case 'm':
			v->rmmod_at = atof(optarg);
			break;
		case 'i':
			v->insmod_at = atof(optarg);
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
	return v->source ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct vdev v = {
		.encoder = "v4l2-m2m",
		.width = 640,
		.height = 480,
		.fps = 25,
		.seconds = 4,
		.forced_distance = -1,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vdev_parse(&v, argc, argv) < 0) {
		fprintf(stderr, "usage: see tests/vdev/vdev-media.c\n");
		return 2;
	}
	return vdev_run(&v);
}
