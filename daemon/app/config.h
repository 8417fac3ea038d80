/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The daemon's configuration: the command line, then the key file named by --config
 * (/etc/camgate/camgate.conf under systemd), then the defaults, in that order of precedence,
 * validated completely into an immutable snapshot. On SIGHUP the control thread builds a
 * new snapshot with cg_config_reload() and swaps it in; a snapshot never changes once made.
 *
 * Threads: the control thread creates, reloads and frees snapshots. Any thread may read a
 * snapshot it was handed for as long as its owner keeps it (main keeps the first one for
 * the media thread until exit).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_CONFIG_GROUP "camgate" /* the key file's one group */

enum cg_config_tri {
	CG_CONFIG_AUTO, /* on when listening beyond loopback */
	CG_CONFIG_ON,
	CG_CONFIG_OFF,
};

enum cg_config_turn_transport {
	CG_CONFIG_TURN_UDP,
	CG_CONFIG_TURN_TCP,
	CG_CONFIG_TURN_TLS,
};

struct cg_config_args; /* the raw values the snapshot was built from (config.c) */

struct cg_config {
	char *source;	   /* "test" */
	char *encoder;	   /* "auto", "x264" */
	char *audio;	   /* "auto", "test", "none" or an ALSA capture device */
	char *speaker;	   /* "none" or an ALSA playback device (talkback) */
	char *listen_host; /* "127.0.0.1", "0.0.0.0", "::" */
	uint16_t listen_port;
	uint32_t width;
	uint32_t height;
	uint32_t fps;
	uint32_t bitrate_kbps;	   /* start (and, without adaptation, constant) bitrate */
	uint32_t min_bitrate_kbps; /* floor and ceiling for bandwidth adaptation */
	uint32_t max_bitrate_kbps;
	uint32_t keyframe_interval_frames;
	uint32_t min_keyframe_interval_ms; /* keyframe arbiter: at most one IDR per interval */
	unsigned workers;		   /* network worker threads */
	unsigned max_viewers;
	unsigned max_candidates; /* remote ICE candidates one viewer may trickle */
	int log_level;
	bool list_devices;  /* --list-devices: print cameras and encoders, then exit */
	bool hash_password; /* --hash-password: read a password on stdin, print its hash */

	char *config_path; /* the key file read, or NULL */
	char *state_dir;   /* persistent state: the self-signed HTTPS certificate, the token */

	/* HTTPS. tls_mode is what was asked, tls the outcome for this listen address. */
	enum cg_config_tri tls_mode;
	bool tls;
	char *tls_cert_path; /* PEM; NULL: self-signed, generated once in state_dir */
	char *tls_key_path;

	/* Credentials for viewing and signaling. Secrets: never log them. */
	enum cg_config_tri auth_mode;
	bool auth_required;
	char *token;	     /* bearer token, or NULL */
	char *password_hash; /* "pbkdf2-sha256$ITER$SALT$HASH" (cg_auth_hash_password), or NULL */

	/* NAT traversal, for the daemon's ICE agents and the viewers' (WHEP Link headers).
	 * Hosts are as configured (names or addresses); NULL when not configured. */
	char *stun_host;
	uint16_t stun_port;
	char *turn_host;
	uint16_t turn_port;
	enum cg_config_turn_transport turn_transport;
	char *turn_user;
	char *turn_password; /* secret */
	/* TURN REST API (coturn's use-auth-secret): viewers and the daemon's agents get
	 * "EXPIRY:camgate" with HMAC-SHA1(secret) as password instead of turn_password.
	 * Secret; NULL when not configured. */
	char *turn_secret;

	/* HTTP: Host names accepted besides the machine's own names and addresses (NULL or a
	 * NULL-terminated list), and the origins of WHEP players on other sites that get CORS
	 * on /whep (NULL: none; a list holding "*": any). */
	char **server_names;
	char **cors_origins;

	struct cg_config_args *args; /* private: for reload and change reports */
};

/*
 * Parses argv and the key file it names into a new snapshot. Returns 0 with *ret set (free
 * with cg_config_free), 1 when --help or --version was printed (the caller exits 0), or
 * -EINVAL with every reason printed to stderr. Control thread (or any, before threads).
 */
int cg_config_from_args(int argc, char **argv, struct cg_config **ret);

/*
 * Like cg_config_from_args() but prints nothing on error: *ret_error (g_free it) gets the
 * reasons, one per line, as "PATH:LINE: key=value is …" or "--key=value is …". Secret
 * values are never quoted. Returns 0, 1 (help/version printed) or -EINVAL.
 */
int cg_config_parse(int argc, char **argv, struct cg_config **ret, char **ret_error);

/*
 * Builds a snapshot from key file text alone (len bytes, no command line), as
 * --config=name would from a file holding it, with the same checks and "name:LINE: …"
 * messages; reads no file (a reload of the snapshot reads name). For tests and fuzzing.
 * Returns 0 with *ret set, or -EINVAL with *ret_error (g_free it). Control thread.
 */
int cg_config_parse_data(const char *name, const char *data, size_t len, struct cg_config **ret,
			 char **ret_error);

/*
 * Builds the snapshot SIGHUP asks for: the running snapshot's command line again, then its
 * key file as it is now. Settings that can change while viewers stay connected (log level,
 * bitrates, viewer and candidate limits, credentials, STUN/TURN) take their new values;
 * the others keep the running values and are reported by cg_config_report_changes().
 * Returns 0 with *ret set, or -EINVAL with *ret_error (g_free it): the running snapshot is
 * untouched either way. Control thread.
 */
int cg_config_reload(const struct cg_config *running, struct cg_config **ret, char **ret_error);

/* Called once per setting that differs: value strings are NULL for secrets. */
typedef void (*cg_config_change_fn)(const char *key, const char *old_value, const char *new_value,
				    bool applied, void *userdata);

/*
 * Calls fn for each setting whose value in the key file or on the command line differs
 * between old and new; applied is false for those that need a restart (new kept the old
 * value). Returns the number of differences. Control thread.
 */
unsigned cg_config_report_changes(const struct cg_config *old, const struct cg_config *new,
				  cg_config_change_fn fn, void *userdata);

/* Frees a snapshot (NULL allowed). Returns NULL. */
struct cg_config *cg_config_free(struct cg_config *cfg);

/* True when the HTTP listen address is a loopback address. */
bool cg_config_listens_on_loopback(const struct cg_config *cfg);
