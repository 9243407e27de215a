// browser.js starts the pieces every browser test needs: a tiny HTTP server
// on 127.0.0.1 that serves e2e/www (localhost is a secure context, which
// getUserMedia with Chromium's fake devices needs) and a headless Debian
// Chromium driven by playwright-core.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const wwwDir = path.resolve(here, '..', 'www');

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>jinglegate e2e</title></head>
<body><script src="/page.js"></script></body></html>
`;

// extra maps URL paths to {type, body} served next to the files of www/.
function serve(extra) {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let body;
    let type = 'text/html; charset=utf-8';
    if (url.pathname === '/') {
      body = page;
    } else if (extra.has(url.pathname)) {
      ({ type, body } = extra.get(url.pathname));
    } else if (/^\/[\w.-]+\.js$/.test(url.pathname) && fs.existsSync(path.join(wwwDir, url.pathname))) {
      body = fs.readFileSync(path.join(wwwDir, url.pathname));
      type = 'text/javascript; charset=utf-8';
    } else {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
}

// startBrowser launches Chromium with a fresh profile and serves the test
// page. extra is an optional Map of additional paths to serve. Close the
// returned handle with close().
export async function startBrowser({ extra = new Map() } = {}) {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: run "bash scripts/install-deps.sh browser" as root (Debian package chromium)`);
  }
  const server = serve(extra);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://localhost:${server.address().port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jinglegate-e2e-chromium-'));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
  } catch (e) {
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const logs = [];
  return {
    ctx,
    origin,
    logs,
    version: ctx.browser()?.version() ?? (await versionOf(ctx)),
    // newPage opens the test page; window.jg is ready when it resolves.
    async newPage(name = 'page') {
      const p = await ctx.newPage();
      p.on('console', (m) => logs.push(`[${name}] ${m.type()}: ${m.text()}`));
      p.on('pageerror', (e) => logs.push(`[${name}] pageerror: ${e.message}`));
      await p.goto(origin + '/');
      await p.waitForFunction(() => window.jg !== undefined);
      return p;
    },
    async close() {
      await ctx.close().catch(() => {});
      await new Promise((r) => server.close(r));
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function versionOf(ctx) {
  const p = ctx.pages()[0] ?? (await ctx.newPage());
  const ua = await p.evaluate(() => navigator.userAgent);
  return /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? ua;
}
