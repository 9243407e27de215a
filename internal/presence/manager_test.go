package presence

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/roster"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// linkSender is a component link that can be down: it records the
// presence stanzas sent while it is up ("type from to"), fails them while
// it is down, and answers disco#info (with answer, once gate is closed).
type linkSender struct {
	down   atomic.Bool
	gate   chan struct{}
	answer string

	mu   sync.Mutex
	sent []string
	iqs  int

	// onSend, when set, is called with each stanza recorded (as in
	// sent), on the sender's goroutine: the server's immediate answer.
	onSend func(line string)
}

func (s *linkSender) Ready() bool { return !s.down.Load() }

func (s *linkSender) Send(_ context.Context, r xml.TokenReader) error {
	if s.down.Load() {
		return errors.New("not connected")
	}
	var p struct {
		From string `xml:"from,attr"`
		To   string `xml:"to,attr"`
		Type string `xml:"type,attr"`
	}
	if err := xml.NewTokenDecoder(r).Decode(&p); err != nil {
		return err
	}
	typ := p.Type
	if typ == "" {
		typ = "available"
	}
	line := typ + " " + p.From + " " + p.To
	s.mu.Lock()
	s.sent = append(s.sent, line)
	hook := s.onSend
	s.mu.Unlock()
	if hook != nil {
		hook(line)
	}
	return nil
}

func (s *linkSender) UnmarshalIQ(ctx context.Context, _ stanza.IQ, _ xml.TokenReader, v any) error {
	s.mu.Lock()
	s.iqs++
	s.mu.Unlock()
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.answer == "" {
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}
	}
	return xml.Unmarshal([]byte(s.answer), v)
}

func (s *linkSender) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

var _ Sender = (*linkSender)(nil)

// newTestManager returns a Manager for gw.example.org whose store has
// items (user -> contact -> item), with a recording link and notifier.
func newTestManager(t *testing.T, items map[string]map[string]roster.Item) (*Manager, *linkSender, *recNotifier, *memStore) {
	t.Helper()
	store := &memStore{items: map[string]roster.Item{}}
	for u, cs := range items {
		for c, it := range cs {
			it.JID = c
			store.items[u+" "+c] = it
		}
	}
	s := &linkSender{}
	n := &recNotifier{}
	m := New(Config{Domain: jid.MustParse("gw.example.org"), Store: store, Sender: s, Notifier: n,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return m, s, n, store
}

func feed(t *testing.T, m *Manager, raw string) {
	t.Helper()
	var p inPresence
	if err := xml.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	m.handlePresence(context.Background(), p, jid.MustParse(p.From), jid.MustParse(p.To))
}

func both() roster.Item { return roster.Item{Subscription: roster.Both, InRoster: true} }

func rosterOf(t *testing.T, m *Manager, user string) map[string][]PresenceEvent {
	t.Helper()
	items, err := m.Roster(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]PresenceEvent{}
	for _, it := range items {
		out[it.JID] = it.Resources
	}
	return out
}

// TestAllowed: the call policy, mode by mode.
func TestAllowed(t *testing.T) {
	items := map[string]map[string]roster.Item{
		"alice": {
			"bob@example.org":      both(),
			"pending@example.org":  {InRoster: true, PendingOut: true},
			"follows@example.org":  {Subscription: roster.From},
			"carol@gw.example.org": {Subscription: roster.To, InRoster: true},
		},
		"dave": {"alice@gw.example.org": {Subscription: roster.To, InRoster: true}},
	}
	base, _, _, _ := newTestManager(t, items)
	for _, tc := range []struct {
		mode    string
		domains []string
		peer    string
		want    bool
	}{
		{"roster", nil, "bob@example.org", true},
		{"roster", nil, "bob@example.org/phone", true},
		{"roster", nil, "follows@example.org", true},
		{"roster", nil, "pending@example.org", false},
		{"roster", nil, "stranger@example.org", false},
		{"roster", nil, "carol@gw.example.org", true},
		{"roster", nil, "dave@gw.example.org/tab", true}, // dave has alice
		{"roster", nil, "erin@gw.example.org", false},
		{"", nil, "stranger@example.org", false}, // roster by default
		{"domains", []string{"example.org"}, "stranger@example.org", true},
		{"domains", []string{"Example.ORG."}, "stranger@example.org/x", true},
		{"domains", []string{"example.org"}, "stranger@sub.example.org", false},
		{"domains", []string{"example.org"}, "stranger@example.net", false},
		{"domains", []string{"example.net"}, "bob@example.org", true}, // a contact still may
		{"domains", []string{"example.net"}, "erin@gw.example.org", false},
		{"domains", nil, "stranger@example.org", false},
		{"open", nil, "stranger@example.net", true},
		{"open", nil, "erin@gw.example.org", true},
	} {
		m := New(Config{Domain: base.cfg.Domain, Store: base.cfg.Store, Sender: base.cfg.Sender, Logger: base.cfg.Logger,
			Policy: Policy{Mode: tc.mode, Domains: tc.domains}})
		if got := m.Allowed(context.Background(), "alice", jid.MustParse(tc.peer)); got != tc.want {
			t.Errorf("%s %v: alice and %s: allowed %v, want %v", tc.mode, tc.domains, tc.peer, got, tc.want)
		}
	}
}

// TestContactPresencePerUser: two web users with the same contact each
// have their own view of it: one removing it, getting unsubscribed or a
// directed unavailable does not touch the other's, and calls end only for
// the user the unavailable was addressed to.
func TestContactPresencePerUser(t *testing.T) {
	ctx := context.Background()
	m, _, n, _ := newTestManager(t, map[string]map[string]roster.Item{
		"alice": {"bob@example.org": both()},
		"carol": {"bob@example.org": both()},
	})
	var gone []string
	m.cfg.OnUnavailable = func(user string, full jid.JID) { gone = append(gone, user+" "+full.String()) }
	m.TabOnline(ctx, "alice", jid.MustParse("alice@gw.example.org/a1"), "")
	m.TabOnline(ctx, "carol", jid.MustParse("carol@gw.example.org/c1"), "")
	for _, u := range []string{"alice", "carol"} {
		feed(t, m, `<presence from='bob@example.org/phone' to='`+u+`@gw.example.org'><show>away</show></presence>`)
		feed(t, m, `<presence from='bob@example.org/desk' to='`+u+`@gw.example.org'/>`)
	}
	m.wg.Wait()
	n.take()

	// A directed unavailable to alice: carol still sees bob/phone.
	feed(t, m, `<presence type='unavailable' from='bob@example.org/phone' to='alice@gw.example.org'/>`)
	if r := rosterOf(t, m, "alice")["bob@example.org"]; len(r) != 1 || r[0].JID != "bob@example.org/desk" {
		t.Errorf("alice's bob after the unavailable: %+v", r)
	}
	if r := rosterOf(t, m, "carol")["bob@example.org"]; len(r) != 2 {
		t.Errorf("carol's bob after alice's unavailable: %+v", r)
	}
	if !slices.Equal(gone, []string{"alice bob@example.org/phone"}) {
		t.Errorf("OnUnavailable calls: %v", gone)
	}
	if _, dest := n.takeWithDest(); !slices.Equal(dest, []string{"user alice"}) {
		t.Errorf("the unavailable was told to %v, want alice only", dest)
	}
	if got := m.Resources("carol", jid.MustParse("bob@example.org")); len(got) != 2 {
		t.Errorf("carol's resources of bob: %v", got)
	}

	// alice removes bob: carol still sees him.
	if err := m.Remove(ctx, "alice", jid.MustParse("bob@example.org")); err != nil {
		t.Fatal(err)
	}
	if _, ok := rosterOf(t, m, "alice")["bob@example.org"]; ok {
		t.Error("bob still in alice's roster")
	}
	if r := rosterOf(t, m, "carol")["bob@example.org"]; len(r) != 2 {
		t.Errorf("carol's bob after alice removed him: %+v", r)
	}
	n.take()

	// bob unsubscribes carol: her tabs hear both resources go.
	feed(t, m, `<presence type='unsubscribed' from='bob@example.org' to='carol@gw.example.org'/>`)
	msgs, dest := n.takeWithDest()
	var off []string
	for i, msg := range msgs {
		if ev, ok := msg.(PresenceEvent); ok && !ev.Available && dest[i] == "user carol" {
			off = append(off, ev.JID)
		}
	}
	slices.Sort(off)
	if !slices.Equal(off, []string{"bob@example.org/desk", "bob@example.org/phone"}) {
		t.Errorf("unavailable told to carol after unsubscribed: %v (all: %v to %v)", off, msgs, dest)
	}
	if r := rosterOf(t, m, "carol")["bob@example.org"]; len(r) != 0 {
		t.Errorf("carol's bob after unsubscribed: %+v", r)
	}
}

// TestCapsLearntTellsEveryUser: the caps of a ver asked for one user's
// contact reach every online user who has a resource with that ver, and
// Caps finds them whoever's contact it is.
func TestCapsLearntTellsEveryUser(t *testing.T) {
	ctx := context.Background()
	m, s, n, _ := newTestManager(t, map[string]map[string]roster.Item{
		"alice": {"bob@example.org": both()},
		"carol": {"bob@example.org": both(), "dan@example.org": both()},
	})
	s.answer = webDisco()
	s.gate = make(chan struct{})
	m.TabOnline(ctx, "alice", jid.MustParse("alice@gw.example.org/a1"), "")
	m.TabOnline(ctx, "carol", jid.MustParse("carol@gw.example.org/c1"), "")
	ver := m.CapsVer()
	caps := `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='` + ver + `'/>`
	feed(t, m, `<presence from='bob@example.org/phone' to='alice@gw.example.org'>`+caps+`</presence>`)
	// While the query is out, carol hears of bob/phone and dan/pc with
	// the same ver: not asked again.
	feed(t, m, `<presence from='bob@example.org/phone' to='carol@gw.example.org'>`+caps+`</presence>`)
	feed(t, m, `<presence from='dan@example.org/pc' to='carol@gw.example.org'>`+caps+`</presence>`)
	if _, ok := m.Caps(jid.MustParse("dan@example.org/pc")); ok {
		t.Error("caps known before the answer")
	}
	n.take()
	close(s.gate)
	m.wg.Wait()
	if s.iqs != 1 {
		t.Errorf("%d disco#info queries, want 1", s.iqs)
	}
	msgs, dest := n.takeWithDest()
	var got []string
	for i, msg := range msgs {
		if ev, ok := msg.(PresenceEvent); ok && ev.CapsKnown && ev.JMI {
			got = append(got, dest[i]+" "+ev.JID)
		}
	}
	slices.Sort(got)
	want := []string{"user alice bob@example.org/phone", "user carol bob@example.org/phone", "user carol dan@example.org/pc"}
	if !slices.Equal(got, want) {
		t.Errorf("caps told: %v, want %v", got, want)
	}
	for _, full := range []string{"bob@example.org/phone", "dan@example.org/pc"} {
		if c, ok := m.Caps(jid.MustParse(full)); !ok || !c.Has(NSJingleMsg) {
			t.Errorf("Caps(%s) = %v, %v", full, c, ok)
		}
	}
}

// TestPendingToNewTabOnly: subscription requests waiting for an answer go
// to each tab as it opens, once.
func TestPendingToNewTabOnly(t *testing.T) {
	ctx := context.Background()
	m, _, n, _ := newTestManager(t, nil)
	feed(t, m, `<presence type='subscribe' from='bob@example.org' to='alice@gw.example.org'/>`)
	n.take()
	m.TabOnline(ctx, "alice", jid.MustParse("alice@gw.example.org/a1"), "")
	m.TabOnline(ctx, "alice", jid.MustParse("alice@gw.example.org/a2"), "")
	msgs, dest := n.takeWithDest()
	var got []string
	for i, msg := range msgs {
		if r, ok := msg.(SubscribeRequest); ok {
			got = append(got, dest[i]+" "+r.JID)
		}
	}
	if want := []string{"tab a1 bob@example.org", "tab a2 bob@example.org"}; !slices.Equal(got, want) {
		t.Errorf("subscribe-requests: %v, want %v", got, want)
	}
}

// TestLinkDown: roster requests that send subscription stanzas are refused
// (unavailable) while the link is down, before the roster changes; rename
// and presence are not (nothing is lost: presence is sent again). A tab
// that closed meanwhile sends its unavailable when the link is back.
func TestLinkDown(t *testing.T) {
	ctx := context.Background()
	m, s, _, store := newTestManager(t, map[string]map[string]roster.Item{
		"alice": {"bob@example.org": both(), "carol@example.org": {PendingIn: true}},
	})
	tab1, tab2 := jid.MustParse("alice@gw.example.org/a1"), jid.MustParse("alice@gw.example.org/a2")
	m.TabOnline(ctx, "alice", tab1, "")
	m.TabOnline(ctx, "alice", tab2, "")
	s.take()
	s.down.Store(true)
	before, _ := store.List(ctx, "alice")
	for _, msg := range []string{
		`{"type":"add","jid":"dave@example.org"}`,
		`{"type":"remove","jid":"bob@example.org"}`,
		`{"type":"subscribe","jid":"bob@example.org"}`,
		`{"type":"approve","jid":"carol@example.org"}`,
		`{"type":"deny","jid":"carol@example.org"}`,
	} {
		var head struct{ Type string }
		_ = json.Unmarshal([]byte(msg), &head)
		_, err := m.HandleMessage(ctx, "alice", tab1, head.Type, "", json.RawMessage(msg))
		var we *wsapi.Error
		if !errors.As(err, &we) || we.Code != wsapi.CodeUnavailable || !strings.Contains(we.Message, "not reachable") {
			t.Errorf("%s with the link down: %v, want unavailable", msg, err)
		}
	}
	after, _ := store.List(ctx, "alice")
	sortItems := func(its []roster.Item) {
		slices.SortFunc(its, func(a, b roster.Item) int { return strings.Compare(a.JID, b.JID) })
	}
	sortItems(before)
	sortItems(after)
	if len(before) != len(after) {
		t.Fatalf("the roster changed: %+v -> %+v", before, after)
	}
	for i := range before {
		if before[i].JID != after[i].JID || before[i].Subscription != after[i].Subscription || before[i].PendingIn != after[i].PendingIn ||
			before[i].PendingOut != after[i].PendingOut || before[i].InRoster != after[i].InRoster {
			t.Errorf("the roster changed: %+v -> %+v", before[i], after[i])
		}
	}
	for _, msg := range []string{`{"type":"rename","jid":"bob@example.org","name":"Bob"}`, `{"type":"presence","show":"away"}`} {
		var head struct{ Type string }
		_ = json.Unmarshal([]byte(msg), &head)
		if _, err := m.HandleMessage(ctx, "alice", tab1, head.Type, "", json.RawMessage(msg)); err != nil {
			t.Errorf("%s with the link down: %v", msg, err)
		}
	}

	// tab2 closes while the link is down; when it is back, bob hears
	// tab2 go and tab1's presence (away).
	m.TabOffline(ctx, "alice", tab2)
	s.down.Store(false)
	m.ResendAll(ctx)
	sent := s.take()
	for _, want := range []string{"unavailable " + tab2.String() + " bob@example.org", "available " + tab1.String() + " bob@example.org"} {
		if !slices.Contains(sent, want) {
			t.Errorf("after the link came back: %v, want %q", sent, want)
		}
	}
	// Once sent, it is not sent again.
	m.ResendAll(ctx)
	if sent := s.take(); slices.Contains(sent, "unavailable "+tab2.String()+" bob@example.org") {
		t.Errorf("tab2's unavailable sent twice: %v", sent)
	}
	// A tab closing with the link up is not resent.
	m.TabOffline(ctx, "alice", tab1)
	if sent := s.take(); !slices.Equal(sent, []string{"unavailable " + tab1.String() + " bob@example.org"}) {
		t.Errorf("tab1 closing: %v", sent)
	}
	m.ResendAll(ctx)
	if sent := s.take(); len(sent) != 0 {
		t.Errorf("ResendAll with no tab sent %v", sent)
	}
}

// TestRosterPushesFollowTheStore: the contact's server answers the user's
// subscribe at once (ejabberd does, when the contact has already approved
// the user): its subscribed is handled before the add request's own roster
// push goes out. The tabs must end with the store's state (subscription
// to), not with the stale push of the request (none, ask).
func TestRosterPushesFollowTheStore(t *testing.T) {
	m, s, n, _ := newTestManager(t, nil)
	s.onSend = func(line string) {
		if strings.HasPrefix(line, "subscribe alice@gw.example.org ") {
			feed(t, m, "<presence xmlns='jabber:client' type='subscribed' from='bob@example.org' to='alice@gw.example.org'/>")
		}
	}
	if err := m.Add(context.Background(), "alice", jid.MustParse("bob@example.org"), nil, nil); err != nil {
		t.Fatal(err)
	}
	var last *RosterItem
	for _, msg := range n.take() {
		if p, ok := msg.(RosterPush); ok && p.Item.JID == "bob@example.org" {
			it := p.Item
			last = &it
		}
	}
	if last == nil || last.Subscription != "to" || last.Ask {
		t.Errorf("the last roster push for bob = %+v, want subscription to, no ask", last)
	}
	items, err := m.Roster(context.Background(), "alice")
	if err != nil || len(items) != 1 || items[0].Subscription != "to" {
		t.Errorf("roster = %+v (%v), want bob with subscription to", items, err)
	}
}
