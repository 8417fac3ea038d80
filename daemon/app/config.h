/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The daemon's configuration: the command line, then the key file named by --config
 * (/etc/camgate/camgate.conf under systemd), then the defaults, in that order of precedence,
 * validated completely into an immutable snapshot. On SIGHUP the control thread builds a
 * new snapshot with cg_config_reload() and swaps it in; a snapshot never changes once made.
 *
 * Cameras: --camera=NAME=SOURCE[,size=WxH][,fps=N][,encoder=E][,bitrate=KBPS][,audio=DEV]
 * [,x264-preset=P] (repeatable) or [camera NAME] groups in the key file. The command line's cameras
 * replace the file's whole when it gives any (the file's groups are then only checked for their
 * form: names, known keys, each once). Without any, the flags make one camera named "main"
 * (--source, --size, --fps, --encoder, --bitrate, --audio). A camera takes size, fps,
 * encoder and bitrate from the flags unless it sets them; the flags' --audio goes to the
 * first camera only (two captures of one ALSA device would fight over it), the others have
 * no sound unless they say audio=DEV. x264-preset, like encoder, defaults to the flags'. Bitrate
 * bounds and keyframe settings are global. Each camera comes with a view: a struct cg_config as
 * that camera sees it, which the media code takes as it took the whole snapshot before.
 *
 * Threads: the control thread creates, reloads and frees snapshots and views. Any thread
 * may read a snapshot or view it was handed for as long as its owner keeps it (main keeps
 * the first snapshot, and with it its views, for the media threads until exit).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_CONFIG_GROUP		  "camgate" /* the key file's settings group */
#define CG_CONFIG_CAMERA_GROUP	  "camera"  /* "[camera NAME]": one group per camera */
#define CG_CONFIG_CAMERA_NAME_MAX 32	    /* a name is 1-32 of a-z 0-9 _ - */
#define CG_CONFIG_DEFAULT_CAMERA  "main"    /* the one camera the flags make without --camera */
#define CG_CONFIG_ALL_CAMERAS	  "all"	    /* --camera=all=auto: every usable camera */

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

/*
 * One camera of a snapshot, in the order given (the first is the default camera, and the
 * only one that takes the flags' --audio). Owned by the snapshot, name and view included.
 */
struct cg_camera {
	char *name; /* 1-32 of a-z 0-9 _ - */
	/*
	 * --camera=all=auto (or [camera all] with source = auto): a marker for "every usable
	 * camera, each named after it", which only main.c can expand (the configuration does
	 * not enumerate devices): it makes a view for each camera it finds with
	 * cg_config_camera_view_new(). The marker's own view (source "auto") holds the options
	 * given with it and must not be streamed itself.
	 */
	bool all_auto;
	struct cg_config *view; /* the snapshot as this camera sees it: see cg_config.view_of */
};

struct cg_config {
	char *source;	   /* "test" */
	char *encoder;	   /* "auto", "x264" */
	char *audio;	   /* "auto", "test", "none" or an ALSA capture device */
	char *speaker;	   /* "none" or an ALSA playback device (talkback) */
	/* --camera-control: "KEY=VALUE,..." for libcamera cameras (hw/libcamera/controls.h),
	 * checked; NULL when not given. */
	char *camera_controls;
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

	/* --x264-preset: "auto" (the media thread's speed policy, proto/speed.h) or a fixed
	 * x264 preset name. Inline, so a camera's view copies it with the snapshot. */
	char x264_preset[16];

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

	/*
	 * In a snapshot, source, encoder, audio, width, height, fps and the bitrates above are
	 * the flags' (the [camgate] group's): the defaults each camera starts from. What a
	 * camera streams is in its view, cameras[i].view. A snapshot has at least one camera;
	 * a view has none (cameras NULL, n_cameras 0).
	 */
	struct cg_camera *cameras;
	unsigned n_cameras;

	/*
	 * Views only (NULL in a snapshot): the camera's name, and the snapshot the view was
	 * made from. A view is a copy of that snapshot whose source, encoder, audio, width,
	 * height, fps and bitrate_kbps are the camera's, with min_bitrate_kbps and
	 * max_bitrate_kbps derived again for that bitrate (as for the snapshot's). The view
	 * owns source, encoder, audio and camera_name; every other pointer (listen_host, the
	 * credentials, the lists, args...) is the snapshot's, so a view must not outlive its
	 * snapshot. Free a view with cg_config_camera_view_free() (cg_config_free() also
	 * recognizes one); a snapshot frees its cameras' views itself.
	 */
	char *camera_name;
	const struct cg_config *view_of;

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
 * Cameras need a restart: the new snapshot has the running cameras (same names, same
 * order, same settings), each camera's view with the new global bitrates, and a camera's
 * own bitrate= taken from the file when the file still has a camera of that name. The
 * whole new file is validated, cameras included.
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
 * value). Cameras are reported as "[camera NAME] KEY" (applied only for bitrate),
 * "[camera NAME]" for a camera added or removed (the value is its settings, e.g.
 * "source=test,fps=15", or NULL on the side that lacks it; without --camera or camera
 * groups the "main" camera's value is "(from the global settings)"), and "cameras" (the
 * names in order) when the order changed; none of these but bitrate applies before a
 * restart. Returns the number of differences. Control thread.
 */
unsigned cg_config_report_changes(const struct cg_config *old, const struct cg_config *new,
				  cg_config_change_fn fn, void *userdata);

/* Frees a snapshot and its cameras' views, or a view (NULL allowed). Returns NULL. */
struct cg_config *cg_config_free(struct cg_config *cfg);

/* True when name is a camera name: 1-32 of a-z 0-9 _ - (CG_CONFIG_ALL_CAMERAS included). */
bool cg_config_camera_name_ok(const char *name);

/*
 * A view of cfg (a snapshot, not a view) for a camera that main.c found expanding the
 * all_auto marker: named name (cg_config_camera_name_ok(), not "all"; main.c keeps names
 * unique), streaming source ("auto", "test" or /dev/...), with the marker's size, fps,
 * encoder and bitrate where it gave them, else the global ones. Sound: only the view
 * made with first (the first camera the marker expands to) takes the marker's audio=, or
 * the flags' --audio when the marker is the first camera; the others get "none". Without
 * a marker in cfg, the global settings are used the same way. Returns the view (free it
 * with cg_config_camera_view_free() before cfg), or NULL for a bad name or source.
 * Control thread.
 */
struct cg_config *cg_config_camera_view_new(const struct cg_config *cfg, const char *name,
					    const char *source, bool first);

/* Frees a view: its own strings only, never the snapshot's (NULL allowed). Returns NULL. */
struct cg_config *cg_config_camera_view_free(struct cg_config *view);

/* True when the HTTP listen address is a loopback address. */
bool cg_config_listens_on_loopback(const struct cg_config *cfg);

/* What --help prints before and after its option list (the man page's NAME and SYNOPSIS
 * say the same). */
#define CG_CONFIG_HELP_PARAMETER "- WebRTC camera gateway"
#define CG_CONFIG_HELP_SUMMARY                                                                     \
	"Streams a camera (or a test pattern) to browsers over WebRTC.\n"                          \
	"Open http://ADDR:PORT/ to watch; WHEP players use /whep.\n"                               \
	"camgate doctor [--config=FILE] checks cameras, encoders, permissions, the port,\n"        \
	"the certificate and the network, and says how to fix what fails."

/* One command-line option as --help prints it. */
struct cg_config_option {
	const char *name; /* without "--" */
	char short_name;  /* 0: none */
	const char *arg;  /* the value's placeholder ("FILE"), or NULL for a flag */
	const char *help; /* --help's text: the default, if any, in [brackets] at its end */
	bool in_file;	  /* also a key of the key file's [camgate] group */
	bool reload;	  /* a new value in the key file applies on SIGHUP */
	bool secret;	  /* never printed or logged */
};

/*
 * The command-line options, in --help's order, from the very list --help is built from, so
 * that a page generated from them (docs/man/) cannot disagree with --help. Writes at most
 * max into out (static strings: nothing to free) and returns how many there are. Any
 * thread.
 */
size_t cg_config_options(struct cg_config_option *out, size_t max);
