// stanza.js wraps StanzaJS (npm "stanza", v12), an independent SDP <-> Jingle
// implementation: its JXT registry for the XML, its Intermediate/Protocol
// converters for SDP, and what its ICESession does with trickled
// candidates. It runs in Node (stanza.test.js) and, bundled by esbuild
// (lib/bundle.js), inside Chromium pages as window.jgStanza (call.test.js).
import * as SDPUtils from 'sdp';
import * as JXT from 'stanza/jxt/index.js';
import * as Protocol from 'stanza/protocol/index.js';
import { NS_JINGLE_ICE_UDP_1 } from 'stanza/Namespaces.js';
import {
  convertCandidateToIntermediate,
  convertIntermediateToCandidate,
  convertIntermediateToRequest,
  convertRequestToIntermediate,
} from 'stanza/jingle/sdp/Protocol.js';
import { exportToSDP, importFromSDP } from 'stanza/jingle/sdp/Intermediate.js';

const reg = new JXT.Registry();
// Node hands this CommonJS module's exports to `import *` as {default:
// module.exports}, esbuild as module.exports itself; either way the
// definitions are the array in .default (what `Stanzas.default` is).
const definitions = Array.isArray(Protocol.default) ? Protocol.default : Protocol.default.default;
reg.define(definitions);

const iqDefaults = { from: 'alice@localhost/stanza', to: 'bob@localhost/stanza', id: 'st1' };

function exportIQ(jingle, opts = {}) {
  const { from, to, id } = { ...iqDefaults, ...opts };
  return reg.export('iq', { type: 'set', id, from, to, jingle }).toString();
}

// parseJingle imports an <iq/> stanza and returns its jingle object, or
// throws naming what was missing.
export function parseJingle(iqXML) {
  const iq = reg.import(JXT.parse(iqXML));
  if (!iq) throw new Error('stanza: the XML is not a stanza it knows');
  if (!iq.jingle) throw new Error('stanza: no jingle payload in the iq');
  return iq.jingle;
}

// jingleToSDP is stanza's Jingle -> SDP: role is the party that sent the
// Jingle (how a stanza session calls it, with its peerRole).
export function jingleToSDP(jingle, role) {
  return exportToSDP(convertRequestToIntermediate(jingle, role));
}

// sdpToIQ is stanza's SDP -> Jingle, exported as an <iq type='set'/>.
export function sdpToIQ(sdp, { role, action, sid = 'stanza-sid', ...iq }) {
  const req = convertIntermediateToRequest(importFromSDP(sdp), role, NS_JINGLE_ICE_UDP_1);
  return exportIQ({ ...req, action, sid }, iq);
}

// candidateToIQ is what a stanza ICESession sends for an RTCPeerConnection
// icecandidate event: one transport-info per candidate (onIceCandidate), and
// for the end of gathering (candidate null) a <gathering-complete/> on the
// first m-section of localSDP (onIceEndOfCandidates).
export function candidateToIQ(init, localSDP, { sid = 'stanza-sid', ...iq } = {}) {
  let content;
  if (init && init.candidate) {
    const c = SDPUtils.parseCandidate(init.candidate);
    content = {
      creator: 'initiator',
      name: init.sdpMid,
      transport: { candidates: [convertIntermediateToCandidate(c)], transportType: NS_JINGLE_ICE_UDP_1, usernameFragment: c.usernameFragment },
    };
  } else {
    const first = importFromSDP(localSDP).media[0];
    content = {
      creator: 'initiator',
      name: first.mid,
      transport: { gatheringComplete: true, transportType: NS_JINGLE_ICE_UDP_1, usernameFragment: first.iceParameters.usernameFragment },
    };
  }
  return exportIQ({ action: 'transport-info', sid, contents: [content] }, iq);
}

// iqToCandidates is what a stanza ICESession hands to addIceCandidate for a
// transport-info (onTransportInfo): RTCIceCandidateInit objects.
export function iqToCandidates(iqXML) {
  const j = parseJingle(iqXML);
  if (j.action !== 'transport-info') throw new Error(`stanza: expected transport-info, got ${j.action}`);
  const out = [];
  if (j.contents?.[0]?.transport?.gatheringComplete) return [{ sdpMid: j.contents[0].name, candidate: '' }];
  for (const content of j.contents ?? []) {
    for (const c of content.transport?.candidates ?? []) {
      out.push({ sdpMid: content.name, candidate: SDPUtils.writeCandidate(convertCandidateToIntermediate(c)) });
    }
  }
  return out;
}
