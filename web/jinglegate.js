// jinglegate.js — the browser client of jinglegate, a gateway between web
// browsers and XMPP (Jingle) calls.
//
// One dependency-free ES module. It speaks the gateway's WebSocket protocol
// (docs/protocol.md): a session that survives dropped connections (resume
// with the last processed seq, replay, resending of unanswered requests),
// acknowledgements, the rate limit, the roster and presence, and calls over
// RTCPeerConnection with perfect negotiation and trickle ICE both ways.
//
//   import { Client } from '/jinglegate.js';
//   const client = new Client({ url: '/ws', token: () => fetchToken() });
//   client.addEventListener('incoming', (e) => e.detail.call.accept());
//   await client.connect();
//   const call = await client.call('bob@example.org', { video: true });
//
// docs/client.md documents the API; jinglegate.d.ts types it.

/** The protocol version this client speaks (docs/protocol.md). */
export const PROTOCOL = 1;

const MEDIA_KINDS = ['audio', 'video'];
const SHOWS = ['', 'away', 'chat', 'dnd', 'xa'];

// A gateway close code telling the client what to do next (protocol.md,
// "Limits and closing codes").
const CLOSE_NORMAL = 1000; // logout, or the gateway ended the session
const CLOSE_GOING_AWAY = 1001; // the gateway shuts down: sessions are over
const CLOSE_POLICY = 1008; // rate-limit abuse, or too many tabs: back off
const CLOSE_REPLACED = 4000; // our session was resumed on another connection
// Sent by the client when it abandons a connection to resume on a new one.
const CLOSE_ABANDONED = 4001;
// Local pseudo-codes (never on the wire).
const CLOSE_DEAD = 4901; // no answer to a ping: the connection is dead
const CLOSE_NO_SESSION = 4902; // connected, but no session message came

const DEFAULTS = {
  url: '/ws',
  token: undefined,
  reconnect: { minDelay: 500, maxDelay: 30000, factor: 2, jitter: 0.5 },
  initialAttempts: 3,
  requestTimeout: 30000,
  pingInterval: 25000,
  pingTimeout: 10000,
  sessionTimeout: 15000,
  autoRoster: true,
  logoutOnPageHide: true,
  iceServers: [],
  rtcConfig: {},
  media: {
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  },
  iceRestarts: 3,
  disconnectedGraceMs: 4000,
  logger: undefined,
  WebSocket: undefined,
};

const quietLogger = {
  debug() {},
  info() {},
  warn: (...a) => console.warn('jinglegate:', ...a),
  error: (...a) => console.error('jinglegate:', ...a),
};

/** An error answered by the gateway, or raised by the client. */
export class JinglegateError extends Error {
  /**
   * @param {string} code a protocol error code (bad-request, not-found, …)
   *   or a client one (closed, media, negotiation)
   * @param {string} message
   * @param {{sid?: string, id?: string, cause?: unknown}} [extra]
   */
  constructor(code, message, { sid, id, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'JinglegateError';
    this.code = code;
    if (sid !== undefined) this.sid = sid;
    if (id !== undefined) this.id = id;
  }
}

// INTERNAL guards the constructor of Call: calls are made by a Client.
const INTERNAL = Symbol('jinglegate.internal');

/** bareJID returns the JID without its resource. */
export function bareJID(jid) {
  const s = String(jid);
  const slash = s.indexOf('/');
  return slash < 0 ? s : s.slice(0, slash);
}

function emit(target, type, detail) {
  target.dispatchEvent(new CustomEvent(type, { detail }));
}

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function errorFrom(m) {
  return new JinglegateError(m.code || 'internal', m.message || m.code || 'error', { sid: m.sid, id: m.id });
}

// toWebSocketURL resolves url (ws:, wss:, http:, https:, or a path) against
// the page and gives it a ws: or wss: scheme.
function toWebSocketURL(url) {
  const base = typeof location === 'undefined' ? undefined : location.href;
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new TypeError(`jinglegate: url must be ws:, wss:, http: or https:, got ${u.protocol}`);
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  return u;
}

/** A small EventTarget with on(type, fn) → unsubscribe. */
class Emitter extends EventTarget {
  /**
   * on calls fn(detail, event) for each event of type; it returns a
   * function that removes the listener.
   */
  on(type, fn) {
    const h = (e) => fn(e.detail, e);
    this.addEventListener(type, h);
    return () => this.removeEventListener(type, h);
  }
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/**
 * Client is one session with the gateway (one "tab" in protocol terms: a full
 * JID of its own). It reconnects by itself and resumes the session, so that
 * calls and messages survive network drops.
 */
export class Client extends Emitter {
  #o;
  #log;
  #WS;
  #state = 'idle';
  #ws = null;
  #wsGen = 0;

  // The session.
  #session = null;
  #resume = null; // resume token for the next connection
  #hadSession = false;
  #lastSeq = 0; // highest seq processed
  #ackedSeq = 0; // highest seq acknowledged to the gateway
  #replayUntil = 0; // after a resume, the replay ends at this seq
  #syncing = false; // after a resume, until the barrier is answered
  #swallowResumeError = false;

  // Requests: every message we send but acks carries an id.
  #nextId = 0;
  #requests = new Map(); // id -> request, in creation order
  #outbox = []; // requests not written on the current connection
  #flushTimer = 0;
  #ackTimer = 0;

  // The rate limit (a token bucket mirroring the gateway's).
  #tokens = 0;
  #tokensAt = 0;

  // Reconnection and liveness.
  #attempt = 0;
  #retryTimer = 0;
  #stableTimer = 0;
  #sessionTimer = 0;
  #pingTimer = 0;
  #pingId = null;
  #lastRx = 0;
  #connectWaiters = [];
  #listeners = [];
  #closing = false;

  // Application state.
  #contacts = new Map(); // bare JID -> contact record
  #requestsIn = new Map(); // bare JID -> {jid, name}
  #calls = new Map(); // sid -> Call
  #presence = null; // the last setPresence, re-applied on a new session

  /**
   * @param {import('./jinglegate').ClientOptions} options
   */
  constructor(options = {}) {
    super();
    if (options.token === undefined || options.token === null || options.token === '') {
      throw new TypeError('jinglegate: options.token is required (a JWT, or a function returning one)');
    }
    this.#o = {
      ...DEFAULTS,
      ...options,
      reconnect: options.reconnect === false ? false : { ...DEFAULTS.reconnect, ...(options.reconnect || {}) },
      media: { ...DEFAULTS.media, ...(options.media || {}) },
    };
    this.#log = this.#o.logger || quietLogger;
    this.#WS = this.#o.WebSocket || globalThis.WebSocket;
    toWebSocketURL(this.#o.url); // validate early
  }

  // --- state ---------------------------------------------------------------

  /** 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' */
  get state() {
    return this.#state;
  }

  /** The current session (null before the first one). */
  get session() {
    return this.#session;
  }

  /** The tab's full JID (null before the first session). */
  get jid() {
    return this.#session ? this.#session.jid : null;
  }

  /** Whether a connection with a live session is up now. */
  get connected() {
    return this.#state === 'connected';
  }

  #setState(s, detail = {}) {
    if (this.#state === s) return;
    this.#state = s;
    emit(this, 'statechange', { state: s, ...detail });
  }

  // --- connecting ----------------------------------------------------------

  /**
   * connect opens the session. It resolves with the session once the gateway
   * has sent it (and, with autoRoster, once the roster has arrived); it
   * rejects if no session could be opened after options.initialAttempts
   * tries, and the client is then closed.
   * @returns {Promise<import('./jinglegate').Session>}
   */
  connect() {
    if (this.#state === 'closed') {
      return Promise.reject(new JinglegateError('closed', 'this client is closed; make a new one'));
    }
    const p = new Promise((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (this.#state === 'idle') {
      this.#installPageListeners();
      this.#open();
    } else if (this.#state === 'connected' && this.#session) {
      this.#resolveConnect();
    }
    return p;
  }

  #resolveConnect() {
    const ws = this.#connectWaiters.splice(0);
    for (const w of ws) w.resolve(this.#session);
  }

  #rejectConnect(err) {
    const ws = this.#connectWaiters.splice(0);
    for (const w of ws) w.reject(err);
  }

  async #token() {
    const t = this.#o.token;
    const v = typeof t === 'function' ? await t() : t;
    if (typeof v !== 'string' || v === '') throw new JinglegateError('unauthorized', 'the token provider gave no token');
    return v;
  }

  async #open() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = 0;
    if (this.#state === 'closed' || this.#ws) return;
    this.#setState(this.#hadSession ? 'reconnecting' : 'connecting');
    const gen = ++this.#wsGen;
    let token;
    try {
      token = await this.#token();
    } catch (e) {
      if (gen !== this.#wsGen || this.#state === 'closed') return;
      this.#log.warn('no token:', e);
      emit(this, 'error', { error: e instanceof JinglegateError ? e : new JinglegateError('unauthorized', String(e), { cause: e }) });
      this.#failedAttempt(false, 0, `no token: ${e && e.message ? e.message : e}`);
      return;
    }
    if (gen !== this.#wsGen || this.#state === 'closed') return;
    const u = toWebSocketURL(this.#o.url);
    u.searchParams.set('token', token);
    if (this.#resume) {
      u.searchParams.set('resume', this.#resume);
      u.searchParams.set('seq', String(this.#lastSeq));
    }
    let ws;
    try {
      ws = new this.#WS(u.href);
    } catch (e) {
      this.#log.warn('WebSocket failed:', e);
      this.#failedAttempt(false, 0, String(e));
      return;
    }
    this.#ws = ws;
    this.#lastRx = Date.now();
    ws.onmessage = (ev) => this.#onFrame(ws, ev);
    ws.onclose = (ev) => this.#onClose(ws, ev.code, ev.reason);
    ws.onerror = () => {}; // a close event follows
    // A session message must come soon after the upgrade.
    this.#sessionTimer = setTimeout(() => {
      if (this.#ws === ws && !this.#sessionOn(ws)) this.#drop(ws, CLOSE_NO_SESSION, 'no session message');
    }, this.#o.sessionTimeout);
  }

  #sessionWs = null;
  #sessionOn(ws) {
    return this.#sessionWs === ws;
  }

  // #drop abandons ws at once (a dead connection can take a minute to
  // close) and handles it as closed with code.
  #drop(ws, code, reason) {
    if (this.#ws !== ws) return;
    try {
      ws.onmessage = ws.onclose = null;
      ws.close(CLOSE_ABANDONED, reason);
    } catch {
      // already closing
    }
    this.#onClose(ws, code, reason);
  }

  #detach() {
    clearTimeout(this.#sessionTimer);
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#stableTimer);
    clearInterval(this.#pingTimer);
    this.#sessionTimer = this.#flushTimer = this.#ackTimer = this.#stableTimer = this.#pingTimer = 0;
    this.#pingId = null;
    this.#ws = null;
    this.#sessionWs = null;
    this.#syncing = false;
    if (this.#barrier) {
      // The barrier of a resume that did not finish: the next resume sends
      // its own.
      const r = this.#requests.get(this.#barrier);
      this.#requests.delete(this.#barrier);
      this.#barrier = null;
      if (r) r.reject(new JinglegateError('unavailable', 'connection lost'));
    }
    // Requests written on the lost connection wait for the next one: after a
    // resume they are resent unless the replay answers them (each within its
    // timeout).
  }

  #onClose(ws, code, reason) {
    if (this.#ws !== ws) return;
    const hadSession = this.#sessionOn(ws);
    this.#detach();
    if (this.#state === 'closed' || this.#closing) return;
    this.#log.info(`connection closed (${code}${reason ? ': ' + reason : ''})`);
    switch (code) {
      case CLOSE_REPLACED:
        // Another connection resumed this session: it owns it now.
        this.#shutdown('replaced', code, reason || 'the session was resumed elsewhere');
        return;
      case CLOSE_NORMAL:
        // Not after our logout (that closes the client first): the gateway
        // ended the session. Start a new one.
        this.#resume = null;
        break;
      case CLOSE_GOING_AWAY:
        this.#resume = null;
        break;
    }
    const min = code === CLOSE_POLICY ? 5000 : code === CLOSE_GOING_AWAY ? 1000 : 0;
    this.#failedAttempt(hadSession, min, reason, code);
  }

  // #failedAttempt retries, unless the first session could not be opened
  // in options.initialAttempts tries: then connect() rejects.
  #failedAttempt(hadSession, minDelay, reason, code) {
    if (!this.#hadSession && !hadSession && this.#attempt + 1 >= this.#o.initialAttempts) {
      const why = code ? `${code}${reason ? ': ' + reason : ''}` : reason;
      const err = new JinglegateError('unavailable', `could not open a session with the gateway (${why}); check the URL, the token and the allowed origins`);
      this.#rejectConnect(err);
      this.#shutdown('failed', code, err.message);
      return;
    }
    this.#retry(minDelay, reason, code);
  }

  #retry(minDelay, reason, code) {
    if (this.#state === 'closed') return;
    const rc = this.#o.reconnect;
    if (!rc) {
      this.#rejectConnect(new JinglegateError('unavailable', 'connection lost'));
      this.#shutdown('lost', code, reason);
      return;
    }
    const base = Math.min(rc.maxDelay, rc.minDelay * Math.pow(rc.factor, this.#attempt));
    // Jitter spreads the reconnections of many clients after a restart.
    const delay = Math.max(minDelay, Math.round(base * (1 - rc.jitter * Math.random())));
    this.#attempt++;
    this.#setState(this.#hadSession ? 'reconnecting' : 'connecting');
    emit(this, 'reconnecting', { attempt: this.#attempt, delay, code, reason });
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  // #retryNow skips the wait (the browser is back online, the tab visible).
  #retryNow() {
    if (this.#retryTimer && this.#state !== 'closed' && !this.#ws) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = 0;
      this.#open();
    }
  }

  #installPageListeners() {
    if (typeof window === 'undefined' || !window.addEventListener) return;
    const add = (target, type, fn) => {
      target.addEventListener(type, fn);
      this.#listeners.push(() => target.removeEventListener(type, fn));
    };
    add(window, 'online', () => this.#retryNow());
    if (typeof document !== 'undefined') {
      add(document, 'visibilitychange', () => {
        if (document.visibilityState === 'visible') this.#retryNow();
      });
    }
    if (this.#o.logoutOnPageHide) {
      // protocol.md: send logout when the page goes away for good, so that
      // contacts see the tab leave at once instead of after the grace period.
      add(window, 'pagehide', (e) => {
        if (!e.persisted) this.#logoutNow();
      });
    }
  }

  #logoutNow() {
    const ws = this.#ws;
    if (ws && ws.readyState === 1 && this.#sessionOn(ws)) {
      try {
        ws.send(JSON.stringify({ type: 'logout' }));
      } catch {
        // the page is going away anyway
      }
    }
    this.#shutdown('logout', CLOSE_NORMAL, 'page closed');
  }

  /**
   * close ends the session: calls end, the gateway is told (logout), and the
   * client stops reconnecting. It resolves once the gateway has acknowledged
   * the logout or after a short wait.
   * @param {{logout?: boolean}} [opts] logout: false only closes the
   *   connection; the session then lingers for the resume grace period.
   */
  async close({ logout = true } = {}) {
    if (this.#state === 'closed' || this.#closing) return;
    this.#closing = true;
    const ws = this.#ws;
    if (logout && ws && ws.readyState === 1 && this.#sessionOn(ws)) {
      const id = this.#newId();
      const done = new Promise((resolve) => {
        const t = setTimeout(resolve, 2000);
        const onClose = () => {
          clearTimeout(t);
          resolve();
        };
        ws.addEventListener('close', onClose, { once: true });
      });
      try {
        ws.send(JSON.stringify(this.#withAck({ type: 'logout', id })));
        await done;
      } catch {
        // closed meanwhile
      }
    }
    this.#shutdown('closed', CLOSE_NORMAL, 'closed by the application');
  }

  #shutdown(why, code, reason) {
    if (this.#state === 'closed') return;
    const ws = this.#ws;
    this.#detach();
    if (ws) {
      ws.onmessage = ws.onclose = null;
      try {
        ws.close(CLOSE_NORMAL);
      } catch {
        // already closed
      }
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = 0;
    for (const off of this.#listeners.splice(0)) off();
    this.#state = 'closed';
    const err = new JinglegateError('closed', `the client is closed (${why})`);
    for (const c of [...this.#calls.values()]) c[INTERNAL].end('gone', 'the client was closed');
    for (const r of this.#requests.values()) {
      clearTimeout(r.timer);
      r.reject(err);
    }
    this.#requests.clear();
    this.#outbox = [];
    this.#rejectConnect(err);
    emit(this, 'statechange', { state: 'closed' });
    emit(this, 'closed', { reason: why, code, text: reason || '' });
  }

  // --- receiving -----------------------------------------------------------

  #onFrame(ws, ev) {
    if (this.#ws !== ws) return;
    this.#lastRx = Date.now();
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      this.#log.warn('a frame that is not JSON was ignored');
      return;
    }
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    if (m.type === 'session') {
      this.#onSession(ws, m);
      return;
    }
    if (!this.#sessionOn(ws)) return;
    if (Number.isSafeInteger(m.seq)) {
      if (m.seq <= this.#lastSeq) return; // replayed twice: already processed
      this.#lastSeq = m.seq;
    }
    try {
      this.#dispatch(m);
    } catch (e) {
      this.#log.error(`handling ${m.type} failed:`, e);
    }
    if (this.#syncing && this.#lastSeq >= this.#replayUntil) this.#afterReplay();
    this.#scheduleAck();
  }

  #onSession(ws, m) {
    clearTimeout(this.#sessionTimer);
    this.#sessionTimer = 0;
    const resumed = m.resumed === true;
    const lost = this.#hadSession && !resumed;
    const limits = m.limits || {};
    this.#session = Object.freeze({
      jid: String(m.jid || ''),
      user: String(m.user || ''),
      name: m.name ? String(m.name) : '',
      resumed,
      lastSeq: Number(m.lastSeq) || 0,
      resumeGraceMs: Number(m.resumeGraceMs) || 0,
      iceServers: Array.isArray(m.iceServers) ? m.iceServers : [],
      limits: Object.freeze({
        maxMessageBytes: Number(limits.maxMessageBytes) || 65536,
        ratePerSecond: Number(limits.ratePerSecond) || 0,
        rateBurst: Number(limits.rateBurst) || 0,
      }),
    });
    this.#resume = m.resume || null;
    this.#sessionWs = ws;
    // The attempt counter is reset once the connection has proved stable,
    // so that a gateway that accepts and drops at once still backs off.
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => (this.#attempt = 0), 10000);
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => this.#keepalive(ws), Math.max(1000, Math.min(5000, this.#o.pingInterval / 2)));

    if (resumed) {
      // The gateway pruned everything up to the seq we gave.
      this.#ackedSeq = this.#lastSeq;
      this.#replayUntil = this.#session.lastSeq;
      this.#syncing = true;
      this.#setState('connected');
      emit(this, 'session', { session: this.#session, resumed: true, lost: false });
      this.#log.info(`session resumed (${this.#session.jid}), replay up to ${this.#replayUntil}`);
      if (this.#lastSeq >= this.#replayUntil) this.#afterReplay();
      this.#resolveConnect();
      return;
    }

    this.#lastSeq = 0;
    this.#ackedSeq = 0;
    this.#tokens = Math.max(1, Math.floor(this.#session.limits.rateBurst * 0.9));
    this.#tokensAt = performance.now();
    this.#hadSession = true;
    if (lost) {
      // A new session: the old one ended (grace period over, or the gateway
      // restarted). Its calls are over and its unanswered requests are lost.
      this.#swallowResumeError = true;
      const err = new JinglegateError('unavailable', 'the session was lost before this request was answered');
      for (const [id, r] of this.#requests) {
        if (r.written) {
          this.#requests.delete(id);
          clearTimeout(r.timer);
          r.reject(err);
        }
      }
      this.#outbox = this.#outbox.filter((r) => this.#requests.has(r.id));
      for (const c of [...this.#calls.values()]) c[INTERNAL].end('gone', 'the connection to the gateway was lost');
      this.#requestsIn.clear();
      for (const c of this.#contacts.values()) c.resources.clear();
    }
    this.#setState('connected');
    emit(this, 'session', { session: this.#session, resumed: false, lost });
    this.#log.info(`session ${this.#session.jid}`);
    if (this.#presence) this.#request({ type: 'presence', ...this.#presence }).catch((e) => this.#log.warn('presence:', e));
    this.#flush();
    if (this.#o.autoRoster) {
      this.refreshRoster().catch((e) => this.#log.warn('roster:', e)).finally(() => this.#resolveConnect());
    } else {
      this.#resolveConnect();
    }
  }

  // #afterReplay runs once the replay after a resume is processed. A
  // request written on the old connection may still be in the gateway's
  // hands; a roster request is handled after it (the gateway handles a
  // session's messages one at a time), so its answer is a barrier: whatever
  // is still unanswered then was never processed, and is sent again.
  #barrier = null;
  #afterReplay() {
    if (this.#barrier) return;
    const ws = this.#ws;
    const id = this.#newId();
    const r = this.#makeRequest({ type: 'roster', id }, {});
    this.#barrier = id;
    const done = () => {
      if (this.#barrier !== id) return;
      this.#barrier = null;
      if (this.#ws !== ws) return;
      this.#syncing = false;
      const again = [];
      for (const q of this.#requests.values()) {
        if (q.written && q.ws !== ws) again.push(q);
      }
      if (again.length) this.#log.info(`resending ${again.length} unanswered request(s)`);
      this.#outbox = [...again, ...this.#outbox.filter((q) => !again.includes(q))];
      this.#flush();
    };
    r.promise.then((items) => this.#setRoster(items), () => {}).finally(done);
    // Should the barrier go unanswered, resend anyway rather than stall.
    r.timer = setTimeout(() => this.#expire(r), Math.min(r.timeout, 10000));
    this.#requests.set(id, r);
    this.#write(r);
  }

  #dispatch(m) {
    switch (m.type) {
      case 'ack':
        this.#settle(m.id, m);
        return;
      case 'error':
        this.#onError(m);
        return;
      case 'roster':
        this.#onRoster(m);
        return;
      case 'roster-push':
        this.#onRosterPush(m);
        return;
      case 'presence':
        this.#onPresence(m);
        return;
      case 'subscribe-request':
        this.#onSubscribeRequest(m);
        return;
      case 'incoming':
        this.#onIncoming(m);
        return;
    }
    if (typeof m.sid === 'string') {
      const c = this.#calls.get(m.sid);
      if (c) c[INTERNAL].handle(m);
      else if (!(m.type === 'offer' && this.#adoptGlare(m))) this.#log.debug(`${m.type} for a call that is over (${m.sid})`);
      return;
    }
    this.#log.debug(`unknown message ${m.type} ignored`);
  }

  #settle(id, m) {
    if (typeof id !== 'string') return;
    if (id === this.#pingId) {
      this.#pingId = null;
      return;
    }
    const r = this.#requests.get(id);
    if (!r) return;
    this.#requests.delete(id);
    clearTimeout(r.timer);
    r.resolve(r.result !== undefined ? r.result : m);
  }

  #onError(m) {
    const r = typeof m.id === 'string' ? this.#requests.get(m.id) : undefined;
    if (r) {
      if (m.code === 'rate-limited' && r.retries < 5) {
        // Dropped by the gateway's token bucket: empty ours and send again.
        r.retries++;
        r.written = false;
        this.#tokens = 0;
        this.#tokensAt = performance.now() + 250 * 2 ** r.retries;
        this.#outbox.unshift(r);
        this.#flush();
        return;
      }
      this.#requests.delete(m.id);
      clearTimeout(r.timer);
      r.reject(errorFrom(m));
      return;
    }
    if (this.#swallowResumeError && (m.code === 'unauthorized' || m.code === 'conflict') && !m.sid) {
      // The failed resume's explanation: already reported as a lost session.
      this.#swallowResumeError = false;
      this.#log.info(`resume refused: ${m.message}`);
      return;
    }
    const err = errorFrom(m);
    if (m.sid && this.#calls.has(m.sid)) {
      this.#calls.get(m.sid)[INTERNAL].handle(m);
      return;
    }
    this.#log.warn(`gateway error ${m.code}: ${m.message}`);
    emit(this, 'error', { error: err });
  }

  // --- sending -------------------------------------------------------------

  #newId() {
    this.#nextId++;
    return this.#nextId.toString(36);
  }

  #makeRequest(msg, { timeout = this.#o.requestTimeout } = {}) {
    const r = { id: msg.id, msg, timeout, retries: 0, written: false, ws: null, timer: 0, result: undefined };
    r.promise = new Promise((resolve, reject) => {
      r.resolve = resolve;
      r.reject = reject;
    });
    return r;
  }

  /**
   * #request sends msg with a fresh id and resolves with the gateway's ack
   * (or the reply a request has, such as the roster), or rejects with a
   * JinglegateError carrying the gateway's code. Every request settles
   * within its timeout, connected or not: one that times out is never sent
   * again.
   */
  #request(msg, opts) {
    if (this.#state === 'closed') return Promise.reject(new JinglegateError('closed', 'the client is closed'));
    const id = this.#newId();
    const r = this.#makeRequest({ ...msg, id }, opts);
    r.timer = setTimeout(() => this.#expire(r), r.timeout);
    this.#requests.set(id, r);
    this.#outbox.push(r);
    this.#flush();
    return r.promise;
  }

  #expire(r) {
    if (this.#requests.get(r.id) !== r) return;
    this.#requests.delete(r.id);
    const what = r.written ? 'no answer from the gateway' : 'not connected to the gateway';
    r.reject(new JinglegateError('timeout', `${what} (${r.msg.type}, ${r.timeout} ms)`, { id: r.id, sid: r.msg.sid }));
  }

  #ready() {
    const ws = this.#ws;
    return ws && ws.readyState === 1 && this.#sessionOn(ws);
  }

  // #takeToken mirrors the gateway's token bucket (at 90% of its rate, for
  // clock skew) and returns 0, or the milliseconds to wait for a token.
  #takeToken() {
    const lim = this.#session && this.#session.limits;
    if (!lim || !(lim.ratePerSecond > 0)) return 0;
    const rate = lim.ratePerSecond * 0.9;
    const burst = Math.max(1, Math.floor(lim.rateBurst * 0.9));
    const now = performance.now();
    if (now > this.#tokensAt) {
      this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
      this.#tokensAt = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / rate) * 1000) + Math.max(0, this.#tokensAt - now));
  }

  #flush() {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = 0;
    if (!this.#ready() || this.#syncing) return;
    while (this.#outbox.length) {
      const r = this.#outbox[0];
      if (!this.#requests.has(r.id)) {
        this.#outbox.shift(); // settled meanwhile
        continue;
      }
      const wait = this.#takeToken();
      if (wait > 0) {
        this.#flushTimer = setTimeout(() => this.#flush(), wait);
        return;
      }
      this.#outbox.shift();
      this.#write(r);
    }
  }

  #withAck(msg) {
    if (this.#lastSeq > this.#ackedSeq) {
      this.#ackedSeq = this.#lastSeq;
      clearTimeout(this.#ackTimer);
      this.#ackTimer = 0;
      return { ...msg, ack: this.#lastSeq };
    }
    return msg;
  }

  #write(r) {
    const ws = this.#ws;
    const data = JSON.stringify(this.#withAck(r.msg));
    const max = this.#session.limits.maxMessageBytes;
    if (max && new TextEncoder().encode(data).length > max) {
      // The gateway would close the connection (1009): refuse it here.
      this.#requests.delete(r.id);
      clearTimeout(r.timer);
      r.reject(new JinglegateError('too-large', `the ${r.msg.type} message is larger than the gateway accepts (${max} bytes)`));
      return;
    }
    ws.send(data);
    r.written = true;
    r.ws = ws;
  }

  // Acknowledgements ride on outgoing messages; a standalone ack goes out
  // when many are due, or after a second of quiet.
  #scheduleAck() {
    const due = this.#lastSeq - this.#ackedSeq;
    if (due <= 0) return;
    if (due >= 32) {
      this.#sendAck();
      return;
    }
    if (!this.#ackTimer) {
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = 0;
        this.#sendAck();
      }, 1000);
    }
  }

  #sendAck() {
    if (this.#lastSeq <= this.#ackedSeq || !this.#ready()) return;
    if (this.#outbox.length && !this.#syncing) {
      this.#flush(); // the next message carries it
      return;
    }
    const wait = this.#takeToken();
    if (wait > 0) {
      clearTimeout(this.#ackTimer);
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = 0;
        this.#sendAck();
      }, wait);
      return;
    }
    this.#ackedSeq = this.#lastSeq;
    this.#ws.send(JSON.stringify({ type: 'ack', seq: this.#lastSeq }));
  }

  // #keepalive pings after a quiet spell; a ping left unanswered means the
  // connection is dead (a laptop that slept, a network that changed), and
  // the session is resumed on a new one.
  #pingSentAt = 0;
  #keepalive(ws) {
    if (this.#ws !== ws || !this.#ready()) return;
    const now = Date.now();
    if (this.#pingId) {
      if (now - this.#pingSentAt > this.#o.pingTimeout) {
        this.#log.info('the gateway does not answer pings: reconnecting');
        this.#drop(ws, CLOSE_DEAD, 'ping timeout');
      }
      return;
    }
    if (now - this.#lastRx < this.#o.pingInterval || this.#takeToken() > 0) return;
    this.#pingId = this.#newId();
    this.#pingSentAt = now;
    ws.send(JSON.stringify(this.#withAck({ type: 'ping', id: this.#pingId })));
  }

  // --- roster and presence ---------------------------------------------------

  /** The contacts, sorted by name. */
  get roster() {
    return [...this.#contacts.values()].map(contactView).sort(byName);
  }

  /** The contact with this bare (or full) JID, if in the roster. */
  contact(jid) {
    const c = this.#contacts.get(bareJID(jid));
    return c ? contactView(c) : undefined;
  }

  /** Subscription requests waiting for approve() or deny(). */
  get subscriptionRequests() {
    return [...this.#requestsIn.values()];
  }

  /** refreshRoster fetches the roster (with each contact's live resources). */
  async refreshRoster() {
    const items = await this.#request({ type: 'roster' });
    return this.#setRoster(items);
  }

  #onRoster(m) {
    const items = Array.isArray(m.items) ? m.items : [];
    const r = typeof m.id === 'string' ? this.#requests.get(m.id) : undefined;
    if (r) r.result = items; // resolved by the ack that follows
    else this.#setRoster(items);
  }

  #setRoster(items) {
    if (!Array.isArray(items)) return this.roster;
    const next = new Map();
    for (const it of items) {
      if (!it || typeof it.jid !== 'string') continue;
      next.set(bareJID(it.jid), contactRecord(it, this.#contacts.get(bareJID(it.jid))));
    }
    this.#contacts = next;
    for (const c of next.values()) {
      if (c.pendingIn && !this.#requestsIn.has(c.jid)) this.#requestsIn.set(c.jid, { jid: c.jid, name: c.name });
    }
    const contacts = this.roster;
    emit(this, 'roster', { contacts });
    return contacts;
  }

  #onRosterPush(m) {
    const it = m.item;
    if (!it || typeof it.jid !== 'string') return;
    const bare = bareJID(it.jid);
    if (m.removed) {
      this.#contacts.delete(bare);
      this.#requestsIn.delete(bare);
    } else {
      const c = contactRecord(it, this.#contacts.get(bare));
      this.#contacts.set(bare, c);
      if (!c.pendingIn) this.#requestsIn.delete(bare);
    }
    emit(this, 'roster-push', { item: it, removed: !!m.removed, contact: this.contact(bare) });
    emit(this, 'roster', { contacts: this.roster });
  }

  #onPresence(m) {
    if (typeof m.jid !== 'string') return;
    const bare = bareJID(m.jid);
    const c = this.#contacts.get(bare);
    if (c) {
      if (m.jid === bare && !m.available) c.resources.clear();
      else if (!m.available) c.resources.delete(m.jid);
      else c.resources.set(m.jid, resourceRecord(m));
    }
    const p = resourceRecord(m);
    emit(this, 'presence', { ...p, contact: c ? contactView(c) : undefined });
    if (c) emit(this, 'roster', { contacts: this.roster });
  }

  #onSubscribeRequest(m) {
    const jid = typeof m.jid === 'string' ? m.jid : typeof m.from === 'string' ? m.from : '';
    if (!jid) return;
    const req = { jid: bareJID(jid), name: typeof m.name === 'string' ? m.name : '' };
    this.#requestsIn.set(req.jid, req);
    emit(this, 'subscribe-request', req);
  }

  /**
   * add puts jid in the roster and asks to see their presence.
   * @param {string} jid
   * @param {{name?: string, groups?: string[]}} [opts]
   */
  async add(jid, { name, groups } = {}) {
    const msg = { type: 'add', jid: String(jid) };
    if (name !== undefined) msg.name = String(name);
    if (groups !== undefined) msg.groups = [...groups];
    await this.#request(msg);
  }

  /** remove takes jid out of the roster, cancelling subscriptions both ways. */
  async remove(jid) {
    await this.#request({ type: 'remove', jid: String(jid) });
  }

  /** rename changes a contact's name and/or groups. */
  async rename(jid, { name, groups } = {}) {
    if (name === undefined && groups === undefined) throw new TypeError('jinglegate: rename needs a name or groups');
    const msg = { type: 'rename', jid: String(jid) };
    if (name !== undefined) msg.name = String(name);
    if (groups !== undefined) msg.groups = [...groups];
    await this.#request(msg);
  }

  /** approve lets jid see this user's presence (answers a subscription request). */
  async approve(jid) {
    await this.#request({ type: 'approve', jid: bareJID(jid) });
    this.#requestsIn.delete(bareJID(jid));
  }

  /** deny refuses a subscription request (or revokes an approval). */
  async deny(jid) {
    await this.#request({ type: 'deny', jid: bareJID(jid) });
    this.#requestsIn.delete(bareJID(jid));
  }

  /** subscribe asks jid again to see their presence. */
  async subscribe(jid) {
    await this.#request({ type: 'subscribe', jid: bareJID(jid) });
  }

  /**
   * setPresence sets this tab's presence as contacts see it. It is
   * re-applied after a reconnection that had to start a new session.
   * @param {{show?: ''|'away'|'chat'|'dnd'|'xa', status?: string, priority?: number}} [p]
   */
  async setPresence({ show = '', status = '', priority = 0 } = {}) {
    if (!SHOWS.includes(show)) throw new TypeError(`jinglegate: show must be one of ${SHOWS.map((s) => `'${s}'`).join(', ')}`);
    const p = { show, status: String(status), priority: Math.trunc(priority) };
    this.#presence = p;
    await this.#request({ type: 'presence', ...p });
  }

  // --- calls -----------------------------------------------------------------

  /** The calls in progress. */
  get calls() {
    return [...this.#calls.values()];
  }

  /** The call with this sid, if in progress. */
  getCall(sid) {
    return this.#calls.get(sid);
  }

  /**
   * callTarget picks the address to call for jid. A full JID is called as
   * is. For a bare JID the gateway rings every resource through XEP-0353
   * (Jingle Message Initiation); when the contact's online resources are
   * known to do Jingle but not XEP-0353, the best of them is called
   * directly instead.
   */
  callTarget(jid) {
    const s = String(jid);
    if (s.includes('/')) return s;
    const c = this.#contacts.get(s);
    if (!c) return s;
    const res = [...c.resources.values()].filter((r) => r.available);
    if (res.length === 0 || res.some((r) => r.jmi || !r.capsKnown)) return s;
    const jingle = res.filter((r) => r.jingle).sort((a, b) => b.priority - a.priority || showRank(a.show) - showRank(b.show));
    return jingle.length ? jingle[0].jid : s;
  }

  /**
   * call starts a call. It acquires the camera and microphone first (or uses
   * opts.stream), then asks the gateway, and resolves with the Call once the
   * gateway has accepted the request; it rejects with the getUserMedia error
   * or a JinglegateError (code forbidden: the call policy refused, etc.).
   * The 'call' event announces the Call as soon as it exists.
   * @param {string} jid bare or full JID
   * @param {import('./jinglegate').CallOptions} [opts]
   * @returns {Promise<Call>}
   */
  async call(jid, opts = {}) {
    if (this.#state === 'closed') throw new JinglegateError('closed', 'the client is closed');
    const audio = opts.audio ?? true;
    const video = opts.video ?? false;
    if (!audio && !video) throw new TypeError('jinglegate: a call needs audio, video or both');
    const media = [];
    if (audio) media.push('audio');
    if (video) media.push('video');
    const sid = opts.sid || randomHex(12);
    if (this.#calls.has(sid)) throw new JinglegateError('conflict', `a call with sid ${sid} exists`);
    const to = opts.resolve === false ? String(jid) : this.callTarget(jid);
    const call = new Call(INTERNAL, this.#callLink(), { sid, direction: 'outgoing', peer: to, media, polite: false });
    this.#calls.set(sid, call);
    emit(this, 'call', { call });
    const inner = call[INTERNAL];
    try {
      await inner.acquire(opts, { audio, video });
      if (call.state === 'ended') throw new JinglegateError('closed', 'the call was hung up');
      inner.registered = true;
      await this.#request({ type: 'call', to, media, sid });
    } catch (e) {
      // A refused request: the gateway has no such call, nothing to hang up.
      const reason = e instanceof JinglegateError ? 'general-error' : 'media-error';
      if (call.state !== 'ended') inner.end(reason, String(e && e.message ? e.message : e), e);
      throw e;
    }
    return call;
  }

  #onIncoming(m) {
    if (typeof m.sid !== 'string' || this.#calls.has(m.sid)) return;
    const media = Array.isArray(m.media) ? m.media.filter((k) => MEDIA_KINDS.includes(k)) : [];
    const call = new Call(INTERNAL, this.#callLink(), {
      sid: m.sid,
      direction: 'incoming',
      peer: String(m.from || ''),
      media,
      polite: m.polite !== false,
    });
    call[INTERNAL].registered = true;
    this.#calls.set(m.sid, call);
    emit(this, 'call', { call });
    emit(this, 'incoming', { call, from: call.peer, media, contact: this.contact(call.peer) });
  }

  // Call glare without XEP-0353: this tab and a Jingle peer called each other
  // at once; the gateway ended our call (alternative-session) and hands us
  // the peer's as an offer, with no 'incoming' before it. The user wanted
  // this call: it is answered with the media of the call it replaces.
  #glare = null;
  #adoptGlare(m) {
    const g = this.#glare;
    this.#glare = null;
    if (!g || Date.now() - g.at > 10000 || typeof m.sdp !== 'string') return false;
    const call = new Call(INTERNAL, this.#callLink(), { sid: m.sid, direction: 'incoming', peer: g.peer, media: g.media, polite: m.polite !== false });
    call[INTERNAL].registered = true;
    this.#calls.set(m.sid, call);
    this.#log.info(`call glare: ${m.sid} replaces ${g.sid}`);
    emit(this, 'call', { call, replaces: g.sid });
    call[INTERNAL].adopt({ audio: g.media.includes('audio'), video: g.media.includes('video') }, m);
    return true;
  }

  #link = null;
  #callLink() {
    if (this.#link) return this.#link;
    this.#link = {
      request: (msg, opts) => this.#request(msg, opts),
      rtcConfig: () => {
        const servers = [...((this.#session && this.#session.iceServers) || []), ...(this.#o.iceServers || [])];
        return { ...this.#o.rtcConfig, iceServers: servers };
      },
      media: () => this.#o.media,
      options: this.#o,
      log: this.#log,
      forget: (call) => {
        if (this.#calls.get(call.sid) === call) this.#calls.delete(call.sid);
        if (call.direction === 'outgoing' && call.endReason === 'alternative-session') {
          this.#glare = { sid: call.sid, peer: call.peer, media: call.media, at: Date.now() };
        }
      },
    };
    return this.#link;
  }
}

/**
 * connect makes a Client and opens its session: a shortcut for
 * `const c = new Client(options); await c.connect();`.
 * @param {import('./jinglegate').ClientOptions} options
 * @returns {Promise<Client>}
 */
export async function connect(options) {
  const c = new Client(options);
  await c.connect();
  return c;
}

// --- roster helpers ---------------------------------------------------------

function resourceRecord(m) {
  return {
    jid: String(m.jid),
    available: m.available !== false,
    show: typeof m.show === 'string' ? m.show : '',
    status: typeof m.status === 'string' ? m.status : '',
    priority: Number(m.priority) || 0,
    media: Array.isArray(m.media) ? m.media.filter((k) => MEDIA_KINDS.includes(k)) : [],
    jingle: !!m.jingle,
    jmi: !!m.jmi,
    capsKnown: !!m.capsKnown,
  };
}

function contactRecord(it, old) {
  const resources = new Map();
  if (Array.isArray(it.resources)) {
    for (const r of it.resources) {
      if (r && typeof r.jid === 'string' && r.available !== false) resources.set(r.jid, resourceRecord(r));
    }
  } else if (old) {
    for (const [k, v] of old.resources) resources.set(k, v);
  }
  return {
    jid: bareJID(it.jid),
    name: typeof it.name === 'string' ? it.name : '',
    groups: Array.isArray(it.groups) ? it.groups.map(String) : [],
    subscription: typeof it.subscription === 'string' ? it.subscription : 'none',
    ask: !!it.ask,
    pendingIn: !!it.pendingIn,
    approved: !!it.approved,
    resources,
  };
}

function showRank(show) {
  return { chat: 0, '': 1, away: 2, xa: 3, dnd: 4 }[show] ?? 5;
}

function contactView(c) {
  const resources = [...c.resources.values()].sort((a, b) => b.priority - a.priority || showRank(a.show) - showRank(b.show));
  const best = resources[0];
  const media = MEDIA_KINDS.filter((k) => resources.some((r) => r.media.includes(k)));
  return Object.freeze({
    jid: c.jid,
    name: c.name,
    displayName: c.name || c.jid,
    groups: c.groups,
    subscription: c.subscription,
    ask: c.ask,
    pendingIn: c.pendingIn,
    approved: c.approved,
    available: resources.length > 0,
    show: best ? best.show || 'available' : 'offline',
    status: best ? best.status : '',
    media,
    callable: resources.some((r) => r.jingle || r.jmi || !r.capsKnown),
    resources,
  });
}

function byName(a, b) {
  return a.displayName.localeCompare(b.displayName, undefined, { sensitivity: 'base' }) || a.jid.localeCompare(b.jid);
}

// ---------------------------------------------------------------------------
// Call
// ---------------------------------------------------------------------------

const LIVE_STATES = ['connecting', 'active'];

/**
 * Call is one call, outgoing or incoming. Client.call() and the client's
 * 'incoming' event hand them out.
 *
 * Negotiation follows the "perfect negotiation" pattern of the WebRTC
 * specification: either side may renegotiate at any time; the gateway tells
 * each browser whether it is the polite peer (the callee is), and when both
 * offer at once the polite one rolls its offer back and answers, while the
 * impolite one ignores the colliding offer.
 */
export class Call extends Emitter {
  #link;
  #log;
  #sid;
  #direction;
  #peer;
  #media;
  #polite;
  #state;
  #pc = null;
  #local = null; // MediaStream
  #ownsLocal = false; // we acquired it: stop its tracks at the end
  #remote = typeof MediaStream === 'undefined' ? null : new MediaStream();
  #chain = Promise.resolve();
  #makingOffer = false;
  #ignoreOffer = false;
  #remoteOfferSeen = false; // an offer arrived while we were making ours
  #negotiable = false; // we may send offers
  #answered = false; // the first offer/answer exchange is complete
  #accepting = false;
  #heldOffer = null; // an offer before accept(): kept for it
  #pendingCandidates = [];
  #muted = { audio: false, video: false };
  #held = false;
  #remoteMuted = { audio: false, video: false };
  #remoteHeld = false;
  #offerFailures = 0;
  #offersMade = 0; // offers sent (see #sendOffer)
  #offerRetryAt = 0;
  #offerRetryTimer = 0;
  #stuck = false; // renegotiation failed for good: wait for the application
  #restarts = 0;
  #disconnectTimer = 0;
  #waiters = []; // negotiation waiters: {resolve, reject, timer}
  #lastStats = null;
  #endReason = null;
  #endText = '';
  #error = null;
  #startedAt = 0;

  /** @private */
  constructor(token, link, { sid, direction, peer, media, polite }) {
    super();
    if (token !== INTERNAL) throw new TypeError('jinglegate: calls are made by Client.call() or arrive as incoming');
    this.#link = link;
    this.#log = link.log;
    this.#sid = sid;
    this.#direction = direction;
    this.#peer = peer;
    this.#media = media;
    this.#polite = polite;
    this.#state = direction === 'incoming' ? 'incoming' : 'calling';
    const self = this;
    // The client's handle on the call, out of the application's reach.
    this[INTERNAL] = {
      registered: false,
      handle: (m) => self.#receive(m),
      end: (reason, text, error) => self.#end(reason, text, error),
      acquire: (opts, kinds) => self.#acquire(opts, kinds),
      adopt: (kinds, offer) => self.#adopt(kinds, offer),
    };
  }

  /** The call's id (the Jingle sid). */
  get sid() {
    return this.#sid;
  }
  /** 'outgoing' or 'incoming'. */
  get direction() {
    return this.#direction;
  }
  /** The other party's JID: as called, or the caller's full JID. */
  get peer() {
    return this.#peer;
  }
  /** The media the call was placed or offered with. */
  get media() {
    return [...this.#media];
  }
  /** 'calling' | 'ringing' | 'incoming' | 'connecting' | 'active' | 'ended' */
  get state() {
    return this.#state;
  }
  /** Whether this side is the polite peer of perfect negotiation. */
  get polite() {
    return this.#polite;
  }
  /** The camera and microphone stream sent to the peer (null before it is acquired). */
  get localStream() {
    return this.#local;
  }
  /** The peer's audio and video, as one stream; tracks come and go with renegotiation. */
  get remoteStream() {
    return this.#remote;
  }
  /** The RTCPeerConnection, once the call negotiates (for advanced use). */
  get peerConnection() {
    return this.#pc;
  }
  /** RTCPeerConnection.connectionState, or 'new'. */
  get connectionState() {
    return this.#pc ? this.#pc.connectionState : 'new';
  }
  /** Which local media are muted. */
  get muted() {
    return { ...this.#muted };
  }
  /** Which media the peer said it muted (session-info). */
  get remoteMuted() {
    return { ...this.#remoteMuted };
  }
  /** Whether this side has put the call on hold. */
  get held() {
    return this.#held;
  }
  /** Whether the peer has put the call on hold. */
  get remoteHeld() {
    return this.#remoteHeld;
  }
  /** Whether a camera track is being sent. */
  get sendingVideo() {
    return !!this.#pc && this.#pc.getTransceivers().some((t) => isLive(t) && t.sender.track && t.sender.track.kind === 'video' && sends(t.direction));
  }
  /** Whether the peer sends video now. */
  get receivingVideo() {
    return !!this.#remote && this.#remote.getVideoTracks().some((t) => t.readyState === 'live' && !t.muted);
  }
  /** When media started flowing (ms since the epoch), or 0. */
  get startedAt() {
    return this.#startedAt;
  }
  /** Why the call ended (a Jingle reason), once ended. */
  get endReason() {
    return this.#endReason;
  }
  /** The peer's or gateway's explanation of the end, if any. */
  get endText() {
    return this.#endText;
  }
  /** The error that ended the call, if one did. */
  get error() {
    return this.#error;
  }

  #setState(s) {
    if (this.#state === s || this.#state === 'ended') return;
    const from = this.#state;
    this.#state = s;
    if (s === 'active' && !this.#startedAt) this.#startedAt = Date.now();
    emit(this, 'statechange', { state: s, from });
  }

  // --- the application's controls -------------------------------------------

  /**
   * accept answers an incoming call. The camera and microphone are acquired
   * first (by default audio, and video if the caller offered video); a
   * getUserMedia failure rejects and the call keeps ringing.
   * @param {import('./jinglegate').CallOptions} [opts]
   */
  async accept(opts = {}) {
    if (this.#direction !== 'incoming') throw new JinglegateError('bad-request', 'only incoming calls are accepted');
    if (this.#state !== 'incoming' || this.#accepting) throw new JinglegateError('conflict', `the call is ${this.#accepting ? 'being accepted' : this.#state}`);
    this.#accepting = true;
    const audio = opts.audio ?? true;
    const video = opts.video ?? this.#media.includes('video');
    try {
      await this.#acquire(opts, { audio, video });
    } catch (e) {
      this.#accepting = false;
      throw e;
    }
    if (this.#state !== 'incoming') {
      this.#stopLocal();
      throw new JinglegateError('closed', `the call ended before it was accepted (${this.#endReason})`);
    }
    this.#setState('connecting');
    if (this.#heldOffer) {
      const o = this.#heldOffer;
      this.#heldOffer = null;
      this.#receive(o);
    }
    try {
      await this.#link.request({ type: 'accept', sid: this.#sid });
    } catch (e) {
      this.#end(e.code === 'conflict' ? 'answered-elsewhere' : 'general-error', e.message, e);
      throw e;
    }
  }

  // #adopt answers a call that replaces ours after call glare (the client's
  // #adoptGlare): the media first, then the offer.
  #adopt(kinds, offer) {
    this.#accepting = true;
    this.#setState('connecting');
    this.#enqueue(() => this.#acquire({}, kinds));
    this.#receive(offer);
  }

  /**
   * reject declines an incoming call.
   * @param {string} [reason] a Jingle reason (default decline; busy for "busy")
   * @param {string} [text]
   */
  async reject(reason = 'decline', text) {
    if (this.#state !== 'incoming') return this.hangup(reason, text);
    this.#end(reason, text || '');
    const msg = { type: 'reject', sid: this.#sid, reason };
    if (text) msg.text = String(text);
    await this.#link.request(msg).catch((e) => this.#log.debug('reject:', e.message));
  }

  /**
   * hangup ends the call (or cancels it while it rings).
   * @param {string} [reason] a Jingle reason (default success)
   * @param {string} [text]
   */
  async hangup(reason = 'success', text) {
    if (this.#state === 'ended') return;
    if (this.#state === 'incoming') return this.reject(reason === 'success' ? 'decline' : reason, text);
    const registered = this[INTERNAL].registered;
    this.#end(reason, text || '');
    if (!registered) return;
    const msg = { type: 'hangup', sid: this.#sid, reason };
    if (text) msg.text = String(text);
    // not-found: the gateway ended the call first.
    await this.#link.request(msg).catch((e) => this.#log.debug('hangup:', e.message));
  }

  /**
   * mute stops sending a kind of media (the track sends silence or black,
   * the transport stays up) and tells the peer.
   * @param {'audio'|'video'|undefined} kind both when undefined
   * @param {boolean} [on]
   */
  async mute(kind, on = true) {
    const kinds = kind === undefined ? MEDIA_KINDS : [kind];
    for (const k of kinds) {
      if (!MEDIA_KINDS.includes(k)) throw new TypeError(`jinglegate: kind must be audio or video, got ${k}`);
    }
    const changed = kinds.filter((k) => this.#muted[k] !== !!on);
    for (const k of kinds) this.#muted[k] = !!on;
    this.#applyEnabled();
    if (!changed.length) return;
    emit(this, 'mute', { muted: this.muted, kinds: changed });
    // Before the call is live the mute stays local; #tellState sends it.
    if (!this.#canTell()) return;
    await this.#sessionInfo(on ? 'mute' : 'unmute', changed);
  }

  /** hold puts the call on hold (nothing is sent) or takes it off. */
  async hold(on = true) {
    if (this.#held === !!on) return;
    this.#held = !!on;
    this.#applyEnabled();
    emit(this, 'hold', { held: this.#held });
    if (!this.#canTell()) return;
    await this.#sessionInfo(on ? 'hold' : 'active');
  }

  // #canTell says whether the peer can be told of mute and hold now: the
  // gateway takes session-info once the call has a Jingle session, which it
  // has once the first offer/answer exchange is complete (before that it
  // answers conflict).
  #canTell() {
    return this.#answered && LIVE_STATES.includes(this.#state);
  }

  // #tellState tells the peer of a mute or hold set before the call was
  // live (ringing, or incoming before accept): mute() and hold() kept them
  // local. Called once, when the first exchange completes.
  #tellState() {
    const muted = MEDIA_KINDS.filter((k) => this.#muted[k]);
    if (muted.length) this.#sessionInfo('mute', muted);
    if (this.#held) this.#sessionInfo('hold');
  }

  async #sessionInfo(info, media) {
    const msg = { type: 'session-info', sid: this.#sid, info };
    if (media && media.length) msg.media = media;
    // conflict: no Jingle session yet; the state is local anyway.
    await this.#link.request(msg).catch((e) => this.#log.debug('session-info:', e.message));
  }

  #applyEnabled() {
    if (!this.#local) return;
    for (const t of this.#local.getTracks()) t.enabled = !this.#held && !this.#muted[t.kind];
  }

  /**
   * addVideo starts sending the camera in a call (renegotiating it). It
   * resolves once the peer has answered the new offer.
   * @param {MediaTrackConstraints|MediaStreamTrack} [video] constraints, or a track to send
   */
  async addVideo(video) {
    this.#mustBeLive('addVideo');
    if (this.sendingVideo) return;
    this.#unstick();
    let track;
    if (video && typeof video === 'object' && 'kind' in video && typeof video.stop === 'function') {
      track = video;
    } else {
      const constraints = video && typeof video === 'object' ? video : this.#link.media().video;
      const s = await getUserMediaChecked({ video: constraints || true });
      track = s.getVideoTracks()[0];
    }
    if (this.#state === 'ended') {
      track.stop();
      throw new JinglegateError('closed', 'the call ended');
    }
    if (!this.#local) this.#local = new MediaStream();
    this.#local.addTrack(track);
    track.enabled = !this.#held && !this.#muted.video;
    const pc = this.#pc;
    const waiting = this.#negotiated();
    if (pc) {
      const t = pc.getTransceivers().find((x) => isLive(x) && x.receiver.track.kind === 'video' && !x.sender.track);
      if (t) {
        await t.sender.replaceTrack(track);
        if (t.sender.setStreams) t.sender.setStreams(this.#local);
        t.direction = receives(t.direction) ? 'sendrecv' : 'sendonly';
      } else {
        pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.#local] });
      }
    }
    emit(this, 'localstream', { stream: this.#local });
    await waiting;
  }

  /** removeVideo stops sending the camera (renegotiating the call). */
  async removeVideo() {
    this.#mustBeLive('removeVideo');
    this.#unstick();
    const pc = this.#pc;
    let changed = false;
    const waiting = this.#negotiated();
    for (const t of pc ? pc.getTransceivers() : []) {
      if (!isLive(t) || !t.sender.track || t.sender.track.kind !== 'video') continue;
      const track = t.sender.track;
      await t.sender.replaceTrack(null);
      t.direction = receives(t.direction) ? 'recvonly' : 'inactive';
      if (this.#local) this.#local.removeTrack(track);
      track.stop();
      changed = true;
    }
    if (!changed) {
      waiting.catch(() => {});
      this.#cancelWaiter(waiting);
      return;
    }
    emit(this, 'localstream', { stream: this.#local });
    await waiting;
  }

  /** restartIce renegotiates the ICE transport (after a network change). */
  restartIce() {
    this.#mustBeLive('restartIce');
    this.#unstick();
    if (this.#pc) {
      this.#refreshConfig(this.#pc);
      this.#pc.restartIce();
    }
  }

  /** getStats is RTCPeerConnection.getStats (an empty report before negotiation). */
  async getStats(selector) {
    return this.#pc ? this.#pc.getStats(selector) : new Map();
  }

  /**
   * stats summarises getStats(): round-trip time, bitrates since the last
   * call of stats(), codecs, frames. See summarizeStats.
   */
  async stats() {
    const s = summarizeStats(await this.getStats(), this.#lastStats);
    this.#lastStats = s;
    return s;
  }

  #mustBeLive(what) {
    if (this.#state === 'ended') throw new JinglegateError('closed', `${what}: the call is over`);
    if (!this.#pc || !this.#negotiable) throw new JinglegateError('conflict', `${what}: the call is not connected yet`);
  }

  // --- media -----------------------------------------------------------------

  async #acquire(opts, { audio, video }) {
    if (opts.stream) {
      this.#local = opts.stream;
      this.#ownsLocal = false;
    } else {
      const defaults = this.#link.media();
      const constraints = {
        audio: audio ? (typeof audio === 'object' ? audio : defaults.audio || true) : false,
        video: video ? (typeof video === 'object' ? video : defaults.video || true) : false,
      };
      this.#local = await getUserMediaChecked(constraints);
      this.#ownsLocal = true;
    }
    if (this.#state === 'ended') {
      this.#stopLocal();
      return;
    }
    this.#applyEnabled();
    emit(this, 'localstream', { stream: this.#local });
  }

  #stopLocal() {
    if (this.#local && this.#ownsLocal) {
      for (const t of this.#local.getTracks()) t.stop();
    }
  }

  // --- the peer connection -----------------------------------------------------

  #ensurePC() {
    if (this.#pc) return this.#pc;
    const pc = new RTCPeerConnection(this.#link.rtcConfig());
    this.#pc = pc;
    pc.onnegotiationneeded = () => this.#negotiate();
    pc.onicecandidate = (e) => this.#onLocalCandidate(e.candidate);
    pc.ontrack = (e) => this.#onTrack(e);
    pc.onconnectionstatechange = () => this.#onConnectionState();
    pc.oniceconnectionstatechange = () => this.#onIceState();
    return pc;
  }

  #onLocalCandidate(c) {
    if (this.#state === 'ended') return;
    // RTCIceCandidate.toJSON() may grow: send the four fields of the protocol.
    const cand = c
      ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment }
      : { candidate: '' }; // end of candidates
    if (cand.candidate === undefined) return;
    this.#link.request({ type: 'ice-candidate', sid: this.#sid, candidate: cand }).catch((e) => {
      if (this.#state !== 'ended') this.#log.debug('ice-candidate refused:', e.message);
    });
  }

  #onTrack(e) {
    const track = e.track;
    const stream = this.#remote;
    if (stream && !stream.getTrackById(track.id)) stream.addTrack(track);
    const changed = () => emit(this, 'remotemedia', { stream, audio: hasLive(stream, 'audio'), video: this.receivingVideo });
    track.addEventListener('mute', changed);
    track.addEventListener('unmute', changed);
    track.addEventListener('ended', () => {
      if (stream) stream.removeTrack(track);
      changed();
    });
    emit(this, 'track', { track, kind: track.kind, transceiver: e.transceiver });
    changed();
  }

  #onConnectionState() {
    const pc = this.#pc;
    if (!pc || this.#state === 'ended') return;
    const s = pc.connectionState;
    emit(this, 'connectionstatechange', { connectionState: s });
    if (s === 'connected') {
      this.#restarts = 0;
      if (this.#state !== 'ended') this.#setState('active');
    }
  }

  // ICE recovery: a restart when the connection fails, or stays
  // disconnected for a few seconds (a network change); after
  // options.iceRestarts failed restarts the call ends.
  #onIceState() {
    const pc = this.#pc;
    if (!pc || this.#state === 'ended') return;
    const s = pc.iceConnectionState;
    clearTimeout(this.#disconnectTimer);
    this.#disconnectTimer = 0;
    if (s === 'disconnected') {
      this.#disconnectTimer = setTimeout(() => {
        if (this.#pc === pc && pc.iceConnectionState === 'disconnected') this.#restart('disconnected');
      }, this.#link.options.disconnectedGraceMs);
    } else if (s === 'failed') {
      this.#restart('failed');
    }
  }

  #restart(why) {
    if (!this.#negotiable || this.#state === 'ended') return;
    if (this.#restarts >= this.#link.options.iceRestarts) {
      this.#log.warn(`call ${this.#sid}: ICE ${why} after ${this.#restarts} restarts: hanging up`);
      this.hangup('connectivity-error', `ICE ${why}`);
      return;
    }
    this.#restarts++;
    this.#log.info(`call ${this.#sid}: ICE ${why}: restart ${this.#restarts}`);
    this.#unstick();
    this.#refreshConfig(this.#pc);
    this.#pc.restartIce();
  }

  // #refreshConfig gives the connection the ICE servers of the current
  // session before an ICE restart: TURN credentials are minted per
  // connection to the gateway, and those the call began with may have
  // expired since. A browser may refuse the change (InvalidModificationError,
  // or no setConfiguration at all): the restart goes on with the old
  // configuration then.
  #refreshConfig(pc) {
    try {
      pc.setConfiguration(this.#link.rtcConfig());
    } catch (e) {
      this.#log.debug(`call ${this.#sid}: setConfiguration refused before the ICE restart:`, e && e.message ? e.message : e);
    }
  }

  // --- negotiation ---------------------------------------------------------------

  // #negotiate makes and sends an offer (RTCPeerConnection's
  // negotiationneeded, or the caller's first offer).
  async #negotiate() {
    const pc = this.#pc;
    if (!pc || !this.#negotiable || this.#state === 'ended') return;
    if (this.#makingOffer || pc.signalingState !== 'stable') return; // fires again once stable
    if (this.#stuck) {
      this.#log.debug(`call ${this.#sid}: renegotiation needed, but it failed before: not retried`);
      return;
    }
    const wait = this.#offerRetryAt - Date.now();
    if (wait > 0) {
      clearTimeout(this.#offerRetryTimer);
      this.#offerRetryTimer = setTimeout(() => this.#negotiate(), wait);
      return;
    }
    this.#remoteOfferSeen = false;
    this.#makingOffer = true;
    try {
      await pc.setLocalDescription();
      if (this.#state === 'ended' || pc.signalingState !== 'have-local-offer') return;
      if (this.#remoteOfferSeen && this.#polite) {
        // The gateway's offer is already on its way into this connection and
        // will roll ours back: sending ours would only make the gateway
        // renegotiate something this side abandons.
        this.#log.debug(`call ${this.#sid}: offer not sent (glare, polite side)`);
        return;
      }
      this.#sendOffer(pc.localDescription.sdp);
    } catch (e) {
      this.#log.warn(`call ${this.#sid}: making an offer failed:`, e);
      this.#failWaiters(new JinglegateError('negotiation', `making an offer failed: ${e.message}`, { cause: e }));
    } finally {
      this.#makingOffer = false;
    }
  }

  #sendOffer(sdp) {
    const initial = !this.#answered && this.#direction === 'outgoing';
    // Which local offer this is: localDescription.sdp itself grows as
    // candidates are gathered, so it cannot tell.
    const n = ++this.#offersMade;
    this.#link.request({ type: 'offer', sid: this.#sid, sdp }).catch((e) => {
      if (this.#state === 'ended') return;
      if (initial) {
        // The gateway refused the call's first offer: nothing to fall back to.
        this.#log.warn(`call ${this.#sid}: offer refused: ${e.message}`);
        this.#error = e;
        this.hangup('failed-application', `offer refused: ${e.message}`);
        return;
      }
      this.#enqueue(() => this.#offerRefused(e, n));
    });
  }

  // A renegotiation the gateway refused. conflict (it still waits for the
  // peer's answer to a previous one) and transient errors: try again a
  // little later; anything else: roll back and give up. The impolite side
  // (the caller) keeps its offer and sends it again rather than rolling it
  // back: Chromium (148) stops sending on the existing m-sections when the
  // side that made the call's first offer rolls back an offer that added
  // one. The polite side rolls back (that is safe on its side) and offers
  // anew, after the offer of the peer's it has to answer.
  async #offerRefused(e, n) {
    const pc = this.#pc;
    this.#log.info(`call ${this.#sid}: renegotiation refused (${e.code}: ${e.message})`);
    const transient = ['conflict', 'timeout', 'rate-limited', 'unavailable'].includes(e.code);
    // The refused offer is still this side's pending one.
    const pending = () => pc && pc === this.#pc && pc.signalingState === 'have-local-offer' && this.#offersMade === n;
    if (transient && !this.#polite && pending() && this.#offerFailures + 1 < 5) {
      this.#offerFailures++;
      clearTimeout(this.#offerRetryTimer);
      this.#offerRetryTimer = setTimeout(
        () =>
          this.#enqueue(() => {
            if (this.#state !== 'ended' && pending()) this.#sendOffer(pc.localDescription.sdp);
          }),
        Math.min(8000, 250 * 2 ** this.#offerFailures),
      );
      return;
    }
    if (pending()) await pc.setLocalDescription({ type: 'rollback' });
    this.#renegotiationFailed(new JinglegateError(e.code || 'negotiation', `renegotiation refused: ${e.message}`, { sid: this.#sid, cause: e }), transient);
  }

  // #renegotiationFailed reports a failed renegotiation and decides whether
  // negotiationneeded may try again (after a backoff). Without that limit a
  // persistent failure would renegotiate in a loop: the transceivers still
  // differ from what was negotiated.
  #renegotiationFailed(err, retry) {
    this.#offerFailures++;
    if (!retry || this.#offerFailures >= 5) {
      // Given up: the call goes on with what was negotiated before.
      this.#log.warn(`call ${this.#sid}: ${err.message}`);
      this.#stuck = true;
      this.#failWaiters(err);
      emit(this, 'error', { error: err });
      return;
    }
    this.#offerRetryAt = Date.now() + Math.min(8000, 250 * 2 ** this.#offerFailures);
    clearTimeout(this.#offerRetryTimer);
    this.#offerRetryTimer = setTimeout(() => this.#negotiate(), this.#offerRetryAt - Date.now());
  }

  // #unstick lets a new change by the application renegotiate again.
  #unstick() {
    this.#stuck = false;
    this.#offerFailures = 0;
    this.#offerRetryAt = 0;
  }

  #enqueue(f) {
    this.#chain = this.#chain.then(f).catch((e) => this.#onChainError(e));
  }

  #onChainError(e) {
    if (this.#state === 'ended') return;
    this.#log.error(`call ${this.#sid}:`, e);
    const err = e instanceof JinglegateError ? e : new JinglegateError('negotiation', String(e && e.message ? e.message : e), { cause: e });
    emit(this, 'error', { error: err });
    this.#failWaiters(err);
    if (!this.#answered) {
      this.#error = err;
      this.hangup('failed-application', err.message);
    }
  }

  #receive(m) {
    if (this.#state === 'ended') return;
    switch (m.type) {
      case 'hangup':
        // Not queued: a hangup wins over negotiation in progress.
        this.#end(typeof m.reason === 'string' ? m.reason : 'success', typeof m.text === 'string' ? m.text : '');
        return;
      case 'offer':
        if (this.#state === 'incoming' && !this.#accepting) {
          this.#heldOffer = m;
          return;
        }
        if (this.#makingOffer) this.#remoteOfferSeen = true;
        break;
      case 'ringing':
        if (this.#state === 'calling') this.#setState('ringing');
        emit(this, 'ringing', {});
        return;
      case 'session-info':
        this.#onSessionInfo(m);
        return;
      case 'error':
        emit(this, 'error', { error: errorFrom(m) });
        return;
    }
    this.#enqueue(() => this.#handle(m));
  }

  async #handle(m) {
    if (this.#state === 'ended') return;
    switch (m.type) {
      case 'proceeding':
        if (typeof m.polite === 'boolean') this.#polite = m.polite;
        await this.#startOffering();
        return;
      case 'offer':
        if (typeof m.polite === 'boolean') this.#polite = m.polite;
        if (typeof m.sdp === 'string') await this.#onDescription({ type: 'offer', sdp: m.sdp });
        return;
      case 'answer':
        if (typeof m.sdp === 'string') await this.#onDescription({ type: 'answer', sdp: m.sdp });
        return;
      case 'ice-candidate':
        await this.#onRemoteCandidate(m.candidate);
        return;
      default:
        this.#log.debug(`call ${this.#sid}: ${m.type} ignored`);
    }
  }

  // The callee has answered the proposal (or the call goes straight to
  // Jingle): the caller makes the first offer.
  async #startOffering() {
    if (this.#negotiable || this.#direction !== 'outgoing') return;
    const pc = this.#ensurePC();
    for (const track of this.#local ? this.#local.getTracks() : []) {
      pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.#local] });
    }
    this.#negotiable = true;
    await this.#negotiate();
  }

  async #onDescription(desc) {
    const pc = this.#ensurePC();
    const collision = desc.type === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
    this.#ignoreOffer = !this.#polite && collision;
    if (this.#ignoreOffer) {
      this.#log.info(`call ${this.#sid}: glare: the remote offer is ignored (impolite side)`);
      return;
    }
    if (desc.type === 'answer' && pc.signalingState !== 'have-local-offer') {
      // The answer to an offer rolled back in glare.
      this.#log.debug(`call ${this.#sid}: stale answer ignored (${pc.signalingState})`);
      return;
    }
    if (collision) this.#log.info(`call ${this.#sid}: glare: rolling back our offer (polite side)`);
    // Implicit rollback when colliding (polite side).
    try {
      await pc.setRemoteDescription(desc);
    } catch (e) {
      this.#log.debug(`call ${this.#sid}: the remote ${desc.type} that failed:\n${desc.sdp}`);
      if (!this.#answered || this.#state === 'ended') throw e;
      // A renegotiation that cannot be applied: keep the call as it was.
      if (desc.type === 'answer' && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
      const err = new JinglegateError('negotiation', `the remote ${desc.type} could not be applied: ${e.message}`, { sid: this.#sid, cause: e });
      this.#renegotiationFailed(err, false);
      return;
    }
    if (this.#state === 'ended') return;
    const first = !this.#answered;
    if (desc.type === 'offer') {
      await this.#attachLocalTracks();
      await pc.setLocalDescription();
      if (this.#state === 'ended') return;
      const sdp = pc.localDescription.sdp;
      this.#link.request({ type: 'answer', sid: this.#sid, sdp }).catch((e) => {
        if (this.#state === 'ended') return;
        this.#log.warn(`call ${this.#sid}: answer refused: ${e.message}`);
        if (first) {
          this.#error = e;
          this.hangup('failed-application', `answer refused: ${e.message}`);
        }
      });
    } else {
      this.#unstick();
      if (this.#state === 'calling' || this.#state === 'ringing') this.#setState('connecting');
    }
    // The first exchange is complete: either side may renegotiate now, and
    // the peer may hear of a mute or hold set before (after our answer, on
    // the incoming side: requests are sent in order).
    this.#answered = true;
    this.#negotiable = true;
    if (first) this.#tellState();
    if (pc.signalingState === 'stable') this.#resolveWaiters();
    if (first && desc.type === 'offer') {
      // Local media the offer had no room for (video in an audio call):
      // offer it now.
      this.#addUnsentTracks();
    }
    await this.#flushCandidates();
  }

  // #attachLocalTracks sends our media on the transceivers a remote offer
  // created, before the answer (so the first answer is sendrecv).
  async #attachLocalTracks() {
    if (!this.#local || this.#answered) return;
    const used = new Set(this.#pc.getSenders().map((s) => s.track).filter(Boolean));
    for (const t of this.#pc.getTransceivers()) {
      if (!isLive(t) || t.sender.track || t.mid === null) continue;
      const kind = t.receiver.track.kind;
      const track = this.#local.getTracks().find((x) => x.kind === kind && !used.has(x) && x.readyState === 'live');
      if (!track) continue;
      used.add(track);
      await t.sender.replaceTrack(track);
      if (t.sender.setStreams) t.sender.setStreams(this.#local);
      t.direction = 'sendrecv';
    }
  }

  #addUnsentTracks() {
    const pc = this.#pc;
    const used = new Set(pc.getSenders().map((s) => s.track).filter(Boolean));
    for (const track of this.#local ? this.#local.getTracks() : []) {
      if (!used.has(track) && track.readyState === 'live') {
        pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.#local] });
      }
    }
  }

  async #onRemoteCandidate(c) {
    if (!c || typeof c.candidate !== 'string') return;
    const pc = this.#pc;
    if (!pc || !pc.remoteDescription) {
      this.#pendingCandidates.push(c);
      return;
    }
    await this.#addCandidate(c);
  }

  async #addCandidate(c) {
    const init = { candidate: c.candidate };
    if (c.sdpMid !== undefined && c.sdpMid !== null) init.sdpMid = c.sdpMid;
    if (c.sdpMLineIndex !== undefined && c.sdpMLineIndex !== null) init.sdpMLineIndex = c.sdpMLineIndex;
    if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
    if (init.candidate !== '' && init.sdpMid === undefined && init.sdpMLineIndex === undefined) init.sdpMLineIndex = 0;
    try {
      await this.#pc.addIceCandidate(init);
    } catch (e) {
      // Candidates of an ignored offer fail; so may end-of-candidates on
      // browsers that do not take it.
      if (!this.#ignoreOffer && init.candidate !== '') this.#log.warn(`call ${this.#sid}: remote candidate refused:`, e.message);
    }
  }

  async #flushCandidates() {
    const list = this.#pendingCandidates.splice(0);
    for (const c of list) await this.#addCandidate(c);
  }

  #onSessionInfo(m) {
    const kinds = Array.isArray(m.media) && m.media.length ? m.media.filter((k) => MEDIA_KINDS.includes(k)) : MEDIA_KINDS;
    switch (m.info) {
      case 'mute':
      case 'unmute':
        for (const k of kinds) this.#remoteMuted[k] = m.info === 'mute';
        break;
      case 'hold':
      case 'active':
        this.#remoteHeld = m.info === 'hold';
        break;
      default:
        return;
    }
    emit(this, 'sessioninfo', { info: m.info, media: kinds, remoteMuted: this.remoteMuted, remoteHeld: this.#remoteHeld });
  }

  // Waiters for the next completed negotiation (addVideo, removeVideo).
  #negotiated(timeout = 20000) {
    let w;
    const p = new Promise((resolve, reject) => {
      w = { resolve, reject };
    });
    w.timer = setTimeout(() => {
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.reject(new JinglegateError('timeout', 'the renegotiation was not answered in time'));
    }, timeout);
    w.promise = p;
    this.#waiters.push(w);
    return p;
  }

  #cancelWaiter(p) {
    const w = this.#waiters.find((x) => x.promise === p);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiters = this.#waiters.filter((x) => x !== w);
    w.resolve();
  }

  #resolveWaiters() {
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    emit(this, 'negotiated', {});
  }

  #failWaiters(err) {
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  #end(reason, text, error) {
    if (this.#state === 'ended') return;
    const from = this.#state;
    this.#state = 'ended';
    this.#endReason = reason || 'success';
    this.#endText = text || '';
    if (error) this.#error = error;
    clearTimeout(this.#disconnectTimer);
    clearTimeout(this.#offerRetryTimer);
    if (this.#pc) {
      this.#pc.onnegotiationneeded = this.#pc.onicecandidate = this.#pc.ontrack = null;
      this.#pc.onconnectionstatechange = this.#pc.oniceconnectionstatechange = null;
      this.#pc.close();
    }
    this.#stopLocal();
    this.#failWaiters(new JinglegateError('closed', `the call ended (${this.#endReason})`));
    this.#link.forget(this);
    emit(this, 'statechange', { state: 'ended', from });
    emit(this, 'ended', { reason: this.#endReason, text: this.#endText, error: this.#error || undefined });
  }
}

function isLive(t) {
  return t.currentDirection !== 'stopped' && t.direction !== 'stopped';
}
function sends(dir) {
  return dir === 'sendrecv' || dir === 'sendonly';
}
function receives(dir) {
  return dir === 'sendrecv' || dir === 'recvonly';
}
function hasLive(stream, kind) {
  return !!stream && stream.getTracks().some((t) => t.kind === kind && t.readyState === 'live' && !t.muted);
}

async function getUserMediaChecked(constraints) {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new JinglegateError('media', 'this page cannot use the camera or microphone (it needs https or localhost)');
  }
  return navigator.mediaDevices.getUserMedia(constraints);
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/**
 * summarizeStats condenses an RTCStatsReport: the selected candidate pair
 * (round-trip time, candidate types, the estimated outgoing bandwidth), and
 * per kind and direction the codec, bitrate, packets and frames. Bitrates
 * need the previous summary (previous), taken from the same connection.
 * @param {RTCStatsReport|Map<string, any>} report
 * @param {import('./jinglegate').StatsSummary|null} [previous]
 * @returns {import('./jinglegate').StatsSummary}
 */
export function summarizeStats(report, previous) {
  const byId = new Map();
  report.forEach((v) => byId.set(v.id, v));
  const out = {
    timestamp: 0,
    rttMs: null,
    localCandidateType: null,
    remoteCandidateType: null,
    protocol: null,
    availableOutgoingKbps: null,
    audio: { in: null, out: null },
    video: { in: null, out: null },
    counters: {},
  };
  let pair = null;
  for (const v of byId.values()) {
    if (v.type === 'transport' && v.selectedCandidatePairId && byId.has(v.selectedCandidatePairId)) {
      pair = byId.get(v.selectedCandidatePairId);
    }
  }
  if (!pair) {
    for (const v of byId.values()) {
      if (v.type === 'candidate-pair' && v.nominated && v.state === 'succeeded') pair = v;
    }
  }
  if (pair) {
    if (typeof pair.currentRoundTripTime === 'number') out.rttMs = Math.round(pair.currentRoundTripTime * 1000 * 10) / 10;
    if (typeof pair.availableOutgoingBitrate === 'number') out.availableOutgoingKbps = Math.round(pair.availableOutgoingBitrate / 1000);
    const lc = byId.get(pair.localCandidateId);
    const rc = byId.get(pair.remoteCandidateId);
    if (lc) {
      out.localCandidateType = lc.candidateType || null;
      out.protocol = lc.protocol || null;
    }
    if (rc) out.remoteCandidateType = rc.candidateType || null;
  }
  for (const v of byId.values()) {
    if (v.type !== 'inbound-rtp' && v.type !== 'outbound-rtp') continue;
    const kind = v.kind || v.mediaType;
    if (!MEDIA_KINDS.includes(kind)) continue;
    const dir = v.type === 'inbound-rtp' ? 'in' : 'out';
    const bytes = dir === 'in' ? v.bytesReceived || 0 : v.bytesSent || 0;
    out.timestamp = Math.max(out.timestamp, v.timestamp || 0);
    out.counters[v.id] = { bytes, timestamp: v.timestamp || 0 };
    let s = out[kind][dir];
    if (!s) {
      s = out[kind][dir] = { codec: null, kbps: null, bytes: 0, packets: 0, packetsLost: 0, jitterMs: null };
      if (kind === 'video') Object.assign(s, { frames: 0, fps: null, width: null, height: null });
    }
    s.bytes += bytes;
    s.packets += (dir === 'in' ? v.packetsReceived : v.packetsSent) || 0;
    if (dir === 'in') {
      s.packetsLost += v.packetsLost || 0;
      if (typeof v.jitter === 'number') s.jitterMs = Math.round(v.jitter * 1000 * 10) / 10;
    }
    const codec = v.codecId && byId.get(v.codecId);
    if (codec && codec.mimeType && !s.codec) s.codec = codec.mimeType.replace(/^(audio|video)\//i, '');
    if (kind === 'video') {
      s.frames += (dir === 'in' ? v.framesDecoded : v.framesEncoded) || 0;
      if (typeof v.framesPerSecond === 'number') s.fps = v.framesPerSecond;
      if (v.frameWidth) s.width = v.frameWidth;
      if (v.frameHeight) s.height = v.frameHeight;
    }
    const prev = previous && previous.counters && previous.counters[v.id];
    if (prev && v.timestamp > prev.timestamp && bytes >= prev.bytes) {
      const kbps = ((bytes - prev.bytes) * 8) / (v.timestamp - prev.timestamp); // bits per ms = kbit/s
      s.kbps = Math.round(((s.kbps || 0) + kbps) * 10) / 10;
    }
  }
  if (out.rttMs === null) {
    for (const v of byId.values()) {
      if (v.type === 'remote-inbound-rtp' && typeof v.roundTripTime === 'number') {
        out.rttMs = Math.round(v.roundTripTime * 1000 * 10) / 10;
        break;
      }
    }
  }
  return out;
}
