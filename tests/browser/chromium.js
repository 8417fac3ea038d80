// SPDX-License-Identifier: GPL-3.0-or-later
//
// Debian's Chromium under playwright-core, launched the one way every browser test here
// needs (notes/browser-e2e.md): headless, offline (no background networking), a fake camera
// and microphone granted without a prompt, sound allowed to autoplay, timers not throttled.
// ICE on loopback needs --allow-loopback-in-peer-connection AND camera permission for the
// origin (the callers grant it): then Chromium offers raw host candidates, no mDNS names.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const SKIP = 77;

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

function findChromium() {
  const cands = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium',
                 '/usr/bin/chromium-browser'].filter(Boolean);
  return cands.find((p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } });
}

// Returns { context, close } or { skip: 'reason' } when Chromium or playwright-core is not
// installed. close() ends the browser and removes its profile.
async function launch(name, options = {}) {
  const exe = findChromium();
  if (!exe) return { skip: 'no Chromium (apt-get install chromium)' };
  let chromium;
  try {
    ({ chromium } = require(path.join(__dirname, 'node_modules', 'playwright-core')));
  } catch {
    return { skip: 'playwright-core not installed (cd tests/browser && npm ci)' };
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `camgate-${name}-`));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: exe,
    headless: true,
    args: ARGS,
    ...options,
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  return { context, close };
}

module.exports = { SKIP, ARGS, findChromium, launch };
