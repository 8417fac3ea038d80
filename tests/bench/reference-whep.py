#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference sender of issue 2, measured by camgate's own page: a GStreamer webrtcbin
WHEP server (x264 tune=zerolatency, one encoder shared by all viewers, a payloader and a
webrtcbin per viewer) sending the same block-coded test picture camgate's test source makes.

It serves camgate's web/ page unchanged, so tests/browser/e2e.js --mode bench reads the
reference back exactly as it reads camgate: same page, same block code, same
capture -> display arithmetic. Only the sender differs.

The picture: hw/fake/testsrc.c's moving picture with the block code of hw/fake/blockcode.h
in the top-left corner, stamped with CLOCK_REALTIME in the instant the frame is handed to
the pipeline (the "capture"), at a steady rate on absolute deadlines.

usage: reference-whep.py --port 18190 --size 640x480 --fps 30 --bitrate 2000 --web DIR
Needs: python3-gst-1.0, gir1.2-gst-plugins-bad-1.0, gstreamer1.0-{plugins-base,good,bad,ugly},
gstreamer1.0-nice. For benchmarks only (tests/bench/latency.sh REFERENCE=1); no test uses it.
"""
import argparse
import http.server
import itertools
import mimetypes
import os
import re
import socketserver
import sys
import threading
import time

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('GstVideo', '1.0')
gi.require_version('GstWebRTC', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstVideo, GstWebRTC  # noqa: E402

CELL, CELLS, WHITE, BLACK = 16, 66, 235, 16
RAMP = 256


def bounce(t, span):
    if span <= 0:
        return 0
    m = t % (2 * span)
    return m if m < span else 2 * span - m


def fill(plane, stride, x, y, w, h, value):
    row = bytes([value]) * w
    for r in range(y, y + h):
        plane[r * stride + x:r * stride + x + w] = row


def blockcode_rows(width, wall_ms, counter):
    """The luma rows of the block code (hw/fake/blockcode.h), one bytes object per cell row."""
    bits = [1, 0] + [(wall_ms >> (47 - i)) & 1 for i in range(48)] + \
        [(counter >> (15 - i)) & 1 for i in range(16)]
    per_row = width // CELL
    rows = []
    for r in range(0, CELLS, per_row):
        cells = bits[r:r + per_row]
        row = b''.join(bytes([WHITE if b else BLACK]) * CELL for b in cells)
        rows.append(row)
    return rows


class Source:
    """Makes I420 frames on absolute deadlines and pushes them into an appsrc."""

    def __init__(self, appsrc, width, height, fps):
        self.appsrc, self.w, self.h, self.fps = appsrc, width, height, fps
        # The same picture as hw/fake/testsrc.c draws, so both encoders get the same work: a
        # diagonal luma sawtooth sliding sideways, colour bands drifting down, a bouncing box.
        self.ramp = bytes(32 + (x % RAMP) * 192 // RAMP for x in range(width + RAMP))
        self.stop = False

    def frame(self, t, wall_ms):
        w, h = self.w, self.h
        cw, ch = w // 2, h // 2
        box = min(w, h) // 4 & ~1
        bx, by = bounce(t * 6, w - box) & ~1, bounce(t * 4, h - box) & ~1
        luma = bytearray(w * h)
        for row in range(h):
            o = (t * 4 + row // 2) % RAMP
            luma[row * w:(row + 1) * w] = self.ramp[o:o + w]
        u, v = bytearray(cw * ch), bytearray(cw * ch)
        for row in range(ch):
            band = (row + t) // 32
            u[row * cw:(row + 1) * cw] = bytes([96 + band * 37 % 64]) * cw
            v[row * cw:(row + 1) * cw] = bytes([96 + band * 23 % 64]) * cw
        fill(luma, w, bx, by, box, box, 200)
        fill(u, cw, bx // 2, by // 2, box // 2, box // 2, 64)
        fill(v, cw, bx // 2, by // 2, box // 2, box // 2, 200)
        # The block code last, over neutral chroma.
        rows = blockcode_rows(w, wall_ms, t & 0xffff)
        fill(u, cw, 0, 0, w // 2, len(rows) * CELL // 2, 128)
        fill(v, cw, 0, 0, w // 2, len(rows) * CELL // 2, 128)
        for i, code in enumerate(rows):
            for y in range(i * CELL, (i + 1) * CELL):
                luma[y * w:y * w + len(code)] = code
        return bytes(luma + u + v)

    def run(self):
        period = 1.0 / self.fps
        start = time.monotonic()
        for n in itertools.count():
            deadline = start + n * period
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.stop:
                return
            data = self.frame(n, time.time_ns() // 1_000_000)
            buf = Gst.Buffer.new_wrapped(data)
            buf.duration = Gst.util_uint64_scale_int(1, Gst.SECOND, self.fps)
            self.appsrc.emit('push-buffer', buf)


class Viewer:
    """One webrtcbin with its own payloader, fed from the shared encoder's tee."""

    def __init__(self, pipe, tee, offer_sdp, ident):
        self.pipe, self.tee, self.ident = pipe, tee, ident
        self.promises = []
        pt = h264_payload_type(offer_sdp)
        if pt is None:
            raise ValueError('the offer has no H.264 packetization-mode=1 with profile 42e0xx/42001f')
        self.bin = Gst.parse_bin_from_description(
            'queue name=q max-size-buffers=4 leaky=downstream ! '
            f'rtph264pay config-interval=-1 aggregate-mode=zero-latency pt={pt} ! '
            'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,'
            f'payload={pt} ! '
            'webrtcbin name=w bundle-policy=max-bundle latency=0', False)
        self.webrtc = self.bin.get_by_name('w')
        # The page's offer also has a sendrecv audio section (talkback). webrtcbin 1.22 makes
        # no answer at all for a section it has no transceiver for, so it gets a receive-only
        # one whose sound, if any comes, is thrown away.
        opus = opus_payload_type(offer_sdp)
        if opus is not None:
            self.webrtc.emit('add-transceiver', GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                             Gst.Caps.from_string('application/x-rtp,media=audio,encoding-name=OPUS,'
                                                  f'clock-rate=48000,payload={opus}'))
        self.webrtc.connect('pad-added', self.on_incoming)
        q = self.bin.get_by_name('q')
        self.bin.add_pad(Gst.GhostPad.new('sink', q.get_static_pad('sink')))
        pipe.add(self.bin)
        self.bin.sync_state_with_parent()
        self.teepad = tee.request_pad_simple('src_%u')
        self.teepad.link(self.bin.get_static_pad('sink'))
        self.answer = self.negotiate(offer_sdp)
        # A fresh viewer needs an IDR now, not at the next periodic one.
        self.teepad.send_event(GstVideo.video_event_new_upstream_force_key_unit(
            Gst.CLOCK_TIME_NONE, True, 0))

    def negotiate(self, offer_sdp):
        _, msg = GstSdp.SDPMessage.new_from_text(offer_sdp)
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, msg)
        self.call('set-remote-description', offer)
        answer = self.call('create-answer', None, 'answer')
        if answer is None:
            raise ValueError('webrtcbin made no answer to this offer')
        self.call('set-local-description', answer)
        # No trickle from this side: answer with every candidate, as camgate's WHEP does.
        deadline = time.monotonic() + 3
        while (self.webrtc.get_property('ice-gathering-state') !=
               GstWebRTC.WebRTCICEGatheringState.COMPLETE and time.monotonic() < deadline):
            time.sleep(0.01)
        return self.webrtc.get_property('local-description').sdp.as_text()

    def on_incoming(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        sink = Gst.ElementFactory.make('fakesink')
        sink.set_property('async', False)
        self.bin.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad('sink'))

    def call(self, signal, arg, field=None):
        """Emits a webrtcbin action signal, waits for its promise and returns the reply's
        field. The value lives inside the reply (PyGObject does not copy it), so the promise
        and the reply's wrapper are kept alive as long as the viewer. ValueError when the reply is an
        error."""
        p = Gst.Promise.new()
        self.promises.append(p)
        self.webrtc.emit(signal, arg, p)
        p.wait()
        reply = p.get_reply()
        self.promises.append(reply)
        if reply is not None and reply.has_field('error'):
            raise ValueError(f'{signal}: {reply.get_value("error")}')
        return reply.get_value(field) if field and reply is not None else None

    def close(self):
        self.teepad.unlink(self.bin.get_static_pad('sink'))
        self.tee.release_request_pad(self.teepad)
        self.bin.set_state(Gst.State.NULL)
        self.pipe.remove(self.bin)


def h264_payload_type(sdp):
    """The payload type of the offer's Constrained Baseline, packetization-mode=1 H.264."""
    for m in re.finditer(r'a=fmtp:(\d+) ([^\r\n]*)', sdp):
        params = m.group(2)
        if 'packetization-mode=1' in params and re.search(r'profile-level-id=42(e0|00)', params):
            return int(m.group(1))
    return None


def opus_payload_type(sdp):
    m = re.search(r'a=rtpmap:(\d+) opus/48000', sdp, re.IGNORECASE)
    return int(m.group(1)) if m else None


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            sys.stderr.write('reference: ' + (fmt % args) + '\n')

        def reply(self, code, body=b'', ctype=None, extra=()):
            self.send_response(code)
            self.send_header('Access-Control-Allow-Origin', '*')
            self.send_header('Access-Control-Allow-Methods', 'POST, PATCH, DELETE, OPTIONS')
            self.send_header('Access-Control-Allow-Headers', 'Content-Type')
            self.send_header('Access-Control-Expose-Headers', 'Location')
            if ctype:
                self.send_header('Content-Type', ctype)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def body(self):
            return self.rfile.read(int(self.headers.get('Content-Length') or 0))

        def do_OPTIONS(self):
            self.reply(204)

        def do_GET(self):
            path = self.path.split('?')[0]
            if path == '/status':
                return self.reply(200, b'{"viewers":%d}' % len(state['viewers']), 'application/json')
            name = 'index.html' if path == '/' else path.lstrip('/')
            f = os.path.join(state['web'], name)
            if '/' in name or not os.path.isfile(f):
                return self.reply(404, b'not found\n', 'text/plain')
            with open(f, 'rb') as fh:
                data = fh.read()
            self.reply(200, data, mimetypes.guess_type(name)[0] or 'application/octet-stream')

        def do_POST(self):
            if self.path.split('?')[0] != '/whep':
                return self.reply(404, b'not found\n', 'text/plain')
            offer = self.body().decode('utf-8', 'replace')
            ident = str(next(state['ids']))
            try:
                v = Viewer(state['pipe'], state['tee'], offer, ident)
            except ValueError as e:
                sys.stderr.write(f'reference: viewer {ident}: {e}\n{offer}\n')
                return self.reply(400, (str(e) + '\n').encode(), 'text/plain')
            state['viewers'][ident] = v
            self.reply(201, v.answer.encode(), 'application/sdp', [('Location', '/whep/' + ident)])

        def do_PATCH(self):
            self.body()  # trickle: the offer already had the page's candidates
            self.reply(204)

        def do_DELETE(self):
            v = state['viewers'].pop(self.path.rsplit('/', 1)[-1], None)
            if v:
                v.close()
            self.reply(200 if v else 404)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--port', type=int, default=18190)
    ap.add_argument('--size', default='640x480')
    ap.add_argument('--fps', type=int, default=30)
    ap.add_argument('--bitrate', type=int, default=2000, help='kbit/s')
    ap.add_argument('--web', required=True, help="camgate's web/ directory")
    a = ap.parse_args()
    width, height = (int(x) for x in a.size.split('x'))

    Gst.init(None)
    pipe = Gst.parse_launch(
        f'appsrc name=src is-live=true do-timestamp=true format=time '
        f'caps=video/x-raw,format=I420,width={width},height={height},framerate={a.fps}/1 ! '
        f'x264enc tune=zerolatency speed-preset=veryfast bitrate={a.bitrate} '
        f'key-int-max={a.fps * 2} ! video/x-h264,profile=constrained-baseline ! '
        'tee name=t allow-not-linked=true')
    src = Source(pipe.get_by_name('src'), width, height, a.fps)
    state = {'pipe': pipe, 'tee': pipe.get_by_name('t'), 'viewers': {}, 'ids': itertools.count(1),
             'web': a.web}
    pipe.set_state(Gst.State.PLAYING)
    threading.Thread(target=src.run, daemon=True).start()

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    httpd = Server(('127.0.0.1', a.port), make_handler(state))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f'reference WHEP sender on http://127.0.0.1:{a.port}/ ({a.size}@{a.fps}, {a.bitrate} kbit/s)',
          flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)
    loop.run()
    src.stop = True
    httpd.shutdown()
    pipe.set_state(Gst.State.NULL)


if __name__ == '__main__':
    main()
