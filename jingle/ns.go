package jingle

// Namespaces of the Jingle protocols this package reads and writes.
const (
	// NS is the Jingle namespace (XEP-0166).
	NS = "urn:xmpp:jingle:1"
	// NSErrors qualifies the Jingle error conditions (XEP-0166).
	NSErrors = "urn:xmpp:jingle:errors:1"

	// NSRTP is the RTP application format (XEP-0167).
	NSRTP = "urn:xmpp:jingle:apps:rtp:1"
	// NSRTPAudio is the disco feature for audio via RTP (XEP-0167).
	NSRTPAudio = "urn:xmpp:jingle:apps:rtp:audio"
	// NSRTPVideo is the disco feature for video via RTP (XEP-0167).
	NSRTPVideo = "urn:xmpp:jingle:apps:rtp:video"
	// NSRTPInfo qualifies the RTP session-info payloads (XEP-0167).
	NSRTPInfo = "urn:xmpp:jingle:apps:rtp:info:1"
	// NSRTPErrors qualifies the RTP error conditions (XEP-0167).
	NSRTPErrors = "urn:xmpp:jingle:apps:rtp:errors:1"
	// NSRTCPFB qualifies RTCP feedback (XEP-0293).
	NSRTCPFB = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0"
	// NSRTPHdrExt qualifies RTP header extensions (XEP-0294).
	NSRTPHdrExt = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
	// NSSSMA qualifies source-specific media attributes (XEP-0339).
	NSSSMA = "urn:xmpp:jingle:apps:rtp:ssma:0"
	// NSGrouping qualifies content groups such as BUNDLE (XEP-0338).
	NSGrouping = "urn:xmpp:jingle:apps:grouping:0"
	// NSMSID qualifies the StanzaJS <stream id track/> element that carries
	// the SDP a=msid of a media section. It never became a XEP; this package
	// reads and writes it for interoperability with StanzaJS.
	NSMSID = "urn:xmpp:jingle:apps:rtp:msid:0"

	// NSICEUDP is the ICE-UDP transport method (XEP-0176).
	NSICEUDP = "urn:xmpp:jingle:transports:ice-udp:1"
	// NSICEUDP0 is the outdated ICE-UDP namespace still used by the XEP-0167
	// content-add example. It is accepted when reading, never written.
	NSICEUDP0 = "urn:xmpp:jingle:transports:ice-udp:0"
	// NSRawUDP is the Raw UDP transport method (XEP-0177).
	NSRawUDP = "urn:xmpp:jingle:transports:raw-udp:1"
	// NSICEOption qualifies the ICE options (a=ice-options) carried as child
	// elements of the ICE-UDP transport, as Conversations does.
	NSICEOption = "http://gultsch.de/xmpp/drafts/jingle/transports/ice-udp/option"

	// NSDTLS qualifies the DTLS-SRTP fingerprint (XEP-0320).
	NSDTLS = "urn:xmpp:jingle:apps:dtls:0"
	// NSDTLSLegacy is the pre-XEP-0320 fingerprint namespace seen in old
	// deployments. It is accepted when reading, never written.
	NSDTLSLegacy = "urn:xmpp:tmp:jingle:apps:dtls:0"

	// NSDTLSSCTP qualifies the <sctpmap/> of WebRTC data channels (XEP-0343).
	NSDTLSSCTP = "urn:xmpp:jingle:transports:dtls-sctp:1"
	// NSWebRTCDataChannel qualifies the <channel/> elements of XEP-0343. Jitsi
	// also uses it for a data channel <description/>, which is read as "this
	// content is a data channel".
	NSWebRTCDataChannel = "urn:xmpp:jingle:transports:webrtc-datachannel:0"

	// NSJMI is Jingle Message Initiation (XEP-0353).
	NSJMI = "urn:xmpp:jingle-message:0"

	// NSExt qualifies the few SDP facts that no XEP can express but that must
	// survive a round trip through Jingle: a=msid-semantic and a=ice-lite.
	// Peers that do not know it ignore it, as XEP-0166 requires.
	NSExt = "https://jinglegate.github.io/ns/sdp-ext/0"

	// nsLegacyJingle is the bogus Jingle namespace of the XEP-0339 examples.
	// A <content/> in it is read like one in NS.
	nsLegacyJingle = "http://jabber.org/protocols/jingle"
	// nsStanzas qualifies the stanza error conditions (RFC 6120).
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	// nsXML is the namespace of the xml: prefix.
	nsXML = "http://www.w3.org/XML/1998/namespace"
)
