package gateway_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// canonXML writes raw (one stanza) in a canonical form to compare with a
// literal: the stanza's from, to, id and xml:lang are left out (they vary
// from run to run), and so are the children servers add (an XEP-0203
// delay when the stanza waited in offline storage, XEP-0359 stanza ids);
// attributes are sorted, a namespace is written only where it changes,
// whitespace between elements is dropped.
func canonXML(t *testing.T, raw string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(raw))
	var b strings.Builder
	var nss []string
	open := false // a start tag is open (not yet closed with > or />)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("canonXML: %v in %s", err, raw)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if len(nss) == 1 && (tk.Name.Space == "urn:xmpp:delay" || tk.Name.Space == "urn:xmpp:sid:0") {
				if err := d.Skip(); err != nil {
					t.Fatalf("canonXML: %v in %s", err, raw)
				}
				continue
			}
			if open {
				b.WriteString(">")
			}
			parent := ""
			if len(nss) > 0 {
				parent = nss[len(nss)-1]
			}
			b.WriteString("<" + tk.Name.Local)
			if tk.Name.Space != parent && tk.Name.Space != "jabber:client" {
				b.WriteString(` xmlns="` + tk.Name.Space + `"`)
			}
			var attrs []string
			for _, a := range tk.Attr {
				if a.Name.Local == "xmlns" || a.Name.Space == "xmlns" {
					continue
				}
				if len(nss) == 0 && (a.Name.Local == "from" || a.Name.Local == "to" || a.Name.Local == "id" || a.Name.Local == "lang") {
					continue
				}
				attrs = append(attrs, a.Name.Local+`="`+a.Value+`"`)
			}
			slices.Sort(attrs)
			for _, a := range attrs {
				b.WriteString(" " + a)
			}
			nss = append(nss, tk.Name.Space)
			open = true
		case xml.EndElement:
			if open {
				b.WriteString("/>")
			} else {
				b.WriteString("</" + tk.Name.Local + ">")
			}
			open = false
			nss = nss[:len(nss)-1]
		case xml.CharData:
			if s := strings.TrimSpace(string(tk)); s != "" {
				if open {
					b.WriteString(">")
					open = false
				}
				xml.EscapeText(&b, []byte(s))
			}
		}
	}
	return b.String()
}

// canonJSON is a browser message without its seq, as sorted JSON.
func canonJSON(m map[string]any) string {
	c := map[string]any{}
	for k, v := range m {
		if k != "seq" {
			c[k] = v
		}
	}
	b, _ := json.Marshal(c) // map keys are sorted
	return string(b)
}

// TestExactMessages: the stanzas the XMPP user receives and the messages
// the browser receives in a call, compared whole with what they must be
// (only addresses and ids, which vary, are left out).
func TestExactMessages(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		aliceFull := alice.JID().String()
		eq := func(what, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s:\n got %s\nwant %s", what, got, want)
			}
		}

		// An outgoing proposal, ringing, proceed, then a hangup before the offer.
		alice.mustAck(map[string]any{"type": "call", "sid": "x1", "to": "bob@localhost", "media": []string{"audio", "video"}})
		eq("propose", canonXML(t, bob.expect("propose", jmiOf(jingle.JMIPropose, "x1")).Raw),
			`<message type="chat"><propose xmlns="urn:xmpp:jingle-message:0" id="x1"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"/><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"/></propose><request xmlns="urn:xmpp:receipts"/><store xmlns="urn:xmpp:hints"/></message>`)
		bob.sendRaw("<message to='%s' type='chat'><ringing xmlns='urn:xmpp:jingle-message:0' id='x1'/></message>", aliceFull)
		eq("ringing (browser)", canonJSON(alice.expect("ringing", func(m map[string]any) bool { return m["sid"] == "x1" })), `{"sid":"x1","type":"ringing"}`)
		bob.sendRaw("<message to='%s' type='chat'><proceed xmlns='urn:xmpp:jingle-message:0' id='x1'/></message>", aliceFull)
		eq("proceeding (browser)", canonJSON(alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "x1" })), `{"polite":false,"sid":"x1","type":"proceeding"}`)
		alice.mustAck(map[string]any{"type": "hangup", "sid": "x1"})
		eq("retract after proceed", canonXML(t, bob.expect("retract", jmiOf(jingle.JMIRetract, "x1")).Raw),
			`<message type="chat"><retract xmlns="urn:xmpp:jingle-message:0" id="x1"><reason xmlns="urn:xmpp:jingle:1"><cancel/></reason></retract><store xmlns="urn:xmpp:hints"/></message>`)

		// An incoming proposal: incoming, ringing, then a reject.
		bob.sendRaw("<message to='alice@%s' id='jm-propose-x2' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='x2'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", srv.ComponentDomain)
		eq("incoming (browser)", canonJSON(alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "x2" })),
			`{"from":"`+bob.jid.String()+`","media":["audio"],"polite":true,"sid":"x2","type":"incoming"}`)
		eq("ringing", canonXML(t, bob.expect("ringing", jmiOf(jingle.JMIRinging, "x2")).Raw),
			`<message type="chat"><ringing xmlns="urn:xmpp:jingle-message:0" id="x2"/><store xmlns="urn:xmpp:hints"/></message>`)
		alice.mustAck(map[string]any{"type": "reject", "sid": "x2", "reason": "busy"})
		eq("reject", canonXML(t, bob.expect("reject", jmiOf(jingle.JMIReject, "x2")).Raw),
			`<message type="chat"><reject xmlns="urn:xmpp:jingle-message:0" id="x2"><reason xmlns="urn:xmpp:jingle:1"><busy/></reason></reject><store xmlns="urn:xmpp:hints"/></message>`)

		// A direct incoming call: ringing session-info; the caller hangs up.
		if r := bob.iq(aliceFull, offerJingle(t, readSDP(t, chromeAudio), "x3", bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-initiate answered %s", r)
		}
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "x3" })
		eq("session-info ringing", canonXML(t, bob.expect("session-info", jingleOf(jingle.ActionSessionInfo, "x3")).Raw),
			`<iq type="set"><jingle xmlns="urn:xmpp:jingle:1" action="session-info" initiator="`+bob.jid.String()+`" sid="x3"><ringing xmlns="urn:xmpp:jingle:apps:rtp:info:1"/></jingle></iq>`)
		bob.iq(aliceFull, `<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='x3' initiator='`+bob.jid.String()+`'><reason><cancel/><text>changed my mind</text></reason></jingle>`)
		eq("hangup (browser)", canonJSON(alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "x3" })),
			`{"reason":"cancel","sid":"x3","text":"changed my mind","type":"hangup"}`)
	})
}
