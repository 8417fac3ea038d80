/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VA-API encoder logic without a GPU (no software VA driver exists): GOP and IDR
 * requests, H.264 parameter buffers, the DMA-BUF surface cache with a fake import (memfds
 * stand in for dma-bufs: the cache keys on the fd's inode), and open() skipping cleanly
 * with -ENODEV where there is no render node.
 */
#include <errno.h>
#include <glib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/registry.h"
#include "hw/vaapi/enc.h"
#include "hw/vaapi/params.h"

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

static void test_open(void)
{
	struct cg_encoder_cfg cfg = cfg720;
	struct cg_encoder *enc = NULL;
	int r;

	g_assert_true(cg_registry_encoder("vaapi") == &cg_vaapi_encoder_ops);
	cfg.input_fourcc = CG_FOURCC_YUYV;
	g_assert_cmpint(cg_vaapi_encoder_ops.open(&cfg, &enc), ==, -ENOTSUP);
	cfg.input_fourcc = CG_FOURCC_NV12;
	r = cg_vaapi_encoder_ops.open(&cfg, &enc);
	if (access("/dev/dri", F_OK) < 0) {
		g_test_message("no /dev/dri here: VA-API runs only in tests/hw");
		g_assert_cmpint(r, ==, -ENODEV);
		return;
	}
	if (r == 0)
		cg_vaapi_encoder_ops.close(enc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vaapi/gop", test_gop);
	g_test_add_func("/vaapi/params", test_params);
	g_test_add_func("/vaapi/surface-cache", test_cache);
	g_test_add_func("/vaapi/open", test_open);
	return g_test_run();
}
