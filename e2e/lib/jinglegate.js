// jinglegate.js runs the translator under test: `jinglegate translate`, the
// binary that e2e/run.sh builds into bin/jinglegate (or $JINGLEGATE_BIN).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const bin = process.env.JINGLEGATE_BIN || path.join(repoRoot, 'bin', 'jinglegate');

// TranslateError is a non-zero exit of jinglegate translate.
export class TranslateError extends Error {}

// translate runs `jinglegate translate -v ARGS` with input on stdin and
// returns {out, dropped}: stdout, and the -v report of what was dropped.
export function translate(args, input) {
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} not found: build it with "go build -o bin/jinglegate ./cmd/jinglegate" (e2e/run.sh does)`);
  }
  const r = spawnSync(bin, ['translate', '-v', ...args], { input, encoding: 'utf8', timeout: 20000 });
  if (r.error) throw r.error;
  const dropped = r.stderr.split('\n').filter((l) => l.includes('dropped:'));
  if (r.status !== 0) {
    const msg = r.stderr.split('\n').filter((l) => l && !l.includes('dropped:')).join(' | ');
    throw new TranslateError(`jinglegate translate ${args.join(' ')}: exit ${r.status}: ${msg}`);
  }
  return { out: r.stdout, dropped };
}

// toJingle translates an SDP into a <jingle/> element (XML text).
export function toJingle(sdp, { action, role, sid = 'e2e-sid', initiator, responder } = {}) {
  const args = ['-to', 'jingle', '-sid', sid];
  if (action) args.push('-action', action);
  if (role) args.push('-role', role);
  if (initiator) args.push('-initiator', initiator);
  if (responder) args.push('-responder', responder);
  return translate(args, sdp);
}

// toSDP translates a Jingle stanza (<iq/>, <message/> or <jingle/>) into SDP.
export function toSDP(xml, { role } = {}) {
  const args = ['-to', 'sdp'];
  if (role) args.push('-role', role);
  return translate(args, xml);
}

let iqID = 0;
// wrapIQ puts a <jingle/> element into an <iq type='set'/> as it travels
// over XMPP.
export function wrapIQ(jingleXML, { from = 'alice@localhost/chromium', to = 'bob@localhost/chromium' } = {}) {
  iqID++;
  return `<iq xmlns='jabber:client' type='set' id='e2e${iqID}' from='${from}' to='${to}'>${jingleXML}</iq>`;
}

// sdpType guesses whether an SDP file is an offer or an answer: by its file
// name first (…-offer.sdp, …-answer.sdp, or "answer" anywhere in it), then
// by a=setup (active or passive only appear in answers).
export function sdpType(file, text) {
  const base = path.basename(file);
  if (/answer/i.test(base)) return 'answer';
  if (/offer/i.test(base)) return 'offer';
  if (/^a=setup:(active|passive)\s*$/m.test(text)) return 'answer';
  return 'offer';
}

// roundTrip is the path under test: SDP -> jingle (session-initiate for an
// offer, session-accept for an answer) -> SDP.
export function roundTrip(sdp, type) {
  const action = type === 'answer' ? 'session-accept' : 'session-initiate';
  const role = type === 'answer' ? 'responder' : 'initiator';
  const j = toJingle(sdp, { action, role });
  const back = toSDP(wrapIQ(j.out));
  return { jingle: j.out, sdp: back.out, dropped: [...j.dropped, ...back.dropped] };
}
