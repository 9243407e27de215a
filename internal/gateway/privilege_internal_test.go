package gateway

import (
	"bytes"
	"encoding/xml"
	"io"
	"log/slog"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

type tokenRW struct {
	xml.TokenReader
	xmlstream.TokenWriter
}

func (tokenRW) Encode(any) error                          { return nil }
func (tokenRW) EncodeElement(any, xml.StartElement) error { return nil }

// TestServerGrantsOnly: a message from a domain to the component's domain
// reaches the handler only when it comes from the XMPP server; messages
// from users, and to users, always do.
func TestServerGrantsOnly(t *testing.T) {
	var logs bytes.Buffer
	g := &Gateway{log: slog.New(slog.NewTextHandler(&logs, nil)), domain: jid.MustParse("gw.example.org"), server: jid.MustParse("example.org")}
	const grant = `<privilege xmlns='urn:xmpp:privilege:2'><perm access='roster' type='both'/></privilege>`
	for _, tc := range []struct {
		from, to string
		passed   bool
	}{
		{"example.org", "gw.example.org", true},
		{"evil.example.net", "gw.example.org", false},
		{"conference.example.org", "gw.example.org", false},
		{"bob@example.net/phone", "gw.example.org", true},
		{"evil.example.net", "alice@gw.example.org", true},
	} {
		got := false
		h := g.serverGrantsOnly(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			got = true
			return nil
		}))
		raw := `<message xmlns='jabber:client' from='` + tc.from + `' to='` + tc.to + `'>` + grant + `</message>`
		d := xml.NewDecoder(strings.NewReader(raw))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		start := tok.(xml.StartElement)
		if err := h.HandleXMPP(tokenRW{xmlstream.Inner(d), xml.NewEncoder(io.Discard)}, &start); err != nil {
			t.Fatal(err)
		}
		if got != tc.passed {
			t.Errorf("message from %s to %s: handled %v, want %v", tc.from, tc.to, got, tc.passed)
		}
	}
	if !strings.Contains(logs.String(), "privilege advertisement (XEP-0356) ignored") {
		t.Errorf("no warning for the refused grant; log:\n%s", logs.String())
	}
}
