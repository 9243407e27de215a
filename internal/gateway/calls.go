package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/presence"
	"github.com/jinglegate/jinglegate/internal/wsapi"
	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// Call timing defaults.
const (
	DefaultRingTimeout = 45 * time.Second
	DefaultIQTimeout   = 30 * time.Second
)

// jmiState is where a call stands in XEP-0353.
type jmiState int

const (
	jmiNone      jmiState = iota // plain Jingle
	jmiProposed                  // propose sent or received
	jmiProceeded                 // proceed sent or received
)

// call is one call between a web user and an XMPP peer.
type call struct {
	sid      string
	user     string
	outgoing bool
	role     jingle.Role // the web user's role: initiator for outgoing calls
	media    []string

	local jid.JID // the web user's address in this call (the tab's full JID once bound)
	peer  jid.JID // the peer: bare while an outgoing propose is unanswered, then full

	jmi   jmiState
	state jingle.SessionState
	neg   jingle.Negotiation

	tab     *wsapi.Tab   // the tab in the call; nil while an incoming call rings
	ringing []*wsapi.Tab // tabs an incoming call rings on

	localSDP, remoteSDP *sdp.SessionDescription
	// initiateSent: session-initiate (outgoing) or session-accept
	// (incoming) has been written; candidates can follow.
	initiateSent bool
	// pendingLocal: browser candidates waiting for initiateSent.
	pendingLocal []sdpxlate.ICECandidate
	// early: browser candidates of a local description we do not have
	// yet (a restart's candidates can overtake its offer).
	early []sdpxlate.ICECandidate
	// offerSent: the browser has the remote offer (incoming calls);
	// pendingRemote: remote candidates waiting for it.
	offerSent     bool
	pendingRemote []sdpxlate.ICECandidate
	// offersOut has an entry for each offer sent to the browser that it
	// has not answered yet, in order (a browser answers offers in the
	// order they came): the peer's content-add or transport-replace it
	// came from, or nil (the peer's session-initiate, restart or
	// content-modify).
	offersOut []*jingle.Jingle
	// offer holds an incoming session-initiate until the browser accepts.
	offer *jingle.Jingle
	// renegotiating: the browser sent a new offer; awaitingAnswer: the
	// remote answer (content-accept or restart transport-info) it waits
	// for.
	awaitingAnswer bool
	// awaitingRestart: the pending browser offer is an ICE restart (its
	// answer is the peer's transport-info with new credentials);
	// offerUnacked counts its requests the peer has not acknowledged yet:
	// a restart of the peer's arriving meanwhile crossed ours (glare).
	awaitingRestart bool
	offerUnacked    int
	// offerGen counts the browser's renegotiation offers: the answers to
	// an older one's requests (late acknowledgements and errors) must not
	// touch a newer one.
	offerGen uint64
	// retryAdd is the browser's content-add that superseded a peer's offer:
	// a peer that still counts its own as pending refuses it (tie-break),
	// and it is sent again once, after the decline of the peer's.
	retryAdd *jingle.Jingle
	// prevLocal is the browser's description before its pending
	// renegotiation offer, restored when that offer loses a tie-break
	// (the polite browser rolls it back).
	prevLocal *sdp.SessionDescription
	// peerOffer is the peer's pending content-add (or transport-replace),
	// from the moment it is acknowledged until the browser answers it (the
	// answer to the offersOut entry that is it); prevRemote: the
	// remote description before it, restored when the initiator's own
	// offer supersedes it.
	peerOffer  *jingle.Jingle
	prevRemote *sdp.SessionDescription
	// peerOfferTimer declines peerOffer if the browser never answers it
	// (it could not apply it, or is gone without closing).
	peerOfferTimer *time.Timer
	// peerSetup is the DTLS role of the peer ("active" or "passive") once
	// the first answer settled it; answers built for the browser keep it.
	peerSetup string
	timer     *time.Timer
	ringSent  bool
	ended     bool
}

// callKey names a call in the bridge: sids are chosen by the caller, so two
// web users of the gateway (one calling the other through the XMPP server)
// share one.
func callKey(user, sid string) string { return user + "\x00" + sid }

func (c *call) key() string { return callKey(c.user, c.sid) }

func (c *call) creators() map[string]jingle.Role {
	m := map[string]jingle.Role{}
	for _, sd := range []*sdp.SessionDescription{c.localSDP, c.remoteSDP} {
		if sd == nil {
			continue
		}
		for _, md := range sd.MediaDescriptions {
			if mid, ok := md.Attribute("mid"); ok {
				if _, seen := m[mid]; !seen {
					m[mid] = jingle.RoleInitiator
				}
			}
		}
	}
	return m
}

func (c *call) initiator() jid.JID {
	if c.role == jingle.RoleInitiator {
		return c.local
	}
	return c.peer
}

func (c *call) responder() jid.JID {
	if c.role == jingle.RoleInitiator {
		return c.peer
	}
	return c.local
}

func (c *call) polite() *bool {
	// The callee is the polite peer of perfect negotiation.
	p := !c.outgoing
	return &p
}

// bridge owns the calls.
type bridge struct {
	g           *Gateway
	log         *slog.Logger
	ringTimeout time.Duration
	iqTimeout   time.Duration

	mu    sync.Mutex
	calls map[string]*call // by callKey(user, sid)

	work chan func(context.Context)
}

func newBridge(g *Gateway, log *slog.Logger) *bridge {
	return &bridge{g: g, log: log.With("part", "calls"), ringTimeout: DefaultRingTimeout, iqTimeout: DefaultIQTimeout,
		calls: map[string]*call{}, work: make(chan func(context.Context), 4096)}
}

// run executes work queued by the stanza handlers, in order.
func (b *bridge) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-b.work:
			f(ctx)
		}
	}
}

func (b *bridge) enqueue(what string, f func(context.Context)) {
	select {
	case b.work <- f:
	default:
		b.log.Error("call queue full: work dropped", "what", what)
	}
}

func newSID() string {
	var x [12]byte
	_, _ = rand.Read(x[:])
	return hex.EncodeToString(x[:])
}

func wsErr(code wsapi.Code, sid, format string, args ...any) *wsapi.Error {
	e := wsapi.Errorf(code, format, args...)
	e.SID = sid
	return e
}

// --- sending ---------------------------------------------------------------

// sendJMI sends an XEP-0353 message about c.
func (b *bridge) sendJMI(ctx context.Context, c *call, to jid.JID, j jingle.JMI, extra ...xmlTokens) {
	b.mu.Lock()
	from := c.local
	b.mu.Unlock()
	msg := jingle.Message{Message: stanza.Message{From: from, To: to, Type: stanza.ChatMessage}, JMI: j}
	if j.Kind == jingle.JMIPropose {
		msg.ID = "jm-propose-" + c.sid
	} else {
		msg.ID = "jm-" + j.Kind.String() + "-" + c.sid
	}
	if len(extra) == 0 {
		// XEP-0353 §3: every call message carries a store hint, so the
		// peer's other devices and its archive see the whole call.
		extra = []xmlTokens{storeHint()}
	}
	r := msg.Message.Wrap(xmlstream.MultiReader(append([]xmlTokens{j.TokenReader()}, extra...)...))
	if err := b.g.Link.Send(ctx, r); err != nil {
		b.log.Warn("sending call message failed", "sid", c.sid, "kind", j.Kind, "err", err)
	}
}

// sendJingle sends a Jingle IQ for c; failure calls onErr on its own
// goroutine (nil onErr: jingleFailed).
func (b *bridge) sendJingle(ctx context.Context, c *call, j *jingle.Jingle, onErr func(error)) {
	b.sendJingleThen(ctx, c, j, nil, onErr)
}

// sendJingleThen is sendJingle with onOK called when the peer acknowledges,
// before the stanzas that follow the acknowledgement are handled (it must be
// quick and must not send).
func (b *bridge) sendJingleThen(ctx context.Context, c *call, j *jingle.Jingle, onOK func(), onErr func(error)) {
	b.mu.Lock()
	j.SID = c.sid
	j.Initiator = c.initiator().String()
	if j.Action == jingle.ActionSessionAccept {
		j.Responder = c.responder().String()
	}
	iq := stanza.IQ{Type: stanza.SetIQ, From: c.local, To: c.peer}
	b.mu.Unlock()
	if b.log.Enabled(ctx, slog.LevelDebug) {
		var names []string
		for _, ct := range j.Contents {
			u := ""
			if ct.Transport != nil {
				u = ct.Transport.Ufrag
			}
			names = append(names, ct.Name+"/"+u)
		}
		b.log.Debug("jingle sent", "sid", c.sid, "action", j.Action, "contents", names)
	}
	action := j.Action
	var ordered func(error)
	if onOK != nil {
		// In order with the stanzas that follow the acknowledgement.
		ordered = func(err error) {
			if err == nil {
				onOK()
			}
		}
	}
	err := b.g.Link.SendIQAsyncOrdered(ctx, iq, j.TokenReader(), b.iqTimeout, ordered, func(err error) {
		if err == nil {
			return
		}
		b.log.Info("jingle request failed", "sid", c.sid, "action", action, "err", err)
		if onErr != nil {
			onErr(err)
			return
		}
		b.jingleFailed(c, action, err)
	})
	if err != nil {
		b.log.Warn("sending jingle failed", "sid", c.sid, "action", action, "err", err)
		if action != jingle.ActionSessionTerminate {
			go b.end(context.Background(), c.key(), jingle.ReasonConnectivityError, "the XMPP link is down", false)
		}
	}
}

// jingleFailed ends c after the peer refused (or never answered) a request
// whose failure leaves the session unusable.
func (b *bridge) jingleFailed(c *call, action jingle.Action, err error) {
	if action == jingle.ActionSessionTerminate {
		return
	}
	var se stanza.Error
	isStanzaErr := errors.As(err, &se)
	if action == jingle.ActionSessionInitiate && isStanzaErr && se.Condition == stanza.Conflict {
		// XEP-0166 glare: the peer's own session-initiate (the lower
		// sid) wins and replaces this call when it arrives; if it never
		// does, the ring timer ends the call.
		b.log.Info("session-initiate lost a tie-break: waiting for the peer's", "sid", c.sid)
		return
	}
	reason := jingle.ReasonFailedApplication
	if errors.Is(err, errIQTimeout()) {
		reason = jingle.ReasonTimeout
	}
	if isStanzaErr && (se.Condition == stanza.ServiceUnavailable || se.Condition == stanza.RecipientUnavailable || se.Condition == stanza.ItemNotFound) {
		reason = jingle.ReasonGone
	}
	b.end(context.Background(), c.key(), reason, fmt.Sprintf("%s refused: %v", action, err), false)
}

// sendRestart sends one transport-info of the browser's ICE restart. The
// peer's tie-break error means its own restart crossed ours and won (it is
// the initiator): the polite browser takes the peer's offer instead.
func (b *bridge) sendRestart(ctx context.Context, c *call, j *jingle.Jingle, gen uint64) {
	b.sendJingleThen(ctx, c, j, func() { b.offerAcked(c, gen) }, func(err error) {
		b.offerAcked(c, gen)
		var se stanza.Error
		if errors.As(err, &se) && se.Condition == stanza.Conflict && c.role == jingle.RoleResponder {
			b.mu.Lock()
			current := c.offerGen == gen && !c.ended
			if current {
				b.yieldLocked(c)
			}
			b.mu.Unlock()
			if current {
				b.log.Info("ICE restart glare: the initiator's restart wins", "sid", c.sid)
			}
			return
		}
		b.jingleFailed(c, jingle.ActionTransportInfo, err)
	})
}

// offerAcked counts one acknowledged request of the browser's offer gen
// (nothing if a newer offer replaced it).
func (b *bridge) offerAcked(c *call, gen uint64) {
	b.mu.Lock()
	if c.offerGen == gen && c.offerUnacked > 0 {
		c.offerUnacked--
	}
	b.mu.Unlock()
}

// --- ending ----------------------------------------------------------------

// end finishes the call sid: tells the browser (unless fromBrowser), tells
// the peer what the state requires (unless the peer ended it), and forgets
// the call.
func (b *bridge) end(ctx context.Context, k string, reason jingle.ReasonCondition, text string, fromPeer bool) {
	b.mu.Lock()
	c := b.calls[k]
	if c == nil || c.ended {
		b.mu.Unlock()
		return
	}
	c.ended = true
	delete(b.calls, k)
	sid := c.sid
	b.stopTimerLocked(c)
	clearPeerOfferLocked(c)
	tabs := slices.Clone(c.ringing)
	if c.tab != nil && !slices.Contains(tabs, c.tab) {
		tabs = append(tabs, c.tab)
	}
	state, jmi, peer, outgoing := c.state, c.jmi, c.peer, c.outgoing
	b.mu.Unlock()

	b.log.Info("call ended", "sid", sid, "reason", reason, "text", text, "by_peer", fromPeer)
	for _, t := range tabs {
		_ = t.Send(wsapi.Hangup{SID: sid, Reason: reason.String(), Text: text})
	}
	if fromPeer {
		return
	}
	r := &jingle.Reason{Condition: reason, Text: text}
	switch {
	case state == jingle.StatePending || state == jingle.StateActive:
		b.sendJingle(ctx, c, &jingle.Jingle{Action: jingle.ActionSessionTerminate, Reason: r}, nil)
		if jmi != jmiNone && state == jingle.StateActive {
			b.sendJMI(ctx, c, peer, jingle.JMI{Kind: jingle.JMIFinish, ID: sid, Reason: r})
		}
	case jmi == jmiProposed && outgoing:
		b.sendJMI(ctx, c, peer.Bare(), jingle.JMI{Kind: jingle.JMIRetract, ID: sid, Reason: r})
	case jmi == jmiProposed && !outgoing:
		b.sendJMI(ctx, c, peer, jingle.JMI{Kind: jingle.JMIReject, ID: sid, Reason: r})
	case jmi == jmiProceeded && outgoing:
		// Proceeded but no session-initiate yet: retract.
		b.sendJMI(ctx, c, peer, jingle.JMI{Kind: jingle.JMIRetract, ID: sid, Reason: r})
	case jmi == jmiProceeded:
		b.sendJMI(ctx, c, peer, jingle.JMI{Kind: jingle.JMIFinish, ID: sid, Reason: r})
	}
}

// endTab ends every call of a tab whose session is over.
func (b *bridge) endTab(t *wsapi.Tab) {
	b.mu.Lock()
	var sids []string
	for sid, c := range b.calls {
		if c.tab == t {
			sids = append(sids, sid)
			continue
		}
		if i := slices.Index(c.ringing, t); i >= 0 {
			c.ringing = slices.Delete(c.ringing, i, i+1)
			if len(c.ringing) == 0 && c.tab == nil {
				sids = append(sids, sid)
			}
		}
	}
	b.mu.Unlock()
	for _, sid := range sids {
		b.end(context.Background(), sid, jingle.ReasonGone, "the web user left", false)
	}
}

// peerGone ends web user user's calls with a peer resource that went
// offline (a bare JID: every resource). The unavailable presence was
// addressed to that user; other users' calls with the peer end when their
// own copy comes.
func (b *bridge) peerGone(user string, full jid.JID) {
	b.mu.Lock()
	var sids []string
	for sid, c := range b.calls {
		if c.user != user {
			continue
		}
		if c.peer.Equal(full) || (full.Resourcepart() == "" && c.peer.Bare().Equal(full)) {
			sids = append(sids, sid)
		}
	}
	b.mu.Unlock()
	for _, sid := range sids {
		b.end(context.Background(), sid, jingle.ReasonGone, "the peer went offline", true)
	}
}

// armRingTimer starts c's ring timer; b.mu is held.
func (b *bridge) armRingTimer(c *call) {
	b.armTimerLocked(c, b.ringTimeout, jingle.ReasonTimeout, "no answer")
}

// armTimerLocked replaces c's timer with one that ends c after d, unless
// it has been replaced or stopped by then (a timer that fired while the
// call moved on must not end it). b.mu is held.
func (b *bridge) armTimerLocked(c *call, d time.Duration, reason jingle.ReasonCondition, text string) {
	if c.timer != nil {
		c.timer.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		b.mu.Lock()
		live := c.timer == t && !c.ended
		b.mu.Unlock()
		if live {
			b.end(context.Background(), c.key(), reason, text, false)
		}
	})
	c.timer = t
}

// stopTimerLocked stops c's timer for good; b.mu is held.
func (b *bridge) stopTimerLocked(c *call) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

func (b *bridge) get(user, sid string) *call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[callKey(user, sid)]
}

// --- browser side ------------------------------------------------------------

// handleBrowser serves a call message from a tab. It runs on the tab's
// goroutine, outside the XMPP Serve loop, so it may send.
func (b *bridge) handleBrowser(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error {
	switch m.Type {
	case wsapi.TypeCall:
		return b.startCall(ctx, t, m)
	}
	c := b.get(t.User(), m.SID)
	if c == nil || c.user != t.User() || (c.tab != nil && c.tab != t) || (c.tab == nil && !slices.Contains(c.ringing, t)) {
		return wsErr(wsapi.CodeNotFound, m.SID, "%s: no call %q on this tab", m.Type, m.SID)
	}
	switch m.Type {
	case wsapi.TypeAccept:
		return b.accept(ctx, t, c)
	case wsapi.TypeReject:
		reason := jingle.ReasonDecline
		if r, err := jingle.ParseReasonCondition(m.Reason); err == nil {
			reason = r
		}
		b.end(ctx, c.key(), reason, m.Text, false)
		t.ReleaseSID(c.sid)
		return nil
	case wsapi.TypeHangup:
		reason := jingle.ReasonSuccess
		if r, err := jingle.ParseReasonCondition(m.Reason); err == nil {
			reason = r
		} else if m.Reason != "" {
			reason = jingle.ReasonGeneralError
		}
		if c.state == jingle.StateNone && reason == jingle.ReasonSuccess {
			reason = jingle.ReasonCancel
		}
		b.mu.Lock()
		c.ringing = slices.DeleteFunc(c.ringing, func(x *wsapi.Tab) bool { return x == t })
		b.mu.Unlock()
		b.end(ctx, c.key(), reason, m.Text, false)
		return nil
	case wsapi.TypeOffer:
		return b.browserOffer(ctx, t, c, m)
	case wsapi.TypeAnswer:
		return b.browserAnswer(ctx, t, c, m)
	case wsapi.TypeICECandidate:
		return b.browserCandidate(ctx, c, m)
	case wsapi.TypeSessionInfo:
		return b.browserSessionInfo(ctx, c, m)
	}
	return wsErr(wsapi.CodeBadRequest, m.SID, "%s is not a call message", m.Type)
}

func (b *bridge) startCall(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error {
	to := m.To
	if to.Localpart() == "" && to.Domainpart() != b.g.domain.Domainpart() {
		return wsErr(wsapi.CodeBadRequest, m.SID, "call: %s is a server, not a user", to)
	}
	if to.Bare().Equal(t.JID().Bare()) {
		return wsErr(wsapi.CodeBadRequest, m.SID, "call: you cannot call yourself")
	}
	if !b.g.Presence.Allowed(ctx, t.User(), to) {
		return wsErr(wsapi.CodeForbidden, m.SID, "call: the call policy does not allow calling %s (add them to your roster first)", to.Bare())
	}
	if !b.g.Link.Ready() {
		return wsErr(wsapi.CodeUnavailable, m.SID, "call: the XMPP server is not reachable right now")
	}
	useJMI := to.Resourcepart() == ""
	if !useJMI {
		if caps, ok := b.g.Presence.Caps(to); ok && caps.Has(presence.NSJingleMsg) {
			useJMI = true
		}
	}
	c := &call{sid: m.SID, user: t.User(), outgoing: true, role: jingle.RoleInitiator, media: m.Media,
		local: t.JID(), peer: to, tab: t}
	if useJMI {
		c.jmi = jmiProposed
	}
	b.mu.Lock()
	if _, dup := b.calls[c.key()]; dup {
		b.mu.Unlock()
		return wsErr(wsapi.CodeConflict, m.SID, "call: sid %q is in use", m.SID)
	}
	b.calls[c.key()] = c
	b.armRingTimer(c)
	b.mu.Unlock()

	if useJMI {
		var descs []jingle.Description
		for _, md := range m.Media {
			descs = append(descs, jingle.Description{Media: md})
		}
		b.sendJMI(ctx, c, to, jingle.JMI{Kind: jingle.JMIPropose, ID: c.sid, Descriptions: descs}, receiptAndStore()...)
		return nil
	}
	// A full JID without JMI: straight to Jingle; the browser makes its
	// offer now.
	return t.Send(wsapi.Proceeding{SID: c.sid, Polite: c.polite()})
}

func (b *bridge) accept(ctx context.Context, t *wsapi.Tab, c *call) error {
	b.mu.Lock()
	if c.ended {
		b.mu.Unlock()
		return wsErr(wsapi.CodeNotFound, c.sid, "accept: the call has ended")
	}
	if c.outgoing || c.tab != nil {
		b.mu.Unlock()
		return wsErr(wsapi.CodeConflict, c.sid, "accept: the call is already answered")
	}
	c.tab = t
	c.local = t.JID()
	others := slices.DeleteFunc(slices.Clone(c.ringing), func(x *wsapi.Tab) bool { return x == t })
	c.ringing = nil
	b.stopTimerLocked(c)
	offer := c.offer
	jmi := c.jmi
	if jmi == jmiProposed {
		c.jmi = jmiProceeded
		// The caller's session-initiate must follow; a caller that
		// vanishes without a word must not leave the call hanging.
		b.armTimerLocked(c, b.ringTimeout, jingle.ReasonTimeout, "the caller did not start the session after proceed")
	}
	b.mu.Unlock()
	for _, o := range others {
		_ = o.Send(wsapi.Hangup{SID: c.sid, Reason: wsapi.ReasonAnsweredElsewhere})
	}
	if jmi == jmiProposed {
		b.sendJMI(ctx, c, c.peer, jingle.JMI{Kind: jingle.JMIProceed, ID: c.sid})
		// The caller now sends session-initiate to this tab's JID.
		return nil
	}
	if offer != nil {
		return b.deliverOffer(c, offer)
	}
	return nil
}

// deliverOffer gives the browser the remote offer of an incoming call.
func (b *bridge) deliverOffer(c *call, j *jingle.Jingle) error {
	sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{Role: jingle.RoleInitiator, Type: sdpxlate.SDPTypeOffer})
	if err != nil {
		b.end(context.Background(), c.key(), jingle.ReasonFailedApplication, "the offer could not be translated: "+err.Error(), false)
		return nil
	}
	text, err := sdpxlate.MarshalSDP(sd)
	if err != nil {
		b.end(context.Background(), c.key(), jingle.ReasonFailedApplication, "the offer could not be written: "+err.Error(), false)
		return nil
	}
	b.mu.Lock()
	c.remoteSDP = sd
	c.offerSent = true
	pending := c.pendingRemote
	c.pendingRemote = nil
	tab := c.tab
	_ = tab.OwnSID(c.sid)
	err = b.sendOfferLocked(c, text, nil)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for _, pc := range pending {
		_ = tab.Send(candidateMsg(c.sid, pc))
	}
	return nil
}

// sendOfferLocked sends the browser an offer of the peer's, remembered until
// the browser answers it. b.mu is held, so that the offer
// and that record go together.
func (b *bridge) sendOfferLocked(c *call, text string, from *jingle.Jingle) error {
	if c.tab == nil {
		return wsapi.ErrNoTab
	}
	c.offerSent = true
	c.offersOut = append(c.offersOut, from)
	return c.tab.Send(wsapi.Offer{SID: c.sid, SDP: text, Polite: c.polite()})
}

func candidateMsg(sid string, pc sdpxlate.ICECandidate) wsapi.Candidate {
	mid := pc.SDPMid
	cand := wsapi.ICECandidate{Candidate: pc.Candidate, SDPMid: &mid, SDPMLineIndex: pc.SDPMLineIndex}
	if pc.UsernameFragment != "" {
		u := pc.UsernameFragment
		cand.UsernameFragment = &u
	}
	return wsapi.Candidate{SID: sid, Candidate: cand}
}

func (b *bridge) browserOffer(ctx context.Context, t *wsapi.Tab, c *call, m *wsapi.Message) error {
	b.mu.Lock()
	state, jmi, outgoing := c.state, c.jmi, c.outgoing
	b.mu.Unlock()
	if state == jingle.StateNone {
		if !outgoing || (jmi == jmiProposed) {
			return wsErr(wsapi.CodeConflict, c.sid, "offer: wait for proceeding before sending the offer")
		}
		if sdpHasNoDTLS(m.Description) {
			return wsErr(wsapi.CodeBadRequest, c.sid, "offer: the SDP has no DTLS fingerprint")
		}
		return b.startSession(ctx, c, m, jingle.ActionSessionInitiate, jingle.RoleInitiator)
	}
	// A new offer in a live session: renegotiation.
	b.mu.Lock()
	old := c.localSDP
	if e := b.offerBlockedLocked(c); e != nil {
		b.mu.Unlock()
		return e
	}
	creators := c.creators()
	b.mu.Unlock()
	msgs, err := sdpxlate.Diff(old, m.Description, sdpxlate.ToJingleOptions{Role: c.role, SID: c.sid, Creators: creators})
	if err != nil {
		return wsErr(wsapi.CodeBadRequest, c.sid, "offer: %v", err)
	}
	// A browser's re-offer lists codecs again (often fewer, after the
	// first answer): that is no news for the peer, and many Jingle
	// clients do not take description-info. Only structural changes and
	// ICE restarts go out.
	msgs = slices.DeleteFunc(msgs, func(j *jingle.Jingle) bool { return j.Action == jingle.ActionDescriptionInfo })
	needAnswer := false
	for _, j := range msgs {
		if j.Action == jingle.ActionContentAdd || (j.Action == jingle.ActionTransportInfo) {
			needAnswer = true
		}
	}
	b.mu.Lock()
	if e := b.offerBlockedLocked(c); e != nil || c.localSDP != old {
		// The peer's offer came while this one was being translated.
		b.mu.Unlock()
		if e == nil {
			e = wsErr(wsapi.CodeConflict, c.sid, "offer: the session changed meanwhile: offer again")
		}
		return e
	}
	var superseded *jingle.Jingle
	if c.peerOffer != nil { // (offerBlockedLocked refused the polite browser's offer)
		// The initiator's browser offers while the peer's content-add
		// (or transport-replace) waits for its answer: the browser,
		// impolite, ignored the offer that became, and the initiator's
		// offer wins (XEP-0166: a responder receiving our content-add
		// while its own is pending yields, as this gateway does). The
		// peer's is forgotten here, and declined after ours is sent.
		// (What came since it, an ICE restart of the peer's, stays.)
		superseded = c.peerOffer
		forgetPeerOfferLocked(c)
		c.offersOut = nil // it ignored them all
	}
	if needAnswer {
		c.prevLocal = old
	}
	c.localSDP = m.Description
	c.awaitingAnswer = needAnswer
	c.awaitingRestart, c.offerUnacked = false, 0
	c.offerGen++
	gen := c.offerGen
	var add *jingle.Jingle // the offer's content-add, if any
	for _, j := range msgs {
		if j.Action == jingle.ActionContentAdd {
			add = j
		}
	}
	c.retryAdd = nil
	if superseded != nil {
		c.retryAdd = add
	}
	for _, j := range msgs {
		switch j.Action {
		case jingle.ActionTransportInfo:
			c.awaitingRestart = true
			c.offerUnacked += len(oneContentEach(j))
		case jingle.ActionContentAdd:
			c.offerUnacked++
		}
	}
	for _, j := range msgs {
		tr := jingle.Next(c.state, c.neg, c.role, j.Action)
		if tr.Cond == jingle.CondUnknown && !tr.FeatureNotImplemented {
			c.state, c.neg = tr.State, tr.Neg
		}
	}
	remote := c.remoteSDP
	b.mu.Unlock()
	// The decline of a superseded peer offer follows the browser's
	// content-add (the peer yields its own when ours comes, keeping what it
	// offered for later), or comes first when the browser offers no
	// content-add: a restart alone is no negotiation, and a peer that sees
	// its content-add still pending might refuse it.
	declineFirst := superseded != nil && add == nil
	if declineFirst {
		b.declineSuperseded(ctx, c, superseded)
	}
	for _, j := range msgs {
		if j.Action == jingle.ActionContentAdd {
			b.sendJingleThen(ctx, c, j, func() { b.offerAcked(c, gen) }, func(err error) { b.offerRefused(c, j, err, gen) })
			continue
		}
		if j.Action == jingle.ActionTransportInfo {
			for _, one := range oneContentEach(j) {
				b.sendRestart(ctx, c, one, gen)
			}
			continue
		}
		b.sendJingle(ctx, c, j, nil)
	}
	if superseded != nil && !declineFirst {
		b.declineSuperseded(ctx, c, superseded)
	}
	b.flushEarly(ctx, c)
	if !needAnswer {
		// Nothing the peer answers: the answer is the remote description
		// with the same changes applied, described from the peer's side
		// (content-modify senders seen by the peer; AnswerFor narrows what
		// the peer never said).
		ans := remote
		for _, j := range msgs {
			if next, err := sdpxlate.Apply(ans, j, sdpxlate.ToSDPOptions{Role: c.role.Other(), Type: sdpxlate.SDPTypeAnswer, Offer: m.Description}); err == nil {
				ans = next
			}
		}
		return b.sendAnswer(c, ans)
	}
	return nil
}

// declineSuperseded refuses the peer's offer j, which the initiator's
// browser superseded (see browserOffer).
func (b *bridge) declineSuperseded(ctx context.Context, c *call, j *jingle.Jingle) {
	b.log.Info("renegotiation glare: the initiator's offer supersedes the peer's", "sid", c.sid, "action", j.Action)
	// A peer that yielded already answers out-of-order: no matter.
	b.sendJingle(ctx, c, refusalOf(j, jingle.ReasonDecline, "glare: the initiator's offer wins"), func(error) {})
}

// refusalOf returns the refusal of the peer's content-add or
// transport-replace j: content-reject or transport-reject of its contents.
func refusalOf(j *jingle.Jingle, cond jingle.ReasonCondition, text string) *jingle.Jingle {
	rej := &jingle.Jingle{Action: jingle.ActionContentReject, Reason: &jingle.Reason{Condition: cond, Text: text}}
	if j.Action == jingle.ActionTransportReplace {
		rej.Action = jingle.ActionTransportReject
	}
	for _, ct := range j.Contents {
		rej.Contents = append(rej.Contents, jingle.Content{Creator: ct.Creator, Name: ct.Name})
	}
	return rej
}

// forgetPeerOfferLocked drops the peer's pending offer from the call's
// state: its contents leave the remote description, and its negotiation
// ends as refused. b.mu is held.
func forgetPeerOfferLocked(c *call) {
	if c.peerOffer == nil {
		return
	}
	if c.prevRemote != nil {
		c.remoteSDP = sdpxlate.Revert(c.remoteSDP, c.prevRemote, c.peerOffer)
	}
	refusal := refusalOf(c.peerOffer, jingle.ReasonDecline, "").Action
	clearPeerOfferLocked(c)
	if tr := jingle.Next(c.state, c.neg, c.role, refusal); tr.Cond == jingle.CondUnknown {
		c.state, c.neg = tr.State, tr.Neg
	} else {
		c.neg = jingle.Negotiation{}
	}
}

// offerBlockedLocked returns the error that refuses a browser's renegotiation
// offer now, or nil. b.mu is held.
func (b *bridge) offerBlockedLocked(c *call) *wsapi.Error {
	if c.awaitingAnswer {
		return wsErr(wsapi.CodeConflict, c.sid, "offer: the previous renegotiation is not answered yet")
	}
	if *c.polite() && (c.peerOffer != nil || len(c.offersOut) > 0) {
		// The peer's offer came first, and the polite browser rolls its
		// own back when that offer reaches it (the impolite one ignores
		// it: see browserOffer).
		return wsErr(wsapi.CodeConflict, c.sid, "offer: the peer's offer is pending and wins: answer it, then offer again")
	}
	return nil
}

// yieldLocked gives up the browser's pending offer after the peer's won
// the tie-break: the polite browser rolls its offer back when the peer's
// arrives, so the gateway forgets it too. b.mu is held.
func (b *bridge) yieldLocked(c *call) {
	if c.neg.Pending != jingle.ActionUnknown && c.neg.By == c.role {
		c.neg = jingle.Negotiation{}
	}
	if c.awaitingAnswer && c.prevLocal != nil {
		c.localSDP = c.prevLocal
	}
	c.awaitingAnswer, c.prevLocal = false, nil
	c.awaitingRestart, c.offerUnacked = false, 0
}

// offerRefused handles an error reply to the browser's content-add. A
// tie-break lost to the initiator's content-add: the peer's offer follows
// (or came first) and the polite browser rolls its own back. Anything else
// but a timeout or a vanished peer refuses only the new contents: the
// browser gets an answer that rejects them, and the call goes on.
func (b *bridge) offerRefused(c *call, j *jingle.Jingle, err error, gen uint64) {
	var se stanza.Error
	isStanzaErr := errors.As(err, &se)
	gone := isStanzaErr && (se.Condition == stanza.ServiceUnavailable || se.Condition == stanza.RecipientUnavailable || se.Condition == stanza.ItemNotFound)
	if !isStanzaErr || gone {
		reason := jingle.ReasonFailedApplication
		if errors.Is(err, errIQTimeout()) {
			reason = jingle.ReasonTimeout
		} else if gone {
			reason = jingle.ReasonGone
		}
		b.end(context.Background(), c.key(), reason, fmt.Sprintf("%s refused: %v", j.Action, err), false)
		return
	}
	b.mu.Lock()
	if c.ended || c.offerGen != gen {
		// Ended, or the browser has made a newer offer since.
		b.mu.Unlock()
		return
	}
	if se.Condition == stanza.Conflict && c.role == jingle.RoleResponder {
		b.yieldLocked(c)
		b.mu.Unlock()
		b.log.Info("renegotiation glare: the initiator's offer wins", "sid", c.sid)
		return
	}
	if se.Condition == stanza.Conflict && c.retryAdd == j {
		// The peer took our content-add for a glare with its own, which
		// we superseded; the decline of that one went out after ours, so
		// ours, sent again now, comes after it.
		c.retryAdd = nil
		c.offerUnacked++
		b.mu.Unlock()
		b.log.Info("the peer refused the content-add that superseded its own: sent again after the decline", "sid", c.sid)
		b.sendJingleThen(context.Background(), c, j, func() { b.offerAcked(c, gen) }, func(err error) { b.offerRefused(c, j, err, gen) })
		return
	}
	if !c.awaitingAnswer {
		b.mu.Unlock()
		return
	}
	c.neg = jingle.Negotiation{}
	remote := c.remoteSDP
	b.mu.Unlock()
	b.log.Info("content-add refused: answering the browser with the new contents rejected", "sid", c.sid, "err", err)
	_ = b.sendAnswer(c, remote)
}

// startSession sends the browser's first description as session-initiate
// (its offer) or session-accept (its answer), then the candidates that
// waited for it.
func (b *bridge) startSession(ctx context.Context, c *call, m *wsapi.Message, a jingle.Action, role jingle.Role) error {
	j, err := sdpxlate.SDPToJingle(m.Description, sdpxlate.ToJingleOptions{Action: a, Role: role, SID: c.sid})
	if err != nil {
		return wsErr(wsapi.CodeBadRequest, c.sid, "%s: %v", m.Type, err)
	}
	b.mu.Lock()
	tr := jingle.Next(c.state, c.neg, role, a)
	c.state, c.neg = tr.State, tr.Neg
	c.localSDP = m.Description
	if a == jingle.ActionSessionAccept {
		// The browser chose its DTLS role; the peer has the other one.
		switch setupOf(m.Description) {
		case "active":
			c.peerSetup = "passive"
		case "passive":
			c.peerSetup = "active"
		}
	}
	b.mu.Unlock()
	b.sendJingle(ctx, c, j, nil)
	b.flushLocal(ctx, c)
	return nil
}

// sendAnswer gives the browser sd, made a valid answer to its current
// offer (see sdpxlate.AnswerFor), as the peer's description.
func (b *bridge) sendAnswer(c *call, sd *sdp.SessionDescription) error {
	b.mu.Lock()
	offer, setup := c.localSDP, c.peerSetup
	b.mu.Unlock()
	sd, err := sdpxlate.AnswerFor(sd, offer, setup)
	if err != nil {
		return wsErr(wsapi.CodeInternal, c.sid, "answer could not be built: %v", err)
	}
	text, err := sdpxlate.MarshalSDP(sd)
	if err != nil {
		return wsErr(wsapi.CodeInternal, c.sid, "answer could not be written: %v", err)
	}
	b.mu.Lock()
	c.remoteSDP = sd
	c.localSDP = rejectedAsIn(c.localSDP, sd)
	c.awaitingAnswer, c.awaitingRestart, c.offerUnacked = false, false, 0
	c.prevLocal = nil
	if c.peerSetup == "" {
		c.peerSetup = setupOf(sd)
	}
	tab := c.tab
	pending := c.pendingRemote
	c.pendingRemote = nil
	b.mu.Unlock()
	if err := tab.Send(wsapi.Answer{SID: c.sid, SDP: text}); err != nil {
		return err
	}
	// Candidates the peer trickled before its answer.
	for _, pc := range pending {
		_ = tab.Send(candidateMsg(c.sid, pc))
	}
	return nil
}

func (b *bridge) browserAnswer(ctx context.Context, t *wsapi.Tab, c *call, m *wsapi.Message) error {
	b.mu.Lock()
	state, offerSent := c.state, c.offerSent
	old := c.localSDP
	creators := c.creators()
	// The offer this answers: the oldest unanswered one.
	var answers *jingle.Jingle
	if len(c.offersOut) > 0 {
		answers = c.offersOut[0]
		c.offersOut = c.offersOut[1:]
	}
	b.mu.Unlock()
	if !offerSent {
		return wsErr(wsapi.CodeConflict, c.sid, "answer: there is no offer to answer")
	}
	if state == jingle.StatePending && old == nil {
		return b.startSession(ctx, c, m, jingle.ActionSessionAccept, jingle.RoleResponder)
	}
	// The answer to a renegotiation the peer started.
	msgs, err := sdpxlate.Diff(old, m.Description, sdpxlate.ToJingleOptions{Role: c.role, SID: c.sid, Creators: creators})
	if err != nil {
		return wsErr(wsapi.CodeBadRequest, c.sid, "answer: %v", err)
	}
	b.mu.Lock()
	c.localSDP = m.Description
	neg, peerOffer := c.neg, c.peerOffer
	// An answer to the offer the peer's content-add became (not to an
	// earlier offer: one sent before it, or while its job has yet to run).
	peerPending := neg.Pending != jingle.ActionUnknown && neg.By != c.role && peerOffer != nil && answers == peerOffer
	if peerPending {
		clearPeerOfferLocked(c)
	}
	b.mu.Unlock()
	// settle moves the state machine past the peer's pending offer.
	settle := func(a jingle.Action) {
		b.mu.Lock()
		tr := jingle.Next(c.state, c.neg, c.role, a)
		if tr.Cond == jingle.CondUnknown {
			c.state, c.neg = tr.State, tr.Neg
		}
		b.mu.Unlock()
	}
	answered := false
	for _, j := range msgs {
		switch j.Action {
		case jingle.ActionContentAdd:
			if peerPending && neg.Pending == jingle.ActionContentAdd {
				j.Action = jingle.ActionContentAccept
				for i := range j.Contents {
					j.Contents[i].Creator = c.role.Other()
				}
				settle(jingle.ActionContentAccept)
				answered = true
				b.sendJingle(ctx, c, j, nil)
			}
		case jingle.ActionTransportInfo:
			if peerPending && neg.Pending == jingle.ActionTransportReplace && !answered {
				// The browser's new credentials answer the peer's
				// transport-replace.
				j.Action = jingle.ActionTransportAccept
				settle(jingle.ActionTransportAccept)
				answered = true
				b.sendJingle(ctx, c, j, nil)
				continue
			}
			for _, one := range oneContentEach(j) {
				b.sendJingle(ctx, c, one, nil)
			}
		}
	}
	if peerPending && neg.Pending == jingle.ActionContentAdd {
		// The contents of the peer's content-add that the browser
		// declined (port 0 in its answer, or absent): content-reject.
		var rejected []jingle.Content
		for _, ct := range peerOffer.Contents {
			if !activeMid(m.Description, ct.Name) {
				rejected = append(rejected, jingle.Content{Creator: ct.Creator, Name: ct.Name})
			}
		}
		if len(rejected) > 0 {
			// Nothing accepted: content-reject answers the content-add.
			// Some accepted: the content-accept answered it, and the
			// declined contents are removed (a content-reject after it
			// would be out of order).
			action := jingle.ActionContentReject
			if answered {
				action = jingle.ActionContentRemove
			} else {
				settle(jingle.ActionContentReject)
			}
			answered = true
			b.sendJingle(ctx, c, &jingle.Jingle{Action: action, Contents: rejected,
				Reason: &jingle.Reason{Condition: jingle.ReasonDecline, Text: "declined by the web user"}}, func(error) {})
		}
	}
	if peerPending && neg.Pending == jingle.ActionTransportReplace && !answered {
		// The browser kept its credentials: accept with them.
		mids := []string{}
		for _, ct := range peerOffer.Contents {
			mids = append(mids, ct.Name)
		}
		ta, err := sdpxlate.SDPToTransportInfo(m.Description, mids, sdpxlate.TransportInfoOptions{SID: c.sid, Creators: creators})
		if err == nil {
			ta.Action = jingle.ActionTransportAccept
			settle(jingle.ActionTransportAccept)
			answered = true
			b.sendJingle(ctx, c, ta, nil)
		}
	}
	if peerPending && !answered {
		// Nothing to say yes or no with: the session must not wait
		// for an answer forever.
		b.mu.Lock()
		c.neg = jingle.Negotiation{}
		b.mu.Unlock()
	}
	b.flushEarly(ctx, c)
	return nil
}

// activeMid reports whether sd has a non-rejected m-section with mid.
func activeMid(sd *sdp.SessionDescription, mid string) bool {
	for _, md := range sd.MediaDescriptions {
		if v, ok := md.Attribute("mid"); ok && v == mid {
			return md.MediaName.Port.Value != 0
		}
	}
	return false
}

// oneContentEach splits a transport-info into one message per content:
// Dino refuses a transport-info with more than one.
func oneContentEach(j *jingle.Jingle) []*jingle.Jingle {
	if len(j.Contents) <= 1 {
		return []*jingle.Jingle{j}
	}
	out := make([]*jingle.Jingle, 0, len(j.Contents))
	for i := range j.Contents {
		one := *j
		one.Contents = j.Contents[i : i+1]
		out = append(out, &one)
	}
	return out
}

// flushLocal sends the browser candidates that waited for the session.
func (b *bridge) flushLocal(ctx context.Context, c *call) {
	b.mu.Lock()
	c.initiateSent = true
	pending := c.pendingLocal
	c.pendingLocal = nil
	b.mu.Unlock()
	for _, pc := range pending {
		b.sendCandidate(ctx, c, pc)
	}
}

func (b *bridge) sendCandidate(ctx context.Context, c *call, pc sdpxlate.ICECandidate) {
	b.mu.Lock()
	local := c.localSDP
	creators := c.creators()
	b.mu.Unlock()
	j, err := sdpxlate.CandidatesToTransportInfo([]sdpxlate.ICECandidate{pc}, sdpxlate.TransportInfoOptions{SID: c.sid, Local: local, Creators: creators})
	if err != nil {
		b.log.Debug("browser candidate dropped", "sid", c.sid, "err", err)
		return
	}
	// One content per transport-info: Dino refuses more.
	for i := range j.Contents {
		one := *j
		one.Contents = j.Contents[i : i+1]
		b.sendJingle(ctx, c, &one, func(error) {})
	}
}

func (b *bridge) browserCandidate(ctx context.Context, c *call, m *wsapi.Message) error {
	pc := sdpxlate.ICECandidate{Candidate: m.Candidate.Candidate, SDPMLineIndex: m.Candidate.SDPMLineIndex}
	if m.Candidate.SDPMid != nil {
		pc.SDPMid = *m.Candidate.SDPMid
	}
	if m.Candidate.UsernameFragment != nil {
		pc.UsernameFragment = *m.Candidate.UsernameFragment
	}
	if pc.Candidate != "" {
		_, ufrag, err := sdpxlate.ParseCandidate(pc.Candidate)
		if err != nil {
			return wsErr(wsapi.CodeBadRequest, c.sid, "ice-candidate: %v", err)
		}
		if pc.UsernameFragment == "" {
			// The candidate line's own ufrag extension (libwebrtc and
			// pion write one) tells which local description it is of.
			pc.UsernameFragment = ufrag
		}
	}
	b.mu.Lock()
	if !c.initiateSent {
		c.pendingLocal = append(c.pendingLocal, pc)
		b.mu.Unlock()
		return nil
	}
	if pc.UsernameFragment != "" && c.localSDP != nil && !hasUfrag(c.localSDP, pc.UsernameFragment) {
		c.early = append(c.early, pc)
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	b.sendCandidate(ctx, c, pc)
	return nil
}

// hasUfrag reports whether sd uses the ICE ufrag u.
func hasUfrag(sd *sdp.SessionDescription, u string) bool {
	if v, ok := sd.Attribute("ice-ufrag"); ok && v == u {
		return true
	}
	for _, md := range sd.MediaDescriptions {
		if v, ok := md.Attribute("ice-ufrag"); ok && v == u {
			return true
		}
	}
	return false
}

// flushEarly sends the early candidates the new local description owns.
func (b *bridge) flushEarly(ctx context.Context, c *call) {
	b.mu.Lock()
	var ready, keep []sdpxlate.ICECandidate
	for _, pc := range c.early {
		if hasUfrag(c.localSDP, pc.UsernameFragment) {
			ready = append(ready, pc)
		} else {
			keep = append(keep, pc)
		}
	}
	c.early = keep
	b.mu.Unlock()
	for _, pc := range ready {
		b.sendCandidate(ctx, c, pc)
	}
}

func (b *bridge) browserSessionInfo(ctx context.Context, c *call, m *wsapi.Message) error {
	b.mu.Lock()
	state := c.state
	b.mu.Unlock()
	if state != jingle.StatePending && state != jingle.StateActive {
		return wsErr(wsapi.CodeConflict, c.sid, "session-info: the call has no Jingle session yet")
	}
	var kinds []jingle.InfoKind
	switch m.Info {
	case wsapi.InfoMute:
		kinds = []jingle.InfoKind{jingle.InfoMute}
	case wsapi.InfoUnmute:
		kinds = []jingle.InfoKind{jingle.InfoUnmute}
	case wsapi.InfoHold:
		kinds = []jingle.InfoKind{jingle.InfoHold}
	case wsapi.InfoActive:
		kinds = []jingle.InfoKind{jingle.InfoUnhold}
	default:
		return wsErr(wsapi.CodeBadRequest, c.sid, "session-info: unknown info %q", m.Info)
	}
	names := []string{""}
	if (m.Info == wsapi.InfoMute || m.Info == wsapi.InfoUnmute) && len(m.Media) > 0 {
		names = b.contentNames(c, m.Media)
	}
	for _, k := range kinds {
		for _, n := range names {
			b.sendJingle(ctx, c, &jingle.Jingle{Action: jingle.ActionSessionInfo, Info: &jingle.Info{Kind: k, Creator: c.role, Name: n}}, func(error) {})
		}
	}
	return nil
}

// contentNames maps media kinds to the content names of the local SDP.
func (b *bridge) contentNames(c *call, media []string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	if c.localSDP == nil {
		return []string{""}
	}
	for _, md := range c.localSDP.MediaDescriptions {
		if slices.Contains(media, md.MediaName.Media) {
			if mid, ok := md.Attribute("mid"); ok {
				out = append(out, mid)
			}
		}
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

func sdpHasNoDTLS(sd *sdp.SessionDescription) bool {
	if sd == nil {
		return true
	}
	if _, ok := sd.Attribute("fingerprint"); ok {
		return false
	}
	for _, md := range sd.MediaDescriptions {
		if _, ok := md.Attribute("fingerprint"); ok {
			return false
		}
	}
	return true
}

// setupOf returns the first a=setup value of sd that is "active" or
// "passive" ("" if none).
func setupOf(sd *sdp.SessionDescription) string {
	if sd == nil {
		return ""
	}
	for _, md := range sd.MediaDescriptions {
		if v, ok := md.Attribute("setup"); ok && (v == "active" || v == "passive") {
			return v
		}
	}
	for _, a := range sd.Attributes {
		if a.Key == "setup" && (a.Value == "active" || a.Value == "passive") {
			return a.Value
		}
	}
	return ""
}

// clearPeerOfferLocked forgets the peer's pending offer. b.mu is held.
func clearPeerOfferLocked(c *call) {
	if c.peerOfferTimer != nil {
		c.peerOfferTimer.Stop()
	}
	c.peerOffer, c.prevRemote, c.peerOfferTimer = nil, nil, nil
}

// peerOfferTimedOut declines the peer's offer j that the browser has not
// answered in b.iqTimeout: the session can renegotiate again.
func (b *bridge) peerOfferTimedOut(c *call, j *jingle.Jingle) {
	b.mu.Lock()
	if c.ended || c.peerOffer != j {
		b.mu.Unlock()
		return
	}
	rej := refusalOf(j, jingle.ReasonTimeout, "the web user's browser did not answer")
	forgetPeerOfferLocked(c)
	c.offersOut = nil // the browser is not answering them
	b.mu.Unlock()
	b.log.Info("the browser did not answer the peer's offer: declined", "sid", c.sid, "action", j.Action)
	b.sendJingle(context.Background(), c, rej, func(error) {})
}

// cloneMediaAt is copy-on-write for descriptions shared between calls'
// states: *out is a shallow copy of sd (made on the first call), and its
// m-section i, returned, a shallow copy of sd's own, to be changed freely
// (its slices are sd's still: replace them, do not modify them).
func cloneMediaAt(sd *sdp.SessionDescription, out **sdp.SessionDescription, i int) *sdp.MediaDescription {
	if *out == nil {
		cp := *sd
		cp.MediaDescriptions = slices.Clone(sd.MediaDescriptions)
		*out = &cp
	}
	m := *sd.MediaDescriptions[i]
	(*out).MediaDescriptions[i] = &m
	return &m
}

// rejectedAsIn returns local with the m-sections that answer rejects (port
// 0) rejected too: that is what the offer/answer negotiated, and what the
// next offer or answer of the browser is compared with (a medium rejected
// now and offered again later is new then).
func rejectedAsIn(local, answer *sdp.SessionDescription) *sdp.SessionDescription {
	if local == nil || answer == nil {
		return local
	}
	rejected := map[string]bool{}
	for _, md := range answer.MediaDescriptions {
		if mid, ok := md.Attribute("mid"); ok && md.MediaName.Port.Value == 0 {
			rejected[mid] = true
		}
	}
	var out *sdp.SessionDescription
	for i, md := range local.MediaDescriptions {
		if mid, ok := md.Attribute("mid"); !ok || !rejected[mid] || md.MediaName.Port.Value == 0 {
			continue
		}
		m := cloneMediaAt(local, &out, i)
		m.MediaName.Port = sdp.RangedPort{Value: 0}
		m.Attributes = slices.DeleteFunc(slices.Clone(md.Attributes), func(a sdp.Attribute) bool { return a.Key == "bundle-only" })
	}
	if out == nil {
		return local
	}
	return out
}
