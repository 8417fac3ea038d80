/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VA-API encoder logic without a GPU (no software VA driver exists): GOP and IDR
 * requests, H.264 parameter buffers, the DMA-BUF surface cache with a fake import (memfds
 * stand in for dma-bufs: the cache keys on the fd's inode), and open() failing cleanly
 * where it cannot work: no render node, a node path that does not exist, and paths that
 * are not DRM devices (/dev/null, a regular file, a directory), each with the errno whose
 * text the media thread and tests/hw/run.sh show, without a crash or a leaked descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/registry.h"
#include "hw/vaapi/enc.h"
#include "hw/vaapi/params.h"
#include "util/log.h"

static const struct cg_encoder_cfg cfg720 = {
	.width = 1280, .height = 720, .fps = 30, .bitrate_kbps = 2000, .keyframe_interval = 4
};

static void test_gop(void)
{
	struct cg_vaapi_gop g;
	struct cg_vaapi_pic_info pi;

	cg_vaapi_gop_init(&g, 4);
	pi = cg_vaapi_gop_next(&g);
	g_assert_true(pi.idr);
	g_assert_cmpuint(pi.idr_pic_id, ==, 0);
	for (unsigned i = 1; i < 4; i++) {
		pi = cg_vaapi_gop_next(&g);
		g_assert_false(pi.idr);
		g_assert_cmpuint(pi.frame_num, ==, i);
	}
	pi = cg_vaapi_gop_next(&g);
	g_assert_true(pi.idr);
	g_assert_cmpuint(pi.idr_pic_id, ==, 1);
	pi = cg_vaapi_gop_next(&g);
	g_assert_false(pi.idr);
	g.force_idr = true; /* request_keyframe() */
	pi = cg_vaapi_gop_next(&g);
	g_assert_true(pi.idr);
	g_assert_cmpuint(pi.frame_num, ==, 0);
	g_assert_cmpuint(pi.idr_pic_id, ==, 2);
	g_assert_false(g.force_idr);
}

static void test_params(void)
{
	VAEncSequenceParameterBufferH264 seq;
	VAEncPictureParameterBufferH264 pic;
	VAEncSliceParameterBufferH264 slice;
	VAEncMiscParameterRateControl rc;
	struct cg_vaapi_pic_info idr = { .idr = true }, p = { .frame_num = 3 };
	struct cg_encoder_cfg main_cfg = cfg720;

	cg_vaapi_fill_seq(&seq, &cfg720, 31);
	g_assert_cmpuint(seq.picture_width_in_mbs, ==, 80);
	g_assert_cmpuint(seq.picture_height_in_mbs, ==, 45);
	g_assert_cmpuint(seq.frame_cropping_flag, ==, 0);
	g_assert_cmpuint(seq.intra_idr_period, ==, 4);
	g_assert_cmpuint(seq.ip_period, ==, 1);
	g_assert_cmpuint(seq.bits_per_second, ==, 2000000);
	main_cfg.height = 1080;
	cg_vaapi_fill_seq(&seq, &main_cfg, 40);
	g_assert_cmpuint(seq.picture_height_in_mbs, ==, 68);
	g_assert_cmpuint(seq.frame_cropping_flag, ==, 1);
	g_assert_cmpuint(seq.frame_crop_bottom_offset, ==, 4); /* 8 rows in 4:2:0 crop units */
	cg_vaapi_fill_pic(&pic, &cfg720, &idr, 10, 11, 99);
	g_assert_cmpuint(pic.pic_fields.bits.idr_pic_flag, ==, 1);
	g_assert_cmpuint(pic.pic_fields.bits.entropy_coding_mode_flag, ==, 0); /* CAVLC */
	g_assert_cmpuint(pic.ReferenceFrames[0].picture_id, ==, VA_INVALID_SURFACE);
	g_assert_cmpuint(pic.coded_buf, ==, 99);
	main_cfg.profile = CG_ENCODER_PROFILE_MAIN;
	cg_vaapi_fill_pic(&pic, &main_cfg, &p, 10, 11, 99);
	g_assert_cmpuint(pic.pic_fields.bits.entropy_coding_mode_flag, ==, 1); /* CABAC */
	g_assert_cmpuint(pic.ReferenceFrames[0].picture_id, ==, 11);
	g_assert_cmpuint(pic.frame_num, ==, 3);
	cg_vaapi_fill_slice(&slice, &cfg720, &p, 11);
	g_assert_cmpuint(slice.slice_type, ==, 0);
	g_assert_cmpuint(slice.num_macroblocks, ==, 3600);
	g_assert_cmpuint(slice.RefPicList0[0].picture_id, ==, 11);
	cg_vaapi_fill_slice(&slice, &cfg720, &idr, 11);
	g_assert_cmpuint(slice.slice_type, ==, 2);
	cg_vaapi_fill_rc(&rc, 1500);
	g_assert_cmpuint(rc.bits_per_second, ==, 1500000);
	g_assert_cmpuint(rc.target_percentage, ==, 100);
}

struct fake {
	unsigned imports, destroys;
	VASurfaceID next;
};

static int fake_import(void *userdata, const struct cg_frame *f, VASurfaceID *ret)
{
	struct fake *fk = userdata;

	fk->imports++;
	*ret = fk->next++;
	return 0;
}

static void fake_destroy(void *userdata, VASurfaceID s)
{
	((struct fake *)userdata)->destroys++;
}

static void test_cache(void)
{
	struct fake fk = { .next = 100 };
	struct cg_vaapi_cache c = { .import = fake_import,
				    .destroy = fake_destroy,
				    .userdata = &fk };
	struct cg_frame f[CG_VAAPI_CACHE + 1] = { 0 };
	VASurfaceID s, first;

	for (unsigned i = 0; i <= CG_VAAPI_CACHE; i++) {
		f[i].planes[0].dma_fd = memfd_create("camgate-fake-dmabuf", MFD_CLOEXEC);
		g_assert_cmpint(f[i].planes[0].dma_fd, >=, 0);
	}
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[0], &first), ==, 0);
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[0], &s), ==, 0);
	g_assert_cmpuint(s, ==, first); /* the same buffer again: no second import */
	g_assert_cmpuint(fk.imports, ==, 1);
	for (unsigned i = 1; i < CG_VAAPI_CACHE; i++)
		g_assert_cmpint(cg_vaapi_cache_get(&c, &f[i], &s), ==, 0);
	g_assert_cmpuint(fk.destroys, ==, 0);
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[0], &s), ==, 0); /* f[0] most recent now */
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[CG_VAAPI_CACHE], &s), ==, 0);
	g_assert_cmpuint(fk.destroys, ==, 1); /* evicted f[1], the least recently used */
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[0], &s), ==, 0);
	g_assert_cmpuint(s, ==, first);
	f[0].planes[0].dma_fd = -1;
	g_assert_cmpint(cg_vaapi_cache_get(&c, &f[0], &s), ==, -EINVAL);
	cg_vaapi_cache_clear(&c);
	g_assert_cmpuint(fk.destroys, ==, 1 + CG_VAAPI_CACHE);
	for (unsigned i = 1; i <= CG_VAAPI_CACHE; i++)
		close(f[i].planes[0].dma_fd);
}

/* Open descriptors of this process, to catch a leak across a failed open(). */
static unsigned count_fds(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	unsigned n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static bool any_render_node(void)
{
	char path[32];

	for (unsigned i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%u", 128 + i);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

/* What libva said through the debug log while a test ran, for the test's own log. */
static GString *libva_said;

static void log_sink(enum cg_log_level level, const char *topic, const char *file, int line,
		     const char *func, const char *message)
{
	(void)level, (void)topic, (void)file, (void)line, (void)func;
	g_string_append_printf(libva_said, "%s%s", libva_said->len ? "; " : "", message);
}

/*
 * Opens the encoder on device (NULL: every render node) and checks that it fails with
 * want, leaves no descriptor open and that want reads as want_text (the media thread logs
 * "failed: <text>", and tests/hw/run.sh takes "No such device" as "no such encoder here").
 */
static void expect_open_fails(const char *device, int want, const char *want_text)
{
	struct cg_encoder_cfg cfg = cfg720;
	struct cg_encoder *enc = NULL;
	unsigned fds = count_fds();
	int r;

	cfg.input_fourcc = CG_FOURCC_NV12;
	cfg.device = device;
	libva_said = g_string_new(NULL);
	cg_log_set_level(CG_LOG_DEBUG);
	cg_log_set_sink(log_sink);
	r = cg_vaapi_encoder_ops.open(&cfg, &enc);
	cg_log_set_sink(NULL);
	cg_log_set_level(CG_LOG_INFO);
	g_test_message("open(%s): %s%s%s", device ? device : "any render node", g_strerror(-r),
		       libva_said->len ? "; logged: " : "", libva_said->str);
	g_string_free(libva_said, TRUE);
	g_assert_cmpint(r, ==, want);
	g_assert_cmpstr(g_strerror(-r), ==, want_text);
	g_assert_null(enc);
	g_assert_cmpuint(count_fds(), ==, fds);
}

static void test_open(void)
{
	struct cg_encoder_cfg cfg = cfg720;
	struct cg_encoder *enc = NULL;
	unsigned fds = count_fds();
	int r;

	g_assert_true(cg_registry_encoder("vaapi") == &cg_vaapi_encoder_ops);
	cfg.input_fourcc = CG_FOURCC_YUYV;
	g_assert_cmpint(cg_vaapi_encoder_ops.open(&cfg, &enc), ==, -ENOTSUP);
	g_assert_null(enc);
	if (!any_render_node()) {
		g_test_message("no /dev/dri/renderD128-135 here: VA-API runs only in tests/hw");
		expect_open_fails(NULL, -ENODEV, "No such device");
		return;
	}
	/* A GPU is there: it encodes, or says why not with a VA-API error we map. */
	cfg.input_fourcc = CG_FOURCC_NV12;
	r = cg_vaapi_encoder_ops.open(&cfg, &enc);
	g_test_message("open(any render node): %s", r == 0 ? "encodes" : g_strerror(-r));
	if (r == 0) {
		g_assert_nonnull(enc);
		cg_vaapi_encoder_ops.close(enc);
	} else {
		g_assert_true(r == -ENODEV || r == -ENOTSUP || r == -EACCES || r == -EIO);
	}
	g_assert_cmpuint(count_fds(), ==, fds);
}

/* A node path that does not exist: ENOENT from open(2), reported as no such device. */
static void test_open_missing_node(void)
{
	g_autofree char *dir = g_dir_make_tmp("cg-vaapi-XXXXXX", NULL);
	g_autofree char *node = g_build_filename(dir, "renderD128", NULL);

	expect_open_fails(node, -ENODEV, "No such device");
	g_rmdir(dir);
}

/* Paths that open but are not DRM devices: libva must refuse them, not crash. */
static void test_open_not_drm(void)
{
	g_autofree char *dir = g_dir_make_tmp("cg-vaapi-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "renderD128", NULL);

	expect_open_fails("/dev/null", -ENODEV, "No such device");
	g_assert_true(g_file_set_contents(file, "not a GPU", -1, NULL));
	expect_open_fails(file, -ENODEV, "No such device");
	/* A directory does not open read-write at all: open(2)'s own error comes back. */
	expect_open_fails(dir, -EISDIR, "Is a directory");
	g_unlink(file);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vaapi/gop", test_gop);
	g_test_add_func("/vaapi/params", test_params);
	g_test_add_func("/vaapi/surface-cache", test_cache);
	g_test_add_func("/vaapi/open", test_open);
	g_test_add_func("/vaapi/open-missing-node", test_open_missing_node);
	g_test_add_func("/vaapi/open-not-drm", test_open_not_drm);
	return g_test_run();
}
