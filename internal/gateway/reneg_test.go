package gateway_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// This file checks the descriptions the gateway builds on the peer's
// behalf during renegotiation (they must be valid JSEP answers, which pion
// and Chromium check), and glare inside a session (XEP-0166: the
// initiator's offer wins; the polite browser is the callee).

// sdpSummary returns the mids of sd in order, the mids with port 0, and
// the a=setup values.
func sdpSummary(t *testing.T, text string) (mids, rejected, setups []string) {
	t.Helper()
	sd, err := sdpxlate.ParseSDP(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		mids = append(mids, mid)
		if md.MediaName.Port.Value == 0 {
			rejected = append(rejected, mid)
		}
		if v, ok := md.Attribute("setup"); ok {
			setups = append(setups, v)
		}
	}
	return mids, rejected, setups
}

// contentAccept turns the gateway's content-add into the peer's
// content-accept, with transport (the peer's, as in its own offer).
func contentAccept(j *jingle.Jingle, transport *jingle.Transport) string {
	acc := &jingle.Jingle{Action: jingle.ActionContentAccept, SID: j.SID, Initiator: j.Initiator}
	for _, c := range j.Contents {
		c.Transport = transport
		acc.Contents = append(acc.Contents, c)
	}
	b, _ := jingle.Marshal(acc)
	return string(b)
}

// peerTransport is the transport of the first content of a Jingle text,
// with its candidates dropped and setup forced.
func peerTransport(t *testing.T, jingleXML, setup string) *jingle.Transport {
	t.Helper()
	j, err := jingle.Unmarshal([]byte(jingleXML))
	if err != nil {
		t.Fatal(err)
	}
	tr := *j.Contents[0].Transport
	tr.Candidates = nil
	tr.Fingerprints = slices.Clone(tr.Fingerprints)
	for i := range tr.Fingerprints {
		tr.Fingerprints[i].Setup = setup
	}
	return &tr
}

// aliceAndScriptedBob starts a gateway with web user alice and the scripted
// XMPP user bob, contacts both ways, bob online.
func aliceAndScriptedBob(t *testing.T, srv *xmpptest.Server, tune ...func(*config.Config)) (*browser, *scripted) {
	t.Helper()
	srv.Register(t, "bob", "bobpw")
	cfg := gatewayConfig(srv, t.TempDir())
	for _, f := range tune {
		f(&cfg)
	}
	gw := startGateway(t, cfg)
	a := connectBrowser(t, gw.Addr, "alice")
	befriend(t, a, srv, "bob")
	bob := dialScripted(t, srv, "bob")
	goOnline(t, a, bob)
	return a, bob
}

// offerMids is the mids of the browser's current local offer.
func offerMids(t *testing.T, p *pionBrowser) []string {
	mids, _, _ := sdpSummary(t, p.pc.PendingLocalDescription().SDP)
	return mids
}

// calleeSession: bob (scripted) calls alice (a pion tab) with a real
// Chromium audio offer (initiate), and alice accepts (bob's accept).
func calleeSession(t *testing.T, srv *xmpptest.Server, sid string) (a *browser, alice *pionBrowser, bob *scripted, initiate string, accept received) {
	t.Helper()
	a, bob = aliceAndScriptedBob(t, srv)
	alice = newPionBrowser(t, a)
	initiate = offerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), sid, bob.jid.String())
	if r := bob.iq(a.JID().String(), initiate); !strings.Contains(r, "result") {
		t.Fatalf("session-initiate answered %s", r)
	}
	alice.expect("incoming", func(m map[string]any) bool { return m["sid"] == sid })
	alice.mustAck(map[string]any{"type": "accept", "sid": sid})
	alice.start(sid, nil, false)
	alice.takeOffer()
	accept = bob.expect("session-accept", jingleOf(jingle.ActionSessionAccept, sid))
	return a, alice, bob, initiate, accept
}

// TestRenegotiationAsCallee: the web user took an XMPP user's call and
// renegotiates. The answers the gateway builds from the caller's offer
// must not say actpass (the DTLS roles are settled) nor list codecs the
// browser never offered, must keep the offer's m-line order when the peer
// rejects a content, and a content-add glare is won by the caller: the
// gateway drops the callee's offer and passes the caller's on.
func TestRenegotiationAsCallee(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		// bob calls alice with a real Chromium audio offer.
		a, alice, bob, initiate, _ := calleeSession(t, srv, "rc")
		_, _, setups := sdpSummary(t, alice.pc.LocalDescription().SDP)
		if len(setups) == 0 || setups[0] != "active" {
			t.Fatalf("pion answered with setup %v, want active (the test relies on it)", setups)
		}
		bobTransport := peerTransport(t, initiate, "actpass") // a peer repeating its offer's actpass

		// 1. The callee adds video; bob accepts. The answer is built from
		// bob's offer: actpass must become passive (alice is active).
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		add := bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "rc"))
		if r := bob.iq(a.JID().String(), contentAccept(add.Jingle, bobTransport)); !strings.Contains(r, "result") {
			t.Fatalf("content-accept answered %s", r)
		}
		want := offerMids(t, alice)
		ans := alice.takeAnswer()
		mids, rejected, setups := sdpSummary(t, ans)
		if !slices.Equal(mids, want) || len(rejected) != 0 {
			t.Errorf("answer mids %v (rejected %v), want the offer's %v", mids, rejected, want)
		}
		for _, s := range setups {
			if s != "passive" {
				t.Errorf("answer setups %v: want passive everywhere (alice is active)\n%s", setups, ans)
				break
			}
		}

		// 2. The callee adds a second video; bob rejects it. The answer
		// rejects it in its place.
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		add = bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "rc"))
		name := add.Jingle.Contents[0].Name
		if r := bob.iq(a.JID().String(), fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-reject' sid='rc' initiator='%s'><content creator='responder' name='%s'/><reason><decline/></reason></jingle>`, bob.jid, name)); !strings.Contains(r, "result") {
			t.Fatalf("content-reject answered %s", r)
		}
		want = offerMids(t, alice)
		ans = alice.takeAnswer()
		mids, rejected, _ = sdpSummary(t, ans)
		if !slices.Equal(mids, want) || !slices.Equal(rejected, []string{want[len(want)-1]}) {
			t.Errorf("after content-reject: answer mids %v rejected %v; want %v with the last rejected\n%s", mids, rejected, want, ans)
		}

		// 2b. bob now offers a video under the rejected content's name
		// (what a caller whose content-add won a glare does): alice's
		// browser answers it, and bob gets a content-accept: the rejected
		// m-section is new again.
		bobAdd := &jingle.Jingle{Action: jingle.ActionContentAdd, SID: "rc", Initiator: bob.jid.String()}
		for _, c := range add.Jingle.Contents {
			c.Creator, c.Senders = jingle.RoleInitiator, jingle.SendersBoth
			c.Transport = peerTransport(t, initiate, "actpass")
			bobAdd.Contents = append(bobAdd.Contents, c)
		}
		x, _ := jingle.Marshal(bobAdd)
		if r := bob.iq(a.JID().String(), string(x)); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.takeOffer()
		acc := bob.expect("content-accept", jingleOf(jingle.ActionContentAccept, "rc"))
		if len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Name != name {
			t.Errorf("content-accept for the re-offered %q = %s", name, acc.Raw)
		}

		// 3. Glare: alice adds audio while bob adds video. bob, the
		// initiator, wins: his content-add is taken (result), alice's
		// browser rolls its offer back and answers his.
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		aliceAdd := bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "rc"))
		bobAdd = &jingle.Jingle{Action: jingle.ActionContentAdd, SID: "rc", Initiator: bob.jid.String()}
		for _, c := range add.Jingle.Contents { // a video description, as bob would offer it
			c.Creator, c.Name, c.Senders = jingle.RoleInitiator, "bobvideo", jingle.SendersBoth
			c.Transport = peerTransport(t, initiate, "actpass")
			bobAdd.Contents = append(bobAdd.Contents, c)
		}
		x, _ = jingle.Marshal(bobAdd)
		if r := bob.iq(a.JID().String(), string(x)); !strings.Contains(r, "result") {
			t.Fatalf("the initiator's content-add in glare answered %s, want result (the initiator wins)", r)
		}
		off := alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "rc" })
		if !strings.Contains(off["sdp"].(string), "a=mid:bobvideo") {
			t.Errorf("bob's offer lacks his video:\n%s", off["sdp"])
		}
		// bob declines alice's content-add after his own, as the gateway
		// does when its browser's offer supersedes the peer's: alice's
		// yielded already, so that is out of order.
		rej := fmt.Sprintf(`<jingle xmlns='urn:xmpp:jingle:1' action='content-reject' sid='rc' initiator='%s'><content creator='responder' name='%s'/><reason><decline/></reason></jingle>`,
			bob.jid, aliceAdd.Jingle.Contents[0].Name)
		if r := bob.iq(a.JID().String(), rej); !strings.Contains(r, "unexpected-request") || !strings.Contains(r, "out-of-order") {
			t.Errorf("declining the responder's superseded content-add answered %s, want unexpected-request + out-of-order", r)
		}
		// The gateway forgot alice's offer: it lost, her browser rolls it
		// back (Chromium does; pion cannot roll a local offer back, which
		// e2e/webclient's glare test covers with two Chromiums). Offering
		// again before answering bob is refused: his offer is pending.
		if r := alice.request(map[string]any{"type": "offer", "sid": "rc", "sdp": alice.pc.PendingLocalDescription().SDP}); r["type"] != "error" || r["code"] != "conflict" {
			t.Errorf("an offer while the initiator's is pending: %v, want error conflict", r)
		}
	})
}

// callerSession: alice (a pion tab) calls bob (scripted) by his bare JID
// with audio, and bob accepts. videoAdd returns bob's content-add of a video
// content named name, on his transport.
func callerSession(t *testing.T, srv *xmpptest.Server, sid string) (a *browser, alice *pionBrowser, bob *scripted, bobTransport *jingle.Transport, videoAdd func(name string) string) {
	t.Helper()
	a, bob = aliceAndScriptedBob(t, srv)
	alice = newPionBrowser(t, a)
	alice.mustAck(map[string]any{"type": "call", "sid": sid, "to": "bob@localhost", "media": []string{"audio"}})
	bob.expect("propose", jmiOf(jingle.JMIPropose, sid))
	bob.sendRaw("<message to='%s' id='p1'><proceed xmlns='urn:xmpp:jingle-message:0' id='%s'/></message>", a.JID(), sid)
	alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == sid })
	alice.start(sid, []string{"audio"}, false)
	alice.offer(nil)
	si := bob.expect("session-initiate", jingleOf(jingle.ActionSessionInitiate, sid))
	accept := answerJingle(t, alice.pc.LocalDescription().SDP, sid, a.JID().String(), bob.jid.String())
	if r := bob.iq(a.JID().String(), accept); !strings.Contains(r, "result") {
		t.Fatalf("session-accept answered %s", r)
	}
	alice.takeAnswer()
	bobTransport = peerTransport(t, accept, "active")
	videoAdd = func(name string) string {
		j := &jingle.Jingle{Action: jingle.ActionContentAdd, SID: sid, Initiator: a.JID().String()}
		d := *si.Jingle.Contents[0].Description
		d.Media = "video"
		d.PayloadTypes = []jingle.PayloadType{{ID: 96, Name: "VP8", ClockRate: 90000}}
		d.Sources, d.SourceGroups, d.HeaderExtensions = nil, nil, nil
		j.Contents = []jingle.Content{{Creator: jingle.RoleResponder, Name: name, Senders: jingle.SendersBoth, Description: &d, Transport: bobTransport}}
		x, _ := jingle.Marshal(j)
		return string(x)
	}
	return a, alice, bob, bobTransport, videoAdd
}

// TestRenegotiationGlareAsCaller: the web user called; both sides add
// content at once. The caller wins: the peer's content-add meets a
// tie-break while the caller's waits for its answer; and when the peer's
// content-add reached the (impolite) browser first, the browser's own
// offer supersedes it: the gateway sends it, then declines the peer's.
func TestRenegotiationGlareAsCaller(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		a, alice, bob, bobTransport, videoAdd := callerSession(t, srv, "gc")

		// 1. alice's content-add is out; bob's crosses it: tie-break.
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		add := bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "gc"))
		r := bob.iq(a.JID().String(), videoAdd("bv1"))
		if !strings.Contains(r, "conflict") || !strings.Contains(r, "tie-break") {
			t.Errorf("the responder's content-add in glare answered %s, want conflict + tie-break", r)
		}
		if r := bob.iq(a.JID().String(), contentAccept(add.Jingle, bobTransport)); !strings.Contains(r, "result") {
			t.Fatalf("content-accept answered %s", r)
		}
		alice.takeAnswer()

		// 2. bob's content-add arrives first and reaches alice as an
		// offer; alice (impolite) ignores it and offers her own. The
		// initiator's offer supersedes bob's: her content-add goes out
		// (bob, the responder, yields as XEP-0166 says), then bob's is
		// declined (content-reject).
		if r := bob.iq(a.JID().String(), videoAdd("bv2")); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "gc" })
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		add = bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "gc"))
		for _, r := range bob.back {
			if r.Jingle != nil && r.Jingle.Action == jingle.ActionContentReject {
				t.Errorf("content-reject came before the content-add that supersedes: %s", r.Raw)
			}
		}
		rej := bob.expect("content-reject", jingleOf(jingle.ActionContentReject, "gc"))
		if len(rej.Jingle.Contents) != 1 || rej.Jingle.Contents[0].Name != "bv2" || rej.Jingle.Contents[0].Creator != jingle.RoleResponder {
			t.Errorf("content-reject = %s", rej.Raw)
		}
		if r := bob.iq(a.JID().String(), contentAccept(add.Jingle, bobTransport)); !strings.Contains(r, "result") {
			t.Fatalf("content-accept answered %s", r)
		}
		want := offerMids(t, alice)
		final := alice.takeAnswer()
		if mids, rejected, _ := sdpSummary(t, final); !slices.Equal(mids, want) || len(rejected) != 0 {
			t.Errorf("answer mids %v rejected %v, want %v: bob's declined video must not linger\n%s", mids, rejected, want, final)
		}

		// 3. The same with an ICE restart for alice's offer: no
		// content-add for bob to yield to, so his is declined first,
		// then the restart goes out.
		if r := bob.iq(a.JID().String(), videoAdd("bv3")); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.expect("offer", func(m map[string]any) bool {
			return m["sid"] == "gc" && strings.Contains(m["sdp"].(string), "a=mid:bv3")
		})
		alice.offer(&webrtc.OfferOptions{ICERestart: true})
		rej = bob.expect("content-reject", jingleOf(jingle.ActionContentReject, "gc"))
		if len(rej.Jingle.Contents) != 1 || rej.Jingle.Contents[0].Name != "bv3" {
			t.Errorf("content-reject = %s", rej.Raw)
		}
		oldUfrag := add.Jingle.Contents[0].Transport.Ufrag
		isRestart := func(r received) bool {
			return r.Jingle != nil && r.Jingle.Action == jingle.ActionTransportInfo && len(r.Jingle.Contents) == 1 &&
				r.Jingle.Contents[0].Transport != nil && r.Jingle.Contents[0].Transport.Ufrag != "" &&
				r.Jingle.Contents[0].Transport.Ufrag != oldUfrag
		}
		for _, r := range bob.back {
			if isRestart(r) {
				t.Errorf("the restart came before the decline: %s", r.Raw)
			}
		}
		restart := bob.expect("restart transport-info", isRestart)
		if restart.Jingle.SID != "gc" {
			t.Errorf("restart = %s", restart.Raw)
		}
	})
}

// TestRestartYieldsToInitiatorContentAdd: the callee's tab restarts ICE; bob,
// the initiator, acknowledges the restart but adds a content before
// answering it. His offer wins: the polite tab takes it (rolling its
// restart back), and can renegotiate afterwards: the gateway does not wait
// for an answer to the restart the tab abandoned.
func TestRestartYieldsToInitiatorContentAdd(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		a, alice, bob, initiate, accept := calleeSession(t, srv, "ry")
		oldUfrag := accept.Jingle.Contents[0].Transport.Ufrag

		// alice restarts ICE: her description with new credentials (an
		// offer pion never sets: it cannot roll one back).
		restartSDP := strings.ReplaceAll(alice.pc.LocalDescription().SDP, "a=ice-ufrag:"+oldUfrag, "a=ice-ufrag:RsTaRtUfRaG1")
		restartSDP = regexp.MustCompile(`a=ice-pwd:\S+`).ReplaceAllString(restartSDP, "a=ice-pwd:RsTaRtPwDRsTaRtPwDRsTaRtPw")
		alice.mustAck(map[string]any{"type": "offer", "sid": "ry", "sdp": restartSDP})
		bob.expect("restart", restartFor("ry", "RsTaRtUfRaG1"))

		// bob adds video instead of answering.
		add := &jingle.Jingle{Action: jingle.ActionContentAdd, SID: "ry", Initiator: bob.jid.String(), Contents: []jingle.Content{{
			Creator: jingle.RoleInitiator, Name: "bobvideo", Senders: jingle.SendersBoth,
			Description: &jingle.Description{Media: "video", PayloadTypes: []jingle.PayloadType{{ID: 96, Name: "VP8", ClockRate: 90000}}, RTCPMux: true},
			Transport:   peerTransport(t, initiate, "actpass"),
		}}}
		x, _ := jingle.Marshal(add)
		if r := bob.iq(a.JID().String(), string(x)); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.takeOffer()
		if acc := bob.expect("content-accept", jingleOf(jingle.ActionContentAccept, "ry")); len(acc.Jingle.Contents) != 1 || acc.Jingle.Contents[0].Name != "bobvideo" {
			t.Errorf("content-accept = %s", acc.Raw)
		}

		// alice renegotiates again: her offer goes out.
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		o, err := alice.pc.CreateOffer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.pc.SetLocalDescription(o); err != nil {
			t.Fatal(err)
		}
		if r := alice.request(map[string]any{"type": "offer", "sid": "ry", "sdp": o.SDP}); r["type"] != "ack" {
			t.Fatalf("alice's offer after the abandoned restart answered %v, want ack", r)
		}
		bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "ry"))
	})
}

// TestSupersedingContentAddRetried: the caller's content-add supersedes
// bob's pending one, but bob still counts his as pending and refuses it
// (conflict + tie-break) before he sees its decline. The gateway sends it
// again after the decline, and bob takes it.
func TestSupersedingContentAddRetried(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		a, alice, bob, bobTransport, videoAdd := callerSession(t, srv, "sr")
		if r := bob.iq(a.JID().String(), videoAdd("bv")); !strings.Contains(r, "result") {
			t.Fatalf("bob's content-add answered %s", r)
		}
		alice.expect("offer", func(m map[string]any) bool { return m["sid"] == "sr" })

		// alice (impolite) ignores it and adds audio; bob holds the
		// gateway's content-add and content-reject, and refuses the first.
		bob.hold.Store(true)
		if _, err := alice.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		alice.offer(nil)
		first := bob.expect("content-add", jingleOf(jingle.ActionContentAdd, "sr"))
		bob.expect("content-reject", jingleOf(jingle.ActionContentReject, "sr"))
		bob.ackHeldEach(`<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><tie-break xmlns='urn:xmpp:jingle:errors:1'/></error>`, "")
		again := bob.expect("the content-add again", jingleOf(jingle.ActionContentAdd, "sr"))
		if len(again.Jingle.Contents) != len(first.Jingle.Contents) || again.Jingle.Contents[0].Name != first.Jingle.Contents[0].Name {
			t.Errorf("sent again: %s\nfirst: %s", again.Raw, first.Raw)
		}
		if r := bob.iq(a.JID().String(), contentAccept(again.Jingle, bobTransport)); !strings.Contains(r, "result") {
			t.Fatalf("content-accept answered %s", r)
		}
		want := offerMids(t, alice)
		ans := alice.takeAnswer()
		if mids, rejected, _ := sdpSummary(t, ans); !slices.Equal(mids, want) || len(rejected) != 0 {
			t.Errorf("answer mids %v rejected %v, want %v with none rejected\n%s", mids, rejected, want, ans)
		}
	})
}
