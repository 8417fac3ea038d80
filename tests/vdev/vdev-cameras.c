/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Several cameras on real kernel drivers (issue 13), inside the qemu guest of
 * tests/vdev/run.sh --cameras: the real camgate daemon streams two vivid instances
 * (n_devs=2) as cameras a and b, with a C WHEP viewer (tests/harness/whep_client.c: ICE,
 * DTLS, SRTP, the H.264 depacketizer) on each camera's /cam/NAME/whep at once. Camera a is
 * unplugged while both stream, and plugged in again; camera b's viewer must receive every
 * frame, whole and in order, all the while, and camera a's viewer must get pictures again
 * (a key frame first).
 *
 * The unplug is vivid's "Disconnect" control on instance 0: its node stops being registered,
 * so camgate's fds answer POLLERR and ENODEV and opening the node fails, as when a USB camera
 * is pulled, while instance 1 goes on. (The instances share one platform device: unbinding
 * it would unplug both.) vivid plugs the instance in again when the last fd of the
 * disconnected node closes. This program holds one open across the outage, so camgate's
 * reopens keep failing until camgate has let go of the node (no fd, no mapping) and camera
 * b has streamed on; closing it is the replug, and camgate's next retry opens the node.
 *
 * The scenario moves on by what happened, not by the clock (a busy machine only makes it
 * slower); --timeout guards against a hang. Prints what it sees and exits 0 when every check
 * passes.
 *
 * vdev-cameras --camgate=PATH --a=/dev/videoN --b=/dev/videoM [--encoder=x264]
 *              [--size=320x180] [--fps=15] [--port=8080] [--timeout=S] [--verbose]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/videodev2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "daemon.h"
#include "http_client.h"
#include "util/macros.h"
#include "util/time.h"
#include "whep_client.h"

#define VCAM_FRAMES	   15 /* complete frames that show a viewer is watching */
#define VCAM_OUTAGE_FRAMES 30 /* camera b's frames while camera a is unplugged, at least */
#define VCAM_POLL_MS	   200

struct vcam {
	const char *camgate, *a_node, *b_path, *encoder, *size;
	int hold_fd; /* on camera a's node across its outage, or -1 */
	unsigned fps, port;
	double timeout;
	bool verbose;
	GMainContext *ctx;
	struct cg_cert *cert;
	struct cg_test_daemon d;
	struct cg_whep_client *va, *vb;
	uint64_t t0;
	int failures;
};

static double vcam_t(const struct vcam *v)
{
	return (double)(cg_mono_usec() - v->t0) / 1e6;
}

static void vcam_check(struct vcam *v, bool ok, const char *what)
{
	printf("vdev-cameras: CHECK %s: %s\n", what, ok ? "PASS" : "FAIL");
	v->failures += !ok;
}

/* Milliseconds left before the hang guard, at least 1 while any is left. */
static unsigned vcam_left_ms(const struct vcam *v)
{
	double left = v->timeout - vcam_t(v);

	return left > 0 ? (unsigned)(left * 1e3) + 1 : 0;
}

static void vcam_print(const char *name, const struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);

	printf("vdev-cameras: viewer %s: %" PRIu64 " frames (%" PRIu64 " key), %" PRIu64
	       " packets, %" PRIu64 " lost, %" PRIu64 " incomplete AUs, %" PRIu64 " bad, %" PRIu64
	       " timestamps not advancing, error %d%s%s\n",
	       name, st->frames, st->keyframes, st->packets, st->packets_lost, st->aus_lost,
	       st->packets_bad, st->ts_backwards, st->error, st->reason ? ": " : "",
	       st->reason ? st->reason : "");
}

/* Every frame the viewer got arrived whole, in order, starting at a key frame. */
static void vcam_check_complete(struct vcam *v, const char *name, const struct cg_whep_client *c)
{
	const struct cg_whep_stats *st = cg_whep_client_stats(c);
	char what[160];

	vcam_print(name, c);
	snprintf(what, sizeof(what),
		 "camera %s's viewer: every frame whole and in order from a key frame, no "
		 "packet lost",
		 name);
	vcam_check(v,
		   st->error == 0 && st->first_is_idr && st->packets_lost == 0 &&
			   st->aus_lost == 0 && st->packets_bad == 0 && st->ts_backwards == 0,
		   what);
}

/* camgate on the port, its output on ours (the serial console), killed with us. */
static pid_t vcam_spawn(const struct vcam *v)
{
	char listen[64], cam_a[256], cam_b[256], enc[64];
	const char *argv[] = { v->camgate,
			       listen,
			       cam_a,
			       cam_b,
			       enc,
			       "--audio=none",
			       "--workers=1",
			       "--bitrate=300",
			       "--tls=off",
			       "--auth=off",
			       "--state-dir=/tmp/camgate-state",
			       v->verbose ? "--log-level=debug" : "--log-level=info",
			       NULL };
	pid_t pid;

	snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%u", v->port);
	snprintf(cam_a, sizeof(cam_a), "--camera=a=%s,size=%s,fps=%u", v->a_node, v->size, v->fps);
	snprintf(cam_b, sizeof(cam_b), "--camera=b=%s,size=%s,fps=%u", v->b_path, v->size, v->fps);
	snprintf(enc, sizeof(enc), "--encoder=%s", v->encoder);
	printf("vdev-cameras: %s %s %s %s %s\n", v->camgate, listen, cam_a, cam_b, enc);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(v->camgate, (char *const *)argv);
		fprintf(stderr, "vdev-cameras: exec %s: %s\n", v->camgate, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Starts camgate and waits (hang guard only) until it answers /status. */
static int vcam_start_daemon(struct vcam *v)
{
	int status = 0;

	v->d = (struct cg_test_daemon){ .ctx = v->ctx, .port = (uint16_t)v->port };
	v->d.pid = vcam_spawn(v);
	if (v->d.pid < 0)
		return -errno;
	while (vcam_left_ms(v)) {
		if (cg_test_daemon_status(&v->d, "viewers") >= 0)
			return 0;
		if (waitpid(v->d.pid, &status, WNOHANG) == v->d.pid) {
			printf("vdev-cameras: camgate exited before it answered: status %d\n",
			       status);
			v->d.pid = 0;
			return -EIO;
		}
		cg_test_loop_wait(v->ctx, VCAM_POLL_MS);
	}
	return -ETIMEDOUT;
}

struct vcam_get {
	bool done;
	char state[32];
	const char *camera;
};

/* /cameras: find `"name":"CAM","viewers":N,"state":"STATE"` of the camera. */
static void vcam_cameras_done(int err, const struct cg_http_response *resp, void *data)
{
	struct vcam_get *g = data;
	char key[64];
	const char *p = NULL, *s;
	size_t n;

	snprintf(key, sizeof(key), "\"name\":\"%s\",", g->camera);
	if (!err && resp && resp->status == 200)
		p = strstr(resp->body, key);
	s = p ? strstr(p, "\"state\":\"") : NULL;
	if (s) {
		s += strlen("\"state\":\"");
		n = strcspn(s, "\"");
		snprintf(g->state, sizeof(g->state), "%.*s", (int)CG_MIN(n, sizeof(g->state) - 1),
			 s);
	}
	g->done = true;
}

static bool vcam_get_done(void *data)
{
	return ((struct vcam_get *)data)->done;
}

/* The camera's media state ("streaming", "failed", ...) as /cameras says, or "". */
static void vcam_camera_state(struct vcam *v, const char *camera, char *buf, size_t size)
{
	struct vcam_get g = { .camera = camera };
	struct cg_http_request *req;
	struct cg_http_request_args args = {
		.host = "127.0.0.1",
		.port = (uint16_t)v->port,
		.method = "GET",
		.path = "/cameras",
		.timeout_ms = 5000,
	};

	buf[0] = '\0';
	if (cg_http_request_start(v->ctx, &args, vcam_cameras_done, &g, &req) < 0)
		return;
	if (!cg_test_loop_until(v->ctx, vcam_get_done, &g, 6000)) {
		cg_http_request_cancel(req);
		return;
	}
	snprintf(buf, size, "%s", g.state);
}

/* How many of camgate's fds and mappings are of node (the unplugged camera's). */
static unsigned vcam_holds(const struct vcam *v, const char *node)
{
	char path[64], target[256], line[512];
	unsigned n = 0;
	struct dirent *e;
	DIR *dir;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)v->d.pid);
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		ssize_t len = readlinkat(dirfd(dir), e->d_name, target, sizeof(target) - 1);

		if (len > 0) {
			target[len] = '\0';
			n += strcmp(target, node) == 0;
		}
	}
	if (dir)
		closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)v->d.pid);
	maps = fopen(path, "re");
	while (maps && fgets(line, sizeof(line), maps)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		if (len >= strlen(node) && strcmp(line + len - strlen(node), node) == 0)
			n++;
	}
	if (maps)
		fclose(maps);
	return n;
}

/*
 * Opens camera a's node, kept in v->hold_fd, and presses vivid's "Disconnect" button on it:
 * the instance is unplugged for every user, and stays so while hold_fd is open.
 */
static int vcam_disconnect(struct vcam *v)
{
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	int r = -ENOENT;

	v->hold_fd = open(v->a_node, O_RDWR | O_CLOEXEC);
	if (v->hold_fd < 0)
		return -errno;
	while (ioctl(v->hold_fd, VIDIOC_QUERYCTRL, &q) == 0) {
		if (q.type == V4L2_CTRL_TYPE_BUTTON && strcmp((char *)q.name, "Disconnect") == 0) {
			struct v4l2_control c = { .id = q.id, .value = 1 };

			r = ioctl(v->hold_fd, VIDIOC_S_CTRL, &c) < 0 ? -errno : 0;
			break;
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return r;
}

/*
 * The kernel's vivid lines and its warnings so far (disconnect, reconnect, a driver's WARN):
 * what the kernel saw. Records are "PRIORITY,SEQ,USEC,FLAGS;TEXT\n" plus properties.
 */
static void vcam_print_kmsg(void)
{
	char rec[1024];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	while (fd >= 0 && ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE))) {
		const char *msg;

		if (n < 0)
			continue; /* overwritten records: go on with the next */
		rec[n] = '\0';
		rec[strcspn(rec, "\n")] = '\0';
		msg = strchr(rec, ';');
		if (msg && (strstr(msg, "vivid") || (atoi(rec) & 7) <= 4))
			printf("vdev-cameras: kernel: %s\n", msg + 1);
	}
	if (fd >= 0)
		close(fd);
}

static bool vcam_wait_frames(struct vcam *v, struct cg_whep_client *c, const char *name, uint64_t n)
{
	bool ok = vcam_left_ms(v) && cg_test_wait_frames(&v->d, c, n, vcam_left_ms(v));

	if (!ok) {
		printf("vdev-cameras: %.1f s: camera %s's viewer did not get %" PRIu64
		       " more frames\n",
		       vcam_t(v), name, n);
		vcam_print(name, c);
	}
	return ok;
}

struct vcam_outage {
	struct vcam *v;
	uint64_t b_frames_until; /* camera b's viewer has this many frames */
	char state[32];		 /* camera a's */
	unsigned holds;		 /* camgate's fds and mappings of camera a's node */
};

/* Camera a has failed and camgate let go of its node; b streamed on meanwhile. */
static bool vcam_released(struct vcam_outage *o)
{
	struct vcam *v = o->v;

	vcam_camera_state(v, "a", o->state, sizeof(o->state));
	o->holds = vcam_holds(v, v->a_node);
	return strcmp(o->state, "failed") == 0 && o->holds == 0 &&
	       cg_whep_client_stats(v->vb)->frames >= o->b_frames_until;
}

/* Polls cond until it holds, or the hang guard; the viewers are served meanwhile. */
static bool vcam_until(struct vcam *v, bool (*cond)(struct vcam_outage *), struct vcam_outage *o)
{
	while (!cond(o)) {
		if (!vcam_left_ms(v) || cg_whep_client_stats(v->vb)->error ||
		    cg_whep_client_stats(v->va)->error)
			return false;
		cg_test_loop_wait(v->ctx, VCAM_POLL_MS);
	}
	return true;
}

static bool vcam_streaming_again(struct vcam_outage *o)
{
	vcam_camera_state(o->v, "a", o->state, sizeof(o->state));
	return strcmp(o->state, "streaming") == 0;
}

/* Camera a unplugged while both stream; b must not notice; a's node let go. */
static bool vcam_unplug(struct vcam *v)
{
	struct vcam_outage o = { .v = v };
	uint64_t b0 = cg_whep_client_stats(v->vb)->frames;
	double t = vcam_t(v);
	int r = vcam_disconnect(v);
	bool ok;

	printf("vdev-cameras: %.1f s: unplug camera a (vivid Disconnect on %s): %s\n", t, v->a_node,
	       r < 0 ? strerror(-r) : "ok");
	vcam_check(v, r == 0, "camera a unplugged (vivid's Disconnect control)");
	if (r < 0)
		return false;
	o.b_frames_until = b0 + VCAM_OUTAGE_FRAMES;
	ok = vcam_until(v, vcam_released, &o);
	printf("vdev-cameras: %.1f s: camera a is %s, camgate holds %u fds/mappings of %s; "
	       "camera b's viewer got %" PRIu64 " frames since the unplug\n",
	       vcam_t(v), o.state[0] ? o.state : "(no answer)", o.holds, v->a_node,
	       cg_whep_client_stats(v->vb)->frames - b0);
	vcam_check(v, ok,
		   "camgate let go of the unplugged node, camera a failed, camera b "
		   "streamed on");
	vcam_print("b", v->vb);
	return ok;
}

/*
 * The last fd of the disconnected node closes: vivid plugs the instance in again (camgate let
 * go of it before), camgate's retry opens it, and a's viewer gets a key frame and frames.
 */
static void vcam_replug(struct vcam *v, uint64_t a_keys)
{
	struct vcam_outage o = { .v = v };
	uint64_t a0 = cg_whep_client_stats(v->va)->frames;
	uint64_t b0 = cg_whep_client_stats(v->vb)->frames;
	int r = close(v->hold_fd) < 0 ? -errno : 0;
	bool ok;

	v->hold_fd = -1;
	printf("vdev-cameras: %.1f s: replug camera a (the last fd of %s closed): %s\n", vcam_t(v),
	       v->a_node, r < 0 ? strerror(-r) : "ok");
	ok = vcam_wait_frames(v, v->va, "a", VCAM_FRAMES);
	printf("vdev-cameras: %.1f s: camera a's viewer: %" PRIu64 " frames since the replug, "
	       "%" PRIu64 " key frames since the unplug\n",
	       vcam_t(v), cg_whep_client_stats(v->va)->frames - a0,
	       cg_whep_client_stats(v->va)->keyframes - a_keys);
	vcam_check(v, ok && cg_whep_client_stats(v->va)->keyframes > a_keys,
		   "camera a's viewer gets a key frame and frames again");
	ok = vcam_until(v, vcam_streaming_again, &o);
	vcam_check(v, ok, "camera a is streaming again (/cameras)");
	ok = vcam_wait_frames(v, v->vb, "b", VCAM_FRAMES);
	printf("vdev-cameras: %.1f s: camera b's viewer: %" PRIu64 " frames since the replug\n",
	       vcam_t(v), cg_whep_client_stats(v->vb)->frames - b0);
	vcam_check(v, ok, "camera b streams on after camera a is back");
}

static void vcam_scenario(struct vcam *v)
{
	struct cg_whep_client_cfg ca = { .path = "/cam/a/whep" }, cb = { .path = "/cam/b/whep" };
	uint64_t a_keys;
	bool ok;

	v->va = cg_test_viewer_start(&v->d, v->cert, &ca);
	v->vb = cg_test_viewer_start(&v->d, v->cert, &cb);
	vcam_check(v, v->va && v->vb, "two WHEP viewers started");
	if (!v->va || !v->vb)
		return;
	ok = vcam_wait_frames(v, v->va, "a", VCAM_FRAMES) &&
	     vcam_wait_frames(v, v->vb, "b", VCAM_FRAMES);
	printf("vdev-cameras: %.1f s: both viewers watching (first frame a %.1f s, b %.1f s "
	       "after their offers)\n",
	       vcam_t(v), (double)cg_whep_client_stats(v->va)->t_first_frame / 1e6,
	       (double)cg_whep_client_stats(v->vb)->t_first_frame / 1e6);
	vcam_check(v, ok, "both cameras stream to their viewers at once");
	vcam_check(v,
		   ok && cg_whep_client_stats(v->va)->remote_ssrc !=
				   cg_whep_client_stats(v->vb)->remote_ssrc,
		   "each viewer gets its own camera's stream");
	if (!ok)
		return;
	a_keys = cg_whep_client_stats(v->va)->keyframes;
	if (vcam_unplug(v))
		vcam_replug(v, a_keys);
	vcam_check_complete(v, "a", v->va);
	vcam_check_complete(v, "b", v->vb);
}

static int vcam_run(struct vcam *v)
{
	int r, status;

	v->ctx = g_main_context_default();
	v->t0 = cg_mono_usec();
	r = cg_cert_new(&v->cert);
	if (r == 0)
		r = vcam_start_daemon(v);
	printf("vdev-cameras: %.1f s: camgate %s\n", vcam_t(v),
	       r < 0 ? strerror(-r) : "answers /status");
	vcam_check(v, r == 0, "camgate starts with two V4L2 cameras");
	if (r == 0)
		vcam_scenario(v);
	if (v->hold_fd >= 0)
		close(v->hold_fd);
	vcam_print_kmsg();
	v->va = cg_whep_client_free(v->va);
	v->vb = cg_whep_client_free(v->vb);
	if (v->d.pid > 0) {
		status = cg_test_daemon_stop(&v->d);
		printf("vdev-cameras: %.1f s: camgate stopped: status %d\n", vcam_t(v), status);
		vcam_check(v, status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			   "camgate exits cleanly on SIGTERM");
	}
	v->cert = cg_cert_free(v->cert);
	printf("vdev-cameras: %d check(s) failed\n", v->failures);
	return v->failures ? 1 : 0;
}

static int vcam_parse(struct vcam *v, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "camgate", 1, 0, 'g' }, { "a", 1, 0, 'a' },
		{ "b", 1, 0, 'b' },	  { "encoder", 1, 0, 'e' },
		{ "size", 1, 0, 'z' },	  { "fps", 1, 0, 'r' },
		{ "port", 1, 0, 'p' },	  { "timeout", 1, 0, 'T' },
		{ "verbose", 0, 0, 'v' }, { 0 },
	};
	const char **str[128] = { ['g'] = &v->camgate,
				  ['a'] = &v->a_node,
				  ['b'] = &v->b_path,
				  ['e'] = &v->encoder,
				  ['z'] = &v->size };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c > 0 && c < 128 && str[c])
			*str[c] = optarg;
		else if (c == 'r')
			v->fps = (unsigned)atoi(optarg);
		else if (c == 'p')
			v->port = (unsigned)atoi(optarg);
		else if (c == 'T')
			v->timeout = atof(optarg);
		else if (c == 'v')
			v->verbose = true;
		else
			return -EINVAL;
	}
	return v->camgate && v->a_node && v->b_path ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct vcam v = {
		.encoder = "x264",
		.size = "320x180",
		.fps = 15,
		.port = 8080,
		.timeout = 300,
		.hold_fd = -1,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vcam_parse(&v, argc, argv) < 0) {
		fprintf(stderr, "usage: see tests/vdev/vdev-cameras.c\n");
		return 2;
	}
	return vcam_run(&v);
}
