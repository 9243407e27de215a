package presence

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/roster"
)

// memStore is a roster.Store in a map.
type memStore struct {
	mu    sync.Mutex
	items map[string]roster.Item // user + " " + contact
}

func (s *memStore) Get(_ context.Context, user, contact string) (roster.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[user+" "+contact]
	if !ok {
		return roster.Item{JID: contact}, roster.ErrNotFound
	}
	return it, nil
}

func (s *memStore) Update(ctx context.Context, user, contact string, f func(roster.Item) (roster.Item, error)) (roster.Item, error) {
	it, _ := s.Get(ctx, user, contact)
	out, err := f(it)
	if err != nil {
		return out, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if out.Empty() {
		delete(s.items, user+" "+contact)
	} else {
		s.items[user+" "+contact] = out
	}
	return out, nil
}

func (s *memStore) Delete(_ context.Context, user, contact string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, user+" "+contact)
	return nil
}

func (s *memStore) List(_ context.Context, user string) ([]roster.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []roster.Item
	for k, it := range s.items {
		if strings.HasPrefix(k, user+" ") {
			out = append(out, it)
		}
	}
	return out, nil
}

func (s *memStore) Users(context.Context, string) ([]string, error) { return nil, nil }
func (s *memStore) Close() error                                    { return nil }

// discoSender answers disco#info queries with canned answers, by node,
// and counts them.
type discoSender struct {
	mu      sync.Mutex
	answers map[string]string // node -> <query/> XML
	asked   []string          // "to node"
}

func (s *discoSender) Send(context.Context, xml.TokenReader) error { return nil }
func (s *discoSender) Ready() bool                                 { return true }

func (s *discoSender) UnmarshalIQ(_ context.Context, iq stanza.IQ, payload xml.TokenReader, v any) error {
	d := xml.NewTokenDecoder(payload)
	var q struct {
		Node string `xml:"node,attr"`
	}
	if err := d.Decode(&q); err != nil && err != io.EOF {
		return err
	}
	s.mu.Lock()
	s.asked = append(s.asked, iq.To.String()+" "+q.Node)
	a, ok := s.answers[q.Node]
	s.mu.Unlock()
	if !ok {
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}
	}
	return xml.Unmarshal([]byte(a), v)
}

func (s *discoSender) queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

type nullNotifier struct{}

func (nullNotifier) SendToUser(string, any) (int, error) { return 1, nil }
func (nullNotifier) SendToTab(string, any) error         { return nil }

var _ Sender = (*discoSender)(nil)

func newCapsManager(t *testing.T, answers map[string]string) (*Manager, *discoSender) {
	t.Helper()
	domain := jid.MustParse("gw.example.org")
	store := &memStore{items: map[string]roster.Item{
		"alice bob@example.org": {JID: "bob@example.org", Subscription: roster.Both, InRoster: true},
	}}
	s := &discoSender{answers: answers}
	m := New(Config{Domain: domain, Store: store, Sender: s, Notifier: nullNotifier{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return m, s
}

// presenceFrom feeds m a presence from a resource of bob to alice, with
// caps when ver is not empty, and waits for the disco#info it starts.
func presenceFrom(t *testing.T, m *Manager, resource, node, ver, status string) {
	t.Helper()
	caps := ""
	if ver != "" {
		caps = fmt.Sprintf(`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='%s' ver='%s'/>`, node, ver)
	}
	raw := fmt.Sprintf(`<presence xmlns='jabber:component:accept' from='bob@example.org/%s' to='alice@gw.example.org'><status>%s</status>%s</presence>`,
		resource, status, caps)
	var p inPresence
	if err := xml.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	from, to := jid.MustParse(p.From), jid.MustParse(p.To)
	m.handlePresence(context.Background(), p, from, to)
	m.wg.Wait()
}

// TestLearnCapsForms: a contact whose disco#info carries an XEP-0128 form
// (XEP-0115 §5.3) is verified and cached by ver; another resource with the
// same ver is not asked.
func TestLearnCapsForms(t *testing.T) {
	m, s := newCapsManager(t, map[string]string{"http://psi-im.org#" + complexVer: complexXML})
	presenceFrom(t, m, "psi", "http://psi-im.org", complexVer, "")
	if _, ok := m.caps[complexVer]; !ok {
		t.Fatalf("the §5.3 answer was not cached by ver (queries %v)", s.queries())
	}
	presenceFrom(t, m, "psi2", "http://psi-im.org", complexVer, "")
	presenceFrom(t, m, "psi", "http://psi-im.org", complexVer, "back")
	if q := s.queries(); len(q) != 1 {
		t.Errorf("queries %v, want one", q)
	}
	c, ok := m.Caps(jid.MustParse("bob@example.org/psi2"))
	if !ok || !c.Has("http://jabber.org/protocol/muc") {
		t.Errorf("Caps = %v, %v", c, ok)
	}
}

// TestLearnCapsUnverified: an answer that does not hash to the ver the
// resource advertised is kept for that resource only, and is not asked
// again while the resource keeps advertising that ver; a new ver is asked.
func TestLearnCapsUnverified(t *testing.T) {
	const lie = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
	m, s := newCapsManager(t, map[string]string{
		"http://psi-im.org#" + lie:       complexXML,
		"http://psi-im.org#" + simpleVer: simpleXML,
	})
	full := jid.MustParse("bob@example.org/psi")
	presenceFrom(t, m, "psi", "http://psi-im.org", lie, "")
	if _, ok := m.caps[lie]; ok {
		t.Fatal("an unverified answer was cached by ver")
	}
	if c, ok := m.Caps(full); !ok || !c.Has("http://jabber.org/protocol/caps") {
		t.Fatalf("Caps = %v, %v: the resource's own answer is not kept", c, ok)
	}
	presenceFrom(t, m, "psi", "http://psi-im.org", lie, "away for a bit")
	presenceFrom(t, m, "psi", "http://psi-im.org", lie, "back")
	if q := s.queries(); len(q) != 1 {
		t.Errorf("queries %v, want one: the same ver was asked again", q)
	}
	// Another resource with the same ver learns nothing from it.
	presenceFrom(t, m, "other", "http://psi-im.org", lie, "")
	if q := s.queries(); len(q) != 2 {
		t.Errorf("queries %v, want two", q)
	}
	// The resource's caps change: asked again, and now verified.
	presenceFrom(t, m, "psi", "http://psi-im.org", simpleVer, "")
	if q := s.queries(); len(q) != 3 {
		t.Errorf("queries %v, want three", q)
	}
	if _, ok := m.caps[simpleVer]; !ok {
		t.Error("the §5.2 answer was not cached by ver")
	}
}

// TestLearnCapsIllFormed: an answer with a duplicate feature whose ver is
// the hash of exactly what it lists (duplicate included) is not cached by
// ver (XEP-0115 §5.4 3.4).
func TestLearnCapsIllFormed(t *testing.T) {
	dup := strings.Replace(simpleXML, "<feature var='http://jabber.org/protocol/muc'/>",
		"<feature var='http://jabber.org/protocol/muc'/><feature var='http://jabber.org/protocol/muc'/>", 1)
	// The ver a generator that does not check for duplicates would send.
	var d DiscoInfo
	if err := xml.Unmarshal([]byte(dup), &d); err != nil {
		t.Fatal(err)
	}
	h := crypto.SHA1.New()
	for _, id := range d.Identities {
		_, _ = io.WriteString(h, id.Category+"/"+id.Type+"/"+id.Lang+"/"+id.Name+"<")
	}
	feats := make([]string, 0, len(d.Features))
	for _, f := range d.Features {
		feats = append(feats, f.Var)
	}
	slices.Sort(feats)
	for _, f := range feats {
		_, _ = io.WriteString(h, f+"<")
	}
	ver := base64.StdEncoding.EncodeToString(h.Sum(nil))
	m, _ := newCapsManager(t, map[string]string{"n#" + ver: dup})
	presenceFrom(t, m, "x", "n", ver, "")
	if _, ok := m.caps[ver]; ok {
		t.Error("an ill-formed answer was cached by ver")
	}
	c, ok := m.Caps(jid.MustParse("bob@example.org/x"))
	if !ok || len(c.Features) != 4 {
		t.Errorf("Caps = %v, %v: want the resource's own 4 features", c, ok)
	}
}
