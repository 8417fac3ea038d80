/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP offer parsing, H.264 negotiation and answer writing against offers written the way
 * Chromium, Firefox and Safari write them (tests/data/sdp/), plus trickle fragments.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "proto/h264.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "proto/twcc.h"

/* Our stream: x264 baseline, 42c01f would also do; level 4.0 to show level independence. */
static const struct cg_sdp_capabilities caps_cb = {
	.video_profile = { .profile_idc = 66, .constraints = 0xe0, .level_idc = 0x28 },
};

static const char *const test_candidates[] = {
	"candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host",
};

static const struct cg_sdp_local test_local = {
	.session_id = 1234567890123ull,
	.ice_ufrag = "cgUf",
	.ice_pwd = "cgPasswordPasswordPassw",
	.ice_lite = true,
	.fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:"
		       "22:33:44:55:66:77:88:99",
	.video_ssrc = 305419896,
	.audio_ssrc = 2864434397,
	.cname = "camgate",
	.stream_id = "camgate-video",
	.candidates = test_candidates,
	.n_candidates = 1,
	.end_of_candidates = true,
};

static char *load(const char *name, gsize *len)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "sdp", name, NULL);
	char *text;

	g_assert_true(g_file_get_contents(path, &text, len, NULL));
	return text;
}

static struct cg_sdp_offer *parse_text(const char *text, size_t len)
{
	struct cg_sdp_offer *o = g_new0(struct cg_sdp_offer, 1);
	const char *reason = NULL;
	int r = cg_sdp_parse_offer(text, len, o, &reason);

	if (r < 0)
		g_error("parse failed: %d %s", r, reason);
	return o;
}

static struct cg_sdp_offer *parse_file(const char *name)
{
	gsize len;
	g_autofree char *text = load(name, &len);

	return parse_text(text, len);
}

static const struct cg_sdp_codec *find_codec(const struct cg_sdp_media *m, uint8_t pt)
{
	for (unsigned i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

static void test_parse_chromium(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");
	const struct cg_sdp_media *v = &o->media[0];
	const struct cg_sdp_codec *c;

	g_assert_cmpuint(o->n_media, ==, 2);
	g_assert_true(o->has_bundle);
	g_assert_true(o->extmap_allow_mixed);
	g_assert_cmpint(v->kind, ==, CG_SDP_KIND_VIDEO);
	g_assert_cmpint(o->media[1].kind, ==, CG_SDP_KIND_AUDIO);
	g_assert_cmpstr(v->mid, ==, "0");
	g_assert_cmpstr(o->media[1].mid, ==, "1");
	g_assert_cmpint(v->direction, ==, CG_SDP_RECVONLY);
	g_assert_cmpuint(v->port, ==, 9);
	g_assert_cmpstr(v->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_true(v->rtcp_mux);
	g_assert_true(v->rtcp_rsize);
	g_assert_cmpstr(v->ice_ufrag, ==, "Vq4z");
	g_assert_cmpstr(v->fingerprint_alg, ==, "sha-256");
	g_assert_cmpstr(v->setup, ==, "actpass");
	g_assert_cmpuint(v->n_extmaps, ==, 11);
	c = find_codec(v, 106);
	g_assert_nonnull(c);
	g_assert_cmpstr(c->name, ==, "H264");
	g_assert_cmpuint(c->clock_rate, ==, 90000);
	g_assert_cmpstr(c->fmtp, ==,
			"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
	g_assert_true(c->fb_nack && c->fb_pli && c->fb_fir && c->fb_remb && c->fb_twcc);
	c = find_codec(&o->media[1], 111);
	g_assert_cmpstr(c->name, ==, "opus");
	g_assert_cmpuint(c->clock_rate, ==, 48000);
	g_assert_cmpuint(c->channels, ==, 2);
}

static void test_parse_firefox(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("firefox-recvonly.sdp");
	const struct cg_sdp_media *v = &o->media[0];
	const struct cg_sdp_codec *c;

	g_assert_cmpuint(o->n_media, ==, 2);
	/* Firefox writes ICE credentials and the fingerprint at session level. */
	g_assert_cmpstr(o->ice_ufrag, ==, "5c1d2e8a");
	g_assert_cmpstr(v->ice_ufrag, ==, "");
	g_assert_cmpstr(o->fingerprint_alg, ==, "sha-256");
	g_assert_false(o->extmap_allow_mixed);
	/* a=fmtp comes before a=rtpmap: both must land on the same codec. */
	c = find_codec(v, 126);
	g_assert_cmpstr(c->name, ==, "H264");
	g_assert_cmpstr(c->fmtp, ==,
			"profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1");
	g_assert_cmpuint(v->extmaps[3].id, ==, 6);
	g_assert_cmpstr(v->extmaps[3].uri, ==, CG_RTP_EXT_URI_PLAYOUT_DELAY);
}

static void negotiate_ok(const struct cg_sdp_offer *o, struct cg_sdp_choice *c)
{
	const char *reason = NULL;
	int r = cg_sdp_negotiate(o, &caps_cb, c, &reason);

	if (r < 0)
		g_error("negotiate failed: %d %s", r, reason);
}

static void test_negotiate_chromium(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");
	struct cg_sdp_choice c;
	char plid[7];

	negotiate_ok(o, &c);
	/* 106 (42e01f, pm=1) beats the earlier 102 (42001f Baseline) and 104/108 (pm=0). */
	g_assert_cmpint(c.video_index, ==, 0);
	g_assert_cmpuint(c.video_pt, ==, 106);
	cg_h264_profile_to_string(&c.answer_profile, plid);
	g_assert_cmpstr(plid, ==, "42e028");
	g_assert_cmpuint(c.playout_delay_id, ==, 5);
	g_assert_cmpuint(c.abs_send_time_id, ==, 2);
	g_assert_true(c.pli && c.fir);
	g_assert_false(c.nack); /* offered, but caps.nack is off */
	g_assert_false(c.remb);
	g_assert_cmpstr(c.remote_ufrag, ==, "Vq4z");
	g_assert_cmpstr(c.remote_pwd, ==, "vW2JqDu8dpfhVbTgjq0ZfZ1n");
	g_assert_cmpstr(c.remote_fingerprint_alg, ==, "sha-256");
	g_assert_true(g_str_has_prefix(c.remote_fingerprint, "3C:2F:7A"));
	g_assert_cmpstr(c.remote_setup, ==, "actpass");
	g_assert_cmpstr(c.video_mid, ==, "0");
}

/* The Chromium offer with one more a=extmap line after its first one. */
static char *offer_with_extmap(const char *line, gsize *len)
{
	g_autofree char *text = load("chromium-recvonly-video-audio.sdp", len);
	const char *at = strstr(text, "a=extmap:1 ");
	char *out;

	g_assert_nonnull(at);
	out = g_strdup_printf("%.*s%s\r\n%s", (int)(at - text), text, line, at);
	*len = strlen(out);
	return out;
}

/*
 * abs-capture-time is answered with the offer's id when offered (one-byte ids 1..14 only),
 * left out otherwise; a malformed a=extmap is a clear error.
 */
static void test_negotiate_abs_capture_time(void)
{
	g_autofree char *buf = g_malloc(8192);
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");
	g_autofree struct cg_sdp_offer *bad = g_new0(struct cg_sdp_offer, 1);
	static const char *const malformed[] = {
		"a=extmap:0 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME,
		"a=extmap:256 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME,
		"a=extmap:x " CG_RTP_EXT_URI_ABS_CAPTURE_TIME,
		"a=extmap:13",
		"a=extmap:-1 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME,
	};
	struct cg_sdp_choice c;
	const char *reason;
	gsize len;
	int n;

	/* Not offered (Chromium's default offer): not answered, not sent. */
	negotiate_ok(o, &c);
	g_assert_cmpuint(c.abs_capture_time_id, ==, 0);
	n = cg_sdp_build_answer(buf, 8192, o, &c, &test_local);
	g_assert_cmpint(n, >, 0);
	g_assert_null(strstr(buf, "abs-capture-time"));

	/* Offered (a page that enabled it with setHeaderExtensionsToNegotiate). */
	{
		g_autofree char *text =
			offer_with_extmap("a=extmap:13 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME, &len);
		g_autofree struct cg_sdp_offer *with = parse_text(text, len);

		negotiate_ok(with, &c);
		g_assert_cmpuint(c.abs_capture_time_id, ==, 13);
		g_assert_cmpuint(c.abs_send_time_id, ==, 2); /* the others unchanged */
		n = cg_sdp_build_answer(buf, 8192, with, &c, &test_local);
		g_assert_cmpint(n, >, 0);
		g_assert_nonnull(
			strstr(buf, "\r\na=extmap:13 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME "\r\n"));
	}
	/* With a direction (RFC 8285 §5) too. */
	{
		g_autofree char *text = offer_with_extmap(
			"a=extmap:9/recvonly " CG_RTP_EXT_URI_ABS_CAPTURE_TIME, &len);
		g_autofree struct cg_sdp_offer *with = parse_text(text, len);

		negotiate_ok(with, &c);
		g_assert_cmpuint(c.abs_capture_time_id, ==, 9);
	}
	/* A two-byte-header id (15..255, extmap-allow-mixed): we write one-byte headers only,
	 * so it is not answered rather than sent under an id the browser reads otherwise. */
	{
		g_autofree char *text =
			offer_with_extmap("a=extmap:20 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME, &len);
		g_autofree struct cg_sdp_offer *with = parse_text(text, len);

		negotiate_ok(with, &c);
		g_assert_cmpuint(c.abs_capture_time_id, ==, 0);
		n = cg_sdp_build_answer(buf, 8192, with, &c, &test_local);
		g_assert_cmpint(n, >, 0);
		g_assert_null(strstr(buf, "abs-capture-time"));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
		g_autofree char *text = offer_with_extmap(malformed[i], &len);

		reason = NULL;
		g_assert_cmpint(cg_sdp_parse_offer(text, len, bad, &reason), ==, -EBADMSG);
		g_assert_cmpstr(reason, ==, "bad a=extmap");
	}
}

static void test_negotiate_firefox_safari(void)
{
	g_autofree struct cg_sdp_offer *ff = parse_file("firefox-recvonly.sdp");
	g_autofree struct cg_sdp_offer *sa = parse_file("safari-recvonly.sdp");
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_choice c;
	const char *reason;

	negotiate_ok(ff, &c);
	g_assert_cmpuint(c.video_pt, ==, 126); /* not 97: packetization-mode 0 */
	g_assert_cmpuint(c.playout_delay_id, ==, 6);
	g_assert_cmpuint(c.abs_send_time_id, ==, 4);
	g_assert_cmpstr(c.remote_ufrag, ==, "5c1d2e8a"); /* from session level */
	g_assert_cmpstr(c.remote_pwd, ==, "e3f6c4a2b19d8e7f05a1c3b2d4e6f708");
	g_assert_true(g_str_has_prefix(c.remote_fingerprint, "9A:41"));

	negotiate_ok(sa, &c);
	g_assert_cmpuint(c.video_pt, ==, 98); /* 42e01f, never 640c1f */
	/* With nack and remb enabled they are chosen when offered. */
	caps.nack = caps.remb = true;
	g_assert_cmpint(cg_sdp_negotiate(sa, &caps, &c, &reason), ==, 0);
	g_assert_true(c.nack && c.remb && c.pli && c.fir);
}

static void test_negotiate_high_only_rejected(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-high-only.sdp");
	struct cg_sdp_choice c = { .video_pt = 77 };
	const char *reason = NULL;

	g_assert_cmpint(cg_sdp_negotiate(o, &caps_cb, &c, &reason), ==, -ENOTSUP);
	g_assert_cmpstr(reason, ==,
			"offer has no H.264 packetization-mode=1 Constrained Baseline/Baseline "
			"payload");
	g_assert_cmpuint(c.video_pt, ==, 77); /* untouched */
}

/* Applies textual edits to a browser offer, for variants real browsers also produce. */
static struct cg_sdp_offer *parse_edited(const char *name, const char *const *edits)
{
	gsize len;
	g_autofree char *text = load(name, &len);
	GString *s = g_string_new(text);
	struct cg_sdp_offer *o;

	for (size_t i = 0; edits[i]; i += 2)
		g_assert_cmpuint(g_string_replace(s, edits[i], edits[i + 1], 0), >, 0);
	o = parse_text(s->str, s->len);
	g_string_free(s, TRUE);
	return o;
}

static void test_negotiate_baseline_fallback(void)
{
	static const char *const edits[] = {
		"profile-level-id=42e01f",
		"profile-level-id=4d001f",
		NULL,
	};
	g_autofree struct cg_sdp_offer *o =
		parse_edited("chromium-recvonly-video-audio.sdp", edits);
	struct cg_sdp_choice c;
	char plid[7];

	negotiate_ok(o, &c);
	g_assert_cmpuint(c.video_pt, ==, 102);
	cg_h264_profile_to_string(&c.answer_profile, plid);
	g_assert_cmpstr(plid, ==, "420028");
}

static void test_negotiate_4240(void)
{
	/* constraint_set1 alone (4240xx) is Constrained Baseline too. */
	static const char *const edits[] = {
		"profile-level-id=42e01f",
		"profile-level-id=42401f",
		"profile-level-id=42001f",
		"profile-level-id=4d0015",
		NULL,
	};
	g_autofree struct cg_sdp_offer *o =
		parse_edited("chromium-recvonly-video-audio.sdp", edits);
	struct cg_sdp_choice c;
	char plid[7];

	negotiate_ok(o, &c);
	g_assert_cmpuint(c.video_pt, ==, 106);
	cg_h264_profile_to_string(&c.answer_profile, plid);
	g_assert_cmpstr(plid, ==, "424028");
}

static void expect_reject(const char *const *edits, int err, const char *reason_prefix)
{
	g_autofree struct cg_sdp_offer *o =
		parse_edited("chromium-recvonly-video-audio.sdp", edits);
	struct cg_sdp_choice c;
	const char *reason = NULL;

	g_assert_cmpint(cg_sdp_negotiate(o, &caps_cb, &c, &reason), ==, err);
	g_assert_nonnull(reason);
	g_assert_true(g_str_has_prefix(reason, reason_prefix));
}

static void test_negotiate_rejections(void)
{
	static const char *const passive[] = { "a=setup:actpass", "a=setup:passive", NULL };
	static const char *const no_pwd[] = { "a=ice-pwd:", "a=x-ice-pwd:", NULL };
	static const char *const no_fp[] = { "a=fingerprint:", "a=x-fingerprint:", NULL };
	static const char *const no_mux[] = { "a=rtcp-mux", "a=x-rtcp-mux", NULL };
	static const char *const sendonly[] = { "a=recvonly", "a=sendonly", NULL };
	static const char *const pm0[] = { "packetization-mode=1", "packetization-mode=0", NULL };
	static const char *const active[] = { "a=setup:actpass", "a=setup:active", NULL };

	expect_reject(passive, -EBADMSG, "offer's a=setup must be actpass or active");
	expect_reject(no_pwd, -EBADMSG, "offer has no ICE credentials");
	expect_reject(no_fp, -EBADMSG, "offer has no DTLS a=fingerprint");
	expect_reject(no_mux, -ENOTSUP, "the offer's video section lacks a=rtcp-mux");
	expect_reject(sendonly, -ENOTSUP, "the offer's video section does not receive");
	expect_reject(pm0, -ENOTSUP, "offer has no H.264 packetization-mode=1");
	{
		g_autofree struct cg_sdp_offer *o =
			parse_edited("chromium-recvonly-video-audio.sdp", active);
		struct cg_sdp_choice c;

		negotiate_ok(o, &c);
		g_assert_cmpstr(c.remote_setup, ==, "active");
	}
}

static char *build_answer(const char *offer_name, struct cg_sdp_local *local)
{
	g_autofree struct cg_sdp_offer *o = parse_file(offer_name);
	struct cg_sdp_choice c;
	char *buf = g_malloc(8192);
	int n;

	negotiate_ok(o, &c);
	n = cg_sdp_build_answer(buf, 8192, o, &c, local);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpuint(strlen(buf), ==, (size_t)n);
	return buf;
}

static void assert_crlf_only(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '\n')
			g_assert_true(p > s && p[-1] == '\r');
	g_assert_true(g_str_has_suffix(s, "\r\n"));
}

static void test_answer_golden_chromium(void)
{
	g_autofree char *ans = build_answer("chromium-recvonly-video-audio.sdp",
					    (struct cg_sdp_local *)&test_local);
	gsize len;
	g_autofree char *golden = load("chromium-recvonly-video-audio.answer.sdp", &len);

	assert_crlf_only(ans);
	if (g_getenv("CG_UPDATE_GOLDEN")) {
		g_autofree char *path =
			g_test_build_filename(G_TEST_DIST, "data", "sdp",
					      "chromium-recvonly-video-audio.answer.sdp", NULL);
		g_assert_true(g_file_set_contents(path, ans, -1, NULL));
		return;
	}
	g_assert_cmpstr(ans, ==, golden);
}

static void test_answer_contents(void)
{
	struct cg_sdp_local l = test_local;
	g_autofree char *ff = NULL;
	g_autofree char *dc = NULL;

	l.ice_lite = false;
	l.candidates = NULL;
	l.n_candidates = 0;
	l.end_of_candidates = false;
	ff = build_answer("firefox-recvonly.sdp", &l);
	assert_crlf_only(ff);
	g_assert_nonnull(strstr(ff, "\r\nm=video 9 UDP/TLS/RTP/SAVPF 126\r\n"));
	g_assert_nonnull(strstr(ff, "\r\na=fmtp:126 level-asymmetry-allowed=1;packetization-mode=1;"
				    "profile-level-id=42e028\r\n"));
	g_assert_nonnull(strstr(ff, "\r\na=rtcp-fb:126 nack pli\r\na=rtcp-fb:126 ccm fir\r\n"));
	g_assert_null(strstr(ff, "goog-remb"));
	g_assert_null(strstr(ff, "transport-cc"));
	g_assert_nonnull(strstr(ff, "\r\na=extmap:6 " CG_RTP_EXT_URI_PLAYOUT_DELAY "\r\n"));
	g_assert_nonnull(strstr(ff, "\r\na=group:BUNDLE 0\r\n"));
	g_assert_nonnull(strstr(ff, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\n"
				    "a=mid:1\r\n"));
	g_assert_nonnull(strstr(ff, "\r\na=setup:passive\r\n"));
	g_assert_nonnull(strstr(ff, "\r\na=rtcp-rsize\r\n"));
	g_assert_null(strstr(ff, "a=ice-lite"));
	g_assert_null(strstr(ff, "a=candidate"));
	g_assert_null(strstr(ff, "a=end-of-candidates"));
	g_assert_null(strstr(ff, "a=extmap-allow-mixed"));

	dc = build_answer("chromium-datachannel.sdp", &l);
	g_assert_nonnull(strstr(dc, "\r\na=group:BUNDLE 0\r\n"));
	g_assert_nonnull(strstr(dc, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
				    "c=IN IP4 0.0.0.0\r\na=mid:2\r\n"));
	g_assert_nonnull(strstr(dc, "\r\na=extmap-allow-mixed\r\n"));
	g_assert_nonnull(strstr(dc, "\r\na=msid-semantic: WMS camgate-video\r\n"));
}

static void test_answer_nospace(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("safari-recvonly.sdp");
	struct cg_sdp_choice c;
	char buf[4096];
	int n;

	negotiate_ok(o, &c);
	n = cg_sdp_build_answer(buf, sizeof(buf), o, &c, &test_local);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(cg_sdp_build_answer(buf, (size_t)n, o, &c, &test_local), ==, -ENOSPC);
	g_assert_cmpint(cg_sdp_build_answer(buf, (size_t)n + 1, o, &c, &test_local), ==, n);
	g_assert_cmpint(cg_sdp_build_answer(buf, 0, o, &c, &test_local), ==, -ENOSPC);
}

static void expect_parse_error(const char *text, int err, const char *reason)
{
	g_autofree struct cg_sdp_offer *o = g_new0(struct cg_sdp_offer, 1);
	const char *got = NULL;

	g_assert_cmpint(cg_sdp_parse_offer(text, strlen(text), o, &got), ==, err);
	g_assert_cmpstr(got, ==, reason);
}

static void test_parse_errors(void)
{
	GString *s;
	g_autofree struct cg_sdp_offer *o = g_new0(struct cg_sdp_offer, 1);
	const char *reason;

	expect_parse_error("", -EBADMSG, "empty offer");
	expect_parse_error("v=1\r\n", -EBADMSG, "offer does not start with v=0");
	expect_parse_error("v=0\r\nhello\r\n", -EBADMSG, "malformed SDP line");
	expect_parse_error("v=0\r\nm=video\r\n", -EBADMSG, "bad m= line");
	expect_parse_error("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF\r\n", -EBADMSG,
			   "m= line without formats");
	expect_parse_error("v=0\r\nm=video x UDP/TLS/RTP/SAVPF 96\r\n", -EBADMSG,
			   "bad m= line port");
	expect_parse_error("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264\r\n", -EBADMSG,
			   "bad a=rtpmap");
	expect_parse_error("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:300 H264/90000\r\n", -EBADMSG,
			   "bad payload type in a=rtpmap/fmtp/rtcp-fb");
	expect_parse_error("v=0\r\nm=video 9 RTP/AVP 96\r\na=extmap:x urn:a\r\n", -EBADMSG,
			   "bad a=extmap");

	s = g_string_new("v=0\r\n");
	for (int i = 0; i <= CG_SDP_MAX_MEDIA; i++)
		g_string_append(s, "m=audio 9 RTP/AVP 0\r\n");
	expect_parse_error(s->str, -E2BIG, "too many media sections");
	g_string_assign(s, "v=0\r\na=x:");
	for (int i = 0; i < CG_SDP_MAX_LINE; i++)
		g_string_append_c(s, 'y');
	expect_parse_error(s->str, -E2BIG, "SDP line too long");
	g_string_assign(s, "v=0\r\nm=video 9 RTP/AVP 96\r\n");
	for (int i = 0; i <= CG_SDP_MAX_CANDIDATES; i++)
		g_string_append(s, "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\n");
	expect_parse_error(s->str, -E2BIG, "too many a=candidate lines");
	g_string_free(s, TRUE);

	/* LF-only line ends and a NUL byte. */
	g_assert_cmpint(cg_sdp_parse_offer("v=0\nm=video 9 RTP/AVP 96\na=mid:v\n", 33, o, &reason),
			==, 0);
	g_assert_cmpstr(o->media[0].mid, ==, "v");
	g_assert_cmpint(cg_sdp_parse_offer("v=0\r\na=\0\r\n", 10, o, &reason), ==, -EBADMSG);
	g_assert_cmpstr(reason, ==, "control character in SDP");
	g_assert_cmpint(
		cg_sdp_parse_offer("v=0\r\nm=video 9 RTP/AVP 96\r\na=mid:0\rx\r\n", 38, o, &reason),
		==, -EBADMSG);
	g_assert_cmpint(cg_sdp_parse_offer("v=0", CG_SDP_MAX_SIZE + 1, o, &reason), ==, -E2BIG);
}

/*
 * Numbers are digits only and exact on every ABI: 2^32 and 2^64 plus a small value used to
 * wrap to that small value where long has 32 bits (armhf), and strtoul took "+", "-" and
 * leading spaces. Each case is written so that a wrapped or sign-accepting parser would
 * accept it.
 */
static void test_parse_numbers(void)
{
	static const struct {
		const char *sdp;
		const char *reason;
	} bad[] = {
		{ "a=rtpmap:96 H264/4294967296", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/4294967386", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/18446744073709551616", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/18446744073709641616", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/42949672960", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/+90000", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/-90000", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 H264/ 90000", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 opus/48000/4294967298", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:96 opus/48000/+2", "bad a=rtpmap clock rate" },
		{ "a=rtpmap:4294967392 H264/90000", "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=rtpmap:18446744073709551712 H264/90000",
		  "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=rtpmap:+96 H264/90000", "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=rtpmap: 96 H264/90000", "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=fmtp:-96 apt=1", "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=rtcp-fb:+96 nack", "bad payload type in a=rtpmap/fmtp/rtcp-fb" },
		{ "a=extmap:4294967297 urn:x", "bad a=extmap" },
		{ "a=extmap:18446744073709551617 urn:x", "bad a=extmap" },
		{ "a=extmap:+1 urn:x", "bad a=extmap" },
	};
	static const char *const bad_ports[] = {
		"m=video 4294967305 UDP/TLS/RTP/SAVPF 96",
		"m=video 18446744073709551625 UDP/TLS/RTP/SAVPF 96",
		"m=video 65536 UDP/TLS/RTP/SAVPF 96",
		"m=video +9 UDP/TLS/RTP/SAVPF 96",
		"m=video -9 UDP/TLS/RTP/SAVPF 96",
		"m=video  9 UDP/TLS/RTP/SAVPF 96",
		"m=video 9/4294967298 UDP/TLS/RTP/SAVPF 96",
	};
	g_autofree struct cg_sdp_offer *o = g_new0(struct cg_sdp_offer, 1);
	const char *reason;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf(
			"v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n%s\r\n", bad[i].sdp);

		expect_parse_error(text, -EBADMSG, bad[i].reason);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad_ports); i++) {
		g_autofree char *text = g_strdup_printf("v=0\r\n%s\r\n", bad_ports[i]);

		expect_parse_error(text, -EBADMSG, "bad m= line port");
	}
	/* The largest values still fit. */
	{
		static const char ok[] = "v=0\r\nm=video 65535 UDP/TLS/RTP/SAVPF 127\r\n"
					 "a=rtpmap:127 H264/4294967295\r\n"
					 "a=rtpmap:0 opus/48000/255\r\n"
					 "a=extmap:255 urn:x\r\n";

		g_assert_cmpint(cg_sdp_parse_offer(ok, strlen(ok), o, &reason), ==, 0);
		g_assert_cmpuint(o->media[0].port, ==, 65535);
		g_assert_cmpuint(o->media[0].codecs[0].clock_rate, ==, UINT32_MAX);
		g_assert_cmpuint(o->media[0].codecs[1].channels, ==, 255);
		g_assert_cmpuint(o->media[0].extmaps[0].id, ==, 255);
	}
}

/* An rtx payload is paired by its apt= read exactly: a sign, a space or a value that wraps to
 * the H.264 payload type (106) on some ABI is no apt=106. */
static void test_rtx_apt_exact(void)
{
	static const char *const apts[] = {
		"apt=+106",
		"apt= 106",
		"apt=-4294967190",
		"apt=-18446744073709551510",
		"apt=4294967402",
		"apt=106x",
		"apt=",
	};
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_choice c;
	const char *reason;

	caps.nack = caps.rtx = true;
	for (size_t i = 0; i < G_N_ELEMENTS(apts); i++) {
		g_autofree char *edit = g_strdup_printf("a=fmtp:107 %s", apts[i]);
		const char *const edits[] = { "a=fmtp:107 apt=106", edit, NULL };
		g_autofree struct cg_sdp_offer *o =
			parse_edited("chromium-recvonly-video-audio.sdp", edits);

		g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
		g_assert_cmpuint(c.video_pt, ==, 106);
		g_assert_cmpuint(c.rtx_pt, ==, 0);
	}
	/* The stored offer as it is pairs 107 with 106: the edits above are what breaks it. */
	{
		g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");

		g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
		g_assert_cmpuint(c.rtx_pt, ==, 107);
	}
}

static void test_fragment(void)
{
	/* RFC 8840 §4.4 / RFC 9725 §4.3.1-style PATCH body. */
	static const char frag[] =
		"a=group:BUNDLE 0\r\n"
		"a=ice-ufrag:EsAw\r\n"
		"a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
		"a=mid:0\r\n"
		"a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n"
		"a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host\r\n"
		"a=end-of-candidates\r\n";
	g_autofree struct cg_sdp_fragment *f = g_new0(struct cg_sdp_fragment, 1);
	const char *reason = NULL;
	GString *s;

	g_assert_cmpint(cg_sdp_parse_fragment(frag, strlen(frag), f, &reason), ==, 0);
	g_assert_cmpstr(f->ice_ufrag, ==, "EsAw");
	g_assert_cmpstr(f->ice_pwd, ==, "P2uYro0UCOQ4zxjKXaWCBui1");
	g_assert_cmpuint(f->n_candidates, ==, 2);
	g_assert_cmpstr(f->candidates[0], ==,
			"candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host "
			"generation 0");
	g_assert_cmpstr(f->mids[0], ==, "0");
	g_assert_cmpstr(f->mids[1], ==, "0");
	g_assert_true(f->end_of_candidates);

	{
		static const char one[] = "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\n";

		g_assert_cmpint(cg_sdp_parse_fragment(one, strlen(one), f, &reason), ==, 0);
	}
	g_assert_cmpuint(f->n_candidates, ==, 1);
	g_assert_cmpstr(f->mids[0], ==, "");
	g_assert_false(f->end_of_candidates);

	g_assert_cmpint(cg_sdp_parse_fragment("junk\r\n", 6, f, &reason), ==, -EBADMSG);
	g_assert_cmpstr(reason, ==, "malformed SDP fragment line");
	s = g_string_new(NULL);
	for (int i = 0; i <= CG_SDP_MAX_CANDIDATES; i++)
		g_string_append(s, "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\n");
	g_assert_cmpint(cg_sdp_parse_fragment(s->str, s->len, f, &reason), ==, -E2BIG);
	g_string_free(s, TRUE);
}

/* (added) RTX (RFC 4588) and transport-wide CC are answered only when the session asks. */
static void test_answer_rtx_twcc(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_local l = test_local;
	struct cg_sdp_choice c;
	const char *reason;
	g_autofree char *buf = g_malloc(8192);
	char line[128];

	caps.nack = caps.rtx = caps.twcc = true;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpuint(c.video_pt, ==, 106);
	g_assert_cmpuint(c.rtx_pt, ==, 107); /* a=fmtp:107 apt=106 */
	g_assert_cmpuint(c.twcc_id, ==, 4);
	g_assert_true(c.twcc);
	l.rtx_ssrc = 0xabcdef01;
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &l), >, 0);
	g_assert_nonnull(strstr(buf, "m=video 9 UDP/TLS/RTP/SAVPF 106 107\r\n"));
	g_assert_nonnull(strstr(buf, "a=rtpmap:107 rtx/90000\r\na=fmtp:107 apt=106\r\n"));
	snprintf(line, sizeof(line), "a=ssrc-group:FID %u %u\r\n", l.video_ssrc, l.rtx_ssrc);
	g_assert_nonnull(strstr(buf, line));
	snprintf(line, sizeof(line), "a=ssrc:%u cname:camgate\r\n", l.rtx_ssrc);
	g_assert_nonnull(strstr(buf, line));
	g_assert_nonnull(strstr(buf, "a=extmap:4 " CG_RTP_EXT_URI_TWCC "\r\n"));
	g_assert_nonnull(strstr(buf, "a=rtcp-fb:106 transport-cc\r\n"));

	/* Without nack, RTX would never be used: not answered. Without the caps: neither. */
	caps.nack = false;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpuint(c.rtx_pt, ==, 0);
	g_assert_cmpint(cg_sdp_negotiate(o, &caps_cb, &c, &reason), ==, 0);
	g_assert_cmpuint(c.rtx_pt, ==, 0);
	g_assert_cmpuint(c.twcc_id, ==, 0);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &l), >, 0);
	g_assert_null(strstr(buf, "rtx"));
	g_assert_null(strstr(buf, "FID"));
	g_assert_null(strstr(buf, "transport-cc"));
}

/* Replaces every occurrence of from with to (for variants of a stored offer). */
static char *replace_all(const char *text, const char *from, const char *to)
{
	g_auto(GStrv) parts = g_strsplit(text, from, -1);

	return g_strjoinv(to, parts);
}

/* RFC 7587: the board's sound goes in the same BUNDLE, sendonly to a recvonly offer. */
static void test_answer_audio_send(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("chromium-recvonly-video-audio.sdp");
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_local l = test_local;
	struct cg_sdp_choice c;
	const char *reason;
	g_autofree char *buf = g_malloc(8192);
	char line[128];
	const char *audio;

	caps.audio_send = true;
	l.audio_ssrc = 0x5eed5eed;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpint(c.audio_index, ==, 1);
	g_assert_cmpuint(c.audio_pt, ==, 111);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_SENDONLY);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &l), >, 0);
	g_assert_nonnull(strstr(buf, "a=group:BUNDLE 0 1\r\n"));
	audio = strstr(buf, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
	g_assert_nonnull(audio);
	g_assert_nonnull(strstr(audio, "a=sendonly\r\n"));
	g_assert_nonnull(strstr(audio, "a=rtpmap:111 opus/48000/2\r\n"));
	g_assert_nonnull(strstr(audio, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
	snprintf(line, sizeof(line), "a=ssrc:%u cname:camgate\r\n", l.audio_ssrc);
	g_assert_nonnull(strstr(audio, line));
	/* Candidates once, in the BUNDLE-tag section (the video here). */
	g_assert_null(strstr(audio, "a=candidate"));
	g_assert_nonnull(strstr(buf, "a=candidate"));

	/* Talkback only, to a recvonly offer: nothing fits, the section is rejected. */
	caps.audio_send = false;
	caps.audio_receive = true;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpint(c.audio_index, ==, -1);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &l), >, 0);
	g_assert_nonnull(strstr(buf, "m=audio 0 "));
	g_assert_nonnull(strstr(buf, "a=group:BUNDLE 0\r\n"));
}

/* A browser offering its microphone (sendrecv) gets talkback when a speaker is set. */
static void test_answer_audio_talkback(void)
{
	gsize len;
	g_autofree char *text = load("chromium-recvonly-video-audio.sdp", &len);
	g_autofree char *sendrecv = NULL;
	g_autofree struct cg_sdp_offer *o = NULL;
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_choice c;
	const char *reason;
	g_autofree char *buf = g_malloc(8192);
	const char *audio;

	/* The stored offer's audio section is the only recvonly one after the video's. */
	sendrecv = replace_all(text, "a=mid:1\r\n", "a=mid:1\r\na=sendrecv\r\n");
	o = parse_text(sendrecv, strlen(sendrecv));
	o->media[1].direction = CG_SDP_SENDRECV;
	caps.audio_send = caps.audio_receive = true;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_SENDRECV);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &test_local), >, 0);
	audio = strstr(buf, "m=audio 9 ");
	g_assert_nonnull(audio);
	g_assert_nonnull(strstr(audio, "a=sendrecv\r\n"));
	/* No microphone on the board: receive only. */
	caps.audio_send = false;
	g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, 0);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_RECVONLY);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, &c, &test_local), >, 0);
	audio = strstr(buf, "m=audio 9 ");
	g_assert_nonnull(strstr(audio, "a=recvonly\r\n"));
	g_assert_null(strstr(audio, "a=ssrc:"));
}

/*
 * Firefox with bundlePolicy 'max-bundle' (camgate's viewer page) writes every section after
 * the first with port 0 and a=bundle-only (RFC 8843 §6; tests/data/sdp/README.md says where
 * the offers' shape comes from). Such a section is in the BUNDLE group, not rejected.
 */
static void test_parse_firefox_max_bundle(void)
{
	g_autofree struct cg_sdp_offer *o = parse_file("firefox-115-max-bundle-talkback.sdp");
	const struct cg_sdp_media *v = &o->media[0], *a = &o->media[1];

	g_assert_cmpuint(o->n_media, ==, 2);
	g_assert_true(o->has_bundle);
	g_assert_cmpuint(o->n_bundle_mids, ==, 2);
	g_assert_cmpstr(o->bundle_mids[0], ==, "0");
	g_assert_cmpstr(o->bundle_mids[1], ==, "1");
	g_assert_cmpuint(v->port, ==, 9);
	g_assert_false(v->bundle_only);
	g_assert_true(v->bundled);
	g_assert_cmpuint(a->port, ==, 0);
	g_assert_true(a->bundle_only);
	g_assert_true(a->bundled);
	g_assert_cmpint(a->direction, ==, CG_SDP_SENDRECV);
	/* Current Firefox writes ICE credentials per section, bundle-only ones included. */
	g_assert_cmpstr(o->ice_ufrag, ==, "");
	g_assert_cmpstr(v->ice_ufrag, ==, "a81f5d26");
	g_assert_cmpstr(a->ice_ufrag, ==, "a81f5d26");
	g_assert_cmpstr(o->fingerprint_alg, ==, "sha-256");
}

/* Negotiates o with caps and writes the answer with test_local into buf[8192]. */
static void answer_with(const struct cg_sdp_offer *o, const struct cg_sdp_capabilities *caps,
			struct cg_sdp_choice *c, char *buf)
{
	const char *reason = NULL;
	int r = cg_sdp_negotiate(o, caps, c, &reason);

	if (r < 0)
		g_error("negotiate failed: %d %s", r, reason);
	g_assert_cmpint(cg_sdp_build_answer(buf, 8192, o, c, &test_local), >, 0);
	assert_crlf_only(buf);
}

static void test_answer_firefox_max_bundle(void)
{
	g_autofree struct cg_sdp_offer *recv = parse_file("firefox-115-max-bundle-recvonly.sdp");
	g_autofree struct cg_sdp_offer *talk = parse_file("firefox-115-max-bundle-talkback.sdp");
	g_autofree struct cg_sdp_offer *back = g_new0(struct cg_sdp_offer, 1);
	g_autofree char *buf = g_malloc(8192);
	struct cg_sdp_capabilities caps = caps_cb;
	struct cg_sdp_choice c;
	const char *audio, *reason;
	char line[128];

	/* The board's sound to a recvonly audio section that is bundle-only. */
	caps.audio_send = true;
	answer_with(recv, &caps, &c, buf);
	g_assert_cmpuint(c.video_pt, ==, 126);
	g_assert_cmpint(c.audio_index, ==, 1);
	g_assert_cmpuint(c.audio_pt, ==, 109);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_SENDONLY);
	g_assert_cmpstr(c.audio_mid, ==, "1");
	g_assert_nonnull(strstr(buf, "\r\na=group:BUNDLE 0 1\r\n"));
	g_assert_nonnull(strstr(buf, "\r\nm=video 9 UDP/TLS/RTP/SAVPF 126\r\n"));
	audio = strstr(buf, "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109\r\n");
	g_assert_nonnull(audio);
	g_assert_nonnull(strstr(audio, "\r\na=mid:1\r\n"));
	g_assert_nonnull(strstr(audio, "\r\na=sendonly\r\n"));
	g_assert_nonnull(strstr(audio, "\r\na=rtcp-mux\r\n"));
	snprintf(line, sizeof(line), "\r\na=ssrc:%u cname:camgate\r\n", test_local.audio_ssrc);
	g_assert_nonnull(strstr(audio, line));
	/* RFC 9143 §7.3: the answer gives every bundled section the same port and never
	 * says bundle-only; candidates go once, in the first (tagged) section. */
	g_assert_null(strstr(buf, "bundle-only"));
	g_assert_null(strstr(audio, "a=candidate"));
	g_assert_nonnull(strstr(buf, "a=candidate"));
	/* Read back as Firefox would: the audio section is accepted with a port. */
	g_assert_cmpint(cg_sdp_parse_offer(buf, strlen(buf), back, &reason), ==, 0);
	g_assert_cmpuint(back->media[1].port, ==, 9);
	g_assert_false(back->media[1].bundle_only);
	g_assert_true(back->media[1].bundled);
	g_assert_cmpstr(back->media[1].mid, ==, "1");

	/* Talkback: the page's sendrecv audio, both ways or receive only. */
	caps.audio_receive = true;
	answer_with(talk, &caps, &c, buf);
	g_assert_cmpint(c.audio_index, ==, 1);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_SENDRECV);
	audio = strstr(buf, "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109\r\n");
	g_assert_nonnull(audio);
	g_assert_nonnull(strstr(audio, "\r\na=sendrecv\r\n"));
	g_assert_null(strstr(buf, "bundle-only"));
	caps.audio_send = false;
	answer_with(talk, &caps, &c, buf);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_RECVONLY);
	audio = strstr(buf, "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109\r\n");
	g_assert_nonnull(audio);
	g_assert_nonnull(strstr(audio, "\r\na=recvonly\r\n"));
	g_assert_null(strstr(audio, "a=ssrc:"));

	/* No sound either way: the bundle-only section is rejected the RFC 9143 §7.3.3 way:
	 * port 0, out of the group, and no bundle-only. */
	caps.audio_receive = false;
	answer_with(talk, &caps, &c, buf);
	g_assert_cmpint(c.audio_index, ==, -1);
	g_assert_nonnull(strstr(buf, "\r\na=group:BUNDLE 0\r\n"));
	g_assert_nonnull(strstr(buf, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\n"
				     "a=mid:1\r\n"));
	g_assert_null(strstr(buf, "bundle-only"));
}

/* Port 0 still rejects a section when it is not bundle-only, or not in the BUNDLE group. */
static void test_negotiate_port0_rejected(void)
{
	static const char *const no_flag[] = { "a=bundle-only\r\n", "", NULL };
	static const char *const not_grouped[] = { "a=group:BUNDLE 0 1", "a=group:BUNDLE 0", NULL };
	static const char *const other_group[] = { "a=group:BUNDLE 0 1",
						   "a=group:BUNDLE 0\r\na=group:BUNDLE 1", NULL };
	static const char *const video_off[] = { "m=video 9 ", "m=video 0 ", NULL };
	const char *const *edits[] = { no_flag, not_grouped, other_group };
	struct cg_sdp_capabilities caps = caps_cb;
	g_autofree char *buf = g_malloc(8192);
	struct cg_sdp_choice c;
	const char *reason = NULL;

	caps.audio_send = caps.audio_receive = true;
	for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
		g_autofree struct cg_sdp_offer *o =
			parse_edited("firefox-115-max-bundle-talkback.sdp", edits[i]);

		answer_with(o, &caps, &c, buf);
		g_assert_cmpint(c.audio_index, ==, -1);
		g_assert_nonnull(strstr(buf, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 109\r\n"));
		g_assert_nonnull(strstr(buf, "\r\na=group:BUNDLE 0\r\n"));
	}
	/* An audio section with a port but outside the video's BUNDLE group would need a
	 * transport of its own: not answered (RFC 8843 §7.3: only offered-bundled sections may
	 * be in the answer's group). */
	{
		static const char *const chromium_unbundled[] = { "a=group:BUNDLE 0 1",
								  "a=group:BUNDLE 0", NULL };
		g_autofree struct cg_sdp_offer *o =
			parse_edited("chromium-recvonly-video-audio.sdp", chromium_unbundled);

		answer_with(o, &caps, &c, buf);
		g_assert_cmpint(c.audio_index, ==, -1);
		g_assert_nonnull(strstr(buf, "\r\na=group:BUNDLE 0\r\n"));
	}
	{
		g_autofree struct cg_sdp_offer *o =
			parse_edited("firefox-115-max-bundle-recvonly.sdp", video_off);

		g_assert_cmpint(cg_sdp_negotiate(o, &caps, &c, &reason), ==, -ENOTSUP);
		g_assert_true(g_str_has_prefix(reason, "the offer's video section is rejected"));
	}
}

/* A BUNDLE group naming more sections than an offer may have, or a mid too long. */
static void test_parse_bundle_limits(void)
{
	GString *s = g_string_new("v=0\r\na=group:BUNDLE");

	for (int i = 0; i <= CG_SDP_MAX_MEDIA; i++)
		g_string_append_printf(s, " m%d", i);
	g_string_append(s, "\r\n");
	expect_parse_error(s->str, -E2BIG, "too many mids in a=group:BUNDLE");
	g_string_assign(s, "v=0\r\na=group:BUNDLE ");
	for (int i = 0; i < CG_SDP_TOKEN; i++)
		g_string_append_c(s, 'm');
	g_string_append(s, "\r\n");
	expect_parse_error(s->str, -E2BIG, "a=group:BUNDLE mid too long");
	g_string_free(s, TRUE);
}

/* An access unit as encoders hand it out: AUD, SPS with the given profile bytes, PPS, IDR. */
static size_t au_with_sps(uint8_t *buf, uint8_t profile_idc, uint8_t constraints, uint8_t level)
{
	const uint8_t au[] = { 0, 0,	0,	     1,		  0x09,	 0xf0, 0,    0,	   0,
			       1, 0x67, profile_idc, constraints, level, 0x8d, 0x8d, 0x40, 0x50,
			       0, 0,	0,	     1,		  0x68,	 0xce, 0x3c, 0x80, 0,
			       0, 0,	1,	     0x65,	  0x88,	 0x84, 0x00, 0x33 };

	memcpy(buf, au, sizeof(au));
	return sizeof(au);
}

/*
 * The SDP says what the stream's SPS says (RFC 6184 §8.1: profile-level-id is the SPS's
 * profile_idc, constraint flags and level_idc): media reads the SPS of a key frame with
 * cg_h264_au_sps_profile() and that is what negotiation gets. An M2M encoder that fell back
 * to Baseline without constraint flags is announced as Baseline, not Constrained Baseline.
 */
static void test_profile_from_sps(void)
{
	static const struct {
		uint8_t sps[3];
		uint8_t chromium_pt; /* 0: Chromium's offer has nothing for it */
		const char *chromium_plid;
		bool firefox; /* Firefox 115 offers Constrained Baseline only */
	} cases[] = {
		{ { 0x42, 0x00, 0x28 }, 102, "420028", false }, /* M2M: Baseline, no flags */
		{ { 0x42, 0xc0, 0x1f }, 106, "42e01f", true },	/* Constrained Baseline */
		{ { 0x42, 0x40, 0x20 }, 106, "42e020", true },	/* constraint_set1 alone is CB */
		{ { 0x4d, 0x00, 0x28 }, 127, "4d0028", false }, /* Main */
		{ { 0x64, 0x00, 0x29 }, 112, "640029", false }, /* High (a UVC camera) */
		{ { 0x58, 0x00, 0x28 }, 0, NULL, false },	/* Extended: nobody offers it */
	};
	g_autofree struct cg_sdp_offer *chromium = parse_file("chromium-recvonly-video-audio.sdp");
	g_autofree struct cg_sdp_offer *firefox = parse_file("firefox-115-max-bundle-recvonly.sdp");
	g_autofree char *buf = g_malloc(8192);
	uint8_t au[64];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct cg_sdp_capabilities caps = caps_cb;
		struct cg_sdp_choice c;
		const char *reason = NULL;
		char plid[7], want[64];
		size_t len = au_with_sps(au, cases[i].sps[0], cases[i].sps[1], cases[i].sps[2]);

		g_assert_cmpint(cg_h264_au_sps_profile(au, len, &caps.video_profile), ==, 0);
		cg_h264_profile_to_string(&caps.video_profile, plid);
		snprintf(want, sizeof(want), "%02x%02x%02x", cases[i].sps[0], cases[i].sps[1],
			 cases[i].sps[2]);
		g_assert_cmpstr(plid, ==, want);
		if (!cases[i].chromium_pt) {
			g_assert_cmpint(cg_sdp_negotiate(chromium, &caps, &c, &reason), ==,
					-ENOTSUP);
		} else {
			answer_with(chromium, &caps, &c, buf);
			g_assert_cmpuint(c.video_pt, ==, cases[i].chromium_pt);
			snprintf(want, sizeof(want), "profile-level-id=%s\r\n",
				 cases[i].chromium_plid);
			g_assert_nonnull(strstr(buf, want));
		}
		g_assert_cmpint(cg_sdp_negotiate(firefox, &caps, &c, &reason), ==,
				cases[i].firefox ? 0 : -ENOTSUP);
	}
}

/* Where the SPS is looked for: before the first slice, nowhere else. */
static void test_profile_au_scan(void)
{
	static const uint8_t slice_first[] = { 0, 0, 0, 1,    0x41, 0x9a, 0,
					       0, 0, 1, 0x67, 0x42, 0xc0, 0x1f };
	static const uint8_t sei_then_sps[] = { 0,    0,    1, 0x06, 0x05, 0x01, 0xaa,
						0x80, 0,    0, 1,    0x67, 0x64, 0x00,
						0x28, 0xac, 0, 0,    1,	   0x65, 0x88 };
	static const uint8_t short_sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88 };
	static const uint8_t no_start[] = { 0x67, 0x42, 0xc0, 0x1f };
	struct cg_h264_profile p;

	g_assert_cmpint(cg_h264_au_sps_profile(slice_first, sizeof(slice_first), &p), ==, -ENOENT);
	g_assert_cmpint(cg_h264_au_sps_profile(sei_then_sps, sizeof(sei_then_sps), &p), ==, 0);
	g_assert_cmpuint(p.profile_idc, ==, 100);
	g_assert_cmpuint(p.level_idc, ==, 40);
	g_assert_cmpint(cg_h264_au_sps_profile(short_sps, sizeof(short_sps), &p), ==, -EBADMSG);
	g_assert_cmpint(cg_h264_au_sps_profile(no_start, sizeof(no_start), &p), ==, -ENOENT);
	g_assert_cmpint(cg_h264_au_sps_profile(NULL, 0, &p), ==, -ENOENT);
}

/* camgate offering: the offer parses as an offer, and a browser-style answer reads back. */
static void test_offer_and_answer(void)
{
	struct cg_sdp_offer_params p = {
		.session_id = 42,
		.ice_ufrag = "cgUf",
		.ice_pwd = "cgPasswordPasswordPassw",
		.fingerprint = test_local.fingerprint,
		.video_profile = caps_cb.video_profile,
		.video_ssrc = 1111,
		.rtx_ssrc = 2222,
		.audio_ssrc = 3333,
		.audio_send = true,
		.cname = "camgate",
		.stream_id = "camgate",
		.candidates = test_candidates,
		.n_candidates = 1,
		.end_of_candidates = true,
	};
	static const char answer[] =
		"v=0\r\no=- 5 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		"a=group:BUNDLE 0 1\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\nc=IN IP4 0.0.0.0\r\n"
		"a=ice-ufrag:brws\r\na=ice-pwd:browserpasswordbrowserpw\r\n"
		"a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF:11:22:33:44:"
		"55:66:77:88:99:00:AA:BB:CC:DD:EE:FF\r\n"
		"a=setup:active\r\na=mid:0\r\n"
		"a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
		"a=extmap:3 " CG_RTP_EXT_URI_TWCC "\r\n"
		"a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
		"a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 transport-cc\r\n"
		"a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
		"a=fmtp:102 "
		"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
		"a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
		"a=candidate:1 1 udp 2113937151 192.0.2.7 50000 typ host\r\n"
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
		"a=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";
	g_autofree char *buf = g_malloc(8192);
	g_autofree struct cg_sdp_offer *o = NULL;
	struct cg_sdp_choice c;
	const char *reason = NULL;
	int len = cg_sdp_build_offer(buf, 8192, &p);

	g_assert_cmpint(len, >, 0);
	o = parse_text(buf, (size_t)len);
	g_assert_cmpuint(o->n_media, ==, 2);
	g_assert_cmpstr(o->media[0].setup, ==, "actpass");
	g_assert_cmpint(o->media[1].direction, ==, CG_SDP_SENDONLY);
	g_assert_nonnull(strstr(buf, "a=ssrc-group:FID 1111 2222\r\n"));
	g_assert_nonnull(strstr(buf, "a=extmap:4 " CG_RTP_EXT_URI_ABS_CAPTURE_TIME "\r\n"));
	g_assert_cmpint(cg_sdp_parse_answer(answer, sizeof(answer) - 1, &p, &c, &reason), ==, 0);
	g_assert_cmpint(c.video_index, ==, 0);
	g_assert_cmpuint(c.video_pt, ==, CG_SDP_OFFER_VIDEO_PT);
	g_assert_cmpuint(c.rtx_pt, ==, CG_SDP_OFFER_RTX_PT);
	g_assert_true(c.nack && c.pli && !c.fir && !c.remb);
	g_assert_cmpuint(c.playout_delay_id, ==, 1);
	g_assert_cmpuint(c.abs_send_time_id, ==, 0);
	g_assert_true(c.twcc && c.twcc_id == 3);
	g_assert_cmpstr(c.remote_setup, ==, "active");
	g_assert_cmpstr(c.remote_ufrag, ==, "brws");
	g_assert_cmpint(c.audio_index, ==, 1);
	g_assert_cmpint(c.audio_direction, ==, CG_SDP_SENDONLY);
	/* An answer that rejects the video, or keeps actpass, is refused with a reason. */
	g_autofree char *rejected = replace_all(answer, "m=video 9 ", "m=video 0 ");
	g_assert_cmpint(cg_sdp_parse_answer(rejected, strlen(rejected), &p, &c, &reason), ==,
			-ENOTSUP);
	g_autofree char *actpass = replace_all(answer, "a=setup:active", "a=setup:actpass");
	g_assert_cmpint(cg_sdp_parse_answer(actpass, strlen(actpass), &p, &c, &reason), ==,
			-EBADMSG);
	g_assert_nonnull(strstr(reason, "setup"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp/offer-and-answer", test_offer_and_answer);
	g_test_add_func("/sdp/answer/audio-send", test_answer_audio_send);
	g_test_add_func("/sdp/answer/audio-talkback", test_answer_audio_talkback);
	g_test_add_func("/sdp/parse/chromium", test_parse_chromium);
	g_test_add_func("/sdp/parse/firefox", test_parse_firefox);
	g_test_add_func("/sdp/negotiate/abs-capture-time", test_negotiate_abs_capture_time);
	g_test_add_func("/sdp/parse/errors", test_parse_errors);
	g_test_add_func("/sdp/parse/numbers", test_parse_numbers);
	g_test_add_func("/sdp/negotiate/rtx-apt-exact", test_rtx_apt_exact);
	g_test_add_func("/sdp/negotiate/chromium", test_negotiate_chromium);
	g_test_add_func("/sdp/negotiate/firefox-safari", test_negotiate_firefox_safari);
	g_test_add_func("/sdp/negotiate/high-only-rejected", test_negotiate_high_only_rejected);
	g_test_add_func("/sdp/negotiate/baseline-fallback", test_negotiate_baseline_fallback);
	g_test_add_func("/sdp/negotiate/4240", test_negotiate_4240);
	g_test_add_func("/sdp/negotiate/rejections", test_negotiate_rejections);
	g_test_add_func("/sdp/answer/golden-chromium", test_answer_golden_chromium);
	g_test_add_func("/sdp/answer/contents", test_answer_contents);
	g_test_add_func("/sdp/answer/nospace", test_answer_nospace);
	g_test_add_func("/sdp/fragment", test_fragment);
	g_test_add_func("/sdp/answer/rtx-twcc", test_answer_rtx_twcc);
	g_test_add_func("/sdp/parse/firefox-max-bundle", test_parse_firefox_max_bundle);
	g_test_add_func("/sdp/parse/bundle-limits", test_parse_bundle_limits);
	g_test_add_func("/sdp/answer/firefox-max-bundle", test_answer_firefox_max_bundle);
	g_test_add_func("/sdp/negotiate/port0-rejected", test_negotiate_port0_rejected);
	g_test_add_func("/sdp/profile/from-sps", test_profile_from_sps);
	g_test_add_func("/sdp/profile/au-scan", test_profile_au_scan);
	return g_test_run();
}
