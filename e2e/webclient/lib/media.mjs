// media.mjs: what the tests read from a page's getStats() to tell that media
// really flow: decoded video frames and received audio packets, straight
// from the inbound-rtp entries. The call is either one of the test API's
// (window.t of harness.mjs's pageClient, by sid) or, on a page that is not
// ours to script (the demo page), the newest RTCPeerConnection the page
// made, recorded by trackPeerConnections.

/**
 * trackPeerConnections makes page record every RTCPeerConnection it creates
 * (window.__jinglegateTestPCs), for rtpStats({}) and peerConnectionState.
 * Call it before the page loads.
 * @param {import('playwright-core').Page} page
 */
export async function trackPeerConnections(page) {
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || window.__jinglegateTestPCs) return;
    const pcs = [];
    window.__jinglegateTestPCs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        pcs.push(this);
      }
    };
  });
}

// inboundRtp is evaluated in a page. source: {sid} for a call of window.t,
// {} for the newest tracked RTCPeerConnection.
const inboundRtp = async (source) => {
  let report;
  if (source && source.sid) {
    report = await window.t.call(source.sid).getStats();
  } else {
    const pc = (window.__jinglegateTestPCs || []).at(-1);
    if (!pc) throw new Error('the page made no RTCPeerConnection (or trackPeerConnections was not called before it loaded)');
    report = await pc.getStats();
  }
  const out = { framesDecoded: 0, videoPackets: 0, audioPackets: 0, videoCodec: null, audioCodec: null };
  report.forEach((v) => {
    if (v.type !== 'inbound-rtp') return;
    const codec = v.codecId && report.get(v.codecId);
    if (v.kind === 'video') {
      out.framesDecoded += v.framesDecoded || 0;
      out.videoPackets += v.packetsReceived || 0;
      if (codec) out.videoCodec = codec.mimeType;
    } else if (v.kind === 'audio') {
      out.audioPackets += v.packetsReceived || 0;
      if (codec) out.audioCodec = codec.mimeType;
    }
  });
  return out;
};

/**
 * rtpStats samples the inbound-rtp entries of a call's getStats().
 * @param {import('playwright-core').Page} page
 * @param {{sid?: string}} source {sid}: a call of window.t; {}: the newest tracked RTCPeerConnection
 * @returns {Promise<{framesDecoded: number, videoPackets: number, audioPackets: number, videoCodec: string|null, audioCodec: string|null}>}
 */
export const rtpStats = (page, source = {}) => page.evaluate(inboundRtp, source);

/**
 * mediaGrows samples rtpStats until decoded video frames grew by at least
 * minFrames since the first sample (and, with audio, received audio packets
 * grew too); it throws after timeout ms, with both samples.
 * @returns {Promise<{first: object, last: object}>}
 */
export async function mediaGrows(page, source = {}, { minFrames = 10, audio = true, timeout = 20000, what = 'the media' } = {}) {
  const first = await rtpStats(page, source);
  let last = first;
  const end = Date.now() + timeout;
  while (!(last.framesDecoded - first.framesDecoded >= minFrames && (!audio || last.audioPackets > first.audioPackets))) {
    if (Date.now() > end) {
      throw new Error(`${what} do not come back (want ${minFrames} more decoded video frames${audio ? ' and more audio packets' : ''} within ${timeout} ms): first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`);
    }
    await page.waitForTimeout(500);
    last = await rtpStats(page, source);
  }
  return { first, last };
}

/** peerConnectionState gives the connectionState of the newest tracked RTCPeerConnection. */
export const peerConnectionState = (page) => page.evaluate(() => ((window.__jinglegateTestPCs || []).at(-1) || { connectionState: 'none' }).connectionState);
