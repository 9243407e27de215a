package gateway_test

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// sendRawPresence sends a presence stanza the test writes by hand.
func (p *xmppPeer) sendRawPresence(raw string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.s.Send(ctx, xml.NewDecoder(strings.NewReader(raw))); err != nil {
		p.t.Fatalf("%s: sending %s: %v", p.jid, raw, err)
	}
}

// settle answers a roster request on b and returns every message b got
// before the answer, the backlog included (the gateway handles a tab's
// messages in order, so what was queued for it comes first).
func settle(b *browser) []map[string]any {
	b.t.Helper()
	b.send(map[string]any{"type": "roster", "id": "settle"})
	b.expect("roster", func(m map[string]any) bool { return m["id"] == "settle" })
	out := b.backlog
	b.backlog = nil
	return out
}

func countType(msgs []map[string]any, typ string, pred func(map[string]any) bool) int {
	n := 0
	for _, m := range msgs {
		if m["type"] == typ && (pred == nil || pred(m)) {
			n++
		}
	}
	return n
}

// rosterResources returns the resources the tab's roster lists for
// contact (nil when the contact is not in the roster).
func rosterResources(t *testing.T, b *browser, contact string) []map[string]any {
	t.Helper()
	b.send(map[string]any{"type": "roster", "id": "res"})
	r := b.expect("roster", func(m map[string]any) bool { return m["id"] == "res" })
	for _, x := range r["items"].([]any) {
		it := x.(map[string]any)
		if it["jid"] != contact {
			continue
		}
		out := []map[string]any{}
		for _, res := range it["resources"].([]any) {
			out = append(out, res.(map[string]any))
		}
		return out
	}
	return nil
}

// TestPendingSubscribeDelivered: a subscribe that comes while the web user
// has no tab is kept and delivered as subscribe-request when a tab opens,
// and to each tab once: a second tab gets it, the first not again.
func TestPendingSubscribeDelivered(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		bob := dialPeer(t, srv, "bob")
		bob.sendPresence("", "")
		bob.sendPresence(stanza.SubscribePresence, "alice@"+srv.ComponentDomain)
		waitFor(t, "the request to be stored", func() bool {
			it, err := gw.G.Store.Get(context.Background(), "alice", "bob@localhost")
			return err == nil && it.PendingIn
		})

		isBob := func(m map[string]any) bool { return m["jid"] == "bob@localhost" }
		tab1 := connectBrowser(t, gw.Addr, "alice")
		tab1.expect("subscribe-request", isBob)
		if n := countType(settle(tab1), "subscribe-request", nil); n != 0 {
			t.Errorf("first tab: %d more subscribe-requests", n)
		}
		tab2 := connectBrowser(t, gw.Addr, "alice")
		tab2.expect("subscribe-request", isBob)
		if n := countType(settle(tab2), "subscribe-request", nil); n != 0 {
			t.Errorf("second tab: %d more subscribe-requests", n)
		}
		if n := countType(settle(tab1), "subscribe-request", nil); n != 0 {
			t.Errorf("the first tab got the request again when the second opened (%d)", n)
		}
		// The request is still there to answer.
		tab2.mustAck(map[string]any{"type": "approve", "jid": "bob@localhost"})
		bob.expectPresence(func(p inPresence) bool { return p.Type == "subscribed" }, "subscribed")
	})
}

// TestCallPolicyDomains: with calls = "domains", a user of a listed domain
// who is no contact may call and be called; anyone else may not.
func TestCallPolicyDomains(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		cfg := gatewayConfig(srv, t.TempDir())
		cfg.Policy.Calls = "domains"
		cfg.Policy.Domains = []string{srv.Domain}
		gw := startGateway(t, cfg)
		alice := connectBrowser(t, gw.Addr, "alice")
		aliceBare := "alice@" + srv.ComponentDomain
		bob := dialScripted(t, srv, "bob")
		bob.sendRaw("<presence/>")

		// alice calls bob, who is not in her roster.
		alice.mustAck(map[string]any{"type": "call", "sid": "out1", "to": bob.jid.Bare().String(), "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "out1"))
		alice.mustAck(map[string]any{"type": "hangup", "sid": "out1"})
		bob.expect("retract", jmiOf(jingle.JMIRetract, "out1"))

		// bob calls alice: it rings.
		bob.sendRaw("<message to='%s' id='jm-propose-in1' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='in1'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", aliceBare)
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "in1" })
		bob.expect("ringing", jmiOf(jingle.JMIRinging, "in1"))
		alice.mustAck(map[string]any{"type": "reject", "sid": "in1"})
		bob.expect("reject", jmiOf(jingle.JMIReject, "in1"))

		// Domains not listed: another server, and the gateway's own web
		// users who are no contacts.
		for _, to := range []string{"mallory@example.net", "erin@" + srv.ComponentDomain} {
			if r := alice.request(map[string]any{"type": "call", "sid": "no-" + to, "to": to, "media": []string{"audio"}}); r["code"] != "forbidden" {
				t.Errorf("call to %s: %v, want forbidden", to, r)
			}
		}

		// bob's domain no longer listed: he may neither call nor be called.
		gw.stop(t)
		cfg.Policy.Domains = []string{"example.net"}
		gw = startGateway(t, cfg)
		alice = connectBrowser(t, gw.Addr, "alice")
		if r := alice.request(map[string]any{"type": "call", "sid": "out2", "to": bob.jid.Bare().String(), "media": []string{"audio"}}); r["code"] != "forbidden" {
			t.Errorf("call to bob, domain not listed: %v, want forbidden", r)
		}
		bob.sendRaw("<message to='%s' id='jm-propose-in2' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='in2'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", aliceBare)
		rej := bob.expect("reject", jmiOf(jingle.JMIReject, "in2"))
		if !strings.Contains(rej.Raw, "call policy") {
			t.Errorf("reject = %s", rej.Raw)
		}
		if n := countType(settle(alice), "incoming", nil); n != 0 {
			t.Errorf("a refused call rang the tab")
		}
	})
}

// TestContactPresencePerWebUser: two web users have the same XMPP
// contact. A directed unavailable to one, one removing the contact, leave
// the other's view alone; an unsubscribed tells the tabs the resource went.
func TestContactPresencePerWebUser(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		alice := connectBrowser(t, gw.Addr, "alice")
		carol := connectBrowser(t, gw.Addr, "carol")
		bob := dialPeer(t, srv, "bob")
		bob.sendPresence("", "")
		subscribeBoth(t, alice, bob, srv.ComponentDomain)
		subscribeBoth(t, carol, bob, srv.ComponentDomain)
		bobFull := bob.jid.String()
		isBob := func(avail bool) func(map[string]any) bool {
			return func(m map[string]any) bool { return m["jid"] == bobFull && m["available"] == avail }
		}
		carolSeesBob := func(how string) {
			t.Helper()
			if n := countType(settle(carol), "presence", isBob(false)); n != 0 {
				t.Errorf("%s: carol was told bob went", how)
			}
			if res := rosterResources(t, carol, "bob@localhost"); len(res) != 1 || res[0]["jid"] != bobFull || res[0]["available"] != true {
				t.Errorf("%s: carol's roster lists bob's resources %v", how, res)
			}
		}

		// bob tells alice alone that he is away.
		bob.sendRawPresence("<presence type='unavailable' to='alice@" + srv.ComponentDomain + "'/>")
		alice.expect("presence", isBob(false))
		if res := rosterResources(t, alice, "bob@localhost"); len(res) != 0 {
			t.Errorf("alice's roster lists bob's resources %v after his unavailable", res)
		}
		carolSeesBob("after bob's unavailable to alice")

		// alice removes bob.
		alice.mustAck(map[string]any{"type": "remove", "jid": "bob@localhost"})
		alice.expect("roster-push", func(m map[string]any) bool { return m["removed"] == true })
		carolSeesBob("after alice removed bob")

		// bob's presence still reaches carol.
		bob.sendRawPresence("<presence><show>chat</show></presence>")
		carol.expect("presence", func(m map[string]any) bool { return m["jid"] == bobFull && m["show"] == "chat" })

		// bob cancels carol's subscription: her tab hears him go.
		bob.sendPresence(stanza.UnsubscribedPresence, "carol@"+srv.ComponentDomain)
		carol.expect("presence", isBob(false))
		if res := rosterResources(t, carol, "bob@localhost"); len(res) != 0 {
			t.Errorf("carol's roster lists bob's resources %v after unsubscribed", res)
		}
	})
}

// TestContactShowStatusPriority: the show, status and priority an XMPP
// contact sends reach the tab, in the presence message and in the roster.
func TestContactShowStatusPriority(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		alice := connectBrowser(t, gw.Addr, "alice")
		bob := dialPeer(t, srv, "bob")
		bob.sendPresence("", "")
		subscribeBoth(t, alice, bob, srv.ComponentDomain)

		bob.sendRawPresence("<presence><show>dnd</show><status>In a meeting</status><priority>7</priority></presence>")
		ev := alice.expect("presence", func(m map[string]any) bool { return m["jid"] == bob.jid.String() && m["show"] == "dnd" })
		if ev["available"] != true || ev["status"] != "In a meeting" || ev["priority"] != 7.0 {
			t.Errorf("presence = %v", ev)
		}
		res := rosterResources(t, alice, "bob@localhost")
		if len(res) != 1 || res[0]["show"] != "dnd" || res[0]["status"] != "In a meeting" || res[0]["priority"] != 7.0 {
			t.Errorf("roster resources = %v", res)
		}

		// A presence without show or priority: they go.
		bob.sendRawPresence("<presence><status>Back</status></presence>")
		ev = alice.expect("presence", func(m map[string]any) bool { return m["jid"] == bob.jid.String() && m["status"] == "Back" })
		if ev["available"] != true || ev["show"] != nil || ev["priority"] != nil {
			t.Errorf("presence = %v", ev)
		}
		res = rosterResources(t, alice, "bob@localhost")
		if len(res) != 1 || res[0]["show"] != nil || res[0]["status"] != "Back" || res[0]["priority"] != nil {
			t.Errorf("roster resources after the new presence = %v", res)
		}
	})
}

// TestRosterWhileLinkDown: while the component link is down, roster
// changes that must reach the XMPP server are refused (unavailable) and
// the roster stays as it was; a tab that closes meanwhile is announced
// gone to the contacts when the link is back.
func TestRosterWhileLinkDown(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		gw, relay, alice, bob := relayedAliceAndBob(t, srv)
		tab2 := connectBrowser(t, gw.Addr, "alice")
		bob.expectPresence(func(p inPresence) bool { return p.From == tab2.JID().String() && p.Type == "" }, "second tab's presence")

		connects := gw.G.Link.Stats().Connects
		relay.cut()
		waitFor(t, "the link to go down", func() bool { return !gw.G.Link.Ready() })
		for _, msg := range []map[string]any{
			{"type": "add", "jid": "carol@localhost"},
			{"type": "remove", "jid": "bob@localhost"},
			{"type": "subscribe", "jid": "bob@localhost"},
			{"type": "approve", "jid": "dave@localhost"},
			{"type": "deny", "jid": "bob@localhost"},
		} {
			if r := alice.request(msg); r["code"] != "unavailable" || !strings.Contains(r["message"].(string), "not reachable") {
				t.Errorf("%v with the link down: %v, want unavailable", msg, r)
			}
		}
		if res := rosterResources(t, alice, "bob@localhost"); res == nil {
			t.Error("bob left alice's roster")
		}
		alice.send(map[string]any{"type": "roster", "id": "all"})
		if items := alice.expect("roster", func(m map[string]any) bool { return m["id"] == "all" })["items"].([]any); len(items) != 1 ||
			items[0].(map[string]any)["subscription"] != "both" {
			t.Errorf("roster after the refused changes: %v", items)
		}
		// rename changes nothing on the server: it works.
		alice.mustAck(map[string]any{"type": "rename", "jid": "bob@localhost", "name": "Bob"})

		// The second tab closes while the link is down.
		tab2.mustAck(map[string]any{"type": "logout"})
		peerRoster(t, bob)
		relay.setOpen(true)
		waitFor(t, "the link to come back", func() bool { return gw.G.Link.Ready() && gw.G.Link.Stats().Connects > connects })
		bob.expectPresence(func(p inPresence) bool { return p.From == tab2.JID().String() && p.Type == "unavailable" }, "the closed tab's unavailable after the link came back")
		bob.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Type == "" }, "the open tab's presence after the link came back")

		// And roster changes work again.
		alice.mustAck(map[string]any{"type": "add", "jid": "carol@localhost"})
	})
}
