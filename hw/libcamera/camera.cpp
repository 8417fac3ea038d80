/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The libcamera capture backend: the only C++ in camgate (see camera.h). One source file for
 * Debian 12's libcamera 0.0.3 and for the 0.3+ that Raspberry Pi OS ships; where the API
 * moved, LC_AT_LEAST() picks the form.
 */
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libcamera/camera.h>
#include <libcamera/camera_manager.h>
#include <libcamera/control_ids.h>
#include <libcamera/formats.h>
#include <libcamera/framebuffer_allocator.h>
#include <libcamera/logging.h>
#include <libcamera/property_ids.h>
#include <libcamera/request.h>
#include <libcamera/stream.h>
#include <libcamera/version.h>

#define CG_LOG_TOPIC "libcamera"

extern "C" {
#include "hw/libcamera/camera.h"
#include "hw/libcamera/controls.h"
#include "hw/libcamera/mode.h"
#include "hw/libcamera/nodes.h"
#include "util/log.h"
#include "util/refcount.h"
#include "util/time.h"
}

#define LC_AT_LEAST(maj, min)                                                                      \
	(LIBCAMERA_VERSION_MAJOR > (maj) ||                                                        \
	 (LIBCAMERA_VERSION_MAJOR == (maj) && LIBCAMERA_VERSION_MINOR >= (min)))

#if LC_AT_LEAST(0, 2)
#include <libcamera/orientation.h>
#endif

using namespace libcamera;

#define LC_MAX_BUFFERS 8
#define LC_MAX_MODES   16
/* No frame for this long after the start (the IPA's first frames), or after the last one. */
#define LC_STALL_FIRST_MS 10000
#define LC_STALL_MIN_MS	  3000

/* ---- the process's camera manager ---- */

static std::mutex lc_lock;
static std::unique_ptr<CameraManager> lc_manager;
static unsigned lc_users;
static struct cg_lc_controls lc_controls = { 0, 0,     0,    0, 0, 0, 0, false, CG_LC_AF_CONTINUOUS,
					     0, false, false };

/*
 * libcamera logs to stderr by default; in camgate its lines go to camgate's log, at debug:
 * what matters (a camera gone, busy, failing) camgate says itself, once. Its log target
 * is per process and its lines come from its threads: each thread gathers its own line.
 */
static thread_local std::string lc_log_line;

static void lc_log_char(char c)
{
	if (c != '\n') {
		lc_log_line += c;
		return;
	}
	cg_debug("%s", lc_log_line.c_str());
	lc_log_line.clear();
}

class lc_log_buf : public std::streambuf
{
      protected:
	int overflow(int c) override
	{
		if (c != EOF)
			lc_log_char((char)c);
		return c == EOF ? 0 : c;
	}
	std::streamsize xsputn(const char *s, std::streamsize n) override
	{
		for (std::streamsize i = 0; i < n; i++)
			lc_log_char(s[i]);
		return n;
	}
};

/* The stream libcamera logs to: never freed (libcamera may log until the process ends),
 * and kept reachable from here so that LeakSanitizer does not report it. */
static lc_log_buf *lc_log_sink;
static std::ostream *lc_log_stream;

/* Once, before the first camera manager; LIBCAMERA_LOG_FILE still wins, for debugging. */
static void lc_route_logs(void)
{
	if (lc_log_stream || getenv("LIBCAMERA_LOG_FILE"))
		return;
	lc_log_sink = new lc_log_buf();
	lc_log_stream = new std::ostream(lc_log_sink);
	logSetStream(lc_log_stream, false);
}

/* Takes a reference on the manager, starting it for the first user. */
static CameraManager *lc_manager_get(int *err)
{
	std::lock_guard<std::mutex> guard(lc_lock);

	if (!lc_manager) {
		lc_route_logs();
		auto cm = std::make_unique<CameraManager>();
		int r = cm->start();

		if (r < 0) {
			*err = r;
			return nullptr;
		}
		lc_manager = std::move(cm);
	}
	lc_users++;
	return lc_manager.get();
}

/* Drops a reference; the last one stops the manager (every Camera must be gone by then). */
static void lc_manager_put(void)
{
	std::unique_ptr<CameraManager> old;
	std::lock_guard<std::mutex> guard(lc_lock);

	if (--lc_users == 0)
		old = std::move(lc_manager);
	if (old)
		old->stop();
}

/* ---- names and formats ---- */

bool cg_libcamera_is_source(const char *source)
{
	size_t n = strlen(CG_LIBCAMERA_PREFIX);

	return source && strncmp(source, CG_LIBCAMERA_PREFIX, n) == 0 &&
	       (source[n] == '\0' || source[n] == ':');
}

/* The camera a source names: ID, an index, or (no ID) the first auto would take. */
static std::shared_ptr<Camera> lc_find(CameraManager *cm, const char *source)
{
	const char *id = source + strlen(CG_LIBCAMERA_PREFIX);
	std::vector<std::shared_ptr<Camera>> cams = cm->cameras();
	char *end;

	if (*id == ':')
		id++;
	if (!*id) {
		for (auto &c : cams)
			if (!cg_lc_id_is_usb(c->id().c_str()))
				return c;
		return cams.empty() ? nullptr : cams[0];
	}
	unsigned long i = strtoul(id, &end, 10);
	if (!*end && end != id)
		return i < cams.size() ? cams[i] : nullptr;
	return cm->get(id);
}

/* V4L2 fourccs (cg_frame's) and libcamera's DRM-style formats, with the planes' layout. */
static const struct lc_format {
	uint32_t fourcc;
	PixelFormat pf;
	unsigned n_planes;
	unsigned chroma_div; /* chroma plane size: luma / chroma_div (per plane) */
} lc_formats[] = {
	{ CG_FOURCC_NV12, formats::NV12, 2, 2 },
	{ CG_FOURCC_I420, formats::YUV420, 3, 4 },
	{ CG_FOURCC_YUYV, formats::YUYV, 1, 1 },
	/* libcamera's BGR888 is R, G, B in memory: V4L2's RGB24, and the other way round. */
	{ CG_FOURCC('R', 'G', 'B', '3'), formats::BGR888, 1, 1 },
	{ CG_FOURCC('B', 'G', 'R', '3'), formats::RGB888, 1, 1 },
	{ CG_FOURCC_MJPG, formats::MJPEG, 1, 1 },
};

/* Raw formats are handed on only as camgate takes them; RGB goes to encoders that take it. */
static const uint32_t lc_default_formats[] = {
	CG_FOURCC_NV12,
	CG_FOURCC_I420,
	CG_FOURCC_YUYV,
	CG_FOURCC('R', 'G', 'B', '3'),
	CG_FOURCC('B', 'G', 'R', '3'),
	0,
};

static const struct lc_format *lc_format_of(uint32_t fourcc)
{
	for (const auto &f : lc_formats)
		if (f.fourcc == fourcc)
			return &f;
	return nullptr;
}

static const struct lc_format *lc_format_of(const PixelFormat &pf)
{
	for (const auto &f : lc_formats)
		if (f.pf == pf)
			return &f;
	return nullptr;
}

/* Bits per sample of a raw (Bayer or mono) format: "SRGGB10_CSI2P" is 10. */
static uint32_t lc_raw_depth(const PixelFormat &pf)
{
	std::string s = pf.toString();
	size_t i = s.find_first_of("0123456789");

	return i == std::string::npos ? 0 : (uint32_t)strtoul(s.c_str() + i, nullptr, 10);
}

/* ---- sensor modes ---- */

static std::unique_ptr<CameraConfiguration> lc_generate(Camera *cam, StreamRole role)
{
	std::vector<StreamRole> roles{ role };

	return cam->generateConfiguration(roles);
}

/*
 * The sensor's modes, from the raw stream's sizes, each with its fastest rate (the frame
 * duration limit libcamera gives once configured in it). Only for cameras that can add a
 * raw stream next to the picture (an ISP behind the sensor, as on a Pi); the camera must
 * be acquired and stopped. Returns how many, 0 when there is no choice to make.
 */
static size_t lc_list_modes(Camera *cam, struct cg_lc_mode *modes, size_t max,
			    std::vector<PixelFormat> *pfs)
{
	size_t n = 0;

	if (cam->streams().size() < 2)
		return 0;
	auto raw = lc_generate(cam, StreamRole::Raw);
	if (!raw || raw->empty())
		return 0;
	const StreamFormats &sf = raw->at(0).formats();
	for (const PixelFormat &pf : sf.pixelformats()) {
		for (const Size &sz : sf.sizes(pf)) {
			bool dup = false;

			for (size_t i = 0; i < n; i++)
				dup |= modes[i].width == sz.width && modes[i].height == sz.height &&
				       modes[i].bit_depth == lc_raw_depth(pf);
			if (dup || n == max)
				continue;
			modes[n] = { sz.width, sz.height, lc_raw_depth(pf), 0 };
			if (pfs)
				pfs->push_back(pf);
			raw->at(0).pixelFormat = pf;
			raw->at(0).size = sz;
			if (raw->validate() != CameraConfiguration::Invalid &&
			    cam->configure(raw.get()) == 0) {
				auto it = cam->controls().find(&controls::FrameDurationLimits);

				if (it != cam->controls().end() &&
				    it->second.min().get<int64_t>() > 0)
					modes[n].max_fps_x100 =
						(uint32_t)(100000000LL /
							   it->second.min().get<int64_t>());
			}
			n++;
		}
	}
	return n;
}

/* ---- the capture ---- */

struct lc_buf {
	struct cg_frame frame;
	struct cg_capture *cap;
	Request *req;
	int fd;	   /* our dup of the buffer's DMA-BUF, -1 when its planes are apart */
	void *map; /* read-only mapping of the whole buffer */
	size_t map_len;
	bool queued; /* with libcamera; media thread only */
	bool held;   /* handed out as a frame and not yet released; media thread only */
};

struct cg_capture {
	/* One ref for the owner plus one per frame out, so late releases find us alive. */
	struct cg_refcount ref;
	std::shared_ptr<Camera> cam;
	std::unique_ptr<CameraConfiguration> config;
	std::unique_ptr<FrameBufferAllocator> alloc;
	std::vector<std::unique_ptr<Request>> requests;
	Stream *stream = nullptr;
	bool acquired = false, started = false, manager = false;
	bool dead = false; /* stopped delivering without a disconnect: libcamera cannot stop it */
	int epoll_fd = -1, event_fd = -1, stall_fd = -1;
	unsigned n_bufs = 0;
	struct lc_buf bufs[LC_MAX_BUFFERS];
	const struct lc_format *layout = nullptr;
	struct cg_capture_format fmt;
	struct cg_lc_controls ctrls;
	uint32_t frame_ms = 33;
	std::string id;

	/* Shared with libcamera's thread, under lock. */
	std::mutex lock;
	std::vector<Request *> done; /* completed, oldest first */
	bool disconnected = false;
	bool stopping = false;
	/* Any thread: bit i set when buffer i's frame was released. */
	uint32_t released = 0;

	void on_complete(Request *req);
	void on_disconnect();
};

static void lc_wake(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));

	(void)n;
}

/* libcamera's thread: hands the request to the media thread. */
void cg_capture::on_complete(Request *req)
{
	{
		std::lock_guard<std::mutex> guard(lock);

		if (stopping)
			return; /* stop() takes every request back itself */
		done.push_back(req);
	}
	lc_wake(event_fd);
}

/* libcamera's thread (with udev's hotplug events): the camera is gone. */
void cg_capture::on_disconnect()
{
	{
		std::lock_guard<std::mutex> guard(lock);

		disconnected = true;
	}
	lc_wake(event_fd);
}

static void lc_free(struct cg_capture *cap)
{
	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (cap->bufs[i].map)
			munmap(cap->bufs[i].map, cap->bufs[i].map_len);
		if (cap->bufs[i].fd >= 0)
			close(cap->bufs[i].fd);
	}
	for (int fd : { cap->epoll_fd, cap->event_fd, cap->stall_fd })
		if (fd >= 0)
			close(fd);
	delete cap;
}

static void lc_unref(struct cg_capture *cap)
{
	if (cg_refcount_dec(&cap->ref))
		lc_free(cap);
}

/* Release callback: any thread. The request is queued again on the media thread. */
static void lc_release(struct cg_frame * /* frame */, void *userdata)
{
	struct lc_buf *buf = (struct lc_buf *)userdata;
	struct cg_capture *cap = buf->cap;

	__atomic_fetch_or(&cap->released, 1u << (buf - cap->bufs), __ATOMIC_RELEASE);
	lc_wake(cap->event_fd);
	lc_unref(cap);
}

/*
 * A camera whose device vanished while libcamera had no hotplug event to say so (no udevd):
 * its pipeline handler still thinks it runs, and libcamera 0.0.3's Camera::stop() then
 * aborts the process (its queued requests never complete). Such a camera is left as it is,
 * with everything that hangs on it, never touched again: a new camera manager (made when
 * the last user of this one goes) finds the device anew. A small leak per lost device
 * beats an abort; with udevd, libcamera's disconnect path is taken instead.
 */
struct lc_grave {
	std::shared_ptr<Camera> cam;
	std::unique_ptr<FrameBufferAllocator> alloc;
	std::vector<std::unique_ptr<Request>> requests;
	std::unique_ptr<CameraConfiguration> config;
};

/* Every buried camera, kept reachable from here for the process's life: nothing frees
 * them, and LeakSanitizer must not report what is kept on purpose (the vdev ASan build). */
static std::mutex lc_graves_lock;
static std::vector<struct lc_grave *> *lc_graves;

static void lc_bury(struct cg_capture *cap)
{
	struct lc_grave *g = new lc_grave();

	g->cam = std::move(cap->cam);
	g->alloc = std::move(cap->alloc);
	g->requests = std::move(cap->requests);
	g->config = std::move(cap->config);
	cap->started = cap->acquired = false;
	std::lock_guard<std::mutex> guard(lc_graves_lock);
	if (!lc_graves)
		lc_graves = new std::vector<struct lc_grave *>();
	lc_graves->push_back(g); /* never freed, see above */
}

/*
 * The libcamera side, in the order it must go: stopped, requests and buffers freed, the
 * camera released and dropped, then the manager. Our fds and mappings stay for frames out.
 */
static void lc_teardown(struct cg_capture *cap)
{
	if (cap->cam) {
		cap->cam->requestCompleted.disconnect(cap, &cg_capture::on_complete);
		cap->cam->disconnected.disconnect(cap, &cg_capture::on_disconnect);
	}
	if (cap->started && cap->dead)
		lc_bury(cap);
	if (cap->started) {
		{
			std::lock_guard<std::mutex> guard(cap->lock);

			cap->stopping = true;
		}
		cap->cam->stop();
		cap->started = false;
	}
	cap->requests.clear();
	cap->alloc.reset();
	cap->config.reset();
	if (cap->acquired)
		cap->cam->release();
	cap->acquired = false;
	cap->cam.reset();
	if (cap->manager)
		lc_manager_put();
	cap->manager = false;
}

/*
 * The Camera Module 3's HDR is a mode of its sensor (imx708), switched on its subdevice
 * before libcamera lists the sensor's modes: libcamera 0.0.3 has no control for it.
 */
static bool lc_sensor_hdr(bool on)
{
	DIR *d = opendir("/sys/class/video4linux");
	struct dirent *e;
	bool done = false;

	while (d && (e = readdir(d))) {
		char path[300], name[64] = "";
		int fd;

		if (strncmp(e->d_name, "v4l-subdev", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/name", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n <= 0 || !strstr(name, "imx708"))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct v4l2_control c = {};
		c.id = V4L2_CID_WIDE_DYNAMIC_RANGE;
		c.value = on;
		done |= ioctl(fd, VIDIOC_S_CTRL, &c) == 0;
		close(fd);
	}
	if (d)
		closedir(d);
	return done;
}

/* The pixel format: the first of the wanted ones the stream offers. */
static const struct lc_format *lc_pick_format(const StreamConfiguration &sc, const uint32_t *wanted)
{
	std::vector<PixelFormat> offered = sc.formats().pixelformats();

	for (const uint32_t *w = wanted ? wanted : lc_default_formats; *w; w++) {
		const struct lc_format *f = lc_format_of(*w);

		if (f && std::find(offered.begin(), offered.end(), f->pf) != offered.end())
			return f;
	}
	return nullptr;
}

/* Rotation and flips, as the camera configuration of this libcamera version says them. */
static void lc_set_orientation(CameraConfiguration *config, const struct cg_lc_controls *c)
{
	bool rot = c->rotation == 180;
	bool h = c->hflip != rot, v = c->vflip != rot; /* 180 degrees is both flips */

#if LC_AT_LEAST(0, 2)
	config->orientation = h && v ? Orientation::Rotate180
			      : h    ? Orientation::Rotate0Mirror
			      : v    ? Orientation::Rotate180Mirror
				     : Orientation::Rotate0;
#else
	config->transform = (h ? Transform::HFlip : Transform::Identity) |
			    (v ? Transform::VFlip : Transform::Identity);
#endif
}

/*
 * The stream for the picture, and on cameras with an ISP the sensor mode under it: a raw
 * stream of the chosen mode's size, which is how a configuration names its sensor mode
 * (0.2 and later also have sensorConfig; the raw stream works with both).
 */
static int lc_configure(struct cg_capture *cap, const struct cg_capture_cfg *cfg)
{
	uint32_t w = cfg->width ? cfg->width : 1280, h = cfg->height ? cfg->height : 720;
	uint32_t fps = cfg->fps ? cfg->fps : 30;
	struct cg_lc_mode modes[LC_MAX_MODES];
	std::vector<PixelFormat> mode_pfs;
	size_t n_modes = lc_list_modes(cap->cam.get(), modes, LC_MAX_MODES, &mode_pfs);
	int mode = cg_lc_mode_pick(modes, n_modes, w, h, fps);

	cap->config = lc_generate(cap->cam.get(), StreamRole::VideoRecording);
	if (!cap->config || cap->config->empty())
		return -ENOTSUP;
	StreamConfiguration &sc = cap->config->at(0);
	cap->layout = lc_pick_format(sc, cfg->formats);
	if (!cap->layout)
		return -ENOTSUP;
	sc.pixelFormat = cap->layout->pf;
	sc.size = Size(w, h);
	sc.bufferCount = std::min(std::max(sc.bufferCount, 3u), (unsigned)LC_MAX_BUFFERS);
	if (mode >= 0) {
		StreamConfiguration raw;

		raw.pixelFormat = mode_pfs[(size_t)mode];
		raw.size = Size(modes[mode].width, modes[mode].height);
		raw.bufferCount = sc.bufferCount;
		cap->config->addConfiguration(raw);
		cg_debug("%s: sensor mode %ux%u %u-bit (up to %u.%02u fps) for %ux%u@%u",
			 cap->id.c_str(), modes[mode].width, modes[mode].height,
			 modes[mode].bit_depth, modes[mode].max_fps_x100 / 100,
			 modes[mode].max_fps_x100 % 100, w, h, fps);
	}
	lc_set_orientation(cap->config.get(), &cap->ctrls);
	if (cap->config->validate() == CameraConfiguration::Invalid)
		return -ENOTSUP;
	/* Validation may move the size (alignment) but must keep a format we can take. */
	if (cap->config->at(0).pixelFormat != cap->layout->pf)
		return -ENOTSUP;
	int r = cap->cam->configure(cap->config.get());
	if (r < 0)
		return r;
	cap->stream = cap->config->at(0).stream();
	cap->fmt.fourcc = cap->layout->fourcc;
	cap->fmt.width = cap->config->at(0).size.width;
	cap->fmt.height = cap->config->at(0).size.height;
	cap->fmt.stride = cap->layout->fourcc == CG_FOURCC_MJPG ? 0 : cap->config->at(0).stride;
	cap->fmt.size = cap->config->at(0).frameSize;
	cap->fmt.fps = fps;
	cap->frame_ms = 1000 / fps;
	return 0;
}

/* Where plane p of a buffer lies, when libcamera gave fewer planes than the format has. */
static uint32_t lc_plane_offset(const struct cg_capture *cap, unsigned p)
{
	uint64_t luma = (uint64_t)cap->fmt.stride * cap->fmt.height;

	return p == 0 ? 0 : (uint32_t)(luma + (p - 1) * (luma / cap->layout->chroma_div));
}

/*
 * One buffer as a frame: a dup of its DMA-BUF (valid for as long as the frame, whatever
 * libcamera does with its own) and a read-only mapping for encoders that read pixels.
 * Planes in separate DMA-BUFs do not fit a cg_frame's one buffer: such frames go CPU-only.
 */
static int lc_buf_init(struct cg_capture *cap, unsigned i, FrameBuffer *fb)
{
	struct lc_buf *buf = &cap->bufs[i];
	const std::vector<FrameBuffer::Plane> &pl = fb->planes();
	struct cg_frame *f = &buf->frame;
	struct stat st0, st;
	size_t len = 0;

	buf->cap = cap;
	if (pl.empty() || fstat(pl[0].fd.get(), &st0) < 0)
		return -EINVAL;
	bool one = true;
	for (const auto &p : pl) {
		one &= fstat(p.fd.get(), &st) == 0 && st.st_ino == st0.st_ino &&
		       st.st_dev == st0.st_dev;
		len = std::max(len, (size_t)p.offset + p.length);
	}
	if (!one)
		return -ENOTSUP;
	buf->fd = fcntl(pl[0].fd.get(), F_DUPFD_CLOEXEC, 3);
	if (buf->fd < 0)
		return -errno;
	buf->map = mmap(nullptr, len, PROT_READ, MAP_SHARED, buf->fd, 0);
	if (buf->map == MAP_FAILED) {
		buf->map = nullptr;
		return -errno;
	}
	buf->map_len = len;
	f->fourcc = cap->fmt.fourcc;
	f->width = cap->fmt.width;
	f->height = cap->fmt.height;
	f->n_planes = cap->layout->n_planes;
	f->buf_size = (uint32_t)len;
	for (unsigned p = 0; p < f->n_planes; p++) {
		uint32_t off = p < pl.size() ? pl[p].offset : lc_plane_offset(cap, p);
		uint32_t stride = p == 0 || cap->layout->fourcc != CG_FOURCC_I420
					  ? cap->fmt.stride
					  : cap->fmt.stride / 2;

		f->planes[p].dma_fd = buf->fd;
		f->planes[p].offset = off;
		f->planes[p].stride = stride;
		f->planes[p].data = (uint8_t *)buf->map + off;
	}
	f->release = lc_release;
	f->release_userdata = buf;
	return 0;
}

static int lc_alloc(struct cg_capture *cap)
{
	cap->alloc = std::make_unique<FrameBufferAllocator>(cap->cam);
	int r = cap->alloc->allocate(cap->stream);

	if (r < 0)
		return r;
	const auto &fbs = cap->alloc->buffers(cap->stream);
	if (fbs.size() < 2)
		return -ENOMEM;
	cap->n_bufs = (unsigned)std::min(fbs.size(), (size_t)LC_MAX_BUFFERS);
	for (unsigned i = 0; i < cap->n_bufs; i++) {
		std::unique_ptr<Request> req = cap->cam->createRequest(i);

		if (!req)
			return -ENOMEM;
		r = req->addBuffer(cap->stream, fbs[i].get());
		if (r == 0)
			r = lc_buf_init(cap, i, fbs[i].get());
		if (r < 0)
			return r;
		cap->bufs[i].req = req.get();
		cap->requests.push_back(std::move(req));
	}
	return 0;
}

static int lc_fds(struct cg_capture *cap)
{
	struct epoll_event ev = {};

	cap->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	cap->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cap->stall_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (cap->epoll_fd < 0 || cap->event_fd < 0 || cap->stall_fd < 0)
		return -errno;
	ev.events = EPOLLIN;
	for (int fd : { cap->event_fd, cap->stall_fd }) {
		ev.data.fd = fd;
		if (epoll_ctl(cap->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

/* camgate's error for a libcamera one: a camera in use elsewhere is busy, a gone one ENODEV. */
static int lc_errno(int r)
{
	return r == -ENOENT || r == -ENXIO ? -ENODEV : r;
}

static int lc_open_camera(struct cg_capture *cap, const struct cg_capture_cfg *cfg)
{
	int r = 0;

	if (cap->ctrls.set & CG_LC_CTRL_HDR)
		lc_sensor_hdr(cap->ctrls.hdr);
	CameraManager *cm = lc_manager_get(&r);
	if (!cm)
		return r;
	cap->manager = true;
	cap->cam = lc_find(cm, cfg->device);
	if (!cap->cam)
		return -ENODEV;
	cap->id = cap->cam->id();
	r = cap->cam->acquire();
	if (r == -EBUSY)
		cg_debug("%s: in use by another process (or another camera of this one)",
			 cap->id.c_str());
	if (r < 0)
		return r;
	cap->acquired = true;
	cap->cam->requestCompleted.connect(cap, &cg_capture::on_complete);
	cap->cam->disconnected.connect(cap, &cg_capture::on_disconnect);
	const ControlList &props = cap->cam->properties();
	auto model = props.get(properties::Model);
	snprintf(cap->fmt.card, sizeof(cap->fmt.card), "%s",
		 model ? model->c_str() : cap->id.c_str());
	r = lc_configure(cap, cfg);
	if (r == 0)
		r = lc_alloc(cap);
	return r;
}

static int lc_open(const struct cg_capture_cfg *cfg, struct cg_capture **ret)
{
	struct cg_capture *cap;
	int r;

	if (!cfg || !ret || !cg_libcamera_is_source(cfg->device))
		return -EINVAL;
	cap = new cg_capture();
	cg_refcount_init(&cap->ref);
	memset(cap->bufs, 0, sizeof(cap->bufs));
	for (auto &b : cap->bufs)
		b.fd = -1;
	memset(&cap->fmt, 0, sizeof(cap->fmt));
	{
		std::lock_guard<std::mutex> guard(lc_lock);

		cap->ctrls = lc_controls;
	}
	r = lc_fds(cap);
	if (r == 0)
		r = lc_open_camera(cap, cfg);
	if (r < 0) {
		cg_debug("%s: %s", cfg->device, strerror(-r));
		lc_teardown(cap);
		lc_unref(cap);
		return lc_errno(r);
	}
	char fcc[5] = { (char)cap->fmt.fourcc, (char)(cap->fmt.fourcc >> 8),
			(char)(cap->fmt.fourcc >> 16), (char)(cap->fmt.fourcc >> 24), 0 };
	cg_debug("%s (%s): %s %ux%u@%u, stride %u, %u buffers, %s", cap->id.c_str(), cap->fmt.card,
		 fcc, cap->fmt.width, cap->fmt.height, cap->fmt.fps, cap->fmt.stride, cap->n_bufs,
		 cap->bufs[0].fd >= 0 ? "DMA-BUF" : "CPU-only");
	*ret = cap;
	return 0;
}

static int lc_fd(struct cg_capture *cap)
{
	return cap->epoll_fd;
}

static bool lc_has(const struct cg_capture *cap, const ControlId *id)
{
	const ControlInfoMap &m = cap->cam->controls();

	return m.find(id) != m.end();
}

/* What is set at start: the rate, autofocus, and --camera-control's settings. */
static void lc_start_controls(struct cg_capture *cap, ControlList *cl)
{
	const struct cg_lc_controls *c = &cap->ctrls;
	int64_t us = 1000000 / (cap->fmt.fps ? cap->fmt.fps : 30);

	std::array<int64_t, 2> limits{ us, us };

	if (lc_has(cap, &controls::FrameDurationLimits))
		cl->set(controls::FrameDurationLimits, Span<const int64_t, 2>(limits));
	if (lc_has(cap, &controls::AfMode))
		cl->set(controls::AfMode, c->af_mode);
	if ((c->set & CG_LC_CTRL_BRIGHTNESS) && lc_has(cap, &controls::Brightness))
		cl->set(controls::Brightness, c->brightness);
	if ((c->set & CG_LC_CTRL_CONTRAST) && lc_has(cap, &controls::Contrast))
		cl->set(controls::Contrast, c->contrast);
	if ((c->set & CG_LC_CTRL_SATURATION) && lc_has(cap, &controls::Saturation))
		cl->set(controls::Saturation, c->saturation);
	if ((c->set & CG_LC_CTRL_SHARPNESS) && lc_has(cap, &controls::Sharpness))
		cl->set(controls::Sharpness, c->sharpness);
	if ((c->set & CG_LC_CTRL_EV) && lc_has(cap, &controls::ExposureValue))
		cl->set(controls::ExposureValue, c->exposure_value);
	if ((c->set & CG_LC_CTRL_METERING) && lc_has(cap, &controls::AeMeteringMode))
		cl->set(controls::AeMeteringMode, c->metering);
#if LC_AT_LEAST(0, 2)
	/* Cameras without a sensor HDR mode: the ISP's own, where the pipeline has one. */
	if ((c->set & CG_LC_CTRL_HDR) && c->hdr && lc_has(cap, &controls::HdrMode))
		cl->set(controls::HdrMode, (int32_t)controls::HdrModeSingleExposure);
#endif
}

static void lc_arm_stall(struct cg_capture *cap, uint32_t ms)
{
	struct itimerspec its = {};

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timerfd_settime(cap->stall_fd, 0, &its, nullptr);
}

static int lc_queue(struct cg_capture *cap, struct lc_buf *buf)
{
	buf->req->reuse(Request::ReuseBuffers);
	int r = cap->cam->queueRequest(buf->req);

	if (r < 0)
		return lc_errno(r);
	buf->queued = true;
	return 0;
}

static int lc_start(struct cg_capture *cap)
{
	ControlList cl(cap->cam->controls());
	int r;

	if (cap->started)
		return 0;
	lc_start_controls(cap, &cl);
	{
		std::lock_guard<std::mutex> guard(cap->lock);

		cap->stopping = false;
		cap->done.clear();
	}
	r = cap->cam->start(&cl);
	if (r < 0)
		return lc_errno(r);
	cap->started = true;
	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (cap->bufs[i].held || cap->bufs[i].queued)
			continue;
		r = lc_queue(cap, &cap->bufs[i]);
		if (r < 0)
			return r;
	}
	lc_arm_stall(cap, LC_STALL_FIRST_MS);
	return 0;
}

static int lc_stop(struct cg_capture *cap)
{
	/* A dead camera stays "started": lc_teardown() buries it rather than stop it. */
	if (!cap->started || cap->dead)
		return 0;
	{
		std::lock_guard<std::mutex> guard(cap->lock);

		cap->stopping = true;
		cap->done.clear();
	}
	/* stop() completes every queued request (cancelled) before it returns. */
	int r = cap->cam->stop();
	cap->started = false;
	for (unsigned i = 0; i < cap->n_bufs; i++)
		cap->bufs[i].queued = false;
	lc_arm_stall(cap, 0);
	return r < 0 ? lc_errno(r) : 0;
}

/* Gives the requests of released frames back to libcamera. */
static int lc_requeue_released(struct cg_capture *cap)
{
	uint32_t bits = __atomic_exchange_n(&cap->released, 0, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (!(bits & (1u << i)))
			continue;
		cap->bufs[i].held = false;
		if (cap->started) {
			int r = lc_queue(cap, &cap->bufs[i]);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The newest good request; older and failed ones go straight back. */
static int lc_take_newest(struct cg_capture *cap, struct lc_buf **newest)
{
	std::vector<Request *> done;
	int r = 0;

	{
		std::lock_guard<std::mutex> guard(cap->lock);

		done.swap(cap->done);
		if (cap->disconnected)
			return -ENODEV;
	}
	*newest = nullptr;
	for (Request *req : done) {
		struct lc_buf *buf = &cap->bufs[req->cookie()];
		FrameBuffer *fb = req->findBuffer(cap->stream);

		buf->queued = false;
		if (req->status() == Request::RequestCancelled || !fb) {
			/* Cancelled while running: the pipeline gave up on the camera. */
			cg_debug("%s: request %lu cancelled", cap->id.c_str(),
				 (unsigned long)req->cookie());
			r = -EIO;
			continue;
		}
		if (fb->metadata().status != FrameMetadata::FrameSuccess) {
			r = r < 0 ? r : lc_queue(cap, buf); /* a corrupt frame: skip it */
		} else {
			if (*newest)
				r = r < 0 ? r : lc_queue(cap, *newest);
			*newest = buf;
		}
	}
	if (r < 0 && *newest) {
		(*newest)->queued = false;
		*newest = nullptr;
	}
	return r;
}

static void lc_stamp(struct cg_frame *f, Request *req, FrameBuffer *fb)
{
	uint64_t now_mono = cg_mono_usec(), now_wall = cg_wall_usec();
	auto sensor = req->metadata().get(controls::SensorTimestamp);
	int64_t ns = sensor ? *sensor : (int64_t)fb->metadata().timestamp;
	uint64_t ts = ns > 0 ? (uint64_t)ns / 1000 : 0;

	/* libcamera's timestamps are the V4L2 buffers' (CLOCK_MONOTONIC); guard odd ones. */
	if (ts == 0 || ts > now_mono)
		ts = now_mono;
	f->capture_mono_usec = ts;
	f->capture_wall_usec = now_wall - (now_mono - ts);
}

/* Nothing came for too long: a camera whose device went away without a hotplug event. */
static int lc_check_stall(struct cg_capture *cap)
{
	uint64_t n;

	if (read(cap->stall_fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || !cap->started)
		return 0;
	cg_debug("%s: no frame in time: the camera stopped delivering", cap->id.c_str());
	cap->dead = true;
	return -EIO;
}

static int lc_dequeue(struct cg_capture *cap, struct cg_frame **ret)
{
	struct lc_buf *buf = nullptr;
	uint64_t n;
	ssize_t rd = read(cap->event_fd, &n, sizeof(n));
	int r;

	(void)rd;
	r = lc_requeue_released(cap);
	if (r == 0)
		r = lc_take_newest(cap, &buf);
	if (r == 0 && !buf)
		r = lc_check_stall(cap);
	if (r < 0)
		return r;
	if (!buf)
		return -EAGAIN;
	lc_arm_stall(cap, std::max<uint32_t>(LC_STALL_MIN_MS, 10 * cap->frame_ms));
	FrameBuffer *fb = buf->req->findBuffer(cap->stream);
	const FrameMetadata &md = fb->metadata();
	uint32_t used = 0;
	for (const auto &p : md.planes())
		used += p.bytesused;
	buf->held = true;
	lc_stamp(&buf->frame, buf->req, fb);
	buf->frame.sequence = md.sequence;
	buf->frame.bytesused = used ? used : buf->frame.buf_size;
	buf->frame.keyframe = false;
	buf->frame.copied_bytes = 0;
	cg_refcount_init(&buf->frame.ref);
	cg_refcount_inc(&cap->ref);
	*ret = &buf->frame;
	return 0;
}

static void lc_close(struct cg_capture *cap)
{
	if (!cap)
		return;
	lc_teardown(cap);
	lc_unref(cap);
}

static void lc_get_format(struct cg_capture *cap, struct cg_capture_format *ret)
{
	*ret = cap->fmt;
}

extern "C" const struct cg_capture_ops cg_libcamera_capture_ops = {
	1,		     /* version */
	CG_LIBCAMERA_PREFIX, /* name */
	lc_open,	     /* open */
	lc_fd,		     /* fd */
	lc_start,	     /* start */
	lc_stop,	     /* stop */
	lc_dequeue,	     /* dequeue */
	lc_close,	     /* close */
	lc_get_format,	     /* get_format */
	nullptr,	     /* request_keyframe: raw frames only */
};

/* ---- discovery ---- */

extern "C" unsigned cg_libcamera_find_cameras(char *sources, size_t size, unsigned max)
{
	int err = 0;
	CameraManager *cm = lc_manager_get(&err);
	unsigned n = 0, i = 0;

	if (!cm)
		return 0;
	for (const auto &c : cm->cameras()) {
		const std::string &id = c->id();
		char *out = sources + (size_t)n * size;
		int w;

		if (n < max && !cg_lc_id_is_usb(id.c_str())) {
			w = snprintf(out, size, CG_LIBCAMERA_PREFIX ":%s", id.c_str());
			if (w < 0 || (size_t)w >= size)
				snprintf(out, size, CG_LIBCAMERA_PREFIX ":%u", i);
			n++;
		}
		i++;
	}
	lc_manager_put();
	return n;
}

static void lc_print_stream(FILE *out, Camera *cam)
{
	auto config = lc_generate(cam, StreamRole::VideoRecording);

	if (!config || config->empty())
		return;
	const StreamFormats &sf = config->at(0).formats();
	for (const PixelFormat &pf : sf.pixelformats()) {
		const struct lc_format *f = lc_format_of(pf);
		SizeRange r = sf.range(pf);

		fprintf(out, "    %s%s %ux%u-%ux%u\n", pf.toString().c_str(),
			f ? "" : " (not taken)", r.min.width, r.min.height, r.max.width,
			r.max.height);
	}
}

static void lc_print_camera(FILE *out, Camera *cam, unsigned index)
{
	struct cg_lc_mode modes[LC_MAX_MODES];
	auto model = cam->properties().get(properties::Model);
	bool usb = cg_lc_id_is_usb(cam->id().c_str());
	size_t n = 0;

	fprintf(out, "  libcamera:%s (libcamera:%u): %s%s\n", cam->id().c_str(), index,
		model ? model->c_str() : "camera",
		usb ? " (USB: auto takes it as a V4L2 camera)" : "");
	if (cam->acquire() < 0) {
		fprintf(out, "    (in use by another process: modes not listed)\n");
		return;
	}
	n = lc_list_modes(cam, modes, LC_MAX_MODES, nullptr);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "    sensor mode %ux%u %u-bit up to %u.%02u fps\n", modes[i].width,
			modes[i].height, modes[i].bit_depth, modes[i].max_fps_x100 / 100,
			modes[i].max_fps_x100 % 100);
	lc_print_stream(out, cam);
	cam->release();
}

extern "C" int cg_libcamera_print_cameras(FILE *out)
{
	int err = 0;
	CameraManager *cm = lc_manager_get(&err);
	unsigned i = 0;

	if (!cm)
		return err;
	for (const auto &c : cm->cameras())
		lc_print_camera(out, c.get(), i++);
	lc_manager_put();
	return (int)i;
}

extern "C" int cg_libcamera_set_controls(const char *kv, char *err, size_t err_size)
{
	struct cg_lc_controls c;
	int r = cg_lc_controls_parse(kv, &c, err, err_size);

	if (r < 0)
		return r;
	std::lock_guard<std::mutex> guard(lc_lock);
	lc_controls = c;
	return 0;
}
