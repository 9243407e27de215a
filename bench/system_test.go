package bench

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/gateway"
	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

const secret = "bench-hmac-secret-0123456789"

// eachServer runs f once per XMPP server kind (Prosody, ejabberd), as a
// sub-benchmark named after it: the ratios of one run compare them too.
func eachServer(b *testing.B, f func(b *testing.B, kind xmpptest.Kind)) {
	for _, k := range xmpptest.Kinds {
		b.Run(string(k), func(b *testing.B) { f(b, k) })
	}
}

// stack is an XMPP server, the gateway and an auto-accepting Jingle peer.
type stack struct {
	srv  *xmpptest.Server
	addr string
	peer *jinglepeer.Peer
}

func newStack(b *testing.B, kind xmpptest.Kind) *stack {
	b.Helper()
	srv := xmpptest.Start(b, kind, nil)
	srv.Register(b, "bob", "bobpw")
	c := config.Default()
	c.XMPP.Server, c.XMPP.Domain, c.XMPP.Secret = srv.ComponentAddr, srv.ComponentDomain, srv.ComponentSecret
	c.HTTP.Listen = "127.0.0.1:0"
	c.HTTP.RatePerSecond, c.HTTP.RateBurst = 1e6, 1e6
	c.Auth.HMACSecret = secret
	c.Store.Path = filepath.Join(b.TempDir(), "jg.db")
	c.Policy.Calls = "open"
	g, err := gateway.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)), "bench")
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", c.HTTP.Listen)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = g.Run(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := g.Link.WaitReady(wctx); err != nil {
		b.Fatal(err)
	}
	p, err := jinglepeer.New(wctx, jinglepeer.Config{Session: srv.Dial(wctx, b, "bob", "bobpw"), AutoAccept: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(context.Background())
	pdone := make(chan struct{})
	go func() { defer close(pdone); _ = p.Run(pctx) }()
	b.Cleanup(func() { pcancel(); <-pdone })
	<-p.Ready()
	return &stack{srv: srv, addr: ln.Addr().String(), peer: p}
}

// ws is a minimal browser-protocol client.
type ws struct {
	b *testing.B
	c *websocket.Conn
}

func dialWS(b *testing.B, addr, user string) *ws {
	tok, _ := auth.Mint([]byte(secret), user, time.Hour)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?token="+tok, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	w := &ws{b: b, c: c}
	w.next("session")
	return w
}

func (w *ws) send(m map[string]any) {
	if err := w.c.WriteJSON(m); err != nil {
		w.b.Fatal(err)
	}
}

// next returns the next message of type typ, acknowledging every seq.
func (w *ws) next(typ string) map[string]any {
	for {
		_ = w.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var m map[string]any
		if err := w.c.ReadJSON(&m); err != nil {
			w.b.Fatalf("waiting for %s: %v", typ, err)
		}
		if seq, ok := m["seq"].(float64); ok {
			w.send(map[string]any{"type": "ack", "seq": seq})
		}
		if m["type"] == "error" {
			w.b.Fatalf("error while waiting for %s: %v", typ, m)
		}
		if m["type"] == typ {
			return m
		}
	}
}

// BenchmarkXMPPMessageRTT is the baseline: a message from one c2s client
// to another and back, through the XMPP server.
func BenchmarkXMPPMessageRTT(b *testing.B) { eachServer(b, benchXMPPMessageRTT) }

func benchXMPPMessageRTT(b *testing.B, kind xmpptest.Kind) {
	srv := xmpptest.Start(b, kind, nil)
	srv.Register(b, "a", "apw")
	srv.Register(b, "e", "epw")
	ctx := context.Background()
	a := srv.Dial(ctx, b, "a", "apw")
	e := srv.Dial(ctx, b, "e", "epw")
	got := make(chan struct{}, 1)
	go func() {
		_ = e.Serve(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local == "message" {
				_, err := xmlstream.Copy(t, stanza.Message{To: a.LocalAddr(), Type: stanza.ChatMessage}.Wrap(nil))
				return err
			}
			return nil
		}))
	}()
	go func() {
		_ = a.Serve(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local == "message" {
				got <- struct{}{}
			}
			return nil
		}))
	}()
	to := e.LocalAddr()
	b.ResetTimer()
	for range b.N {
		if err := a.Send(ctx, stanza.Message{To: to, Type: stanza.ChatMessage}.Wrap(nil)); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// BenchmarkWebSocketRoundTrip: a roster request over /ws and its answer
// (the gateway's browser path alone).
func BenchmarkWebSocketRoundTrip(b *testing.B) { eachServer(b, benchWebSocketRoundTrip) }

func benchWebSocketRoundTrip(b *testing.B, kind xmpptest.Kind) {
	s := newStack(b, kind)
	w := dialWS(b, s.addr, "alice")
	b.ResetTimer()
	for i := range b.N {
		w.send(map[string]any{"type": "roster", "id": fmt.Sprint(i)})
		w.next("roster")
	}
}

// BenchmarkCallSetup: a web user calls a Jingle peer (pion) by its bare JID:
// propose, ringing, proceed, the browser's offer as session-initiate, the
// peer's session-accept as the browser's answer; then hangup.
func BenchmarkCallSetup(b *testing.B) { eachServer(b, benchCallSetup) }

func benchCallSetup(b *testing.B, kind xmpptest.Kind) {
	s := newStack(b, kind)
	w := dialWS(b, s.addr, "alice")
	offer, err := os.ReadFile("../testdata/interop/sdp/aiortc-chrome-audio-offer.sdp")
	if err != nil {
		b.Skip("no test SDP: ", err)
	}
	b.ResetTimer()
	for i := range b.N {
		sid := fmt.Sprintf("bench%d", i)
		w.send(map[string]any{"type": "call", "sid": sid, "to": "bob@" + s.srv.Domain, "media": []string{"audio"}})
		w.next("proceeding")
		w.send(map[string]any{"type": "offer", "sid": sid, "sdp": string(offer)})
		a := w.next("answer")
		if !strings.Contains(a["sdp"].(string), "a=fingerprint") {
			b.Fatal("answer without fingerprint")
		}
		w.send(map[string]any{"type": "hangup", "sid": sid})
	}
	b.StopTimer()
}
