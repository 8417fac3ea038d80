/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate's grid: every camera of GET cameras as a live tile, each a muted WHEP viewer of
 * its own (cam/NAME/whep, signaling in whep.js, video only), with the camera's name and
 * size under it. A tile is a link to the camera's viewer page (cam/NAME/): click or Enter
 * enlarges. Each tile recovers alone: no picture in time, a stalled picture or a refused
 * offer closes its session and retries with back-off; the camera's own state (from the
 * camera list, polled) is shown when it is not streaming.
 *
 * Every URL is relative to the page, so the grid works at "/" and behind a reverse proxy
 * that serves camgate under a path.
 *
 * Test hooks: window.camgateGrid (see `grid` below).
 */
'use strict';

(function () {
  const CAMERAS_PATH = 'cameras';
  const CAMERAS_INTERVAL_MS = 5000;
  const CONNECT_TIMEOUT_MS = 10000; // offer sent → first decoded frame
  const STALL_MS = 5000;            // no new frame for this long while playing → reconnect
  const DISCONNECTED_GRACE_MS = 3000;
  const STATS_INTERVAL_MS = 1000;
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];

  const gridEl = document.getElementById('grid');
  const summaryEl = document.getElementById('summary');

  const grid = {
    state: 'loading',  // loading | ready | unreachable
    cameras: null,     // the latest GET cameras answer
    error: null,
    tiles: [],         // one per camera, in the list's order (see Tile.hook)
    log: [],
  };
  window.camgateGrid = grid;

  function log(...args) {
    const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    grid.log.push(`${(performance.now() / 1000).toFixed(3)} ${line}`);
    if (grid.log.length > 500) grid.log.shift();
    console.log('[camgate grid]', line);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function loginNeeded() {
    window.location.assign('/login');
  }

  /* One camera's tile and its WHEP viewer. */
  class Tile {
    constructor(cam) {
      this.name = cam.name;
      this.cam = cam;
      this.base = new URL(`cam/${encodeURIComponent(cam.name)}/`, location.href);
      this.session = null;
      this.gen = 0;
      this.backoffIdx = 0;
      this.timers = { watchdog: null, stats: null, retry: null, disconnected: null };
      this.startedAt = 0;
      this.lastFrameAt = 0;
      this.lastFrames = 0;
      // What the test hook shows.
      this.hook = { name: cam.name, state: 'idle', cameraState: cam.state || null,
                    framesDecoded: 0, width: 0, height: 0, fps: 0, codec: null,
                    attempts: 0, reconnects: 0, error: null, retryIn: 0,
                    whep: null }; // the session's resource URL (WHEP Location)

      this.video = el('video');
      this.video.muted = true;
      this.video.autoplay = true;
      this.video.playsInline = true;
      this.video.disablePictureInPicture = true;
      this.video.setAttribute('muted', '');
      this.video.setAttribute('playsinline', '');
      this.status = el('p', 'tile-status', 'connecting…');
      this.nameEl = el('span', 'name', cam.name);
      this.sizeEl = el('span', 'size');
      this.fpsEl = el('span', 'fps');
      this.stateEl = el('span', 'state');
      const frame = el('div', 'frame');
      frame.append(this.video, this.status);
      const caption = el('div', 'caption');
      caption.append(this.nameEl, this.sizeEl, this.fpsEl, this.stateEl);
      this.link = el('a', 'tile');
      this.link.href = this.base.href;
      this.link.append(frame, caption);
      this.item = el('li');
      this.item.append(this.link);
      this.update(cam);
    }

    /* A new entry of the camera list for this camera. */
    update(cam) {
      const was = this.cam.state;
      this.cam = cam;
      this.hook.cameraState = cam.state || null;
      this.sizeEl.textContent = cam.width && cam.height ? `${cam.width}×${cam.height}` : '';
      const failing = !!cam.state && cam.state !== 'streaming';
      this.stateEl.textContent = failing ? `camera ${cam.state}` : '';
      this.stateEl.hidden = !failing;
      this.link.classList.toggle('failing', failing);
      this.link.setAttribute('aria-label', `Watch ${cam.name}${this.sizeEl.textContent ? ', ' +
        this.sizeEl.textContent : ''}${failing ? ', camera ' + cam.state : ''}`);
      // The camera is back while this tile waits out its back-off: try now.
      const wasFailing = !!was && was !== 'streaming';
      if (wasFailing && !failing && this.hook.state === 'retrying') {
        log(this.name, 'camera streaming again: reconnecting now');
        this.backoffIdx = 0;
        this.connect();
      }
      this.render();
    }

    setState(state, text, warn) {
      this.hook.state = state;
      this.status.textContent = text || '';
      this.status.hidden = !text;
      this.status.classList.toggle('warn', !!warn);
    }

    render() {
      const h = this.hook;
      this.fpsEl.textContent = h.state === 'playing' && h.fps ? `${h.fps.toFixed(0)} fps` : '';
    }

    clearTimers() {
      clearTimeout(this.timers.watchdog);
      clearInterval(this.timers.stats);
      clearTimeout(this.timers.retry);
      clearTimeout(this.timers.disconnected);
      this.timers = { watchdog: null, stats: null, retry: null, disconnected: null };
    }

    teardown() {
      this.gen++;
      this.clearTimers();
      if (this.session) {
        this.session.close();
        this.session = null;
      }
      this.hook.whep = null;
      this.video.srcObject = null;
    }

    /* Ends the tile for good (its camera left the list, or the page goes). */
    stop() {
      this.teardown();
      this.setState('stopped', null);
    }

    scheduleRetry(reason) {
      this.teardown();
      const delay = BACKOFF_MS[Math.min(this.backoffIdx, BACKOFF_MS.length - 1)];
      // A little spread, so that tiles that failed together (a daemon restart) do not all
      // come back in the same millisecond.
      const wait = delay + Math.floor(Math.random() * 250);
      this.backoffIdx++;
      this.hook.reconnects++;
      this.hook.error = reason;
      log(this.name, 'retry in', wait, 'ms:', reason);
      const my = this.gen;
      const until = performance.now() + wait;
      const tick = () => {
        if (my !== this.gen) return;
        const left = Math.max(0, until - performance.now());
        this.hook.retryIn = Math.ceil(left / 1000);
        if (left <= 0) {
          this.connect();
          return;
        }
        const what = this.cam.state && this.cam.state !== 'streaming' ? `camera ${this.cam.state}` : 'no stream';
        this.setState('retrying', `${what}, retrying in ${this.hook.retryIn}s`, true);
        this.render();
        this.timers.retry = setTimeout(tick, left % 1000 || 1000);
      };
      tick();
    }

    watchPeer(p, my) {
      p.ontrack = (e) => {
        if (my !== this.gen || e.track.kind !== 'video') return;
        const media = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
        if (this.video.srcObject !== media) {
          this.video.srcObject = media;
          const pl = this.video.play();
          if (pl) pl.catch((err) => log(this.name, 'play()', String(err)));
        }
      };
      p.onconnectionstatechange = () => {
        if (my !== this.gen) return;
        const st = p.connectionState;
        log(this.name, 'connection', st);
        if (st === 'connected') {
          clearTimeout(this.timers.disconnected);
          this.timers.disconnected = null;
        } else if (st === 'failed') {
          this.scheduleRetry('connection failed');
        } else if (st === 'disconnected') {
          clearTimeout(this.timers.disconnected);
          this.timers.disconnected = setTimeout(() => {
            if (my === this.gen && p.connectionState !== 'connected') this.scheduleRetry('disconnected');
          }, DISCONNECTED_GRACE_MS);
        }
      };
    }

    async pollStats(p, my) {
      let report;
      try {
        report = await p.getStats();
      } catch (e) {
        return;
      }
      if (my !== this.gen) return;
      let inbound = null;
      const byId = new Map();
      report.forEach((s) => {
        byId.set(s.id, s);
        if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      });
      if (!inbound) return;
      const h = this.hook;
      const frames = inbound.framesDecoded || 0;
      h.framesDecoded = frames;
      h.fps = inbound.framesPerSecond || 0;
      h.width = this.video.videoWidth || inbound.frameWidth || 0;
      h.height = this.video.videoHeight || inbound.frameHeight || 0;
      const codec = inbound.codecId ? byId.get(inbound.codecId) : null;
      if (codec) h.codec = codec.mimeType;
      if (frames > this.lastFrames) {
        this.lastFrames = frames;
        this.lastFrameAt = performance.now();
        if (h.state !== 'playing') {
          log(this.name, 'playing', `${(this.lastFrameAt - this.startedAt).toFixed(0)} ms after start`);
          this.backoffIdx = 0;
          h.error = null;
          this.setState('playing', null);
        }
      }
      this.render();
    }

    async connect() {
      this.teardown();
      const my = this.gen;
      const h = this.hook;
      h.attempts++;
      h.retryIn = 0;
      h.framesDecoded = 0;
      h.fps = 0;
      this.lastFrames = 0;
      this.lastFrameAt = 0;
      this.startedAt = performance.now();
      this.setState('connecting', 'connecting…');
      this.render();

      const s = new window.CamgateWhep.Session(new URL('whep', this.base), {
        audio: null, // a muted tile: the picture only
        log: (...a) => log(this.name, ...a),
        onPeer: (p) => this.watchPeer(p, my),
      });
      this.session = s;
      try {
        if (!(await s.start()) || my !== this.gen) return;
        h.whep = s.location;
      } catch (e) {
        if (my !== this.gen) return;
        if (e && e.status === 401) { loginNeeded(); return; }
        log(this.name, 'connect failed', String(e));
        // The daemon's reason (e.g. the viewer limit) is worth showing as it is.
        this.scheduleRetry(e && e.status ? `${e.status} ${e.reason}`.trim() : String(e.message || e));
        return;
      }
      const p = s.pc;
      this.timers.stats = setInterval(() => this.pollStats(p, my), STATS_INTERVAL_MS);

      const watch = () => {
        if (my !== this.gen) return;
        const now = performance.now();
        if (h.state !== 'playing') {
          if (now - this.startedAt > CONNECT_TIMEOUT_MS) return this.scheduleRetry('no picture');
        } else if (now - this.lastFrameAt > STALL_MS && document.visibilityState === 'visible') {
          return this.scheduleRetry('picture stalled');
        }
        this.timers.watchdog = setTimeout(watch, 500);
      };
      this.timers.watchdog = setTimeout(watch, 500);
    }
  }

  const tiles = new Map(); // name → Tile

  function setSummary(text, warn) {
    summaryEl.textContent = text;
    summaryEl.classList.toggle('warn', !!warn);
  }

  /* Brings the tiles in line with the camera list: new cameras get a tile (and connect),
   * gone ones lose theirs, the rest are updated; the list's order is the grid's. */
  function applyCameras(list) {
    const seen = new Set();
    for (const cam of list) {
      if (!cam || typeof cam.name !== 'string' || !cam.name || seen.has(cam.name)) continue;
      seen.add(cam.name);
      let t = tiles.get(cam.name);
      if (t) {
        t.update(cam);
      } else {
        t = new Tile(cam);
        tiles.set(cam.name, t);
        log('camera', cam.name, `${cam.width}x${cam.height}`, cam.state);
        t.connect();
      }
      gridEl.append(t.item); // appending an existing node moves it: the list's order
    }
    for (const [name, t] of tiles) {
      if (seen.has(name)) continue;
      log('camera gone', name);
      t.stop();
      t.item.remove();
      tiles.delete(name);
    }
    grid.tiles = [...seen].map((n) => tiles.get(n).hook);
    const failing = grid.tiles.filter((h) => h.cameraState && h.cameraState !== 'streaming').length;
    const n = grid.tiles.length;
    setSummary(n === 0 ? 'no cameras'
      : `${n} camera${n === 1 ? '' : 's'}${failing ? `, ${failing} not streaming` : ''}`, failing > 0);
  }

  let camerasTimer = null;

  async function pollCameras() {
    clearTimeout(camerasTimer);
    try {
      const r = await fetch(new URL(CAMERAS_PATH, location.href), { cache: 'no-store' });
      if (r.status === 401) { loginNeeded(); return; }
      if (!r.ok) throw new Error(`GET ${CAMERAS_PATH}: ${r.status}`);
      const body = await r.json();
      if (!body || !Array.isArray(body.cameras)) throw new Error(`GET ${CAMERAS_PATH}: no camera list`);
      grid.cameras = body;
      grid.state = 'ready';
      grid.error = null;
      applyCameras(body.cameras);
    } catch (e) {
      // The daemon may be restarting: the tiles retry on their own; the list comes back.
      grid.state = tiles.size ? 'ready' : 'unreachable';
      grid.error = String(e.message || e);
      log('camera list:', grid.error);
      setSummary(`camera list unavailable (${grid.error}), retrying`, true);
    }
    camerasTimer = setTimeout(pollCameras, CAMERAS_INTERVAL_MS);
  }

  // Leaving (a tile opened, the tab closed): every session is ended (DELETE), so that the
  // daemon frees the viewers at once. Back from the back/forward cache: start again.
  window.addEventListener('pagehide', () => {
    clearTimeout(camerasTimer);
    for (const t of tiles.values()) t.teardown();
  });
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    for (const t of tiles.values()) {
      t.backoffIdx = 0;
      t.connect();
    }
    pollCameras();
  });
  document.addEventListener('visibilitychange', () => {
    // Hidden tabs may not decode: restart the stall clocks on return.
    if (document.visibilityState !== 'visible') return;
    const now = performance.now();
    for (const t of tiles.values()) if (t.lastFrameAt) t.lastFrameAt = now;
  });

  grid.reload = pollCameras;
  grid.tile = (name) => tiles.get(name);
  pollCameras();
})();
