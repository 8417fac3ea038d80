/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Encoder benchmark: encodes the moving test pattern with every compiled-in encoder and
 * prints the time per frame (mean, p50, p95, max) and the stream's frame sizes, at 640x480
 * and 1280x720; at 1280x720 also on the detailed picture ("test:detailed": fine texture
 * panning every frame under fresh noise, the hard case a real scene is closer to), and for
 * x264 at each preset --x264-preset offers, so the speed policy's steps can be read off.
 * Frames are paced by the test source at its top rate, so the run takes about frames / 240 s
 * per case at least. Beside the wall time per encode call (what the speed policy sees), the
 * CPU time the process spent in those calls, all threads (getrusage): on a busy machine the
 * wall time includes waiting for a core, the CPU time mostly does not. The CPU model is
 * printed first: the figures are that machine's.
 * Usage: bench-encode [frames per case, default 150]
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "hw/registry.h"
#include "util/macros.h"

#define BENCH_FPS_SOURCE 240
#define BENCH_WAIT_MS	 2000

struct bench_case {
	uint32_t width, height, kbps;
	const char *source; /* "test" or "test:detailed" */
	const char *preset; /* x264's, or NULL: the backend's default */
};

/* x264's presets, fastest first, as the speed policy steps through them. */
static const char *const bench_presets[] = { "ultrafast", "superfast", "veryfast",
					     "faster",	  "fast",      "medium" };

struct bench_result {
	uint64_t *usec;
	uint64_t key_bytes, delta_bytes;
	uint64_t cpu_usec; /* user + system time of the process inside encode calls */
	unsigned keys;
};

static uint64_t bench_cpu_usec(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bench_next_frame(const struct cg_capture_ops *cops, struct cg_capture *cap,
			    struct cg_frame **ret)
{
	struct pollfd pfd = { .fd = cops->fd(cap), .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, BENCH_WAIT_MS);

		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		r = cops->dequeue(cap, ret);
		if (r != -EAGAIN)
			return r;
	}
}

static int bench_run(const struct cg_encoder_ops *eops, const struct bench_case *c, unsigned frames,
		     struct bench_result *res)
{
	const struct cg_capture_ops *cops = cg_registry_capture("test");
	struct cg_capture_cfg ccfg = { c->source, c->width, c->height, BENCH_FPS_SOURCE };
	struct cg_encoder_cfg ecfg = { .width = c->width,
				       .height = c->height,
				       .fps = 30,
				       .bitrate_kbps = c->kbps,
				       .keyframe_interval = 60,
				       .preset = c->preset };
	struct cg_capture *cap = NULL;
	struct cg_encoder *enc = NULL;
	int r;

	r = cops->open(&ccfg, &cap);
	if (r < 0)
		return r;
	r = eops->open(&ecfg, &enc);
	if (r < 0)
		goto out;
	r = cops->start(cap);
	for (unsigned i = 0; r >= 0 && i < frames; i++) {
		struct cg_frame *f = NULL;
		struct cg_au *au = NULL;

		uint64_t cpu0;

		r = bench_next_frame(cops, cap, &f);
		if (r < 0)
			break;
		cpu0 = bench_cpu_usec();
		r = eops->encode(enc, f, &au);
		res->cpu_usec += bench_cpu_usec() - cpu0;
		cg_frame_unref(f);
		if (r < 0)
			break;
		res->usec[i] = au->encode_usec;
		res->keys += au->keyframe;
		*(au->keyframe ? &res->key_bytes : &res->delta_bytes) += au->len;
		cg_au_unref(au);
	}
	eops->close(enc);
out:
	cops->close(cap);
	return r < 0 ? r : 0;
}

static void bench_print(const char *name, const struct bench_case *c, unsigned frames,
			struct bench_result *res)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < frames; i++)
		sum += res->usec[i];
	qsort(res->usec, frames, sizeof(*res->usec), bench_cmp_u64);
	printf("%-6s %4ux%-4u %5u kb/s %-8s %-9s: %6.2f ms/frame mean, p50 %6.2f, p95 %6.2f, "
	       "max %6.2f; CPU %6.2f ms/frame; IDR %6.1f KiB, P %5.1f KiB\n",
	       name, c->width, c->height, c->kbps, strchr(c->source, ':') ? "detailed" : "plain",
	       c->preset ? c->preset : "-", sum / 1000.0 / frames, res->usec[frames / 2] / 1000.0,
	       res->usec[frames * 95 / 100] / 1000.0, res->usec[frames - 1] / 1000.0,
	       res->cpu_usec / 1000.0 / frames,
	       res->keys ? res->key_bytes / 1024.0 / res->keys : 0.0,
	       frames > res->keys ? res->delta_bytes / 1024.0 / (frames - res->keys) : 0.0);
}

static void bench_print_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
			printf("cpu: %s", strchr(line, ':') ? strchr(line, ':') + 2 : line);
			break;
		}
	if (f)
		fclose(f);
}

/* One encoder's cases: 640x480 plain, then 1280x720 plain and detailed, at each preset for
 * a backend that has presets. Returns how many were written to out. */
static size_t bench_cases(const struct cg_encoder_ops *e, struct bench_case *out)
{
	static const char *const sources[] = { "test", "test:detailed" };
	size_t n = 0, np = e->set_preset ? CG_ARRAY_SIZE(bench_presets) : 1;

	out[n++] = (struct bench_case){ 640, 480, 1000, "test", NULL };
	for (size_t s = 0; s < CG_ARRAY_SIZE(sources); s++)
		for (size_t p = 0; p < np; p++)
			out[n++] = (struct bench_case){ 1280, 720, 2500, sources[s],
							e->set_preset ? bench_presets[p] : NULL };
	return n;
}

int main(int argc, char **argv)
{
	struct bench_case cases[1 + 2 * CG_ARRAY_SIZE(bench_presets)];
	const struct cg_encoder_ops *const *encoders = cg_registry_encoders();
	unsigned frames = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 150;
	int status = 0;

	if (frames == 0 || !encoders[0]) {
		fprintf(stderr, "nothing to do (frames=%u, encoders compiled in: %s)\n", frames,
			encoders[0] ? "yes" : "none");
		return 77;
	}
	bench_print_cpu();
	for (size_t e = 0; encoders[e]; e++)
		for (size_t i = 0, n = bench_cases(encoders[e], cases); i < n; i++) {
			struct bench_result res = { .usec = cg_new0(uint64_t, frames) };
			int r = bench_run(encoders[e], &cases[i], frames, &res);

			if (r < 0) {
				fprintf(stderr, "%s %ux%u: %s\n", encoders[e]->name, cases[i].width,
					cases[i].height, strerror(-r));
				status = 1;
			} else {
				bench_print(encoders[e]->name, &cases[i], frames, &res);
			}
			free(res.usec);
		}
	return status;
}
