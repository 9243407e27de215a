// exceptions.js lists the corpus files that cannot pass "Chromium accepts
// the round trip", each with the reason. Every entry is checked: its claim
// must still hold (so a stale entry fails the run), and it only excuses the
// one file named.
//
// kind:
//   'original-rejected'  Chromium rejects the untranslated file as well, even
//                        with its whitespace normalized (the test proves it
//                        by feeding the original first); the round trip is
//                        still run and its outcome reported.
//   'untranslatable'     jinglegate translate must refuse the file, and does.
//
// None of these is a Chromium capture: every SDP in testdata/chromium and
// every fresh capture must pass.
const notWebRTC = 'not a WebRTC description: plain RTP/AVP(F) without a DTLS fingerprint or ICE credentials, which Chromium refuses (RFC 8827 requires DTLS-SRTP)';
const fragment = 'a fragment (m-section only, no v=/o=/s=/t= lines) from a specification example; Chromium parses only whole descriptions';

export const exceptions = {
  'interop/sdp/jitsi-cryptex-session-level.sdp': {
    kind: 'original-rejected',
    reason: 'synthetic lib-jitsi-meet unit-test input: BUNDLE without a=rtcp-mux ("rtcp-mux must be enabled when BUNDLE is enabled") and a 7-character ice-pwd',
  },
  'interop/sdp/jitsi-planb-simulcast-rtx.sdp': {
    kind: 'original-rejected',
    reason: 'Plan B sample SDP of lib-jitsi-meet (RTP/SAVPF, a=setup:passive, so checked as an answer); Chromium cannot parse its codec list ("Failed to parse codecs correctly")',
  },
  'interop/sdp/jitsi-sdpinterop-firefox74-answer-simulcast-rid.sdp': {
    kind: 'original-rejected',
    reason: 'a Firefox answer to a Jitsi offer that the corpus does not have: it receives simulcast with a=rid but its header extension ids do not match those of any offer Chromium makes ("negotiates simulcast but does not negotiate the RID RTP header extension"), so it can only be checked against its own offer',
  },
  'interop/sdp/mongooseim-sbc-phone-answer.sdp': {
    kind: 'original-rejected',
    reason: 'a SIP SBC answer without a=rtcp-mux and without a=mid; Chromium requires RTCP multiplexing ("RTCP-MUX is not enabled when it is required")',
  },
  'interop/sdp/qxmpp-msection-fingerprint-fragment.sdp': { kind: 'original-rejected', reason: `${fragment}; also RTP/AVP` },
  'interop/sdp/sdptransform-old-chrome-hacky.sdp': {
    kind: 'original-rejected',
    reason: 'an SDES (a=crypto) description of an old Chrome without a=fingerprint; Chromium no longer supports SDES ("Called with SDP without DTLS fingerprint")',
  },
  'interop/sdp/sdptransform-rtcp-fb-wildcard.sdp': { kind: 'original-rejected', reason: notWebRTC },
  'interop/sdp/sdptransform-simulcast-rid.sdp': {
    kind: 'original-rejected',
    reason: `the draft-ietf-mmusic-sdp-simulcast example: its session-level c= line comes after t= (RFC 8866 wants it before), which Chromium's parser refuses ("Expects m line"); and it is ${notWebRTC.replace('not a WebRTC description: ', '')}`,
  },
  'interop/pairs/jitsi-jicofo-session-initiate.sdp': {
    kind: 'original-rejected',
    reason: 'lib-jitsi-meet unit-test SDP with made-up ICE credentials: the ice-pwd is shorter than the 22 characters RFC 8839 requires ("ICE pwd must be between 22 and 256 characters long")',
  },
  'interop/pairs/xep0167-speex-ptime-fmtp.sdp': { kind: 'original-rejected', reason: `${fragment}; also RTP/AVP` },
  'interop/pairs/xep0167-theora-fmtp-multiline.sdp': { kind: 'original-rejected', reason: `${fragment}; also RTP/AVP` },
  'interop/pairs/xep0293-rtcp-fb-session.sdp': { kind: 'original-rejected', reason: `the XEP-0293 example (RFC 4585 text): ${notWebRTC}` },
  'interop/pairs/xep0294-hdrext-fragment.sdp': { kind: 'original-rejected', reason: `${fragment}; its m=video line has no port, proto or formats` },
};
