/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libv4l2.h>

#define CG_LOG_TOPIC "v4l2"

#include "hw/v4l2/capture.h"
#include "hw/v4l2/common.h"
#include "hw/v4l2/mode.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/refcount.h"
#include "util/time.h"

struct v4l2cap_buf {
	struct cg_frame frame;
	struct cg_capture *cap;
	void *map;
	uint32_t length;
	int dma_fd;
	bool queued; /* owned by the driver; media thread only */
	bool held;   /* handed out as a frame and not yet given back; media thread only */
};

struct cg_capture {
	/* One ref for the owner plus one per frame out, so late releases find us alive. */
	struct cg_refcount ref;
	int fd;
	int epoll_fd;
	int release_fd;
	uint32_t type;
	uint32_t released; /* atomic: bit i set when buffer i's frame was released */
	bool streaming;
	bool kf_ctrl; /* V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME exists (UVC H.264) */
	char path[64];
	struct cg_capture_format fmt;
	struct cg_v4l2_layout layout;
	unsigned n_bufs;
	struct v4l2cap_buf bufs[CG_V4L2_CAPTURE_BUFFERS];
};

static void v4l2cap_free(struct cg_capture *cap)
{
	struct v4l2_requestbuffers rb = { .type = cap->type, .memory = V4L2_MEMORY_MMAP };

	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (cap->bufs[i].map)
			v4l2_munmap(cap->bufs[i].map, cap->bufs[i].length);
		if (cap->bufs[i].dma_fd >= 0)
			close(cap->bufs[i].dma_fd);
	}
	/* Frees the driver's buffers now rather than at close; fails harmlessly if gone. */
	if (cap->fd >= 0 && cap->n_bufs)
		cg_v4l2_ioctl(cap->fd, VIDIOC_REQBUFS, &rb);
	cg_v4l2_close(cap->fd);
	if (cap->epoll_fd >= 0)
		close(cap->epoll_fd);
	if (cap->release_fd >= 0)
		close(cap->release_fd);
	free(cap);
}

static void v4l2cap_unref(struct cg_capture *cap)
{
	if (cg_refcount_dec(&cap->ref))
		v4l2cap_free(cap);
}

/* Release callback: any thread. The buffer goes back to the driver on the media thread. */
static void v4l2cap_release(struct cg_frame *frame, void *userdata)
{
	struct v4l2cap_buf *buf = userdata;
	struct cg_capture *cap = buf->cap;
	uint64_t one = 1;
	ssize_t CG_UNUSED n;

	__atomic_fetch_or(&cap->released, 1u << (buf - cap->bufs), __ATOMIC_RELEASE);
	n = write(cap->release_fd, &one, sizeof(one));
	v4l2cap_unref(cap);
}

static int v4l2cap_errno(int r)
{
	/* A vanished device answers ENODEV; a queue in error state after a disconnect EIO. */
	return r == -ENODEV || r == -ENXIO ? -ENODEV : r;
}

/* Picks and sets the mode. */
static int v4l2cap_set_mode(struct cg_capture *cap, const struct cg_capture_cfg *cfg)
{
	struct cg_v4l2_mode *modes = cg_new0(struct cg_v4l2_mode, CG_V4L2_MAX_MODES);
	const uint32_t *formats = cfg->formats ? cfg->formats : cg_v4l2_default_formats;
	uint32_t w = cfg->width ? cfg->width : 1280, h = cfg->height ? cfg->height : 720;
	uint32_t fps = cfg->fps ? cfg->fps : 30;
	struct cg_v4l2_pix pix = { 0 };
	struct v4l2_format f;
	char fcc[2][5];
	int n, i, r;

	n = cg_v4l2_mode_list(cap->fd, cap->type, w, h, fps, formats, modes, CG_V4L2_MAX_MODES);
	i = n < 0 ? n : cg_v4l2_mode_pick(modes, (size_t)n, w, h, fps, formats);
	if (i < 0) {
		cg_debug("%s: no acceptable mode among %d: %s", cap->path, n, strerror(-i));
		r = i;
		goto out;
	}
	pix = (struct cg_v4l2_pix){ modes[i].fourcc, modes[i].width, modes[i].height, 0, 0 };
	cg_v4l2_fmt_set(&f, cap->type, &pix);
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_S_FMT, &f);
	if (r < 0)
		goto out;
	cg_v4l2_fmt_get(&f, &pix);
	if (pix.fourcc != modes[i].fourcc) {
		cg_debug("%s: asked for %s, the driver set %s", cap->path,
			 cg_v4l2_fourcc_str(modes[i].fourcc, fcc[0]),
			 cg_v4l2_fourcc_str(pix.fourcc, fcc[1]));
		r = -ENOTSUP;
		goto out;
	}
	cap->fmt.fourcc = pix.fourcc;
	cap->fmt.width = pix.width;
	cap->fmt.height = pix.height;
	cap->fmt.stride = cg_v4l2_is_compressed(pix.fourcc) ? 0 : pix.bpl;
	cap->fmt.size = pix.sizeimage;
	cap->fmt.fps = cg_v4l2_mode_fps(&modes[i]);
	r = cg_v4l2_layout(pix.fourcc, pix.width, pix.height, pix.bpl, &cap->layout);
out:
	free(modes);
	return r;
}

/* The rate is a request: drivers without VIDIOC_S_PARM run at their own. */
static void v4l2cap_set_rate(struct cg_capture *cap)
{
	struct v4l2_streamparm parm = { .type = cap->type };

	parm.parm.capture.timeperframe.numerator = 1;
	parm.parm.capture.timeperframe.denominator = cap->fmt.fps;
	if (cg_v4l2_ioctl(cap->fd, VIDIOC_S_PARM, &parm) == 0 &&
	    parm.parm.capture.timeperframe.numerator)
		cap->fmt.fps = (parm.parm.capture.timeperframe.denominator +
				parm.parm.capture.timeperframe.numerator / 2) /
			       parm.parm.capture.timeperframe.numerator;
}

/* Events and key frames are optional: a camera without them still streams. */
static void v4l2cap_probe_extras(struct cg_capture *cap)
{
	struct v4l2_event_subscription sub = { .type = V4L2_EVENT_SOURCE_CHANGE };
	struct v4l2_queryctrl qc = { .id = V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME };
	int r;

	r = cg_v4l2_ioctl(cap->fd, VIDIOC_SUBSCRIBE_EVENT, &sub);
	if (r < 0)
		cg_debug("%s: no source change events (%s)", cap->path, strerror(-r));
	cap->kf_ctrl = cg_v4l2_ioctl(cap->fd, VIDIOC_QUERYCTRL, &qc) == 0 &&
		       !(qc.flags & V4L2_CTRL_FLAG_DISABLED);
}

static void v4l2cap_frame_init(struct cg_capture *cap, struct v4l2cap_buf *buf)
{
	struct cg_frame *f = &buf->frame;

	buf->cap = cap;
	f->fourcc = cap->fmt.fourcc;
	f->width = cap->fmt.width;
	f->height = cap->fmt.height;
	f->n_planes = cap->layout.n_planes;
	f->buf_size = buf->length;
	for (unsigned p = 0; p < f->n_planes; p++) {
		f->planes[p].dma_fd = buf->dma_fd;
		f->planes[p].offset = cap->layout.offset[p];
		f->planes[p].stride = cap->layout.stride[p];
		f->planes[p].data = (uint8_t *)buf->map + cap->layout.offset[p];
	}
	f->release = v4l2cap_release;
	f->release_userdata = buf;
}

/* Maps and exports one buffer. Export is optional: without it frames are CPU-only. */
static int v4l2cap_map_buf(struct cg_capture *cap, unsigned i)
{
	struct v4l2cap_buf *buf = &cap->bufs[i];
	struct v4l2_exportbuffer eb = { .type = cap->type,
					.index = i,
					.flags = O_RDWR | O_CLOEXEC };
	struct cg_v4l2_buf vb;
	int r;

	cg_v4l2_buf_init(&vb, cap->type, V4L2_MEMORY_MMAP, i);
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_QUERYBUF, &vb.b);
	if (r < 0)
		return r;
	buf->length = cg_v4l2_buf_length(&vb);
	buf->map = v4l2_mmap(NULL, buf->length, PROT_READ | PROT_WRITE, MAP_SHARED, cap->fd,
			     cg_v4l2_buf_mem_offset(&vb));
	if (buf->map == MAP_FAILED) {
		r = -errno;
		buf->map = NULL;
		return r;
	}
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_EXPBUF, &eb);
	if (r < 0)
		cg_debug("%s: buffer %u not exported (%s): frames are CPU-only", cap->path, i,
			 strerror(-r));
	buf->dma_fd = r < 0 ? -1 : eb.fd;
	v4l2cap_frame_init(cap, buf);
	return 0;
}

static int v4l2cap_alloc(struct cg_capture *cap)
{
	struct v4l2_requestbuffers rb = { .count = CG_V4L2_CAPTURE_BUFFERS,
					  .type = cap->type,
					  .memory = V4L2_MEMORY_MMAP };
	int r;

	r = cg_v4l2_ioctl(cap->fd, VIDIOC_REQBUFS, &rb);
	if (r < 0)
		return r;
	if (rb.count < 2)
		return -ENOMEM;
	cap->n_bufs = CG_MIN(rb.count, CG_V4L2_CAPTURE_BUFFERS);
	for (unsigned i = 0; i < cap->n_bufs; i++) {
		r = v4l2cap_map_buf(cap, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v4l2cap_epoll(struct cg_capture *cap)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI };

	cap->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	cap->release_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cap->epoll_fd < 0 || cap->release_fd < 0)
		return -errno;
	ev.data.fd = cap->fd;
	if (epoll_ctl(cap->epoll_fd, EPOLL_CTL_ADD, cap->fd, &ev) < 0)
		return -errno;
	ev.events = EPOLLIN;
	ev.data.fd = cap->release_fd;
	if (epoll_ctl(cap->epoll_fd, EPOLL_CTL_ADD, cap->release_fd, &ev) < 0)
		return -errno;
	return 0;
}

static int v4l2cap_check_node(struct cg_capture *cap)
{
	struct v4l2_capability vc;
	uint32_t caps;
	int r;

	r = cg_v4l2_querycap(cap->fd, &vc, &caps);
	if (r < 0)
		return v4l2cap_errno(r);
	if (cg_v4l2_kind(caps, &cap->type) != CG_V4L2_KIND_CAPTURE)
		return -ENODEV;
	snprintf(cap->fmt.card, sizeof(cap->fmt.card), "%s", (const char *)vc.card);
	return 0;
}

static int v4l2cap_open(const struct cg_capture_cfg *cfg, struct cg_capture **ret)
{
	struct cg_capture *cap;
	char fcc[5];
	int r;

	if (!cfg || !cfg->device || !ret)
		return -EINVAL;
	cap = cg_new0(struct cg_capture, 1);
	cg_refcount_init(&cap->ref);
	cap->epoll_fd = cap->release_fd = -1;
	for (unsigned i = 0; i < CG_V4L2_CAPTURE_BUFFERS; i++)
		cap->bufs[i].dma_fd = -1;
	snprintf(cap->path, sizeof(cap->path), "%s", cfg->device);
	cap->fd = cg_v4l2_open(cfg->device);
	if (cap->fd < 0) {
		r = cap->fd == -ENOENT ? -ENODEV : cap->fd;
		goto fail;
	}
	r = v4l2cap_check_node(cap);
	if (r >= 0)
		r = v4l2cap_set_mode(cap, cfg);
	if (r < 0)
		goto fail;
	v4l2cap_set_rate(cap);
	v4l2cap_probe_extras(cap);
	r = v4l2cap_alloc(cap);
	if (r >= 0)
		r = v4l2cap_epoll(cap);
	if (r < 0)
		goto fail;
	cg_debug("%s (%s): %s %ux%u@%u, bpl %u, %u buffers, %s", cap->path, cap->fmt.card,
		 cg_v4l2_fourcc_str(cap->fmt.fourcc, fcc), cap->fmt.width, cap->fmt.height,
		 cap->fmt.fps, cap->fmt.stride, cap->n_bufs,
		 cap->bufs[0].dma_fd >= 0 ? "DMA-BUF exported" : "no DMA-BUF export");
	*ret = cap;
	return 0;
fail:
	v4l2cap_free(cap);
	return v4l2cap_errno(r);
}

static int v4l2cap_fd(struct cg_capture *cap)
{
	return cap->epoll_fd;
}

static int v4l2cap_qbuf(struct cg_capture *cap, unsigned i)
{
	struct cg_v4l2_buf vb;
	int r;

	cg_v4l2_buf_init(&vb, cap->type, V4L2_MEMORY_MMAP, i);
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_QBUF, &vb.b);
	if (r < 0)
		return v4l2cap_errno(r);
	cap->bufs[i].queued = true;
	return 0;
}

static int v4l2cap_start(struct cg_capture *cap)
{
	int type = (int)cap->type, r;

	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (cap->bufs[i].queued || cap->bufs[i].held)
			continue;
		r = v4l2cap_qbuf(cap, i);
		if (r < 0)
			return r;
	}
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_STREAMON, &type);
	if (r < 0)
		return v4l2cap_errno(r);
	cap->streaming = true;
	return 0;
}

static int v4l2cap_stop(struct cg_capture *cap)
{
	int type = (int)cap->type, r;

	if (!cap->streaming)
		return 0;
	cap->streaming = false;
	/* STREAMOFF takes every queued buffer back from the driver (VIDIOC_STREAMON docs). */
	for (unsigned i = 0; i < cap->n_bufs; i++)
		cap->bufs[i].queued = false;
	r = cg_v4l2_ioctl(cap->fd, VIDIOC_STREAMOFF, &type);
	return r < 0 ? v4l2cap_errno(r) : 0;
}

/* Gives the buffers of released frames back to the driver. */
static int v4l2cap_requeue_released(struct cg_capture *cap)
{
	uint64_t n;
	uint32_t bits;
	ssize_t CG_UNUSED rd = read(cap->release_fd, &n, sizeof(n));

	bits = __atomic_exchange_n(&cap->released, 0, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < cap->n_bufs; i++) {
		if (!(bits & (1u << i)))
			continue;
		cap->bufs[i].held = false;
		if (cap->streaming) {
			int r = v4l2cap_qbuf(cap, i);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Pending events: a source change means the mode is gone; a dead device errors out. */
static int v4l2cap_events(struct cg_capture *cap)
{
	struct pollfd p = { .fd = cap->fd, .events = POLLPRI };
	struct v4l2_event ev;
	int r;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLPRI))
		return 0;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = cg_v4l2_ioctl(cap->fd, VIDIOC_DQEVENT, &ev);
		if (r == -ENOENT || (r == 0 && ev.type == V4L2_EVENT_SOURCE_CHANGE))
			return r == 0 ? -ESTALE : 0;
		if (r < 0)
			return v4l2cap_errno(r);
	}
}

/* The newest done buffer; older ones go straight back. Returns its index or -errno. */
static int v4l2cap_dqbuf_newest(struct cg_capture *cap, struct cg_v4l2_buf *newest)
{
	struct cg_v4l2_buf vb;
	int best = -EAGAIN, r;

	for (;;) {
		cg_v4l2_buf_init(&vb, cap->type, V4L2_MEMORY_MMAP, 0);
		r = cg_v4l2_ioctl(cap->fd, VIDIOC_DQBUF, &vb.b);
		if (r == -EAGAIN)
			return best;
		if (r < 0)
			return v4l2cap_errno(r);
		if (vb.b.index >= cap->n_bufs)
			return -EIO;
		cap->bufs[vb.b.index].queued = false;
		if (vb.b.flags & V4L2_BUF_FLAG_ERROR) { /* a corrupt frame: skip it */
			r = v4l2cap_qbuf(cap, vb.b.index);
		} else {
			if (best >= 0)
				r = v4l2cap_qbuf(cap, (unsigned)best);
			best = (int)vb.b.index;
			*newest = vb;
		}
		if (r < 0)
			return r;
	}
}

static void v4l2cap_stamp(struct cg_frame *f, const struct cg_v4l2_buf *vb)
{
	uint64_t now_mono = cg_mono_usec(), now_wall = cg_wall_usec();
	uint64_t ts = (uint64_t)vb->b.timestamp.tv_sec * CG_USEC_PER_SEC +
		      (uint64_t)vb->b.timestamp.tv_usec;

	/* The driver's timestamp is CLOCK_MONOTONIC when it says so (buffer.rst). */
	if ((vb->b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ||
	    ts == 0 || ts > now_mono)
		ts = now_mono;
	f->capture_mono_usec = ts;
	f->capture_wall_usec = now_wall - (now_mono - ts);
}

static int v4l2cap_dequeue(struct cg_capture *cap, struct cg_frame **ret)
{
	struct cg_v4l2_buf vb;
	struct v4l2cap_buf *buf;
	int r;

	r = v4l2cap_requeue_released(cap);
	if (r >= 0)
		r = v4l2cap_events(cap);
	if (r >= 0)
		r = v4l2cap_dqbuf_newest(cap, &vb);
	if (r < 0)
		return r;
	buf = &cap->bufs[r];
	buf->held = true;
	v4l2cap_stamp(&buf->frame, &vb);
	buf->frame.sequence = vb.b.sequence;
	buf->frame.bytesused = cg_v4l2_buf_bytesused(&vb);
	buf->frame.keyframe = vb.b.flags & V4L2_BUF_FLAG_KEYFRAME;
	cg_refcount_init(&buf->frame.ref);
	cg_refcount_inc(&cap->ref);
	*ret = &buf->frame;
	return 0;
}

static void v4l2cap_close(struct cg_capture *cap)
{
	if (!cap)
		return;
	v4l2cap_stop(cap);
	v4l2cap_unref(cap);
}

static void v4l2cap_get_format(struct cg_capture *cap, struct cg_capture_format *ret)
{
	*ret = cap->fmt;
}

static int v4l2cap_request_keyframe(struct cg_capture *cap)
{
	struct v4l2_control c = { .id = V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, .value = 1 };

	if (!cap->kf_ctrl)
		return -ENOTSUP;
	return cg_v4l2_ioctl(cap->fd, VIDIOC_S_CTRL, &c);
}

const struct cg_capture_ops cg_v4l2_capture_ops = {
	.version = 1,
	.name = "v4l2",
	.open = v4l2cap_open,
	.fd = v4l2cap_fd,
	.start = v4l2cap_start,
	.stop = v4l2cap_stop,
	.dequeue = v4l2cap_dequeue,
	.close = v4l2cap_close,
	.get_format = v4l2cap_get_format,
	.request_keyframe = v4l2cap_request_keyframe,
};
