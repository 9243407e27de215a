package presence

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/roster"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// Sender sends stanzas to the XMPP server: the component link.
type Sender interface {
	Send(ctx context.Context, r xml.TokenReader) error
	UnmarshalIQ(ctx context.Context, iq stanza.IQ, payload xml.TokenReader, v any) error
	// Ready reports whether the link is up: roster changes that must
	// reach the XMPP server are refused while it is not.
	Ready() bool
}

// Notifier delivers messages to the tabs of web users: the WebSocket
// server.
type Notifier interface {
	// SendToUser sends to every tab of a web user.
	SendToUser(user string, msg any) (int, error)
	// SendToTab sends to the tab with this resource only.
	SendToTab(resource string, msg any) error
}

// Policy says who may call whom.
type Policy struct {
	// Mode is "roster" (only contacts with a subscription either way),
	// "domains" (contacts, and anyone on Domains) or "open".
	Mode    string
	Domains []string
}

// Config configures a Manager.
type Config struct {
	Domain   jid.JID // the component's domain
	Store    roster.Store
	Sender   Sender
	Notifier Notifier
	// CapsNode is the XEP-0115 node of web users; DefaultCapsURI if empty.
	CapsNode string
	Policy   Policy
	// QueryTimeout bounds disco#info queries to contacts (10 s).
	QueryTimeout time.Duration
	// QueueSize bounds the stanzas waiting for the worker (4096).
	QueueSize int
	Logger    *slog.Logger
	// OnUnavailable, if set, is called (on the worker) when a resource
	// of a contact goes offline (a bare JID: every resource) for web user
	// user: the unavailable presence was addressed to that user (each
	// subscribed user gets their own copy of a broadcast one).
	OnUnavailable func(user string, full jid.JID)
}

// Manager is the presence and roster server for the domain's web users.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	myVer string
	work  chan func(context.Context)

	mu sync.Mutex
	// pushMu orders each user's roster pushes (see push), a user's always
	// on the same one of them.
	pushMu [16]sync.Mutex
	tabs   map[string]map[string]*tabState // user -> resource -> state
	// announced: the tabs whose presence may have reached contacts and
	// whose unavailable has not (user -> resource -> full JID). A tab that
	// closes while the link is down stays here until ResendAll sends it.
	announced map[string]map[string]jid.JID
	// contacts is what each web user has heard of each contact: presence
	// is addressed to one user, and one user's view (a removal, an
	// unsubscribed, a directed unavailable) is not another's.
	contacts    map[string]map[string]map[string]*resource // contact bare JID -> user -> resource -> presence
	caps        map[string]Capabilities                    // verified caps by ver
	capsPending map[string]bool                            // ver being queried
	jidCaps     map[string]jidCapsEntry                    // full JID -> caps (no or unverifiable hash)
	wg          sync.WaitGroup                             // learnCaps goroutines
}

// jidCapsEntry is what one resource's disco#info said, kept for that
// resource only: it sent no caps, or its answer did not verify.
type jidCapsEntry struct {
	ver  string // the caps ver the resource advertised when asked ("" for none)
	caps Capabilities
}

type tabState struct {
	full     jid.JID
	name     string
	show     string
	status   string
	priority int
}

type resource struct {
	full     jid.JID
	show     string
	status   string
	priority int
	capsVer  string
	capsNode string
}

// New returns a Manager. Run must be running for stanzas to be processed.
func New(cfg Config) *Manager {
	if cfg.CapsNode == "" {
		cfg.CapsNode = DefaultCapsURI
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 10 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Policy.Mode == "" {
		cfg.Policy.Mode = "roster"
	}
	// Domains compare as JID domainparts do: normalized.
	domains := make([]string, 0, len(cfg.Policy.Domains))
	for _, d := range cfg.Policy.Domains {
		j, err := jid.New("", strings.TrimSuffix(strings.TrimSpace(d), "."), "")
		if err != nil {
			cfg.Logger.Warn("call policy: not a domain, ignored", "domain", d, "err", err)
			continue
		}
		domains = append(domains, j.Domainpart())
	}
	cfg.Policy.Domains = domains
	return &Manager{
		cfg:         cfg,
		log:         cfg.Logger.With("part", "presence"),
		myVer:       Ver([]info.Identity{WebIdentity}, WebFeatures),
		work:        make(chan func(context.Context), cfg.QueueSize),
		tabs:        map[string]map[string]*tabState{},
		announced:   map[string]map[string]jid.JID{},
		contacts:    map[string]map[string]map[string]*resource{},
		caps:        map[string]Capabilities{},
		capsPending: map[string]bool{},
		jidCaps:     map[string]jidCapsEntry{},
	}
}

// CapsVer is the XEP-0115 ver of web users.
func (m *Manager) CapsVer() string { return m.myVer }

// Run processes queued work until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	defer m.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-m.work:
			f(ctx)
		}
	}
}

// enqueue hands f to the worker without blocking the XMPP stream. When the
// queue is full the work is dropped and logged: never silently.
func (m *Manager) enqueue(what string, f func(context.Context)) {
	select {
	case m.work <- f:
	default:
		m.log.Error("presence queue full: work dropped", "what", what, "queue", cap(m.work))
	}
}

// UserJID returns a web user's bare JID.
func (m *Manager) UserJID(user string) jid.JID { return m.userJID(user) }

// LocalUser returns the web user a JID on the component's domain names, or
// "" for any other JID.
func (m *Manager) LocalUser(j jid.JID) string { return m.localUser(j) }

func (m *Manager) userJID(user string) jid.JID {
	j, _ := jid.New(user, m.cfg.Domain.Domainpart(), "")
	return j
}

// send sends a presence stanza; a failure is logged, and returned for the
// callers that keep track of what went out.
func (m *Manager) send(ctx context.Context, p outPresence) error {
	if err := m.cfg.Sender.Send(ctx, p.TokenReader()); err != nil {
		m.log.Warn("sending presence failed", "type", p.Type, "from", p.From, "to", p.To, "err", err)
		return err
	}
	m.log.Debug("presence sent", "type", p.Type, "from", p.From, "to", p.To)
	return nil
}

// linkDown is the error for a request that must reach the XMPP server
// while the component link is down: refused before anything changes, so
// that nothing is changed here and lost there.
func (m *Manager) linkDown(typ string) error {
	if m.cfg.Sender.Ready() {
		return nil
	}
	return wsapi.Errorf(wsapi.CodeUnavailable, "%s: the XMPP server is not reachable right now; nothing was changed, try again later", typ)
}

func (m *Manager) notify(user string, msg any) {
	if m.cfg.Notifier == nil {
		return
	}
	// A user with no tab open is no error: what they need is sent again
	// when a tab opens (roster, pending requests, presence by probe).
	if _, err := m.cfg.Notifier.SendToUser(user, msg); err != nil && !errors.Is(err, wsapi.ErrNoTab) {
		m.log.Warn("notifying user failed", "user", user, "err", err)
	}
}

// presenceOf returns the presence stanza of a tab to a contact.
func (m *Manager) presenceOf(t *tabState, to jid.JID) outPresence {
	return outPresence{From: t.full, To: to, Show: t.show, Status: t.status, Priority: t.priority,
		Nick: t.name, CapsNode: m.cfg.CapsNode, CapsVer: m.myVer}
}

// fromContacts lists the bare JIDs that receive user's presence.
func (m *Manager) fromContacts(ctx context.Context, user string) []jid.JID {
	items, err := m.cfg.Store.List(ctx, user)
	if err != nil {
		m.log.Error("reading roster", "user", user, "err", err)
		return nil
	}
	var out []jid.JID
	for _, it := range items {
		if it.Subscription.HasFrom() {
			if j, err := jid.Parse(it.JID); err == nil {
				out = append(out, j)
			}
		}
	}
	return out
}

// TabOnline: a tab (full JID user@domain/resource) came online. Its
// presence goes to every contact with a from or both subscription; the
// user's first tab also probes the contacts it sees, and gets pending
// subscription requests.
func (m *Manager) TabOnline(ctx context.Context, user string, full jid.JID, name string) {
	m.mu.Lock()
	first := len(m.tabs[user]) == 0
	if m.tabs[user] == nil {
		m.tabs[user] = map[string]*tabState{}
	}
	t := &tabState{full: full, name: name}
	m.tabs[user][full.Resourcepart()] = t
	if m.announced[user] == nil {
		m.announced[user] = map[string]jid.JID{}
	}
	m.announced[user][full.Resourcepart()] = full
	snapshot := *t
	m.mu.Unlock()
	for _, c := range m.fromContacts(ctx, user) {
		m.send(ctx, m.presenceOf(&snapshot, c))
	}
	if first {
		m.probeContacts(ctx, user, full)
	}
	m.deliverPending(ctx, user, full)
}

// deliverPending sends a new tab every subscription request not answered
// yet (the user's other tabs had them when they opened, or when the
// request came).
func (m *Manager) deliverPending(ctx context.Context, user string, tab jid.JID) {
	items, err := m.cfg.Store.List(ctx, user)
	if err != nil {
		m.log.Error("reading roster", "user", user, "err", err)
		return
	}
	for _, it := range items {
		if !it.PendingIn || m.cfg.Notifier == nil {
			continue
		}
		msg := SubscribeRequest{Type: "subscribe-request", JID: it.JID, Name: it.Name}
		if err := m.cfg.Notifier.SendToTab(tab.Resourcepart(), msg); err != nil && !errors.Is(err, wsapi.ErrNoTab) {
			m.log.Warn("notifying tab failed", "tab", tab, "err", err)
		}
	}
}

func (m *Manager) probeContacts(ctx context.Context, user string, from jid.JID) {
	items, err := m.cfg.Store.List(ctx, user)
	if err != nil {
		return
	}
	for _, it := range items {
		if it.Subscription.HasTo() {
			if c, err := jid.Parse(it.JID); err == nil {
				m.send(ctx, outPresence{From: from.Bare(), To: c, Type: stanza.ProbePresence})
			}
		}
	}
}

// TabOffline: a tab's session ended; unavailable from its full JID. When
// that cannot reach every contact (the link is down), the tab stays
// announced and ResendAll sends it.
func (m *Manager) TabOffline(ctx context.Context, user string, full jid.JID) {
	m.mu.Lock()
	delete(m.tabs[user], full.Resourcepart())
	if len(m.tabs[user]) == 0 {
		delete(m.tabs, user)
	}
	m.mu.Unlock()
	if !m.cfg.Sender.Ready() {
		return
	}
	m.sendGone(ctx, user, full)
}

// sendGone sends unavailable from a closed tab to the user's contacts and,
// when every one went out, forgets that the tab was announced.
func (m *Manager) sendGone(ctx context.Context, user string, full jid.JID) {
	sent := true
	for _, c := range m.fromContacts(ctx, user) {
		if err := m.send(ctx, outPresence{From: full, To: c, Type: stanza.UnavailablePresence}); err != nil {
			sent = false
		}
	}
	if !sent {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, open := m.tabs[user][full.Resourcepart()]; !open {
		delete(m.announced[user], full.Resourcepart())
		if len(m.announced[user]) == 0 {
			delete(m.announced, user)
		}
	}
}

// Online reports whether user has a tab.
func (m *Manager) Online(user string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tabs[user]) > 0
}

// ResendAll sends every tab's presence again and probes the contacts: for
// after the component link (re)connects. What was known of the contacts'
// presence is dropped first (the tabs hear them go): unavailable presence
// sent while the link was down is lost (a restarting server sends it as
// it stops), and the probes bring back every resource still online. Tabs
// that closed while the link was down send their unavailable now, so that
// contacts do not keep them.
func (m *Manager) ResendAll(ctx context.Context) {
	m.forgetContacts(ctx)
	type entry struct {
		user string
		tabs []tabState
	}
	type closed struct {
		user string
		full jid.JID
	}
	var all []entry
	var gone []closed
	m.mu.Lock()
	for u, ts := range m.tabs {
		e := entry{user: u}
		for _, t := range ts {
			e.tabs = append(e.tabs, *t)
		}
		all = append(all, e)
	}
	for u, rs := range m.announced {
		for res, full := range rs {
			if _, open := m.tabs[u][res]; !open {
				gone = append(gone, closed{u, full})
			}
		}
	}
	m.mu.Unlock()
	for _, g := range gone {
		m.sendGone(ctx, g.user, g.full)
	}
	for _, e := range all {
		contacts := m.fromContacts(ctx, e.user)
		for _, t := range e.tabs {
			for _, c := range contacts {
				m.send(ctx, m.presenceOf(&t, c))
			}
		}
		if len(e.tabs) > 0 {
			m.probeContacts(ctx, e.user, e.tabs[0].full)
		}
	}
}

// forgetContacts drops the presence of every contact resource, telling
// each web user who had heard of it. It does not call OnUnavailable: calls
// in progress are not ended by a link that comes back.
func (m *Manager) forgetContacts(ctx context.Context) {
	m.mu.Lock()
	gone := m.contacts
	m.contacts = map[string]map[string]map[string]*resource{}
	for _, users := range gone {
		for _, rs := range users {
			for _, r := range rs {
				delete(m.jidCaps, r.full.String())
			}
		}
	}
	m.mu.Unlock()
	for _, users := range gone {
		for u, rs := range users {
			for _, r := range rs {
				m.notify(u, PresenceEvent{Type: "presence", JID: r.full.String(), Available: false})
			}
		}
	}
}

// UnavailableAll sends unavailable from every tab the contacts may know
// (open ones, and closed ones whose unavailable has not gone out): for
// graceful shutdown.
func (m *Manager) UnavailableAll(ctx context.Context) {
	m.mu.Lock()
	all := map[string][]jid.JID{}
	for u, rs := range m.announced {
		for _, full := range rs {
			all[u] = append(all[u], full)
		}
	}
	m.mu.Unlock()
	for u, fulls := range all {
		for _, c := range m.fromContacts(ctx, u) {
			for _, full := range fulls {
				m.send(ctx, outPresence{From: full, To: c, Type: stanza.UnavailablePresence})
			}
		}
	}
}

// tabsOf returns a snapshot of user's tabs.
func (m *Manager) tabsOf(user string) []tabState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]tabState, 0, len(m.tabs[user]))
	for _, t := range m.tabs[user] {
		out = append(out, *t)
	}
	return out
}

// localUser returns the web user a JID on our domain names, or "".
func (m *Manager) localUser(j jid.JID) string {
	if j.Domainpart() != m.cfg.Domain.Domainpart() {
		return ""
	}
	return j.Localpart()
}

// HandleXMPP implements xmpp.Handler for presence stanzas to the domain.
func (m *Manager) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	var p inPresence
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t)).Decode(&p); err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	from, err1 := jid.Parse(p.From)
	to, err2 := jid.Parse(p.To)
	if err1 != nil || err2 != nil {
		m.log.Debug("presence with bad addresses dropped", "from", p.From, "to", p.To)
		return nil
	}
	m.enqueue("presence "+p.Type, func(ctx context.Context) { m.handlePresence(ctx, p, from, to) })
	return nil
}

var _ xmpp.Handler = (*Manager)(nil)

func (m *Manager) handlePresence(ctx context.Context, p inPresence, from, to jid.JID) {
	user := m.localUser(to)
	if user == "" {
		return
	}
	contact := from.Bare()
	if m.log.Enabled(ctx, slog.LevelDebug) {
		ver := ""
		if p.Caps != nil {
			ver = p.Caps.Ver
		}
		m.log.Debug("presence received", "type", p.Type, "from", from, "to", to, "caps", ver)
	}
	switch p.Type {
	case "", "unavailable", "error":
		m.contactPresence(ctx, user, from, p)
	case "probe":
		m.answerProbe(ctx, user, to, contact)
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		m.inboundSubscription(ctx, user, contact, roster.Kind(p.Type), p.Nick)
	default:
		m.log.Debug("presence of unknown type dropped", "type", p.Type, "from", from)
	}
}

// answerProbe: RFC 6121 §4.3.2. A contact entitled to the user's presence
// gets each tab's presence, or unavailable when none is online; anyone else
// gets unsubscribed (so that a stale subscription on their side is fixed).
func (m *Manager) answerProbe(ctx context.Context, user string, to, contact jid.JID) {
	it, err := m.cfg.Store.Get(ctx, user, contact.String())
	if err != nil && !errors.Is(err, roster.ErrNotFound) {
		m.log.Error("reading roster", "err", err)
		return
	}
	if !it.Subscription.HasFrom() {
		m.send(ctx, outPresence{From: m.userJID(user), To: contact, Type: stanza.UnsubscribedPresence})
		return
	}
	m.mu.Lock()
	var tabs []tabState
	for _, t := range m.tabs[user] {
		if to.Resourcepart() == "" || to.Resourcepart() == t.full.Resourcepart() {
			tabs = append(tabs, *t)
		}
	}
	m.mu.Unlock()
	if len(tabs) == 0 {
		from := to
		if from.Resourcepart() == "" {
			from = m.userJID(user)
		}
		m.send(ctx, outPresence{From: from, To: contact, Type: stanza.UnavailablePresence})
		return
	}
	for _, t := range tabs {
		m.send(ctx, m.presenceOf(&t, contact))
	}
}

// contactPresence records a contact resource's presence and tells the user.
func (m *Manager) contactPresence(ctx context.Context, user string, from jid.JID, p inPresence) {
	bare := from.Bare().String()
	it, err := m.cfg.Store.Get(ctx, user, bare)
	if err != nil || !it.Subscription.HasTo() {
		// Presence from someone the user does not follow: not delivered
		// (directed presence to a tab excepted).
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			return
		}
		if from.Resourcepart() == "" {
			return
		}
	}
	res := from.Resourcepart()
	m.mu.Lock()
	if p.Type == "unavailable" || p.Type == "error" {
		// Gone for this user only: other users hear it in their own
		// stanza, or (directed presence) not at all.
		m.dropLocked(user, bare, res)
		m.mu.Unlock()
		m.notify(user, PresenceEvent{Type: "presence", JID: from.String(), Available: false})
		if m.cfg.OnUnavailable != nil {
			m.cfg.OnUnavailable(user, from)
		}
		return
	}
	if m.contacts[bare] == nil {
		m.contacts[bare] = map[string]map[string]*resource{}
	}
	if m.contacts[bare][user] == nil {
		m.contacts[bare][user] = map[string]*resource{}
	}
	r := &resource{full: from, show: p.Show, status: p.Status, priority: p.priority()}
	if !validShow(r.show) {
		r.show = ""
	}
	needCaps := false
	known, haveKnown := m.jidCaps[from.String()]
	if p.Caps != nil {
		r.capsVer, r.capsNode = p.Caps.Ver, p.Caps.Node
		_, verified := m.caps[r.capsVer]
		// A ver this resource's own (unverified) answer already describes
		// is not asked again: every presence update would re-query it.
		askedThis := haveKnown && known.ver == r.capsVer
		if !verified && !askedThis && !m.capsPending[r.capsVer] {
			needCaps = true
			m.capsPending[r.capsVer] = true
		}
	} else if !haveKnown {
		needCaps = true
	}
	m.contacts[bare][user][res] = r
	ev := m.eventLocked(r)
	m.mu.Unlock()
	m.notify(user, ev)
	if needCaps {
		// On its own goroutine (it waits for an answer the Serve loop
		// delivers), ended with the worker's ctx; Run waits for it.
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.learnCaps(ctx, user, from, p)
		}()
	}
}

// dropLocked forgets the presence of a contact's resource (res empty: every
// resource) as user heard it, and returns what it dropped. Caps learnt for
// a resource nobody sees any more go too.
func (m *Manager) dropLocked(user, contact, res string) []*resource {
	users := m.contacts[contact]
	rs := users[user]
	var gone []*resource
	for r, v := range rs {
		if res == "" || r == res {
			gone = append(gone, v)
			delete(rs, r)
		}
	}
	if len(rs) == 0 {
		delete(users, user)
	}
	if len(users) == 0 {
		delete(m.contacts, contact)
	}
	fulls := make([]string, 0, len(gone)+1)
	for _, r := range gone {
		fulls = append(fulls, r.full.String())
	}
	if res != "" {
		if j, err := jid.Parse(contact); err == nil {
			if full, err := j.WithResource(res); err == nil {
				fulls = append(fulls, full.String())
			}
		}
	}
	for _, f := range fulls {
		if !m.seenLocked(f) {
			delete(m.jidCaps, f)
		}
	}
	return gone
}

// seenLocked reports whether some web user has a presence of this full
// JID.
func (m *Manager) seenLocked(full string) bool {
	j, err := jid.Parse(full)
	if err != nil {
		return false
	}
	for _, rs := range m.contacts[j.Bare().String()] {
		if rs[j.Resourcepart()] != nil {
			return true
		}
	}
	return false
}

// eventLocked builds the presence event of a contact resource.
func (m *Manager) eventLocked(r *resource) PresenceEvent {
	ev := PresenceEvent{Type: "presence", JID: r.full.String(), Available: true, Show: r.show, Status: r.status, Priority: r.priority, Media: []string{}}
	if c, ok := m.capsForLocked(r); ok {
		ev.Media = c.Media()
		ev.JMI = c.Has(NSJingleMsg)
		ev.Jingle = c.Has(NSJingle)
		ev.CapsKnown = true
	}
	return ev
}

func (m *Manager) capsForLocked(r *resource) (Capabilities, bool) {
	if r.capsVer != "" {
		if c, ok := m.caps[r.capsVer]; ok {
			return c, true
		}
	}
	e, ok := m.jidCaps[r.full.String()]
	if ok && r.capsVer != "" && e.ver != r.capsVer {
		// The resource's caps changed since it was asked: stale.
		return Capabilities{}, false
	}
	return e.caps, ok
}

// learnCaps queries disco#info of a contact's resource (node#ver when it
// sent caps), verifies the hash, caches the result, and tells every online
// web user who sees a resource it describes (that resource, or any with the
// same verified ver).
// It runs on its own goroutine: it waits for an IQ answer, which the
// stream's Serve loop delivers.
func (m *Manager) learnCaps(ctx context.Context, user string, from jid.JID, p inPresence) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.QueryTimeout)
	defer cancel()
	node := ""
	if p.Caps != nil && p.Caps.Node != "" {
		node = p.Caps.Node + "#" + p.Caps.Ver
	}
	var q DiscoInfo
	err := m.cfg.Sender.UnmarshalIQ(ctx, stanza.IQ{Type: stanza.GetIQ, From: m.userJID(user), To: from},
		xmlstream.Wrap(nil, queryStart(node)), &q)
	var c Capabilities
	verified := false
	if err == nil {
		for _, f := range q.Features {
			c.Features = append(c.Features, f.Var)
		}
		sort.Strings(c.Features)
		c.Features = slices.Compact(c.Features)
		// Verified against the full answer, extended forms included;
		// an ill-formed one (XEP-0115 §5.4) never verifies.
		verified = p.Caps != nil && q.verify(p.Caps.Hash, p.Caps.Ver)
	}

	m.log.Debug("disco#info of a contact", "jid", from, "err", err, "verified", verified, "features", len(c.Features))
	m.mu.Lock()
	if p.Caps != nil {
		delete(m.capsPending, p.Caps.Ver)
	}
	if err != nil {
		m.mu.Unlock()
		m.log.Debug("disco#info of contact failed", "jid", from, "err", err)
		return
	}
	// The resources this answer tells about, as each user sees them:
	// this one, and (verified) every one with the ver whose caps were not
	// known yet.
	type seen struct {
		user string
		r    *resource
	}
	var told []seen
	for _, users := range m.contacts {
		for u, rs := range users {
			if len(m.tabs[u]) == 0 {
				continue
			}
			for _, r := range rs {
				if r.full.Equal(from) {
					told = append(told, seen{u, r})
				} else if _, known := m.capsForLocked(r); verified && !known && r.capsVer == p.Caps.Ver {
					told = append(told, seen{u, r})
				}
			}
		}
	}
	if verified {
		m.caps[p.Caps.Ver] = c
	} else {
		// An unverifiable answer is kept for this resource only, never
		// shared through the cache (XEP-0115 §5.4 poisoning).
		e := jidCapsEntry{caps: c}
		if p.Caps != nil {
			e.ver = p.Caps.Ver
		}
		m.jidCaps[from.String()] = e
	}
	evs := make([]PresenceEvent, len(told))
	for i, s := range told {
		evs[i] = m.eventLocked(s.r)
	}
	m.mu.Unlock()
	for i, s := range told {
		m.notify(s.user, evs[i])
	}
}

func queryStart(node string) xml.StartElement {
	s := xml.StartElement{Name: xml.Name{Space: disco.NSInfo, Local: "query"}}
	if node != "" {
		s.Attr = []xml.Attr{{Name: xml.Name{Local: "node"}, Value: node}}
	}
	return s
}

// Caps returns what a full JID can do, if known, whichever web user's
// contact it is: caps describe the resource, not who sees it.
func (m *Manager) Caps(full jid.JID) (Capabilities, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	present := false
	for _, rs := range m.contacts[full.Bare().String()] {
		if r := rs[full.Resourcepart()]; r != nil {
			present = true
			if c, ok := m.capsForLocked(r); ok {
				return c, true
			}
		}
	}
	if present {
		// Its current caps are not known (they changed since it was
		// asked): what it answered before is stale.
		return Capabilities{}, false
	}
	e, ok := m.jidCaps[full.String()]
	return e.caps, ok
}

// Resources lists the available resources of a contact as web user user
// sees them, highest priority first.
func (m *Manager) Resources(user string, bare jid.JID) []jid.JID {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []*resource
	for _, r := range m.contacts[bare.Bare().String()][user] {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].priority > rs[j].priority })
	var out []jid.JID
	for _, r := range rs {
		out = append(out, r.full)
	}
	return out
}

// DiscoInfo answers disco#info for web users' JIDs and the caps node; use
// it as component.Config.Info.
func (m *Manager) DiscoInfo(to jid.JID, node string) (component.Info, bool) {
	user := m.localUser(to)
	if node != "" && node != m.cfg.CapsNode+"#"+m.myVer {
		return component.Info{}, false
	}
	if user == "" {
		// The caps node queried on the bare domain.
		if node == "" {
			return component.Info{}, false
		}
		return component.Info{Identities: []info.Identity{WebIdentity}, Features: WebFeatures}, true
	}
	m.mu.Lock()
	_, online := m.tabs[user][to.Resourcepart()]
	anyTab := len(m.tabs[user]) > 0
	m.mu.Unlock()
	if to.Resourcepart() == "" {
		// The account itself.
		if !anyTab && node == "" {
			return component.Info{Identities: []info.Identity{{Category: "account", Type: "registered"}}}, true
		}
		return component.Info{Identities: []info.Identity{{Category: "account", Type: "registered"}}}, true
	}
	if !online {
		return component.Info{}, false
	}
	return component.Info{Identities: []info.Identity{WebIdentity}, Features: WebFeatures}, true
}

// Allowed reports whether user may call, or be called by, peer under the
// call policy.
func (m *Manager) Allowed(ctx context.Context, user string, peer jid.JID) bool {
	switch m.cfg.Policy.Mode {
	case "open":
		return true
	case "domains":
		if slices.Contains(m.cfg.Policy.Domains, peer.Domainpart()) {
			return true
		}
	}
	if peer.Domainpart() == m.cfg.Domain.Domainpart() {
		// Web users of this gateway may call each other when either has
		// the other in the roster.
		other := peer.Localpart()
		if it, err := m.cfg.Store.Get(ctx, other, m.userJID(user).String()); err == nil && it.Subscription != roster.None {
			return true
		}
	}
	it, err := m.cfg.Store.Get(ctx, user, peer.Bare().String())
	return err == nil && it.Subscription != roster.None
}

// normalizeContact parses and checks a contact JID from the browser.
func (m *Manager) normalizeContact(user, s string) (jid.JID, error) {
	j, err := jid.Parse(strings.TrimSpace(s))
	if err != nil {
		return jid.JID{}, fmt.Errorf("not a JID: %q", s)
	}
	j = j.Bare()
	if j.Equal(m.userJID(user)) {
		return jid.JID{}, errors.New("a user cannot be their own contact")
	}
	if j.Localpart() == "" && j.Domainpart() == m.cfg.Domain.Domainpart() {
		return jid.JID{}, errors.New("the gateway itself cannot be a contact")
	}
	return j, nil
}
