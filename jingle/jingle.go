package jingle

import (
	"encoding/xml"
	"fmt"
	"strings"

	"mellium.im/xmlstream"
)

// Jingle is the <jingle xmlns='urn:xmpp:jingle:1'/> element (XEP-0166).
type Jingle struct {
	Action    Action
	SID       string
	Initiator string
	Responder string
	Contents  []Content
	// Groups are the XEP-0338 content groups (a=group), wherever they were
	// found: XEP-0338 puts them under <jingle/>, some clients inside a
	// <content/> or <description/>; they are always written under <jingle/>.
	Groups []Group
	Reason *Reason
	// Info is the payload of a session-info message, if it is an XEP-0167
	// informational message.
	Info *Info
	// MSIDSemantic is the session's a=msid-semantic (NSExt extension).
	MSIDSemantic *MSIDSemantic
}

// Content is a <content/> of a Jingle message.
type Content struct {
	Creator     Role
	Disposition string
	Name        string
	Senders     Senders
	// Description is the RTP application, if the content has one.
	Description *Description
	// Transport is the ICE-UDP transport, if any.
	Transport *Transport
	// RawUDP is the Raw UDP transport (XEP-0177), if any.
	RawUDP *RawUDPTransport
	// UnknownDescription and UnknownTransport hold the namespaces of an
	// application or transport this package does not model, so that callers
	// can answer unsupported-applications or unsupported-transports. They
	// are written back as empty elements.
	UnknownDescription string
	UnknownTransport   string
}

// Group is an XEP-0338 <group semantics/>, e.g. BUNDLE or LS.
type Group struct {
	Semantics string
	Contents  []string
}

// MSIDSemantic carries a=msid-semantic: <semantic> <token>... in the
// NSExt extension element <msid-semantic semantic token/>.
type MSIDSemantic struct {
	Semantic string
	Tokens   []string
}

// Content returns the content with the given name, or nil.
func (j *Jingle) Content(name string) *Content {
	for i := range j.Contents {
		if j.Contents[i].Name == name {
			return &j.Contents[i]
		}
	}
	return nil
}

func (j *Jingle) build(b *builder) {
	var a attrs
	a.str("action", j.Action.String())
	a.str("initiator", j.Initiator)
	a.str("responder", j.Responder)
	a.str("sid", j.SID)
	b.open(NS, "jingle", a...)
	for i := range j.Contents {
		j.Contents[i].build(b)
	}
	for _, g := range j.Groups {
		var a attrs
		a.always("semantics", g.Semantics)
		b.open(NSGrouping, "group", a...)
		for _, c := range g.Contents {
			var a attrs
			a.always("name", c)
			b.empty(NSGrouping, "content", a...)
		}
		b.close()
	}
	if j.MSIDSemantic != nil {
		var a attrs
		a.always("semantic", j.MSIDSemantic.Semantic)
		a.str("token", strings.Join(j.MSIDSemantic.Tokens, " "))
		b.empty(NSExt, "msid-semantic", a...)
	}
	if j.Info != nil && j.Info.Kind != InfoUnknown {
		j.Info.build(b)
	}
	if j.Reason != nil {
		j.Reason.build(b)
	}
	b.close()
}

func (c *Content) build(b *builder) {
	var a attrs
	a.str("creator", c.Creator.String())
	a.str("disposition", c.Disposition)
	a.always("name", c.Name)
	a.str("senders", c.Senders.String())
	b.open(NS, "content", a...)
	if c.Description != nil {
		c.Description.build(b)
	} else if c.UnknownDescription != "" {
		b.empty(c.UnknownDescription, "description")
	}
	if c.Transport != nil {
		c.Transport.build(b)
	}
	if c.RawUDP != nil {
		c.RawUDP.build(b)
	}
	if c.Transport == nil && c.RawUDP == nil && c.UnknownTransport != "" {
		b.empty(c.UnknownTransport, "transport")
	}
	b.close()
}

// tokens returns the element as tokens.
func (j *Jingle) tokens() []xml.Token {
	var b builder
	j.build(&b)
	return b.toks
}

// TokenReader returns a stream of XML tokens for the <jingle/> element.
func (j *Jingle) TokenReader() xml.TokenReader {
	return &tokenSlice{toks: j.tokens()}
}

// WriteXML writes the element to w.
func (j *Jingle) WriteXML(w xmlstream.TokenWriter) (int, error) {
	return xmlstream.Copy(w, j.TokenReader())
}

// MarshalXML implements xml.Marshaler.
func (j *Jingle) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return encodeTokens(e, j.tokens())
}

// UnmarshalXML implements xml.Unmarshaler. It reads the element whose start
// tag is start, matching children by namespace (never by prefix), accepting
// the outdated namespaces listed in this package and skipping elements it
// does not model.
func (j *Jingle) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	v, err := decodeJingle(d, start)
	if err != nil {
		return err
	}
	*j = *v
	return nil
}

// Marshal returns the XML text of v (a *Jingle, *JMI, IQ, Message, or any
// token stream), declaring each namespace only where it changes.
func Marshal(v xmlstream.Marshaler) ([]byte, error) {
	return MarshalIndent(v, "")
}

// MarshalIndent is like Marshal but puts each element on its own line,
// indented by indent per level.
func MarshalIndent(v xmlstream.Marshaler, indent string) ([]byte, error) {
	toks, err := xmlstream.ReadAll(v.TokenReader())
	if err != nil {
		return nil, err
	}
	return serialize(toks, indent), nil
}

func decodeJingle(d *xml.Decoder, start xml.StartElement) (*Jingle, error) {
	j := &Jingle{
		SID:       attr(start, "sid"),
		Initiator: attr(start, "initiator"),
		Responder: attr(start, "responder"),
	}
	if a := attr(start, "action"); a != "" {
		// An unknown action is kept as ActionUnknown so that a handler can
		// still answer it (feature-not-implemented) instead of failing here.
		j.Action, _ = ParseAction(a)
	}
	_, err := walk(d, func(se xml.StartElement) error {
		switch {
		case se.Name.Local == "content" && (se.Name.Space == NS || se.Name.Space == nsLegacyJingle):
			c, groups, err := decodeContent(d, se, len(j.Contents)+1)
			if err != nil {
				return err
			}
			j.Contents = append(j.Contents, *c)
			if len(groups) > 0 {
				j.Groups = append(j.Groups, groups...)
			}
			return nil
		case se.Name.Space == NSGrouping && se.Name.Local == "group":
			g, err := decodeGroup(d, se)
			j.Groups = append(j.Groups, g)
			return err
		case se.Name.Space == NS && se.Name.Local == "reason":
			r, err := decodeReason(d, se)
			j.Reason = r
			return err
		case se.Name.Space == NSRTPInfo:
			info, err := decodeInfo(d, se)
			if info != nil && j.Info == nil {
				j.Info = info
			}
			return err
		case se.Name.Space == NSExt && se.Name.Local == "msid-semantic":
			j.MSIDSemantic = &MSIDSemantic{Semantic: attr(se, "semantic"), Tokens: strings.Fields(attr(se, "token"))}
			return skip(d)
		}
		return skip(d)
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

func decodeContent(d *xml.Decoder, se xml.StartElement, index int) (*Content, []Group, error) {
	name := attr(se, "name")
	path := fmt.Sprintf("content %d %q", index, name)
	p := attrParser{se: se, path: path}
	c := &Content{
		Creator:     p.role("creator"),
		Disposition: attr(se, "disposition"),
		Name:        name,
		Senders:     p.senders("senders"),
	}
	if err := p.wrap(); err != nil {
		return nil, nil, err
	}
	var groups []Group
	_, err := walk(d, func(ch xml.StartElement) error {
		switch {
		case ch.Name.Local == "description":
			switch ch.Name.Space {
			case NSRTP:
				desc, gs, err := decodeDescription(d, ch, path)
				c.Description = desc
				c.UnknownDescription = ""
				groups = append(groups, gs...)
				return err
			case NSWebRTCDataChannel:
				return skip(d)
			}
			if c.Description == nil {
				c.UnknownDescription = ch.Name.Space
			}
			return skip(d)
		case ch.Name.Local == "transport":
			switch ch.Name.Space {
			case NSICEUDP, NSICEUDP0:
				t, err := decodeTransport(d, ch, path)
				c.Transport = t
				c.UnknownTransport = ""
				return err
			case NSRawUDP:
				t, err := decodeRawUDP(d, ch, path)
				c.RawUDP = t
				c.UnknownTransport = ""
				return err
			}
			if c.Transport == nil && c.RawUDP == nil {
				c.UnknownTransport = ch.Name.Space
			}
			return skip(d)
		case ch.Name.Space == NSGrouping && ch.Name.Local == "group":
			g, err := decodeGroup(d, ch)
			groups = append(groups, g)
			return err
		}
		return skip(d)
	})
	if err != nil {
		return nil, nil, err
	}
	return c, groups, nil
}

func decodeGroup(d *xml.Decoder, se xml.StartElement) (Group, error) {
	g := Group{Semantics: attr(se, "semantics")}
	if g.Semantics == "" {
		// Old Jitsi wrote type= instead of semantics=.
		g.Semantics = attr(se, "type")
	}
	_, err := walk(d, func(c xml.StartElement) error {
		if c.Name.Local == "content" {
			g.Contents = append(g.Contents, attr(c, "name"))
		}
		return skip(d)
	})
	return g, err
}

// Unmarshal reads the first <jingle xmlns='urn:xmpp:jingle:1'/> element of
// data, which may be a bare <jingle/>, an <iq/> or any other wrapper. It
// returns ErrNoJingle if there is none and ErrMalformedXML if the XML is
// broken before the element ends.
func Unmarshal(data []byte) (*Jingle, error) {
	d, se, err := findElement(data, func(se xml.StartElement) bool { return se.Name.Space == NS && se.Name.Local == "jingle" })
	if err != nil {
		return nil, err
	}
	return decodeJingle(d, se)
}
