/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * x264 backend: stream structure (SPS/PPS/IDR, 4-byte start codes), profile and level in
 * the SPS bytes, keyframe requests, rate, and the block code surviving encode + decode.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "hw/fake/blockcode.h"
#include "hw/registry.h"
#include "hw/sw/x264.h"

#define WAIT_MS	 2000
#define MAX_NALS 64

struct nal {
	const uint8_t *p; /* NAL header byte */
	size_t len;
	unsigned sc_len;
};

/* Splits Annex-B; emulation prevention guarantees 00 00 01 only appears in start codes. */
static unsigned split(const struct cg_au *au, struct nal *nals)
{
	unsigned n = 0;

	for (size_t i = 0; i + 2 < au->len; i++) {
		if (au->data[i] || au->data[i + 1] || au->data[i + 2] != 1)
			continue;
		g_assert_cmpuint(n, <, MAX_NALS);
		nals[n].sc_len = i > 0 && !au->data[i - 1] ? 4 : 3;
		nals[n].p = au->data + i + 3;
		if (n)
			nals[n - 1].len = (size_t)(nals[n].p - nals[n].sc_len - nals[n - 1].p);
		n++;
		i += 2;
	}
	if (n)
		nals[n - 1].len = (size_t)(au->data + au->len - nals[n - 1].p);
	return n;
}

static unsigned nal_type(const struct nal *n)
{
	return n->p[0] & 0x1f;
}

/* Checks start codes and returns a bitmask of NAL types present. */
static unsigned check_au(const struct cg_au *au)
{
	struct nal nals[MAX_NALS];
	unsigned n = split(au, nals), types = 0;

	g_assert_cmpuint(n, >, 0);
	g_assert_true(nals[0].p == au->data + 4); /* the AU starts with a start code */
	for (unsigned i = 0; i < n; i++) {
		g_assert_cmpuint(nals[i].sc_len, ==, 4);
		g_assert_cmpuint(nals[i].len, >, 0);
		types |= 1u << nal_type(&nals[i]);
	}
	return types;
}

static const uint8_t *find_sps(const struct cg_au *au)
{
	struct nal nals[MAX_NALS];
	unsigned n = split(au, nals);

	for (unsigned i = 0; i < n; i++)
		if (nal_type(&nals[i]) == 7 && nals[i].len >= 4)
			return nals[i].p;
	return NULL;
}

/* A frame source: the test pattern at a fast rate so tests do not wait long. */
struct src {
	const struct cg_capture_ops *ops;
	struct cg_capture *cap;
};

static void src_open(struct src *s, uint32_t w, uint32_t h)
{
	struct cg_capture_cfg cfg = { .device = "test", .width = w, .height = h, .fps = 120 };

	s->ops = cg_registry_capture("test");
	g_assert_cmpint(s->ops->open(&cfg, &s->cap), ==, 0);
	g_assert_cmpint(s->ops->start(s->cap), ==, 0);
}

static struct cg_frame *src_next(struct src *s)
{
	struct pollfd pfd = { .fd = s->ops->fd(s->cap), .events = POLLIN };
	struct cg_frame *f = NULL;

	g_assert_cmpint(poll(&pfd, 1, WAIT_MS), ==, 1);
	g_assert_cmpint(s->ops->dequeue(s->cap, &f), ==, 0);
	return f;
}

static void src_close(struct src *s)
{
	s->ops->close(s->cap);
}

static struct cg_encoder *enc_open(uint32_t w, uint32_t h, uint32_t kbps, uint32_t gop,
				   enum cg_h264_profile_choice profile)
{
	struct cg_encoder_cfg cfg = { .width = w,
				      .height = h,
				      .fps = 30,
				      .bitrate_kbps = kbps,
				      .keyframe_interval = gop,
				      .profile = profile };
	struct cg_encoder *enc = NULL;

	g_assert_cmpint(cg_x264_encoder_ops.open(&cfg, &enc), ==, 0);
	return enc;
}

static struct cg_au *encode_next(struct cg_encoder *enc, struct src *s)
{
	struct cg_frame *f = src_next(s);
	struct cg_au *au = NULL;

	g_assert_cmpint(cg_x264_encoder_ops.encode(enc, f, &au), ==, 0);
	g_assert_nonnull(au);
	g_assert_cmpuint(au->capture_wall_usec, ==, f->capture_wall_usec);
	g_assert_cmpuint(au->capture_mono_usec, ==, f->capture_mono_usec);
	g_assert_cmpuint(au->frame_sequence, ==, f->sequence);
	g_assert_cmpuint(au->len, <=, au->cap);
	cg_frame_unref(f);
	return au;
}

static void test_registry(void)
{
	const struct cg_encoder_ops *const *all = cg_registry_encoders();

	g_assert_true(cg_registry_encoder("x264") == &cg_x264_encoder_ops);
	/* "auto" is the head of the list: hardware first, x264 before passthrough. */
	g_assert_true(cg_registry_encoder("auto") == all[0]);
	for (size_t i = 0; all[i]; i++) {
		if (all[i] == &cg_x264_encoder_ops) {
			g_assert_nonnull(all[i + 1]);
			g_assert_cmpstr(all[i + 1]->name, ==, "passthrough");
		}
	}
	g_assert_null(cg_registry_encoder("vaapi-nope"));
	g_assert_null(cg_registry_encoder(NULL));
}

static void test_bad_cfg(void)
{
	struct cg_encoder_cfg cfg = { .width = 641, .height = 480, .fps = 30, .bitrate_kbps = 500 };
	struct cg_encoder *enc = NULL;

	g_assert_cmpint(cg_x264_encoder_ops.open(&cfg, &enc), ==, -EINVAL);
	cfg.width = 640;
	cfg.fps = 0;
	g_assert_cmpint(cg_x264_encoder_ops.open(&cfg, &enc), ==, -EINVAL);
	/* 8K at 240 fps fits no level. */
	cfg = (struct cg_encoder_cfg){
		.width = 7680, .height = 4320, .fps = 240, .bitrate_kbps = 500
	};
	g_assert_cmpint(cg_x264_encoder_ops.open(&cfg, &enc), ==, -ENOTSUP);
	g_assert_null(enc);
}

static void test_first_au(void)
{
	struct src s;
	struct cg_encoder *enc;
	struct cg_au *au;
	unsigned types;

	src_open(&s, 640, 480);
	enc = enc_open(640, 480, 800, 60, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	au = encode_next(enc, &s);
	g_assert_true(au->keyframe);
	types = check_au(au);
	g_assert_true(types & (1u << 7)); /* SPS */
	g_assert_true(types & (1u << 8)); /* PPS */
	g_assert_true(types & (1u << 5)); /* IDR slice */
	g_assert_false(types & (1u << 1));
	g_assert_cmpuint(au->encode_usec, >, 0);
	cg_au_unref(au);
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

/* The SPS bytes themselves, and get_profile() agreeing with them. */
static void check_profile(uint32_t w, uint32_t h, uint32_t kbps,
			  enum cg_h264_profile_choice profile, uint8_t want_profile,
			  uint8_t want_level)
{
	struct src s;
	struct cg_encoder *enc;
	struct cg_au *au;
	const uint8_t *sps;
	uint8_t p = 0, c = 0, l = 0;

	src_open(&s, w, h);
	enc = enc_open(w, h, kbps, 60, profile);
	au = encode_next(enc, &s);
	sps = find_sps(au);
	g_assert_nonnull(sps);
	g_assert_cmpuint(sps[1], ==, want_profile);
	g_assert_cmpuint(sps[3], ==, want_level);
	if (want_profile == 66)
		g_assert_cmphex(sps[2] & 0x40, ==, 0x40); /* constraint_set1: Constrained */
	cg_x264_encoder_ops.get_profile(enc, &p, &c, &l);
	g_assert_cmpuint(p, ==, sps[1]);
	g_assert_cmphex(c, ==, sps[2]);
	g_assert_cmpuint(l, ==, sps[3]);
	cg_au_unref(au);
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

static void test_profile_720p(void)
{
	check_profile(1280, 720, 2500, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE, 66, 31);
}

static void test_profile_1080p(void)
{
	check_profile(1920, 1080, 4000, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE, 66, 40);
}

static void test_profile_vga(void)
{
	check_profile(640, 480, 1000, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE, 66, 30);
}

static void test_profile_main(void)
{
	check_profile(1280, 720, 2500, CG_ENCODER_PROFILE_MAIN, 77, 31);
}

static void test_keyframe_request(void)
{
	struct src s;
	struct cg_encoder *enc;
	struct cg_au *au;
	size_t key_len = 0, delta_max = 0;

	src_open(&s, 640, 480);
	enc = enc_open(640, 480, 800, 300, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	au = encode_next(enc, &s);
	key_len = au->len;
	cg_au_unref(au);
	for (int i = 0; i < 5; i++) {
		au = encode_next(enc, &s);
		g_assert_false(au->keyframe);
		g_assert_cmpuint(check_au(au) & ((1u << 5) | (1u << 7)), ==, 0);
		delta_max = MAX(delta_max, au->len);
		cg_au_unref(au);
	}
	/* What makes them non-keyframes is checked above (no IDR slice, no SPS); their sizes
	 * against the IDR's depend on x264's threaded rate control and the architecture's
	 * code paths (arm64 under load once made a P-frame 33 bytes larger), so only a
	 * figure. */
	g_test_message("IDR %zu bytes, largest of the next five frames %zu bytes", key_len,
		       delta_max);

	cg_x264_encoder_ops.request_keyframe(enc);
	au = encode_next(enc, &s);
	g_assert_true(au->keyframe);
	g_assert_cmpuint(check_au(au) & ((1u << 5) | (1u << 7) | (1u << 8)), ==,
			 (1u << 5) | (1u << 7) | (1u << 8));
	cg_au_unref(au);
	au = encode_next(enc, &s);
	g_assert_false(au->keyframe);
	cg_au_unref(au);
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

static void test_gop(void)
{
	struct src s;
	struct cg_encoder *enc;

	src_open(&s, 320, 240);
	enc = enc_open(320, 240, 300, 5, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	for (int i = 0; i < 12; i++) {
		struct cg_au *au = encode_next(enc, &s);

		g_assert_cmpint(au->keyframe, ==, i % 5 == 0);
		cg_au_unref(au);
	}
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

static void test_bad_frame(void)
{
	struct src s;
	struct cg_encoder *enc;
	struct cg_frame *f;
	struct cg_au *au = NULL;

	src_open(&s, 320, 240);
	enc = enc_open(640, 480, 500, 60, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	f = src_next(&s);
	g_assert_cmpint(cg_x264_encoder_ops.encode(enc, f, &au), ==, -EINVAL);
	g_assert_null(au);
	cg_frame_unref(f);
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

static void test_set_bitrate(void)
{
	struct src s;
	struct cg_encoder *enc;

	src_open(&s, 320, 240);
	enc = enc_open(320, 240, 300, 60, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	cg_au_unref(encode_next(enc, &s));
	g_assert_cmpint(cg_x264_encoder_ops.set_bitrate(enc, 150), ==, 0);
	g_assert_cmpint(cg_x264_encoder_ops.set_bitrate(enc, 0), ==, -EINVAL);
	for (int i = 0; i < 3; i++)
		cg_au_unref(encode_next(enc, &s));
	cg_x264_encoder_ops.close(enc);
	src_close(&s);
}

#define E2E_FRAMES 12

struct e2e_case {
	uint32_t w, h, kbps;
};

static void decode_with_ffmpeg(const char *in, const char *out)
{
	const char *argv[] = { "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			       "-f",	 "h264",	 "-i",	      in,      "-vsync",   "0",
			       "-f",	 "rawvideo",	 "-pix_fmt",  "gray",  out,	   NULL };
	g_autofree char *err = NULL;
	GError *error = NULL;
	int status = 0;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
				   &err, &status, &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("ffmpeg failed: %s", err);
}

/* Encode the test pattern, decode it with ffmpeg, and read every frame's code back. */
static void test_blockcode_survives(gconstpointer data)
{
	const struct e2e_case *c = data;
	uint64_t ms[E2E_FRAMES];
	uint16_t seq[E2E_FRAMES];
	bool idr[E2E_FRAMES];
	int last_shown = -1;
	g_autofree char *dir = NULL, *in = NULL, *out = NULL, *raw = NULL, *ffmpeg = NULL;
	GString *stream = g_string_new(NULL);
	gsize raw_len = 0;
	struct cg_encoder *enc;
	struct src s;

	ffmpeg = g_find_program_in_path("ffmpeg");
	if (!ffmpeg) {
		g_string_free(stream, TRUE);
		g_test_skip("ffmpeg not installed");
		return;
	}
	src_open(&s, c->w, c->h);
	enc = enc_open(c->w, c->h, c->kbps, 60, CG_ENCODER_PROFILE_CONSTRAINED_BASELINE);
	for (int i = 0; i < E2E_FRAMES; i++) {
		struct cg_au *au = encode_next(enc, &s);

		ms[i] = au->capture_wall_usec / 1000;
		seq[i] = (uint16_t)au->frame_sequence;
		idr[i] = au->keyframe;
		g_string_append_len(stream, (const char *)au->data, (gssize)au->len);
		cg_au_unref(au);
	}
	cg_x264_encoder_ops.close(enc);
	src_close(&s);

	dir = g_dir_make_tmp("camgate-x264-XXXXXX", NULL);
	g_assert_nonnull(dir);
	in = g_build_filename(dir, "in.h264", NULL);
	out = g_build_filename(dir, "out.y", NULL);
	g_assert_true(g_file_set_contents(in, stream->str, (gssize)stream->len, NULL));
	g_string_free(stream, TRUE);
	decode_with_ffmpeg(in, out);
	g_assert_true(g_file_get_contents(out, &raw, &raw_len, NULL));
	g_assert_cmpuint(raw_len, ==, (gsize)c->w * c->h * E2E_FRAMES);

	/*
	 * Each decoded picture must carry a code that was encoded, read without error. An IDR
	 * codes every macroblock: its own code exactly. A P-frame may show an earlier frame's
	 * code, never a later one's nor one going backwards: at a low bitrate, when the source
	 * ran late and the picture jumped (a busy machine, qemu), x264 may spend no bits on the
	 * code's macroblocks and skip them, which keeps the previous frame's cells.
	 */
	for (int i = 0; i < E2E_FRAMES; i++) {
		uint64_t got_ms = 0;
		uint16_t got_seq = 0;
		const uint8_t *luma = (const uint8_t *)raw + (gsize)i * c->w * c->h;
		int shown = -1;

		g_assert_cmpint(cg_blockcode_read(luma, c->w, c->w, c->h, &got_ms, &got_seq), ==,
				0);
		for (int j = i; j >= 0 && shown < 0; j--)
			if (got_ms == ms[j] && got_seq == seq[j])
				shown = j;
		if (shown != i)
			g_test_message("frame %d shows frame %d's code (%" G_GUINT64_FORMAT
				       " ms, #%u)",
				       i, shown, got_ms, got_seq);
		g_assert_cmpint(shown, >=, 0);
		g_assert_cmpint(shown, >=, last_shown);
		if (idr[i])
			g_assert_cmpint(shown, ==, i);
		last_shown = shown;
	}
	g_assert_cmpint(last_shown, >, 0); /* the code moved */
	g_unlink(in);
	g_unlink(out);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct e2e_case vga = { 640, 480, 800 }, hd = { 1280, 720, 2000 },
				     low = { 640, 480, 300 };

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/x264/registry", test_registry);
	g_test_add_func("/x264/bad-cfg", test_bad_cfg);
	g_test_add_func("/x264/first-au", test_first_au);
	g_test_add_func("/x264/profile-720p", test_profile_720p);
	g_test_add_func("/x264/profile-1080p", test_profile_1080p);
	g_test_add_func("/x264/profile-vga", test_profile_vga);
	g_test_add_func("/x264/profile-main", test_profile_main);
	g_test_add_func("/x264/keyframe-request", test_keyframe_request);
	g_test_add_func("/x264/gop", test_gop);
	g_test_add_func("/x264/bad-frame", test_bad_frame);
	g_test_add_func("/x264/set-bitrate", test_set_bitrate);
	g_test_add_data_func("/x264/blockcode-survives/640x480", &vga, test_blockcode_survives);
	g_test_add_data_func("/x264/blockcode-survives/1280x720", &hd, test_blockcode_survives);
	g_test_add_data_func("/x264/blockcode-survives/640x480-300kbps", &low,
			     test_blockcode_survives);
	return g_test_run();
}
