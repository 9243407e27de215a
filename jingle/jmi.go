package jingle

import (
	"encoding/xml"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// JMIKind is the element of a Jingle Message Initiation message (XEP-0353).
type JMIKind int

// The XEP-0353 elements. JMIAccept is the pre-0.4 name of proceed, still read.
const (
	JMIUnknown JMIKind = iota
	JMIPropose
	JMIRinging
	JMIProceed
	JMIAccept
	JMIReject
	JMIRetract
	JMIFinish
)

var jmiNames = [...]string{"", "propose", "ringing", "proceed", "accept", "reject", "retract", "finish"}

// String returns the element name, or "" for JMIUnknown.
func (k JMIKind) String() string {
	if k < 0 || int(k) >= len(jmiNames) {
		return ""
	}
	return jmiNames[k]
}

// ParseJMIKind returns the kind named s.
func ParseJMIKind(s string) (JMIKind, error) {
	for i, n := range jmiNames {
		if i != 0 && n == s {
			return JMIKind(i), nil
		}
	}
	return JMIUnknown, fmt.Errorf("%w: jingle message %q", ErrInvalidValue, s)
}

// JMI is an XEP-0353 message payload such as <propose id/>.
type JMI struct {
	Kind JMIKind
	// ID is the Jingle session id the message is about.
	ID string
	// Descriptions are the applications of a propose; only their media
	// attribute is meaningful.
	Descriptions []Description
	Reason       *Reason
	// TieBreak is <tie-break/> in a reject or retract.
	TieBreak bool
	// MigratedTo is the session id of <migrated to/> in a finish.
	MigratedTo string
}

func (m *JMI) build(b *builder) {
	var a attrs
	a.always("id", m.ID)
	b.open(NSJMI, m.Kind.String(), a...)
	for i := range m.Descriptions {
		var a attrs
		a.always("media", m.Descriptions[i].Media)
		b.empty(NSRTP, "description", a...)
	}
	if m.Reason != nil {
		m.Reason.build(b)
	}
	if m.TieBreak {
		b.empty(NSJMI, "tie-break")
	}
	if m.MigratedTo != "" {
		var a attrs
		a.always("to", m.MigratedTo)
		b.empty(NSJMI, "migrated", a...)
	}
	b.close()
}

// TokenReader returns the element as XML tokens.
func (m *JMI) TokenReader() xml.TokenReader {
	var b builder
	m.build(&b)
	return &tokenSlice{toks: b.toks}
}

// WriteXML writes the element to w.
func (m *JMI) WriteXML(w xmlstream.TokenWriter) (int, error) {
	return xmlstream.Copy(w, m.TokenReader())
}

// MarshalXML implements xml.Marshaler.
func (m *JMI) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	var b builder
	m.build(&b)
	return encodeTokens(e, b.toks)
}

// UnmarshalXML implements xml.Unmarshaler.
func (m *JMI) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	v, err := decodeJMI(d, start)
	if err != nil {
		return err
	}
	*m = *v
	return nil
}

func decodeJMI(d *xml.Decoder, start xml.StartElement) (*JMI, error) {
	k, err := ParseJMIKind(start.Name.Local)
	if err != nil {
		return nil, err
	}
	m := &JMI{Kind: k, ID: attr(start, "id")}
	_, err = walk(d, func(se xml.StartElement) error {
		switch {
		case se.Name.Local == "description":
			m.Descriptions = append(m.Descriptions, Description{Media: attr(se, "media")})
			return skip(d)
		case se.Name.Space == NS && se.Name.Local == "reason":
			r, err := decodeReason(d, se)
			m.Reason = r
			return err
		case se.Name.Space == NSJMI && se.Name.Local == "tie-break":
			m.TieBreak = true
		case se.Name.Space == NSJMI && se.Name.Local == "migrated":
			m.MigratedTo = attr(se, "to")
		}
		return skip(d)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalJMI reads the first XEP-0353 element of data, which may be a bare
// element or a <message/> (MAM wrappers, receipts, hints and delays around it
// are ignored). It returns ErrNoJingle if there is none.
func UnmarshalJMI(data []byte) (*JMI, error) {
	d, se, err := findElement(data, func(se xml.StartElement) bool {
		if se.Name.Space != NSJMI {
			return false
		}
		_, err := ParseJMIKind(se.Name.Local)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return decodeJMI(d, se)
}

// Message is a <message/> carrying an XEP-0353 payload.
type Message struct {
	stanza.Message
	JMI JMI
}

// TokenReader returns the message as XML tokens.
func (m Message) TokenReader() xml.TokenReader {
	return m.Message.Wrap(m.JMI.TokenReader())
}

// WriteXML writes the message to w.
func (m Message) WriteXML(w xmlstream.TokenWriter) (int, error) {
	return xmlstream.Copy(w, m.TokenReader())
}

// MarshalXML implements xml.Marshaler.
func (m Message) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	_, err := m.WriteXML(e)
	if err != nil {
		return err
	}
	return e.Flush()
}
