package wsapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	enchex "encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/auth"
)

// Server is the browser WebSocket endpoint (/ws). It is an http.Handler.
type Server struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu      sync.Mutex
	closing bool
	tabs    map[string]*Tab            // by resource
	users   map[string]map[string]*Tab // by localpart, then resource
	conns   map[*conn]struct{}

	wg sync.WaitGroup // connection goroutines, grace timers, TabClosed calls
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a Server; see Options for the defaults.
func NewServer(opts Options) *Server {
	s := &Server{
		opts:  opts.cloneWithDefaults(),
		tabs:  make(map[string]*Tab),
		users: make(map[string]map[string]*Tab),
		conns: make(map[*conn]struct{}),
	}
	s.log = s.opts.Logger.With("component", "wsapi")
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		HandshakeTimeout: s.opts.WriteWait,
		CheckOrigin:      s.opts.checkOrigin,
	}
	if len(opts.TURN.URLs) > 0 && opts.TURN.Secret == "" {
		s.log.Warn("TURN URLs without a TURN secret: no TURN server is handed out")
	}
	return s
}

// track counts a goroutine in the wait group, unless shutting down.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// ServeHTTP authenticates and upgrades a browser connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.opts.checkOrigin(r) {
		s.log.Info("origin refused", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		http.Error(w, "forbidden: origin not allowed", http.StatusForbidden)
		return
	}
	claims, err := s.opts.Verifier.Verify(bearerToken(r))
	if err != nil {
		s.log.Info("token refused", "err", err, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="jinglegate", error="invalid_token"`)
		http.Error(w, "unauthorized: "+authReason(err), http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "unavailable: shutting down", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	resumeToken, seqParam := q.Get("resume"), q.Get("seq")

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	if !s.track() {
		closeNow(ws, closeGoingAway, "server shutting down", s.opts.WriteWait)
		return
	}
	defer s.wg.Done()
	c := newConn(s, ws)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()

	ctx := context.WithoutCancel(r.Context())
	var resumeErr *Error
	t, fresh := (*Tab)(nil), false
	if resumeToken != "" {
		t, resumeErr = s.resume(claims.Subject, resumeToken, seqParam, c)
	}
	if t == nil {
		t, err = s.newTab(claims, c)
		switch {
		case errors.Is(err, errTooManyTabs):
			s.log.Info("too many tabs", "user", claims.Subject)
			closeNow(ws, closePolicy, "too many tabs", s.opts.WriteWait)
			return
		case errors.Is(err, ErrShutdown):
			closeNow(ws, closeGoingAway, "server shutting down", s.opts.WriteWait)
			return
		case err != nil:
			s.log.Error("cannot create session", "user", claims.Subject, "err", err)
			closeNow(ws, closeInternal, "internal error", s.opts.WriteWait)
			return
		}
		fresh = true
		if resumeErr != nil {
			t.sendError("", "", resumeErr.Code, resumeErr.Message)
		}
	}
	s.log.Debug("connected", "jid", t.jid.String(), "resumed", !fresh)
	s.wg.Add(1)
	go c.writeLoop()
	c.readLoop(ctx, fresh)
}

var errTooManyTabs = errors.New("wsapi: too many tabs")

func (s *Server) newTab(claims auth.Claims, c *conn) (*Tab, error) {
	resource := hex(randomBytes(16))
	j, err := jid.New(claims.Subject, s.opts.Domain, resource)
	if err != nil {
		return nil, err
	}
	t := &Tab{
		srv:      s,
		user:     claims.Subject,
		name:     claims.Name,
		jid:      j,
		resource: resource,
		created:  time.Now(),
		limiter:  rate.NewLimiter(rate.Limit(s.opts.RatePerSecond), s.opts.RateBurst),
		strikes:  rate.NewLimiter(rate.Limit(s.opts.RatePerSecond), s.opts.RateBurst),
		done:     make(chan struct{}),
		sids:     make(map[string]struct{}),
	}
	var evicted []func()
	defer func() {
		for _, f := range evicted {
			f()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, ErrShutdown
	}
	for len(s.users[t.user]) >= s.opts.MaxTabsPerUser {
		victim := s.oldestDetachedLocked(t.user)
		if victim == nil {
			return nil, errTooManyTabs
		}
		if fin := s.endTabLocked(victim, CloseEvicted, func() bool { return victim.conn == nil }, false); fin != nil {
			evicted = append(evicted, fin)
		}
	}
	s.tabs[resource] = t
	if s.users[t.user] == nil {
		s.users[t.user] = make(map[string]*Tab)
	}
	s.users[t.user][resource] = t
	t.mu.Lock()
	t.attachLocked(c, 0, false)
	t.mu.Unlock()
	return t, nil
}

func (s *Server) oldestDetachedLocked(user string) *Tab {
	var oldest *Tab
	var at time.Time
	for _, t := range s.users[user] {
		t.mu.Lock()
		if t.conn == nil && !t.closed && (oldest == nil || t.detachedAt.Before(at)) {
			oldest, at = t, t.detachedAt
		}
		t.mu.Unlock()
	}
	return oldest
}

// resume reattaches the session named by token to c. On failure it returns
// the error to report on the fresh session that replaces it.
func (s *Server) resume(user, token, seqParam string, c *conn) (*Tab, *Error) {
	refused := &Error{Code: CodeUnauthorized, Message: "cannot resume: the resume token is unknown, used or expired; this is a new session"}
	resource, secretText, ok := strings.Cut(token, ".")
	secret, err := base64.RawURLEncoding.DecodeString(secretText)
	if !ok || err != nil || s.opts.ResumeGrace < 0 {
		return nil, refused
	}
	var lastSeq uint64
	if seqParam != "" {
		if lastSeq, err = strconv.ParseUint(seqParam, 10, 64); err != nil {
			return nil, &Error{Code: CodeBadRequest, Message: "cannot resume: seq is not a number; this is a new session"}
		}
	}
	s.mu.Lock()
	t := s.tabs[resource]
	s.mu.Unlock()
	// Another user's token is refused without consuming it.
	if t == nil || t.user != user || !t.checkResume(secret) {
		return nil, refused
	}
	// Take over from the old connection if the server has not noticed that
	// it died, and let its reader finish the message it is on.
	t.mu.Lock()
	old := t.conn
	t.mu.Unlock()
	if old != nil {
		old.closeWith(closeReplaced, "replaced by a resumed connection", false)
		select {
		case <-old.readerDone:
		case <-time.After(2 * time.Second):
			old.kill()
			<-old.readerDone
		}
	}
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return nil, refused
	case lastSeq > t.seq:
		t.mu.Unlock()
		return nil, &Error{Code: CodeConflict, Message: "cannot resume: seq " + strconv.FormatUint(lastSeq, 10) + " was never sent; this is a new session"}
	case max(lastSeq, t.acked) < t.evicted:
		t.mu.Unlock()
		s.endTab(t, CloseOverflow, func() bool { return t.conn == nil }, false)
		return nil, &Error{Code: CodeConflict, Message: "cannot resume: messages after seq " + strconv.FormatUint(lastSeq, 10) + " were dropped (replay buffer overflow); the old session has ended and this is a new one"}
	}
	t.attachLocked(c, lastSeq, true)
	t.mu.Unlock()
	return t, nil
}

// claimSID makes t own sid unless a tab of the same user owns it.
func (s *Server) claimSID(t *Tab, sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users[t.user] {
		if u.OwnsSID(sid) {
			return false
		}
	}
	return t.OwnSID(sid) == nil
}

// endTab ends t's session if pred (checked under the tab's lock) holds. The
// Handler's TabClosed runs in this goroutine, or in a new one if async.
func (s *Server) endTab(t *Tab, reason CloseReason, pred func() bool, async bool) {
	s.mu.Lock()
	fin := s.endTabLocked(t, reason, pred, async)
	s.mu.Unlock()
	if fin != nil {
		fin()
	}
}

// endTabLocked marks t closed and unregisters it; the returned function, to
// be run without s.mu, does the rest. It returns nil if t was already closed
// or pred fails.
func (s *Server) endTabLocked(t *Tab, reason CloseReason, pred func() bool, async bool) func() {
	t.mu.Lock()
	if t.closed || (pred != nil && !pred()) {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	c, cancel := t.conn, t.cancel
	if t.grace != nil {
		t.grace.Stop()
		t.grace = nil
	}
	close(t.done)
	t.mu.Unlock()
	if s.tabs[t.resource] == t {
		delete(s.tabs, t.resource)
	}
	if u := s.users[t.user]; u[t.resource] == t {
		delete(u, t.resource)
		if len(u) == 0 {
			delete(s.users, t.user)
		}
	}
	if async {
		s.wg.Add(1) // under s.mu: Shutdown waits for it
	}
	return func() {
		if cancel != nil {
			cancel()
		}
		if c != nil {
			switch reason {
			case CloseLogout:
				c.closeWith(closeNormal, "logout", true)
			case CloseShutdown:
				c.closeWith(closeGoingAway, "server shutting down", false)
			default:
				c.closeWith(closeNormal, "session closed", true)
			}
		}
		s.log.Debug("session ended", "jid", t.jid.String(), "reason", reason.String())
		notify := func() {
			if h := s.opts.Handler; h != nil {
				t.handleMu.Lock()
				defer t.handleMu.Unlock()
				defer func() {
					if r := recover(); r != nil {
						s.log.Error("TabClosed panic", "jid", t.jid.String(), "panic", r)
					}
				}()
				h.TabClosed(t, reason)
			}
		}
		if async {
			go func() {
				defer s.wg.Done()
				notify()
			}()
			return
		}
		notify()
	}
}

// Shutdown closes every connection with 1001, ends every session
// (CloseShutdown) and waits for the server's goroutines, or for ctx.
// Afterwards new connections are refused with 503.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	tabs := make([]*Tab, 0, len(s.tabs))
	for _, t := range s.tabs {
		tabs = append(tabs, t)
	}
	s.mu.Unlock()
	for _, t := range tabs {
		s.endTab(t, CloseShutdown, nil, false)
	}
	s.mu.Lock()
	for c := range s.conns {
		c.closeWith(closeGoingAway, "server shutting down", false)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.kill()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// Tab returns the tab with this resource, or nil.
func (s *Server) Tab(resource string) *Tab {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tabs[resource]
}

// Tabs describes the tabs of the user with this localpart.
func (s *Server) Tabs(localpart string) []TabInfo {
	s.mu.Lock()
	tabs := make([]*Tab, 0, len(s.users[localpart]))
	for _, t := range s.users[localpart] {
		tabs = append(tabs, t)
	}
	s.mu.Unlock()
	out := make([]TabInfo, 0, len(tabs))
	for _, t := range tabs {
		out = append(out, t.Info())
	}
	return out
}

// SendToTab sends msg to the tab with this resource (see Tab.Send).
func (s *Server) SendToTab(resource string, msg any) error {
	t := s.Tab(resource)
	if t == nil {
		return ErrNoTab
	}
	return t.Send(msg)
}

// SendToUser sends msg to every tab of the user and returns how many took
// it. It returns ErrNoTab if the user has none.
func (s *Server) SendToUser(localpart string, msg any) (int, error) {
	o, err := encode(msg)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	tabs := make([]*Tab, 0, len(s.users[localpart]))
	for _, t := range s.users[localpart] {
		tabs = append(tabs, t)
	}
	s.mu.Unlock()
	if len(tabs) == 0 {
		return 0, ErrNoTab
	}
	n := 0
	for _, t := range tabs {
		if t.send(o) == nil {
			n++
		}
	}
	return n, nil
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("token")
}

func authReason(err error) string {
	for _, e := range []struct {
		err error
		why string
	}{
		{auth.ErrMissingToken, "missing token"},
		{auth.ErrExpired, "token expired"},
		{auth.ErrNotYetValid, "token not valid yet"},
		{auth.ErrAudience, "wrong audience"},
		{auth.ErrSubject, "invalid subject"},
		{auth.ErrNoSecret, "authentication not configured"},
	} {
		if errors.Is(err, e.err) {
			return e.why
		}
	}
	return "invalid token"
}

func closeNow(ws *websocket.Conn, code int, text string, wait time.Duration) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(wait))
	_ = ws.Close()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func hex(b []byte) string { return enchex.EncodeToString(b) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
