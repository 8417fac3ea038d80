/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test source: pacing through its fd, frame fields, burned-in code, buffer recycling. */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "hw/fake/blockcode.h"
#include "hw/fake/testsrc.h"
#include "hw/registry.h"

#define WAIT_MS 2000

static const struct cg_capture_ops *ops(void)
{
	const struct cg_capture_ops *o = cg_registry_capture("test");

	g_assert_nonnull(o);
	return o;
}

static struct cg_capture *open_started(uint32_t w, uint32_t h, uint32_t fps)
{
	struct cg_capture_cfg cfg = { .device = "test", .width = w, .height = h, .fps = fps };
	struct cg_capture *cap = NULL;

	g_assert_cmpint(ops()->open(&cfg, &cap), ==, 0);
	g_assert_nonnull(cap);
	g_assert_cmpint(ops()->start(cap), ==, 0);
	return cap;
}

/* Waits on the capture fd (never sleeps) and returns whether it became readable. */
static gboolean wait_readable(struct cg_capture *cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = ops()->fd(cap), .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);

	g_assert_cmpint(r, >=, 0);
	return r == 1 && (pfd.revents & POLLIN);
}

/* Next frame: wait for a tick, dequeue. */
static struct cg_frame *next_frame(struct cg_capture *cap)
{
	struct cg_frame *f = NULL;

	g_assert_true(wait_readable(cap, WAIT_MS));
	g_assert_cmpint(ops()->dequeue(cap, &f), ==, 0);
	g_assert_nonnull(f);
	return f;
}

static void test_registry(void)
{
	g_assert_true(cg_registry_capture("test") == &cg_testsrc_capture_ops);
	/* /dev/videoN belongs to the V4L2 backend when it is built; nothing else is a source. */
	g_assert_null(cg_registry_capture("camera"));
	g_assert_null(cg_registry_capture(NULL));
	g_assert_cmpstr(cg_testsrc_capture_ops.name, ==, "test");
}

static void test_bad_cfg(void)
{
	struct cg_capture_cfg odd = { .width = 321, .height = 240, .fps = 30 };
	struct cg_capture_cfg fast = { .width = 320, .height = 240, .fps = 1000 };
	struct cg_capture *cap = NULL;

	g_assert_cmpint(ops()->open(&odd, &cap), ==, -ENOTSUP);
	g_assert_cmpint(ops()->open(&fast, &cap), ==, -ENOTSUP);
	g_assert_null(cap);
}

static void test_defaults(void)
{
	struct cg_capture *cap = open_started(0, 0, 0);
	struct cg_frame *f = next_frame(cap);

	g_assert_cmpuint(f->width, ==, 1280);
	g_assert_cmpuint(f->height, ==, 720);
	g_assert_cmpuint(f->fourcc, ==, CG_FOURCC_I420);
	g_assert_cmpuint(f->n_planes, ==, 3);
	g_assert_cmpuint(f->planes[0].stride, >=, 1280);
	g_assert_cmpuint(f->planes[1].stride, >=, 640);
	for (unsigned i = 0; i < 3; i++) {
		g_assert_cmpint(f->planes[i].dma_fd, ==, -1);
		g_assert_nonnull(f->planes[i].data);
	}
	cg_frame_unref(f);
	ops()->close(cap);
}

/* Right after start nothing is due yet: -EAGAIN, not a frame and not a block. */
static void test_not_ready(void)
{
	struct cg_capture *cap = open_started(320, 240, 10);
	struct cg_frame *f = NULL;

	g_assert_cmpint(ops()->dequeue(cap, &f), ==, -EAGAIN);
	g_assert_null(f);
	ops()->close(cap);
}

static void check_code(const struct cg_frame *f)
{
	uint64_t ms = 0;
	uint16_t counter = 0;

	g_assert_cmpint(cg_blockcode_read(f->planes[0].data, f->planes[0].stride, f->width,
					  f->height, &ms, &counter),
			==, 0);
	g_assert_cmpuint(ms, ==, f->capture_wall_usec / 1000);
	g_assert_cmpuint(counter, ==, f->sequence & 0xffff);
}

static void test_frames(void)
{
	struct cg_capture *cap = open_started(320, 240, 100);
	uint64_t start_wall = (uint64_t)g_get_real_time(),
		 start_mono = (uint64_t)g_get_monotonic_time();
	uint32_t last_seq = 0;
	uint64_t last_mono = 0;

	for (int i = 0; i < 20; i++) {
		struct cg_frame *f = next_frame(cap);

		g_assert_cmpuint(f->sequence, >, last_seq);
		g_assert_cmpuint(f->capture_mono_usec, >, last_mono);
		g_assert_cmpuint(f->capture_mono_usec, >=, start_mono);
		g_assert_cmpuint(f->capture_wall_usec, >=, start_wall);
		g_assert_cmpuint(f->capture_wall_usec, <=, (uint64_t)g_get_real_time());
		check_code(f);
		last_seq = f->sequence;
		last_mono = f->capture_mono_usec;
		cg_frame_unref(f);
	}
	/* Paced at 100 fps: 20 frames cannot arrive in much less than 200 ms. */
	g_assert_cmpuint(last_mono - start_mono, >=, 180000);
	ops()->close(cap);
}

/* The picture changes from frame to frame below the code (the encoder must have work). */
static void test_moves(void)
{
	struct cg_capture *cap = open_started(320, 240, 100);
	struct cg_frame *a = next_frame(cap), *b = next_frame(cap);
	const uint8_t *ya = a->planes[0].data + 120 * a->planes[0].stride;
	const uint8_t *yb = b->planes[0].data + 120 * b->planes[0].stride;

	g_assert_true(a->planes[0].data != b->planes[0].data);
	g_assert_cmpint(memcmp(ya, yb, 320), !=, 0);
	cg_frame_unref(a);
	cg_frame_unref(b);
	ops()->close(cap);
}

static void test_recycle(void)
{
	struct cg_capture *cap = open_started(320, 240, 100);
	struct cg_frame *held[CG_TESTSRC_BUFFERS], *f = NULL;
	uint8_t *first_data;

	for (unsigned i = 0; i < CG_TESTSRC_BUFFERS; i++)
		held[i] = next_frame(cap);
	first_data = held[0]->planes[0].data;

	/* Pool exhausted: the tick is consumed and dropped, no allocation. */
	g_assert_true(wait_readable(cap, WAIT_MS));
	g_assert_cmpint(ops()->dequeue(cap, &f), ==, -EAGAIN);
	g_assert_null(f);

	/* An extra ref keeps the buffer busy; only the last unref recycles it. */
	cg_frame_ref(held[0]);
	cg_frame_unref(held[0]);
	g_assert_true(wait_readable(cap, WAIT_MS));
	g_assert_cmpint(ops()->dequeue(cap, &f), ==, -EAGAIN);

	cg_frame_unref(held[0]);
	f = next_frame(cap);
	g_assert_true(f->planes[0].data == first_data);
	check_code(f);
	cg_frame_unref(f);
	for (unsigned i = 1; i < CG_TESTSRC_BUFFERS; i++)
		cg_frame_unref(held[i]);
	ops()->close(cap);
}

/* Frames outlive close(); the last unref frees everything (ASan checks for leaks). */
static void test_close_with_frames_out(void)
{
	struct cg_capture *cap = open_started(320, 240, 100);
	struct cg_frame *f = next_frame(cap);

	ops()->close(cap);
	check_code(f);
	cg_frame_unref(f);
}

static void test_stop(void)
{
	struct cg_capture *cap = open_started(320, 240, 100);
	struct cg_frame *f = next_frame(cap);

	cg_frame_unref(f);
	g_assert_cmpint(ops()->stop(cap), ==, 0);
	/* Five periods with the timer disarmed: the fd must stay quiet. */
	g_assert_false(wait_readable(cap, 50));
	g_assert_cmpint(ops()->start(cap), ==, 0);
	f = next_frame(cap);
	cg_frame_unref(f);
	ops()->close(cap);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/testsrc/registry", test_registry);
	g_test_add_func("/testsrc/bad-cfg", test_bad_cfg);
	g_test_add_func("/testsrc/defaults", test_defaults);
	g_test_add_func("/testsrc/not-ready", test_not_ready);
	g_test_add_func("/testsrc/frames", test_frames);
	g_test_add_func("/testsrc/moves", test_moves);
	g_test_add_func("/testsrc/recycle", test_recycle);
	g_test_add_func("/testsrc/close-with-frames-out", test_close_with_frames_out);
	g_test_add_func("/testsrc/stop", test_stop);
	return g_test_run();
}
