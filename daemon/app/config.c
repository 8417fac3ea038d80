/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "config"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/auth.h"
#include "build-config.h"
#include "app/config.h"
#include "util/log.h"
#include "util/macros.h"

/*
 * Every setting is one row of opts[]: the same name on the command line (--name=VALUE) and
 * in the key file (name = VALUE). Values are kept as the strings they were written as, so
 * that both sources share one parser, errors can quote them, and SIGHUP can compare them.
 */
enum opt_id {
	OPT_SOURCE,
	OPT_ENCODER,
	OPT_LISTEN,
	OPT_SIZE,
	OPT_FPS,
	OPT_BITRATE,
	OPT_MIN_BITRATE,
	OPT_MAX_BITRATE,
	OPT_KEYFRAME_INTERVAL,
	OPT_WORKERS,
	OPT_MAX_VIEWERS,
	OPT_MAX_CANDIDATES,
	OPT_LOG_LEVEL,
	OPT_STATE_DIR,
	OPT_TLS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_AUTH,
	OPT_TOKEN,
	OPT_PASSWORD_HASH,
	OPT_STUN,
	OPT_TURN,
	OPT_TURN_TRANSPORT,
	OPT_TURN_USER,
	OPT_TURN_PASSWORD,
	OPT_AUDIO,
	OPT_SPEAKER,
	OPT_SERVER_NAME,
	OPT_CORS_ORIGINS,
	OPT_TURN_SECRET,
	_OPT_MAX,
};

#define OPT_RELOAD (1u << 0) /* a new value applies on SIGHUP, viewers stay */
#define OPT_SECRET (1u << 1) /* the value is never printed */
#define OPT_ZERO   (1u << 2) /* OPT_INT: 0 means "derived from another setting" */

enum opt_type { OPT_STRING, OPT_INT };

/* Parses value into cfg; on error returns -EINVAL and points *ret_reason at the reason. */
typedef int (*opt_apply_fn)(struct cg_config *cfg, const char *value, const char **ret_reason);

struct opt {
	const char *name;
	enum opt_type type;
	unsigned flags;
	const char *def; /* NULL: unset (or computed by config_default) */
	long lo, hi;	 /* OPT_INT range */
	size_t field;	 /* OPT_INT: offset of a uint32_t/unsigned in struct cg_config */
	opt_apply_fn apply;
	const char *help;
	const char *arg;
};

struct cg_config_args {
	char **argv;	    /* the command line, for reload */
	char *path;	    /* --config */
	char *v[_OPT_MAX];  /* NULL: unset */
	int line[_OPT_MAX]; /* > 0: line in path; 0: command line or default */
	gboolean from_cli[_OPT_MAX];
};

static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	unsigned a, b;
	char tail;

	if (sscanf(s, "%ux%u%c", &a, &b, &tail) != 2 || a < 64 || b < 64 || a > 7680 || b > 4320 ||
	    a % 2 || b % 2)
		return -EINVAL;
	*w = a;
	*h = b;
	return 0;
}

/* True when s names a host without a port: "name", "1.2.3.4", "[v6]" or a bare v6. */
static bool host_without_port(const char *s)
{
	const char *colon = strchr(s, ':');

	if (s[0] == '[')
		return s[strlen(s) - 1] == ']';
	return !colon || strchr(colon + 1, ':');
}

/* "host:port", "[v6]:port" or ":port"; with default_port, the port may be left out. */
static int parse_host_port(const char *s, uint16_t default_port, char **host, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;

	if (default_port && s[0] && host_without_port(s)) {
		if (s[0] == '[')
			*host = g_strndup(s + 1, strlen(s) - 2);
		else
			*host = g_strdup(s);
		*port = default_port;
		return 0;
	}
	if (!colon)
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || p == 0 || p > 65535)
		return -EINVAL;
	if (s[0] == '[' && colon > s && colon[-1] == ']')
		*host = g_strndup(s + 1, (gsize)(colon - s - 2));
	else if (colon == s)
		*host = g_strdup("0.0.0.0");
	else
		*host = g_strndup(s, (gsize)(colon - s));
	*port = (uint16_t)p;
	return 0;
}

static int apply_source(struct cg_config *cfg, const char *v, const char **reason)
{
	if (strcmp(v, "test") != 0 && strcmp(v, "auto") != 0 && !g_str_has_prefix(v, "/dev/")) {
		*reason = "is not auto, test or /dev/videoN";
		return -EINVAL;
	}
	cfg->source = cg_strdup(v);
	return 0;
}

/* An ALSA PCM name: "default", "hw:1,0", "plughw:CARD=Mic,DEV=0", a name from asound.conf. */
static bool alsa_name_ok(const char *v)
{
	if (!v[0] || strlen(v) > 128)
		return false;
	for (const char *p = v; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(":,=_.-", *p))
			return false;
	return true;
}

static int apply_audio(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not auto, test, none or an ALSA device such as hw:1,0";
	if (!alsa_name_ok(v))
		return -EINVAL;
	cfg->audio = cg_strdup(v);
	return 0;
}

static int apply_speaker(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not none or an ALSA device such as default or hw:0,0";
	if (!alsa_name_ok(v))
		return -EINVAL;
	cfg->speaker = cg_strdup(v);
	return 0;
}

static int apply_encoder(struct cg_config *cfg, const char *v, const char **reason)
{
	cfg->encoder = cg_strdup(v);
	return 0;
}

static int apply_listen(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not HOST:PORT";
	return parse_host_port(v, 0, &cfg->listen_host, &cfg->listen_port);
}

static int apply_size(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not WxH with even sides 64-7680";
	return parse_size(v, &cfg->width, &cfg->height);
}

static int apply_log_level(struct cg_config *cfg, const char *v, const char **reason)
{
	cfg->log_level = cg_log_level_from_string(v);
	*reason = "is not err, warn, notice, info, debug or trace";
	return cfg->log_level < 0 ? -EINVAL : 0;
}

static int apply_state_dir(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not an absolute path";
	if (v[0] != '/')
		return -EINVAL;
	cfg->state_dir = cg_strdup(v);
	return 0;
}

static int parse_tri(const char *v, enum cg_config_tri *ret)
{
	static const char *const names[] = {
		[CG_CONFIG_AUTO] = "auto", [CG_CONFIG_ON] = "on", [CG_CONFIG_OFF] = "off"
	};

	for (size_t i = 0; i < CG_ARRAY_SIZE(names); i++) {
		if (strcmp(v, names[i]) == 0) {
			*ret = (enum cg_config_tri)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int apply_tls(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not auto, on or off";
	return parse_tri(v, &cfg->tls_mode);
}

static int apply_auth(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not auto, on or off";
	return parse_tri(v, &cfg->auth_mode);
}

static int apply_path(char **field, const char *v, const char **reason)
{
	*reason = "is not an absolute path";
	if (v[0] != '/')
		return -EINVAL;
	*field = cg_strdup(v);
	return 0;
}

static int apply_tls_cert(struct cg_config *cfg, const char *v, const char **reason)
{
	return apply_path(&cfg->tls_cert_path, v, reason);
}

static int apply_tls_key(struct cg_config *cfg, const char *v, const char **reason)
{
	return apply_path(&cfg->tls_key_path, v, reason);
}

static int apply_token(struct cg_config *cfg, const char *v, const char **reason)
{
	int r = cg_auth_token_check(v);

	*reason = "is not 16-256 characters of A-Z a-z 0-9 - . _ ~";
	if (r < 0)
		return r;
	cfg->token = cg_strdup(v);
	return 0;
}

static int apply_password_hash(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not a hash from camgate --hash-password";
	if (cg_auth_hash_check(v) < 0)
		return -EINVAL;
	cfg->password_hash = cg_strdup(v);
	return 0;
}

static int apply_stun(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not HOST or HOST:PORT";
	if (g_str_has_prefix(v, "stun:"))
		v += strlen("stun:");
	return parse_host_port(v, 3478, &cfg->stun_host, &cfg->stun_port);
}

static int apply_turn(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not HOST or HOST:PORT";
	if (g_str_has_prefix(v, "turn:"))
		v += strlen("turn:");
	return parse_host_port(v, 3478, &cfg->turn_host, &cfg->turn_port);
}

static int apply_turn_transport(struct cg_config *cfg, const char *v, const char **reason)
{
	static const char *const names[] = { [CG_CONFIG_TURN_UDP] = "udp",
					     [CG_CONFIG_TURN_TCP] = "tcp",
					     [CG_CONFIG_TURN_TLS] = "tls" };

	for (size_t i = 0; i < CG_ARRAY_SIZE(names); i++) {
		if (strcmp(v, names[i]) == 0) {
			cfg->turn_transport = (enum cg_config_turn_transport)i;
			return 0;
		}
	}
	*reason = "is not udp, tcp or tls";
	return -EINVAL;
}

/* TURN credentials travel in quoted Link parameters and STUN attributes: keep them plain. */
static int apply_turn_credential(char **field, const char *v, const char **reason)
{
	*reason = "must be 1-128 printable characters without quotes or backslashes";
	if (!v[0] || strlen(v) > 128 || strpbrk(v, "\"\\"))
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	*field = cg_strdup(v);
	return 0;
}

static int apply_turn_user(struct cg_config *cfg, const char *v, const char **reason)
{
	return apply_turn_credential(&cfg->turn_user, v, reason);
}

static int apply_turn_password(struct cg_config *cfg, const char *v, const char **reason)
{
	return apply_turn_credential(&cfg->turn_password, v, reason);
}

/* A comma-separated list; blanks around the commas are dropped, empty items refused. */
static char **parse_list(const char *v, bool (*item_ok)(const char *item))
{
	char **items = g_strsplit(v, ",", -1);

	for (char **it = items; *it; it++) {
		g_strstrip(*it);
		if (!item_ok(*it)) {
			g_strfreev(items);
			return NULL;
		}
	}
	return items;
}

/* A DNS name (RFC 1123 labels) or an IP literal; compared case-insensitively later. */
static bool server_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 253)
		return false;
	for (const char *p = v; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(".-:[]", *p))
			return false;
	return true;
}

static int apply_server_name(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not a comma-separated list of host names";
	cfg->server_names = parse_list(v, server_name_ok);
	return cfg->server_names ? 0 : -EINVAL;
}

/* RFC 6454 §6.2: scheme "://" host [":" port], as browsers send it in Origin. */
static bool cors_origin_ok(const char *v)
{
	const char *host;

	if (strcmp(v, "*") == 0)
		return true;
	if (g_str_has_prefix(v, "https://"))
		host = v + strlen("https://");
	else if (g_str_has_prefix(v, "http://"))
		host = v + strlen("http://");
	else
		return false;
	return host[0] && !strchr(host, '/') && server_name_ok(host);
}

static int apply_cors_origins(struct cg_config *cfg, const char *v, const char **reason)
{
	*reason = "is not * or a comma-separated list of origins such as https://player.example";
	cfg->cors_origins = parse_list(v, cors_origin_ok);
	return cfg->cors_origins ? 0 : -EINVAL;
}

static int apply_turn_secret(struct cg_config *cfg, const char *v, const char **reason)
{
	return apply_turn_credential(&cfg->turn_secret, v, reason);
}

#define INT_OPT(n, lo_, hi_, f, flags_, d, h)                                                      \
	{                                                                                          \
		.name = n, .type = OPT_INT, .flags = (flags_), .def = d, .lo = lo_, .hi = hi_,     \
		.field = offsetof(struct cg_config, f), .help = h, .arg = "N",                     \
	}
#define STR_OPT(n, fn, flags_, d, h, a)                                                            \
	{                                                                                          \
		.name = n, .type = OPT_STRING, .flags = (flags_), .def = d, .apply = fn,           \
		.help = h, .arg = a,                                                               \
	}

static const struct opt opts[_OPT_MAX] = {
	[OPT_SOURCE] = STR_OPT("source", apply_source, 0, "auto",
			       "Video source: auto (the best camera, else the test pattern), test "
			       "(moving pattern with a time code) or /dev/videoN [auto]",
			       "SRC"),
	[OPT_ENCODER] = STR_OPT("encoder", apply_encoder, 0, "auto",
				"H.264 encoder: auto|v4l2-m2m|vaapi|x264 [auto]", "ENC"),
	[OPT_LISTEN] = STR_OPT("listen", apply_listen, 0, "127.0.0.1:8080",
			       "HTTP(S) address and port: HOST:PORT, [V6]:PORT or :PORT "
			       "[127.0.0.1:8080]",
			       "ADDR"),
	[OPT_SIZE] =
		STR_OPT("size", apply_size, 0, "1280x720", "Picture size WxH [1280x720]", "WxH"),
	[OPT_FPS] = INT_OPT("fps", 1, 120, fps, 0, "30", "Frames per second, 1-120 [30]"),
	[OPT_BITRATE] = INT_OPT("bitrate", 100, 50000, bitrate_kbps, OPT_RELOAD, "2000",
				"Video bitrate in kbit/s, 100-50000 [2000]"),
	[OPT_MIN_BITRATE] =
		INT_OPT("min-bitrate", 50, 50000, min_bitrate_kbps, OPT_RELOAD | OPT_ZERO, "0",
			"Lowest bitrate bandwidth adaptation may choose, kbit/s "
			"[bitrate/4]"),
	[OPT_MAX_BITRATE] =
		INT_OPT("max-bitrate", 100, 50000, max_bitrate_kbps, OPT_RELOAD | OPT_ZERO, "0",
			"Highest bitrate bandwidth adaptation may choose, kbit/s "
			"[bitrate]"),
	[OPT_KEYFRAME_INTERVAL] = INT_OPT("keyframe-interval", 1, 600, keyframe_interval_frames, 0,
					  "60", "Frames between periodic keyframes, 1-600 [60]"),
	[OPT_WORKERS] = INT_OPT("workers", 1, 64, workers, 0, NULL,
				"Network worker threads, 1-64 [number of cores, at most 4]"),
	[OPT_MAX_VIEWERS] = INT_OPT("max-viewers", 1, 1000, max_viewers, OPT_RELOAD, "100",
				    "Most simultaneous viewers, 1-1000 [100]"),
	[OPT_MAX_CANDIDATES] = INT_OPT("max-candidates", 1, 1000, max_candidates, OPT_RELOAD, "64",
				       "Remote ICE candidates per viewer, 1-1000 [64]"),
	[OPT_LOG_LEVEL] = STR_OPT("log-level", apply_log_level, OPT_RELOAD, "info",
				  "err|warn|notice|info|debug|trace [info]", "LEVEL"),
	[OPT_STATE_DIR] = STR_OPT("state-dir", apply_state_dir, 0, NULL,
				  "Where the self-signed certificate and generated token are kept "
				  "[$STATE_DIRECTORY, else ~/.local/state/camgate]",
				  "DIR"),
	[OPT_TLS] = STR_OPT("tls", apply_tls, 0, "auto",
			    "HTTPS: auto (when listening beyond loopback)|on|off [auto]", "MODE"),
	[OPT_TLS_CERT] =
		STR_OPT("tls-cert", apply_tls_cert, 0, NULL,
			"HTTPS certificate chain, PEM [self-signed, kept in state-dir]", "FILE"),
	[OPT_TLS_KEY] = STR_OPT("tls-key", apply_tls_key, 0, NULL,
				"HTTPS private key, PEM [self-signed, kept in state-dir]", "FILE"),
	[OPT_AUTH] = STR_OPT("auth", apply_auth, OPT_RELOAD, "auto",
			     "Require a credential to watch: auto (when listening beyond "
			     "loopback)|on|off [auto]",
			     "MODE"),
	[OPT_TOKEN] = STR_OPT("token", apply_token, OPT_RELOAD | OPT_SECRET, NULL,
			      "Bearer token for viewers and WHEP players (better in the "
			      "config file: the command line is public) [generated in state-dir]",
			      "TOKEN"),
	[OPT_PASSWORD_HASH] =
		STR_OPT("password-hash", apply_password_hash, OPT_RELOAD | OPT_SECRET, NULL,
			"Login password, as printed by --hash-password", "HASH"),
	[OPT_STUN] = STR_OPT("stun", apply_stun, OPT_RELOAD, NULL,
			     "STUN server for the daemon and the viewers [none]", "HOST[:PORT]"),
	[OPT_TURN] = STR_OPT("turn", apply_turn, OPT_RELOAD, NULL,
			     "TURN server for the daemon and the viewers [none]", "HOST[:PORT]"),
	[OPT_TURN_TRANSPORT] = STR_OPT("turn-transport", apply_turn_transport, OPT_RELOAD, "udp",
				       "TURN transport: udp|tcp|tls [udp]", "PROTO"),
	[OPT_TURN_USER] =
		STR_OPT("turn-user", apply_turn_user, OPT_RELOAD, NULL, "TURN user name", "USER"),
	[OPT_AUDIO] = STR_OPT("audio", apply_audio, 0, "auto",
			      "Sound to send: auto (the default ALSA capture device if there is "
			      "one), test (a tone that beeps each second), none, or an ALSA "
			      "device such as hw:1,0 [auto]",
			      "DEV"),
	[OPT_SPEAKER] = STR_OPT("speaker", apply_speaker, 0, "none",
				"Where the browsers' talkback plays: none, or an ALSA device such "
				"as default or hw:0,0 [none]",
				"DEV"),
	[OPT_TURN_PASSWORD] = STR_OPT("turn-password", apply_turn_password, OPT_RELOAD | OPT_SECRET,
				      NULL, "TURN password", "PASSWORD"),
	[OPT_SERVER_NAME] = STR_OPT("server-name", apply_server_name, OPT_RELOAD, NULL,
				    "Host names the server answers to besides its own names and "
				    "addresses, comma-separated (others get 421) [none]",
				    "NAMES"),
	[OPT_CORS_ORIGINS] = STR_OPT("cors-origins", apply_cors_origins, OPT_RELOAD, NULL,
				     "Origins of WHEP players on other sites that may use /whep, "
				     "comma-separated, or * for any [none]",
				     "ORIGINS"),
	[OPT_TURN_SECRET] = STR_OPT("turn-secret", apply_turn_secret, OPT_RELOAD | OPT_SECRET, NULL,
				    "TURN REST API shared secret (coturn's static-auth-secret): "
				    "viewers get short-lived credentials instead of turn-password",
				    "SECRET"),
};

/* The value an unset setting takes when the table cannot say it statically. */
static char *config_default(enum opt_id id)
{
	const char *state = getenv("STATE_DIRECTORY");
	long ncpu;

	switch (id) {
	case OPT_WORKERS:
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		return g_strdup_printf("%ld", CG_MAX(1, CG_MIN(ncpu, 4)));
	case OPT_STATE_DIR:
		/* systemd's StateDirectory= may list several, colon-separated: ours is first. */
		if (state && state[0] == '/')
			return g_strndup(state, strcspn(state, ":"));
		return g_build_filename(g_get_home_dir(), ".local", "state", "camgate", NULL);
	default:
		return g_strdup(opts[id].def);
	}
}

static struct cg_config_args *config_args_new(int argc, char **argv)
{
	struct cg_config_args *a = g_new0(struct cg_config_args, 1);

	a->argv = g_new0(char *, (gsize)argc + 1);
	for (int i = 0; i < argc; i++)
		a->argv[i] = g_strdup(argv[i]);
	return a;
}

static void config_args_free(struct cg_config_args *a)
{
	if (!a)
		return;
	g_strfreev(a->argv);
	g_free(a->path);
	for (unsigned i = 0; i < _OPT_MAX; i++)
		g_free(a->v[i]);
	g_free(a);
}

/*
 * Quotes a value in an error message. Messages are one line each (the journal, and
 * cg_config_from_args prints them line by line), but GKeyFile turns "\n" in a value into
 * a newline: control characters are written as \xHH so a value cannot start a line.
 */
static void config_append_value(GString *s, const char *v)
{
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			g_string_append_printf(s, "\\x%02x", (unsigned char)*p);
		else
			g_string_append_c(s, *p);
	}
}

/* How errors quote a setting: where it came from, and its value unless it is secret. */
static void config_error(GString *errs, const struct cg_config_args *a, enum opt_id id,
			 const char *reason)
{
	if (a->line[id] > 0)
		g_string_append_printf(errs, "%s:%d: %s=", a->path, a->line[id], opts[id].name);
	else
		g_string_append_printf(errs, "--%s=", opts[id].name);
	if (opts[id].flags & OPT_SECRET)
		g_string_append(errs, "(secret)");
	else
		config_append_value(errs, a->v[id]);
	g_string_append_printf(errs, " %s\n", reason);
}

static int config_apply_int(struct cg_config *cfg, const struct opt *o, const char *v,
			    const char **reason)
{
	static char range[64];
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end) {
		*reason = "is not a number";
		return -EINVAL;
	}
	if ((n < o->lo || n > o->hi) && !(n == 0 && (o->flags & OPT_ZERO))) {
		/* Control thread only: a static buffer is safe and keeps the message exact. */
		snprintf(range, sizeof(range), "is out of range %ld-%ld", o->lo, o->hi);
		*reason = range;
		return -EINVAL;
	}
	*(uint32_t *)((char *)cfg + o->field) = (uint32_t)n;
	return 0;
}

/* Settings that depend on each other, checked once each is valid on its own. */
static void config_cross_check(struct cg_config *cfg, const struct cg_config_args *a, GString *errs)
{
	if (cfg->min_bitrate_kbps && cfg->max_bitrate_kbps &&
	    cfg->min_bitrate_kbps > cfg->max_bitrate_kbps)
		config_error(errs, a, OPT_MIN_BITRATE, "is above max-bitrate");
	if (!cfg->tls_cert_path != !cfg->tls_key_path)
		config_error(errs, a, cfg->tls_cert_path ? OPT_TLS_CERT : OPT_TLS_KEY,
			     "needs both tls-cert and tls-key");
	if (cfg->turn_host && !cfg->turn_secret && (!cfg->turn_user || !cfg->turn_password))
		config_error(errs, a, OPT_TURN,
			     "needs turn-secret, or turn-user and turn-password");
}

static void config_derive(struct cg_config *cfg)
{
	bool beyond_loopback = !cg_config_listens_on_loopback(cfg);
	uint32_t b = cfg->bitrate_kbps;

	/* A derived bound never crosses the one given: "max-bitrate = 150" alone must not get
	 * a floor of 2000 / 4, nor "min-bitrate = 900" with a start of 800 a lower ceiling. */
	if (!cfg->max_bitrate_kbps)
		cfg->max_bitrate_kbps = CG_MAX(b, cfg->min_bitrate_kbps);
	if (!cfg->min_bitrate_kbps)
		cfg->min_bitrate_kbps = CG_MIN(CG_MAX(b / 4, 50), cfg->max_bitrate_kbps);
	cfg->bitrate_kbps = CG_MIN(CG_MAX(b, cfg->min_bitrate_kbps), cfg->max_bitrate_kbps);
	cfg->min_keyframe_interval_ms = 300;
	cfg->tls = cfg->tls_mode == CG_CONFIG_ON ||
		   (cfg->tls_mode == CG_CONFIG_AUTO && beyond_loopback);
	cfg->auth_required = cfg->auth_mode == CG_CONFIG_ON ||
			     (cfg->auth_mode == CG_CONFIG_AUTO && beyond_loopback);
	if (cfg->turn_transport == CG_CONFIG_TURN_TLS && cfg->turn_port == 3478)
		cfg->turn_port = 5349; /* RFC 8656 §3.1: the TURN-over-TLS port */
}

/* Builds a snapshot from complete args (every setting has a value or is unset on purpose). */
static int config_build(struct cg_config_args *a, struct cg_config **ret, GString *errs)
{
	struct cg_config *cfg = cg_new0(struct cg_config, 1);
	size_t errs_len = errs->len;

	for (unsigned i = 0; i < _OPT_MAX; i++) {
		const char *reason = "is not valid";
		int r;

		if (!a->v[i])
			continue;
		if (opts[i].type == OPT_INT)
			r = config_apply_int(cfg, &opts[i], a->v[i], &reason);
		else
			r = opts[i].apply(cfg, a->v[i], &reason);
		if (r < 0)
			config_error(errs, a, (enum opt_id)i, reason);
	}
	config_cross_check(cfg, a, errs);
	if (errs->len != errs_len) {
		cg_config_free(cfg);
		config_args_free(a);
		return -EINVAL;
	}
	config_derive(cfg);
	cfg->config_path = cg_strdup(a->path);
	cfg->args = a;
	*ret = cfg;
	return 0;
}

/*
 * The key file's structure, checked line by line so that every error can name its line:
 * only [camgate], known keys, each once. GKeyFile then reads the values (and unescapes).
 */
static int config_scan_file(struct cg_config_args *a, const char *data, GString *errs)
{
	char **lines = g_strsplit(data, "\n", -1);
	bool in_group = false;
	size_t before = errs->len;

	for (int n = 0; lines[n]; n++) {
		char *line = g_strstrip(lines[n]);
		char *eq = strchr(line, '=');
		unsigned id;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '[') {
			in_group = strcmp(line, "[" CG_CONFIG_GROUP "]") == 0;
			if (!in_group) {
				g_string_append_printf(errs, "%s:%d: unknown group ", a->path,
						       n + 1);
				config_append_value(errs, line);
				g_string_append(errs, " (only [" CG_CONFIG_GROUP "])\n");
			}
			continue;
		}
		if (!eq) {
			g_string_append_printf(errs, "%s:%d: not a key = value line\n", a->path,
					       n + 1);
			continue;
		}
		*eq = '\0';
		g_strchomp(line);
		for (id = 0; id < _OPT_MAX && strcmp(line, opts[id].name) != 0; id++)
			;
		if (id == _OPT_MAX) {
			g_string_append_printf(errs, "%s:%d: unknown key '", a->path, n + 1);
			config_append_value(errs, line);
			g_string_append(errs, "'\n");
		} else if (!in_group)
			g_string_append_printf(errs,
					       "%s:%d: '%s' is outside [" CG_CONFIG_GROUP "]\n",
					       a->path, n + 1, line);
		else if (a->line[id] > 0)
			g_string_append_printf(errs, "%s:%d: '%s' is already set on line %d\n",
					       a->path, n + 1, line, a->line[id]);
		else
			a->line[id] = n + 1;
	}
	g_strfreev(lines);
	return errs->len == before ? 0 : -EINVAL;
}

/*
 * Key file text (len bytes, named a->path in errors) into a: values fill in what the
 * command line left unset, because the command line wins.
 */
static int config_load_data(struct cg_config_args *a, const char *data, size_t len, GString *errs)
{
	GKeyFile *kf = g_key_file_new();
	GError *error = NULL;
	int r = -EINVAL;

	if (config_scan_file(a, data, errs) < 0)
		goto out;
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &error)) {
		/* GKeyFile's messages quote the text too. */
		g_string_append_printf(errs, "%s: ", a->path);
		config_append_value(errs, error->message);
		g_string_append_c(errs, '\n');
		goto out;
	}
	r = 0;
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		if (a->line[i] <= 0)
			continue;
		if (a->from_cli[i]) {
			a->line[i] = 0;
			continue;
		}
		a->v[i] = g_key_file_get_string(kf, CG_CONFIG_GROUP, opts[i].name, &error);
		if (!a->v[i]) {
			g_string_append_printf(errs, "%s:%d: %s: ", a->path, a->line[i],
					       opts[i].name);
			config_append_value(errs, error->message);
			g_string_append_c(errs, '\n');
			g_clear_error(&error);
			r = -EINVAL;
		}
	}
out:
	g_clear_error(&error);
	g_key_file_free(kf);
	return r;
}

static int config_read_file(struct cg_config_args *a, GString *errs)
{
	GError *error = NULL;
	char *data = NULL;
	gsize len;
	int r;

	if (!g_file_get_contents(a->path, &data, &len, &error)) {
		g_string_append_printf(errs, "%s\n", error->message);
		g_error_free(error);
		return -EINVAL;
	}
	r = config_load_data(a, data, len, errs);
	g_free(data);
	return r;
}

struct config_flags {
	gboolean version;
	gboolean list_devices;
	gboolean hash_password;
};

static GOptionContext *config_option_context(struct cg_config_args *a, struct config_flags *f)
{
	GOptionEntry entries[_OPT_MAX + 5] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &a->path,
		  "Key file with any of the settings below, in a [camgate] group; the command "
		  "line wins [none]",
		  "FILE" },
		{ "list-devices", 0, 0, G_OPTION_ARG_NONE, &f->list_devices,
		  "Print the cameras and encoders found, then exit", NULL },
		{ "hash-password", 0, 0, G_OPTION_ARG_NONE, &f->hash_password,
		  "Read a password on stdin and print the password-hash setting for it", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &f->version, "Print the version and exit",
		  NULL },
	};
	GOptionContext *ctx = g_option_context_new("- WebRTC camera gateway");

	for (unsigned i = 0; i < _OPT_MAX; i++)
		entries[4 + i] =
			(GOptionEntry){ opts[i].name, 0,	  0, G_OPTION_ARG_STRING, &a->v[i],
					opts[i].help, opts[i].arg };
	g_option_context_set_summary(
		ctx, "Streams a camera (or a test pattern) to browsers over WebRTC.\n"
		     "Open http://ADDR:PORT/ to watch; WHEP players use /whep.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	return ctx;
}

/* The command line into a (the file and defaults come later). */
static int config_parse_cli(struct cg_config_args *a, struct config_flags *f, GString *errs)
{
	int argc = (int)g_strv_length(a->argv);
	char **argv = g_new0(char *, (gsize)argc + 1);
	char **orig = argv;
	GOptionContext *ctx = config_option_context(a, f);
	GError *error = NULL;
	int r = 0;

	/* GOption removes what it parsed from the array (our copy), never frees it. */
	memcpy(argv, a->argv, sizeof(char *) * (size_t)argc);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_string_append_printf(errs, "%s (see --help)\n", error->message);
		g_error_free(error);
		r = -EINVAL;
	} else if (argc > 1) {
		g_string_append_printf(errs, "unexpected argument '%s' (see --help)\n", argv[1]);
		r = -EINVAL;
	}
	for (unsigned i = 0; i < _OPT_MAX; i++)
		a->from_cli[i] = a->v[i] != NULL;
	g_option_context_free(ctx);
	g_free(orig);
	return r;
}

static void config_fill_defaults(struct cg_config_args *a)
{
	for (unsigned i = 0; i < _OPT_MAX; i++)
		if (!a->v[i])
			a->v[i] = config_default((enum opt_id)i);
}

static int config_gather(struct cg_config_args *a, struct config_flags *f, GString *errs)
{
	int r = config_parse_cli(a, f, errs);

	if (r < 0 || f->version)
		return r;
	if (a->path && a->path[0] && config_read_file(a, errs) < 0)
		return -EINVAL;
	if (a->path && !a->path[0])
		g_clear_pointer(&a->path, g_free);
	config_fill_defaults(a);
	return 0;
}

int cg_config_parse(int argc, char **argv, struct cg_config **ret, char **ret_error)
{
	struct cg_config_args *a = config_args_new(argc, argv);
	struct config_flags f = { 0 };
	GString *errs = g_string_new(NULL);
	int r;

	r = config_gather(a, &f, errs);
	if (r == 0 && f.version) {
		printf("camgate %s\n", CG_VERSION);
		r = 1;
	}
	if (r != 0) {
		config_args_free(a);
	} else {
		r = config_build(a, ret, errs);
		if (r == 0) {
			(*ret)->list_devices = f.list_devices;
			(*ret)->hash_password = f.hash_password;
		}
	}
	if (r < 0)
		*ret_error = g_strchomp(g_string_free(errs, FALSE));
	else
		g_string_free(errs, TRUE);
	return r;
}

int cg_config_parse_data(const char *name, const char *data, size_t len, struct cg_config **ret,
			 char **ret_error)
{
	char *option = g_strconcat("--config=", name, NULL);
	char *argv[] = { (char *)"camgate", option, NULL };
	struct cg_config_args *a = config_args_new(2, argv);
	GString *errs = g_string_new(NULL);
	/* Exactly what g_file_get_contents() hands config_read_file(): NUL-terminated. */
	char *text = g_malloc(len + 1);
	int r;

	memcpy(text, data, len);
	text[len] = '\0';
	a->path = g_strdup(name);
	r = config_load_data(a, text, len, errs);
	if (r == 0) {
		config_fill_defaults(a);
		r = config_build(a, ret, errs); /* owns a from here */
	} else {
		config_args_free(a);
	}
	if (r < 0)
		*ret_error = g_strchomp(g_string_free(errs, FALSE));
	else
		g_string_free(errs, TRUE);
	g_free(text);
	g_free(option);
	return r;
}

int cg_config_from_args(int argc, char **argv, struct cg_config **ret)
{
	char *error = NULL;
	int r = cg_config_parse(argc, argv, ret, &error);

	if (r < 0) {
		char **lines = g_strsplit(error, "\n", -1);

		for (char **l = lines; *l; l++)
			fprintf(stderr, "camgate: %s\n", *l);
		g_strfreev(lines);
		g_free(error);
	}
	return r;
}

static struct cg_config_args *config_args_copy(const struct cg_config_args *a)
{
	struct cg_config_args *c = config_args_new(0, NULL);

	g_strfreev(c->argv);
	c->argv = g_strdupv(a->argv);
	c->path = g_strdup(a->path);
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		c->v[i] = g_strdup(a->v[i]);
		c->line[i] = a->line[i];
		c->from_cli[i] = a->from_cli[i];
	}
	return c;
}

/* The file as it is now, validated whole (restart-only settings too), then merged. */
static int config_reload_args(const struct cg_config_args *old, struct cg_config **ret,
			      GString *errs)
{
	struct cg_config_args *a = config_args_new((int)g_strv_length(old->argv), old->argv);
	struct cg_config_args *merged;
	struct cg_config *fresh;
	struct config_flags f = { 0 };

	if (config_gather(a, &f, errs) < 0) {
		config_args_free(a);
		return -EINVAL;
	}
	merged = config_args_copy(a);
	if (config_build(a, &fresh, errs) < 0) {
		config_args_free(merged);
		return -EINVAL;
	}
	cg_config_free(fresh);
	/* What cannot change under running viewers keeps its running value. */
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		if (opts[i].flags & OPT_RELOAD)
			continue;
		g_free(merged->v[i]);
		merged->v[i] = g_strdup(old->v[i]);
		merged->line[i] = old->line[i];
	}
	return config_build(merged, ret, errs);
}

int cg_config_reload(const struct cg_config *running, struct cg_config **ret, char **ret_error)
{
	GString *errs = g_string_new(NULL);
	int r = config_reload_args(running->args, ret, errs);

	if (r < 0)
		*ret_error = g_strchomp(g_string_free(errs, FALSE));
	else
		g_string_free(errs, TRUE);
	return r;
}

/*
 * Restart-only settings were copied from old into new by cg_config_reload, so their change
 * shows in the key file as re-read now; compare against a fresh read to report them.
 */
unsigned cg_config_report_changes(const struct cg_config *old, const struct cg_config *new,
				  cg_config_change_fn fn, void *userdata)
{
	struct cg_config_args *fresh = config_args_new(0, NULL);
	struct config_flags f = { 0 };
	GString *errs = g_string_new(NULL);
	unsigned n = 0;

	g_strfreev(fresh->argv);
	fresh->argv = g_strdupv(new->args->argv);
	if (config_gather(fresh, &f, errs) < 0)
		goto out;
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		bool secret = opts[i].flags & OPT_SECRET;

		if (g_strcmp0(old->args->v[i], fresh->v[i]) == 0)
			continue;
		fn(opts[i].name, secret ? NULL : old->args->v[i], secret ? NULL : fresh->v[i],
		   opts[i].flags & OPT_RELOAD, userdata);
		n++;
	}
out:
	g_string_free(errs, TRUE);
	config_args_free(fresh);
	return n;
}

struct cg_config *cg_config_free(struct cg_config *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->source);
	free(cfg->encoder);
	g_free(cfg->listen_host);
	free(cfg->config_path);
	free(cfg->state_dir);
	free(cfg->tls_cert_path);
	free(cfg->tls_key_path);
	free(cfg->token);
	free(cfg->password_hash);
	g_free(cfg->stun_host);
	g_free(cfg->turn_host);
	free(cfg->turn_user);
	free(cfg->turn_password);
	free(cfg->turn_secret);
	g_strfreev(cfg->server_names);
	g_strfreev(cfg->cors_origins);
	free(cfg->audio);
	free(cfg->speaker);
	config_args_free(cfg->args);
	free(cfg);
	return NULL;
}

bool cg_config_listens_on_loopback(const struct cg_config *cfg)
{
	return g_str_has_prefix(cfg->listen_host, "127.") || strcmp(cfg->listen_host, "::1") == 0 ||
	       strcmp(cfg->listen_host, "localhost") == 0;
}
