#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Headless Chromium watches camgate through a lossy path: 5 % of the UDP datagrams lost in
// each direction and 50 ms of delay, made by a relay in this process because the kernel
// here has no sch_netem. The page's WHEP exchange is rewritten on the way (Playwright
// routes) so that the only candidate the browser knows is the relay's, and camgate learns
// the browser only as a peer-reflexive candidate behind it: every media, RTCP, STUN and
// DTLS datagram crosses the relay. Chromium must keep decoding; its NACKs must be answered
// (camgate's retransmissions count); freezes are reported.
//
// usage: node browser-loss.js --url http://127.0.0.1:PORT/ [--seconds N] [--loss 0.05]
//        [--delay-ms 50]   (inside the network namespace the caller made)
'use strict';

const dgram = require('dgram');
const path = require('path');

const { SKIP, launch } = require(path.join(__dirname, '../browser/chromium'));

function parseArgs(argv) {
  const a = { url: null, seconds: 20, loss: 0.05, delayMs: 50 };
  for (let i = 2; i < argv.length; i++) {
    const [k, v0] = argv[i].split('=', 2);
    const v = v0 !== undefined ? v0 : argv[++i];
    if (k === '--url') a.url = v;
    else if (k === '--seconds') a.seconds = Number(v);
    else if (k === '--loss') a.loss = Number(v);
    else if (k === '--delay-ms') a.delayMs = Number(v);
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.url) throw new Error('--url is required');
  return a;
}

// A lossy NAT between the browser and camgate's candidate: like a real NAT, every browser
// socket gets its own mapping (an upstream socket), so replies reach the socket that asked
// and each of Chromium's candidate pairs works or fails on its own. Loss and delay apply
// both ways, independently per datagram.
function startRelay(target, loss, delayMs) {
  const sock = dgram.createSocket('udp4');
  const st = { forwarded: 0, dropped: 0, mappings: new Map(), closed: false };
  const pass = (send) => {
    if (Math.random() < loss) { st.dropped++; return; }
    st.forwarded++;
    setTimeout(() => { if (!st.closed) send(); }, delayMs);
  };
  const mapping = (from) => {
    const key = `${from.address}:${from.port}`;
    let up = st.mappings.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (msg) => pass(() => sock.send(msg, from.port, from.address)));
      st.mappings.set(key, up);
    }
    return up;
  };
  sock.on('message', (msg, from) => {
    const up = mapping(from);
    pass(() => up.send(msg, target.port, target.address));
  });
  sock.on('close', () => {
    st.closed = true;
    for (const up of st.mappings.values()) up.close();
  });
  return { sock, st };
}

function startRelayOn(port, target, loss, delayMs) {
  const relay = startRelay(target, loss, delayMs);
  return new Promise((resolve) => relay.sock.bind(port, '127.0.0.1', () => resolve(relay)));
}

// The answer's candidates all point at the relay; the first one says where camgate is.
function rewriteAnswer(sdp, relayPort) {
  let target = null;
  const out = sdp.split('\r\n').map((l) => {
    const m = l.match(/^a=candidate:(\S+) (\d) (\S+) (\d+) (\S+) (\d+) typ host(.*)$/i);
    if (!m || !/^udp$/i.test(m[3])) return l;
    if (!target) target = { address: m[5], port: Number(m[6]) };
    return `a=candidate:${m[1]} ${m[2]} ${m[3]} ${m[4]} 127.0.0.1 ${relayPort} typ host${m[7]}`;
  });
  return { sdp: out.join('\r\n'), target };
}

async function main() {
  const args = parseArgs(process.argv);
  const origin = new URL(args.url).origin;
  const browser = await launch('loss');
  if (browser.skip) { console.log(`SKIP: ${browser.skip}`); return SKIP; }
  const { context } = browser;
  let relay = null;
  let rc = 0;
  const fail = (m) => { console.log(`[browser-loss] FAIL: ${m}`); rc = 1; };
  try {
    await context.grantPermissions(['camera', 'microphone'], { origin });
    const page = context.pages()[0] || await context.newPage();
    // The offer goes without the browser's candidates and trickle is swallowed, so camgate
    // can reach the browser only through the relay.
    await page.route('**/whep', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const offer = req.postData().split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
      const r = await fetch(req.url(), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
      const answer = await r.text();
      if (r.status !== 201) return route.fulfill({ status: r.status, body: answer });
      if (relay) relay.sock.close();
      // Bind first: the rewritten answer must name the relay's port.
      const probe = dgram.createSocket('udp4');
      await new Promise((res) => probe.bind(0, '127.0.0.1', res));
      const port = probe.address().port;
      probe.close();
      const rw = rewriteAnswer(answer, port);
      if (!rw.target) return route.fulfill({ status: 502, body: 'no UDP host candidate in the answer' });
      relay = await startRelayOn(port, rw.target, args.loss, args.delayMs);
      const headers = {};
      for (const h of ['location', 'content-type', 'accept-patch', 'link']) {
        const v = r.headers.get(h);
        if (v) headers[h] = v;
      }
      return route.fulfill({ status: 201, headers, body: rw.sdp });
    });
    await page.route('**/whep/*', (route) => (route.request().method() === 'PATCH'
      ? route.fulfill({ status: 204 }) : route.continue()));
    await page.goto(args.url, { waitUntil: 'load', timeout: 15000 });

    const stats = () => page.evaluate(() => {
      const c = window.camgate;
      const st = c.stats || {};
      return { state: c.state, framesDecoded: c.framesDecoded, nackCount: st.nackCount,
               pliCount: st.pliCount, packetsLost: st.packetsLost, freezeCount: st.freezeCount };
    });
    const t0 = Date.now();
    let s = await stats();
    while (!(s.framesDecoded > 0) && Date.now() - t0 < 30000) {
      await new Promise((r) => setTimeout(r, 250));
      s = await stats();
    }
    if (!(s.framesDecoded > 0)) throw new Error(`no frame through the lossy path: ${JSON.stringify(s)}`);
    const first = s;
    let stalls = 0;
    let prev = s.framesDecoded;
    for (let t = 0; t < args.seconds; t++) {
      await new Promise((r) => setTimeout(r, 1000));
      s = await stats();
      if (!(s.framesDecoded > prev)) stalls++;
      prev = s.framesDecoded;
    }
    const decoded = s.framesDecoded - first.framesDecoded;
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    const counter = (name) => {
      const m = metrics.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm'));
      return m ? Number(m[1]) : null;
    };
    const retrans = counter('camgate_retransmissions_total');
    const nacks = counter('camgate_nacks_received_total');
    console.log(`[browser-loss] relay: ${relay.st.forwarded} datagrams forwarded, ${relay.st.dropped} dropped ` +
      `(${(100 * relay.st.dropped / Math.max(1, relay.st.forwarded + relay.st.dropped)).toFixed(1)} %), ${args.delayMs} ms each way`);
    console.log(`[browser-loss] Chromium: ${decoded} frames in ${args.seconds} s, packets lost ${s.packetsLost}, ` +
      `NACKs sent ${s.nackCount}, PLIs ${s.pliCount}, freezes ${s.freezeCount}, ` +
      `seconds without a new frame ${stalls}`);
    console.log(`[browser-loss] camgate: NACKed sequence numbers ${nacks}, retransmissions ${retrans}`);
    if (!(decoded >= args.seconds * 15)) fail(`only ${decoded} frames decoded in ${args.seconds} s`);
    if (stalls > args.seconds / 4) fail(`${stalls} seconds without a new frame`);
    if (!(s.nackCount > 0)) fail('Chromium sent no NACK: was there loss at all?');
    if (!(retrans > 0)) fail('camgate retransmitted nothing');
  } catch (e) {
    fail(`harness error: ${e && e.stack || e}`);
  } finally {
    if (relay) relay.sock.close();
    await browser.close();
  }
  console.log(`[browser-loss] summary: ${rc ? 'FAIL' : 'PASS'}`);
  return rc;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(1); });
