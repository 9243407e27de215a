package jingle

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Transport is the ICE-UDP <transport/> (XEP-0176) with what goes inside it:
// the DTLS fingerprint (XEP-0320), the data channel <sctpmap/> (XEP-0343),
// Conversations' ICE options, and the ice-lite extension.
type Transport struct {
	Ufrag string
	Pwd   string
	// Candidates are the ICE candidates (a=candidate).
	Candidates []Candidate
	// RemoteCandidate is the in-use candidate of XEP-0176; it has no SDP
	// equivalent in JSEP.
	RemoteCandidate *RemoteCandidate
	Fingerprints    []Fingerprint
	// SCTPMap is set for a WebRTC data channel content (XEP-0343).
	SCTPMap *SCTPMap
	// ICEOptions are the a=ice-options tokens, written as Conversations does:
	// one empty element per option in NSICEOption. Options that are not XML
	// names (see IsNCName) are not written.
	ICEOptions []string
	// ICELite is <ice-lite xmlns=NSExt/> (session-level a=ice-lite).
	ICELite bool
	// GatheringComplete is <gathering-complete/> (a=end-of-candidates), as
	// StanzaJS writes it after XEP-0371.
	GatheringComplete bool
	// RTCPMux records Jitsi's <rtcp-mux/> inside the transport.
	RTCPMux bool
}

// Candidate is an ICE-UDP <candidate/>, i.e. one a=candidate line.
type Candidate struct {
	Component  uint8
	Foundation string
	Generation uint32
	ID         string
	IP         string
	// Network is the network index (SDP network-id).
	Network uint32
	// NetworkCost is libwebrtc's network-cost, written as an extra attribute
	// of the same name; 0 means absent.
	NetworkCost uint32
	Port        uint16
	// Priority is a uint64 because values above 2^32 occur in the wild.
	Priority uint64
	// Protocol is "udp" or "tcp", lower case.
	Protocol string
	RelAddr  string
	RelPort  uint16
	// Type is "host", "srflx", "prflx" or "relay".
	Type string
	// TCPType is "active", "passive" or "so" for TCP candidates (the tcptype
	// attribute StanzaJS writes).
	TCPType string
}

// RemoteCandidate is the XEP-0176 <remote-candidate/>.
type RemoteCandidate struct {
	Component uint8
	IP        string
	Port      uint16
}

// Fingerprint is the XEP-0320 <fingerprint/> (a=fingerprint plus a=setup).
type Fingerprint struct {
	Hash  string
	Setup string
	// Value is the colon-separated hex digest, whitespace removed.
	Value string
	// Cryptex is Jitsi's cryptex='true' attribute (RFC 9335 a=cryptex).
	Cryptex bool
}

// SCTPMap is the XEP-0343 <sctpmap/>: the SCTP port (SDP a=sctp-port or
// the a=sctpmap number), the protocol and, for the old a=sctpmap syntax,
// the stream count.
type SCTPMap struct {
	Number   uint16
	Protocol string
	// Streams is 0 when absent.
	Streams uint32
	// MaxMessageSize is a=max-message-size, written as an extra attribute
	// named like Conversations' data channel transport attribute; 0 means
	// absent.
	MaxMessageSize uint64
}

// RawUDPTransport is the XEP-0177 Raw UDP <transport/>.
type RawUDPTransport struct {
	Candidates []RawUDPCandidate
}

// RawUDPCandidate is a Raw UDP <candidate/>.
type RawUDPCandidate struct {
	// Component is 1 (RTP) or 2 (RTCP); 0 when absent, meaning 1.
	Component  uint8
	Generation uint32
	ID         string
	IP         string
	Port       uint16
}

func (c Candidate) attrs() attrs {
	var a attrs
	a.uintAlways("component", uint64(c.Component))
	a.always("foundation", c.Foundation)
	a.uintAlways("generation", uint64(c.Generation))
	a.str("id", c.ID)
	a.always("ip", c.IP)
	a.uintAlways("network", uint64(c.Network))
	a.uint("network-cost", uint64(c.NetworkCost))
	a.uintAlways("port", uint64(c.Port))
	a.uintAlways("priority", c.Priority)
	a.always("protocol", c.Protocol)
	if c.RelAddr != "" || c.RelPort != 0 {
		a.str("rel-addr", c.RelAddr)
		a.uintAlways("rel-port", uint64(c.RelPort))
	}
	a.str("tcptype", c.TCPType)
	a.always("type", c.Type)
	return a
}

func (t *Transport) build(b *builder) {
	var a attrs
	a.str("ufrag", t.Ufrag)
	a.str("pwd", t.Pwd)
	b.open(NSICEUDP, "transport", a...)
	for _, o := range t.ICEOptions {
		// An option that is not an XML name cannot be an element.
		if IsNCName(o) {
			b.empty(NSICEOption, o)
		}
	}
	if t.ICELite {
		b.empty(NSExt, "ice-lite")
	}
	if t.RTCPMux {
		b.empty(NSICEUDP, "rtcp-mux")
	}
	if t.SCTPMap != nil {
		var a attrs
		a.uintAlways("number", uint64(t.SCTPMap.Number))
		a.always("protocol", t.SCTPMap.Protocol)
		a.uint("streams", uint64(t.SCTPMap.Streams))
		a.uint("max-message-size", t.SCTPMap.MaxMessageSize)
		b.empty(NSDTLSSCTP, "sctpmap", a...)
	}
	for _, f := range t.Fingerprints {
		var a attrs
		a.always("hash", f.Hash)
		a.str("setup", f.Setup)
		if f.Cryptex {
			a.always("cryptex", "true")
		}
		b.open(NSDTLS, "fingerprint", a...)
		b.text(f.Value)
		b.close()
	}
	for _, c := range t.Candidates {
		b.empty(NSICEUDP, "candidate", c.attrs()...)
	}
	if t.RemoteCandidate != nil {
		var a attrs
		a.uintAlways("component", uint64(t.RemoteCandidate.Component))
		a.always("ip", t.RemoteCandidate.IP)
		a.uintAlways("port", uint64(t.RemoteCandidate.Port))
		b.empty(NSICEUDP, "remote-candidate", a...)
	}
	if t.GatheringComplete {
		b.empty(NSICEUDP, "gathering-complete")
	}
	b.close()
}

func (t *RawUDPTransport) build(b *builder) {
	b.open(NSRawUDP, "transport")
	for _, c := range t.Candidates {
		var a attrs
		a.uint("component", uint64(c.Component))
		a.uintAlways("generation", uint64(c.Generation))
		a.str("id", c.ID)
		a.always("ip", c.IP)
		a.uintAlways("port", uint64(c.Port))
		b.empty(NSRawUDP, "candidate", a...)
	}
	b.close()
}

func decodeCandidateAttrs(se xml.StartElement, path string) (Candidate, error) {
	p := attrParser{se: se, path: path}
	c := Candidate{
		Component:   uint8(p.uint("component", 8, true)),
		Foundation:  attr(se, "foundation"),
		Generation:  uint32(p.uint("generation", 32, false)),
		ID:          attr(se, "id"),
		IP:          strings.TrimSpace(p.str("ip", true)),
		Network:     uint32(p.uint("network", 32, false)),
		NetworkCost: uint32(p.uint("network-cost", 32, false)),
		Port:        uint16(p.uint("port", 16, true)),
		Priority:    p.uint("priority", 64, true),
		Protocol:    strings.ToLower(attr(se, "protocol")),
		RelAddr:     attr(se, "rel-addr"),
		RelPort:     uint16(p.uint("rel-port", 16, false)),
		Type:        attr(se, "type"),
		TCPType:     attr(se, "tcptype"),
	}
	return c, p.wrap()
}

// decodeFingerprint reads a <fingerprint/>, removing the whitespace that
// XEP-0320's examples wrap around the digest.
func decodeFingerprint(d *xml.Decoder, se xml.StartElement) (Fingerprint, error) {
	f := Fingerprint{Hash: attr(se, "hash"), Setup: attr(se, "setup"), Cryptex: attr(se, "cryptex") == "true"}
	t, err := walk(d, nil)
	f.Value = strings.Join(strings.Fields(t), "")
	return f, err
}

func isFingerprint(n xml.Name) bool {
	return n.Local == "fingerprint" && (n.Space == NSDTLS || n.Space == NSDTLSLegacy)
}

func decodeTransport(d *xml.Decoder, se xml.StartElement, path string) (*Transport, error) {
	path += ": transport"
	t := &Transport{Ufrag: attr(se, "ufrag"), Pwd: attr(se, "pwd")}
	_, err := walk(d, func(c xml.StartElement) error {
		switch {
		case c.Name.Space == se.Name.Space && c.Name.Local == "candidate":
			cand, err := decodeCandidateAttrs(c, fmt.Sprintf("%s: candidate %d", path, len(t.Candidates)+1))
			if err != nil {
				return err
			}
			t.Candidates = append(t.Candidates, cand)
			return skip(d)
		case c.Name.Space == se.Name.Space && c.Name.Local == "remote-candidate":
			p := attrParser{se: c, path: path + ": remote-candidate"}
			rc := &RemoteCandidate{
				Component: uint8(p.uint("component", 8, false)),
				IP:        p.str("ip", true),
				Port:      uint16(p.uint("port", 16, true)),
			}
			if err := p.wrap(); err != nil {
				return err
			}
			t.RemoteCandidate = rc
			return skip(d)
		case c.Name.Space == se.Name.Space && c.Name.Local == "gathering-complete":
			t.GatheringComplete = true
			return skip(d)
		case c.Name.Local == "rtcp-mux" && (c.Name.Space == se.Name.Space || c.Name.Space == NSRTP):
			t.RTCPMux = true
			return skip(d)
		case isFingerprint(c.Name):
			f, err := decodeFingerprint(d, c)
			t.Fingerprints = append(t.Fingerprints, f)
			return err
		case c.Name.Space == NSDTLSSCTP && c.Name.Local == "sctpmap":
			p := attrParser{se: c, path: path + ": sctpmap"}
			t.SCTPMap = &SCTPMap{
				Number:         uint16(p.uint("number", 16, true)),
				Protocol:       attr(c, "protocol"),
				Streams:        uint32(p.uint("streams", 32, false)),
				MaxMessageSize: p.uint("max-message-size", 64, false),
			}
			if err := p.wrap(); err != nil {
				return err
			}
			return skip(d)
		case c.Name.Space == NSICEOption:
			t.ICEOptions = append(t.ICEOptions, c.Name.Local)
			return skip(d)
		case c.Name.Space == NSExt && c.Name.Local == "ice-lite":
			t.ICELite = true
			return skip(d)
		}
		return skip(d)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func decodeRawUDP(d *xml.Decoder, se xml.StartElement, path string) (*RawUDPTransport, error) {
	path += ": transport"
	t := &RawUDPTransport{}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "candidate" {
			p := attrParser{se: c, path: fmt.Sprintf("%s: candidate %d", path, len(t.Candidates)+1)}
			rc := RawUDPCandidate{
				Component:  uint8(p.uint("component", 8, false)),
				Generation: uint32(p.uint("generation", 32, false)),
				ID:         attr(c, "id"),
				IP:         strings.TrimSpace(p.str("ip", true)),
				Port:       uint16(p.uint("port", 16, true)),
			}
			if err := p.wrap(); err != nil {
				return err
			}
			t.Candidates = append(t.Candidates, rc)
		}
		return skip(d)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
