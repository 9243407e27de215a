package wsapi_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jinglegate/jinglegate/internal/wsapi"
)

func noEvent[T any](t *testing.T, ch chan T, what string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected %s: %+v", what, e)
	default:
	}
}

// TestResume drops the socket mid-call and reconnects within the grace
// period: every missed message is replayed once and in order, and the call
// is still up.
func TestResume(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.ResumeGrace = time.Hour })
	c := h.dial("alice")
	tab := h.app.nextOpened(t)

	// A call.
	c.send(map[string]any{"type": "call", "id": "1", "sid": "c1", "to": "bob@example.org", "media": []string{"audio"}})
	h.app.nextMessage(t)
	c.expectAck("1")
	tab.Send(wsapi.Proceeding{SID: "c1"})
	tab.Send(wsapi.Ringing{SID: "c1"})
	c.expect(wsapi.TypeProceeding)
	c.expect(wsapi.TypeRinging)
	c.send(map[string]any{"type": "ack", "seq": c.lastSeq})

	// Five candidates; the browser processes two before its socket drops.
	for i := range 5 {
		mid := "0"
		tab.Send(wsapi.Candidate{SID: "c1", Candidate: wsapi.ICECandidate{Candidate: fmt.Sprintf("candidate:%d 1 udp 1 192.0.2.1 %d typ host", i, 1000+i), SDPMid: &mid}})
	}
	c.expect(wsapi.TypeICECandidate)
	c.expect(wsapi.TypeICECandidate)
	processed := c.lastSeq
	token := c.session.str("resume")
	c.drop()
	waitFor(t, "the server to notice", func() bool { return !tab.Connected() })

	// The application goes on sending while the browser is away.
	tab.Send(wsapi.Answer{SID: "c1", SDP: offerSDP})
	tab.Send(wsapi.SessionInfo{SID: "c1", Info: wsapi.InfoActive})
	total := tab.Info().LastSeq

	c2 := h.resume("alice", token, processed)
	s := c2.session
	if s.m["resumed"] != true || s.str("jid") != tab.JID().String() || s.num("lastSeq") != total || s.str("resume") == token || s.str("resume") == "" {
		t.Fatalf("resumed session: %s (total %d)", s, total)
	}
	// Replay: exactly processed+1..total, in order (the client checks that
	// seqs are consecutive).
	var types []string
	for c2.lastSeq < total {
		types = append(types, c2.next().typ())
	}
	want := []string{"ice-candidate", "ice-candidate", "ice-candidate", "answer", "session-info"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("replayed %v, want %v", types, want)
	}
	// Nothing else was replayed: the next message is the answer to a ping.
	c2.alive()

	// The call is still up, and nothing ended or restarted.
	noEvent(t, h.app.closed, "TabClosed")
	noEvent(t, h.app.opened, "TabOpened")
	if !tab.OwnsSID("c1") {
		t.Fatal("call lost")
	}
	c2.send(map[string]any{"type": "ice-candidate", "id": "2", "sid": "c1", "candidate": candidateInit(hostCandidate)})
	if e := h.app.nextMessage(t); e.tab != tab || e.msg.SID != "c1" {
		t.Errorf("after resume: %+v", e)
	}
	c2.expectAck("2")

	// The used token is refused: a new session with an error.
	c3 := h.resume("alice", token, processed)
	if c3.session.m["resumed"] != false || c3.session.str("jid") == tab.JID().String() {
		t.Errorf("reused token: %s", c3.session)
	}
	c3.expectError(wsapi.CodeUnauthorized, "")
	h.app.nextOpened(t)
	c3.close()

	// A stolen token (another user's) is refused and not consumed.
	fresh := c2.session.str("resume")
	thief := h.resume("mallory", fresh, 0)
	if thief.session.m["resumed"] != false || thief.session.str("user") != "mallory" {
		t.Errorf("stolen token: %s", thief.session)
	}
	thief.expectError(wsapi.CodeUnauthorized, "")
	h.app.nextOpened(t)
	c2.alive()

	// A resume while the old connection still looks alive takes it over.
	c4 := h.resume("alice", fresh, c2.lastSeq)
	if c4.session.m["resumed"] != true {
		t.Fatalf("takeover: %s", c4.session)
	}
	if code := c2.waitClosed(); code != 4000 {
		t.Errorf("replaced connection closed with %d, want 4000", code)
	}
	c4.alive()
	noEvent(t, h.app.closed, "TabClosed")
}

// TestResumeTooLate: after the grace period the session ends (the
// application ends its calls with gone) and the token is refused.
func TestResumeTooLate(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.ResumeGrace = 50 * time.Millisecond })
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	c.send(map[string]any{"type": "call", "id": "1", "sid": "c1", "to": "bob@example.org", "media": []string{"audio"}})
	h.app.nextMessage(t)
	c.expectAck("1")
	c.drop()
	e := h.app.nextClosed(t)
	if e.tab != tab || e.reason != wsapi.CloseExpired {
		t.Fatalf("TabClosed(%v, %v)", e.tab.JID(), e.reason)
	}
	if err := tab.Send(wsapi.Hangup{SID: "c1", Reason: wsapi.ReasonGone}); !errors.Is(err, wsapi.ErrTabClosed) {
		t.Errorf("Send after expiry: %v", err)
	}
	c2 := h.resume("alice", c.session.str("resume"), c.lastSeq)
	if c2.session.m["resumed"] != false {
		t.Errorf("expired session resumed: %s", c2.session)
	}
	c2.expectError(wsapi.CodeUnauthorized, "")
}

func TestResumeDisabled(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.ResumeGrace = -1 })
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	if c.session.has("resume") || c.session.num("resumeGraceMs") != 0 {
		t.Errorf("session: %s", c.session)
	}
	c.drop()
	if e := h.app.nextClosed(t); e.tab != tab || e.reason != wsapi.CloseExpired {
		t.Errorf("TabClosed %v", e.reason)
	}
}

// TestPiggybackedAck: an ack field on any message acknowledges; a resume
// replays only what was not acknowledged.
func TestPiggybackedAck(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	for range 3 {
		tab.Send(wsapi.Ringing{SID: "x"})
		c.expect(wsapi.TypeRinging)
	}
	c.send(map[string]any{"type": "ping", "id": "p", "ack": 2})
	c.expectAck("p") // seq 4
	c.send(map[string]any{"type": "ping", "id": "q", "ack": 99})
	c.expectError(wsapi.CodeBadRequest, "q") // seq 5: ack beyond what was sent
	c.drop()
	waitFor(t, "detach", func() bool { return !tab.Connected() })
	// The browser claims to have seen nothing; the server knows it acked 2.
	c2 := h.resume("alice", c.session.str("resume"), 0)
	c2.lastSeq = 2
	for _, typ := range []string{"ringing", "ack", "error"} {
		c2.expect(typ)
	}
	c2.alive()
}

// TestResumeOverflow: while disconnected, a full replay buffer ends the
// session.
func TestResumeOverflow(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) {
		o.WriteQueue = 4
		o.ReplayBuffer = 8
	})
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	c.drop()
	waitFor(t, "detach", func() bool { return !tab.Connected() })
	for i := range 8 {
		if err := tab.Send(wsapi.Ringing{SID: "x"}); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := tab.Send(wsapi.Ringing{SID: "x"}); !errors.Is(err, wsapi.ErrReplayOverflow) {
		t.Fatalf("Send 9: %v", err)
	}
	if e := h.app.nextClosed(t); e.tab != tab || e.reason != wsapi.CloseOverflow {
		t.Errorf("TabClosed %v", e.reason)
	}
}

// TestResumeAfterEviction: a browser that reads but never acknowledges
// loses the oldest messages from the replay buffer; a resume that needs
// them fails with conflict and ends the old session.
func TestResumeAfterEviction(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) {
		o.WriteQueue = 4
		o.ReplayBuffer = 8
	})
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	for range 12 {
		if err := tab.Send(wsapi.Ringing{SID: "x"}); err != nil {
			t.Fatal(err)
		}
		c.expect(wsapi.TypeRinging)
	}
	// A seq from the future is refused too (the session survives that).
	c2 := h.resume("alice", c.session.str("resume"), 13)
	c2.expectError(wsapi.CodeConflict, "")
	h.app.nextOpened(t)
	c2.close()
	noEvent(t, h.app.closed, "TabClosed")

	c = h.dial("bob")
	bt := h.app.nextOpened(t)
	for range 12 {
		bt.Send(wsapi.Ringing{SID: "x"})
		c.expect(wsapi.TypeRinging)
	}
	c3 := h.resume("bob", c.session.str("resume"), 2)
	c3.expectError(wsapi.CodeConflict, "")
	h.app.nextOpened(t)
	if e := h.app.nextClosed(t); e.tab != bt || e.reason != wsapi.CloseOverflow {
		t.Errorf("TabClosed %v", e.reason)
	}
	_ = tab
}

// TestResumeGoroutines: many drop/resume cycles leave no goroutine behind
// (TestMain checks) and lose nothing.
func TestResumeCycles(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	for i := range 20 {
		tab.Send(wsapi.Ringing{SID: fmt.Sprint(i)})
		if i%2 == 0 {
			c.expect(wsapi.TypeRinging)
		}
		last := c.lastSeq
		if i%3 == 0 {
			c.drop()
		} else {
			c.close()
		}
		c = h.resume("alice", c.session.str("resume"), last)
		if c.session.m["resumed"] != true {
			t.Fatalf("cycle %d: %s", i, c.session)
		}
	}
	for c.lastSeq < tab.Info().LastSeq {
		c.next()
	}
	c.alive()
	if code := func() int { c.send(map[string]any{"type": "logout"}); return c.waitClosed() }(); code != websocket.CloseNormalClosure {
		t.Errorf("logout: %d", code)
	}
	if e := h.app.nextClosed(t); e.reason != wsapi.CloseLogout {
		t.Errorf("TabClosed %v", e.reason)
	}
}
