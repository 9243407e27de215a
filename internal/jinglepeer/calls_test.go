package jinglepeer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// TestPeer runs the scenarios against real servers, Prosody and ejabberd:
// calls between two peers logged in to the same server (ICE and DTLS
// complete over loopback and media really flows), and the protocol seen
// from a raw client.
func TestPeer(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, s *xmpptest.Server) {
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			s.Register(t, u, u+"-pw")
		}
		t.Run("presence-disco", func(t *testing.T) { testPresenceDisco(t, s) })
		t.Run("errors", func(t *testing.T) { testErrors(t, s) })
		t.Run("raw-session", func(t *testing.T) { testRawSession(t, s) })
		t.Run("long-names", func(t *testing.T) { testLongNames(t, s) })
		t.Run("jmi-echo", func(t *testing.T) { testJMIEcho(t, s) })
		t.Run("direct", func(t *testing.T) { testDirect(t, s) })
		t.Run("manual-accept", func(t *testing.T) { testManualAccept(t, s) })
		t.Run("reject", func(t *testing.T) { testReject(t, s) })
		t.Run("retract", func(t *testing.T) { testRetract(t, s) })
		t.Run("content-add", func(t *testing.T) { testContentAdd(t, s) })
		t.Run("ice-restart", func(t *testing.T) { testICERestart(t, s) })
		t.Run("shutdown", func(t *testing.T) { testShutdown(t, s) })
	})
}

// checkCall checks what every connected call must satisfy: only loopback
// UDP host candidates were gathered (no packet can leave the machine), and
// each transport-info sent carries one content.
func checkCall(t *testing.T, calls ...*jinglepeer.Call) {
	t.Helper()
	for _, c := range calls {
		cands := c.LocalCandidates()
		if len(cands) == 0 {
			t.Errorf("%s gathered no candidate", c.Role())
		}
		for _, cand := range cands {
			if f := strings.Fields(cand); len(f) < 8 || !strings.HasPrefix(f[4], "127.") || f[7] != "host" || strings.ToLower(f[2]) != "udp" {
				t.Errorf("%s gathered %q: want only UDP host candidates on 127.0.0.0/8", c.Role(), cand)
			}
		}
		for _, s := range stanzasOf(c, jinglepeer.Out, "transport-info") {
			j, err := jingle.Unmarshal([]byte(s.XML))
			if err != nil {
				t.Errorf("%s sent an unreadable transport-info: %v\n%s", c.Role(), err, s.XML)
				continue
			}
			// An ICE restart announces the new credentials of every
			// content (they share the BUNDLE transport); candidates go
			// one per transport-info.
			hasCandidates := false
			for _, ct := range j.Contents {
				hasCandidates = hasCandidates || (ct.Transport != nil && len(ct.Transport.Candidates) > 0)
			}
			if hasCandidates && len(j.Contents) != 1 {
				t.Errorf("%s sent a transport-info with %d contents, want 1:\n%s", c.Role(), len(j.Contents), s.XML)
			}
		}
	}
}

// sentOnce returns the one stanza of the action the call sent.
func sentOnce(t *testing.T, c *jinglepeer.Call, action string) jinglepeer.Stanza {
	t.Helper()
	got := stanzasOf(c, jinglepeer.Out, action)
	if len(got) != 1 {
		t.Fatalf("%s sent %d %s, want 1 (stanzas: %v)", c.Role(), len(got), action, c.Stanzas())
	}
	return got[0]
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

// terminated waits for the end of a call and checks its reason and side.
func terminated(ctx context.Context, t *testing.T, c *jinglepeer.Call, reason jingle.ReasonCondition, local bool) {
	t.Helper()
	e := wait(ctx, t, c, jinglepeer.EventTerminated)
	if e.Reason != reason || e.Local != local {
		t.Errorf("%s's call ended with %v, want reason %s, local %v", c.Role(), e, reason, local)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatalf("%s's call not released", c.Role())
	}
	if c.State() != jingle.StateEnded {
		t.Errorf("%s's call state is %s after the end", c.Role(), c.State())
	}
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
	if cb.SID() != ca.SID() || !cb.JMI() || !ca.JMI() {
		t.Fatalf("bob's call %q (JMI %v), alice's %q (JMI %v)", cb.SID(), cb.JMI(), ca.SID(), ca.JMI())
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
	// bob counts the echo after its send returns, which may be after alice
	// received it: wait for the counter rather than read it at once.
	st, err := cb.WaitStats(ctx, func(s jinglepeer.Stats) bool { return s.DataMessagesSent >= 1 })
	if err != nil || st.DataMessagesReceived != 1 || st.DataMessagesSent != 1 || st.AudioSent == 0 || st.VideoSent == 0 {
		t.Errorf("bob's stats %+v (%v): want one data message echoed and RTP echoed", st, err)
	}
	checkCall(t, ca, cb)

	sid := ca.SID()
	propose := sentOnce(t, ca, "propose")
	contains(t, "propose", propose.XML,
		"<message type='chat' to='"+bob.JID().Bare().String()+"' id='jm-propose-"+sid+"'>",
		"<propose xmlns='urn:xmpp:jingle-message:0' id='"+sid+"'>",
		"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>",
		"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'/>",
		"<request xmlns='urn:xmpp:receipts'/>", "<store xmlns='urn:xmpp:hints'/>")
	contains(t, "ringing", sentOnce(t, cb, "ringing").XML, "to='"+alice.JID().String()+"'", "<ringing xmlns='urn:xmpp:jingle-message:0' id='"+sid+"'/>")
	contains(t, "proceed", sentOnce(t, cb, "proceed").XML, "to='"+alice.JID().String()+"'", "<proceed xmlns='urn:xmpp:jingle-message:0' id='"+sid+"'/>")
	contains(t, "session-initiate", sentOnce(t, ca, "session-initiate").XML,
		"to='"+bob.JID().String()+"'", "action='session-initiate'", "initiator='"+alice.JID().String()+"'", "sid='"+sid+"'",
		"media='audio'", "media='video'", "<sctpmap", "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>",
		"<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>")
	contains(t, "session-accept", sentOnce(t, cb, "session-accept").XML,
		"action='session-accept'", "responder='"+bob.JID().String()+"'", "setup='active'")
	// Every Jingle IQ alice received was acknowledged.
	for _, in := range ca.Stanzas() {
		if in.Dir != jinglepeer.In || in.Name != "iq" || in.IsResult() || in.IsError() {
			continue
		}
		acked := false
		for _, out := range ca.Stanzas() {
			if out.Dir == jinglepeer.Out && out.IsResult() && out.ID == in.ID {
				acked = true
			}
		}
		if !acked {
			t.Errorf("alice did not acknowledge %s", in.XML)
		}
	}

	if err := ca.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, cb, jingle.ReasonSuccess, false)
	terminated(ctx, t, ca, jingle.ReasonSuccess, true)
	contains(t, "session-terminate", sentOnce(t, ca, "session-terminate").XML, "<reason><success/></reason>")
	contains(t, "finish", sentOnce(t, ca, "finish").XML, "to='"+bob.JID().Bare().String()+"'",
		"<finish xmlns='urn:xmpp:jingle-message:0' id='"+sid+"'><reason xmlns='urn:xmpp:jingle:1'><success/></reason></finish>")
	t.Logf("done after %v", time.Since(begin).Round(time.Millisecond))
}

// testDirect: alice calls bob's full JID (no JMI); bob advertises no JMI,
// rings with session-info, auto-accepts and plays the test media; data
// goes both ways; bob (the callee) hangs up.
func testDirect(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{AutoAccept: true, NoJMI: true})
	ca, err := alice.Call(ctx, bob.JID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	if ca.JMI() || cb.JMI() {
		t.Error("a call to a full JID used JMI")
	}
	if e := wait(ctx, t, ca, jinglepeer.EventRinging); e.Info != jingle.InfoRinging {
		t.Errorf("ringing event %v, want a session-info ringing", e)
	}
	waitConnected(ctx, t, ca, cb)
	waitMedia(ctx, t, ca, true, true)
	waitMedia(ctx, t, cb, true, true)
	if err := ca.SendData(ctx, "to bob"); err != nil {
		t.Fatal(err)
	}
	if err := cb.SendData(ctx, "to alice"); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[*jinglepeer.Call]string{ca: "to alice", cb: "to bob"} {
		if _, err := c.WaitStats(ctx, func(s jinglepeer.Stats) bool { return s.DataMessagesReceived >= 1 }); err != nil {
			t.Fatal(err)
		}
		if got := c.DataMessages(); len(got) != 1 || got[0] != want {
			t.Errorf("%s got %q, want %q", c.Role(), got, want)
		}
	}
	checkCall(t, ca, cb)
	if n := len(stanzasOf(ca, jinglepeer.Out, "propose")); n != 0 {
		t.Errorf("alice sent %d propose for a direct call", n)
	}
	contains(t, "session-info", sentOnce(t, cb, "session-info").XML, "<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>")

	if err := cb.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, ca, jingle.ReasonSuccess, false)
	terminated(ctx, t, cb, jingle.ReasonSuccess, true)
	if n := len(stanzasOf(cb, jinglepeer.Out, "finish")); n != 0 {
		t.Errorf("bob sent %d finish for a call without JMI", n)
	}
}

// testManualAccept: bob's peer rings; the test accepts the JMI call (audio
// only) with Accept; bob hangs up, and his finish goes to alice's bare JID.
func testManualAccept(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{})
	ca, err := alice.Call(ctx, bob.JID().Bare(), []string{jinglepeer.MediaAudio})
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	wait(ctx, t, ca, jinglepeer.EventRinging)
	if got := cb.Media(); len(got) != 1 || got[0] != jinglepeer.MediaAudio {
		t.Errorf("bob was proposed %q, want audio", got)
	}
	if err := cb.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cb.Accept(ctx); err == nil {
		t.Error("a second Accept succeeded")
	}
	waitConnected(ctx, t, ca, cb)
	waitMedia(ctx, t, ca, true, false)
	waitMedia(ctx, t, cb, true, false)
	if st := cb.Stats(); st.VideoPacketsReceived != 0 {
		t.Errorf("bob received video in an audio call: %+v", st)
	}
	checkCall(t, ca, cb)
	if err := cb.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, ca, jingle.ReasonSuccess, false)
	terminated(ctx, t, cb, jingle.ReasonSuccess, true)
	contains(t, "finish", sentOnce(t, cb, "finish").XML, "to='"+alice.JID().Bare().String()+"'")
	if err := cb.Hangup(ctx, jingle.ReasonUnknown); err == nil {
		t.Error("Hangup of an ended call succeeded")
	}
}

// testReject: a peer configured to reject answers a propose with ringing
// and reject (busy), and a direct session-initiate with session-terminate;
// a ringing call rejected with Reject ends with decline.
func testReject(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{Reject: "busy", AutoAccept: true})

	ca, err := alice.Call(ctx, bob.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	terminated(ctx, t, ca, jingle.ReasonBusy, false)
	terminated(ctx, t, cb, jingle.ReasonBusy, true)
	contains(t, "reject", sentOnce(t, cb, "reject").XML,
		"<reject xmlns='urn:xmpp:jingle-message:0' id='"+ca.SID()+"'><reason xmlns='urn:xmpp:jingle:1'><busy/></reason></reject>")
	if ca.State() != jingle.StateEnded || len(stanzasOf(ca, jinglepeer.Out, "session-initiate")) != 0 {
		t.Errorf("alice sent session-initiate to a rejected propose")
	}

	ca, err = alice.Call(ctx, bob.JID(), []string{jinglepeer.MediaAudio})
	if err != nil {
		t.Fatal(err)
	}
	cb = incoming(ctx, t, bob)
	terminated(ctx, t, ca, jingle.ReasonBusy, false)
	terminated(ctx, t, cb, jingle.ReasonBusy, true)
	contains(t, "session-terminate", sentOnce(t, cb, "session-terminate").XML, "<reason><busy/></reason>")

	carol := startPeer(t, s, "carol", jinglepeer.Config{})
	ca, err = alice.Call(ctx, carol.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cc := incoming(ctx, t, carol)
	wait(ctx, t, ca, jinglepeer.EventRinging)
	if err := cc.Reject(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, ca, jingle.ReasonDecline, false)
	terminated(ctx, t, cc, jingle.ReasonDecline, true)
}

// testRetract: a propose is retracted by Retract, and by the caller's ring
// timeout.
func testRetract(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{RingTimeout: 500 * time.Millisecond})
	bob := startPeer(t, s, "bob", jinglepeer.Config{})

	ca, err := alice.Call(ctx, bob.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	wait(ctx, t, ca, jinglepeer.EventRinging)
	if err := ca.Retract(ctx); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, ca, jingle.ReasonCancel, true)
	terminated(ctx, t, cb, jingle.ReasonCancel, false)
	contains(t, "retract", sentOnce(t, ca, "retract").XML, "to='"+bob.JID().Bare().String()+"'", "<retract xmlns='urn:xmpp:jingle-message:0' id='"+ca.SID()+"'>")

	begin := time.Now()
	ca, err = alice.Call(ctx, bob.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb = incoming(ctx, t, bob)
	terminated(ctx, t, ca, jingle.ReasonTimeout, true)
	terminated(ctx, t, cb, jingle.ReasonTimeout, false)
	if d := time.Since(begin); d < 500*time.Millisecond {
		t.Errorf("retracted after %v, before the ring timeout", d)
	}
}

// testContentAdd: an audio call gets video from the caller (content-add)
// and a data channel from the callee.
func testContentAdd(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{AutoAccept: true})
	ca, err := alice.Call(ctx, bob.JID(), []string{jinglepeer.MediaAudio})
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	waitConnected(ctx, t, ca, cb)
	waitMedia(ctx, t, cb, true, false)

	if err := ca.AddMedia(ctx, jinglepeer.MediaVideo); err != nil {
		t.Fatal(err)
	}
	e := wait(ctx, t, ca, jinglepeer.EventContentAccept)
	if e.Local || len(e.Contents) != 1 {
		t.Errorf("alice's content-accept event %v, want one content from bob", e)
	}
	if e := wait(ctx, t, cb, jinglepeer.EventContentAdd); e.Media != jinglepeer.MediaVideo {
		t.Errorf("bob's content-add event %v, want video", e)
	}
	waitMedia(ctx, t, cb, true, true)
	waitMedia(ctx, t, ca, true, true)
	contains(t, "content-add", sentOnce(t, ca, "content-add").XML, "creator='initiator'", "media='video'",
		"<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>")
	contains(t, "content-accept", sentOnce(t, cb, "content-accept").XML, "media='video'")

	if err := cb.AddMedia(ctx, jinglepeer.MediaData); err != nil {
		t.Fatal(err)
	}
	wait(ctx, t, cb, jinglepeer.EventContentAccept)
	contains(t, "content-add", sentOnce(t, cb, "content-add").XML, "creator='responder'", "<sctpmap")
	if err := ca.SendData(ctx, "late data"); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.WaitStats(ctx, func(s jinglepeer.Stats) bool { return s.DataMessagesReceived >= 1 }); err != nil {
		t.Fatal(err)
	}
	checkCall(t, ca, cb)
	if err := ca.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, cb, jingle.ReasonSuccess, false)
}

// testICERestart: the caller restarts ICE, then the callee does; each
// time both get new credentials, the connection comes back and media goes
// on.
func testICERestart(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob := startPeer(t, s, "bob", jinglepeer.Config{AutoAccept: true, Echo: true})
	ca, err := alice.Call(ctx, bob.JID().Bare(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	waitConnected(ctx, t, ca, cb)
	waitMedia(ctx, t, ca, true, true)

	for round, c := range []*jinglepeer.Call{ca, cb} {
		other := cb
		if c == cb {
			other = ca
		}
		before := map[*jinglepeer.Call]string{ca: ufrag(ca.LocalSDP()), cb: ufrag(cb.LocalSDP())}
		restart := time.Now()
		if err := c.RestartICE(ctx); err != nil {
			t.Fatal(err)
		}
		// The restarting side gets the other's new credentials back.
		if _, err := c.WaitCount(ctx, jinglepeer.EventICERestart, 2*(round+1)); err != nil {
			t.Fatalf("round %d: %v (history %v)", round, err, c.History())
		}
		if _, err := other.WaitCount(ctx, jinglepeer.EventICERestart, 2*(round+1)); err != nil {
			t.Fatalf("round %d: %v (history %v)", round, err, other.History())
		}
		for _, x := range []*jinglepeer.Call{ca, cb} {
			if now := ufrag(x.LocalSDP()); now == before[x] || now == "" {
				t.Errorf("round %d: %s's ufrag is %q, was %q", round, x.Role(), now, before[x])
			}
		}
		waitConnected(ctx, t, ca, cb)
		t.Logf("round %d: connected %v after the restart", round, time.Since(restart).Round(time.Millisecond))
		waitMedia(ctx, t, ca, true, true)
		waitMedia(ctx, t, cb, true, true)
		t.Logf("round %d: media both ways %v after the restart", round, time.Since(restart).Round(time.Millisecond))
	}
	checkCall(t, ca, cb)
	if err := cb.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	terminated(ctx, t, ca, jingle.ReasonSuccess, false)
}

func ufrag(sdp string) string {
	for _, l := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}

// testShutdown: a peer that stops hangs up its calls (reason gone).
func testShutdown(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	bob, stopBob := startStoppablePeer(t, s, "bob", jinglepeer.Config{AutoAccept: true, Echo: true})
	ca, err := alice.Call(ctx, bob.JID(), []string{jinglepeer.MediaAudio})
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(ctx, t, bob)
	waitConnected(ctx, t, ca, cb)
	if err := stopBob(); err != nil {
		t.Errorf("bob's Run: %v", err)
	}
	terminated(ctx, t, ca, jingle.ReasonGone, false)
	terminated(ctx, t, cb, jingle.ReasonGone, true)
	if _, err := bob.Call(ctx, jid.MustParse(alice.JID().String()), nil); err == nil {
		t.Error("a stopped peer placed a call")
	}
}
