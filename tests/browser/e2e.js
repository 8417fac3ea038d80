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
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function parseArgs(argv) {
  const a = { mode: 'test', frames: 90, minLatencies: 60, timeout: 60, label: '', url: null, json: null,
              restartPid: null, restartCmd: null, restartPidfile: null, restartLog: null };
  for (let i = 2; i < argv.length; i++) {
    const [k, v0] = argv[i].split('=', 2);
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
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!a.url) throw new Error('--url is required');
  return a;
}

const SKIP = 77;

function findChromium() {
  const cands = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium',
                 '/usr/bin/chromium-browser'].filter(Boolean);
  return cands.find((p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } });
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
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

  const exe = findChromium();
  if (!exe) {
    console.log('SKIP: no Chromium (apt-get install chromium)');
    return SKIP;
  }
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
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'camgate-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: exe,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--allow-loopback-in-peer-connection',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
    viewport: { width: 1280, height: 720 },
  });
  const whepLog = [];
  let result = {};
  try {
    await context.grantPermissions(['camera', 'microphone'], { origin });
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => console.log(`${tag}[page ${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => console.log(`${tag}[page error] ${e.message}`));
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
    for (;;) {
      cg = await page.evaluate(() => {
        const c = window.camgate;
        return c ? { state: c.state, framesDecoded: c.framesDecoded, framesPresented: c.framesPresented,
                     nlat: c.latencies.length, whep: c.whep, codec: c.codec } : null;
      });
      const enough = cg && cg.framesDecoded >= args.frames &&
        (args.mode !== 'bench' || cg.nlat >= args.frames);
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
        codeReads: c.codeReads, codeRejects: c.codeRejects, counterSkips: c.counterSkips,
        width: c.width, height: c.height, attempts: c.attempts, reconnects: c.reconnects,
        loadAt: c.loadAt, connectStartedAt: c.connectStartedAt, connectedAt: c.connectedAt,
        firstFrameAt: c.firstFrameAtFirst, stats: c.stats, daemon: c.daemon, whep: c.whep,
        log: c.log, navStart: 0,
      }));
    });

    // Bench: exactly the first `frames` readings; test: all of them.
    const lats = (args.mode === 'bench' ? full.latencies.slice(0, args.frames) : full.latencies);
    const sorted = lats.slice().sort((a, b) => a - b);
    const cbl = (args.mode === 'bench' ? full.callbackLatencies.slice(0, args.frames) : full.callbackLatencies)
      .slice().sort((a, b) => a - b);
    const st = full.stats || {};
    const d = (full.daemon && full.daemon.latency_ms) || {};
    result = {
      label: args.label,
      codec: full.codec, fmtp: full.fmtp, size: `${full.width}x${full.height}`,
      framesDecoded: full.framesDecoded, framesPresented: full.framesPresented,
      latency: { n: sorted.length, min: sorted[0], p50: pct(sorted, 50), p95: pct(sorted, 95),
                 max: sorted[sorted.length - 1], first: full.firstLatency },
      callback: { n: cbl.length, p50: pct(cbl, 50), p95: pct(cbl, 95), max: cbl[cbl.length - 1] },
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

    say(`selected pair: local ${st.localCandidate} remote ${st.remoteCandidate}; decoder ${st.decoderImplementation}; fmtp ${full.fmtp}`);
    say(`page log:\n  ${full.log.join('\n  ')}`);

    // ---- assertions on the stream ----
    if (!(full.framesDecoded >= args.frames)) fail(`frames decoded ${full.framesDecoded} < ${args.frames}`);
    if (!/^video\/H264$/i.test(full.codec || '')) fail(`codec is ${full.codec}, want video/H264`);
    if (sorted.length < args.minLatencies) fail(`only ${sorted.length} block-code latency readings (< ${args.minLatencies}); rejected ${full.codeRejects} of ${full.codeReads}`);
    // Plausible: positive and under a second. Headless Chromium's expectedDisplayTime is an
    // estimate that can be one vsync (16.7 ms) early, so a reading in (-20, 0] ms is counted
    // as estimate noise (tolerated while rare, ≤ 2 %), anything below -20 ms or above 1 s
    // is a failure (a wrong clock, a misread code, or a real stall).
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

    if (args.mode === 'test') {
      // ---- HTTP contract: assets, /status, CORS, WHEP error paths ----
      for (const [p, ct] of [['/', 'text/html'], ['/app.js', 'javascript'], ['/style.css', 'text/css']]) {
        const r = await http('GET', origin + p);
        if (r.status !== 200 || !(r.headers['content-type'] || '').includes(ct)) {
          fail(`GET ${p} -> ${r.status} ${r.headers['content-type']} (want 200 ${ct})`);
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
      if (pre.headers['access-control-allow-origin'] !== '*') fail(`OPTIONS /whep: Access-Control-Allow-Origin=${pre.headers['access-control-allow-origin']}`);

      const garbage = await http('POST', origin + '/whep', { 'Content-Type': 'application/sdp' },
        'this is not an SDP offer\r\n');
      say(`bad SDP -> ${garbage.status} ${JSON.stringify(garbage.body.trim().slice(0, 160))}`);
      if (!(garbage.status >= 400 && garbage.status < 500)) fail(`POST /whep with a bad SDP -> ${garbage.status} (want 4xx)`);
      else if (!garbage.body.trim()) fail('POST /whep with a bad SDP: 4xx without a reason in the body');
      if (garbage.headers['access-control-allow-origin'] !== '*') fail(`POST /whep (error): Access-Control-Allow-Origin=${garbage.headers['access-control-allow-origin']}`);

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
    await context.close().catch(() => {});
    fs.rmSync(userDir, { recursive: true, force: true });
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
      `callback_p50=${f1(result.callback && result.callback.p50)} load_to_first_frame_ms=${f1(result.loadToFirstFrameMs)} offer_to_connected_ms=${f1(result.offerToConnectedMs)} ` +
      `daemon_encode_p50=${f1(D.encodeP50)} daemon_capture_to_send_p50=${f1(D.captureToSendP50)} ` +
      `jitter_buffer_avg=${f1(B.jitterBufferAvgMs)} decode_avg=${f1(B.decodeAvgMs)} processing_avg=${f1(B.processingAvgMs)} ` +
      `bitrate_kbps=${f1(B.bitrateKbps)} lost=${B.packetsLost} attempts=${result.attempts}` +
      (args.restartPid ? ` restart_recovery_ms=${f1(result.restartRecoveryMs)}` : ''));
  if (args.mode === 'bench' && result.latency) {
    // Where the time goes, medians and averages over the run (they do not add up exactly:
    // percentiles of different distributions). Network on the namespace's loopback ≈ 0.
    const rest = L.p50 - (D.captureToSendP50 || 0) - (B.processingAvgMs || 0);
    const lines = [
      `capture→display   p50 ${f1(L.p50)} ms   p95 ${f1(L.p95)} ms   max ${f1(L.max)} ms   (n=${L.n}, first frame ${f1(L.first)} ms, excluded)`,
      `capture→frame callback p50 ${f1(result.callback.p50)} ms   p95 ${f1(result.callback.p95)} ms   max ${f1(result.callback.max)} ms   (decoded frame in the page; no compositor estimate)`,
      `page load→first frame ${f1(result.loadToFirstFrameMs)} ms   (offer→connected ${f1(result.offerToConnectedMs)} ms)`,
      `daemon  encode p50 ${f1(D.encodeP50)} ms (p95 ${f1(D.encodeP95)})   capture→send p50 ${f1(D.captureToSendP50)} ms (p95 ${f1(D.captureToSendP95)})`,
      `browser jitter buffer avg ${f1(B.jitterBufferAvgMs)} ms   decode avg ${f1(B.decodeAvgMs)} ms   processing (receive→decoded) avg ${f1(B.processingAvgMs)} ms`,
      `render/compositor (p50 − capture→send − processing) ≈ ${f1(rest)} ms`,
      `stream ${result.size} ${result.codec} ${f1(B.bitrateKbps)} kbit/s, lost ${B.packetsLost}, NACK ${B.nackCount}, PLI ${B.pliCount}, dropped ${B.framesDropped}, freezes ${B.freezeCount}, implausible readings ${L.implausible}`,
    ];
    for (const l of lines) say(l);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(result, null, 2));
  return failures.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(1); });
