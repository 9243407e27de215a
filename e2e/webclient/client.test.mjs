// Two web users, each with the real jinglegate.js in a Chromium page, through
// a real gateway and Prosody: the roster (add, approve, presence with caps),
// the session (dropped connections resumed with the replay and the resending
// of unanswered requests, a session lost after the grace period, logout),
// and calls: A calls B with audio and video, media flows both ways (decoded
// frames grow), hangups from each side, video added mid-call by each side,
// renegotiations colliding (perfect negotiation), ICE restarts colliding,
// a declined call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dumpLogs, gatewayEnv, launch, mediaFlows, openClient, startOrigin } from './lib/harness.mjs';
import { knownIssue } from './lib/known-issues.mjs';

const env = gatewayEnv({ suite: 'two web users' });

describe('two web users through the gateway', { skip: env.skip }, () => {
  let origin;
  let originB;
  let browser;
  let A;
  let B;
  let failed = false;

  before(async () => {
    origin = await startOrigin(env.url);
    originB = env.urlB === env.url ? origin : await startOrigin(env.urlB);
    browser = await launch();
    A = await openClient(browser, origin.origin, env.tokenA, 'A');
    B = await openClient(browser, originB.origin, env.tokenB, 'B');
  });

  after(async () => {
    if (failed && browser) console.log(dumpLogs(browser.logs, env.log, 'client'));
    if (browser) await browser.close();
    if (origin) await origin.close();
    if (originB && originB !== origin) await originB.close();
  });

  // step(name, [opts], fn): a test. A failure that is a known gateway issue
  // is reported as TODO; the calls of a test with opts.calls are hung up
  // after it.
  const step = (name, opts, fn) => {
    if (typeof opts === 'function') [opts, fn] = [{}, opts];
    return test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        if (!knownIssue(t, e)) failed = true;
        throw e;
      } finally {
        // No call outlives its test.
        if (opts.calls) {
          for (const X of [A, B]) await X.page.evaluate(() => Promise.all(window.t.client.calls.map((c) => c.hangup()))).catch(() => {});
        }
      }
    });
  };

  // withEnd runs f in page; when it fails because the call ended, the error
  // says why (the gateway's hangup text).
  async function withEnd(page, sid, f) {
    try {
      return await page.evaluate(f, sid);
    } catch (e) {
      const why = await page.evaluate((sid) => {
        const c = window.t.calls.get(sid);
        return c ? `${c.state} ${c.endReason || ''} ${c.endText || ''}` : '';
      }, sid);
      throw new Error(`${e.message} [call: ${why}]`);
    }
  }

  // ring: A calls B; B accepts. Returns the sid.
  async function ring({ audio = true, video = true, acceptVideo = video } = {}) {
    const sid = await A.page.evaluate(async ({ to, audio, video }) => (await window.t.client.call(to, { audio, video })).sid, { to: B.bare, audio, video });
    try {
      await B.page.evaluate((sid) => window.t.wait('client', 'incoming', (d) => d.call.sid === sid, 10000, true), sid);
    } catch {
      throw new Error(`B never rang for call ${sid}`);
    }
    await B.page.evaluate(({ sid, video }) => window.t.call(sid).accept({ audio: true, video }), { sid, video: acceptVideo });
    for (const p of [A.page, B.page]) {
      await p.evaluate((sid) => window.t.wait(sid, 'statechange', (d) => d.state === 'active', 20000, true), sid);
    }
    return sid;
  }

  step('sessions: each tab has a full JID of its own, and ICE servers', async () => {
    for (const X of [A, B]) {
      const s = await X.page.evaluate(() => window.t.client.session);
      assert.match(s.jid, /^[^@/]+@[^/]+\/.+$/);
      assert.equal(s.resumed, false);
      assert.ok(Array.isArray(s.iceServers));
      assert.ok(s.limits.ratePerSecond > 0);
    }
    assert.notEqual(A.bare, B.bare);
  });

  step('roster: A adds B, B approves and adds A back; both see each other online with caps', async () => {
    await A.page.evaluate((b) => window.t.client.add(b, { name: 'Ben', groups: ['Friends'] }), B.bare);
    const pushed = await A.page.evaluate((b) => window.t.wait('client', 'roster-push', (d) => d.item.jid === b, 10000, true), B.bare);
    assert.equal(pushed.contact.ask, true);
    const req = await B.page.evaluate((a) => window.t.wait('client', 'subscribe-request', (d) => d.jid === a, 10000, true), A.bare);
    assert.equal(req.jid, A.bare);
    await B.page.evaluate(async (a) => {
      await window.t.client.approve(a);
      await window.t.client.add(a, { name: 'Ann' });
    }, A.bare);
    await A.page.evaluate(async (b) => {
      await window.t.wait('client', 'subscribe-request', (d) => d.jid === b, 10000, true);
      await window.t.client.approve(b);
    }, B.bare);
    for (const [X, Y] of [
      [A, B],
      [B, A],
    ]) {
      const c = await X.page.evaluate(
        (y) =>
          window.t.until(() => {
            const c = window.t.client.contact(y);
            return c && c.subscription === 'both' && c.available && c.resources.some((r) => r.capsKnown) && c;
          }, 15000, `${y} online with caps`),
        Y.bare,
      );
      assert.deepEqual(c.media, ['audio', 'video']);
      assert.equal(c.callable, true);
      assert.equal(c.resources[0].jid, Y.jid);
      assert.equal(c.resources[0].jmi, true);
    }
    const a = await A.page.evaluate((b) => window.t.client.contact(b), B.bare);
    assert.equal(a.name, 'Ben');
    assert.deepEqual(a.groups, ['Friends']);
    // Calls to a web user go through XEP-0353: the bare JID.
    assert.equal(await A.page.evaluate((b) => window.t.client.callTarget(b), B.bare), B.bare);
  });

  step('roster: rename, presence show and status reach the contact', async () => {
    await A.page.evaluate((b) => window.t.client.rename(b, { name: 'Benjamin' }), B.bare);
    await A.page.evaluate((b) => window.t.until(() => window.t.client.contact(b).name === 'Benjamin'), B.bare);
    await B.page.evaluate(() => window.t.client.setPresence({ show: 'away', status: 'lunch' }));
    const c = await A.page.evaluate((b) => window.t.until(() => window.t.client.contact(b).show === 'away' && window.t.client.contact(b)), B.bare);
    assert.equal(c.status, 'lunch');
    await B.page.evaluate(() => window.t.client.setPresence({}));
    await A.page.evaluate((b) => window.t.until(() => window.t.client.contact(b).show === 'available'), B.bare);
  });

  step('errors reject with the gateway code', async () => {
    const r = await A.page.evaluate(async () => {
      try {
        await window.t.client.rename('nobody@example.org', { name: 'x' });
        return null;
      } catch (e) {
        return { name: e.name, code: e.code };
      }
    });
    assert.deepEqual(r, { name: 'JinglegateError', code: 'not-found' });
  });

  step('session: a dropped connection is resumed; what happened meanwhile is replayed, requests made meanwhile are sent', async () => {
    const before = await A.page.evaluate(() => window.t.client.jid);
    await A.page.evaluate(() => {
      window.t.setOffline(true);
      window.t.drop();
    });
    let pending;
    try {
      await A.page.evaluate(() => window.t.wait('client', 'reconnecting', () => true, 5000, true));
      // While A is away: B changes presence (replayed to A), and A asks for
      // something (sent once A is back).
      await B.page.evaluate(() => window.t.client.setPresence({ show: 'dnd', status: 'busy' }));
      pending = A.page.evaluate(() => window.t.client.setPresence({ show: 'chat', status: 'back soon' }).then(() => 'ok'));
      await A.page.waitForTimeout(1500);
      assert.equal(await A.page.evaluate(() => window.t.client.state), 'reconnecting');
    } finally {
      await A.page.evaluate(() => window.t.setOffline(false));
    }
    const s = await A.page.evaluate(() => window.t.wait('client', 'session', (d) => d.resumed, 15000));
    assert.equal(s.session.jid, before);
    assert.equal(await pending, 'ok');
    await A.page.evaluate((b) => window.t.until(() => window.t.client.contact(b).show === 'dnd'), B.bare);
    await B.page.evaluate((a) => window.t.until(() => window.t.client.contact(a).show === 'chat'), A.bare);
    await B.page.evaluate(() => window.t.client.setPresence({}));
    await A.page.evaluate(() => window.t.client.setPresence({}));
  });

  step('calls: A calls B with audio and video; media flows both ways; B hangs up', { calls: true }, async () => {
    const sid = await ring({ video: true });
    const a = await mediaFlows(A.page, sid);
    const b = await mediaFlows(B.page, sid);
    assert.ok(a.videoIn > 0 && b.videoIn > 0);
    const info = await A.page.evaluate((sid) => ({ polite: window.t.call(sid).polite, dir: window.t.call(sid).direction }), sid);
    assert.deepEqual(info, { polite: false, dir: 'outgoing' });
    assert.equal(await B.page.evaluate((sid) => window.t.call(sid).polite, sid), true);
    // Mute reaches the peer.
    await A.page.evaluate((sid) => window.t.call(sid).mute('audio'), sid);
    await B.page.evaluate((sid) => window.t.wait(sid, 'sessioninfo', (d) => d.info === 'mute' && d.remoteMuted.audio, 10000, true), sid);
    await B.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    const ended = await A.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
    assert.equal(ended.reason, 'success');
  });

  step('calls: an audio call; the caller adds video, then removes it', { calls: true }, async () => {
    const sid = await ring({ video: false });
    await mediaFlows(A.page, sid, { video: false });
    assert.equal(await B.page.evaluate((sid) => window.t.call(sid).receivingVideo, sid), false);
    await withEnd(A.page, sid, (sid) => window.t.call(sid).addVideo());
    assert.equal(await A.page.evaluate((sid) => window.t.call(sid).sendingVideo, sid), true);
    await mediaFlows(B.page, sid, { video: true });
    await withEnd(A.page, sid, (sid) => window.t.call(sid).removeVideo());
    await B.page.evaluate((sid) => window.t.until(() => !window.t.call(sid).receivingVideo, 10000, 'A\'s video gone'), sid);
    await mediaFlows(B.page, sid, { video: false });
    await A.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    const ended = await B.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
    assert.equal(ended.reason, 'success');
  });

  step('calls: an audio call; the callee adds video', { calls: true }, async () => {
    const sid = await ring({ video: false });
    await withEnd(B.page, sid, (sid) => window.t.call(sid).addVideo());
    await mediaFlows(A.page, sid, { video: true });
    await B.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    await A.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
  });

  step('calls: both add video at once (glare): perfect negotiation settles it', { calls: true }, async () => {
    const sid = await ring({ video: false });
    await Promise.all([withEnd(A.page, sid, (sid) => window.t.call(sid).addVideo()), withEnd(B.page, sid, (sid) => window.t.call(sid).addVideo())]);
    await mediaFlows(A.page, sid, { video: true });
    await mediaFlows(B.page, sid, { video: true });
    await A.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    await B.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
  });

  step('calls: both restart ICE at once (glare): the caller\'s restart wins, both get new credentials, media flows on', { calls: true }, async () => {
    const sid = await ring({ video: true });
    await mediaFlows(A.page, sid);
    // The local ICE ufrag of the page's transport (RTCTransportStats).
    const ufrag = (X) =>
      X.page.evaluate(async (sid) => {
        let u = null;
        (await window.t.call(sid).getStats()).forEach((v) => {
          if (v.type === 'transport' && v.iceLocalUsernameFragment) u = v.iceLocalUsernameFragment;
        });
        return u;
      }, sid);
    const before = [await ufrag(A), await ufrag(B)];
    assert.ok(before[0] && before[1], `ufrags before: ${before}`);
    await Promise.all([A, B].map((X) => withEnd(X.page, sid, (sid) => window.t.call(sid).restartIce())));
    for (const [i, X] of [A, B].entries()) {
      const end = Date.now() + 15000;
      let now = await ufrag(X);
      while (now === before[i] && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        now = await ufrag(X);
      }
      assert.notEqual(now, before[i], `${X === A ? 'A' : 'B'} kept its ICE credentials`);
    }
    await mediaFlows(A.page, sid);
    await mediaFlows(B.page, sid);
    assert.equal(await A.page.evaluate((sid) => window.t.call(sid).state, sid), 'active');
    await B.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    await A.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
  });

  step('calls: a call survives A\'s dropped connection', { calls: true }, async () => {
    const sid = await ring({ video: true });
    await A.page.evaluate(() => window.t.drop());
    await A.page.evaluate(() => window.t.wait('client', 'session', (d) => d.resumed, 15000));
    assert.equal(await A.page.evaluate((sid) => window.t.call(sid).state, sid), 'active');
    await mediaFlows(A.page, sid);
    await B.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    await A.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
  });

  step('calls: B declines; A cancels a ringing call', { calls: true }, async () => {
    let sid = await A.page.evaluate(async (to) => (await window.t.client.call(to, { audio: true })).sid, B.bare);
    try {
      await B.page.evaluate((sid) => window.t.wait('client', 'incoming', (d) => d.call.sid === sid, 10000, true), sid);
    } catch {
      throw new Error('B never rang');
    }
    await B.page.evaluate((sid) => window.t.call(sid).reject(), sid);
    let ended = await A.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
    assert.equal(ended.reason, 'decline');

    sid = await A.page.evaluate(async (to) => (await window.t.client.call(to, { audio: true })).sid, B.bare);
    await B.page.evaluate((sid) => window.t.wait('client', 'incoming', (d) => d.call.sid === sid, 10000, true), sid);
    await A.page.evaluate((sid) => window.t.call(sid).hangup(), sid);
    ended = await B.page.evaluate((sid) => window.t.wait(sid, 'ended', () => true, 10000, true), sid);
    assert.equal(ended.reason, 'cancel');
  });

  step('session: logout ends the tab at once; contacts see it go', async () => {
    await B.page.evaluate(() => window.t.client.close());
    assert.equal(await B.page.evaluate(() => window.t.client.state), 'closed');
    await A.page.evaluate((b) => window.t.until(() => !window.t.client.contact(b).available, 10000, 'B offline'), B.bare);
  });
});
