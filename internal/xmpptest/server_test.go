package xmpptest_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/websocket"

	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

const (
	// opTimeout bounds the wait for one stanza in these tests.
	opTimeout = 20 * time.Second
	// testTimeout bounds the XMPP calls of one subtest, restarts included.
	testTimeout = 2 * time.Minute
)

// TestServer runs the whole life of each server: accounts, c2s logins,
// messages (online and offline), disco, the component link, WebSocket, then
// Stop, Restart, Kill and Restart again.
func TestServer(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, s *xmpptest.Server) {
		epmdBefore := processRunning(t, "epmd")

		alice := s.Register(t, "alice", "alice-pw")
		bob := s.Register(t, "bob", "bob-pw")
		carol := s.Register(t, "carol", "carol-pw")
		if got, want := alice.String(), "alice@"+s.Domain; got != want {
			t.Errorf("Register returned %s, want %s", got, want)
		}

		ctx := withTimeout(t, testTimeout)
		aliceSession := s.Dial(ctx, t, "alice", "alice-pw")
		aliceIn := serve(aliceSession)
		bobSession := s.Dial(ctx, t, "bob", "bob-pw")
		bobIn := serve(bobSession)
		if got := bobSession.LocalAddr(); !got.Bare().Equal(bob) || got.Resourcepart() == "" {
			t.Errorf("bob is bound to %s, want %s/<resource>", got, bob)
		}
		// Available resources get messages sent to the bare JID.
		sendPresence(ctx, t, aliceSession)
		sendPresence(ctx, t, bobSession)

		t.Run("message", func(t *testing.T) {
			sendMessage(ctx, t, aliceSession, bob, "hello bob")
			m := expectMessage(t, bobIn, "hello bob")
			if !m.From.Bare().Equal(alice) {
				t.Errorf("message from %s, want %s", m.From, alice)
			}
			sendMessage(ctx, t, bobSession, alice, "hello alice")
			expectMessage(t, aliceIn, "hello alice")
		})

		t.Run("offline", func(t *testing.T) {
			sendMessage(ctx, t, aliceSession, carol, "while you were out")
			if s.Kind == xmpptest.Ejabberd {
				// ejabberd stores offline messages asynchronously: a
				// message still in flight when carol becomes available
				// would wait for her next login.
				waitOfflineCount(t, s, "carol", 1)
			}
			carolSession := s.Dial(ctx, t, "carol", "carol-pw")
			carolIn := serve(carolSession)
			sendPresence(ctx, t, carolSession)
			expectMessage(t, carolIn, "while you were out")
		})

		t.Run("disco", func(t *testing.T) {
			info, err := disco.GetInfo(ctx, "", jid.MustParse(s.Domain), aliceSession)
			if err != nil {
				t.Fatalf("disco#info of %s: %v", s.Domain, err)
			}
			if !hasIdentity(info, "server", "im") {
				t.Errorf("disco#info of %s: no server/im identity in %+v", s.Domain, info.Identity)
			}
			for _, f := range []string{"urn:xmpp:ping", "http://jabber.org/protocol/disco#info"} {
				if !hasFeature(info, f) {
					t.Errorf("disco#info of %s: no feature %s", s.Domain, f)
				}
			}
		})

		t.Run("component", func(t *testing.T) {
			if _, err := connectComponent(ctx, s, "wrong-secret"); err == nil {
				t.Fatal("the component logged in with a wrong secret")
			}
			comp, err := connectComponent(ctx, s, s.ComponentSecret)
			if err != nil {
				t.Fatalf("component: %v", err)
			}
			t.Cleanup(func() { xmpptest.CloseSession(comp) })
			compIn := serve(comp)
			to := jid.MustParse("echo@" + s.ComponentDomain)
			sendMessage(ctx, t, aliceSession, to, "to the gateway")
			m := expectMessage(t, compIn, "to the gateway")
			if !m.From.Bare().Equal(alice) || !m.To.Equal(to) {
				t.Errorf("component got a message from %s to %s, want from %s to %s", m.From, m.To, alice, to)
			}
		})

		t.Run("websocket", func(t *testing.T) {
			ws := dialWebSocket(ctx, t, s, bob, "bob-pw")
			if got := ws.LocalAddr(); !got.Bare().Equal(bob) {
				t.Errorf("WebSocket session bound to %s, want %s", got, bob)
			}
		})

		if s.Kind == xmpptest.Ejabberd && !epmdBefore && processRunning(t, "epmd") {
			t.Error("ejabberd started epmd")
		}

		// Stop, then Restart on the same ports and data.
		s.Stop(t)
		expectClosed(t, s)
		expectNoProcessIn(t, s.Dir)
		s.Stop(t) // stopping a stopped server is a no-op
		s.Restart(t)
		again := s.Dial(ctx, t, "alice", "alice-pw")
		serve(again)
		if _, err := disco.GetInfo(ctx, "", jid.MustParse(s.Domain), again); err != nil {
			t.Fatalf("disco#info after Restart: %v", err)
		}

		// A crash, then Restart: the accounts are still there.
		s.Kill(t)
		expectClosed(t, s)
		expectNoProcessIn(t, s.Dir)
		if _, err := s.Connect(ctx, "alice", "alice-pw"); err == nil {
			t.Fatal("Connect succeeded on a killed server")
		}
		s.Restart(t)
		s.Dial(ctx, t, "carol", "carol-pw")

		// Restart while running stops first.
		s.Restart(t)
		s.Dial(ctx, t, "bob", "bob-pw")
	})
}

// TestPrivilege checks that Options.Privilege makes the server advertise
// XEP-0356 privileges to the component when it connects.
func TestPrivilege(t *testing.T) {
	xmpptest.EachWith(t, &xmpptest.Options{Privilege: true, ComponentSecret: "priv-secret"}, func(t *testing.T, s *xmpptest.Server) {
		if s.ComponentSecret != "priv-secret" {
			t.Errorf("ComponentSecret = %q, want the one from Options", s.ComponentSecret)
		}
		ctx := withTimeout(t, opTimeout)
		comp, err := connectComponent(ctx, s, s.ComponentSecret)
		if err != nil {
			t.Fatalf("component: %v", err)
		}
		t.Cleanup(func() { xmpptest.CloseSession(comp) })
		in := serve(comp)
		for {
			select {
			case m := <-in:
				if strings.HasPrefix(m.Privilege.XMLName.Space, "urn:xmpp:privilege:") {
					t.Logf("%s advertises %s from %s", s.Kind, m.Privilege.XMLName.Space, m.From)
					got := map[string]string{}
					for _, p := range m.Privilege.Perms {
						got[p.Access] = p.Type
					}
					want := map[string]string{"roster": "both", "message": "outgoing", "presence": "roster"}
					if !maps.Equal(got, want) {
						t.Errorf("privileges: got %v, want %v", got, want)
					}
					return
				}
			case <-ctx.Done():
				t.Fatal("no XEP-0356 privilege advertisement")
			}
		}
	})
}

func TestFreePort(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p := xmpptest.FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("cannot bind the free port %d: %v", p, err)
		}
		l.Close()
	}
}

func TestSelected(t *testing.T) {
	for i, tc := range []struct {
		env               string
		prosody, ejabberd bool
		wantErr           bool
	}{
		0: {env: "", prosody: true, ejabberd: true},
		1: {env: "prosody", prosody: true},
		2: {env: " ejabberd ", ejabberd: true},
		3: {env: "prosody,ejabberd", prosody: true, ejabberd: true},
		4: {env: "none"},
		5: {env: "Prosody,", prosody: true},
		6: {env: "openfire", wantErr: true},
	} {
		t.Setenv(xmpptest.ServersEnv, tc.env)
		for kind, want := range map[xmpptest.Kind]bool{xmpptest.Prosody: tc.prosody, xmpptest.Ejabberd: tc.ejabberd} {
			got, err := xmpptest.Selected(kind)
			if (err != nil) != tc.wantErr {
				t.Errorf("%d: Selected(%s) error = %v, want error: %t", i, kind, err, tc.wantErr)
			}
			if got != want {
				t.Errorf("%d: %s=%q: Selected(%s) = %t, want %t", i, xmpptest.ServersEnv, tc.env, kind, got, want)
			}
		}
	}
}

// --- helpers -----------------------------------------------------------------

type message struct {
	stanza.Message
	Body      string `xml:"body"`
	Privilege struct {
		XMLName xml.Name
		Perms   []struct {
			Access string `xml:"access,attr"`
			Type   string `xml:"type,attr"`
		} `xml:"perm"`
	} `xml:"privilege"`
}

// serve runs session.Serve in a goroutine and returns the messages it gets.
// The goroutine ends when the session is closed.
func serve(session *xmpp.Session) <-chan message {
	in := make(chan message, 32)
	go func() {
		_ = session.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var m message
			d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r))
			if err := d.Decode(&m); err != nil {
				return nil // not ours to judge; the test times out waiting
			}
			select {
			case in <- m:
			default:
			}
			return nil
		}))
	}()
	return in
}

func expectMessage(t *testing.T, in <-chan message, body string) message {
	t.Helper()
	timeout := time.After(opTimeout)
	for {
		select {
		case m := <-in:
			if m.Body == body {
				return m
			}
		case <-timeout:
			t.Fatalf("no message %q within %v", body, opTimeout)
		}
	}
}

func sendMessage(ctx context.Context, t *testing.T, s *xmpp.Session, to jid.JID, body string) {
	t.Helper()
	msg := stanza.Message{To: to, Type: stanza.ChatMessage}
	err := s.Send(ctx, msg.Wrap(xmlstream.Wrap(
		xmlstream.Token(xml.CharData(body)),
		xml.StartElement{Name: xml.Name{Local: "body"}},
	)))
	if err != nil {
		t.Fatalf("sending %q to %s: %v", body, to, err)
	}
}

// waitOfflineCount polls ejabberd until user has n offline messages.
func waitOfflineCount(t *testing.T, s *xmpptest.Server, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(opTimeout)
	for {
		out := strings.TrimSpace(s.Ctl(t, "get_offline_count", user, s.Domain))
		if out == strconv.Itoa(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %s offline messages, want %d", user, out, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sendPresence(ctx context.Context, t *testing.T, s *xmpp.Session) {
	t.Helper()
	if err := s.Send(ctx, stanza.Presence{}.Wrap(nil)); err != nil {
		t.Fatalf("sending presence: %v", err)
	}
}

func connectComponent(ctx context.Context, s *xmpptest.Server, secret string) (*xmpp.Session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.ComponentAddr)
	if err != nil {
		return nil, err
	}
	session, err := component.NewSession(ctx, jid.MustParse(s.ComponentDomain), []byte(secret), conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return session, nil
}

// dialWebSocket logs in over RFC 7395 at s.WebSocketURL, as a browser would.
func dialWebSocket(ctx context.Context, t *testing.T, s *xmpptest.Server, user jid.JID, password string) *xmpp.Session {
	t.Helper()
	conn, err := websocket.DialDirect(ctx, "http://localhost", s.WebSocketURL)
	if err != nil {
		t.Fatalf("WebSocket to %s: %v", s.WebSocketURL, err)
	}
	session, err := xmpp.NewSession(ctx, user.Domain(), user, conn, xmpp.Secure,
		websocket.Negotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: []xmpp.StreamFeature{
				xmpp.SASL("", password, sasl.ScramSha1, sasl.Plain),
				xmpp.BindResource(),
			}}
		}))
	if err != nil {
		conn.Close()
		t.Fatalf("XMPP over WebSocket at %s: %v", s.WebSocketURL, err)
	}
	t.Cleanup(func() { xmpptest.CloseSession(session) })
	return session
}

func hasIdentity(info disco.Info, category, typ string) bool {
	for _, id := range info.Identity {
		if id.Category == category && id.Type == typ {
			return true
		}
	}
	return false
}

func hasFeature(info disco.Info, feature string) bool {
	for _, f := range info.Features {
		if f.Var == feature {
			return true
		}
	}
	return false
}

// expectClosed checks that none of the server's ports accepts connections.
func expectClosed(t *testing.T, s *xmpptest.Server) {
	t.Helper()
	for _, addr := range []string{s.C2SAddr, s.ComponentAddr, s.HTTPAddr} {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after the server stopped", addr)
		}
	}
}

// expectNoProcessIn checks that no live process mentions dir on its
// command line: the server, ejabberdctl and the Erlang VM are all gone.
func expectNoProcessIn(t *testing.T, dir string) {
	t.Helper()
	for _, p := range processes(t) {
		if strings.Contains(p.cmdline, dir) && !strings.Contains(p.cmdline, "_watch") {
			t.Errorf("process %s still runs: %s", p.pid, p.cmdline)
		}
	}
}

func processRunning(t *testing.T, comm string) bool {
	t.Helper()
	for _, p := range processes(t) {
		if p.comm == comm {
			return true
		}
	}
	return false
}

type process struct {
	pid           string
	comm, cmdline string
}

// processes lists the live (not zombie) processes from /proc.
func processes(t *testing.T) []process {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var ps []process
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // gone meanwhile
		}
		lp, rp := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if lp < 0 || rp < lp || len(b) < rp+3 {
			continue
		}
		if state := b[rp+2]; state == 'Z' || state == 'X' {
			continue
		}
		dir := filepath.Dir(stat)
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		ps = append(ps, process{
			pid:     filepath.Base(dir),
			comm:    string(b[lp+1 : rp]),
			cmdline: strings.ReplaceAll(string(cmdline), "\x00", " "),
		})
	}
	return ps
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
