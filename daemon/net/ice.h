/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One viewer's ICE transport (one stream, one component: camgate bundles everything on
 * one RTP/RTCP-muxed 5-tuple), behind a small table of operations so that a session can run
 * over libnice (ice_nice.c, the daemon) or over memory (ice_mem.c, tests and the fuzzer)
 * without knowing which.
 *
 * Owner: the thread that runs setup->ctx (a network worker). A transport is created, and
 * may be given its gathering, credentials and remote candidates, on another thread (the
 * control thread, which answers the offer) before it is handed over; cg_ice_attach() runs
 * on the owner thread and from then on only that thread touches it. Callbacks run on the
 * owner thread, never before cg_ice_attach() (what happened before is delivered after it,
 * from an idle source), and may run from inside this transport's own functions (libnice
 * emits some signals synchronously): a callback must not free the transport, only ask for
 * it to be freed later (as cg_session_close() defers).
 *
 * Sending allocates nothing: a batch is an array of (pointer, length) that the caller fills
 * in its own preallocated slots, and the transport hands it to the socket in one call
 * (libnice: nice_agent_send_messages_nonblocking()).
 */
#pragma once

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_ice;

/* What a session needs of ICE's state (libnice's CONNECTING is CHECKING, its CONNECTED
 * and READY are CONNECTED; DISCONNECTED and GATHERING are not reported). Each change is
 * reported once. */
enum cg_ice_state {
	CG_ICE_CHECKING = 0,
	CG_ICE_CONNECTED, /* a pair works: media may flow */
	CG_ICE_FAILED,	  /* every pair failed: close the session */
};

enum cg_ice_relay {
	CG_ICE_RELAY_UDP = 0,
	CG_ICE_RELAY_TCP,
	CG_ICE_RELAY_TLS,
};

/* STUN and TURN servers as numeric addresses (libnice does not resolve names); every
 * pointer is borrowed for the creating call only (the backend copies what it keeps). */
struct cg_ice_servers_setup {
	const char *stun_ip; /* NULL or "": none */
	uint16_t stun_port;
	const char *turn_ip; /* NULL or "": none */
	uint16_t turn_port;
	enum cg_ice_relay turn_relay;
	const char *turn_username;
	const char *turn_password; /* secret: never logged */
};

struct cg_ice_callbacks {
	/* Local candidate gathering finished (host, server-reflexive and relayed). */
	void (*gathering_done)(void *userdata);
	void (*state_changed)(enum cg_ice_state state, void *userdata);
	/* A pair was selected: the candidate types ("host", "srflx", "prflx", "relay"), for
	 * logs; no addresses. */
	void (*selected_pair)(const char *local_type, const char *remote_type, void *userdata);
	/* One datagram from the peer; buf is the transport's, writable (SRTP unprotects in
	 * place) and valid during the call only. */
	void (*recv)(uint8_t *buf, size_t len, void *userdata);
};

struct cg_ice_setup {
	GMainContext *ctx;  /* the owner's context: sockets, timers and callbacks run there */
	bool controlling;   /* RFC 8445 §6.1.1: the offerer controls */
	bool loopback_only; /* gather 127.0.0.1 only (the daemon listens on loopback) */
	const struct cg_ice_servers_setup *servers; /* NULL: none, nothing leaves for outside */
	const char *log_id;		   /* the session's log id for debug lines (copied) */
	const struct cg_ice_callbacks *cb; /* borrowed: must outlive the transport */
	void *userdata;
};

/* One datagram of a batch: the caller's bytes, read during cg_ice_send() only. */
struct cg_ice_msg {
	const uint8_t *buf;
	size_t len;
};

/* Local candidates a transport reports at most (an answer needs a few; a board with many
 * interfaces must not make it huge). */
#define CG_ICE_MAX_LOCAL_CANDIDATES 16

/*
 * A backend. Each op documents its errors; every op but create and close runs on the owner
 * thread once the transport is attached (before that, on the creating thread).
 */
struct cg_ice_ops {
	unsigned version; /* 1 */
	const char *name;
	/*
	 * Creates a transport with fresh local credentials; backend is the backend's own
	 * context (ice_mem: its network; ice_nice: NULL). Nothing is sent yet. Returns 0,
	 * -EINVAL (no ctx or callbacks), -EIO (the library failed).
	 */
	int (*create)(void *backend, const struct cg_ice_setup *setup, struct cg_ice **ret);
	/* Starts gathering local candidates (host ones exist when it returns); gathering_done
	 * follows. Returns 0, -EALREADY, -EIO. */
	int (*gather)(struct cg_ice *ice);
	/* The local ICE credentials, owned by the transport (valid for its life). */
	void (*local_credentials)(struct cg_ice *ice, const char **ret_ufrag, const char **ret_pwd);
	/*
	 * Up to cap local candidates gathered so far as "candidate:..." attribute values (no
	 * "a="), server-reflexive and relayed first (a board with many interfaces cannot crowd
	 * out what a viewer beyond its NAT needs; their order means nothing to ICE, RFC 8839
	 * §5.1), each g_malloc'd for the caller. Returns the number written.
	 */
	int (*local_candidates)(struct cg_ice *ice, char **out, unsigned cap);
	/* The peer's credentials, once (ICE restarts are not supported). Returns 0,
	 * -EALREADY, -EINVAL (empty), -EIO. */
	int (*set_remote_credentials)(struct cg_ice *ice, const char *ufrag, const char *pwd);
	/*
	 * One remote candidate, an "candidate:..." attribute value (copied). Returns 0,
	 * -EINVAL (not usable here: an mDNS ".local" name, or unparsable; the peer's checks
	 * still reach us as peer-reflexive), -EAGAIN (no remote credentials yet), -EIO. A
	 * TCP candidate is taken and never paired (no TCP candidates of ours).
	 */
	int (*add_remote_candidate)(struct cg_ice *ice, const char *candidate);
	/* The peer has sent all its candidates (RFC 8838 end-of-candidates). Returns 0. */
	int (*end_of_candidates)(struct cg_ice *ice);
	/* On the owner thread: start receiving and delivering callbacks. Returns 0, -EALREADY. */
	int (*attach)(struct cg_ice *ice);
	/*
	 * Sends msgs[0..n) in order, without blocking. Returns how many the socket took from
	 * the front (fewer than n: it is full, the rest are the caller's to drop), -ENOTCONN
	 * (no working pair yet) or -EIO.
	 */
	int (*send)(struct cg_ice *ice, const struct cg_ice_msg *msgs, unsigned n);
	/* Frees the transport without notifying the peer; no callback runs afterwards. On the
	 * owner thread, or on the creating thread before cg_ice_attach(). */
	void (*close)(struct cg_ice *ice);
};

/* The part every backend's transport begins with. */
struct cg_ice {
	const struct cg_ice_ops *ops;
};

/* libnice (ice_nice.c). */
extern const struct cg_ice_ops cg_nice_ice_ops;

/* The calls, for readability at the call site; see struct cg_ice_ops for each. */
static inline int cg_ice_new(const struct cg_ice_ops *ops, void *backend,
			     const struct cg_ice_setup *setup, struct cg_ice **ret)
{
	return ops->create(backend, setup, ret);
}

static inline int cg_ice_gather(struct cg_ice *ice)
{
	return ice->ops->gather(ice);
}

static inline void cg_ice_local_credentials(struct cg_ice *ice, const char **ret_ufrag,
					    const char **ret_pwd)
{
	ice->ops->local_credentials(ice, ret_ufrag, ret_pwd);
}

static inline int cg_ice_local_candidates(struct cg_ice *ice, char **out, unsigned cap)
{
	return ice->ops->local_candidates(ice, out, cap);
}

static inline int cg_ice_set_remote_credentials(struct cg_ice *ice, const char *ufrag,
						const char *pwd)
{
	return ice->ops->set_remote_credentials(ice, ufrag, pwd);
}

static inline int cg_ice_add_remote_candidate(struct cg_ice *ice, const char *candidate)
{
	return ice->ops->add_remote_candidate(ice, candidate);
}

static inline int cg_ice_end_of_candidates(struct cg_ice *ice)
{
	return ice->ops->end_of_candidates(ice);
}

static inline int cg_ice_attach(struct cg_ice *ice)
{
	return ice->ops->attach(ice);
}

static inline int cg_ice_send(struct cg_ice *ice, const struct cg_ice_msg *msgs, unsigned n)
{
	return ice->ops->send(ice, msgs, n);
}

/* One datagram: 0 when the socket took it, -EAGAIN when it was full, or send's errors. */
static inline int cg_ice_send_one(struct cg_ice *ice, const uint8_t *buf, size_t len)
{
	const struct cg_ice_msg m = { .buf = buf, .len = len };
	int r = ice->ops->send(ice, &m, 1);

	return r == 1 ? 0 : r == 0 ? -EAGAIN : r;
}

/* Frees ice (NULL allowed); returns NULL. */
static inline struct cg_ice *cg_ice_free(struct cg_ice *ice)
{
	if (ice)
		ice->ops->close(ice);
	return NULL;
}
