package wsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.uber.org/goleak"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait is how long a test waits for an event. Generous: the machine may be
// busy, and nothing here measures time.
const wait = 15 * time.Second

var secret = []byte("0123456789abcdef0123456789abcdef")

const domain = "gw.example.org"

// ---- schema ----

const schemaPath = "../../docs/protocol.schema.json"

var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	f, err := os.Open(schemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("protocol.schema.json", doc); err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for _, k := range []string{"clientMessage", "serverMessage"} {
		s, err := c.Compile("protocol.schema.json#/$defs/" + k)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
})

// validated counts the server messages checked against the schema.
var validated atomic.Int64

func validate(def string, data []byte) error {
	sc, err := schemas()
	if err != nil {
		return fmt.Errorf("loading schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := sc[def].Validate(v); err != nil {
		return fmt.Errorf("%s does not match %s: %v", data, def, err)
	}
	return nil
}

// ---- logging ----

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ---- fake application ----

type event struct {
	tab    *wsapi.Tab
	msg    *wsapi.Message
	reason wsapi.CloseReason
}

type fakeApp struct {
	opened   chan *wsapi.Tab
	messages chan event
	closed   chan event
	mu       sync.Mutex
	respond  func(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error
}

func newFakeApp() *fakeApp {
	return &fakeApp{
		opened:   make(chan *wsapi.Tab, 100),
		messages: make(chan event, 1000),
		closed:   make(chan event, 100),
	}
}

var _ wsapi.Handler = (*fakeApp)(nil)

func (a *fakeApp) TabOpened(ctx context.Context, t *wsapi.Tab) { a.opened <- t }

func (a *fakeApp) HandleMessage(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error {
	a.messages <- event{tab: t, msg: m}
	a.mu.Lock()
	f := a.respond
	a.mu.Unlock()
	if f != nil {
		return f(ctx, t, m)
	}
	return nil
}

func (a *fakeApp) TabClosed(t *wsapi.Tab, reason wsapi.CloseReason) {
	a.closed <- event{tab: t, reason: reason}
}

func (a *fakeApp) setRespond(f func(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error) {
	a.mu.Lock()
	a.respond = f
	a.mu.Unlock()
}

func (a *fakeApp) nextOpened(t testing.TB) *wsapi.Tab {
	t.Helper()
	select {
	case tab := <-a.opened:
		return tab
	case <-time.After(wait):
		t.Fatal("TabOpened not called")
		return nil
	}
}

func (a *fakeApp) nextMessage(t testing.TB) event {
	t.Helper()
	select {
	case e := <-a.messages:
		return e
	case <-time.After(wait):
		t.Fatal("HandleMessage not called")
		return event{}
	}
}

func (a *fakeApp) nextClosed(t testing.TB) event {
	t.Helper()
	select {
	case e := <-a.closed:
		return e
	case <-time.After(wait):
		t.Fatal("TabClosed not called")
		return event{}
	}
}

func (a *fakeApp) noMessage(t testing.TB) {
	t.Helper()
	select {
	case e := <-a.messages:
		t.Fatalf("unexpected HandleMessage(%s %+v)", e.msg.Type, e.msg)
	default:
	}
}

// ---- harness ----

type harness struct {
	t    testing.TB
	srv  *wsapi.Server
	hs   *httptest.Server
	app  *fakeApp
	opts wsapi.Options
}

func newHarness(t testing.TB, mod func(*wsapi.Options)) *harness {
	t.Helper()
	h := &harness{t: t, app: newFakeApp()}
	h.opts = wsapi.Options{
		Domain:   domain,
		Verifier: auth.Verifier{Secret: secret},
		Logger:   testLogger(t),
		Handler:  h.app,
		STUN:     []string{"stun:stun.example.org:3478"},
		TURN: wsapi.TURNOptions{
			URLs:   []string{"turn:turn.example.org:3478?transport=udp"},
			Secret: "turnsecret",
			TTL:    time.Hour,
		},
	}
	if mod != nil {
		mod(&h.opts)
	}
	h.srv = wsapi.NewServer(h.opts)
	h.hs = httptest.NewServer(h.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		h.hs.Close()
	})
	return h
}

func (h *harness) token(user string, opts ...auth.MintOption) string {
	h.t.Helper()
	tok, err := auth.Mint(secret, user, time.Hour, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) wsURL(q url.Values) string {
	return "ws" + strings.TrimPrefix(h.hs.URL, "http") + "/ws?" + q.Encode()
}

// dialRaw dials without reading.
func (h *harness) dialRaw(q url.Values, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	ws, resp, err := d.Dial(h.wsURL(q), header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return ws, resp, err
}

// dial connects as user and reads the session message.
func (h *harness) dial(user string) *client {
	h.t.Helper()
	return h.dialQuery(url.Values{"token": {h.token(user)}})
}

func (h *harness) dialQuery(q url.Values) *client {
	h.t.Helper()
	ws, _, err := h.dialRaw(q, nil)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	c := newClient(h.t, ws)
	c.session = c.expect(wsapi.TypeSession)
	return c
}

// resume reconnects c's session as user.
func (h *harness) resume(user, token string, lastSeq uint64) *client {
	h.t.Helper()
	c := h.dialQuery(url.Values{"token": {h.token(user)}, "resume": {token}, "seq": {fmt.Sprint(lastSeq)}})
	if c.session.m["resumed"] == true {
		c.lastSeq = lastSeq
	}
	return c
}

// ---- client ----

type msg struct {
	raw []byte
	m   map[string]any
}

func (m msg) typ() string { return m.str("type") }

func (m msg) str(k string) string {
	s, _ := m.m[k].(string)
	return s
}

func (m msg) num(k string) uint64 {
	n, _ := m.m[k].(json.Number)
	v, _ := n.Int64()
	return uint64(v)
}

func (m msg) has(k string) bool {
	_, ok := m.m[k]
	return ok
}

func (m msg) String() string { return string(m.raw) }

type client struct {
	t        testing.TB
	ws       *websocket.Conn
	in       chan msg
	done     chan struct{}
	closeMu  sync.Mutex
	closeErr error
	session  msg
	lastSeq  uint64
}

// newClient starts reading ws; every message is checked against the schema.
func newClient(t testing.TB, ws *websocket.Conn) *client {
	c := &client{t: t, ws: ws, in: make(chan msg, 10000), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *client) read() {
	defer close(c.done)
	defer close(c.in)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.closeMu.Lock()
			c.closeErr = err
			c.closeMu.Unlock()
			return
		}
		if err := validate("serverMessage", data); err != nil {
			c.t.Errorf("server message fails the schema: %v", err)
		}
		validated.Add(1)
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			c.t.Errorf("server sent bad JSON %q: %v", data, err)
			continue
		}
		c.in <- msg{raw: data, m: m}
	}
}

func (c *client) close() {
	_ = c.ws.Close()
	<-c.done
}

// drop breaks the TCP connection without a close frame.
func (c *client) drop() {
	_ = c.ws.NetConn().Close()
	<-c.done
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) next() msg {
	c.t.Helper()
	select {
	case m, ok := <-c.in:
		if !ok {
			c.t.Fatalf("connection closed: %v", c.err())
		}
		if s := m.num("seq"); s != 0 {
			if s != c.lastSeq+1 {
				c.t.Errorf("seq %d after %d", s, c.lastSeq)
			}
			c.lastSeq = s
		}
		return m
	case <-time.After(wait):
		c.t.Fatal("no message from the server")
		return msg{}
	}
}

func (c *client) expect(typ string) msg {
	c.t.Helper()
	m := c.next()
	if m.typ() != typ {
		c.t.Fatalf("got %s, want a %s", m, typ)
	}
	return m
}

// expectError reads an error message and checks its code and id.
func (c *client) expectError(code wsapi.Code, id string) msg {
	c.t.Helper()
	m := c.expect(wsapi.TypeError)
	if m.str("code") != string(code) || m.str("id") != id {
		c.t.Fatalf("got %s, want code %s id %q", m, code, id)
	}
	return m
}

func (c *client) expectAck(id string) msg {
	c.t.Helper()
	m := c.next()
	if m.typ() != wsapi.TypeAck || m.str("id") != id {
		c.t.Fatalf("got %s, want ack %q", m, id)
	}
	return m
}

// alive checks the connection still answers.
func (c *client) alive() {
	c.t.Helper()
	id := fmt.Sprintf("alive-%d", time.Now().UnixNano())
	c.send(map[string]any{"type": "ping", "id": id})
	c.expectAck(id)
}

func (c *client) err() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeErr
}

// waitClosed waits for the connection to end and returns the close code
// (-1 without a close frame).
func (c *client) waitClosed() int {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-c.in:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if errors.As(c.err(), &ce) {
				return ce.Code
			}
			return -1
		case <-deadline:
			c.t.Fatal("connection not closed")
			return 0
		}
	}
}

// waitFor polls cond until it holds. For conditions with no event to wait on.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Browser SDP and candidates.
var offerSDP = strings.Join([]string{
	"v=0",
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1",
	"s=-",
	"t=0 0",
	"a=group:BUNDLE 0",
	"a=msid-semantic: WMS",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111",
	"c=IN IP4 0.0.0.0",
	"a=rtcp:9 IN IP4 0.0.0.0",
	"a=ice-ufrag:abcd",
	"a=ice-pwd:abcdefghijklmnopqrstuvwx",
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
	"a=setup:actpass",
	"a=mid:0",
	"a=sendrecv",
	"a=rtcp-mux",
	"a=rtpmap:111 opus/48000/2",
	"",
}, "\r\n")

const hostCandidate = "candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 10.0.0.1 rport 46154 generation 0 ufrag abcd network-cost 999"

func candidateInit(c string) map[string]any {
	return map[string]any{"candidate": c, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "abcd"}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
