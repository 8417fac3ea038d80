/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's camera as a peer in every room (issue 8): it answers "stream ok" when its media
 * is ready, answers a browser's offer with a session (cg_session_new), sends that answer's
 * candidates again as "candidate" messages followed by "end of candidates" (for pages that
 * only add trickled candidates), applies the browser's trickled candidates, and hangs up on
 * "bye", when the peer leaves, or says "bye" itself when the session ends.
 *
 * camgate only answers for now: "call" (asking it to offer) and "answer" get an error
 * message saying so. TODO(8): offering needs an offer builder in proto/sdp.c and a session
 * that starts from our offer (see README, "Calls and rooms").
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

/* Number of calls in progress. */
unsigned cg_room_camgate_n_calls(const struct cg_room_camgate *cam);
