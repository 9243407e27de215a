package gateway_test

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/gateway"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

// TestPrivilegedRosterAdd: with XEP-0356 granted, an admin puts a web user
// into an XMPP user's roster. Prosody (privilege:2) does it; ejabberd 23.01
// (privilege:1) fails its roster set, and the error says so.
func TestPrivilegedRosterAdd(t *testing.T) {
	xmpptest.EachWith(t, &xmpptest.Options{Privilege: true}, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		alice := connectBrowser(t, gw.Addr, "alice")
		// The privilege advertisement arrives right after the handshake.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(gw.logs.String(), "granted privileges") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := gw.G.AddToXMPPRoster(ctx, jid.MustParse("bob@localhost"), "alice", "Alice")
		if srv.Kind == xmpptest.Ejabberd {
			if err == nil || !strings.Contains(err.Error(), "ejabberd 23.01") {
				t.Fatalf("ejabberd 23.01: got %v, want the clear report of its broken roster set", err)
			}
			t.Logf("ejabberd reports: %v", err)
			return
		}
		if err != nil {
			t.Fatalf("AddToXMPPRoster: %v", err)
		}
		// bob's roster on the server has alice, both ways.
		bob := srv.Dial(ctx, t, "bob", "bobpw")
		go func() { _ = bob.Serve(nil) }()
		var q struct {
			Items []struct {
				JID          string `xml:"jid,attr"`
				Name         string `xml:"name,attr"`
				Subscription string `xml:"subscription,attr"`
			} `xml:"jabber:iq:roster item"`
		}
		r, err := bob.SendIQElement(ctx, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "jabber:iq:roster", Local: "query"}}), stanza.IQ{Type: stanza.GetIQ})
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewTokenDecoder(r)
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "query" {
				_ = d.DecodeElement(&q, &se)
			}
		}
		r.Close()
		aliceBare := "alice@" + srv.ComponentDomain
		found := false
		for _, it := range q.Items {
			if it.JID == aliceBare && it.Subscription == "both" && it.Name == "Alice" {
				found = true
			}
		}
		if !found {
			t.Errorf("bob's roster = %+v, want %s with subscription both", q.Items, aliceBare)
		}
		// alice's roster mirrors it.
		alice.send(map[string]any{"type": "roster"})
		items := alice.expect("roster", nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["subscription"] != "both" {
			t.Errorf("alice's roster = %v", items)
		}
	})
}

// TestRosterAddWithoutPrivilege: everything else works without XEP-0356,
// and the admin is told why the roster add cannot be done.
func TestRosterAddWithoutPrivilege(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := gw.G.AddToXMPPRoster(ctx, jid.MustParse("bob@localhost"), "alice", "")
		if !errors.Is(err, gateway.ErrNoRosterPrivilege) {
			t.Errorf("got %v, want ErrNoRosterPrivilege", err)
		}
	})
}
