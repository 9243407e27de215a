package jinglepeer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// Accept answers an incoming call that rings: with proceed for a JMI
// propose (the session is accepted when its session-initiate comes), with
// session-accept for a session-initiate.
func (c *Call) Accept(ctx context.Context) error {
	return c.do(ctx, c.accept)
}

// Reject refuses an incoming call that rings, with reason (ReasonUnknown
// means decline): a JMI reject, or a session-terminate.
func (c *Call) Reject(ctx context.Context, reason jingle.ReasonCondition) error {
	if reason == jingle.ReasonUnknown {
		reason = jingle.ReasonDecline
	}
	return c.do(ctx, func() error { return c.reject(reason) })
}

// Retract withdraws an outgoing JMI propose that no resource proceeded
// with yet.
func (c *Call) Retract(ctx context.Context) error {
	return c.do(ctx, func() error {
		if !c.outgoing || !c.proposing {
			return ErrWrongState
		}
		return c.retract(jingle.ReasonCancel, "")
	})
}

// Hangup ends the call with reason (ReasonUnknown means success): a
// session-terminate (and a JMI finish for calls set up with JMI); before
// the session exists, a JMI retract or reject.
func (c *Call) Hangup(ctx context.Context, reason jingle.ReasonCondition) error {
	if reason == jingle.ReasonUnknown {
		reason = jingle.ReasonSuccess
	}
	return c.do(ctx, func() error { return c.hangup(reason) })
}

// AddMedia adds a content to the active session (content-add) and
// returns once it is sent; EventContentAccept or EventContentReject
// follows.
func (c *Call) AddMedia(ctx context.Context, medium string) error {
	if err := checkMedia([]string{medium}); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c.do(ctx, func() error { return c.addMedia(medium) })
}

// RestartICE restarts ICE: new local ICE credentials go out in a
// transport-info, and the other party answers with its own.
func (c *Call) RestartICE(ctx context.Context) error {
	return c.do(ctx, c.restartICE)
}

// SendInfo sends a session-info with an XEP-0167 payload (mute, hold, ...).
func (c *Call) SendInfo(ctx context.Context, info jingle.Info) error {
	return c.do(ctx, func() error {
		if !c.transition(jingle.ActionSessionInfo) {
			return ErrWrongState
		}
		i := info
		if err := c.sendJingle(&jingle.Jingle{Action: jingle.ActionSessionInfo, SID: c.sid, Initiator: c.initiator, Info: &i}, nil); err != nil {
			return err
		}
		kind := EventInfo
		if info.Kind == jingle.InfoRinging {
			kind = EventRinging
		}
		c.emit(Event{Kind: kind, Local: true, Info: info.Kind})
		return nil
	})
}

// SendData sends a text message on the call's data channel, waiting for
// the channel to open.
func (c *Call) SendData(ctx context.Context, text string) error {
	var dc *webrtc.DataChannel
	err := c.waitFor(ctx, func() (bool, error) {
		switch {
		case c.terminated:
			return true, ErrCallEnded
		case c.dc != nil && c.dcOpen:
			dc = c.dc
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if err := dc.SendText(text); err != nil {
		return err
	}
	c.mu.Lock()
	c.stats.DataMessagesSent++
	c.changed.notify()
	c.mu.Unlock()
	return nil
}

// start places an outgoing call: a JMI propose, or a session-initiate.
func (c *Call) start() error {
	if !c.jmi {
		return c.initiate()
	}
	m := jingle.JMI{Kind: jingle.JMIPropose, ID: c.sid}
	for _, md := range c.media {
		if md == MediaAudio || md == MediaVideo {
			m.Descriptions = append(m.Descriptions, jingle.Description{Media: md})
		}
	}
	if err := c.sendJMI(c.remote, m, receiptRequest, storeHint); err != nil {
		c.finish(Event{Local: true, Reason: jingle.ReasonConnectivityError, Text: "sending propose", Err: err})
		return err
	}
	c.proposing = true
	c.emit(Event{Kind: EventProposed, Local: true, Media: mediaList(c.media)})
	c.startTimer(c.p.cfg.RingTimeout, func() {
		if c.proposing {
			_ = c.retract(jingle.ReasonTimeout, "no answer")
		}
	})
	return nil
}

// initiate creates the offer and sends session-initiate.
func (c *Call) initiate() error {
	fail := func(err error) error {
		c.finish(Event{Local: true, Reason: jingle.ReasonFailedApplication, Text: err.Error(), Err: err})
		return err
	}
	if err := c.newPeerConnection(); err != nil {
		return fail(err)
	}
	for _, m := range c.media {
		var err error
		switch m {
		case MediaAudio, MediaVideo:
			err = c.addLocalTrack(m, nil)
		case MediaData:
			err = c.createDataChannel()
		}
		if err != nil {
			return fail(err)
		}
	}
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return fail(err)
	}
	if err := c.setLocal(offer); err != nil {
		return fail(err)
	}
	j, err := sdpxlate.SDPToJingle(c.localSD, c.toJingleOptions(jingle.ActionSessionInitiate))
	if err != nil {
		return fail(err)
	}
	if !c.transition(jingle.ActionSessionInitiate) {
		return fail(ErrWrongState)
	}
	err = c.sendJingle(j, func(err error) {
		if err != nil {
			c.finish(Event{Local: false, Reason: reasonForIQError(err), Text: "session-initiate refused", Err: err})
		}
	})
	if err != nil {
		return fail(err)
	}
	c.emit(Event{Kind: EventInitiated, Local: true, Media: mediaList(c.media)})
	return nil
}

// reasonForIQError maps the failure of our session-initiate to a reason.
func reasonForIQError(err error) jingle.ReasonCondition {
	var e *IQError
	switch {
	case errors.As(err, &e):
		return jingle.ReasonGeneralError
	case errors.Is(err, ErrIQTimeout):
		return jingle.ReasonTimeout
	}
	return jingle.ReasonConnectivityError
}

func mediaList(m []string) string {
	out := ""
	for i, s := range m {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// onPropose handles an incoming JMI propose: ringing, then proceed or
// reject, or wait for Accept/Reject.
func (c *Call) onPropose() {
	c.emit(Event{Kind: EventProposed, Media: mediaList(c.media)})
	if len(c.media) == 0 {
		_ = c.rejectJMI(jingle.ReasonUnsupportedApplications)
		return
	}
	if err := c.sendJMI(c.remote, jingle.JMI{Kind: jingle.JMIRinging, ID: c.sid}); err != nil {
		c.finish(Event{Local: true, Reason: jingle.ReasonConnectivityError, Err: err})
		return
	}
	c.emit(Event{Kind: EventRinging, Local: true})
	switch {
	case c.p.cfg.reject != jingle.ReasonUnknown:
		_ = c.reject(c.p.cfg.reject)
	case c.p.cfg.AutoAccept:
		_ = c.accept()
	default:
		c.startTimer(c.p.cfg.RingTimeout, func() {
			if c.ringing {
				_ = c.reject(jingle.ReasonTimeout)
			}
		})
	}
}

func (c *Call) accept() error {
	if c.outgoing || !c.ringing {
		return ErrWrongState
	}
	c.ringing = false
	c.stopTimer()
	if c.offer != nil {
		j := c.offer
		c.offer = nil
		return c.acceptOffer(j)
	}
	if !c.jmi {
		return ErrWrongState
	}
	if err := c.sendJMI(c.remote, jingle.JMI{Kind: jingle.JMIProceed, ID: c.sid}, storeHint); err != nil {
		c.finish(Event{Local: true, Reason: jingle.ReasonConnectivityError, Err: err})
		return err
	}
	c.proceeded = true
	c.emit(Event{Kind: EventProceed, Local: true})
	c.startTimer(c.p.cfg.RingTimeout, func() {
		if c.proceeded && c.State() == jingle.StateNone {
			c.finish(Event{Local: true, Reason: jingle.ReasonTimeout, Text: "no session-initiate after proceed"})
		}
	})
	return nil
}

func (c *Call) reject(reason jingle.ReasonCondition) error {
	if c.outgoing || !c.ringing {
		return ErrWrongState
	}
	c.ringing = false
	if c.offer != nil {
		c.offer = nil
		c.terminate(reason, "", nil)
		return nil
	}
	return c.rejectJMI(reason)
}

func (c *Call) rejectJMI(reason jingle.ReasonCondition) error {
	err := c.sendJMI(c.remote, jingle.JMI{Kind: jingle.JMIReject, ID: c.sid, Reason: &jingle.Reason{Condition: reason}}, storeHint)
	c.finish(Event{Local: true, Reason: reason, Err: err})
	return err
}

func (c *Call) retract(reason jingle.ReasonCondition, text string) error {
	c.proposing = false
	c.mu.Lock()
	to := c.remote.Bare()
	c.mu.Unlock()
	err := c.sendJMI(to, jingle.JMI{Kind: jingle.JMIRetract, ID: c.sid, Reason: &jingle.Reason{Condition: reason, Text: text}}, storeHint)
	c.finish(Event{Local: true, Reason: reason, Text: text, Err: err})
	return err
}

func (c *Call) hangup(reason jingle.ReasonCondition) error {
	switch {
	case c.outgoing && c.proposing:
		return c.retract(reason, "")
	case !c.outgoing && c.ringing:
		return c.reject(reason)
	case c.proceeded && c.State() == jingle.StateNone:
		return c.rejectJMI(reason)
	}
	c.terminate(reason, "", nil)
	return nil
}

// terminate ends the session with reason: session-terminate if the session
// exists (and JMI finish for calls set up with JMI), then the call ends.
func (c *Call) terminate(reason jingle.ReasonCondition, text string, cause error) {
	if st := c.State(); st == jingle.StatePending || st == jingle.StateActive {
		if c.transition(jingle.ActionSessionTerminate) {
			j := &jingle.Jingle{Action: jingle.ActionSessionTerminate, SID: c.sid, Reason: &jingle.Reason{Condition: reason, Text: text}}
			if err := c.sendJingle(j, func(error) {}); err != nil {
				c.log.Warn("sending session-terminate", "err", err)
			}
			if c.jmi {
				c.mu.Lock()
				to := c.remote.Bare()
				c.mu.Unlock()
				m := jingle.JMI{Kind: jingle.JMIFinish, ID: c.sid, Reason: &jingle.Reason{Condition: reason}}
				if err := c.sendJMI(to, m, storeHint); err != nil {
					c.log.Warn("sending finish", "err", err)
				}
			}
		}
	}
	c.finish(Event{Local: true, Reason: reason, Text: text, Err: cause})
}

// onMessageError handles an error bounce of one of our JMI messages.
func (c *Call) onMessageError(from jid.JID, err error) {
	if c.finished || !c.outgoing || !c.proposing {
		return
	}
	c.proposing = false
	c.finish(Event{Reason: jingle.ReasonConnectivityError, Text: "propose bounced", Err: err})
}

// onJMI handles ringing, proceed, reject, retract and finish.
func (c *Call) onJMI(from jid.JID, m *jingle.JMI) {
	if c.finished {
		return
	}
	c.mu.Lock()
	remote := c.remote
	c.mu.Unlock()
	if !from.Bare().Equal(remote.Bare()) || (remote.Resourcepart() != "" && !from.Equal(remote)) {
		c.log.Info("JMI message from another party ignored", "from", from.String(), "kind", m.Kind.String())
		return
	}
	reason := func(def jingle.ReasonCondition) (jingle.ReasonCondition, string) {
		if m.Reason != nil && m.Reason.Condition != jingle.ReasonUnknown {
			return m.Reason.Condition, m.Reason.Text
		}
		return def, ""
	}
	switch m.Kind {
	case jingle.JMIRinging:
		if c.outgoing {
			c.emit(Event{Kind: EventRinging})
		}
	case jingle.JMIProceed, jingle.JMIAccept:
		if !c.outgoing || !c.proposing {
			return
		}
		c.proposing = false
		c.stopTimer()
		c.mu.Lock()
		c.remote = from
		c.mu.Unlock()
		c.emit(Event{Kind: EventProceed, Text: from.String()})
		_ = c.initiate()
	case jingle.JMIReject:
		if c.outgoing && c.proposing {
			c.proposing = false
			r, text := reason(jingle.ReasonDecline)
			c.finish(Event{Reason: r, Text: text})
		}
	case jingle.JMIRetract:
		if !c.outgoing && c.State() == jingle.StateNone {
			r, text := reason(jingle.ReasonCancel)
			c.finish(Event{Reason: r, Text: text})
		}
	case jingle.JMIFinish:
		c.log.Debug("finish received")
	}
}

// onJingle handles an accepted incoming Jingle action.
func (c *Call) onJingle(j *jingle.Jingle) {
	if c.finished {
		return
	}
	switch j.Action {
	case jingle.ActionSessionInitiate:
		c.onInitiate(j)
	case jingle.ActionSessionAccept:
		c.onAccept(j)
	case jingle.ActionSessionTerminate:
		e := Event{Reason: jingle.ReasonUnknown}
		if j.Reason != nil {
			e.Reason, e.Text = j.Reason.Condition, j.Reason.Text
		}
		c.finish(e)
	case jingle.ActionSessionInfo:
		if j.Info != nil {
			if j.Info.Kind == jingle.InfoRinging {
				c.emit(Event{Kind: EventRinging, Info: j.Info.Kind})
			} else {
				c.emit(Event{Kind: EventInfo, Info: j.Info.Kind, Contents: nonEmpty(j.Info.Name)})
			}
		}
	case jingle.ActionTransportInfo:
		c.onTransportInfo(j)
	case jingle.ActionContentAdd:
		c.onContentAdd(j)
	case jingle.ActionContentAccept:
		c.onContentAccept(j)
	case jingle.ActionContentReject:
		c.onContentReject(j)
	case jingle.ActionContentRemove:
		c.onContentRemove(j)
	case jingle.ActionContentModify:
		c.onContentModify(j)
	case jingle.ActionTransportReplace:
		// Only ICE-UDP is supported: refuse the replacement.
		if c.transition(jingle.ActionTransportReject) {
			_ = c.sendJingle(&jingle.Jingle{Action: jingle.ActionTransportReject, SID: c.sid, Initiator: c.initiator, Contents: j.Contents}, nil)
		}
	default:
		c.log.Debug("Jingle action acknowledged and ignored", "action", j.Action.String())
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// onInitiate handles session-initiate: it rings, or accepts at once after a
// JMI proceed or with AutoAccept, or refuses with Config.Reject.
func (c *Call) onInitiate(j *jingle.Jingle) {
	if j.Initiator != "" {
		c.initiator = j.Initiator
	}
	c.emit(Event{Kind: EventInitiated, Media: mediaList(mediaOfJingle(j))})
	if !c.ringing {
		c.stopTimer()
		_ = c.acceptOffer(j)
		return
	}
	c.offer = j
	if c.p.cfg.reject != jingle.ReasonUnknown {
		_ = c.reject(c.p.cfg.reject)
		return
	}
	if !c.jmi && c.transition(jingle.ActionSessionInfo) {
		ring := &jingle.Jingle{Action: jingle.ActionSessionInfo, SID: c.sid, Initiator: c.initiator, Info: &jingle.Info{Kind: jingle.InfoRinging}}
		if err := c.sendJingle(ring, nil); err == nil {
			c.emit(Event{Kind: EventRinging, Local: true, Info: jingle.InfoRinging})
		}
	}
	if c.p.cfg.AutoAccept {
		_ = c.accept()
		return
	}
	if c.timer == nil {
		c.startTimer(c.p.cfg.RingTimeout, func() {
			if c.ringing {
				_ = c.reject(jingle.ReasonTimeout)
			}
		})
	}
}

// acceptOffer answers a session-initiate with session-accept.
func (c *Call) acceptOffer(j *jingle.Jingle) error {
	c.addMids(j)
	offer, err := sdpxlate.JingleToSDP(j, c.toSDPOptions(sdpxlate.SDPTypeOffer, nil))
	if err != nil {
		reason := jingle.ReasonFailedApplication
		switch {
		case errors.Is(err, sdpxlate.ErrUnsupportedApplication), errors.Is(err, sdpxlate.ErrNoMedia):
			reason = jingle.ReasonUnsupportedApplications
		case errors.Is(err, sdpxlate.ErrUnsupportedTransport):
			reason = jingle.ReasonUnsupportedTransports
		}
		c.terminate(reason, err.Error(), err)
		return err
	}
	fail := func(err error) error {
		c.terminate(jingle.ReasonFailedApplication, err.Error(), err)
		return err
	}
	if err := c.newPeerConnection(); err != nil {
		return fail(err)
	}
	if ensureBundle(offer) {
		c.log.Info("offer without BUNDLE group: all contents bundled (pion only does BUNDLE)")
	}
	if err := c.setRemote(webrtc.SDPTypeOffer, offer); err != nil {
		return fail(err)
	}
	c.attachTracks(offer)
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return fail(err)
	}
	if err := c.setLocal(answer); err != nil {
		return fail(err)
	}
	c.remoteSetup = opposite(setupOf(c.localSD))
	a, err := sdpxlate.SDPToJingle(c.localSD, c.toJingleOptions(jingle.ActionSessionAccept))
	if err != nil {
		return fail(err)
	}
	if !c.transition(jingle.ActionSessionAccept) {
		return fail(ErrWrongState)
	}
	err = c.sendJingle(a, func(err error) {
		if err != nil {
			c.finish(Event{Local: false, Reason: jingle.ReasonGeneralError, Text: "session-accept refused", Err: err})
		}
	})
	if err != nil {
		return fail(err)
	}
	c.emit(Event{Kind: EventAccepted, Local: true})
	return nil
}

// onAccept handles session-accept: the answer to our offer.
func (c *Call) onAccept(j *jingle.Jingle) {
	if j.Responder != "" {
		c.responder = j.Responder
	}
	answer, err := sdpxlate.JingleToSDP(j, c.toSDPOptions(sdpxlate.SDPTypeAnswer, c.localSD))
	if err == nil {
		err = c.setRemote(webrtc.SDPTypeAnswer, answer)
	}
	if err != nil {
		c.terminate(jingle.ReasonFailedApplication, err.Error(), err)
		return
	}
	c.remoteSetup = setupOf(answer)
	c.emit(Event{Kind: EventAccepted})
}

// onTransportInfo handles trickled candidates and ICE restarts.
func (c *Call) onTransportInfo(j *jingle.Jingle) {
	if c.remoteSD != nil && len(c.iceRestarts(j)) > 0 {
		c.onRemoteRestart(j)
		return
	}
	cands, err := c.remoteCandidates(j)
	if err != nil {
		c.log.Warn("transport-info", "err", err)
		return
	}
	c.addRemoteCandidates(cands)
}

// onRemoteRestart handles a transport-info with new ICE credentials: the
// answer to our restart, or the other party's restart, which we answer
// with our own new credentials.
func (c *Call) onRemoteRestart(j *jingle.Jingle) {
	upd, err := sdpxlate.Apply(c.remoteSD, j, c.toSDPOptions(sdpxlate.SDPTypeUnknown, nil))
	if err != nil {
		c.emit(Event{Kind: EventError, Err: fmt.Errorf("ICE restart: %w", err)})
		return
	}
	setSetup(upd, c.remoteSetup)
	if c.restarting {
		c.restarting = false
		if err := c.setRemote(webrtc.SDPTypeAnswer, upd); err != nil {
			c.emit(Event{Kind: EventError, Err: fmt.Errorf("ICE restart answer: %w", err)})
			return
		}
		c.emit(Event{Kind: EventICERestart, Contents: contentNames(j)})
		return
	}
	c.emit(Event{Kind: EventICERestart, Contents: contentNames(j)})
	if err := c.renegotiateAsAnswerer(upd); err != nil {
		c.emit(Event{Kind: EventError, Err: fmt.Errorf("ICE restart: %w", err)})
		return
	}
	ti, err := sdpxlate.SDPToTransportInfo(c.localSD, nil, c.transportInfoOptions())
	if err != nil {
		c.emit(Event{Kind: EventError, Err: fmt.Errorf("ICE restart: %w", err)})
		return
	}
	stripCandidates(ti)
	if !c.transition(jingle.ActionTransportInfo) {
		return
	}
	if err := c.sendJingle(ti, nil); err == nil {
		c.emit(Event{Kind: EventICERestart, Local: true, Contents: contentNames(ti)})
	}
}

// restartICE starts an ICE restart.
func (c *Call) restartICE() error {
	if c.State() != jingle.StateActive || c.restarting || c.pc == nil || c.pc.SignalingState() != webrtc.SignalingStateStable {
		return ErrWrongState
	}
	offer, err := c.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		return err
	}
	if err := c.setLocal(offer); err != nil {
		return err
	}
	ti, err := sdpxlate.SDPToTransportInfo(c.localSD, nil, c.transportInfoOptions())
	if err == nil && !c.transition(jingle.ActionTransportInfo) {
		err = ErrWrongState
	}
	if err != nil {
		c.terminate(jingle.ReasonFailedTransport, "ICE restart failed", err)
		return err
	}
	stripCandidates(ti)
	c.restarting = true
	// Our ICE agent has new credentials now: without the other party's,
	// the connection cannot go on.
	err = c.sendJingle(ti, func(err error) {
		if err != nil && c.restarting {
			c.terminate(jingle.ReasonFailedTransport, "ICE restart refused", err)
		}
	})
	if err != nil {
		c.terminate(jingle.ReasonFailedTransport, "ICE restart not sent", err)
		return err
	}
	c.emit(Event{Kind: EventICERestart, Local: true, Contents: contentNames(ti)})
	return nil
}

// addMedia sends content-add for a new medium.
func (c *Call) addMedia(medium string) error {
	c.mu.Lock()
	busy := c.state != jingle.StateActive || c.neg.Pending != jingle.ActionUnknown
	c.mu.Unlock()
	if busy || c.restarting || c.pc == nil || c.pc.SignalingState() != webrtc.SignalingStateStable {
		return ErrWrongState
	}
	var err error
	switch medium {
	case MediaData:
		if c.dcExists() {
			return fmt.Errorf("%w: the call has a data channel", ErrWrongState)
		}
		err = c.createDataChannel()
	default:
		err = c.addLocalTrack(medium, nil)
	}
	if err != nil {
		return err
	}
	old := c.localSD
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := c.setLocal(offer); err != nil {
		return err
	}
	msgs, err := sdpxlate.Diff(old, c.localSD, c.toJingleOptions(jingle.ActionUnknown))
	var add *jingle.Jingle
	for _, m := range msgs {
		if m.Action == jingle.ActionContentAdd {
			add = m
		} else {
			c.log.Debug("renegotiation message not sent", "action", m.Action.String())
		}
	}
	if err == nil && add == nil {
		err = errors.New("jinglepeer: the new offer adds no content")
	}
	if err != nil {
		c.rollback()
		return err
	}
	stripCandidates(add)
	names := contentNames(add)
	c.adding = names
	for _, n := range names {
		c.creators[n] = c.role
	}
	if !c.transition(jingle.ActionContentAdd) {
		c.rollback()
		return ErrWrongState
	}
	failed := func() {
		c.mu.Lock()
		c.neg = jingle.Negotiation{}
		c.mu.Unlock()
		c.rollback()
	}
	err = c.sendJingle(add, func(err error) {
		if err != nil && c.adding != nil {
			failed()
			c.emit(Event{Kind: EventError, Err: fmt.Errorf("content-add: %w", err)})
		}
	})
	if err != nil {
		failed()
		return err
	}
	c.emit(Event{Kind: EventContentAdd, Local: true, Contents: names, Media: medium})
	return nil
}

// rollback ends our pending offer (a content-add that could not be sent,
// was refused or rejected) and stops the contents it added. Pion has no
// rollback, so the offer is answered locally with the current remote
// description, the new m-sections rejected (port 0, inactive).
func (c *Call) rollback() {
	defer func() { c.adding = nil }()
	if c.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer && c.remoteSD != nil {
		answer, err := rejectingAnswer(c.remoteSD, c.localSD)
		if err == nil {
			setSetup(answer, c.remoteSetup)
			err = c.setRemote(webrtc.SDPTypeAnswer, answer)
		}
		if err != nil {
			c.log.Warn("answering our own offer to withdraw it", "err", err)
		}
	}
	for _, n := range c.adding {
		t := c.transceiver(c.midOf(n))
		if t == nil {
			// The data channel's m-section has no transceiver.
			c.mu.Lock()
			dc := c.dc
			c.dc, c.dcOpen = nil, false
			c.mu.Unlock()
			if dc != nil {
				_ = dc.Close()
			}
			continue
		}
		if err := t.Stop(); err != nil {
			c.log.Warn("stopping a withdrawn content", "content", n, "err", err)
		}
	}
}

// rejectingAnswer answers offer with remote, the current remote
// description, plus a rejected m-section for each m-section of the offer
// that remote does not have.
func rejectingAnswer(remote, offer *sdp.SessionDescription) (*sdp.SessionDescription, error) {
	text, err := sdpxlate.MarshalSDP(remote)
	if err != nil {
		return nil, err
	}
	answer, err := sdpxlate.ParseSDP(text)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, md := range answer.MediaDescriptions {
		if mid, ok := md.Attribute("mid"); ok {
			have[mid] = true
		}
	}
	for _, md := range offer.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		if have[mid] {
			continue
		}
		rej := &sdp.MediaDescription{MediaName: md.MediaName, ConnectionInformation: md.ConnectionInformation}
		rej.MediaName.Port = sdp.RangedPort{Value: 0}
		rej.Attributes = append(rej.Attributes, sdp.NewAttribute("mid", mid), sdp.NewPropertyAttribute("inactive"))
		for _, a := range md.Attributes {
			if a.Key == "rtpmap" || a.Key == "fmtp" {
				rej.Attributes = append(rej.Attributes, a)
			}
		}
		answer.MediaDescriptions = append(answer.MediaDescriptions, rej)
	}
	return answer, nil
}

// onContentAdd answers a content-add from the other party: it accepts the
// media it can take with content-accept.
func (c *Call) onContentAdd(j *jingle.Jingle) {
	names := contentNames(j)
	c.emit(Event{Kind: EventContentAdd, Contents: names, Media: mediaList(mediaOfJingle(j))})
	for _, ct := range j.Contents {
		cr := ct.Creator
		if cr == jingle.RoleUnknown {
			cr = c.role.Other()
		}
		c.creators[ct.Name] = cr
	}
	refuse := func(err error) {
		c.log.Warn("content-add refused", "err", err)
		if c.transition(jingle.ActionContentReject) {
			rej := &jingle.Jingle{Action: jingle.ActionContentReject, SID: c.sid, Initiator: c.initiator,
				Reason: &jingle.Reason{Condition: jingle.ReasonFailedApplication, Text: err.Error()}}
			for _, ct := range j.Contents {
				rej.Contents = append(rej.Contents, jingle.Content{Creator: ct.Creator, Name: ct.Name})
			}
			if c.sendJingle(rej, nil) == nil {
				c.emit(Event{Kind: EventContentReject, Local: true, Contents: names, Reason: jingle.ReasonFailedApplication, Err: err})
			}
		}
	}
	c.addMids(j)
	upd, err := sdpxlate.Apply(c.remoteSD, j, c.toSDPOptions(sdpxlate.SDPTypeOffer, nil))
	if err != nil {
		refuse(err)
		return
	}
	setSetup(upd, c.remoteSetup)
	if err := c.renegotiateAsAnswerer(upd); err != nil {
		refuse(err)
		return
	}
	acc, err := sdpxlate.SDPToJingle(c.localSD, c.toJingleOptions(jingle.ActionContentAccept))
	if err != nil {
		refuse(err)
		return
	}
	acc.Contents = slices.DeleteFunc(acc.Contents, func(ct jingle.Content) bool { return !slices.Contains(names, ct.Name) })
	stripCandidates(acc)
	if !c.transition(jingle.ActionContentAccept) {
		return
	}
	if c.sendJingle(acc, nil) == nil {
		c.emit(Event{Kind: EventContentAccept, Local: true, Contents: contentNames(acc)})
	}
}

// onContentAccept handles the answer to our content-add.
func (c *Call) onContentAccept(j *jingle.Jingle) {
	upd, err := sdpxlate.Apply(c.remoteSD, j, c.toSDPOptions(sdpxlate.SDPTypeAnswer, c.localSD))
	if err == nil {
		setSetup(upd, c.remoteSetup)
		err = c.setRemote(webrtc.SDPTypeAnswer, upd)
	}
	c.adding = nil
	if err != nil {
		c.emit(Event{Kind: EventError, Err: fmt.Errorf("content-accept: %w", err)})
		return
	}
	c.emit(Event{Kind: EventContentAccept, Contents: contentNames(j)})
}

// onContentReject handles the refusal of our content-add.
func (c *Call) onContentReject(j *jingle.Jingle) {
	e := Event{Kind: EventContentReject, Contents: contentNames(j)}
	if j.Reason != nil {
		e.Reason, e.Text = j.Reason.Condition, j.Reason.Text
	}
	c.rollback()
	c.emit(e)
}

// onContentRemove stops the removed contents.
func (c *Call) onContentRemove(j *jingle.Jingle) {
	names := contentNames(j)
	if upd, err := sdpxlate.Apply(c.remoteSD, j, c.toSDPOptions(sdpxlate.SDPTypeUnknown, nil)); err == nil {
		c.remoteSD = upd
		c.recordRemote(upd)
	} else {
		c.log.Warn("content-remove", "err", err)
	}
	for _, n := range names {
		if t := c.transceiver(c.midOf(n)); t != nil {
			if err := t.Stop(); err != nil {
				c.log.Warn("stopping a removed content", "content", n, "err", err)
			}
		}
	}
	e := Event{Kind: EventContentRemove, Contents: names}
	if j.Reason != nil {
		e.Reason, e.Text = j.Reason.Condition, j.Reason.Text
	}
	c.emit(e)
}

// onContentModify applies new senders and renegotiates the directions.
func (c *Call) onContentModify(j *jingle.Jingle) {
	upd, err := sdpxlate.Apply(c.remoteSD, j, c.toSDPOptions(sdpxlate.SDPTypeOffer, nil))
	if err == nil {
		setSetup(upd, c.remoteSetup)
		err = c.renegotiateAsAnswerer(upd)
	}
	if err != nil {
		c.emit(Event{Kind: EventError, Err: fmt.Errorf("content-modify: %w", err)})
	}
	c.emit(Event{Kind: EventContentModify, Contents: contentNames(j)})
}

// stripCandidates removes the candidates pion writes into descriptions
// made after gathering (renegotiations, ICE restarts): candidates are only
// ever trickled, one transport-info each, and those of a restart belong to
// the new credentials only once gathered again.
func stripCandidates(j *jingle.Jingle) {
	for i := range j.Contents {
		if tr := j.Contents[i].Transport; tr != nil {
			tr.Candidates = nil
			tr.GatheringComplete = false
		}
	}
}

func contentNames(j *jingle.Jingle) []string {
	out := make([]string, 0, len(j.Contents))
	for _, ct := range j.Contents {
		out = append(out, ct.Name)
	}
	return out
}

func (c *Call) transportInfoOptions() sdpxlate.TransportInfoOptions {
	return sdpxlate.TransportInfoOptions{
		SID: c.sid, Initiator: c.initiator, Responder: c.responder,
		Creators: c.creators, Names: sdpxlate.Invert(c.mids), Local: c.localSD, OnLoss: c.loss,
	}
}

// toJingleOptions are the options to translate our descriptions: our role,
// the session's parties, the creators of contents, and the content names
// of the m-sections whose a=mid is not the name.
func (c *Call) toJingleOptions(a jingle.Action) sdpxlate.ToJingleOptions {
	return sdpxlate.ToJingleOptions{
		Action: a, Role: c.role, SID: c.sid, Initiator: c.initiator, Responder: c.responder,
		Creators: c.creators, Names: sdpxlate.Invert(c.mids), OnLoss: c.loss,
	}
}

// toSDPOptions are the options to translate the other party's Jingle.
func (c *Call) toSDPOptions(t sdpxlate.SDPType, offer *sdp.SessionDescription) sdpxlate.ToSDPOptions {
	return sdpxlate.ToSDPOptions{Role: c.role.Other(), Type: t, Offer: offer, Mids: c.mids, OnLoss: c.loss}
}

// addMids records the a=mid of the other party's contents whose name
// browsers (and pion) would refuse as a mid.
func (c *Call) addMids(j *jingle.Jingle) {
	for name, mid := range sdpxlate.SDPMids(j) {
		c.mids[name] = mid
	}
}

// midOf returns the a=mid of a content.
func (c *Call) midOf(name string) string {
	if m, ok := c.mids[name]; ok {
		return m
	}
	return name
}

func (c *Call) loss(l sdpxlate.Loss) {
	c.log.Debug("translation loss", "loss", l.String())
}
