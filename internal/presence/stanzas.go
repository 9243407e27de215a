package presence

import (
	"encoding/xml"
	"strconv"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// inPresence is a decoded presence stanza. Child elements are matched by
// namespace where they have one of their own; show, status and priority
// are in the stanza's namespace (jabber:component:accept on our link).
type inPresence struct {
	XMLName  xml.Name
	From     string `xml:"from,attr"`
	To       string `xml:"to,attr"`
	Type     string `xml:"type,attr"`
	ID       string `xml:"id,attr"`
	Show     string `xml:"show"`
	Status   string `xml:"status"`
	Priority string `xml:"priority"`
	Caps     *struct {
		Hash string `xml:"hash,attr"`
		Node string `xml:"node,attr"`
		Ver  string `xml:"ver,attr"`
	} `xml:"http://jabber.org/protocol/caps c"`
	Nick  string `xml:"http://jabber.org/protocol/nick nick"`
	Error *struct {
		Type string `xml:"type,attr"`
	} `xml:"error"`
}

func (p inPresence) priority() int {
	n, err := strconv.Atoi(p.Priority)
	if err != nil || n < -128 || n > 127 {
		return 0
	}
	return n
}

// validShow reports whether s is a show value of RFC 6121 §4.7.2.1.
func validShow(s string) bool {
	switch s {
	case "", "away", "chat", "dnd", "xa":
		return true
	}
	return false
}

// outPresence builds a presence stanza.
type outPresence struct {
	From, To jid.JID
	Type     stanza.PresenceType
	Show     string
	Status   string
	Priority int
	Nick     string
	CapsNode string
	CapsVer  string
}

func (p outPresence) TokenReader() xml.TokenReader {
	var inner []xml.TokenReader
	text := func(name, v string) {
		if v != "" {
			inner = append(inner, xmlstream.Wrap(xmlstream.Token(xml.CharData(v)), xml.StartElement{Name: xml.Name{Local: name}}))
		}
	}
	text("show", p.Show)
	text("status", p.Status)
	if p.Priority != 0 {
		text("priority", strconv.Itoa(p.Priority))
	}
	if p.CapsVer != "" {
		inner = append(inner, xmlstream.Wrap(nil, xml.StartElement{
			Name: xml.Name{Space: NSCaps, Local: "c"},
			Attr: []xml.Attr{
				{Name: xml.Name{Local: "hash"}, Value: "sha-1"},
				{Name: xml.Name{Local: "node"}, Value: p.CapsNode},
				{Name: xml.Name{Local: "ver"}, Value: p.CapsVer},
			},
		}))
	}
	if p.Nick != "" && (p.Type == "" || p.Type == stanza.SubscribePresence) {
		inner = append(inner, xmlstream.Wrap(xmlstream.Token(xml.CharData(p.Nick)), xml.StartElement{Name: xml.Name{Space: NSNick, Local: "nick"}}))
	}
	return stanza.Presence{From: p.From, To: p.To, Type: p.Type}.Wrap(xmlstream.MultiReader(inner...))
}
