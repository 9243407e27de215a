package wsapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

func TestSessionMessage(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token("Alice", auth.WithName("Alice L."))
	c := h.dialQuery(url.Values{"token": {tok}})
	tab := h.app.nextOpened(t)
	s := c.session
	if !regexp.MustCompile(`^alice@gw\.example\.org/[0-9a-f]{32}$`).MatchString(s.str("jid")) {
		t.Errorf("jid = %q", s.str("jid"))
	}
	if s.str("jid") != tab.JID().String() || tab.User() != "alice" || tab.Name() != "Alice L." || s.str("name") != "Alice L." {
		t.Errorf("session %s, tab %s %s %q", s, tab.JID(), tab.User(), tab.Name())
	}
	if s.has("seq") || s.m["resumed"] != false || s.num("lastSeq") != 0 || !strings.HasPrefix(s.str("resume"), tab.Resource()+".") {
		t.Errorf("session = %s", s)
	}
	servers := s.m["iceServers"].([]any)
	if len(servers) != 2 {
		t.Fatalf("iceServers = %v", servers)
	}
	stun, turn := servers[0].(map[string]any), servers[1].(map[string]any)
	if stun["urls"].([]any)[0] != "stun:stun.example.org:3478" || stun["username"] != nil {
		t.Errorf("stun = %v", stun)
	}
	user := turn["username"].(string)
	exp, name, _ := strings.Cut(user, ":")
	if name != "alice" || exp == "" {
		t.Errorf("TURN username %q", user)
	}
	mac := hmac.New(sha1.New, []byte("turnsecret"))
	mac.Write([]byte(user))
	if turn["credential"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("TURN credential %v", turn["credential"])
	}
	// TTL is an hour.
	if got, err := strconv.ParseInt(exp, 10, 64); err != nil || got < time.Now().Add(time.Hour).Unix()-600 || got > time.Now().Add(time.Hour).Unix()+600 {
		t.Errorf("TURN expiry %q, want about an hour from now", exp)
	}
	// Nothing sequenced has been sent yet; a ping is seq 1.
	c.alive()
	if c.lastSeq != 1 {
		t.Errorf("first seq = %d", c.lastSeq)
	}
}

func TestAuthFailures(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.Verifier.Audience = "gw" })
	now := time.Now()
	sign := func(key []byte, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "aud": "gw"}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for a, b := range valid {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		q      url.Values
		header http.Header
		want   int
	}{
		{"missing", url.Values{}, nil, 401},
		{"empty", url.Values{"token": {""}}, nil, 401},
		{"garbage", url.Values{"token": {"garbage"}}, nil, 401},
		{"expired", url.Values{"token": {sign(secret, with("exp", now.Add(-time.Minute).Unix()))}}, nil, 401},
		{"no exp", url.Values{"token": {sign(secret, with("exp", nil))}}, nil, 401},
		{"not yet valid", url.Values{"token": {sign(secret, with("nbf", now.Add(time.Hour).Unix()))}}, nil, 401},
		{"bad signature", url.Values{"token": {sign([]byte("wrong secret wrong secret wrong!"), valid)}}, nil, 401},
		{"bad sub", url.Values{"token": {sign(secret, with("sub", "alice@example.org"))}}, nil, 401},
		{"empty sub", url.Values{"token": {sign(secret, with("sub", ""))}}, nil, 401},
		{"wrong aud", url.Values{"token": {sign(secret, with("aud", "other"))}}, nil, 401},
		{"missing aud", url.Values{"token": {sign(secret, with("aud", nil))}}, nil, 401},
		{"bad bearer", url.Values{}, http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"basic auth", url.Values{}, http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, 401},
		{"header wins over query", url.Values{"token": {sign(secret, valid)}}, http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"query", url.Values{"token": {sign(secret, valid)}}, nil, 101},
		{"bearer", url.Values{}, http.Header{"Authorization": {"Bearer " + sign(secret, valid)}}, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := h.dialRaw(tc.q, tc.header)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, err)
			}
			if tc.want == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if ws != nil {
				c := newClient(t, ws)
				c.expect(wsapi.TypeSession)
				c.close()
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string // "" = none; "SAME" = the server's own
		want    int
	}{
		{"no origin header", nil, "", 101},
		{"same origin", nil, "SAME", 101},
		{"cross origin refused", nil, "https://evil.example", 403},
		{"null origin refused", nil, "null", 403},
		{"listed", []string{"https://app.example.org"}, "https://app.example.org", 101},
		{"listed, case", []string{"https://App.Example.org"}, "https://app.example.ORG", 101},
		{"listed with port", []string{"https://app.example.org:8443"}, "https://app.example.org:8443", 101},
		{"wrong port", []string{"https://app.example.org:8443"}, "https://app.example.org", 403},
		{"wrong scheme", []string{"https://app.example.org"}, "http://app.example.org", 403},
		{"wildcard", []string{"https://*.example.org"}, "https://a.example.org", 101},
		{"wildcard does not match apex", []string{"https://*.example.org"}, "https://example.org", 403},
		{"suffix attack", []string{"https://app.example.org"}, "https://app.example.org.evil.example", 403},
		{"list excludes same origin", []string{"https://app.example.org"}, "SAME", 403},
		{"star", []string{"*"}, "https://anything.example", 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *wsapi.Options) { o.AllowedOrigins = tc.allowed })
			header := http.Header{}
			switch tc.origin {
			case "":
			case "SAME":
				header.Set("Origin", h.hs.URL)
			default:
				header.Set("Origin", tc.origin)
			}
			ws, resp, err := h.dialRaw(url.Values{"token": {h.token("alice")}}, header)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if ws != nil {
				ws.Close()
			}
		})
	}
}

// TestEveryClientMessage sends a valid message of every client type and
// checks that the application sees it typed, and the browser gets its ack.
func TestEveryClientMessage(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	if err := tab.OwnSID("s1"); err != nil {
		t.Fatal(err)
	}
	polite := true
	for _, tc := range []struct {
		in    map[string]any
		check func(*wsapi.Message) bool
	}{
		{map[string]any{"type": "call", "to": "bob@example.org", "media": []string{"audio", "video"}, "sid": "c1"},
			func(m *wsapi.Message) bool {
				return m.To.String() == "bob@example.org" && len(m.Media) == 2 && m.SID == "c1"
			}},
		{map[string]any{"type": "accept", "sid": "s1", "media": []string{"audio"}},
			func(m *wsapi.Message) bool { return m.SID == "s1" && m.Media[0] == "audio" }},
		{map[string]any{"type": "offer", "sid": "s1", "sdp": offerSDP, "polite": polite},
			func(m *wsapi.Message) bool {
				return m.SDP == offerSDP && m.Description != nil && len(m.Description.MediaDescriptions) == 1 && *m.Polite
			}},
		{map[string]any{"type": "answer", "sid": "s1", "sdp": offerSDP},
			func(m *wsapi.Message) bool { return m.Description != nil && m.Polite == nil }},
		{map[string]any{"type": "ice-candidate", "sid": "s1", "candidate": candidateInit(hostCandidate)},
			func(m *wsapi.Message) bool {
				c := m.Candidate
				return c.Candidate == hostCandidate && *c.SDPMid == "0" && *c.SDPMLineIndex == 0 && *c.UsernameFragment == "abcd"
			}},
		{map[string]any{"type": "ice-candidate", "sid": "s1", "candidate": map[string]any{"candidate": "", "sdpMid": nil, "sdpMLineIndex": nil}},
			func(m *wsapi.Message) bool { return m.Candidate.Candidate == "" && m.Candidate.SDPMid == nil }},
		{map[string]any{"type": "session-info", "sid": "s1", "info": "mute", "media": []string{"audio"}},
			func(m *wsapi.Message) bool { return m.Info == "mute" && m.Media[0] == "audio" }},
		{map[string]any{"type": "session-info", "sid": "s1", "info": "hold"},
			func(m *wsapi.Message) bool { return m.Info == "hold" }},
		{map[string]any{"type": "roster"}, nil},
		{map[string]any{"type": "presence", "show": "away", "status": "lunch"},
			func(m *wsapi.Message) bool { return strings.Contains(string(m.Raw), "lunch") }},
		{map[string]any{"type": "subscribe", "jid": "bob@example.org"}, nil},
		{map[string]any{"type": "approve", "jid": "bob@example.org"}, nil},
		{map[string]any{"type": "deny", "jid": "bob@example.org"}, nil},
		{map[string]any{"type": "add", "jid": "bob@example.org", "name": "Bob", "groups": []string{"Friends"}}, nil},
		{map[string]any{"type": "rename", "jid": "bob@example.org", "name": "Robert"}, nil},
		{map[string]any{"type": "remove", "jid": "bob@example.org"}, nil},
		{map[string]any{"type": "reject", "sid": "s1"},
			func(m *wsapi.Message) bool { return m.Reason == "decline" }},
	} {
		typ := tc.in["type"].(string)
		tc.in["id"] = "id-" + typ
		if err := validate("clientMessage", mustJSON(t, tc.in)); err != nil {
			t.Errorf("test input fails the schema: %v", err)
		}
		c.send(tc.in)
		e := h.app.nextMessage(t)
		if e.msg.Type != typ || e.msg.ID != "id-"+typ || e.tab != tab {
			t.Fatalf("%s: handler got %+v", typ, e.msg)
		}
		if tc.check != nil && !tc.check(e.msg) {
			t.Errorf("%s: handler got %+v", typ, e.msg)
		}
		a := c.expectAck("id-" + typ)
		if sid, _ := tc.in["sid"].(string); a.str("sid") != sid {
			t.Errorf("%s: ack %s", typ, a)
		}
	}
	// reject released s1.
	if tab.OwnsSID("s1") {
		t.Error("reject did not release the sid")
	}
	// hangup: own a sid, hang up, and it's released.
	tab.OwnSID("s2")
	c.send(map[string]any{"type": "hangup", "sid": "s2", "reason": "busy", "text": "in a meeting", "id": "h"})
	if e := h.app.nextMessage(t); e.msg.Reason != "busy" || e.msg.Text != "in a meeting" {
		t.Errorf("hangup: %+v", e.msg)
	}
	c.expectAck("h")
	if tab.OwnsSID("s2") {
		t.Error("hangup did not release the sid")
	}
	// call without sid: one is generated and returned in the ack.
	c.send(map[string]any{"type": "call", "to": "bob@example.org", "media": []string{"audio"}, "id": "gen"})
	e := h.app.nextMessage(t)
	a := c.expectAck("gen")
	if e.msg.SID == "" || a.str("sid") != e.msg.SID || !tab.OwnsSID(e.msg.SID) {
		t.Errorf("generated sid: handler %q, ack %s", e.msg.SID, a)
	}
	// ack, ping and logout are handled by the server.
	c.send(map[string]any{"type": "ack", "seq": c.lastSeq, "id": "a"})
	c.expectAck("a")
	c.send(map[string]any{"type": "ping"})
	c.send(map[string]any{"type": "ping", "id": "p"})
	c.expectAck("p")
	c.send(map[string]any{"type": "logout", "id": "bye"})
	c.expectAck("bye")
	if code := c.waitClosed(); code != websocket.CloseNormalClosure {
		t.Errorf("logout close code %d", code)
	}
	if e := h.app.nextClosed(t); e.reason != wsapi.CloseLogout || e.tab != tab {
		t.Errorf("TabClosed %v", e.reason)
	}
	h.app.noMessage(t)
}

// TestEveryServerMessage sends every server-to-client message; the client
// checks each against the schema.
func TestEveryServerMessage(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	yes, mid, idx, ufrag := true, "0", uint16(0), "abcd"
	for _, m := range []any{
		wsapi.Incoming{SID: "in1", From: "bob@example.org/phone", Media: []string{"audio", "video"}, Polite: &yes},
		wsapi.Ringing{SID: "c1"},
		wsapi.Proceeding{SID: "c1", Polite: &yes},
		wsapi.Offer{SID: "in1", SDP: offerSDP},
		wsapi.Answer{SID: "c1", SDP: offerSDP},
		wsapi.Candidate{SID: "c1", Candidate: wsapi.ICECandidate{Candidate: hostCandidate, SDPMid: &mid, SDPMLineIndex: &idx, UsernameFragment: &ufrag}},
		wsapi.Candidate{SID: "c1", Candidate: wsapi.ICECandidate{}},
		wsapi.SessionInfo{SID: "c1", Info: wsapi.InfoUnmute, Media: []string{"video"}},
		wsapi.Hangup{SID: "c1", Reason: wsapi.ReasonAnsweredElsewhere},
		map[string]any{"type": "roster", "items": []any{map[string]any{"jid": "bob@example.org", "groups": []any{}, "subscription": "both", "resources": []any{}}}},
		map[string]any{"type": "presence", "jid": "bob@example.org/phone", "available": true, "show": "dnd"},
		map[string]any{"type": "subscribe-request", "jid": "carol@example.org"},
	} {
		if err := tab.Send(m); err != nil {
			t.Fatalf("Send(%T): %v", m, err)
		}
		got := c.next()
		want := mustJSON(t, m)
		if !strings.Contains(string(got.raw), strings.TrimPrefix(string(want), "{")) {
			t.Errorf("got %s, want %s plus seq", got, want)
		}
	}
	if !tab.OwnsSID("in1") {
		t.Error("Incoming did not own its sid")
	}
	tab.OwnSID("c1")
	tab.Send(wsapi.Hangup{SID: "c1", Reason: "success"})
	c.expect(wsapi.TypeHangup)
	if tab.OwnsSID("c1") {
		t.Error("Hangup did not release its sid")
	}
	for _, bad := range []any{
		map[string]any{"type": "session", "jid": "x"},
		map[string]any{"type": "nonsense"},
		map[string]any{"sid": "x"},
		map[string]any{"type": "ringing", "seq": 5, "sid": "x"},
		[]int{1},
		"string",
		map[string]any{"type": 1},
	} {
		if err := tab.Send(bad); !errors.Is(err, wsapi.ErrBadMessage) {
			t.Errorf("Send(%v) = %v, want ErrBadMessage", bad, err)
		}
	}
}

func TestSendToUserAndTabs(t *testing.T) {
	h := newHarness(t, nil)
	a1 := h.dial("alice")
	t1 := h.app.nextOpened(t)
	a2 := h.dial("alice")
	t2 := h.app.nextOpened(t)
	b := h.dial("bob")
	h.app.nextOpened(t)
	if t1.Resource() == t2.Resource() {
		t.Fatal("two tabs with one resource")
	}
	if n, err := h.srv.SendToUser("alice", wsapi.Ringing{SID: "x"}); n != 2 || err != nil {
		t.Fatalf("SendToUser = %d, %v", n, err)
	}
	a1.expect(wsapi.TypeRinging)
	a2.expect(wsapi.TypeRinging)
	if err := h.srv.SendToTab(t2.Resource(), wsapi.Ringing{SID: "y"}); err != nil {
		t.Fatal(err)
	}
	if m := a2.expect(wsapi.TypeRinging); m.str("sid") != "y" {
		t.Error(m)
	}
	if _, err := h.srv.SendToUser("nobody", wsapi.Ringing{SID: "x"}); !errors.Is(err, wsapi.ErrNoTab) {
		t.Errorf("SendToUser(nobody) = %v", err)
	}
	if err := h.srv.SendToTab("nope", wsapi.Ringing{SID: "x"}); !errors.Is(err, wsapi.ErrNoTab) {
		t.Errorf("SendToTab(nope) = %v", err)
	}
	tabs := h.srv.Tabs("alice")
	if len(tabs) != 2 || !tabs[0].Connected || tabs[0].JID.Localpart() != "alice" {
		t.Errorf("Tabs = %+v", tabs)
	}
	if h.srv.Tab(t1.Resource()) != t1 {
		t.Error("Tab lookup")
	}
	b.alive()
	// Tab.Close ends the session from the application's side.
	t1.Close()
	if code := a1.waitClosed(); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d", code)
	}
	if e := h.app.nextClosed(t); e.tab != t1 || e.reason != wsapi.CloseApp {
		t.Errorf("TabClosed %v", e.reason)
	}
	if err := t1.Send(wsapi.Ringing{SID: "x"}); !errors.Is(err, wsapi.ErrTabClosed) {
		t.Errorf("Send on closed tab: %v", err)
	}
	select {
	case <-t1.Done():
	default:
		t.Error("Done not closed")
	}
}

// TestSIDOwnership: a browser can only touch its own calls.
func TestSIDOwnership(t *testing.T) {
	h := newHarness(t, nil)
	alice := h.dial("alice")
	at := h.app.nextOpened(t)
	alice2 := h.dial("alice")
	h.app.nextOpened(t)
	bob := h.dial("bob")
	h.app.nextOpened(t)

	alice.send(map[string]any{"type": "call", "to": "carol@example.org", "media": []string{"audio"}, "sid": "secret-call", "id": "1"})
	h.app.nextMessage(t)
	alice.expectAck("1")
	if !at.OwnsSID("secret-call") {
		t.Fatal("call did not own its sid")
	}
	for _, m := range []map[string]any{
		{"type": "hangup", "sid": "secret-call", "reason": "success"},
		{"type": "offer", "sid": "secret-call", "sdp": offerSDP},
		{"type": "answer", "sid": "secret-call", "sdp": offerSDP},
		{"type": "ice-candidate", "sid": "secret-call", "candidate": candidateInit(hostCandidate)},
		{"type": "accept", "sid": "secret-call"},
		{"type": "reject", "sid": "secret-call"},
		{"type": "session-info", "sid": "secret-call", "info": "hold"},
	} {
		m["id"] = "x"
		bob.send(m)
		if e := bob.expectError(wsapi.CodeNotFound, "x"); e.str("sid") != "secret-call" {
			t.Errorf("error without sid: %s", e)
		}
		alice2.send(m)
		alice2.expectError(wsapi.CodeNotFound, "x")
	}
	// Reusing the sid of a call the user already has is a conflict, even
	// from another tab; another user may use it (sids are per initiator).
	alice2.send(map[string]any{"type": "call", "to": "carol@example.org", "media": []string{"audio"}, "sid": "secret-call", "id": "2"})
	alice2.expectError(wsapi.CodeConflict, "2")
	bob.send(map[string]any{"type": "call", "to": "carol@example.org", "media": []string{"audio"}, "sid": "secret-call", "id": "3"})
	if e := h.app.nextMessage(t); e.msg.SID != "secret-call" || e.tab.User() != "bob" {
		t.Errorf("bob's call: %+v", e.msg)
	}
	bob.expectAck("3")
	h.app.noMessage(t)
}

// TestErrorCodes produces every error code.
func TestErrorCodes(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.HandlerTimeout = 200 * time.Millisecond })
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	tab.OwnSID("s")

	// bad-request, forbidden, not-found, conflict, too-large come from
	// wsapi itself.
	c.sendRaw(`{"type":"ping","id":"br"`)
	c.expectError(wsapi.CodeBadRequest, "")
	c.sendRaw(`{"type":"ping","id":"f","from":"bob@example.org"}`)
	c.expectError(wsapi.CodeForbidden, "f")
	c.sendRaw(`{"type":"hangup","id":"nf","sid":"nope"}`)
	c.expectError(wsapi.CodeNotFound, "nf")
	c.sendRaw(`{"type":"call","id":"cf","sid":"s","to":"bob@example.org","media":["audio"]}`)
	c.expectError(wsapi.CodeConflict, "cf")
	c.sendRaw(`{"type":"ping","id":"tl","text":"` + strings.Repeat("x", 10) + `","ack":0}`)
	c.expectAck("tl")
	c.sendRaw(`{"type":"hangup","id":"tl","sid":"s","text":"` + strings.Repeat("x", wsapi.MaxTextLen+1) + `"}`)
	c.expectError(wsapi.CodeTooLarge, "tl")

	// timeout: the handler waits for its deadline.
	h.app.setRespond(func(ctx context.Context, _ *wsapi.Tab, m *wsapi.Message) error {
		if m.Type == "session-info" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	c.sendRaw(`{"type":"session-info","id":"to","sid":"s","info":"mute"}`)
	h.app.nextMessage(t)
	if e := c.expectError(wsapi.CodeTimeout, "to"); e.str("sid") != "s" {
		t.Errorf("timeout error without sid: %s", e)
	}

	// internal: a plain error, or a panic.
	h.app.setRespond(func(ctx context.Context, _ *wsapi.Tab, m *wsapi.Message) error {
		if m.Text == "panic" {
			panic("boom")
		}
		return errors.New("database on fire")
	})
	c.sendRaw(`{"type":"hangup","id":"in","sid":"s"}`)
	h.app.nextMessage(t)
	if e := c.expectError(wsapi.CodeInternal, "in"); strings.Contains(e.str("message"), "fire") {
		t.Errorf("internal error leaks details: %s", e)
	}
	c.sendRaw(`{"type":"hangup","id":"pa","sid":"s","text":"panic"}`)
	h.app.nextMessage(t)
	c.expectError(wsapi.CodeInternal, "pa")
	if !tab.OwnsSID("s") {
		t.Error("a failed hangup released the sid")
	}

	// Every code passes through from the handler, with the handler's sid.
	for _, code := range wsapi.Codes {
		h.app.setRespond(func(context.Context, *wsapi.Tab, *wsapi.Message) error {
			return &wsapi.Error{Code: code, Message: "from the app", SID: "other"}
		})
		c.sendRaw(`{"type":"session-info","id":"` + string(code) + `","sid":"s","info":"active"}`)
		h.app.nextMessage(t)
		if e := c.expectError(code, string(code)); e.str("sid") != "other" || e.str("message") != "from the app" {
			t.Errorf("%s: %s", code, e)
		}
	}
	// An invalid code from the handler becomes internal.
	h.app.setRespond(func(context.Context, *wsapi.Tab, *wsapi.Message) error {
		return &wsapi.Error{Code: "made-up"}
	})
	c.sendRaw(`{"type":"roster","id":"mu"}`)
	h.app.nextMessage(t)
	c.expectError(wsapi.CodeInternal, "mu")
	// context.Canceled → unavailable.
	h.app.setRespond(func(context.Context, *wsapi.Tab, *wsapi.Message) error { return context.Canceled })
	c.sendRaw(`{"type":"roster","id":"cc"}`)
	h.app.nextMessage(t)
	c.expectError(wsapi.CodeUnavailable, "cc")

	// unauthorized: a resume token that is not valid.
	c2 := h.resume("alice", "bogus.token", 0)
	h.app.nextOpened(t)
	c2.expectError(wsapi.CodeUnauthorized, "")

	// rate-limited: see TestRateLimit; unavailable without a handler:
	h2 := newHarness(t, func(o *wsapi.Options) { o.Handler = nil })
	c3 := h2.dial("alice")
	c3.sendRaw(`{"type":"call","id":"un","to":"bob@example.org","media":["audio"]}`)
	c3.expectError(wsapi.CodeUnavailable, "un")
	c3.alive()
}

func TestRateLimit(t *testing.T) {
	const burst = 5
	h := newHarness(t, func(o *wsapi.Options) {
		o.RatePerSecond = 0.001 // no refill during the test
		o.RateBurst = burst
	})
	c := h.dial("alice")
	other := h.dial("bob")
	for i := range burst {
		c.send(map[string]any{"type": "ping", "id": "ok" + string(rune('a'+i))})
		c.expectAck("ok" + string(rune('a'+i)))
	}
	// Over the limit: answered rate-limited, with the id.
	for i := range burst {
		id := "limited" + string(rune('a'+i))
		c.send(map[string]any{"type": "ping", "id": id})
		c.expectError(wsapi.CodeRateLimited, id)
	}
	// Sustained: closed with 1008.
	c.send(map[string]any{"type": "ping", "id": "last"})
	if code := c.waitClosed(); code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want 1008", code)
	}
	other.alive()
}

func TestReadLimit(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.ReadLimit = 4096 })
	c := h.dial("alice")
	h.app.nextOpened(t)
	other := h.dial("bob")
	h.app.nextOpened(t)
	if c.session.m["limits"].(map[string]any)["maxMessageBytes"].(interface{ String() string }).String() != "4096" {
		t.Errorf("limits: %s", c.session)
	}
	// Just under the limit is fine.
	pad := strings.Repeat("x", 4096-len(`{"type":"ping","id":"x","pad":""}`))
	c.sendRaw(`{"type":"ping","id":"x","pad":"` + pad + `"}`)
	c.expectAck("x")
	c.sendRaw(`{"type":"ping","id":"y","pad":"` + pad + `x"}`)
	if code := c.waitClosed(); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	other.alive()
	// The session survives the connection.
	c2 := h.resume("alice", c.session.str("resume"), c.lastSeq)
	if c2.session.m["resumed"] != true {
		t.Errorf("resume after 1009: %s", c2.session)
	}
	c2.alive()
}

func TestMaxTabs(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.MaxTabsPerUser = 2 })
	c1 := h.dial("alice")
	t1 := h.app.nextOpened(t)
	c2 := h.dial("alice")
	h.app.nextOpened(t)
	// Both connected: a third is refused.
	ws, _, err := h.dialRaw(url.Values{"token": {h.token("alice")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c3 := newClient(t, ws)
	if code := c3.waitClosed(); code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want 1008", code)
	}
	// Other users are not affected.
	h.dial("bob").alive()
	// A disconnected session is evicted to make room.
	c1.drop()
	waitFor(t, "tab 1 to detach", func() bool { return !t1.Connected() })
	c4 := h.dial("alice")
	if e := h.app.nextClosed(t); e.tab != t1 || e.reason != wsapi.CloseEvicted {
		t.Errorf("TabClosed(%v, %v)", e.tab.JID(), e.reason)
	}
	c4.alive()
	c2.alive()
}

func TestKeepalive(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) {
		o.PingInterval = 20 * time.Millisecond
		o.PongWait = time.Second
	})
	// A client that reads answers pings and stays.
	aws, _, err := h.dialRaw(url.Values{"token": {h.token("alice")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pings := make(chan struct{}, 100)
	aws.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return aws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	newClient(t, aws).expect(wsapi.TypeSession)
	tab := h.app.nextOpened(t)
	for range 5 {
		select {
		case <-pings:
		case <-time.After(wait):
			t.Fatal("no ping")
		}
	}
	if !tab.Connected() {
		t.Error("a live client was dropped")
	}
	// A client that never reads (so never answers pings) is dropped; its
	// session waits for a resume.
	ws, _, err := h.dialRaw(url.Values{"token": {h.token("bob")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	bt := h.app.nextOpened(t)
	waitFor(t, "the silent client to be dropped", func() bool { return !bt.Connected() })
	select {
	case e := <-h.app.closed:
		t.Errorf("session ended (%v) on a mere disconnection", e.reason)
	default:
	}
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, nil)
	a := h.dial("alice")
	h.app.nextOpened(t)
	b := h.dial("bob")
	h.app.nextOpened(t)
	b.drop() // a session awaiting resume ends too
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code := a.waitClosed(); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	reasons := map[wsapi.CloseReason]int{}
	for range 2 {
		reasons[h.app.nextClosed(t).reason]++
	}
	if reasons[wsapi.CloseShutdown] != 2 {
		t.Errorf("TabClosed reasons %v", reasons)
	}
	_, resp, _ := h.dialRaw(url.Values{"token": {h.token("alice")}}, nil)
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %v", resp)
	}
}

// TestSlowReader: a browser that stops reading is disconnected without
// slowing the sender or anyone else, and loses nothing.
func TestSlowReader(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) {
		o.WriteQueue = 8
		o.ReplayBuffer = 4096
	})
	ws, _, err := h.dialRaw(url.Values{"token": {h.token("slow")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	slow := h.app.nextOpened(t)
	fast := h.dial("fast")
	ft := h.app.nextOpened(t)

	big := strings.Repeat("a", 32<<10)
	sent := 0
	for slow.Connected() && sent < 4000 {
		if err := slow.Send(wsapi.Hangup{SID: "x", Reason: "success", Text: big[:1000]}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if err := slow.Send(wsapi.Offer{SID: "x", SDP: offerSDP + "a=x:" + big + "\r\n"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		sent += 2
		// The fast client is served all along.
		if sent%50 == 0 {
			ft.Send(wsapi.Ringing{SID: "f"})
			fast.expect(wsapi.TypeRinging)
		}
	}
	if slow.Connected() {
		t.Fatalf("slow reader still connected after %d messages", sent)
	}
	t.Logf("slow reader dropped after %d messages", sent)
	fast.alive()
	// Its session lives on with every message.
	if info := slow.Info(); info.LastSeq != uint64(sent) {
		t.Errorf("LastSeq %d, sent %d", info.LastSeq, sent)
	}
	select {
	case e := <-h.app.closed:
		t.Errorf("session ended (%v)", e.reason)
	default:
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
