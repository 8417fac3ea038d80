#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The grid of cameras (issue 13), in headless Chromium against a camgate serving several
// cameras:
//   - GET /cameras lists the cameras given by --camera, first camera first, at their sizes;
//   - "/" is the grid page: one tile per camera, in that order, each a link to cam/NAME/,
//     captioned with the name and size; every tile decodes H.264 (>= --frames frames) at its
//     camera's size;
//   - a tile whose session the daemon drops (the test DELETEs its WHEP resource) comes back
//     by itself and decodes again, while the other tiles keep decoding;
//   - Enter on a tile opens /cam/NAME/, the viewer page, which plays that camera (>= --frames
//     frames, its size) through /cam/NAME/whep; the grid's sessions are ended on leaving;
//   - nothing the pages load or run is refused by camgate's Content-Security-Policy.
//
// Must run inside the network namespace that grid.sh creates.
// usage: node grid-e2e.js --url http://127.0.0.1:PORT/ --camera NAME=WxH [--camera ...]
//                         [--frames N] [--timeout SEC] [--open NAME]
'use strict';

const { SKIP, launch } = require('./chromium');

function parseArgs(argv) {
  const a = { url: null, frames: 30, timeout: 60, cameras: [], open: null };
  for (let i = 2; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const k = eq > 0 && argv[i].startsWith('--') ? argv[i].slice(0, eq) : argv[i];
    const v = eq > 0 && argv[i].startsWith('--') ? argv[i].slice(eq + 1) : argv[++i];
    if (k === '--url') a.url = v;
    else if (k === '--frames') a.frames = Number(v);
    else if (k === '--timeout') a.timeout = Number(v);
    else if (k === '--open') a.open = v;
    else if (k === '--camera') {
      const m = /^([a-z0-9_-]{1,32})=(\d+)x(\d+)$/.exec(v || '');
      if (!m) throw new Error(`--camera ${v}: want NAME=WxH`);
      a.cameras.push({ name: m[1], width: Number(m[2]), height: Number(m[3]) });
    } else throw new Error(`unknown argument ${k}`);
  }
  if (!a.url) throw new Error('--url is required');
  if (a.cameras.length < 2) throw new Error('give at least two --camera NAME=WxH (one camera makes "/" the viewer)');
  if (!a.open) a.open = a.cameras[a.cameras.length - 1].name;
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn (async, returns a value or null/false) every `every` ms until it returns
// something truthy or `ms` have passed; returns the last value. The waits are hang guards,
// not timing requirements.
async function pollUntil(fn, ms, every = 250) {
  const until = Date.now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= until) return v;
    await sleep(every);
  }
}

async function http(method, url) {
  const r = await fetch(url, { method });
  return { status: r.status, type: r.headers.get('content-type') || '', body: await r.text() };
}

// window.camgateGrid, reduced to what the checks need.
function gridSnapshot(page) {
  return page.evaluate(() => {
    const g = window.camgateGrid;
    if (!g) return null;
    const dom = [...document.querySelectorAll('#grid > li > a.tile')].map((a) => ({
      href: a.getAttribute('href'), text: a.querySelector('.caption').textContent,
      videos: a.querySelectorAll('video').length,
    }));
    return JSON.parse(JSON.stringify({ state: g.state, error: g.error, tiles: g.tiles, dom }));
  });
}

async function main() {
  const args = parseArgs(process.argv);
  const say = (...m) => console.log(`[grid-e2e] ${m.join(' ')}`);
  const origin = new URL(args.url).origin;
  const failures = [];
  const fail = (m) => { failures.push(m); say(`FAIL: ${m}`); };
  const want = args.frames;
  const names = args.cameras.map((c) => c.name);

  // ---- GET /cameras ----
  let list = null;
  try {
    const r = await http('GET', `${origin}/cameras`);
    say(`GET /cameras -> ${r.status} ${r.type}: ${r.body.trim().slice(0, 600)}`);
    if (r.status !== 200 || !/json/.test(r.type)) fail(`GET /cameras -> ${r.status} ${r.type} (want 200 JSON)`);
    list = JSON.parse(r.body);
  } catch (e) {
    fail(`GET /cameras: ${e}`);
  }
  const listed = list && Array.isArray(list.cameras) ? list.cameras : [];
  if (JSON.stringify(listed.map((c) => c.name)) !== JSON.stringify(names)) {
    fail(`GET /cameras names ${JSON.stringify(listed.map((c) => c.name))} (want ${JSON.stringify(names)}, in that order)`);
  }
  for (const c of args.cameras) {
    const l = listed.find((x) => x.name === c.name);
    if (l && (l.width !== c.width || l.height !== c.height)) fail(`GET /cameras: ${c.name} is ${l.width}x${l.height} (want ${c.width}x${c.height})`);
  }

  // ---- what the viewer page needs under /cam/NAME/ ----
  const sub = `/cam/${encodeURIComponent(args.open)}/`;
  for (const [p, ct] of [['', 'text/html'], ['app.js', 'javascript'], ['whep.js', 'javascript'],
    ['style.css', 'text/css'], ['status', 'json']]) {
    const r = await http('GET', origin + sub + p).catch((e) => ({ status: String(e), type: '' }));
    if (r.status !== 200 || !r.type.includes(ct)) fail(`GET ${sub}${p} -> ${r.status} ${r.type} (want 200 ${ct})`);
  }
  for (const [p, ct] of [['/grid.js', 'javascript'], ['/grid.css', 'text/css'], ['/whep.js', 'javascript']]) {
    const r = await http('GET', origin + p).catch((e) => ({ status: String(e), type: '' }));
    if (r.status !== 200 || !r.type.includes(ct)) fail(`GET ${p} -> ${r.status} ${r.type} (want 200 ${ct})`);
  }

  // As in e2e.js: loopback candidates need --allow-loopback-in-peer-connection and camera
  // permission for the origin (then Chromium offers raw host candidates, no mDNS names).
  const browser = await launch('grid', { viewport: { width: 1280, height: 800 } });
  if (browser.skip) { console.log(`SKIP: ${browser.skip}`); return SKIP; }
  const { context } = browser;
  const whep = []; // [method, path, status] of every WHEP request the pages made
  try {
    await context.grantPermissions(['camera', 'microphone'], { origin });
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => {
      console.log(`[page ${m.type()}] ${m.text()}`);
      if (/Content.Security.Policy/i.test(m.text())) fail(`CSP violation: ${m.text()}`);
    });
    page.on('pageerror', (e) => fail(`page error: ${e.message}`));
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (!/\/whep(\/|$)/.test(u.pathname)) return;
      whep.push([r.request().method(), u.pathname, r.status()]);
      console.log(`[http] ${r.request().method()} ${u.pathname} -> ${r.status()}`);
    });

    // ---- "/" is the grid, and every tile decodes at its camera's size ----
    await page.goto(args.url, { waitUntil: 'load', timeout: 15000 });
    const isGrid = await page.evaluate(() => !!window.camgateGrid && !window.camgate);
    if (!isGrid) throw new Error(`"/" with ${names.length} cameras is not the grid page (no window.camgateGrid)`);
    const decodes = (snap, extra = 0) => snap && snap.tiles.length === names.length &&
      args.cameras.every((c) => {
        const t = snap.tiles.find((x) => x.name === c.name);
        return t && t.state === 'playing' && t.framesDecoded >= want + extra &&
          t.width === c.width && t.height === c.height;
      });
    const deadline = Date.now() + args.timeout * 1000;
    let snap = null;
    let lastPrint = 0;
    for (;;) {
      snap = await gridSnapshot(page);
      if (decodes(snap)) break;
      if (Date.now() > deadline) { fail(`grid: timed out after ${args.timeout} s`); break; }
      if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        say(`waiting: ${JSON.stringify(snap && snap.tiles)}`);
      }
      await sleep(250);
    }
    say(`grid: ${JSON.stringify(snap)}`);
    if (snap) {
      if (JSON.stringify(snap.tiles.map((t) => t.name)) !== JSON.stringify(names)) {
        fail(`tiles ${JSON.stringify(snap.tiles.map((t) => t.name))} (want ${JSON.stringify(names)})`);
      }
      args.cameras.forEach((c, i) => {
        const t = snap.tiles.find((x) => x.name === c.name) || {};
        const d = snap.dom[i] || {};
        if (!(t.framesDecoded >= want)) fail(`tile ${c.name}: ${t.framesDecoded} frames decoded (want ≥ ${want})`);
        if (t.width !== c.width || t.height !== c.height) fail(`tile ${c.name}: ${t.width}x${t.height} (want ${c.width}x${c.height})`);
        if (!/H264/i.test(t.codec || '')) fail(`tile ${c.name}: codec ${t.codec} (want H264)`);
        if (!d.href || new URL(d.href, args.url).pathname !== `/cam/${c.name}/`) {
          fail(`tile ${i}: link ${d.href} (want /cam/${c.name}/)`);
        }
        if (!(d.text || '').includes(c.name) || !(d.text || '').includes(`${c.width}×${c.height}`)) {
          fail(`tile ${i}: caption "${d.text}" (want the name ${c.name} and ${c.width}×${c.height})`);
        }
        if (d.videos !== 1) fail(`tile ${i}: ${d.videos} video elements`);
      });
      for (const c of args.cameras) {
        const posts = whep.filter(([m, p, s]) => m === 'POST' && p === `/cam/${c.name}/whep` && s === 201);
        if (!posts.length) fail(`no POST /cam/${c.name}/whep -> 201 from the grid`);
      }
    }

    // ---- a tile whose stream the daemon drops comes back by itself ----
    const victim = names[0];
    const loc = ((await gridSnapshot(page)).tiles.find((t) => t.name === victim) || {}).whep;
    if (!loc) {
      fail(`tile ${victim}: no WHEP session resource to drop`);
    } else {
      const before = await gridSnapshot(page);
      const tb = (s, n) => s.tiles.find((t) => t.name === n) || {};
      const del = await http('DELETE', new URL(loc, origin).href);
      say(`dropped ${victim}'s session: DELETE ${new URL(loc, origin).pathname} -> ${del.status}`);
      if (del.status !== 200 && del.status !== 204) fail(`DELETE ${loc} -> ${del.status}`);
      const back = await pollUntil(async () => {
        const s = await gridSnapshot(page);
        const t = tb(s, victim);
        return t.reconnects > tb(before, victim).reconnects && t.state === 'playing' &&
          t.framesDecoded >= want ? s : null;
      }, 45000);
      if (!back) {
        fail(`tile ${victim} did not come back after its session was dropped: ${JSON.stringify((await gridSnapshot(page)).tiles)}`);
      } else {
        say(`${victim} back: ${JSON.stringify(tb(back, victim))}`);
        for (const n of names.slice(1)) {
          const t0 = tb(before, n);
          const t1 = tb(back, n);
          if (t1.reconnects !== t0.reconnects || !(t1.framesDecoded > t0.framesDecoded)) {
            fail(`tile ${n} was disturbed by ${victim}'s drop: before ${JSON.stringify(t0)}, after ${JSON.stringify(t1)}`);
          }
        }
      }
    }

    // ---- Enter on a tile opens the camera's viewer page, which plays it ----
    const cam = args.cameras.find((c) => c.name === args.open);
    const tileIdx = names.indexOf(args.open);
    const mark = whep.length; // the viewer page's requests come after this
    await page.focus(`#grid > li:nth-child(${tileIdx + 1}) > a.tile`);
    await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.keyboard.press('Enter')]);
    const at = new URL(page.url()).pathname;
    say(`Enter on tile ${args.open} -> ${at}`);
    if (at !== sub) fail(`Enter on tile ${args.open} opened ${at} (want ${sub})`);
    const viewer = await pollUntil(() => page.evaluate((n) => {
      const c = window.camgate;
      if (!c) return null;
      return c.framesDecoded >= n && c.width ? { state: c.state, framesDecoded: c.framesDecoded,
        width: c.width, height: c.height, codec: c.codec, base: c.server.base, attempts: c.attempts } : null;
    }, want), args.timeout * 1000);
    const v = viewer || await page.evaluate(() => (window.camgate ? { state: window.camgate.state,
      framesDecoded: window.camgate.framesDecoded, base: window.camgate.server.base } : null));
    say(`viewer at ${sub}: ${JSON.stringify(v)}`);
    if (!viewer) {
      fail(`viewer at ${sub} did not play: ${JSON.stringify(v)}`);
    } else {
      if (viewer.width !== cam.width || viewer.height !== cam.height) fail(`viewer at ${sub}: ${viewer.width}x${viewer.height} (want ${cam.width}x${cam.height})`);
      if (!/H264/i.test(viewer.codec || '')) fail(`viewer at ${sub}: codec ${viewer.codec}`);
      if (new URL(viewer.base).pathname !== sub) fail(`viewer at ${sub}: its server base is ${viewer.base}`);
    }
    if (!whep.slice(mark).some(([m, p, s]) => m === 'POST' && p === `${sub}whep` && s === 201)) {
      fail(`the viewer page made no POST ${sub}whep -> 201`);
    }

    // ---- the grid ended its sessions when the page was left ----
    const counts = await pollUntil(async () => {
      const r = await http('GET', `${origin}/cameras`).catch(() => null);
      let l;
      try { l = JSON.parse(r.body).cameras; } catch { return null; }
      const ok = l.every((c) => c.viewers === (c.name === args.open ? 1 : 0));
      return ok ? l : null;
    }, 15000);
    if (!counts) {
      const r = await http('GET', `${origin}/cameras`).catch((e) => ({ body: String(e) }));
      fail(`viewers after leaving the grid (want 1 on ${args.open}, 0 elsewhere): ${r.body}`);
    } else {
      say(`viewers after leaving the grid: ${counts.map((c) => `${c.name}=${c.viewers}`).join(' ')}`);
    }
  } catch (e) {
    fail(`harness error: ${e && e.stack || e}`);
  } finally {
    await browser.close();
  }
  say(`summary: ${failures.length ? 'FAIL' : 'PASS'}`);
  return failures.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(1); });
