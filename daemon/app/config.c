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
#include "hw/libcamera/controls.h"
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
	OPT_X264_PRESET,
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
	OPT_CAMERA_CONTROL,
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

/*
 * A camera's settings are the global ones of the same name: the same parsers check them
 * and they default to the global values.
 */
enum cam_key {
	CAM_SOURCE,
	CAM_SIZE,
	CAM_FPS,
	CAM_ENCODER,
	CAM_BITRATE,
	CAM_AUDIO,
	CAM_X264_PRESET,
	_CAM_MAX,
};

static const enum opt_id cam_opt[_CAM_MAX] = {
	[CAM_SOURCE] = OPT_SOURCE,	     [CAM_SIZE] = OPT_SIZE,	  [CAM_FPS] = OPT_FPS,
	[CAM_ENCODER] = OPT_ENCODER,	     [CAM_BITRATE] = OPT_BITRATE, [CAM_AUDIO] = OPT_AUDIO,
	[CAM_X264_PRESET] = OPT_X264_PRESET,
};

/* One camera as given: a --camera value, or a [camera NAME] group of the key file. */
struct cam_args {
	char *name;
	char *spec;	     /* the --camera value as written (for errors), or NULL: the file */
	int line;	     /* the file: the [camera NAME] line */
	char *v[_CAM_MAX];   /* NULL: not given (the global value applies) */
	int vline[_CAM_MAX]; /* the file: the line of each key */
};

struct cg_config_args {
	char **argv;	    /* the command line, for reload */
	char *path;	    /* --config */
	char *v[_OPT_MAX];  /* NULL: unset */
	int line[_OPT_MAX]; /* > 0: line in path; 0: command line or default */
	gboolean from_cli[_OPT_MAX];
	char **cli_cameras;    /* the --camera values (GOption's), or NULL */
	GPtrArray *cameras;    /* struct cam_args; empty: one camera from the flags */
	bool cameras_from_cli; /* the command line gave cameras: the file's are ignored */
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

/*
 * "libcamera" (the first camera module) or "libcamera:ID", ID as libcamera names the camera
 * (/base/soc/i2c0mux/i2c@1/imx708@1a) or its index in libcamera's list. At most 63 bytes
 * in all: the media thread keeps a source name in 64.
 */
static bool libcamera_source_ok(const char *v, const char **reason)
{
	const char *id = v + strlen("libcamera");

	if (*id == '\0')
		return true;
	if (*id != ':' || !id[1]) {
		*reason = "is not libcamera or libcamera:ID (a camera id or index)";
		return false;
	}
	if (strlen(v) > 63) {
		*reason = "is longer than 63 bytes (use the camera's index: libcamera:N)";
		return false;
	}
	for (const char *p = id + 1; *p; p++) {
		/* Ids may have spaces ("platform/vimc.0 Sensor B"); --camera splits at commas. */
		if (!g_ascii_isprint(*p) || *p == ',') {
			*reason = "has a camera id with a comma or control character";
			return false;
		}
	}
	return true;
}

static int apply_source(struct cg_config *cfg, const char *v, const char **reason)
{
	if (g_str_has_prefix(v, "libcamera")) {
		if (!libcamera_source_ok(v, reason))
			return -EINVAL;
	} else if (strcmp(v, "test") != 0 && strcmp(v, "test:detailed") != 0 &&
		   strcmp(v, "auto") != 0 && !g_str_has_prefix(v, "/dev/")) {
		*reason = "is not auto, test, test:detailed, /dev/videoN, libcamera or libcamera:ID";
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

/* Checked here, with the backend's own parser, so a bad control stops the start. */
static int apply_camera_control(struct cg_config *cfg, const char *v, const char **reason)
{
	static __thread char why[160];
	struct cg_lc_controls c;

	if (cg_lc_controls_parse(v, &c, why, sizeof(why)) < 0) {
		*reason = why;
		return -EINVAL;
	}
	cfg->camera_controls = cg_strdup(v);
	return 0;
}

static int apply_encoder(struct cg_config *cfg, const char *v, const char **reason)
{
	cfg->encoder = cg_strdup(v);
	return 0;
}

/* x264's presets camgate offers: proto/speed.h's list, spelled again because config.c is
 * also built without cg_proto (camgate-man, the unit tests). */
static int apply_x264_preset(struct cg_config *cfg, const char *v, const char **reason)
{
	static const char *const ok[] = { "auto",   "ultrafast", "superfast", "veryfast",
					  "faster", "fast",	 "medium" };

	*reason = "is not auto|ultrafast|superfast|veryfast|faster|fast|medium";
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
		if (strcmp(v, ok[i]) == 0) {
			g_strlcpy(cfg->x264_preset, v, sizeof(cfg->x264_preset));
			return 0;
		}
	return -EINVAL;
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
	[OPT_X264_PRESET] = STR_OPT("x264-preset", apply_x264_preset, 0, "auto",
				    "x264's speed: auto (veryfast, stepping to superfast and "
				    "ultrafast while encoding takes over 60 % of the frame "
				    "interval, back when there is room) or a fixed "
				    "ultrafast|superfast|veryfast|faster|fast|medium [auto]",
				    "PRESET"),
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
	[OPT_CAMERA_CONTROL] =
		STR_OPT("camera-control", apply_camera_control, 0, NULL,
			"libcamera cameras' settings, KEY=VALUE,...: brightness (-1..1), contrast, "
			"saturation (0..32), sharpness (0..16), ExposureValue (-8..8), "
			"AeMeteringMode (centre|spot|matrix), HDR (on|off), AfMode "
			"(continuous|auto|manual), rotation (0|180), hflip, vflip [automatic]",
			"K=V,..."),
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

static void cam_args_free(void *p)
{
	struct cam_args *c = p;

	g_free(c->name);
	g_free(c->spec);
	for (unsigned k = 0; k < _CAM_MAX; k++)
		g_free(c->v[k]);
	g_free(c);
}

static struct cam_args *cam_args_copy(const struct cam_args *c)
{
	struct cam_args *d = g_new0(struct cam_args, 1);

	d->name = g_strdup(c->name);
	d->spec = g_strdup(c->spec);
	d->line = c->line;
	for (unsigned k = 0; k < _CAM_MAX; k++) {
		d->v[k] = g_strdup(c->v[k]);
		d->vline[k] = c->vline[k];
	}
	return d;
}

static struct cam_args *cam_find(GPtrArray *cams, const char *name)
{
	for (unsigned i = 0; i < cams->len; i++) {
		struct cam_args *c = g_ptr_array_index(cams, i);

		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static struct cg_config_args *config_args_new(int argc, char **argv)
{
	struct cg_config_args *a = g_new0(struct cg_config_args, 1);

	a->argv = g_new0(char *, (gsize)argc + 1);
	for (int i = 0; i < argc; i++)
		a->argv[i] = g_strdup(argv[i]);
	a->cameras = g_ptr_array_new_with_free_func(cam_args_free);
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
	g_strfreev(a->cli_cameras);
	g_ptr_array_unref(a->cameras);
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

bool cg_config_camera_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > CG_CONFIG_CAMERA_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

/* Starts an error about camera c: "--camera=SPEC: " or "PATH:LINE: [camera NAME]: ". */
static void cam_error_start(GString *errs, const struct cg_config_args *a, const struct cam_args *c,
			    int line)
{
	if (c->spec) {
		g_string_append(errs, "--camera=");
		config_append_value(errs, c->spec);
	} else {
		g_string_append_printf(errs, "%s:%d: [" CG_CONFIG_CAMERA_GROUP " ", a->path, line);
		config_append_value(errs, c->name);
		g_string_append_c(errs, ']');
	}
	g_string_append(errs, ": ");
}

static bool cam_check_name(const struct cg_config_args *a, const struct cam_args *c, int line,
			   GString *errs)
{
	if (cg_config_camera_name_ok(c->name))
		return true;
	cam_error_start(errs, a, c, line);
	g_string_append_c(errs, '\'');
	config_append_value(errs, c->name);
	g_string_append(errs, "' is not a camera name (1-32 of a-z 0-9 _ -)\n");
	return false;
}

static int cam_key_find(const char *key)
{
	for (unsigned k = 0; k < _CAM_MAX; k++)
		if (strcmp(key, opts[cam_opt[k]].name) == 0)
			return (int)k;
	return -1;
}

/* One "KEY=VALUE" piece of a --camera value after its source; *prev: the key before it. */
static void cam_parse_option(struct cam_args *c, const char *piece, int *prev, GString *errs)
{
	const char *eq = strchr(piece, '=');
	char *key = eq ? g_strndup(piece, (gsize)(eq - piece)) : NULL;
	int k = key ? cam_key_find(key) : -1;

	if (k < 0 && *prev == CAM_AUDIO) {
		/* ALSA names have commas of their own (hw:1,0, plughw:CARD=Mic,DEV=0): a piece
		 * that does not start with a camera key continues audio's value. */
		char *joined = g_strconcat(c->v[CAM_AUDIO], ",", piece, NULL);

		g_free(c->v[CAM_AUDIO]);
		c->v[CAM_AUDIO] = joined;
	} else if (k < 0) {
		cam_error_start(errs, NULL, c, 0);
		g_string_append(errs, eq ? "unknown option '" : "'");
		config_append_value(errs, eq ? key : piece);
		g_string_append(errs, eq ? "' (size, fps, encoder, bitrate, audio or x264-preset)\n"
					 : "' is not KEY=VALUE\n");
	} else if (c->v[k]) {
		cam_error_start(errs, NULL, c, 0);
		g_string_append_printf(errs, "%s is given twice\n", key);
	} else {
		c->v[k] = g_strdup(eq + 1);
		*prev = k;
	}
	g_free(key);
}

/* A --camera value, "NAME=SOURCE[,KEY=VALUE...]", into a new entry of a->cameras. */
static void cam_parse_spec(struct cg_config_args *a, const char *spec, GString *errs)
{
	struct cam_args *c = g_new0(struct cam_args, 1);
	const char *eq = strchr(spec, '=');
	const struct cam_args *first;
	int prev = CAM_SOURCE;
	char **pieces;

	c->spec = g_strdup(spec);
	c->name = g_strndup(spec, eq ? (gsize)(eq - spec) : strlen(spec));
	if (!eq) {
		g_string_append(errs, "--camera=");
		config_append_value(errs, spec);
		g_string_append(errs, " is not NAME=SOURCE[,KEY=VALUE...]\n");
		g_ptr_array_add(a->cameras, c);
		return;
	}
	if (cam_check_name(a, c, 0, errs) && (first = cam_find(a->cameras, c->name))) {
		cam_error_start(errs, a, c, 0);
		g_string_append_printf(errs, "camera %s is already given by --camera=", c->name);
		config_append_value(errs, first->spec);
		g_string_append_c(errs, '\n');
	}
	/* "NAME=" splits into no piece at all: no source, as config_build_cameras() says. */
	pieces = g_strsplit(eq + 1, ",", -1);
	c->v[CAM_SOURCE] = g_strdup(pieces[0]);
	for (unsigned i = 1; pieces[0] && pieces[i]; i++)
		cam_parse_option(c, pieces[i], &prev, errs);
	g_strfreev(pieces);
	g_ptr_array_add(a->cameras, c);
}

/* The bitrate bounds as config_derive() makes them, here or for one camera's bitrate. */
static void config_derive_bitrates(struct cg_config *cfg)
{
	uint32_t b = cfg->bitrate_kbps;

	/* A derived bound never crosses the one given: "max-bitrate = 150" alone must not get
	 * a floor of 2000 / 4, nor "min-bitrate = 900" with a start of 800 a lower ceiling. */
	if (!cfg->max_bitrate_kbps)
		cfg->max_bitrate_kbps = CG_MAX(b, cfg->min_bitrate_kbps);
	if (!cfg->min_bitrate_kbps)
		cfg->min_bitrate_kbps = CG_MIN(CG_MAX(b / 4, 50), cfg->max_bitrate_kbps);
	cfg->bitrate_kbps = CG_MIN(CG_MAX(b, cfg->min_bitrate_kbps), cfg->max_bitrate_kbps);
}

struct cg_config *cg_config_camera_view_free(struct cg_config *view)
{
	if (!view)
		return NULL;
	if (!view->view_of)
		return cg_config_free(view);
	/* Only what view_build() made: the rest is the snapshot's. */
	free(view->source);
	free(view->encoder);
	free(view->audio);
	free(view->camera_name);
	free(view);
	return NULL;
}

/* Sets a camera setting in view v; an error names c (NULL: a view main.c asked for). */
static void view_apply(struct cg_config *v, const struct cam_args *c, enum cam_key k,
		       const char *value, GString *errs)
{
	const struct opt *o = &opts[cam_opt[k]];
	const char *reason = "is not valid";
	int r;

	if (o->type == OPT_INT)
		r = config_apply_int(v, o, value, &reason);
	else
		r = o->apply(v, value, &reason);
	if (r == 0)
		return;
	if (c)
		cam_error_start(errs, v->args, c, c->vline[k]);
	else
		g_string_append_printf(errs, "camera %s: ", v->camera_name);
	g_string_append_printf(errs, "%s=", o->name);
	config_append_value(errs, value);
	g_string_append_printf(errs, " %s\n", reason);
}

/*
 * The view of snapshot cfg for one camera: c's settings (c NULL: none), else the global
 * ones, with source and audio as the caller chose them. Returns NULL with the reasons
 * appended to errs.
 */
static struct cg_config *view_build(const struct cg_config *cfg, const struct cam_args *c,
				    const char *name, const char *source, const char *audio,
				    GString *errs)
{
	const struct cg_config_args *a = cfg->args;
	struct cg_config *v = cg_new0(struct cg_config, 1);
	size_t before = errs->len;
	const char *reason;

	*v = *cfg; /* shares every pointer; those the view owns are replaced below */
	v->source = v->encoder = v->audio = NULL;
	v->cameras = NULL;
	v->n_cameras = 0;
	v->camera_name = cg_strdup(name);
	v->view_of = cfg;
	/* The bounds as given (0: none), derived again below for this camera's bitrate. */
	v->min_bitrate_kbps = v->max_bitrate_kbps = 0;
	if (a->v[OPT_MIN_BITRATE])
		config_apply_int(v, &opts[OPT_MIN_BITRATE], a->v[OPT_MIN_BITRATE], &reason);
	if (a->v[OPT_MAX_BITRATE])
		config_apply_int(v, &opts[OPT_MAX_BITRATE], a->v[OPT_MAX_BITRATE], &reason);
	for (unsigned k = 0; k < _CAM_MAX; k++) {
		const char *value = k == CAM_SOURCE  ? source
				    : k == CAM_AUDIO ? audio
				    : c && c->v[k]   ? c->v[k]
						     : a->v[cam_opt[k]];

		if (value)
			view_apply(v, c, (enum cam_key)k, value, errs);
	}
	if (errs->len != before)
		return cg_config_camera_view_free(v);
	config_derive_bitrates(v);
	return v;
}

/*
 * Talkback plays on one speaker, through the first camera's sound track: the others open
 * none (two playbacks of one device would fight). A view never frees speaker (it is the
 * snapshot's string), so a literal is safe here.
 */
static void view_no_speaker(struct cg_config *v)
{
	v->speaker = (char *)"none";
}

/* The flags' --audio is the first camera's: two captures of one device would fight. */
static const char *cam_audio(const struct cg_config_args *a, const struct cam_args *c, bool first)
{
	if (c && c->v[CAM_AUDIO])
		return c->v[CAM_AUDIO];
	return first ? a->v[OPT_AUDIO] : "none";
}

/* The snapshot's cameras: those given, else one named main from the flags. */
static void config_build_cameras(struct cg_config *cfg, GString *errs)
{
	const struct cg_config_args *a = cfg->args;
	unsigned n = CG_MAX(a->cameras->len, 1u);

	cfg->cameras = cg_new0(struct cg_camera, n);
	cfg->n_cameras = n;
	if (!a->cameras->len) {
		cfg->cameras[0].name = cg_strdup(CG_CONFIG_DEFAULT_CAMERA);
		cfg->cameras[0].view = view_build(cfg, NULL, CG_CONFIG_DEFAULT_CAMERA,
						  a->v[OPT_SOURCE], cam_audio(a, NULL, true), errs);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct cam_args *c = g_ptr_array_index(a->cameras, i);
		struct cg_camera *cam = &cfg->cameras[i];
		const char *source = c->v[CAM_SOURCE];

		cam->name = cg_strdup(c->name);
		cam->all_auto = strcmp(c->name, CG_CONFIG_ALL_CAMERAS) == 0;
		if (!source) {
			cam_error_start(errs, a, c, c->line);
			g_string_append(errs, "needs a source\n");
		} else if (cam->all_auto && strcmp(source, "auto") != 0) {
			cam_error_start(errs, a, c, c->vline[CAM_SOURCE]);
			g_string_append(errs,
					"the name all is reserved for all=auto (every camera)\n");
		} else {
			cam->view =
				view_build(cfg, c, c->name, source, cam_audio(a, c, i == 0), errs);
			if (cam->view && i > 0)
				view_no_speaker(cam->view);
		}
	}
}

struct cg_config *cg_config_camera_view_new(const struct cg_config *cfg, const char *name,
					    const char *source, bool first)
{
	const struct cam_args *marker = NULL;
	bool marker_first = true;
	struct cg_config *v;
	GString *errs;

	if (!cfg || cfg->view_of || !name || !source || !cg_config_camera_name_ok(name) ||
	    strcmp(name, CG_CONFIG_ALL_CAMERAS) == 0)
		return NULL;
	for (unsigned i = 0; i < cfg->n_cameras && !marker; i++) {
		if (cfg->cameras[i].all_auto) {
			/* A snapshot with a marker has its cameras in args, index for index. */
			marker = g_ptr_array_index(cfg->args->cameras, i);
			marker_first = i == 0;
		}
	}
	errs = g_string_new(NULL);
	v = view_build(cfg, marker, name, source,
		       first ? cam_audio(cfg->args, marker, marker_first) : "none", errs);
	g_string_free(errs, TRUE);
	if (v && !(first && marker_first))
		view_no_speaker(v);
	return v;
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

	config_derive_bitrates(cfg);
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
	/* Last: the views copy the snapshot, and a camera falls back on the global values. */
	config_build_cameras(cfg, errs);
	if (errs->len != errs_len) {
		cg_config_free(cfg); /* and a with it */
		return -EINVAL;
	}
	*ret = cfg;
	return 0;
}

/* "[camera NAME]": a new entry of cams, checked for its name and for being the only one. */
static struct cam_args *scan_camera_group(const struct cg_config_args *a, GPtrArray *cams,
					  const char *line, int n, GString *errs)
{
	const size_t prefix = strlen("[" CG_CONFIG_CAMERA_GROUP " ");
	struct cam_args *c = g_new0(struct cam_args, 1);
	const struct cam_args *first;

	c->name = g_strndup(line + prefix, strlen(line) - prefix - 1);
	c->line = n;
	if (cam_check_name(a, c, n, errs) && (first = cam_find(cams, c->name))) {
		cam_error_start(errs, a, c, n);
		g_string_append_printf(errs, "already defined on line %d\n", first->line);
	}
	g_ptr_array_add(cams, c);
	return c;
}

/* A "key = value" line inside a [camera NAME] group. */
static void scan_camera_key(const struct cg_config_args *a, struct cam_args *c, const char *key,
			    int n, GString *errs)
{
	int k = cam_key_find(key);

	if (k >= 0 && !c->vline[k]) {
		c->vline[k] = n;
		return;
	}
	cam_error_start(errs, a, c, n);
	if (k >= 0) {
		g_string_append_printf(errs, "'%s' is already set on line %d\n", key, c->vline[k]);
		return;
	}
	g_string_append(errs, "unknown key '");
	config_append_value(errs, key);
	g_string_append(
		errs, "' (a camera has source, size, fps, encoder, bitrate, audio, x264-preset)\n");
}

/* A "key = value" line inside [camgate] (in_group) or outside any group we know. */
static void scan_key(struct cg_config_args *a, const char *key, bool in_group, int n, GString *errs)
{
	unsigned id;

	for (id = 0; id < _OPT_MAX && strcmp(key, opts[id].name) != 0; id++)
		;
	if (id == _OPT_MAX) {
		g_string_append_printf(errs, "%s:%d: unknown key '", a->path, n);
		config_append_value(errs, key);
		g_string_append(errs, "'\n");
	} else if (!in_group)
		g_string_append_printf(errs, "%s:%d: '%s' is outside [" CG_CONFIG_GROUP "]\n",
				       a->path, n, key);
	else if (a->line[id] > 0)
		g_string_append_printf(errs, "%s:%d: '%s' is already set on line %d\n", a->path, n,
				       key, a->line[id]);
	else
		a->line[id] = n;
}

static bool is_camera_group(const char *line)
{
	return g_str_has_prefix(line, "[" CG_CONFIG_CAMERA_GROUP " ") &&
	       g_str_has_suffix(line, "]");
}

/*
 * The key file's structure, checked line by line so that every error can name its line:
 * only [camgate] and [camera NAME] groups (cameras into cams), known keys, each once.
 * GKeyFile then reads the values (and unescapes).
 */
static int config_scan_file(struct cg_config_args *a, GPtrArray *cams, const char *data,
			    GString *errs)
{
	char **lines = g_strsplit(data, "\n", -1);
	struct cam_args *cam = NULL; /* in a [camera NAME] group */
	bool in_group = false;	     /* in [camgate] */
	size_t before = errs->len;

	for (int n = 0; lines[n]; n++) {
		char *line = g_strstrip(lines[n]);
		char *eq = strchr(line, '=');

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '[') {
			in_group = strcmp(line, "[" CG_CONFIG_GROUP "]") == 0;
			cam = is_camera_group(line) ? scan_camera_group(a, cams, line, n + 1, errs)
						    : NULL;
			if (!in_group && !cam) {
				g_string_append_printf(errs, "%s:%d: unknown group ", a->path,
						       n + 1);
				config_append_value(errs, line);
				g_string_append(errs, " (only [" CG_CONFIG_GROUP
						      "] and [" CG_CONFIG_CAMERA_GROUP " NAME])\n");
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
		if (cam)
			scan_camera_key(a, cam, line, n + 1, errs);
		else
			scan_key(a, line, in_group, n + 1, errs);
	}
	g_strfreev(lines);
	return errs->len == before ? 0 : -EINVAL;
}

/* One value of the key file (line: where scanning found it). */
static char *config_file_value(const struct cg_config_args *a, GKeyFile *kf, const char *group,
			       const char *key, int line, GString *errs)
{
	GError *error = NULL;
	char *v = g_key_file_get_string(kf, group, key, &error);

	if (!v) {
		g_string_append_printf(errs, "%s:%d: %s: ", a->path, line, key);
		config_append_value(errs, error->message);
		g_string_append_c(errs, '\n');
		g_error_free(error);
	}
	return v;
}

/* The file's cameras, unless the command line gave some: its cameras replace the file's. */
static void config_load_cameras(struct cg_config_args *a, GKeyFile *kf, GPtrArray **cams,
				GString *errs)
{
	if (a->cameras_from_cli)
		return;
	for (unsigned i = 0; i < (*cams)->len; i++) {
		struct cam_args *c = g_ptr_array_index(*cams, i);
		char *group = g_strconcat(CG_CONFIG_CAMERA_GROUP " ", c->name, NULL);

		for (unsigned k = 0; k < _CAM_MAX; k++)
			if (c->vline[k] > 0)
				c->v[k] = config_file_value(a, kf, group, opts[cam_opt[k]].name,
							    c->vline[k], errs);
		g_free(group);
	}
	g_ptr_array_unref(a->cameras);
	a->cameras = g_steal_pointer(cams);
}

/*
 * Key file text (len bytes, named a->path in errors) into a: values fill in what the
 * command line left unset, because the command line wins.
 */
static int config_load_data(struct cg_config_args *a, const char *data, size_t len, GString *errs)
{
	GPtrArray *cams = g_ptr_array_new_with_free_func(cam_args_free);
	GKeyFile *kf = g_key_file_new();
	GError *error = NULL;
	size_t before = errs->len;

	if (config_scan_file(a, cams, data, errs) < 0)
		goto out;
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &error)) {
		/* GKeyFile's messages quote the text too. */
		g_string_append_printf(errs, "%s: ", a->path);
		config_append_value(errs, error->message);
		g_string_append_c(errs, '\n');
		g_error_free(error);
		goto out;
	}
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		if (a->line[i] <= 0)
			continue;
		if (a->from_cli[i]) {
			a->line[i] = 0;
			continue;
		}
		a->v[i] = config_file_value(a, kf, CG_CONFIG_GROUP, opts[i].name, a->line[i], errs);
	}
	config_load_cameras(a, kf, &cams, errs);
out:
	if (cams)
		g_ptr_array_unref(cams);
	g_key_file_free(kf);
	return errs->len == before ? 0 : -EINVAL;
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

#define CAMERA_HELP                                                                                \
	"A camera, repeatable (replaces the file's cameras); KEY: size, fps, encoder, "            \
	"bitrate, audio, x264-preset, else the flags' values (audio: the first camera's "          \
	"only); all=auto: every camera [one named main, from --source, --size...]"

#define CONFIG_ENTRIES_MAX (_OPT_MAX + 6) /* the four flags, the settings, --camera, end */

/*
 * The command-line options in --help's order, pointing into a and f. One list for --help
 * and for cg_config_options(), which the man page is generated from: they cannot differ.
 * Returns how many entries were written (the terminating zero entry not counted).
 */
static size_t config_entries(GOptionEntry *entries, struct cg_config_args *a,
			     struct config_flags *f)
{
	GOptionEntry *e = entries;

	*e++ = (GOptionEntry){ "config",
			       'c',
			       0,
			       G_OPTION_ARG_FILENAME,
			       &a->path,
			       "Key file with any of the settings below, in a [camgate] group, "
			       "and cameras in [camera NAME] groups; the command line wins [none]",
			       "FILE" };
	*e++ = (GOptionEntry){ "list-devices",
			       0,
			       0,
			       G_OPTION_ARG_NONE,
			       &f->list_devices,
			       "Print the cameras and encoders found, then exit",
			       NULL };
	*e++ = (GOptionEntry){
		"hash-password",
		0,
		0,
		G_OPTION_ARG_NONE,
		&f->hash_password,
		"Read a password on stdin and print the password-hash setting for it",
		NULL
	};
	*e++ = (GOptionEntry){
		"version", 0, 0, G_OPTION_ARG_NONE, &f->version, "Print the version and exit", NULL
	};
	/* --camera right after --source: it is what replaces --source for several cameras. */
	for (unsigned i = 0; i < _OPT_MAX; i++) {
		*e++ = (GOptionEntry){ opts[i].name, 0,		 0, G_OPTION_ARG_STRING, &a->v[i],
				       opts[i].help, opts[i].arg };
		if (i == OPT_SOURCE)
			*e++ = (GOptionEntry){ "camera",
					       0,
					       0,
					       G_OPTION_ARG_STRING_ARRAY,
					       &a->cli_cameras,
					       CAMERA_HELP,
					       "NAME=SRC[,KEY=VALUE...]" };
	}
	*e = (GOptionEntry){ 0 };
	return (size_t)(e - entries);
}

static GOptionContext *config_option_context(struct cg_config_args *a, struct config_flags *f)
{
	GOptionEntry entries[CONFIG_ENTRIES_MAX];
	GOptionContext *ctx = g_option_context_new(CG_CONFIG_HELP_PARAMETER);

	config_entries(entries, a, f);
	g_option_context_set_summary(ctx, CG_CONFIG_HELP_SUMMARY);
	g_option_context_add_main_entries(ctx, entries, NULL);
	return ctx;
}

size_t cg_config_options(struct cg_config_option *out, size_t max)
{
	struct cg_config_args *a = config_args_new(0, NULL);
	struct config_flags f = { 0 };
	GOptionEntry entries[CONFIG_ENTRIES_MAX];
	size_t n = config_entries(entries, a, &f);

	for (size_t i = 0; i < n && i < max; i++) {
		const struct opt *o = NULL;

		for (unsigned k = 0; k < _OPT_MAX; k++)
			if (strcmp(opts[k].name, entries[i].long_name) == 0)
				o = &opts[k];
		out[i] = (struct cg_config_option){
			.name = entries[i].long_name,
			.short_name = entries[i].short_name,
			.arg = entries[i].arg_description,
			.help = entries[i].description,
			.in_file = o != NULL,
			.reload = o && (o->flags & OPT_RELOAD),
			.secret = o && (o->flags & OPT_SECRET),
		};
	}
	config_args_free(a);
	return n;
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
	if (r == 0) {
		size_t before = errs->len;

		for (char **spec = a->cli_cameras; spec && *spec; spec++)
			cam_parse_spec(a, *spec, errs);
		a->cameras_from_cli = a->cameras->len > 0;
		r = errs->len == before ? 0 : -EINVAL;
	}
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

/* What the command line asks besides settings: on the snapshot and its views alike. */
static void config_set_flags(struct cg_config *cfg, const struct config_flags *f)
{
	cfg->list_devices = f->list_devices;
	cfg->hash_password = f->hash_password;
	for (unsigned i = 0; i < cfg->n_cameras; i++) {
		cfg->cameras[i].view->list_devices = f->list_devices;
		cfg->cameras[i].view->hash_password = f->hash_password;
	}
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
		if (r == 0)
			config_set_flags(*ret, &f);
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
	c->cli_cameras = g_strdupv(a->cli_cameras);
	for (unsigned i = 0; i < a->cameras->len; i++)
		g_ptr_array_add(c->cameras, cam_args_copy(g_ptr_array_index(a->cameras, i)));
	c->cameras_from_cli = a->cameras_from_cli;
	return c;
}

/*
 * Cameras need a restart: merged gets the running ones back, each with its own bitrate
 * from merged (the file as it is now) when merged still has a camera of that name, since a
 * bitrate applies without a restart like the global one.
 */
static void config_keep_cameras(struct cg_config_args *merged, const struct cg_config_args *old)
{
	GPtrArray *kept = g_ptr_array_new_with_free_func(cam_args_free);

	for (unsigned i = 0; i < old->cameras->len; i++) {
		struct cam_args *c = cam_args_copy(g_ptr_array_index(old->cameras, i));
		const struct cam_args *now = cam_find(merged->cameras, c->name);

		if (now) {
			g_free(c->v[CAM_BITRATE]);
			c->v[CAM_BITRATE] = g_strdup(now->v[CAM_BITRATE]);
			c->vline[CAM_BITRATE] = now->vline[CAM_BITRATE];
		}
		g_ptr_array_add(kept, c);
	}
	g_ptr_array_unref(merged->cameras);
	merged->cameras = kept;
	merged->cameras_from_cli = old->cameras_from_cli;
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
	config_keep_cameras(merged, old);
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

/* "source=test,fps=15": what a camera sets, for change reports. */
static char *cam_describe(const struct cam_args *c)
{
	GString *s;

	if (!c->spec && !c->line)
		return g_strdup("(from the global settings)");
	s = g_string_new(NULL);
	for (unsigned k = 0; k < _CAM_MAX; k++)
		if (c->v[k])
			g_string_append_printf(s, "%s%s=%s", s->len ? "," : "",
					       opts[cam_opt[k]].name, c->v[k]);
	return g_string_free(s, FALSE);
}

/* One camera present before and after: each of its settings that differs. */
static unsigned camera_report_keys(const struct cam_args *o, const struct cam_args *f,
				   bool given_both, cg_config_change_fn fn, void *userdata)
{
	unsigned n = 0;

	for (unsigned k = 0; k < _CAM_MAX; k++) {
		char *key;

		if (g_strcmp0(o->v[k], f->v[k]) == 0)
			continue;
		key = g_strdup_printf("[" CG_CONFIG_CAMERA_GROUP " %s] %s", o->name,
				      opts[cam_opt[k]].name);
		/* cg_config_reload() takes a camera's new bitrate, nothing else. */
		fn(key, o->v[k], f->v[k], given_both && k == CAM_BITRATE, userdata);
		g_free(key);
		n++;
	}
	return n;
}

/* Each camera's name and position, or the one the flags make ("main") without any. */
static GPtrArray *cameras_or_default(const struct cg_config_args *a, struct cam_args *def)
{
	GPtrArray *cams = g_ptr_array_new();

	for (unsigned i = 0; i < a->cameras->len; i++)
		g_ptr_array_add(cams, g_ptr_array_index(a->cameras, i));
	if (!cams->len)
		g_ptr_array_add(cams, def);
	return cams;
}

/* "front,back": the names common to both lists, in the order of the first. */
static char *cameras_common_order(GPtrArray *in, GPtrArray *other)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < in->len; i++) {
		const struct cam_args *c = g_ptr_array_index(in, i);

		if (cam_find(other, c->name))
			g_string_append_printf(s, "%s%s", s->len ? "," : "", c->name);
	}
	return g_string_free(s, FALSE);
}

/* Cameras added, removed, changed or reordered between old and fresh (none applies but a
 * camera's bitrate, see config_keep_cameras). */
/* A camera only one side has: added, or removed. */
static void camera_report_presence(const struct cam_args *c, bool added, cg_config_change_fn fn,
				   void *userdata)
{
	char *key = g_strdup_printf("[" CG_CONFIG_CAMERA_GROUP " %s]", c->name);
	char *settings = cam_describe(c);

	fn(key, added ? NULL : settings, added ? settings : NULL, false, userdata);
	g_free(settings);
	g_free(key);
}

static unsigned cameras_report_changes(const struct cg_config_args *old,
				       const struct cg_config_args *fresh, cg_config_change_fn fn,
				       void *userdata)
{
	struct cam_args def_old = { .name = (char *)CG_CONFIG_DEFAULT_CAMERA };
	struct cam_args def_fresh = def_old;
	GPtrArray *o = cameras_or_default(old, &def_old);
	GPtrArray *f = cameras_or_default(fresh, &def_fresh);
	char *o_order = cameras_common_order(o, f), *f_order = cameras_common_order(f, o);
	unsigned n = 0;

	for (unsigned i = 0; i < o->len; i++) {
		const struct cam_args *oc = g_ptr_array_index(o, i);
		const struct cam_args *fc = cam_find(f, oc->name);

		if (fc) {
			/* The flags' camera has no bitrate= of its own to apply. */
			n += camera_report_keys(oc, fc, oc != &def_old && fc != &def_fresh, fn,
						userdata);
		} else {
			camera_report_presence(oc, false, fn, userdata);
			n++;
		}
	}
	for (unsigned i = 0; i < f->len; i++) {
		const struct cam_args *fc = g_ptr_array_index(f, i);

		if (!cam_find(o, fc->name)) {
			camera_report_presence(fc, true, fn, userdata);
			n++;
		}
	}
	if (strcmp(o_order, f_order) != 0) {
		fn("cameras", o_order, f_order, false, userdata);
		n++;
	}
	g_free(o_order);
	g_free(f_order);
	g_ptr_array_unref(o);
	g_ptr_array_unref(f);
	return n;
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
	n += cameras_report_changes(old->args, fresh, fn, userdata);
out:
	g_string_free(errs, TRUE);
	config_args_free(fresh);
	return n;
}

struct cg_config *cg_config_free(struct cg_config *cfg)
{
	if (!cfg)
		return NULL;
	if (cfg->view_of)
		return cg_config_camera_view_free(cfg);
	for (unsigned i = 0; i < cfg->n_cameras; i++) {
		free(cfg->cameras[i].name);
		cg_config_camera_view_free(cfg->cameras[i].view);
	}
	free(cfg->cameras);
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
	free(cfg->camera_controls);
	config_args_free(cfg->args);
	free(cfg);
	return NULL;
}

bool cg_config_listens_on_loopback(const struct cg_config *cfg)
{
	return g_str_has_prefix(cfg->listen_host, "127.") || strcmp(cfg->listen_host, "::1") == 0 ||
	       strcmp(cfg->listen_host, "localhost") == 0;
}
