/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's H.264 hardware path on a kernel encoder that speaks H.264, inside the qemu guest
 * of tests/vdev/run.sh --h264: vivid captures (hw/v4l2/capture.c, buffers exported with
 * VIDIOC_EXPBUF), camgate's M2M encoder (hw/v4l2/m2m_enc.c, found the way --encoder=auto
 * finds one: the first backend of the registry that opens, on the first node that encodes
 * H.264) feeds vh264enc (tests/vdev/vh264enc, lossless I_PCM/P_Skip H.264), and every access
 * unit goes through camgate's RTP packetizer and back through the depacketizer.
 *
 * In the guest (--dump=/dev/ttyS1): checks what can be checked there (each AU survives RTP
 * unchanged, key frames carry SPS/PPS of Constrained Baseline, an IDR within 2 AUs of a
 * request, the bitrate, I-period, level, profile and repeat-headers controls reached the
 * driver as its read-only parameters tell, a drain and reopen goes on with an IDR, how
 * many bytes were copied) and writes the depacketized stream and, for each AU, the MD5 of
 * the picture it was made from (the frame as captured, as 4:2:0: vh264_to_i420) to the dump
 * port as records.
 * On the host (--verify=DUMP): FFmpeg decodes each case's stream and every decoded
 * picture's MD5 must be the captured frame's, in order.
 *
 * With --padded the driver rounds the OUTPUT height up (vh264enc align_height=N, as the Pi
 * and Qualcomm do): camgate must set the OUTPUT crop to the picture's size, which the driver
 * writes in the SPS, so that the decoded pictures are still the captured frames.
 *
 * vdev-h264 --case=NAME --source=/dev/videoN --format=NV12|YU12|YUYV --dump=/dev/ttySn
 *           [--size=320x180] [--aus=24] [--copies=zero|nonzero] [--padded] [--params=DIR]
 *           [--verbose]
 * vdev-h264 --verify=DUMP
 * Exit: 0 every check passed, 1 a check failed, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "hw/capture.h"
#include "hw/encoder.h"
#include "hw/registry.h"
#include "proto/h264.h"
#include "util/log.h"
#include "util/time.h"
#include "vh264enc/vh264-core.h"

#define VH_FPS	      25
#define VH_KBPS	      800
#define VH_KBPS_LATER 600
#define VH_I_PERIOD   10
#define VH_RING	      32
#define VH_MTU	      1200
#define VH_TIMEOUT_US (120 * CG_USEC_PER_SEC)
#define VH_REC_MAGIC  0x56483234u /* "VH24" */
#define VH_MAX_CASES  8

enum vh_rec { VH_REC_AU = 'A', VH_REC_EXPECT = 'E', VH_REC_CASE = 'C' };

struct vh {
	const char *name, *source, *dump, *copies, *params, *verify;
	uint32_t format, width, height, aus;
	bool padded;
	int dump_fd;
	const struct cg_capture_ops *cap_ops;
	const struct cg_encoder_ops *enc_ops;
	struct cg_capture *cap;
	struct cg_encoder *enc;
	struct cg_encoder_cfg cfg;
	struct {
		uint32_t seq;
		uint8_t md5[16];
		bool set;
	} ring[VH_RING];
	/* what happened */
	uint32_t n_aus, n_keys, key_req_at, key_distance, restarted_at, unmatched;
	uint64_t copied;
	bool rtp_ok, keys_have_sps, restart_idr;
	uint8_t *depack;
	size_t depack_cap;
	int failures;
};

static void vh_check(struct vh *v, bool ok, const char *what)
{
	printf("vdev-h264: %s: CHECK %s: %s\n", v->name ? v->name : "verify", what,
	       ok ? "PASS" : "FAIL");
	v->failures += !ok;
}

/* ---- the dump: records of [magic][type][len LE32][payload] ---- */

static void vh_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			printf("vdev-h264: dump write failed: %s\n", strerror(errno));
			exit(1);
		}
		b += w;
		n -= (size_t)w;
	}
}

static void vh_record(struct vh *v, enum vh_rec type, const void *p, size_t n)
{
	uint8_t h[9] = { VH_REC_MAGIC >> 24, (VH_REC_MAGIC >> 16) & 0xff,
			 (VH_REC_MAGIC >> 8) & 0xff, VH_REC_MAGIC & 0xff, (uint8_t)type };

	for (unsigned i = 0; i < 4; i++)
		h[5 + i] = (uint8_t)(n >> (8 * i));
	vh_write_all(v->dump_fd, h, sizeof(h));
	vh_write_all(v->dump_fd, p, n);
}

/* A serial port passes bytes as they are only in raw mode. */
static int vh_open_dump(struct vh *v)
{
	struct termios t;

	v->dump_fd = open(v->dump, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (v->dump_fd < 0)
		return -errno;
	if (tcgetattr(v->dump_fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetospeed(&t, B115200);
		tcsetattr(v->dump_fd, TCSANOW, &t);
	}
	return 0;
}

/* ---- guest side ---- */

static void vh_frame_md5(struct vh *v, const struct cg_frame *f, uint8_t md5[16])
{
	struct vh264_params p = { f->width, f->height, 0 };
	struct vh264_picture pic = { .fmt = f->fourcc == CG_FOURCC_YUYV	  ? VH264_IN_YUYV
					    : f->fourcc == CG_FOURCC_NV12 ? VH264_IN_NV12
									  : VH264_IN_I420 };
	size_t n = (size_t)f->width * f->height * 3 / 2;
	uint8_t *buf = g_malloc(n);
	GChecksum *c = g_checksum_new(G_CHECKSUM_MD5);
	gsize len = 16;

	for (unsigned i = 0; i < f->n_planes && i < 3; i++) {
		pic.plane[i] = f->planes[i].data;
		pic.stride[i] = f->planes[i].stride;
	}
	vh264_to_i420(&p, &pic, buf);
	g_checksum_update(c, buf, n);
	g_checksum_get_digest(c, md5, &len);
	g_checksum_free(c);
	g_free(buf);
	(void)v;
}

/* The AU through camgate's packetizer and depacketizer: it must come back byte for byte. */
static const uint8_t *vh_rtp(struct vh *v, const struct cg_au *au, size_t *len)
{
	size_t arena = cg_h264_plan_arena_bound(au->len, VH_MTU);
	size_t items = cg_h264_plan_items_bound(au->len, VH_MTU);
	struct cg_h264_plan plan = { .arena = g_malloc(arena),
				     .arena_cap = arena,
				     .items = g_new(struct cg_h264_payload, items),
				     .items_cap = items };
	struct cg_h264_depacketizer d = { .buf = v->depack, .cap = v->depack_cap };
	int r = cg_h264_plan_build(&plan, au->data, au->len, VH_MTU), done = 0;

	for (size_t i = 0; r == 0 && i < plan.n_items && done <= 0; i++) {
		const struct cg_h264_payload *it = &plan.items[i];

		done = cg_h264_depacketize(&d, plan.arena + it->offset, it->len, it->marker);
	}
	g_free(plan.arena);
	g_free(plan.items);
	if (r < 0 || done != 1 || d.len != au->len || memcmp(d.buf, au->data, au->len)) {
		printf("vdev-h264: %s: AU %u (%zu bytes) through RTP: plan %s, depacketizer %s, "
		       "%zu bytes back\n",
		       v->name, v->n_aus, au->len, strerror(-r), done < 0 ? strerror(-done) : "ok",
		       d.len);
		v->rtp_ok = false;
		*len = 0;
		return NULL;
	}
	*len = d.len;
	return d.buf;
}

static int vh_open_encoder(struct vh *v)
{
	const struct cg_encoder_ops *const *all = cg_registry_encoders();
	struct cg_capture_format cf;
	int r = -ENODEV;

	v->cap_ops->get_format(v->cap, &cf);
	if (!v->depack) {
		v->depack_cap = vh264_max_au_bytes(cf.width, cf.height) + 4096;
		v->depack = g_malloc(v->depack_cap);
	}
	v->cfg = (struct cg_encoder_cfg){ .width = cf.width,
					  .height = cf.height,
					  .fps = VH_FPS,
					  .bitrate_kbps = VH_KBPS,
					  .keyframe_interval = VH_I_PERIOD,
					  .input_fourcc = cf.fourcc,
					  .input_stride = cf.stride };
	/* As --encoder=auto: the first backend that opens, no device named. */
	for (; *all && r < 0; all++) {
		r = (*all)->open(&v->cfg, &v->enc);
		v->enc_ops = r == 0 ? *all : NULL;
	}
	printf("vdev-h264: %s: %.4s %ux%u (line %u) -> encoder auto: %s\n", v->name,
	       (const char *)&cf.fourcc, cf.width, cf.height, cf.stride,
	       v->enc_ops ? v->enc_ops->name : strerror(-r));
	return r;
}

static void vh_on_au(struct vh *v, struct cg_au *au)
{
	const uint8_t *p;
	struct cg_h264_profile prof;
	size_t len;
	unsigned i;

	v->n_aus++;
	v->copied += au->copied_bytes;
	p = vh_rtp(v, au, &len);
	if (!p)
		return;
	for (i = 0; i < VH_RING && !(v->ring[i].set && v->ring[i].seq == au->frame_sequence); i++)
		;
	if (i == VH_RING) {
		v->unmatched++;
		return;
	}
	vh_record(v, VH_REC_AU, p, len);
	vh_record(v, VH_REC_EXPECT, v->ring[i].md5, 16);
	if (au->keyframe) {
		v->n_keys++;
		if (cg_h264_au_sps_profile(au->data, au->len, &prof) < 0 ||
		    !cg_h264_profile_is_constrained_baseline(&prof))
			v->keys_have_sps = false;
		if (v->key_req_at && !v->key_distance)
			v->key_distance = v->n_aus - v->key_req_at;
		if (v->restarted_at && v->n_aus == v->restarted_at + 1)
			v->restart_idr = true;
	}
	if (cg_log_get_level() >= CG_LOG_DEBUG)
		printf("vdev-h264: AU %u: frame %u, %zu bytes%s, %u copied\n", v->n_aus,
		       au->frame_sequence, au->len, au->keyframe ? ", IDR" : "", au->copied_bytes);
}

static void vh_on_frame(struct vh *v, struct cg_frame *f)
{
	unsigned slot = f->sequence % VH_RING;
	int r;

	vh_frame_md5(v, f, v->ring[slot].md5);
	v->ring[slot].seq = f->sequence;
	v->ring[slot].set = true;
	r = v->enc_ops->encode(v->enc, f, &(struct cg_au *){ NULL });
	if (r < 0 && r != -EAGAIN)
		printf("vdev-h264: %s: encode: %s\n", v->name, strerror(-r));
}

static long vh_param(struct vh *v, const char *name)
{
	g_autofree char *path = g_build_filename(v->params, name, NULL);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	return strtol(text, NULL, 10);
}

/* The scenario, by AU count: a key frame asked for, the bitrate changed, drain and reopen. */
static int vh_step(struct vh *v, uint32_t *done_step)
{
	if (v->n_aus >= 6 && *done_step < 1) {
		*done_step = 1;
		v->key_req_at = v->n_aus;
		v->enc_ops->request_keyframe(v->enc);
	}
	if (v->n_aus >= 9 && *done_step < 2) {
		*done_step = 2;
		vh_check(v,
			 v->enc_ops->set_bitrate(v->enc, VH_KBPS_LATER) == 0 &&
				 vh_param(v, "bitrate") == VH_KBPS_LATER * 1000,
			 "a new bitrate reaches the driver");
	}
	if (v->n_aus >= v->aus / 2 + 3 && *done_step < 3) {
		long drains = vh_param(v, "drains");

		*done_step = 3;
		v->enc_ops->close(v->enc); /* drains: V4L2_ENC_CMD_STOP, the LAST buffer */
		v->enc = NULL;
		vh_check(v, vh_param(v, "drains") == drains + 1, "the close drained the encoder");
		v->restarted_at = v->n_aus;
		return vh_open_encoder(v);
	}
	return 0;
}

static int vh_loop(struct vh *v)
{
	uint64_t deadline = cg_mono_usec() + VH_TIMEOUT_US;
	uint32_t step = 0;
	int r = 0;

	while (v->n_aus < v->aus && r >= 0 && cg_mono_usec() < deadline) {
		struct pollfd p[2] = { { v->cap_ops->fd(v->cap), POLLIN, 0 },
				       { v->enc_ops->fd(v->enc), POLLIN, 0 } };
		struct cg_frame *f = NULL;
		struct cg_au *au = NULL;

		if (poll(p, 2, 200) < 0 && errno != EINTR)
			return -errno;
		if (v->cap_ops->dequeue(v->cap, &f) == 0) {
			vh_on_frame(v, f);
			cg_frame_unref(f);
		}
		while ((r = v->enc_ops->receive(v->enc, &au)) == 0) {
			vh_on_au(v, au);
			cg_au_unref(au);
		}
		r = r == -EAGAIN ? vh_step(v, &step) : r;
	}
	if (r < 0)
		printf("vdev-h264: %s: stopped: %s\n", v->name, strerror(-r));
	return r;
}

static void vh_report(struct vh *v)
{
	uint8_t prof = 0, cons = 0, level = 0;
	char what[160];

	if (v->enc)
		v->enc_ops->get_profile(v->enc, &prof, &cons, &level);
	printf("vdev-h264: %s: %u AUs, %u IDRs, %lu bytes copied, %u without their frame\n",
	       v->name, v->n_aus, v->n_keys, (unsigned long)v->copied, v->unmatched);
	vh_check(v, v->n_aus >= v->aus, "AUs flow from vh264enc");
	vh_check(v, v->rtp_ok && v->unmatched == 0, "every AU survives RTP and has its frame");
	vh_check(v, v->keys_have_sps && v->n_keys >= 3, "IDRs carry a Constrained Baseline SPS");
	snprintf(what, sizeof(what), "an IDR within 2 AUs of the request (%u)", v->key_distance);
	vh_check(v, v->key_distance >= 1 && v->key_distance <= 2, what);
	vh_check(v, v->restart_idr, "the stream goes on with an IDR after drain and reopen");
	if (v->copies && strcmp(v->copies, "zero") == 0)
		vh_check(v, v->copied == 0 && vh_param(v, "dmabuf_frames") >= v->aus,
			 "no pixel copied: every OUTPUT buffer an imported DMA-BUF");
	if (v->copies && strcmp(v->copies, "nonzero") == 0)
		vh_check(v, v->copied > 0 && vh_param(v, "dmabuf_frames") == 0,
			 "frames are copied and counted (no DMA-BUF import)");
	printf("vdev-h264: %s: driver got bitrate %ld, I-period %ld, level_idc %ld, profile %ld, "
	       "repeat headers %ld; stream level_idc %u\n",
	       v->name, vh_param(v, "bitrate"), vh_param(v, "i_period"), vh_param(v, "level_idc"),
	       vh_param(v, "profile"), vh_param(v, "repeat_seq_header"), level);
	vh_check(v, vh_param(v, "bitrate") == VH_KBPS * 1000,
		 "the bitrate reached the driver (again after the reopen)");
	vh_check(v, vh_param(v, "i_period") == VH_I_PERIOD, "the I-period reached the driver");
	vh_check(v, vh_param(v, "level_idc") == level && level, "the level reached the driver");
	vh_check(v, vh_param(v, "profile") == V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE,
		 "Constrained Baseline was asked for");
	vh_check(v, vh_param(v, "repeat_seq_header") == 1, "SPS/PPS repeated before every IDR");
	if (v->padded)
		vh_check(v,
			 vh_param(v, "crop_width") == v->width &&
				 vh_param(v, "crop_height") == v->height,
			 "the padded OUTPUT was cropped to the picture");
}

static int vh_guest(struct vh *v)
{
	uint32_t formats[2] = { v->format, 0 };
	struct cg_capture_cfg cc = { v->source, v->width, v->height, VH_FPS, formats };
	int r;

	v->rtp_ok = v->keys_have_sps = true;
	v->cap_ops = cg_registry_capture(v->source);
	r = vh_open_dump(v);
	if (r == 0)
		vh_record(v, VH_REC_CASE, v->name, strlen(v->name));
	if (r == 0)
		r = v->cap_ops ? v->cap_ops->open(&cc, &v->cap) : -ENODEV;
	if (r == 0)
		r = v->cap_ops->start(v->cap);
	if (r == 0)
		r = vh_open_encoder(v);
	if (r == 0)
		vh_loop(v);
	else
		printf("vdev-h264: %s: cannot start: %s\n", v->name, strerror(-r));
	vh_report(v);
	if (v->enc)
		v->enc_ops->close(v->enc);
	if (v->cap) {
		v->cap_ops->stop(v->cap);
		v->cap_ops->close(v->cap);
	}
	if (v->dump_fd >= 0) {
		tcdrain(v->dump_fd);
		close(v->dump_fd);
	}
	g_free(v->depack);
	return v->failures ? 1 : 0;
}

/* ---- host side ---- */

struct vh_case {
	char name[64];
	GString *stream;
	GPtrArray *expect; /* 32-hex MD5s */
};

static int vh_parse_dump(const uint8_t *b, size_t n, struct vh_case *cases, unsigned *n_cases)
{
	struct vh_case *c = NULL;
	size_t at = 0;

	while (at + 9 <= n) {
		uint32_t magic = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 |
				 (uint32_t)b[at + 2] << 8 | b[at + 3];
		uint32_t len = (uint32_t)b[at + 5] | (uint32_t)b[at + 6] << 8 |
			       (uint32_t)b[at + 7] << 16 | (uint32_t)b[at + 8] << 24;
		const uint8_t *p = b + at + 9;

		if (magic != VH_REC_MAGIC || at + 9 + len > n)
			return -EBADMSG;
		if (b[at + 4] == VH_REC_CASE && *n_cases < VH_MAX_CASES) {
			c = &cases[(*n_cases)++];
			snprintf(c->name, sizeof(c->name), "%.*s", (int)CG_MIN(len, 63u), p);
			c->stream = g_string_new(NULL);
			c->expect = g_ptr_array_new_with_free_func(g_free);
		} else if (c && b[at + 4] == VH_REC_AU) {
			g_string_append_len(c->stream, (const char *)p, len);
		} else if (c && b[at + 4] == VH_REC_EXPECT && len == 16) {
			GString *hex = g_string_new(NULL);

			for (unsigned i = 0; i < 16; i++)
				g_string_append_printf(hex, "%02x", p[i]);
			g_ptr_array_add(c->expect, g_string_free(hex, FALSE));
		}
		at += 9 + len;
	}
	return at == n ? 0 : -EBADMSG;
}

/* FFmpeg's MD5 of every decoded picture (yuv420p, packed), in output order. */
static GPtrArray *vh_ffmpeg_md5s(const char *h264, char **err)
{
	const char *argv[] = { "ffmpeg",   "-hide_banner", "-loglevel", "error",
			       "-nostdin", "-f",	   "h264",	"-i",
			       h264,	   "-vsync",	   "0",		"-pix_fmt",
			       "yuv420p",  "-f",	   "framemd5",	"-",
			       NULL };
	g_autofree char *out = NULL;
	GPtrArray *md5s = g_ptr_array_new_with_free_func(g_free);
	int status = 0;
	char **lines;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, err,
			  &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		return md5s;
	lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *last = strrchr(*l, ',');

		if (**l != '#' && last)
			g_ptr_array_add(md5s, g_strstrip(g_strdup(last + 1)));
	}
	g_strfreev(lines);
	return md5s;
}

static void vh_verify_case(struct vh *v, struct vh_case *c, const char *dir)
{
	g_autofree char *path = g_strdup_printf("%s/%s.h264", dir, c->name);
	g_autofree char *err = NULL;
	GPtrArray *got;
	unsigned same = 0;
	char what[200];

	v->name = c->name;
	g_file_set_contents(path, c->stream->str, (gssize)c->stream->len, NULL);
	got = vh_ffmpeg_md5s(path, &err);
	for (unsigned i = 0; i < got->len && i < c->expect->len; i++) {
		bool eq = strcmp(got->pdata[i], c->expect->pdata[i]) == 0;

		same += eq;
		if (!eq)
			printf("vdev-h264: %s: picture %u decodes to %s, the frame was %s\n",
			       c->name, i, (char *)got->pdata[i], (char *)c->expect->pdata[i]);
	}
	printf("vdev-h264: %s: %zu bytes of H.264, %u pictures decoded by FFmpeg, %u AUs "
	       "sent%s%s\n",
	       c->name, c->stream->len, got->len, c->expect->len, err && *err ? ": " : "",
	       err && *err ? err : "");
	snprintf(what, sizeof(what), "FFmpeg decodes every picture to the captured frame (%u/%u)",
		 same, c->expect->len);
	vh_check(v,
		 c->expect->len > 0 && got->len == c->expect->len && same == got->len &&
			 !(err && *err),
		 what);
	g_ptr_array_free(got, TRUE);
	g_unlink(path);
}

static int vh_verify(struct vh *v, unsigned want_cases)
{
	struct vh_case cases[VH_MAX_CASES] = { 0 };
	g_autofree char *dump = NULL, *dir = NULL, *ffmpeg = g_find_program_in_path("ffmpeg");
	unsigned n = 0;
	gsize len = 0;
	int r;

	if (!ffmpeg) {
		printf("vdev-h264: ffmpeg not installed: the streams are not decoded\n");
		return 77;
	}
	if (!g_file_get_contents(v->verify, &dump, &len, NULL)) {
		printf("vdev-h264: no dump at %s\n", v->verify);
		return 1;
	}
	r = vh_parse_dump((const uint8_t *)dump, len, cases, &n);
	vh_check(v, r == 0, "the dump from the guest is whole");
	vh_check(v, n >= want_cases, "a stream from every case");
	dir = g_dir_make_tmp("camgate-vdev-h264-XXXXXX", NULL);
	for (unsigned i = 0; i < n; i++) {
		vh_verify_case(v, &cases[i], dir);
		g_string_free(cases[i].stream, TRUE);
		g_ptr_array_free(cases[i].expect, TRUE);
	}
	g_rmdir(dir);
	return v->failures ? 1 : 0;
}

static int vh_parse(struct vh *v, int argc, char **argv, unsigned *want_cases)
{
	static const struct option opts[] = {
		{ "case", 1, 0, 'n' },
		{ "source", 1, 0, 's' },
		{ "format", 1, 0, 'f' },
		{ "size", 1, 0, 'z' },
		{ "aus", 1, 0, 'a' },
		{ "dump", 1, 0, 'd' },
		{ "copies", 1, 0, 'C' },
		{ "params", 1, 0, 'p' },
		{ "verify", 1, 0, 'V' },
		{ "cases", 1, 0, 'N' },
		{ "verbose", 0, 0, 'v' },
		{ "padded", 0, 0, 'P' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			v->name = optarg;
			break;
		case 's':
			v->source = optarg;
			break;
		case 'f':
			v->format = CG_FOURCC(optarg[0], optarg[1], optarg[2], optarg[3]);
			break;
		case 'z':
			sscanf(optarg, "%ux%u", &v->width, &v->height);
			break;
		case 'a':
			v->aus = (uint32_t)atoi(optarg);
			break;
		case 'd':
			v->dump = optarg;
			break;
		case 'C':
			v->copies = optarg;
			break;
		case 'p':
			v->params = optarg;
			break;
		case 'V':
			v->verify = optarg;
			break;
		case 'N':
			*want_cases = (unsigned)atoi(optarg);
			break;
		case 'v':
			cg_log_set_level(CG_LOG_DEBUG);
			break;
		case 'P':
			v->padded = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (v->verify)
		return 0;
	return v->name && v->source && v->dump && strlen(v->name) < 60 && v->format ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct vh v = { .width = 320,
			.height = 180,
			.aus = 24,
			.dump_fd = -1,
			.params = "/sys/module/vh264enc/parameters" };
	unsigned want_cases = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vh_parse(&v, argc, argv, &want_cases) < 0) {
		fprintf(stderr, "usage: see tests/vdev/vdev-h264.c\n");
		return 2;
	}
	return v.verify ? vh_verify(&v, want_cases) : vh_guest(&v);
}
