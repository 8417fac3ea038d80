/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate viewer: a WHEP (draft-ietf-wish-whep) viewer (the signaling is in whep.js), statistics
 * overlay and capture-to-display latency read back from the block code that the test pattern
 * writes into the picture. No framework, no external resources.
 *
 * Sound: the stream's audio plays through the <video> element, which starts muted (so it
 * may autoplay) until the viewer turns the sound on (remembered in localStorage). The offer's
 * audio transceiver is sendrecv from the start, without a track: when the daemon answers
 * that it receives (a speaker for talkback), a push-to-talk button appears; its first press
 * asks for the microphone and puts it on the transceiver (replaceTrack, no renegotiation).
 *
 * Test hooks: everything measured is in window.camgate (see `cg` below).
 */
'use strict';

(function () {
  const WHEP_PATH = 'whep';
  const STATUS_PATH = 'status';
  const CONNECT_TIMEOUT_MS = 10000; // offer sent → first frame
  const DISCONNECTED_GRACE_MS = 3000;
  const STALL_MS = 2500;           // no new frame for this long while playing → reconnect
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
  const STATS_INTERVAL_MS = 1000;
  const DAEMON_STATUS_INTERVAL_MS = 2000;
  const MAX_LATENCIES = 20000;
  const SOUND_KEY = 'camgate.sound';  // localStorage: '1' sound on, '0' off
  const TALK_TAIL_MS = 250;           // keep sending this long after release (last syllable)

  /* Block code (see DESIGN.md, "Timing"): 16x16 cells, left to right, wrapping at the
   * picture width; 0 white, 1 black, 2..49 capture ms (48 bits, MSB first), 50..65
   * frame counter (16 bits). */
  const CELL = 16;
  const CELLS = 66;

  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const statusEl = $('status');
  const overlay = $('overlay');
  const toggle = $('toggle-overlay');
  const soundBtn = $('sound');
  const talkBtn = $('talk');
  const talkHelp = $('talk-help');
  const talkNote = $('talk-note');

  const params = new URLSearchParams(location.search);

  /* ?server= says where the daemon's WHEP and /status are when this page is served under
   * another path (a reverse proxy: ?server=/cam/). It may name this page's own origin only,
   * as a path or as a full URL: a link to ?server=https://elsewhere.example/ would have the
   * page send its offer (and the viewer's microphone, on talk) to another site and show that
   * site's stream as this camera's. The resolved URL's origin is compared, so "//host",
   * "/\host", "javascript:" and the like are refused too. Returns the base URL and, when
   * the parameter was refused, what it said. */
  function serverBase(param, here) {
    const own = new URL('./', here);
    if (param === null || param === '') return { url: own, refused: null };
    let url;
    try {
      url = new URL(param, here);
    } catch (e) {
      return { url: own, refused: param };
    }
    if (url.origin !== here.origin || !/^https?:$/.test(url.protocol)) {
      return { url: own, refused: param };
    }
    return { url, refused: null };
  }

  const server = serverBase(params.get('server'), new URL(location.href));
  const baseUrl = server.url;

  const cg = {
    state: 'idle',           // idle | connecting | connected | playing | retrying
    codec: null,             // e.g. "video/H264"
    fmtp: null,
    loadAt: performance.now(),
    connectStartedAt: null,  // performance.now() of the current attempt
    connectedAt: null,       // ICE/DTLS connected (pc.connectionState), this attempt
    firstFrameAt: null,      // first presented frame, this attempt (performance.now())
    firstFrameAtFirst: null, // first presented frame since page load
    attempts: 0,
    reconnects: 0,
    framesDecoded: 0,        // from getStats inbound-rtp
    framesPresented: 0,      // requestVideoFrameCallback calls
    latencies: [],           // capture → the compositor frame that draws it, ms, one per code
    presentedLatencies: [],  // capture → made the video's current frame, ms
    receiveLatencies: [],    // capture → the frame's last packet received, ms
    chromiumDisplayLatencies: [], // capture → Chromium's expectedDisplayTime, ms (see below)
    videoTimeline: [],       // [capture wall ms, latency ms] of the same readings
    callbackLatencies: [],   // capture → requestVideoFrameCallback run, ms
    // Any camera: capture (the abs-capture-time RTP header extension, as
    // getSynchronizationSources() returns it) → the compositor frame that draws it, ms.
    absLatencies: [],
    absPairs: [],            // [block code ms, abs-capture-time ms] of the same frames
    absCapture: { offered: false, answered: false, reads: 0, misses: 0 },
    firstLatency: null,      // of the first frame of a connection (excluded from latencies)
    codeReads: 0,
    codeRejects: 0,
    lastCapture: null,       // {ms, counter}
    counterSkips: 0,
    width: 0,
    height: 0,
    fps: 0,
    bitrateKbps: 0,
    stats: {},               // latest raw inbound-rtp figures + derived breakdown
    daemon: null,            // latest /status JSON
    audio: {
      offered: null,         // the answer's audio direction (daemon's side): sendonly,
                             // sendrecv, recvonly, or null when audio was rejected
      receiving: false,      // the stream has sound (answer sendonly/sendrecv)
      talkback: false,       // the daemon plays our microphone (answer sendrecv/recvonly)
      soundOn: false,        // the viewer wants sound (button)
      muted: true,           // the <video>'s actual muted state
      blocked: false,        // the browser refused unmuted playback (no user gesture yet)
      codec: null,           // e.g. "audio/opus"
      packetsReceived: 0,
      packetsLost: 0,
      audioLevel: 0,         // 0..1, inbound-rtp audioLevel (latest)
      totalAudioEnergy: 0,
      totalSamplesDuration: 0,
      jitterBufferAvgMs: null,
      packetsSent: 0,        // outbound (talkback)
      talking: false,        // the push-to-talk button is held
      micState: 'none',      // none | asking | ready | denied | insecure
      micError: null,
      talks: 0,              // presses
    },
    whep: { location: null, patches: 0, lastError: null },
    log: [],
    retryIn: 0,
  };
  window.camgate = cg;

  function log(...args) {
    const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    cg.log.push(`${(performance.now() / 1000).toFixed(3)} ${line}`);
    if (cg.log.length > 500) cg.log.shift();
    console.log('[camgate]', line);
  }

  function setState(state, text, warn) {
    cg.state = state;
    if (text) {
      statusEl.textContent = text;
      statusEl.hidden = false;
      statusEl.classList.toggle('warn', !!warn);
    } else {
      statusEl.hidden = true;
    }
  }

  /* ---------- overlay ---------- */

  function setOverlayVisible(v) {
    overlay.hidden = !v;
    toggle.setAttribute('aria-pressed', String(v));
  }
  toggle.addEventListener('click', () => setOverlayVisible(overlay.hidden));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'i' && !e.ctrlKey && !e.metaKey && !e.altKey) setOverlayVisible(overlay.hidden);
  });
  if (params.get('overlay') === '0') setOverlayVisible(false);

  function median(arr) {
    if (!arr.length) return NaN;
    const s = arr.slice().sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  }

  function renderOverlay() {
    $('ov-fps').textContent = cg.state === 'playing' ? cg.fps.toFixed(0) : '–';
    $('ov-bitrate').textContent = cg.state === 'playing'
      ? (cg.bitrateKbps >= 1000 ? `${(cg.bitrateKbps / 1000).toFixed(2)} Mbit/s`
                                : `${cg.bitrateKbps.toFixed(0)} kbit/s`)
      : '–';
    // The block code where the picture has one (the test pattern), else the capture time
    // the daemon stamps on every frame (abs-capture-time): a real camera's figure.
    const recent = cg.latencies.slice(-30);
    const recentAbs = cg.absLatencies.slice(-30);
    const latEl = $('ov-latency');
    if (cg.state !== 'playing' || (!recent.length && !recentAbs.length)) {
      latEl.textContent = '–';
    } else if (recent.length) {
      latEl.textContent = `${median(recent).toFixed(0)} ms`;
      latEl.title = 'capture to display, read back from the picture';
    } else {
      latEl.textContent = `${median(recentAbs).toFixed(0)} ms`;
      latEl.title = 'capture to display, from the capture time the daemon stamps on each frame ' +
        '(abs-capture-time; the two clocks must agree)';
    }
    $('ov-latency-abs').textContent = recentAbs.length && cg.state === 'playing'
      ? `${median(recentAbs).toFixed(0)} ms` : '–';
    const codec = cg.codec ? cg.codec.replace(/^video\//, '') : '';
    $('ov-video').textContent = cg.width ? `${cg.width}×${cg.height} ${codec}` : '–';
    const a = cg.audio;
    let audioText = '–';
    if (a.receiving && a.codec && cg.state === 'playing') {
      const name = a.codec.replace(/^audio\//, '');
      audioText = `${name} ${a.muted ? 'muted' : 'on'}`;
    } else if (cg.state === 'playing' && a.offered === null) {
      audioText = 'none';
    }
    if (a.talking) audioText += ', talking';
    $('ov-audio').textContent = audioText;
  }

  /* ---------- sound: the stream's audio, muted until the viewer turns it on ---------- */

  function storedSound() {
    try {
      return localStorage.getItem(SOUND_KEY) === '1';
    } catch (e) {
      return false; // storage disabled: sound starts off
    }
  }

  function storeSound(on) {
    try {
      localStorage.setItem(SOUND_KEY, on ? '1' : '0');
    } catch (e) {
      /* not remembered, still applied */
    }
  }

  function renderSound() {
    const a = cg.audio;
    const on = !video.muted;
    a.muted = video.muted;
    soundBtn.hidden = !a.receiving;
    soundBtn.setAttribute('aria-pressed', String(on));
    soundBtn.classList.toggle('on', on);
    soundBtn.querySelector('.label').textContent = on ? 'Sound on'
      : (a.blocked && a.soundOn ? 'Sound off: click to play' : 'Sound off');
    soundBtn.title = on ? 'Mute the camera\'s sound (m)' : 'Play the camera\'s sound (m)';
  }

  /* Applies cg.audio.soundOn to the <video>. Playing with sound needs a user gesture in
   * most browsers (Chromium pauses an element that is unmuted without one): then the
   * picture goes on muted and the next click or key on the page turns the sound on. */
  async function applySound() {
    const a = cg.audio;
    if (!a.soundOn || !a.receiving) {
      a.blocked = false;
      video.muted = true;
      renderSound();
      return;
    }
    if (!video.muted && !video.paused) {
      a.blocked = false;
      renderSound();
      return;
    }
    video.muted = false;
    renderSound(); // the button follows at once; a refused play() turns it back below
    try {
      await video.play();
      a.blocked = false;
    } catch (e) {
      a.blocked = true;
      video.muted = true;
      video.play().catch(() => {});
      log('sound needs a click or a key:', String(e && e.name));
    }
    renderSound();
    renderOverlay();
  }

  function toggleSound() {
    const a = cg.audio;
    a.soundOn = video.muted; // muted now: the viewer asks for sound
    storeSound(a.soundOn);
    applySound();
  }

  soundBtn.addEventListener('click', toggleSound);
  // The first gesture anywhere on the page may play the sound the viewer asked for before.
  const gesture = (e) => {
    if (soundBtn.contains(e.target)) return; // its own click decides
    if (cg.audio.soundOn && cg.audio.blocked) applySound();
  };
  document.addEventListener('pointerdown', gesture, true);
  document.addEventListener('keydown', gesture, true);
  video.addEventListener('volumechange', () => { renderSound(); renderOverlay(); });
  cg.audio.soundOn = storedSound();

  /* ---------- talkback: push to talk ---------- */

  const MIC_IDLE_MS = 30000;     // release the microphone after this long unused
  let audioTx = null;            // this connection's audio transceiver (sendrecv, no track)
  let micTrack = null;           // kept across presses and reconnects while in use
  let micPromise = null;
  let micIdleTimer = null;
  let talkLatched = false;       // started by a click without a hold (Enter, screen reader)

  function micPossible() {
    return !!(window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function showTalkNote(text) {
    talkNote.textContent = text || '';
    talkNote.hidden = !text;
  }

  function renderTalk() {
    const a = cg.audio;
    const secure = micPossible();
    talkBtn.hidden = !(a.talkback && secure);
    if (a.talkback && !secure) {
      a.micState = 'insecure';
      showTalkNote('Talkback needs the microphone, and browsers grant it only to pages opened '
                   + 'over https or on localhost. Open this page at its https address to talk.');
    } else if (a.talkback && a.micState === 'denied') {
      showTalkNote(`No microphone: ${a.micError}. Allow it for this site and press again.`);
    } else {
      showTalkNote(null);
    }
    talkBtn.setAttribute('aria-pressed', String(a.talking));
    talkBtn.classList.toggle('on', a.talking);
    talkBtn.classList.toggle('asking', a.micState === 'asking');
  }

  function getMic() {
    if (micTrack && micTrack.readyState === 'live') return Promise.resolve(micTrack);
    if (!micPromise) {
      cg.audio.micState = 'asking';
      renderTalk();
      micPromise = navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
      }).then((stream) => {
        micTrack = stream.getAudioTracks()[0];
        micTrack.enabled = false;
        micTrack.addEventListener('ended', () => { micTrack = null; });
        cg.audio.micState = 'ready';
        cg.audio.micError = null;
        return micTrack;
      }).catch((e) => {
        cg.audio.micState = 'denied';
        cg.audio.micError = e && e.name === 'NotAllowedError' ? 'permission denied'
          : String((e && (e.message || e.name)) || e);
        throw e;
      }).finally(() => {
        micPromise = null;
        renderTalk();
      });
    }
    return micPromise;
  }

  function releaseMicLater() {
    clearTimeout(micIdleTimer);
    micIdleTimer = setTimeout(() => {
      if (cg.audio.talking || !micTrack) return;
      if (audioTx && audioTx.sender.track === micTrack) audioTx.sender.replaceTrack(null).catch(() => {});
      micTrack.stop();
      micTrack = null;
      cg.audio.micState = 'none';
      log('talk: microphone released');
    }, MIC_IDLE_MS);
  }

  /* Press: the microphone goes on the transceiver the offer made sendrecv, enabled. */
  async function talkStart() {
    const a = cg.audio;
    if (a.talking) return true;
    if (!a.talkback || !audioTx || !micPossible()) return false;
    a.talking = true;
    a.talks++;
    clearTimeout(micIdleTimer);
    renderTalk();
    renderOverlay();
    const tx = audioTx;
    let track;
    try {
      track = await getMic();
    } catch (e) {
      log('talk: getUserMedia failed:', String(e && (e.name || e)));
      a.talking = false;
      talkLatched = false;
      renderTalk();
      return false;
    }
    if (!a.talking || tx !== audioTx) return false; // released, or reconnected, meanwhile
    track.enabled = true;
    try {
      if (tx.sender.track !== track) await tx.sender.replaceTrack(track);
    } catch (e) {
      log('talk: replaceTrack failed:', String(e));
      a.talking = false;
      renderTalk();
      return false;
    }
    log('talk: on');
    return a.talking;
  }

  /* Release: the track is disabled and taken off the sender, so the browser stops sending
   * (a disabled track still sends encoded silence, which would hold the daemon's talkback
   * floor against every other viewer). */
  function talkStop() {
    const a = cg.audio;
    talkLatched = false;
    if (!a.talking) return;
    a.talking = false;
    if (micTrack) micTrack.enabled = false;
    if (audioTx && audioTx.sender.track) audioTx.sender.replaceTrack(null).catch(() => {});
    log('talk: off');
    releaseMicLater();
    renderTalk();
    renderOverlay();
  }

  let pointerTalk = false;
  talkBtn.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    pointerTalk = true;
    try { talkBtn.setPointerCapture(e.pointerId); } catch (err) { /* not capturable */ }
    talkStart();
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    talkBtn.addEventListener(ev, () => { if (!talkLatched) talkStop(); });
  }
  talkBtn.addEventListener('contextmenu', (e) => e.preventDefault()); // long touch
  // A click that no hold preceded (Enter, a screen reader's activation) toggles talking.
  talkBtn.addEventListener('click', () => {
    if (pointerTalk || spaceTalk) { pointerTalk = false; return; }
    if (cg.audio.talking) {
      talkStop();
    } else {
      talkLatched = true;
      talkStart();
    }
  });

  // Space bar: held anywhere on the page (except on another control, which space activates).
  let spaceTalk = false;
  const spaceTarget = (e) => e.target === talkBtn || e.target === document.body ||
    e.target === video || e.target === document.documentElement;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'm' && !e.ctrlKey && !e.metaKey && !e.altKey && !soundBtn.hidden) {
      toggleSound();
      return;
    }
    if (e.key !== ' ' || !spaceTarget(e) || talkBtn.hidden) return;
    e.preventDefault();
    if (e.repeat || spaceTalk) return;
    spaceTalk = true;
    talkStart();
  });
  document.addEventListener('keyup', (e) => {
    if (e.key !== ' ' || !spaceTalk) return;
    e.preventDefault();
    spaceTalk = false;
    if (!talkLatched) talkStop();
  });
  // A release can be missed (focus moved away while held): stop talking then.
  window.addEventListener('blur', () => { spaceTalk = false; talkStop(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') talkStop();
  });

  /* What the daemon answered for audio, from the transceiver's side: sendrecv (it sends
   * and plays our microphone), recvonly (it sends), sendonly (it only plays), or stopped
   * (audio rejected). */
  function onAnswerAudio(tx) {
    const a = cg.audio;
    const mine = tx && !tx.stopped ? tx.currentDirection : null;
    a.offered = { sendrecv: 'sendrecv', recvonly: 'sendonly', sendonly: 'recvonly',
                  inactive: 'inactive' }[mine] || null;
    a.receiving = mine === 'sendrecv' || mine === 'recvonly';
    a.talkback = mine === 'sendrecv' || mine === 'sendonly';
    log('audio', a.offered || 'none', a.talkback ? '(talkback available)' : '');
    renderSound();
    renderTalk();
  }

  /* ---------- block code read-back ---------- */

  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });

  function readBlockCode(w, h) {
    const perRow = Math.floor(w / CELL);
    if (perRow < 1) return null;
    const rows = Math.ceil(CELLS / perRow);
    const stripH = rows * CELL;
    if (stripH > h) return null;
    if (canvas.width !== w || canvas.height !== stripH) {
      canvas.width = w;
      canvas.height = stripH;
    }
    // Only the code rows, at native scale.
    ctx.drawImage(video, 0, 0, w, stripH, 0, 0, w, stripH);
    const px = ctx.getImageData(0, 0, w, stripH).data;
    const cell = (i) => {
      const x0 = (i % perRow) * CELL + 6;
      const y0 = Math.floor(i / perRow) * CELL + 6;
      let sum = 0;
      for (let y = y0; y < y0 + 4; y++) {
        for (let x = x0; x < x0 + 4; x++) {
          const o = (y * w + x) * 4;
          sum += 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2];
        }
      }
      return sum / 16;
    };
    const white = cell(0);
    const black = cell(1);
    // Reference cells must be clearly white and black, else this is not our pattern
    // (or a broken decode): reject.
    if (!(white > 180 && black < 75 && white - black > 120)) return null;
    const thr = (white + black) / 2;
    const margin = (white - black) * 0.2; // a cell this close to the threshold is a misread
    const bit = (i) => {
      const v = cell(i);
      if (Math.abs(v - thr) < margin) throw new RangeError('ambiguous cell');
      return v > thr ? 1 : 0;
    };
    let ms = 0;
    let counter = 0;
    try {
      for (let i = 2; i < 50; i++) ms = ms * 2 + bit(i);
      for (let i = 50; i < 66; i++) counter = counter * 2 + bit(i);
    } catch (e) {
      return null;
    }
    return { ms, counter };
  }

  let rvfcHandle = null;
  let rvfcGen = 0;
  let videoReceiver = null; // this connection's video RTCRtpReceiver
  let lastAbsRtp = null;    // RTP timestamp of the last frame given an abs-capture-time figure

  // NTP (1900) to Unix (1970) epoch, ms: captureTimestamp is on the sender's NTP clock.
  const NTP_UNIX_OFFSET_MS = 2208988800000;

  /*
   * The capture instant of the frame md describes, in Unix ms, from the abs-capture-time
   * header extension as Chromium returns it: getSynchronizationSources()' entry for the
   * frame (the same RTP timestamp) with captureTimestamp (NTP ms) plus, when the receiver
   * estimated one, senderCaptureTimeOffset (capture clock → this clock). Null when the
   * stream has none or the entry is already the next frame's.
   */
  function absCaptureWallMs(md) {
    if (!videoReceiver || !videoReceiver.getSynchronizationSources) return null;
    let sources;
    try {
      sources = videoReceiver.getSynchronizationSources();
    } catch (e) {
      return null;
    }
    for (const src of sources) {
      if (typeof src.captureTimestamp !== 'number') continue;
      if (md.rtpTimestamp !== undefined && src.rtpTimestamp !== md.rtpTimestamp) return null;
      const offset = typeof src.senderCaptureTimeOffset === 'number' ? src.senderCaptureTimeOffset : 0;
      return src.captureTimestamp + offset - NTP_UNIX_OFFSET_MS;
    }
    return null;
  }

  function onVideoFrame(gen, now, md) {
    if (gen !== rvfcGen) return;
    rvfcHandle = video.requestVideoFrameCallback((n, m) => onVideoFrame(gen, n, m));
    cg.framesPresented++;
    lastFrameAt = performance.now();
    if (cg.firstFrameAt === null) {
      cg.firstFrameAt = lastFrameAt;
      if (cg.firstFrameAtFirst === null) cg.firstFrameAtFirst = lastFrameAt;
      log('first frame', `${(cg.firstFrameAt - cg.connectStartedAt).toFixed(0)} ms after offer`);
      backoffIdx = 0;
      setState('playing', null);
      applySound();
    }
    const w = md.width || video.videoWidth;
    const h = md.height || video.videoHeight;
    cg.width = w;
    cg.height = h;
    // The picture first, before anything that takes time: the video element moves on to
    // the next frame as soon as it is decoded, and a code read later may be that frame's.
    let code = null;
    try {
      code = readBlockCode(w, h);
    } catch (e) {
      code = null;
    }
    cg.codeReads++;
    // The frame's instants on the wall clock (CLOCK_REALTIME, which the daemon stamps):
    // performance.timeOrigin + t would drift from it by several ms over a page's life, so
    // each is anchored to Date.now() right here.
    const wallNow = Date.now();
    const perfNow = performance.now();
    const toWall = (t) => wallNow + (t - perfNow);
    // md.presentationTime: when Chromium made the decoded frame the video's current frame.
    // The screen shows it from the compositor frame that first draws it: the first frame
    // boundary (vsync) after it, which is the latency figure. Chromium's own
    // md.expectedDisplayTime is not used for it because it means different things on
    // Chromium's two render paths: a sender with playout-delay 0 (camgate) takes the
    // immediate path, where Chromium reports the end of the last render interval it saw
    // (measured 0 to 2 refreshes after the boundary, depending on when the compositor last
    // asked); a jitter-buffered sender takes the scheduled path, where the frame is picked
    // at a boundary and Chromium reports that boundary. The grid is the same for both
    // paths, so this figure compares senders; Chromium's is kept apart.
    const presentedAt = md.presentationTime || now;
    noteFrameBoundary(now);
    const shownAt = drawingBoundary(presentedAt);
    // Any camera: the same display instant against the capture time the daemon stamped.
    let absLat = null;
    if (shownAt !== null && md.rtpTimestamp !== lastAbsRtp) {
      const captured = absCaptureWallMs(md);
      if (captured !== null) {
        absLat = toWall(shownAt) - captured;
        cg.absCapture.reads++;
        lastAbsRtp = md.rtpTimestamp;
        if (absLat > -1000 && absLat < 60000) pushBounded(cg.absLatencies, absLat);
        else absLat = null;
      } else {
        cg.absCapture.misses++;
      }
    }
    if (!code) {
      cg.codeRejects++;
      return;
    }
    if (shownAt === null) return; // the refresh interval is still being measured
    const lat = toWall(shownAt) - code.ms;
    const presentedLat = toWall(presentedAt) - code.ms;
    const chromiumDisplayLat = toWall(Math.max(md.expectedDisplayTime, presentedAt)) - code.ms;
    // A decoded time far from the local clock is a misread, not a latency.
    if (!(lat > -1000 && lat < 60000)) {
      cg.codeRejects++;
      return;
    }
    if (cg.lastCapture && code.counter === cg.lastCapture.counter && code.ms === cg.lastCapture.ms) {
      return; // same picture presented again
    }
    if (cg.lastCapture && ((cg.lastCapture.counter + 1) & 0xffff) !== code.counter) {
      cg.counterSkips++;
    }
    const first = cg.lastCapture === null;
    cg.lastCapture = { ms: code.ms, counter: code.counter };
    if (first) {
      // The first frame of a call may have been made before the call was up.
      cg.firstLatency = lat;
      return;
    }
    pushBounded(cg.latencies, lat);
    if (absLat !== null) pushBounded(cg.absPairs, [lat, absLat]);
    pushBounded(cg.presentedLatencies, presentedLat);
    pushBounded(cg.chromiumDisplayLatencies, chromiumDisplayLat);
    pushBounded(cg.videoTimeline, [code.ms, lat]);
    // Capture → this callback (the decoded frame is in the page's hands): measured, no
    // compositor estimate in it.
    pushBounded(cg.callbackLatencies, wallNow - code.ms);
    if (md.receiveTime) pushBounded(cg.receiveLatencies, toWall(md.receiveTime) - code.ms);
  }

  // The display's frame grid: frame boundaries are the `now` of frame callbacks (vsync
  // times); the interval is the median gap of 30 animation frames, measured once.
  const frameGrid = { anchor: null, interval: null, measuring: false };

  function noteFrameBoundary(t) {
    frameGrid.anchor = t;
    if (frameGrid.interval !== null || frameGrid.measuring) return;
    frameGrid.measuring = true;
    const gaps = [];
    let last = null;
    const step = (ts) => {
      if (last !== null && ts > last) gaps.push(ts - last);
      last = ts;
      if (gaps.length < 30) {
        requestAnimationFrame(step);
        return;
      }
      frameGrid.interval = median(gaps);
      frameGrid.measuring = false;
    };
    requestAnimationFrame(step);
  }

  // The first frame boundary at or after t: when the compositor draws a frame made current
  // at t. A frame the scheduled path picks at a boundary is stamped up to about a
  // millisecond after it (FRAME_PICK_SLACK_MS): it is drawn at that boundary. Null until
  // the interval is known.
  const FRAME_PICK_SLACK_MS = 1;
  function drawingBoundary(t) {
    const g = frameGrid;
    if (g.interval === null || g.anchor === null) return null;
    const k = Math.ceil((t - FRAME_PICK_SLACK_MS - g.anchor) / g.interval);
    return g.anchor + k * g.interval;
  }

  function pushBounded(arr, x) {
    arr.push(x);
    if (arr.length > MAX_LATENCIES) arr.splice(0, arr.length - MAX_LATENCIES);
  }

  /* ---------- statistics ---------- */

  let prevBytes = null;
  let prevBytesAt = 0;
  let prevFrames = null;
  let statsTimer = null;
  let daemonTimer = null;

  async function pollStats(pc) {
    if (pc.signalingState === 'closed') return;
    let report;
    try {
      report = await pc.getStats();
    } catch (e) {
      return;
    }
    let inbound = null;
    let inAudio = null;
    let outAudio = null;
    const byId = new Map();
    report.forEach((s) => {
      byId.set(s.id, s);
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') inAudio = s;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') outAudio = s;
    });
    audioStats(inAudio, outAudio, byId);
    if (!inbound) return;
    const now = performance.now();
    const st = {
      bytesReceived: inbound.bytesReceived,
      packetsReceived: inbound.packetsReceived,
      packetsLost: inbound.packetsLost,
      nackCount: inbound.nackCount,
      pliCount: inbound.pliCount,
      firCount: inbound.firCount,
      framesReceived: inbound.framesReceived,
      framesDecoded: inbound.framesDecoded,
      keyFramesDecoded: inbound.keyFramesDecoded,
      framesDropped: inbound.framesDropped,
      framesPerSecond: inbound.framesPerSecond,
      freezeCount: inbound.freezeCount,
      jitter: inbound.jitter,
      jitterBufferDelay: inbound.jitterBufferDelay,
      jitterBufferTargetDelay: inbound.jitterBufferTargetDelay,
      jitterBufferEmittedCount: inbound.jitterBufferEmittedCount,
      totalDecodeTime: inbound.totalDecodeTime,
      totalProcessingDelay: inbound.totalProcessingDelay,
      totalAssemblyTime: inbound.totalAssemblyTime,
      decoderImplementation: inbound.decoderImplementation,
    };
    const jbc = inbound.jitterBufferEmittedCount;
    const fd = inbound.framesDecoded;
    st.jitterBufferAvgMs = jbc ? (inbound.jitterBufferDelay / jbc) * 1000 : null;
    st.decodeAvgMs = fd ? (inbound.totalDecodeTime / fd) * 1000 : null;
    st.processingAvgMs = fd && inbound.totalProcessingDelay !== undefined
      ? (inbound.totalProcessingDelay / fd) * 1000 : null;
    const codec = inbound.codecId ? byId.get(inbound.codecId) : null;
    if (codec) {
      cg.codec = codec.mimeType;
      cg.fmtp = codec.sdpFmtpLine || null;
    }
    // Selected candidate pair, for diagnostics.
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId.get(s.selectedCandidatePairId);
        if (pair) {
          const l = byId.get(pair.localCandidateId);
          const r = byId.get(pair.remoteCandidateId);
          st.rttMs = pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime * 1000 : null;
          st.localCandidate = l ? `${l.address || l.ip}:${l.port} ${l.candidateType}` : null;
          st.remoteCandidate = r ? `${r.address || r.ip}:${r.port} ${r.candidateType}` : null;
        }
      }
    });
    if (prevBytes !== null && now > prevBytesAt) {
      const dt = (now - prevBytesAt) / 1000;
      cg.bitrateKbps = ((inbound.bytesReceived - prevBytes) * 8) / 1000 / dt;
      cg.fps = inbound.framesPerSecond !== undefined
        ? inbound.framesPerSecond : (fd - prevFrames) / dt;
    }
    prevBytes = inbound.bytesReceived;
    prevFrames = fd;
    prevBytesAt = now;
    cg.framesDecoded = fd || 0;
    st.bitrateKbps = cg.bitrateKbps;
    cg.stats = st;
    renderOverlay();
  }

  function audioStats(inA, outA, byId) {
    const a = cg.audio;
    if (inA) {
      a.packetsReceived = inA.packetsReceived || 0;
      a.packetsLost = inA.packetsLost || 0;
      a.audioLevel = inA.audioLevel || 0;
      a.totalAudioEnergy = inA.totalAudioEnergy || 0;
      a.totalSamplesDuration = inA.totalSamplesDuration || 0;
      a.jitterBufferAvgMs = inA.jitterBufferEmittedCount
        ? (inA.jitterBufferDelay / inA.jitterBufferEmittedCount) * 1000 : null;
      a.jitterBufferTargetMs = inA.jitterBufferEmittedCount && inA.jitterBufferTargetDelay !== undefined
        ? (inA.jitterBufferTargetDelay / inA.jitterBufferEmittedCount) * 1000 : null;
      // NetEq's repairs: concealed (a packet missing at play time), stretched or squeezed.
      a.totalSamplesReceived = inA.totalSamplesReceived || 0;
      a.concealedSamples = inA.concealedSamples || 0;
      a.insertedSamplesForDeceleration = inA.insertedSamplesForDeceleration || 0;
      a.removedSamplesForAcceleration = inA.removedSamplesForAcceleration || 0;
      const c = inA.codecId ? byId.get(inA.codecId) : null;
      if (c) a.codec = c.mimeType;
    }
    if (outA) a.packetsSent = outA.packetsSent || 0;
  }

  async function pollDaemon() {
    try {
      const r = await fetch(new URL(STATUS_PATH, baseUrl), { cache: 'no-store' });
      if (r.ok) cg.daemon = await r.json();
    } catch (e) {
      /* the daemon may be restarting; the connection logic deals with it */
    }
  }

  /* ---------- WHEP session (signaling in whep.js) ---------- */

  let pc = null;
  let session = null;     // this attempt's CamgateWhep.Session
  let gen = 0;
  let backoffIdx = 0;
  let watchdog = null;
  let disconnectedTimer = null;
  let retryTimer = null;
  let lastFrameAt = 0;

  function teardown() {
    gen++;
    rvfcGen++;
    if (rvfcHandle !== null && video.cancelVideoFrameCallback) video.cancelVideoFrameCallback(rvfcHandle);
    rvfcHandle = null;
    clearTimeout(watchdog);
    clearTimeout(disconnectedTimer);
    clearInterval(statsTimer);
    clearInterval(daemonTimer);
    watchdog = disconnectedTimer = statsTimer = daemonTimer = null;
    if (session) {
      session.close(); // DELETE, and the peer connection closed
      session = null;
    }
    pc = null;
    cg.whep.location = null;
    if (cg.audio.talking) talkStop();
    audioTx = null;
    cg.remoteStream = null;
    Object.assign(cg.audio, { offered: null, receiving: false, talkback: false, codec: null });
    renderSound();
    renderTalk();
  }

  function scheduleRetry(reason) {
    teardown();
    clearTimeout(retryTimer);
    const delay = BACKOFF_MS[Math.min(backoffIdx, BACKOFF_MS.length - 1)];
    backoffIdx++;
    cg.reconnects++;
    log('retry in', delay, 'ms:', reason);
    const until = performance.now() + delay;
    const tick = () => {
      const left = Math.max(0, until - performance.now());
      cg.retryIn = Math.ceil(left / 1000);
      if (left <= 0) {
        retryTimer = null;
        connect();
        return;
      }
      setState('retrying', `no stream, retrying in ${cg.retryIn}s`, true);
      retryTimer = setTimeout(tick, left % 1000 || 1000);
    };
    tick();
  }

  /* The handlers of this attempt's peer connection (CamgateWhep.Session's onPeer). */
  function watchPeer(p, my) {
    pc = p;
    // Sound and picture share the daemon's stream (one msid): both play in the <video>.
    let media = null;
    p.ontrack = (e) => {
      if (my !== gen) return;
      if (!media) media = e.streams && e.streams[0] ? e.streams[0] : new MediaStream();
      if (!media.getTracks().includes(e.track)) media.addTrack(e.track);
      cg.remoteStream = media;
      if (video.srcObject !== media) {
        video.srcObject = media;
        const pl = video.play();
        if (pl) {
          // play() never settles if ICE never connects: the watchdog covers that.
          pl.catch((err) => log('play()', String(err)));
        }
      }
      if (e.track.kind !== 'video') return;
      rvfcGen++;
      const g = rvfcGen;
      if (video.requestVideoFrameCallback) {
        rvfcHandle = video.requestVideoFrameCallback((n, m) => onVideoFrame(g, n, m));
      }
    };
    p.onconnectionstatechange = () => {
      if (my !== gen) return;
      const st = p.connectionState;
      log('connection', st);
      if (st === 'connected') {
        if (cg.connectedAt === null) cg.connectedAt = performance.now();
        clearTimeout(disconnectedTimer);
        disconnectedTimer = null;
      } else if (st === 'failed') {
        scheduleRetry('connection failed');
      } else if (st === 'disconnected') {
        clearTimeout(disconnectedTimer);
        disconnectedTimer = setTimeout(() => {
          if (my === gen && p.connectionState !== 'connected') scheduleRetry('disconnected');
        }, DISCONNECTED_GRACE_MS);
      }
    };
    p.oniceconnectionstatechange = () => log('ice', p.iceConnectionState);
  }

  async function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    teardown();
    const my = gen;
    cg.attempts++;
    cg.connectStartedAt = performance.now();
    cg.connectedAt = null;
    cg.firstFrameAt = null;
    cg.lastCapture = null;
    cg.whep.lastError = null;
    prevBytes = null;
    lastFrameAt = 0;
    setState('connecting', 'connecting…');

    // The audio transceiver is sendrecv from the start, with no track (nothing is sent):
    // talkback needs no renegotiation, only replaceTrack when push-to-talk is first pressed.
    const s = new window.CamgateWhep.Session(new URL(WHEP_PATH, baseUrl), {
      audio: 'sendrecv',
      log,
      onPeer: (p, sess) => {
        audioTx = sess.audioTx;
        videoReceiver = sess.videoTx ? sess.videoTx.receiver : null;
        lastAbsRtp = null;
        cg.absCapture.offered = !!sess.absCaptureTimeOffered;
        watchPeer(p, my);
      },
      onPatch: () => { cg.whep.patches++; },
    });
    session = s;
    try {
      if (!(await s.start()) || my !== gen) return;
      cg.whep.location = s.location;
      cg.absCapture.answered = !!(s.pc && s.pc.remoteDescription &&
        s.pc.remoteDescription.sdp.includes('rtp-hdrext/abs-capture-time'));
      onAnswerAudio(s.audioTx);
    } catch (e) {
      if (my !== gen) return;
      if (e && e.status === 401) { window.location.assign('/login'); return; }
      if (e && e.status) cg.whep.lastError = `${e.status} ${e.reason}`;
      log('connect failed', String(e));
      scheduleRetry(String(e.message || e));
      return;
    }
    const p = s.pc;

    statsTimer = setInterval(() => pollStats(p), STATS_INTERVAL_MS);
    pollDaemon();
    daemonTimer = setInterval(pollDaemon, DAEMON_STATUS_INTERVAL_MS);

    // No picture in time, or the picture stops (daemon restarted, network gone): start over.
    const watch = () => {
      if (my !== gen) return;
      const now = performance.now();
      if (cg.firstFrameAt === null) {
        if (now - cg.connectStartedAt > CONNECT_TIMEOUT_MS) return scheduleRetry('no picture');
      } else if (now - lastFrameAt > STALL_MS && document.visibilityState === 'visible') {
        return scheduleRetry('picture stalled');
      }
      watchdog = setTimeout(watch, 500);
    };
    watchdog = setTimeout(watch, 500);
  }

  window.addEventListener('pagehide', () => {
    teardown();
    if (micTrack) micTrack.stop();
  });
  document.addEventListener('visibilitychange', () => {
    // rVFC does not run in hidden tabs: restart the stall clock on return.
    if (document.visibilityState === 'visible') lastFrameAt = performance.now();
  });

  // A refused ?server= is said on the page too (as text: it came from the link), not only
  // in the console, so that whoever followed the link sees the page stayed on this camera.
  if (server.refused !== null) {
    console.warn('[camgate] ignoring ?server=%s: not this page\'s origin (%s); ' +
                 'using this server', server.refused, location.origin);
    log('ignored ?server= of another origin', server.refused);
    const note = document.createElement('p');
    note.className = 'hint warn';
    note.setAttribute('role', 'status');
    note.textContent = 'This link asked the page to connect to another server ' +
      '(?server=); that was ignored, and this is the camera of ' + location.host + '.';
    $('controls').append(note);
  }
  cg.server = { base: baseUrl.href, refused: server.refused };
  cg.serverBase = serverBase;

  cg.connect = connect;
  cg.disconnect = teardown;
  cg.median = median;
  // Push-to-talk for tests and embedders: talk(true) resolves true once the microphone is
  // on the sender; talk(false) releases.
  cg.talk = (on) => (on ? talkStart() : Promise.resolve(talkStop()));
  cg.peer = () => pc;
  cg.setSound = (on) => { cg.audio.soundOn = !!on; storeSound(!!on); return applySound(); };
  renderSound();
  renderTalk();
  setInterval(renderOverlay, 1000);
  connect();
})();
