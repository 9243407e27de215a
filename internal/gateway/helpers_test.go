package gateway_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/gateway"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const hmacSecret = "gateway-test-hmac-secret-0123"

// runningGateway is an in-process gateway connected to a test server.
type runningGateway struct {
	G      *gateway.Gateway
	Addr   string
	cancel context.CancelFunc
	done   chan error
	logs   *xmpptest.SyncBuffer
}

// gatewayConfig returns a configuration for srv with its store in dir.
func gatewayConfig(srv *xmpptest.Server, dir string) config.Config {
	c := config.Default()
	c.XMPP.Server = srv.ComponentAddr
	c.XMPP.Domain = srv.ComponentDomain
	c.XMPP.Secret = srv.ComponentSecret
	c.XMPP.PingInterval = config.Duration(2 * time.Second)
	c.XMPP.BackoffMin = config.Duration(100 * time.Millisecond)
	c.XMPP.BackoffMax = config.Duration(time.Second)
	c.HTTP.Listen = "127.0.0.1:0"
	c.HTTP.ResumeGrace = config.Duration(2 * time.Second)
	c.Auth.HMACSecret = hmacSecret
	c.Store.Path = filepath.Join(dir, "jinglegate.db")
	c.Log.Level = "debug"
	return c
}

// startGateway runs a gateway until the test ends (or stop is called).
func startGateway(t *testing.T, cfg config.Config) *runningGateway {
	t.Helper()
	if err := cfg.Validate("xmpp", "http", "auth", "store"); err != nil {
		t.Fatal(err)
	}
	logs := &xmpptest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := gateway.New(context.Background(), cfg, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rg := &runningGateway{G: g, Addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { rg.done <- g.Run(ctx, ln) }()
	t.Cleanup(func() {
		rg.stop(t)
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := g.Link.WaitReady(wctx); err != nil {
		t.Fatalf("gateway link not ready: %v; log:\n%s", g.Link.LastError(), logs)
	}
	return rg
}

func (rg *runningGateway) stop(t *testing.T) {
	if rg.cancel == nil {
		return
	}
	rg.cancel()
	rg.cancel = nil
	select {
	case err := <-rg.done:
		if err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("gateway did not stop")
	}
}

// browser is a scripted browser: a gorilla WebSocket client speaking the
// JSON protocol.
type browser struct {
	t    *testing.T
	user string
	ws   *websocket.Conn
	msgs chan map[string]any
	// backlog holds messages read while waiting for another type.
	backlog []map[string]any
	session map[string]any
	done    chan struct{}
	wmu     sync.Mutex    // gorilla allows one writer at a time
	maxSeq  atomic.Uint64 // highest seq received
}

func connectBrowser(t *testing.T, addr, user string) *browser {
	t.Helper()
	tok, err := auth.Mint([]byte(hmacSecret), user, time.Hour, auth.WithName(strings.ToUpper(user[:1])+user[1:]))
	if err != nil {
		t.Fatal(err)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?token="+tok, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial /ws as %s: %v (HTTP %d)", user, err, status)
	}
	b := &browser{t: t, user: user, ws: ws, msgs: make(chan map[string]any, 256), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				close(b.msgs)
				return
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Errorf("%s: server sent non-JSON %q", user, data)
				continue
			}
			if s, ok := m["seq"].(float64); ok && uint64(s) > b.maxSeq.Load() {
				b.maxSeq.Store(uint64(s))
			}
			b.msgs <- m
		}
	}()
	t.Cleanup(b.close)
	b.session = b.expect("session", nil)
	return b
}

func (b *browser) close() {
	b.ws.Close()
	<-b.done
}

// JID returns the tab's full JID from the session message.
func (b *browser) JID() jid.JID {
	return jid.MustParse(b.session["jid"].(string))
}

func (b *browser) send(msg map[string]any) {
	b.t.Helper()
	data, _ := json.Marshal(msg)
	b.wmu.Lock()
	err := b.ws.WriteMessage(websocket.TextMessage, data)
	b.wmu.Unlock()
	if err != nil {
		b.t.Fatalf("%s: write: %v", b.user, err)
	}
}

// expect returns the first message of type typ (matching pred if not nil),
// keeping the others for later expects.
func (b *browser) expect(typ string, pred func(map[string]any) bool) map[string]any {
	b.t.Helper()
	for i, m := range b.backlog {
		if m["type"] == typ && (pred == nil || pred(m)) {
			b.backlog = append(b.backlog[:i], b.backlog[i+1:]...)
			return m
		}
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case m, ok := <-b.msgs:
			if !ok {
				b.t.Fatalf("%s: connection closed while waiting for %s", b.user, typ)
			}
			if m["type"] == typ && (pred == nil || pred(m)) {
				return m
			}
			b.backlog = append(b.backlog, m)
		case <-timeout:
			b.t.Fatalf("%s: no %s message in 15 s; got meanwhile: %v", b.user, typ, b.backlog)
		}
	}
}

// request sends msg with an id and returns the ack or error answering it.
func (b *browser) request(msg map[string]any) map[string]any {
	b.t.Helper()
	id := fmt.Sprintf("r%d", time.Now().UnixNano())
	msg["id"] = id
	b.send(msg)
	isReply := func(m map[string]any) bool { return m["id"] == id }
	for {
		for i, m := range b.backlog {
			if isReply(m) && (m["type"] == "ack" || m["type"] == "error") {
				b.backlog = append(b.backlog[:i], b.backlog[i+1:]...)
				return m
			}
		}
		select {
		case m, ok := <-b.msgs:
			if !ok {
				b.t.Fatalf("%s: connection closed waiting for the answer to %v", b.user, msg)
			}
			b.backlog = append(b.backlog, m)
		case <-time.After(15 * time.Second):
			b.t.Fatalf("%s: no answer to %v", b.user, msg)
		}
	}
}

func (b *browser) mustAck(msg map[string]any) {
	b.t.Helper()
	if r := b.request(msg); r["type"] != "ack" {
		b.t.Fatalf("%s: %v answered %v", b.user, msg, r)
	}
}

// xmppPeer is an XMPP user: a mellium c2s client recording the presence
// stanzas it receives and answering disco#info like a Jingle client.
type xmppPeer struct {
	t        *testing.T
	s        *xmpp.Session
	jid      jid.JID
	presence chan inPresence
	backlog  []inPresence
}

type inPresence struct {
	From, To, Type string
	Show, Status   string
	Caps           struct{ Hash, Node, Ver string }
}

var peerFeatures = []string{"http://jabber.org/protocol/disco#info", "urn:xmpp:jingle:1", "urn:xmpp:jingle:apps:rtp:1",
	"urn:xmpp:jingle:apps:rtp:audio", "urn:xmpp:jingle:apps:rtp:video", "urn:xmpp:jingle:transports:ice-udp:1",
	"urn:xmpp:jingle:apps:dtls:0", "urn:xmpp:jingle-message:0"}

func dialPeer(t *testing.T, srv *xmpptest.Server, user string) *xmppPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := srv.Dial(ctx, t, user, user+"pw")
	p := &xmppPeer{t: t, s: s, jid: s.LocalAddr(), presence: make(chan inPresence, 256)}
	defer func() {
		// Like a real client, fetch the roster: servers push subscription
		// changes only to "interested" resources (RFC 6121 §2.1.6).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := s.SendIQElement(ctx, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "jabber:iq:roster", Local: "query"}}), stanza.IQ{Type: stanza.GetIQ})
		if err != nil {
			t.Fatalf("%s: roster get: %v", p.jid, err)
		}
		r.Close()
	}()
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(rw xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			switch start.Name.Local {
			case "presence":
				var v struct {
					From   string `xml:"from,attr"`
					To     string `xml:"to,attr"`
					Type   string `xml:"type,attr"`
					Show   string `xml:"show"`
					Status string `xml:"status"`
					C      struct {
						Hash string `xml:"hash,attr"`
						Node string `xml:"node,attr"`
						Ver  string `xml:"ver,attr"`
					} `xml:"http://jabber.org/protocol/caps c"`
				}
				if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), rw)).Decode(&v); err != nil {
					return err
				}
				ip := inPresence{From: v.From, To: v.To, Type: v.Type, Show: v.Show, Status: v.Status}
				ip.Caps.Hash, ip.Caps.Node, ip.Caps.Ver = v.C.Hash, v.C.Node, v.C.Ver
				p.presence <- ip
			case "iq":
				iq, err := stanza.NewIQ(*start)
				if err != nil || (iq.Type != stanza.GetIQ && iq.Type != stanza.SetIQ) {
					return nil
				}
				tok, _ := rw.Token()
				payload, _ := tok.(xml.StartElement)
				if iq.Type == stanza.GetIQ && payload.Name.Space == "http://jabber.org/protocol/disco#info" {
					var inner []xml.TokenReader
					inner = append(inner, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Local: "identity"}, Attr: []xml.Attr{{Name: xml.Name{Local: "category"}, Value: "client"}, {Name: xml.Name{Local: "type"}, Value: "pc"}}}))
					for _, f := range peerFeatures {
						inner = append(inner, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Local: "feature"}, Attr: []xml.Attr{{Name: xml.Name{Local: "var"}, Value: f}}}))
					}
					_, err := xmlstream.Copy(rw, iq.Result(xmlstream.Wrap(xmlstream.MultiReader(inner...), payload)))
					return err
				}
			}
			return nil
		}))
	}()
	return p
}

func (p *xmppPeer) sendPresence(typ stanza.PresenceType, to string) {
	p.t.Helper()
	var toJID jid.JID
	if to != "" {
		toJID = jid.MustParse(to)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.s.Send(ctx, stanza.Presence{To: toJID, Type: typ}.Wrap(nil)); err != nil {
		p.t.Fatalf("%s: sending presence: %v", p.jid, err)
	}
}

func (p *xmppPeer) expectPresence(pred func(inPresence) bool, what string) inPresence {
	p.t.Helper()
	for i, v := range p.backlog {
		if pred(v) {
			p.backlog = append(p.backlog[:i], p.backlog[i+1:]...)
			return v
		}
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case v := <-p.presence:
			if pred(v) {
				return v
			}
			p.backlog = append(p.backlog, v)
		case <-timeout:
			p.t.Fatalf("%s: no %s in 15 s; got %+v", p.jid, what, p.backlog)
		}
	}
}

var _ = io.EOF
var _ = http.StatusOK

// subscribeBoth makes the web user b and the XMPP user p subscribe to each
// other, both approving, and waits until each sees the other's presence.
func subscribeBoth(t *testing.T, b *browser, p *xmppPeer, componentDomain string) {
	t.Helper()
	webBare := b.user + "@" + componentDomain
	b.mustAck(map[string]any{"type": "add", "jid": p.jid.Bare().String()})
	p.expectPresence(func(v inPresence) bool { return v.Type == "subscribe" && bareOf(v.From) == webBare }, "subscribe")
	p.sendPresence(stanza.SubscribedPresence, webBare)
	p.sendPresence(stanza.SubscribePresence, webBare)
	b.expect("subscribe-request", nil)
	b.mustAck(map[string]any{"type": "approve", "jid": p.jid.Bare().String()})
	p.expectPresence(func(v inPresence) bool { return v.From == b.JID().String() && v.Type == "" }, "web user's presence")
	b.expect("presence", func(m map[string]any) bool {
		return bareOf(m["jid"].(string)) == p.jid.Bare().String() && m["available"] == true
	})
}

func bareOf(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return s
	}
	return j.Bare().String()
}
