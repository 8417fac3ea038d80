/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate doctor's checks (issue 17), each on fake inputs: a unit file's text, a stat of a
 * device node, a V4L2 node's capabilities, what bind() said, certificates made here with
 * GnuTLS, a machine's address list, STUN packets, the time. And the first-run marker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <linux/videodev2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "app/config.h"
#include "app/doctor.h"

#define DAY 86400

/* The last line a check added, checked for its level and for text in what or fix. */
static void assert_last(const struct cg_doctor *d, enum cg_doctor_level level, const char *what,
			const char *fix)
{
	const struct cg_doctor_line *l;

	g_assert_cmpuint(d->n, >, 0);
	l = &d->lines[d->n - 1];
	if (l->level != level || (what && !strstr(l->what, what)) ||
	    (fix && (!l->fix || !strstr(l->fix, fix))))
		g_error("got level %d \"%s\" fix \"%s\"; wanted level %d, \"%s\", fix \"%s\"",
			l->level, l->what, l->fix ? l->fix : "(none)", level, what ? what : "",
			fix ? fix : "");
	/* Every WARN and FAIL says how to fix it, on one line. */
	if (l->level != CG_DOCTOR_OK) {
		g_assert_nonnull(l->fix);
		g_assert_null(strchr(l->fix, '\n'));
	}
}

/* The sandbox part of camgate's own unit (systemd/camgate.service.in). */
static const char unit[] = "[Service]\n"
			   "User=camgate\n"
			   "SupplementaryGroups=video render audio\n"
			   "DevicePolicy=closed\n"
			   "DeviceAllow=char-video4linux rw\n"
			   "DeviceAllow=/dev/char/226:128 rw\n"
			   "DeviceAllow=/dev/char/226:129 rw\n"
			   "DeviceAllow=char-alsa rw\n";

static void test_unit_allows(void)
{
	g_assert_true(cg_doctor_unit_allows(unit, "/dev/video0", 81, 0));
	g_assert_true(cg_doctor_unit_allows(unit, "/dev/dri/renderD128", 226, 128));
	g_assert_true(cg_doctor_unit_allows(unit, "/dev/snd/pcmC0D0c", 116, 3));
	/* The DRM card node (modesetting) and a render node past the listed ones. */
	g_assert_false(cg_doctor_unit_allows(unit, "/dev/dri/card0", 226, 0));
	g_assert_false(cg_doctor_unit_allows(unit, "/dev/dri/renderD130", 226, 130));
	g_assert_false(cg_doctor_unit_allows(unit, "/dev/ttyS0", 4, 64));
	/* No policy: everything; a path entry; an empty DeviceAllow= resets the list. */
	g_assert_true(cg_doctor_unit_allows("[Service]\nUser=x\n", "/dev/ttyS0", 4, 64));
	g_assert_true(cg_doctor_unit_allows("DeviceAllow=/dev/video9 rw\n", "/dev/video9", 81, 9));
	g_assert_false(cg_doctor_unit_allows("DeviceAllow=char-video4linux rw\nDeviceAllow=\n",
					     "/dev/video0", 81, 0));
	g_assert_false(cg_doctor_unit_allows("DevicePolicy=strict\n", "/dev/video0", 81, 0));
}

static struct stat fake_node(unsigned major, unsigned minor, mode_t mode, gid_t gid)
{
	return (struct stat){ .st_mode = S_IFCHR | mode,
			      .st_rdev = makedev(major, minor),
			      .st_uid = 0,
			      .st_gid = gid };
}

static void test_device(void)
{
	struct cg_doctor *d = cg_doctor_new();
	const gid_t video_only[] = { 990, 44 }, none[] = { 990 };
	struct cg_doctor_user in_video = { "camgate", 990, video_only, 2 };
	struct cg_doctor_user outside = { "camgate", 990, none, 1 };
	struct stat cam = fake_node(81, 0, 0660, 44);
	struct stat open_all = fake_node(81, 1, 0666, 44);
	struct stat card = fake_node(226, 0, 0660, 44);
	struct stat file = { .st_mode = S_IFREG | 0644 };

	cg_doctor_check_device(d, "camera main", "/dev/video7", NULL, true, &in_video, unit);
	assert_last(d, CG_DOCTOR_FAIL, "/dev/video7 does not exist", "plug the device in");
	cg_doctor_check_device(d, "device", "/dev/video7", NULL, false, &in_video, unit);
	assert_last(d, CG_DOCTOR_WARN, "does not exist", NULL);
	cg_doctor_check_device(d, "camera main", "/dev/video0", &cam, true, &in_video, unit);
	assert_last(d, CG_DOCTOR_OK, "may be opened by user camgate", NULL);
	cg_doctor_check_device(d, "camera main", "/dev/video0", &cam, true, &outside, unit);
	assert_last(d, CG_DOCTOR_FAIL, "may not open /dev/video0 (mode 660", "usermod -aG");
	cg_doctor_check_device(d, "camera main", "/dev/video1", &open_all, true, &outside, unit);
	assert_last(d, CG_DOCTOR_OK, NULL, NULL);
	/* Permissions right, the sandbox says no. */
	cg_doctor_check_device(d, "render", "/dev/dri/card0", &card, false, &in_video, unit);
	assert_last(d, CG_DOCTOR_FAIL, "DeviceAllow= does not let camgate open /dev/dri/card0",
		    "DeviceAllow=/dev/char/226:0 rw");
	cg_doctor_check_device(d, "render", "/dev/dri/card0", &card, false, &in_video, NULL);
	assert_last(d, CG_DOCTOR_OK, NULL, NULL);
	cg_doctor_check_device(d, "camera main", "/tmp/video", &file, true, &in_video, unit);
	assert_last(d, CG_DOCTOR_FAIL, "not a character device", NULL);
	g_assert_cmpuint(d->n_fail, ==, 4);
	g_assert_cmpuint(d->n_warn, ==, 1);
	cg_doctor_free(d);
}

static void test_v4l2_node(void)
{
	struct cg_doctor *d = cg_doctor_new();

	cg_doctor_check_v4l2_node(d, "/dev/video0", 0, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING,
				  "HD Webcam", true);
	assert_last(d, CG_DOCTOR_OK, "/dev/video0 (HD Webcam): a camera camgate can stream", NULL);
	cg_doctor_check_v4l2_node(d, "/dev/video1", 0, V4L2_CAP_META_CAPTURE, "HD Webcam", false);
	assert_last(d, CG_DOCTOR_OK, "skipped: a metadata node", NULL);
	cg_doctor_check_v4l2_node(d, "/dev/video2", 0, V4L2_CAP_VIDEO_CAPTURE, "IR camera", false);
	assert_last(d, CG_DOCTOR_WARN, "skipped: offers none of", "source = test");
	cg_doctor_check_v4l2_node(d, "/dev/video11", 0, V4L2_CAP_VIDEO_M2M_MPLANE, "bcm2835-codec",
				  false);
	assert_last(d, CG_DOCTOR_OK, "a mem2mem device: an encoder candidate", NULL);
	cg_doctor_check_v4l2_node(d, "/dev/video3", 0, V4L2_CAP_VIDEO_OUTPUT, "loopback", false);
	assert_last(d, CG_DOCTOR_OK, "skipped: an output-only node", NULL);
	cg_doctor_check_v4l2_node(d, "/dev/video4", EACCES, 0, "", false);
	assert_last(d, CG_DOCTOR_WARN, "Permission denied", "sudo camgate doctor");
	cg_doctor_free(d);
}

static void test_port(void)
{
	struct cg_doctor *d = cg_doctor_new();

	cg_doctor_check_port(d, "0.0.0.0", 8443, 0, NULL, 0);
	assert_last(d, CG_DOCTOR_OK, "the port is free", NULL);
	cg_doctor_check_port(d, "0.0.0.0", 8443, EADDRINUSE, "nginx", 812);
	assert_last(d, CG_DOCTOR_FAIL, "taken by nginx (pid 812)", "stop nginx");
	cg_doctor_check_port(d, "0.0.0.0", 8443, EADDRINUSE, "camgate", 77);
	assert_last(d, CG_DOCTOR_OK, "camgate (pid 77) listens there", NULL);
	cg_doctor_check_port(d, "0.0.0.0", 8443, EADDRINUSE, NULL, 0);
	assert_last(d, CG_DOCTOR_FAIL, "taken by another program", "ss -ltnp 'sport = :8443'");
	cg_doctor_check_port(d, "10.9.9.9", 8443, EADDRNOTAVAIL, NULL, 0);
	assert_last(d, CG_DOCTOR_FAIL, "no address 10.9.9.9", "listen = 0.0.0.0");
	cg_doctor_check_port(d, "0.0.0.0", 443, EACCES, NULL, 0);
	assert_last(d, CG_DOCTOR_FAIL, "below 1024", "8443");
	cg_doctor_free(d);
}

/* A self-signed PEM certificate for cam.local and 192.168.1.20, valid [from, until). */
static char *make_cert(time_t from, time_t until)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	unsigned char serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct in_addr ip;
	char *out;

	inet_pton(AF_INET, "192.168.1.20", &ip);
	g_assert_cmpint(gnutls_x509_privkey_init(&key), ==, 0);
	g_assert_cmpint(
		gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		==, 0);
	g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, from);
	gnutls_x509_crt_set_expiration_time(crt, until);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "cam.local", 9);
	gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "cam.local", 9,
					     GNUTLS_FSAN_APPEND);
	gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &ip, 4, GNUTLS_FSAN_APPEND);
	gnutls_x509_crt_set_key(crt, key);
	g_assert_cmpint(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
	out = g_strndup((const char *)pem.data, pem.size);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return out;
}

static void test_cert(void)
{
	struct cg_doctor *d = cg_doctor_new();
	time_t now = 1767225600; /* 2026-01-01 */
	char *good = make_cert(now - DAY, now + 365 * DAY);
	char *soon = make_cert(now - DAY, now + 10 * DAY);
	char *old = make_cert(now - 30 * DAY, now - DAY);
	char *future = make_cert(now + 10 * DAY, now + 365 * DAY);

	cg_doctor_check_cert(d, "cert.pem", good, 0, now);
	assert_last(d, CG_DOCTOR_OK, "valid until 2027-01-01, DNS:cam.local, IP:192.168.1.20",
		    NULL);
	g_assert_nonnull(strstr(d->lines[d->n - 1].what, "self-signed"));
	cg_doctor_check_cert(d, "cert.pem", soon, 0, now);
	assert_last(d, CG_DOCTOR_WARN, "expires on 2026-01-11, in 10 days", "https-cert.pem");
	cg_doctor_check_cert(d, "cert.pem", old, 0, now);
	assert_last(d, CG_DOCTOR_FAIL, "expired on 2025-12-31", "restart camgate");
	cg_doctor_check_cert(d, "cert.pem", future, 0, now);
	assert_last(d, CG_DOCTOR_FAIL, "not valid before", "clock");
	cg_doctor_check_cert(d, "cert.pem", "-----BEGIN NOTHING-----\n", 0, now);
	assert_last(d, CG_DOCTOR_FAIL, "not a PEM certificate", NULL);
	cg_doctor_check_cert(d, "/var/lib/camgate/https-cert.pem (self-signed)", NULL, ENOENT, now);
	assert_last(d, CG_DOCTOR_OK, "not made yet", NULL);
	cg_doctor_check_cert(d, "/etc/camgate/cert.pem", NULL, ENOENT, now);
	assert_last(d, CG_DOCTOR_FAIL, "cannot read it", "tls-cert");
	g_free(good);
	g_free(soon);
	g_free(old);
	g_free(future);
	cg_doctor_free(d);
}

static void test_addresses(void)
{
	const char *const addrs[] = { "127.0.0.1", "192.168.1.20", "::1",
				      "fe80::1",   "2001:db8::5",  NULL };
	const char *const lo_only[] = { "127.0.0.1", "::1", NULL };
	struct cg_doctor *d = cg_doctor_new();
	char **urls;

	urls = cg_doctor_urls("::", 8443, true, addrs);
	g_assert_cmpuint(g_strv_length(urls), ==, 2);
	g_assert_cmpstr(urls[0], ==, "https://192.168.1.20:8443/");
	g_assert_cmpstr(urls[1], ==, "https://[2001:db8::5]:8443/");
	g_strfreev(urls);
	urls = cg_doctor_urls("0.0.0.0", 8080, false, addrs);
	g_assert_cmpuint(g_strv_length(urls), ==, 1);
	g_assert_cmpstr(urls[0], ==, "http://192.168.1.20:8080/");
	g_strfreev(urls);

	cg_doctor_check_addresses(d, "127.0.0.1", 8080, false, addrs);
	assert_last(d, CG_DOCTOR_WARN, "only this machine can watch", "listen = 0.0.0.0:8443");
	cg_doctor_check_addresses(d, "0.0.0.0", 8443, true, addrs);
	assert_last(d, CG_DOCTOR_OK, "opens https://192.168.1.20:8443/", NULL);
	cg_doctor_check_addresses(d, "10.1.1.1", 8443, true, addrs);
	assert_last(d, CG_DOCTOR_FAIL, "10.1.1.1 is not an address of this machine", "listen");
	cg_doctor_check_addresses(d, "0.0.0.0", 8443, true, lo_only);
	assert_last(d, CG_DOCTOR_FAIL, "no address beyond loopback", "connect");
	cg_doctor_free(d);
}

static void test_stun(void)
{
	const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	const uint8_t other[12] = { 9 };
	uint8_t req[20], resp[32];

	cg_doctor_stun_request(req, 0x0001, tid);
	g_assert_cmpuint(req[0], ==, 0x00);
	g_assert_cmpuint(req[1], ==, 0x01);
	g_assert_cmpuint(req[2] | req[3], ==, 0);
	g_assert_cmpuint(req[4], ==, 0x21);
	g_assert_cmpuint(req[7], ==, 0x42);
	g_assert_cmpmem(req + 8, 12, tid, 12);
	/* A request is not an answer. */
	g_assert_false(cg_doctor_stun_is_answer(req, sizeof(req), tid));

	/* Binding success with a 12-byte XOR-MAPPED-ADDRESS. */
	memcpy(resp, req, 20);
	resp[0] = 0x01;
	resp[1] = 0x01;
	resp[3] = 12;
	memset(resp + 20, 0, 12);
	g_assert_true(cg_doctor_stun_is_answer(resp, sizeof(resp), tid));
	g_assert_false(cg_doctor_stun_is_answer(resp, sizeof(resp), other));
	g_assert_false(cg_doctor_stun_is_answer(resp, 19, tid));
	g_assert_false(cg_doctor_stun_is_answer(resp, 28, tid)); /* body cut short */
	/* Allocate error response (401 from a TURN server): an answer too. */
	cg_doctor_stun_request(req, 0x0003, tid);
	memcpy(resp, req, 20);
	resp[0] = 0x01;
	resp[1] = 0x13;
	resp[3] = 0;
	g_assert_true(cg_doctor_stun_is_answer(resp, 20, tid));
	/* Not STUN: the first two bits set (RTP), or a wrong cookie. */
	resp[0] = 0x81;
	g_assert_false(cg_doctor_stun_is_answer(resp, 20, tid));
	resp[0] = 0x01;
	resp[4] = 0;
	g_assert_false(cg_doctor_stun_is_answer(resp, 20, tid));
}

static void test_ice_server(void)
{
	struct cg_doctor *d = cg_doctor_new();

	cg_doctor_check_ice_server(d, "STUN", "stun.example.net", 3478, "udp", 0);
	assert_last(d, CG_DOCTOR_OK, "STUN stun.example.net:3478 (udp) answers", NULL);
	cg_doctor_check_ice_server(d, "TURN", "turn.example.net", 3478, "udp", -ETIMEDOUT);
	assert_last(d, CG_DOCTOR_FAIL, "no answer", "firewall");
	cg_doctor_check_ice_server(d, "TURN", "nowhere.invalid", 3478, "tcp", -EHOSTUNREACH);
	assert_last(d, CG_DOCTOR_FAIL, "does not resolve", "TURN host");
	cg_doctor_check_ice_server(d, "STUN", "127.0.0.1", 3478, "udp", -ECONNREFUSED);
	assert_last(d, CG_DOCTOR_FAIL, "refused", NULL);
	cg_doctor_free(d);
}

static void test_clock(void)
{
	struct cg_doctor *d = cg_doctor_new();
	time_t floor = 1735689600;

	cg_doctor_check_clock(d, 86400, floor, false); /* a board that booted in 1970 */
	assert_last(d, CG_DOCTOR_FAIL, "1970-01-02", "timedatectl set-ntp true");
	cg_doctor_check_clock(d, floor + DAY, floor, false);
	assert_last(d, CG_DOCTOR_WARN, "not synchronized", "timedatectl");
	cg_doctor_check_clock(d, floor + DAY, floor, true);
	assert_last(d, CG_DOCTOR_OK, "synchronized", NULL);
	cg_doctor_free(d);
}

static void test_report(void)
{
	struct cg_doctor *d = cg_doctor_new();
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	cg_doctor_add(d, CG_DOCTOR_OK, NULL, "all %s", "good");
	cg_doctor_add(d, CG_DOCTOR_FAIL, "do this", "broken");
	cg_doctor_print(d, f);
	fclose(f);
	g_assert_cmpstr(text, ==,
			"OK   all good\nFAIL broken\n     fix: do this\n"
			"2 checks: 1 OK, 0 WARN, 1 FAIL\n");
	free(text);
	cg_doctor_free(d);
}

static void test_welcome(void)
{
	const char *const urls[] = { "https://192.168.1.20:8443/", NULL };
	char **lines = cg_doctor_welcome(urls, "AB:CD", "/var/lib/camgate/token", false);

	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpstr(lines[0], ==, "open https://192.168.1.20:8443/ on the LAN");
	g_assert_nonnull(strstr(lines[1], "SHA-256 fingerprint AB:CD"));
	g_assert_nonnull(strstr(lines[2], "sudo cat /var/lib/camgate/token"));
	g_strfreev(lines);
	lines = cg_doctor_welcome(NULL, NULL, NULL, true);
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	g_assert_nonnull(strstr(lines[0], "no LAN address"));
	g_assert_cmpstr(lines[1], ==, "sign in with the configured password");
	g_strfreev(lines);
}

/* Logged once per state directory: the marker is written the first time. */
static void test_first_run(void)
{
	char *dir = g_dir_make_tmp("doctor-XXXXXX", NULL);
	char *state = g_build_filename(dir, "state", NULL);
	char *marker = g_build_filename(state, "first-run", NULL);
	char *opt = g_strconcat("--state-dir=", state, NULL);
	char *argv[] = { (char *)"camgate", opt, (char *)"--listen=0.0.0.0:8443", NULL };
	struct cg_config *cfg;
	char *error = NULL;

	g_assert_cmpint(cg_config_parse(3, argv, &cfg, &error), ==, 0);
	g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
	g_assert_cmpint(cg_doctor_first_run(cfg, 8443, NULL), ==, 0);
	g_assert_true(g_file_test(marker, G_FILE_TEST_EXISTS));
	g_assert_cmpint(cg_doctor_first_run(cfg, 8443, NULL), ==, 0);
	cg_config_free(cfg);
	g_unlink(marker);
	g_rmdir(state);
	g_rmdir(dir);
	g_free(opt);
	g_free(marker);
	g_free(state);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/doctor/unit-allows", test_unit_allows);
	g_test_add_func("/doctor/device", test_device);
	g_test_add_func("/doctor/v4l2-node", test_v4l2_node);
	g_test_add_func("/doctor/port", test_port);
	g_test_add_func("/doctor/cert", test_cert);
	g_test_add_func("/doctor/addresses", test_addresses);
	g_test_add_func("/doctor/stun", test_stun);
	g_test_add_func("/doctor/ice-server", test_ice_server);
	g_test_add_func("/doctor/clock", test_clock);
	g_test_add_func("/doctor/report", test_report);
	g_test_add_func("/doctor/welcome", test_welcome);
	g_test_add_func("/doctor/first-run", test_first_run);
	return g_test_run();
}
