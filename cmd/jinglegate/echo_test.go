package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

// TestEcho: `jinglegate echo` logs in, takes a JMI call from a pion Jingle
// peer and sends its media and data channel messages back.
func TestEcho(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "echo", "echopw")
		srv.Register(t, "bob", "bobpw")
		t.Setenv("JINGLEGATE_ECHO_PASSWORD", "echopw")
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"echo", "-jid", "echo@localhost", "-server", srv.C2SAddr}, strings.NewReader(""), io.Discard, logs)
		}()
		defer func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("echo exited %d", code)
			}
			if t.Failed() {
				t.Logf("echo log:\n%s", logs)
			}
		}()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(logs.String(), "accepting every call") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer wcancel()
		bob, err := jinglepeer.New(wctx, jinglepeer.Config{Session: srv.Dial(wctx, t, "bob", "bobpw")})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { defer close(stopped); _ = bob.Run(runCtx) }()
		defer func() { stop(); <-stopped }()
		<-bob.Ready()
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
