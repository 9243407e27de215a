package main

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// startEcho runs `jinglegate echo` as echo@localhost with the extra flags
// until the test ends, and waits until it says it is ready. It returns the
// bot's log and its full JID.
func startEcho(t *testing.T, srv *xmpptest.Server, flags ...string) (*xmpptest.SyncBuffer, jid.JID) {
	t.Helper()
	srv.Register(t, "echo", "echopw")
	t.Setenv("JINGLEGATE_ECHO_PASSWORD", "echopw")
	ctx, cancel := context.WithCancel(context.Background())
	logs := &xmpptest.SyncBuffer{}
	done := make(chan int, 1)
	args := append([]string{"echo", "-jid", "echo@localhost", "-server", srv.C2SAddr}, flags...)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("echo exited %d", code)
		}
		if t.Failed() {
			t.Logf("echo log:\n%s", logs)
		}
	})
	ready := regexp.MustCompile(`accepting every call.* jid=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := ready.FindStringSubmatch(logs.String()); m != nil {
			return logs, jid.MustParse(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo did not log in:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startCaller runs a pion Jingle peer logged in as bob until the test ends.
func startCaller(ctx context.Context, t *testing.T, srv *xmpptest.Server) *jinglepeer.Peer {
	t.Helper()
	srv.Register(t, "bob", "bobpw")
	bob, err := jinglepeer.New(ctx, jinglepeer.Config{Session: srv.Dial(ctx, t, "bob", "bobpw")})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = bob.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-stopped })
	select {
	case <-bob.Ready():
	case <-ctx.Done():
		t.Fatal("bob is not ready")
	}
	return bob
}

// TestEcho: `jinglegate echo` logs in, takes a JMI call from a pion Jingle
// peer and sends its media and data channel messages back.
func TestEcho(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		startEcho(t, srv)
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer wcancel()
		bob := startCaller(wctx, t, srv)
		call, err := bob.Call(wctx, jid.MustParse("echo@localhost"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := call.WaitConnected(wctx); err != nil {
			t.Fatalf("call to echo: %v", err)
		}
		if _, err := call.WaitStats(wctx, func(s jinglepeer.Stats) bool { return s.AudioPacketsReceived > 10 && s.VideoPacketsReceived > 10 }); err != nil {
			t.Fatalf("no media echoed: %v (%+v)", err, call.Stats())
		}
		if _, err := call.Wait(wctx, jinglepeer.EventDataChannel); err != nil {
			t.Fatal(err)
		}
		if err := call.SendData(wctx, "ping"); err != nil {
			t.Fatal(err)
		}
		for len(call.DataMessages()) == 0 {
			if wctx.Err() != nil {
				t.Fatal("no data channel echo")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := call.DataMessages()[0]; got != "ping" {
			t.Errorf("echoed %q", got)
		}
	})
}

// TestEchoHangupAfter: with -hangup-after the bot ends each call itself,
// that long after the call connected, with reason success.
func TestEchoHangupAfter(t *testing.T) {
	const after = 1500 * time.Millisecond
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		logs, _ := startEcho(t, srv, "-hangup-after", after.String())
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer wcancel()
		bob := startCaller(wctx, t, srv)
		// Twice: every call is hung up, not only the first.
		for i := range 2 {
			call, err := bob.Call(wctx, jid.MustParse("echo@localhost"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := call.WaitConnected(wctx); err != nil {
				t.Fatalf("call %d to echo: %v", i, err)
			}
			connected := time.Now()
			if _, err := call.WaitStats(wctx, func(s jinglepeer.Stats) bool { return s.AudioPacketsReceived > 5 }); err != nil {
				t.Fatalf("call %d: no media echoed: %v", i, err)
			}
			ev, err := call.Wait(wctx, jinglepeer.EventTerminated)
			if err != nil {
				t.Fatalf("call %d: not hung up: %v", i, err)
			}
			took := time.Since(connected)
			if ev.Local || ev.Reason != jingle.ReasonSuccess {
				t.Errorf("call %d ended by local=%v with %v (%q), want the bot's session-terminate with success", i, ev.Local, ev.Reason, ev.Text)
			}
			// The bot counts from its own connected state, which may come
			// a little before ours.
			if took < after-500*time.Millisecond || took > after+10*time.Second {
				t.Errorf("call %d hung up %s after it connected, want about %s", i, took, after)
			}
		}
		// The bot logs its hangup just after sending session-terminate,
		// which we may have seen first: give the log a moment.
		n := 0
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if n = strings.Count(logs.String(), "echo: hung up"); n >= 2 || time.Now().After(deadline) {
				break
			}
		}
		if n != 2 {
			t.Errorf("the log says the bot hung up %d times, want 2", n)
		}
	})
}

// TestEchoNoJMI: with -no-jmi the bot does not advertise XEP-0353 (so the
// gateway calls it with a session-initiate), and takes a direct call.
func TestEchoNoJMI(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		_, full := startEcho(t, srv, "-no-jmi")
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer wcancel()
		srv.Register(t, "carol", "carolpw")
		carol := srv.Dial(wctx, t, "carol", "carolpw")
		go func() { _ = carol.Serve(nil) }()
		info, err := disco.GetInfo(wctx, "", full, carol)
		if err != nil {
			t.Fatalf("disco#info of %s: %v", full, err)
		}
		var features []string
		for _, f := range info.Features {
			features = append(features, f.Var)
		}
		if slices.Contains(features, jingle.NSJMI) || !slices.Contains(features, jingle.NSRTP) {
			t.Errorf("-no-jmi bot advertises %v", features)
		}
		bob := startCaller(wctx, t, srv)
		call, err := bob.Call(wctx, full, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := call.WaitConnected(wctx); err != nil {
			t.Fatalf("direct call to echo: %v", err)
		}
		if call.JMI() {
			t.Error("the call to the full JID used JMI")
		}
		if _, err := call.WaitStats(wctx, func(s jinglepeer.Stats) bool { return s.AudioPacketsReceived > 5 }); err != nil {
			t.Fatalf("no media echoed: %v", err)
		}
	})
}

// TestEchoFlags: bad echo flags are usage errors (exit status 2).
func TestEchoFlags(t *testing.T) {
	t.Setenv("JINGLEGATE_ECHO_PASSWORD", "pw")
	for _, args := range [][]string{
		{"echo", "-jid", "echo@localhost", "-hangup-after", "-1s"},
		{"echo", "-jid", "echo@localhost", "-hangup-after", "soon"},
		{"echo", "-jid", "localhost"},
	} {
		if code, _, errOut := runCmd(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
