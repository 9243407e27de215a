package component_test

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startLink runs a Link against srv until the test ends.
func startLink(t *testing.T, cfg component.Config) (*component.Link, *xmpptest.SyncBuffer) {
	t.Helper()
	logs := &xmpptest.SyncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 50*time.Millisecond, 400*time.Millisecond
	}
	l := component.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("link log:\n%s", logs.String())
		}
	})
	return l, logs
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func linkConfig(srv *xmpptest.Server) component.Config {
	return component.Config{
		Server: srv.ComponentAddr,
		Domain: jid.MustParse(srv.ComponentDomain),
		Secret: srv.ComponentSecret,
		Name:   "jinglegate test",
	}
}

// serveClient runs a c2s session's Serve loop so that IQ responses are
// delivered, and stops it with the test.
func serveClient(t *testing.T, s *xmpp.Session) {
	t.Helper()
	go func() { _ = s.Serve(nil) }()
}

// TestLinkServesDomain: a real c2s client sees the component's disco#info
// and gets answers to its pings; unknown IQs get service-unavailable.
func TestLinkServesDomain(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "alice", "alicepw")
		l, _ := startLink(t, linkConfig(srv))
		if err := l.WaitReady(ctxT(t, 20*time.Second)); err != nil {
			t.Fatalf("link not ready: %v (last error: %v)", err, l.LastError())
		}
		c := srv.Dial(ctxT(t, 20*time.Second), t, "alice", "alicepw")
		serveClient(t, c)
		gw := jid.MustParse(srv.ComponentDomain)

		info, err := disco.GetInfo(ctxT(t, 10*time.Second), "", gw, c)
		if err != nil {
			t.Fatalf("disco#info of %s: %v", gw, err)
		}
		if len(info.Identity) != 1 || info.Identity[0].Category != "component" || info.Identity[0].Name != "jinglegate test" {
			t.Errorf("identities = %+v, want one component identity named %q", info.Identity, "jinglegate test")
		}
		var feats []string
		for _, f := range info.Features {
			feats = append(feats, f.Var)
		}
		for _, want := range []string{disco.NSInfo, disco.NSItems, ping.NS} {
			if !contains(feats, want) {
				t.Errorf("features %v lack %s", feats, want)
			}
		}

		if err := ping.Send(ctxT(t, 10*time.Second), c, gw); err != nil {
			t.Errorf("client ping to %s: %v", gw, err)
		}
		// ping.Send treats service-unavailable as success; check the
		// reply is a real result.
		resp, err := c.SendIQElement(ctxT(t, 10*time.Second),
			xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: ping.NS, Local: "ping"}}),
			stanza.IQ{Type: stanza.GetIQ, To: gw})
		if err != nil {
			t.Fatalf("ping IQ: %v", err)
		}
		tok, _ := resp.Token()
		resp.Close()
		if st, ok := tok.(xml.StartElement); !ok || !hasAttr(st, "type", "result") {
			t.Errorf("ping reply = %#v, want a result IQ", tok)
		}

		// The link's keepalive ping to the server is answered.
		if err := l.Ping(ctxT(t, 10*time.Second)); err != nil {
			t.Errorf("keepalive ping to the server: %v", err)
		}

		// An IQ nobody handles gets service-unavailable, not silence.
		err = c.UnmarshalIQElement(ctxT(t, 10*time.Second),
			xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:example:nothing", Local: "query"}}),
			stanza.IQ{Type: stanza.GetIQ, To: gw}, nil)
		var se stanza.Error
		if !errors.As(err, &se) || se.Condition != stanza.ServiceUnavailable {
			t.Errorf("unknown IQ: got %v, want service-unavailable", err)
		}

		// disco#info on an address that does not exist.
		_, err = disco.GetInfo(ctxT(t, 10*time.Second), "", jid.MustParse("nobody@"+srv.ComponentDomain), c)
		if !errors.As(err, &se) || se.Condition != stanza.ServiceUnavailable {
			t.Errorf("disco#info of a missing user: got %v, want service-unavailable", err)
		}
		if s := l.Stats(); s.HandlerErrors != 0 {
			t.Errorf("handler errors = %d, want 0", s.HandlerErrors)
		}
	})
}

// TestLinkReconnects: killing the server takes the link down, restarting it
// brings the link back by itself.
func TestLinkReconnects(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "alice", "alicepw")
		cfg := linkConfig(srv)
		cfg.PingInterval, cfg.PingTimeout = 300*time.Millisecond, 2*time.Second
		l, logs := startLink(t, cfg)
		if err := l.WaitReady(ctxT(t, 20*time.Second)); err != nil {
			t.Fatalf("link not ready: %v", err)
		}
		srv.Stop(t)
		waitFor(t, "the link to notice the server is gone", 20*time.Second, func() bool { return !l.Ready() })
		// While the server is down the link keeps trying, with backoff.
		waitFor(t, "two failed attempts", 20*time.Second, func() bool { return l.Stats().Attempts >= 3 })
		if !strings.Contains(logs.String(), "reconnecting") {
			t.Errorf("no reconnection attempt logged")
		}
		srv.Restart(t)
		if err := l.WaitReady(ctxT(t, 30*time.Second)); err != nil {
			t.Fatalf("link did not come back after the server restarted: %v (last error %v)", err, l.LastError())
		}
		if got := l.Stats().Connects; got != 2 {
			t.Errorf("connects = %d, want 2", got)
		}
		// And it works: a client reaches it again.
		c := srv.Dial(ctxT(t, 20*time.Second), t, "alice", "alicepw")
		serveClient(t, c)
		if _, err := disco.GetInfo(ctxT(t, 10*time.Second), "", l.Domain(), c); err != nil {
			t.Errorf("disco#info after reconnect: %v", err)
		}
	})
}

// TestLinkWrongSecret: the server refuses the handshake, the link says why
// and keeps retrying with backoff.
func TestLinkWrongSecret(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		cfg := linkConfig(srv)
		cfg.Secret = "not-the-secret"
		l, logs := startLink(t, cfg)
		waitFor(t, "two refused attempts", 20*time.Second, func() bool { return l.Stats().Attempts >= 2 && l.LastError() != nil })
		if err := l.LastError(); !errors.Is(err, component.ErrBadSecret) {
			t.Errorf("last error = %v, want ErrBadSecret", err)
		}
		if !strings.Contains(logs.String(), "wrong secret") {
			t.Errorf("log does not say the secret is wrong:\n%s", logs.String())
		}
		if l.Ready() || l.Stats().Connects != 0 {
			t.Errorf("link with a wrong secret is up")
		}
	})
}

// TestLinkUnreachable: nothing listens; attempts are spaced by the backoff
// (never a spin) and each failure is logged.
func TestLinkUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l, logs := startLink(t, component.Config{
		Server: addr, Domain: jid.MustParse("gw.localhost"), Secret: "s",
		BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond,
	})
	time.Sleep(1500 * time.Millisecond)
	n := l.Stats().Attempts
	// Delays are at least 50, 100, 200, 200… ms: about 7 attempts in 1.5 s
	// at most; a spinning loop would make thousands.
	if n < 2 || n > 12 {
		t.Errorf("attempts in 1.5 s = %d, want between 2 and 12", n)
	}
	if err := l.LastError(); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("last error = %v, want connection refused", err)
	}
	if got := strings.Count(logs.String(), "reconnecting"); int64(got) < n-1 {
		t.Errorf("%d attempts but %d logged", n, got)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasAttr(st xml.StartElement, name, value string) bool {
	for _, a := range st.Attr {
		if a.Name.Local == name && a.Value == value {
			return true
		}
	}
	return false
}

// TestLinkSurvivesFailingHandlers: a handler that returns an error or
// panics gets its IQ answered with bad-request, and the link stays up (in
// plain mellium either would end the stream).
func TestLinkSurvivesFailingHandlers(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "alice", "alicepw")
		cfg := linkConfig(srv)
		cfg.Handlers = []mux.Option{
			mux.IQFunc(stanza.SetIQ, xml.Name{Space: "urn:test", Local: "fail"}, func(stanza.IQ, xmlstream.TokenReadEncoder, *xml.StartElement) error {
				return errors.New("handler failed")
			}),
			mux.IQFunc(stanza.SetIQ, xml.Name{Space: "urn:test", Local: "panic"}, func(stanza.IQ, xmlstream.TokenReadEncoder, *xml.StartElement) error {
				panic("handler panicked")
			}),
		}
		l, _ := startLink(t, cfg)
		if err := l.WaitReady(ctxT(t, 20*time.Second)); err != nil {
			t.Fatalf("link not ready: %v", err)
		}
		c := srv.Dial(ctxT(t, 20*time.Second), t, "alice", "alicepw")
		serveClient(t, c)
		for _, local := range []string{"fail", "panic", "fail"} {
			err := c.UnmarshalIQElement(ctxT(t, 10*time.Second),
				xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:test", Local: local}}),
				stanza.IQ{Type: stanza.SetIQ, To: l.Domain()}, nil)
			var se stanza.Error
			if !errors.As(err, &se) || se.Condition != stanza.BadRequest {
				t.Errorf("%s: got %v, want bad-request", local, err)
			}
		}
		if _, err := disco.GetInfo(ctxT(t, 10*time.Second), "", l.Domain(), c); err != nil {
			t.Errorf("disco#info after failing handlers: %v", err)
		}
		st := l.Stats()
		if st.Connects != 1 || !l.Ready() {
			t.Errorf("link was dropped: %+v", st)
		}
		if st.HandlerErrors != 3 {
			t.Errorf("handler errors = %d, want 3", st.HandlerErrors)
		}
	})
}

// TestSendIQAsync: answers, errors and silence each reach the callback once;
// answers from anyone but the addressee are ignored.
func TestSendIQAsync(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "alice", "alicepw")
		srv.Register(t, "mute", "mutepw")
		l, _ := startLink(t, linkConfig(srv))
		if err := l.WaitReady(ctxT(t, 20*time.Second)); err != nil {
			t.Fatal(err)
		}
		alice := srv.Dial(ctxT(t, 20*time.Second), t, "alice", "alicepw")
		serveClient(t, alice)
		// A client that reads nothing never answers.
		mute := srv.Dial(ctxT(t, 20*time.Second), t, "mute", "mutepw")
		pingPayload := func() xml.TokenReader {
			return xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: ping.NS, Local: "ping"}})
		}
		send := func(to jid.JID, timeout time.Duration) error {
			done := make(chan error, 2)
			from := jid.MustParse("someone@" + srv.ComponentDomain)
			if err := l.SendIQAsync(ctxT(t, 5*time.Second), stanza.IQ{Type: stanza.GetIQ, From: from, To: to}, pingPayload(), timeout, func(err error) { done <- err }); err != nil {
				t.Fatalf("SendIQAsync: %v", err)
			}
			err := <-done
			select {
			case again := <-done:
				t.Errorf("callback called twice (%v, %v)", err, again)
			case <-time.After(100 * time.Millisecond):
			}
			return err
		}
		// alice's client answers service-unavailable for pings it does
		// not handle: an error reply.
		var se stanza.Error
		if err := send(alice.LocalAddr(), 10*time.Second); !errors.As(err, &se) || se.Condition != stanza.ServiceUnavailable {
			t.Errorf("ping to alice: %v, want service-unavailable", err)
		}
		// The server answers pings to itself.
		if err := send(jid.MustParse(srv.Domain), 10*time.Second); err != nil {
			t.Errorf("ping to the server: %v", err)
		}
		if err := send(mute.LocalAddr(), 500*time.Millisecond); !errors.Is(err, component.ErrIQTimeout) {
			t.Errorf("ping to a silent client: %v, want ErrIQTimeout", err)
		}
	})
}
