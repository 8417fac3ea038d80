/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * In-memory ICE (net/ice_mem.h). One mutex per network guards every transport's shared
 * fields (links, inboxes, knobs, counters): tests send a few thousand datagrams, so
 * simplicity wins over contention. Lock order: the network's mutex, then a GMainContext's
 * (g_source_attach() and g_source_destroy() under it); GLib calls our idle callback without
 * its context lock held, so the reverse never happens.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/ice_mem.h"
#include "util/macros.h"

#define ICE_MEM_MAX_DATAGRAM 65535

enum ice_mem_event_type {
	ICE_MEM_GATHERED,
	ICE_MEM_STATE,
	ICE_MEM_PAIR,
	ICE_MEM_RECV,
};

struct ice_mem_event {
	enum ice_mem_event_type type;
	enum cg_ice_state state; /* ICE_MEM_STATE */
	size_t len;		 /* ICE_MEM_RECV */
	uint8_t data[];
};

struct cg_ice_mem_net {
	GMutex lock;
	GList *transports; /* struct ice_mem *, under lock */
	unsigned next_id;
};

struct ice_mem {
	struct cg_ice base;
	struct cg_ice_mem_net *net;
	GMainContext *ctx;
	const struct cg_ice_callbacks *cb;
	void *userdata;
	unsigned id;
	char ufrag[16]; /* immutable after create */
	char pwd[32];
	/* Under net->lock from here on. */
	char *remote_ufrag, *remote_pwd;
	bool gathered, attached, checking, failed;
	bool orphaned; /* was linked, the peer is gone: sends are lost */
	struct ice_mem *peer;
	GQueue inbox; /* struct ice_mem_event *, delivered by idle on ctx */
	GSource *idle;
	unsigned capacity;
	unsigned loss_percent;
	uint32_t rng;
	struct cg_ice_mem_stats st;
};

static struct ice_mem *ice_mem(struct cg_ice *ice)
{
	cg_assert(ice && ice->ops == &cg_mem_ice_ops);
	return (struct ice_mem *)ice;
}

struct cg_ice_mem_net *cg_ice_mem_net_new(void)
{
	struct cg_ice_mem_net *net = cg_new0(struct cg_ice_mem_net, 1);

	g_mutex_init(&net->lock);
	return net;
}

struct cg_ice_mem_net *cg_ice_mem_net_free(struct cg_ice_mem_net *net)
{
	if (!net)
		return NULL;
	cg_assert(!net->transports);
	g_mutex_clear(&net->lock);
	free(net);
	return NULL;
}

static gboolean ice_mem_dispatch(gpointer userdata);

/* Locked: makes sure an idle on the owner's context will deliver the inbox. */
static void ice_mem_schedule(struct ice_mem *t)
{
	if (!t->attached || t->idle || g_queue_is_empty(&t->inbox))
		return;
	t->idle = g_idle_source_new();
	/* A socket's priority, as libnice's sources have: a busy timer must not starve it. */
	g_source_set_priority(t->idle, G_PRIORITY_DEFAULT);
	g_source_set_callback(t->idle, ice_mem_dispatch, t, NULL);
	g_source_attach(t->idle, t->ctx);
}

static struct ice_mem_event *ice_mem_event_new(enum ice_mem_event_type type, size_t len)
{
	struct ice_mem_event *ev = cg_malloc0(sizeof(*ev) + len);

	ev->type = type;
	ev->len = len;
	return ev;
}

/* Locked. */
static void ice_mem_queue(struct ice_mem *t, struct ice_mem_event *ev)
{
	g_queue_push_tail(&t->inbox, ev);
	ice_mem_schedule(t);
}

static void ice_mem_queue_state(struct ice_mem *t, enum cg_ice_state state)
{
	struct ice_mem_event *ev = ice_mem_event_new(ICE_MEM_STATE, 0);

	ev->state = state;
	ice_mem_queue(t, ev);
}

static void ice_mem_deliver(struct ice_mem *t, const struct ice_mem_event *ev)
{
	const struct cg_ice_callbacks *cb = t->cb;

	switch (ev->type) {
	case ICE_MEM_GATHERED:
		if (cb->gathering_done)
			cb->gathering_done(t->userdata);
		break;
	case ICE_MEM_STATE:
		if (cb->state_changed)
			cb->state_changed(ev->state, t->userdata);
		break;
	case ICE_MEM_PAIR:
		if (cb->selected_pair)
			cb->selected_pair("host", "host", t->userdata);
		break;
	case ICE_MEM_RECV:
		/* A copy per delivery: the callback may write into it (SRTP in place). */
		cb->recv((uint8_t *)ev->data, ev->len, t->userdata);
		break;
	}
}

/* Owner thread: everything queued so far, outside the lock (callbacks may send). */
static gboolean ice_mem_dispatch(gpointer userdata)
{
	struct ice_mem *t = userdata;
	GQueue q;
	struct ice_mem_event *ev;

	g_mutex_lock(&t->net->lock);
	q = t->inbox;
	g_queue_init(&t->inbox);
	for (GList *l = q.head; l; l = l->next)
		t->st.delivered += ((struct ice_mem_event *)l->data)->type == ICE_MEM_RECV;
	g_source_unref(t->idle);
	t->idle = NULL;
	g_mutex_unlock(&t->net->lock);
	while ((ev = g_queue_pop_head(&q))) {
		ice_mem_deliver(t, ev);
		free(ev);
	}
	return G_SOURCE_REMOVE;
}

static bool ice_mem_matches(const struct ice_mem *t, const struct ice_mem *o)
{
	return o != t && o->attached && o->remote_ufrag && !o->peer && !o->failed && !o->orphaned &&
	       strcmp(o->ufrag, t->remote_ufrag) == 0 && strcmp(o->pwd, t->remote_pwd) == 0 &&
	       strcmp(t->ufrag, o->remote_ufrag) == 0 && strcmp(t->pwd, o->remote_pwd) == 0;
}

static void ice_mem_connected(struct ice_mem *t, struct ice_mem *peer)
{
	t->peer = peer;
	t->st.connected = true;
	ice_mem_queue_state(t, CG_ICE_CONNECTED);
	ice_mem_queue(t, ice_mem_event_new(ICE_MEM_PAIR, 0));
}

/* Locked: checks start once attached with the peer's credentials; they succeed when a
 * transport with the matching credentials does the same. */
static void ice_mem_try_link(struct ice_mem *t)
{
	if (!t->attached || !t->remote_ufrag || t->failed)
		return;
	if (!t->checking) {
		t->checking = true;
		ice_mem_queue_state(t, CG_ICE_CHECKING);
	}
	if (t->peer || t->orphaned)
		return;
	for (GList *l = t->net->transports; l; l = l->next) {
		struct ice_mem *o = l->data;

		if (ice_mem_matches(t, o)) {
			ice_mem_connected(t, o);
			ice_mem_connected(o, t);
			return;
		}
	}
}

static int ice_mem_create(void *backend, const struct cg_ice_setup *setup, struct cg_ice **ret)
{
	struct cg_ice_mem_net *net = backend;
	struct ice_mem *t;

	if (!net || !setup || !setup->ctx || !setup->cb || !setup->cb->recv)
		return -EINVAL;
	t = cg_new0(struct ice_mem, 1);
	t->base.ops = &cg_mem_ice_ops;
	t->net = net;
	t->ctx = g_main_context_ref(setup->ctx);
	t->cb = setup->cb;
	t->userdata = setup->userdata;
	t->capacity = CG_ICE_MEM_CAPACITY;
	g_queue_init(&t->inbox);
	g_mutex_lock(&net->lock);
	t->id = ++net->next_id;
	/* RFC 8839 §5.4: a ufrag of 4 characters or more, a password of 22 or more. */
	snprintf(t->ufrag, sizeof(t->ufrag), "mem%05u", t->id);
	snprintf(t->pwd, sizeof(t->pwd), "memorypassword%010u", t->id);
	net->transports = g_list_prepend(net->transports, t);
	g_mutex_unlock(&net->lock);
	*ret = &t->base;
	return 0;
}

static void ice_mem_close(struct cg_ice *ice)
{
	struct ice_mem *t = ice_mem(ice);
	struct ice_mem_event *ev;

	g_mutex_lock(&t->net->lock);
	t->net->transports = g_list_remove(t->net->transports, t);
	if (t->peer) {
		t->peer->peer = NULL;
		t->peer->orphaned = true;
	}
	if (t->idle) {
		g_source_destroy(t->idle);
		g_source_unref(t->idle);
	}
	while ((ev = g_queue_pop_head(&t->inbox)))
		free(ev);
	g_mutex_unlock(&t->net->lock);
	g_free(t->remote_ufrag);
	g_free(t->remote_pwd);
	g_main_context_unref(t->ctx);
	free(t);
}

static int ice_mem_gather(struct cg_ice *ice)
{
	struct ice_mem *t = ice_mem(ice);
	int r = 0;

	g_mutex_lock(&t->net->lock);
	if (t->gathered)
		r = -EALREADY;
	else
		t->gathered = true;
	if (r == 0)
		ice_mem_queue(t, ice_mem_event_new(ICE_MEM_GATHERED, 0));
	g_mutex_unlock(&t->net->lock);
	return r;
}

static void ice_mem_local_credentials(struct cg_ice *ice, const char **ret_ufrag,
				      const char **ret_pwd)
{
	*ret_ufrag = ice_mem(ice)->ufrag;
	*ret_pwd = ice_mem(ice)->pwd;
}

/* One host candidate in TEST-NET-1 (RFC 5737: never routed), so that an SDP written from
 * it looks like any other. */
static int ice_mem_local_candidates(struct cg_ice *ice, char **out, unsigned cap)
{
	struct ice_mem *t = ice_mem(ice);
	bool gathered;

	g_mutex_lock(&t->net->lock);
	gathered = t->gathered;
	g_mutex_unlock(&t->net->lock);
	if (!gathered || cap == 0)
		return 0;
	out[0] = g_strdup_printf("candidate:1 1 udp 2130706431 192.0.2.1 %u typ host",
				 10000 + t->id % 50000);
	return 1;
}

static int ice_mem_set_remote_credentials(struct cg_ice *ice, const char *ufrag, const char *pwd)
{
	struct ice_mem *t = ice_mem(ice);
	int r = 0;

	if (!ufrag || !pwd || !ufrag[0] || !pwd[0])
		return -EINVAL;
	g_mutex_lock(&t->net->lock);
	if (t->remote_ufrag) {
		r = -EALREADY;
	} else {
		t->remote_ufrag = g_strdup(ufrag);
		t->remote_pwd = g_strdup(pwd);
		ice_mem_try_link(t);
	}
	g_mutex_unlock(&t->net->lock);
	return r;
}

static int ice_mem_add_remote_candidate(struct cg_ice *ice, const char *candidate)
{
	struct ice_mem *t = ice_mem(ice);
	int r = 0;

	g_mutex_lock(&t->net->lock);
	if (!t->remote_ufrag)
		r = -EAGAIN;
	else if (!candidate || !g_str_has_prefix(candidate, "candidate:"))
		r = -EINVAL;
	else
		t->st.remote_candidates++;
	g_mutex_unlock(&t->net->lock);
	return r;
}

static int ice_mem_end_of_candidates(struct cg_ice *ice)
{
	struct ice_mem *t = ice_mem(ice);

	g_mutex_lock(&t->net->lock);
	t->st.end_of_candidates = true;
	g_mutex_unlock(&t->net->lock);
	return 0;
}

static int ice_mem_attach(struct cg_ice *ice)
{
	struct ice_mem *t = ice_mem(ice);
	int r = 0;

	g_mutex_lock(&t->net->lock);
	if (t->attached) {
		r = -EALREADY;
	} else {
		t->attached = true;
		ice_mem_schedule(t);
		ice_mem_try_link(t);
	}
	g_mutex_unlock(&t->net->lock);
	return r;
}

/* Locked: whether the loss knob drops the next datagram (xorshift32: fixed by the seed). */
static bool ice_mem_lose(struct ice_mem *t)
{
	if (t->loss_percent == 0)
		return false;
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 17;
	t->rng ^= t->rng << 5;
	return t->rng % 100 < t->loss_percent;
}

/* Locked: 1 when msg was taken (delivered or lost), 0 when the peer is full. */
static int ice_mem_send_one(struct ice_mem *t, const struct cg_ice_msg *msg)
{
	struct ice_mem_event *ev;

	if (!t->orphaned && g_queue_get_length(&t->peer->inbox) >= t->peer->capacity)
		return 0;
	t->st.sent++;
	if (t->orphaned || ice_mem_lose(t)) {
		t->st.lost++;
		return 1;
	}
	ev = ice_mem_event_new(ICE_MEM_RECV, msg->len);
	memcpy(ev->data, msg->buf, msg->len);
	ice_mem_queue(t->peer, ev);
	return 1;
}

static int ice_mem_send(struct cg_ice *ice, const struct cg_ice_msg *msgs, unsigned n)
{
	struct ice_mem *t = ice_mem(ice);
	unsigned i = 0;
	int r;

	g_mutex_lock(&t->net->lock);
	if (t->failed || (!t->peer && !t->orphaned)) {
		r = -ENOTCONN;
	} else {
		for (i = 0; i < n && msgs[i].len <= ICE_MEM_MAX_DATAGRAM; i++) {
			if (!ice_mem_send_one(t, &msgs[i])) {
				t->st.refused += n - i;
				break;
			}
		}
		r = i == 0 && n > 0 && msgs[0].len > ICE_MEM_MAX_DATAGRAM ? -EMSGSIZE : (int)i;
	}
	g_mutex_unlock(&t->net->lock);
	return r;
}

const struct cg_ice_ops cg_mem_ice_ops = {
	.version = 1,
	.name = "mem",
	.create = ice_mem_create,
	.gather = ice_mem_gather,
	.local_credentials = ice_mem_local_credentials,
	.local_candidates = ice_mem_local_candidates,
	.set_remote_credentials = ice_mem_set_remote_credentials,
	.add_remote_candidate = ice_mem_add_remote_candidate,
	.end_of_candidates = ice_mem_end_of_candidates,
	.attach = ice_mem_attach,
	.send = ice_mem_send,
	.close = ice_mem_close,
};

int cg_ice_mem_link(struct cg_ice *a, struct cg_ice *b)
{
	const char *au, *ap, *bu, *bp;
	int r;

	cg_ice_local_credentials(a, &au, &ap);
	cg_ice_local_credentials(b, &bu, &bp);
	r = cg_ice_set_remote_credentials(a, bu, bp);
	if (r == 0)
		r = cg_ice_set_remote_credentials(b, au, ap);
	return r;
}

void cg_ice_mem_set_loss(struct cg_ice *ice, unsigned percent, uint32_t seed)
{
	struct ice_mem *t = ice_mem(ice);

	g_mutex_lock(&t->net->lock);
	t->loss_percent = CG_MIN(percent, 100u);
	t->rng = seed ? seed : 1; /* xorshift stays at 0 forever */
	g_mutex_unlock(&t->net->lock);
}

void cg_ice_mem_set_capacity(struct cg_ice *ice, unsigned datagrams)
{
	struct ice_mem *t = ice_mem(ice);

	g_mutex_lock(&t->net->lock);
	t->capacity = CG_MAX(datagrams, 1u);
	g_mutex_unlock(&t->net->lock);
}

void cg_ice_mem_fail(struct cg_ice *ice)
{
	struct ice_mem *t = ice_mem(ice);

	g_mutex_lock(&t->net->lock);
	if (!t->failed) {
		t->failed = true;
		t->st.connected = false;
		if (t->peer) {
			t->peer->peer = NULL;
			t->peer->orphaned = true;
			t->peer = NULL;
		}
		ice_mem_queue_state(t, CG_ICE_FAILED);
	}
	g_mutex_unlock(&t->net->lock);
}

void cg_ice_mem_get_stats(struct cg_ice *ice, struct cg_ice_mem_stats *ret)
{
	struct ice_mem *t = ice_mem(ice);

	g_mutex_lock(&t->net->lock);
	*ret = t->st;
	g_mutex_unlock(&t->net->lock);
}
