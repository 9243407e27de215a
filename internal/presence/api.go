package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode/utf8"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/roster"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// Messages to browsers.

// PresenceEvent: a contact's resource came, changed or went.
type PresenceEvent struct {
	Type      string   `json:"type"` // "presence"
	JID       string   `json:"jid"`  // full JID of the resource (bare when a whole contact went)
	Available bool     `json:"available"`
	Show      string   `json:"show,omitempty"`
	Status    string   `json:"status,omitempty"`
	Priority  int      `json:"priority,omitempty"`
	Media     []string `json:"media,omitempty"`
	Jingle    bool     `json:"jingle,omitempty"`
	JMI       bool     `json:"jmi,omitempty"`
	CapsKnown bool     `json:"capsKnown,omitempty"`
}

// SubscribeRequest: a contact asks to see the user's presence.
type SubscribeRequest struct {
	Type string `json:"type"` // "subscribe-request"
	JID  string `json:"jid"`
	Name string `json:"name,omitempty"`
}

// RosterItem is one contact as browsers see it.
type RosterItem struct {
	JID          string          `json:"jid"`
	Name         string          `json:"name,omitempty"`
	Groups       []string        `json:"groups"`
	Subscription string          `json:"subscription"`
	Ask          bool            `json:"ask,omitempty"`       // our subscribe is pending
	PendingIn    bool            `json:"pendingIn,omitempty"` // their subscribe waits for an answer
	Approved     bool            `json:"approved,omitempty"`  // pre-approved
	Resources    []PresenceEvent `json:"resources"`
}

// RosterMsg answers a roster request.
type RosterMsg struct {
	Type  string       `json:"type"` // "roster"
	ID    string       `json:"id,omitempty"`
	Items []RosterItem `json:"items"`
}

// RosterPush: an item changed (Removed: it is gone).
type RosterPush struct {
	Type    string     `json:"type"` // "roster-push"
	Item    RosterItem `json:"item"`
	Removed bool       `json:"removed,omitempty"`
}

// request is the union of the browser's roster and presence messages.
type request struct {
	JID      string   `json:"jid"`
	Name     *string  `json:"name"`
	Groups   []string `json:"groups"`
	Show     string   `json:"show"`
	Status   string   `json:"status"`
	Priority *int     `json:"priority"`
}

func badRequest(format string, args ...any) *wsapi.Error {
	return wsapi.Errorf(wsapi.CodeBadRequest, format, args...)
}

// HandleMessage serves the browser's roster and presence messages (roster,
// presence, add, remove, rename, subscribe, approve, deny) for the tab whose
// full JID is from. It returns the roster for "roster" (to be sent to the
// tab), nil otherwise. While the component link is down, add, remove,
// subscribe, approve and deny are refused (unavailable) before anything
// changes.
func (m *Manager) HandleMessage(ctx context.Context, user string, from jid.JID, typ, id string, raw json.RawMessage) (any, error) {
	var r request
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, badRequest("%s: %v", typ, oneLine(err))
	}
	if r.Name != nil && (utf8.RuneCountInString(*r.Name) > 256 || !utf8.ValidString(*r.Name)) {
		return nil, badRequest("%s: name is too long or not UTF-8", typ)
	}
	if len(r.Groups) > 32 {
		return nil, badRequest("%s: at most 32 groups", typ)
	}
	for _, g := range r.Groups {
		if g == "" || len(g) > 256 {
			return nil, badRequest("%s: bad group name %q", typ, g)
		}
	}
	switch typ {
	case wsapi.TypeRoster:
		items, err := m.Roster(ctx, user)
		if err != nil {
			return nil, err
		}
		return RosterMsg{Type: "roster", ID: id, Items: items}, nil
	case wsapi.TypePresence:
		if !validShow(r.Show) {
			return nil, badRequest("presence: show must be one of away, chat, dnd, xa or empty")
		}
		if len(r.Status) > 1024 {
			return nil, wsapi.Errorf(wsapi.CodeTooLarge, "presence: status is longer than 1024 bytes")
		}
		prio := 0
		if r.Priority != nil {
			if *r.Priority < -128 || *r.Priority > 127 {
				return nil, badRequest("presence: priority must be between -128 and 127")
			}
			prio = *r.Priority
		}
		return nil, m.SetPresence(ctx, user, from, r.Show, r.Status, prio)
	}
	contact, err := m.normalizeContact(user, r.JID)
	if err != nil {
		return nil, badRequest("%s: jid: %v", typ, err)
	}
	switch typ {
	case wsapi.TypeAdd, wsapi.TypeRemove, wsapi.TypeSubscribe, wsapi.TypeApprove, wsapi.TypeDeny:
		// These send subscription stanzas, which a down link would
		// lose while the roster here changed. rename sends nothing, and
		// a tab's presence is sent again when the link comes back.
		if err := m.linkDown(typ); err != nil {
			return nil, err
		}
	}
	switch typ {
	case wsapi.TypeAdd:
		return nil, m.Add(ctx, user, contact, r.Name, r.Groups)
	case wsapi.TypeRemove:
		return nil, m.Remove(ctx, user, contact)
	case wsapi.TypeRename:
		if r.Name == nil && r.Groups == nil {
			return nil, badRequest("rename: give name or groups")
		}
		return nil, m.Rename(ctx, user, contact, r.Name, r.Groups)
	case wsapi.TypeSubscribe:
		return nil, m.outbound(ctx, user, contact, roster.Subscribe)
	case wsapi.TypeApprove:
		return nil, m.outbound(ctx, user, contact, roster.Subscribed)
	case wsapi.TypeDeny:
		return nil, m.outbound(ctx, user, contact, roster.Unsubscribed)
	}
	return nil, badRequest("%s is not a roster message", typ)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

func (m *Manager) rosterItem(user string, it roster.Item) RosterItem {
	ri := RosterItem{JID: it.JID, Name: it.Name, Groups: it.Groups, Subscription: it.Subscription.String(),
		Ask: it.PendingOut, PendingIn: it.PendingIn, Approved: it.Approved, Resources: []PresenceEvent{}}
	if ri.Groups == nil {
		ri.Groups = []string{}
	}
	m.mu.Lock()
	for _, r := range m.contacts[it.JID][user] {
		ri.Resources = append(ri.Resources, m.eventLocked(r))
	}
	m.mu.Unlock()
	return ri
}

// Roster returns user's roster with each contact's live resources.
func (m *Manager) Roster(ctx context.Context, user string) ([]RosterItem, error) {
	items, err := m.cfg.Store.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("reading roster: %w", err)
	}
	out := []RosterItem{}
	for _, it := range items {
		if it.InRoster {
			out = append(out, m.rosterItem(user, it))
		}
	}
	return out, nil
}

// The item pushed is the store's latest, read while no other push is
// made: a tab's request (add) and the contact's answer to it (subscribed)
// are handled on different goroutines, and the tabs must end up with the
// state the store ends up with, not with whichever push came last.
func (m *Manager) push(user string, it roster.Item, removed bool) {
	mu := &m.pushMu[pushShard(user, len(m.pushMu))]
	mu.Lock()
	defer mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	cur, err := m.cfg.Store.Get(ctx, user, it.JID)
	cancel()
	switch {
	case err == nil:
		it = cur
		if cur.InRoster {
			removed = false
		}
	case errors.Is(err, roster.ErrNotFound):
		removed = true
	}
	m.notify(user, RosterPush{Type: "roster-push", Item: m.rosterItem(user, it), Removed: removed})
}

// pushShard spreads users over n push locks: one slow store read holds up
// the pushes of a few users, not of everyone.
func pushShard(user string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	return int(h.Sum32() % uint32(n))
}

// SetPresence sets a tab's own presence and sends it to the contacts.
func (m *Manager) SetPresence(ctx context.Context, user string, from jid.JID, show, status string, prio int) error {
	m.mu.Lock()
	t := m.tabs[user][from.Resourcepart()]
	if t == nil {
		m.mu.Unlock()
		return wsapi.Errorf(wsapi.CodeUnavailable, "presence: this tab is not online")
	}
	t.show, t.status, t.priority = show, status, prio
	snap := *t
	m.mu.Unlock()
	for _, c := range m.fromContacts(ctx, user) {
		m.send(ctx, m.presenceOf(&snap, c))
	}
	return nil
}

// Add puts contact in the roster and asks to see their presence.
func (m *Manager) Add(ctx context.Context, user string, contact jid.JID, name *string, groups []string) error {
	_, err := m.cfg.Store.Update(ctx, user, contact.String(), func(it roster.Item) (roster.Item, error) {
		it.InRoster = true
		if name != nil {
			it.Name = *name
		}
		if groups != nil {
			it.Groups = groups
		}
		return it, nil
	})
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	return m.outbound(ctx, user, contact, roster.Subscribe)
}

// Rename changes a contact's name or groups.
func (m *Manager) Rename(ctx context.Context, user string, contact jid.JID, name *string, groups []string) error {
	it, err := m.cfg.Store.Update(ctx, user, contact.String(), func(it roster.Item) (roster.Item, error) {
		if !it.InRoster {
			return it, wsapi.Errorf(wsapi.CodeNotFound, "rename: %s is not in the roster", contact)
		}
		if name != nil {
			it.Name = *name
		}
		if groups != nil {
			it.Groups = groups
		}
		return it, nil
	})
	if err != nil {
		return err
	}
	m.push(user, it, false)
	return nil
}

// Remove takes contact out of the roster, cancelling subscriptions both
// ways (RFC 6121 §2.5.2).
func (m *Manager) Remove(ctx context.Context, user string, contact jid.JID) error {
	old, err := m.cfg.Store.Get(ctx, user, contact.String())
	if errors.Is(err, roster.ErrNotFound) || (err == nil && !old.InRoster && !old.PendingIn) {
		return wsapi.Errorf(wsapi.CodeNotFound, "remove: %s is not in the roster", contact)
	}
	if err != nil {
		return err
	}
	from := m.userJID(user)
	if old.Subscription.HasTo() || old.PendingOut {
		m.send(ctx, outPresence{From: from, To: contact, Type: stanza.UnsubscribePresence})
	}
	if old.Subscription.HasFrom() || old.PendingIn {
		m.sendUnavailable(ctx, user, contact)
		m.send(ctx, outPresence{From: from, To: contact, Type: stanza.UnsubscribedPresence})
	}
	if err := m.cfg.Store.Delete(ctx, user, contact.String()); err != nil {
		return err
	}
	m.mu.Lock()
	m.dropLocked(user, contact.String(), "")
	m.mu.Unlock()
	m.push(user, old, true)
	return nil
}

func (m *Manager) sendUnavailable(ctx context.Context, user string, contact jid.JID) {
	for _, t := range m.tabsOf(user) {
		m.send(ctx, outPresence{From: t.full, To: contact, Type: stanza.UnavailablePresence})
	}
}

func (m *Manager) sendCurrent(ctx context.Context, user string, contact jid.JID) {
	for _, t := range m.tabsOf(user) {
		m.send(ctx, m.presenceOf(&t, contact))
	}
}

// outbound applies a subscription stanza from the user.
func (m *Manager) outbound(ctx context.Context, user string, contact jid.JID, k roster.Kind) error {
	var eff roster.Effect
	var before roster.Item
	it, err := m.cfg.Store.Update(ctx, user, contact.String(), func(it roster.Item) (roster.Item, error) {
		before = it
		var out roster.Item
		out, eff = roster.Outbound(it, k)
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	if k == roster.Unsubscribed && !before.PendingIn && !before.Subscription.HasFrom() && !before.Approved {
		return wsapi.Errorf(wsapi.CodeNotFound, "deny: no request from %s", contact)
	}
	if eff.SendUnavailable {
		m.sendUnavailable(ctx, user, contact)
	}
	if eff.Route {
		var name string
		m.mu.Lock()
		for _, t := range m.tabs[user] {
			name = t.name
			break
		}
		m.mu.Unlock()
		m.send(ctx, outPresence{From: m.userJID(user), To: contact, Type: stanza.PresenceType(k), Nick: name})
	}
	if eff.SendPresence {
		m.sendCurrent(ctx, user, contact)
	}
	if eff.Push || it.InRoster {
		m.push(user, it, !it.InRoster)
	}
	return nil
}

// inboundSubscription applies a subscription stanza from a contact.
func (m *Manager) inboundSubscription(ctx context.Context, user string, contact jid.JID, k roster.Kind, nick string) {
	var eff roster.Effect
	it, err := m.cfg.Store.Update(ctx, user, contact.String(), func(it roster.Item) (roster.Item, error) {
		var out roster.Item
		out, eff = roster.Inbound(it, k)
		if k == roster.Subscribe && out.Name == "" && nick != "" && !out.InRoster {
			out.Name = nick
		}
		return out, nil
	})
	if err != nil {
		m.log.Error("roster update failed", "user", user, "contact", contact, "err", err)
		return
	}
	from := m.userJID(user)
	if eff.Reply != "" {
		m.send(ctx, outPresence{From: from, To: contact, Type: stanza.PresenceType(eff.Reply)})
	}
	if eff.SendPresence {
		m.sendCurrent(ctx, user, contact)
	}
	if eff.SendUnavailable {
		m.sendUnavailable(ctx, user, contact)
	}
	if eff.Probe {
		m.send(ctx, outPresence{From: from, To: contact, Type: stanza.ProbePresence})
	}
	if k == roster.Unsubscribed && !it.Subscription.HasTo() {
		// The user no longer sees the contact's presence: the tabs hear
		// each resource they knew go.
		m.mu.Lock()
		gone := m.dropLocked(user, contact.String(), "")
		m.mu.Unlock()
		for _, r := range gone {
			m.notify(user, PresenceEvent{Type: "presence", JID: r.full.String(), Available: false})
		}
	}
	if eff.Notify && k == roster.Subscribe {
		m.notify(user, SubscribeRequest{Type: "subscribe-request", JID: contact.String(), Name: it.Name})
	}
	if eff.Push {
		m.push(user, it, false)
	}
}

// Subscribed tells the manager that user and contact now see each other
// (set up out of band, by a privileged roster set): the contact gets the
// user's presence, is probed, and the browsers get the item.
func (m *Manager) Subscribed(ctx context.Context, user string, contact jid.JID) {
	m.sendCurrent(ctx, user, contact)
	m.send(ctx, outPresence{From: m.userJID(user), To: contact, Type: stanza.ProbePresence})
	if it, err := m.cfg.Store.Get(ctx, user, contact.String()); err == nil {
		m.push(user, it, false)
	}
}
