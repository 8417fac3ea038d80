/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * /snapshot.jpg's encoder (daemon/media/snapshot.c) on frames laid out the way their sources lay
 * them out: V4L2 capture (one mmap'ed buffer, planes at offsets: data = map + offset, the
 * offset kept for the DMA-BUF) and the test source (separate planes, offsets 0). Each
 * buffer ends right where a PROT_NONE area begins, so reading past it faults in any build,
 * and a malloc'ed copy lets ASan see the same overread. The JPEG is decoded back with
 * libturbojpeg: its size, subsampling and the colour of each quadrant must match.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "hw/frame.h"
#include "media/snapshot.h"

/* Four quadrants (Y, U, V): red, green, blue and grey in BT.601 limited range. */
static const uint8_t quad_yuv[4][3] = {
	{ 81, 90, 240 },
	{ 145, 54, 34 },
	{ 41, 240, 110 },
	{ 128, 128, 128 },
};
#define TOLERANCE 8 /* JPEG at quality 90 on flat areas: a few levels at most */

/* A buffer of size bytes followed by as many bytes of PROT_NONE (at least a page): a plane
 * read at twice its offset lands there. */
struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *buf;
	int memfd;
};

static void guarded_init(struct guarded *g, size_t size, bool use_malloc)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t data_len = (size + (size_t)page - 1) / (size_t)page * (size_t)page;

	memset(g, 0, sizeof(*g));
	g->memfd = -1;
	if (use_malloc) { /* ASan's redzone right after the last byte */
		g->buf = g_malloc(size);
		return;
	}
	/* A memfd as the DMA-BUF stand-in, mapped like V4L2 maps its buffers. */
	g->memfd = memfd_create("snapshot-test", MFD_CLOEXEC);
	g_assert_cmpint(g->memfd, >=, 0);
	g_assert_cmpint(ftruncate(g->memfd, (off_t)data_len), ==, 0);
	g->map_len = 2 * data_len + (size_t)page;
	g->map = mmap(NULL, g->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(g->map != MAP_FAILED);
	g_assert_true(mmap(g->map, data_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			   g->memfd, 0) == g->map);
	g->buf = g->map + data_len - size;
}

static void guarded_fini(struct guarded *g)
{
	if (g->map) {
		munmap(g->map, g->map_len);
		close(g->memfd);
	} else {
		g_free(g->buf);
	}
}

static unsigned quadrant(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	return (x >= w / 2) + 2 * (y >= h / 2);
}

/*
 * Lays out fourcc (NV12 or I420) at w x h (even) in buf the way hw/v4l2 does
 * (cg_v4l2_layout: stride bpl, chroma bpl / 2 for I420, planes back to back) and paints
 * the quadrants. Returns the buffer size needed when buf is NULL.
 */
static size_t v4l2_layout(struct cg_frame *f, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t bpl,
			  uint8_t *buf, int fd)
{
	uint32_t offset[3] = { 0, bpl * h, 0 }, stride[3] = { bpl, bpl, 0 };
	unsigned n = fourcc == CG_FOURCC_NV12 ? 2 : 3;
	size_t size = (size_t)bpl * h * 3 / 2;

	if (fourcc == CG_FOURCC_I420) {
		stride[1] = stride[2] = bpl / 2;
		offset[2] = offset[1] + bpl / 2 * (h / 2);
	}
	if (!buf)
		return size;
	memset(f, 0, sizeof(*f));
	f->fourcc = fourcc;
	f->width = w;
	f->height = h;
	f->n_planes = n;
	f->buf_size = f->bytesused = (uint32_t)size;
	for (unsigned p = 0; p < n; p++) {
		f->planes[p].dma_fd = fd;
		f->planes[p].offset = offset[p];
		f->planes[p].stride = stride[p];
		f->planes[p].data = buf + offset[p];
	}
	memset(buf, 0x10, size);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			f->planes[0].data[(size_t)y * bpl + x] = quad_yuv[quadrant(x, y, w, h)][0];
	for (uint32_t y = 0; y < h / 2; y++) {
		for (uint32_t x = 0; x < w / 2; x++) {
			const uint8_t *c = quad_yuv[quadrant(2 * x, 2 * y, w, h)];

			if (fourcc == CG_FOURCC_NV12) {
				f->planes[1].data[(size_t)y * stride[1] + 2 * x] = c[1];
				f->planes[1].data[(size_t)y * stride[1] + 2 * x + 1] = c[2];
			} else {
				f->planes[1].data[(size_t)y * stride[1] + x] = c[1];
				f->planes[2].data[(size_t)y * stride[2] + x] = c[2];
			}
		}
	}
	return size;
}

/* Decodes jpeg to 4:2:0 planes and checks its size and the middle of each quadrant. */
static void check_jpeg(const uint8_t *jpeg, size_t len, uint32_t w, uint32_t h)
{
	tjhandle tj = tjInitDecompress();
	int jw, jh, sub, cs;
	uint8_t *y, *u, *v;
	unsigned char *planes[3];
	int strides[3];

	g_assert_nonnull(tj);
	g_assert_cmpuint(len, >, 2);
	g_assert_cmpuint(jpeg[0], ==, 0xff);
	g_assert_cmpuint(jpeg[1], ==, 0xd8);
	g_assert_cmpint(tjDecompressHeader3(tj, jpeg, len, &jw, &jh, &sub, &cs), ==, 0);
	g_assert_cmpint(jw, ==, (int)w);
	g_assert_cmpint(jh, ==, (int)h);
	g_assert_cmpint(sub, ==, TJSAMP_420);
	y = g_malloc((size_t)w * h);
	u = g_malloc((size_t)(w / 2) * (h / 2));
	v = g_malloc((size_t)(w / 2) * (h / 2));
	planes[0] = y;
	planes[1] = u;
	planes[2] = v;
	strides[0] = (int)w;
	strides[1] = strides[2] = (int)(w / 2);
	g_assert_cmpint(tjDecompressToYUVPlanes(tj, jpeg, len, planes, (int)w, strides, (int)h, 0),
			==, 0);
	for (unsigned q = 0; q < 4; q++) {
		uint32_t cx = (q & 1) ? w * 3 / 4 : w / 4, cy = (q & 2) ? h * 3 / 4 : h / 4;
		int got[3] = { y[(size_t)cy * w + cx], u[(size_t)(cy / 2) * (w / 2) + cx / 2],
			       v[(size_t)(cy / 2) * (w / 2) + cx / 2] };

		for (unsigned c = 0; c < 3; c++) {
			if (abs(got[c] - quad_yuv[q][c]) > TOLERANCE)
				g_error("quadrant %u plane %u: %d, want %u", q, c, got[c],
					quad_yuv[q][c]);
		}
	}
	g_free(y);
	g_free(u);
	g_free(v);
	tjDestroy(tj);
}

static void encode_v4l2(uint32_t fourcc, uint32_t w, uint32_t h, uint32_t bpl, bool use_malloc)
{
	struct cg_snapshot *snap = cg_snapshot_new();
	struct cg_frame f;
	struct guarded g;
	size_t size = v4l2_layout(&f, fourcc, w, h, bpl, NULL, -1);
	uint8_t *jpeg = NULL;
	size_t len = 0;

	g_assert_nonnull(snap);
	guarded_init(&g, size, use_malloc);
	v4l2_layout(&f, fourcc, w, h, bpl, g.buf, g.memfd);
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, 0);
	check_jpeg(jpeg, len, w & ~1u, h & ~1u);
	g_free(jpeg);
	/* A second frame reuses the scratch buffers. */
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, 0);
	check_jpeg(jpeg, len, w & ~1u, h & ~1u);
	g_free(jpeg);
	guarded_fini(&g);
	cg_snapshot_free(snap);
}

static void test_v4l2_nv12(void)
{
	encode_v4l2(CG_FOURCC_NV12, 640, 480, 640, false);
	encode_v4l2(CG_FOURCC_NV12, 640, 480, 640, true);
	/* Padded lines, and a size that is not a whole number of MCUs. */
	encode_v4l2(CG_FOURCC_NV12, 200, 122, 256, false);
	encode_v4l2(CG_FOURCC_NV12, 200, 122, 256, true);
}

static void test_v4l2_yu12(void)
{
	encode_v4l2(CG_FOURCC_I420, 640, 480, 640, false);
	encode_v4l2(CG_FOURCC_I420, 640, 480, 640, true);
	encode_v4l2(CG_FOURCC_I420, 200, 122, 256, false);
	encode_v4l2(CG_FOURCC_I420, 200, 122, 256, true);
}

/* The test source's layout: three separate planes, offsets 0 (no fd to index). */
static void test_testsrc_i420(void)
{
	struct cg_snapshot *snap = cg_snapshot_new();
	uint32_t w = 320, h = 240;
	struct cg_frame f, ref;
	struct guarded g[3];
	uint8_t *jpeg = NULL, *one = g_malloc((size_t)w * h * 3 / 2);
	size_t len = 0;

	v4l2_layout(&ref, CG_FOURCC_I420, w, h, w, one, -1);
	f = ref;
	for (unsigned p = 0; p < 3; p++) {
		size_t plane = p ? (size_t)(w / 2) * (h / 2) : (size_t)w * h;

		guarded_init(&g[p], plane, false);
		memcpy(g[p].buf, ref.planes[p].data, plane);
		f.planes[p].dma_fd = -1;
		f.planes[p].offset = 0;
		f.planes[p].data = g[p].buf;
	}
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, 0);
	check_jpeg(jpeg, len, w, h);
	g_free(jpeg);
	for (unsigned p = 0; p < 3; p++)
		guarded_fini(&g[p]);
	g_free(one);
	cg_snapshot_free(snap);
}

/* An odd size: the last column and row go (the layouts hold no chroma for them). */
static void test_odd_size(void)
{
	encode_v4l2(CG_FOURCC_NV12, 101, 67, 101, false);
	encode_v4l2(CG_FOURCC_NV12, 101, 67, 101, true);
	encode_v4l2(CG_FOURCC_I420, 101, 67, 102, false);
	encode_v4l2(CG_FOURCC_I420, 101, 67, 102, true);
}

static void test_refused(void)
{
	struct cg_snapshot *snap = cg_snapshot_new();
	uint8_t buf[64 * 48 * 3 / 2], *jpeg = NULL;
	struct cg_frame f;
	size_t len = 0;

	v4l2_layout(&f, CG_FOURCC_NV12, 64, 48, 64, buf, -1);
	f.fourcc = CG_FOURCC_YUYV;
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, -ENOTSUP);
	f.fourcc = CG_FOURCC_NV12;
	f.n_planes = 1;
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, -ENOTSUP);
	f.n_planes = 2;
	f.planes[1].data = NULL; /* DMA-BUF only */
	f.planes[1].dma_fd = 3;
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, -ENOTSUP);
	f.planes[1].data = buf + 64 * 48;
	f.width = 1;
	g_assert_cmpint(cg_snapshot_encode(snap, &f, 90, &jpeg, &len), ==, -ENOTSUP);
	g_assert_null(jpeg);
	g_assert_cmpuint(len, ==, 0);
	cg_snapshot_free(snap);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/snapshot/v4l2-nv12", test_v4l2_nv12);
	g_test_add_func("/snapshot/v4l2-yu12", test_v4l2_yu12);
	g_test_add_func("/snapshot/testsrc-i420", test_testsrc_i420);
	g_test_add_func("/snapshot/odd-size", test_odd_size);
	g_test_add_func("/snapshot/refused", test_refused);
	return g_test_run();
}
