/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's WHEP (draft-ietf-wish-whep) client, shared by the viewer page (app.js) and the
 * grid of cameras (grid.js): ICE servers from OPTIONS (RFC 9725 §4.6 Link headers), an
 * H.264-first recvonly offer sent as soon as the first host candidates are in, the answer,
 * the rest of the candidates by PATCH (trickle ICE, RFC 8840), DELETE on close.
 *
 * What a page does with the connection (watchdog, retry and back-off, statistics, sound,
 * talkback) stays in the page: this file only signals. Loaded as a classic script before
 * the page's own; it defines window.CamgateWhep and touches nothing else.
 */
'use strict';

(function () {
  const GATHER_WAIT_MS = 300; // send the offer after this at the latest (see waitGathering)

  function iceCreds(sdp) {
    const uf = /^a=ice-ufrag:(.+)$/m.exec(sdp);
    const pw = /^a=ice-pwd:(.+)$/m.exec(sdp);
    return { ufrag: uf ? uf[1].trim() : '', pwd: pw ? pw[1].trim() : '' };
  }

  /* m= line and mid of each m-section of the offer, for RFC 8840 fragments. */
  function mSections(sdp) {
    const out = [];
    let cur = null;
    for (const line of sdp.split(/\r?\n/)) {
      if (line.startsWith('m=')) {
        cur = { mline: line, mid: null };
        out.push(cur);
      } else if (cur && line.startsWith('a=mid:')) {
        cur.mid = line.slice(6).trim();
      }
    }
    return out;
  }

  /* An RFC 8840 fragment with cands (and end-of-candidates when end) for session s. */
  function sdpFragment(s, cands, end) {
    // With BUNDLE every candidate belongs to the first m-section's transport.
    const lines = [`a=ice-ufrag:${s.ufrag}`, `a=ice-pwd:${s.pwd}`];
    const secs = s.sections.length ? s.sections : [{ mline: 'm=video 9 UDP/TLS/RTP/SAVPF 0', mid: '0' }];
    for (const sec of secs) {
      const mine = cands.filter((c) => (c.sdpMid ?? secs[0].mid) === sec.mid);
      if (!mine.length && !(end && sec === secs[0])) continue;
      lines.push(sec.mline, `a=mid:${sec.mid}`);
      for (const c of mine) lines.push(`a=${c.candidate}`);
      if (end && sec === secs[0]) lines.push('a=end-of-candidates');
    }
    return lines.join('\r\n') + '\r\n';
  }

  /* Resolves when gathering is complete, shortly after the first UDP host candidate (the
   * others of the same round come within a millisecond or two; TCP ones ~100 ms later and
   * go by PATCH), or after ms at the latest. */
  function waitGathering(p, ms) {
    return new Promise((resolve) => {
      if (p.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(done, ms);
      let soon = null;
      function done() {
        clearTimeout(t);
        clearTimeout(soon);
        p.removeEventListener('icegatheringstatechange', check);
        p.removeEventListener('icecandidate', cand);
        resolve();
      }
      function check() {
        if (p.iceGatheringState === 'complete') done();
      }
      function cand(e) {
        if (soon === null && e.candidate && / udp /i.test(e.candidate.candidate)) soon = setTimeout(done, 5);
      }
      p.addEventListener('icegatheringstatechange', check);
      p.addEventListener('icecandidate', cand);
    });
  }

  const ABS_CAPTURE_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

  /* Chromium knows abs-capture-time but leaves it out of its offers ("stopped"): the header
   * extension control API (RTCRtpTransceiver.setHeaderExtensionsToNegotiate) puts it in, so
   * the daemon stamps each frame's capture time and getSynchronizationSources() returns it
   * (captureTimestamp). Returns whether the offer will carry it. */
  function offerAbsCaptureTime(transceiver) {
    if (!transceiver.getHeaderExtensionsToNegotiate || !transceiver.setHeaderExtensionsToNegotiate) return false;
    try {
      const exts = transceiver.getHeaderExtensionsToNegotiate();
      const ext = exts.find((e) => e.uri === ABS_CAPTURE_TIME);
      if (!ext) return false;
      if (ext.direction === 'stopped') ext.direction = 'sendrecv';
      transceiver.setHeaderExtensionsToNegotiate(exts);
      return true;
    } catch (e) {
      return false; // an older API shape: the offer goes without it
    }
  }

  /* Constrained Baseline, packetization-mode 1 first: what every camgate encoder sends. */
  function preferH264(transceiver) {
    if (!window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities || !transceiver.setCodecPreferences) return;
    const caps = RTCRtpReceiver.getCapabilities('video');
    if (!caps) return;
    const rank = (c) => {
      const m = c.mimeType.toLowerCase();
      if (m !== 'video/h264') return 10;
      const f = c.sdpFmtpLine || '';
      const cb = /profile-level-id=42e0/i.test(f);
      const pm1 = /packetization-mode=1/.test(f);
      return (cb ? 0 : 2) + (pm1 ? 0 : 1);
    };
    const codecs = caps.codecs.slice().sort((a, b) => rank(a) - rank(b));
    try {
      transceiver.setCodecPreferences(codecs);
    } catch (e) {
      /* keep the browser's order */
    }
  }

  // WHIP RFC 9725 §4.6 (reused by WHEP): the daemon names its STUN/TURN servers in Link headers of OPTIONS /whep.
  // `<turn:host:3478?transport=udp>; rel="ice-server"; username="u"; credential="p"`
  function parseIceLinks(header) {
    const servers = [];
    for (const part of (header || '').split(/,(?=\s*<)/)) {
      const m = part.match(/<([^>]+)>(.*)/);
      if (!m || !/rel="?ice-server"?/.test(m[2])) continue;
      const server = { urls: m[1] };
      const user = m[2].match(/username="([^"]*)"/);
      const cred = m[2].match(/credential="([^"]*)"/);
      if (user) server.username = user[1];
      if (cred) server.credential = cred[1];
      servers.push(server);
    }
    return servers;
  }

  /* err.status: the HTTP status; err.reason: the server's reason (its response body). */
  function httpError(status, text, reason) {
    return Object.assign(new Error(text), { status, reason: reason || '' });
  }

  /*
   * One WHEP viewer session against the endpoint `url` (a URL or string, e.g. .../whep).
   * opts:
   *   audio: null (no audio section), 'recvonly', or 'sendrecv' (talkback: the transceiver
   *          is made without a track; the page puts the microphone on it later)
   *   log(...args): diagnostics
   *   onPeer(pc, session): called once the RTCPeerConnection and its transceivers exist,
   *          before the offer: set ontrack / onconnectionstatechange here
   *   onPatch(): after each PATCH sent
   * start() resolves true once the answer is applied, false when close() came first; it
   * rejects on failure, with err.status the HTTP status when the server refused (401:
   * login needed). close() may be called at any time, more than once.
   */
  class Session {
    constructor(url, opts = {}) {
      this.url = new URL(url, location.href);
      this.opts = opts;
      this.pc = null;
      this.videoTx = null;
      this.audioTx = null;
      this.location = null; // the session's URL (Location of the POST's answer)
      this.closed = false;
      this.startedAt = 0;
      // trickle
      this.queue = [];
      this.offerSent = false;
      this.endPending = false;
      this.endSent = false;
      this.flushing = false;
      this.sections = [];
      this.ufrag = '';
      this.pwd = '';
    }

    log(...args) {
      if (this.opts.log) this.opts.log(...args);
    }

    async iceServers() {
      const r = await fetch(this.url, { method: 'OPTIONS' });
      if (r.status === 401) throw httpError(401, 'unauthorized');
      return parseIceLinks(r.headers.get('Link'));
    }

    async start() {
      this.startedAt = performance.now();
      let iceServers = [];
      try {
        iceServers = await this.iceServers();
      } catch (err) {
        if (err && err.status === 401) throw err;
        this.log('ICE servers', String(err)); // none: a LAN needs none
      }
      if (this.closed) return false;
      const p = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
                                        iceServers });
      this.pc = p;
      this.videoTx = p.addTransceiver('video', { direction: 'recvonly' });
      if (this.opts.audio) this.audioTx = p.addTransceiver('audio', { direction: this.opts.audio });
      preferH264(this.videoTx);
      this.absCaptureTimeOffered = offerAbsCaptureTime(this.videoTx);

      p.onicecandidate = (e) => {
        if (e.candidate) {
          this.log('candidate', `${(performance.now() - this.startedAt).toFixed(0)} ms`, e.candidate.candidate);
        }
        if (!this.offerSent) return; // still in the offer we are about to send
        if (e.candidate && e.candidate.candidate) this.queue.push(e.candidate);
        else if (!e.candidate) this.endPending = true;
        this.flush();
      };
      p.onicegatheringstatechange = () => {
        if (p.iceGatheringState === 'complete') {
          this.log('gathering complete', `${(performance.now() - this.startedAt).toFixed(0)} ms after start`);
        }
      };
      if (this.opts.onPeer) this.opts.onPeer(p, this);

      const offer = await p.createOffer();
      if (this.closed) return false;
      await p.setLocalDescription(offer);
      await waitGathering(p, GATHER_WAIT_MS);
      if (this.closed) return false;
      const sdp = p.localDescription.sdp;
      this.offerSent = true;
      Object.assign(this, iceCreds(sdp));
      this.sections = mSections(sdp);
      if (p.iceGatheringState === 'complete') this.endSent = true; // the offer has them all

      const r = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
        body: sdp,
      });
      const loc = r.headers.get('Location');
      if (loc && (r.status === 201 || r.status === 200)) {
        this.location = new URL(loc, this.url).href;
        // Closed while the answer was on its way: the daemon made a session, end it.
        if (this.closed) this.deleteResource();
      }
      if (this.closed) return false;
      if (r.status === 401) throw httpError(401, 'unauthorized');
      if (r.status !== 201 && r.status !== 200) {
        const reason = (await r.text().catch(() => '')).trim();
        throw httpError(r.status, `WHEP POST ${r.status}: ${reason}`, reason);
      }
      const answer = await r.text();
      if (this.closed) return false;
      await p.setRemoteDescription({ type: 'answer', sdp: answer });
      if (this.closed) return false;
      this.flush();
      return true;
    }

    async flush() {
      if (!this.location || this.flushing || this.closed) return;
      if (!this.queue.length && !(this.endPending && !this.endSent)) return;
      this.flushing = true;
      try {
        while (!this.closed && (this.queue.length || (this.endPending && !this.endSent))) {
          const cands = this.queue.splice(0);
          const end = this.endPending && !this.endSent;
          const body = sdpFragment(this, cands, end);
          if (end) this.endSent = true;
          const r = await fetch(this.location, {
            method: 'PATCH',
            headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
            body,
          });
          if (this.opts.onPatch) this.opts.onPatch();
          if (!r.ok && r.status !== 204) {
            this.log('PATCH', r.status, await r.text().catch(() => ''));
            // 405/501: the server does not do trickle; the offer had what it needs.
            break;
          }
        }
      } catch (e) {
        this.log('PATCH failed', String(e));
      } finally {
        this.flushing = false;
      }
    }

    deleteResource() {
      if (!this.location) return;
      // keepalive: the DELETE still goes when the page is being unloaded.
      fetch(this.location, { method: 'DELETE', keepalive: true }).catch(() => {});
      this.location = null;
    }

    close() {
      if (this.closed) return;
      this.closed = true;
      this.deleteResource();
      const p = this.pc;
      if (p) {
        p.ontrack = p.onicecandidate = p.onconnectionstatechange = null;
        p.oniceconnectionstatechange = p.onicegatheringstatechange = null;
        p.close();
      }
    }
  }

  window.CamgateWhep = { Session, parseIceLinks, sdpFragment, mSections, iceCreds, preferH264,
                         waitGathering };
})();
