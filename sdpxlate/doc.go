// Package sdpxlate translates between SDP (as browsers write it, parsed with
// github.com/pion/sdp/v3) and Jingle (package jingle). It is pure: no I/O, no
// logging, no global state. Items that cannot be carried across are
// reported through the OnLoss callback of the options, never silently.
//
// The entry points are SDPToJingle and JingleToSDP for whole descriptions;
// ParseCandidate, FormatCandidate, CandidatesToTransportInfo,
// CandidateToJingle, JingleCandidatesToSDP, ICERestarts and
// SDPToTransportInfo for trickle ICE; Diff and Apply for renegotiation; and
// ParseSDP and MarshalSDP for SDP text.
//
// # Mapping
//
//	SDP                                 Jingle
//	m-section                           <content/>, named by a=mid
//	  (no a=mid: the media type, e.g. "audio", suffixed "-<index>" if taken)
//	m=<media> ... <proto> <fmt...>      <description media profile/> (RTP) and
//	                                    the order of <payload-type/>
//	a=rtpmap, a=fmtp                    <payload-type id name clockrate channels>
//	                                    with <parameter name value/>
//	a=ptime, a=maxptime                 ptime, maxptime on every payload type
//	a=rtcp-fb:<pt>, a=rtcp-fb:*         <rtcp-fb/> in the payload type or in the
//	                                    description; trr-int as <rtcp-fb-trr-int/>
//	a=extmap[/dir], a=extmap-allow-mixed <rtp-hdrext senders/>, <extmap-allow-mixed/>
//	a=ssrc, a=ssrc-group                <source/> with <parameter/>, <ssrc-group/>
//	a=msid                              <stream id track/> (StanzaJS) and the
//	                                    msid parameter of sources lacking one
//	a=rtcp-mux, a=rtcp-rsize, b=        <rtcp-mux/>, <rtcp-reduced-size/>, <bandwidth/>
//	a=sendrecv|sendonly|recvonly|inactive senders, seen from the author's role
//	a=ice-ufrag, a=ice-pwd, a=ice-options ufrag, pwd, Conversations' option elements
//	a=candidate, a=end-of-candidates    <candidate/>, <gathering-complete/>
//	a=fingerprint, a=setup              <fingerprint hash setup/>
//	a=sctp-port / a=sctpmap, a=max-message-size  <sctpmap number protocol streams/>
//	a=group:BUNDLE|LS|...               <group semantics/>
//	a=msid-semantic, a=ice-lite         extension elements (see package jingle)
//	a=cryptex                           cryptex='true' on fingerprints (Jitsi)
//
// Session-level a=ice-ufrag, a=ice-pwd, a=ice-options, a=fingerprint,
// a=setup, a=extmap, a=extmap-allow-mixed and the direction apply to every
// m-section that does not override them, so they are copied into every
// content; back in SDP they are written per m-section (as JSEP does), with
// a=extmap-allow-mixed also at session level when every RTP m-section has
// it, and a=ice-lite at session level only.
//
// # Roles
//
// The role of the party that wrote the input decides how directions map to
// senders (sendonly from the initiator is senders='initiator', from the
// responder senders='responder'), the same for header extension
// directions. Contents of a content-add are created by that party, all
// others by the initiator, unless ToJingleOptions.Creators says otherwise.
// The SDP type decides the DTLS setup where the fingerprint has none: actpass
// in an offer, active in an answer; an answer never says actpass (RFC 5763),
// so a Jingle answer with setup='actpass' becomes active and a Loss.
//
// # Decisions
//
// What SDP carries that Jingle cannot, and the reverse, is decided here and
// tested in this package:
//
//   - a=rid, a=simulcast, a=imageattr, a=rtcp-xr, a=label, a=framerate and
//     other attributes without a Jingle element are dropped and reported. A
//     browser offer with rid simulcast then gets an answer without it and
//     falls back to one encoding, as RFC 8853 provides. Simulcast signalled
//     the libwebrtc way, with a=ssrc-group:SIM, is carried like any group;
//     FEC-FR and other ssrc-group or group semantics too.
//   - SDES (a=crypto, <encryption/>) is dropped and reported: browsers only
//     accept DTLS-SRTP. A profile that no longer matches the transport (RTP/SAVPF
//     without fingerprint, RTP/AVP with one) is replaced by one derived from
//     it: UDP/TLS/RTP/SAVPF with DTLS, else RTP/AVPF with feedback, else
//     RTP/AVP.
//   - m-sections with port 0 (and no a=bundle-only) are rejected ones and
//     have no content; other media than RTP audio/video and SCTP data
//     channels are dropped. Dynamic payload types without a=rtpmap are
//     dropped (they have no codec name).
//   - Data channels are written back in the current syntax (UDP/DTLS/SCTP,
//     a=sctp-port, a=max-message-size) whatever syntax they came in: browsers
//     no longer read the old a=sctpmap, whose stream count is kept in Jingle
//     but has no place in SDP. A content whose application is not RTP or a
//     bare data channel (file transfer over XEP-0343, ...) is not translated.
//   - The ICE candidate id of Jingle does not exist in SDP: ids are derived
//     from the content name and candidate so output is deterministic.
//     Candidate priorities above 2^32-1 (seen in XEP examples) are read and
//     kept in Jingle, but written to SDP as 4294967295 with a Loss, since
//     libwebrtc would reject the whole candidate. remote-candidate has no
//     JSEP equivalent and is dropped.
//   - mDNS host candidates (".local" names) follow MDNSPolicy: by default
//     the name is carried unchanged in both directions; MDNSDrop omits them.
//   - Fractional a=ptime (XEP-0167 ptime is an integer) is dropped. When
//     payload types of one content have different ptime, SDP gets the first.
//   - Plain SDP without ICE or DTLS (SIP) is described with a Raw UDP
//     transport (XEP-0177) built from c= and the port (component 2 from
//     a=rtcp or port+1, unless a=rtcp-mux); c=0.0.0.0 with nothing else gives
//     an empty ICE-UDP transport.
//   - A Jingle payload type without clockrate gets 90000 for video and 8000
//     for audio, reported; a static one gets its RFC 3551 clock rate.
//   - An fmtp part without "=" (RED's "111/111", telephone-event's "0-15")
//     is written <parameter name='111/111'/>, StanzaJS's form; read are also
//     name="" value='0-15' (Jitsi), value='0-15' alone (MongooseIM) and, for
//     telephone-event only, QXmpp's name='events'. A <parameter name='x'/>
//     without value is the bare part "x", never "x=".
//   - SDP cannot name an ssrc in a=ssrc-group without a=ssrc lines for it
//     (Chromium refuses the description), but Jingle can: StanzaJS sends the
//     RTX ssrc of video only inside its FID <ssrc-group/>. Such ssrcs, and an
//     ssrc attribute of <description/> that no <source/> describes, get
//     a=ssrc lines with the cname and msid of a described member of their
//     group (else of the first source with a cname); a group nothing can
//     complete is dropped and reported. Written to Jingle, <description/>
//     gets the ssrc attribute (the first ssrc of the first group, else of
//     the first source), which StanzaJS builds its RTX lines from.
//   - Jicofo's packed parameter (profile-level-id='42e01f;packetization-mode=1;')
//     is unpacked into separate fmtp parameters.
//   - An msid written with surrounding or repeated spaces is normalised, since
//     a trailing space breaks libwebrtc.
//
// # What browsers require
//
// JingleToSDP writes what libwebrtc and Firefox accept, checked with
// Chromium's setRemoteDescription:
//
//   - a=rtcp-mux on every RTP m-section that is not Raw UDP: browsers refuse
//     descriptions without it, so it is added (and reported) when the
//     content lacks <rtcp-mux/>;
//   - at most MaxMidLength token characters in a=mid: other content names
//     (XEP examples use "this-is-the-audio-content") get a short mid derived
//     from the name; SDPMids lists them, ToSDPOptions.Mids overrides them,
//     and ToJingleOptions.Names / TransportInfoOptions.Names map them back;
//   - one track per m-section (Unified Plan): the streams and sources of
//     other tracks (Jitsi puts every participant in one content) are dropped
//     and reported, with the source groups that refer to them; SDPToJingle
//     applies the same rule;
//   - at least one payload type per m= line: an RTP content without one (a
//     Jitsi source-add body) is skipped;
//   - what cannot be fixed is reported through OnLoss while the translation
//     knows where: a transport without DTLS fingerprint, an ICE pwd outside
//     22..256 characters or ufrag outside 4..256, values with characters an
//     SDP line cannot hold (dropped).
//
// The corpus test of this package runs every SDP and Jingle file of the
// shared interop corpus through both directions and compares a normalised
// model of the session; its exception tables list each file that needs one,
// with the reason.
package sdpxlate
