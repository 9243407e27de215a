package jingle

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// IQ is an <iq/> stanza carrying a Jingle element.
type IQ struct {
	stanza.IQ
	Jingle Jingle `xml:"urn:xmpp:jingle:1 jingle"`
}

// TokenReader returns the stanza as XML tokens.
func (iq IQ) TokenReader() xml.TokenReader {
	return iq.IQ.Wrap(iq.Jingle.TokenReader())
}

// WriteXML writes the stanza to w.
func (iq IQ) WriteXML(w xmlstream.TokenWriter) (int, error) {
	return xmlstream.Copy(w, iq.TokenReader())
}

// MarshalXML implements xml.Marshaler.
func (iq IQ) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	if _, err := iq.WriteXML(e); err != nil {
		return err
	}
	return e.Flush()
}

// UnmarshalXML implements xml.Unmarshaler: it reads the IQ attributes and its
// <jingle/> child; other children are skipped.
func (iq *IQ) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	s, err := stanza.NewIQ(start)
	if err != nil {
		return err
	}
	iq.IQ = s
	found := false
	_, err = walk(d, func(se xml.StartElement) error {
		if !found && se.Name.Space == NS && se.Name.Local == "jingle" {
			j, err := decodeJingle(d, se)
			if err != nil {
				return err
			}
			iq.Jingle = *j
			found = true
			return nil
		}
		return skip(d)
	})
	if err != nil {
		return err
	}
	if !found {
		return ErrNoJingle
	}
	return nil
}
