package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// This file checks call glare: a web user and an XMPP user call each other
// at the same moment. XEP-0353 §3.6 and XEP-0166 (session-initiate tie-break)
// both let the call with the lower id win; exactly one call must be left,
// and it must connect.
//
// The XMPP user is a pion Jingle peer (internal/jinglepeer) whose session
// ids are 24 hexadecimal digits. The web user picks its sid: "-glare"
// sorts before any of them (the web user's call wins), "~glare" after any
// of them (the XMPP user's call wins).

const (
	glareWebWins  = "-glare"
	glareXMPPWins = "~glare"
)

func TestGlare(t *testing.T) {
	for _, tc := range []struct {
		name    string
		jmi     bool // XEP-0353 proposes; else direct session-initiates
		webSID  string
		webWins bool
	}{
		{"jmi/web-wins", true, glareWebWins, true},
		{"jmi/xmpp-wins", true, glareXMPPWins, false},
		{"jingle/web-wins", false, glareWebWins, true},
		{"jingle/xmpp-wins", false, glareXMPPWins, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
				// Without JMI in bob's caps, alice's call to his full JID is
				// a direct session-initiate.
				_, a, bob := setupPair(t, srv, jinglepeer.Config{NoJMI: !tc.jmi, Media: []string{jinglepeer.MediaAudio}})
				alice := newPionBrowser(t, a)
				aliceBare := jid.MustParse("alice@" + srv.ComponentDomain)
				defer func() {
					if t.Failed() {
						for _, s := range bob.Stanzas() {
							t.Logf("bob %s %s %s: %s", s.Dir, s.Action, s.SID, s.XML)
						}
					}
				}()

				// Both call at once: alice's call is out (acknowledged, so the
				// gateway holds it), then bob's crosses it.
				w := tc.webSID
				var x *jinglepeer.Call
				if tc.jmi {
					alice.mustAck(map[string]any{"type": "call", "sid": w, "to": "bob@localhost", "media": []string{"audio"}})
					c, err := bob.Call(waitCtx(t), aliceBare, []string{"audio"})
					if err != nil {
						t.Fatalf("bob's call: %v", err)
					}
					x = c
				} else {
					alice.mustAck(map[string]any{"type": "call", "sid": w, "to": bob.JID().String(), "media": []string{"audio"}})
					alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == w })
					alice.start(w, []string{"audio"}, false)
					alice.offer(nil) // the gateway's session-initiate is pending
					c, err := bob.Call(waitCtx(t), a.JID(), []string{"audio"})
					if err != nil {
						t.Fatalf("bob's call: %v", err)
					}
					x = c
				}
				if webLower := jingle.TieBreakSID(w, x.SID()); webLower != tc.webWins {
					t.Fatalf("sids %q (web) and %q (XMPP): the test expects the web user's to win=%v", w, x.SID(), tc.webWins)
				}
				// bob's peer got alice's call too (it knows nothing of glare).
				wAtBob := peerCall(t, bob, w)

				var survivor string
				switch {
				case tc.webWins && tc.jmi:
					// The gateway rejects bob's propose with <tie-break/>.
					ev := waitTerminated(t, x)
					if ev.Local || ev.Reason != jingle.ReasonExpired || ev.Text != "tie-break" {
						t.Errorf("bob's losing call ended with %v, want the gateway's reject (expired, tie-break)", ev)
					}
					rej := stanzaOf(t, x, jinglepeer.In, "reject")
					if m, err := jingle.UnmarshalJMI([]byte(rej.XML)); err != nil || !m.TieBreak || m.ID != x.SID() {
						t.Errorf("reject of bob's propose = %s, want <tie-break/> (%v)", rej.XML, err)
					}
					// bob takes alice's call instead.
					if err := wAtBob.Accept(waitCtx(t)); err != nil {
						t.Fatalf("bob accepting alice's call: %v", err)
					}
					pr := alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == w })
					if pr["polite"] != false {
						t.Errorf("proceeding = %v, want polite false (the caller)", pr)
					}
					alice.start(w, []string{"audio"}, false)
					alice.offer(nil)
					alice.takeAnswer()
					survivor = w

				case tc.webWins:
					// bob's session-initiate meets conflict + tie-break.
					ev := waitTerminated(t, x)
					if ev.Reason != jingle.ReasonGeneralError {
						t.Errorf("bob's losing call ended with %v, want general-error (session-initiate refused)", ev)
					}
					e := stanzaOf(t, x, jinglepeer.In, "session-initiate")
					if !e.IsError() || e.Condition != "tie-break" || !strings.Contains(e.XML, "<conflict") {
						t.Errorf("answer to bob's session-initiate = %s, want an IQ error conflict + tie-break", e.XML)
					}
					if err := wAtBob.Accept(waitCtx(t)); err != nil {
						t.Fatalf("bob accepting alice's call: %v", err)
					}
					alice.takeAnswer()
					survivor = w

				case tc.jmi:
					// The gateway retracts alice's propose with <tie-break/>
					// and rings her with bob's call.
					ret := stanzaOf(t, wAtBob, jinglepeer.In, "retract")
					if m, err := jingle.UnmarshalJMI([]byte(ret.XML)); err != nil || !m.TieBreak || m.ID != w {
						t.Errorf("retract of alice's propose = %s, want <tie-break/> (%v)", ret.XML, err)
					}
					if ev := waitTerminated(t, wAtBob); ev.Local || ev.Reason != jingle.ReasonCancel {
						t.Errorf("alice's call at bob ended with %v, want the gateway's retract (cancel)", ev)
					}
					h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == w })
					if h["reason"] != "cancel" || h["text"] != "tie-break" {
						t.Errorf("hangup of the losing call = %v, want reason cancel, text tie-break", h)
					}
					in := alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == x.SID() })
					if in["from"] != bob.JID().String() || in["polite"] != true {
						t.Errorf("incoming = %v", in)
					}
					if _, err := x.Wait(waitCtx(t), jinglepeer.EventRinging); err != nil {
						t.Fatalf("bob heard no ringing: %v", err)
					}
					alice.mustAck(map[string]any{"type": "accept", "sid": x.SID()})
					alice.start(x.SID(), nil, false)
					alice.takeOffer()
					survivor = x.SID()

				default:
					// The gateway acknowledges bob's session-initiate, ends
					// alice's call (alternative-session, naming bob's) and
					// hands bob's offer to the same tab, without incoming:
					// the user already asked for this call.
					h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == w })
					if h["reason"] != "alternative-session" {
						t.Errorf("hangup of the losing call = %v, want alternative-session", h)
					}
					ev := waitTerminated(t, wAtBob)
					if ev.Local || ev.Reason != jingle.ReasonAlternativeSession {
						t.Errorf("alice's call at bob ended with %v, want the gateway's session-terminate (alternative-session)", ev)
					}
					term := stanzaOf(t, wAtBob, jinglepeer.In, "session-terminate")
					if j, err := jingle.Unmarshal([]byte(term.XML)); err != nil || j.Reason == nil || j.Reason.SID != x.SID() {
						t.Errorf("session-terminate = %s, want <alternative-session><sid>%s</sid>", term.XML, x.SID())
					}
					if e := stanzaOf(t, x, jinglepeer.In, "session-initiate"); !e.IsResult() {
						t.Errorf("answer to bob's session-initiate = %s, want result", e.XML)
					}
					_ = alice.pc.Close() // the browser drops the losing peer connection
					alice = newPionBrowser(t, a)
					alice.start(x.SID(), nil, false)
					off := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == x.SID() })
					if off["polite"] != true {
						t.Errorf("offer = %v, want polite true (the callee)", off)
					}
					alice.backlog = append(alice.backlog, off) // for takeOffer
					for _, m := range alice.backlog {
						if m["type"] == "incoming" && m["sid"] == x.SID() {
							t.Errorf("the replacing call rang as incoming: %v", m)
						}
					}
					alice.takeOffer()
					survivor = x.SID()
				}

				// The survivor connects on both sides.
				alice.waitConnected(20 * time.Second)
				sc := bob.Lookup(survivor)
				if sc == nil {
					t.Fatalf("bob has no call %s", survivor)
				}
				if err := sc.WaitConnected(waitCtx(t)); err != nil {
					t.Fatalf("bob's side of %s: %v (state %s)", survivor, err, sc.ConnectionState())
				}
				// Exactly one call is left: bob has only the survivor, and
				// the browser heard nothing more of the loser.
				lost := w
				if survivor == w {
					lost = x.SID()
				}
				deadline := time.Now().Add(10 * time.Second)
				for len(bob.Calls()) != 1 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if calls := bob.Calls(); len(calls) != 1 || calls[0].SID() != survivor {
					var sids []string
					for _, c := range calls {
						sids = append(sids, c.SID())
					}
					t.Errorf("bob's calls: %v, want only %s", sids, survivor)
				}
				if r := alice.request(map[string]any{"type": "hangup", "sid": lost}); r["type"] != "error" || r["code"] != "not-found" {
					t.Errorf("hangup of the lost call %s: %v, want not-found", lost, r)
				}
				alice.applyCandidates()
				for _, m := range alice.backlog {
					// The web user's own losing call may have rung before it
					// ended (its candidates then meet not-found); of bob's
					// losing call the browser hears nothing at all.
					if m["sid"] == lost && (tc.webWins || (m["type"] != "ringing" && m["type"] != "error")) {
						t.Errorf("the browser got %v about the lost call", m)
					}
					if m["sid"] == survivor && m["type"] == "hangup" {
						t.Errorf("the surviving call was hung up: %v", m)
					}
				}
				if c := alice.pc.ConnectionState(); c != webrtc.PeerConnectionStateConnected {
					t.Errorf("browser state %s", c)
				}
				// alice hangs up: bob's survivor ends with success.
				alice.mustAck(map[string]any{"type": "hangup", "sid": survivor})
				if ev := waitTerminated(t, sc); ev.Reason != jingle.ReasonSuccess {
					t.Errorf("bob's call after hangup: %v", ev)
				}
			})
		})
	}
}

// peerCall returns the incoming call sid of the peer, as Incoming delivers
// it (a call that ends quickly is released from Lookup at once).
func peerCall(t *testing.T, p *jinglepeer.Peer, sid string) *jinglepeer.Call {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case c := <-p.Incoming():
			if c.SID() == sid {
				return c
			}
			t.Errorf("the peer got an unexpected incoming call %s", c.SID())
		case <-timeout:
			t.Fatalf("the peer never got call %s", sid)
		}
	}
}

func waitTerminated(t *testing.T, c *jinglepeer.Call) jinglepeer.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ev, err := c.Wait(ctx, jinglepeer.EventTerminated)
	if err != nil {
		t.Fatalf("call %s did not end: %v (events %v)", c.SID(), err, c.History())
	}
	return ev
}

// stanzaOf returns the first stanza of call c in direction dir about action
// (a Jingle action or a JMI element; IQ results and errors carry the action
// of the IQ they answer), waiting for it.
func stanzaOf(t *testing.T, c *jinglepeer.Call, dir jinglepeer.Direction, action string) jinglepeer.Stanza {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, s := range c.Stanzas() {
			if s.Dir == dir && s.Action == action {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s: no %s %s stanza; log: %v", c.SID(), dir, action, c.Stanzas())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
