// demo.js — the jinglegate demo page: sign in, a roster with presence,
// calls with video, and live statistics. It uses only the public API of
// jinglegate.js, and is meant to be read as an example of it.
//
// Signing in: in demo mode the gateway mints a token for any name (POST
// /demo/token, form field "user", answering {"token", "user"}). A page
// opened as /#token=<JWT> uses that token instead (for gateways that are
// not in demo mode, and for tests); the fragment never reaches a server.
import { Client, JinglegateError, bareJID } from './jinglegate.js';

const $ = (id) => document.getElementById(id);
const el = {
  conn: $('conn'),
  me: $('me'),
  meName: $('me-name'),
  show: $('show'),
  signout: $('signout'),
  signin: $('signin'),
  signinForm: $('signin-form'),
  user: $('user'),
  signinError: $('signin-error'),
  app: $('app'),
  addForm: $('add-form'),
  addJid: $('add-jid'),
  requests: $('requests'),
  requestList: $('request-list'),
  roster: $('roster'),
  rosterEmpty: $('roster-empty'),
  callSection: $('call'),
  callState: $('call-state'),
  stage: $('stage'),
  remoteVideo: $('remote-video'),
  localVideo: $('local-video'),
  remoteInitials: $('remote-initials'),
  remoteFlags: $('remote-flags'),
  btnMic: $('btn-mic'),
  btnCam: $('btn-cam'),
  btnVideo: $('btn-video'),
  btnHold: $('btn-hold'),
  btnHangup: $('btn-hangup'),
  stats: $('stats'),
  incoming: $('incoming'),
  incomingFrom: $('incoming-from'),
  incomingMedia: $('incoming-media'),
  acceptAudio: $('accept-audio'),
  acceptVideo: $('accept-video'),
  reject: $('reject'),
  toasts: $('toasts'),
  contactTemplate: $('contact-template'),
  requestTemplate: $('request-template'),
};

const SESSION_KEY = 'jinglegate-demo-user';

/** @type {Client|null} */
let client = null;
/** @type {import('./jinglegate.js').Call|null} */
let current = null;
/** @type {import('./jinglegate.js').Call|null} */
let ringingCall = null;
let statsTimer = 0;
let clockTimer = 0;
let busy = false; // a control is working (addVideo…)

const REASONS = {
  success: 'Call ended',
  decline: 'Call declined',
  busy: 'Busy',
  cancel: 'Call cancelled',
  timeout: 'No answer',
  expired: 'No answer',
  gone: 'The other side went away',
  'answered-elsewhere': 'Answered on another device',
  'connectivity-error': 'The connection failed',
  'failed-transport': 'The connection failed',
  'failed-application': 'The call could not be set up',
  'media-error': 'Camera or microphone problem',
  'security-error': 'The call could not be secured',
  'incompatible-parameters': 'The other side could not agree on media',
  'unsupported-applications': 'The other side does not support this call',
  'general-error': 'The call failed',
};

const STATE_TEXT = {
  calling: (who) => `Calling ${who}…`,
  ringing: (who) => `Ringing ${who}…`,
  incoming: (who) => `${who} is calling`,
  connecting: (who) => `Connecting to ${who}…`,
  active: (who) => `In a call with ${who}`,
};

// --- helpers --------------------------------------------------------------

function toast(text, { error = false, ms = 5000 } = {}) {
  const t = document.createElement('div');
  t.className = error ? 'toast error' : 'toast';
  t.textContent = text;
  el.toasts.append(t);
  setTimeout(() => t.remove(), ms);
}

function describeError(e) {
  if (e instanceof JinglegateError) {
    // The gateway's messages are written for people; the code is the fallback.
    const byCode = {
      forbidden: 'Not allowed.',
      'not-found': 'Not found.',
      unavailable: 'The gateway cannot do that right now.',
      'rate-limited': 'Too fast: slow down.',
      timeout: 'The gateway did not answer in time.',
    };
    return e.message || byCode[e.code] || e.code;
  }
  if (e && e.name === 'NotAllowedError') return 'Camera or microphone access was refused.';
  if (e && e.name === 'NotFoundError') return 'No camera or microphone was found.';
  if (e && e.name === 'NotReadableError') return 'The camera or microphone is in use by another program.';
  return e && e.message ? e.message : String(e);
}

function displayName(jid) {
  const c = client && client.contact(bareJID(jid));
  return c ? c.displayName : bareJID(jid);
}

function initials(name) {
  const parts = name.replace(/@.*/, '').split(/[\s._-]+/).filter(Boolean);
  return (parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] || '?').slice(0, 2)).toUpperCase();
}

function fmtKbps(kbps) {
  if (kbps === null || kbps === undefined) return '–';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// --- signing in ---------------------------------------------------------------

async function demoToken(user) {
  const body = new URLSearchParams({ user });
  const res = await fetch('/demo/token', { method: 'POST', body, credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 404 || res.status === 405) throw new Error('This gateway is not in demo mode: open this page with #token=<a token> instead.');
  if (!res.ok) {
    // The gateway explains in {"error": "..."}.
    const text = (await res.text()).trim();
    let why = text;
    try {
      why = JSON.parse(text).error || text;
    } catch {
      // plain text
    }
    throw new Error(why ? `The gateway refused: ${why}` : `The gateway refused (${res.status}).`);
  }
  const j = await res.json();
  if (!j || typeof j.token !== 'string') throw new Error('The gateway sent no token.');
  // The demo's contacts (the echo bot) that could not be added.
  for (const w of Array.isArray(j.warnings) ? j.warnings : []) toast(String(w), { error: true, ms: 10000 });
  return j;
}

async function signIn(tokenProvider) {
  el.signinError.textContent = '';
  const c = new Client({ url: '/ws', token: tokenProvider });
  client = c;
  wireClient(c);
  try {
    await c.connect();
  } catch (e) {
    if (client === c) client = null;
    throw e;
  }
  if (client !== c) return;
  el.signin.hidden = true;
  el.app.hidden = false;
  el.me.hidden = false;
  const s = c.session;
  el.meName.textContent = s.name ? `${s.name} (${bareJID(s.jid)})` : bareJID(s.jid);
  el.meName.title = s.jid;
  renderRoster();
  renderRequests();
  el.addJid.focus();
}

async function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  const c = client;
  client = null;
  if (c) await c.close();
  resetCallUI();
  closeIncoming();
  el.app.hidden = true;
  el.me.hidden = true;
  el.signin.hidden = false;
  setConn('idle');
  el.user.focus();
}

function setConn(state) {
  const text = {
    idle: 'Signed out',
    connecting: 'Connecting…',
    connected: 'Online',
    reconnecting: 'Reconnecting…',
    closed: 'Offline',
  }[state] || state;
  el.conn.dataset.state = state;
  el.conn.textContent = text;
}

el.signinForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const user = el.user.value.trim();
  if (!el.user.checkValidity() || !user) {
    el.signinError.textContent = 'Pick a name made of letters, digits, dots, dashes or underscores.';
    el.user.focus();
    return;
  }
  const submit = el.signinForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    const first = await demoToken(user); // fails early if demo mode is off
    let fresh = first.token;
    await signIn(async () => {
      // Each reconnection asks for a fresh token, so sessions outlive tokens.
      if (fresh) {
        const t = fresh;
        fresh = '';
        return t;
      }
      return (await demoToken(user)).token;
    });
    sessionStorage.setItem(SESSION_KEY, user);
  } catch (e) {
    el.signinError.textContent = describeError(e);
  } finally {
    submit.disabled = false;
  }
});

el.signout.addEventListener('click', () => signOut());

el.show.addEventListener('change', () => {
  if (!client) return;
  client.setPresence({ show: el.show.value }).catch((e) => toast(describeError(e), { error: true }));
});

// --- the client's events ----------------------------------------------------

function wireClient(c) {
  c.addEventListener('statechange', (e) => {
    if (client === c) setConn(e.detail.state);
  });
  c.addEventListener('reconnecting', (e) => {
    if (client === c && e.detail.attempt > 1) setConn('reconnecting');
  });
  c.addEventListener('session', (e) => {
    if (client !== c) return;
    if (e.detail.lost) toast('The connection was lost for too long: calls in progress ended.', { error: true });
  });
  c.addEventListener('closed', (e) => {
    if (client !== c) return;
    if (e.detail.reason === 'replaced') toast('This session was taken over by another page.', { error: true });
    else if (e.detail.reason === 'failed') el.signinError.textContent = e.detail.text;
  });
  c.addEventListener('roster', () => {
    if (client === c) renderRoster();
  });
  c.addEventListener('subscribe-request', (e) => {
    if (client !== c) return;
    renderRequests();
    toast(`${e.detail.name || e.detail.jid} wants to add you.`);
  });
  c.addEventListener('roster-push', () => {
    if (client === c) renderRequests();
  });
  c.addEventListener('incoming', (e) => {
    if (client === c) onIncoming(e.detail.call);
  });
  c.addEventListener('error', (e) => {
    if (client === c) toast(describeError(e.detail.error), { error: true });
  });
}

// --- roster ---------------------------------------------------------------------

const SHOW_TEXT = {
  available: 'Available',
  chat: 'Free to chat',
  away: 'Away',
  xa: 'Away for a while',
  dnd: 'Do not disturb',
  offline: 'Offline',
};

function renderRoster() {
  if (!client) return;
  const contacts = client.roster;
  const inCall = !!current || !!ringingCall;
  const items = contacts.map((c) => {
    const li = el.contactTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.jid = c.jid;
    const dot = li.querySelector('.presence');
    dot.dataset.show = c.show;
    dot.setAttribute('aria-label', SHOW_TEXT[c.show] || c.show);
    dot.title = SHOW_TEXT[c.show] || c.show;
    li.querySelector('.name').textContent = c.displayName;
    li.querySelector('.jid').textContent = c.name ? c.jid : subscriptionText(c);
    li.querySelector('.status').textContent = c.name ? [subscriptionText(c), c.status].filter(Boolean).join(' · ') : c.status;
    li.querySelector('.cap-audio').dataset.on = String(c.media.includes('audio'));
    li.querySelector('.cap-video').dataset.on = String(c.media.includes('video'));
    const caps = li.querySelector('.caps');
    caps.title = c.media.length ? `Can do ${c.media.join(' and ')}` : c.available ? 'Media unknown' : '';
    const audioBtn = li.querySelector('.call-audio');
    const videoBtn = li.querySelector('.call-video');
    const removeBtn = li.querySelector('.remove');
    audioBtn.setAttribute('aria-label', `Call ${c.displayName}`);
    audioBtn.title = `Call ${c.displayName}`;
    videoBtn.setAttribute('aria-label', `Video call ${c.displayName}`);
    videoBtn.title = `Video call ${c.displayName}`;
    removeBtn.setAttribute('aria-label', `Remove ${c.displayName}`);
    removeBtn.title = `Remove ${c.displayName}`;
    const canCall = c.callable && !inCall;
    audioBtn.disabled = !canCall;
    videoBtn.disabled = !canCall || (c.media.length > 0 && !c.media.includes('video'));
    audioBtn.addEventListener('click', () => startCall(c.jid, { video: false }));
    videoBtn.addEventListener('click', () => startCall(c.jid, { video: true }));
    removeBtn.addEventListener('click', async () => {
      if (!confirm(`Remove ${c.displayName} from your contacts?`)) return;
      try {
        await client.remove(c.jid);
      } catch (e) {
        toast(describeError(e), { error: true });
      }
    });
    return li;
  });
  // Keep the focus where it was across re-renders.
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('.contact');
  const focusJid = focused && focused.dataset.jid;
  const focusClass = focused && [...document.activeElement.classList].find((k) => ['call-audio', 'call-video', 'remove'].includes(k));
  el.roster.replaceChildren(...items);
  el.rosterEmpty.hidden = contacts.length > 0;
  if (focusJid && focusClass) {
    const again = el.roster.querySelector(`.contact[data-jid="${CSS.escape(focusJid)}"] .${focusClass}`);
    if (again && !again.disabled) again.focus();
  }
}

function subscriptionText(c) {
  if (c.subscription === 'both') return '';
  if (c.subscription === 'to') return 'does not see you';
  if (c.ask) return 'waiting for approval';
  if (c.subscription === 'from') return 'sees you; you do not see them';
  return 'no subscription';
}

function renderRequests() {
  if (!client) return;
  const reqs = client.subscriptionRequests;
  el.requests.hidden = reqs.length === 0;
  el.requestList.replaceChildren(
    ...reqs.map((r) => {
      const li = el.requestTemplate.content.firstElementChild.cloneNode(true);
      li.dataset.jid = r.jid;
      li.querySelector('.name').textContent = r.name || r.jid;
      li.querySelector('.jid').textContent = r.name ? r.jid : '';
      const approve = li.querySelector('.approve');
      const deny = li.querySelector('.deny');
      approve.setAttribute('aria-label', `Allow ${r.name || r.jid} to see your status`);
      deny.setAttribute('aria-label', `Deny ${r.name || r.jid}`);
      approve.addEventListener('click', async () => {
        try {
          await client.approve(r.jid);
          // Subscribe back, so that both see each other and can call.
          const c = client.contact(r.jid);
          if (!c || (c.subscription !== 'both' && c.subscription !== 'to' && !c.ask)) await client.add(r.jid, r.name ? { name: r.name } : {});
        } catch (e) {
          toast(describeError(e), { error: true });
        }
        renderRequests();
      });
      deny.addEventListener('click', async () => {
        try {
          await client.deny(r.jid);
        } catch (e) {
          toast(describeError(e), { error: true });
        }
        renderRequests();
      });
      return li;
    }),
  );
}

el.addForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const jid = el.addJid.value.trim();
  if (!jid) return;
  if (!jid.includes('@') && !jid.includes('.')) {
    toast('Give a full address, like bob@example.org.', { error: true });
    return;
  }
  try {
    await client.add(jid);
    el.addJid.value = '';
    toast(`Asked ${jid} to share their status.`);
  } catch (e) {
    toast(describeError(e), { error: true });
  }
});

// --- calls ------------------------------------------------------------------------

async function startCall(jid, { video }) {
  if (!client || current) return;
  // The Call exists (the 'call' event) before client.call() resolves, which
  // waits for the camera and the gateway: show it at once. Once shown, its
  // 'ended' event reports a failure.
  let shown = false;
  const off = client.on('call', ({ call }) => {
    off();
    shown = true;
    showCall(call);
  });
  try {
    await client.call(jid, { audio: true, video });
  } catch (e) {
    if (!shown) toast(describeError(e), { error: true });
  } finally {
    off();
  }
}

function onIncoming(call) {
  if (current || ringingCall) {
    call.reject('busy');
    toast(`${displayName(call.peer)} called while you were busy.`);
    return;
  }
  ringingCall = call;
  const who = displayName(call.peer);
  el.incomingFrom.textContent = who;
  el.incomingMedia.textContent = call.media.includes('video') ? 'Video call' : 'Audio call';
  el.acceptVideo.textContent = '';
  el.acceptVideo.append(iconNode('i-cam'), call.media.includes('video') ? 'Accept with video' : 'Accept and add video');
  call.addEventListener('ended', () => {
    if (ringingCall === call) {
      ringingCall = null;
      closeIncoming();
      if (call.endReason !== 'decline' && call.endReason !== 'busy') toast(`Missed call from ${who}: ${REASONS[call.endReason] || call.endReason}.`);
      renderRoster();
    }
  });
  renderRoster();
  // A tab in the background shows the call in its title.
  document.title = `Incoming call from ${who} · jinglegate`;
  if (!el.incoming.open) el.incoming.showModal();
  el.acceptAudio.focus();
}

function iconNode(id) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `#${id}`);
  svg.append(use);
  return svg;
}

const TITLE = document.title;

function closeIncoming() {
  document.title = TITLE;
  if (el.incoming.open) el.incoming.close();
}

async function acceptIncoming(video) {
  const call = ringingCall;
  if (!call) return;
  ringingCall = null;
  closeIncoming();
  showCall(call);
  try {
    await call.accept({ audio: true, video });
  } catch (e) {
    toast(describeError(e), { error: true });
    if (call.state === 'incoming') {
      // getUserMedia failed: the call still rings.
      resetCallUI();
      onIncoming(call);
    }
  }
}

el.acceptAudio.addEventListener('click', () => acceptIncoming(false));
el.acceptVideo.addEventListener('click', () => acceptIncoming(true));
el.reject.addEventListener('click', () => {
  const call = ringingCall;
  ringingCall = null;
  closeIncoming();
  if (call) call.reject('decline');
  renderRoster();
});
// Escape on the dialog declines, as a "cancel" should.
el.incoming.addEventListener('cancel', (ev) => {
  ev.preventDefault();
  el.reject.click();
});

function showCall(call) {
  current = call;
  const who = displayName(call.peer);
  el.remoteInitials.textContent = initials(who);
  el.remoteVideo.srcObject = call.remoteStream;
  el.remoteVideo.play().catch(() => {});
  const update = () => updateCallUI(call);
  for (const type of ['statechange', 'mute', 'hold', 'sessioninfo', 'remotemedia', 'localstream', 'negotiated', 'connectionstatechange']) {
    call.addEventListener(type, update);
  }
  call.addEventListener('localstream', () => {
    el.localVideo.srcObject = call.localStream;
    update();
  });
  call.addEventListener('error', (e) => toast(describeError(e.detail.error), { error: true }));
  call.addEventListener('ended', () => {
    const text = REASONS[call.endReason] || `Call ended (${call.endReason})`;
    const detail = call.error ? describeError(call.error) : call.endText;
    const error = !!call.error || !['success', 'decline', 'cancel', 'busy', 'timeout', 'answered-elsewhere'].includes(call.endReason);
    toast(detail ? `${text}: ${detail}` : text, { error });
    if (current === call) resetCallUI(text);
  });
  el.localVideo.srcObject = call.localStream;
  clearInterval(statsTimer);
  statsTimer = setInterval(() => refreshStats(call), 1000);
  clearInterval(clockTimer);
  clockTimer = setInterval(update, 1000);
  update();
  renderRoster();
}

function updateCallUI(call) {
  if (current !== call) return;
  const who = displayName(call.peer);
  const state = call.state;
  el.callSection.dataset.state = state;
  let text = STATE_TEXT[state] ? STATE_TEXT[state](who) : '';
  if (state === 'active' && call.startedAt) text += ` · ${fmtDuration(Date.now() - call.startedAt)}`;
  if (state === 'active' && call.connectionState === 'disconnected') text += ' · reconnecting media…';
  if (el.callState.textContent !== text) el.callState.textContent = text;

  const local = call.localStream;
  const hasLocalVideo = !!local && local.getVideoTracks().some((t) => t.readyState === 'live');
  el.stage.classList.toggle('has-local-video', hasLocalVideo && !call.muted.video);
  el.stage.classList.toggle('has-remote-video', call.receivingVideo && !call.remoteMuted.video);
  const flags = [];
  if (call.remoteHeld) flags.push('on hold');
  if (call.remoteMuted.audio) flags.push(`${who} muted their microphone`);
  el.remoteFlags.textContent = flags.join(' · ');

  const live = state === 'connecting' || state === 'active';
  const negotiated = live && !!call.peerConnection;
  setToggle(el.btnMic, call.muted.audio, call.muted.audio ? 'Unmute' : 'Mute', call.muted.audio ? 'i-mic-off' : 'i-mic');
  el.btnMic.disabled = !live || !local || local.getAudioTracks().length === 0;
  setToggle(el.btnCam, call.muted.video, call.muted.video ? 'Camera on' : 'Camera off', call.muted.video ? 'i-cam-off' : 'i-cam');
  el.btnCam.disabled = !live || !hasLocalVideo;
  const sending = call.sendingVideo;
  setLabel(el.btnVideo, sending ? 'Stop video' : 'Add video', sending ? 'i-cam-off' : 'i-cam');
  el.btnVideo.disabled = !negotiated || busy;
  setToggle(el.btnHold, call.held, call.held ? 'Resume' : 'Hold', 'i-pause');
  el.btnHold.disabled = !live;
  el.btnHangup.disabled = state === 'ended';
}

function setLabel(btn, label, icon) {
  btn.querySelector('.label').textContent = label;
  btn.querySelector('use').setAttribute('href', `#${icon}`);
}

function setToggle(btn, pressed, label, icon) {
  btn.setAttribute('aria-pressed', String(pressed));
  setLabel(btn, label, icon);
}

function resetCallUI(text) {
  current = null;
  busy = false;
  clearInterval(statsTimer);
  clearInterval(clockTimer);
  statsTimer = clockTimer = 0;
  el.callSection.dataset.state = 'idle';
  el.callState.textContent = text ? `${text}. Pick a contact to call.` : 'No call. Pick a contact to call.';
  el.remoteVideo.srcObject = null;
  el.localVideo.srcObject = null;
  el.remoteInitials.textContent = '';
  el.remoteFlags.textContent = '';
  el.stage.classList.remove('has-local-video', 'has-remote-video');
  for (const b of [el.btnMic, el.btnCam, el.btnVideo, el.btnHold, el.btnHangup]) {
    b.disabled = true;
    b.setAttribute('aria-pressed', 'false');
  }
  setLabel(el.btnMic, 'Mute', 'i-mic');
  setLabel(el.btnCam, 'Camera off', 'i-cam');
  setLabel(el.btnVideo, 'Add video', 'i-cam');
  setLabel(el.btnHold, 'Hold', 'i-pause');
  for (const dd of el.stats.querySelectorAll('dd')) dd.textContent = '–';
  renderRoster();
}

el.btnMic.addEventListener('click', () => current && current.mute('audio', !current.muted.audio));
el.btnCam.addEventListener('click', () => current && current.mute('video', !current.muted.video));
el.btnHold.addEventListener('click', () => current && current.hold(!current.held));
el.btnHangup.addEventListener('click', () => current && current.hangup());
el.btnVideo.addEventListener('click', async () => {
  const call = current;
  if (!call || busy) return;
  busy = true;
  updateCallUI(call);
  try {
    if (call.sendingVideo) await call.removeVideo();
    else await call.addVideo();
  } catch (e) {
    toast(describeError(e), { error: true });
  } finally {
    busy = false;
    updateCallUI(call);
  }
});

// --- statistics ---------------------------------------------------------------------

async function refreshStats(call) {
  if (current !== call || call.state === 'ended') return;
  let s;
  try {
    s = await call.stats();
  } catch {
    return;
  }
  if (current !== call) return;
  const set = (name, text) => {
    const dd = el.stats.querySelector(`[data-stat="${name}"]`);
    if (dd.textContent !== text) dd.textContent = text;
  };
  set('rtt', s.rttMs === null ? '–' : `${s.rttMs} ms`);
  set('path', s.localCandidateType ? `${s.localCandidateType} ⇄ ${s.remoteCandidateType || '?'}${s.protocol ? ` (${s.protocol})` : ''}` : '–');
  const a = [s.audio.in, s.audio.out];
  set('audio', a[0] || a[1] ? `${(a[0] && a[0].codec) || (a[1] && a[1].codec) || '?'} · ↓ ${fmtKbps(a[0] && a[0].kbps)} · ↑ ${fmtKbps(a[1] && a[1].kbps)}` : '–');
  set('video-in', videoText(s.video.in));
  set('video-out', videoText(s.video.out));
}

function videoText(v) {
  if (!v || !v.bytes) return '–';
  const parts = [v.codec || '?'];
  if (v.width && v.height) parts.push(`${v.width}×${v.height}`);
  if (v.fps) parts.push(`${Math.round(v.fps)} fps`);
  parts.push(fmtKbps(v.kbps));
  return parts.join(' · ');
}

// --- start-up ------------------------------------------------------------------------------

function start() {
  el.user.addEventListener('input', () => {
    $('signin-example').textContent = el.user.value.trim() || 'name';
  });
  $('signin-domain').textContent = location.hostname || 'the gateway';
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    // Forget the token in the address bar (and the history).
    history.replaceState(null, '', location.pathname + location.search);
    signIn(token).catch((e) => {
      el.signinError.textContent = describeError(e);
    });
    return;
  }
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (saved) {
    el.user.value = saved;
    el.signinForm.requestSubmit();
    return;
  }
  el.user.focus();
}

start();
