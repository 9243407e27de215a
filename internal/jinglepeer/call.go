package jinglepeer

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

const (
	// eventBuffer is the capacity of the Events channel.
	eventBuffer = 1024
	// maxDataMessages is how many received data channel messages a call
	// keeps for DataMessages.
	maxDataMessages = 256
)

// Stats are the media counters of a call.
type Stats struct {
	// RTP packets and payload bytes received, by kind.
	AudioPacketsReceived, VideoPacketsReceived uint64
	AudioBytesReceived, VideoBytesReceived     uint64
	// AudioSent and VideoSent count what was written to the local tracks:
	// media samples (an Opus frame, a VP8 frame) when playing the test
	// media, RTP packets when echoing.
	AudioSent, VideoSent uint64
	// Data channel messages received and sent (echoes included).
	DataMessagesReceived, DataMessagesSent uint64
}

// Call is one Jingle session, from its JMI propose (if any) to its end. Its
// signalling and WebRTC work runs in order on one goroutine; its methods
// are safe for concurrent use. The methods that act (Accept, Hangup,
// AddMedia, ...) queue their work and wait for it: if ctx ends first they
// return ctx.Err(), and the work may still be done.
type Call struct {
	p        *Peer
	sid      string
	role     jingle.Role // ours
	outgoing bool
	jmi      bool
	log      *slog.Logger

	queue     opQueue
	done      chan struct{} // closed when the call is over and released
	mediaDone chan struct{} // closed to stop the players
	mediaWG   sync.WaitGroup
	changed   watch
	events    chan Event

	mu          sync.Mutex
	remote      jid.JID // bare while a propose waits for proceed
	media       []string
	state       jingle.SessionState
	neg         jingle.Negotiation
	history     []Event
	terminated  bool // EventTerminated was emitted
	closing     bool // no more media goroutines
	stanzas     []Stanza
	pcState     webrtc.PeerConnectionState
	iceState    webrtc.ICEConnectionState
	localCands  []string
	remoteCands []string
	localSDP    string
	remoteSDP   string
	stats       Stats
	dataMsgs    []string
	dc          *webrtc.DataChannel
	dcOpen      bool
	echo        map[string]*webrtc.TrackLocalStaticRTP
	remoteVideo webrtc.SSRC

	// Owned by the loop goroutine.
	finished     bool
	ringing      bool // incoming, waiting for Accept or Reject
	proposing    bool // outgoing JMI, waiting for proceed
	proceeded    bool // incoming JMI, proceed sent, waiting for session-initiate
	offer        *jingle.Jingle
	initiator    string
	responder    string
	pc           *webrtc.PeerConnection
	localSD      *sdp.SessionDescription
	remoteSD     *sdp.SessionDescription
	remoteSetup  string
	pendingCands []sdpxlate.ICECandidate
	restarting   bool
	adding       []string
	creators     map[string]jingle.Role // by content name
	mids         map[string]string      // content name -> a=mid, where they differ
	players      []*player
	connected    bool
	timer        *time.Timer
	trackSeq     int
}

type player struct {
	kind    string
	track   *webrtc.TrackLocalStaticSample
	started bool
}

func newCall(p *Peer, sid string, role jingle.Role, remote jid.JID, jmi bool, media []string) *Call {
	c := &Call{
		p:         p,
		sid:       sid,
		role:      role,
		outgoing:  role == jingle.RoleInitiator,
		jmi:       jmi,
		log:       p.log.With("sid", sid, "remote", remote.String()),
		done:      make(chan struct{}),
		mediaDone: make(chan struct{}),
		events:    make(chan Event, eventBuffer),
		remote:    remote,
		media:     media,
		pcState:   webrtc.PeerConnectionStateNew,
		iceState:  webrtc.ICEConnectionStateNew,
		echo:      map[string]*webrtc.TrackLocalStaticRTP{},
		creators:  map[string]jingle.Role{},
		mids:      map[string]string{},
	}
	c.queue.wake = make(chan struct{}, 1)
	if c.outgoing {
		c.initiator = p.self.String()
	} else {
		c.initiator = remote.String()
		c.responder = p.self.String()
	}
	return c
}

// SID is the Jingle session id (the JMI id).
func (c *Call) SID() string { return c.sid }

// Peer is the other party: a full JID, or the bare JID a propose went to
// until a resource proceeds.
func (c *Call) Peer() jid.JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// Role is this peer's role: initiator for outgoing calls.
func (c *Call) Role() jingle.Role { return c.role }

// Outgoing reports whether this peer placed the call.
func (c *Call) Outgoing() bool { return c.outgoing }

// JMI reports whether the call was set up with XEP-0353.
func (c *Call) JMI() bool { return c.jmi }

// Media are the media of the call as proposed or offered.
func (c *Call) Media() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.media)
}

// State is the Jingle session state: none until session-initiate.
func (c *Call) State() jingle.SessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// ConnectionState is the WebRTC peer connection state.
func (c *Call) ConnectionState() webrtc.PeerConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pcState
}

// ICEConnectionState is the ICE connection state.
func (c *Call) ICEConnectionState() webrtc.ICEConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.iceState
}

// Done is closed when the call is over and its resources are released.
func (c *Call) Done() <-chan struct{} { return c.done }

// Events delivers the events of the call as they happen; it is closed
// after EventTerminated. It holds 1024 events: if nobody reads, later
// events only reach History.
func (c *Call) Events() <-chan Event { return c.events }

// History returns every event so far.
func (c *Call) History() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.history)
}

// Stanzas returns the Jingle and JMI stanzas of the call sent and
// received so far, with the IQ results and errors that answer them (the
// last 4096).
func (c *Call) Stanzas() []Stanza {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.stanzas)
}

// Stats returns the media counters.
func (c *Call) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// DataMessages returns the data channel messages received (the last 256).
func (c *Call) DataMessages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.dataMsgs)
}

// LocalCandidates are the ICE candidates this peer gathered, as SDP
// candidate lines.
func (c *Call) LocalCandidates() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.localCands)
}

// RemoteCandidates are the ICE candidates the other party trickled.
func (c *Call) RemoteCandidates() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.remoteCands)
}

// LocalSDP is the last local description given to WebRTC (without
// trickled candidates); RemoteSDP the last remote one, as translated from
// Jingle.
func (c *Call) LocalSDP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.localSDP
}

// RemoteSDP: see LocalSDP.
func (c *Call) RemoteSDP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteSDP
}

// Wait returns the first event of the given kind, waiting for it if it has
// not happened. It fails with ErrCallEnded if the call ends without one.
func (c *Call) Wait(ctx context.Context, kind EventKind) (Event, error) {
	return c.WaitCount(ctx, kind, 1)
}

// WaitCount returns the n-th event of the given kind (from 1), waiting for
// it if needed, e.g. the second EventConnected after an ICE restart.
func (c *Call) WaitCount(ctx context.Context, kind EventKind, n int) (Event, error) {
	var ev Event
	err := c.waitFor(ctx, func() (bool, error) {
		seen := 0
		for _, e := range c.history {
			if e.Kind == kind {
				seen++
				if seen == n {
					ev = e
					return true, nil
				}
			}
		}
		if c.terminated {
			return true, fmt.Errorf("%w before %s #%d", ErrCallEnded, kind, n)
		}
		return false, nil
	})
	return ev, err
}

// WaitConnected waits until the peer connection is connected (ICE and
// DTLS done).
func (c *Call) WaitConnected(ctx context.Context) error {
	return c.waitFor(ctx, func() (bool, error) {
		switch {
		case c.pcState == webrtc.PeerConnectionStateConnected:
			return true, nil
		case c.terminated:
			return true, fmt.Errorf("%w before connecting", ErrCallEnded)
		case c.pcState == webrtc.PeerConnectionStateFailed:
			return true, fmt.Errorf("jinglepeer: connection failed")
		}
		return false, nil
	})
}

// WaitStats waits until cond holds for the media counters and returns
// them.
func (c *Call) WaitStats(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	var s Stats
	err := c.waitFor(ctx, func() (bool, error) {
		s = c.stats
		if cond(s) {
			return true, nil
		}
		if c.terminated {
			return true, fmt.Errorf("%w: stats %+v", ErrCallEnded, s)
		}
		return false, nil
	})
	return s, err
}

// waitFor evaluates cond under c.mu each time the call changes until it
// reports done.
func (c *Call) waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		c.mu.Lock()
		ok, err := cond()
		ch := c.changed.wait()
		c.mu.Unlock()
		if ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// emit records an event and publishes it. Nothing follows EventTerminated.
func (c *Call) emit(e Event) {
	e.Time = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return
	}
	if e.Kind == EventTerminated {
		c.terminated = true
	}
	c.history = append(c.history, e)
	select {
	case c.events <- e:
	default:
		c.log.Warn("event not delivered: Events is full", "event", e.String())
	}
	c.changed.notify()
	c.log.Debug("event", "event", e.String())
}

func (c *Call) logStanza(s Stanza) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stanzas = appendBounded(c.stanzas, s, maxStanzaLog)
	c.changed.notify()
}

// do runs f on the call's goroutine and returns its error.
func (c *Call) do(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	if !c.queue.push(func() { res <- f() }) {
		return ErrCallEnded
	}
	select {
	case err := <-res:
		return err
	case <-c.done:
		select {
		case err := <-res:
			return err
		default:
			return ErrCallEnded
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop runs the call's operations in order until the call is finished,
// then releases its resources.
func (c *Call) loop() {
	defer c.p.calls.Done()
	defer c.cleanup()
	for !c.finished {
		<-c.queue.wake
		for _, op := range c.queue.take() {
			if c.finished {
				break
			}
			op()
		}
	}
}

func (c *Call) cleanup() {
	c.queue.close()
	c.stopTimer()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	close(c.mediaDone)
	if c.pc != nil {
		if err := c.pc.Close(); err != nil {
			c.log.Warn("closing the peer connection", "err", err)
		}
	}
	c.mediaWG.Wait()
	c.p.removeCall(c)
	c.mu.Lock()
	close(c.events)
	c.changed.notify()
	c.mu.Unlock()
	close(c.done)
}

// shutdown ends the call because the peer stops: hung up if the stream
// still works, else ended locally.
func (c *Call) shutdown(canSend bool) {
	if !c.queue.push(func() {
		if canSend {
			c.hangup(jingle.ReasonGone)
			return
		}
		c.finish(Event{Kind: EventTerminated, Local: true, Reason: jingle.ReasonConnectivityError, Text: "the XMPP stream ended"})
	}) {
		return
	}
}

// finish ends the call: the state becomes ended and e (EventTerminated)
// is emitted. The loop then releases the call.
func (c *Call) finish(e Event) {
	if c.finished {
		return
	}
	c.finished = true
	c.stopTimer()
	c.mu.Lock()
	c.state = jingle.StateEnded
	c.mu.Unlock()
	e.Kind = EventTerminated
	c.emit(e)
	if e.Err != nil {
		c.log.Info("call ended", "reason", e.Reason.String(), "local", e.Local, "err", e.Err)
	} else {
		c.log.Info("call ended", "reason", e.Reason.String(), "local", e.Local)
	}
}

// transition applies one of our own actions to the session state. It
// reports false if the state machine refuses it.
func (c *Call) transition(a jingle.Action) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tr := jingle.Next(c.state, c.neg, c.role, a)
	if tr.Cond != jingle.CondUnknown || tr.FeatureNotImplemented {
		c.log.Warn("own action refused by the state machine", "action", a.String(), "state", c.state.String(), "cond", tr.Cond.String())
		return false
	}
	c.state, c.neg = tr.State, tr.Neg
	return true
}

// receive applies an incoming Jingle IQ to the session state, on the
// handler's goroutine. It returns the reply, and the work to queue if the
// action is accepted.
func (c *Call) receive(iq stanza.IQ, j *jingle.Jingle, toks tokens) (xml.TokenReader, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote.Resourcepart() == "" || !iq.From.Equal(c.remote) {
		return jingle.ErrorReply(iq, jingle.CondUnknownSession), nil
	}
	if j.Action == jingle.ActionSessionInfo && j.Info == nil && jingleHasPayload(toks) &&
		c.state != jingle.StateNone && c.state != jingle.StateEnded {
		return jingle.ErrorReply(iq, jingle.CondUnsupportedInfo), nil
	}
	tr := jingle.Next(c.state, c.neg, c.role.Other(), j.Action)
	if tr.FeatureNotImplemented {
		return iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.FeatureNotImplemented}), nil
	}
	if tr.Cond != jingle.CondUnknown {
		return jingle.ErrorReply(iq, tr.Cond), nil
	}
	c.state, c.neg = tr.State, tr.Neg
	c.changed.notify()
	return iq.Result(nil), func() { c.onJingle(j) }
}

// sendJingle sends a Jingle IQ to the other party. onResult, if not nil,
// runs on the call's goroutine with the outcome; without it a failure is
// reported as EventError.
func (c *Call) sendJingle(j *jingle.Jingle, onResult func(error)) error {
	c.mu.Lock()
	to := c.remote
	c.mu.Unlock()
	iq := jingle.IQ{IQ: stanza.IQ{ID: randomID(), To: to, Type: stanza.SetIQ}, Jingle: *j}
	toks, err := readAll(iq.TokenReader())
	if err != nil {
		return err
	}
	s := stanzaOf(Out, toks)
	s.Action, s.SID = j.Action.String(), c.sid
	c.p.logStanza(c, s)
	action := j.Action
	return c.p.sendIQ(iq.ID, to, toks, &pendingIQ{call: c, action: s.Action, sid: c.sid, cb: func(_ tokens, err error) {
		if err == nil && onResult == nil {
			return
		}
		c.queue.push(func() {
			if onResult != nil {
				onResult(err)
				return
			}
			c.log.Warn("Jingle IQ failed", "action", action.String(), "err", err)
			c.emit(Event{Kind: EventError, Local: true, Err: fmt.Errorf("%s: %w", action, err)})
		})
	}})
}

// sendJMI sends an XEP-0353 message.
func (c *Call) sendJMI(to jid.JID, m jingle.JMI, extra ...xml.StartElement) error {
	id := randomID()
	if m.Kind == jingle.JMIPropose {
		id = "jm-propose-" + c.sid
	}
	payload := []xml.TokenReader{m.TokenReader()}
	for _, e := range extra {
		payload = append(payload, xmlstream.Wrap(nil, e))
	}
	msg := stanza.Message{ID: id, To: to, Type: stanza.ChatMessage}
	toks, err := readAll(msg.Wrap(xmlstream.MultiReader(payload...)))
	if err != nil {
		return err
	}
	s := stanzaOf(Out, toks)
	s.Action, s.SID = m.Kind.String(), c.sid
	c.p.logStanza(c, s)
	return c.p.send(toks)
}

var (
	receiptRequest = xml.StartElement{Name: xml.Name{Space: nsReceipts, Local: "request"}}
	storeHint      = xml.StartElement{Name: xml.Name{Space: nsHints, Local: "store"}}
)

// startTimer arms the call's one timer (ring or proceed timeout).
func (c *Call) startTimer(d time.Duration, f func()) {
	c.stopTimer()
	c.timer = time.AfterFunc(d, func() { c.queue.push(f) })
}

func (c *Call) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// opQueue is an unbounded FIFO of operations with a wake-up signal, so
// that the XMPP handler and pion's callbacks never block on the call.
type opQueue struct {
	mu     sync.Mutex
	ops    []func()
	closed bool
	wake   chan struct{}
}

// push queues op; it reports false if the call is over.
func (q *opQueue) push(op func()) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.ops = append(q.ops, op)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

func (q *opQueue) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	ops := q.ops
	q.ops = nil
	return ops
}

func (q *opQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.ops = nil
}

// watch is a broadcast of "something changed": wait returns a channel
// closed by the next notify. It allocates only when someone waits.
type watch struct {
	mu sync.Mutex
	ch chan struct{}
}

func (w *watch) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

func (w *watch) notify() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}
