package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/presence"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

func bare(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return s
	}
	return j.Bare().String()
}

// TestSubscriptionAndPresence: a web user and an XMPP user subscribe to
// each other (with approval both ways), see each other's presence, and the
// XMPP user's client finds the web user's Jingle features by disco#info and
// caps. Rosters survive a gateway restart, and presence flows again after
// it.
func TestSubscriptionAndPresence(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		dir := t.TempDir()
		cfg := gatewayConfig(srv, dir)
		gw := startGateway(t, cfg)
		bob := dialPeer(t, srv, "bob")
		bob.sendPresence("", "") // initial presence: bob is online
		alice := connectBrowser(t, gw.Addr, "alice")
		aliceBare := "alice@" + srv.ComponentDomain

		// alice adds bob: bob's server delivers the subscribe.
		alice.mustAck(map[string]any{"type": "add", "jid": "bob@localhost", "name": "Bob", "groups": []string{"Friends"}})
		push := alice.expect("roster-push", nil)
		if item := push["item"].(map[string]any); item["jid"] != "bob@localhost" || item["ask"] != true || item["name"] != "Bob" {
			t.Errorf("roster push after add: %v", push)
		}
		bob.expectPresence(func(p inPresence) bool { return p.Type == "subscribe" && bare(p.From) == aliceBare }, "subscribe from alice")

		// bob approves and asks back.
		bob.sendPresence(stanza.SubscribedPresence, aliceBare)
		bob.sendPresence(stanza.SubscribePresence, aliceBare)
		req := alice.expect("subscribe-request", nil)
		if req["jid"] != "bob@localhost" {
			t.Errorf("subscribe-request = %v", req)
		}
		alice.expect("roster-push", func(m map[string]any) bool {
			return m["item"].(map[string]any)["subscription"] == "to"
		})
		// bob's presence reaches alice once she sees it (the gateway
		// probes, or bob's server forwards it).
		ev := alice.expect("presence", func(m map[string]any) bool {
			return bare(m["jid"].(string)) == "bob@localhost" && m["available"] == true
		})
		if !strings.HasPrefix(ev["jid"].(string), "bob@localhost/") {
			t.Errorf("presence event for %v, want a full JID", ev["jid"])
		}
		// The gateway learns bob's capabilities by disco#info.
		caps := alice.expect("presence", func(m map[string]any) bool {
			return bare(m["jid"].(string)) == "bob@localhost" && m["capsKnown"] == true
		})
		if media, _ := caps["media"].([]any); len(media) != 2 || caps["jmi"] != true {
			t.Errorf("bob's media from his disco#info: %v", caps)
		}

		// alice approves: bob gets subscribed, then alice's presence with
		// caps.
		alice.mustAck(map[string]any{"type": "approve", "jid": "bob@localhost"})
		bob.expectPresence(func(p inPresence) bool { return p.Type == "subscribed" && bare(p.From) == aliceBare }, "subscribed from alice")
		avail := bob.expectPresence(func(p inPresence) bool { return p.Type == "" && p.From == alice.JID().String() }, "alice's presence")
		if avail.Caps.Hash != "sha-1" || avail.Caps.Node != presence.DefaultCapsURI || avail.Caps.Ver != gw.G.Presence.CapsVer() {
			t.Errorf("alice's caps = %+v", avail.Caps)
		}

		// disco#info of alice's tab and of the caps node: exactly the
		// Jingle features, and the caps hash bob computes matches.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, node := range []string{"", avail.Caps.Node + "#" + avail.Caps.Ver} {
			info, err := disco.GetInfo(ctx, node, alice.JID(), bob.s)
			if err != nil {
				t.Fatalf("disco#info %s node %q: %v", alice.JID(), node, err)
			}
			var feats []string
			for _, f := range info.Features {
				feats = append(feats, f.Var)
			}
			slices.Sort(feats)
			want := slices.Clone(presence.WebFeatures)
			slices.Sort(want)
			if !slices.Equal(feats, want) {
				t.Errorf("disco#info features (node %q) = %v, want exactly %v", node, feats, want)
			}
			if len(info.Identity) != 1 || info.Identity[0].Category != "client" || info.Identity[0].Type != "web" {
				t.Errorf("identity = %+v, want client/web", info.Identity)
			}
			if ver := presence.Ver(info.Identity, feats); ver != avail.Caps.Ver {
				t.Errorf("caps ver from disco#info = %s, presence said %s", ver, avail.Caps.Ver)
			}
		}

		// alice's roster: both, with bob's live resource.
		alice.send(map[string]any{"type": "roster", "id": "r1"})
		r := alice.expect("roster", nil)
		items := r["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["subscription"] != "both" || len(items[0].(map[string]any)["resources"].([]any)) != 1 {
			t.Fatalf("roster = %v", r)
		}

		// bob goes away and comes back with a status.
		bob.sendPresence(stanza.UnavailablePresence, "")
		alice.expect("presence", func(m map[string]any) bool {
			return bare(m["jid"].(string)) == "bob@localhost" && m["available"] == false
		})

		// alice sets her presence: bob sees show and status.
		alice.mustAck(map[string]any{"type": "presence", "show": "away", "status": "in a meeting"})
		// bob is offline now: come back to receive.
		bob2 := dialPeer(t, srv, "bob")
		bob2.sendPresence("", "")
		got := bob2.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Type == "" }, "alice's presence after bob's login (probe answered)")
		if got.Show != "away" || got.Status != "in a meeting" {
			t.Errorf("alice's presence = %+v, want away/in a meeting", got)
		}

		// A second tab: bob sees a second resource; closing it sends
		// unavailable from that resource only.
		tab2 := connectBrowser(t, gw.Addr, "alice")
		bob2.expectPresence(func(p inPresence) bool { return p.From == tab2.JID().String() && p.Type == "" }, "second tab's presence")
		tab2.mustAck(map[string]any{"type": "logout"})
		bob2.expectPresence(func(p inPresence) bool { return p.From == tab2.JID().String() && p.Type == "unavailable" }, "second tab's unavailable")

		// Gateway restart: unavailable for alice at shutdown, roster kept,
		// presence again after.
		gw.stop(t)
		bob2.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Type == "unavailable" }, "unavailable at gateway shutdown")
		gw2 := startGateway(t, cfg)
		alice2 := connectBrowser(t, gw2.Addr, "alice")
		alice2.send(map[string]any{"type": "roster"})
		r = alice2.expect("roster", nil)
		if items := r["items"].([]any); len(items) != 1 || items[0].(map[string]any)["subscription"] != "both" {
			t.Fatalf("roster after restart = %v", r)
		}
		bob2.expectPresence(func(p inPresence) bool { return p.From == alice2.JID().String() && p.Type == "" }, "alice's presence after the gateway restart")
		alice2.expect("presence", func(m map[string]any) bool {
			return bare(m["jid"].(string)) == "bob@localhost" && m["available"] == true
		})
	})
}

// TestSubscriptionDenied: an XMPP user's request is denied; a web user's
// request is refused by the XMPP user.
func TestSubscriptionDenied(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "carol", "carolpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		carol := dialPeer(t, srv, "carol")
		carol.sendPresence("", "")
		alice := connectBrowser(t, gw.Addr, "alice")
		aliceBare := "alice@" + srv.ComponentDomain

		// carol asks; alice denies; carol is told unsubscribed.
		carol.sendPresence(stanza.SubscribePresence, aliceBare)
		alice.expect("subscribe-request", func(m map[string]any) bool { return m["jid"] == "carol@localhost" })
		alice.mustAck(map[string]any{"type": "deny", "jid": "carol@localhost"})
		carol.expectPresence(func(p inPresence) bool { return p.Type == "unsubscribed" && bare(p.From) == aliceBare }, "unsubscribed")
		// Nothing is left in alice's roster, and carol does not get alice's presence.
		alice.send(map[string]any{"type": "roster"})
		if items := alice.expect("roster", nil)["items"].([]any); len(items) != 0 {
			t.Errorf("roster after deny = %v", items)
		}
		// A second deny has nothing to deny.
		if r := alice.request(map[string]any{"type": "deny", "jid": "carol@localhost"}); r["code"] != "not-found" {
			t.Errorf("second deny: %v", r)
		}

		// alice asks carol; carol refuses.
		alice.mustAck(map[string]any{"type": "add", "jid": "carol@localhost"})
		carol.expectPresence(func(p inPresence) bool { return p.Type == "subscribe" && bare(p.From) == aliceBare }, "subscribe")
		carol.sendPresence(stanza.UnsubscribedPresence, aliceBare)
		alice.expect("roster-push", func(m map[string]any) bool {
			it := m["item"].(map[string]any)
			return it["jid"] == "carol@localhost" && it["subscription"] == "none" && it["ask"] == nil
		})

		// Bad input gets specific errors.
		for _, tc := range []struct {
			msg  map[string]any
			code string
		}{
			{map[string]any{"type": "add", "jid": "not a jid@@"}, "bad-request"},
			{map[string]any{"type": "add", "jid": aliceBare}, "bad-request"},
			{map[string]any{"type": "add", "jid": 42}, "bad-request"},
			{map[string]any{"type": "remove", "jid": "nobody@localhost"}, "not-found"},
			{map[string]any{"type": "rename", "jid": "carol@localhost"}, "bad-request"},
			{map[string]any{"type": "presence", "show": "sleeping"}, "bad-request"},
			{map[string]any{"type": "presence", "priority": 1000}, "bad-request"},
			{map[string]any{"type": "add", "jid": "x@localhost", "groups": []string{""}}, "bad-request"},
		} {
			if r := alice.request(tc.msg); r["type"] != "error" || r["code"] != tc.code {
				t.Errorf("%v: answered %v, want error %s", tc.msg, r, tc.code)
			}
		}
		// remove carol: she gets unsubscribe.
		alice.mustAck(map[string]any{"type": "remove", "jid": "carol@localhost"})
		alice.expect("roster-push", func(m map[string]any) bool { return m["removed"] == true })
	})
}

// TestProbeAnswered: a contact's probe is answered with each tab's presence,
// or unavailable when the web user is offline; a stranger's probe gets
// unsubscribed (which the stranger's server, having no subscription, drops:
// RFC 6121 §3.2.3 — so the test reads it in the gateway's log).
func TestProbeAnswered(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "dave", "davepw")
		srv.Register(t, "erin", "erinpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		dave := dialPeer(t, srv, "dave")
		dave.sendPresence("", "")
		alice := connectBrowser(t, gw.Addr, "alice")
		aliceBare := "alice@" + srv.ComponentDomain
		subscribeBoth(t, alice, dave, srv.ComponentDomain)

		alice.mustAck(map[string]any{"type": "presence", "show": "dnd", "status": "busy"})
		dave.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Show == "dnd" }, "alice's dnd")
		dave.sendPresence(stanza.ProbePresence, aliceBare)
		got := dave.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Type == "" }, "presence answering the probe")
		if got.Show != "dnd" || got.Status != "busy" {
			t.Errorf("probe answer = %+v", got)
		}
		alice.mustAck(map[string]any{"type": "logout"})
		dave.expectPresence(func(p inPresence) bool { return p.From == alice.JID().String() && p.Type == "unavailable" }, "unavailable at logout")
		dave.sendPresence(stanza.ProbePresence, aliceBare)
		dave.expectPresence(func(p inPresence) bool { return bareOf(p.From) == aliceBare && p.Type == "unavailable" }, "unavailable answering the probe")

		erin := dialPeer(t, srv, "erin")
		erin.sendPresence(stanza.ProbePresence, aliceBare)
		deadline := time.Now().Add(10 * time.Second)
		want := "type=unsubscribed from=" + aliceBare + " to=erin@localhost"
		for !strings.Contains(gw.logs.String(), want) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(gw.logs.String(), want) {
			t.Errorf("the stranger's probe was not answered unsubscribed")
		}
	})
}
