// page.js runs inside headless Chromium (served by e2e/lib/browser.js). It
// defines window.jg: small helpers the tests call through page.evaluate.
// Every helper returns plain JSON; errors come back as strings with the
// Chromium error name and message so that failures can be reported verbatim.
'use strict';
(() => {
  const errText = (e) => (e && e.name ? `${e.name}: ${e.message}` : String(e));

  // waitGathering resolves when pc has finished ICE gathering for its
  // current local description, i.e. when the state is complete and the
  // description carries candidates. (Right after an ICE restart the state
  // can still read "complete" from the previous generation.)
  async function waitGathering(pc, ms = 10000) {
    const end = Date.now() + ms;
    while (!(pc.iceGatheringState === 'complete' && /^a=candidate:/m.test(pc.localDescription?.sdp ?? ''))) {
      if (Date.now() > end) throw new Error(`ICE gathering not complete after ${ms} ms (state ${pc.iceGatheringState})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  let mediaPromise;
  // media returns one fake audio+video stream per page (Chromium's fake
  // capture devices; the page must be a secure context such as localhost).
  function media() {
    if (!mediaPromise) {
      mediaPromise = navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240, frameRate: 15 } });
    }
    return mediaPromise;
  }

  // mSections returns the kind and mid of each m-section of an SDP.
  function mSections(sdp) {
    const out = [];
    for (const line of sdp.split(/\r?\n/)) {
      const m = /^m=(\w+) (\d+) (\S+)/.exec(line);
      if (m) { out.push({ kind: m[1], port: +m[2], proto: m[3], mid: null }); continue; }
      const mid = /^a=mid:(\S+)/.exec(line);
      if (mid && out.length) out[out.length - 1].mid = mid[1];
    }
    return out;
  }

  // checkOffer applies sdp as a remote offer on a fresh RTCPeerConnection,
  // then creates and applies an answer.
  async function checkOffer(sdp) {
    const pc = new RTCPeerConnection();
    let stage = 'setRemoteDescription(offer)';
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      stage = 'createAnswer';
      const answer = await pc.createAnswer();
      stage = 'setLocalDescription(answer)';
      await pc.setLocalDescription(answer);
      return { ok: true, answer: answer.sdp };
    } catch (e) {
      return { ok: false, stage, error: errText(e) };
    } finally {
      pc.close();
    }
  }

  // checkAnswer applies sdp as a remote answer. A remote answer needs a
  // local offer with the same m-sections: this builds one on a fresh pc
  // (a sendrecv transceiver per audio/video m-section, one data channel for
  // the application m-section), renames its mids to the answer's mids (a
  // munging Chromium allows in setLocalDescription) and applies it first.
  // An m-section of the answer without a=mid keeps the offer's mid.
  async function checkAnswer(sdp) {
    const secs = mSections(sdp);
    const pc = new RTCPeerConnection();
    let stage = 'build matching local offer';
    try {
      if (secs.filter((s) => s.kind === 'application').length > 1) throw new Error('more than one application m-section');
      for (const s of secs) {
        if (s.kind === 'audio' || s.kind === 'video') pc.addTransceiver(s.kind, { direction: 'sendrecv' });
        else if (s.kind === 'application') pc.createDataChannel('probe');
        else throw new Error(`unsupported m-section kind ${s.kind}`);
      }
      let offer = (await pc.createOffer()).sdp;
      const own = mSections(offer);
      // Chromium puts a new data channel's m-section after the transceivers'
      // in an offer: an answer in another order cannot be matched.
      if (own.map((s) => s.kind).join() !== secs.map((s) => s.kind).join()) {
        throw new Error(`cannot build an offer with m-sections ${secs.map((s) => s.kind).join(',')} (got ${own.map((s) => s.kind).join(',')})`);
      }
      const rename = new Map(own.map((s, i) => [s.mid, secs[i].mid ?? s.mid]));
      offer = offer.replace(/^a=mid:(\S+)(\r?)$/gm, (_, m, cr) => `a=mid:${rename.get(m)}${cr}`)
        .replace(/^a=group:BUNDLE ([^\r\n]*)/m, (_, l) => `a=group:BUNDLE ${l.split(' ').map((m) => rename.get(m)).join(' ')}`);
      stage = 'setLocalDescription(matching offer)';
      await pc.setLocalDescription({ type: 'offer', sdp: offer });
      stage = 'setRemoteDescription(answer)';
      await pc.setRemoteDescription({ type: 'answer', sdp });
      return { ok: true };
    } catch (e) {
      return { ok: false, stage, error: errText(e) };
    } finally {
      pc.close();
    }
  }

  async function check(type, sdp) {
    return type === 'answer' ? checkAnswer(sdp) : checkOffer(sdp);
  }

  // ---- capture scenarios -------------------------------------------------

  async function addAV(pc, { audio = true, video = true } = {}) {
    const s = await media();
    if (audio) pc.addTrack(s.getAudioTracks()[0], s);
    if (video) pc.addTrack(s.getVideoTracks()[0], s);
  }

  // negotiate runs one offer/answer exchange between pc1 and pc2 and returns
  // the two SDPs: as created (no candidates) or, with gather, as a peer
  // without trickle ICE sends them: each side waits for ICE gathering to
  // complete before it hands over pc.localDescription (with a=candidate
  // lines). mungeOffer, if given, rewrites the offer before both sides
  // apply it.
  async function negotiate(pc1, pc2, { gather = false, offerOptions, mungeOffer, beforeAnswer } = {}) {
    let offer = await pc1.createOffer(offerOptions);
    if (mungeOffer) offer = { type: 'offer', sdp: mungeOffer(offer.sdp) };
    await pc1.setLocalDescription(offer);
    if (gather) {
      await waitGathering(pc1);
      offer = { type: 'offer', sdp: pc1.localDescription.sdp };
    }
    await pc2.setRemoteDescription(offer);
    if (beforeAnswer) await beforeAnswer();
    let answer = await pc2.createAnswer();
    await pc2.setLocalDescription(answer);
    if (gather) {
      await waitGathering(pc2);
      answer = { type: 'answer', sdp: pc2.localDescription.sdp };
    }
    await pc1.setRemoteDescription(answer);
    return { offer: offer.sdp, answer: answer.sdp };
  }

  // Peer connections made by a scenario; capture closes them afterwards.
  let open = [];
  function newPC(config) {
    const pc = new RTCPeerConnection(config);
    open.push(pc);
    return pc;
  }

  const scenarios = {
    // Audio, video and a data channel; bundlePolicy 'balanced' (the default).
    async 'av-data'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      await addAV(pc1); pc1.createDataChannel('chat'); await addAV(pc2);
      return negotiate(pc1, pc2, { gather });
    },
    async 'audio'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      await addAV(pc1, { video: false }); await addAV(pc2, { video: false });
      return negotiate(pc1, pc2, { gather });
    },
    async 'data'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      pc1.createDataChannel('chat');
      return negotiate(pc1, pc2, { gather });
    },
    // The offerer only receives; the answerer has media, so its answer is
    // sendonly.
    async 'recvonly'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      pc1.addTransceiver('audio', { direction: 'recvonly' });
      pc1.addTransceiver('video', { direction: 'recvonly' });
      await addAV(pc2);
      return negotiate(pc1, pc2, { gather });
    },
    async 'max-bundle'(gather) {
      const pc1 = newPC({ bundlePolicy: 'max-bundle' }); const pc2 = newPC({ bundlePolicy: 'max-bundle' });
      await addAV(pc1); pc1.createDataChannel('chat'); await addAV(pc2);
      return negotiate(pc1, pc2, { gather });
    },
    async 'max-compat'(gather) {
      const pc1 = newPC({ bundlePolicy: 'max-compat' }); const pc2 = newPC({ bundlePolicy: 'max-compat' });
      await addAV(pc1); pc1.createDataChannel('chat'); await addAV(pc2);
      return negotiate(pc1, pc2, { gather });
    },
    // Chromium always offers a=group:BUNDLE, whatever the bundlePolicy. A
    // peer without BUNDLE is made by deleting that line from the offer
    // before setLocalDescription (bundlePolicy 'balanced'): each m-section
    // then has a transport of its own, and the answer has no group either.
    async 'no-bundle'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      await addAV(pc1); pc1.createDataChannel('chat'); await addAV(pc2);
      return negotiate(pc1, pc2, { gather, mungeOffer: (sdp) => sdp.replace(/^a=group:BUNDLE .*\r\n/m, '') });
    },
    // An audio call, then the offerer adds video: the second offer/answer.
    // Both carry the candidates gathered for the first one.
    async 'reneg-add-video'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      await addAV(pc1, { video: false }); await addAV(pc2, { video: false });
      // Wait for the first gathering so that the second offer and answer
      // always carry the candidates of the (bundled) transport.
      await negotiate(pc1, pc2, { gather: true });
      await addAV(pc1, { audio: false });
      return negotiate(pc1, pc2, {
        gather,
        beforeAnswer: async () => {
          const s = await media();
          const t = pc2.getTransceivers().find((x) => x.receiver.track.kind === 'video');
          await t.sender.replaceTrack(s.getVideoTracks()[0]);
          t.direction = 'sendrecv';
        },
      });
    },
    // An established audio+video+data session, then createOffer({iceRestart:true}).
    async 'ice-restart'(gather) {
      const pc1 = newPC(); const pc2 = newPC();
      await addAV(pc1); pc1.createDataChannel('chat'); await addAV(pc2);
      // Finish the first gathering, so that the restart offer and answer
      // (new ufrag and pwd) start without candidates.
      await negotiate(pc1, pc2, { gather: true });
      return negotiate(pc1, pc2, { gather, offerOptions: { iceRestart: true } });
    },
  };

  // capture runs one scenario; it returns {offer, answer} or {error}.
  async function capture(name, gather) {
    try {
      if (!scenarios[name]) throw new Error(`no scenario ${name}`);
      return await scenarios[name](gather);
    } catch (e) {
      return { error: errText(e) };
    } finally {
      for (const pc of open) pc.close();
      open = [];
    }
  }

  // ---- one end of a call ---------------------------------------------------
  //
  // The page holds one RTCPeerConnection; node relays its signaling. Every
  // icecandidate event goes to node through window.jgSignal (installed with
  // page.exposeFunction), with the local description it belongs to.

  const peer = { pc: null, dc: null, pending: [], messages: [], errors: [], candidatesAdded: 0, endOfCandidates: 0 };

  function setupChannel(dc) {
    peer.dc = dc;
    dc.onmessage = (e) => {
      peer.messages.push(e.data);
      if (String(e.data).startsWith('ping ')) dc.send(`pong ${String(e.data).slice(5)}`);
    };
  }

  async function peerStart({ dataChannel = false, video = true } = {}) {
    const pc = new RTCPeerConnection();
    peer.pc = pc;
    await addAV(pc, { video });
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      window.jgSignal({
        candidate: c ? c.candidate : null,
        sdpMid: c ? c.sdpMid : null,
        usernameFragment: c ? c.usernameFragment : null,
        local: pc.localDescription.sdp,
      });
    };
    pc.ondatachannel = (e) => setupChannel(e.channel);
    if (dataChannel) setupChannel(pc.createDataChannel('chat'));
  }

  async function flushCandidates() {
    const list = peer.pending;
    peer.pending = [];
    for (const c of list) await peerAddCandidate(c);
  }

  async function peerOffer() {
    const o = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(o);
    return o.sdp;
  }

  async function peerAnswer(sdp) {
    try {
      await peer.pc.setRemoteDescription({ type: 'offer', sdp });
    } catch (e) {
      return { error: `setRemoteDescription(offer): ${errText(e)}` };
    }
    await flushCandidates();
    const a = await peer.pc.createAnswer();
    await peer.pc.setLocalDescription(a);
    return { sdp: a.sdp };
  }

  async function peerAccept(sdp) {
    try {
      await peer.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (e) {
      return { error: `setRemoteDescription(answer): ${errText(e)}` };
    }
    await flushCandidates();
    return {};
  }

  // peerAddCandidate adds a remote candidate (candidate '' is the end of
  // candidates), queueing it until there is a remote description.
  async function peerAddCandidate(init) {
    if (!peer.pc.remoteDescription) {
      peer.pending.push(init);
      return;
    }
    try {
      await peer.pc.addIceCandidate(init);
      if (init.candidate) peer.candidatesAdded++;
      else peer.endOfCandidates++;
    } catch (e) {
      peer.errors.push(`addIceCandidate(${JSON.stringify(init)}): ${errText(e)}`);
    }
  }

  function peerSend(text) {
    if (!peer.dc || peer.dc.readyState !== 'open') return false;
    peer.dc.send(text);
    return true;
  }

  async function peerStats() {
    const pc = peer.pc;
    const out = {
      ice: pc.iceConnectionState, connection: pc.connectionState, signaling: pc.signalingState,
      dc: peer.dc ? peer.dc.readyState : null, messages: peer.messages.slice(), errors: peer.errors.slice(),
      candidatesAdded: peer.candidatesAdded, endOfCandidates: peer.endOfCandidates,
      framesDecoded: 0, audioPackets: 0, videoBytes: 0, pair: null,
    };
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') { out.framesDecoded += r.framesDecoded || 0; out.videoBytes += r.bytesReceived || 0; }
      if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioPackets += r.packetsReceived || 0;
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        const l = stats.get(r.localCandidateId); const rm = stats.get(r.remoteCandidateId);
        out.pair = `${l?.address}:${l?.port}/${l?.protocol} -> ${rm?.address}:${rm?.port}/${rm?.protocol}`;
      }
    });
    return out;
  }

  window.jg = {
    waitGathering, media, mSections, check, checkOffer, checkAnswer, capture, scenarios: Object.keys(scenarios), errText,
    peerStart, peerOffer, peerAnswer, peerAccept, peerAddCandidate, peerSend, peerStats,
  };
})();
