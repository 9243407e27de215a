package presence

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// The roster and presence messages the code sends and takes, checked
// against docs/protocol.schema.json (internal/wsapi's tests check the
// documentation's examples against it).

func loadSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../docs/protocol.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("protocol.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, k := range []string{"clientMessage", "serverMessage"} {
		s, err := c.Compile("protocol.schema.json#/$defs/" + k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = s
	}
	return out
}

func schemaCheck(sc *jsonschema.Schema, data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sc.Validate(v)
}

// withSeq returns msg as JSON with a seq, as the WebSocket server sends it.
func withSeq(t *testing.T, msg any) []byte {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["seq"] = 1
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recNotifier records the messages to web users, and where each went
// ("user alice" or "tab <resource>").
type recNotifier struct {
	mu   sync.Mutex
	msgs []any
	dest []string
}

func (n *recNotifier) SendToUser(user string, msg any) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, msg)
	n.dest = append(n.dest, "user "+user)
	return 1, nil
}

func (n *recNotifier) SendToTab(resource string, msg any) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, msg)
	n.dest = append(n.dest, "tab "+resource)
	return nil
}

func (n *recNotifier) take() []any {
	out, _ := n.takeWithDest()
	return out
}

func (n *recNotifier) takeWithDest() ([]any, []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out, dest := n.msgs, n.dest
	n.msgs, n.dest = nil, nil
	return out, dest
}

// webDisco is a disco#info answer listing the web users' features.
func webDisco() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='%s' type='%s' name='%s'/>`,
		WebIdentity.Category, WebIdentity.Type, WebIdentity.Name)
	for _, f := range WebFeatures {
		fmt.Fprintf(&b, `<feature var='%s'/>`, f)
	}
	b.WriteString(`</query>`)
	return b.String()
}

func TestMessagesMatchSchema(t *testing.T) {
	sc := loadSchemas(t)
	ctx := context.Background()
	webVer := Ver([]info.Identity{WebIdentity}, WebFeatures)
	m, _ := newCapsManager(t, map[string]string{"n#" + webVer: webDisco()})
	n := &recNotifier{}
	m.cfg.Notifier = n
	tab := jid.MustParse("alice@gw.example.org/tab1")
	m.TabOnline(ctx, "alice", tab, "Alice")

	var sent [][]byte
	check := func(what string, msgs ...any) {
		t.Helper()
		if len(msgs) == 0 {
			t.Errorf("%s: no message", what)
		}
		for _, msg := range msgs {
			b := withSeq(t, msg)
			sent = append(sent, b)
			if err := schemaCheck(sc["serverMessage"], b); err != nil {
				t.Errorf("%s: %s fails the schema: %v", what, b, err)
			}
		}
	}
	inbound := func(raw string) {
		t.Helper()
		var p inPresence
		if err := xml.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatal(err)
		}
		m.handlePresence(ctx, p, jid.MustParse(p.From), jid.MustParse(p.To))
		m.wg.Wait()
	}
	handle := func(typ, msg string) (any, error) {
		t.Helper()
		if err := schemaCheck(sc["clientMessage"], []byte(msg)); err != nil {
			t.Errorf("%s fails the schema: %v", msg, err)
		}
		if _, err := wsapi.ParseClientMessage([]byte(msg)); err != nil {
			t.Errorf("%s: wsapi refuses it: %v", msg, err)
		}
		return m.HandleMessage(ctx, "alice", tab, typ, "r", json.RawMessage(msg))
	}
	mustHandle := func(typ, msg string) any {
		t.Helper()
		reply, err := handle(typ, msg)
		if err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		return reply
	}

	// A contact's resource: available with caps, learned, then gone.
	inbound(`<presence from='bob@example.org/phone' to='alice@gw.example.org'><show>dnd</show><status>Driving</status><priority>5</priority>` +
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='` + webVer + `'/></presence>`)
	inbound(`<presence from='bob@example.org/laptop' to='alice@gw.example.org'/>`)
	msgs := n.take()
	check("presence", msgs...)
	var learned bool
	for _, msg := range msgs {
		if ev, ok := msg.(PresenceEvent); ok && ev.CapsKnown && ev.Jingle && ev.JMI && len(ev.Media) == 2 && ev.Priority == 5 {
			learned = true
		}
	}
	if !learned {
		t.Errorf("no presence with the learned caps in %+v", msgs)
	}

	// Requests from a stranger (with a nickname) and from someone without.
	inbound(`<presence type='subscribe' from='dave@example.org' to='alice@gw.example.org'><nick xmlns='http://jabber.org/protocol/nick'>Dave</nick></presence>`)
	inbound(`<presence type='subscribe' from='erin@example.net' to='alice@gw.example.org'/>`)
	check("subscribe-request", n.take()...)

	check("roster", mustHandle("roster", `{"type":"roster","id":"r"}`))
	mustHandle("approve", `{"type":"approve","id":"r","jid":"dave@example.org"}`)
	mustHandle("approve", `{"type":"approve","jid":"frank@example.org"}`)
	mustHandle("add", `{"type":"add","jid":"carol@example.org","name":"Carol","groups":["Friends"]}`)
	mustHandle("rename", `{"type":"rename","jid":"carol@example.org","groups":[]}`)
	mustHandle("subscribe", `{"type":"subscribe","jid":"carol@example.org/x"}`)
	mustHandle("deny", `{"type":"deny","jid":"frank@example.org"}`)
	mustHandle("remove", `{"type":"remove","jid":"carol@example.org"}`)
	check("roster-push", n.take()...)
	check("roster", mustHandle("roster", `{"type":"roster"}`))
	inbound(`<presence type='unavailable' from='bob@example.org/phone' to='alice@gw.example.org'/>`)
	inbound(`<presence type='unavailable' from='bob@example.org' to='alice@gw.example.org'/>`)
	check("unavailable", n.take()...)
	// What the web client sends by default.
	if r := mustHandle("presence", `{"type":"presence","id":"p","show":"","status":"","priority":0}`); r != nil {
		t.Errorf("presence answered %v", r)
	}
	mustHandle("presence", `{"type":"presence","show":"xa","status":"zzz","priority":-128}`)

	// The errors protocol.md gives.
	for _, tc := range []struct {
		typ, msg string
		code     wsapi.Code
	}{
		{"deny", `{"type":"deny","jid":"nobody@example.org"}`, wsapi.CodeNotFound},
		{"remove", `{"type":"remove","jid":"nobody@example.org"}`, wsapi.CodeNotFound},
		{"rename", `{"type":"rename","jid":"nobody@example.org","name":"X"}`, wsapi.CodeNotFound},
		{"rename", `{"type":"rename","jid":"bob@example.org"}`, wsapi.CodeBadRequest},
		{"add", `{"type":"add","jid":"alice@gw.example.org"}`, wsapi.CodeBadRequest},
		{"add", `{"type":"add","jid":"gw.example.org"}`, wsapi.CodeBadRequest},
		{"add", `{"type":"add","jid":""}`, wsapi.CodeBadRequest},
		{"add", `{"type":"add","jid":"bob@example.org","groups":[""]}`, wsapi.CodeBadRequest},
		{"add", `{"type":"add","jid":"bob@example.org","name":"` + strings.Repeat("é", 257) + `"}`, wsapi.CodeBadRequest},
		{"presence", `{"type":"presence","show":"sleeping"}`, wsapi.CodeBadRequest},
		{"presence", `{"type":"presence","priority":128}`, wsapi.CodeBadRequest},
		{"presence", `{"type":"presence","priority":1.0}`, wsapi.CodeBadRequest},
		{"presence", `{"type":"presence","priority":"1"}`, wsapi.CodeBadRequest},
		{"presence", `{"type":"presence","status":"` + strings.Repeat("x", 1025) + `"}`, wsapi.CodeTooLarge},
	} {
		_, err := m.HandleMessage(ctx, "alice", tab, tc.typ, "", json.RawMessage(tc.msg))
		var we *wsapi.Error
		if !errors.As(err, &we) || we.Code != tc.code {
			t.Errorf("%s: error %v, want %s", tc.msg, err, tc.code)
		}
	}
	if _, err := m.HandleMessage(ctx, "alice", jid.MustParse("alice@gw.example.org/gone"), "presence", "", json.RawMessage(`{"type":"presence"}`)); err == nil {
		t.Error("presence from a tab that is not online: no error")
	} else if we := (*wsapi.Error)(nil); !errors.As(err, &we) || we.Code != wsapi.CodeUnavailable {
		t.Errorf("presence from a tab that is not online: %v", err)
	}

	// The schema is not vacuous: what these messages must not be.
	for _, bad := range []string{
		`{"seq":1,"type":"presence","from":"bob@example.org/phone","show":"dnd"}`,
		`{"seq":1,"type":"presence","jid":"bob@example.org/phone","available":true,"priority":0}`,
		`{"seq":1,"type":"presence","jid":"bob@example.org/phone","available":true,"jingle":false}`,
		`{"seq":1,"type":"presence","jid":"bob@example.org/phone","available":true,"media":["audio"]}`,
		`{"seq":1,"type":"presence","jid":"bob@example.org/phone","available":false,"show":"away"}`,
		`{"seq":1,"type":"presence","jid":"bob@example.org/phone","available":true,"show":""}`,
		`{"seq":1,"type":"subscribe-request","from":"carol@example.org"}`,
		`{"seq":1,"type":"roster","items":[{"jid":"bob@example.org","name":"Bob","subscription":"both"}]}`,
		`{"seq":1,"type":"roster","items":[{"jid":"bob@example.org","groups":[],"subscription":"both","resources":[{"type":"presence","jid":"bob@example.org/x","available":false}]}]}`,
		`{"seq":1,"type":"roster-push","item":{"jid":"carol@example.org","groups":[],"subscription":"to","resources":[]},"removed":false}`,
	} {
		if schemaCheck(sc["serverMessage"], []byte(bad)) == nil {
			t.Errorf("serverMessage accepts %s", bad)
		}
	}
	for _, bad := range []string{
		`{"type":"subscribe"}`,
		`{"type":"add","jid":"carol@example.org","groups":"Friends"}`,
		`{"type":"rename","jid":"carol@example.org"}`,
		`{"type":"presence","show":"sleeping"}`,
		`{"type":"presence","priority":200}`,
		`{"type":"roster","from":"a@b"}`,
	} {
		if schemaCheck(sc["clientMessage"], []byte(bad)) == nil {
			t.Errorf("clientMessage accepts %s", bad)
		}
	}
	if len(sent) < 10 {
		t.Errorf("only %d messages checked", len(sent))
	}
}
