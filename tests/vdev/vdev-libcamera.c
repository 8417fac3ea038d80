/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's media thread on a libcamera camera, inside the qemu guest of
 * tests/vdev/run-libcamera.sh: the kernel's vimc driver under libcamera's vimc pipeline
 * handler and IPA, its FrameBuffers (DMA-BUFs) into vim2m or vicodec without a copy, or into
 * x264 through the mapping. Each scenario moves on by what happened, never by the clock
 * (a timer only ticks it; --timeout guards a hang):
 *   (plain)  frames flow through the encoder; the copy counter is as --copies says (for
 *            x264, nonzero: whole I420 frames converted on the CPU from the mapped RGB24).
 *   --unbind vimc is unbound mid-stream: the source fails (logged once), vimc is bound again
 *            and frames flow again, the media thread reopening with its back-off.
 *   --list   --list-devices shows vimc's camera and why its nodes are not V4L2 cameras
 *            (and lists none of them among the cameras), and auto takes the libcamera camera.
 *   --hold   a second process holds the camera first: camgate's open fails with a clear
 *            "busy" warning, logged once however often it retries; when the other process
 *            lets go, the retry streams.
 *
 * vdev-libcamera [--source=libcamera[:ID]] [--encoder=v4l2-m2m|x264]
 *                [--encoder-device=/dev/videoN --codec=RGB3|FWHT] [--format=RGB3]
 *                [--size=WxH] [--fps=N] [--copies=zero|nonzero] [--unbind|--hold]
 *                [--list] [--timeout=S] [--verbose]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/config.h"
#include "app/stats.h"
#include "fanout/hub.h"
#include "hw/registry.h"
#include "media/media.h"
#include "util/log.h"
#include "util/time.h"

#define TICK_MS	      100
#define LC_MIN_FRAMES 10 /* encoded before a scenario moves on, and again after a fault */
#define VIMC_DEV      "vimc.0"
#define VIMC_DRIVER   "/sys/bus/platform/drivers/vimc/"

enum lc_phase {
	LC_STREAM, /* until frames flow */
	LC_GONE,   /* vimc unbound: until the source has failed */
	LC_RESUME, /* vimc bound again, or the camera let go of: until frames flow again */
	LC_HELD,   /* another process holds the camera: until camgate has retried */
	LC_DONE,
};

static const char *const lc_phase_names[] = { "streaming", "waiting for the source to fail",
					      "waiting for frames again",
					      "waiting for a retry on the held camera", "done" };

struct lc_test {
	const char *source, *encoder, *encoder_device, *copies;
	uint32_t codec, format, width, height, fps;
	double timeout;
	bool unbind, hold, verbose, list;
	struct cg_media *media;
	struct cg_stats stats;
	enum lc_phase phase;
	uint64_t frames_at_fault;
	pid_t holder;
	int holder_fd; /* closing it lets the holder go */
	int failures;
};

/* What the media thread logged, counted by the sink (any thread). */
static unsigned lc_busy_warnings, lc_busy_retries, lc_failed_warnings;
static bool lc_verbose; /* print debug lines too */

static void lc_sink(enum cg_log_level level, const char *topic, const char *file, int line,
		    const char *func, const char *message)
{
	bool busy = strstr(message, strerror(EBUSY)) != NULL;

	if (level <= CG_LOG_WARN && strstr(message, "-> failed"))
		__atomic_add_fetch(busy ? &lc_busy_warnings : &lc_failed_warnings, 1,
				   __ATOMIC_RELAXED);
	if (level == CG_LOG_DEBUG && busy && strstr(message, "still unavailable"))
		__atomic_add_fetch(&lc_busy_retries, 1, __ATOMIC_RELAXED);
	if (level <= CG_LOG_INFO || lc_verbose)
		printf("log %s: %s\n", topic, message);
}

static void lc_check(struct lc_test *t, bool ok, const char *what)
{
	printf("vdev-libcamera: CHECK %s: %s\n", what, ok ? "PASS" : "FAIL");
	t->failures += !ok;
}

static int lc_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static bool lc_state_is(struct lc_test *t, const char *state)
{
	return strcmp(cg_media_state(t->media), state) == 0;
}

/*
 * The second process: opens the camera through the same backend (so libcamera acquires
 * it, as any other libcamera program would), says so on ready_fd, and keeps it until
 * release_fd reaches EOF. Forked before this process starts libcamera or any thread.
 */
static int lc_hold(struct lc_test *t)
{
	int ready[2], release[2];
	char c = 0;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0)
		return -errno;
	t->holder = fork();
	if (t->holder < 0)
		return -errno;
	if (t->holder == 0) {
		const struct cg_capture_ops *ops = cg_registry_capture(t->source);
		struct cg_capture_cfg cfg = { t->source, t->width, t->height, t->fps, NULL };
		struct cg_capture *cap = NULL;
		int r;

		/* Our copies of the parent's ends, or release[0] never sees EOF. */
		close(ready[0]);
		close(release[1]);
		r = ops ? ops->open(&cfg, &cap) : -ENODEV;
		c = r == 0 ? 'h' : 'e';
		if (write(ready[1], &c, 1) != 1 || r < 0)
			_exit(1);
		while (read(release[0], &c, 1) > 0)
			;
		ops->close(cap);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	t->holder_fd = release[1];
	if (read(ready[0], &c, 1) != 1)
		c = 0;
	close(ready[0]);
	printf("vdev-libcamera: holder %d: %s\n", (int)t->holder,
	       c == 'h' ? "holds the camera" : "could not open the camera");
	lc_check(t, c == 'h', "a second process holds the camera");
	return c == 'h' ? 0 : -EIO;
}

static void lc_release_holder(struct lc_test *t, double now)
{
	int status = 0;

	close(t->holder_fd);
	t->holder_fd = -1;
	waitpid(t->holder, &status, 0);
	printf("vdev-libcamera: %.1f s: the holder let go (exit %d)\n", now,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	t->holder = 0;
}

static uint64_t lc_encoded(struct lc_test *t)
{
	return cg_stats_get(&t->stats.frames_encoded);
}

static void lc_tick_stream(struct lc_test *t, double now)
{
	int r;

	if (lc_encoded(t) < LC_MIN_FRAMES)
		return;
	if (!t->unbind) {
		t->phase = LC_DONE;
		return;
	}
	t->frames_at_fault = lc_encoded(t);
	r = lc_write(VIMC_DRIVER "unbind", VIMC_DEV);
	printf("vdev-libcamera: %.1f s: unbind %s: %s (%lu frames so far)\n", now, VIMC_DEV,
	       r < 0 ? strerror(-r) : "ok", (unsigned long)t->frames_at_fault);
	lc_check(t, r == 0, "unbind vimc");
	t->phase = r == 0 ? LC_GONE : LC_DONE;
}

/* The source has failed (the camera gone, or stalled): bind vimc again. */
static void lc_tick_gone(struct lc_test *t, double now)
{
	int r;

	if (!lc_state_is(t, "failed"))
		return;
	printf("vdev-libcamera: %.1f s: the source failed\n", now);
	r = lc_write(VIMC_DRIVER "bind", VIMC_DEV);
	printf("vdev-libcamera: %.1f s: bind %s: %s\n", now, VIMC_DEV, r < 0 ? strerror(-r) : "ok");
	lc_check(t, r == 0, "bind vimc again");
	t->frames_at_fault = lc_encoded(t);
	t->phase = r == 0 ? LC_RESUME : LC_DONE;
}

/* Held: wait for the warning and one retry that failed the same way, then let go. */
static void lc_tick_held(struct lc_test *t, double now)
{
	if (__atomic_load_n(&lc_busy_retries, __ATOMIC_RELAXED) < 1)
		return;
	lc_check(t, lc_encoded(t) == 0, "no frame while the other process holds the camera");
	lc_release_holder(t, now);
	t->frames_at_fault = lc_encoded(t);
	t->phase = LC_RESUME;
}

static void lc_tick(struct lc_test *t, double now)
{
	switch (t->phase) {
	case LC_STREAM:
		lc_tick_stream(t, now);
		break;
	case LC_GONE:
		lc_tick_gone(t, now);
		break;
	case LC_HELD:
		lc_tick_held(t, now);
		break;
	case LC_RESUME:
		if (lc_encoded(t) - t->frames_at_fault >= LC_MIN_FRAMES) {
			printf("vdev-libcamera: %.1f s: frames flow again\n", now);
			t->phase = LC_DONE;
		}
		break;
	case LC_DONE:
		break;
	}
}

static int lc_loop(struct lc_test *t)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { .it_interval.tv_nsec = TICK_MS * 1000000L,
				  .it_value.tv_nsec = TICK_MS * 1000000L };
	uint64_t t0 = cg_mono_usec(), n;

	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return -errno;
	while (t->phase != LC_DONE && read(tfd, &n, sizeof(n)) == sizeof(n)) {
		double now = (double)(cg_mono_usec() - t0) / 1e6;

		lc_tick(t, now);
		if (t->phase != LC_DONE && now >= t->timeout) {
			printf("vdev-libcamera: %.1f s: gave up %s\n", now,
			       lc_phase_names[t->phase]);
			break;
		}
	}
	close(tfd);
	return 0;
}

/*
 * Into x264 by mapping, counted as the V4L2 path counts it: each frame converted to I420 on
 * the CPU adds its I420 bytes (w x h x 3/2, what the newest frame says it cost) and x264
 * adds as much for each frame it encodes (its own copy into its picture). So the counter is
 * whole frames, between twice the frames encoded (every AU's frame converted) and the frames
 * captured plus those encoded.
 */
static void lc_report_converted(struct lc_test *t, uint64_t enc, uint64_t copied)
{
	struct cg_frame *f = cg_media_latest_frame(t->media);
	uint64_t each = f ? (uint64_t)f->width * f->height * 3 / 2 : 0;
	uint64_t captured = cg_stats_get(&t->stats.frames_captured), n = each ? copied / each : 0;

	lc_check(t, copied > 0, "CPU copies counted");
	lc_check(t, f && f->fourcc == CG_FOURCC_I420 && f->copied_bytes == each,
		 "the encoder gets I420 converted on the CPU, its bytes counted");
	printf("vdev-libcamera: %lu bytes a frame, %lu frames' worth counted\n",
	       (unsigned long)each, (unsigned long)n);
	lc_check(t, each && copied % each == 0 && n >= 2 * enc && n <= captured + enc,
		 "the counter is one I420 frame per conversion and one per frame x264 encoded");
	cg_frame_unref(f);
}

static void lc_report(struct lc_test *t)
{
	uint64_t enc = lc_encoded(t), copied = cg_stats_get(&t->stats.copied_bytes);
	unsigned busy = __atomic_load_n(&lc_busy_warnings, __ATOMIC_RELAXED);
	unsigned failed = __atomic_load_n(&lc_failed_warnings, __ATOMIC_RELAXED);

	printf("vdev-libcamera: %lu frames captured, %lu encoded, %lu bytes copied; encoder %s\n",
	       (unsigned long)cg_stats_get(&t->stats.frames_captured), (unsigned long)enc,
	       (unsigned long)copied, cg_media_encoder_name(t->media));
	lc_check(t, t->phase == LC_DONE, "the scenario completed");
	lc_check(t, enc >= LC_MIN_FRAMES, "frames flow through the encoder");
	if (t->copies && strcmp(t->copies, "zero") == 0)
		lc_check(t, copied == 0, "no pixel copied (libcamera DMA-BUF -> mem2mem)");
	if (t->copies && strcmp(t->copies, "nonzero") == 0)
		lc_report_converted(t, enc, copied);
	if (t->unbind) {
		printf("vdev-libcamera: failure warnings: %u\n", failed);
		lc_check(t, failed >= 1 && failed <= 2,
			 "the vanished camera is logged, not once per retry");
		lc_check(t, t->phase == LC_DONE && enc - t->frames_at_fault >= LC_MIN_FRAMES,
			 "the stream resumes after vimc comes back");
	}
	if (t->hold) {
		printf("vdev-libcamera: busy warnings: %u, quiet retries: %u\n", busy,
		       __atomic_load_n(&lc_busy_retries, __ATOMIC_RELAXED));
		lc_check(t, busy == 1, "the held camera is a clear busy warning, logged once");
		lc_check(t, t->phase == LC_DONE && enc - t->frames_at_fault >= LC_MIN_FRAMES,
			 "the retry streams once the other process let go");
	}
}

/*
 * --list: what --list-devices prints, and what auto takes. vimc's camera must be listed
 * as a libcamera camera, its capture nodes (which the media controller routes) must be
 * said not to be V4L2 cameras and not be listed among the cameras, and auto must take the
 * libcamera camera.
 */
static void lc_list(struct lc_test *t)
{
	char *text = NULL, source[64] = "", reason[128] = "";
	const char *skipped, *vimc_node;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cg_registry_print_devices(f);
	fclose(f);
	fputs(text, stdout);
	lc_check(t, strstr(text, "  libcamera:platform/vimc.0 Sensor B (libcamera:0)") != NULL,
		 "--list-devices lists vimc's libcamera camera");
	lc_check(t, strstr(text, "(vimc): media-controller pipeline node") != NULL,
		 "--list-devices says vimc's nodes are a pipeline's, not V4L2 cameras");
	skipped = strstr(text, "not taken as V4L2 cameras:");
	vimc_node = strstr(text, " (vimc, ");
	lc_check(t, skipped && (!vimc_node || vimc_node > skipped),
		 "--list-devices lists none of vimc's nodes among the cameras");
	cg_registry_resolve_source("auto", source, sizeof(source), reason, sizeof(reason));
	printf("vdev-libcamera: auto is %s%s%s\n", source, reason[0] ? ": " : "", reason);
	lc_check(t, strcmp(source, "libcamera:platform/vimc.0 Sensor B") == 0,
		 "auto takes the libcamera camera");
	free(text);
}

static int lc_run(struct lc_test *t)
{
	uint32_t formats[2] = { t->format, 0 };
	struct cg_config cfg = {
		.source = (char *)t->source,
		.encoder = (char *)t->encoder,
		.width = t->width,
		.height = t->height,
		.fps = t->fps,
		.bitrate_kbps = 1000,
		.keyframe_interval_frames = 300,
	};
	struct cg_media_test_opts opts = {
		.codec = t->codec,
		.encoder_device = t->encoder_device,
		.formats = t->format ? formats : NULL,
		.exact_encoder = true,
	};
	struct cg_hub *hub;
	int r;

	if (t->hold && lc_hold(t) < 0)
		return 1;
	if (t->list)
		lc_list(t);
	t->phase = t->hold ? LC_HELD : LC_STREAM;
	cg_stats_init(&t->stats);
	hub = cg_hub_new(&(struct cg_hub_cfg){ .name = "vdev-libcamera",
					       .stats = &t->stats,
					       .min_kbps = cfg.bitrate_kbps,
					       .max_kbps = cfg.bitrate_kbps,
					       .start_kbps = cfg.bitrate_kbps });
	r = cg_media_new_test(&cfg, &opts, hub, &t->stats, &t->media);
	if (r == 0)
		r = cg_media_start(t->media);
	if (r < 0) {
		printf("vdev-libcamera: cannot start the media thread: %s\n", strerror(-r));
		cg_hub_free(hub);
		return 1;
	}
	r = lc_loop(t);
	lc_report(t);
	cg_media_free(t->media);
	cg_hub_free(hub);
	cg_stats_fini(&t->stats);
	if (t->holder > 0) {
		close(t->holder_fd);
		waitpid(t->holder, NULL, 0);
	}
	return r < 0 || t->failures ? 1 : 0;
}

static uint32_t lc_fourcc(const char *s)
{
	char b[4] = { ' ', ' ', ' ', ' ' };

	memcpy(b, s, strnlen(s, 4));
	return CG_FOURCC(b[0], b[1], b[2], b[3]);
}

/* Over 40 lines only because each option is a case: a table in all but syntax. */
static int lc_parse(struct lc_test *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", 1, 0, 's' },
		{ "encoder", 1, 0, 'e' },
		{ "encoder-device", 1, 0, 'd' },
		{ "codec", 1, 0, 'c' },
		{ "format", 1, 0, 'f' },
		{ "size", 1, 0, 'z' },
		{ "fps", 1, 0, 'r' },
		{ "copies", 1, 0, 'C' },
		{ "unbind", 0, 0, 'u' },
		{ "hold", 0, 0, 'H' },
		{ "list", 0, 0, 'L' },
		{ "timeout", 1, 0, 'T' },
		{ "verbose", 0, 0, 'v' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			t->source = optarg;
			break;
		case 'e':
			t->encoder = optarg;
			break;
		case 'd':
			t->encoder_device = optarg;
			break;
		case 'c':
			t->codec = lc_fourcc(optarg);
			break;
		case 'f':
			t->format = lc_fourcc(optarg);
			break;
		case 'z':
			sscanf(optarg, "%ux%u", &t->width, &t->height);
			break;
		case 'r':
			t->fps = (uint32_t)atoi(optarg);
			break;
		case 'C':
			t->copies = optarg;
			break;
		case 'u':
			t->unbind = true;
			break;
		case 'H':
			t->hold = true;
			break;
		case 'L':
			t->list = true;
			break;
		case 'T':
			t->timeout = atof(optarg);
			break;
		case 'v':
			t->verbose = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return t->unbind && t->hold ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct lc_test t = {
		.source = "libcamera",
		.encoder = "v4l2-m2m",
		.width = 640,
		.height = 480,
		.fps = 15,
		.timeout = 90,
		.holder_fd = -1,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lc_parse(&t, argc, argv) < 0) {
		fprintf(stderr, "usage: see tests/vdev/vdev-libcamera.c\n");
		return 2;
	}
	/* Debug lines are needed to count the quiet retries; printed only with --verbose. */
	lc_verbose = t.verbose;
	cg_log_set_sink(lc_sink);
	cg_log_set_level(CG_LOG_DEBUG);
	return lc_run(&t);
}
