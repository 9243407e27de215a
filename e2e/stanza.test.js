// The independent implementation agrees: StanzaJS (npm stanza v12) reads the
// Jingle that jinglegate makes of Chromium SDPs, and jinglegate reads the
// Jingle that StanzaJS makes of them; Chromium accepts both resulting SDPs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startBrowser } from './lib/browser.js';
import { chromiumDir, sdpFiles } from './lib/corpus.js';
import { sdpType, toJingle, toSDP, wrapIQ } from './lib/jinglegate.js';
import { diff, summarize } from './lib/sdp.js';
import { knownIssues } from './lib/known-issues.js';
import { jingleToSDP, parseJingle, sdpToIQ } from './lib/stanza.js';

// What StanzaJS's own SDP -> Jingle -> SDP keeps of a Chromium SDP (see
// /work/shared/TESTING.md: it drops per-ssrc msid, candidate generation and
// network-id, and rewrites o=), so any difference in these fields is a
// disagreement between the two implementations.
const agreed = ['kind', 'mid', 'rejected', 'direction', 'setup', 'fingerprints', 'ufrag', 'pwd', 'codecs', 'fmtp', 'rtcpFb', 'extmap', 'ssrcs', 'ssrcGroups', 'sctpPort', 'candidates'];

let browser;
let page;
before(async () => {
  browser = await startBrowser();
  page = await browser.newPage('stanza');
});
after(async () => {
  if (browser) await browser.close();
});

const check = (type, sdp) => page.evaluate(([t, s]) => window.jg.check(t, s), [type, sdp]);

const files = sdpFiles(chromiumDir);
const roles = (type) => (type === 'answer' ? { action: 'session-accept', role: 'responder' } : { action: 'session-initiate', role: 'initiator' });

const matched = new Set();

// judge fails the test t for failure lines that no known issue of dir
// explains; when all are known ones it marks t as TODO and fails it (TODO
// failures do not fail the run).
function judge(t, name, dir, failures, context) {
  if (failures.length === 0) return;
  const unknown = [];
  const reasons = new Set();
  for (const line of failures) {
    const k = knownIssues.find((i) => i.dir === dir && i.match.test(line));
    if (k) {
      matched.add(k.id);
      reasons.add(k.id);
    } else {
      unknown.push(line);
    }
  }
  if (unknown.length === 0) {
    t.todo(`known issues: ${[...reasons].join(', ')} (e2e/lib/known-issues.js)`);
    assert.fail(`${name}: known issues ${[...reasons].join(', ')}:\n  ${failures.join('\n  ')}`);
  }
  assert.fail(`${name}: ${context}:\n  ${unknown.join('\n  ')}${reasons.size ? `\n(also known issues: ${[...reasons].join(', ')})` : ''}`);
}

test('StanzaJS reads jinglegate Jingle and Chromium accepts its SDP', async (t) => {
  assert.ok(files.length > 0, `no *.sdp in ${chromiumDir}`);
  for (const f of files) {
    const name = path.basename(f);
    await t.test(name, async (tt) => {
      const orig = fs.readFileSync(f, 'utf8');
      const type = sdpType(f, orig);
      const { action, role } = roles(type);
      const ours = toJingle(orig, { action, role, sid: 'jg-sid' }).out;
      let jingle;
      try {
        jingle = parseJingle(wrapIQ(ours));
      } catch (e) {
        assert.fail(`${name}: StanzaJS cannot import jinglegate's Jingle: ${e.message}\n${ours}`);
      }
      assert.equal(jingle.action, action, `${name}: StanzaJS read action ${jingle.action}`);
      assert.equal(jingle.sid, 'jg-sid', `${name}: StanzaJS read sid ${jingle.sid}`);
      assert.equal(jingle.contents?.length, summarize(orig).sections.length, `${name}: StanzaJS read ${jingle.contents?.length} contents`);
      const sdp = jingleToSDP(jingle, role);
      const res = await check(type, sdp);
      const all = diff(summarize(orig), summarize(sdp));
      if (all.length) tt.diagnostic(`${name}: Chromium SDP vs StanzaJS SDP of jinglegate Jingle: ${all.join('; ')}`);
      const failures = [...(res.ok ? [] : [`Chromium rejects it at ${res.stage}: ${res.error}`]), ...diff(summarize(orig), summarize(sdp), agreed)];
      judge(tt, name, 'jg->stanza', failures, `StanzaJS's SDP of jinglegate's Jingle (${type}) is rejected or differs from the Chromium SDP`);
    });
  }
});

test('jinglegate reads StanzaJS Jingle and Chromium accepts its SDP', async (t) => {
  assert.ok(files.length > 0, `no *.sdp in ${chromiumDir}`);
  for (const f of files) {
    const name = path.basename(f);
    await t.test(name, async (tt) => {
      const orig = fs.readFileSync(f, 'utf8');
      const type = sdpType(f, orig);
      const { action, role } = roles(type);
      const xml = sdpToIQ(orig, { action, role });
      let sdp;
      try {
        sdp = toSDP(xml).out;
      } catch (e) {
        assert.fail(`${name}: ${e.message}\n--- StanzaJS Jingle:\n${xml}`);
      }
      const res = await check(type, sdp);
      const all = diff(summarize(orig), summarize(sdp));
      if (all.length) tt.diagnostic(`${name}: Chromium SDP vs jinglegate SDP of StanzaJS Jingle: ${all.join('; ')}`);
      const failures = [...(res.ok ? [] : [`Chromium rejects it at ${res.stage}: ${res.error}`]), ...diff(summarize(orig), summarize(sdp), agreed)];
      judge(tt, name, 'stanza->jg', failures, `jinglegate's SDP of StanzaJS's Jingle (${type}) is rejected or differs from the Chromium SDP`);
    });
  }
});

test('every known issue still occurs', () => {
  const stale = knownIssues.filter((k) => !matched.has(k.id)).map((k) => k.id);
  assert.deepEqual(stale, [], `known issues that no check hit any more (fixed?): remove them from e2e/lib/known-issues.js: ${stale.join(', ')}`);
});
