// corpus.js finds the SDP files the tests feed to Chromium.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './jinglegate.js';

export const chromiumDir = path.join(repoRoot, 'testdata', 'chromium');

// interopDir is the shared interop corpus: $JINGLEGATE_INTEROP, else
// ../shared/interop beside the repository, else the copy in
// testdata/interop; null when none has sdp/ or pairs/.
export function interopDir() {
  const candidates = [process.env.JINGLEGATE_INTEROP, path.join(repoRoot, '..', 'shared', 'interop'), path.join(repoRoot, 'testdata', 'interop')];
  for (const d of candidates) {
    if (d && (fs.existsSync(path.join(d, 'sdp')) || fs.existsSync(path.join(d, 'pairs')))) return d;
  }
  return null;
}

// sdpFiles lists the *.sdp files of dir, sorted; [] if dir does not exist.
export function sdpFiles(dir) {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sdp')).sort().map((f) => path.join(dir, f));
}

// The capture plan: every scenario of www/page.js as created (no
// candidates), and these ones again after ICE gathering completed.
export const gatheredScenarios = ['av-data', 'max-bundle', 'max-compat', 'no-bundle', 'ice-restart'];

export function captureName(scenario, gathered, type) {
  return `${scenario}${gathered ? '-gathered' : ''}-${type}.sdp`;
}
