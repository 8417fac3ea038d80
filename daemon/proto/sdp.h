/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP offer/answer for a send-only H.264 source (RFC 8866, RFC 8829 JSEP, RFC 8843 BUNDLE,
 * RFC 6184 §8 H.264 parameters, RFC 8840 trickle fragments). Parses a browser's offer,
 * chooses what we send, writes the answer. Pure. Any thread; no shared state.
 *
 * Everything remote-controlled is bounded: sections, codecs, extmaps, candidates and line
 * lengths have fixed maxima; anything beyond is an error (-E2BIG), never an allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/h264.h"

#define CG_SDP_MAX_SIZE	      (64 * 1024)
#define CG_SDP_MAX_MEDIA      8
#define CG_SDP_MAX_CODECS     48
#define CG_SDP_MAX_EXTMAPS    20
#define CG_SDP_MAX_CANDIDATES 32
#define CG_SDP_MAX_LINE	      1024
#define CG_SDP_TOKEN	      64  /* mid, setup, codec name, fingerprint algorithm */
#define CG_SDP_ICE_CRED	      257 /* RFC 8839: ufrag ≤ 256 bytes (plus NUL) */
#define CG_SDP_FINGERPRINT    200
#define CG_SDP_CANDIDATE      256
#define CG_SDP_FMTP	      256
#define CG_SDP_URI	      160

enum cg_sdp_kind {
	CG_SDP_KIND_OTHER = 0,
	CG_SDP_KIND_VIDEO,
	CG_SDP_KIND_AUDIO,
	CG_SDP_KIND_APPLICATION
};

enum cg_sdp_direction { CG_SDP_SENDRECV = 0, CG_SDP_SENDONLY, CG_SDP_RECVONLY, CG_SDP_INACTIVE };

struct cg_sdp_codec {
	uint8_t pt;
	char name[CG_SDP_TOKEN]; /* encoding name as written, e.g. "H264", "opus", "rtx" */
	uint32_t clock_rate;
	uint8_t channels;	/* 0 when absent */
	char fmtp[CG_SDP_FMTP]; /* the a=fmtp parameters, "" when absent */
	bool fb_nack, fb_pli, fb_fir, fb_remb, fb_twcc;
};

struct cg_sdp_extmap {
	uint8_t id;
	char uri[CG_SDP_URI];
};

struct cg_sdp_media {
	enum cg_sdp_kind kind;
	char kind_name[CG_SDP_TOKEN];	   /* "video", "audio", "application", … as written */
	char proto[CG_SDP_TOKEN];	   /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", … */
	char formats[CG_SDP_MAX_LINE / 4]; /* the m= line's format list as written */
	uint16_t port;
	char mid[CG_SDP_TOKEN];
	/* RFC 8843 §6 a=bundle-only: port 0 in an offer then means "only within the BUNDLE
	 * group", not rejected (Firefox's max-bundle offers). */
	bool bundle_only;
	bool bundled; /* its mid is in the offer's (first) BUNDLE group */
	enum cg_sdp_direction direction;
	bool rtcp_mux;
	bool rtcp_rsize;
	/* Media-level ICE/DTLS attributes; "" when only given at session level. */
	char ice_ufrag[CG_SDP_ICE_CRED];
	char ice_pwd[CG_SDP_ICE_CRED];
	char fingerprint_alg[CG_SDP_TOKEN];
	char fingerprint[CG_SDP_FINGERPRINT];
	char setup[CG_SDP_TOKEN];
	unsigned n_codecs;
	struct cg_sdp_codec codecs[CG_SDP_MAX_CODECS];
	unsigned n_extmaps;
	struct cg_sdp_extmap extmaps[CG_SDP_MAX_EXTMAPS];
	unsigned n_candidates; /* a=candidate values, without the "a=" */
	char candidates[CG_SDP_MAX_CANDIDATES][CG_SDP_CANDIDATE];
	bool end_of_candidates;
};

/* A parsed offer: about 200 KiB, so allocate it rather than put it on a stack. */
struct cg_sdp_offer {
	char ice_ufrag[CG_SDP_ICE_CRED]; /* session level */
	char ice_pwd[CG_SDP_ICE_CRED];
	char fingerprint_alg[CG_SDP_TOKEN];
	char fingerprint[CG_SDP_FINGERPRINT];
	char setup[CG_SDP_TOKEN];
	bool ice_lite;
	bool has_bundle;
	/* The mids of the first a=group:BUNDLE, as written (RFC 8843 §7.1); later BUNDLE groups
	 * are ignored (browsers write one): their sections are not "bundled". */
	unsigned n_bundle_mids;
	char bundle_mids[CG_SDP_MAX_MEDIA][CG_SDP_TOKEN];
	bool extmap_allow_mixed; /* RFC 8285 §6, session level (added) */
	unsigned n_media;
	struct cg_sdp_media media[CG_SDP_MAX_MEDIA];
};

/*
 * Parses an offer (CRLF or LF line ends). Returns 0, or a negative errno with *ret_reason
 * set to a static, human-readable reason: -EBADMSG (malformed: no v=0, bad m= line, bad
 * rtpmap, a number that is not plain digits or out of range), -E2BIG (too many
 * sections/codecs/candidates/BUNDLE mids, a line or the whole too long).
 * ret is fully written on success and left in an unspecified state on failure.
 */
int cg_sdp_parse_offer(const char *sdp, size_t len, struct cg_sdp_offer *ret,
		       const char **ret_reason);

/* What we can send: the encoder's real profile and level. */
struct cg_sdp_capabilities {
	struct cg_h264_profile video_profile;
	/* Optional feedback we act on (added): when false, "nack" / "goog-remb" are neither
	 * chosen nor answered. PLI and FIR are always supported. */
	bool nack;
	bool remb;
	/* (added) When true, an offered rtx payload type whose apt= is the chosen H.264 PT
	 * is answered (RFC 4588 §8.6), and the transport-wide-cc extension and feedback are
	 * answered when offered (draft-holmer-rmcat-transport-wide-cc-extensions-01). */
	bool rtx;
	bool twcc;
	/* Audio (RFC 7587 Opus 48000/2): send the board's microphone, receive talkback. An
	 * offered audio section is accepted when either applies, in the direction that fits
	 * both sides, and rejected (port 0) otherwise. */
	bool audio_send;
	bool audio_receive;
};

/* The result of negotiation: what the answer says and what the session must do. */
struct cg_sdp_choice {
	int video_index; /* index in offer->media of the accepted video section */
	uint8_t video_pt;
	struct cg_h264_profile answer_profile; /* profile-level-id written in the answer */
	uint8_t playout_delay_id;	       /* 0 when not offered */
	uint8_t abs_send_time_id;	       /* 0 when not offered */
	uint8_t abs_capture_time_id;	       /* 0 when not offered (or id > 14) */
	bool nack, pli, fir, remb;
	uint8_t rtx_pt;	 /* 0 when not offered, or caps.rtx or nack is off */
	uint8_t twcc_id; /* transport-wide-cc extension id; 0 when not answered */
	bool twcc;	 /* rtcp-fb transport-cc answered for the chosen PT */
	/* Effective remote transport parameters (media level, falling back to session level). */
	char remote_ufrag[CG_SDP_ICE_CRED];
	char remote_pwd[CG_SDP_ICE_CRED];
	char remote_fingerprint_alg[CG_SDP_TOKEN];   /* lowercase, e.g. "sha-256" */
	char remote_fingerprint[CG_SDP_FINGERPRINT]; /* as written, e.g. "AB:CD:…" */
	char remote_setup[CG_SDP_TOKEN];
	char video_mid[CG_SDP_TOKEN];
	/* Audio: index in offer->media or -1 when none is accepted. */
	int audio_index;
	uint8_t audio_pt;
	enum cg_sdp_direction audio_direction; /* as answered, from our side */
	char audio_mid[CG_SDP_TOKEN];
};

/*
 * The rtx payload type of m that retransmits pt (RFC 4588 §8.6: rtx/90000 with
 * a=fmtp:<rtx> apt=<pt>), or 0 when there is none. For offers and answers alike.
 */
uint8_t cg_sdp_rtx_pt(const struct cg_sdp_media *m, uint8_t pt);

/*
 * Chooses the video section, payload type and extensions to use. A section with port 0 is
 * rejected unless it is a=bundle-only and in the BUNDLE group (RFC 8843 §6: Firefox's
 * max-bundle offers put every section after the first that way). Accepts the first video
 * section that is sendrecv or recvonly, over UDP/TLS/RTP/SAVPF with rtcp-mux, offering
 * H.264 packetization-mode=1 with a profile our stream conforms to (profiles are matched,
 * levels are not: a Constrained Baseline stream matches offers of Constrained Baseline,
 * preferred, or Baseline). Returns 0, or -ENOTSUP (nothing we can serve) or -EBADMSG
 * (missing ICE credentials or fingerprint, setup:passive offered) with *ret_reason set.
 */
int cg_sdp_negotiate(const struct cg_sdp_offer *offer, const struct cg_sdp_capabilities *caps,
		     struct cg_sdp_choice *ret, const char **ret_reason);

/* Our side of the answer. All strings are borrowed for the call. */
struct cg_sdp_local {
	uint64_t session_id; /* o= line */
	const char *ice_ufrag;
	const char *ice_pwd;
	bool ice_lite;
	const char *fingerprint; /* sha-256, uppercase hex with colons */
	uint32_t video_ssrc;
	uint32_t rtx_ssrc;   /* written with a=ssrc-group:FID when choice->rtx_pt */
	uint32_t audio_ssrc; /* when the answer sends audio */
	const char *cname;
	const char *stream_id;	       /* msid stream and track id */
	const char *const *candidates; /* "candidate:…" values, may be NULL */
	unsigned n_candidates;
	bool end_of_candidates;
};

/*
 * Writes the answer: every offered section answered in order; the chosen video section
 * as a=sendonly with the chosen payload type (and its rtx PT with apt= and an
 * a=ssrc-group:FID when choice->rtx_pt; the transport-wide-cc extmap and feedback when
 * choice->twcc_id), rtcp-mux,
 * rtcp-rsize if offered, a=setup:passive, ICE credentials, fingerprint, candidates and the
 * playout-delay/abs-send-time/abs-capture-time extmaps when offered; every other section rejected
 * with port 0 (audio until we send audio, data channels), and a BUNDLE group of the accepted mids.
 * Accepted sections have port 9 even when offered bundle-only, and the answer never carries
 * a=bundle-only (RFC 9143 §7.3, which obsoletes RFC 8843). Returns the length written
 * (NUL-terminated), or -ENOSPC.
 */
int cg_sdp_build_answer(char *buf, size_t cap, const struct cg_sdp_offer *offer,
			const struct cg_sdp_choice *choice, const struct cg_sdp_local *local);

/*
 * camgate as the offerer (the classic call flow, when a page asks camgate to call it).
 * The offer has a sendonly H.264 video section (mid "0", PT 102, rtx 103, NACK/PLI/FIR/
 * REMB/transport-cc, playout-delay/abs-send-time/transport-wide-cc/abs-capture-time extensions)
 * and, when audio_send or audio_receive, an Opus section (mid "1", PT 111), bundled,
 * a=setup:actpass.
 */
#define CG_SDP_OFFER_VIDEO_PT 102
#define CG_SDP_OFFER_RTX_PT   103
#define CG_SDP_OFFER_AUDIO_PT 111

struct cg_sdp_offer_params {
	uint64_t session_id;
	const char *ice_ufrag;
	const char *ice_pwd;
	const char *fingerprint; /* sha-256, uppercase hex with colons */
	struct cg_h264_profile video_profile;
	uint32_t video_ssrc;
	uint32_t rtx_ssrc;
	uint32_t audio_ssrc;
	bool audio_send;
	bool audio_receive;
	const char *cname;
	const char *stream_id;
	const char *const *candidates; /* "candidate:…" values, may be NULL */
	unsigned n_candidates;
	bool end_of_candidates;
};

/* Writes the offer. Returns its length (NUL-terminated) or -ENOSPC. */
int cg_sdp_build_offer(char *buf, size_t cap, const struct cg_sdp_offer_params *p);

/*
 * Reads the answer to an offer built from ours: what the answerer accepted (payload types,
 * feedback, extensions, audio direction) and its transport parameters, in the same form
 * cg_sdp_negotiate gives for an offer. ret->remote_setup says the DTLS role: "active"
 * makes us the server, "passive" the client. Returns 0, or -EBADMSG/-E2BIG (malformed),
 * -ENOTSUP (video rejected or changed) with *ret_reason set.
 */
int cg_sdp_parse_answer(const char *sdp, size_t len, const struct cg_sdp_offer_params *ours,
			struct cg_sdp_choice *ret, const char **ret_reason);

/* The same, from an answer already parsed with cg_sdp_parse_offer (its candidates are in
 * answer->media[0]). */
int cg_sdp_choose_from_answer(const struct cg_sdp_offer *answer,
			      const struct cg_sdp_offer_params *ours, struct cg_sdp_choice *ret,
			      const char **ret_reason);

/* A trickle ICE fragment (RFC 8840, application/trickle-ice-sdpfrag) from a WHEP PATCH. */
struct cg_sdp_fragment {
	char ice_ufrag[CG_SDP_ICE_CRED]; /* "" when absent */
	char ice_pwd[CG_SDP_ICE_CRED];
	unsigned n_candidates;
	char candidates[CG_SDP_MAX_CANDIDATES][CG_SDP_CANDIDATE]; /* "candidate:…" */
	char mids[CG_SDP_MAX_CANDIDATES][CG_SDP_TOKEN];		  /* mid each belongs to, or "" */
	bool end_of_candidates;
};

/* Parses a fragment. Returns 0, or -EBADMSG/-E2BIG with *ret_reason set. */
int cg_sdp_parse_fragment(const char *frag, size_t len, struct cg_sdp_fragment *ret,
			  const char **ret_reason);
