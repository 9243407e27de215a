// harness.mjs: what the web client tests share. The gateway comes from the
// environment (JINGLEGATE_URL, JINGLEGATE_TOKEN_A, JINGLEGATE_TOKEN_B; run.sh
// sets them after starting one); the page is the gateway's own when it
// serves the web client, else the devserver's (web.Handler plus a proxy to
// the gateway). Chromium is Debian's, driven by playwright-core, with fake
// devices, as /work/shared/TESTING.md says.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

import { chromiumPath, chromiumArgs as baseArgs } from '../../lib/browser.js';

export { chromiumPath };
// --headless comes from launchPersistentContext({headless: true}). No
// autoplay override: the pages must play unmuted remote media as a real
// browser lets them (a call starts with a click or an accepted dialog).
export const chromiumArgs = [...baseArgs];

/**
 * inRunSh: the tests run inside run.sh's namespace (it sets WEBCLIENT_NETNS=1),
 * where stack.sh has started the gateway, the XMPP server and the echo peers
 * and printed every variable the suites need, on Prosody and ejabberd alike,
 * with the gateway in demo mode.
 */
export const inRunSh = process.env.WEBCLIENT_NETNS === '1';

/**
 * skipOrFail turns a reason to skip a suite into a failure inside run.sh:
 * there a missing variable means the stack is broken, and a suite that
 * silently skips would hide it. It returns reason either way (for describe's
 * skip option: the suite's own tests cannot run without it); inside run.sh
 * it first registers a failing test that says what is missing.
 * @param {string|false|null|undefined} reason
 * @param {string} suite names the failing test
 * @returns {string|false}
 */
export function skipOrFail(reason, suite) {
  if (!reason) return false;
  if (inRunSh) {
    test(`${suite}: the environment run.sh sets`, () => {
      assert.fail(`${reason}; inside run.sh (WEBCLIENT_NETNS=1) that is a failure, not a skip (WEBCLIENT_KEEP=1 keeps stack.sh's env file for a look)`);
    });
  }
  return reason;
}

/**
 * gatewayEnv returns the gateway settings, or a reason to skip: when
 * JINGLEGATE_URL, JINGLEGATE_TOKEN_A, JINGLEGATE_TOKEN_B or one of need (the
 * suite's own variables) is not set. Inside run.sh that is a failing test
 * named after suite instead (skipOrFail).
 * @param {{suite?: string, need?: string[]}} [opts]
 * @returns {{url: string, urlB: string, tokenA: string, tokenB: string, log?: string, xmpp: null | {ws: string, jid: string, password: string}} | {skip: string}}
 */
export function gatewayEnv({ suite = 'webclient', need = [] } = {}) {
  const E = process.env;
  const { JINGLEGATE_URL: url, JINGLEGATE_TOKEN_A: tokenA, JINGLEGATE_TOKEN_B: tokenB } = E;
  if (!url || !tokenA || !tokenB) {
    return {
      skip: skipOrFail(
        'JINGLEGATE_URL, JINGLEGATE_TOKEN_A and JINGLEGATE_TOKEN_B are not set: run e2e/webclient/run.sh ' +
          '(it starts a private Prosody and the gateway), or point them at a running gateway',
        suite,
      ),
    };
  }
  const missing = need.filter((v) => !E[v]);
  if (missing.length) {
    return { skip: skipOrFail(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set (stack.sh prints them, run.sh sets them)`, suite) };
  }
  const { JINGLEGATE_XMPP_WS: ws, JINGLEGATE_XMPP_JID: jid, JINGLEGATE_XMPP_PASSWORD: password } = E;
  return {
    url: url.replace(/\/+$/, ''),
    // B may use another gateway on the same XMPP server (JINGLEGATE_URL_B).
    urlB: (E.JINGLEGATE_URL_B || url).replace(/\/+$/, ''),
    tokenA,
    tokenB,
    log: E.JINGLEGATE_LOG,
    xmpp: ws && jid && password ? { ws, jid, password } : null,
  };
}

/** The directory screenshots go to (ARTIFACTS_DIR, else artifacts/screenshots). */
export function screenshotDir() {
  const dir = process.env.ARTIFACTS_DIR ? path.join(process.env.ARTIFACTS_DIR, 'screenshots') : path.join(repoRoot, 'artifacts', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// startOrigin gives the origin to load the page from: the gateway when it
// serves /jinglegate.js, else a devserver in front of it.
export async function startOrigin(gatewayURL) {
  try {
    const res = await fetch(`${gatewayURL}/jinglegate.js`, { method: 'HEAD' });
    if (res.ok && (res.headers.get('content-type') || '').includes('javascript')) {
      return { origin: gatewayURL, via: 'gateway', close: async () => {} };
    }
  } catch {
    // not reachable: the devserver will say so
  }
  let cmd;
  let args;
  if (process.env.WEBCLIENT_DEVSERVER) {
    cmd = process.env.WEBCLIENT_DEVSERVER;
    args = [];
  } else {
    const bin = path.join(os.tmpdir(), `jinglegate-devserver-${process.pid}`);
    const b = spawnSync('go', ['build', '-o', bin, './e2e/webclient/devserver'], { cwd: repoRoot, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`building the devserver failed: ${b.stderr}`);
    cmd = bin;
    args = [];
  }
  const child = spawn(cmd, [...args, '-gateway', gatewayURL, '-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('the devserver did not start')), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1].replace('127.0.0.1', 'localhost'));
      }
    });
    child.on('exit', (code) => reject(new Error(`the devserver exited (${code})`)));
  });
  return {
    origin,
    via: 'devserver',
    close: async () => {
      child.kill('SIGTERM');
      if (!process.env.WEBCLIENT_DEVSERVER && cmd) fs.rmSync(cmd, { force: true });
    },
  };
}

/**
 * launch starts Chromium with a fresh profile.
 * @returns {Promise<{ctx: import('playwright-core').BrowserContext, logs: string[], page(name: string, opts?: {viewport?: {width: number, height: number}}): Promise<import('playwright-core').Page>, close(): Promise<void>}>}
 */
export async function launch() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: run "bash scripts/install-deps.sh browser" as root (Debian package chromium)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jinglegate-webclient-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 800 },
  });
  const logs = [];
  return {
    ctx,
    logs,
    async page(name, { viewport } = {}) {
      const p = await ctx.newPage();
      if (viewport) await p.setViewportSize(viewport);
      p.on('console', (m) => logs.push(`[${name}] ${m.type()}: ${m.text()}`));
      p.on('pageerror', (e) => logs.push(`[${name}] pageerror: ${e.message}`));
      return p;
    },
    async close() {
      await ctx.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * dumpLogs saves the browser's console (all of it) and the gateway's log to
 * the artifacts directory, and returns their tails for the test output.
 */
export function dumpLogs(logs, gatewayLog, name = 'webclient') {
  const dir = path.join(path.dirname(screenshotDir()), 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-console.log`);
  fs.writeFileSync(file, logs.join('\n') + '\n');
  let gw = '';
  if (gatewayLog && fs.existsSync(gatewayLog)) {
    fs.copyFileSync(gatewayLog, path.join(dir, `${name}-gateway.log`));
    gw = fs.readFileSync(gatewayLog, 'utf8').split('\n').slice(-40).join('\n');
  }
  const tail = logs.slice(-60).join('\n').slice(-12000);
  return `--- browser console (all of it in ${file}) ---\n${tail}\n--- gateway log (last 40 lines; all of it in ${dir}) ---\n${gw}`;
}

// pageClient is evaluated in a page: it loads the library and makes
// window.t, a small test API around one Client.
export const pageClient = async ({ token, name }) => {
  const jg = await import('/jinglegate.js');
  const log = (...a) => console.log(`${name}:`, ...a.map((x) => (x instanceof Error ? `${x.name}: ${x.message}` : x)));
  const logger = { debug: log, info: log, warn: log, error: log };
  const events = [];
  const waiters = [];
  const record = (source, type, detail) => {
    events.push({ source, type, detail, at: Date.now() });
    for (const w of [...waiters]) {
      if (w.source === source && w.type === type && w.pred(detail)) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(detail);
      }
    }
  };
  // Sockets the test can drop (a clean close with an application code:
  // the gateway keeps the session, the client resumes it), and an
  // "offline" switch that makes every new connection fail.
  const sockets = [];
  let offline = false;
  class TestSocket extends WebSocket {
    constructor(url) {
      // Offline: a same-origin path that is no WebSocket (404), which the
      // page's CSP allows and which fails at once.
      super(offline ? new URL('/offline-test', location.href).href.replace(/^http/, 'ws') : url);
      sockets.push(this);
    }
  }
  const client = new jg.Client({ url: '/ws', token, logger, WebSocket: TestSocket, reconnect: { minDelay: 200, maxDelay: 2000 } });
  for (const type of ['statechange', 'session', 'reconnecting', 'closed', 'roster', 'roster-push', 'presence', 'subscribe-request', 'call', 'incoming', 'error']) {
    client.addEventListener(type, (e) => record('client', type, e.detail));
  }
  const calls = new Map();
  const watch = (call) => {
    calls.set(call.sid, call);
    for (const type of ['statechange', 'ringing', 'localstream', 'remotemedia', 'mute', 'hold', 'sessioninfo', 'negotiated', 'connectionstatechange', 'error', 'ended']) {
      call.addEventListener(type, (e) => record(call.sid, type, e.detail));
    }
  };
  client.addEventListener('call', (e) => watch(e.detail.call));
  window.t = {
    jg,
    client,
    sockets,
    /** drop closes the live connection as a network failure would (the session lingers). */
    drop() {
      const ws = sockets.filter((w) => w.readyState === WebSocket.OPEN).at(-1);
      if (!ws) throw new Error(`${name}: no open connection to drop`);
      ws.close(4001, 'test: dropped');
    },
    setOffline(v) {
      offline = v;
    },
    calls,
    events,
    /** wait resolves with the detail of the next (or a past, if past) event. */
    wait(source, type, pred = () => true, timeout = 15000, past = false) {
      if (past) {
        const e = events.find((x) => x.source === source && x.type === type && pred(x.detail));
        if (e) return Promise.resolve(e.detail);
      }
      return new Promise((resolve, reject) => {
        const w = { source, type, pred, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${name}: no ${type} event from ${source} within ${timeout} ms`));
        }, timeout);
        waiters.push(w);
      });
    },
    async until(fn, timeout = 15000, what = 'condition') {
      const end = Date.now() + timeout;
      for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`${name}: ${what} not met within ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    call(sid) {
      const c = sid ? calls.get(sid) : [...calls.values()].at(-1);
      if (!c) throw new Error(`${name}: no call ${sid || ''}`);
      return c;
    },
    /** frames returns the decoded (in) and encoded (out) video frames and received audio packets of the call. */
    async media(sid) {
      const s = await this.call(sid).stats();
      return {
        videoIn: s.video.in ? s.video.in.frames : 0,
        videoOut: s.video.out ? s.video.out.frames : 0,
        audioIn: s.audio.in ? s.audio.in.packets : 0,
        rttMs: s.rttMs,
        codecs: [s.audio.in && s.audio.in.codec, s.video.in && s.video.in.codec].filter(Boolean),
      };
    },
  };
  await client.connect();
  return client.session.jid;
};

/** openClient opens a page of origin with a Client for token; resolves with the tab's full JID. */
export async function openClient(browser, origin, token, name, opts) {
  const page = await browser.page(name, opts);
  await page.goto(`${origin}/`);
  const jid = await page.evaluate(pageClient, { token, name });
  return { page, jid, bare: jid.split('/')[0] };
}

/** flowing waits until the call's decoded video frames (and audio packets) grow. */
export async function mediaFlows(page, sid, { video = true, audio = true, timeout = 20000 } = {}) {
  return page.evaluate(
    async ({ sid, video, audio, timeout }) => {
      const a = await window.t.media(sid);
      const end = Date.now() + timeout;
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const b = await window.t.media(sid);
        const ok = (!video || (b.videoIn > a.videoIn && b.videoIn > 5)) && (!audio || b.audioIn > a.audioIn);
        if (ok) return b;
        if (Date.now() > end) throw new Error(`media does not flow: before ${JSON.stringify(a)}, after ${JSON.stringify(b)}`);
      }
    },
    { sid, video, audio, timeout },
  );
}
