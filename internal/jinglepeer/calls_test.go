package jinglepeer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// TestCalls runs the call scenarios between two peers logged in to the
// same real server, Prosody and ejabberd: ICE and DTLS complete over
// loopback and media really flows.
func TestCalls(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, s *xmpptest.Server) {
		for _, u := range []string{"alice", "bob", "carol"} {
			s.Register(t, u, u+"-pw")
		}
		t.Run("jmi-echo", func(t *testing.T) { testJMIEcho(t, s) })
	})
}

// testJMIEcho: alice calls bob's bare JID (JMI) with audio, video and a
// data channel; bob auto-accepts and echoes. Media flows both ways, the
// data channel message comes back, and alice hangs up.
func testJMIEcho(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{AutoAccept: true, Echo: true})
	begin := time.Now()
	ca, err := alice.Call(ctx, bob.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	if cb.SID() != ca.SID() {
		t.Fatalf("bob's call has sid %q, alice's %q", cb.SID(), ca.SID())
	}
	wait(ctx, t, ca, jinglepeer.EventRinging)
	wait(ctx, t, ca, jinglepeer.EventProceed)
	wait(ctx, t, ca, jinglepeer.EventAccepted)
	waitConnected(ctx, t, ca, cb)
	t.Logf("connected after %v", time.Since(begin).Round(time.Millisecond))
	if !ca.Peer().Equal(bob.JID()) {
		t.Errorf("alice's call is with %s, want %s", ca.Peer(), bob.JID())
	}
	waitMedia(ctx, t, cb, true, true)
	waitMedia(ctx, t, ca, true, true)
	t.Logf("media both ways after %v", time.Since(begin).Round(time.Millisecond))
	if err := ca.SendData(ctx, "hello bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.WaitStats(ctx, func(s jinglepeer.Stats) bool { return s.DataMessagesReceived >= 1 }); err != nil {
		t.Fatal(err)
	}
	if got := ca.DataMessages(); len(got) != 1 || got[0] != "hello bob" {
		t.Errorf("alice got data messages %q, want the echo of hello bob", got)
	}
	for _, c := range []*jinglepeer.Call{ca, cb} {
		for _, cand := range c.LocalCandidates() {
			if f := strings.Fields(cand); len(f) < 8 || !strings.HasPrefix(f[4], "127.") || f[7] != "host" || strings.ToLower(f[2]) != "udp" {
				t.Errorf("%s gathered %q: want only UDP host candidates on 127.0.0.0/8", c.Role(), cand)
			}
		}
	}
	if err := ca.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	e := wait(ctx, t, cb, jinglepeer.EventTerminated)
	if e.Local || e.Reason != jingle.ReasonSuccess {
		t.Errorf("bob's call ended with %v, want a remote success", e)
	}
	<-ca.Done()
	<-cb.Done()
	for _, st := range ca.Stanzas() {
		t.Logf("alice %s %s", st.Dir, st.XML)
	}
}
