package jinglepeer_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

const (
	// opTimeout bounds one step of a test (a call connecting, packets
	// flowing, an answer coming).
	opTimeout = 20 * time.Second
	// scenarioTimeout bounds a whole scenario.
	scenarioTimeout = 60 * time.Second
)

// testLog is a slog destination that writes to t.Log until the test ends
// (pion may log from its goroutines while a call closes).
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// newLogger returns a logger for t: level from JINGLEPEER_LOG (debug,
// info, warn; default warn).
func newLogger(t testing.TB, name string) *slog.Logger {
	l := &testLog{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	level := slog.LevelWarn
	switch os.Getenv("JINGLEPEER_LOG") {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: level})).With("peer", name)
}

// startPeer logs user in and runs a peer for it until the test ends.
func startPeer(t *testing.T, s *xmpptest.Server, user string, cfg jinglepeer.Config) *jinglepeer.Peer {
	t.Helper()
	p, _ := startStoppablePeer(t, s, user, cfg)
	return p
}

// startStoppablePeer is startPeer with a function that stops the peer and
// returns what Run returned.
func startStoppablePeer(t *testing.T, s *xmpptest.Server, user string, cfg jinglepeer.Config) (*jinglepeer.Peer, func() error) {
	t.Helper()
	logger := newLogger(t, user)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	session, err := s.Connect(ctx, user, user+"-pw")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Session = session
	cfg.Logger = logger
	p, err := jinglepeer.New(ctx, cfg)
	if err != nil {
		xmpptest.CloseSession(session)
		t.Fatal(err)
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(runCtx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancelRun()
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("%s: Run: %v", user, err)
		}
	})
	select {
	case <-p.Ready():
	case err := <-errc:
		errc <- err
		t.Fatalf("%s: Run ended before it was ready: %v", user, err)
	case <-ctx.Done():
		t.Fatalf("%s: not ready in time", user)
	}
	return p, stop
}

// rawSession logs user in without a peer, sends presence and returns the
// session with the text of every stanza it receives (IQ answers excepted:
// they come back through SendIQ). IQ sets it receives are acknowledged,
// IQ gets answered with service-unavailable by mellium.
func rawSession(t *testing.T, s *xmpptest.Server, user string) (*xmpp.Session, <-chan string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	session := s.Dial(ctx, t, user, user+"-pw")
	in := make(chan string, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = session.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			var b strings.Builder
			e := xml.NewEncoder(&b)
			if _, err := xmlstream.Copy(e, xmlstream.MultiReader(xmlstream.Token(*start), r)); err != nil {
				return nil
			}
			if err := e.Flush(); err != nil {
				return nil
			}
			select {
			case in <- b.String():
			default:
			}
			// Acknowledge IQ sets, as a Jingle client does.
			if iq, err := stanza.NewIQ(*start); err == nil && start.Name.Local == "iq" && iq.Type == stanza.SetIQ {
				_, err := xmlstream.Copy(r, iq.Result(nil))
				return err
			}
			return nil
		}))
	}()
	t.Cleanup(func() {
		xmpptest.CloseSession(session)
		<-done
	})
	if err := session.Send(ctx, stanza.Presence{}.Wrap(nil)); err != nil {
		t.Fatal(err)
	}
	return session, in
}

// receive waits for a stanza containing all of subs.
func receive(ctx context.Context, t *testing.T, in <-chan string, subs ...string) string {
	t.Helper()
	for {
		select {
		case s := <-in:
			ok := true
			for _, sub := range subs {
				ok = ok && strings.Contains(s, sub)
			}
			if ok {
				return s
			}
		case <-ctx.Done():
			t.Fatalf("no stanza with %q: %v", subs, ctx.Err())
		}
	}
}

// sendIQ sends a raw IQ and returns the answer as text.
func sendIQ(ctx context.Context, t *testing.T, s *xmpp.Session, raw string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(raw))
	resp, err := s.SendIQ(ctx, d)
	if err != nil {
		t.Fatalf("sending %s: %v", raw, err)
	}
	defer resp.Close()
	var b strings.Builder
	e := xml.NewEncoder(&b)
	if _, err := xmlstream.Copy(e, resp); err != nil && err != io.EOF {
		t.Fatalf("reading the answer: %v", err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// incoming waits for the next incoming call of p.
func incoming(ctx context.Context, t *testing.T, p *jinglepeer.Peer) *jinglepeer.Call {
	t.Helper()
	select {
	case c := <-p.Incoming():
		return c
	case <-ctx.Done():
		t.Fatalf("no incoming call: %v", ctx.Err())
	}
	return nil
}

// wait waits for an event of the call.
func wait(ctx context.Context, t *testing.T, c *jinglepeer.Call, kind jinglepeer.EventKind) jinglepeer.Event {
	t.Helper()
	e, err := c.Wait(ctx, kind)
	if err != nil {
		t.Fatalf("call %s: waiting for %s: %v (history: %v)", c.SID(), kind, err, c.History())
	}
	return e
}

func waitConnected(ctx context.Context, t *testing.T, calls ...*jinglepeer.Call) {
	t.Helper()
	for _, c := range calls {
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatalf("call %s (%s): %v (history: %v)", c.SID(), c.Role(), err, c.History())
		}
	}
}

// waitMedia waits until c received more RTP than before, of both kinds
// when video is true.
func waitMedia(ctx context.Context, t *testing.T, c *jinglepeer.Call, audio, video bool) jinglepeer.Stats {
	t.Helper()
	base := c.Stats()
	const more = 10
	s, err := c.WaitStats(ctx, func(s jinglepeer.Stats) bool {
		return (!audio || s.AudioPacketsReceived >= base.AudioPacketsReceived+more) &&
			(!video || s.VideoPacketsReceived >= base.VideoPacketsReceived+more)
	})
	if err != nil {
		t.Fatalf("call %s (%s): media did not flow: %v", c.SID(), c.Role(), err)
	}
	return s
}

// stanzasOf returns the logged stanzas of a call with the given direction
// and action.
func stanzasOf(c *jinglepeer.Call, dir jinglepeer.Direction, action string) []jinglepeer.Stanza {
	var out []jinglepeer.Stanza
	for _, s := range c.Stanzas() {
		if s.Dir == dir && s.Action == action && !s.IsResult() && !s.IsError() {
			out = append(out, s)
		}
	}
	return out
}
