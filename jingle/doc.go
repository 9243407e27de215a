// Package jingle holds the XML types of Jingle (XEP-0166) and of the
// extensions a WebRTC gateway needs:
//
//   - XEP-0167 RTP sessions: <description/>, <payload-type/>, <parameter/>,
//     <bandwidth/>, <rtcp-mux/>, SDES <encryption/>, the session-info
//     payloads (active, hold, unhold, mute, unmute, ringing) and the RTP
//     error conditions;
//   - XEP-0176 ICE-UDP and XEP-0177 Raw UDP transports, XEP-0320 DTLS
//     fingerprints, XEP-0343 data channel <sctpmap/>;
//   - XEP-0293 RTCP feedback, XEP-0294 header extensions, XEP-0338 groups,
//     XEP-0339 sources and source groups;
//   - XEP-0353 Jingle Message Initiation (propose, ringing, proceed, reject,
//     retract, finish, tie-break, migrated);
//   - the reasons and error conditions of XEP-0166.
//
// # Reading
//
// Elements are matched by namespace, never by prefix: StanzaJS writes
// rtcpf:rtcp-fb with the prefix declared on <description/>, Conversations
// repeats xmlns on every element, and both read the same. Elements that are
// not modelled (Jitsi's ssrc-info, web-socket, bridge-session, ...) are
// skipped, never an error. Two outdated namespaces seen in the wild are
// accepted: urn:xmpp:jingle:transports:ice-udp:0 and
// urn:xmpp:tmp:jingle:apps:dtls:0, as is a <content/> in the bogus
// namespace of the XEP-0339 examples. Groups are collected wherever they
// appear (under <jingle/>, <content/> or <description/>). Fingerprint text
// is stripped of the whitespace XEP-0320's examples wrap around it.
//
// Malformed XML, numbers that do not parse and missing required attributes
// are errors wrapping ErrMalformedXML, ErrInvalidValue or
// ErrMissingAttribute, with the location of the problem in the message. An
// unknown action is not an error: it reads as ActionUnknown, so that a
// handler can answer it.
//
// # Writing
//
// Marshal and MarshalIndent write XML text that declares each namespace only
// where it changes; TokenReader, WriteXML and MarshalXML give the token form
// mellium.im/xmpp works with.
//
// # Extensions
//
// A few SDP facts have no XEP. To survive a round trip they are written as
// extra attributes or elements, which XEP-0166 requires other peers to
// ignore:
//
//   - the profile attribute on <description/> carries the m= line protocol
//     (XEP-0167 had such an attribute in its early versions);
//   - network-cost, tcptype on <candidate/> (tcptype as StanzaJS writes it);
//   - max-message-size on <sctpmap/> (named as in Conversations' data
//     channel transport);
//   - ICE options as empty elements in Conversations' namespace
//     (NSICEOption), e.g. <trickle/>;
//   - <gathering-complete/> for end-of-candidates, as StanzaJS writes it;
//   - <stream id track/> in NSMSID for a=msid, as StanzaJS writes it;
//   - cryptex='true' on <fingerprint/>, as Jitsi writes it;
//   - <msid-semantic/> under <jingle/> and <ice-lite/> in a transport, in
//     this project's namespace NSExt.
package jingle
