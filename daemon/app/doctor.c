/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "doctor"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <gnutls/x509.h>
#include <grp.h>
#include <ifaddrs.h>
#include <linux/videodev2.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <unistd.h>

#include "app/config.h"
#include "app/doctor.h"
#include "app/https.h"
#include "app/state.h"
#include "build-config.h"
#include "hw/registry.h"
#include "util/log.h"

#define DOCTOR_SERVICE_USER    "camgate"
#define DOCTOR_DEFAULT_CONFIG  "/etc/camgate/camgate.conf"
#define DOCTOR_SERVICE_STATE   "/var/lib/camgate"
#define DOCTOR_FIRST_RUN_FILE  "first-run"
#define DOCTOR_CERT_WARN_DAYS  30
#define DOCTOR_STUN_TIMEOUT_MS 1500
#define DOCTOR_STUN_TRIES      2
#define STUN_MAGIC	       0x2112A442u
#define V4L2_MAJOR	       81
#define ALSA_MAJOR	       116
#define DRM_MAJOR	       226
/* 2025-01-01: a clock before this is wrong (camgate did not exist yet). */
#define DOCTOR_CLOCK_FLOOR ((time_t)1735689600)

/* Where the unit may be, most local first (a copy in /etc replaces the package's). */
static const char *const unit_paths[] = {
	"/etc/systemd/system/camgate.service",
	"/lib/systemd/system/camgate.service",
	"/usr/lib/systemd/system/camgate.service",
	NULL,
};

struct cg_doctor *cg_doctor_new(void)
{
	return g_new0(struct cg_doctor, 1);
}

struct cg_doctor *cg_doctor_free(struct cg_doctor *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		g_free(d->lines[i].what);
		g_free(d->lines[i].fix);
	}
	g_free(d->lines);
	g_free(d);
	return NULL;
}

void cg_doctor_add(struct cg_doctor *d, enum cg_doctor_level level, const char *fix,
		   const char *fmt, ...)
{
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->lines = g_renew(struct cg_doctor_line, d->lines, d->cap);
	}
	va_start(ap, fmt);
	d->lines[d->n] = (struct cg_doctor_line){ level, g_strdup_vprintf(fmt, ap), g_strdup(fix) };
	va_end(ap);
	d->n++;
	d->n_fail += level == CG_DOCTOR_FAIL;
	d->n_warn += level == CG_DOCTOR_WARN;
}

void cg_doctor_print(const struct cg_doctor *d, FILE *out)
{
	static const char *const names[] = { "OK  ", "WARN", "FAIL" };

	for (size_t i = 0; i < d->n; i++) {
		fprintf(out, "%s %s\n", names[d->lines[i].level], d->lines[i].what);
		if (d->lines[i].fix)
			fprintf(out, "     fix: %s\n", d->lines[i].fix);
	}
	fprintf(out, "%zu checks: %zu OK, %zu WARN, %zu FAIL\n", d->n, d->n - d->n_warn - d->n_fail,
		d->n_warn, d->n_fail);
}

/* One DeviceAllow= value against the device: a path, /dev/char/M:m, or a class. */
static bool unit_entry_matches(const char *entry, const char *path, unsigned major, unsigned minor)
{
	char *id = g_strndup(entry, strcspn(entry, " \t"));
	char *by_number = g_strdup_printf("/dev/char/%u:%u", major, minor);
	bool match = strcmp(id, path) == 0 || strcmp(id, by_number) == 0 ||
		     (strcmp(id, "char-video4linux") == 0 && major == V4L2_MAJOR) ||
		     (strcmp(id, "char-alsa") == 0 && major == ALSA_MAJOR) ||
		     (strcmp(id, "char-drm") == 0 && major == DRM_MAJOR);

	g_free(by_number);
	g_free(id);
	return match;
}

bool cg_doctor_unit_allows(const char *unit_text, const char *path, unsigned major, unsigned minor)
{
	char **lines = g_strsplit(unit_text, "\n", -1);
	bool restricted = false, allowed = false;

	for (char **l = lines; *l; l++) {
		const char *s = g_strstrip(*l);

		if (g_str_has_prefix(s, "DevicePolicy=")) {
			s += strlen("DevicePolicy=");
			restricted |= strcmp(s, "closed") == 0 || strcmp(s, "strict") == 0;
		} else if (g_str_has_prefix(s, "DeviceAllow=")) {
			s += strlen("DeviceAllow=");
			/* systemd: any DeviceAllow= restricts; an empty one resets the list. */
			restricted = true;
			if (!*s)
				allowed = false;
			else if (unit_entry_matches(s, path, major, minor))
				allowed = true;
		}
	}
	g_strfreev(lines);
	return !restricted || allowed;
}

static bool user_has_gid(const struct cg_doctor_user *user, gid_t gid)
{
	for (size_t i = 0; i < user->n_gids; i++)
		if (user->gids[i] == gid)
			return true;
	return false;
}

/* Read and write, as the kernel decides it for the user (root may always). */
static bool user_may_open(const struct stat *st, const struct cg_doctor_user *user)
{
	if (user->uid == 0)
		return true;
	if (st->st_uid == user->uid)
		return (st->st_mode & 0600) == 0600;
	if (user_has_gid(user, st->st_gid))
		return (st->st_mode & 0060) == 0060;
	return (st->st_mode & 0006) == 0006;
}

static char *group_name(gid_t gid)
{
	struct group *g = getgrgid(gid);

	return g ? g_strdup(g->gr_name) : g_strdup_printf("%u", (unsigned)gid);
}

void cg_doctor_check_device(struct cg_doctor *d, const char *role, const char *path,
			    const struct stat *st, bool required, const struct cg_doctor_user *user,
			    const char *unit_text)
{
	unsigned major, minor;
	char *group, *fix;

	if (!st) {
		cg_doctor_add(d, required ? CG_DOCTOR_FAIL : CG_DOCTOR_WARN,
			      "plug the device in (or load its driver), or change the "
			      "configuration to a device that exists (camgate --list-devices)",
			      "%s: %s does not exist", role, path);
		return;
	}
	if (!S_ISCHR(st->st_mode)) {
		cg_doctor_add(d, CG_DOCTOR_FAIL, "name a device node (/dev/videoN)",
			      "%s: %s is not a character device", role, path);
		return;
	}
	major = major(st->st_rdev);
	minor = minor(st->st_rdev);
	group = group_name(st->st_gid);
	if (!user_may_open(st, user)) {
		fix = g_strdup_printf("add %s to group %s (usermod -aG %s %s, or "
				      "SupplementaryGroups= in the unit), or give the node to a "
				      "group %s is in with a udev rule",
				      user->name, group, group, user->name, user->name);
		cg_doctor_add(d, CG_DOCTOR_FAIL, fix,
			      "%s: user %s may not open %s (mode %03o, group %s)", role, user->name,
			      path, (unsigned)(st->st_mode & 0777), group);
		g_free(fix);
	} else if (unit_text && !cg_doctor_unit_allows(unit_text, path, major, minor)) {
		fix = g_strdup_printf("systemctl edit camgate, and add under [Service]: "
				      "DeviceAllow=/dev/char/%u:%u rw",
				      major, minor);
		cg_doctor_add(
			d, CG_DOCTOR_FAIL, fix,
			"%s: the unit's DeviceAllow= does not let camgate open %s (char %u:%u)",
			role, path, major, minor);
		g_free(fix);
	} else {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s: %s may be opened by user %s (group %s%s)",
			      role, path, user->name, group,
			      unit_text ? ", allowed by the unit" : "");
	}
	g_free(group);
}

void cg_doctor_check_v4l2_node(struct cg_doctor *d, const char *path, int open_errno, uint32_t caps,
			       const char *card, bool usable)
{
	bool capture = caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE);
	bool output = caps & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE);

	if (open_errno) {
		cg_doctor_add(
			d, CG_DOCTOR_WARN,
			"run camgate doctor as root to see every device (sudo camgate doctor)",
			"%s: cannot open it to see what it is: %s", path, g_strerror(open_errno));
	} else if (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE) || (capture && output)) {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL,
			      "%s (%s): a mem2mem device: an encoder candidate, not a camera", path,
			      card);
	} else if (capture && usable) {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s (%s): a camera camgate can stream", path,
			      card);
	} else if (capture) {
		cg_doctor_add(d, CG_DOCTOR_WARN,
			      "use another camera, or source = test; camgate --list-devices shows "
			      "its formats",
			      "%s (%s): skipped: offers none of NV12, YUYV, YU12, MJPEG, H.264",
			      path, card);
	} else {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s (%s): skipped: %s", path, card,
			      caps & V4L2_CAP_META_CAPTURE ? "a metadata node (the picture is on "
							     "another node)"
			      : output			   ? "an output-only node"
							   : "not a video capture node");
	}
}

void cg_doctor_check_port(struct cg_doctor *d, const char *host, uint16_t port, int bind_errno,
			  const char *owner, long owner_pid)
{
	char *fix;

	if (bind_errno == 0) {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "listen %s:%u: the port is free", host, port);
	} else if (bind_errno == EADDRINUSE && owner && strcmp(owner, "camgate") == 0) {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL,
			      "listen %s:%u: camgate (pid %ld) listens there: the service runs",
			      host, port, owner_pid);
	} else if (bind_errno == EADDRINUSE) {
		fix = g_strdup_printf("stop %s, or set listen = %s:OTHER_PORT in camgate.conf "
				      "(ss -ltnp 'sport = :%u' shows who listens)",
				      owner ? owner : "the program that listens there", host, port);
		if (owner)
			cg_doctor_add(d, CG_DOCTOR_FAIL, fix,
				      "listen %s:%u: the port is taken by %s (pid %ld)", host, port,
				      owner, owner_pid);
		else
			cg_doctor_add(d, CG_DOCTOR_FAIL, fix,
				      "listen %s:%u: the port is taken by another program", host,
				      port);
		g_free(fix);
	} else if (bind_errno == EADDRNOTAVAIL) {
		cg_doctor_add(d, CG_DOCTOR_FAIL,
			      "set listen = 0.0.0.0:PORT, or one of the addresses listed below",
			      "listen %s:%u: this machine has no address %s", host, port, host);
	} else if (bind_errno == EACCES && port < 1024) {
		cg_doctor_add(
			d, CG_DOCTOR_FAIL, "use a port from 1024 up, such as 8443",
			"listen %s:%u: ports below 1024 need a privilege camgate does not have",
			host, port);
	} else {
		cg_doctor_add(d, CG_DOCTOR_FAIL, "check the listen setting",
			      "listen %s:%u: cannot bind: %s", host, port, g_strerror(bind_errno));
	}
}

/* "DNS:cam.local, IP:192.168.1.20": the certificate's subject alternative names. */
static char *cert_names(gnutls_x509_crt_t crt)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0;; i++) {
		char buf[256], ip[INET6_ADDRSTRLEN];
		size_t size = sizeof(buf) - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type < 0)
			continue;
		buf[size] = '\0';
		if (type == GNUTLS_SAN_DNSNAME)
			g_string_append_printf(s, "%sDNS:%s", s->len ? ", " : "", buf);
		else if (type == GNUTLS_SAN_IPADDRESS &&
			 inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, ip, sizeof(ip)))
			g_string_append_printf(s, "%sIP:%s", s->len ? ", " : "", ip);
	}
	if (!s->len)
		g_string_append(s, "no subject alternative names");
	return g_string_free(s, FALSE);
}

static void cert_check_dates(struct cg_doctor *d, const char *source, gnutls_x509_crt_t crt,
			     time_t now, const char *names)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	bool self = gnutls_x509_crt_check_issuer(crt, crt) != 0;
	const char *renew = self ? "delete https-cert.pem and https-key.pem in the state "
				   "directory and restart camgate: a new one is made"
				 : "renew the certificate named by tls-cert";
	char date[32];

	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&until));
	if (now < from)
		cg_doctor_add(d, CG_DOCTOR_FAIL, "set the clock right (see the clock line)",
			      "certificate %s: not valid before %s: the clock is behind", source,
			      date);
	else if (now >= until)
		cg_doctor_add(d, CG_DOCTOR_FAIL, renew, "certificate %s: expired on %s (%s)",
			      source, date, names);
	else if (until - now < DOCTOR_CERT_WARN_DAYS * 86400)
		cg_doctor_add(d, CG_DOCTOR_WARN, renew,
			      "certificate %s: expires on %s, in %ld days (%s)", source, date,
			      (long)((until - now) / 86400), names);
	else
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "certificate %s: valid until %s, %s%s", source,
			      date, names,
			      self ? "; self-signed: browsers ask once, compare the fingerprint"
				   : "");
}

void cg_doctor_check_cert(struct cg_doctor *d, const char *source, const char *pem, int read_errno,
			  time_t now)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t data;
	char *names;

	if (!pem) {
		if (read_errno == ENOENT && strstr(source, "self-signed"))
			cg_doctor_add(
				d, CG_DOCTOR_OK, NULL,
				"certificate %s: not made yet; camgate makes it at first start",
				source);
		else
			cg_doctor_add(d, CG_DOCTOR_FAIL,
				      "check tls-cert (a PEM file the daemon's user may read)",
				      "certificate %s: cannot read it: %s", source,
				      g_strerror(read_errno));
		return;
	}
	data = (gnutls_datum_t){ (unsigned char *)pem, (unsigned)strlen(pem) };
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &data, GNUTLS_X509_FMT_PEM) < 0) {
		cg_doctor_add(d, CG_DOCTOR_FAIL, "point tls-cert at a PEM certificate chain",
			      "certificate %s: not a PEM certificate", source);
		gnutls_x509_crt_deinit(crt);
		return;
	}
	names = cert_names(crt);
	cert_check_dates(d, source, crt, now, names);
	g_free(names);
	gnutls_x509_crt_deinit(crt);
}

static bool host_is_any(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || !*host;
}

static bool addr_is_loopback(const char *a)
{
	return g_str_has_prefix(a, "127.") || strcmp(a, "::1") == 0;
}

static char *url_for(const char *addr, uint16_t port, bool tls)
{
	bool v6 = strchr(addr, ':') != NULL;

	return g_strdup_printf("http%s://%s%s%s:%u/", tls ? "s" : "", v6 ? "[" : "", addr,
			       v6 ? "]" : "", port);
}

char **cg_doctor_urls(const char *listen_host, uint16_t port, bool tls, const char *const *addrs)
{
	GPtrArray *urls = g_ptr_array_new();
	bool v4_only = strcmp(listen_host, "0.0.0.0") == 0;

	if (!host_is_any(listen_host)) {
		g_ptr_array_add(urls, url_for(listen_host, port, tls));
	} else {
		for (const char *const *a = addrs; a && *a; a++) {
			/* Link-local IPv6 needs a zone a browser will not take. */
			if (addr_is_loopback(*a) || g_str_has_prefix(*a, "fe80:") ||
			    (v4_only && strchr(*a, ':')))
				continue;
			g_ptr_array_add(urls, url_for(*a, port, tls));
		}
	}
	g_ptr_array_add(urls, NULL);
	return (char **)g_ptr_array_free(urls, FALSE);
}

void cg_doctor_check_addresses(struct cg_doctor *d, const char *listen_host, uint16_t port,
			       bool tls, const char *const *addrs)
{
	char **urls;
	bool found = false;

	if (addr_is_loopback(listen_host) || strcmp(listen_host, "localhost") == 0) {
		cg_doctor_add(d, CG_DOCTOR_WARN,
			      "set listen = 0.0.0.0:8443 in camgate.conf to watch from the LAN",
			      "address: listening on %s: only this machine can watch", listen_host);
		return;
	}
	if (!host_is_any(listen_host)) {
		for (const char *const *a = addrs; a && *a; a++)
			found |= strcmp(*a, listen_host) == 0;
		if (!found) {
			cg_doctor_add(
				d, CG_DOCTOR_FAIL,
				"set listen = 0.0.0.0:PORT, or one of this machine's addresses",
				"address: %s is not an address of this machine", listen_host);
			return;
		}
	}
	urls = cg_doctor_urls(listen_host, port, tls, addrs);
	if (!urls[0])
		cg_doctor_add(d, CG_DOCTOR_FAIL,
			      "connect the machine to the network (ip addr shows its addresses)",
			      "address: no address beyond loopback: no other machine can watch");
	for (char **u = urls; *u; u++)
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "address: a viewer on the LAN opens %s", *u);
	g_strfreev(urls);
}

void cg_doctor_stun_request(uint8_t buf[20], uint16_t type, const uint8_t tid[12])
{
	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	buf[2] = buf[3] = 0; /* no attributes */
	buf[4] = (uint8_t)(STUN_MAGIC >> 24);
	buf[5] = (uint8_t)(STUN_MAGIC >> 16);
	buf[6] = (uint8_t)(STUN_MAGIC >> 8);
	buf[7] = (uint8_t)STUN_MAGIC;
	memcpy(buf + 8, tid, 12);
}

bool cg_doctor_stun_is_answer(const uint8_t *buf, size_t len, const uint8_t tid[12])
{
	uint16_t type, body;
	uint32_t magic;

	if (len < 20 || (buf[0] & 0xc0))
		return false;
	type = (uint16_t)(buf[0] << 8 | buf[1]);
	body = (uint16_t)(buf[2] << 8 | buf[3]);
	magic = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	/* The class bits (0x0110): 0x0100 success response, 0x0110 error response. */
	return (type & 0x0100) && magic == STUN_MAGIC && (body & 3) == 0 &&
	       (size_t)body + 20 <= len && memcmp(buf + 8, tid, 12) == 0;
}

void cg_doctor_check_ice_server(struct cg_doctor *d, const char *kind, const char *host,
				uint16_t port, const char *transport, int err)
{
	char *fix;

	if (err == 0) {
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s %s:%u (%s) answers", kind, host, port,
			      transport);
		return;
	}
	fix = g_strdup_printf("check the %s host and port in camgate.conf, and that a firewall "
			      "lets %s to port %u through",
			      kind, transport, port);
	cg_doctor_add(d, CG_DOCTOR_FAIL, fix, "%s %s:%u (%s): %s", kind, host, port, transport,
		      err == -EHOSTUNREACH ? "the name does not resolve"
		      : err == -ETIMEDOUT  ? "no answer"
					   : g_strerror(-err));
	g_free(fix);
}

void cg_doctor_check_clock(struct cg_doctor *d, time_t now, time_t floor, bool synchronized)
{
	char date[32];

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (now < floor)
		cg_doctor_add(d, CG_DOCTOR_FAIL,
			      "set the clock (timedatectl set-ntp true, or date -s): certificates "
			      "and sign-in cookies depend on it",
			      "clock: %s is before camgate existed", date);
	else if (!synchronized)
		cg_doctor_add(d, CG_DOCTOR_WARN,
			      "timedatectl set-ntp true (boards without a battery-backed clock "
			      "start in the past)",
			      "clock: %s, not synchronized to a time server", date);
	else
		cg_doctor_add(d, CG_DOCTOR_OK, NULL, "clock: %s, synchronized", date);
}

char **cg_doctor_welcome(const char *const *urls, const char *fingerprint, const char *token_path,
			 bool password)
{
	GPtrArray *lines = g_ptr_array_new();

	for (const char *const *u = urls; u && *u; u++)
		g_ptr_array_add(lines, g_strdup_printf("open %s on the LAN", *u));
	if (!urls || !urls[0])
		g_ptr_array_add(lines, g_strdup("no LAN address to open: see listen="));
	if (fingerprint)
		g_ptr_array_add(
			lines,
			g_strdup_printf("certificate SHA-256 fingerprint %s (compare it with "
					"the browser's before accepting)",
					fingerprint));
	if (token_path)
		g_ptr_array_add(lines, g_strdup_printf("sign in with the access token in %s "
						       "(sudo cat %s)%s",
						       token_path, token_path,
						       password ? " or the password" : ""));
	else if (password)
		g_ptr_array_add(lines, g_strdup("sign in with the configured password"));
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_free(lines, FALSE);
}

/* ---- Gathering this machine's inputs ---- */

/* Every address of an interface that is up, as text (g_strfreev). */
static char **machine_addresses(void)
{
	GPtrArray *out = g_ptr_array_new();
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i; i = i->ifa_next) {
			char buf[INET6_ADDRSTRLEN];
			const void *a;

			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			else if (i->ifa_addr->sa_family == AF_INET6)
				a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			else
				continue;
			if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof(buf)))
				g_ptr_array_add(out, g_strdup(buf));
		}
		freeifaddrs(ifs);
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static char *read_unit(void)
{
	char *text = NULL;

	for (const char *const *p = unit_paths; *p; p++)
		if (g_file_get_contents(*p, &text, NULL, NULL))
			return text;
	return NULL;
}

/* The service user and its groups: its own, and the unit's SupplementaryGroups=. */
static bool service_user(const char *unit_text, struct cg_doctor_user *user, GArray *gids)
{
	struct passwd *pw = getpwnam(DOCTOR_SERVICE_USER);
	gid_t list[64];
	int n = G_N_ELEMENTS(list);

	if (!pw)
		return false;
	user->name = DOCTOR_SERVICE_USER;
	user->uid = pw->pw_uid;
	if (getgrouplist(pw->pw_name, pw->pw_gid, list, &n) < 0)
		n = 0;
	g_array_append_vals(gids, list, (guint)n);
	if (unit_text) {
		char **lines = g_strsplit(unit_text, "\n", -1);

		for (char **l = lines; *l; l++) {
			char *s = g_strstrip(*l);
			char **names;

			if (!g_str_has_prefix(s, "SupplementaryGroups="))
				continue;
			names = g_strsplit_set(s + strlen("SupplementaryGroups="), " \t", -1);
			for (char **g = names; *g; g++) {
				struct group *gr = **g ? getgrnam(*g) : NULL;

				if (gr)
					g_array_append_val(gids, gr->gr_gid);
			}
			g_strfreev(names);
		}
		g_strfreev(lines);
	}
	user->gids = (const gid_t *)(void *)gids->data;
	user->n_gids = gids->len;
	return true;
}

static void device_check_path(struct cg_doctor *d, const char *role, const char *path,
			      bool required, const struct cg_doctor_user *user, const char *unit)
{
	struct stat st;

	cg_doctor_check_device(d, role, path, stat(path, &st) == 0 ? &st : NULL, required, user,
			       unit);
}

static int video_node_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Every /dev/videoN, in number order (g_strfreev). */
static char **video_nodes(void)
{
	GPtrArray *out = g_ptr_array_new();
	DIR *dir = opendir("/dev");
	struct dirent *e;

	while (dir && (e = readdir(dir)))
		if (g_str_has_prefix(e->d_name, "video") && g_ascii_isdigit(e->d_name[5]))
			g_ptr_array_add(out, g_strconcat("/dev/", e->d_name, NULL));
	if (dir)
		closedir(dir);
	g_ptr_array_sort(out, video_node_cmp);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static void doctor_v4l2_nodes(struct cg_doctor *d, const struct cg_doctor_user *user,
			      const char *unit)
{
	char usable[16][CG_REGISTRY_PATH_MAX];
	unsigned n_usable = cg_registry_find_cameras(usable, G_N_ELEMENTS(usable));
	char **nodes = video_nodes();

	if (!nodes[0])
		cg_doctor_add(d, CG_DOCTOR_WARN,
			      "plug a camera in (a UVC webcam works), or load its driver; "
			      "source = auto streams the test pattern meanwhile",
			      "cameras: no /dev/video* node on this machine");
	for (char **p = nodes; *p; p++) {
		struct v4l2_capability cap = { 0 };
		int fd = open(*p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		int err = fd < 0 ? errno : 0;
		bool ok = false;

		if (fd >= 0 && ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0)
			err = errno;
		if (fd >= 0)
			close(fd);
		for (unsigned i = 0; i < n_usable; i++)
			ok |= strcmp(usable[i], *p) == 0;
		cg_doctor_check_v4l2_node(d, *p, err,
					  cap.capabilities & V4L2_CAP_DEVICE_CAPS
						  ? cap.device_caps
						  : cap.capabilities,
					  (const char *)cap.card, ok);
		if (user)
			device_check_path(d, "device", *p, false, user, unit);
	}
	g_strfreev(nodes);
}

static void doctor_cameras(struct cg_doctor *d, const struct cg_config *cfg,
			   const struct cg_doctor_user *user, const char *unit)
{
	for (unsigned i = 0; i < cfg->n_cameras; i++) {
		const struct cg_config *v = cfg->cameras[i].view;
		char *role = g_strdup_printf("camera %s", cfg->cameras[i].name);

		if (cfg->cameras[i].all_auto) {
			cg_doctor_add(
				d, CG_DOCTOR_OK, NULL,
				"%s: every usable camera (listed below), else the test pattern",
				role);
		} else if (strcmp(v->source, "test") == 0) {
			cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s: the test pattern", role);
		} else if (strcmp(v->source, "auto") == 0) {
			char path[CG_REGISTRY_PATH_MAX], why[128] = "";

			cg_registry_resolve_source("auto", path, sizeof(path), why, sizeof(why));
			if (strcmp(path, "test") == 0)
				cg_doctor_add(
					d, CG_DOCTOR_WARN,
					"plug a camera in; camgate --list-devices shows what it "
					"finds",
					"%s: source = auto finds no camera (%s): it streams the "
					"test pattern",
					role, why[0] ? why : "none usable");
			else
				cg_doctor_add(d, CG_DOCTOR_OK, NULL, "%s: source = auto takes %s",
					      role, path);
		} else if (user) {
			device_check_path(d, role, v->source, true, user, unit);
		} else {
			struct stat st;

			cg_doctor_check_device(d, role, v->source,
					       stat(v->source, &st) == 0 ? &st : NULL, true,
					       &(struct cg_doctor_user){ .name = "root" }, NULL);
		}
		g_free(role);
	}
}

static void doctor_encoders(struct cg_doctor *d, const struct cg_doctor_user *user,
			    const char *unit)
{
	const struct cg_encoder_ops *const *e = cg_registry_encoders();
	GString *names = g_string_new(NULL);

	for (; *e; e++)
		g_string_append_printf(names, "%s%s", names->len ? ", " : "", (*e)->name);
	cg_doctor_add(d, CG_DOCTOR_OK, NULL,
		      "encoders in this build, best first: %s (auto takes the first that opens "
		      "for each camera)",
		      names->str);
	g_string_free(names, TRUE);
	for (unsigned i = 0; i < 8 && user; i++) {
		char *path = g_strdup_printf("/dev/dri/renderD%u", 128 + i);

		if (access(path, F_OK) == 0)
			device_check_path(d, "VA-API render node", path, false, user, unit);
		g_free(path);
	}
}

/* Who listens on TCP port (any address), from /proc: the program's name and pid. */
static char *port_owner(uint16_t port, long *ret_pid)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long inode = 0;
	char *owner = NULL, *want;
	DIR *proc;
	struct dirent *p;

	for (unsigned t = 0; t < 2 && !inode; t++) {
		FILE *f = fopen(tables[t], "r");
		char line[512];

		while (f && fgets(line, sizeof(line), f)) {
			char local[64];
			unsigned st;
			unsigned long ino;
			char *colon;

			if (sscanf(line, "%*d: %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st,
				   &ino) != 3 ||
			    st != 0x0a /* LISTEN */)
				continue;
			colon = strrchr(local, ':');
			if (colon && strtoul(colon + 1, NULL, 16) == port) {
				inode = ino;
				break;
			}
		}
		if (f)
			fclose(f);
	}
	if (!inode || !(proc = opendir("/proc")))
		return NULL;
	want = g_strdup_printf("socket:[%lu]", inode);
	while (!owner && (p = readdir(proc))) {
		char *fds = g_strconcat("/proc/", p->d_name, "/fd", NULL);
		DIR *dir = g_ascii_isdigit(p->d_name[0]) ? opendir(fds) : NULL;
		struct dirent *fd;

		while (dir && !owner && (fd = readdir(dir))) {
			char link[64], *path = g_strconcat(fds, "/", fd->d_name, NULL);
			ssize_t len = readlink(path, link, sizeof(link) - 1);

			if (len > 0 && (link[len] = '\0', strcmp(link, want) == 0)) {
				char *comm = g_strconcat("/proc/", p->d_name, "/comm", NULL);

				if (g_file_get_contents(comm, &owner, NULL, NULL))
					g_strchomp(owner);
				*ret_pid = strtol(p->d_name, NULL, 10);
				g_free(comm);
			}
			g_free(path);
		}
		if (dir)
			closedir(dir);
		g_free(fds);
	}
	closedir(proc);
	g_free(want);
	return owner;
}

static int try_bind(const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai;
	char service[8];
	int fd, r = 0, one = 1;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0)
		return EADDRNOTAVAIL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = errno;
	} else {
		/* As the daemon binds: a port in TIME_WAIT is free. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			r = errno;
		close(fd);
	}
	freeaddrinfo(ai);
	return r;
}

static void doctor_port(struct cg_doctor *d, const struct cg_config *cfg)
{
	int err = try_bind(cfg->listen_host, cfg->listen_port);
	long pid = 0;
	char *owner = err == EADDRINUSE ? port_owner(cfg->listen_port, &pid) : NULL;

	cg_doctor_check_port(d, cfg->listen_host, cfg->listen_port, err, owner, pid);
	g_free(owner);
}

/* One STUN transaction over UDP (or a TCP connect for TURN over TCP/TLS): 0 or -errno. */
static int ice_server_probe(const char *host, uint16_t port, uint16_t type, bool tcp)
{
	struct addrinfo hints = { .ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM };
	struct addrinfo *ai;
	char service[8];
	uint8_t req[20], tid[12], buf[1500];
	int fd, r = -ETIMEDOUT;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = -errno;
		goto out;
	}
	if (tcp) {
		r = 0; /* a TURN server's TCP port accepted the connection */
		goto out;
	}
	for (unsigned i = 0; i < 12; i++)
		tid[i] = (uint8_t)g_random_int();
	cg_doctor_stun_request(req, type, tid);
	for (unsigned t = 0; t < DOCTOR_STUN_TRIES && r == -ETIMEDOUT; t++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (send(fd, req, sizeof(req), 0) < 0) {
			r = -errno;
			break;
		}
		while (poll(&pfd, 1, DOCTOR_STUN_TIMEOUT_MS) > 0) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n < 0) {
				r = -errno; /* ECONNREFUSED: nothing listens there */
				break;
			}
			if (cg_doctor_stun_is_answer(buf, (size_t)n, tid)) {
				r = 0;
				break;
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

static void doctor_ice_servers(struct cg_doctor *d, const struct cg_config *cfg)
{
	static const char *const transports[] = { "udp", "tcp", "tls" };

	if (cfg->stun_host)
		cg_doctor_check_ice_server(
			d, "STUN", cfg->stun_host, cfg->stun_port, "udp",
			ice_server_probe(cfg->stun_host, cfg->stun_port, 0x0001, false));
	if (cfg->turn_host)
		/* An Allocate without credentials: the 401 error response proves a TURN
		 * server answers. */
		cg_doctor_check_ice_server(
			d, "TURN", cfg->turn_host, cfg->turn_port, transports[cfg->turn_transport],
			ice_server_probe(cfg->turn_host, cfg->turn_port, 0x0003,
					 cfg->turn_transport != CG_CONFIG_TURN_UDP));
	if (!cfg->stun_host && !cfg->turn_host)
		cg_doctor_add(d, CG_DOCTOR_OK, NULL,
			      "STUN/TURN: none configured (viewers on the LAN need none)");
}

static void doctor_clock(struct cg_doctor *d)
{
	struct timex tx = { 0 };
	int state = adjtimex(&tx);

	cg_doctor_check_clock(d, time(NULL), DOCTOR_CLOCK_FLOOR,
			      state != TIME_ERROR && !(tx.status & STA_UNSYNC));
}

/* The HTTPS certificate's PEM, or NULL with *ret_errno; *ret_source says which. */
static char *doctor_cert_pem(const struct cg_config *cfg, char **ret_source, int *ret_errno)
{
	char *pem = NULL;
	int r;

	if (cfg->tls_cert_path) {
		GError *error = NULL;

		*ret_source = g_strdup(cfg->tls_cert_path);
		if (!g_file_get_contents(cfg->tls_cert_path, &pem, NULL, &error)) {
			*ret_errno =
				error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT
					? ENOENT
					: EACCES;
			g_error_free(error);
		}
		return pem;
	}
	*ret_source = g_strdup_printf("%s/https-cert.pem (self-signed)", cfg->state_dir);
	r = cg_state_read(cfg->state_dir, "https-cert.pem", &pem, NULL);
	*ret_errno = r < 0 ? -r : 0;
	return r < 0 ? NULL : pem;
}

static void doctor_welcome(const struct cg_config *cfg, const char *pem, const char *const *addrs,
			   FILE *out)
{
	char **urls = cg_doctor_urls(cfg->listen_host, cfg->listen_port, cfg->tls, addrs);
	char *fingerprint = pem ? cg_https_fingerprint(pem) : NULL;
	char *token = cfg->auth_required && !cfg->token
			      ? g_build_filename(cfg->state_dir, "token", NULL)
			      : NULL;
	char **lines = cg_doctor_welcome((const char *const *)urls, fingerprint, token,
					 cfg->password_hash != NULL);

	fprintf(out, "To watch:\n");
	for (char **l = lines; *l; l++)
		fprintf(out, "  %s\n", *l);
	g_strfreev(lines);
	g_free(token);
	g_free(fingerprint);
	g_strfreev(urls);
}

int cg_doctor_run(const struct cg_config *cfg, const char *config_error, FILE *out)
{
	struct cg_doctor *d = cg_doctor_new();
	struct cg_doctor_user user = { 0 };
	GArray *gids = g_array_new(FALSE, FALSE, sizeof(gid_t));
	char *unit = read_unit();
	char **addrs = machine_addresses();
	bool have_user = service_user(unit, &user, gids);
	char *pem = NULL, *source = NULL;
	int r, err = 0;

	fprintf(out, "camgate %s doctor%s%s\n", CG_VERSION, cfg && cfg->config_path ? ", " : "",
		cfg && cfg->config_path ? cfg->config_path : "");
	if (config_error)
		cg_doctor_add(d, CG_DOCTOR_FAIL,
			      "fix the lines named above; camgate --help lists "
			      "every setting",
			      "configuration: %s", config_error);
	doctor_clock(d);
	if (!have_user)
		cg_doctor_add(d, CG_DOCTOR_WARN,
			      "install the package (or systemd-sysusers camgate.conf) to make it",
			      "no user %s: device permissions are not checked for the service",
			      DOCTOR_SERVICE_USER);
	if (!unit)
		cg_doctor_add(d, CG_DOCTOR_OK, NULL,
			      "no camgate.service installed: DeviceAllow= is not checked");
	if (cfg)
		doctor_cameras(d, cfg, have_user ? &user : NULL, unit);
	doctor_v4l2_nodes(d, have_user ? &user : NULL, unit);
	doctor_encoders(d, have_user ? &user : NULL, unit);
	if (cfg) {
		doctor_port(d, cfg);
		if (cfg->tls) {
			pem = doctor_cert_pem(cfg, &source, &err);
			cg_doctor_check_cert(d, source, pem, err, time(NULL));
		} else {
			cg_doctor_add(d, CG_DOCTOR_OK, NULL,
				      "HTTPS off (listening on loopback, or tls = off)");
		}
		cg_doctor_check_addresses(d, cfg->listen_host, cfg->listen_port, cfg->tls,
					  (const char *const *)addrs);
		doctor_ice_servers(d, cfg);
	}
	cg_doctor_print(d, out);
	if (cfg)
		doctor_welcome(cfg, pem, (const char *const *)addrs, out);
	r = d->n_fail ? 1 : 0;
	g_free(pem);
	g_free(source);
	g_strfreev(addrs);
	g_free(unit);
	g_array_free(gids, TRUE);
	cg_doctor_free(d);
	return r;
}

int cg_doctor_first_run(const struct cg_config *cfg, uint16_t port, const char *cert_pem)
{
	char **addrs, **urls, **lines, *fingerprint, *token, *marker = NULL;
	int r = cg_state_read(cfg->state_dir, DOCTOR_FIRST_RUN_FILE, &marker, NULL);

	g_free(marker);
	if (r == 0)
		return 0;
	addrs = machine_addresses();
	urls = cg_doctor_urls(cfg->listen_host, port, cfg->tls, (const char *const *)addrs);
	fingerprint = cert_pem ? cg_https_fingerprint(cert_pem) : NULL;
	token = cfg->auth_required && !cfg->token ? g_build_filename(cfg->state_dir, "token", NULL)
						  : NULL;
	lines = cg_doctor_welcome((const char *const *)urls, fingerprint, token,
				  cfg->password_hash != NULL);
	cg_notice("first run (shown once; camgate doctor shows it again):");
	for (char **l = lines; *l; l++)
		cg_notice("  %s", *l);
	r = cg_state_dir_ensure(cfg->state_dir);
	if (r == 0)
		r = cg_state_write(cfg->state_dir, DOCTOR_FIRST_RUN_FILE, "shown\n", 6);
	g_strfreev(lines);
	g_free(token);
	g_free(fingerprint);
	g_strfreev(urls);
	g_strfreev(addrs);
	return r;
}

/* -c FILE, -cFILE, --config FILE, --config=FILE: the command line names a key file. */
static bool args_name_config(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (g_str_has_prefix(argv[i], "--config") || g_str_has_prefix(argv[i], "-c"))
			return true;
	return false;
}

int cg_doctor_main(int argc, char **argv)
{
	GPtrArray *args = g_ptr_array_new();
	struct cg_config *cfg = NULL;
	char *error = NULL;
	int r;

	g_ptr_array_add(args, (char *)"camgate");
	for (int i = 1; i < argc; i++)
		g_ptr_array_add(args, argv[i]);
	/* What the service runs with, which is what the user wants checked. */
	if (!args_name_config(argc, argv) && access(DOCTOR_DEFAULT_CONFIG, F_OK) == 0) {
		g_ptr_array_add(args, (char *)"--config=" DOCTOR_DEFAULT_CONFIG);
		setenv("STATE_DIRECTORY", DOCTOR_SERVICE_STATE, 0);
	}
	g_ptr_array_add(args, NULL);
	r = cg_config_parse((int)args->len - 1, (char **)args->pdata, &cfg, &error);
	g_ptr_array_free(args, TRUE);
	if (r > 0)
		return 0; /* --help or --version */
	if (r < 0 && strstr(error, "(see --help)")) {
		fprintf(stderr, "camgate doctor: %s\n", error);
		g_free(error);
		return 2;
	}
	r = cg_doctor_run(cfg, error, stdout);
	g_free(error);
	cg_config_free(cfg);
	return r;
}
