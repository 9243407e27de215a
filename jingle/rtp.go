package jingle

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Description is the RTP application <description/> (XEP-0167) together with
// the extensions that live inside it: RTCP feedback (XEP-0293), header
// extensions (XEP-0294) and source-specific media attributes (XEP-0339).
type Description struct {
	// Media is "audio", "video", ... (the SDP media type).
	Media string
	// SSRC is the optional ssrc attribute; 0 means absent.
	SSRC uint32
	// Profile is the SDP transport protocol of the m= line, e.g.
	// "UDP/TLS/RTP/SAVPF". XEP-0167 dropped this attribute long ago; it is
	// written so that a round trip keeps the m= line, and is optional when
	// reading (the protocol is then derived from the transport).
	Profile string
	// MaxPTime is Jitsi's maxptime attribute on <description/>; 0 means absent.
	MaxPTime uint32

	PayloadTypes []PayloadType
	// Feedback applies to every payload type (SDP a=rtcp-fb:* lines).
	Feedback   []RTCPFeedback
	Bandwidths []Bandwidth
	// RTCPMux is <rtcp-mux/> (a=rtcp-mux).
	RTCPMux bool
	// RTCPReducedSize is StanzaJS' <rtcp-reduced-size/> (a=rtcp-rsize).
	RTCPReducedSize  bool
	HeaderExtensions []HeaderExtension
	// ExtmapAllowMixed is <extmap-allow-mixed/> (XEP-0294, a=extmap-allow-mixed).
	ExtmapAllowMixed bool
	Sources          []Source
	SourceGroups     []SourceGroup
	// Streams are StanzaJS' <stream id track/> elements (media-level a=msid).
	Streams []Stream
	// Encryption is the SDES <encryption/> (a=crypto). It is read so that
	// callers can explain why it is ignored: browsers only do DTLS-SRTP.
	Encryption *Encryption
}

// PayloadType is a <payload-type/>: one codec (a=rtpmap, a=fmtp, a=rtcp-fb).
type PayloadType struct {
	ID        uint8
	Name      string
	ClockRate uint32
	// Channels is 0 when the attribute is absent (meaning 1).
	Channels uint8
	PTime    uint32
	MaxPTime uint32
	// Parameters are the fmtp parameters, in document order.
	Parameters []Parameter
	Feedback   []RTCPFeedback
}

// Parameter is a <parameter name value/>. An fmtp part without "=" (such as
// "0-15" of telephone-event, or "111/111" of RED) has an empty Name: it is
// written as <parameter name='111/111'/> (no value attribute, the form
// StanzaJS writes and reads), and read from that form as well as from
// <parameter name=” value='0-15'/> (Jitsi) and <parameter value='0-15'/>
// (MongooseIM relaying Firefox).
type Parameter struct {
	Name  string
	Value string
}

// RTCPFeedback is an <rtcp-fb type subtype/> (XEP-0293). The
// <rtcp-fb-trr-int value/> element is represented with Type "trr-int" and
// the value in Subtype, which is its SDP form.
type RTCPFeedback struct {
	Type       string
	Subtype    string
	Parameters []Parameter
}

// Bandwidth is a <bandwidth type/> (a b= line), in kbit/s for type AS.
type Bandwidth struct {
	Type  string
	Value uint64
}

// HeaderExtension is an <rtp-hdrext/> (XEP-0294, a=extmap).
type HeaderExtension struct {
	ID      uint32
	URI     string
	Senders Senders
	// Parameters are the extension attributes of the a=extmap line.
	Parameters []Parameter
}

// Source is a <source ssrc/> (XEP-0339, a=ssrc lines).
type Source struct {
	SSRC       uint32
	Parameters []Parameter
	// Name is Jitsi's name attribute (its source name); empty if absent.
	Name string
}

// Param returns the value of the named parameter.
func (s Source) Param(name string) (string, bool) {
	for _, p := range s.Parameters {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// SourceGroup is an <ssrc-group semantics/> (XEP-0339, a=ssrc-group).
type SourceGroup struct {
	Semantics string
	SSRCs     []uint32
}

// Stream is StanzaJS' <stream id track/> (a=msid:id track).
type Stream struct {
	ID    string
	Track string
}

// Encryption is the SDES <encryption/> of XEP-0167.
type Encryption struct {
	Required bool
	Crypto   []Crypto
}

// Crypto is one SDES <crypto/> (a=crypto).
type Crypto struct {
	Suite         string
	KeyParams     string
	SessionParams string
	Tag           string
}

func (p Parameter) build(b *builder, space string) {
	var a attrs
	a.always("name", p.Name)
	a.always("value", p.Value)
	b.empty(space, "parameter", a...)
}

func (f RTCPFeedback) build(b *builder) {
	// trr-int with a value in canonical form is XEP-0293's own element;
	// anything else stays a generic <rtcp-fb/> so that it survives as is.
	if n, err := strconv.ParseUint(f.Subtype, 10, 32); f.Type == "trr-int" && err == nil && strconv.FormatUint(n, 10) == f.Subtype && len(f.Parameters) == 0 {
		var a attrs
		a.always("value", f.Subtype)
		b.empty(NSRTCPFB, "rtcp-fb-trr-int", a...)
		return
	}
	var a attrs
	a.always("type", f.Type)
	a.str("subtype", f.Subtype)
	b.open(NSRTCPFB, "rtcp-fb", a...)
	for _, p := range f.Parameters {
		p.build(b, NSRTCPFB)
	}
	b.close()
}

func (d *Description) build(b *builder) {
	var a attrs
	a.always("media", d.Media)
	a.uint("ssrc", uint64(d.SSRC))
	a.str("profile", d.Profile)
	a.uint("maxptime", uint64(d.MaxPTime))
	b.open(NSRTP, "description", a...)
	for _, pt := range d.PayloadTypes {
		var a attrs
		a.uintAlways("id", uint64(pt.ID))
		a.str("name", pt.Name)
		a.uint("clockrate", uint64(pt.ClockRate))
		a.uint("channels", uint64(pt.Channels))
		a.uint("ptime", uint64(pt.PTime))
		a.uint("maxptime", uint64(pt.MaxPTime))
		b.open(NSRTP, "payload-type", a...)
		for _, p := range pt.Parameters {
			if p.Name == "" {
				// A key-less fmtp part: the value goes in name (see
				// Parameter).
				var a attrs
				a.always("name", p.Value)
				b.empty(NSRTP, "parameter", a...)
				continue
			}
			p.build(b, NSRTP)
		}
		for _, f := range pt.Feedback {
			f.build(b)
		}
		b.close()
	}
	for _, f := range d.Feedback {
		f.build(b)
	}
	for _, bw := range d.Bandwidths {
		var a attrs
		a.always("type", bw.Type)
		b.open(NSRTP, "bandwidth", a...)
		b.text(strconv.FormatUint(bw.Value, 10))
		b.close()
	}
	if d.RTCPMux {
		b.empty(NSRTP, "rtcp-mux")
	}
	if d.RTCPReducedSize {
		b.empty(NSRTP, "rtcp-reduced-size")
	}
	for _, h := range d.HeaderExtensions {
		var a attrs
		a.uintAlways("id", uint64(h.ID))
		a.always("uri", h.URI)
		a.str("senders", h.Senders.String())
		b.open(NSRTPHdrExt, "rtp-hdrext", a...)
		for _, p := range h.Parameters {
			p.build(b, NSRTPHdrExt)
		}
		b.close()
	}
	if d.ExtmapAllowMixed {
		b.empty(NSRTPHdrExt, "extmap-allow-mixed")
	}
	for _, s := range d.Sources {
		var a attrs
		a.uintAlways("ssrc", uint64(s.SSRC))
		a.str("name", s.Name)
		b.open(NSSSMA, "source", a...)
		for _, p := range s.Parameters {
			p.build(b, NSSSMA)
		}
		b.close()
	}
	for _, g := range d.SourceGroups {
		var a attrs
		a.always("semantics", g.Semantics)
		b.open(NSSSMA, "ssrc-group", a...)
		for _, ssrc := range g.SSRCs {
			var a attrs
			a.uintAlways("ssrc", uint64(ssrc))
			b.empty(NSSSMA, "source", a...)
		}
		b.close()
	}
	for _, s := range d.Streams {
		var a attrs
		a.always("id", s.ID)
		a.str("track", s.Track)
		b.empty(NSMSID, "stream", a...)
	}
	if d.Encryption != nil {
		var a attrs
		if d.Encryption.Required {
			a.always("required", "1")
		}
		b.open(NSRTP, "encryption", a...)
		for _, c := range d.Encryption.Crypto {
			var a attrs
			a.always("crypto-suite", c.Suite)
			a.always("key-params", c.KeyParams)
			a.str("session-params", c.SessionParams)
			a.always("tag", c.Tag)
			b.empty(NSRTP, "crypto", a...)
		}
		b.close()
	}
	b.close()
}

// decodeParameter reads a <parameter/> in any namespace: Jitsi puts RTP
// parameters inside XEP-0339 sources and Conversations repeats xmlns.
func decodeParameter(d *xml.Decoder, se xml.StartElement) (Parameter, error) {
	p := Parameter{Name: attr(se, "name"), Value: attr(se, "value")}
	return p, skip(d)
}

func decodeFeedback(d *xml.Decoder, se xml.StartElement, path string) (RTCPFeedback, error) {
	if se.Name.Local == "rtcp-fb-trr-int" {
		p := attrParser{se: se, path: path + ": rtcp-fb-trr-int"}
		v := p.uint("value", 32, false)
		if err := p.wrap(); err != nil {
			return RTCPFeedback{}, err
		}
		return RTCPFeedback{Type: "trr-int", Subtype: strconv.FormatUint(v, 10)}, skip(d)
	}
	f := RTCPFeedback{Type: attr(se, "type"), Subtype: attr(se, "subtype")}
	if f.Type == "" {
		return f, fmt.Errorf("%w: %s: rtcp-fb: type", ErrMissingAttribute, path)
	}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "parameter" {
			prm, err := decodeParameter(d, c)
			f.Parameters = append(f.Parameters, prm)
			return err
		}
		return skip(d)
	})
	return f, err
}

func isFeedback(n xml.Name) bool {
	return n.Space == NSRTCPFB && (n.Local == "rtcp-fb" || n.Local == "rtcp-fb-trr-int")
}

// decodeDescription reads an RTP <description/>. Groups found inside it are
// returned so that the caller can hoist them to the session.
func decodeDescription(d *xml.Decoder, se xml.StartElement, path string) (*Description, []Group, error) {
	path += ": description"
	p := attrParser{se: se, path: path}
	desc := &Description{
		Media:    attr(se, "media"),
		SSRC:     uint32(p.uint("ssrc", 32, false)),
		Profile:  attr(se, "profile"),
		MaxPTime: uint32(p.uint("maxptime", 32, false)),
	}
	if err := p.wrap(); err != nil {
		return nil, nil, err
	}
	var groups []Group
	_, err := walk(d, func(c xml.StartElement) error {
		switch {
		case c.Name.Space == NSRTP && c.Name.Local == "payload-type":
			pt, err := decodePayloadType(d, c, fmt.Sprintf("%s: payload-type %d", path, len(desc.PayloadTypes)+1))
			desc.PayloadTypes = append(desc.PayloadTypes, pt)
			return err
		case isFeedback(c.Name):
			f, err := decodeFeedback(d, c, path)
			desc.Feedback = append(desc.Feedback, f)
			return err
		case c.Name.Space == NSRTP && c.Name.Local == "bandwidth":
			t, err := walk(d, nil)
			if err != nil {
				return err
			}
			v, perr := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
			if perr != nil {
				return fmt.Errorf("%w: %s: bandwidth %q", ErrInvalidValue, path, t)
			}
			desc.Bandwidths = append(desc.Bandwidths, Bandwidth{Type: attr(c, "type"), Value: v})
			return nil
		case c.Name.Space == NSRTP && c.Name.Local == "rtcp-mux":
			desc.RTCPMux = true
			return skip(d)
		case c.Name.Space == NSRTP && c.Name.Local == "rtcp-reduced-size":
			desc.RTCPReducedSize = true
			return skip(d)
		case c.Name.Space == NSRTP && c.Name.Local == "encryption":
			enc, err := decodeEncryption(d, c)
			desc.Encryption = enc
			return err
		case c.Name.Space == NSRTPHdrExt && c.Name.Local == "rtp-hdrext":
			h, err := decodeHeaderExtension(d, c, fmt.Sprintf("%s: rtp-hdrext %d", path, len(desc.HeaderExtensions)+1))
			desc.HeaderExtensions = append(desc.HeaderExtensions, h)
			return err
		case c.Name.Space == NSRTPHdrExt && c.Name.Local == "extmap-allow-mixed":
			desc.ExtmapAllowMixed = true
			return skip(d)
		case c.Name.Space == NSSSMA && c.Name.Local == "source":
			s, err := decodeSource(d, c, fmt.Sprintf("%s: source %d", path, len(desc.Sources)+1))
			desc.Sources = append(desc.Sources, s)
			return err
		case c.Name.Space == NSSSMA && c.Name.Local == "ssrc-group":
			g, err := decodeSourceGroup(d, c, fmt.Sprintf("%s: ssrc-group %d", path, len(desc.SourceGroups)+1))
			desc.SourceGroups = append(desc.SourceGroups, g)
			return err
		case c.Name.Space == NSMSID && c.Name.Local == "stream":
			desc.Streams = append(desc.Streams, Stream{ID: attr(c, "id"), Track: attr(c, "track")})
			return skip(d)
		case c.Name.Space == NSGrouping && c.Name.Local == "group":
			g, err := decodeGroup(d, c)
			groups = append(groups, g)
			return err
		}
		return skip(d)
	})
	if err != nil {
		return nil, nil, err
	}
	return desc, groups, nil
}

func decodePayloadType(d *xml.Decoder, se xml.StartElement, path string) (PayloadType, error) {
	p := attrParser{se: se, path: path}
	pt := PayloadType{
		ID:        uint8(p.uint("id", 7, true)),
		Name:      attr(se, "name"),
		ClockRate: uint32(p.uint("clockrate", 32, false)),
		Channels:  uint8(p.uint("channels", 8, false)),
		PTime:     uint32(p.uint("ptime", 32, false)),
		MaxPTime:  uint32(p.uint("maxptime", 32, false)),
	}
	if err := p.wrap(); err != nil {
		return pt, err
	}
	_, err := walk(d, func(c xml.StartElement) error {
		switch {
		case c.Name.Local == "parameter" && c.Name.Space != NSRTCPFB:
			prm, err := decodeParameter(d, c)
			if _, hasValue := attrOf(c, "value"); !hasValue && prm.Name != "" {
				// <parameter name='111/111'/>: a key-less fmtp part.
				prm = Parameter{Value: prm.Name}
			}
			pt.Parameters = append(pt.Parameters, prm)
			return err
		case isFeedback(c.Name):
			f, err := decodeFeedback(d, c, path)
			pt.Feedback = append(pt.Feedback, f)
			return err
		}
		return skip(d)
	})
	return pt, err
}

func decodeHeaderExtension(d *xml.Decoder, se xml.StartElement, path string) (HeaderExtension, error) {
	p := attrParser{se: se, path: path}
	h := HeaderExtension{
		ID:      uint32(p.uint("id", 32, true)),
		URI:     p.str("uri", true),
		Senders: p.senders("senders"),
	}
	if err := p.wrap(); err != nil {
		return h, err
	}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "parameter" {
			prm, err := decodeParameter(d, c)
			h.Parameters = append(h.Parameters, prm)
			return err
		}
		return skip(d)
	})
	return h, err
}

func decodeSource(d *xml.Decoder, se xml.StartElement, path string) (Source, error) {
	p := attrParser{se: se, path: path}
	s := Source{SSRC: uint32(p.uint("ssrc", 32, true)), Name: attr(se, "name")}
	if err := p.wrap(); err != nil {
		return s, err
	}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "parameter" && (c.Name.Space == NSSSMA || c.Name.Space == NSRTP) {
			prm, err := decodeParameter(d, c)
			s.Parameters = append(s.Parameters, prm)
			return err
		}
		return skip(d)
	})
	return s, err
}

func decodeSourceGroup(d *xml.Decoder, se xml.StartElement, path string) (SourceGroup, error) {
	g := SourceGroup{Semantics: attr(se, "semantics")}
	if g.Semantics == "" {
		return g, fmt.Errorf("%w: %s: semantics", ErrMissingAttribute, path)
	}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "source" {
			p := attrParser{se: c, path: fmt.Sprintf("%s: source %d", path, len(g.SSRCs)+1)}
			ssrc := uint32(p.uint("ssrc", 32, true))
			if err := p.wrap(); err != nil {
				return err
			}
			g.SSRCs = append(g.SSRCs, ssrc)
		}
		return skip(d)
	})
	return g, err
}

func decodeEncryption(d *xml.Decoder, se xml.StartElement) (*Encryption, error) {
	p := attrParser{se: se}
	enc := &Encryption{Required: p.bool("required")}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "crypto" {
			enc.Crypto = append(enc.Crypto, Crypto{
				Suite:         attr(c, "crypto-suite"),
				KeyParams:     attr(c, "key-params"),
				SessionParams: attr(c, "session-params"),
				Tag:           attr(c, "tag"),
			})
		}
		return skip(d)
	})
	return enc, err
}
