package wsapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"mellium.im/xmpp/jid"
)

// Tab is one user session: a browser tab with its own full JID. It outlives
// its WebSocket connection for the resume grace period, and ends when
// [Handler.TabClosed] is called.
type Tab struct {
	srv      *Server
	user     string
	name     string
	jid      jid.JID
	resource string
	created  time.Time
	limiter  *rate.Limiter // messages
	strikes  *rate.Limiter // messages refused by limiter
	done     chan struct{}

	handleMu sync.Mutex // serialises Handler calls

	mu         sync.Mutex
	conn       *conn   // attached connection; nil while detached
	seq        uint64  // last seq assigned
	buf        []frame // unacknowledged messages, by seq
	acked      uint64  // highest seq acknowledged by the browser
	evicted    uint64  // highest seq dropped from buf without an ack
	secret     []byte  // current resume secret
	sids       map[string]struct{}
	closed     bool
	grace      *time.Timer
	graceGen   uint64
	detachedAt time.Time
	cancel     context.CancelFunc // of the Handler call in progress
}

type frame struct {
	seq  uint64
	data []byte
}

// TabInfo describes a tab.
type TabInfo struct {
	Resource  string
	JID       jid.JID
	Name      string
	Connected bool
	Created   time.Time
	LastSeq   uint64
	SIDs      []string
}

// User returns the user's localpart.
func (t *Tab) User() string { return t.user }

// Name returns the display name from the token, if any.
func (t *Tab) Name() string { return t.name }

// JID returns the tab's full JID, user@domain/resource.
func (t *Tab) JID() jid.JID { return t.jid }

// Resource returns the JID's resourcepart: random and unguessable.
func (t *Tab) Resource() string { return t.resource }

// Done is closed when the tab's session has ended.
func (t *Tab) Done() <-chan struct{} { return t.done }

// Connected reports whether a WebSocket is attached now.
func (t *Tab) Connected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn != nil
}

// Info describes the tab.
func (t *Tab) Info() TabInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	ti := TabInfo{Resource: t.resource, JID: t.jid, Name: t.name, Connected: t.conn != nil, Created: t.created, LastSeq: t.seq}
	for sid := range t.sids {
		ti.SIDs = append(ti.SIDs, sid)
	}
	return ti
}

// Send queues msg for the browser and assigns it the next seq. It never
// blocks. msg is one of the message structs of this package or anything that
// marshals to a JSON object whose "type" is a server-to-client type. Sending
// Incoming makes the tab own its sid; sending Hangup releases it.
//
// While the browser is disconnected the message waits in the replay buffer.
// If that overflows, the session ends (CloseOverflow) and Send returns
// ErrReplayOverflow.
func (t *Tab) Send(msg any) error {
	o, err := encode(msg)
	if err != nil {
		return err
	}
	return t.send(o)
}

// OwnSID lets the tab send messages about the call sid. The application calls
// it for each tab it involves in a call; call messages from the browser own
// their sid automatically, and so does sending Incoming.
func (t *Tab) OwnSID(sid string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrTabClosed
	}
	t.sids[sid] = struct{}{}
	return nil
}

// ReleaseSID ends the tab's ownership of sid: further messages about it are
// answered not-found. Sending Hangup, and a hangup or reject from the browser
// that the Handler accepted, release the sid automatically.
func (t *Tab) ReleaseSID(sid string) {
	t.mu.Lock()
	delete(t.sids, sid)
	t.mu.Unlock()
}

// OwnsSID reports whether the tab owns sid.
func (t *Tab) OwnsSID(sid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.sids[sid]
	return ok
}

// Close ends the tab's session (CloseApp): its connection is closed with
// 1000 and Handler.TabClosed is called, from another goroutine.
func (t *Tab) Close() {
	t.srv.endTab(t, CloseApp, nil, true)
}

func (t *Tab) send(o outgoing) error {
	s := t.srv
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrTabClosed
	}
	var kick *conn
	endNow := false
	if len(t.buf) >= s.opts.ReplayBuffer {
		switch oldest := t.buf[0]; {
		case t.conn != nil && oldest.seq <= t.conn.sent:
			// Sent but never acknowledged: drop it. A resume from before it
			// is no longer possible.
			t.evicted = oldest.seq
			t.buf[0] = frame{}
			t.buf = t.buf[1:]
		case t.conn != nil:
			kick = t.conn
		default:
			t.mu.Unlock()
			s.log.Warn("replay buffer overflow on a disconnected tab; ending its session", "jid", t.jid.String())
			s.endTab(t, CloseOverflow, func() bool { return t.conn == nil }, true)
			return ErrReplayOverflow
		}
	}
	t.seq++
	t.buf = append(t.buf, frame{seq: t.seq, data: withSeq(o.body, t.seq)})
	switch o.typ {
	case TypeIncoming:
		if o.sid != "" {
			t.sids[o.sid] = struct{}{}
		}
	case TypeHangup:
		delete(t.sids, o.sid)
	}
	c := t.conn
	if c != nil && kick == nil && t.seq-c.sent > uint64(s.opts.WriteQueue+c.allowance) {
		kick = c
	}
	if kick != nil {
		endNow = t.detachLocked(kick)
	}
	t.mu.Unlock()
	switch {
	case kick != nil:
		s.log.Info("browser too slow to read; disconnecting it (the session can resume)", "jid", t.jid.String())
		kick.kill()
		if endNow {
			s.endTab(t, CloseExpired, func() bool { return t.conn == nil }, true)
		}
	case c != nil:
		c.notify()
	}
	return nil
}

// take hands c the frames it has not written yet.
func (t *Tab) take(c *conn) []frame {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := len(t.buf)
	for i > 0 && t.buf[i-1].seq > c.sent {
		i--
	}
	if i == len(t.buf) {
		return nil
	}
	out := append([]frame(nil), t.buf[i:]...)
	c.sent = out[len(out)-1].seq
	return out
}

// ackTo records that the browser on c has processed every message up to n.
func (t *Tab) ackTo(c *conn, n uint64) *Error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n <= t.acked {
		return nil
	}
	if n > c.sent {
		return Errorf(CodeBadRequest, "ack %d is beyond the last message sent (%d)", n, c.sent)
	}
	t.pruneLocked(n)
	return nil
}

func (t *Tab) pruneLocked(n uint64) {
	i := 0
	for i < len(t.buf) && t.buf[i].seq <= n {
		t.buf[i] = frame{}
		i++
	}
	t.buf = t.buf[i:]
	if n > t.acked {
		t.acked = n
	}
}

// attachLocked makes c the tab's connection, the browser having seen every
// message up to lastSeq, and returns the session message for it.
func (t *Tab) attachLocked(c *conn, lastSeq uint64, resumed bool) {
	s := t.srv
	if lastSeq < t.acked {
		lastSeq = t.acked
	}
	t.pruneLocked(lastSeq)
	c.tab = t
	c.sent = lastSeq
	c.allowance = len(t.buf)
	t.conn = c
	t.graceGen++
	if t.grace != nil {
		t.grace.Stop()
		t.grace = nil
	}
	t.secret = randomBytes(32)
	resume := ""
	if s.opts.ResumeGrace > 0 {
		resume = t.resource + "." + b64(t.secret)
	}
	c.hello = encodeOwn(sessionMsg{
		JID:           t.jid.String(),
		User:          t.user,
		Name:          t.name,
		Resume:        resume,
		Resumed:       resumed,
		LastSeq:       t.seq,
		ResumeGraceMs: max(s.opts.ResumeGrace, 0).Milliseconds(),
		ICEServers:    s.opts.iceServers(t.user),
		Limits:        Limits{MaxMessageBytes: s.opts.ReadLimit, RatePerSecond: s.opts.RatePerSecond, RateBurst: s.opts.RateBurst},
	})
}

// detachLocked detaches c if it is the tab's connection and starts the grace
// timer. It reports whether the session must end at once (no resumption).
func (t *Tab) detachLocked(c *conn) (endNow bool) {
	if t.conn != c || c == nil {
		return false
	}
	s := t.srv
	t.conn = nil
	t.detachedAt = time.Now()
	if t.closed {
		return false
	}
	if s.opts.ResumeGrace < 0 {
		return true
	}
	t.graceGen++
	gen := t.graceGen
	t.grace = time.AfterFunc(s.opts.ResumeGrace, func() {
		if !s.track() {
			return // shutting down: Shutdown ends the tab
		}
		defer s.wg.Done()
		s.endTab(t, CloseExpired, func() bool { return t.conn == nil && t.graceGen == gen }, false)
	})
	return false
}

func (t *Tab) detach(c *conn) {
	t.mu.Lock()
	endNow := t.detachLocked(c)
	t.mu.Unlock()
	if endNow {
		t.srv.endTab(t, CloseExpired, func() bool { return t.conn == nil }, false)
	}
}

// checkResume consumes the resume secret if it matches.
func (t *Tab) checkResume(secret []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || len(t.secret) == 0 || subtle.ConstantTimeCompare(secret, t.secret) != 1 {
		return false
	}
	t.secret = nil // works once
	return true
}

func (t *Tab) sendError(id, sid string, code Code, msg string) {
	_ = t.send(outgoing{typ: TypeError, body: encodeOwn(errorMsg{ID: id, SID: sid, Code: code, Message: msg})})
}

func (t *Tab) ack(m *Message) {
	if m.ID == "" {
		return
	}
	_ = t.send(outgoing{typ: TypeAck, body: encodeOwn(ackMsg{ID: m.ID, SID: m.SID})})
}

// handleFrame processes one frame read from c.
func (t *Tab) handleFrame(ctx context.Context, c *conn, binary bool, data []byte) {
	s := t.srv
	if !t.limiter.Allow() {
		if !t.strikes.Allow() {
			s.log.Info("sustained rate-limit abuse; closing the connection", "jid", t.jid.String())
			c.closeWith(closePolicy, "rate limit exceeded", false)
			return
		}
		t.sendError(peekID(data), "", CodeRateLimited, "too many messages; slow down")
		return
	}
	if binary {
		t.sendError("", "", CodeBadRequest, "binary frames are not supported: send JSON text frames")
		return
	}
	m, perr := parseMessage(data)
	if perr != nil {
		t.sendError(perr.id, perr.sid, perr.code, perr.msg)
		return
	}
	if m.hasAck {
		if e := t.ackTo(c, m.ack); e != nil {
			t.sendError(m.ID, m.SID, e.Code, e.Message)
			return
		}
	}
	switch m.Type {
	case TypeAck:
		if e := t.ackTo(c, m.Seq); e != nil {
			t.sendError(m.ID, "", e.Code, e.Message)
			return
		}
		t.ack(m)
	case TypePing:
		t.ack(m)
	case TypeLogout:
		t.ack(m)
		s.endTab(t, CloseLogout, nil, false)
	default:
		t.dispatch(ctx, m)
	}
}

func (t *Tab) dispatch(ctx context.Context, m *Message) {
	s := t.srv
	if clientSpecs[m.Type].sid && !t.OwnsSID(m.SID) {
		t.sendError(m.ID, m.SID, CodeNotFound, "no call with this sid")
		return
	}
	claimed := false
	if m.Type == TypeCall {
		if m.SID == "" {
			m.SID = hex(randomBytes(12))
		}
		if !s.claimSID(t, m.SID) {
			t.sendError(m.ID, m.SID, CodeConflict, "sid already in use")
			return
		}
		claimed = true
	}
	err := t.call(ctx, func(ctx context.Context, h Handler) error { return h.HandleMessage(ctx, t, m) })
	if err != nil {
		if claimed {
			t.ReleaseSID(m.SID)
		}
		e := s.toError(err, m)
		t.sendError(m.ID, e.SID, e.Code, e.Message)
		return
	}
	if m.Type == TypeHangup || m.Type == TypeReject {
		t.ReleaseSID(m.SID)
	}
	t.ack(m)
}

// call runs f with the Handler, one call at a time, under HandlerTimeout, and
// turns a panic into an error.
func (t *Tab) call(ctx context.Context, f func(context.Context, Handler) error) (err error) {
	h := t.srv.opts.Handler
	if h == nil {
		return Errorf(CodeUnavailable, "no application is attached to the gateway")
	}
	t.handleMu.Lock()
	defer t.handleMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, t.srv.opts.HandlerTimeout)
	defer cancel()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return Errorf(CodeUnavailable, "session closed")
	}
	t.cancel = cancel
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.cancel = nil
		t.mu.Unlock()
		if r := recover(); r != nil {
			t.srv.log.Error("handler panic", "jid", t.jid.String(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return f(ctx, h)
}

// toError maps a Handler error to the error answered.
func (s *Server) toError(err error, m *Message) *Error {
	var we *Error
	switch {
	case errors.As(err, &we):
		e := *we
		if !e.Code.Valid() {
			s.log.Error("handler returned an invalid error code", "code", string(e.Code), "type", m.Type)
			e.Code, e.Message = CodeInternal, "internal error"
		}
		if e.SID == "" {
			e.SID = m.SID
		}
		return &e
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "the gateway did not answer in time", SID: m.SID}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeUnavailable, Message: "the session is closing", SID: m.SID}
	default:
		s.log.Error("handler failed", "type", m.Type, "sid", m.SID, "err", err)
		return &Error{Code: CodeInternal, Message: "internal error", SID: m.SID}
	}
}
