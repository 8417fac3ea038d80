/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate doctor (camgate --check): what a user runs when the picture does not come. Each
 * check adds lines to a report, OK / WARN / FAIL, every WARN and FAIL with its fix in one
 * line. The checks are pure functions of what they are given (a stat, a unit file's text,
 * a STUN answer, the time...), so the unit tests run each on fake inputs; cg_doctor_run()
 * gathers the real inputs from this machine and calls them.
 *
 * The first-run message (the LAN URLs, the certificate fingerprint, where the token is) is
 * made here too: the daemon logs it once per state directory, and the doctor prints it.
 *
 * Threads: the control thread (or a test's main thread); nothing here is shared.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

struct cg_config;

enum cg_doctor_level {
	CG_DOCTOR_OK,
	CG_DOCTOR_WARN,
	CG_DOCTOR_FAIL,
};

struct cg_doctor_line {
	enum cg_doctor_level level;
	char *what; /* "camera main: /dev/video0 is a camera (uvcvideo)" */
	char *fix;  /* one line, or NULL (OK lines) */
};

/* The lines in the order the checks added them. Owned by the caller (cg_doctor_free). */
struct cg_doctor {
	struct cg_doctor_line *lines;
	size_t n, cap;
	size_t n_fail, n_warn;
};

/* The user the service runs as, with every group it gets (its own and SupplementaryGroups=). */
struct cg_doctor_user {
	const char *name;
	uid_t uid;
	const gid_t *gids;
	size_t n_gids;
};

struct cg_doctor *cg_doctor_new(void);
/* Frees the report (NULL allowed). Returns NULL. */
struct cg_doctor *cg_doctor_free(struct cg_doctor *d);
/* Adds one line; fix NULL for OK lines. what is a printf format. */
void cg_doctor_add(struct cg_doctor *d, enum cg_doctor_level level, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prints every line ("OK   what", "FAIL what" then "     fix: ...") and a summary. */
void cg_doctor_print(const struct cg_doctor *d, FILE *out);

/*
 * Whether the unit file's text lets the service open a character device major:minor at
 * path: true without DevicePolicy=closed|strict; else when a DeviceAllow= line names the
 * path, "/dev/char/MAJOR:MINOR", or the device's class (char-video4linux: 81, char-alsa:
 * 116, char-drm: 226).
 */
bool cg_doctor_unit_allows(const char *unit_text, const char *path, unsigned major, unsigned minor);

/*
 * Checks one device node the service needs (a camera, an encoder, a render node, a sound
 * device): st is its stat (NULL: it does not exist), user the service user, unit_text the
 * unit file (NULL: not installed; DeviceAllow= is then not checked). role says what it is
 * for ("camera main"), required whether a missing node is a FAIL (a configured camera) or
 * only a WARN. Adds one line.
 */
void cg_doctor_check_device(struct cg_doctor *d, const char *role, const char *path,
			    const struct stat *st, bool required, const struct cg_doctor_user *user,
			    const char *unit_text);

/*
 * The V4L2 node path as QUERYCAP's device_caps describe it: a camera, a mem2mem encoder,
 * or a node camgate skips (metadata, output, radio...) and why. usable: the registry found
 * a format it takes. open_errno: 0, or why opening it failed. Adds one line.
 */
void cg_doctor_check_v4l2_node(struct cg_doctor *d, const char *path, int open_errno,
			       uint32_t device_caps, const char *card, bool usable);

/*
 * The listening address host:port. bind_errno: what bind() said (0: free); owner: the
 * program listening there ("camgate" is the service itself: OK), or NULL when unknown.
 */
void cg_doctor_check_port(struct cg_doctor *d, const char *host, uint16_t port, int bind_errno,
			  const char *owner, long owner_pid);

/*
 * The HTTPS certificate (PEM) at now: expired or not yet valid is a FAIL, less than 30 days
 * left a WARN, a self-signed one a WARN (browsers ask once); the names it holds are
 * listed. source says where it came from. pem NULL: not made yet (the daemon makes it on
 * first start), read_errno why it could not be read.
 */
void cg_doctor_check_cert(struct cg_doctor *d, const char *source, const char *pem, int read_errno,
			  time_t now);

/*
 * The addresses a viewer can use, from the listen host and this machine's addresses (addrs,
 * NULL-terminated, loopback ones included or not). Adds the URLs to open as OK lines, or
 * a WARN (listening on loopback only) or FAIL (the listen address is not this machine's,
 * or no address beyond loopback).
 */
void cg_doctor_check_addresses(struct cg_doctor *d, const char *listen_host, uint16_t port,
			       bool tls, const char *const *addrs);

/* The URLs a LAN viewer opens (NULL-terminated; g_strfreev it): one per non-loopback
 * address when listening on any address, else the listen address's. */
char **cg_doctor_urls(const char *listen_host, uint16_t port, bool tls, const char *const *addrs);

/*
 * STUN (RFC 8489): a 20-byte request of type (0x0001 Binding, 0x0003 Allocate) with the
 * transaction id tid into buf; and whether buf (len bytes) is a response (success or
 * error: either proves a server answered) to that transaction. Pure.
 */
void cg_doctor_stun_request(uint8_t buf[20], uint16_t type, const uint8_t tid[12]);
bool cg_doctor_stun_is_answer(const uint8_t *buf, size_t len, const uint8_t tid[12]);

/* A STUN or TURN server: err 0 when it answered, else why not (-ETIMEDOUT, -errno, or
 * -EHOSTUNREACH for a name that does not resolve). kind: "STUN", "TURN". */
void cg_doctor_check_ice_server(struct cg_doctor *d, const char *kind, const char *host,
				uint16_t port, const char *transport, int err);

/*
 * The clock: now before floor (a date camgate was built after) is a FAIL, since
 * certificates are then not yet valid; an unsynchronized clock a WARN.
 */
void cg_doctor_check_clock(struct cg_doctor *d, time_t now, time_t floor, bool synchronized);

/*
 * The first-run message, one line each: the URLs to open, the certificate's SHA-256
 * fingerprint (NULL: no HTTPS), and where the token is (NULL: no generated token). Returns
 * a NULL-terminated list (g_strfreev it).
 */
char **cg_doctor_welcome(const char *const *urls, const char *fingerprint, const char *token_path,
			 bool password);

/*
 * Gathers everything from this machine for cfg and runs every check. Returns the process
 * exit status: 1 on any FAIL, else 0. config_error: the configuration's own errors (then
 * cfg is NULL and only the machine is checked).
 */
int cg_doctor_run(const struct cg_config *cfg, const char *config_error, FILE *out);

/*
 * camgate doctor [OPTION...] (or camgate --check [OPTION...]): argv[0] is "doctor" or
 * "--check", the rest as for the daemon. Without --config (or -c) it reads the service's
 * /etc/camgate/camgate.conf when that exists, with the service's state directory
 * (/var/lib/camgate) unless STATE_DIRECTORY says otherwise. Returns the exit status: 0, or
 * 1 on any FAIL (2 when the command line itself is wrong). Main thread, before any other.
 */
int cg_doctor_main(int argc, char **argv);

/*
 * The daemon, once started: logs the first-run message (cg_notice) when the state
 * directory has no "first-run" marker yet, then writes it, so it is logged once. Returns
 * 0, or -errno when the marker cannot be written (the message is then logged again next
 * time).
 */
int cg_doctor_first_run(const struct cg_config *cfg, uint16_t port, const char *cert_pem);
