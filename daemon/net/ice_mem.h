/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ICE transports in memory, for tests and the fuzzer: no sockets, no addresses. Transports
 * of one network (struct cg_ice_mem_net) that know each other's credentials connect as
 * real ICE does once both are attached (CHECKING, then CONNECTED and a "host"/"host" pair);
 * candidates are accepted and counted but not needed. A datagram sent on one is copied and
 * delivered to the other from an idle source on the receiver's context (at a socket's
 * priority, G_PRIORITY_DEFAULT, so that a busy timer cannot starve it), so the two ends may
 * live on different threads (a session on a worker, a test's viewer on its own loop).
 *
 * Knobs a test turns: loss (a fixed share of what a transport sends, from a seeded
 * generator, so a run repeats), the receiver's capacity (a full socket: cg_ice_send()
 * takes fewer), and failure (CG_ICE_FAILED on demand).
 *
 * Like UDP with libnice's consent freshness off: when one end is freed, the other stays
 * CONNECTED and what it sends is lost. Copies allocate per datagram: this backend is for
 * tests, not for the data path.
 *
 * Thread: the cg_ice ops as net/ice.h says; the functions below, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "net/ice.h"

struct cg_ice_mem_net;

/* The in-memory backend: cg_ice_new(&cg_mem_ice_ops, net, setup, &ice). send() also
 * returns -EMSGSIZE for a first datagram over 65535 bytes. */
extern const struct cg_ice_ops cg_mem_ice_ops;

/* Datagrams a transport holds undelivered before its peer's sends are refused. */
#define CG_ICE_MEM_CAPACITY 4096

/* A new, empty network. Any thread. */
struct cg_ice_mem_net *cg_ice_mem_net_new(void);

/* Frees net (NULL allowed), whose transports must all be freed; returns NULL. */
struct cg_ice_mem_net *cg_ice_mem_net_free(struct cg_ice_mem_net *net);

/*
 * Gives a and b (two transports of one network) each other's credentials, as an
 * offer/answer exchange would: cg_ice_set_remote_credentials() on both. Returns 0 or its
 * errors. The owner threads' rules apply: before the hand-over, or on the owner thread.
 */
int cg_ice_mem_link(struct cg_ice *a, struct cg_ice *b);

/* Drops percent (0-100) of what ice sends from now on, chosen by a generator seeded with
 * seed (the same seed, the same losses). */
void cg_ice_mem_set_loss(struct cg_ice *ice, unsigned percent, uint32_t seed);

/* How many undelivered datagrams ice holds before its peer's sends are refused (default
 * CG_ICE_MEM_CAPACITY, at least 1). */
void cg_ice_mem_set_capacity(struct cg_ice *ice, unsigned datagrams);

/* ICE fails on ice: it reports CG_ICE_FAILED and sends nothing more (-ENOTCONN); its peer
 * is not told (its sends are lost). */
void cg_ice_mem_fail(struct cg_ice *ice);

struct cg_ice_mem_stats {
	uint64_t sent;	    /* datagrams the transport took */
	uint64_t lost;	    /* of those, dropped by the loss knob or for a freed peer */
	uint64_t refused;   /* not taken: the peer was full */
	uint64_t delivered; /* datagrams handed to this transport's recv callback */
	unsigned remote_candidates;
	bool end_of_candidates;
	bool connected;
};

/* ice's counters in *ret. */
void cg_ice_mem_get_stats(struct cg_ice *ice, struct cg_ice_mem_stats *ret);
