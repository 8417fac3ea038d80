#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Rooms and the classic call flow (issue 8), in headless Chromium with fake cameras:
//   - pages A and B join room "duo" on /call.html: each must decode the other's camera
//     (media peer to peer, signaling through camgate) and camgate's camera (H.264);
//   - page C, a classic two-party page (no "to") alone in room "solo", calls camgate's
//     camera with stream ok / offer / answer / candidate / end of candidates, with
//     camgate's answer stripped of its candidates so that only trickled ones are used in
//     both directions, and must decode it;
//   - the WebSocket answers bad messages with errors and keeps the connection; joins and
//     leaves are announced; GET /rooms lists the rooms.
//
// Must run inside the network namespace that call.sh creates.
// usage: node call-e2e.js --url http://127.0.0.1:PORT/ [--frames N] [--timeout SEC]
'use strict';


const { SKIP, launch } = require('./chromium');

function parseArgs(argv) {
  const a = { url: null, frames: 60, timeout: 60 };
  for (let i = 2; i < argv.length; i++) {
    const [k, v0] = argv[i].split('=', 2);
    const v = v0 !== undefined ? v0 : argv[++i];
    if (k === '--url') a.url = v;
    else if (k === '--frames') a.frames = Number(v);
    else if (k === '--timeout') a.timeout = Number(v);
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.url) throw new Error('--url is required');
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// window.call of a page, reduced to what the checks need.
function snapshot(page) {
  return page.evaluate(() => {
    const c = window.call;
    return c ? JSON.parse(JSON.stringify({ id: c.id, room: c.room, joined: c.joined,
                                           remotes: c.remotes, errors: c.errors })) : null;
  });
}

// Opens a WebSocket from inside the page and runs a scripted exchange; returns the replies.
function wsExchange(page, script) {
  return page.evaluate(async (steps) => {
    const url = new URL('rooms/ws', location.href);
    url.protocol = 'ws:';
    const ws = new WebSocket(url);
    const inbox = [];
    let wake = null;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      // Trickle that follows camgate's offer is not a reply to any one step.
      if (m.type === 'candidate' || m.type === 'end of candidates') return;
      inbox.push(m);
      if (wake) wake();
    };
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('ws error')); });
    const out = [];
    for (const s of steps) {
      ws.send(s);
      const until = Date.now() + 3000;
      while (!inbox.length && Date.now() < until) {
        await new Promise((r) => { wake = r; setTimeout(r, 100); });
      }
      out.push(inbox.shift() || null);
    }
    out.push({ open: ws.readyState === WebSocket.OPEN });
    ws.close();
    return out;
  }, script);
}

async function main() {
  const args = parseArgs(process.argv);
  const say = (...m) => console.log(`[call-e2e] ${m.join(' ')}`);
  const origin = new URL(args.url).origin;
  const failures = [];
  const fail = (m) => { failures.push(m); say(`FAIL: ${m}`); };

  // As in e2e.js: loopback candidates need --allow-loopback-in-peer-connection and camera
  // permission; the fake device gives every page a camera of its own.
  const browser = await launch('call', { viewport: { width: 960, height: 540 } });
  if (browser.skip) { console.log(`SKIP: ${browser.skip}`); return SKIP; }
  const { context } = browser;
  const pages = {};
  try {
    await context.grantPermissions(['camera', 'microphone'], { origin });
    for (const [name, query] of [['A', 'room=duo'], ['B', 'room=duo'],
      ['C', 'room=solo&classic=1&peers=0&trickle-only=1'],
      ['D', 'room=callee&classic=1&peers=0&camgate-offers=1']]) {
      const page = name === 'A' && context.pages()[0] ? context.pages()[0] : await context.newPage();
      page.on('console', (m) => console.log(`[page ${name}] ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[page ${name} error] ${e.message}`));
      await page.goto(`${origin}/call.html?${query}`, { waitUntil: 'load', timeout: 15000 });
      pages[name] = page;
      // B after A has joined, so that A is the older peer (it offers).
      for (let i = 0; i < 50 && !((await snapshot(page)) || {}).joined; i++) await sleep(100);
    }

    // ---- wait until every call decodes enough frames ----
    const want = args.frames;
    const deadline = Date.now() + args.timeout * 1000;
    let s = {};
    let lastPrint = 0;
    const frames = (snap, id) => (snap && snap.remotes[id] ? snap.remotes[id].framesDecoded : 0);
    for (;;) {
      for (const n of Object.keys(pages)) s[n] = await snapshot(pages[n]);
      const ok = frames(s.A, s.B.id) >= want && frames(s.B, s.A.id) >= want &&
        frames(s.A, 'camgate') >= want && frames(s.B, 'camgate') >= want &&
        frames(s.C, 'camgate') >= want && frames(s.D, 'camgate') >= want;
      if (ok) break;
      if (Date.now() > deadline) { fail(`timed out after ${args.timeout} s`); break; }
      if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        say(`waiting: A←B ${frames(s.A, s.B && s.B.id)} B←A ${frames(s.B, s.A && s.A.id)} ` +
            `A←camgate ${frames(s.A, 'camgate')} B←camgate ${frames(s.B, 'camgate')} ` +
            `C←camgate ${frames(s.C, 'camgate')} D←camgate ${frames(s.D, 'camgate')}`);
      }
      await sleep(250);
    }
    for (const n of Object.keys(pages)) say(`page ${n}: ${JSON.stringify(s[n])}`);

    // ---- what each call must show ----
    const AB = s.A.remotes[s.B.id] || {};
    const BA = s.B.remotes[s.A.id] || {};
    const C = s.C.remotes.camgate || {};
    if (s.A.room !== 'duo' || s.B.room !== 'duo' || s.C.room !== 'solo') fail('rooms: ' + [s.A.room, s.B.room, s.C.room]);
    for (const [label, r] of [['A←B', AB], ['B←A', BA]]) {
      if (!(r.framesDecoded >= want)) fail(`${label}: ${r.framesDecoded} frames decoded (want ≥ ${want})`);
      if (!(r.candidatesSent > 0 && r.candidatesReceived > 0)) fail(`${label}: candidates sent ${r.candidatesSent}, received ${r.candidatesReceived}`);
    }
    // D asked camgate to offer ("call") and answered: the other direction of the flow.
    for (const [label, r] of [['A←camgate', s.A.remotes.camgate || {}], ['B←camgate', s.B.remotes.camgate || {}], ['C←camgate', C], ['D←camgate (camgate offered)', s.D.remotes.camgate || {}]]) {
      if (!(r.framesDecoded >= want)) fail(`${label}: ${r.framesDecoded} frames decoded (want ≥ ${want})`);
      if (!/H264/i.test(r.codec || '')) fail(`${label}: codec ${r.codec} (want H264)`);
    }
    // Trickle both ways on the classic page: it sent candidates, got camgate's as messages
    // (its answer's were stripped), and both sides said end of candidates.
    if (!(C.candidatesSent > 0)) fail(`C: sent ${C.candidatesSent} candidates to camgate`);
    if (!(C.candidatesReceived > 0)) fail(`C: received ${C.candidatesReceived} candidates from camgate`);
    if (!C.endOfCandidatesSent || !C.endOfCandidatesReceived) fail(`C: end of candidates sent ${C.endOfCandidatesSent}, received ${C.endOfCandidatesReceived}`);
    for (const n of Object.keys(pages)) if (s[n].errors.length) fail(`page ${n} got errors: ${JSON.stringify(s[n].errors)}`);
    say(`A←B ${AB.framesDecoded} frames ${AB.codec} pair ${AB.localCandidate} ↔ ${AB.remoteCandidate}`);
    say(`C←camgate ${C.framesDecoded} frames ${C.codec} pair ${C.localCandidate} ↔ ${C.remoteCandidate}, ` +
        `candidates sent ${C.candidatesSent} received ${C.candidatesReceived}`);

    // ---- the room list ----
    const list = await (await fetch(`${origin}/rooms`)).json();
    say(`GET /rooms: ${JSON.stringify(list)}`);
    const count = (name) => (list.rooms.find((r) => r.name === name) || {}).peers;
    if (count('duo') !== 2 || count('solo') !== 1 || count('callee') !== 1) fail(`GET /rooms: duo ${count('duo')}, solo ${count('solo')}`);

    // ---- a WebSocket opened by a page of another site is refused (403), the page's own
    // origin and a client without Origin are let in (101) ----
    const upgrade = (extra) => new Promise((resolve) => {
      const u = new URL('/rooms/ws', origin);
      const req = require('http').request({ host: u.hostname, port: u.port, path: u.pathname, headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...extra } });
      req.on('upgrade', (res, sock) => { sock.destroy(); resolve(res.statusCode); });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', (e) => resolve(String(e)));
      req.end();
    });
    const foreign = await upgrade({ Origin: 'http://evil.example' });
    const own = await upgrade({ Origin: origin });
    const bare = await upgrade({});
    say(`WebSocket upgrade: foreign Origin -> ${foreign}, own Origin -> ${own}, no Origin -> ${bare}`);
    if (foreign !== 403 || own !== 101 || bare !== 101) fail(`WebSocket Origin check: ${foreign}/${own}/${bare} (want 403/101/101)`);

    // ---- bad messages get errors, and the connection stays ----
    const bigName = 'x'.repeat(65);
    const replies = await wsExchange(pages.C, [
      'not json', '{"type":"dance"}', `{"type":"join","room":"${bigName}"}`,
      '{"type":"offer","sdp":"v=0"}', '{"type":"join","room":"probe"}',
      '{"type":"call","to":"camgate"}', '{"type":"answer","sdp":"v=0\\r\\n","to":"camgate"}',
      '{"type":"candidate","label":0,"candidate":"candidate:x","to":"camgate"}',
      '{"type":"offer","sdp":"v=0\\r\\nbroken","to":"camgate"}', '{"type":"ping"}',
      'x'.repeat(70000),
    ]);
    say(`error replies: ${JSON.stringify(replies)}`);
    const expectReply = (i, type, re) => {
      const r = replies[i];
      if (!r || r.type !== type || (re && !re.test(r.message || ''))) fail(`reply ${i}: ${JSON.stringify(r)} (want ${type} ${re || ''})`);
    };
    expectReply(0, 'error', /not JSON/);
    expectReply(1, 'error', /unknown message type/);
    expectReply(2, 'error', /room/);
    expectReply(3, 'error', /join a room first/);
    expectReply(4, 'joined');
    expectReply(5, 'offer'); /* camgate calls when asked */
    expectReply(6, 'error', /answer/);
    expectReply(7, 'error', /offer first/);
    expectReply(8, 'error');
    expectReply(9, 'pong');
    expectReply(10, 'error', /64 KiB/);
    if (!replies[11] || !replies[11].open) fail('the WebSocket was closed after bad messages');

    // ---- leaving is announced and hangs up ----
    const bId = s.B.id;
    await pages.B.close();
    delete pages.B;
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      await sleep(100);
      const a = await snapshot(pages.A);
      gone = !a.remotes[bId];
    }
    if (!gone) fail(`A still shows ${bId} after B closed its page`);
    const after = await (await fetch(`${origin}/rooms`)).json();
    const duo = after.rooms.find((r) => r.name === 'duo');
    if (!duo || duo.peers !== 1) fail(`after B left, GET /rooms: ${JSON.stringify(after)}`);
  } catch (e) {
    fail(`harness error: ${e && e.stack || e}`);
  } finally {
    await browser.close();
  }
  say(`summary: ${failures.length ? 'FAIL' : 'PASS'}`);
  return failures.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(1); });
