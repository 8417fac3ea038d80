/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's camera as a peer in every room (issue 8). Either side may offer:
 *   - "offer" from a page: camgate answers with a session (cg_session_new, sendonly), then
 *     sends the answer's candidates again as "candidate" messages and "end of candidates"
 *     (for pages that only add trickled candidates);
 *   - "call" from a page: camgate offers (cg_session_new_offer: a=setup:actpass, ICE
 *     controlling), sends its candidates the same way, and starts the session with the
 *     page's "answer" (cg_session_set_answer; the DTLS role follows that answer).
 * It answers "stream ok" once its camera has produced a frame, applies the page's trickled
 * candidates, and hangs up on "bye", when the peer leaves, or says "bye" itself when the
 * session ends. A new "offer" or "call" from the same peer replaces its call: there is no
 * renegotiation.
 *
 * Calls are viewers: they count against the one --max-viewers limit together with WHEP
 * sessions (deps->viewers_full, see signaling.h); a call over it gets an error message.
 *
 * Owns one session per calling peer. Control thread only.
 */
#pragma once

struct cg_room_camgate;
struct cg_room_msg;
struct cg_roomreg;
struct cg_roomreg_peer;
struct cg_signaling_deps;

/* deps and reg are borrowed and must outlive it. Never NULL. */
struct cg_room_camgate *cg_room_camgate_new(const struct cg_signaling_deps *deps,
					    struct cg_roomreg *reg);

/* Drops camgate's references to the calls' sessions (it does not close them: their
 * workers do) and frees. Returns NULL. */
struct cg_room_camgate *cg_room_camgate_free(struct cg_room_camgate *cam);

/* A relayed message addressed to camgate (borrowed for the call). Answers through reg. */
void cg_room_camgate_receive(struct cg_room_camgate *cam, struct cg_roomreg_peer *from,
			     const struct cg_room_msg *msg);

/* The peer left or disconnected: its call, if any, ends without a message. */
void cg_room_camgate_hang_up(struct cg_room_camgate *cam, struct cg_roomreg_peer *peer);
