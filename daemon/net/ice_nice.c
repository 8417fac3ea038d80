/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ICE transport over libnice: one agent, one stream, one component, on the owner's
 * GMainContext. What session.c did with its agent (37ccc9d, session_create_agent() and
 * friends), behind net/ice.h.
 */
#define CG_LOG_TOPIC "ice"

#include <errno.h>
#include <nice/agent.h>
#include <string.h>

#include "net/ice.h"
#include "util/log.h"
#include "util/macros.h"

/* Messages handed to libnice per call; a longer batch takes several calls. */
#define ICE_NICE_CHUNK 64

struct ice_nice {
	struct cg_ice base;
	NiceAgent *agent;
	guint stream_id;
	GMainContext *ctx;
	const struct cg_ice_callbacks *cb;
	void *userdata;
	char log_id[16];
	char *local_ufrag, *local_pwd; /* read once, when the agent is made */
	bool gathering;
	bool have_remote;
	bool have_pair; /* owner: libnice selected a pair (it may say so before CONNECTED) */
	gint attached;	/* atomic: signals before it are kept for the idle below */
	int reported;	/* owner: the last cg_ice_state reported, -1 none */
	/* Signals that came before cg_ice_attach() (on the creating thread, or on the owner's
	 * context before the hand-over): atomics, delivered by pending_idle. */
	gint pending_gathered;
	gint pending_state; /* enum cg_ice_state + 1, 0 none */
	gint pending_pair;  /* (local type + 1) | (remote type + 1) << 8, 0 none */
	GSource *pending_idle;
};

static struct ice_nice *ice_nice(struct cg_ice *ice)
{
	return (struct ice_nice *)ice;
}

static const char *ice_nice_type_name(NiceCandidateType type)
{
	switch (type) {
	case NICE_CANDIDATE_TYPE_HOST:
		return "host";
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
		return "srflx";
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
		return "prflx";
	case NICE_CANDIDATE_TYPE_RELAYED:
		return "relay";
	}
	return "?";
}

/* libnice's component states as the seam reports them; -1: not reported. */
static int ice_nice_map_state(guint state)
{
	switch (state) {
	case NICE_COMPONENT_STATE_CONNECTING:
		return CG_ICE_CHECKING;
	case NICE_COMPONENT_STATE_CONNECTED:
	case NICE_COMPONENT_STATE_READY:
		return CG_ICE_CONNECTED;
	case NICE_COMPONENT_STATE_FAILED:
		return CG_ICE_FAILED;
	default:
		return -1;
	}
}

static bool ice_nice_attached(struct ice_nice *n)
{
	return g_atomic_int_get(&n->attached) != 0;
}

/* Owner thread: reports a state once per change (CONNECTED then READY is one report). */
static void ice_nice_report_state(struct ice_nice *n, int state)
{
	if (state < 0 || state == n->reported)
		return;
	n->reported = state;
	if (n->cb->state_changed)
		n->cb->state_changed((enum cg_ice_state)state, n->userdata);
}

static void ice_nice_on_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
			      gpointer userdata)
{
	struct ice_nice *n = userdata;
	int mapped = ice_nice_map_state(state);

	cg_debug("[%s] ICE %s", n->log_id, nice_component_state_to_string(state));
	if (mapped < 0)
		return;
	if (!ice_nice_attached(n))
		g_atomic_int_set(&n->pending_state, mapped + 1);
	else
		ice_nice_report_state(n, mapped);
}

static void ice_nice_on_pair(NiceAgent *agent, guint stream_id, guint component_id,
			     NiceCandidate *local, NiceCandidate *remote, gpointer userdata)
{
	struct ice_nice *n = userdata;

	n->have_pair = true;
	if (!ice_nice_attached(n))
		g_atomic_int_set(&n->pending_pair, (int)(local->type + 1) | (int)(remote->type + 1)
										    << 8);
	else if (n->cb->selected_pair)
		n->cb->selected_pair(ice_nice_type_name(local->type),
				     ice_nice_type_name(remote->type), n->userdata);
}

/* libnice emits this on whichever thread drove the agent: the creating thread during
 * nice_agent_gather_candidates() (host candidates only), else the owner's context. */
static void ice_nice_on_gathered(NiceAgent *agent, guint stream_id, gpointer userdata)
{
	struct ice_nice *n = userdata;

	if (!ice_nice_attached(n))
		g_atomic_int_set(&n->pending_gathered, 1);
	else if (n->cb->gathering_done)
		n->cb->gathering_done(n->userdata);
}

static void ice_nice_on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len,
			     gchar *buf, gpointer userdata)
{
	struct ice_nice *n = userdata;

	n->cb->recv((uint8_t *)buf, len, n->userdata);
}

/*
 * One server for both (stun: and turn: naming the same host and port, as most deployments
 * do): TURN over UDP already gives the server-reflexive address (XOR-MAPPED-ADDRESS in the
 * Allocate response, RFC 8656 §7.3), and libnice takes everything from the TURN server's
 * address on that socket for TURN, so a separate Binding answer is dropped and gathering
 * would wait for its timeout (2 s) on every viewer.
 */
static bool ice_nice_stun_is_turn(const struct cg_ice_servers_setup *s)
{
	return s->turn_ip && s->turn_ip[0] && s->turn_relay == CG_ICE_RELAY_UDP && s->stun_ip &&
	       strcmp(s->stun_ip, s->turn_ip) == 0 && s->stun_port == s->turn_port;
}

/* STUN for a server-reflexive candidate, TURN for a relayed one: only when configured, so
 * that on a LAN without them no packet leaves for an outside server. */
static void ice_nice_use_servers(struct ice_nice *n, const struct cg_ice_servers_setup *s)
{
	static const NiceRelayType relay_types[] = {
		[CG_ICE_RELAY_UDP] = NICE_RELAY_TYPE_TURN_UDP,
		[CG_ICE_RELAY_TCP] = NICE_RELAY_TYPE_TURN_TCP,
		[CG_ICE_RELAY_TLS] = NICE_RELAY_TYPE_TURN_TLS,
	};

	if (!s)
		return;
	if (ice_nice_stun_is_turn(s))
		cg_debug("[%s] STUN server is the TURN server: its allocation gives the "
			 "server-reflexive candidate",
			 n->log_id);
	else if (s->stun_ip && s->stun_ip[0])
		g_object_set(n->agent, "stun-server", s->stun_ip, "stun-server-port",
			     (guint)s->stun_port, NULL);
	if (!s->turn_ip || !s->turn_ip[0])
		return;
	if ((unsigned)s->turn_relay >= G_N_ELEMENTS(relay_types) || !s->turn_username ||
	    !s->turn_password ||
	    !nice_agent_set_relay_info(n->agent, n->stream_id, 1, s->turn_ip, s->turn_port,
				       s->turn_username, s->turn_password,
				       relay_types[s->turn_relay]))
		cg_warn("[%s] TURN server %s:%u refused by libnice, ignoring", n->log_id,
			s->turn_ip, s->turn_port);
}

static int ice_nice_make_agent(struct ice_nice *n, const struct cg_ice_setup *setup)
{
	NiceAddress loopback;

	/*
	 * No NICE_AGENT_OPTION_CONSENT_FRESHNESS: libnice 0.1.21's consent checks dropped a
	 * viewer 10-15 s into a link with 5 % loss and 50 ms delay (tests/integration/
	 * browser-loss.sh), where RFC 7675 allows 30 s. The session keeps consent by the
	 * viewer's authenticated SRTCP instead (proto/session_fsm.h R2). libnice still answers
	 * the browser's own consent checks.
	 */
	n->agent = nice_agent_new_full(setup->ctx, NICE_COMPATIBILITY_RFC5245,
				       NICE_AGENT_OPTION_ICE_TRICKLE);
	if (!n->agent)
		return -EIO;
	/* No TCP candidates, and no UPnP: a camera must not ask the router to open ports for
	 * every viewer. */
	g_object_set(n->agent, "controlling-mode", setup->controlling, "ice-tcp", FALSE, "upnp",
		     FALSE, NULL);
	if (setup->loopback_only) {
		/* libnice skips loopback when enumerating interfaces. */
		nice_address_init(&loopback);
		nice_address_set_from_string(&loopback, "127.0.0.1");
		nice_agent_add_local_address(n->agent, &loopback);
	}
	n->stream_id = nice_agent_add_stream(n->agent, 1);
	if (n->stream_id == 0)
		return -EIO;
	ice_nice_use_servers(n, setup->servers);
	g_signal_connect(n->agent, "component-state-changed", G_CALLBACK(ice_nice_on_state), n);
	g_signal_connect(n->agent, "new-selected-pair-full", G_CALLBACK(ice_nice_on_pair), n);
	g_signal_connect(n->agent, "candidate-gathering-done", G_CALLBACK(ice_nice_on_gathered), n);
	if (!nice_agent_get_local_credentials(n->agent, n->stream_id, &n->local_ufrag,
					      &n->local_pwd))
		return -EIO;
	return 0;
}

static void ice_nice_close(struct cg_ice *ice)
{
	struct ice_nice *n = ice_nice(ice);

	if (n->pending_idle) {
		g_source_destroy(n->pending_idle);
		g_source_unref(n->pending_idle);
	}
	if (n->agent) {
		if (ice_nice_attached(n))
			nice_agent_attach_recv(n->agent, n->stream_id, 1, n->ctx, NULL, NULL);
		g_signal_handlers_disconnect_by_data(n->agent, n);
		/* Releases TURN allocations now (a refresh with lifetime 0) instead of leaving
		 * them to time out on the server, where they count against the user's quota.
		 * The close holds its own reference to the agent until it is done. */
		nice_agent_close_async(n->agent, NULL, NULL);
		g_object_unref(n->agent);
	}
	g_free(n->local_ufrag);
	g_free(n->local_pwd);
	g_main_context_unref(n->ctx);
	free(n);
}

static int ice_nice_create(void *backend, const struct cg_ice_setup *setup, struct cg_ice **ret)
{
	struct ice_nice *n;
	int r;

	if (!setup || !setup->ctx || !setup->cb || !setup->cb->recv)
		return -EINVAL;
	n = cg_new0(struct ice_nice, 1);
	n->base.ops = &cg_nice_ice_ops;
	n->ctx = g_main_context_ref(setup->ctx);
	n->cb = setup->cb;
	n->userdata = setup->userdata;
	n->reported = -1;
	g_strlcpy(n->log_id, setup->log_id ? setup->log_id : "-", sizeof(n->log_id));
	r = ice_nice_make_agent(n, setup);
	if (r < 0) {
		ice_nice_close(&n->base);
		return r;
	}
	*ret = &n->base;
	return 0;
}

static int ice_nice_gather(struct cg_ice *ice)
{
	struct ice_nice *n = ice_nice(ice);

	if (n->gathering)
		return -EALREADY;
	n->gathering = true;
	return nice_agent_gather_candidates(n->agent, n->stream_id) ? 0 : -EIO;
}

static void ice_nice_local_credentials(struct cg_ice *ice, const char **ret_ufrag,
				       const char **ret_pwd)
{
	*ret_ufrag = ice_nice(ice)->local_ufrag;
	*ret_pwd = ice_nice(ice)->local_pwd;
}

/* Appends the agent's server-reflexive and relayed candidates (relayed) or its host ones. */
static void ice_nice_append(struct ice_nice *n, GSList *cands, bool relayed, char **out,
			    unsigned cap, unsigned *count)
{
	for (GSList *l = cands; l && *count < cap; l = l->next) {
		NiceCandidate *c = l->data;
		gchar *sdp;

		if ((c->type != NICE_CANDIDATE_TYPE_HOST) != relayed)
			continue;
		sdp = nice_agent_generate_local_candidate_sdp(n->agent, c);
		if (sdp && g_str_has_prefix(sdp, "a="))
			out[(*count)++] = g_strdup(sdp + 2);
		g_free(sdp);
	}
}

static int ice_nice_local_candidates(struct cg_ice *ice, char **out, unsigned cap)
{
	struct ice_nice *n = ice_nice(ice);
	GSList *cands = nice_agent_get_local_candidates(n->agent, n->stream_id, 1);
	unsigned count = 0;

	ice_nice_append(n, cands, true, out, cap, &count);
	ice_nice_append(n, cands, false, out, cap, &count);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	return (int)count;
}

static int ice_nice_set_remote_credentials(struct cg_ice *ice, const char *ufrag, const char *pwd)
{
	struct ice_nice *n = ice_nice(ice);

	if (n->have_remote)
		return -EALREADY;
	if (!ufrag || !pwd || !ufrag[0] || !pwd[0])
		return -EINVAL;
	if (!nice_agent_set_remote_credentials(n->agent, n->stream_id, ufrag, pwd))
		return -EIO;
	n->have_remote = true;
	return 0;
}

static int ice_nice_add_remote_candidate(struct cg_ice *ice, const char *candidate)
{
	struct ice_nice *n = ice_nice(ice);
	gchar *line;
	NiceCandidate *c;
	GSList list = { 0 };
	int r = 0;

	if (!n->have_remote)
		return -EAGAIN;
	line = g_strconcat("a=", candidate, NULL);
	c = nice_agent_parse_remote_candidate_sdp(n->agent, n->stream_id, line);
	g_free(line);
	/* mDNS ".local" names land here (libnice does not resolve them); the peer's checks
	 * still reach us and become peer-reflexive candidates. TCP candidates parse, and are
	 * never paired: we have no TCP candidates ("ice-tcp" off). */
	if (!c)
		return -EINVAL;
	c->component_id = 1;
	c->stream_id = n->stream_id;
	list.data = c;
	if (nice_agent_set_remote_candidates(n->agent, n->stream_id, 1, &list) < 0)
		r = -EIO;
	nice_candidate_free(c);
	return r;
}

static int ice_nice_end_of_candidates(struct cg_ice *ice)
{
	struct ice_nice *n = ice_nice(ice);

	nice_agent_peer_candidate_gathering_done(n->agent, n->stream_id);
	return 0;
}

/* Owner thread: what the agent signalled before cg_ice_attach(). */
static gboolean ice_nice_deliver_pending(gpointer userdata)
{
	struct ice_nice *n = userdata;
	int pair = g_atomic_int_exchange(&n->pending_pair, 0);
	int state = g_atomic_int_exchange(&n->pending_state, 0);

	g_source_unref(n->pending_idle);
	n->pending_idle = NULL;
	if (g_atomic_int_exchange(&n->pending_gathered, 0) && n->cb->gathering_done)
		n->cb->gathering_done(n->userdata);
	if (state)
		ice_nice_report_state(n, state - 1);
	if (pair && n->cb->selected_pair)
		n->cb->selected_pair(ice_nice_type_name((pair & 0xff) - 1),
				     ice_nice_type_name((pair >> 8) - 1), n->userdata);
	return G_SOURCE_REMOVE;
}

static int ice_nice_attach(struct cg_ice *ice)
{
	struct ice_nice *n = ice_nice(ice);

	if (ice_nice_attached(n))
		return -EALREADY;
	g_atomic_int_set(&n->attached, 1);
	/* libnice reads its sockets only once a receiver is attached. */
	nice_agent_attach_recv(n->agent, n->stream_id, 1, n->ctx, ice_nice_on_recv, n);
	if (g_atomic_int_get(&n->pending_gathered) || g_atomic_int_get(&n->pending_state) ||
	    g_atomic_int_get(&n->pending_pair)) {
		n->pending_idle = g_idle_source_new();
		g_source_set_callback(n->pending_idle, ice_nice_deliver_pending, n, NULL);
		g_source_attach(n->pending_idle, n->ctx);
	}
	return 0;
}

/* Up to ICE_NICE_CHUNK messages in one libnice call: the count taken, or -errno. */
static int ice_nice_send_chunk(struct ice_nice *n, const struct cg_ice_msg *msgs, unsigned count)
{
	GOutputVector vecs[ICE_NICE_CHUNK];
	NiceOutputMessage out[ICE_NICE_CHUNK];
	GError *err = NULL;
	gint sent;

	for (unsigned i = 0; i < count; i++) {
		vecs[i] = (GOutputVector){ .buffer = msgs[i].buf, .size = msgs[i].len };
		out[i] = (NiceOutputMessage){ .buffers = &vecs[i], .n_buffers = 1 };
	}
	sent = nice_agent_send_messages_nonblocking(n->agent, n->stream_id, 1, out, count, NULL,
						    &err);
	if (sent >= 0)
		return sent;
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
		g_error_free(err);
		return 0;
	}
	cg_trace("[%s] send failed: %s", n->log_id, err ? err->message : "?");
	g_clear_error(&err);
	return -EIO;
}

static int ice_nice_send(struct cg_ice *ice, const struct cg_ice_msg *msgs, unsigned count)
{
	struct ice_nice *n = ice_nice(ice);
	unsigned done = 0;

	/* Without a pair libnice takes nothing and says "would block": not a full socket. A
	 * selected pair may come before CONNECTED, and a DTLS flight held for ICE (session_fsm
	 * R3, R4) goes out on it. */
	if (n->reported == CG_ICE_FAILED || (n->reported != CG_ICE_CONNECTED && !n->have_pair))
		return -ENOTCONN;
	while (done < count) {
		unsigned k = CG_MIN(count - done, (unsigned)ICE_NICE_CHUNK);
		int r = ice_nice_send_chunk(n, msgs + done, k);

		if (r < 0)
			return done ? (int)done : r;
		done += (unsigned)r;
		if ((unsigned)r < k)
			break;
	}
	return (int)done;
}

const struct cg_ice_ops cg_nice_ice_ops = {
	.version = 1,
	.name = "nice",
	.create = ice_nice_create,
	.gather = ice_nice_gather,
	.local_credentials = ice_nice_local_credentials,
	.local_candidates = ice_nice_local_candidates,
	.set_remote_credentials = ice_nice_set_remote_credentials,
	.add_remote_candidate = ice_nice_add_remote_candidate,
	.end_of_candidates = ice_nice_end_of_candidates,
	.attach = ice_nice_attach,
	.send = ice_nice_send,
	.close = ice_nice_close,
};
