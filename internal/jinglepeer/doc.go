// Package jinglepeer is an independent XMPP Jingle peer: a client that
// places and takes audio, video and data channel calls the way a modern
// client (Conversations) does, with pion/webrtc doing ICE, DTLS, SRTP and
// SCTP for real. The integration tests of the calls feature use it as "the
// XMPP user on the other side of the gateway", and `jinglegate echo` is
// built on it.
//
// # Peer
//
// New takes a logged-in client session (mellium.im/xmpp); Run serves it
// with the peer's own handler until its context ends. The peer
//
//   - sends initial presence with XEP-0115 caps and answers disco#info for
//     its JID and its node#ver: Jingle, RTP audio and video, ICE-UDP,
//     DTLS-SRTP, data channels, grouping, RTCP feedback, header extensions
//     and, unless Config.NoJMI, XEP-0353;
//   - answers XEP-0199 pings, fetches its roster and follows roster pushes;
//   - answers every Jingle IQ at once, with an ack or the XEP-0166 error
//     the state machine (jingle.Next) gives: unknown-session,
//     out-of-order, tie-break, unsupported-info, bad-request for what does
//     not parse, feature-not-implemented for unknown actions.
//
// The handler never blocks and never calls the session's send methods:
// replies go to the handler's encoder, then the work is queued to the
// call, whose signalling and WebRTC operations run in order on a goroutine
// of its own (the ack is written before anything the call sends next).
//
// # Calls
//
// Peer.Call calls a bare JID with a JMI propose (message id
// jm-propose-<sid>, receipt request, store hint) and sends session-initiate
// to the resource that proceeds, or a full JID with session-initiate
// directly. Incoming proposes get ringing, then proceed or reject
// (Config.AutoAccept, Config.Reject, or Call.Accept and Call.Reject);
// incoming session-initiates get a session-info ringing, then
// session-accept or session-terminate. Local candidates are trickled one
// transport-info (one content) each; remote ones are added as they come,
// kept until there is a remote description. Call.Hangup sends
// session-terminate (and a JMI finish for calls set up with JMI).
//
// Mid-call, the peer answers content-add with content-accept (adding the
// media it sends), follows content-modify and content-remove, answers a
// transport-info with new ICE credentials (an ICE restart) with its own new
// credentials, acks session-info, and refuses transport-replace. It starts
// content-add (Call.AddMedia) and ICE restarts (Call.RestartICE) itself.
// Descriptions go between Jingle and SDP with package sdpxlate; a
// renegotiation asked by the other party is applied as a new remote offer,
// whatever side made the first one, with the DTLS role of the first
// negotiation kept.
//
// # Media
//
// Without Config.Echo the peer plays a looped Opus tone and VP8 test
// pattern (testdata/, made by testdata/make-media.sh) and opens a data
// channel "jinglepeer" on the calls it places; with Echo it sends every
// received RTP stream back on a track of the same codec (passing picture
// loss indications on, so that the echoed video gets keyframes) and echoes
// every data channel message. Opus and VP8 are the only codecs.
//
// By default ICE gathers only UDP host candidates on the loopback
// interface, with mDNS off and no STUN or TURN server, so that no packet
// of a test leaves the machine; Config.Interfaces and Config.ICEServers
// open it up for real use.
//
// # Observing a call
//
// A Call exposes its session id, the other party, the Jingle state, the
// WebRTC connection and ICE states (WaitConnected), its events (Events,
// History, Wait, WaitCount), every Jingle and JMI stanza sent and received
// as XML text (Stanzas, and Peer.Stanzas for the whole peer), the media
// counters (Stats, WaitStats), the data channel messages received, the
// local and remote candidates and the current SDP. Waits are driven by the
// call's changes, never by polling.
package jinglepeer
