/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/h264.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "proto/twcc.h"
#include "util/macros.h"

/* ---- small text helpers ---- */

/* Copies s[0..n) into dst[cap] with a NUL; -E2BIG when it does not fit. */
static int sdp_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -E2BIG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int sdp_copy_str(char *dst, size_t cap, const char *s)
{
	return sdp_copy(dst, cap, s, strlen(s));
}

/*
 * Parses decimal digits at *s, at most max; advances *s. Only digits: a sign or a leading
 * space is no number (strtoul would take "+1", " 1" and "-1"). The value is built in 64 bits
 * and checked against max after every digit, and max fits in 32 bits, so it never wraps,
 * whatever the size of long (armhf). Returns -EBADMSG on no digits or a value above max.
 */
static int sdp_uint(const char **s, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EBADMSG;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -EBADMSG;
	}
	*s = p;
	*ret = (uint32_t)v;
	return 0;
}

/* The whole of s is one decimal number of at most max (sdp_uint, nothing after it). */
static bool sdp_uint_str(const char *s, uint32_t max, uint32_t *ret)
{
	return sdp_uint(&s, max, ret) == 0 && *s == '\0';
}

/* Returns the next space-separated word of *s (length in *ret_len) and advances past it. */
static const char *sdp_word(const char **s, size_t *ret_len)
{
	const char *p = *s, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	w = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*ret_len = (size_t)(p - w);
	*s = p;
	return *ret_len ? w : NULL;
}

/*
 * Looks up key in an fmtp parameter list ("a=1;b=2", RFC 8866 §6.15 leaves the syntax to the
 * format; RFC 6184 §8.1 uses semicolon-separated key=value). Copies the value into out.
 */
static bool sdp_fmtp_get(const char *fmtp, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = fmtp;

	while (*p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n && *p == ' ') {
			p++;
			n--;
		}
		if (n > klen && strncasecmp(p, key, klen) == 0 && p[klen] == '=')
			return sdp_copy(out, cap, p + klen + 1, n - klen - 1) == 0;
		p += n;
		if (*p == ';')
			p++;
	}
	return false;
}

/* ---- offer parsing ---- */

struct sdp_parser {
	struct cg_sdp_offer *offer;
	struct cg_sdp_media *m; /* current media section, NULL at session level */
	bool wild_nack, wild_pli, wild_fir, wild_remb, wild_twcc; /* a=rtcp-fb:* of m */
	const char *reason;
};

static int sdp_fail(struct sdp_parser *p, int err, const char *reason)
{
	p->reason = reason;
	return err;
}

static struct cg_sdp_codec *sdp_codec(struct sdp_parser *p, uint32_t pt, bool create)
{
	struct cg_sdp_media *m = p->m;

	for (unsigned i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	if (!create || m->n_codecs == CG_SDP_MAX_CODECS)
		return NULL;
	m->codecs[m->n_codecs] = (struct cg_sdp_codec){ .pt = (uint8_t)pt };
	return &m->codecs[m->n_codecs++];
}

/* Reads "<pt> " at the start of an rtpmap/fmtp/rtcp-fb value; finds or adds the codec. */
static int sdp_codec_prefix(struct sdp_parser *p, const char **v, struct cg_sdp_codec **ret)
{
	uint32_t pt;

	if (sdp_uint(v, 127, &pt) < 0 || **v != ' ')
		return sdp_fail(p, -EBADMSG, "bad payload type in a=rtpmap/fmtp/rtcp-fb");
	(*v)++;
	*ret = sdp_codec(p, pt, true);
	if (!*ret)
		return sdp_fail(p, -E2BIG, "too many codecs in a media section");
	return 0;
}

static int attr_rtpmap(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_codec *c;
	uint32_t rate, ch = 0;
	const char *slash;
	int r = sdp_codec_prefix(p, &v, &c);

	if (r < 0)
		return r;
	/* RFC 8866 §6.6: <encoding name>/<clock rate>[/<encoding parameters>] */
	slash = strchr(v, '/');
	if (!slash || slash == v)
		return sdp_fail(p, -EBADMSG, "bad a=rtpmap");
	if (sdp_copy(c->name, sizeof(c->name), v, (size_t)(slash - v)) < 0)
		return sdp_fail(p, -E2BIG, "a=rtpmap encoding name too long");
	v = slash + 1;
	if (sdp_uint(&v, UINT32_MAX, &rate) < 0 || (*v == '/' && (v++, sdp_uint(&v, 255, &ch)) < 0))
		return sdp_fail(p, -EBADMSG, "bad a=rtpmap clock rate");
	if (*v != '\0' && *v != ' ')
		return sdp_fail(p, -EBADMSG, "bad a=rtpmap");
	c->clock_rate = (uint32_t)rate;
	c->channels = (uint8_t)ch;
	return 0;
}

static int attr_fmtp(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_codec *c;
	int r = sdp_codec_prefix(p, &v, &c);

	if (r < 0)
		return r;
	if (sdp_copy_str(c->fmtp, sizeof(c->fmtp), v) < 0)
		return sdp_fail(p, -E2BIG, "a=fmtp too long");
	return 0;
}

/* RFC 4585 §4.2 / RFC 5104 §7.1: which feedback a value names; sets one of the flags. */
static void sdp_fb_flags(const char *fb, bool *nack, bool *pli, bool *fir, bool *remb, bool *twcc)
{
	if (strcmp(fb, "nack") == 0)
		*nack = true;
	else if (strcmp(fb, "nack pli") == 0)
		*pli = true;
	else if (strcmp(fb, "ccm fir") == 0)
		*fir = true;
	else if (strcmp(fb, "goog-remb") == 0)
		*remb = true;
	else if (strcmp(fb, "transport-cc") == 0)
		*twcc = true;
}

static int attr_rtcp_fb(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_codec *c;
	int r;

	if (v[0] == '*' && v[1] == ' ') {
		sdp_fb_flags(v + 2, &p->wild_nack, &p->wild_pli, &p->wild_fir, &p->wild_remb,
			     &p->wild_twcc);
		return 0;
	}
	r = sdp_codec_prefix(p, &v, &c);
	if (r < 0)
		return r;
	sdp_fb_flags(v, &c->fb_nack, &c->fb_pli, &c->fb_fir, &c->fb_remb, &c->fb_twcc);
	return 0;
}

static int attr_extmap(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_media *m = p->m;
	uint32_t id;
	const char *uri;
	size_t n;

	/* RFC 8285 §5: <id>[/<direction>] <URI> [<extension attributes>] */
	if (sdp_uint(&v, 255, &id) < 0 || id == 0)
		return sdp_fail(p, -EBADMSG, "bad a=extmap");
	if (*v == '/')
		sdp_word(&v, &n);
	uri = sdp_word(&v, &n);
	if (!uri)
		return sdp_fail(p, -EBADMSG, "bad a=extmap");
	if (m->n_extmaps == CG_SDP_MAX_EXTMAPS)
		return sdp_fail(p, -E2BIG, "too many a=extmap in a media section");
	if (sdp_copy(m->extmaps[m->n_extmaps].uri, CG_SDP_URI, uri, n) < 0)
		return sdp_fail(p, -E2BIG, "a=extmap URI too long");
	m->extmaps[m->n_extmaps++].id = (uint8_t)id;
	return 0;
}

static int attr_candidate(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_media *m = p->m;

	if (m->n_candidates == CG_SDP_MAX_CANDIDATES)
		return sdp_fail(p, -E2BIG, "too many a=candidate lines");
	/* Stored as the RFC 8839 §5.1 attribute without "a=", as libnice parses it. */
	if (snprintf(m->candidates[m->n_candidates], CG_SDP_CANDIDATE, "candidate:%s", v) >=
	    CG_SDP_CANDIDATE)
		return sdp_fail(p, -E2BIG, "a=candidate too long");
	m->n_candidates++;
	return 0;
}

/* Session-level value, or the current section's when inside one. */
#define SDP_FIELD(p, field) ((p)->m ? (p)->m->field : (p)->offer->field)

static int attr_ice_ufrag(struct sdp_parser *p, const char *v)
{
	if (sdp_copy_str(SDP_FIELD(p, ice_ufrag), CG_SDP_ICE_CRED, v) < 0)
		return sdp_fail(p, -E2BIG, "a=ice-ufrag too long");
	return 0;
}

static int attr_ice_pwd(struct sdp_parser *p, const char *v)
{
	if (sdp_copy_str(SDP_FIELD(p, ice_pwd), CG_SDP_ICE_CRED, v) < 0)
		return sdp_fail(p, -E2BIG, "a=ice-pwd too long");
	return 0;
}

static int attr_fingerprint(struct sdp_parser *p, const char *v)
{
	size_t na, nf;
	const char *alg = sdp_word(&v, &na), *fp = sdp_word(&v, &nf);

	/* RFC 8122 §5: hash-func SP fingerprint */
	if (!alg || !fp)
		return sdp_fail(p, -EBADMSG, "bad a=fingerprint");
	if (sdp_copy(SDP_FIELD(p, fingerprint_alg), CG_SDP_TOKEN, alg, na) < 0 ||
	    sdp_copy(SDP_FIELD(p, fingerprint), CG_SDP_FINGERPRINT, fp, nf) < 0)
		return sdp_fail(p, -E2BIG, "a=fingerprint too long");
	return 0;
}

static int attr_setup(struct sdp_parser *p, const char *v)
{
	if (sdp_copy_str(SDP_FIELD(p, setup), CG_SDP_TOKEN, v) < 0)
		return sdp_fail(p, -E2BIG, "a=setup too long");
	return 0;
}

static int attr_mid(struct sdp_parser *p, const char *v)
{
	if (sdp_copy_str(p->m->mid, CG_SDP_TOKEN, v) < 0)
		return sdp_fail(p, -E2BIG, "a=mid too long");
	return 0;
}

static int attr_group(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_offer *o = p->offer;
	const char *mid;
	size_t n;

	/* RFC 8843 §7.1 / RFC 5888 §5: a=group:BUNDLE <mid> *(SP <mid>) */
	if (strncmp(v, "BUNDLE", 6) != 0 || (v[6] != ' ' && v[6] != '\0'))
		return 0;
	if (o->has_bundle)
		return 0; /* a second group: its sections get a transport of their own, not ours */
	o->has_bundle = true;
	v += 6;
	while ((mid = sdp_word(&v, &n))) {
		if (o->n_bundle_mids == CG_SDP_MAX_MEDIA)
			return sdp_fail(p, -E2BIG, "too many mids in a=group:BUNDLE");
		if (sdp_copy(o->bundle_mids[o->n_bundle_mids], CG_SDP_TOKEN, mid, n) < 0)
			return sdp_fail(p, -E2BIG, "a=group:BUNDLE mid too long");
		o->n_bundle_mids++;
	}
	return 0;
}

static int attr_flag(struct sdp_parser *p, const char *name)
{
	static const char *const dirs[] = {
		[CG_SDP_SENDRECV] = "sendrecv",
		[CG_SDP_SENDONLY] = "sendonly",
		[CG_SDP_RECVONLY] = "recvonly",
		[CG_SDP_INACTIVE] = "inactive",
	};

	for (size_t i = 0; i < CG_ARRAY_SIZE(dirs); i++)
		if (p->m && strcmp(name, dirs[i]) == 0)
			p->m->direction = (enum cg_sdp_direction)i;
	if (p->m && strcmp(name, "rtcp-mux") == 0)
		p->m->rtcp_mux = true;
	else if (p->m && strcmp(name, "rtcp-rsize") == 0)
		p->m->rtcp_rsize = true;
	else if (p->m && strcmp(name, "end-of-candidates") == 0)
		p->m->end_of_candidates = true;
	else if (p->m && strcmp(name, "bundle-only") == 0)
		p->m->bundle_only = true; /* RFC 8843 §6 */
	else if (!p->m && strcmp(name, "ice-lite") == 0)
		p->offer->ice_lite = true;
	else if (strcmp(name, "extmap-allow-mixed") == 0)
		p->offer->extmap_allow_mixed = true;
	return 0;
}

enum sdp_scope { SDP_SESSION = 1, SDP_MEDIA = 2, SDP_ANY = 3 };

struct sdp_attr {
	const char *name;
	enum sdp_scope scope;
	int (*parse)(struct sdp_parser *p, const char *value);
};

/* The attributes we read; everything else is ignored (RFC 8866 §5.13). */
static const struct sdp_attr sdp_attrs[] = {
	{ "rtpmap", SDP_MEDIA, attr_rtpmap },	    { "fmtp", SDP_MEDIA, attr_fmtp },
	{ "rtcp-fb", SDP_MEDIA, attr_rtcp_fb },	    { "extmap", SDP_MEDIA, attr_extmap },
	{ "candidate", SDP_MEDIA, attr_candidate }, { "ice-ufrag", SDP_ANY, attr_ice_ufrag },
	{ "ice-pwd", SDP_ANY, attr_ice_pwd },	    { "fingerprint", SDP_ANY, attr_fingerprint },
	{ "setup", SDP_ANY, attr_setup },	    { "mid", SDP_MEDIA, attr_mid },
	{ "group", SDP_SESSION, attr_group },
};

static int sdp_attribute(struct sdp_parser *p, char *a)
{
	char *colon = strchr(a, ':');
	enum sdp_scope scope = p->m ? SDP_MEDIA : SDP_SESSION;

	if (!colon)
		return attr_flag(p, a);
	*colon = '\0';
	for (size_t i = 0; i < CG_ARRAY_SIZE(sdp_attrs); i++)
		if ((sdp_attrs[i].scope & scope) && strcmp(a, sdp_attrs[i].name) == 0)
			return sdp_attrs[i].parse(p, colon + 1);
	return 0;
}

/* Applies a=rtcp-fb:* (RFC 4585 §4.2) to every codec of the section being closed. */
static void sdp_close_media(struct sdp_parser *p)
{
	struct cg_sdp_media *m = p->m;

	for (unsigned i = 0; m && i < m->n_codecs; i++) {
		struct cg_sdp_codec *c = &m->codecs[i];

		c->fb_nack |= p->wild_nack;
		c->fb_pli |= p->wild_pli;
		c->fb_fir |= p->wild_fir;
		c->fb_remb |= p->wild_remb;
		c->fb_twcc |= p->wild_twcc;
	}
	p->wild_nack = p->wild_pli = p->wild_fir = p->wild_remb = p->wild_twcc = false;
}

static enum cg_sdp_kind sdp_kind(const char *name)
{
	if (strcmp(name, "video") == 0)
		return CG_SDP_KIND_VIDEO;
	if (strcmp(name, "audio") == 0)
		return CG_SDP_KIND_AUDIO;
	if (strcmp(name, "application") == 0)
		return CG_SDP_KIND_APPLICATION;
	return CG_SDP_KIND_OTHER;
}

/* RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int sdp_media_line(struct sdp_parser *p, const char *v)
{
	struct cg_sdp_media *m;
	uint32_t port, nports;
	const char *w;
	size_t n;

	sdp_close_media(p);
	if (p->offer->n_media == CG_SDP_MAX_MEDIA)
		return sdp_fail(p, -E2BIG, "too many media sections");
	m = p->m = &p->offer->media[p->offer->n_media++];
	w = sdp_word(&v, &n);
	if (!w || sdp_copy(m->kind_name, CG_SDP_TOKEN, w, n) < 0)
		return sdp_fail(p, -EBADMSG, "bad m= line");
	m->kind = sdp_kind(m->kind_name);
	if (*v++ != ' ')
		return sdp_fail(p, -EBADMSG, "bad m= line");
	if (sdp_uint(&v, 65535, &port) < 0 ||
	    (*v == '/' && (v++, sdp_uint(&v, 65535, &nports)) < 0))
		return sdp_fail(p, -EBADMSG, "bad m= line port");
	m->port = (uint16_t)port;
	w = sdp_word(&v, &n);
	if (!w || sdp_copy(m->proto, CG_SDP_TOKEN, w, n) < 0)
		return sdp_fail(p, -EBADMSG, "bad m= line protocol");
	while (*v == ' ')
		v++;
	if (*v == '\0')
		return sdp_fail(p, -EBADMSG, "m= line without formats");
	if (sdp_copy_str(m->formats, sizeof(m->formats), v) < 0)
		return sdp_fail(p, -E2BIG, "m= line format list too long");
	return 0;
}

static int sdp_line(struct sdp_parser *p, char *line, bool first)
{
	/* RFC 8866 §5: <type>=<value>, and the first line is v=0. */
	if (first)
		return strcmp(line, "v=0") == 0
			       ? 0
			       : sdp_fail(p, -EBADMSG, "offer does not start with v=0");
	if (line[0] == '\0')
		return 0; /* tolerate blank lines (a trailing empty line is common) */
	if (line[0] < 'a' || line[0] > 'z' || line[1] != '=')
		return sdp_fail(p, -EBADMSG, "malformed SDP line");
	if (line[0] == 'm')
		return sdp_media_line(p, line + 2);
	if (line[0] == 'a')
		return sdp_attribute(p, line + 2);
	return 0;
}

/*
 * Cuts the next line out of text[*pos..len) into line[CG_SDP_MAX_LINE + 1], without CR/LF.
 * Returns 1 when a line was produced, 0 at the end, negative on error.
 */
static int sdp_next_line(struct sdp_parser *p, const char *text, size_t len, size_t *pos,
			 char *line)
{
	const char *s = text + *pos, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	nl = memchr(s, '\n', len - *pos);
	n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	if (n && s[n - 1] == '\r')
		n--;
	if (n > CG_SDP_MAX_LINE)
		return sdp_fail(p, -E2BIG, "SDP line too long");
	/* RFC 8866 §9: text is UTF-8 without control characters; a bare CR or a NUL would
	 * otherwise travel into the answer inside a token. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return sdp_fail(p, -EBADMSG, "control character in SDP");
	memcpy(line, s, n);
	line[n] = '\0';
	return 1;
}

/* Which sections the BUNDLE group names; a section without a mid is in no group. */
static void sdp_mark_bundled(struct cg_sdp_offer *o)
{
	for (unsigned i = 0; i < o->n_media; i++) {
		struct cg_sdp_media *m = &o->media[i];

		for (unsigned j = 0; m->mid[0] && j < o->n_bundle_mids && !m->bundled; j++)
			m->bundled = strcmp(m->mid, o->bundle_mids[j]) == 0;
	}
}

int cg_sdp_parse_offer(const char *sdp, size_t len, struct cg_sdp_offer *ret,
		       const char **ret_reason)
{
	struct sdp_parser p = { .offer = ret };
	char line[CG_SDP_MAX_LINE + 1];
	size_t pos = 0;
	bool first = true;
	int r;

	if (len > CG_SDP_MAX_SIZE) {
		*ret_reason = "offer too large";
		return -E2BIG;
	}
	memset(ret, 0, sizeof(*ret));
	while ((r = sdp_next_line(&p, sdp, len, &pos, line)) > 0) {
		r = sdp_line(&p, line, first);
		if (r < 0)
			break;
		first = false;
	}
	if (r == 0 && first)
		r = sdp_fail(&p, -EBADMSG, "empty offer");
	if (r < 0) {
		*ret_reason = p.reason;
		return r;
	}
	sdp_close_media(&p);
	sdp_mark_bundled(ret);
	return 0;
}

/* ---- negotiation ---- */

/*
 * RFC 3264 §6: port 0 rejects (or, in an offer, disables) a section, except that RFC 8843
 * §6 lets an offerer give a section port 0 with a=bundle-only to say it may only be used
 * within the BUNDLE group. Firefox does that for every section after the first when the
 * page asks for bundlePolicy 'max-bundle'.
 */
static bool sdp_media_rejected(const struct cg_sdp_media *m)
{
	return m->port == 0 && !(m->bundle_only && m->bundled);
}

/* What a profile-level-id means for decoding (RFC 6184 §8.1 table 5, as browsers read it). */
enum sdp_h264_class { H264_OTHER = 0, H264_CB, H264_BASELINE, H264_MAIN, H264_HIGH };

static enum sdp_h264_class sdp_h264_class(const struct cg_h264_profile *p)
{
	/* constraint_set4/5 and the reserved bits must be 0 for these profiles. */
	if (p->profile_idc == 66 && (p->constraints & 0x0f) == 0)
		return cg_h264_profile_is_constrained_baseline(p) ? H264_CB : H264_BASELINE;
	/* Main with constraint_set0 would also be CB-compatible; it is treated as Main on
	 * purpose: we only answer what a profile_idc 66 stream strictly is. */
	if (p->profile_idc == 77)
		return H264_MAIN;
	if (p->profile_idc == 100 && p->constraints == 0)
		return H264_HIGH;
	return H264_OTHER;
}

/*
 * How well an offered profile suits our stream: 2 same profile, 1 a superset that still
 * decodes us (Baseline decoders take a Constrained Baseline stream), 0 unusable.
 */
static int sdp_h264_score(enum sdp_h264_class ours, enum sdp_h264_class offered)
{
	if (ours == H264_OTHER || offered == H264_OTHER)
		return 0;
	if (ours == offered)
		return 2;
	return ours == H264_CB && offered == H264_BASELINE ? 1 : 0;
}

/* Returns the score of codec c for our stream; fills *ret_profile with the offered one. */
static int sdp_h264_codec_score(const struct cg_sdp_codec *c, enum sdp_h264_class ours,
				struct cg_h264_profile *ret_profile)
{
	char v[16];

	if (strcasecmp(c->name, "H264") != 0 || c->clock_rate != 90000)
		return 0;
	/* RFC 6184 §8.1: packetization-mode defaults to 0, which cannot carry FU-A/STAP-A. */
	if (!sdp_fmtp_get(c->fmtp, "packetization-mode", v, sizeof(v)) || strcmp(v, "1") != 0)
		return 0;
	/* RFC 6184 §8.1: an absent profile-level-id means 420010 (Baseline, level 1). */
	if (!sdp_fmtp_get(c->fmtp, "profile-level-id", v, sizeof(v)))
		strcpy(v, "420010");
	if (cg_h264_profile_from_string(v, ret_profile) < 0)
		return 0;
	return sdp_h264_score(ours, sdp_h264_class(ret_profile));
}

/* Picks the best H.264 payload type of m, first in offer order among equals. */
static const struct cg_sdp_codec *sdp_pick_codec(const struct cg_sdp_media *m,
						 enum sdp_h264_class ours,
						 struct cg_h264_profile *ret_profile)
{
	const struct cg_sdp_codec *best = NULL;
	int best_score = 0;

	for (unsigned i = 0; i < m->n_codecs; i++) {
		struct cg_h264_profile prof;
		int s = sdp_h264_codec_score(&m->codecs[i], ours, &prof);

		if (s > best_score) {
			best = &m->codecs[i];
			best_score = s;
			*ret_profile = prof;
		}
	}
	return best;
}

static const char *sdp_media_unusable(const struct cg_sdp_media *m)
{
	if (sdp_media_rejected(m))
		return "the offer's video section is rejected (port 0 without a=bundle-only in "
		       "the BUNDLE group)";
	if (m->direction != CG_SDP_SENDRECV && m->direction != CG_SDP_RECVONLY)
		return "the offer's video section does not receive (sendonly or inactive)";
	/* RFC 8829 §5.1.2: WebRTC media is UDP/TLS/RTP/SAVPF. */
	if (strcmp(m->proto, "UDP/TLS/RTP/SAVPF") != 0)
		return "the offer's video section is not UDP/TLS/RTP/SAVPF";
	/* RFC 8829 §4.1.1: we require rtcp-mux (one ICE component). */
	if (!m->rtcp_mux)
		return "the offer's video section lacks a=rtcp-mux";
	return NULL;
}

static uint8_t sdp_extmap_id(const struct cg_sdp_media *m, const char *uri)
{
	for (unsigned i = 0; i < m->n_extmaps; i++)
		/* We write one-byte headers only (RFC 8285 §4.2): ids 1..14. */
		if (strcmp(m->extmaps[i].uri, uri) == 0 && m->extmaps[i].id <= 14)
			return m->extmaps[i].id;
	return 0;
}

static void sdp_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Media-level value if present, else session level (RFC 8839 §5.4, RFC 8122 §5). */
static const char *sdp_pick(const char *media, const char *session)
{
	return media[0] ? media : session;
}

/* The remote ICE credentials, fingerprint and setup role, media level first. */
static int sdp_transport_params(const struct cg_sdp_offer *o, const struct cg_sdp_media *m,
				bool is_offer, struct cg_sdp_choice *c, const char **ret_reason)
{
	const char *fp_alg = m->fingerprint[0] ? m->fingerprint_alg : o->fingerprint_alg;

	strcpy(c->remote_ufrag, sdp_pick(m->ice_ufrag, o->ice_ufrag));
	strcpy(c->remote_pwd, sdp_pick(m->ice_pwd, o->ice_pwd));
	strcpy(c->remote_fingerprint, sdp_pick(m->fingerprint, o->fingerprint));
	strcpy(c->remote_fingerprint_alg, fp_alg);
	sdp_lower(c->remote_fingerprint_alg);
	strcpy(c->remote_setup, sdp_pick(m->setup, o->setup));
	if (!c->remote_ufrag[0] || !c->remote_pwd[0]) {
		*ret_reason = is_offer ? "offer has no ICE credentials (a=ice-ufrag/a=ice-pwd)"
				       : "answer has no ICE credentials (a=ice-ufrag/a=ice-pwd)";
		return -EBADMSG;
	}
	if (!c->remote_fingerprint[0]) {
		*ret_reason = is_offer ? "offer has no DTLS a=fingerprint"
				       : "answer has no DTLS a=fingerprint";
		return -EBADMSG;
	}
	return 0;
}

static int sdp_transport(const struct cg_sdp_offer *o, const struct cg_sdp_media *m,
			 struct cg_sdp_choice *c, const char **ret_reason)
{
	int r = sdp_transport_params(o, m, true, c, ret_reason);

	if (r < 0)
		return r;
	/* RFC 8842 §5.3: we answer passive, so the offerer must be able to be active. */
	if (c->remote_setup[0] && strcmp(c->remote_setup, "actpass") != 0 &&
	    strcmp(c->remote_setup, "active") != 0) {
		*ret_reason = "offer's a=setup must be actpass or active (we are passive)";
		return -EBADMSG;
	}
	return 0;
}

/* RFC 8842 §5.2: an answer to actpass picks a role: active or passive, never actpass. */
static int sdp_transport_answer(const struct cg_sdp_offer *o, const struct cg_sdp_media *m,
				struct cg_sdp_choice *c, const char **ret_reason)
{
	int r = sdp_transport_params(o, m, false, c, ret_reason);

	if (r < 0)
		return r;
	if (strcmp(c->remote_setup, "active") != 0 && strcmp(c->remote_setup, "passive") != 0) {
		*ret_reason = "answer's a=setup must be active or passive";
		return -EBADMSG;
	}
	return 0;
}

uint8_t cg_sdp_rtx_pt(const struct cg_sdp_media *m, uint8_t pt)
{
	char v[16];
	uint32_t apt;

	for (unsigned i = 0; i < m->n_codecs; i++) {
		const struct cg_sdp_codec *c = &m->codecs[i];

		if (strcasecmp(c->name, "rtx") == 0 && c->clock_rate == 90000 &&
		    sdp_fmtp_get(c->fmtp, "apt", v, sizeof(v)) && sdp_uint_str(v, 127, &apt) &&
		    apt == pt && c->pt != pt)
			return c->pt;
	}
	return 0;
}

static void sdp_choose(const struct cg_sdp_media *m, const struct cg_sdp_codec *codec,
		       const struct cg_sdp_capabilities *caps, struct cg_sdp_choice *c)
{
	c->video_pt = codec->pt;
	c->answer_profile.level_idc = caps->video_profile.level_idc;
	c->pli = codec->fb_pli;
	c->fir = codec->fb_fir;
	c->nack = codec->fb_nack && caps->nack;
	c->remb = codec->fb_remb && caps->remb;
	c->playout_delay_id = sdp_extmap_id(m, CG_RTP_EXT_URI_PLAYOUT_DELAY);
	c->abs_send_time_id = sdp_extmap_id(m, CG_RTP_EXT_URI_ABS_SEND_TIME);
	c->abs_capture_time_id = sdp_extmap_id(m, CG_RTP_EXT_URI_ABS_CAPTURE_TIME);
	/* Retransmissions are answered to NACKs: without nack feedback rtx is useless. */
	c->rtx_pt = caps->rtx && c->nack ? cg_sdp_rtx_pt(m, codec->pt) : 0;
	if (caps->twcc) {
		c->twcc_id = sdp_extmap_id(m, CG_RTP_EXT_URI_TWCC);
		c->twcc = c->twcc_id && codec->fb_twcc;
	}
	strcpy(c->video_mid, m->mid);
}

/* The Opus payload type of an audio section (RFC 7587 §7: opus/48000/2), or -1. */
static int sdp_opus_pt(const struct cg_sdp_media *m)
{
	for (unsigned i = 0; i < m->n_codecs; i++)
		if (strcasecmp(m->codecs[i].name, "opus") == 0 &&
		    m->codecs[i].clock_rate == 48000 && m->codecs[i].channels == 2)
			return m->codecs[i].pt;
	return -1;
}

/* Our direction for an offered audio section, or INACTIVE when it cannot be used. */
static enum cg_sdp_direction sdp_audio_direction(const struct cg_sdp_media *m,
						 const struct cg_sdp_capabilities *caps)
{
	bool they_receive = m->direction == CG_SDP_SENDRECV || m->direction == CG_SDP_RECVONLY;
	bool they_send = m->direction == CG_SDP_SENDRECV || m->direction == CG_SDP_SENDONLY;
	bool send = they_receive && caps->audio_send;
	bool receive = they_send && caps->audio_receive;

	if (send && receive)
		return CG_SDP_SENDRECV;
	if (send)
		return CG_SDP_SENDONLY;
	return receive ? CG_SDP_RECVONLY : CG_SDP_INACTIVE;
}

/*
 * Accepts the first audio section we can serve, bundled with the video: same transport,
 * so when the offer has a BUNDLE group both must be in it (RFC 8843), and a bundle-only
 * audio section (Firefox, max-bundle) is as good as one with a port.
 */
static void sdp_choose_audio(const struct cg_sdp_offer *offer,
			     const struct cg_sdp_capabilities *caps, struct cg_sdp_choice *c)
{
	bool video_bundled = offer->media[c->video_index].bundled;

	c->audio_index = -1;
	for (unsigned i = 0; i < offer->n_media && c->audio_index < 0; i++) {
		const struct cg_sdp_media *m = &offer->media[i];
		enum cg_sdp_direction dir;
		int pt;

		if (m->kind != CG_SDP_KIND_AUDIO || sdp_media_rejected(m) || !m->rtcp_mux ||
		    strcmp(m->proto, "UDP/TLS/RTP/SAVPF") != 0 ||
		    (offer->n_media > 1 && !offer->has_bundle) ||
		    (offer->has_bundle && !(m->bundled && video_bundled)))
			continue;
		pt = sdp_opus_pt(m);
		dir = sdp_audio_direction(m, caps);
		if (pt < 0 || dir == CG_SDP_INACTIVE)
			continue;
		c->audio_index = (int)i;
		c->audio_pt = (uint8_t)pt;
		c->audio_direction = dir;
		strcpy(c->audio_mid, m->mid);
	}
}

int cg_sdp_negotiate(const struct cg_sdp_offer *offer, const struct cg_sdp_capabilities *caps,
		     struct cg_sdp_choice *ret, const char **ret_reason)
{
	enum sdp_h264_class ours = sdp_h264_class(&caps->video_profile);
	const char *reason = "offer has no video section";
	struct cg_sdp_choice c = { .video_index = -1 };
	int r;

	for (unsigned i = 0; i < offer->n_media && c.video_index < 0; i++) {
		const struct cg_sdp_media *m = &offer->media[i];
		const struct cg_sdp_codec *codec;

		if (m->kind != CG_SDP_KIND_VIDEO)
			continue;
		reason = sdp_media_unusable(m);
		if (reason)
			continue;
		codec = sdp_pick_codec(m, ours, &c.answer_profile);
		if (!codec) {
			reason = ours == H264_CB
					 ? "offer has no H.264 packetization-mode=1 "
					   "Constrained Baseline/Baseline payload"
					 : "offer has no H.264 packetization-mode=1 payload "
					   "of our stream's profile";
			continue;
		}
		c.video_index = (int)i;
		sdp_choose(m, codec, caps, &c);
	}
	if (c.video_index < 0) {
		*ret_reason = reason;
		return -ENOTSUP;
	}
	r = sdp_transport(offer, &offer->media[c.video_index], &c, ret_reason);
	if (r < 0)
		return r;
	sdp_choose_audio(offer, caps, &c);
	*ret = c;
	return 0;
}

/* ---- answer ---- */

struct sdp_out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

/* Appends one line and its CRLF (RFC 8866 §5). */
static void CG_PRINTF(2, 3) sdp_out_line(struct sdp_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
	memcpy(o->buf + o->len, "\r\n", 3);
	o->len += 2;
}

static void sdp_answer_session(struct sdp_out *o, const struct cg_sdp_offer *offer,
			       const struct cg_sdp_choice *c, const struct cg_sdp_local *l)
{
	sdp_out_line(o, "v=0");
	sdp_out_line(o, "o=- %llu 2 IN IP4 127.0.0.1", (unsigned long long)l->session_id);
	sdp_out_line(o, "s=-");
	sdp_out_line(o, "t=0 0");
	if (l->ice_lite)
		sdp_out_line(o, "a=ice-lite"); /* RFC 8445 §2.5 */
	/* RFC 8843 §7.3.1: the answer's group holds only accepted sections, in offer order. */
	if (offer->has_bundle && c->video_mid[0] && c->audio_index < 0)
		sdp_out_line(o, "a=group:BUNDLE %s", c->video_mid);
	else if (offer->has_bundle && c->video_mid[0])
		sdp_out_line(o, "a=group:BUNDLE %s %s",
			     c->audio_index < c->video_index ? c->audio_mid : c->video_mid,
			     c->audio_index < c->video_index ? c->video_mid : c->audio_mid);
	if (offer->extmap_allow_mixed)
		sdp_out_line(o, "a=extmap-allow-mixed");
	sdp_out_line(o, "a=msid-semantic: WMS %s", l->stream_id);
}

/* RFC 8829 §5.3.1: a rejected section keeps its kind, proto and mid, with port 0. */
static void sdp_answer_rejected(struct sdp_out *o, const struct cg_sdp_media *m)
{
	const char *fmt = m->formats;
	size_t n;
	const char *first = sdp_word(&fmt, &n);

	sdp_out_line(o, "m=%s 0 %s %.*s", m->kind_name, m->proto, (int)n, first ? first : "0");
	sdp_out_line(o, "c=IN IP4 0.0.0.0");
	if (m->mid[0])
		sdp_out_line(o, "a=mid:%s", m->mid);
}

static void sdp_answer_codec(struct sdp_out *o, const struct cg_sdp_choice *c)
{
	char plid[7];
	unsigned pt = c->video_pt;

	cg_h264_profile_to_string(&c->answer_profile, plid);
	sdp_out_line(o, "a=rtpmap:%u H264/90000", pt);
	if (c->nack)
		sdp_out_line(o, "a=rtcp-fb:%u nack", pt);
	if (c->pli)
		sdp_out_line(o, "a=rtcp-fb:%u nack pli", pt);
	if (c->fir)
		sdp_out_line(o, "a=rtcp-fb:%u ccm fir", pt);
	if (c->remb)
		sdp_out_line(o, "a=rtcp-fb:%u goog-remb", pt);
	if (c->twcc)
		sdp_out_line(o, "a=rtcp-fb:%u transport-cc", pt);
	/* RFC 6184 §8.2.2: level-asymmetry-allowed lets our level differ from the offer's. */
	sdp_out_line(o,
		     "a=fmtp:%u level-asymmetry-allowed=1;packetization-mode=1;"
		     "profile-level-id=%s",
		     pt, plid);
	if (c->rtx_pt) {
		sdp_out_line(o, "a=rtpmap:%u rtx/90000", c->rtx_pt);
		sdp_out_line(o, "a=fmtp:%u apt=%u", c->rtx_pt, pt);
	}
}

static void sdp_answer_ice(struct sdp_out *o, const struct cg_sdp_local *l)
{
	sdp_out_line(o, "a=ice-ufrag:%s", l->ice_ufrag);
	sdp_out_line(o, "a=ice-pwd:%s", l->ice_pwd);
	sdp_out_line(o, "a=fingerprint:sha-256 %s", l->fingerprint);
	/* RFC 8842 §5.3: the answerer to actpass/active takes passive (DTLS server). */
	sdp_out_line(o, "a=setup:passive");
}

static void sdp_answer_video(struct sdp_out *o, const struct cg_sdp_media *m,
			     const struct cg_sdp_choice *c, const struct cg_sdp_local *l)
{
	if (c->rtx_pt)
		sdp_out_line(o, "m=video 9 UDP/TLS/RTP/SAVPF %u %u", c->video_pt, c->rtx_pt);
	else
		sdp_out_line(o, "m=video 9 UDP/TLS/RTP/SAVPF %u", c->video_pt);
	sdp_out_line(o, "c=IN IP4 0.0.0.0");
	sdp_out_line(o, "a=rtcp:9 IN IP4 0.0.0.0");
	sdp_answer_ice(o, l);
	if (m->mid[0])
		sdp_out_line(o, "a=mid:%s", m->mid);
	if (c->playout_delay_id)
		sdp_out_line(o, "a=extmap:%u %s", c->playout_delay_id,
			     CG_RTP_EXT_URI_PLAYOUT_DELAY);
	if (c->abs_send_time_id)
		sdp_out_line(o, "a=extmap:%u %s", c->abs_send_time_id,
			     CG_RTP_EXT_URI_ABS_SEND_TIME);
	if (c->twcc_id)
		sdp_out_line(o, "a=extmap:%u %s", c->twcc_id, CG_RTP_EXT_URI_TWCC);
	if (c->abs_capture_time_id)
		sdp_out_line(o, "a=extmap:%u %s", c->abs_capture_time_id,
			     CG_RTP_EXT_URI_ABS_CAPTURE_TIME);
	sdp_out_line(o, "a=sendonly");
	sdp_out_line(o, "a=msid:%s %s", l->stream_id, l->stream_id);
	sdp_out_line(o, "a=rtcp-mux");
	if (m->rtcp_rsize)
		sdp_out_line(o, "a=rtcp-rsize"); /* RFC 5506 §5 */
	sdp_answer_codec(o, c);
	/* RFC 4588 §8.7 / RFC 5576 §4.2: FID pairs the media SSRC with its retransmissions. */
	if (c->rtx_pt)
		sdp_out_line(o, "a=ssrc-group:FID %u %u", l->video_ssrc, l->rtx_ssrc);
	sdp_out_line(o, "a=ssrc:%u cname:%s", l->video_ssrc, l->cname);
	sdp_out_line(o, "a=ssrc:%u msid:%s %s", l->video_ssrc, l->stream_id, l->stream_id);
	if (c->rtx_pt) {
		sdp_out_line(o, "a=ssrc:%u cname:%s", l->rtx_ssrc, l->cname);
		sdp_out_line(o, "a=ssrc:%u msid:%s %s", l->rtx_ssrc, l->stream_id, l->stream_id);
	}
}

/* Candidates go in the first accepted section, the BUNDLE-tag (RFC 8843 §7.1.1). */
static void sdp_answer_candidates(struct sdp_out *o, const struct cg_sdp_local *l)
{
	for (unsigned i = 0; l->candidates && i < l->n_candidates; i++)
		sdp_out_line(o, "a=%s", l->candidates[i]);
	if (l->end_of_candidates)
		sdp_out_line(o, "a=end-of-candidates"); /* RFC 8840 §8.2 */
}

static const char *const sdp_direction_names[] = {
	[CG_SDP_SENDRECV] = "sendrecv",
	[CG_SDP_SENDONLY] = "sendonly",
	[CG_SDP_RECVONLY] = "recvonly",
	[CG_SDP_INACTIVE] = "inactive",
};

static void sdp_answer_audio(struct sdp_out *o, const struct cg_sdp_media *m,
			     const struct cg_sdp_choice *c, const struct cg_sdp_local *l)
{
	bool sending =
		c->audio_direction == CG_SDP_SENDRECV || c->audio_direction == CG_SDP_SENDONLY;

	sdp_out_line(o, "m=audio 9 UDP/TLS/RTP/SAVPF %u", c->audio_pt);
	sdp_out_line(o, "c=IN IP4 0.0.0.0");
	sdp_out_line(o, "a=rtcp:9 IN IP4 0.0.0.0");
	sdp_answer_ice(o, l);
	sdp_out_line(o, "a=mid:%s", m->mid);
	sdp_out_line(o, "a=%s", sdp_direction_names[c->audio_direction]);
	if (sending)
		sdp_out_line(o, "a=msid:%s %s-audio", l->stream_id, l->stream_id);
	sdp_out_line(o, "a=rtcp-mux");
	if (m->rtcp_rsize)
		sdp_out_line(o, "a=rtcp-rsize");
	sdp_out_line(o, "a=rtpmap:%u opus/48000/2", c->audio_pt);
	/* RFC 7587 §7: 20 ms packets, in-band FEC both ways. */
	sdp_out_line(o, "a=fmtp:%u minptime=10;useinbandfec=1", c->audio_pt);
	if (sending) {
		sdp_out_line(o, "a=ssrc:%u cname:%s", l->audio_ssrc, l->cname);
		sdp_out_line(o, "a=ssrc:%u msid:%s %s-audio", l->audio_ssrc, l->stream_id,
			     l->stream_id);
	}
}

int cg_sdp_build_answer(char *buf, size_t cap, const struct cg_sdp_offer *offer,
			const struct cg_sdp_choice *choice, const struct cg_sdp_local *local)
{
	struct sdp_out o = { .buf = buf, .cap = cap };

	cg_assert(choice->video_index >= 0 && (unsigned)choice->video_index < offer->n_media);
	cg_assert(local->ice_ufrag && local->ice_pwd && local->fingerprint && local->cname &&
		  local->stream_id);
	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	sdp_answer_session(&o, offer, choice, local);
	for (unsigned i = 0; i < offer->n_media; i++) {
		bool first = (int)i == CG_MIN(choice->video_index, choice->audio_index < 0
									   ? choice->video_index
									   : choice->audio_index);

		if ((int)i == choice->video_index)
			sdp_answer_video(&o, &offer->media[i], choice, local);
		else if ((int)i == choice->audio_index)
			sdp_answer_audio(&o, &offer->media[i], choice, local);
		else
			sdp_answer_rejected(&o, &offer->media[i]);
		if (first)
			sdp_answer_candidates(&o, local);
	}
	if (o.overflow || o.len > INT32_MAX) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.len;
}

/* ---- camgate offering ---- */

static void sdp_offer_video(struct sdp_out *o, const struct cg_sdp_offer_params *p)
{
	const unsigned pt = CG_SDP_OFFER_VIDEO_PT, rtx = CG_SDP_OFFER_RTX_PT;
	char plid[7];

	cg_h264_profile_to_string(&p->video_profile, plid);
	sdp_out_line(o, "m=video 9 UDP/TLS/RTP/SAVPF %u %u", pt, rtx);
	sdp_out_line(o, "c=IN IP4 0.0.0.0");
	sdp_out_line(o, "a=rtcp:9 IN IP4 0.0.0.0");
	sdp_out_line(o, "a=ice-ufrag:%s", p->ice_ufrag);
	sdp_out_line(o, "a=ice-pwd:%s", p->ice_pwd);
	sdp_out_line(o, "a=ice-options:trickle");
	sdp_out_line(o, "a=fingerprint:sha-256 %s", p->fingerprint);
	sdp_out_line(o, "a=setup:actpass"); /* RFC 8842 §5.2: the offerer says actpass */
	sdp_out_line(o, "a=mid:0");
	sdp_out_line(o, "a=extmap:1 %s", CG_RTP_EXT_URI_PLAYOUT_DELAY);
	sdp_out_line(o, "a=extmap:2 %s", CG_RTP_EXT_URI_ABS_SEND_TIME);
	sdp_out_line(o, "a=extmap:3 %s", CG_RTP_EXT_URI_TWCC);
	sdp_out_line(o, "a=extmap:4 %s", CG_RTP_EXT_URI_ABS_CAPTURE_TIME);
	sdp_out_line(o, "a=sendonly");
	sdp_out_line(o, "a=msid:%s %s", p->stream_id, p->stream_id);
	sdp_out_line(o, "a=rtcp-mux");
	sdp_out_line(o, "a=rtcp-rsize");
	sdp_out_line(o, "a=rtpmap:%u H264/90000", pt);
	sdp_out_line(o, "a=rtcp-fb:%u goog-remb", pt);
	sdp_out_line(o, "a=rtcp-fb:%u transport-cc", pt);
	sdp_out_line(o, "a=rtcp-fb:%u ccm fir", pt);
	sdp_out_line(o, "a=rtcp-fb:%u nack", pt);
	sdp_out_line(o, "a=rtcp-fb:%u nack pli", pt);
	sdp_out_line(o,
		     "a=fmtp:%u level-asymmetry-allowed=1;packetization-mode=1;"
		     "profile-level-id=%s",
		     pt, plid);
	sdp_out_line(o, "a=rtpmap:%u rtx/90000", rtx);
	sdp_out_line(o, "a=fmtp:%u apt=%u", rtx, pt);
	sdp_out_line(o, "a=ssrc-group:FID %u %u", p->video_ssrc, p->rtx_ssrc);
	sdp_out_line(o, "a=ssrc:%u cname:%s", p->video_ssrc, p->cname);
	sdp_out_line(o, "a=ssrc:%u cname:%s", p->rtx_ssrc, p->cname);
	for (unsigned i = 0; p->candidates && i < p->n_candidates; i++)
		sdp_out_line(o, "a=%s", p->candidates[i]);
	if (p->end_of_candidates)
		sdp_out_line(o, "a=end-of-candidates");
}

static void sdp_offer_audio(struct sdp_out *o, const struct cg_sdp_offer_params *p)
{
	const unsigned pt = CG_SDP_OFFER_AUDIO_PT;
	const char *dir = p->audio_send && p->audio_receive ? "sendrecv"
			  : p->audio_send		    ? "sendonly"
							    : "recvonly";

	sdp_out_line(o, "m=audio 9 UDP/TLS/RTP/SAVPF %u", pt);
	sdp_out_line(o, "c=IN IP4 0.0.0.0");
	sdp_out_line(o, "a=rtcp:9 IN IP4 0.0.0.0");
	sdp_out_line(o, "a=ice-ufrag:%s", p->ice_ufrag);
	sdp_out_line(o, "a=ice-pwd:%s", p->ice_pwd);
	sdp_out_line(o, "a=ice-options:trickle");
	sdp_out_line(o, "a=fingerprint:sha-256 %s", p->fingerprint);
	sdp_out_line(o, "a=setup:actpass");
	sdp_out_line(o, "a=mid:1");
	sdp_out_line(o, "a=%s", dir);
	if (p->audio_send)
		sdp_out_line(o, "a=msid:%s %s-audio", p->stream_id, p->stream_id);
	sdp_out_line(o, "a=rtcp-mux");
	sdp_out_line(o, "a=rtpmap:%u opus/48000/2", pt);
	sdp_out_line(o, "a=fmtp:%u minptime=10;useinbandfec=1", pt);
	if (p->audio_send)
		sdp_out_line(o, "a=ssrc:%u cname:%s", p->audio_ssrc, p->cname);
}

int cg_sdp_build_offer(char *buf, size_t cap, const struct cg_sdp_offer_params *p)
{
	struct sdp_out o = { .buf = buf, .cap = cap };
	bool audio = p->audio_send || p->audio_receive;

	cg_assert(p->ice_ufrag && p->ice_pwd && p->fingerprint && p->cname && p->stream_id);
	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	sdp_out_line(&o, "v=0");
	sdp_out_line(&o, "o=- %llu 2 IN IP4 127.0.0.1", (unsigned long long)p->session_id);
	sdp_out_line(&o, "s=-");
	sdp_out_line(&o, "t=0 0");
	sdp_out_line(&o, audio ? "a=group:BUNDLE 0 1" : "a=group:BUNDLE 0");
	sdp_out_line(&o, "a=msid-semantic: WMS %s", p->stream_id);
	sdp_offer_video(&o, p);
	if (audio)
		sdp_offer_audio(&o, p);
	if (o.overflow || o.len > INT32_MAX) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.len;
}

/* What the answer accepted of our video section (RFC 3264 §6: a subset of our offer). */
static int sdp_answer_video_choice(const struct cg_sdp_media *m,
				   const struct cg_sdp_offer_params *ours, struct cg_sdp_choice *c,
				   const char **ret_reason)
{
	const struct cg_sdp_codec *h264 = NULL;

	for (unsigned i = 0; i < m->n_codecs; i++) {
		if (m->codecs[i].pt == CG_SDP_OFFER_VIDEO_PT &&
		    strcasecmp(m->codecs[i].name, "H264") == 0)
			h264 = &m->codecs[i];
		else if (m->codecs[i].pt == CG_SDP_OFFER_RTX_PT)
			c->rtx_pt = CG_SDP_OFFER_RTX_PT;
	}
	if (m->kind != CG_SDP_KIND_VIDEO || sdp_media_rejected(m) || !h264) {
		*ret_reason = "the answer does not accept our H.264 video";
		return -ENOTSUP;
	}
	c->video_index = 0;
	c->video_pt = CG_SDP_OFFER_VIDEO_PT;
	c->answer_profile = ours->video_profile;
	c->nack = h264->fb_nack;
	c->pli = h264->fb_pli;
	c->fir = h264->fb_fir;
	c->remb = h264->fb_remb;
	if (!c->nack)
		c->rtx_pt = 0;
	c->playout_delay_id = sdp_extmap_id(m, CG_RTP_EXT_URI_PLAYOUT_DELAY);
	c->abs_send_time_id = sdp_extmap_id(m, CG_RTP_EXT_URI_ABS_SEND_TIME);
	c->abs_capture_time_id = sdp_extmap_id(m, CG_RTP_EXT_URI_ABS_CAPTURE_TIME);
	c->twcc_id = sdp_extmap_id(m, CG_RTP_EXT_URI_TWCC);
	c->twcc = c->twcc_id && h264->fb_twcc;
	strcpy(c->video_mid, m->mid);
	return 0;
}

/* The answerer's direction, turned around: its recvonly is our sendonly. */
static void sdp_answer_audio_choice(const struct cg_sdp_offer *a,
				    const struct cg_sdp_offer_params *ours, struct cg_sdp_choice *c)
{
	const struct cg_sdp_media *m = a->n_media > 1 ? &a->media[1] : NULL;
	bool send, receive;

	c->audio_index = -1;
	if (!m || m->kind != CG_SDP_KIND_AUDIO || sdp_media_rejected(m) || sdp_opus_pt(m) < 0)
		return;
	send = ours->audio_send &&
	       (m->direction == CG_SDP_RECVONLY || m->direction == CG_SDP_SENDRECV);
	receive = ours->audio_receive &&
		  (m->direction == CG_SDP_SENDONLY || m->direction == CG_SDP_SENDRECV);
	if (!send && !receive)
		return;
	c->audio_index = 1;
	c->audio_pt = (uint8_t)sdp_opus_pt(m);
	c->audio_direction = send && receive ? CG_SDP_SENDRECV
			     : send	     ? CG_SDP_SENDONLY
					     : CG_SDP_RECVONLY;
	strcpy(c->audio_mid, m->mid);
}

int cg_sdp_choose_from_answer(const struct cg_sdp_offer *answer,
			      const struct cg_sdp_offer_params *ours, struct cg_sdp_choice *ret,
			      const char **ret_reason)
{
	struct cg_sdp_choice c = { .video_index = -1, .audio_index = -1 };
	int r;

	if (answer->n_media == 0) {
		*ret_reason = "the answer has no media section";
		return -EBADMSG;
	}
	r = sdp_answer_video_choice(&answer->media[0], ours, &c, ret_reason);
	if (r >= 0)
		r = sdp_transport_answer(answer, &answer->media[0], &c, ret_reason);
	if (r < 0)
		return r;
	sdp_answer_audio_choice(answer, ours, &c);
	*ret = c;
	return 0;
}

int cg_sdp_parse_answer(const char *sdp, size_t len, const struct cg_sdp_offer_params *ours,
			struct cg_sdp_choice *ret, const char **ret_reason)
{
	struct cg_sdp_offer *a = cg_new0(struct cg_sdp_offer, 1);
	/* An answer has an offer's grammar. */
	int r = cg_sdp_parse_offer(sdp, len, a, ret_reason);

	if (r >= 0)
		r = cg_sdp_choose_from_answer(a, ours, ret, ret_reason);
	free(a);
	return r;
}

/* ---- trickle fragments ---- */

struct frag_parser {
	struct cg_sdp_fragment *f;
	char mid[CG_SDP_TOKEN];
	const char *reason;
};

static int frag_fail(struct frag_parser *p, int err, const char *reason)
{
	p->reason = reason;
	return err;
}

static int frag_candidate(struct frag_parser *p, const char *v)
{
	struct cg_sdp_fragment *f = p->f;

	if (f->n_candidates == CG_SDP_MAX_CANDIDATES)
		return frag_fail(p, -E2BIG, "too many candidates in fragment");
	if (snprintf(f->candidates[f->n_candidates], CG_SDP_CANDIDATE, "candidate:%s", v) >=
	    CG_SDP_CANDIDATE)
		return frag_fail(p, -E2BIG, "a=candidate too long");
	strcpy(f->mids[f->n_candidates++], p->mid);
	return 0;
}

/* RFC 8840 §4.4: ICE attributes, m= lines and a=mid give the candidates' context. */
static int frag_attribute(struct frag_parser *p, const char *a)
{
	struct {
		const char *prefix;
		char *dst;
		size_t cap;
	} copies[] = {
		{ "ice-ufrag:", p->f->ice_ufrag, CG_SDP_ICE_CRED },
		{ "ice-pwd:", p->f->ice_pwd, CG_SDP_ICE_CRED },
		{ "mid:", p->mid, CG_SDP_TOKEN },
	};

	if (strncmp(a, "candidate:", 10) == 0)
		return frag_candidate(p, a + 10);
	if (strcmp(a, "end-of-candidates") == 0) {
		p->f->end_of_candidates = true;
		return 0;
	}
	for (size_t i = 0; i < CG_ARRAY_SIZE(copies); i++) {
		size_t n = strlen(copies[i].prefix);

		if (strncmp(a, copies[i].prefix, n) == 0 &&
		    sdp_copy_str(copies[i].dst, copies[i].cap, a + n) < 0)
			return frag_fail(p, -E2BIG, "fragment attribute too long");
	}
	return 0;
}

static int frag_line(struct frag_parser *p, const char *line)
{
	if (line[0] == '\0')
		return 0;
	if (line[0] < 'a' || line[0] > 'z' || line[1] != '=')
		return frag_fail(p, -EBADMSG, "malformed SDP fragment line");
	if (line[0] == 'm')
		p->mid[0] = '\0'; /* a new section: its a=mid follows */
	if (line[0] == 'a')
		return frag_attribute(p, line + 2);
	return 0;
}

int cg_sdp_parse_fragment(const char *frag, size_t len, struct cg_sdp_fragment *ret,
			  const char **ret_reason)
{
	struct frag_parser p = { .f = ret };
	struct sdp_parser lp = { 0 };
	char line[CG_SDP_MAX_LINE + 1];
	size_t pos = 0;
	int r;

	if (len > CG_SDP_MAX_SIZE) {
		*ret_reason = "fragment too large";
		return -E2BIG;
	}
	memset(ret, 0, sizeof(*ret));
	while ((r = sdp_next_line(&lp, frag, len, &pos, line)) > 0) {
		r = frag_line(&p, line);
		if (r < 0)
			break;
	}
	if (r < 0) {
		*ret_reason = lp.reason ? lp.reason : p.reason;
		return r;
	}
	return 0;
}
