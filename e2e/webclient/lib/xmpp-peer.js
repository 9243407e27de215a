// xmpp-peer.js is an XMPP user with audio and video calls, for interop
// tests of the web client through the gateway: StanzaJS (an independent
// XMPP and Jingle implementation) bundled by esbuild into a Chromium page,
// where it sets window.peer. It accepts every subscription request (and
// subscribes back), answers every call with its camera and microphone
// (Chromium's fake devices), and calls on request.
import * as XMPP from 'stanza';

const events = [];
const waiters = [];
function record(type, detail) {
  events.push({ type, detail, at: Date.now() });
  for (const w of [...waiters]) {
    if (w.type === type && w.pred(detail)) {
      waiters.splice(waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(detail);
    }
  }
}

let client;
const sessions = new Map();
const remoteStreams = new Map();

function watchSession(session) {
  sessions.set(session.sid, session);
  const remote = new MediaStream();
  remoteStreams.set(session.sid, remote);
  session.pc.addEventListener('track', (e) => remote.addTrack(e.track));
  session.pc.addEventListener('connectionstatechange', () => record('connection', { sid: session.sid, state: session.pc.connectionState }));
}

async function media(video) {
  return navigator.mediaDevices.getUserMedia({ audio: true, video });
}

window.peer = {
  events,
  wait(type, pred = () => true, timeout = 15000) {
    const past = events.find((e) => e.type === type && pred(e.detail));
    if (past) return Promise.resolve(past.detail);
    return new Promise((resolve, reject) => {
      const w = { type, pred, resolve };
      w.timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`xmpp peer: no ${type} within ${timeout} ms`));
      }, timeout);
      waiters.push(w);
    });
  },
  async start({ jid, password, ws, video = true }) {
    client = XMPP.createClient({
      jid,
      password,
      resource: 'stanza',
      transports: { websocket: ws, bosh: false },
      // No public STUN server: loopback only.
      jingle: { iceServers: [] },
    });
    client.on('subscribe', (p) => {
      record('subscribe', { from: p.from });
      client.acceptSubscription(p.from);
      client.subscribe(p.from);
    });
    client.on('available', (p) => record('available', { from: p.from }));
    client.on('unavailable', (p) => record('unavailable', { from: p.from }));
    client.on('jingle:incoming', async (session) => {
      watchSession(session);
      record('incoming', { sid: session.sid, from: session.peerID });
      const stream = await media(video);
      for (const track of stream.getTracks()) await session.addTrack(track, stream);
      await session.accept();
      record('accepted', { sid: session.sid });
    });
    client.on('jingle:terminated', (session, reason) => record('terminated', { sid: session.sid, reason: reason && reason.condition }));
    client.on('jingle:mute', (session, info) => record('mute', { sid: session.sid, info }));
    client.on('jingle:unmute', (session, info) => record('unmute', { sid: session.sid, info }));
    const started = new Promise((resolve, reject) => {
      client.once('session:started', resolve);
      client.once('disconnected', () => reject(new Error('xmpp peer: disconnected while connecting')));
      setTimeout(() => reject(new Error('xmpp peer: no session within 15 s')), 15000);
    });
    client.connect();
    await started;
    await client.getRoster();
    client.updateCaps();
    client.sendPresence({ legacyCapabilities: client.disco.getCaps() });
    return client.jid;
  },
  async call(to, { video = true } = {}) {
    const session = client.jingle.createMediaSession(to);
    watchSession(session);
    const stream = await media(video);
    for (const track of stream.getTracks()) await session.addTrack(track, stream);
    await session.start();
    return session.sid;
  },
  hangup(sid, reason = 'success') {
    const s = sessions.get(sid);
    if (s) s.end(reason);
  },
  async frames(sid) {
    const s = sessions.get(sid);
    if (!s) return { videoIn: 0, audioIn: 0 };
    const r = await s.pc.getStats();
    let videoIn = 0;
    let audioIn = 0;
    r.forEach((v) => {
      if (v.type === 'inbound-rtp' && v.kind === 'video') videoIn += v.framesDecoded || 0;
      if (v.type === 'inbound-rtp' && v.kind === 'audio') audioIn += v.packetsReceived || 0;
    });
    return { videoIn, audioIn, state: s.pc.connectionState };
  },
  async stop() {
    if (client) client.disconnect();
  },
};
