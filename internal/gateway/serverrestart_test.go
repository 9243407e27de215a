package gateway_test

import (
	"context"
	"encoding/xml"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/presence"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

// TestServerRestart: a web user and an XMPP user are contacts both ways
// and see each other; the XMPP server restarts (its data, rosters
// included, survives); the component link reconnects; the XMPP user logs in
// again. Both see each other's presence again, in either order of the two
// reconnections:
//
//   - the XMPP user is back before the link: the server's presence
//     broadcast and probe for him find no component, so only the gateway's
//     ResendAll on reconnection (each tab's presence to its contacts, a
//     probe of each contact) brings presence back;
//   - the link is back before the XMPP user: his login's presence and
//     probe reach the gateway.
//
// Between the gateway and the server runs a TCP relay that the test cuts
// and opens again, to order the two reconnections.
func TestServerRestart(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		gw, relay, alice, bob := relayedAliceAndBob(t, srv)
		aliceBare := "alice@" + srv.ComponentDomain

		// checkBack waits until the XMPP user p sees the tab's presence
		// with the gateway's caps, the tab sees p's, and the tab's roster
		// lists p's resource and no other.
		checkBack := func(p *xmppPeer, how string) {
			t.Helper()
			got := p.expectPresence(func(v inPresence) bool { return v.From == alice.JID().String() && v.Type == "" }, "the web user's presence "+how)
			if got.Caps.Hash != "sha-1" || got.Caps.Node != presence.DefaultCapsURI || got.Caps.Ver != gw.G.Presence.CapsVer() {
				t.Errorf("caps %s = %+v, want sha-1 %s %s", how, got.Caps, presence.DefaultCapsURI, gw.G.Presence.CapsVer())
			}
			alice.expect("presence", func(m map[string]any) bool { return m["jid"] == p.jid.String() && m["available"] == true })
			alice.send(map[string]any{"type": "roster"})
			r := alice.expect("roster", nil)
			items, _ := r["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("roster %s = %v", how, r)
			}
			it := items[0].(map[string]any)
			res, _ := it["resources"].([]any)
			var jids []any
			for _, x := range res {
				jids = append(jids, x.(map[string]any)["jid"])
			}
			if it["jid"] != "bob@localhost" || it["subscription"] != "both" || len(jids) != 1 || jids[0] != p.jid.String() {
				t.Errorf("roster item %s = %v, want bob, both, with only the resource %s", how, it, p.jid)
			}
		}

		// 1. The link breaks first (so that the unavailable presence the
		// server sends for bob as it stops is lost), the server restarts,
		// and the XMPP user is back before the link.
		connects := gw.G.Link.Stats().Connects
		relay.cut()
		waitFor(t, "the link to go down", func() bool { return !gw.G.Link.Ready() })
		srv.Restart(t)
		drain(alice)
		bob2 := dialPeer(t, srv, "bob")
		if sub := peerRoster(t, bob2)[aliceBare]; sub != "both" {
			t.Fatalf("bob's roster after the restart: alice is %q, want both (the server's data must survive)", sub)
		}
		bob2.sendPresence("", "")
		peerRoster(t, bob2) // a round trip: the server has routed bob's presence and probe
		if gw.G.Link.Ready() {
			t.Fatal("the link came back before bob: the test cannot order the reconnections")
		}
		relay.setOpen(true)
		waitFor(t, "the link to come back", func() bool { return gw.G.Link.Ready() && gw.G.Link.Stats().Connects > connects })
		// What the gateway knew of bob's first session is stale: the tab
		// hears it go, then bob's new session.
		alice.expect("presence", func(m map[string]any) bool { return m["jid"] == bob.jid.String() && m["available"] == false })
		checkBack(bob2, "after the link's reconnection (ResendAll)")

		// 2. The link is back first.
		connects = gw.G.Link.Stats().Connects
		srv.Restart(t)
		waitFor(t, "the link to come back", func() bool { return gw.G.Link.Ready() && gw.G.Link.Stats().Connects > connects })
		drain(alice)
		bob3 := dialPeer(t, srv, "bob")
		bob3.sendPresence("", "")
		checkBack(bob3, "after bob's login")

		if st := gw.G.Link.Stats(); st.HandlerErrors != 0 {
			t.Errorf("link stats %+v", st)
		}
	})
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drain forgets the messages the browser got so far.
func drain(b *browser) {
	for {
		select {
		case m, ok := <-b.msgs:
			if !ok {
				return
			}
			_ = m
			continue
		default:
		}
		break
	}
	b.backlog = nil
}

// peerRoster fetches p's roster: subscription by bare JID.
func peerRoster(t *testing.T, p *xmppPeer) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var q struct {
		Items []struct {
			JID          string `xml:"jid,attr"`
			Subscription string `xml:"subscription,attr"`
		} `xml:"item"`
	}
	err := p.s.UnmarshalIQElement(ctx, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "jabber:iq:roster", Local: "query"}}), stanza.IQ{Type: stanza.GetIQ}, &q)
	if err != nil {
		t.Fatalf("%s: roster get: %v", p.jid, err)
	}
	out := map[string]string{}
	for _, it := range q.Items {
		out[it.JID] = it.Subscription
	}
	return out
}

// relay is a TCP relay to a target address that accepts connections only
// while open (it closes them at once otherwise); connections it relays
// live on until either side closes.
type relay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	open  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// relayedAliceAndBob starts a gateway whose component link runs through a
// relay the test can cut, alice's tab, and bob (an XMPP user online),
// subscribed to each other.
func relayedAliceAndBob(t *testing.T, srv *xmpptest.Server) (*runningGateway, *relay, *browser, *xmppPeer) {
	t.Helper()
	srv.Register(t, "bob", "bobpw")
	relay := startRelay(t, srv.ComponentAddr)
	cfg := gatewayConfig(srv, t.TempDir())
	cfg.XMPP.Server = relay.addr()
	gw := startGateway(t, cfg)
	alice := connectBrowser(t, gw.Addr, "alice")
	bob := dialPeer(t, srv, "bob")
	bob.sendPresence("", "")
	subscribeBoth(t, alice, bob, srv.ComponentDomain)
	return gw, relay, alice, bob
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, open: true, conns: map[net.Conn]bool{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) setOpen(open bool) {
	r.mu.Lock()
	r.open = open
	r.mu.Unlock()
}

// cut closes the relayed connections and refuses new ones until setOpen.
func (r *relay) cut() {
	r.mu.Lock()
	r.open = false
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
}

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		open := r.open
		r.mu.Unlock()
		if !open {
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", r.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		r.conns[c], r.conns[u] = true, true
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(c, u)
		go r.pipe(u, c)
	}
}

// pipe copies src to dst; when src ends, both connections close.
func (r *relay) pipe(dst, src net.Conn) {
	defer r.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	r.mu.Lock()
	delete(r.conns, dst)
	delete(r.conns, src)
	r.mu.Unlock()
}

func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
