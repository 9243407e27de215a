// `make demo` as a person meets it (issue 7): scripts/demo.sh starts a
// private Prosody, the gateway in demo mode and `jinglegate echo`, and
// prints the demo page's address; in Chromium, zoe (a name demo.sh does
// not know) signs in by name, finds echo@localhost online in her contacts
// (the gateway's [demo] contacts put it there with XEP-0356 when it minted
// her token), video-calls it and gets her own video back decoded (getStats:
// inbound-rtp framesDecoded grows by 10 frames or more between two
// samples), then hangs up. Ctrl-C (SIGINT to the script's process group, as
// a terminal sends it) must stop the gateway, the echo bot and Prosody
// within seconds; a second run on the same directory starts again, and
// SIGTERM to the script alone stops everything too. Screenshot:
// demo-script-echo-call.
//
// demo.sh runs with a directory of its own and ports other than stack.sh's
// (both run in run.sh's network namespace), and its default ICE interfaces
// (*, which includes loopback: the only interface there). It needs
// bin/jinglegate (or
// JINGLEGATE_BIN) and runs only inside run.sh's namespace (WEBCLIENT_NETNS=1,
// and no interface but loopback): it skips otherwise.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, contactRow, shot, signInByName, waitCallState, waitCallable } from './lib/demo-page.mjs';
import { dumpLogs, launch, repoRoot, screenshotDir } from './lib/harness.mjs';
import { mediaGrows, peerConnectionState, trackPeerConnections } from './lib/media.mjs';

const E = process.env;
const bin = path.resolve(E.JINGLEGATE_BIN || path.join(repoRoot, 'bin', 'jinglegate'));
const ECHO = 'echo@localhost';
// Not stack.sh's (gateway 18080; Prosody 15222 15347 15280; ejabberd 25222
// 25347 25280 25999), nor demo.sh's defaults (8080, and Prosody's), and
// below the kernel's ephemeral range, so that no outgoing connection holds
// one of them.
const PORTS = { http: 18180, c2s: 16222, component: 16347, xmppHttp: 16280 };
const READY_TIMEOUT_MS = 90000; // Prosody's start-up alone may take a while on a busy machine
const STOP_LIMIT_MS = 10000; // "within a few seconds"

function skipReason() {
  if (E.WEBCLIENT_NETNS !== '1') {
    return 'not inside run.sh\'s private network namespace (WEBCLIENT_NETNS=1): run e2e/webclient/run.sh (demo.sh starts Prosody, the gateway and the echo bot)';
  }
  const outside = Object.entries(os.networkInterfaces())
    .filter(([, addrs]) => addrs.some((a) => !a.internal))
    .map(([name]) => name);
  if (outside.length) return `network interfaces other than loopback here (${outside.join(', ')}): run e2e/webclient/run.sh`;
  if (!fs.existsSync(bin)) return `${bin} not found: go build -o bin/jinglegate ./cmd/jinglegate (run.sh does), or set JINGLEGATE_BIN`;
  return false;
}

// --- processes -----------------------------------------------------------------

/** procs reads /proc: pid -> {ppid, pgrp, state}. */
function procs() {
  const out = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(name), { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]) });
  }
  return out;
}

const cmdline = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '?';
  }
};

/** alive: pid exists and is no zombie (an orphan's reaper may be slow, or never reap). */
const alive = (pid) => {
  const p = procs().get(pid);
  return !!p && p.state !== 'Z' && p.state !== 'X';
};

const readPid = (file) => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
};

/** portOpen tells whether something accepts connections on 127.0.0.1:port. */
const portOpen = (port) =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2000, () => done(false));
  });

const tail = (text, n = 40) => text.split('\n').slice(-n).join('\n');

/** within resolves with what promise gives, or null after ms (the timer does not outlive it). */
const within = (promise, ms) => {
  let timer;
  return Promise.race([promise, new Promise((r) => (timer = setTimeout(() => r(null), ms)))]).finally(() => clearTimeout(timer));
};

/**
 * startDemo runs `bash scripts/demo.sh` with its own directory and ports, in
 * a process group of its own (a terminal's foreground job). Its output
 * (stdout and stderr: the script's, the gateway's log, the echo bot's
 * warnings) is kept in memory and appended to outFile.
 */
function startDemo(dir, outFile) {
  // Without run.sh's JINGLEGATE_* settings: the gateway reads its
  // configuration from the environment too (JINGLEGATE_XMPP_SERVER would
  // override demo.sh's [xmpp] server), as a user's shell would not have them.
  const env = {
    ...Object.fromEntries(Object.entries(E).filter(([k]) => !k.startsWith('JINGLEGATE_'))),
    DEMO_DIR: dir,
    DEMO_HTTP: `127.0.0.1:${PORTS.http}`,
    C2S_PORT: String(PORTS.c2s),
    COMPONENT_PORT: String(PORTS.component),
    HTTP_PORT: String(PORTS.xmppHttp),
    JINGLEGATE_BIN: bin,
  };
  const child = spawn('bash', ['scripts/demo.sh'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const d = { child, pid: child.pid, dir, out: '', exit: null, url: null };
  fs.appendFileSync(outFile, `\n=== ${new Date().toISOString()} bash scripts/demo.sh (pid ${child.pid}) ===\n`);
  const onData = (chunk) => {
    d.out += chunk;
    fs.appendFileSync(outFile, chunk);
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  d.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      d.exit = { code, signal, at: Date.now() };
      resolve(d.exit);
    });
  });
  d.running = () => d.exit === null;
  // ready resolves with the printed demo page address, once /readyz says
  // the component link is up.
  d.ready = (async () => {
    const end = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const m = /demo page\s+(http:\/\/\S+)/.exec(d.out);
      if (m) {
        const res = await fetch(new URL('/readyz', m[1])).catch((e) => ({ ok: false, status: e.message }));
        if (res.ok) {
          d.url = m[1];
          return d.url;
        }
      }
      if (!d.running()) throw new Error(`demo.sh exited (${JSON.stringify(d.exit)}) before it printed "demo page http://..." and was ready; its output:\n${tail(d.out, 60)}`);
      if (Date.now() > end) throw new Error(`demo.sh printed no "demo page http://..." line (or /readyz failed) within ${READY_TIMEOUT_MS / 1000} s; its output:\n${tail(d.out, 60)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  d.ready.catch(() => {}); // awaited by the tests
  return d;
}

/**
 * demoProcesses lists what a run of demo.sh started: the script's
 * descendants (the gateway, the echo bot, anything in between) and its
 * Prosody (a session of its own, from prosody.sh's pid file) with the
 * watchdog prosody.sh runs for it.
 */
function demoProcesses(d) {
  const table = procs();
  const found = new Set();
  const walk = (pid) => {
    for (const [p, info] of table) {
      if (info.ppid === pid && !found.has(p)) {
        found.add(p);
        walk(p);
      }
    }
  };
  walk(d.pid);
  const pgid = readPid(path.join(d.dir, 'prosody', 'pid'));
  if (pgid) for (const [p, info] of table) if (info.pgrp === pgid) found.add(p);
  const watchdog = readPid(path.join(d.dir, 'prosody', 'watchdog.pid'));
  if (watchdog && table.has(watchdog)) found.add(watchdog);
  return [...found].filter(alive).map((pid) => ({ pid, cmd: cmdline(pid) }));
}

/**
 * stopDemo sends signal (to the process group with group, as Ctrl-C in a
 * terminal does; else to the script alone) and checks that the script exits
 * within STOP_LIMIT_MS and leaves nothing behind: no process it started,
 * no port open.
 */
async function stopDemo(d, signal, { group }) {
  const before = demoProcesses(d);
  const cmds = before.map((p) => p.cmd).join('\n');
  // The snapshot holds what is to be stopped (else the leak check below
  // would check nothing).
  const has = (what, args) => assert.ok(before.some((p) => p.cmd.startsWith(`${bin} ${args}`)), `${what} is not running:\n${cmds}`);
  has('the gateway', 'serve');
  has('the echo bot', 'echo');
  assert.ok(before.some((p) => /\/prosody --config /.test(p.cmd)), `Prosody is not running:\n${cmds}`);
  const sentAt = Date.now();
  process.kill(group ? -d.pid : d.pid, signal);
  const exit = await within(d.exited, STOP_LIMIT_MS + 5000);
  assert.ok(exit, `demo.sh did not exit within ${(STOP_LIMIT_MS + 5000) / 1000} s of ${signal}; its output:\n${tail(d.out)}\nits processes:\n${cmds}`);
  const took = exit.at - sentAt;
  assert.ok(took <= STOP_LIMIT_MS, `demo.sh took ${took} ms to exit after ${signal} (limit ${STOP_LIMIT_MS} ms); its output:\n${tail(d.out)}`);
  const left = before.filter((p) => alive(p.pid));
  assert.deepEqual(left, [], `processes demo.sh started are still there after it exited`);
  for (const [name, port] of Object.entries(PORTS)) {
    assert.equal(await portOpen(port), false, `port ${port} (${name}) still accepts connections after demo.sh exited`);
  }
  return { exit, took };
}

/** killDemo makes sure a run leaves nothing behind, whatever happened. */
async function killDemo(d) {
  const leftovers = demoProcesses(d);
  if (d.running()) {
    try {
      process.kill(-d.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await within(d.exited, 5000);
  }
  for (const p of leftovers) {
    try {
      if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // Prosody lives in a session of its own; prosody.sh stops it (and its watchdog).
  if (fs.existsSync(path.join(d.dir, 'prosody', 'pid'))) {
    spawnSync('bash', [path.join(repoRoot, 'testdata', 'servers', 'prosody.sh'), 'stop', path.join(d.dir, 'prosody')], { stdio: 'ignore', timeout: 30000 });
  }
}

// --- the test ------------------------------------------------------------------

const skip = skipReason();

describe('make demo (scripts/demo.sh): an echo call from the demo page, then Ctrl-C', { skip }, () => {
  let dir;
  let outFile;
  let browser;
  let page;
  const runs = [];
  let failed = false;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jinglegate-demo-script-'));
    outFile = path.join(dir, 'demo.out');
    browser = await launch();
  });

  after(async () => {
    for (const d of runs) await killDemo(d);
    if (failed) {
      const logs = path.join(path.dirname(screenshotDir()), 'logs');
      fs.mkdirSync(logs, { recursive: true });
      console.log(dumpLogs(browser ? browser.logs : [], outFile, 'demo-script'));
      console.log(`(the "gateway log" above is demo.sh's output: the script's, the gateway's and the echo bot's; all of it in ${logs}/demo-script-gateway.log)`);
      const prosodyLog = path.join(dir, 'prosody', 'prosody.log');
      if (fs.existsSync(prosodyLog)) {
        fs.copyFileSync(prosodyLog, path.join(logs, 'demo-script-prosody.log'));
        console.log(`--- Prosody's log (last 20 lines; all of it in ${logs}/demo-script-prosody.log) ---\n${tail(fs.readFileSync(prosodyLog, 'utf8'), 20)}`);
      }
    }
    if (browser) await browser.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const step = (name, fn) =>
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        failed = true;
        throw e;
      }
    });

  const current = () => {
    const d = runs.at(-1);
    if (!d || !d.url) throw new Error('demo.sh is not running (see the first test)');
    return d;
  };

  // run starts demo.sh and waits until it is ready.
  async function run() {
    for (const [name, port] of Object.entries(PORTS)) {
      assert.equal(await portOpen(port), false, `port ${port} (${name}) is taken before demo.sh starts`);
    }
    const d = startDemo(dir, outFile);
    runs.push(d);
    const url = await d.ready;
    assert.equal(url, `http://127.0.0.1:${PORTS.http}/`);
    assert.doesNotMatch(d.out, /could not add echo/, `demo.sh's output:\n${tail(d.out)}`);
    for (const p of ['/healthz', '/readyz']) {
      const res = await fetch(new URL(p, url));
      assert.equal(res.status, 200, `${p}: ${res.status}`);
    }
    return d;
  }

  step('demo.sh starts Prosody, the gateway and the echo bot, and prints the demo page\'s address', async () => {
    await run();
  });

  step('zoe (any name) signs in, finds echo@localhost online, video-calls it: in call, her video comes back decoded', async () => {
    const d = current();
    page = await browser.page('zoe', { viewport: DESKTOP });
    await trackPeerConnections(page);
    const jid = await signInByName(page, d.url, 'zoe');
    assert.match(jid, /^zoe@gw\.localhost\/.+/);
    try {
      await waitCallable(page, ECHO, { timeout: 20000 });
    } catch (e) {
      throw new Error(`${e.message}\n--- demo.sh's output (last 30 lines) ---\n${tail(d.out, 30)}`);
    }
    await contactRow(page, ECHO).locator('.call-video').click();
    await waitCallState(page, 'active', { timeout: 20000 });
    assert.match(await page.locator('#call-state').textContent(), /^In a call with echo/);
    await page.locator('#stage.has-remote-video').waitFor({ timeout: 20000 });
    // Two samples of getStats, at least 10 decoded frames apart (and audio
    // packets coming back too).
    const { first, last } = await mediaGrows(page, {}, { minFrames: 10, what: 'the echoed media' });
    assert.ok(last.framesDecoded - first.framesDecoded >= 10, `framesDecoded ${first.framesDecoded} -> ${last.framesDecoded}`);
    assert.match(String(last.videoCodec), /^video\/VP8$/i, 'echo sends VP8 back');
    await page.waitForFunction(() => document.getElementById('remote-video').videoWidth > 0, null, { timeout: 10000 });
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-stat="video-in"]').textContent), null, { timeout: 10000 });
    assert.equal(await page.locator('#call').getAttribute('data-state'), 'active');
    await shot(page, 'demo-script-echo-call');
  });

  step('zoe hangs up by clicking: the call ends, echo can be called again', async () => {
    current();
    if (!page || (await page.locator('#call').getAttribute('data-state')) !== 'active') throw new Error('no call to hang up (see the previous test)');
    await page.click('#btn-hangup');
    await waitCallState(page, 'idle', { timeout: 10000 });
    assert.match(await page.locator('#call-state').textContent(), /^Call ended/);
    await page.waitForFunction(() => (window.__jinglegateTestPCs || []).at(-1)?.connectionState === 'closed', null, { timeout: 10000 }).catch(async () => {
      throw new Error(`the RTCPeerConnection is ${await peerConnectionState(page)}, not closed, after hanging up`);
    });
    await waitCallable(page, ECHO, { timeout: 10000 });
  });

  step('Ctrl-C (SIGINT to its process group) stops the gateway, the echo bot and Prosody within seconds', async () => {
    const d = current();
    const { exit } = await stopDemo(d, 'SIGINT', { group: true });
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
    if (page) await page.close();
    page = null;
  });

  step('a second run on the same directory starts again; SIGTERM to the script alone stops everything', async () => {
    const d = await run();
    const { exit } = await stopDemo(d, 'SIGTERM', { group: false });
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
  });
});
