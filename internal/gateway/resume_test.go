package gateway_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// TestResumeKeepsCall: the browser's socket drops mid-call; reconnecting
// within the grace period with the resume token gets the missed messages and
// the call goes on; a second drop not resumed in time ends the call with
// gone towards the XMPP peer.
func TestResumeKeepsCall(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "bob", "bobpw")
		gw := startGateway(t, gatewayConfig(srv, t.TempDir())) // resume_grace 2 s
		alice := connectBrowser(t, gw.Addr, "alice")
		befriend(t, alice, srv, "bob")
		bob := dialScripted(t, srv, "bob")
		bob.sendRaw("<presence/>")

		alice.mustAck(map[string]any{"type": "call", "sid": "rs", "to": "bob@localhost", "media": []string{"audio"}})
		bob.expect("propose", jmiOf(jingle.JMIPropose, "rs"))
		bob.sendRaw("<message to='%s'><proceed xmlns='urn:xmpp:jingle-message:0' id='rs'/></message>", alice.JID())
		alice.expect("proceeding", func(m map[string]any) bool { return m["sid"] == "rs" })
		alice.mustAck(map[string]any{"type": "offer", "sid": "rs", "sdp": readSDP(t, "aiortc-chrome-audio-offer.sdp")})
		bob.expect("session-initiate", jingleOf(jingle.ActionSessionInitiate, "rs"))

		// Drop the socket; the answer arrives while alice is away.
		resume := alice.session["resume"].(string)
		alice.ws.Close()
		<-alice.done
		lastSeq := alice.maxSeq.Load()
		bob.iq(alice.JID().String(), answerJingle(t, readSDP(t, "aiortc-chrome-audio-offer.sdp"), "rs", alice.JID().String(), bob.jid.String()))

		tok, _ := auth.Mint([]byte(hmacSecret), "alice", time.Hour)
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+gw.Addr+"/ws?token="+tok+"&resume="+resume+"&seq="+strconv.FormatUint(lastSeq, 10), nil)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		defer ws.Close()
		var sawAnswer, resumed bool
		deadline := time.Now().Add(15 * time.Second)
		for !sawAnswer && time.Now().Before(deadline) {
			_ = ws.SetReadDeadline(deadline)
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatalf("after resume: %v", err)
			}
			if m["type"] == "session" {
				resumed = m["resumed"] == true
			}
			if m["type"] == "answer" && m["sid"] == "rs" {
				sawAnswer = true
			}
			if m["type"] == "hangup" {
				t.Fatalf("the call ended across a resumed drop: %v", m)
			}
		}
		if !resumed || !sawAnswer {
			t.Fatalf("resumed=%v, answer replayed=%v", resumed, sawAnswer)
		}
		// Now drop for good: after the grace period the call ends with gone.
		ws.Close()
		term := bob.expect("session-terminate after the grace period", jingleOf(jingle.ActionSessionTerminate, "rs"))
		if term.Jingle.Reason == nil || term.Jingle.Reason.Condition != jingle.ReasonGone {
			t.Errorf("terminate = %s", term.Raw)
		}
	})
}
