// A web user calls the echo peer: the real jinglegate.js in Chromium, the
// gateway, the XMPP server (Prosody or ejabberd), and `jinglegate echo` (a
// pion/webrtc Jingle peer logged in as an XMPP user, which accepts every
// call and sends the media and data channel messages it gets back). Calls
// with XEP-0353 (a propose to the bare JID, or to a full JID) and with plain
// Jingle (a session-initiate to the full JID of echo-direct, which runs with
// -no-jmi); the page's own video comes back and is decoded (getStats:
// inbound-rtp video framesDecoded grows between two samples), its audio
// comes back (inbound audio packetsReceived grows), a data channel message
// comes back as sent; hangups from the browser and from the echo side
// (echo-hangup runs with -hangup-after), each followed by a new call that
// works.
//
// Needs JINGLEGATE_TOKEN_ECHO, JINGLEGATE_ECHO_JID, _DIRECT_JID, _HANGUP_JID
// and _HANGUP_AFTER_MS (stack.sh prints them, for Prosody and ejabberd; run.sh
// sets them): it skips otherwise, and fails inside run.sh (WEBCLIENT_NETNS=1).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { dumpLogs, gatewayEnv, launch, openClient, skipOrFail, startOrigin } from './lib/harness.mjs';
import { knownIssue } from './lib/known-issues.mjs';
import { mediaGrows } from './lib/media.mjs';

const suite = 'web user <-> echo peer';
const env = gatewayEnv({
  suite,
  need: ['JINGLEGATE_TOKEN_ECHO', 'JINGLEGATE_ECHO_JID', 'JINGLEGATE_ECHO_DIRECT_JID', 'JINGLEGATE_ECHO_HANGUP_JID', 'JINGLEGATE_ECHO_HANGUP_AFTER_MS'],
});
const E = process.env;
const echo = {
  token: E.JINGLEGATE_TOKEN_ECHO,
  jid: E.JINGLEGATE_ECHO_JID,
  directJid: E.JINGLEGATE_ECHO_DIRECT_JID,
  hangupJid: E.JINGLEGATE_ECHO_HANGUP_JID,
  hangupAfterMs: Number(E.JINGLEGATE_ECHO_HANGUP_AFTER_MS || 0),
  // both: the echo peers are in the web user's roster already; peer: they
  // have the web user in theirs, and the web user asks to subscribe.
  roster: E.JINGLEGATE_ECHO_ROSTER || 'peer',
  log: E.JINGLEGATE_ECHO_LOG,
  directLog: E.JINGLEGATE_ECHO_DIRECT_LOG,
  hangupLog: E.JINGLEGATE_ECHO_HANGUP_LOG,
  server: E.JINGLEGATE_XMPP_SERVER || 'the XMPP server',
};
const skip =
  env.skip || skipOrFail(!(echo.hangupAfterMs > 0) && `JINGLEGATE_ECHO_HANGUP_AFTER_MS is ${JSON.stringify(E.JINGLEGATE_ECHO_HANGUP_AFTER_MS)}, not a number of ms above 0`, suite);

describe(`web user <-> echo peer (jinglegate echo) on ${echo.server}`, { skip }, () => {
  let origin;
  let browser;
  let web; // {page, jid, bare}
  let failed = false;

  before(async () => {
    origin = await startOrigin(env.url);
    browser = await launch();
    web = await openClient(browser, origin.origin, echo.token, 'web');
  });

  after(async () => {
    if (failed && browser) {
      console.log(dumpLogs(browser.logs, env.log, 'echo'));
      for (const f of [echo.log, echo.directLog, echo.hangupLog]) {
        if (f && fs.existsSync(f)) console.log(`--- ${f} (last 30 lines) ---\n${fs.readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`);
      }
    }
    if (browser) await browser.close();
    if (origin) await origin.close();
  });

  const step = (name, fn) =>
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        if (!knownIssue(t, e)) failed = true;
        throw e;
      } finally {
        // No call outlives its test.
        await web.page.evaluate(() => Promise.all(window.t.client.calls.map((c) => c.hangup()))).catch(() => {});
      }
    });

  // call places a call from the page and waits until it is active.
  async function call(to) {
    const sid = await web.page.evaluate(async (to) => (await window.t.client.call(to, { audio: true, video: true })).sid, to);
    try {
      await web.page.evaluate((sid) => window.t.wait(sid, 'statechange', (d) => d.state === 'active', 20000, true), sid);
    } catch (e) {
      const why = await web.page.evaluate((sid) => {
        const c = window.t.calls.get(sid);
        return c ? `[call: ${c.state} ${c.endReason || ''} ${c.endText || ''}]` : '';
      }, sid);
      throw new Error(`${e.message} ${why}`);
    }
    return sid;
  }

  // echoed checks that the page's own media come back: decoded video frames
  // and received audio packets grow between two samples of getStats.
  async function echoed(sid) {
    const { first, last } = await mediaGrows(web.page, { sid }, { what: 'the echoed media' });
    assert.match(String(last.videoCodec), /^video\/VP8$/i, 'echo sends VP8 back');
    assert.match(String(last.audioCodec), /^audio\/opus$/i, 'echo sends Opus back');
    return { first, last };
  }

  // dataEcho opens a data channel on the call's RTCPeerConnection (a
  // renegotiation: the gateway sends content-add), sends text and resolves
  // with the first message that comes back.
  async function dataEcho(sid, text) {
    return web.page.evaluate(
      async ({ sid, text }) => {
        const pc = window.t.call(sid).peerConnection;
        const dc = pc.createDataChannel('echo-test');
        const within = (p, ms, what) =>
          Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms (data channel ${dc.readyState}, signaling ${pc.signalingState})`)), ms))]);
        await within(new Promise((resolve) => dc.addEventListener('open', resolve, { once: true })), 15000, 'the data channel did not open');
        const got = new Promise((resolve) => dc.addEventListener('message', (e) => resolve(e.data), { once: true }));
        dc.send(text);
        const back = await within(got, 10000, 'no message came back');
        dc.close();
        return back;
      },
      { sid, text },
    );
  }

  // ended waits for the call's end on the page and returns its detail.
  const ended = (sid, timeout = 10000) => web.page.evaluate(({ sid, timeout }) => window.t.wait(sid, 'ended', () => true, timeout, true), { sid, timeout });

  // echoSaw waits until an echo peer's log mentions sid with the pattern
  // (when the log is known: stack.sh's echo peers log at debug level).
  async function echoSaw(logFile, sid, re, what) {
    if (!logFile) return;
    const end = Date.now() + 10000;
    for (;;) {
      const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(sid));
      if (lines.some((l) => re.test(l))) return;
      if (Date.now() > end) throw new Error(`the echo peer's log (${logFile}) shows no ${what} for call ${sid}:\n${lines.slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  step('the echo peers are contacts: online, with audio, video and Jingle; XEP-0353 but for echo-direct', async () => {
    for (const jid of [echo.jid, echo.directJid, echo.hangupJid]) {
      if (echo.roster === 'both') {
        // `jinglegate roster add` put it there before the web user came.
        const c = await web.page.evaluate((jid) => window.t.client.contact(jid), jid);
        assert.ok(c, `${jid} is not in the roster`);
        assert.equal(c.subscription, 'both');
      } else {
        // The echo peer has the web user in its roster with a subscription
        // both ways: the server approves the request itself.
        await web.page.evaluate((jid) => window.t.client.add(jid, { name: jid.split('@')[0] }), jid);
      }
      await web.page.evaluate(
        (jid) =>
          window.t.until(() => {
            const c = window.t.client.contact(jid);
            return c && (c.subscription === 'to' || c.subscription === 'both') && c.callable && c.resources.some((r) => r.capsKnown && r.jingle);
          }, 15000, `${jid} subscribed, online, with caps`),
        jid,
      ).catch(async (e) => {
        // Say what the contact looks like instead.
        const c = await web.page.evaluate((jid) => window.t.client.contact(jid), jid);
        throw new Error(`${e.message}; the contact is ${JSON.stringify(c)}`);
      });
      const c = await web.page.evaluate((jid) => window.t.client.contact(jid), jid);
      assert.equal(c.available, true);
      assert.deepEqual(c.media, ['audio', 'video']);
      assert.equal(c.resources.length, 1, JSON.stringify(c.resources));
      const [r] = c.resources;
      assert.match(r.jid, new RegExp(`^${jid.replace(/[.]/g, '\\.')}/.+`));
      // A peer that does XEP-0353 is rung at its bare JID; echo-direct, known
      // not to, at its full JID (plain Jingle).
      assert.equal(r.jmi, jid !== echo.directJid, `${jid}: jmi ${r.jmi}`);
      assert.equal(await web.page.evaluate((jid) => window.t.client.callTarget(jid), jid), jid === echo.directJid ? r.jid : jid);
    }
  });

  step('a call to the bare JID (XEP-0353): the video and audio come back, a data channel message comes back; the web user hangs up', async () => {
    const sid = await call(echo.jid);
    const { first, last } = await echoed(sid);
    assert.ok(last.framesDecoded > first.framesDecoded, `framesDecoded ${first.framesDecoded} -> ${last.framesDecoded}`);
    const text = `hello echo ${sid} ✓`;
    assert.equal(await dataEcho(sid, text), text);
    // The echo peer took the call through JMI.
    await echoSaw(echo.log, sid, /event="proposed/, 'JMI propose');
    await web.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    const end = await ended(sid);
    assert.equal(end.reason, 'success');
    // The echo peer got the session-terminate.
    await echoSaw(echo.log, sid, /event="terminated reason=success/, 'end of the call');
    assert.deepEqual(await web.page.evaluate(() => window.t.client.calls.length), 0);
  });

  step('a new call, with plain Jingle to echo-direct\'s full JID: media and data come back; the web user hangs up', async () => {
    const sid = await call(echo.directJid);
    const peer = await web.page.evaluate((sid) => window.t.call(sid).peer, sid);
    assert.match(peer, /\/.+/, 'the client calls the full JID');
    await echoed(sid);
    const text = `direct ${sid}`;
    assert.equal(await dataEcho(sid, text), text);
    await web.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    assert.equal((await ended(sid)).reason, 'success');
    await echoSaw(echo.directLog, sid, /event="terminated reason=success/, 'end of the call');
    // A session-initiate, no propose.
    if (echo.directLog) {
      const lines = fs.readFileSync(echo.directLog, 'utf8').split('\n').filter((l) => l.includes(sid));
      assert.ok(lines.some((l) => /action='session-initiate'/.test(l)), 'echo-direct got no session-initiate');
      assert.ok(!lines.some((l) => /event="proposed/.test(l)), 'echo-direct got a JMI propose');
    }
  });

  step('the echo peer hangs up (-hangup-after): the call ends on the page with success', async () => {
    const sid = await call(echo.hangupJid);
    const activeAt = Date.now();
    await echoed(sid);
    const end = await ended(sid, echo.hangupAfterMs + 15000);
    const took = Date.now() - activeAt;
    assert.equal(end.reason, 'success', JSON.stringify(end));
    // Not before the echo's delay (counted from its own connected state,
    // which may come a little before the page's).
    assert.ok(took >= echo.hangupAfterMs - 1000, `ended ${took} ms after it became active, want >= ${echo.hangupAfterMs - 1000}`);
    await echoSaw(echo.hangupLog, sid, /echo: hung up/, '"echo: hung up"');
    const states = await web.page.evaluate((sid) => window.t.events.filter((e) => e.source === sid && e.type === 'statechange').map((e) => e.detail.state), sid);
    assert.deepEqual(states.slice(-2), ['active', 'ended']);
    assert.deepEqual(await web.page.evaluate(() => window.t.client.calls.length), 0);
  });

  step('after the echo hung up, a new call to it works; then a call to echo\'s full JID (XEP-0353 to that resource)', async () => {
    const sid = await call(echo.hangupJid);
    await echoed(sid);
    // (Whoever is first: the echo hangs up this one too after its delay.)
    await web.page.evaluate((sid) => window.t.call(sid).state !== 'ended' && window.t.call(sid).hangup(), sid);
    assert.equal((await ended(sid)).reason, 'success');
    const full = await web.page.evaluate((jid) => window.t.client.contact(jid).resources[0].jid, echo.jid);
    const sid2 = await call(full);
    const { last } = await echoed(sid2);
    assert.ok(last.framesDecoded >= 10);
    await echoSaw(echo.log, sid2, /event="proposed/, 'JMI propose');
    await web.page.evaluate((sid) => window.t.call(sid).hangup(), sid2);
    assert.equal((await ended(sid2)).reason, 'success');
    await echoSaw(echo.log, sid2, /event="terminated reason=success/, 'end of the call');
  });
});
