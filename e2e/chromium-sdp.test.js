// Captures SDPs from real headless Chromium, and checks that Chromium
// accepts what jinglegate makes of every SDP of the corpora:
// SDP -> `jinglegate translate -to jingle` -> `jinglegate translate -to sdp`
// -> RTCPeerConnection.setRemoteDescription.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startBrowser } from './lib/browser.js';
import { captureName, chromiumDir, gatheredScenarios, interopDir, sdpFiles } from './lib/corpus.js';
import { exceptions } from './lib/exceptions.js';
import { roundTrip, sdpType, TranslateError } from './lib/jinglegate.js';
import { defaultFields, diff, shape, summarize } from './lib/sdp.js';

const update = process.env.E2E_UPDATE === '1';
const outDir = process.env.E2E_OUT
  ? path.join(process.env.E2E_OUT, 'chromium')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'jinglegate-e2e-capture-'));

let browser;
let page;

before(async () => {
  browser = await startBrowser();
  page = await browser.newPage('sdp');
});

after(async () => {
  if (browser) await browser.close();
});

const check = (type, sdp) => page.evaluate(([t, s]) => window.jg.check(t, s), [type, sdp]);

// ---- 1. capture ----------------------------------------------------------

test('capture SDPs from headless Chromium', async (t) => {
  t.diagnostic(`Chromium ${browser.version}; captures written to ${outDir}${update ? ' and testdata/chromium (update)' : ''}`);
  fs.mkdirSync(outDir, { recursive: true });
  const scenarios = await page.evaluate(() => window.jg.scenarios);
  assert.ok(scenarios.length >= 9, `page.js lists ${scenarios.length} scenarios`);
  const plan = [...scenarios.map((s) => [s, false]), ...gatheredScenarios.map((s) => [s, true])];
  for (const [scenario, gathered] of plan) {
    await t.test(`${scenario}${gathered ? ' (gathered)' : ''}`, async () => {
      const r = await page.evaluate(([s, g]) => window.jg.capture(s, g), [scenario, gathered]);
      assert.equal(r.error, undefined, `Chromium failed scenario ${scenario}: ${r.error}`);
      for (const type of ['offer', 'answer']) {
        const text = r[type];
        const sum = summarize(text);
        assert.ok(sum.sections.length > 0, `${scenario} ${type} has no m= line`);
        const cands = sum.sections.reduce((n, m) => n + m.candidates, 0);
        // A renegotiation re-offers the candidates gathered for the first
        // exchange; other SDPs have candidates only when captured after
        // gathering.
        if (gathered || scenario === 'reneg-add-video') assert.ok(cands > 0, `${scenario} ${type} should carry a=candidate lines but has none`);
        else assert.equal(cands, 0, `${scenario} ${type} was captured before gathering but has ${cands} a=candidate lines`);
        fs.writeFileSync(path.join(outDir, captureName(scenario, gathered, type)), text);
      }
    });
  }
  if (update) {
    fs.mkdirSync(chromiumDir, { recursive: true });
    for (const f of sdpFiles(chromiumDir)) fs.rmSync(f);
    for (const f of sdpFiles(outDir)) fs.copyFileSync(f, path.join(chromiumDir, path.basename(f)));
  }
});

test('testdata/chromium has the shape of a fresh capture', () => {
  const fresh = sdpFiles(outDir).map((f) => path.basename(f));
  const committed = sdpFiles(chromiumDir).map((f) => path.basename(f));
  assert.ok(fresh.length > 0, 'the capture wrote no file');
  const hint = 'regenerate them with "bash e2e/run.sh -update" and review the diff';
  assert.deepEqual(committed, fresh, `testdata/chromium/*.sdp differ from the capture plan; ${hint}`);
  for (const f of fresh) {
    assert.deepEqual(shape(fs.readFileSync(path.join(chromiumDir, f), 'utf8')), shape(fs.readFileSync(path.join(outDir, f), 'utf8')),
      `testdata/chromium/${f} no longer has the shape of what Chromium ${browser.version} produces; ${hint}`);
  }
});

// ---- 2. Chromium accepts the round trip ---------------------------------

// Fields a translation of a Chromium SDP must keep exactly.
const keep = defaultFields;

// normalize trims every line, drops blank ones and ends each with CRLF.
function normalize(text) {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => `${l}\r\n`).join('');
}

async function acceptance(t, corpus, file, { strict }) {
  const name = `${corpus}/${path.basename(file)}`;
  const orig = fs.readFileSync(file, 'utf8');
  const type = sdpType(file, orig);
  const exc = exceptions[name];
  let origRes = await check(type, orig);
  if (!origRes.ok) {
    // Some files lack the final line end or have indented lines, which
    // Chromium's parser refuses. Judge such a file by its whitespace-
    // normalized text: if Chromium accepts that, the file is no exception.
    const norm = normalize(orig);
    const normRes = norm !== orig ? await check(type, norm) : origRes;
    if (normRes.ok) {
      t.diagnostic(`${name}: Chromium rejects the file as found (${origRes.error}) but accepts it with whitespace normalized (lines trimmed, CRLF, final line end)`);
      origRes = normRes;
    }
  }
  let rt;
  let rtErr;
  try {
    rt = roundTrip(orig, type);
  } catch (e) {
    if (!(e instanceof TranslateError)) throw e;
    rtErr = e;
  }
  const rtRes = rt ? await check(type, rt.sdp) : null;
  if (rt?.dropped.length) t.diagnostic(`${name}: ${rt.dropped.join('; ')}`);

  if (exc) {
    t.diagnostic(`${name}: listed exception (${exc.kind}): ${exc.reason}`);
    if (exc.kind === 'original-rejected') {
      assert.equal(origRes.ok, false, `${name} is listed because Chromium rejects the original ${type}, but Chromium accepts it now: remove it from e2e/lib/exceptions.js`);
      t.diagnostic(`${name}: original rejected at ${origRes.stage}: ${origRes.error}`);
      t.diagnostic(`${name}: round trip: ${rtErr ? rtErr.message : rtRes.ok ? 'accepted' : `rejected at ${rtRes.stage}: ${rtRes.error}`}`);
    } else if (exc.kind === 'untranslatable') {
      assert.ok(rtErr, `${name} is listed as untranslatable, but jinglegate translated it: remove it from e2e/lib/exceptions.js`);
      t.diagnostic(`${name}: ${rtErr.message}`);
    } else {
      assert.fail(`${name}: unknown exception kind ${exc.kind}`);
    }
    return;
  }
  assert.ok(origRes.ok, `${name}: Chromium rejects the original ${type} (untranslated) at ${origRes.stage}: ${origRes.error}; list it in e2e/lib/exceptions.js with kind 'original-rejected' and the reason`);
  if (rtErr) assert.fail(`${name}: ${rtErr.message}`);
  assert.ok(rtRes.ok, `${name}: Chromium rejects the translated ${type} at ${rtRes.stage}: ${rtRes.error}\n--- SDP after SDP -> Jingle -> SDP:\n${rt.sdp}`);
  const d = diff(summarize(orig), summarize(rt.sdp), keep);
  if (strict) {
    assert.deepEqual(d, [], `${name}: the round trip changed the session:\n  ${d.join('\n  ')}`);
  } else if (d.length) {
    t.diagnostic(`${name}: round trip differs: ${d.join('; ')}`);
  }
}

test('Chromium accepts SDP -> Jingle -> SDP of fresh Chromium captures', async (t) => {
  const files = sdpFiles(outDir);
  assert.ok(files.length > 0, `no capture in ${outDir}`);
  for (const f of files) await t.test(path.basename(f), (tt) => acceptance(tt, 'fresh', f, { strict: true }));
});

test('Chromium accepts SDP -> Jingle -> SDP of testdata/chromium', async (t) => {
  const files = sdpFiles(chromiumDir);
  assert.ok(files.length > 0, `no *.sdp in ${chromiumDir}`);
  for (const f of files) await t.test(path.basename(f), (tt) => acceptance(tt, 'chromium', f, { strict: true }));
});

const interop = interopDir();
for (const sub of ['sdp', 'pairs']) {
  const dir = interop && path.join(interop, sub);
  const files = sdpFiles(dir);
  const skip = files.length === 0 && `no interop corpus: ${interop ? `${dir} has no *.sdp` : 'neither $JINGLEGATE_INTEROP, ../shared/interop nor testdata/interop exists'}`;
  test(`Chromium accepts SDP -> Jingle -> SDP of interop/${sub}`, { skip }, async (t) => {
    t.diagnostic(`corpus: ${dir}`);
    for (const f of files) await t.test(path.basename(f), (tt) => acceptance(tt, `interop/${sub}`, f, { strict: false }));
  });
}
