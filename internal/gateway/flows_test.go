package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// The SDP the scripted sides use: a real Chromium audio offer (its ICE
// credentials are 5+Ix / uK8IlylxzDMUhrkVzdmj0M+v).
const (
	chromeAudio = "aiortc-chrome-audio-offer.sdp"
	chromeUfrag = "a=ice-ufrag:5+Ix"
	chromePwd   = "a=ice-pwd:uK8IlylxzDMUhrkVzdmj0M+v"
	chromeFP    = "6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:55:EA:8C:D3:B6:5C:09:5E:D6:BC"
	tieBreakErr = "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><tie-break xmlns='urn:xmpp:jingle:errors:1'/></error>"
)

// withICE returns sdpText with other ICE credentials (an ICE restart).
func withICE(sdpText, ufrag, pwd string) string {
	s := strings.ReplaceAll(sdpText, chromeUfrag, "a=ice-ufrag:"+ufrag)
	return strings.ReplaceAll(s, chromePwd, "a=ice-pwd:"+pwd)
}

// bobCallsAlice: bob's session-initiate carries a real Chromium audio
// offer; alice's tab accepts and answers (DTLS active). It returns the
// answer alice sent.
func bobCallsAlice(t *testing.T, alice *browser, bob *scripted, sid string) string {
	t.Helper()
	initiate := offerJingle(t, readSDP(t, chromeAudio), sid, bob.jid.String())
	if r := bob.iq(alice.JID().String(), initiate); !strings.Contains(r, "result") {
		t.Fatalf("session-initiate answered %s", r)
	}
	alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == sid })
	alice.mustAck(map[string]any{"type": "accept", "sid": sid})
	alice.expect("offer", func(m map[string]any) bool { return m["sid"] == sid })
	ans := withICE(strings.ReplaceAll(readSDP(t, chromeAudio), "a=setup:actpass", "a=setup:active"), "AlIc", "alicealicealicealice0001")
	alice.mustAck(map[string]any{"type": "answer", "sid": sid, "sdp": ans})
	bob.expect("session-accept", jingleOf(jingle.ActionSessionAccept, sid))
	return ans
}

// aliceCallsBob: alice calls bob's full JID (no XEP-0353 in his caps: a
// direct session-initiate) with a real Chromium audio offer. bob's
// session-accept is left to the caller.
func aliceCallsBob(t *testing.T, alice *browser, bob *scripted, sid string) received {
	t.Helper()
	alice.mustAck(map[string]any{"type": "call", "sid": sid, "to": bob.jid.String(), "media": []string{"audio"}})
	alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == sid })
	alice.mustAck(map[string]any{"type": "offer", "sid": sid, "sdp": readSDP(t, chromeAudio)})
	return bob.expect("session-initiate", jingleOf(jingle.ActionSessionInitiate, sid))
}

func restartInfo(sid, initiator, creator, ufrag, pwd string) string {
	return fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='%s' initiator='%s'><content creator='%s' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='%s' pwd='%s'/></content></jingle>`,
		sid, initiator, creator, ufrag, pwd)
}

// restartFor matches a transport-info of session sid with one content and
// the ICE ufrag ufrag (a restart's, or its answer's).
func restartFor(sid, ufrag string) func(received) bool {
	return func(r received) bool {
		return r.Jingle != nil && r.Jingle.Action == jingle.ActionTransportInfo && r.Jingle.SID == sid &&
			len(r.Jingle.Contents) == 1 && r.Jingle.Contents[0].Transport != nil && r.Jingle.Contents[0].Transport.Ufrag == ufrag
	}
}

// bobAnswersRestart: bob answers the tab's ICE restart with his new
// credentials, and the tab's answer carries them.
func bobAnswersRestart(t *testing.T, alice *browser, bob *scripted, sid, ufrag, pwd string) {
	t.Helper()
	if r := bob.iq(alice.JID().String(), restartInfo(sid, alice.JID().String(), "initiator", ufrag, pwd)); !strings.Contains(r, "result") {
		t.Fatalf("the restart's answer answered %s", r)
	}
	a := alice.expect("answer", func(m map[string]any) bool { return m["sid"] == sid })
	if !strings.Contains(a["sdp"].(string), "a=ice-ufrag:"+ufrag) {
		t.Errorf("the answer to the tab's restart lacks the peer's new credentials:\n%s", a["sdp"])
	}
}

// aliceCallsBobAccepted is aliceCallsBob with bob's session-accept (a real
// Chromium audio answer) taken by the tab.
func aliceCallsBobAccepted(t *testing.T, alice *browser, bob *scripted, sid string) {
	t.Helper()
	aliceCallsBob(t, alice, bob, sid)
	if r := bob.iq(alice.JID().String(), answerJingle(t, readSDP(t, chromeAudio), sid, alice.JID().String(), bob.jid.String())); !strings.Contains(r, "result") {
		t.Fatalf("session-accept answered %s", r)
	}
	alice.expect("answer", func(m map[string]any) bool { return m["sid"] == sid })
}

// TestPeerTrickleBeforeSessionAccept: candidates the callee trickles
// before its session-accept reach the browser after the answer, not
// before (addIceCandidate would fail without a remote description).
func TestPeerTrickleBeforeSessionAccept(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		aliceCallsBob(t, alice, bob, "tb")
		cand := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='tb' initiator='%s'><content creator='initiator' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='5+Ix' pwd='uK8IlylxzDMUhrkVzdmj0M+v'><candidate component='1' foundation='9' generation='0' id='c9' ip='127.0.0.1' network='0' port='40000' priority='2122262783' protocol='udp' type='host'/></transport></content></jingle>`, alice.JID())
		if r := bob.iq(alice.JID().String(), cand); !strings.Contains(r, "result") {
			t.Fatalf("early transport-info answered %s", r)
		}
		if r := bob.iq(alice.JID().String(), answerJingle(t, readSDP(t, chromeAudio), "tb", alice.JID().String(), bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-accept answered %s", r)
		}
		ans := alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "tb" })
		c := alice.expect("ice-candidate", func(m map[string]any) bool { return m["sid"] == "tb" })
		if as, cs := ans["seq"].(float64), c["seq"].(float64); cs < as {
			t.Errorf("the early candidate (seq %v) reached the browser before the answer (seq %v)", cs, as)
		}
		if !strings.Contains(c["candidate"].(map[string]any)["candidate"].(string), "127.0.0.1 40000") {
			t.Errorf("candidate = %v", c)
		}
	})
}

// TestPeerContentAddDeclined: the browser answers the peer's content-add
// with the new m-section rejected: the peer gets content-reject, and the
// session takes the next content-add (nothing is left pending). The peer's
// mute of a content reaches the browser with its medium.
func TestPeerContentAddDeclined(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		ans := bobCallsAlice(t, alice, bob, "cd")

		if r := bob.iq(alice.JID().String(), fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='cd' initiator='%s'><mute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='initiator' name='audio'/></jingle>`, bob.jid)); !strings.Contains(r, "result") {
			t.Fatalf("session-info mute answered %s", r)
		}
		mute := alice.expect("session-info", func(m map[string]any) bool { return m["sid"] == "cd" })
		if mute["info"] != "mute" || fmt.Sprint(mute["media"]) != "[audio]" {
			t.Errorf("mute of content audio reached the tab as %v, want info mute, media [audio]", mute)
		}

		videoAdd := func(names ...string) string {
			var contents strings.Builder
			for _, name := range names {
				fmt.Fprintf(&contents, `<content creator='initiator' name='%s' senders='both'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><payload-type id='96' name='VP8' clockrate='90000'/><rtcp-mux/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='5+Ix' pwd='uK8IlylxzDMUhrkVzdmj0M+v'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>%s</fingerprint></transport></content>`, name, chromeFP)
			}
			return fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='cd' initiator='%s'>%s</jingle>`, bob.jid, contents.String())
		}
		if r := bob.iq(alice.JID().String(), videoAdd("video")); !strings.Contains(r, "result") {
			t.Fatalf("content-add answered %s", r)
		}
		off := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "cd" })
		if !strings.Contains(off["sdp"].(string), "a=mid:video") {
			t.Fatalf("the peer's offer lacks its video:\n%s", off["sdp"])
		}
		// The tab declines the video: port 0 in its answer.
		declined := strings.TrimRight(ans, "\r\n") + "\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:video\r\na=inactive\r\na=rtpmap:96 VP8/90000\r\n"
		alice.mustAck(map[string]any{"type": "answer", "sid": "cd", "sdp": declined})
		rej := bob.expect("content-reject", jingleOf(jingle.ActionContentReject, "cd"))
		if len(rej.Jingle.Contents) != 1 || rej.Jingle.Contents[0].Name != "video" || rej.Jingle.Contents[0].Creator != jingle.RoleInitiator ||
			rej.Jingle.Reason == nil || rej.Jingle.Reason.Condition != jingle.ReasonDecline {
			t.Errorf("content-reject = %s", rej.Raw)
		}
		// Nothing pending: the next content-add is taken.
		if r := bob.iq(alice.JID().String(), videoAdd("video2")); !strings.Contains(r, "result") {
			t.Errorf("a content-add after the declined one answered %s, want result", r)
		}
		off = alice.expect("offer", func(m map[string]any) bool {
			return m["sid"] == "cd" && strings.Contains(m["sdp"].(string), "a=mid:video2")
		})
		// The tab accepts it: content-accept.
		accepted := declined + strings.ReplaceAll(mSection(t, off["sdp"].(string), "video2"), "a=setup:actpass", "a=setup:active")
		alice.mustAck(map[string]any{"type": "answer", "sid": "cd", "sdp": accepted})
		acc := bob.expect("content-accept", jingleOf(jingle.ActionContentAccept, "cd"))
		if len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Name != "video2" {
			t.Errorf("content-accept = %s", acc.Raw)
		}

		// Two contents in one content-add, the tab keeps one: the other is
		// removed after the content-accept (a content-reject would be out
		// of order once the content-add is answered).
		if r := bob.iq(alice.JID().String(), videoAdd("v3", "v4")); !strings.Contains(r, "result") {
			t.Fatalf("content-add of v3 and v4 answered %s", r)
		}
		off = alice.expect("offer", func(m map[string]any) bool {
			return m["sid"] == "cd" && strings.Contains(m["sdp"].(string), "a=mid:v3") && strings.Contains(m["sdp"].(string), "a=mid:v4")
		})
		partial := accepted + strings.ReplaceAll(mSection(t, off["sdp"].(string), "v3"), "a=setup:actpass", "a=setup:active") +
			"m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v4\r\na=inactive\r\na=rtpmap:96 VP8/90000\r\n"
		alice.mustAck(map[string]any{"type": "answer", "sid": "cd", "sdp": partial})
		acc = bob.expect("content-accept v3", jingleOf(jingle.ActionContentAccept, "cd"))
		if len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Name != "v3" {
			t.Errorf("content-accept = %s, want v3 only", acc.Raw)
		}
		rm := bob.expect("content-remove v4", jingleOf(jingle.ActionContentRemove, "cd"))
		if len(rm.Jingle.Contents) != 1 || rm.Jingle.Contents[0].Name != "v4" {
			t.Errorf("content-remove = %s, want v4", rm.Raw)
		}
		noContentReject(t, bob, "after content-accept")
	})
}

// mSection returns the m-section of sdpText whose a=mid is mid, as text
// ending with CRLF.
func mSection(t *testing.T, sdpText, mid string) string {
	t.Helper()
	for _, p := range strings.Split(sdpText, "\r\nm=")[1:] {
		if strings.Contains(p, "\r\na=mid:"+mid+"\r\n") {
			return "m=" + strings.TrimRight(p, "\r\n") + "\r\n"
		}
	}
	t.Fatalf("no m-section %s in\n%s", mid, sdpText)
	return ""
}

// TestPeerTransportReplace: a transport-replace to a transport browsers
// lack (IBB) gets transport-reject at once; one to ICE-UDP (new
// credentials) goes to the browser as an offer, and its answer becomes
// transport-accept.
func TestPeerTransportReplace(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		ans := bobCallsAlice(t, alice, bob, "tr")

		ibb := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-replace' sid='tr' initiator='%s'><content creator='initiator' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ibb1'/></content></jingle>`, bob.jid)
		if r := bob.iq(alice.JID().String(), ibb); !strings.Contains(r, "result") {
			t.Fatalf("transport-replace answered %s", r)
		}
		rej := bob.expect("transport-reject", jingleOf(jingle.ActionTransportReject, "tr"))
		if len(rej.Jingle.Contents) != 1 || rej.Jingle.Contents[0].Name != "audio" || rej.Jingle.Reason == nil || rej.Jingle.Reason.Condition != jingle.ReasonUnsupportedTransports {
			t.Errorf("transport-reject = %s", rej.Raw)
		}

		ice := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-replace' sid='tr' initiator='%s'><content creator='initiator' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='NewB' pwd='bobbobbobbobbobbobbob002'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>%s</fingerprint></transport></content></jingle>`, bob.jid, chromeFP)
		if r := bob.iq(alice.JID().String(), ice); !strings.Contains(r, "result") {
			t.Fatalf("transport-replace (ICE-UDP) answered %s, want result (the IBB one is settled)", r)
		}
		off := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "tr" })
		if !strings.Contains(off["sdp"].(string), "a=ice-ufrag:NewB") {
			t.Fatalf("the offer lacks the new credentials:\n%s", off["sdp"])
		}
		alice.mustAck(map[string]any{"type": "answer", "sid": "tr", "sdp": withICE(strings.ReplaceAll(ans, "a=ice-ufrag:AlIc", chromeUfrag), "AlI2", "alicealicealicealice0002")})
		acc := bob.expect("transport-accept", jingleOf(jingle.ActionTransportAccept, "tr"))
		if len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Transport == nil || acc.Jingle.Contents[0].Transport.Ufrag != "AlI2" {
			t.Errorf("transport-accept = %s", acc.Raw)
		}
	})
}

// TestICERestartGlare: both sides restart ICE at once (each sent its
// transport-info before it saw the other's). XEP-0166: the initiator
// wins. The web user as initiator: the peer's restart gets a tie-break
// error and the browser's restart is answered. As responder: the peer's
// restart becomes the browser's offer, and the tie-break error the peer
// answers the browser's restart with ends nothing.
func TestICERestartGlare(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		func(t *testing.T) {
			alice, bob := aliceAndScriptedBob(t, srv)
			aliceCallsBobAccepted(t, alice, bob, "rg1")

			bob.hold.Store(true)
			alice.mustAck(map[string]any{"type": "offer", "sid": "rg1", "sdp": withICE(readSDP(t, chromeAudio), "AlR1", "alicealicealicealice0003")})
			ours := bob.expect("the browser's restart", jingleOf(jingle.ActionTransportInfo, "rg1"))
			if tr := ours.Jingle.Contents[0].Transport; len(ours.Jingle.Contents) != 1 || tr == nil || tr.Ufrag != "AlR1" {
				t.Fatalf("restart transport-info = %s", ours.Raw)
			}
			// bob's own restart crosses it.
			r := bob.iq(alice.JID().String(), restartInfo("rg1", alice.JID().String(), "initiator", "BoR1", "bobbobbobbobbobbobbob003"))
			if !strings.Contains(r, "conflict") || !strings.Contains(r, "tie-break") {
				t.Errorf("the responder's racing restart answered %s, want conflict + tie-break", r)
			}
			// bob yields: acknowledges alice's restart and answers it.
			bob.ackHeld("")
			bobAnswersRestart(t, alice, bob, "rg1", "BoR2", "bobbobbobbobbobbobbob004")
			for _, m := range alice.backlog {
				if m["type"] == "offer" || m["type"] == "hangup" {
					t.Errorf("the tab got %v", m)
				}
			}
		}(t)
	})
}

// TestICERestartGlareAsResponder: TestICERestartGlare with the web user
// as the responder.
func TestICERestartGlareAsResponder(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		func(t *testing.T) {
			alice, bob := aliceAndScriptedBob(t, srv)
			ans := bobCallsAlice(t, alice, bob, "rg2")

			bob.hold.Store(true)
			alice.mustAck(map[string]any{"type": "offer", "sid": "rg2", "sdp": strings.ReplaceAll(withICE(strings.ReplaceAll(ans, "a=ice-ufrag:AlIc", chromeUfrag), "AlR1", "alicealicealicealice0005"), "a=setup:active", "a=setup:actpass")})
			bob.expect("the browser's restart", jingleOf(jingle.ActionTransportInfo, "rg2"))
			// bob, the initiator, restarts too: it wins.
			if r := bob.iq(alice.JID().String(), restartInfo("rg2", bob.jid.String(), "initiator", "BoR1", "bobbobbobbobbobbobbob005")); !strings.Contains(r, "result") {
				t.Fatalf("the initiator's racing restart answered %s, want result", r)
			}
			bob.ackHeld(tieBreakErr)
			off := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "rg2" })
			if !strings.Contains(off["sdp"].(string), "a=ice-ufrag:BoR1") || off["polite"] != true {
				t.Fatalf("the initiator's restart reached the tab as %v", off)
			}
			// The polite tab rolled its own back and answers.
			alice.mustAck(map[string]any{"type": "answer", "sid": "rg2", "sdp": withICE(strings.ReplaceAll(ans, "a=ice-ufrag:AlIc", chromeUfrag), "AlR2", "alicealicealicealice0006")})
			ti := bob.expect("the answer to bob's restart", func(r received) bool {
				return r.Jingle != nil && r.Jingle.Action == jingle.ActionTransportInfo && r.Jingle.SID == "rg2" &&
					r.Jingle.Contents[0].Transport != nil && r.Jingle.Contents[0].Transport.Ufrag == "AlR2"
			})
			if len(ti.Jingle.Contents) != 1 {
				t.Errorf("transport-info with %d contents", len(ti.Jingle.Contents))
			}
			time.Sleep(300 * time.Millisecond)
			for _, r := range append(bob.back, drainScripted(bob)...) {
				if r.Jingle != nil && r.Jingle.Action == jingle.ActionSessionTerminate {
					t.Errorf("the lost tie-break ended the call: %s", r.Raw)
				}
			}
		}(t)
	})
}

// noContentReject fails t if p received a content-reject (so far, or
// waiting to be read).
func noContentReject(t *testing.T, p *scripted, when string) {
	t.Helper()
	for _, r := range append(p.back, drainScripted(p)...) {
		if r.Jingle != nil && r.Jingle.Action == jingle.ActionContentReject {
			t.Errorf("content-reject %s: %s", when, r.Raw)
		}
	}
}

// drainScripted returns what p received and nobody expected yet.
func drainScripted(p *scripted) []received {
	var out []received
	for {
		select {
		case r := <-p.in:
			out = append(out, r)
		default:
			return out
		}
	}
}

// TestProceedWithoutSessionInitiate: the web user accepts an XMPP user's
// proposal, and the caller never sends its session-initiate: the call ends
// with timeout instead of hanging. The proposal's receipt request is
// answered, and every call message carries a store hint.
func TestProceedWithoutSessionInitiate(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv, func(cfg *config.Config) { cfg.Calls.RingTimeout = config.Duration(2 * time.Second) })

		bob.sendRaw("<message to='alice@%s' id='jm-propose-pt' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='pt'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose><request xmlns='urn:xmpp:receipts'/><store xmlns='urn:xmpp:hints'/></message>", srv.ComponentDomain)
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "pt" })
		rcpt := bob.expect("receipt", func(r received) bool {
			return r.Name == "message" && strings.Contains(r.Raw, "urn:xmpp:receipts") && strings.Contains(r.Raw, "received") && strings.Contains(r.Raw, `id="jm-propose-pt"`)
		})
		if bareOf(rcpt.From) != "alice@"+srv.ComponentDomain {
			t.Errorf("receipt from %s", rcpt.From)
		}
		ring := bob.expect("ringing", jmiOf(jingle.JMIRinging, "pt"))
		alice.mustAck(map[string]any{"type": "accept", "sid": "pt"})
		proc := bob.expect("proceed", jmiOf(jingle.JMIProceed, "pt"))
		for _, r := range []received{ring, proc} {
			if !strings.Contains(r.Raw, "urn:xmpp:hints") {
				t.Errorf("no store hint: %s", r.Raw)
			}
		}
		start := time.Now()
		h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "pt" })
		if h["reason"] != "timeout" {
			t.Errorf("hangup = %v, want reason timeout", h)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("the call ended %s after proceed, want about the ring timeout (2 s)", took)
		}
		fin := bob.expect("finish", jmiOf(jingle.JMIFinish, "pt"))
		if fin.JMI.Reason == nil || fin.JMI.Reason.Condition != jingle.ReasonTimeout {
			t.Errorf("finish = %s", fin.Raw)
		}
	})
}

// TestGlareMixed: one side proposes (XEP-0353) while the other sends a
// direct session-initiate, or the reverse. The lower id wins, whatever
// the kind of call: exactly one call is left.
func TestGlareMixed(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		initiate := func(sid string) string {
			return bob.iq(alice.JID().String(), offerJingle(t, readSDP(t, chromeAudio), sid, bob.jid.String()))
		}

		// 1. alice's proposal wins over bob's session-initiate.
		alice.mustAck(map[string]any{"type": "call", "sid": "-m1", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "-m1"))
		if r := initiate("b1"); !strings.Contains(r, "conflict") || !strings.Contains(r, "tie-break") {
			t.Errorf("bob's session-initiate against alice's lower proposal answered %s, want conflict + tie-break", r)
		}
		alice.mustAck(map[string]any{"type": "hangup", "sid": "-m1"})
		bob.expect("retract", jmiOf(jingle.JMIRetract, "-m1"))

		// 2. bob's session-initiate wins over alice's proposal: the
		// proposal is retracted, and bob's call reaches alice's tab as
		// an offer (she asked for a call with him).
		alice.mustAck(map[string]any{"type": "call", "sid": "~m2", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "~m2"))
		if r := initiate("b2"); !strings.Contains(r, "result") {
			t.Errorf("bob's winning session-initiate answered %s", r)
		}
		ret := bob.expect("retract", jmiOf(jingle.JMIRetract, "~m2"))
		if !ret.JMI.TieBreak {
			t.Errorf("retract = %s, want <tie-break/>", ret.Raw)
		}
		h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "~m2" })
		if h["reason"] != "alternative-session" {
			t.Errorf("hangup = %v, want alternative-session", h)
		}
		alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "b2" })
		alice.mustAck(map[string]any{"type": "hangup", "sid": "b2"})
		bob.expect("session-terminate b2", jingleOf(jingle.ActionSessionTerminate, "b2"))

		// 3. bob's proposal wins over alice's direct session-initiate:
		// hers is terminated (alternative-session) and his rings.
		aliceCallsBob(t, alice, bob, "~m3")
		bob.sendRaw("<message to='alice@%s' id='jm-propose-b3' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='b3'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", srv.ComponentDomain)
		term := bob.expect("session-terminate ~m3", jingleOf(jingle.ActionSessionTerminate, "~m3"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonAlternativeSession {
			t.Errorf("session-terminate = %s, want alternative-session", term.Raw)
		}
		h = alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "~m3" })
		if h["reason"] != "alternative-session" {
			t.Errorf("hangup = %v, want alternative-session", h)
		}
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "b3" })
		bob.expect("ringing b3", jmiOf(jingle.JMIRinging, "b3"))

		// 4. alice's direct session-initiate wins over bob's proposal.
		alice.mustAck(map[string]any{"type": "reject", "sid": "b3"})
		bob.expect("reject b3", jmiOf(jingle.JMIReject, "b3"))
		aliceCallsBob(t, alice, bob, "-m4")
		bob.sendRaw("<message to='alice@%s' id='jm-propose-b4' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='b4'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", srv.ComponentDomain)
		rej := bob.expect("reject b4", jmiOf(jingle.JMIReject, "b4"))
		if !rej.JMI.TieBreak {
			t.Errorf("reject = %s, want <tie-break/>", rej.Raw)
		}
		time.Sleep(200 * time.Millisecond)
		for _, m := range alice.backlog {
			if m["sid"] == "b4" || (m["type"] == "hangup" && m["sid"] == "-m4") {
				t.Errorf("alice's tab got %v", m)
			}
		}
	})
}

// TestCallTimeouts: a call that rings unanswered ends with timeout in each
// direction (the peer hears a session-terminate, a JMI reject or a
// retract, each with reason timeout), and so does a Jingle request the
// peer never answers.
func TestCallTimeouts(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv, func(cfg *config.Config) {
			cfg.Calls.RingTimeout = config.Duration(3 * time.Second) // longer than the IQ timeout: the last step times an IQ out
			cfg.Calls.IQTimeout = config.Duration(1500 * time.Millisecond)
		})
		hangup := func(sid string) map[string]any {
			t.Helper()
			h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == sid })
			if h["reason"] != "timeout" {
				t.Errorf("%s: hangup = %v, want reason timeout", sid, h)
			}
			return h
		}

		// An incoming direct call nobody answers.
		if r := bob.iq(alice.JID().String(), offerJingle(t, readSDP(t, chromeAudio), "t1", bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-initiate answered %s", r)
		}
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "t1" })
		hangup("t1")
		term := bob.expect("session-terminate t1", jingleOf(jingle.ActionSessionTerminate, "t1"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonTimeout {
			t.Errorf("session-terminate = %s, want reason timeout", term.Raw)
		}

		// An incoming proposal nobody answers.
		bob.sendRaw("<message to='alice@%s' id='jm-propose-t2' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='t2'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>", srv.ComponentDomain)
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "t2" })
		hangup("t2")
		rej := bob.expect("reject t2", jmiOf(jingle.JMIReject, "t2"))
		if rej.JMI.Reason == nil || rej.JMI.Reason.Condition != jingle.ReasonTimeout {
			t.Errorf("reject = %s, want reason timeout", rej.Raw)
		}

		// An outgoing proposal bob never answers.
		alice.mustAck(map[string]any{"type": "call", "sid": "t3", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose t3", jmiOf(jingle.JMIPropose, "t3"))
		hangup("t3")
		ret := bob.expect("retract t3", jmiOf(jingle.JMIRetract, "t3"))
		if ret.JMI.Reason == nil || ret.JMI.Reason.Condition != jingle.ReasonTimeout {
			t.Errorf("retract = %s, want reason timeout", ret.Raw)
		}

		// A session-initiate bob never acknowledges.
		bob.hold.Store(true)
		aliceCallsBob(t, alice, bob, "t4")
		h := hangup("t4")
		if !strings.Contains(fmt.Sprint(h["text"]), "session-initiate") {
			t.Errorf("hangup text %q does not name the request", h["text"])
		}
		bob.expect("session-terminate t4", jingleOf(jingle.ActionSessionTerminate, "t4"))
		bob.ackHeld("")
	})
}

// TestCallRefusals: the tab declining a direct call terminates the session
// with decline; the peer declining a proposal reaches the tab with its
// reason and text; the tab changing a direction mid-call is a
// content-modify (answered at once: the peer has nothing to say).
func TestCallRefusals(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)

		if r := bob.iq(alice.JID().String(), offerJingle(t, readSDP(t, chromeAudio), "d1", bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-initiate answered %s", r)
		}
		alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == "d1" })
		alice.mustAck(map[string]any{"type": "reject", "sid": "d1", "reason": "decline", "text": "not now"})
		term := bob.expect("session-terminate d1", jingleOf(jingle.ActionSessionTerminate, "d1"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonDecline || term.Jingle.Reason.Text != "not now" {
			t.Errorf("session-terminate = %s, want decline, text \"not now\"", term.Raw)
		}

		alice.mustAck(map[string]any{"type": "call", "sid": "d2", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose d2", jmiOf(jingle.JMIPropose, "d2"))
		bob.sendRaw("<message to='%s' type='chat'><reject xmlns='urn:xmpp:jingle-message:0' id='d2'><reason xmlns='urn:xmpp:jingle:1'><decline/><text>in a meeting</text></reason></reject></message>", alice.JID())
		h := alice.expect("hangup", func(m map[string]any) bool { return m["sid"] == "d2" })
		if h["reason"] != "decline" || h["text"] != "in a meeting" {
			t.Errorf("hangup = %v, want decline, \"in a meeting\"", h)
		}

		aliceCallsBob(t, alice, bob, "d3")
		if r := bob.iq(alice.JID().String(), answerJingle(t, readSDP(t, chromeAudio), "d3", alice.JID().String(), bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-accept answered %s", r)
		}
		alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "d3" })
		alice.mustAck(map[string]any{"type": "offer", "sid": "d3", "sdp": strings.ReplaceAll(readSDP(t, chromeAudio), "a=sendrecv", "a=sendonly")})
		mod := bob.expect("content-modify d3", jingleOf(jingle.ActionContentModify, "d3"))
		if len(mod.Jingle.Contents) != 1 || mod.Jingle.Contents[0].Name != "audio" || mod.Jingle.Contents[0].Senders != jingle.SendersInitiator {
			t.Errorf("content-modify = %s, want content audio senders initiator", mod.Raw)
		}
		a := alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "d3" })
		if !strings.Contains(a["sdp"].(string), "a=recvonly") {
			t.Errorf("the answer to a sendonly offer is not recvonly:\n%s", a["sdp"])
		}
	})
}

// TestBundledRestartAnsweredPerContent: a bundled audio, video and data
// call; each side restarts ICE in turn, and the other answers (or
// announces) the new credentials with one transport-info per content, as
// Dino and the gateway itself do. The tab gets one answer, and one offer,
// never a new offer for each content.
func TestBundledRestartAnsweredPerContent(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		const av = "aiortc-safari-av-datachannel-offer.sdp"
		alice, bob := aliceAndScriptedBob(t, srv)
		alice.mustAck(map[string]any{"type": "call", "sid": "bu", "to": bob.jid.String(), "media": []string{"audio", "video"}})
		alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "bu" })
		offer := readSDP(t, av)
		alice.mustAck(map[string]any{"type": "offer", "sid": "bu", "sdp": offer})
		bob.expect("session-initiate", jingleOf(jingle.ActionSessionInitiate, "bu"))
		if r := bob.iq(alice.JID().String(), answerJingle(t, offer, "bu", alice.JID().String(), bob.jid.String())); !strings.Contains(r, "result") {
			t.Fatalf("session-accept answered %s", r)
		}
		alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "bu" })
		perContent := func(ufrag, pwd string) {
			t.Helper()
			for _, name := range []string{"audio", "video", "data"} {
				x := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='bu' initiator='%s'><content creator='initiator' name='%s'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='%s' pwd='%s'/></content></jingle>`, alice.JID(), name, ufrag, pwd)
				if r := bob.iq(alice.JID().String(), x); !strings.Contains(r, "result") {
					t.Fatalf("transport-info for %s answered %s", name, r)
				}
			}
		}

		// The tab restarts; bob answers per content.
		restart := strings.ReplaceAll(strings.ReplaceAll(offer, "a=ice-ufrag:XSmV", "a=ice-ufrag:AlR1"), "a=ice-pwd:Ss5xY4RMFEJASRvK5TIPgLN9", "a=ice-pwd:alicealicealicealice0007")
		alice.mustAck(map[string]any{"type": "offer", "sid": "bu", "sdp": restart})
		for range 3 {
			bob.expect("restart transport-info", jingleOf(jingle.ActionTransportInfo, "bu"))
		}
		perContent("BoR1", "bobbobbobbobbobbobbob007")
		a := alice.expect("answer", func(m map[string]any) bool { return m["sid"] == "bu" })
		if n := strings.Count(a["sdp"].(string), "a=ice-ufrag:BoR1"); n != 3 {
			t.Errorf("the answer has the new ufrag in %d m-sections, want 3:\n%s", n, a["sdp"])
		}

		// bob restarts, per content: one offer.
		perContent("BoR2", "bobbobbobbobbobbobbob008")
		o := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "bu" })
		if n := strings.Count(o["sdp"].(string), "a=ice-ufrag:BoR2"); n != 3 {
			t.Errorf("the offer has the new ufrag in %d m-sections, want 3:\n%s", n, o["sdp"])
		}
		time.Sleep(300 * time.Millisecond)
		for _, m := range append(alice.backlog, drainBrowser(alice)...) {
			if m["type"] == "offer" || m["type"] == "answer" {
				t.Errorf("the tab got another %s: %v", m["type"], m["sdp"])
			}
		}
	})
}

// drainBrowser returns what b received and nobody expected yet.
func drainBrowser(b *browser) []map[string]any {
	var out []map[string]any
	for {
		select {
		case m, ok := <-b.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		default:
			return out
		}
	}
}

// TestPeerRestartOnOutgoingCall: on a call the web user made, the peer
// restarts ICE before any other renegotiation: the tab gets an offer with
// the peer's new credentials, and its answer (new credentials of its own)
// goes back as transport-info. (The tab's answer was refused as "no offer
// to answer" when the gateway counted only content offers.)
func TestPeerRestartOnOutgoingCall(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		aliceCallsBobAccepted(t, alice, bob, "pr1")
		if r := bob.iq(alice.JID().String(), restartInfo("pr1", alice.JID().String(), "initiator", "BoR7", "bobbobbobbobbobbobbob007")); !strings.Contains(r, "result") {
			t.Fatalf("bob's restart answered %s", r)
		}
		o := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "pr1" })
		if !strings.Contains(o["sdp"].(string), "a=ice-ufrag:BoR7") {
			t.Errorf("the offer lacks bob's new credentials:\n%s", o["sdp"])
		}
		alice.mustAck(map[string]any{"type": "answer", "sid": "pr1", "sdp": withICE(readSDP(t, chromeAudio), "AlR7", "alicealicealicealice0007")})
		ti := bob.expect("the tab's new credentials", restartFor("pr1", "AlR7"))
		if ti.Jingle.Contents[0].Transport.Pwd != "alicealicealicealice0007" {
			t.Errorf("transport-info = %s", ti.Raw)
		}
	})
}

// TestPeerContentAddDuringCallerRestart: the caller's tab restarts ICE; before
// answering, the peer adds a content. The two offers cross and the
// initiator's wins: the peer's content-add gets conflict + tie-break, the
// restart goes on.
func TestPeerContentAddDuringCallerRestart(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		aliceCallsBobAccepted(t, alice, bob, "pc1")
		alice.mustAck(map[string]any{"type": "offer", "sid": "pc1", "sdp": withICE(readSDP(t, chromeAudio), "AlR8", "alicealicealicealice0008")})
		bob.expect("the tab's restart", restartFor("pc1", "AlR8"))
		add := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='pc1' initiator='%s'><content creator='responder' name='bv'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><payload-type id='96' name='VP8' clockrate='90000'/><rtcp-mux/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='BoR8' pwd='bobbobbobbobbobbobbob008'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99</fingerprint></transport></content></jingle>`, alice.JID())
		if r := bob.iq(alice.JID().String(), add); !strings.Contains(r, "conflict") || !strings.Contains(r, "tie-break") {
			t.Errorf("the peer's content-add during the caller's restart answered %s, want conflict + tie-break", r)
		}
		// bob yields and answers the restart.
		bobAnswersRestart(t, alice, bob, "pc1", "BoR9", "bobbobbobbobbobbobbob009")
		for _, m := range alice.backlog {
			if m["type"] == "offer" {
				t.Errorf("the tab got the peer's offer: %v", m)
			}
		}
	})
}

// TestPeerOfferUnanswered: the tab never answers the offer a peer's
// content-add became (a browser that could not apply it). After the IQ
// timeout the gateway declines it (content-reject, timeout), and both
// sides can renegotiate again.
func TestPeerOfferUnanswered(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv, func(cfg *config.Config) { cfg.Calls.IQTimeout = config.Duration(1500 * time.Millisecond) })
		ans := bobCallsAlice(t, alice, bob, "un")
		add := func(name string) string {
			return fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='un' initiator='%s'><content creator='initiator' name='%s' senders='both'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><payload-type id='96' name='VP8' clockrate='90000'/><rtcp-mux/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='5+Ix' pwd='uK8IlylxzDMUhrkVzdmj0M+v'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>%s</fingerprint></transport></content></jingle>`, bob.jid, name, chromeFP)
		}
		if r := bob.iq(alice.JID().String(), add("v1")); !strings.Contains(r, "result") {
			t.Fatalf("content-add answered %s", r)
		}
		alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "un" })
		start := time.Now()
		rej := bob.expect("content-reject", jingleOf(jingle.ActionContentReject, "un"))
		if len(rej.Jingle.Contents) != 1 || rej.Jingle.Contents[0].Name != "v1" || rej.Jingle.Reason == nil || rej.Jingle.Reason.Condition != jingle.ReasonTimeout {
			t.Errorf("content-reject = %s", rej.Raw)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("declined after %v", d)
		}
		// The tab may offer again (nothing pending)...
		reoffer := strings.Replace(ans, "a=setup:active", "a=setup:actpass", -1)
		reoffer = strings.TrimRight(reoffer, "\r\n") + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:av\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
		if r := alice.request(map[string]any{"type": "offer", "sid": "un", "sdp": reoffer}); r["type"] != "ack" {
			t.Fatalf("the tab's offer after the timeout answered %v, want ack", r)
		}
		bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "un"))
	})
}

// TestTwoPeerOffersOut: the peer restarts ICE and adds a content at once,
// so two offers reach the tab before it answers either. Each answer is
// matched to its offer, in order: the first (new credentials) answers the
// restart, the second the content-add. (The first was taken for the
// content-add's answer, which it lacks: a content-reject went out, and the
// real answer was ignored.)
func TestTwoPeerOffersOut(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		alice, bob := aliceAndScriptedBob(t, srv)
		ans := bobCallsAlice(t, alice, bob, "tw")
		if r := bob.iq(alice.JID().String(), restartInfo("tw", bob.jid.String(), "initiator", "BoR5", "bobbobbobbobbobbobbob005")); !strings.Contains(r, "result") {
			t.Fatalf("bob's restart answered %s", r)
		}
		add := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='tw' initiator='%s'><content creator='initiator' name='video' senders='both'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><payload-type id='96' name='VP8' clockrate='90000'/><rtcp-mux/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='BoR5' pwd='bobbobbobbobbobbobbob005'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>%s</fingerprint></transport></content></jingle>`, bob.jid, chromeFP)
		if r := bob.iq(alice.JID().String(), add); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.expect("offer", func(m map[string]any) bool {
			return m["sid"] == "tw" && strings.Contains(m["sdp"].(string), "a=ice-ufrag:BoR5") && !strings.Contains(m["sdp"].(string), "a=mid:video")
		})
		second := alice.expect("offer", func(m map[string]any) bool {
			return m["sid"] == "tw" && strings.Contains(m["sdp"].(string), "a=mid:video")
		})
		restarted := strings.NewReplacer("a=ice-ufrag:AlIc", "a=ice-ufrag:AlR5", "a=ice-pwd:alicealicealicealice0001", "a=ice-pwd:alicealicealicealice0005").Replace(ans)
		alice.mustAck(map[string]any{"type": "answer", "sid": "tw", "sdp": restarted})
		bob.expect("the tab's new credentials", restartFor("tw", "AlR5"))
		video := strings.ReplaceAll(mSection(t, second["sdp"].(string), "video"), "a=setup:actpass", "a=setup:active")
		video = strings.ReplaceAll(video, "a=ice-ufrag:BoR5", "a=ice-ufrag:AlR5")
		video = strings.ReplaceAll(video, "a=ice-pwd:bobbobbobbobbobbobbob005", "a=ice-pwd:alicealicealicealice0005")
		alice.mustAck(map[string]any{"type": "answer", "sid": "tw", "sdp": restarted + video})
		acc := bob.expect("content-accept", jingleOf(jingle.ActionContentAccept, "tw"))
		if len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Name != "video" {
			t.Errorf("content-accept = %s", acc.Raw)
		}
		noContentReject(t, bob, "for the content-add the tab accepted")
	})
}
