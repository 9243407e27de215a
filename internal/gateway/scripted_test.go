package gateway_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// scripted is an XMPP user whose every stanza the test writes by hand: it
// records the messages and Jingle IQs it receives, and acknowledges Jingle
// IQs (unless told not to).
type scripted struct {
	t    *testing.T
	s    *xmpp.Session
	jid  jid.JID
	in   chan received
	back []received

	// hold: Jingle IQs are not acknowledged at once but kept in held,
	// for the test to answer later (ackHeld).
	hold atomic.Bool
	hmu  sync.Mutex
	held []stanza.IQ
}

type received struct {
	Name   string // message, iq
	From   string
	To     string
	ID     string
	Type   string
	Raw    string
	JMI    *jingle.JMI
	Jingle *jingle.Jingle
}

func dialScripted(t *testing.T, srv *xmpptest.Server, user string) *scripted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := srv.Dial(ctx, t, user, user+"pw")
	p := &scripted{t: t, s: s, jid: s.LocalAddr(), in: make(chan received, 256)}
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(rw xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			var raw strings.Builder
			enc := xml.NewEncoder(&raw)
			r := xmlstream.MultiReader(xmlstream.Token(*start), rw)
			var toks []xml.Token
			for {
				tok, err := r.Token()
				if err != nil {
					break
				}
				toks = append(toks, xml.CopyToken(tok))
				_ = enc.EncodeToken(tok)
			}
			_ = enc.Flush()
			rec := received{Name: start.Name.Local, Raw: raw.String()}
			for _, a := range start.Attr {
				switch a.Name.Local {
				case "from":
					rec.From = a.Value
				case "to":
					rec.To = a.Value
				case "id":
					rec.ID = a.Value
				case "type":
					rec.Type = a.Value
				}
			}
			switch rec.Name {
			case "message":
				if j, err := jingle.UnmarshalJMI([]byte(rec.Raw)); err == nil {
					rec.JMI = j
				}
			case "iq":
				if j, err := jingle.Unmarshal([]byte(rec.Raw)); err == nil {
					rec.Jingle = j
				}
				if rec.Type == "set" || rec.Type == "get" {
					iq, _ := stanza.NewIQ(*start)
					if rec.Jingle != nil && p.hold.Load() {
						p.hmu.Lock()
						p.held = append(p.held, iq)
						p.hmu.Unlock()
						// mellium answers service-unavailable for an IQ
						// its handler left unanswered: a result addressed
						// to ourselves satisfies it, and the sender hears
						// nothing until ackHeld.
						_, _ = xmlstream.Copy(rw, stanza.IQ{ID: iq.ID, Type: stanza.ResultIQ, To: p.jid}.Wrap(nil))
					} else if rec.Jingle != nil {
						_, _ = xmlstream.Copy(rw, iq.Result(nil))
					}
				}
			}
			p.in <- rec
			return nil
		}))
	}()
	return p
}

// ackHeld answers the held IQs, in order: a result, or the error XML
// errXML (an <error> element) when it is not empty; and stops holding.
func (p *scripted) ackHeld(errXML string) {
	p.t.Helper()
	p.answerHeld(func(int) string { return errXML })
}

// ackHeldEach answers the held IQs in order, the i-th with the error XML
// errs[i] (a result when it is empty or missing), and stops holding.
func (p *scripted) ackHeldEach(errs ...string) {
	p.t.Helper()
	p.answerHeld(func(i int) string {
		if i < len(errs) {
			return errs[i]
		}
		return ""
	})
}

// answerHeld stops holding and answers the i-th held IQ with the error XML
// errOf(i), or a result when that is empty.
func (p *scripted) answerHeld(errOf func(i int) string) {
	p.t.Helper()
	p.hold.Store(false)
	p.hmu.Lock()
	held := p.held
	p.held = nil
	p.hmu.Unlock()
	for i, iq := range held {
		if e := errOf(i); e == "" {
			p.sendRaw("<iq type='result' id='%s' to='%s'/>", iq.ID, iq.From)
		} else {
			p.sendRaw("<iq type='error' id='%s' to='%s'>%s</iq>", iq.ID, iq.From, e)
		}
	}
}

// goOnline sends p's available presence and waits until web user b sees
// it: the server has then made p available, so that a message to p's bare
// JID reaches it (sent a moment earlier, ejabberd may keep it offline).
func goOnline(t *testing.T, b *browser, p *scripted) {
	t.Helper()
	p.sendRaw("<presence/>")
	b.expect("presence", func(m map[string]any) bool { return m["jid"] == p.jid.String() && m["available"] == true })
}

func (p *scripted) sendRaw(format string, args ...any) {
	p.t.Helper()
	s := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.s.Send(ctx, xml.NewDecoder(strings.NewReader(s))); err != nil {
		p.t.Fatalf("send %s: %v", s, err)
	}
}

// iq sends a set IQ with payload and returns the reply's raw XML.
func (p *scripted) iq(to, payload string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := p.s.SendIQ(ctx, xml.NewDecoder(strings.NewReader(fmt.Sprintf("<iq type='set' to='%s'>%s</iq>", to, payload))))
	if err != nil {
		p.t.Fatalf("iq to %s: %v", to, err)
	}
	defer r.Close()
	var raw strings.Builder
	enc := xml.NewEncoder(&raw)
	for {
		tok, err := r.Token()
		if err != nil {
			break
		}
		_ = enc.EncodeToken(tok)
	}
	_ = enc.Flush()
	return raw.String()
}

func (p *scripted) expect(what string, pred func(received) bool) received {
	p.t.Helper()
	for i, r := range p.back {
		if pred(r) {
			p.back = append(p.back[:i], p.back[i+1:]...)
			return r
		}
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case r := <-p.in:
			if pred(r) {
				return r
			}
			p.back = append(p.back, r)
		case <-timeout:
			var got []string
			for _, r := range p.back {
				got = append(got, r.Raw)
			}
			p.t.Fatalf("%s: no %s in 15 s; got:\n%s", p.jid, what, strings.Join(got, "\n"))
		}
	}
}

func jmiOf(kind jingle.JMIKind, sid string) func(received) bool {
	return func(r received) bool { return r.JMI != nil && r.JMI.Kind == kind && r.JMI.ID == sid }
}

func jingleOf(a jingle.Action, sid string) func(received) bool {
	return func(r received) bool { return r.Jingle != nil && r.Jingle.Action == a && r.Jingle.SID == sid }
}

func readSDP(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/interop/sdp/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// answerJingle builds a session-accept from an SDP (the peer's side).
func answerJingle(t *testing.T, sdpText, sid, initiator, responder string) string {
	t.Helper()
	sd, err := sdpxlate.ParseSDP(strings.ReplaceAll(sdpText, "a=setup:actpass", "a=setup:active"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{Action: jingle.ActionSessionAccept, Role: jingle.RoleResponder, SID: sid, Initiator: initiator, Responder: responder})
	if err != nil {
		t.Fatal(err)
	}
	b, err := jingle.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func offerJingle(t *testing.T, sdpText, sid, initiator string) string {
	t.Helper()
	sd, err := sdpxlate.ParseSDP(sdpText)
	if err != nil {
		t.Fatal(err)
	}
	j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{Action: jingle.ActionSessionInitiate, Role: jingle.RoleInitiator, SID: sid, Initiator: initiator})
	if err != nil {
		t.Fatal(err)
	}
	b, err := jingle.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// befriend makes web user b and XMPP user p contacts both ways.
func befriend(t *testing.T, b *browser, srv *xmpptest.Server, user string) {
	t.Helper()
	peer := dialPeer(t, srv, user)
	peer.sendPresence("", "")
	subscribeBoth(t, b, peer, srv.ComponentDomain)
	// The subscription is stored; this session can go.
	peer.s.Close()
}

// TestCallBrowserToXMPPWithJMI: the whole signaling of a call from a web
// user to an XMPP user's bare JID, checking every stanza and message.
func TestCallBrowserToXMPPWithJMI(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)

		alice.mustAck(map[string]any{"type": "call", "sid": "call1", "to": "bob@localhost", "media": []string{"audio", "video"}})
		prop := bob.expect("propose", jmiOf(jingle.JMIPropose, "call1"))
		if prop.ID != "jm-propose-call1" || prop.From != alice.JID().String() || len(prop.JMI.Descriptions) != 2 ||
			!strings.Contains(prop.Raw, "urn:xmpp:receipts") || !strings.Contains(prop.Raw, "urn:xmpp:hints") {
			t.Errorf("propose = %s", prop.Raw)
		}
		bob.sendRaw("<message to='%s' id='r1'><ringing xmlns='urn:xmpp:jingle-message:0' id='call1'/></message>", alice.JID())
		alice.expect("ringing", func(m map[string]any) bool { return m["sid"] == "call1" })
		bob.sendRaw("<message to='%s' id='p1'><proceed xmlns='urn:xmpp:jingle-message:0' id='call1'/></message>", alice.JID())
		pr := alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "call1" })
		if pr["polite"] != false {
			t.Errorf("the caller must be the impolite peer: %v", pr)
		}
		// A candidate before the offer is kept, and sent after it.
		alice.mustAck(map[string]any{"type": "ice-candidate", "sid": "call1", "candidate": map[string]any{
			"candidate": "candidate:1 1 udp 2122262783 127.0.0.1 50000 typ host generation 0", "sdpMid": "audio", "sdpMLineIndex": 0}})
		alice.mustAck(map[string]any{"type": "offer", "sid": "call1", "sdp": readSDP(t, "aiortc-chrome-audio-offer.sdp")})
		si := bob.expect("session-initiate", jingleOf(jingle.ActionSessionInitiate, "call1"))
		if si.From != alice.JID().String() || si.To != bob.jid.String() || si.Jingle.Initiator != alice.JID().String() {
			t.Errorf("session-initiate addressing: %s", si.Raw)
		}
		ti := bob.expect("transport-info", jingleOf(jingle.ActionTransportInfo, "call1"))
		if len(ti.Jingle.Contents) != 1 || len(ti.Jingle.Contents[0].Transport.Candidates) != 1 {
			t.Errorf("transport-info must carry one content: %s", ti.Raw)
		}
		// bob accepts: alice gets the answer.
		reply := bob.iq(alice.JID().String(), answerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "call1", alice.JID().String(), bob.jid.String()))
		if !strings.Contains(reply, "result") {
			t.Errorf("session-accept answered %s", reply)
		}
		ans := alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "call1" })
		if !strings.Contains(ans["sdp"].(string), "a=setup:active") {
			t.Errorf("answer SDP lacks the peer's setup:\n%s", ans["sdp"])
		}
		// bob trickles a candidate: alice gets it with its mid.
		bob.iq(alice.JID().String(), fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='call1' initiator='%s'><content creator='initiator' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='5+Ix' pwd='uK8IlylxzDMUhrkVzdmj0M+v'><candidate component='1' foundation='9' generation='0' id='c9' ip='127.0.0.1' network='0' port='40000' priority='2122262783' protocol='udp' type='host'/></transport></content></jingle>`, alice.JID()))
		cand := alice.expect("ice-candidate", func(m map[string]any) bool { return m["sid"] == "call1" })
		if c := cand["candidate"].(map[string]any); c["sdpMid"] != "audio" || !strings.Contains(c["candidate"].(string), "127.0.0.1 40000") {
			t.Errorf("ice-candidate = %v", cand)
		}
		// Mute, then hangup: session-info, session-terminate and finish.
		alice.mustAck(map[string]any{"type": "session-info", "sid": "call1", "info": "mute", "media": []string{"audio"}})
		bob.expect("session-info mute", func(r received) bool {
			return r.Jingle != nil && r.Jingle.Action == jingle.ActionSessionInfo && r.Jingle.Info != nil && r.Jingle.Info.Kind == jingle.InfoMute
		})
		alice.mustAck(map[string]any{"type": "hangup", "sid": "call1"})
		term := bob.expect("session-terminate", jingleOf(jingle.ActionSessionTerminate, "call1"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonSuccess {
			t.Errorf("terminate = %s", term.Raw)
		}
		bob.expect("finish", jmiOf(jingle.JMIFinish, "call1"))
		// The call is gone: more Jingle for it is refused.
		reply = bob.iq(alice.JID().String(), fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='call1' initiator='%s'/>`, alice.JID()))
		if !strings.Contains(reply, "item-not-found") || !strings.Contains(reply, "unknown-session") {
			t.Errorf("Jingle for an ended call answered %s", reply)
		}
	})
}

// TestCallXMPPToBrowserWithJMI: an XMPP user calls a web user with two
// tabs; both ring, the first to accept takes it, the other hears
// answered-elsewhere.
func TestCallXMPPToBrowserWithJMI(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		alice := connectBrowser(t, gw.Addr, "alice")
		befriend(t, alice, srv, "bob")
		tab2 := connectBrowser(t, gw.Addr, "alice")
		bob := dialScripted(t, srv, "bob")
		goOnline(t, alice, bob)
		aliceBare := "alice@" + srv.ComponentDomain

		bob.sendRaw("<message to='%s' id='jm-propose-in1' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='in1'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose><request xmlns='urn:xmpp:receipts'/><store xmlns='urn:xmpp:hints'/></message>", aliceBare)
		for _, tab := range []*browser{alice, tab2} {
			in := tab.expect("incoming", func(m map[string]any) bool { return m["sid"] == "in1" })
			if in["from"] != bob.jid.String() || fmt.Sprint(in["media"]) != "[audio]" || in["polite"] != true {
				t.Errorf("incoming = %v", in)
			}
		}
		bob.expect("ringing", jmiOf(jingle.JMIRinging, "in1"))
		tab2.mustAck(map[string]any{"type": "accept", "sid": "in1"})
		proc := bob.expect("proceed", jmiOf(jingle.JMIProceed, "in1"))
		if proc.From != tab2.JID().String() {
			t.Errorf("proceed from %s, want the accepting tab %s", proc.From, tab2.JID())
		}
		hang := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "in1" })
		if hang["reason"] != "answered-elsewhere" {
			t.Errorf("other tab: %v", hang)
		}
		// The first tab can no longer touch the call.
		if r := alice.request(map[string]any{"type": "accept", "sid": "in1"}); r["code"] != "not-found" {
			t.Errorf("accept on the other tab: %v", r)
		}
		reply := bob.iq(tab2.JID().String(), offerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "in1", bob.jid.String()))
		if !strings.Contains(reply, "result") {
			t.Fatalf("session-initiate answered %s", reply)
		}
		off := tab2.expect("offer", func(m map[string]any) bool { return m["sid"] == "in1" })
		if !strings.Contains(off["sdp"].(string), "a=mid:audio") {
			t.Errorf("offer SDP:\n%s", off["sdp"])
		}
		tab2.mustAck(map[string]any{"type": "answer", "sid": "in1", "sdp": strings.ReplaceAll(readSDP(t, "aiortc-chrome-audio-offer.sdp"), "a=setup:actpass", "a=setup:active")})
		acc := bob.expect("session-accept", jingleOf(jingle.ActionSessionAccept, "in1"))
		if acc.Jingle.Responder != tab2.JID().String() || acc.From != tab2.JID().String() {
			t.Errorf("session-accept = %s", acc.Raw)
		}
		bob.iq(tab2.JID().String(), fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='in1' initiator='%s'><reason><busy/><text>bye</text></reason></jingle>`, bob.jid))
		h := tab2.expect("hangup", func(m map[string]any) bool { return m["sid"] == "in1" })
		if h["reason"] != "busy" || h["text"] != "bye" {
			t.Errorf("hangup = %v", h)
		}
	})
}

// TestCallEndings: reject, retract, a busy peer, a ring timeout, the
// policy both ways, and a peer that goes offline.
func TestCallEndings(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "mallory", "mallorypw")
		alice, bob := aliceAndScriptedBob(t, srv, func(cfg *config.Config) { cfg.Calls.RingTimeout = config.Duration(2 * time.Second) })
		aliceBare := "alice@" + srv.ComponentDomain

		// alice rejects bob's call.
		bob.sendRaw("<message to='%s' id='jm-propose-r1'><propose xmlns='urn:xmpp:jingle-message:0' id='r1'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", aliceBare)
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "r1" })
		alice.mustAck(map[string]any{"type": "reject", "sid": "r1"})
		rej := bob.expect("reject", jmiOf(jingle.JMIReject, "r1"))
		if rej.JMI.Reason == nil || rej.JMI.Reason.Condition != jingle.ReasonDecline {
			t.Errorf("reject = %s", rej.Raw)
		}

		// bob retracts before alice answers.
		bob.sendRaw("<message to='%s' id='jm-propose-r2'><propose xmlns='urn:xmpp:jingle-message:0' id='r2'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", aliceBare)
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "r2" })
		bob.sendRaw("<message to='%s'><retract xmlns='urn:xmpp:jingle-message:0' id='r2'><reason xmlns='urn:xmpp:jingle:1'><cancel/></reason></retract></message>", aliceBare)
		if h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "r2" }); h["reason"] != "cancel" {
			t.Errorf("retract: %v", h)
		}

		// alice calls, bob is busy.
		alice.mustAck(map[string]any{"type": "call", "sid": "r3", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "r3"))
		bob.sendRaw("<message to='%s'><reject xmlns='urn:xmpp:jingle-message:0' id='r3'><reason xmlns='urn:xmpp:jingle:1'><busy/></reason></reject></message>", alice.JID())
		if h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "r3" }); h["reason"] != "busy" {
			t.Errorf("busy: %v", h)
		}

		// Nobody answers: after the ring timeout alice hears timeout, bob a retract.
		alice.mustAck(map[string]any{"type": "call", "sid": "r4", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "r4"))
		if h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "r4" }); h["reason"] != "timeout" {
			t.Errorf("ring timeout: %v", h)
		}
		bob.expect("retract", jmiOf(jingle.JMIRetract, "r4"))

		// alice hangs up while it rings: retract.
		alice.mustAck(map[string]any{"type": "call", "sid": "r5", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "r5"))
		alice.mustAck(map[string]any{"type": "hangup", "sid": "r5"})
		if r := bob.expect("retract", jmiOf(jingle.JMIRetract, "r5")); r.JMI.Reason == nil || r.JMI.Reason.Condition != jingle.ReasonCancel {
			t.Errorf("retract = %s", r.Raw)
		}

		// Policy: mallory is no contact of alice's.
		if r := alice.request(map[string]any{"type": "call", "to": "mallory@localhost", "media": []string{"audio"}}); r["code"] != "forbidden" {
			t.Errorf("calling a stranger: %v", r)
		}
		mallory := dialScripted(t, srv, "mallory")
		mallory.sendRaw("<message to='%s'><propose xmlns='urn:xmpp:jingle-message:0' id='m1'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", aliceBare)
		if r := mallory.expect("reject", jmiOf(jingle.JMIReject, "m1")); r.JMI.Reason == nil || r.JMI.Reason.Condition != jingle.ReasonBusy {
			t.Errorf("stranger's call: %s", r.Raw)
		}

		// bob goes offline mid-call: alice hears gone.
		alice.mustAck(map[string]any{"type": "call", "sid": "r6", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "r6"))
		bob.sendRaw("<message to='%s'><proceed xmlns='urn:xmpp:jingle-message:0' id='r6'/></message>", alice.JID())
		alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "r6" })
		bob.sendRaw("<presence type='unavailable'/>")
		if h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "r6" }); h["reason"] != "gone" {
			t.Errorf("peer offline: %v", h)
		}
	})
}

// TestJingleErrors: every Jingle IQ is answered, with the right condition.
func TestJingleErrors(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir()))
		alice := connectBrowser(t, gw.Addr, "alice")
		befriend(t, alice, srv, "bob")
		bob := dialScripted(t, srv, "bob")
		goOnline(t, alice, bob)
		to := alice.JID().String()

		for _, tc := range []struct {
			name, payload string
			want          []string
		}{
			{"unknown session", "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='nope'/>", []string{"item-not-found", "unknown-session"}},
			{"no sid", "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/>", []string{"bad-request"}},
			{"garbage action", "<jingle xmlns='urn:xmpp:jingle:1' action='dance' sid='x'/>", []string{"bad-request"}},
		} {
			if reply := bob.iq(to, tc.payload); !containsAll(reply, tc.want) {
				t.Errorf("%s: answered %s, want %v", tc.name, reply, tc.want)
			}
		}
		// An IQ to a tab that does not exist.
		if reply := bob.iq("alice@"+srv.ComponentDomain+"/nosuchtab", "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='x'/>"); !strings.Contains(reply, "service-unavailable") {
			t.Errorf("IQ to a missing tab: %s", reply)
		}
		// A session in progress: out-of-order and unsupported-info.
		reply := bob.iq(to, offerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "e1", bob.jid.String()))
		if !strings.Contains(reply, "result") {
			t.Fatalf("session-initiate: %s", reply)
		}
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "e1" })
		bob.expect("ringing session-info", func(r received) bool {
			return r.Jingle != nil && r.Jingle.Action == jingle.ActionSessionInfo && r.Jingle.Info != nil && r.Jingle.Info.Kind == jingle.InfoRinging
		})
		if reply := bob.iq(to, offerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "e1", bob.jid.String())); !containsAll(reply, []string{"unexpected-request", "out-of-order"}) {
			t.Errorf("second session-initiate: %s", reply)
		}
		if reply := bob.iq(to, answerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "e1", bob.jid.String(), to)); !containsAll(reply, []string{"out-of-order"}) {
			t.Errorf("session-accept from the initiator: %s", reply)
		}
		if reply := bob.iq(to, "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='e1'><dance xmlns='urn:example:x'/></jingle>"); !containsAll(reply, []string{"feature-not-implemented", "unsupported-info"}) {
			t.Errorf("unknown session-info: %s", reply)
		}
		// An SDES-only offer is declined with security-error.
		sdes := strings.Replace(offerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "e2", bob.jid.String()), "<fingerprint", "<nofingerprint", 1)
		sdes = strings.Replace(sdes, "</fingerprint>", "</nofingerprint>", 1)
		bob.iq(to, sdes)
		term := bob.expect("security-error", jingleOf(jingle.ActionSessionTerminate, "e2"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonSecurityError {
			t.Errorf("SDES offer: %s", term.Raw)
		}
		if gw.G.Link.Stats().HandlerErrors != 0 || !gw.G.Link.Ready() {
			t.Errorf("link after bad input: %+v", gw.G.Link.Stats())
		}
	})
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
