package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pion/sdp/v3"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/wsapi"
	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

type xmlTokens = xml.TokenReader

const (
	nsReceipts = "urn:xmpp:receipts"
	nsHints    = "urn:xmpp:hints"
	nsDelay    = "urn:xmpp:delay"
)

func errIQTimeout() error { return component.ErrIQTimeout }

// receiptAndStore are the extra children of a propose: a receipt request
// (Conversations reports ringing through the receipt) and a store hint.
func receiptAndStore() []xmlTokens {
	return []xmlTokens{
		xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsReceipts, Local: "request"}}),
		storeHint(),
	}
}

func storeHint() xmlTokens {
	return xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsHints, Local: "store"}})
}

// sendReceipt acknowledges delivery of message id (XEP-0184): the web
// user's tabs have it.
func (b *bridge) sendReceipt(ctx context.Context, from, to jid.JID, id string) {
	msg := stanza.Message{From: from, To: to, Type: stanza.ChatMessage}
	r := msg.Wrap(xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsReceipts, Local: "received"}, Attr: []xml.Attr{{Name: xml.Name{Local: "id"}, Value: id}}}))
	if err := b.g.Link.Send(ctx, r); err != nil {
		b.log.Debug("sending a receipt failed", "id", id, "err", err)
	}
}

// jingleOption registers the Jingle IQ handler.
func (b *bridge) jingleOption() mux.Option {
	return mux.IQ(stanza.SetIQ, xml.Name{Space: jingle.NS, Local: "jingle"}, mux.IQHandlerFunc(b.handleJingleIQ))
}

// handleJingleIQ runs inside the Serve loop: it decides at once whether to
// acknowledge (writing the result or the error), and queues the rest.
func (b *bridge) handleJingleIQ(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	raw, err := capture(xmlstream.MultiReader(xmlstream.Token(*start), t))
	if err != nil {
		return err
	}
	jp, err := jingle.Unmarshal(raw)
	if err != nil || jp.Action == jingle.ActionUnknown {
		msg := "unknown action"
		if err != nil {
			msg = err.Error()
		}
		return writeStanzaError(t, iq, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: map[string]string{"": truncate(msg, 200)}})
	}
	j := *jp
	user := b.g.Presence.LocalUser(iq.To)
	if user == "" || iq.To.Resourcepart() == "" {
		return writeStanzaError(t, iq, stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable})
	}
	tab := b.g.WS.Tab(iq.To.Resourcepart())
	if tab == nil || tab.User() != user {
		// RFC 6120 §10.5.3.2: an IQ to an unavailable resource.
		return writeStanzaError(t, iq, stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable})
	}
	if j.SID == "" {
		return writeStanzaError(t, iq, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: map[string]string{"": "jingle without sid"}})
	}

	b.mu.Lock()
	c := b.calls[callKey(user, j.SID)]
	var replaced []*call // our session-initiates that lost a glare tie-break to this one
	sameTab := false     // one of them is on the tab this one came to
	if c != nil && !(c.peer.Equal(iq.From) || (c.peer.Resourcepart() == "" && c.peer.Equal(iq.From.Bare()))) {
		if j.Action == jingle.ActionSessionInitiate {
			// Someone else's session of the same name: it cannot
			// replace the call the user has.
			b.mu.Unlock()
			return writeStanzaError(t, iq, stanza.Error{Type: stanza.Cancel, Condition: stanza.Conflict, Text: map[string]string{"": "a session with this sid exists"}})
		}
		c = nil // someone else's session of the same name
	}
	if c == nil {
		if j.Action != jingle.ActionSessionInitiate {
			b.mu.Unlock()
			return copyOut(t, jingle.ErrorReply(iq, jingle.CondUnknownSession))
		}
		// Glare: we are calling the same peer and both sent
		// session-initiate. XEP-0166: the lower sid wins.
		for _, other := range b.calls {
			if other.outgoing && other.user == user && other.peer.Bare().Equal(iq.From.Bare()) && unsettled(other) {
				if jingle.TieBreakSID(other.sid, j.SID) {
					b.mu.Unlock()
					return copyOut(t, jingle.ErrorReply(iq, jingle.CondTieBreak))
				}
				// Theirs wins: ours ends, and theirs replaces it when
				// it came to the same tab (elsewhere it rings as usual).
				replaced = append(replaced, other)
				if other.tab == tab {
					sameTab = true
				}
			}
		}
		c = &call{sid: j.SID, user: user, role: jingle.RoleResponder, local: iq.To, peer: iq.From, tab: tab}
		b.calls[c.key()] = c
	} else if c.outgoing == false && c.tab == nil && j.Action == jingle.ActionSessionInitiate {
		c.peer = iq.From
	}
	remoteRole := c.role.Other()
	if b.crossedLocked(c, &j) {
		b.mu.Unlock()
		return copyOut(t, jingle.ErrorReply(iq, jingle.CondTieBreak))
	}
	tr := jingle.Next(c.state, c.neg, remoteRole, j.Action)
	if tr.FeatureNotImplemented {
		b.mu.Unlock()
		return writeStanzaError(t, iq, stanza.Error{Type: stanza.Cancel, Condition: stanza.FeatureNotImplemented})
	}
	if tr.Cond != jingle.CondUnknown {
		b.mu.Unlock()
		return copyOut(t, jingle.ErrorReply(iq, tr.Cond))
	}
	if j.Action == jingle.ActionSessionInfo && j.Info == nil && hasPayload(raw) {
		// XEP-0166 §7.3: a session-info we do not understand.
		b.mu.Unlock()
		return copyOut(t, jingle.ErrorReply(iq, jingle.CondUnsupportedInfo))
	}
	c.state, c.neg = tr.State, tr.Neg
	jj := j
	if (j.Action == jingle.ActionContentAdd || j.Action == jingle.ActionTransportReplace) && tr.Neg.Pending == j.Action && tr.Neg.By == remoteRole {
		// The peer's offer is pending from now on, before its work job
		// runs: an offer the browser makes meanwhile must wait for it.
		c.peerOffer = &jj
	}
	b.mu.Unlock()

	if _, err := xmlstream.Copy(t, iq.Result(nil)); err != nil {
		return err
	}
	if len(replaced) > 0 {
		// One job, in this order: the browser hears its call end before
		// the offer that replaces it arrives.
		b.enqueue("glare", func(ctx context.Context) {
			for _, o := range replaced {
				b.loseGlare(ctx, o, jj.SID)
			}
			b.incomingInitiate(ctx, c, &jj, sameTab)
		})
		return nil
	}
	b.enqueue("jingle "+j.Action.String(), func(ctx context.Context) { b.processJingle(ctx, c, &jj) })
	return nil
}

// crossedLocked settles the peer's offer j (a content-add, a
// transport-replace or an ICE restart) crossing the browser's pending one
// (XEP-0166: the initiator's wins; jingle.Next settles two content-adds,
// not an ICE restart, which is no negotiation there). It returns true when
// j loses (the peer gets a tie-break); when the browser's loses, the
// gateway forgets it (yieldLocked): the polite browser rolls it back when
// j reaches it. b.mu is held.
func (b *bridge) crossedLocked(c *call, j *jingle.Jingle) bool {
	switch j.Action {
	case jingle.ActionTransportInfo:
		if !c.awaitingAnswer || c.remoteSDP == nil || (c.offerUnacked == 0 && c.awaitingRestart) ||
			len(sdpxlate.ICERestarts(j, c.remoteSDP, nil)) == 0 {
			return false
		}
		// The peer restarts ICE while the browser's own offer (a restart
		// it has not acknowledged yet, or a content-add) is pending. The
		// browser, as initiator, keeps its offer; as responder it yields,
		// unless its content-add was acknowledged before (the peer saw it
		// first).
		if c.role == jingle.RoleInitiator || !c.awaitingRestart && c.offerUnacked == 0 {
			return true
		}
		b.yieldLocked(c)
	case jingle.ActionContentAdd, jingle.ActionTransportReplace:
		if c.role == jingle.RoleInitiator {
			// The browser's pending ICE restart wins (Next tie-breaks a
			// pending content-add the same way). Taken, the peer's offer
			// would reach a tab that ignores it, impolite.
			return c.awaitingAnswer
		}
		if c.awaitingAnswer || c.neg.Pending != jingle.ActionUnknown && c.neg.By == c.role {
			// Ours (the responder's) yields: a content-add, which the
			// peer answers with a tie-break, or an ICE restart the peer
			// acknowledged (else it would be awaited forever, every later
			// offer refused).
			b.yieldLocked(c)
		}
	}
	return false
}

// loseGlare ends our session-initiate o, which lost the tie-break to the
// peer's session winner: the browser hears alternative-session. A peer that
// saw the glare refused o with a tie-break error; one that took o (it
// acknowledged o before sending its own) would ring with it, so o is also
// terminated, naming the session that replaces it (XEP-0166
// alternative-session); a peer that refused it answers unknown-session.
func (b *bridge) loseGlare(ctx context.Context, o *call, winner string) {
	b.mu.Lock()
	ended, state, jmi, peer := o.ended, o.state, o.jmi, o.peer
	b.mu.Unlock()
	if ended {
		return
	}
	const text = "glare: the other call won the tie-break"
	b.end(ctx, o.key(), jingle.ReasonAlternativeSession, text, true)
	switch {
	case state == jingle.StatePending:
		b.sendJingle(ctx, o, &jingle.Jingle{Action: jingle.ActionSessionTerminate,
			Reason: &jingle.Reason{Condition: jingle.ReasonAlternativeSession, SID: winner, Text: text}}, func(error) {})
	case jmi == jmiProposed:
		// Our proposal was never answered: withdraw it.
		b.sendJMI(ctx, o, peer.Bare(), jingle.JMI{Kind: jingle.JMIRetract, ID: o.sid, TieBreak: true})
	}
}

// unsettled reports whether our outgoing call o can still lose a glare
// tie-break: its session-initiate is unanswered, its proposal is, or the
// browser has not made its offer yet. A proposal the peer took
// (proceeded) is settled.
func unsettled(o *call) bool {
	switch o.state {
	case jingle.StatePending:
		return true
	case jingle.StateNone:
		return o.jmi != jmiProceeded
	}
	return false
}

// capture reads a whole element and writes it back as bytes: the jingle
// package parses bytes, and innerxml is empty with a token decoder.
func capture(r xml.TokenReader) ([]byte, error) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	for {
		tok, err := r.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := enc.EncodeToken(tok); err != nil {
			return nil, err
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hasPayload reports whether the <jingle/> element raw has a child element.
func hasPayload(raw []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(raw))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		switch se := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				return true
			}
			_ = se
		case xml.EndElement:
			depth--
		}
	}
}

func copyOut(t xmlstream.TokenWriter, r xml.TokenReader) error {
	_, err := xmlstream.Copy(t, r)
	return err
}

func writeStanzaError(t xmlstream.TokenWriter, iq stanza.IQ, e stanza.Error) error {
	reply := stanza.IQ{ID: iq.ID, To: iq.From, From: iq.To, Type: stanza.ErrorIQ}
	_, err := xmlstream.Copy(t, reply.Wrap(e.TokenReader()))
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// processJingle handles an acknowledged Jingle request, off the Serve loop.
func (b *bridge) processJingle(ctx context.Context, c *call, j *jingle.Jingle) {
	switch j.Action {
	case jingle.ActionSessionInitiate:
		b.incomingInitiate(ctx, c, j, false)
	case jingle.ActionSessionAccept:
		b.remoteAnswer(ctx, c, j, jingle.ActionSessionAccept)
	case jingle.ActionSessionTerminate:
		reason := jingle.ReasonSuccess
		text := ""
		if j.Reason != nil {
			reason, text = j.Reason.Condition, j.Reason.Text
		}
		b.end(ctx, c.key(), reason, text, true)
	case jingle.ActionTransportInfo:
		b.remoteTransportInfo(ctx, c, j)
	case jingle.ActionSessionInfo:
		b.remoteSessionInfo(c, j)
	case jingle.ActionContentAdd, jingle.ActionContentModify, jingle.ActionContentRemove, jingle.ActionTransportReplace:
		b.remoteRenegotiation(ctx, c, j)
	case jingle.ActionContentAccept:
		b.remoteAnswer(ctx, c, j, jingle.ActionContentAccept)
	case jingle.ActionContentReject, jingle.ActionTransportReject:
		// The answer to the browser's offer: the remote description with
		// the rejected contents rejected (sendAnswer rejects the offered
		// m-sections it lacks, in the offer's order).
		b.mu.Lock()
		remote := c.remoteSDP
		b.mu.Unlock()
		sd := remote
		if next, err := sdpxlate.Apply(remote, j, sdpxlate.ToSDPOptions{Role: c.role.Other(), Type: sdpxlate.SDPTypeAnswer}); err == nil {
			sd = next
		}
		if sd != nil {
			_ = b.sendAnswer(c, sd)
		}
	}
}

// incomingInitiate: the peer's session-initiate, with or without a
// propose before it. replaces: it won a glare tie-break over the tab's own
// call (ended just before), so it goes to that tab as an offer, without
// ringing: the user asked for this call.
func (b *bridge) incomingInitiate(ctx context.Context, c *call, j *jingle.Jingle, replaces bool) {
	refuse := func(reason jingle.ReasonCondition, text string) {
		b.mu.Lock()
		if c.jmi != jmiProceeded && !c.outgoing {
			// The tab never heard of this call (no incoming, no
			// proceed): only the peer is told.
			c.tab = nil
		}
		b.mu.Unlock()
		b.end(ctx, c.key(), reason, text, false)
	}
	if reason, text := unsupported(j); reason != jingle.ReasonUnknown {
		refuse(reason, text)
		return
	}
	if !hasDTLS(j) {
		refuse(jingle.ReasonSecurityError, "browsers need DTLS-SRTP: the offer has no DTLS fingerprint")
		return
	}
	if !b.g.Presence.Allowed(ctx, c.user, c.peer) {
		refuse(jingle.ReasonDecline, "not allowed by the call policy")
		return
	}
	b.mu.Lock()
	c.offer = j
	bound := c.tab != nil && (c.jmi == jmiProceeded || c.outgoing)
	glareWinner := c.jmi == jmiNone && c.tab != nil && (replaces || b.hasOutgoingLocked(c))
	if bound {
		b.stopTimerLocked(c) // the wait for this session-initiate after proceed
	}
	b.mu.Unlock()
	if bound || glareWinner {
		_ = b.deliverOffer(c, j)
		return
	}
	// A direct session-initiate: ring the tab it was sent to.
	media := mediaOf(j)
	b.mu.Lock()
	c.media = media
	c.ringing = []*wsapi.Tab{c.tab}
	tab := c.tab
	c.tab = nil
	b.armRingTimer(c)
	b.mu.Unlock()
	_ = tab.Send(wsapi.Incoming{SID: c.sid, From: c.peer.String(), Media: media, Polite: c.polite()})
	b.sendJingle(ctx, c, &jingle.Jingle{Action: jingle.ActionSessionInfo, Info: &jingle.Info{Kind: jingle.InfoRinging}}, func(error) {})
}

func (b *bridge) hasOutgoingLocked(c *call) bool {
	for _, o := range b.calls {
		if o != c && o.outgoing && o.user == c.user && o.peer.Bare().Equal(c.peer.Bare()) {
			return true
		}
	}
	return false
}

// unsupported returns the reason to refuse a session-initiate with (XEP-0166
// §6.3.2) when no content has an application a browser takes (RTP, or a
// data channel) or none has a transport it can use (ICE-UDP); else
// ReasonUnknown.
func unsupported(j *jingle.Jingle) (jingle.ReasonCondition, string) {
	app, transport := false, false
	for _, c := range j.Contents {
		if c.UnknownDescription == "" && (c.Description != nil || c.Transport != nil) {
			app = true
		}
		if c.Transport != nil {
			transport = true
		}
	}
	switch {
	case !app:
		return jingle.ReasonUnsupportedApplications, "browsers take RTP audio and video and data channels only"
	case !transport:
		return jingle.ReasonUnsupportedTransports, "browsers need ICE-UDP"
	}
	return jingle.ReasonUnknown, ""
}

func hasDTLS(j *jingle.Jingle) bool {
	for _, c := range j.Contents {
		if c.Transport != nil && len(c.Transport.Fingerprints) > 0 {
			return true
		}
	}
	return false
}

func mediaOf(j *jingle.Jingle) []string {
	var m []string
	for _, c := range j.Contents {
		if c.Description != nil && (c.Description.Media == "audio" || c.Description.Media == "video") && !slices.Contains(m, c.Description.Media) {
			m = append(m, c.Description.Media)
		}
	}
	if m == nil {
		m = []string{}
	}
	return m
}

// remoteAnswer: session-accept or content-accept.
func (b *bridge) remoteAnswer(ctx context.Context, c *call, j *jingle.Jingle, a jingle.Action) {
	b.mu.Lock()
	local, remote := c.localSDP, c.remoteSDP
	b.stopTimerLocked(c)
	b.mu.Unlock()
	var ans = remote
	var err error
	if a == jingle.ActionSessionAccept {
		ans, err = sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{Role: jingle.RoleResponder, Type: sdpxlate.SDPTypeAnswer, Offer: local})
	} else {
		ans, err = sdpxlate.Apply(remote, j, sdpxlate.ToSDPOptions{Role: c.role.Other(), Type: sdpxlate.SDPTypeAnswer, Offer: local})
	}
	if err != nil {
		b.end(ctx, c.key(), jingle.ReasonFailedApplication, "the answer could not be translated: "+err.Error(), false)
		return
	}
	_ = b.sendAnswer(c, ans)
}

// remoteTransportInfo: trickled candidates, or an ICE restart.
func (b *bridge) remoteTransportInfo(ctx context.Context, c *call, j *jingle.Jingle) {
	b.mu.Lock()
	remote := c.remoteSDP
	awaiting := c.awaitingAnswer && c.awaitingRestart
	b.mu.Unlock()
	if remote != nil && len(sdpxlate.ICERestarts(j, remote, nil)) > 0 {
		sd, err := sdpxlate.Apply(remote, j, sdpxlate.ToSDPOptions{Role: c.role.Other()})
		if err != nil {
			b.log.Info("ICE restart could not be applied", "sid", c.sid, "err", err)
			return
		}
		// (Apply gives the new credentials to the whole BUNDLE group.)
		if awaiting {
			// The answer to the browser's own restart.
			_ = b.sendAnswer(c, sd)
			return
		}
		// The peer restarts ICE: a new offer for the browser.
		text, err := sdpxlate.MarshalSDP(sd)
		if err != nil {
			return
		}
		b.mu.Lock()
		c.remoteSDP = sd
		if c.tab != nil {
			_ = b.sendOfferLocked(c, text, nil)
		}
		b.mu.Unlock()
		return
	}
	cands, err := sdpxlate.JingleCandidatesToSDP(j, sdpxlate.ToSDPOptions{MDNS: sdpxlate.MDNSKeep})
	if err != nil {
		return
	}
	b.mu.Lock()
	tab := c.tab
	// The browser takes remote candidates once it has the remote
	// description: the offer (incoming calls) or the answer (outgoing
	// ones; a peer may trickle before its session-accept arrives).
	if tab == nil || c.remoteSDP == nil || (!c.outgoing && !c.offerSent) {
		c.pendingRemote = append(c.pendingRemote, cands...)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	for _, pc := range cands {
		_ = tab.Send(candidateMsg(c.sid, pc))
	}
}

func (b *bridge) remoteSessionInfo(c *call, j *jingle.Jingle) {
	if j.Info == nil {
		return
	}
	b.mu.Lock()
	tabs := slices.Clone(c.ringing)
	if c.tab != nil {
		tabs = append(tabs, c.tab)
	}
	b.mu.Unlock()
	var msg any
	switch j.Info.Kind {
	case jingle.InfoRinging:
		msg = wsapi.Ringing{SID: c.sid}
	case jingle.InfoMute:
		msg = wsapi.SessionInfo{SID: c.sid, Info: wsapi.InfoMute, Media: b.mediaOfContent(c, j.Info.Name)}
	case jingle.InfoUnmute:
		msg = wsapi.SessionInfo{SID: c.sid, Info: wsapi.InfoUnmute, Media: b.mediaOfContent(c, j.Info.Name)}
	case jingle.InfoHold:
		msg = wsapi.SessionInfo{SID: c.sid, Info: wsapi.InfoHold}
	case jingle.InfoActive, jingle.InfoUnhold:
		msg = wsapi.SessionInfo{SID: c.sid, Info: wsapi.InfoActive}
	default:
		return
	}
	for _, t := range tabs {
		_ = t.Send(msg)
	}
}

// mediaOfContent returns the medium of content name ("audio" or "video")
// as a one-element list, or nil when name is empty (all media) or unknown.
func (b *bridge) mediaOfContent(c *call, name string) []string {
	if name == "" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sd := range []*sdp.SessionDescription{c.remoteSDP, c.localSDP} {
		if sd == nil {
			continue
		}
		for _, md := range sd.MediaDescriptions {
			if mid, ok := md.Attribute("mid"); ok && mid == name && (md.MediaName.Media == "audio" || md.MediaName.Media == "video") {
				return []string{md.MediaName.Media}
			}
		}
	}
	return nil
}

// remoteRenegotiation: the peer adds, changes or removes contents.
func (b *bridge) remoteRenegotiation(ctx context.Context, c *call, j *jingle.Jingle) {
	offer := j.Action == jingle.ActionContentAdd || j.Action == jingle.ActionTransportReplace
	b.mu.Lock()
	remote := c.remoteSDP
	tab := c.tab
	superseded := offer && c.peerOffer != j
	b.mu.Unlock()
	if superseded {
		// The browser's own offer (the initiator's) superseded it before
		// this job ran: the peer got its refusal, the tab gets nothing.
		return
	}
	var sd *sdp.SessionDescription
	var text string
	err := errors.New("no browser has the session yet")
	if remote != nil && tab != nil {
		sd, err = sdpxlate.Apply(remote, j, sdpxlate.ToSDPOptions{Role: c.role.Other(), Type: sdpxlate.SDPTypeOffer})
	}
	if err == nil && j.Action == jingle.ActionTransportReplace {
		for _, ct := range j.Contents {
			if ct.Transport == nil {
				err = fmt.Errorf("content %q: the new transport is not ICE-UDP", ct.Name)
				break
			}
		}
	}
	if err == nil {
		text, err = sdpxlate.MarshalSDP(sd)
	}
	if err != nil {
		if offer {
			cond := jingle.ReasonFailedApplication
			if j.Action == jingle.ActionTransportReplace {
				// Browsers take ICE-UDP only (XEP-0166 §7.2.15).
				cond = jingle.ReasonUnsupportedTransports
			}
			b.mu.Lock()
			mine := c.peerOffer == j // (else superseded meanwhile, and declined)
			if mine {
				forgetPeerOfferLocked(c)
			}
			b.mu.Unlock()
			if mine {
				b.sendJingle(ctx, c, refusalOf(j, cond, err.Error()), func(error) {})
			}
		}
		return
	}
	if j.Action == jingle.ActionContentModify && sameDirections(remote, sd) {
		// A content-modify that changes no direction (Jitsi sends its
		// receive constraints this way): nothing to negotiate.
		return
	}
	b.mu.Lock()
	if offer {
		if c.peerOffer != j {
			// Superseded while it was being translated.
			b.mu.Unlock()
			return
		}
		c.prevRemote = remote
		c.peerOfferTimer = time.AfterFunc(b.iqTimeout, func() { b.peerOfferTimedOut(c, j) })
	}
	c.remoteSDP = sd
	c.offerSent = true
	var from *jingle.Jingle
	if offer {
		from = j
	}
	_ = b.sendOfferLocked(c, text, from)
	b.mu.Unlock()
}

// sameDirections reports whether a and b have the same m-sections (mid,
// port zero or not) with the same directions.
func sameDirections(a, b *sdp.SessionDescription) bool {
	if a == nil || b == nil || len(a.MediaDescriptions) != len(b.MediaDescriptions) {
		return false
	}
	for i, ma := range a.MediaDescriptions {
		mb := b.MediaDescriptions[i]
		ida, _ := ma.Attribute("mid")
		idb, _ := mb.Attribute("mid")
		if ida != idb || (ma.MediaName.Port.Value == 0) != (mb.MediaName.Port.Value == 0) || directionOf(ma) != directionOf(mb) {
			return false
		}
	}
	return true
}

func directionOf(md *sdp.MediaDescription) string {
	for _, a := range md.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}

// --- messages (XEP-0353, receipts) -----------------------------------------

type inMessage struct {
	From, To, ID, Type string
	Inner              []byte // the whole stanza
}

// messageHandler gets every message stanza to the domain.
func (b *bridge) messageHandler() xmpp.Handler {
	return xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		raw, err := capture(xmlstream.MultiReader(xmlstream.Token(*start), t))
		if err != nil {
			return fmt.Errorf("message: %w", err)
		}
		m := inMessage{Inner: raw}
		for _, a := range start.Attr {
			switch a.Name.Local {
			case "from":
				m.From = a.Value
			case "to":
				m.To = a.Value
			case "id":
				m.ID = a.Value
			case "type":
				m.Type = a.Value
			}
		}
		from, err1 := jid.Parse(m.From)
		to, err2 := jid.Parse(m.To)
		if err1 != nil || err2 != nil {
			return nil
		}
		b.enqueue("message", func(ctx context.Context) { b.processMessage(ctx, m, from, to) })
		return nil
	})
}

func (b *bridge) processMessage(ctx context.Context, m inMessage, from, to jid.JID) {
	if from.Localpart() == "" && to.Equal(b.g.domain) {
		if ns, perms, ok := privilegeMessage(m.Inner); ok {
			b.g.privs.set(ns, perms)
			b.log.Info("the XMPP server granted privileges (XEP-0356)", "namespace", ns, "permissions", perms)
		}
		return
	}
	user := b.g.Presence.LocalUser(to)
	if user == "" {
		return
	}
	if m.Type == "error" {
		// A bounced propose: the peer cannot be reached.
		sid, ok := cutPrefix(m.ID, "jm-propose-")
		if c := b.get(user, sid); ok && c != nil && c.outgoing {
			b.end(ctx, c.key(), jingle.ReasonGone, "the call could not be delivered", true)
		}
		return
	}
	meta := scanMessage(m.Inner)
	if meta.received {
		if sid, ok := cutPrefix(meta.receivedID, "jm-propose-"); ok {
			b.proposeDelivered(user, sid, from)
		}
	}
	jmi, err := jingle.UnmarshalJMI(m.Inner)
	if err != nil {
		return
	}
	switch jmi.Kind {
	case jingle.JMIPropose:
		if at := meta.delay; meta.delayed && time.Since(at) > b.ringTimeout {
			// Delivered late (XEP-0203: offline storage, MAM): the
			// caller gave up long ago, nothing rings.
			b.log.Info("stale call proposal ignored", "sid", jmi.ID, "from", from, "sent", at)
			return
		}
		if b.incomingPropose(ctx, user, from, to, jmi) && m.ID != "" && meta.receiptRequest {
			b.sendReceipt(ctx, to, from, m.ID)
		}
	case jingle.JMIRinging:
		b.proposeDelivered(user, jmi.ID, from)
	case jingle.JMIProceed, jingle.JMIAccept:
		b.proceed(ctx, user, jmi.ID, from)
	case jingle.JMIReject:
		c := b.get(user, jmi.ID)
		if c == nil || !c.peer.Bare().Equal(from.Bare()) {
			return
		}
		reason := jingle.ReasonDecline
		text := ""
		if jmi.Reason != nil {
			reason, text = jmi.Reason.Condition, jmi.Reason.Text
		}
		if from.Bare().Equal(to.Bare()) {
			return // our own reject, carbon-copied
		}
		b.end(ctx, callKey(user, jmi.ID), reason, text, true)
	case jingle.JMIRetract, jingle.JMIFinish:
		c := b.get(user, jmi.ID)
		if c == nil || !c.peer.Bare().Equal(from.Bare()) {
			return
		}
		reason := jingle.ReasonCancel
		if jmi.Kind == jingle.JMIFinish {
			reason = jingle.ReasonSuccess
		}
		text := ""
		if jmi.Reason != nil {
			reason, text = jmi.Reason.Condition, jmi.Reason.Text
		}
		b.end(ctx, callKey(user, jmi.ID), reason, text, true)
	}
}

// msgMeta is what the gateway reads from a message besides its XEP-0353
// payload: an XEP-0184 receipt request (a child of the message) or receipt
// (anywhere in it), and the stamp of an XEP-0203 <delay/> child.
type msgMeta struct {
	receiptRequest bool
	receivedID     string
	received       bool
	delay          time.Time
	delayed        bool
}

// scanMessage reads msgMeta from the whole message stanza inner in one
// pass.
func scanMessage(inner []byte) msgMeta {
	var m msgMeta
	d := xml.NewDecoder(bytes.NewReader(inner))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return m
		}
		switch se := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case se.Name.Space == nsReceipts && se.Name.Local == "received" && !m.received:
				m.receivedID, m.received = attr(se, "id")
			case depth == 2 && se.Name.Space == nsReceipts && se.Name.Local == "request":
				m.receiptRequest = true
			case depth == 2 && se.Name.Space == nsDelay && se.Name.Local == "delay" && !m.delayed:
				if v, ok := attr(se, "stamp"); ok {
					at, err := time.Parse(time.RFC3339Nano, v)
					m.delay, m.delayed = at, err == nil
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// attr returns the value of se's attribute local (any namespace).
func attr(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// cutPrefix is strings.CutPrefix for a non-empty rest.
func cutPrefix(s, p string) (string, bool) {
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// proposeDelivered: a ringing or a receipt for our propose.
func (b *bridge) proposeDelivered(user, sid string, from jid.JID) {
	b.mu.Lock()
	c := b.calls[callKey(user, sid)]
	if c == nil || !c.outgoing || !c.peer.Bare().Equal(from.Bare()) || c.ringSent || c.jmi != jmiProposed {
		b.mu.Unlock()
		return
	}
	c.ringSent = true
	tab := c.tab
	b.mu.Unlock()
	_ = tab.Send(wsapi.Ringing{SID: sid})
}

// proceed: the peer's resource takes our proposed call.
func (b *bridge) proceed(ctx context.Context, user, sid string, from jid.JID) {
	b.mu.Lock()
	c := b.calls[callKey(user, sid)]
	if c == nil || !c.outgoing || c.jmi != jmiProposed || !c.peer.Bare().Equal(from.Bare()) {
		b.mu.Unlock()
		return
	}
	c.jmi = jmiProceeded
	c.peer = from
	tab := c.tab
	b.mu.Unlock()
	_ = tab.Send(wsapi.Proceeding{SID: sid, Polite: c.polite()})
}

// incomingPropose: an XMPP user calls a web user (bare JID): every tab
// rings, and the caller hears ringing at once.
// It reports whether the call rang on some tab.
func (b *bridge) incomingPropose(ctx context.Context, user string, from, to jid.JID, p *jingle.JMI) bool {
	if p.ID == "" {
		return false
	}
	local := b.g.Presence.UserJID(user)
	c := &call{sid: p.ID, user: user, role: jingle.RoleResponder, local: local, peer: from, jmi: jmiProposed}
	for _, d := range p.Descriptions {
		if (d.Media == "audio" || d.Media == "video") && !slices.Contains(c.media, d.Media) {
			c.media = append(c.media, d.Media)
		}
	}
	if c.media == nil {
		c.media = []string{}
	}
	if !b.g.Presence.Allowed(ctx, user, from) {
		b.sendJMI(ctx, c, from, jingle.JMI{Kind: jingle.JMIReject, ID: p.ID, Reason: &jingle.Reason{Condition: jingle.ReasonBusy, Text: "not allowed by the call policy"}})
		return false
	}
	var tabs []*wsapi.Tab
	for _, info := range b.g.WS.Tabs(user) {
		if t := b.g.WS.Tab(info.Resource); t != nil {
			tabs = append(tabs, t)
		}
	}
	if len(tabs) == 0 {
		b.sendJMI(ctx, c, from, jingle.JMI{Kind: jingle.JMIReject, ID: p.ID, Reason: &jingle.Reason{Condition: jingle.ReasonGone, Text: "the web user is offline"}})
		return false
	}
	b.mu.Lock()
	if _, dup := b.calls[callKey(user, p.ID)]; dup {
		b.mu.Unlock()
		return false
	}
	// JMI glare: we are proposing to the same user at the same time. The
	// lower id wins (XEP-0353 §3.6).
	var lostDirect []*call
	for _, o := range b.calls {
		if o.outgoing && o.user == user && o.peer.Bare().Equal(from.Bare()) && o.jmi == jmiNone && unsettled(o) {
			// Our direct call (no proposal) crosses their proposal: the
			// same rule, the lower id wins.
			if jingle.TieBreakSID(o.sid, p.ID) {
				b.mu.Unlock()
				b.sendJMI(ctx, c, from, jingle.JMI{Kind: jingle.JMIReject, ID: p.ID, TieBreak: true, Reason: &jingle.Reason{Condition: jingle.ReasonExpired, Text: "tie-break"}})
				return false
			}
			lostDirect = append(lostDirect, o)
			continue
		}
		if o.outgoing && o.user == user && o.peer.Bare().Equal(from.Bare()) && o.jmi == jmiProposed {
			if jingle.TieBreakSID(o.sid, p.ID) {
				b.mu.Unlock()
				b.sendJMI(ctx, c, from, jingle.JMI{Kind: jingle.JMIReject, ID: p.ID, TieBreak: true, Reason: &jingle.Reason{Condition: jingle.ReasonExpired, Text: "tie-break"}})
				return false
			}
			lost, lostKey := o.sid, o.key()
			defer b.end(ctx, lostKey, jingle.ReasonCancel, "tie-break", true)
			// Ours loses: retract it without telling the browser twice.
			b.enqueue("jmi glare", func(ctx context.Context) {
				b.sendJMI(ctx, o, from.Bare(), jingle.JMI{Kind: jingle.JMIRetract, ID: lost, TieBreak: true})
			})
		}
	}
	c.ringing = tabs
	b.calls[c.key()] = c
	b.armRingTimer(c)
	b.mu.Unlock()
	for _, o := range lostDirect {
		b.loseGlare(ctx, o, p.ID)
	}
	for _, t := range tabs {
		_ = t.OwnSID(c.sid)
		_ = t.Send(wsapi.Incoming{SID: c.sid, From: from.String(), Media: c.media, Polite: c.polite()})
	}
	b.sendJMI(ctx, c, from, jingle.JMI{Kind: jingle.JMIRinging, ID: p.ID})
	return true
}
