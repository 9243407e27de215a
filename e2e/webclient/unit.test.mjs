// Unit tests of jinglegate.js's protocol layer in Node, against a scripted
// fake WebSocket: sessions, seq and acks, replay duplicates, resumption with
// the barrier and the resending of unanswered requests, lost sessions, close
// codes, the rate limit, timeouts, backoff with its jitter, and the roster
// model; negotiation with a fake RTCPeerConnection; and jinglegate.d.ts
// against the module's exports. No browser and no gateway: these always run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './lib/harness.mjs';

const jg = await import(pathToFileURL(path.join(repoRoot, 'web', 'jinglegate.js')).href);
const { Client, JinglegateError, summarizeStats, bareJID } = jg;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

// FakeSocket is a WebSocket whose server side the test plays.
function makeSocketClass() {
  const sockets = [];
  const waiters = [];
  class FakeSocket extends EventTarget {
    static OPEN = 1;
    constructor(url) {
      super();
      this.url = new URL(url);
      this.readyState = 0;
      this.sent = [];
      this.frameWaiters = [];
      sockets.push(this);
      for (const w of waiters.splice(0)) w(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('not open');
      const m = JSON.parse(data);
      this.sent.push(m);
      for (const w of [...this.frameWaiters]) {
        if (w.pred(m)) {
          this.frameWaiters.splice(this.frameWaiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
    close(code = 1000, reason = '') {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.#fire('close', { code, reason }), 0);
    }
    #fire(type, props) {
      const ev = Object.assign(new Event(type), props);
      if (this[`on${type}`]) this[`on${type}`](ev);
      this.dispatchEvent(ev);
    }
    // The server's side.
    accept() {
      this.readyState = 1;
      this.#fire('open', {});
    }
    deliver(m) {
      this.#fire('message', { data: JSON.stringify(m) });
    }
    drop(code = 1006, reason = '') {
      this.readyState = 3;
      this.#fire('close', { code, reason });
    }
    /** frame resolves with the next (or an already sent) frame matching pred. */
    frame(pred = () => true, timeout = 2000) {
      const past = this.sent.find(pred);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        this.frameWaiters.push(w);
        setTimeout(() => reject(new Error('no such frame')), timeout);
      });
    }
  }
  const next = (i) =>
    sockets[i] ? Promise.resolve(sockets[i]) : new Promise((resolve) => waiters.push((s) => (sockets.length > i ? resolve(sockets[i]) : null)));
  return { FakeSocket, sockets, next };
}

function session(extra = {}) {
  return {
    type: 'session',
    jid: 'alice@gw.example.org/r1',
    user: 'alice',
    name: 'Alice',
    resume: 'r1.secret1',
    resumed: false,
    lastSeq: 0,
    resumeGraceMs: 30000,
    iceServers: [{ urls: ['stun:stun.example.org'] }],
    limits: { maxMessageBytes: 65536, ratePerSecond: 1000, rateBurst: 1000 },
    ...extra,
  };
}

// Every client made here is closed at the end, failed tests included (their
// timers would keep Node running).
const clients = [];
after(async () => {
  for (const c of clients) await c.close({ logout: false }).catch(() => {});
});

// start makes a client, plays the first session and answers its roster
// request with items. Returns {client, ws, fake, seq()} where seq() numbers
// server messages.
async function start(opts = {}, items = []) {
  const fake = makeSocketClass();
  let tokens = 0;
  const client = new Client({
    url: 'wss://gw.example.org/ws',
    token: () => `tok${++tokens}`,
    WebSocket: fake.FakeSocket,
    logger: quiet,
    reconnect: { minDelay: 5, maxDelay: 20, jitter: 0 },
    ...opts,
  });
  clients.push(client);
  const connected = client.connect();
  const ws = await fake.next(0);
  ws.accept();
  ws.deliver(session(opts.session));
  let n = 0;
  const seq = () => ++n;
  if (opts.autoRoster !== false) {
    const req = await ws.frame((m) => m.type === 'roster');
    ws.deliver({ seq: seq(), type: 'roster', id: req.id, items });
    ws.deliver({ seq: seq(), type: 'ack', id: req.id });
  }
  await connected;
  return { client, ws, fake, seq, tokens: () => tokens };
}

describe('jinglegate.js protocol layer (Node, fake WebSocket)', () => {
  test('connect: the token in the URL, the session, the roster', async () => {
    const { client, ws } = await start({}, [
      { jid: 'bob@example.org', name: 'Bob', groups: ['Friends'], subscription: 'both', resources: [{ jid: 'bob@example.org/phone', available: true, show: 'away', media: ['audio', 'video'], jingle: true, jmi: true, capsKnown: true }] },
    ]);
    assert.equal(ws.url.searchParams.get('token'), 'tok1');
    assert.equal(ws.url.searchParams.get('resume'), null);
    assert.equal(client.state, 'connected');
    assert.equal(client.jid, 'alice@gw.example.org/r1');
    assert.deepEqual(client.session.iceServers, [{ urls: ['stun:stun.example.org'] }]);
    const bob = client.contact('bob@example.org/phone');
    assert.equal(bob.displayName, 'Bob');
    assert.equal(bob.show, 'away');
    assert.deepEqual(bob.media, ['audio', 'video']);
    assert.equal(bob.callable, true);
    assert.equal(client.callTarget('bob@example.org'), 'bob@example.org'); // XEP-0353: the bare JID
    await client.close({ logout: false });
  });

  test('every request has an id; acks resolve, errors reject with the code', async () => {
    const { client, ws, seq } = await start();
    const p1 = client.add('carol@example.org', { name: 'Carol' });
    const f1 = await ws.frame((m) => m.type === 'add');
    assert.deepEqual({ ...f1, id: undefined, ack: undefined }, { type: 'add', jid: 'carol@example.org', name: 'Carol', id: undefined, ack: undefined });
    ws.deliver({ seq: seq(), type: 'ack', id: f1.id });
    await p1;
    const p2 = client.remove('dave@example.org');
    const f2 = await ws.frame((m) => m.type === 'remove');
    assert.notEqual(f1.id, f2.id);
    ws.deliver({ seq: seq(), type: 'error', id: f2.id, code: 'not-found', message: 'remove: dave@example.org is not in the roster' });
    await assert.rejects(p2, (e) => e instanceof JinglegateError && e.code === 'not-found' && /not in the roster/.test(e.message));
    await client.close({ logout: false });
  });

  test('acks: piggybacked on the next message, or alone after 32 messages', async () => {
    const { client, ws, seq } = await start();
    // The roster exchange (seq 1, 2) is acknowledged by the next request.
    const p = client.setPresence({ show: 'dnd' });
    const f = await ws.frame((m) => m.type === 'presence');
    assert.equal(f.ack, 2);
    ws.deliver({ seq: seq(), type: 'ack', id: f.id });
    await p;
    for (let i = 0; i < 32; i++) ws.deliver({ seq: seq(), type: 'presence', jid: 'x@example.org/r', available: true });
    // seq 3 to 34 are 32 unacknowledged messages.
    const a = await ws.frame((m) => m.type === 'ack');
    assert.equal(a.seq, 34);
    await client.close({ logout: false });
  });

  test('a replayed message already processed is dropped', async () => {
    const { client, ws, seq } = await start({}, [{ jid: 'bob@example.org', subscription: 'both', resources: [] }]);
    let n = 0;
    client.on('presence', () => n++);
    const s = seq();
    ws.deliver({ seq: s, type: 'presence', jid: 'bob@example.org/a', available: true });
    ws.deliver({ seq: s, type: 'presence', jid: 'bob@example.org/a', available: true });
    assert.equal(n, 1);
    assert.equal(client.contact('bob@example.org').available, true);
    await client.close({ logout: false });
  });

  test('resume: same session; the replay is processed once; the barrier, then unanswered requests again', async () => {
    const { client, ws, fake } = await start();
    const answered = client.approve('p@example.org');
    const lost = client.approve('q@example.org');
    const fa = await ws.frame((m) => m.type === 'approve' && m.jid === 'p@example.org');
    const fl = await ws.frame((m) => m.type === 'approve' && m.jid === 'q@example.org');
    const events = [];
    client.on('reconnecting', (d) => events.push(['reconnecting', d.code]));
    client.on('session', (d) => events.push(['session', d.resumed]));
    ws.drop(1006);
    assert.equal(client.state, 'reconnecting');
    // Made while disconnected: sent after the resent ones.
    const later = client.deny('r@example.org');
    const ws2 = await fake.next(1);
    assert.equal(ws2.url.searchParams.get('resume'), 'r1.secret1');
    assert.equal(ws2.url.searchParams.get('seq'), '2');
    assert.equal(ws2.url.searchParams.get('token'), 'tok2'); // a fresh token
    ws2.accept();
    ws2.deliver(session({ resumed: true, lastSeq: 3, resume: 'r1.secret2' }));
    // The replay: seq 2 again (dropped), and the answer to the first approve.
    ws2.deliver({ seq: 2, type: 'ack', id: 'zzz' });
    ws2.deliver({ seq: 3, type: 'ack', id: fa.id });
    await answered;
    const barrier = await ws2.frame((m) => m.type === 'roster');
    assert.equal(ws2.sent[0], barrier, 'the barrier comes first');
    assert.equal(ws2.sent.length, 1, 'nothing else before the barrier is answered');
    ws2.deliver({ seq: 4, type: 'roster', id: barrier.id, items: [] });
    ws2.deliver({ seq: 5, type: 'ack', id: barrier.id });
    const again = await ws2.frame((m) => m.type === 'approve');
    assert.equal(again.id, fl.id, 'the unanswered request is sent again with its id');
    assert.equal(again.jid, 'q@example.org');
    const fd = await ws2.frame((m) => m.type === 'deny');
    assert.ok(ws2.sent.indexOf(again) < ws2.sent.indexOf(fd), 'in order');
    assert.ok(!ws2.sent.some((m) => m.type === 'approve' && m.jid === 'p@example.org'), 'the answered one is not');
    ws2.deliver({ seq: 6, type: 'ack', id: fl.id });
    ws2.deliver({ seq: 7, type: 'ack', id: fd.id });
    await lost;
    await later;
    assert.deepEqual(events, [
      ['reconnecting', 1006],
      ['session', true],
    ]);
    assert.equal(client.jid, 'alice@gw.example.org/r1');
    await client.close({ logout: false });
  });

  test('a lost session: a new one; written requests reject, presence is sent again, the resume error is not an error event', async () => {
    const { client, ws, fake, seq } = await start();
    const pres = client.setPresence({ show: 'away', status: 'x' });
    const fp = await ws.frame((m) => m.type === 'presence');
    ws.deliver({ seq: seq(), type: 'ack', id: fp.id });
    await pres;
    const pending = client.add('s@example.org');
    await ws.frame((m) => m.type === 'add');
    const errors = [];
    client.on('error', (d) => errors.push(d.error.code));
    const sessions = [];
    client.on('session', (d) => sessions.push(d));
    ws.drop(1006);
    const ws2 = await fake.next(1);
    ws2.accept();
    ws2.deliver(session({ jid: 'alice@gw.example.org/r2', resume: 'r2.s', resumed: false }));
    ws2.deliver({ seq: 1, type: 'error', code: 'unauthorized', message: 'cannot resume' });
    await assert.rejects(pending, (e) => e.code === 'unavailable');
    assert.equal(sessions[0].lost, true);
    const again = await ws2.frame((m) => m.type === 'presence');
    assert.equal(again.show, 'away');
    client.subscribe('z@example.org').catch(() => {});
    const next = await ws2.frame((m) => m.type === 'subscribe');
    assert.equal(next.ack, 1, 'seq starts again at 1');
    assert.deepEqual(errors, []);
    assert.equal(client.jid, 'alice@gw.example.org/r2');
    await client.close({ logout: false });
  });

  test('close codes: 4000 closes the client; 1000 from the gateway starts a new session', async () => {
    let { client, ws, fake } = await start();
    ws.drop(1000, 'session ended');
    const ws2 = await fake.next(1);
    assert.equal(ws2.url.searchParams.get('resume'), null);
    await client.close({ logout: false });

    ({ client, ws, fake } = await start());
    const closed = new Promise((r) => client.on('closed', r));
    ws.drop(4000, 'replaced');
    const d = await closed;
    assert.equal(d.reason, 'replaced');
    assert.equal(client.state, 'closed');
    await assert.rejects(client.add('x@example.org'), (e) => e.code === 'closed');
  });

  test('rate-limited: the request is sent again, later', async () => {
    const { client, ws, seq } = await start();
    const p = client.subscribe('t@example.org');
    const f = await ws.frame((m) => m.type === 'subscribe');
    ws.deliver({ seq: seq(), type: 'error', id: f.id, code: 'rate-limited', message: 'slow down' });
    const t0 = Date.now();
    const f2 = await ws.frame((m) => m.type === 'subscribe' && m !== f);
    assert.equal(f2.id, f.id);
    assert.ok(Date.now() - t0 >= 200, 'after a pause');
    ws.deliver({ seq: seq(), type: 'ack', id: f.id });
    await p;
    await client.close({ logout: false });
  });

  test('the token bucket paces a burst to the gateway\'s rate', async () => {
    // 20/s with a burst of 3: the client allows itself 90%, 18/s and 2.
    const { client, ws } = await start({ session: { limits: { maxMessageBytes: 65536, ratePerSecond: 20, rateBurst: 3 } } });
    for (let i = 0; i < 10; i++) client.subscribe(`u${i}@example.org`).catch(() => {});
    const count = () => ws.sent.filter((m) => m.type === 'subscribe').length;
    await tick(5);
    assert.ok(count() <= 3, `${count()} sent at once`);
    await tick(150);
    assert.ok(count() < 10, `${count()} sent within 150 ms`);
    await tick(700);
    assert.equal(count(), 10);
    await client.close({ logout: false });
  });

  test('requests settle within requestTimeout, connected or not', async () => {
    const { client, ws } = await start({ requestTimeout: 100 });
    await assert.rejects(client.subscribe('v@example.org'), (e) => e.code === 'timeout' && /no answer/.test(e.message));
    ws.drop(1006);
    await assert.rejects(client.subscribe('w@example.org'), (e) => e.code === 'timeout');
    await client.close({ logout: false });
  });

  test('the first connection: connect() rejects after initialAttempts, with backoff', async () => {
    const fake = makeSocketClass();
    const client = new Client({ url: 'ws://gw.example.org/ws', token: 't', WebSocket: fake.FakeSocket, logger: quiet, initialAttempts: 3, reconnect: { minDelay: 20, maxDelay: 1000, factor: 2, jitter: 0 } });
    clients.push(client);
    const delays = [];
    client.on('reconnecting', (d) => delays.push(d.delay));
    const p = client.connect();
    for (let i = 0; i < 3; i++) (await fake.next(i)).drop(1006);
    await assert.rejects(p, (e) => e.code === 'unavailable');
    assert.deepEqual(delays, [20, 40]);
    assert.equal(client.state, 'closed');
  });

  test('a gateway that says nothing after the upgrade is left', async () => {
    const fake = makeSocketClass();
    const client = new Client({ url: 'ws://gw.example.org/ws', token: 't', WebSocket: fake.FakeSocket, logger: quiet, sessionTimeout: 50, reconnect: { minDelay: 5, jitter: 0 } });
    clients.push(client);
    const p = client.connect();
    (await fake.next(0)).accept();
    const ws2 = await fake.next(1); // after 50 ms without a session
    ws2.accept();
    ws2.deliver(session());
    const r = await ws2.frame((m) => m.type === 'roster');
    ws2.deliver({ seq: 1, type: 'roster', id: r.id, items: [] });
    ws2.deliver({ seq: 2, type: 'ack', id: r.id });
    await p;
    await client.close({ logout: false });
  });

  test('close() logs out', async () => {
    const { client, ws, seq } = await start();
    const done = client.close();
    const f = await ws.frame((m) => m.type === 'logout');
    ws.deliver({ seq: seq(), type: 'ack', id: f.id });
    ws.drop(1000);
    await done;
    assert.equal(client.state, 'closed');
  });

  test('roster pushes, presence and subscription requests update the model', async () => {
    const { client, ws, seq } = await start({}, [{ jid: 'bob@example.org', subscription: 'to', resources: [] }]);
    const reqs = [];
    client.on('subscribe-request', (d) => reqs.push(d));
    ws.deliver({ seq: seq(), type: 'subscribe-request', jid: 'eve@example.org', name: 'Eve' });
    assert.deepEqual(reqs, [{ jid: 'eve@example.org', name: 'Eve' }]);
    assert.deepEqual(client.subscriptionRequests, [{ jid: 'eve@example.org', name: 'Eve' }]);
    ws.deliver({ seq: seq(), type: 'presence', jid: 'bob@example.org/a', available: true, show: 'dnd', priority: 1, media: ['audio'], jingle: true, capsKnown: true });
    ws.deliver({ seq: seq(), type: 'presence', jid: 'bob@example.org/b', available: true, priority: 5, media: ['audio', 'video'], jingle: true, capsKnown: true });
    let bob = client.contact('bob@example.org');
    assert.equal(bob.show, 'available', 'the highest priority resource');
    assert.deepEqual(bob.media, ['audio', 'video']);
    // Known to do Jingle but not XEP-0353: the best resource is called.
    assert.equal(client.callTarget('bob@example.org'), 'bob@example.org/b');
    ws.deliver({ seq: seq(), type: 'presence', jid: 'bob@example.org/b', available: false });
    bob = client.contact('bob@example.org');
    assert.equal(bob.show, 'dnd');
    ws.deliver({ seq: seq(), type: 'presence', jid: 'bob@example.org', available: false });
    assert.equal(client.contact('bob@example.org').show, 'offline');
    ws.deliver({ seq: seq(), type: 'roster-push', item: { jid: 'eve@example.org', name: 'Eve', subscription: 'from', groups: [], resources: [] } });
    assert.deepEqual(client.roster.map((c) => c.jid), ['bob@example.org', 'eve@example.org']);
    assert.deepEqual(client.subscriptionRequests, [], 'answered');
    ws.deliver({ seq: seq(), type: 'roster-push', item: { jid: 'bob@example.org', subscription: 'none', groups: [], resources: [] }, removed: true });
    assert.deepEqual(client.roster.map((c) => c.jid), ['eve@example.org']);
    await client.close({ logout: false });
  });

  test('an incoming call: the event, then the gateway\'s hangup ends it; reject sends reject', async () => {
    const { client, ws, seq } = await start();
    const calls = [];
    client.on('incoming', (d) => calls.push(d));
    ws.deliver({ seq: seq(), type: 'incoming', sid: 's1', from: 'bob@example.org/phone', media: ['audio', 'video'], polite: true });
    assert.equal(calls.length, 1);
    const c = calls[0].call;
    assert.equal(c.state, 'incoming');
    assert.equal(c.polite, true);
    assert.deepEqual(c.media, ['audio', 'video']);
    const ended = new Promise((r) => c.on('ended', r));
    ws.deliver({ seq: seq(), type: 'hangup', sid: 's1', reason: 'answered-elsewhere' });
    assert.equal((await ended).reason, 'answered-elsewhere');
    assert.equal(client.calls.length, 0);

    ws.deliver({ seq: seq(), type: 'incoming', sid: 's2', from: 'bob@example.org/phone', media: ['audio'] });
    const c2 = client.getCall('s2');
    const p = c2.reject('busy');
    const f = await ws.frame((m) => m.type === 'reject');
    assert.deepEqual([f.sid, f.reason], ['s2', 'busy']);
    ws.deliver({ seq: seq(), type: 'ack', id: f.id, sid: 's2' });
    await p;
    assert.equal(c2.state, 'ended');
    await client.close({ logout: false });
  });

  test('summarizeStats: pair, codecs, bitrates from the previous summary', () => {
    const mk = (bytes, ts) =>
      new Map(
        [
          { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
          { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.0123, availableOutgoingBitrate: 1500000, localCandidateId: 'L', remoteCandidateId: 'R' },
          { id: 'L', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
          { id: 'R', type: 'remote-candidate', candidateType: 'srflx' },
          { id: 'C', type: 'codec', mimeType: 'video/VP8' },
          { id: 'V', type: 'inbound-rtp', kind: 'video', codecId: 'C', bytesReceived: bytes, packetsReceived: 10, framesDecoded: 30, frameWidth: 640, frameHeight: 480, framesPerSecond: 30, timestamp: ts },
        ].map((v) => [v.id, v]),
      );
    const a = summarizeStats(mk(1000, 1000));
    assert.equal(a.rttMs, 12.3);
    assert.equal(a.localCandidateType, 'host');
    assert.equal(a.remoteCandidateType, 'srflx');
    assert.equal(a.availableOutgoingKbps, 1500);
    assert.equal(a.video.in.codec, 'VP8');
    assert.equal(a.video.in.kbps, null);
    const b = summarizeStats(mk(126000, 2000), a);
    assert.equal(b.video.in.kbps, 1000); // 125000 bytes in 1 s
    assert.equal(b.video.in.frames, 30);
    assert.equal(b.audio.in, null);
  });

  test('helpers', () => {
    assert.equal(bareJID('a@b/c/d'), 'a@b');
    assert.throws(() => new Client({ url: 'ftp://x', token: 't' }), TypeError);
    assert.throws(() => new Client({}), TypeError);
    assert.throws(() => new jg.Call(), TypeError);
  });

  test('reconnect delays: jitter within [base*(1-jitter), base], growth by factor, maxDelay, reset once stable', async (t) => {
    // Timers are the test's: the delays are exact and the 10 s of a stable
    // connection pass at once.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const randoms = [0, 0.5, 0.999];
    let r = 0;
    t.mock.method(Math, 'random', () => randoms[r++ % randoms.length]);
    const rc = { minDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 };
    const { client, ws, fake } = await start({ reconnect: rc });
    const delays = [];
    client.on('reconnecting', (d) => delays.push(d));
    let sockets = 1;
    // fail drops the current connection and checks the delay to the next
    // attempt against base: in range, as Math.random says, and really the
    // wait before the next WebSocket.
    const fail = async (sock, base) => {
      const before = delays.length;
      sock.drop(1006);
      assert.equal(delays.length, before + 1, 'a reconnecting event');
      const { delay, attempt } = delays.at(-1);
      const random = randoms[(r - 1) % randoms.length];
      assert.ok(delay >= Math.floor(base * (1 - rc.jitter)) && delay <= base, `delay ${delay} of attempt ${attempt} not within [${base * (1 - rc.jitter)}, ${base}]`);
      assert.equal(delay, Math.round(base * (1 - rc.jitter * random)), `delay of attempt ${attempt} with Math.random() = ${random}`);
      if (delay > 0) {
        t.mock.timers.tick(delay - 1);
        await new Promise((res) => setImmediate(res)); // (tick() waits on the mocked setTimeout)
        assert.equal(fake.sockets.length, sockets, `no attempt before ${delay} ms`);
      }
      t.mock.timers.tick(1);
      const next = await fake.next(sockets++);
      return next;
    };
    // Each failed attempt (no session) grows the base by factor, up to maxDelay.
    let sock = ws;
    const bases = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const base of bases) sock = await fail(sock, base);
    assert.deepEqual(
      delays.map((d) => d.attempt),
      bases.map((_, i) => i + 1),
    );
    // A session that drops before it has lasted 10 s does not reset the
    // backoff (a gateway that accepts and drops at once).
    sock.accept();
    sock.deliver(session({ resumed: true, lastSeq: 0 }));
    assert.equal(client.state, 'connected');
    t.mock.timers.tick(9999);
    sock = await fail(sock, 1000);
    // One that lasted 10 s does: the next delay starts at minDelay again.
    sock.accept();
    sock.deliver(session({ resumed: true, lastSeq: 0 }));
    t.mock.timers.tick(10000);
    sock = await fail(sock, 100);
    sock = await fail(sock, 200);
    assert.ok(sock);
    await client.close({ logout: false });
  });
});

// --- jinglegate.d.ts against the module ----------------------------------------

// The declarations, read with regular expressions (no TypeScript here): the
// file's layout is one declaration per line, class bodies closed by a "}"
// at the start of a line, members indented by two spaces.
describe('jinglegate.d.ts matches jinglegate.js', () => {
  const dts = fs.readFileSync(path.join(repoRoot, 'web', 'jinglegate.d.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const decls = [...dts.matchAll(/^(export\s+)?(?:declare\s+)?(class|function|const|let|var|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => ({
    exported: !!m[1],
    kind: m[2],
    name: m[3],
  }));
  const isValue = (d) => ['class', 'function', 'const', 'let', 'var', 'enum'].includes(d.kind);
  // classBody gives the members declared in a class: name -> 'method' or
  // 'property' (readonly or not; on Client and Call they are getters).
  const classBody = (name) => {
    const m = new RegExp(`^(?:export\\s+)?declare\\s+class\\s+${name}\\b[^\\n]*\\{\\n([\\s\\S]*?)^\\}`, 'm').exec(dts);
    assert.ok(m, `class ${name} not found in jinglegate.d.ts`);
    const members = new Map();
    for (const line of m[1].split('\n')) {
      const x = /^ {2}(?:private\s+|readonly\s+)*(get\s+)?([A-Za-z_$][\w$]*)\??\s*([(<:])/.exec(line);
      if (!x || x[2] === 'constructor') continue;
      members.set(x[2], x[1] || x[3] === ':' ? 'property' : 'method');
    }
    return members;
  };
  // runtimeMembers gives the public members of a prototype (private # ones
  // are invisible): name -> 'method' or 'property' (a getter).
  const runtimeMembers = (proto) => {
    const members = new Map();
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, name);
      members.set(name, d.get ? 'property' : typeof d.value === 'function' ? 'method' : 'property');
    }
    return members;
  };

  test('the value exports are the same', () => {
    const declared = decls.filter((d) => d.exported && isValue(d)).map((d) => d.name).sort();
    const runtime = Object.keys(jg).sort();
    assert.deepEqual(declared, runtime, 'export declare class/function/const in the d.ts vs the exports of jinglegate.js');
    for (const d of decls.filter((x) => x.exported && isValue(x))) {
      const v = jg[d.name];
      if (d.kind === 'class' || d.kind === 'function') assert.equal(typeof v, 'function', `${d.name} is declared a ${d.kind}`);
      else assert.notEqual(typeof v, 'function', `${d.name} is declared a ${d.kind}`);
    }
  });

  test('what the d.ts does not export is not importable (Emitter)', () => {
    const local = decls.filter((d) => !d.exported);
    assert.ok(local.some((d) => d.name === 'Emitter'), 'Emitter is declared without export');
    for (const d of local) assert.ok(!(d.name in jg), `${d.name} is exported by jinglegate.js but not by the d.ts`);
    // Without an export declaration every top-level declaration of a .d.ts
    // module is importable, export or not.
    assert.match(dts, /^export\s*\{\s*\};?\s*$/m, 'jinglegate.d.ts needs "export {};" to keep its private declarations private');
    for (const m of dts.matchAll(/^export\s*\{([^}]*)\}/gm)) {
      for (const name of m[1].split(',').map((x) => x.trim().split(/\s+as\s+/).pop()).filter(Boolean)) {
        assert.ok(name in jg, `the d.ts exports ${name}, jinglegate.js does not`);
      }
    }
  });

  for (const [name, cls, base] of [
    ['Client', Client, 'Emitter'],
    ['Call', jg.Call, 'Emitter'],
  ]) {
    test(`${name}: every public method and getter is declared, and every declared one exists`, () => {
      const declared = classBody(name);
      const runtime = runtimeMembers(cls.prototype);
      for (const [m, kind] of runtime) {
        assert.ok(declared.has(m), `${name}.${m} (a ${kind === 'method' ? 'method' : 'getter'}) is not declared in jinglegate.d.ts`);
        assert.equal(declared.get(m), kind, `${name}.${m}: a ${kind} at runtime, declared as a ${declared.get(m)}`);
      }
      for (const [m, kind] of declared) {
        assert.ok(runtime.has(m), `${name}.${m} is declared (${kind}) but jinglegate.js has no such ${kind === 'method' ? 'method' : 'getter'}`);
      }
      // What the base class declares exists on the prototype chain, and the
      // base's own methods (on) are declared.
      const inherited = classBody(base);
      for (const m of inherited.keys()) assert.equal(typeof cls.prototype[m], 'function', `${name}.${m} (declared in ${base})`);
      const baseProto = Object.getPrototypeOf(cls.prototype);
      assert.equal(baseProto.constructor.name, base);
      for (const m of runtimeMembers(baseProto).keys()) assert.ok(inherited.has(m), `${base}.${m} is not declared in jinglegate.d.ts`);
    });
  }
});

// --- negotiation, with a fake RTCPeerConnection ------------------------------

// FakePC models what the client relies on: signaling states, offers and
// answers (SDP "offer-N"/"answer-N"), implicit and explicit rollback,
// transceivers, negotiationneeded when a transceiver changes in stable, and
// candidates. A remote description whose SDP contains "bad" is refused.
class FakePC extends EventTarget {
  static all = [];
  constructor(config) {
    super();
    this.config = config;
    this.signalingState = 'stable';
    this.localDescription = null;
    this.remoteDescription = null;
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.transceivers = [];
    this.candidates = [];
    this.n = 0;
    this.ops = Promise.resolve();
    this.negotiated = new Map(); // transceiver -> direction last negotiated
    FakePC.all.push(this);
  }
  #op(f) {
    const p = this.ops.then(f);
    this.ops = p.catch(() => {});
    return p;
  }
  #maybeNeeded() {
    setTimeout(() => {
      if (this.signalingState === 'stable' && this.transceivers.some((t) => this.negotiated.get(t) !== t.direction) && this.onnegotiationneeded) this.onnegotiationneeded();
    }, 0);
  }
  #transceiver(kind, track, direction) {
    const t = {
      mid: null,
      direction,
      currentDirection: null,
      sender: { track, replaceTrack: async (x) => (t.sender.track = x), setStreams() {} },
      receiver: { track: { kind } },
    };
    this.transceivers.push(t);
    return t;
  }
  addTransceiver(track, init) {
    const t = this.#transceiver(track.kind, track, init.direction);
    this.#maybeNeeded();
    return t;
  }
  getTransceivers() {
    return this.transceivers;
  }
  getSenders() {
    return this.transceivers.map((t) => t.sender);
  }
  restartIce() {
    this.restarted = (this.restarted || 0) + 1;
  }
  setConfiguration(config) {
    if (this.refuseConfig) throw new Error(`InvalidModificationError: ${this.refuseConfig}`);
    this.configs = [...(this.configs || []), config];
    this.config = config;
  }
  setLocalDescription(desc) {
    return this.#op(async () => {
      await tick(1);
      if (desc && desc.type === 'rollback') {
        if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError: rollback in ' + this.signalingState);
        this.explicitRollbacks = (this.explicitRollbacks || 0) + 1;
        this.signalingState = 'stable';
        this.localDescription = null;
        this.#maybeNeeded();
        return;
      }
      if (this.signalingState === 'stable') {
        this.localDescription = { type: 'offer', sdp: `offer-${++this.n}` };
        this.signalingState = 'have-local-offer';
      } else if (this.signalingState === 'have-remote-offer') {
        this.localDescription = { type: 'answer', sdp: `answer-${++this.n}` };
        this.signalingState = 'stable';
        // Only what the remote offer had is negotiated now.
        for (const t of this.transceivers) if (t.mid !== null) this.negotiated.set(t, t.direction);
        this.#maybeNeeded();
      } else throw new Error('InvalidStateError');
    });
  }
  setRemoteDescription(desc) {
    return this.#op(async () => {
      await tick(1);
      if (desc.sdp.includes('bad')) throw new Error('OperationError: bad sdp');
      if (desc.type === 'offer') {
        if (this.signalingState === 'have-local-offer') {
          this.implicitRollbacks = (this.implicitRollbacks || 0) + 1;
          this.localDescription = null;
        }
        this.signalingState = 'have-remote-offer';
        this.remoteDescription = desc;
        // The offer's media: a transceiver per kind named in it, ours if we
        // have one (with a mid), else a new one.
        for (const kind of ['audio', 'video']) {
          if (!desc.sdp.includes(kind)) continue;
          let t = this.transceivers.find((x) => x.receiver.track.kind === kind && x.mid !== null) || this.transceivers.find((x) => x.receiver.track.kind === kind);
          if (!t) t = this.#transceiver(kind, null, 'recvonly');
          if (t.mid === null) t.mid = String(this.transceivers.indexOf(t));
        }
        return;
      }
      if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError: answer in ' + this.signalingState);
      this.signalingState = 'stable';
      this.remoteDescription = desc;
      for (const t of this.transceivers) {
        if (t.mid === null) t.mid = String(this.transceivers.indexOf(t));
        this.negotiated.set(t, t.direction);
      }
      this.#maybeNeeded();
    });
  }
  async addIceCandidate(c) {
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.candidates.push(c);
  }
  connect() {
    this.connectionState = 'connected';
    this.iceConnectionState = 'connected';
    this.onconnectionstatechange && this.onconnectionstatechange();
    this.oniceconnectionstatechange && this.oniceconnectionstatechange();
  }
  close() {
    this.closed = true;
  }
  async getStats() {
    return new Map();
  }
}

function fakeStream(kinds) {
  const tracks = kinds.map((kind) => ({ kind, id: `${kind}-${Math.random()}`, enabled: true, readyState: 'live', stopped: false, stop() { this.stopped = true; this.readyState = 'ended'; } }));
  return {
    tracks,
    getTracks: () => [...tracks],
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    addTrack: (t) => tracks.push(t),
    removeTrack: (t) => tracks.splice(tracks.indexOf(t), 1),
  };
}

describe('jinglegate.js negotiation (Node, fake RTCPeerConnection)', () => {
  let saved;
  const install = () => {
    saved = globalThis.RTCPeerConnection;
    globalThis.RTCPeerConnection = FakePC;
  };
  const uninstall = () => {
    globalThis.RTCPeerConnection = saved;
  };

  // An active outgoing call (impolite side): returns {client, ws, call, pc, seq}.
  async function outgoing(kinds = ['audio']) {
    const s = await start();
    const { client, ws, seq } = s;
    const stream = fakeStream(kinds);
    const p = client.call('bob@example.org/phone', { audio: true, video: kinds.includes('video'), stream, sid: `out${seq()}` });
    const fc = await ws.frame((m) => m.type === 'call');
    assert.deepEqual([fc.to, fc.media], ['bob@example.org/phone', kinds]);
    ws.deliver({ seq: seq(), type: 'ack', id: fc.id, sid: fc.sid });
    const call = await p;
    assert.equal(call.state, 'calling');
    ws.deliver({ seq: seq(), type: 'proceeding', sid: call.sid, polite: false });
    const offer = await ws.frame((m) => m.type === 'offer' && m.sid === call.sid);
    assert.equal(offer.sdp, 'offer-1');
    const pc = FakePC.all.at(-1);
    assert.deepEqual(pc.config.iceServers, [{ urls: ['stun:stun.example.org'] }]);
    ws.deliver({ seq: seq(), type: 'ringing', sid: call.sid });
    assert.equal(call.state, 'ringing');
    ws.deliver({ seq: seq(), type: 'ice-candidate', sid: call.sid, candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' } });
    ws.deliver({ seq: seq(), type: 'answer', sid: call.sid, sdp: 'remote-answer audio' });
    await until(() => call.state === 'connecting');
    await until(() => pc.candidates.length === 1, 'the early candidate, once the answer is set');
    pc.connect();
    assert.equal(call.state, 'active');
    return { ...s, call, pc };
  }

  // incomingActive: an incoming call accepted and connected (this side is
  // the polite one).
  async function incomingActive() {
    const s = await start();
    const { client, ws, seq } = s;
    const sid = `in${seq()}`;
    ws.deliver({ seq: seq(), type: 'incoming', sid, from: 'bob@example.org/phone', media: ['audio'], polite: true });
    const call = client.getCall(sid);
    const acc = call.accept({ stream: fakeStream(['audio']) });
    const fa = await ws.frame((m) => m.type === 'accept');
    ws.deliver({ seq: seq(), type: 'ack', id: fa.id, sid });
    await acc;
    ws.deliver({ seq: seq(), type: 'offer', sid, sdp: 'offer audio', polite: true });
    await ws.frame((m) => m.type === 'answer' && m.sid === sid);
    const pc = FakePC.all.at(-1);
    pc.connect();
    assert.equal(call.state, 'active');
    return { ...s, call, pc };
  }

  async function until(f, what = 'condition') {
    for (let i = 0; i < 200; i++) {
      if (f()) return;
      await tick(5);
    }
    throw new Error(`${what} not met`);
  }

  test('an outgoing call: proceeding, offer, ringing, answer, early candidates, active; trickle out; hangup', async () => {
    install();
    try {
      const { ws, call, pc, seq } = await outgoing();
      pc.onicecandidate({ candidate: { candidate: 'candidate:2 1 udp 2 127.0.0.1 6000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u', extra: 'x' } });
      pc.onicecandidate({ candidate: null });
      const c1 = await ws.frame((m) => m.type === 'ice-candidate' && m.candidate.candidate.startsWith('candidate:2'));
      assert.deepEqual(c1.candidate, { candidate: 'candidate:2 1 udp 2 127.0.0.1 6000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' });
      const eoc = await ws.frame((m) => m.type === 'ice-candidate' && m.candidate.candidate === '');
      assert.deepEqual(eoc.candidate, { candidate: '' });
      const h = call.hangup();
      const fh = await ws.frame((m) => m.type === 'hangup');
      assert.deepEqual([fh.sid, fh.reason], [call.sid, 'success']);
      ws.deliver({ seq: seq(), type: 'ack', id: fh.id, sid: call.sid });
      await h;
      assert.equal(call.state, 'ended');
      assert.equal(pc.closed, true);
    } finally {
      uninstall();
    }
  });

  test('glare on the impolite side: the remote offer is ignored, ours is answered', async () => {
    install();
    try {
      const { ws, call, pc, seq } = await outgoing();
      const added = call.addVideo(fakeStream(['video']).tracks[0]);
      const o2 = await ws.frame((m) => m.type === 'offer' && m.sdp === 'offer-2');
      ws.deliver({ seq: seq(), type: 'offer', sid: call.sid, sdp: 'their offer audio video', polite: false });
      await tick(20);
      assert.equal(pc.signalingState, 'have-local-offer', 'not rolled back');
      assert.ok(!ws.sent.some((m) => m.type === 'answer'), 'no answer to the ignored offer');
      ws.deliver({ seq: seq(), type: 'answer', sid: call.sid, sdp: 'answer to offer-2' });
      await added;
      assert.equal(pc.signalingState, 'stable');
      assert.equal(call.sendingVideo, true);
      assert.ok(o2);
    } finally {
      uninstall();
    }
  });

  test('an incoming call: accept, the offer, our answer; glare on the polite side rolls back and offers again', async () => {
    install();
    try {
      const { client, ws, seq } = await start();
      ws.deliver({ seq: seq(), type: 'incoming', sid: 'in1', from: 'bob@example.org/phone', media: ['audio'], polite: true });
      const call = client.getCall('in1');
      const acc = call.accept({ stream: fakeStream(['audio']) });
      const fa = await ws.frame((m) => m.type === 'accept');
      ws.deliver({ seq: seq(), type: 'ack', id: fa.id, sid: 'in1' });
      await acc;
      assert.equal(call.state, 'connecting');
      ws.deliver({ seq: seq(), type: 'offer', sid: 'in1', sdp: 'offer audio', polite: true });
      const ans = await ws.frame((m) => m.type === 'answer');
      const pc = FakePC.all.at(-1);
      assert.equal(ans.sdp, pc.localDescription.sdp);
      const audio = pc.transceivers.find((t) => t.receiver.track.kind === 'audio');
      assert.equal(audio.direction, 'sendrecv', 'our microphone goes on the offered transceiver');
      assert.ok(audio.sender.track);
      pc.connect();
      assert.equal(call.state, 'active');
      // We add video; the remote offers at the same time.
      const added = call.addVideo(fakeStream(['video']).tracks[0]);
      const ours = await ws.frame((m) => m.type === 'offer');
      ws.deliver({ seq: seq(), type: 'offer', sid: 'in1', sdp: 'their offer audio', polite: true });
      const ans2 = await ws.frame((m) => m.type === 'answer' && m !== ans);
      assert.equal(pc.implicitRollbacks, 1, 'ours rolled back');
      // Our change is offered again, and answered.
      const again = await ws.frame((m) => m.type === 'offer' && m !== ours);
      ws.deliver({ seq: seq(), type: 'answer', sid: 'in1', sdp: 'answer video' });
      await added;
      assert.ok(ans2 && again);
      assert.equal(call.sendingVideo, true);
    } finally {
      uninstall();
    }
  });

  test('the caller\'s renegotiation refused for a moment (unavailable) is sent again as it is, never rolled back', async () => {
    install();
    try {
      const { ws, call, pc, seq } = await outgoing();
      const added = call.addVideo(fakeStream(['video']).tracks[0]);
      const o2 = await ws.frame((m) => m.type === 'offer' && m.sdp === 'offer-2');
      // Chromium adds the candidates it gathers to localDescription.sdp.
      pc.localDescription = { type: 'offer', sdp: 'offer-2 a=candidate:1' };
      ws.deliver({ seq: seq(), type: 'error', id: o2.id, sid: call.sid, code: 'unavailable', message: 'the XMPP link is down' });
      const again = await ws.frame((m) => m.type === 'offer' && m.sdp === 'offer-2 a=candidate:1' && m.id !== o2.id, 3000);
      assert.ok(!ws.sent.some((m) => m.type === 'offer' && m.sdp === 'offer-3'), 'no new offer');
      assert.equal(pc.explicitRollbacks || 0, 0, 'no rollback on the side that made the first offer');
      assert.equal(pc.signalingState, 'have-local-offer');
      assert.ok(again);
      ws.deliver({ seq: seq(), type: 'answer', sid: call.sid, sdp: 'answer' });
      await added;
      assert.equal(pc.signalingState, 'stable');
    } finally {
      uninstall();
    }
  });

  test('the callee\'s renegotiation refused for a moment (conflict) is rolled back and offered anew', async () => {
    install();
    try {
      const { ws, call, pc, seq } = await incomingActive();
      const added = call.addVideo(fakeStream(['video']).tracks[0]);
      const ours = await ws.frame((m) => m.type === 'offer' && m.sid === call.sid);
      ws.deliver({ seq: seq(), type: 'error', id: ours.id, sid: call.sid, code: 'conflict', message: 'offer: the peer\'s offer is pending and wins: answer it, then offer again' });
      const anew = await ws.frame((m) => m.type === 'offer' && m.sid === call.sid && m.id !== ours.id, 3000);
      assert.equal(pc.explicitRollbacks, 1, 'rolled back');
      assert.notEqual(anew.sdp, ours.sdp, 'a new offer');
      ws.deliver({ seq: seq(), type: 'answer', sid: call.sid, sdp: 'answer video' });
      await added;
      assert.equal(pc.signalingState, 'stable');
    } finally {
      uninstall();
    }
  });

  test('an answer that cannot be applied: rolled back, reported, not retried in a loop; the call goes on', async () => {
    install();
    try {
      const { ws, call, pc, seq } = await outgoing();
      const errors = [];
      call.on('error', (d) => errors.push(d.error.code));
      const added = call.addVideo(fakeStream(['video']).tracks[0]);
      const o2 = await ws.frame((m) => m.type === 'offer' && m.sdp === 'offer-2');
      ws.deliver({ seq: seq(), type: 'answer', sid: call.sid, sdp: 'bad answer' });
      await assert.rejects(added, (e) => e.code === 'negotiation');
      assert.equal(pc.signalingState, 'stable');
      await tick(100);
      assert.equal(ws.sent.filter((m) => m.type === 'offer').length, 2, 'no loop of offers');
      assert.deepEqual(errors, ['negotiation']);
      assert.equal(call.state, 'active');
      assert.ok(o2);
    } finally {
      uninstall();
    }
  });

  test('call glare: our call ends (alternative-session), the peer\'s offer is answered as its replacement', async () => {
    install();
    try {
      const { client, ws, seq } = await start();
      const p = client.call('bob@example.org/phone', { audio: true, stream: fakeStream(['audio']), sid: 'ours' });
      const fc = await ws.frame((m) => m.type === 'call');
      ws.deliver({ seq: seq(), type: 'ack', id: fc.id, sid: 'ours' });
      const ours = await p;
      const replaced = new Promise((r) => client.on('call', r));
      ws.deliver({ seq: seq(), type: 'hangup', sid: 'ours', reason: 'alternative-session', text: 'glare' });
      assert.equal(ours.endReason, 'alternative-session');
      // The adopted call acquires its media with getUserMedia.
      const track = { kind: 'audio', id: 'a', enabled: true, readyState: 'live', stop() {} };
      const savedNav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
      Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { mediaDevices: { getUserMedia: async () => fakeStream(['audio']) } } });
      try {
        ws.deliver({ seq: seq(), type: 'offer', sid: 'theirs', sdp: 'offer audio', polite: true });
        const d = await replaced;
        assert.equal(d.replaces, 'ours');
        assert.equal(d.call.peer, 'bob@example.org/phone');
        const ans = await ws.frame((m) => m.type === 'answer' && m.sid === 'theirs');
        assert.ok(ans.sdp.startsWith('answer-'));
        assert.ok(!ws.sent.some((m) => m.type === 'accept'), 'no accept: the gateway bound it already');
      } finally {
        if (savedNav) Object.defineProperty(globalThis, 'navigator', savedNav);
        else delete globalThis.navigator;
      }
      assert.ok(track);
    } finally {
      uninstall();
    }
  });

  test('a mute or hold set before the call is live is sent once it is (outgoing: ringing; incoming: before the offer)', async () => {
    install();
    try {
      const { client, ws, seq } = await start();
      const infos = () => ws.sent.filter((m) => m.type === 'session-info');
      // Outgoing: muted and held while it rings.
      const p = client.call('bob@example.org/phone', { audio: true, stream: fakeStream(['audio']), sid: 'o1' });
      const fc = await ws.frame((m) => m.type === 'call');
      ws.deliver({ seq: seq(), type: 'ack', id: fc.id, sid: 'o1' });
      const call = await p;
      ws.deliver({ seq: seq(), type: 'proceeding', sid: 'o1', polite: false });
      await ws.frame((m) => m.type === 'offer' && m.sid === 'o1');
      ws.deliver({ seq: seq(), type: 'ringing', sid: 'o1' });
      await call.mute('audio');
      await call.hold();
      await call.mute('video');
      await call.mute('video', false); // changed back: nothing to tell
      await tick(20);
      assert.deepEqual(infos(), [], 'nothing sent while it rings');
      assert.deepEqual(call.muted, { audio: true, video: false });
      ws.deliver({ seq: seq(), type: 'answer', sid: 'o1', sdp: 'remote-answer audio' });
      await until(() => infos().length === 2, 'the mute and the hold, once answered');
      assert.deepEqual(
        infos().map((m) => [m.sid, m.info, m.media]),
        [
          ['o1', 'mute', ['audio']],
          ['o1', 'hold', undefined],
        ],
      );
      // Live now: changes go at once, and what was sent is not sent again.
      call.mute('audio', false);
      await until(() => infos().length === 3, 'the unmute');
      assert.deepEqual([infos()[2].info, infos()[2].media], ['unmute', ['audio']]);
      FakePC.all.at(-1).connect();
      await tick(20);
      assert.equal(infos().length, 3, 'active: nothing more');

      // Incoming: muted before accept; an unheld hold is not told.
      ws.deliver({ seq: seq(), type: 'incoming', sid: 'i1', from: 'bob@example.org/phone', media: ['audio'], polite: true });
      const inc = client.getCall('i1');
      await inc.mute('audio');
      await inc.hold();
      await inc.hold(false);
      const acc = inc.accept({ stream: fakeStream(['audio']) });
      const fa = await ws.frame((m) => m.type === 'accept');
      ws.deliver({ seq: seq(), type: 'ack', id: fa.id, sid: 'i1' });
      await acc;
      assert.equal(inc.state, 'connecting');
      await tick(20);
      assert.ok(!infos().some((m) => m.sid === 'i1'), 'connecting, no Jingle session yet: nothing sent');
      ws.deliver({ seq: seq(), type: 'offer', sid: 'i1', sdp: 'offer audio', polite: true });
      const ans = await ws.frame((m) => m.type === 'answer' && m.sid === 'i1');
      await until(() => infos().some((m) => m.sid === 'i1'), 'the mute, after the answer');
      const mine = infos().filter((m) => m.sid === 'i1');
      assert.deepEqual(mine.map((m) => [m.info, m.media]), [['mute', ['audio']]]);
      assert.ok(ws.sent.indexOf(ans) < ws.sent.indexOf(mine[0]), 'after the answer');
    } finally {
      uninstall();
    }
  });

  test('an ICE restart first takes the current session\'s ICE servers (fresh TURN credentials); a refused setConfiguration does not stop it', async () => {
    install();
    try {
      const { client, ws, fake, call, pc } = await outgoing();
      // The connection drops and the session is resumed: new TURN credentials.
      const turn = [{ urls: ['turn:turn.example.org:3478?transport=udp'], username: '1700000000:alice', credential: 'fresh' }];
      ws.drop(1006);
      const ws2 = await fake.next(1);
      ws2.accept();
      ws2.deliver(session({ resumed: true, lastSeq: 0, iceServers: turn }));
      assert.deepEqual(client.session.iceServers, turn);
      assert.equal(pc.configs, undefined, 'nothing changes before a restart');
      // The application's restart.
      call.restartIce();
      assert.equal(pc.restarted, 1);
      assert.deepEqual(pc.configs.at(-1).iceServers, turn);
      // ICE failed: the call's own restart, the same.
      pc.iceConnectionState = 'failed';
      pc.oniceconnectionstatechange();
      assert.equal(pc.restarted, 2);
      assert.equal(pc.configs.length, 2);
      assert.deepEqual(pc.configs.at(-1).iceServers, turn);
      // A browser that refuses the change: the restart happens anyway.
      pc.refuseConfig = 'iceTransportPolicy';
      call.restartIce();
      assert.equal(pc.restarted, 3);
      assert.equal(pc.configs.length, 2);
      assert.equal(call.state, 'active');
    } finally {
      uninstall();
    }
  });
});
