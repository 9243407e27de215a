package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// startJinglePeer logs user in and runs a pion-based Jingle peer for it.
func startJinglePeer(t *testing.T, srv *xmpptest.Server, user string, cfg jinglepeer.Config) *jinglepeer.Peer {
	t.Helper()
	p, _ := runJinglePeer(t, srv, user, cfg)
	return p
}

// runJinglePeer starts a pion Jingle peer logged in as user; kill cuts its
// TCP connection, as a phone losing its network does: no session-terminate,
// no unavailable presence from the peer itself (the server sends that).
func runJinglePeer(t *testing.T, srv *xmpptest.Server, user string, cfg jinglepeer.Config) (*jinglepeer.Peer, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg.Session = srv.Dial(ctx, t, user, user+"pw")
	p, err := jinglepeer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(runCtx) }()
	stop := func() { cancelRun(); <-done }
	t.Cleanup(stop)
	kill := func() { _ = cfg.Session.Conn().Close() }
	select {
	case <-p.Ready():
	case <-time.After(20 * time.Second):
		t.Fatalf("jingle peer %s not ready", user)
	}
	return p, kill
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setupPair: a web user alice and a pion Jingle peer bob who are contacts.
func setupPair(t *testing.T, srv *xmpptest.Server, cfg jinglepeer.Config) (*runningGateway, *browser, *jinglepeer.Peer) {
	t.Helper()
	srv.Register(t, "bob", "bobpw")
	gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
	alice := connectBrowser(t, gw.Addr, "alice")
	befriend(t, alice, srv, "bob")
	bob := startJinglePeer(t, srv, "bob", cfg)
	// alice sees bob's Jingle peer and its capabilities.
	alice.expect("presence", func(m map[string]any) bool {
		return m["jid"] == bob.JID().String() && m["capsKnown"] == true
	})
	return gw, alice, bob
}

// TestMediaBrowserCallsPeer: a web user calls the pion peer, with JMI (bare
// JID) and without (full JID of a peer without JMI); ICE and DTLS connect,
// RTP flows, the data channel echoes, hangup from the browser.
func TestMediaBrowserCallsPeer(t *testing.T) {
	for _, jmi := range []bool{true, false} {
		name := "jmi"
		if !jmi {
			name = "direct"
		}
		t.Run(name, func(t *testing.T) {
			xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
				_, a, bob := setupPair(t, srv, jinglepeer.Config{AutoAccept: true, Echo: true, NoJMI: !jmi})
				alice := newPionBrowser(t, a)
				to := "bob@localhost"
				if !jmi {
					to = bob.JID().String()
				}
				alice.mustAck(map[string]any{"type": "call", "sid": "m1", "to": to, "media": []string{"audio", "video"}})
				alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "m1" })
				alice.start("m1", []string{"audio", "video"}, true)
				alice.offer(nil)
				alice.takeAnswer()
				alice.waitConnected(20 * time.Second)
				call := bob.Lookup("m1")
				if call == nil {
					t.Fatal("the peer has no call m1 (the JMI id must be the Jingle sid)")
				}
				if err := call.WaitConnected(waitCtx(t)); err != nil {
					t.Fatalf("pion peer: %v (state %s)", err, call.ConnectionState())
				}
				if call.JMI() != jmi {
					t.Errorf("peer saw JMI=%v, want %v", call.JMI(), jmi)
				}
				// The data channel echoes.
				alice.mu.Lock()
				dc := alice.dc
				alice.mu.Unlock()
				deadline := time.Now().Add(10 * time.Second)
				for dc.ReadyState() != webrtc.DataChannelStateOpen && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if err := dc.SendText("hello through jingle"); err != nil {
					t.Fatalf("data channel: %v", err)
				}
				for {
					alice.mu.Lock()
					got := len(alice.dcMsgs)
					alice.mu.Unlock()
					if got > 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("no data channel echo")
					}
					time.Sleep(20 * time.Millisecond)
				}
				alice.mustAck(map[string]any{"type": "hangup", "sid": "m1"})
				ev, err := call.Wait(waitCtx(t), jinglepeer.EventTerminated)
				if err != nil {
					t.Fatalf("peer not terminated: %v", err)
				}
				if ev.Reason != jingle.ReasonSuccess {
					t.Errorf("terminate reason %v", ev.Reason)
				}
			})
		})
	}
}

// TestMediaPeerCallsBrowser: the pion peer calls the web user, with JMI
// (to the bare JID: every tab rings) and without (session-initiate to the
// tab's full JID); ICE and DTLS connect and RTP flows both ways; the peer
// hangs up the first call, the browser the second. The web user has a
// second tab: the proposal rings it too, and it hears answered-elsewhere
// when the first tab takes the call; a direct call never reaches it.
func TestMediaPeerCallsBrowser(t *testing.T) {
	for _, jmi := range []bool{true, false} {
		name := "jmi"
		if !jmi {
			name = "direct"
		}
		t.Run(name, func(t *testing.T) {
			xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
				gw, a, bob := setupPair(t, srv, jinglepeer.Config{})
				alice := newPionBrowser(t, a)
				tab2 := connectBrowser(t, gw.Addr, "alice")
				to := jid.MustParse("alice@" + srv.ComponentDomain)
				if !jmi {
					to = a.JID()
				}
				call, err := bob.Call(waitCtx(t), to, []string{"audio", "video"})
				if err != nil {
					t.Fatal(err)
				}
				in := alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == call.SID() })
				if in["from"] != bob.JID().String() || in["polite"] != true {
					t.Errorf("incoming = %v", in)
				}
				if _, err := call.Wait(waitCtx(t), jinglepeer.EventRinging); err != nil {
					t.Fatalf("the caller heard no ringing: %v", err)
				}
				if jmi {
					tab2.expect("incoming", func(m map[string]any) bool { return m["sid"] == call.SID() })
				}
				alice.mustAck(map[string]any{"type": "accept", "sid": call.SID()})
				if jmi {
					h := tab2.expect("hangup", func(m map[string]any) bool { return m["sid"] == call.SID() })
					if h["reason"] != "answered-elsewhere" {
						t.Errorf("the other tab: %v, want hangup answered-elsewhere", h)
					}
				}
				alice.start(call.SID(), nil, false)
				alice.takeOffer()
				alice.waitConnected(20 * time.Second)
				if err := call.WaitConnected(waitCtx(t)); err != nil {
					t.Fatalf("pion peer: %v", err)
				}
				if !jmi {
					for _, m := range append(tab2.backlog, drainBrowser(tab2)...) {
						if m["sid"] == call.SID() {
							t.Errorf("a direct call to the first tab reached the second: %v", m)
						}
					}
				}
				if call.JMI() != jmi {
					t.Errorf("JMI = %v, want %v", call.JMI(), jmi)
				}
				alice.waitPackets("audio", 5, 15*time.Second)
				alice.waitPackets("video", 5, 15*time.Second)
				if jmi {
					if err := call.Hangup(waitCtx(t), jingle.ReasonSuccess); err != nil {
						t.Fatal(err)
					}
					h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == call.SID() })
					if h["reason"] != "success" {
						t.Errorf("hangup = %v", h)
					}
					return
				}
				alice.mustAck(map[string]any{"type": "hangup", "sid": call.SID(), "reason": "success"})
				ev, err := call.Wait(waitCtx(t), jinglepeer.EventTerminated)
				if err != nil || ev.Reason != jingle.ReasonSuccess {
					t.Errorf("peer: terminated %v, %v", ev.Reason, err)
				}
			})
		})
	}
}

// TestMediaPeerGoesOffline: mid-call, the XMPP peer's connection drops
// without a session-terminate; the unavailable presence the server sends
// for it ends the call for the browser with gone.
func TestMediaPeerGoesOffline(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		a := connectBrowser(t, gw.Addr, "alice")
		befriend(t, a, srv, "bob")
		bob, kill := runJinglePeer(t, srv, "bob", jinglepeer.Config{AutoAccept: true})
		a.expect("presence", func(m map[string]any) bool { return m["jid"] == bob.JID().String() && m["capsKnown"] == true })
		alice := newPionBrowser(t, a)
		alice.mustAck(map[string]any{"type": "call", "sid": "off1", "to": "bob@localhost", "media": []string{"audio"}})
		alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "off1" })
		alice.start("off1", []string{"audio"}, false)
		alice.offer(nil)
		alice.takeAnswer()
		alice.waitConnected(20 * time.Second)
		if err := bob.Lookup("off1").WaitConnected(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		kill()
		h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "off1" })
		if h["reason"] != "gone" || h["text"] != "the peer went offline" {
			t.Errorf("hangup = %v, want reason gone from the peer's unavailable presence", h)
		}
		// The call is over at the gateway: more messages for it are refused.
		if r := alice.request(map[string]any{"type": "hangup", "sid": "off1"}); r["type"] != "error" || r["code"] != "not-found" {
			t.Errorf("hangup after gone: %v", r)
		}
	})
}

// TestMediaRenegotiation: an audio-only call gets video mid-call
// (content-add/content-accept), then the browser restarts ICE
// (transport-info with new credentials); the call stays connected.
func TestMediaRenegotiation(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		_, a, bob := setupPair(t, srv, jinglepeer.Config{AutoAccept: true})
		alice := newPionBrowser(t, a)
		alice.mustAck(map[string]any{"type": "call", "sid": "rn", "to": "bob@localhost", "media": []string{"audio"}})
		alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "rn" })
		alice.start("rn", []string{"audio"}, false)
		alice.offer(nil)
		alice.takeAnswer()
		alice.waitConnected(20 * time.Second)
		call := bob.Lookup("rn")
		if err := call.WaitConnected(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		alice.waitPackets("audio", 5, 15*time.Second)

		// Add video.
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		if _, err := call.Wait(waitCtx(t), jinglepeer.EventContentAdd); err != nil {
			t.Fatalf("no content-add at the peer: %v", err)
		}
		alice.takeAnswer()
		alice.waitPackets("video", 5, 20*time.Second)

		// ICE restart.
		before := alice.pc.LocalDescription().SDP
		alice.offer(&webrtc.OfferOptions{ICERestart: true})
		if _, err := call.Wait(waitCtx(t), jinglepeer.EventICERestart); err != nil {
			t.Fatalf("no ICE restart at the peer: %v", err)
		}
		after := alice.takeAnswer()
		if after == "" || before == alice.pc.LocalDescription().SDP {
			t.Errorf("local description unchanged by the restart")
		}
		n := alice.packets("audio")
		defer func() {
			if t.Failed() {
				for _, st := range call.Stanzas() {
					t.Logf("peer %s", st)
				}
			}
		}()
		alice.waitPackets("audio", n+10, 20*time.Second)
		if s := call.ConnectionState(); s != webrtc.PeerConnectionStateConnected {
			t.Errorf("peer state after restart: %s", s)
		}
	})
}
