#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Drives Debian's headless Chromium (through playwright-core, never a downloaded browser)
// against a running camgate: opens the viewer page, waits for frames, reads back the
// figures the page exposes in window.camgate, and checks the WHEP error paths.
//
// Must run inside the network namespace that run.sh / latency.sh create: the browser and
// the daemon then talk over the namespace's own interfaces only.
//
// usage: node e2e.js --url http://127.0.0.1:PORT/ [--mode test|bench] [--frames N]
//                    [--min-latencies N] [--timeout SEC] [--label TEXT] [--json FILE]
//                    [--audio] [--playback-file FILE --talk-ms MS] [--audio-beeps N]
//
// --audio: the daemon sends its test tone (--audio=test); the page must receive Opus with
// energy, and its sound button must work. --playback-file: the daemon plays talkback into
// this raw s16le stereo file (an ALSA file PCM); push-to-talk is held for --talk-ms with
// Chromium's fake microphone and the recording must not be silence. --audio-beeps N
// (bench): measure N beep onsets of the test tone in the page (AudioWorklet on the
// received track) for audio capture-to-play latency and the A/V offset.
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const a = { mode: 'test', frames: 90, minLatencies: 60, timeout: 60, label: '', url: null, json: null,
              restartPid: null, restartCmd: null, restartPidfile: null, restartLog: null,
              audio: false, playbackFile: null, talkMs: 2000, audioBeeps: 0 };
  for (let i = 2; i < argv.length; i++) {
    const [k, v0] = argv[i].split('=', 2);
    if (k === '--audio' && v0 === undefined) { a.audio = true; continue; }
    const v = v0 !== undefined ? v0 : argv[++i];
    switch (k) {
      case '--url': a.url = v; break;
      case '--mode': a.mode = v; break;
      case '--frames': a.frames = Number(v); break;
      case '--min-latencies': a.minLatencies = Number(v); break;
      case '--timeout': a.timeout = Number(v); break;
      case '--label': a.label = v; break;
      case '--json': a.json = v; break;
      // Restart check: kill the daemon (this PID), start it again (this JSON argv, output
      // appended to restart-log, new PID written to restart-pidfile), and expect the
      // page to come back on its own.
      case '--restart-pid': a.restartPid = Number(v); break;
      case '--restart-cmd': a.restartCmd = JSON.parse(v); break;
      case '--restart-pidfile': a.restartPidfile = v; break;
      case '--restart-log': a.restartLog = v; break;
      case '--audio': a.audio = v !== '0'; break;
      case '--playback-file': a.playbackFile = v; break;
      case '--talk-ms': a.talkMs = Number(v); break;
      case '--audio-beeps': a.audioBeeps = Number(v); break;
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!a.url) throw new Error('--url is required');
  return a;
}

const { SKIP, launch } = require('./chromium');

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn (async, returns a value or null/false) every `every` ms until it returns
// something truthy or `ms` have passed; returns the last value.
async function pollUntil(fn, ms, every = 100) {
  const until = Date.now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= until) return v;
    await sleep(every);
  }
}

// The daemon's talkback recording from byte `from` on: raw s16le, 2 channels, 48 kHz.
// Returns the RMS over it, the loudest 20 ms window's RMS and how long is loud (> 1 % of
// full scale in a 20 ms window).
function playbackLevels(file, from) {
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) { return { bytes: 0, error: String(e) }; }
  const start = Math.min(from - (from % 4), buf.length);
  const n = Math.floor((buf.length - start) / 2);
  const WIN = 960 * 2; // 20 ms of stereo samples
  let sum = 0;
  let win = 0;
  let winN = 0;
  let peakWin = 0;
  let loudWins = 0;
  for (let i = 0; i < n; i++) {
    const v = buf.readInt16LE(start + 2 * i);
    sum += v * v;
    win += v * v;
    if (++winN === WIN) {
      const r = Math.sqrt(win / WIN);
      if (r > peakWin) peakWin = r;
      if (r > 327) loudWins++;
      win = 0;
      winN = 0;
    }
  }
  return { bytes: buf.length, from: start, seconds: n / 2 / 48000, rms: n ? Math.sqrt(sum / n) : 0,
           peakWindowRms: peakWin, loudMs: loudWins * 20 };
}

// Installed in the page (bench): an AudioWorklet on the received audio track finds each
// beep onset of the test tone (the first sample above ~5 % of full scale after ≥ 300 ms of
// quiet) and maps its AudioContext time to the wall clock at which it is played out
// (getOutputTimestamp), and to the wall clock at which the main thread heard of it.
// Chromium feeds WebAudio from a remote track only while the track is attached to a media
// element: the page's <video> holds it (muted).
async function installAudioProbe(page) {
  return page.evaluate(async () => {
    if (window.__cgProbe) return window.__cgProbe.state;
    const c = window.camgate;
    const track = c.remoteStream && c.remoteStream.getAudioTracks()[0];
    if (!track) return 'no audio track';
    const probe = { state: 'starting', onsets: [], error: null };
    window.__cgProbe = probe;
    try {
      const ctx = new AudioContext({ latencyHint: 'interactive' });
      await ctx.resume();
      const code = `
        class Onset extends AudioWorkletProcessor {
          constructor() { super(); this.quiet = 0; }
          process(inputs) {
            const ch = inputs[0] && inputs[0][0];
            if (!ch) return true;
            for (let i = 0; i < ch.length; i++) {
              if (Math.abs(ch[i]) > 0.05) {
                if (this.quiet > 0.3 * sampleRate) {
                  this.port.postMessage({ time: currentTime + i / sampleRate });
                }
                this.quiet = 0;
              } else {
                this.quiet++;
              }
            }
            return true;
          }
        }
        registerProcessor('cg-onset', Onset);`;
      const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
      await ctx.audioWorklet.addModule(url);
      const node = new AudioWorkletNode(ctx, 'cg-onset');
      const src = ctx.createMediaStreamSource(new MediaStream([track]));
      src.connect(node);
      node.connect(ctx.destination); // pulled by the graph; it outputs silence
      node.port.onmessage = (e) => {
        const perfNow = performance.now();
        const wallNow = Date.now();
        const ts = ctx.getOutputTimestamp();
        const playPerf = ts.performanceTime + (e.data.time - ts.contextTime) * 1000;
        probe.onsets.push({ ctxTime: e.data.time, playWall: wallNow + (playPerf - perfNow),
                            heardWall: wallNow, outputLatencyMs: (ctx.outputLatency || 0) * 1000,
                            baseLatencyMs: (ctx.baseLatency || 0) * 1000 });
      };
      probe.ctx = ctx;
      probe.sampleRate = ctx.sampleRate;
      probe.state = 'running';
    } catch (e) {
      probe.state = 'failed';
      probe.error = String(e);
    }
    return probe.state;
  });
}

// Audio latency per beep: the beep was captured at the whole wall-clock second before its
// onset was played; the video latency of the same moment is the median of the block-code
// readings captured within ±500 ms of that second; A/V offset = audio − video (> 0: the
// sound comes after the picture).
function audioFigures(onsets, timeline) {
  const rows = [];
  for (const o of onsets) {
    const second = Math.floor(o.playWall / 1000) * 1000;
    const audio = o.playWall - second;
    const near = timeline.filter(([cap]) => Math.abs(cap - second) <= 500).map(([, l]) => l).sort((x, y) => x - y);
    const video = near.length ? pct(near, 50) : NaN;
    rows.push({ second, audio, heard: o.heardWall - second, video, offset: audio - video,
                outputLatencyMs: o.outputLatencyMs });
  }
  const sorted = (k) => rows.map((r) => r[k]).filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  const A = sorted('audio');
  const V = sorted('video');
  const O = sorted('offset');
  const H = sorted('heard');
  const absO = O.map(Math.abs).sort((x, y) => x - y);
  return { n: rows.length, rows,
           audio: { p50: pct(A, 50), p95: pct(A, 95), min: A[0], max: A[A.length - 1] },
           heard: { p50: pct(H, 50), p95: pct(H, 95) },
           video: { p50: pct(V, 50), p95: pct(V, 95) },
           offset: { p50: pct(O, 50), p95: pct(O, 95), min: O[0], max: O[O.length - 1], absP95: pct(absO, 95) },
           outputLatencyMs: rows.length ? rows[rows.length - 1].outputLatencyMs : null };
}

const f1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x).toFixed(1));

// A bare-bones HTTP client (node's fetch would do, but this shows raw status lines).
async function http(method, url, headers, body) {
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  return { status: r.status, headers: Object.fromEntries(r.headers.entries()), body: text };
}

// Rewrites a Chromium offer so its video m-section offers only H.264 High profile.
function highProfileOnly(sdp) {
  const lines = sdp.split('\r\n');
  const out = [];
  let section = 'session';
  let keep = null; // payload type kept in the video section
  // First pass: find an H.264 payload type in the video section.
  let inVideo = false;
  for (const l of lines) {
    if (l.startsWith('m=')) inVideo = l.startsWith('m=video');
    const m = inVideo && /^a=rtpmap:(\d+) H264\/90000/i.exec(l);
    if (m && keep === null) keep = m[1];
  }
  if (keep === null) throw new Error('offer has no H.264');
  for (const l of lines) {
    if (l.startsWith('m=')) {
      section = l.startsWith('m=video') ? 'video' : 'other';
      if (section === 'video') {
        const parts = l.split(' ');
        out.push(parts.slice(0, 3).concat([keep]).join(' '));
        continue;
      }
    }
    if (section === 'video') {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(l);
      if (pt && pt[1] !== keep) continue;
      if (pt && l.startsWith('a=fmtp:')) {
        out.push(`a=fmtp:${keep} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f`);
        continue;
      }
    }
    out.push(l);
  }
  return out.join('\r\n');
}

async function main() {
  const args = parseArgs(process.argv);
  const tag = args.label ? `[${args.label}] ` : '';
  const say = (...m) => console.log(`${tag}${m.join(' ')}`);

  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    console.log('SKIP: playwright-core not installed (cd tests/browser && npm ci)');
    return SKIP;
  }

  const origin = new URL(args.url).origin;
  const failures = [];
  const fail = (m) => { failures.push(m); say(`FAIL: ${m}`); };

  // Network: the namespace has lo (127.0.0.1) and, when run.sh could add one, a dummy
  // interface with a TEST-NET address. Chromium gathers raw host candidates (no mDNS
  // .local names a server cannot resolve) only for an origin that has camera permission,
  // and gathers loopback only with --allow-loopback-in-peer-connection. Both together make
  // it offer 127.0.0.1 and the dummy address, so the call connects whichever of the two
  // the daemon gathers (libnice skips loopback unless the daemon adds it itself).
  // The bench's sound probe loads its AudioWorklet from a blob: URL, which camgate's
  // Content-Security-Policy (scripts from the server only) refuses: only the bench lifts it.
  const browser = await launch('chromium', { viewport: { width: 1280, height: 720 },
                                             ...(args.audioBeeps ? { bypassCSP: true } : {}) });
  if (browser.skip) { console.log(`SKIP: ${browser.skip}`); return SKIP; }
  const { context } = browser;
  const whepLog = [];
  let result = {};
  try {
    await context.grantPermissions(['camera', 'microphone'], { origin });
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => console.log(`${tag}[page ${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => console.log(`${tag}[page error] ${e.message}`));
    // camgate's Content-Security-Policy must refuse nothing the page itself loads or runs.
    page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) fail(`CSP violation: ${m.text()}`); });
    page.on('requestfailed', (r) => console.log(`${tag}[page request failed] ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
    page.on('response', async (r) => {
      const u = new URL(r.url());
      if (!u.pathname.startsWith('/whep')) return;
      const req = r.request();
      const entry = { method: req.method(), url: u.pathname, status: r.status(),
                      reqBody: req.postData(), location: r.headers().location, resBody: null };
      try { entry.resBody = await r.text(); } catch { /* no body */ }
      whepLog.push(entry);
      console.log(`${tag}[http] ${entry.method} ${entry.url} -> ${entry.status}${entry.location ? ' Location: ' + entry.location : ''}`);
    });

    const t0 = Date.now();
    await page.goto(args.url, { waitUntil: 'load', timeout: 15000 });

    // Wait for enough frames (test) or enough latency readings (bench).
    const deadline = t0 + args.timeout * 1000;
    let cg = null;
    let lastPrint = 0;
    let probe = null;
    for (;;) {
      cg = await page.evaluate(() => {
        const c = window.camgate;
        const p = window.__cgProbe;
        return c ? { state: c.state, framesDecoded: c.framesDecoded, framesPresented: c.framesPresented,
                     nlat: c.latencies.length, whep: c.whep, codec: c.codec,
                     nabs: c.absPairs.length, absCapture: c.absCapture,
                     hasAudioTrack: !!(c.remoteStream && c.remoteStream.getAudioTracks().length),
                     beeps: p ? p.onsets.length : 0 } : null;
      });
      // Bench with sound: the onset probe goes on as soon as the audio track is there.
      if (args.audioBeeps && cg && cg.hasAudioTrack && cg.state === 'playing' &&
          (probe === null || probe === 'no audio track')) {
        probe = await installAudioProbe(page);
        say(`audio probe: ${probe}`);
        if (probe === 'failed') {
          fail(`audio probe: ${await page.evaluate(() => window.__cgProbe.error)}`);
        }
      }
      const beepsOk = !args.audioBeeps || probe === 'failed' || (cg && cg.beeps >= args.audioBeeps);
      // Wait for the readings as well as the frames: on a busy machine Chromium calls
      // back (and the page reads the block code) for fewer of the frames it decodes.
      // Test: as many frames with both figures (block code and abs-capture-time) as block
      // code readings, unless the page could not offer the extension (failed below).
      const absOk = args.mode !== 'test' ||
        (cg && (!cg.absCapture.offered || cg.nabs >= args.minLatencies));
      const enough = cg && cg.framesDecoded >= args.frames &&
        cg.nlat >= (args.mode === 'bench' ? args.frames : args.minLatencies) && beepsOk && absOk;
      if (enough) break;
      if (Date.now() > deadline) {
        fail(`timed out after ${args.timeout}s: ${JSON.stringify(cg)}`);
        break;
      }
      if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        say(`waiting: ${JSON.stringify(cg)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // One more stats poll so framesDecoded and the breakdown are current.
    await new Promise((r) => setTimeout(r, 1100));

    const full = await page.evaluate(() => {
      const c = window.camgate;
      return JSON.parse(JSON.stringify({
        state: c.state, codec: c.codec, fmtp: c.fmtp, framesDecoded: c.framesDecoded,
        framesPresented: c.framesPresented, latencies: c.latencies, callbackLatencies: c.callbackLatencies, firstLatency: c.firstLatency,
        receiveLatencies: c.receiveLatencies, presentedLatencies: c.presentedLatencies,
        chromiumDisplayLatencies: c.chromiumDisplayLatencies,
        codeReads: c.codeReads, codeRejects: c.codeRejects, counterSkips: c.counterSkips,
        width: c.width, height: c.height, attempts: c.attempts, reconnects: c.reconnects,
        loadAt: c.loadAt, connectStartedAt: c.connectStartedAt, connectedAt: c.connectedAt,
        firstFrameAt: c.firstFrameAtFirst, stats: c.stats, daemon: c.daemon, whep: c.whep,
        log: c.log, navStart: 0, audio: c.audio, videoTimeline: c.videoTimeline,
        onsets: window.__cgProbe ? window.__cgProbe.onsets : null,
        absLatencies: c.absLatencies, absPairs: c.absPairs, absCapture: c.absCapture,
      }));
    });

    // Bench: exactly the first `frames` readings; test: all of them.
    const lats = (args.mode === 'bench' ? full.latencies.slice(0, args.frames) : full.latencies);
    const sorted = lats.slice().sort((a, b) => a - b);
    const figure = (arr) => {
      const x = (args.mode === 'bench' ? arr.slice(0, args.frames) : arr).slice().sort((a, b) => a - b);
      return { n: x.length, p50: pct(x, 50), p95: pct(x, 95), max: x[x.length - 1] };
    };
    const st = full.stats || {};
    const d = (full.daemon && full.daemon.latency_ms) || {};
    result = {
      label: args.label,
      codec: full.codec, fmtp: full.fmtp, size: `${full.width}x${full.height}`,
      framesDecoded: full.framesDecoded, framesPresented: full.framesPresented,
      latency: { n: sorted.length, min: sorted[0], p50: pct(sorted, 50), p95: pct(sorted, 95),
                 max: sorted[sorted.length - 1], first: full.firstLatency },
      callback: figure(full.callbackLatencies),
      receive: figure(full.receiveLatencies || []),
      presented: figure(full.presentedLatencies || []),
      chromiumDisplay: figure(full.chromiumDisplayLatencies || []),
      codeRejects: full.codeRejects, codeReads: full.codeReads, counterSkips: full.counterSkips,
      loadToFirstFrameMs: full.firstFrameAt !== null ? full.firstFrameAt - full.loadAt : null,
      offerToConnectedMs: full.connectedAt !== null ? full.connectedAt - full.connectStartedAt : null,
      offerToFirstFrameMs: full.firstFrameAt !== null && full.attempts === 1 ? full.firstFrameAt - full.connectStartedAt : null,
      attempts: full.attempts,
      browser: { jitterBufferAvgMs: st.jitterBufferAvgMs, decodeAvgMs: st.decodeAvgMs,
                 processingAvgMs: st.processingAvgMs, bitrateKbps: st.bitrateKbps,
                 packetsLost: st.packetsLost, nackCount: st.nackCount, pliCount: st.pliCount,
                 framesDropped: st.framesDropped, freezeCount: st.freezeCount,
                 decoder: st.decoderImplementation, rttMs: st.rttMs,
                 localCandidate: st.localCandidate, remoteCandidate: st.remoteCandidate },
      daemon: { encodeP50: d.encode_p50, encodeP95: d.encode_p95,
                captureToSendP50: d.capture_to_send_p50, captureToSendP95: d.capture_to_send_p95,
                viewers: full.daemon && full.daemon.viewers, version: full.daemon && full.daemon.version },
    };

    // abs-capture-time against the block code, frame by frame (the same display instant,
    // so the difference is the two capture clocks': the daemon stamps both from one).
    {
      const pairs = args.mode === 'bench' ? full.absPairs.slice(0, args.frames) : full.absPairs;
      const code = pairs.map((x) => x[0]).sort((a, b) => a - b);
      const stamp = pairs.map((x) => x[1]).sort((a, b) => a - b);
      const diff = pairs.map((x) => x[1] - x[0]).sort((a, b) => a - b);
      result.absCapture = {
        ...full.absCapture, n: pairs.length, all: figure(full.absLatencies),
        codeP50: pct(code, 50), stampP50: pct(stamp, 50),
        diffP50: pct(diff, 50), diffMin: diff[0], diffMax: diff[diff.length - 1],
      };
      const A = result.absCapture;
      say(`abs-capture-time: offered ${A.offered}, answered ${A.answered}, ${A.reads} frames read ` +
          `(${A.misses} without), ${A.n} with the block code too: p50 block code ${f1(A.codeP50)} ms, ` +
          `abs-capture-time ${f1(A.stampP50)} ms; per frame abs - code p50 ${f1(A.diffP50)} ms ` +
          `(min ${f1(A.diffMin)}, max ${f1(A.diffMax)})`);
    }

    if (full.onsets) {
      // The first onset is left out (the jitter buffers settle).
      const settled = full.onsets.filter((o, i) => i > 0);
      result.av = audioFigures(args.audioBeeps ? settled.slice(0, args.audioBeeps) : settled, full.videoTimeline);
      say(`audio onsets (ms after the whole second: played/heard by the page/video latency then/offset = played - video): ` +
          result.av.rows.map((r) => `${f1(r.audio)}/${f1(r.heard)}/${f1(r.video)}/${f1(r.offset)}`).join(' '));
      const x = full.audio;
      say(`audio receiver: ${x.packetsReceived} packets, lost ${x.packetsLost}, jitter buffer avg ${f1(x.jitterBufferAvgMs)} ms ` +
          `(target avg ${f1(x.jitterBufferTargetMs)} ms), concealed ${x.concealedSamples} of ${x.totalSamplesReceived} samples, ` +
          `stretched +${x.insertedSamplesForDeceleration} −${x.removedSamplesForAcceleration} samples`);
      if (args.mode === 'bench' && args.audioBeeps && result.av.n < Math.min(5, args.audioBeeps)) {
        fail(`only ${result.av.n} beep onsets measured`);
      }
    }
    result.audio = full.audio;

    say(`selected pair: local ${st.localCandidate} remote ${st.remoteCandidate}; decoder ${st.decoderImplementation}; fmtp ${full.fmtp}`);
    say(`page log:\n  ${full.log.join('\n  ')}`);

    // ---- assertions on the stream ----
    if (!(full.framesDecoded >= args.frames)) fail(`frames decoded ${full.framesDecoded} < ${args.frames}`);
    if (!/^video\/H264$/i.test(full.codec || '')) fail(`codec is ${full.codec}, want video/H264`);
    if (sorted.length < args.minLatencies) fail(`only ${sorted.length} block-code latency readings (< ${args.minLatencies}); rejected ${full.codeRejects} of ${full.codeReads}`);
    if (args.mode === 'test') {
      // Issue 18: the capture → display figure any camera gets (abs-capture-time) agrees
      // with the block code's on the test pattern within 5 ms at p50.
      const A = result.absCapture;
      if (!A.offered) fail('the page could not offer abs-capture-time (setHeaderExtensionsToNegotiate)');
      else if (!A.answered) fail('the daemon did not answer abs-capture-time');
      else if (A.n < args.minLatencies) fail(`only ${A.n} frames with both the block code and abs-capture-time (< ${args.minLatencies})`);
      else if (!(Math.abs(A.stampP50 - A.codeP50) <= 5)) {
        fail(`abs-capture-time latency p50 ${f1(A.stampP50)} ms is not within 5 ms of the block code's ${f1(A.codeP50)} ms`);
      }
    }
    // Plausible: positive and under a second. The page's clock mapping (performance.now()
    // anchored to Date.now() at the callback) can be off by a millisecond or two, so a
    // reading in (-20, 0] ms is counted as noise (tolerated while rare, ≤ 2 %), anything
    // below -20 ms or above 1 s is a failure (a wrong clock, a misread code, or a real
    // stall).
    const bad = lats.filter((x) => !(x > -20 && x < 1000));
    const nonPos = lats.filter((x) => x <= 0 && x > -20);
    result.latency.implausible = bad.length;
    result.latency.nonPositive = nonPos.length;
    const show = (pred) => lats.map((x, i) => [i, x]).filter(([, x]) => pred(x)).slice(0, 5)
      .map(([i, x]) => `#${i}: ${x.toFixed(1)}`).join(', ');
    if (args.mode === 'test') {
      if (bad.length) fail(`${bad.length} implausible latencies (want 0 < x < 1000 ms): ${show((x) => !(x > -20 && x < 1000))}`);
      if (nonPos.length > Math.max(1, lats.length * 0.02)) fail(`${nonPos.length} of ${lats.length} latencies ≤ 0 ms: ${show((x) => x <= 0)}`);
    }

    if (args.mode === 'test' && args.audio) {
      // ---- sound from the daemon: Opus packets, the sound button, energy (the test tone) ----
      const audioNow = () => page.evaluate(() => window.camgate.audio);
      let a = await pollUntil(async () => { const x = await audioNow(); return x.packetsReceived > 0 && x.codec ? x : null; },
                              10000, 250) || await audioNow();
      const showAudio = (x) => `answer ${x.offered}, codec ${x.codec}, ${x.packetsReceived} packets, lost ${x.packetsLost}, ` +
          `level ${x.audioLevel}, energy ${x.totalAudioEnergy && x.totalAudioEnergy.toExponential(2)} over ` +
          `${f1(x.totalSamplesDuration)} s, jitter buffer ${f1(x.jitterBufferAvgMs)} ms, muted ${x.muted}`;
      say(`audio: ${showAudio(a)}`);
      if (!(a.packetsReceived > 0)) fail(`no audio received (inbound-rtp audio packetsReceived=${a.packetsReceived})`);
      if (!/^audio\/opus$/i.test(a.codec || '')) fail(`audio codec is ${a.codec}, want audio/opus`);
      const want = args.playbackFile ? 'sendrecv' : 'sendonly';
      if (a.offered !== want) fail(`the answer's audio section is ${a.offered}, want ${want}`);

      const ui = () => page.evaluate(() => {
        const b = document.getElementById('sound');
        const t = document.getElementById('talk');
        let stored = null;
        try { stored = localStorage.getItem('camgate.sound'); } catch { /* none */ }
        return { soundHidden: b.hidden, soundPressed: b.getAttribute('aria-pressed'),
                 soundText: b.textContent.trim(), muted: document.getElementById('video').muted,
                 paused: document.getElementById('video').paused, stored,
                 talkHidden: t.hidden, talkPressed: t.getAttribute('aria-pressed'),
                 noteHidden: document.getElementById('talk-note').hidden };
      });
      let u = await ui();
      if (u.soundHidden || !u.muted || u.soundPressed !== 'false') fail(`sound button before a click: ${JSON.stringify(u)} (want shown, muted, aria-pressed=false)`);
      await page.click('#sound');
      u = await pollUntil(async () => {
        const v = await ui();
        return !v.muted && v.soundPressed === 'true' && !v.paused ? v : null;
      }, 3000) || await ui();
      say(`sound button clicked: ${JSON.stringify(u)}`);
      if (u.muted || u.paused || u.soundPressed !== 'true' || u.stored !== '1') fail(`sound button did not turn the sound on: ${JSON.stringify(u)}`);
      // Chromium measures a remote track's level after the element's volume (0 while
      // muted): the tone's energy shows once the sound is on. A beep every second.
      const e0 = a.totalAudioEnergy;
      a = await pollUntil(async () => { const x = await audioNow(); return x.totalAudioEnergy > e0 ? x : null; },
                          5000, 250) || await audioNow();
      say(`audio with the sound on: ${showAudio(a)}`);
      result.audioEnergy = a.totalAudioEnergy;
      if (!(a.totalAudioEnergy > e0)) fail(`audio has no energy with the sound on (totalAudioEnergy ${e0} → ${a.totalAudioEnergy}): the test tone did not arrive`);
      await page.keyboard.press('m');
      u = await pollUntil(async () => {
        const v = await ui();
        return v.muted && v.soundPressed === 'false' ? v : null;
      }, 3000) || await ui();
      if (!u.muted || u.soundPressed !== 'false' || u.stored !== '0') fail(`"m" did not turn the sound off: ${JSON.stringify(u)}`);
      if (args.playbackFile && (u.talkHidden || !u.noteHidden)) fail(`push-to-talk not shown with talkback available: ${JSON.stringify(u)}`);
      if (!args.playbackFile && !u.talkHidden) fail('push-to-talk shown without talkback');
    }

    if (args.mode === 'test' && args.playbackFile) {
      // ---- talkback: hold push-to-talk with Chromium's fake microphone (it beeps) ----
      const outSent = () => page.evaluate(async () => {
        const p = window.camgate.peer();
        if (!p) return null;
        let n = 0;
        (await p.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') n = s.packetsSent; });
        return n;
      });
      const size0 = playbackLevels(args.playbackFile, 0).bytes || 0;
      const sent0 = await outSent();
      const box = await page.locator('#talk').boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const tPress = Date.now();
      await page.mouse.down();
      // The first press asks for the microphone: wait (polling) until it is on the sender.
      const on = await pollUntil(() => page.evaluate(() => {
        const c = window.camgate;
        const p = c.peer();
        const tx = p && p.getTransceivers().find((t) => t.receiver.track.kind === 'audio');
        return c.audio.talking && tx && tx.sender.track && tx.sender.track.enabled &&
          document.getElementById('talk').getAttribute('aria-pressed') === 'true';
      }), 5000, 50);
      const tOn = Date.now();
      if (!on) fail(`push-to-talk: the microphone is not on the sender ${tOn - tPress} ms after the press: ${JSON.stringify(await page.evaluate(() => window.camgate.audio))}`);
      // Talk for talk-ms (an action's length, not a wait for a condition).
      await sleep(args.talkMs);
      const sentHeld = await outSent();
      await page.mouse.up();
      const tUp = Date.now();
      const offState = await page.evaluate(() => ({ talking: window.camgate.audio.talking,
        pressed: document.getElementById('talk').getAttribute('aria-pressed') }));
      if (offState.talking || offState.pressed !== 'false') fail(`push-to-talk still on after release: ${JSON.stringify(offState)}`);
      say(`talkback: microphone on ${tOn - tPress} ms after the press, held ${tUp - tOn} ms, ${sentHeld - sent0} RTP packets sent`);
      if (!(sentHeld - sent0 > args.talkMs / 20 / 2)) fail(`push-to-talk sent only ${sentHeld - sent0} audio packets in ${args.talkMs} ms`);
      // The recording: polled until the talk has been played out (jitter buffer ≤ 200 ms).
      const lv = await pollUntil(() => {
        const l = playbackLevels(args.playbackFile, size0);
        return l.seconds >= args.talkMs / 1000 + 0.5 && l.peakWindowRms > 1000 ? l : null;
      }, 5000, 100) || playbackLevels(args.playbackFile, size0);
      result.talkback = lv;
      say(`talkback recording: ${JSON.stringify(lv)}`);
      if (!(lv.rms > 100 && lv.peakWindowRms > 1000 && lv.loudMs >= 40)) {
        fail(`talkback: the speaker's recording is (nearly) silence: rms ${f1(lv.rms)}, loudest 20 ms rms ${f1(lv.peakWindowRms)}, loud ${lv.loudMs} ms (want rms > 100, loudest > 1000, ≥ 40 ms loud)`);
      }
      // Released: nothing more is sent (no silence that would hold the talkback floor).
      const stopped = await pollUntil(async () => {
        const a1 = await outSent();
        await sleep(600);
        const a2 = await outSent();
        return a2 === a1 ? { a1, a2 } : null;
      }, 4000, 0);
      const sentAfter = await outSent();
      say(`after release: ${stopped ? 'no more audio packets' : 'still sending'} (${sentAfter - sentHeld} since the release)`);
      if (!stopped) fail('the page keeps sending audio after push-to-talk is released');

      // ---- a page that is not a secure context (plain http beyond localhost) cannot have
      // the microphone: it explains that instead of showing a button that cannot work ----
      const p2 = await context.newPage();
      try {
        await p2.addInitScript(() => {
          try { Object.defineProperty(window, 'isSecureContext', { value: false, configurable: true }); } catch { /* below */ }
          if (window.isSecureContext) Object.defineProperty(Object.getPrototypeOf(window), 'isSecureContext', { get: () => false, configurable: true });
        });
        await p2.goto(args.url, { waitUntil: 'load', timeout: 15000 });
        const ins = await pollUntil(() => p2.evaluate(() => (window.camgate && window.camgate.audio.talkback ? {
          secure: window.isSecureContext, talkHidden: document.getElementById('talk').hidden,
          noteHidden: document.getElementById('talk-note').hidden,
          note: document.getElementById('talk-note').textContent.trim() } : null)), 10000, 100);
        say(`insecure context: ${JSON.stringify(ins)}`);
        if (!ins) fail('second page (not a secure context): no talkback in its answer');
        else if (ins.secure !== false) fail('could not make the second page an insecure context');
        else if (!ins.talkHidden || ins.noteHidden || !/https/.test(ins.note) || !/localhost/.test(ins.note)) {
          fail(`not a secure context: want the https/localhost note instead of push-to-talk: ${JSON.stringify(ins)}`);
        }
        await p2.evaluate(() => window.camgate.disconnect());
      } finally {
        await p2.close();
      }

      // ---- ?server= naming another origin is refused: the page plays from its own ----
      const p3 = await context.newPage();
      try {
        const foreign = 'http://127.0.0.2:9/';
        const u = new URL(args.url);
        u.searchParams.set('server', foreign);
        await p3.goto(u.href, { waitUntil: 'load', timeout: 15000 });
        const r = await pollUntil(() => p3.evaluate(() => (window.camgate && window.camgate.framesDecoded > 0 ? {
          refused: window.camgate.server && window.camgate.server.refused,
          frames: window.camgate.framesDecoded } : null)), 15000, 100);
        say(`?server=${foreign}: ${JSON.stringify(r)}`);
        if (!r) fail(`?server=${foreign}: the page decoded nothing from its own server`);
        else if (r.refused !== foreign) fail(`?server=${foreign} was not refused: ${JSON.stringify(r)}`);
        await p3.evaluate(() => window.camgate.disconnect());
      } finally {
        await p3.close();
      }
    }

    if (args.mode === 'test') {
      // ---- HTTP contract: assets, /status, CORS, WHEP error paths ----
      for (const [p, ct] of [['/', 'text/html'], ['/app.js', 'javascript'], ['/style.css', 'text/css']]) {
        const r = await http('GET', origin + p);
        if (r.status !== 200 || !(r.headers['content-type'] || '').includes(ct)) {
          fail(`GET ${p} -> ${r.status} ${r.headers['content-type']} (want 200 ${ct})`);
        }
        // The page played above under this policy: nothing it needs is refused by it.
        if (!(r.headers['content-security-policy'] || '').includes("default-src 'self'")) {
          fail(`GET ${p}: Content-Security-Policy=${r.headers['content-security-policy']}`);
        }
      }
      const stR = await http('GET', origin + '/status');
      let status = null;
      try { status = JSON.parse(stR.body); } catch { /* checked below */ }
      if (stR.status !== 200 || !status) fail(`GET /status -> ${stR.status} ${stR.body.slice(0, 200)}`);
      else {
        say(`/status: ${stR.body.trim()}`);
        if (!(status.viewers >= 1)) fail(`/status viewers=${status.viewers} while a viewer is connected`);
        if (!status.latency_ms) fail('/status has no latency_ms');
      }

      const pre = await http('OPTIONS', origin + '/whep', {
        Origin: 'http://example.invalid', 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type' });
      if (pre.status !== 204 && pre.status !== 200) fail(`OPTIONS /whep -> ${pre.status} (want 204)`);
      // No --cors-origins: a page of another origin gets no CORS (issue 12).
      if (pre.headers['access-control-allow-origin'] !== undefined) fail(`OPTIONS /whep from an unlisted origin: Access-Control-Allow-Origin=${pre.headers['access-control-allow-origin']}`);

      const garbage = await http('POST', origin + '/whep', { 'Content-Type': 'application/sdp' },
        'this is not an SDP offer\r\n');
      say(`bad SDP -> ${garbage.status} ${JSON.stringify(garbage.body.trim().slice(0, 160))}`);
      if (!(garbage.status >= 400 && garbage.status < 500)) fail(`POST /whep with a bad SDP -> ${garbage.status} (want 4xx)`);
      else if (!garbage.body.trim()) fail('POST /whep with a bad SDP: 4xx without a reason in the body');
      if (garbage.headers['access-control-allow-origin'] !== undefined) fail(`POST /whep (error): Access-Control-Allow-Origin=${garbage.headers['access-control-allow-origin']}`);

      const offer = await page.evaluate(async () => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        pc.addTransceiver('audio', { direction: 'recvonly' });
        const o = await pc.createOffer();
        pc.close();
        return o.sdp;
      });
      const high = highProfileOnly(offer);
      const hr = await http('POST', origin + '/whep', { 'Content-Type': 'application/sdp' }, high);
      say(`High-profile-only offer -> ${hr.status} ${JSON.stringify(hr.body.trim().slice(0, 160))}`);
      if (!(hr.status >= 400 && hr.status < 500)) {
        fail(`POST /whep offering only H.264 High -> ${hr.status} (want 4xx)`);
        if (hr.headers.location) await http('DELETE', new URL(hr.headers.location, origin + '/whep').href);
        console.log(`${tag}offer sent:\n${high}\n${tag}answer:\n${hr.body}`);
      } else if (!hr.body.trim()) fail('POST /whep offering only High: 4xx without a reason');

      if (args.restartPid && args.restartCmd) {
        // The daemon restarts (upgrade, crash, systemd): the page must notice and reconnect.
        const before = await page.evaluate(() => ({ attempts: window.camgate.attempts,
                                                     presented: window.camgate.framesPresented }));
        say(`restart: SIGTERM camgate pid ${args.restartPid}`);
        const tKill = Date.now();
        process.kill(args.restartPid, 'SIGTERM');
        for (let i = 0; i < 100; i++) {
          try { process.kill(args.restartPid, 0); } catch { break; }
          await new Promise((r) => setTimeout(r, 50));
        }
        try { process.kill(args.restartPid, 0); process.kill(args.restartPid, 'SIGKILL'); say('restart: needed SIGKILL'); } catch { /* gone */ }
        const { spawn } = require('child_process');
        const out = fs.openSync(args.restartLog || '/dev/null', 'a');
        const child = spawn(args.restartCmd[0], args.restartCmd.slice(1), { stdio: ['ignore', out, out], detached: false });
        fs.closeSync(out);
        if (args.restartPidfile) fs.writeFileSync(args.restartPidfile, String(child.pid));
        say(`restart: started camgate again, pid ${child.pid}`);
        let back = null;
        for (const until = Date.now() + 30000; Date.now() < until;) {
          back = await page.evaluate(() => ({ state: window.camgate.state, attempts: window.camgate.attempts,
                                              presented: window.camgate.framesPresented,
                                              status: document.getElementById('status').textContent }));
          if (back.attempts > before.attempts && back.state === 'playing' &&
              back.presented >= before.presented + 30) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        const ok = back && back.attempts > before.attempts && back.state === 'playing' &&
          back.presented >= before.presented + 30;
        result.restartRecoveryMs = ok ? Date.now() - tKill : null;
        say(`restart: ${ok ? 'page playing again' : 'page did NOT recover'} ${((Date.now() - tKill) / 1000).toFixed(1)} s after the kill (${back && back.attempts - before.attempts} new attempts)`);
        if (!ok) fail(`page did not recover within 30 s of a daemon restart: ${JSON.stringify(back)}`);
      }

      // Leaving: DELETE the session, the daemon should drop the viewer.
      const loc = await page.evaluate(() => window.camgate.whep.location);
      if (loc) {
        await page.evaluate(() => window.camgate.disconnect());
        await new Promise((r) => setTimeout(r, 500));
        const s2 = await http('GET', origin + '/status');
        try {
          const v = JSON.parse(s2.body).viewers;
          say(`viewers after DELETE: ${v}`);
          if (v !== 0) fail(`/status viewers=${v} after the viewer's DELETE (want 0)`);
        } catch { fail(`/status after DELETE: ${s2.status}`); }
      } else fail('no Location header from POST /whep');
    }
  } catch (e) {
    fail(`harness error: ${e && e.stack || e}`);
  } finally {
    await browser.close();
  }

  if (failures.length) {
    console.log(`${tag}--- WHEP exchange (for the failure report) ---`);
    for (const e of whepLog) {
      console.log(`${tag}${e.method} ${e.url} -> ${e.status}${e.location ? ' Location: ' + e.location : ''}`);
      if (e.reqBody) console.log(`${tag}  request body:\n${e.reqBody}`);
      if (e.resBody) console.log(`${tag}  response body:\n${e.resBody}`);
    }
  }

  const L = result.latency || {};
  const B = result.browser || {};
  const D = result.daemon || {};
  say(`summary: ${failures.length ? 'FAIL' : 'PASS'} size=${result.size} codec=${result.codec} ` +
      `frames=${result.framesDecoded} latency_ms n=${L.n} p50=${f1(L.p50)} p95=${f1(L.p95)} max=${f1(L.max)} ` +
      `presented_p50=${f1(result.presented && result.presented.p50)} receive_p50=${f1(result.receive && result.receive.p50)} ` +
      `callback_p50=${f1(result.callback && result.callback.p50)} load_to_first_frame_ms=${f1(result.loadToFirstFrameMs)} offer_to_connected_ms=${f1(result.offerToConnectedMs)} ` +
      `daemon_encode_p50=${f1(D.encodeP50)} daemon_capture_to_send_p50=${f1(D.captureToSendP50)} ` +
      `jitter_buffer_avg=${f1(B.jitterBufferAvgMs)} decode_avg=${f1(B.decodeAvgMs)} processing_avg=${f1(B.processingAvgMs)} ` +
      `bitrate_kbps=${f1(B.bitrateKbps)} lost=${B.packetsLost} attempts=${result.attempts}` +
      (args.restartPid ? ` restart_recovery_ms=${f1(result.restartRecoveryMs)}` : '') +
      (result.audio && result.audio.codec ? ` audio=${result.audio.codec} audio_packets=${result.audio.packetsReceived}` : '') +
      (result.talkback ? ` talkback_rms=${f1(result.talkback.rms)} talkback_loud_ms=${result.talkback.loudMs}` : ''));
  if (args.mode === 'bench' && result.latency) {
    // Where the time goes, medians and averages over the run (they do not add up exactly:
    // percentiles of different distributions). Network on the namespace's loopback ≈ 0.
    const R = result.receive || {}, P = result.presented || {}, X = result.chromiumDisplay || {};
    const lines = [
      `capture→display   p50 ${f1(L.p50)} ms   p95 ${f1(L.p95)} ms   max ${f1(L.max)} ms   (n=${L.n}, first frame ${f1(L.first)} ms, excluded; the compositor frame that draws it)`,
      `capture→last packet received p50 ${f1(R.p50)} ms   p95 ${f1(R.p95)} ms   (sender: capture, encode, packetize, send; then the network)`,
      `capture→presented p50 ${f1(P.p50)} ms   p95 ${f1(P.p95)} ms   (made the video's current frame: + jitter buffer, decode, render scheduling)`,
      `capture→Chromium's expectedDisplayTime p50 ${f1(X.p50)} ms   p95 ${f1(X.p95)} ms   (Chromium's own estimate, not comparable across render paths)`,
      `capture→frame callback p50 ${f1(result.callback.p50)} ms   p95 ${f1(result.callback.p95)} ms   max ${f1(result.callback.max)} ms   (the page's callback ran)`,
      `page load→first frame ${f1(result.loadToFirstFrameMs)} ms   (offer→connected ${f1(result.offerToConnectedMs)} ms)`,
      `daemon  encode p50 ${f1(D.encodeP50)} ms (p95 ${f1(D.encodeP95)})   capture→send p50 ${f1(D.captureToSendP50)} ms (p95 ${f1(D.captureToSendP95)})`,
      `browser jitter buffer avg ${f1(B.jitterBufferAvgMs)} ms   decode avg ${f1(B.decodeAvgMs)} ms   processing (receive→decoded) avg ${f1(B.processingAvgMs)} ms`,
      `received→presented p50 ≈ ${f1(P.p50 - R.p50)} ms   presented→drawn (wait for the next frame boundary) p50 ≈ ${f1(L.p50 - P.p50)} ms`,
      `stream ${result.size} ${result.codec} ${f1(B.bitrateKbps)} kbit/s, lost ${B.packetsLost}, NACK ${B.nackCount}, PLI ${B.pliCount}, dropped ${B.framesDropped}, freezes ${B.freezeCount}, implausible readings ${L.implausible}`,
    ];
    const V = result.av;
    if (V && V.n) {
      lines.push(`audio capture→play p50 ${f1(V.audio.p50)} ms   p95 ${f1(V.audio.p95)} ms   (n=${V.n} beeps; onset played out per getOutputTimestamp, output latency ${f1(V.outputLatencyMs)} ms; heard by the page p50 ${f1(V.heard.p50)} ms)`);
      lines.push(`video capture→display in the same seconds p50 ${f1(V.video.p50)} ms   p95 ${f1(V.video.p95)} ms`);
      lines.push(`A/V offset (audio − video; > 0: sound late) p50 ${f1(V.offset.p50)} ms   p95 ${f1(V.offset.p95)} ms   |offset| p95 ${f1(V.offset.absP95)} ms   range ${f1(V.offset.min)}…${f1(V.offset.max)} ms`);
    }
    for (const l of lines) say(l);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(result, null, 2));
  return failures.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(1); });
