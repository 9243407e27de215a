package jinglepeer

import (
	"context"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- XEP-0115 ver strings are SHA-1 by definition.
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/crypto"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/jingle"
)

// Namespaces the peer answers besides Jingle's.
const (
	nsCaps     = "http://jabber.org/protocol/caps"
	nsDiscoInf = "http://jabber.org/protocol/disco#info"
	nsPing     = "urn:xmpp:ping"
	nsRoster   = "jabber:iq:roster"
	nsReceipts = "urn:xmpp:receipts"
	nsHints    = "urn:xmpp:hints"
)

const (
	// incomingBuffer is how many incoming calls Incoming holds unread.
	incomingBuffer = 64
	// maxStanzaTokens bounds the tokens of one incoming stanza.
	maxStanzaTokens = 1 << 16
	// maxStanzaLog bounds the stanza logs of the peer and of each call:
	// the oldest entries go first.
	maxStanzaLog = 4096
	// shutdownTimeout bounds the hangups and the stream close of Run.
	shutdownTimeout = 5 * time.Second
)

var errTooLarge = errors.New("jinglepeer: stanza too large")

// RosterItem is a contact of the peer's roster.
type RosterItem struct {
	JID          jid.JID
	Name         string
	Subscription string
}

// IQError is the error reply to an IQ the peer sent.
type IQError struct {
	// Stanza is the stanza error (type and condition).
	Stanza stanza.Error
	// Condition is the Jingle-specific condition, e.g. "unknown-session",
	// or "" if there is none.
	Condition string
}

func (e *IQError) Error() string {
	s := fmt.Sprintf("jinglepeer: IQ error %s/%s", e.Stanza.Type, e.Stanza.Condition)
	if e.Condition != "" {
		s += " (" + e.Condition + ")"
	}
	return s
}

// Peer is a Jingle endpoint on an XMPP client session: it places and takes
// audio/video/data calls with XEP-0353 and XEP-0166/0167/0176/0320/0338/0343,
// and runs the media with pion/webrtc.
type Peer struct {
	cfg     config
	log     *slog.Logger
	session *xmpp.Session
	api     *webrtc.API
	self    jid.JID

	identity info.Identity
	features []string
	caps     disco.Caps

	ready    chan struct{}
	incoming chan *Call
	running  atomic.Bool
	calls    sync.WaitGroup // call loops

	mu      sync.Mutex
	serving bool // Serve runs and the peer takes calls
	byID    map[string]*Call
	pending map[string]*pendingIQ
	roster  map[string]RosterItem
	stanzas []Stanza
}

// pendingIQ is an IQ sent and not answered yet.
type pendingIQ struct {
	to     jid.JID
	action string // Jingle action, for the log
	sid    string
	call   *Call
	cb     func(tokens, error)
	timer  *time.Timer
}

// New returns a peer for cfg.Session. It sends nothing: Run serves the
// session.
func New(ctx context.Context, cfg Config) (*Peer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	api, err := newAPI(c)
	if err != nil {
		return nil, fmt.Errorf("jinglepeer: setting up WebRTC: %w", err)
	}
	if _, err := loadClips(); err != nil {
		return nil, fmt.Errorf("jinglepeer: test media: %w", err)
	}
	self := c.Session.LocalAddr()
	p := &Peer{
		cfg:      c,
		log:      c.Logger.With("jid", self.String()),
		session:  c.Session,
		api:      api,
		self:     self,
		identity: info.Identity{Category: "client", Type: "bot", Name: c.Name},
		ready:    make(chan struct{}),
		incoming: make(chan *Call, incomingBuffer),
		byID:     map[string]*Call{},
		pending:  map[string]*pendingIQ{},
		roster:   map[string]RosterItem{},
	}
	p.features = []string{
		nsCaps, nsDiscoInf, nsPing,
		jingle.NS, jingle.NSRTP, jingle.NSRTPAudio, jingle.NSRTPVideo,
		jingle.NSICEUDP, jingle.NSDTLS, jingle.NSDTLSSCTP,
		jingle.NSGrouping, jingle.NSRTCPFB, jingle.NSRTPHdrExt,
	}
	if !c.NoJMI {
		p.features = append(p.features, jingle.NSJMI)
	}
	slices.Sort(p.features)
	p.caps = disco.Caps{Hash: crypto.SHA1, Node: c.CapsNode, Ver: capsVer(p.identity, p.features)}
	return p, nil
}

// capsVer is the XEP-0115 verification string of the identity and features.
func capsVer(id info.Identity, features []string) string {
	i := disco.Info{Identity: []info.Identity{id}}
	for _, f := range features {
		i.Features = append(i.Features, info.Feature{Var: f})
	}
	return i.Hash(sha1.New())
}

// JID is the peer's full JID.
func (p *Peer) JID() jid.JID { return p.self }

// Features are the disco#info features the peer advertises, sorted.
func (p *Peer) Features() []string { return slices.Clone(p.features) }

// Caps is the XEP-0115 element of the peer's presence.
func (p *Peer) Caps() disco.Caps { return p.caps }

// Ready is closed once Run has sent the initial presence and fetched the
// roster: from then on the peer takes and places calls.
func (p *Peer) Ready() <-chan struct{} { return p.ready }

// Incoming delivers each incoming call (JMI propose or direct
// session-initiate) when it starts ringing. Calls that AutoAccept or Reject
// handle are delivered too. If nobody reads, calls beyond a buffer of 64
// are not delivered (they still ring).
func (p *Peer) Incoming() <-chan *Call { return p.incoming }

// Lookup returns the call with the session id sid, or nil.
func (p *Peer) Lookup(sid string) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[sid]
}

// Calls returns the calls in progress.
func (p *Peer) Calls() []*Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Call, 0, len(p.byID))
	for _, c := range p.byID {
		out = append(out, c)
	}
	return out
}

// Roster returns the roster fetched by Run, updated by roster pushes.
func (p *Peer) Roster() []RosterItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]RosterItem, 0, len(p.roster))
	for _, it := range p.roster {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b RosterItem) int {
		switch {
		case a.JID.String() < b.JID.String():
			return -1
		case a.JID.String() > b.JID.String():
			return 1
		}
		return 0
	})
	return out
}

// Stanzas returns the Jingle and JMI stanzas the peer sent or received,
// with the IQ results and errors that answer Jingle IQs, those of calls
// and those for unknown sessions alike, oldest first (the last 4096).
func (p *Peer) Stanzas() []Stanza {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.stanzas)
}

// Run serves the session until ctx is done or the stream ends: it sends
// the initial presence with caps, fetches the roster, answers pings,
// disco#info and Jingle. When ctx is done it hangs up the calls in
// progress, sends unavailable presence and closes the stream and its
// connection. It returns nil after a clean shutdown, else the error that
// ended the stream.
func (p *Peer) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	p.mu.Lock()
	p.serving = true
	p.mu.Unlock()
	served := make(chan error, 1)
	go func() { served <- p.session.Serve(handler{p: p}) }()

	setupCtx, cancelSetup := context.WithCancel(ctx)
	defer cancelSetup()
	setupDone := make(chan error, 1)
	go func() { setupDone <- p.setup(setupCtx) }()

	var err error
	serveEnded := false
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err = <-served:
			serveEnded = true
			if err == nil {
				err = ErrStreamClosed
			}
			break wait
		case e := <-setupDone:
			setupDone = nil
			if e != nil {
				err = e
				break wait
			}
			close(p.ready)
		}
	}
	cancelSetup()
	if setupDone != nil {
		<-setupDone
	}
	if serveEnded {
		served = nil
	}
	p.shutdown(served)
	if ctx.Err() != nil && !serveEnded {
		return nil
	}
	return err
}

// setup sends the initial presence and fetches the roster.
func (p *Peer) setup(ctx context.Context) error {
	pres := stanza.Presence{}.Wrap(p.caps.TokenReader())
	if err := p.sendCtx(ctx, pres); err != nil {
		return fmt.Errorf("jinglepeer: sending presence: %w", err)
	}
	res := make(chan error, 1)
	iq := stanza.IQ{ID: randomID(), Type: stanza.GetIQ}
	query := xml.StartElement{Name: xml.Name{Space: nsRoster, Local: "query"}}
	toks, err := readAll(iq.Wrap(xmlstream.Wrap(nil, query)))
	if err != nil {
		return err
	}
	err = p.sendIQ(iq.ID, jid.JID{}, toks, &pendingIQ{cb: func(reply tokens, err error) {
		if err == nil {
			p.setRoster(reply, true)
		}
		res <- err
	}})
	if err != nil {
		return fmt.Errorf("jinglepeer: fetching the roster: %w", err)
	}
	select {
	case err := <-res:
		if err != nil {
			// Not fatal: the peer works without its roster.
			p.log.Warn("fetching the roster failed", "err", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdown ends the calls, then the stream. served is nil when Serve has
// returned already.
func (p *Peer) shutdown(served chan error) {
	p.mu.Lock()
	p.serving = false
	calls := make([]*Call, 0, len(p.byID))
	for _, c := range p.byID {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, c := range calls {
		c.shutdown(served != nil)
	}
	// Every call loop ends: calls whose hangup could not be sent are
	// finished locally.
	p.calls.Wait()
	if served != nil {
		_ = p.sendCtx(ctx, stanza.Presence{Type: stanza.UnavailablePresence}.Wrap(nil))
		conn := p.session.Conn()
		_ = conn.SetWriteDeadline(time.Now().Add(shutdownTimeout))
		_ = p.session.Close()
		select {
		case <-served:
		case <-ctx.Done():
		}
		_ = conn.Close()
		if ctx.Err() != nil {
			<-served
		}
	} else {
		_ = p.session.Conn().Close()
	}
	p.failPending()
}

// addCall registers a new call, unless the peer is not serving or the sid
// is taken.
func (p *Peer) addCall(c *Call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.serving {
		return ErrNotRunning
	}
	if _, dup := p.byID[c.sid]; dup {
		return fmt.Errorf("jinglepeer: session id %q in use", c.sid)
	}
	p.byID[c.sid] = c
	p.calls.Add(1)
	go c.loop()
	return nil
}

func (p *Peer) removeCall(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID[c.sid] == c {
		delete(p.byID, c.sid)
	}
}

// Call places a call to "to" with the given media (nil means
// Config.Media). To a bare JID it proposes the call with XEP-0353 and sends
// session-initiate to the resource that proceeds; to a full JID it sends
// session-initiate directly. It returns once the propose or
// session-initiate is sent; follow the call with its events. If it fails
// after the call was created, it returns the call (ended, or being hung
// up) with the error.
func (p *Peer) Call(ctx context.Context, to jid.JID, media []string) (*Call, error) {
	if media == nil {
		media = p.cfg.Media
	}
	if err := checkMedia(media); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if len(media) == 0 {
		return nil, fmt.Errorf("%w: no media", ErrInvalidConfig)
	}
	jmi := to.Resourcepart() == ""
	if jmi && !slices.Contains(media, MediaAudio) && !slices.Contains(media, MediaVideo) {
		return nil, fmt.Errorf("%w: a JMI propose needs audio or video", ErrInvalidConfig)
	}
	c := newCall(p, randomID(), jingle.RoleInitiator, to, jmi, slices.Clone(media))
	if err := p.addCall(c); err != nil {
		return nil, err
	}
	if err := c.do(ctx, c.start); err != nil {
		// Given up (ctx) or failed: make sure the call does not go on.
		c.queue.push(func() { _ = c.hangup(jingle.ReasonCancel) })
		return c, err
	}
	return c, nil
}

// sendCtx writes a stanza.
func (p *Peer) sendCtx(ctx context.Context, r xml.TokenReader) error {
	// Not cancelled under mellium: see component.Detach.
	return p.session.Send(component.Detach(ctx, p.cfg.SendTimeout), r)
}

// send writes a stanza with the send timeout.
func (p *Peer) send(toks tokens) error {
	return p.sendCtx(context.Background(), toks.TokenReader())
}

// sendIQ writes a get or set IQ whose tokens are toks and id is id, and
// calls pend.cb once with the reply (nil tokens on error): nil error for a
// result, *IQError for an error, ErrIQTimeout, or ErrStreamClosed. cb is
// called on the handler's goroutine (or a timer's): it must not block.
func (p *Peer) sendIQ(id string, to jid.JID, toks tokens, pend *pendingIQ) error {
	pend.to = to
	p.mu.Lock()
	if !p.running.Load() {
		p.mu.Unlock()
		return ErrNotRunning
	}
	p.pending[id] = pend
	pend.timer = time.AfterFunc(p.cfg.IQTimeout, func() { p.resolveIQ(id, nil, nil, ErrIQTimeout) })
	p.mu.Unlock()
	if err := p.send(toks); err != nil {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		pend.timer.Stop()
		return err
	}
	return nil
}

// resolveIQ completes the pending IQ id. from, when not nil, must be the
// address the IQ went to (an empty from stands for our own account, which
// answers IQs sent without to).
func (p *Peer) resolveIQ(id string, from *jid.JID, reply tokens, err error) bool {
	p.mu.Lock()
	pend := p.pending[id]
	if pend == nil || (from != nil && !p.answersTo(*from, pend.to)) {
		p.mu.Unlock()
		return false
	}
	delete(p.pending, id)
	p.mu.Unlock()
	pend.timer.Stop()
	if pend.action != "" && reply != nil {
		s := stanzaOf(In, reply)
		s.Action, s.SID = pend.action, pend.sid
		if s.IsError() {
			s.Condition = errorCondition(reply)
		}
		p.logStanza(pend.call, s)
	}
	pend.cb(reply, err)
	return true
}

func (p *Peer) answersTo(from, to jid.JID) bool {
	if to.String() == "" {
		return from.String() == "" || from.Equal(p.self.Bare()) || from.Equal(p.self.Domain())
	}
	return from.Equal(to)
}

// failPending ends every pending IQ with ErrStreamClosed.
func (p *Peer) failPending() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.pending))
	for id := range p.pending {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.resolveIQ(id, nil, nil, ErrStreamClosed)
	}
}

// logStanza records a Jingle/JMI stanza in the peer's log and, if c is not
// nil, the call's.
func (p *Peer) logStanza(c *Call, s Stanza) {
	p.mu.Lock()
	p.stanzas = appendBounded(p.stanzas, s, maxStanzaLog)
	p.mu.Unlock()
	if c != nil {
		c.logStanza(s)
	}
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug("stanza "+s.Dir.String(), "xml", s.XML)
	}
}

// setRoster records the items of a roster result (replace) or push.
func (p *Peer) setRoster(toks tokens, replace bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if replace {
		p.roster = map[string]RosterItem{}
	}
	for _, t := range toks {
		se, ok := t.(xml.StartElement)
		if !ok || se.Name.Space != nsRoster || se.Name.Local != "item" {
			continue
		}
		var it RosterItem
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "jid":
				j, err := jid.Parse(a.Value)
				if err != nil {
					continue
				}
				it.JID = j
			case "name":
				it.Name = a.Value
			case "subscription":
				it.Subscription = a.Value
			}
		}
		if it.JID.String() == "" {
			continue
		}
		if it.Subscription == "remove" {
			delete(p.roster, it.JID.String())
			continue
		}
		p.roster[it.JID.String()] = it
	}
}

// appendBounded appends v, dropping the oldest entries beyond max.
func appendBounded[T any](s []T, v T, limit int) []T {
	if len(s) >= limit {
		s = slices.Delete(s, 0, len(s)-limit+1)
	}
	return append(s, v)
}

// randomID returns an unguessable id for stanzas and sessions.
func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
