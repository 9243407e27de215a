package component

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	xcomponent "mellium.im/xmpp/component"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// NSAccept is the stanza namespace of a component stream.
const NSAccept = xcomponent.NSAccept

// Config configures a Link. Its zero value is not usable: Server, Domain
// and Secret are required; every other field has a default.
type Config struct {
	Server string  // host:port of the server's component listener
	Domain jid.JID // the component's domain
	Secret string  // the shared component secret

	// Name is the name of the domain's disco#info identity.
	Name string
	// Identity of the domain in disco#info; default component/generic.
	Category, Type string
	// Features are advertised for the bare domain besides disco and ping.
	Features []string
	// Info answers disco#info (and pings) for other addresses on the
	// domain. Nil means they do not exist.
	Info InfoFunc
	// Handlers are added to the component's mux. They must not call the
	// Link's send methods (mellium's Serve holds the stream while a
	// handler runs): write replies to the handler's TokenReadEncoder, or
	// queue the work.
	Handlers []mux.Option
	// Presence and Message, when set, get every presence or message
	// stanza whole (mellium's mux would call a presence handler once per
	// child element). Decode with
	// xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t)).
	// The same rules as for Handlers apply.
	Presence, Message xmpp.Handler

	// PingTo is the address keepalive pings go to: by default the
	// parent of Domain (example.org for gw.example.org), which is the
	// XMPP server's own domain in the usual deployment. Any answer, even
	// an error, proves the link works. (A component may not ping its own
	// domain: ejabberd ends the stream with improper-addressing.)
	PingTo jid.JID
	// PingInterval is how often the link pings the server to prove the
	// link works; PingTimeout how long it waits.
	PingInterval, PingTimeout time.Duration
	// BackoffMin and BackoffMax bound the reconnection delay, which
	// doubles after each failed attempt and is jittered.
	BackoffMin, BackoffMax time.Duration
	// DialTimeout bounds the TCP connect and the handshake.
	DialTimeout time.Duration

	// OnUp runs in its own goroutine after each successful handshake (the
	// gateway sends its users' presence again). Its ctx ends when that
	// connection ends.
	OnUp func(ctx context.Context, l *Link)
	// BeforeClose runs on graceful shutdown before the stream is closed
	// (the gateway sends unavailable presence for its users).
	BeforeClose func(ctx context.Context, l *Link)

	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "jinglegate"
	}
	if c.Category == "" {
		c.Category, c.Type = "component", "generic"
	}
	if c.PingTo.Equal(jid.JID{}) {
		c.PingTo = ParentDomain(c.Domain)
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 10 * time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 500 * time.Millisecond
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(30*time.Second, c.BackoffMin)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Stats are counters about a Link's life.
type Stats struct {
	Attempts      int64 // connection attempts
	Connects      int64 // successful handshakes
	HandlerErrors int64 // stanzas whose handler failed (answered, not fatal)
	PingFailures  int64 // keepalive pings that failed or timed out
}

// Link is a reconnecting component connection. Create it with New, run it
// with Run; its send methods are safe for concurrent use.
type Link struct {
	cfg     Config
	log     *slog.Logger
	handler xmpp.Handler

	mu   sync.Mutex
	sess *xmpp.Session // nil while down

	ready                                     atomic.Bool
	attempts, connects, handlerErrs, pingFail atomic.Int64
	upCh                                      chan struct{} // closed and replaced on each state change
	lastErr                                   error         // guarded by mu
	pending                                   map[string]*pendingIQ
}

// New returns a Link for cfg. It panics if Server, Domain or Secret is
// missing, as mux options do for bad registrations: that is a programming
// error caught at start-up.
func New(cfg Config) *Link {
	if cfg.Server == "" || cfg.Domain.Equal(jid.JID{}) || cfg.Secret == "" {
		panic("component: Config needs Server, Domain and Secret")
	}
	cfg = cfg.withDefaults()
	cfg.Domain = cfg.Domain.Domain()
	l := &Link{cfg: cfg, log: cfg.Logger.With("component", cfg.Domain.String(), "server", cfg.Server), upCh: make(chan struct{})}
	dh := &discoHandler{
		domain:   cfg.Domain,
		identity: info.Identity{Category: cfg.Category, Type: cfg.Type, Name: cfg.Name},
		features: cfg.Features,
		lookup:   cfg.Info,
	}
	opts := append(dh.options(), cfg.Handlers...)
	r := router{mux: mux.New(NSAccept, opts...), presence: cfg.Presence, message: cfg.Message, link: l}
	l.handler = safeHandler{h: r, log: l.log, onError: func() { l.handlerErrs.Add(1) }}
	return l
}

// Domain returns the component's domain.
func (l *Link) Domain() jid.JID { return l.cfg.Domain }

// Ready reports whether the link is up (handshake done, stream open).
func (l *Link) Ready() bool { return l.ready.Load() }

// Stats returns the link's counters.
func (l *Link) Stats() Stats {
	return Stats{Attempts: l.attempts.Load(), Connects: l.connects.Load(), HandlerErrors: l.handlerErrs.Load(), PingFailures: l.pingFail.Load()}
}

// WaitReady blocks until the link is up or ctx ends.
func (l *Link) WaitReady(ctx context.Context) error {
	for {
		l.mu.Lock()
		ch := l.upCh
		l.mu.Unlock()
		if l.Ready() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *Link) setSession(s *xmpp.Session) {
	l.mu.Lock()
	l.sess = s
	l.ready.Store(s != nil)
	close(l.upCh)
	l.upCh = make(chan struct{})
	l.mu.Unlock()
}

func (l *Link) session() *xmpp.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess
}

// Send writes one stanza. Stanzas must carry a from on the component's
// domain. It returns ErrNotConnected while the link is down. It must not
// be called from a handler.
func (l *Link) Send(ctx context.Context, r xml.TokenReader) error {
	s := l.session()
	if s == nil {
		return ErrNotConnected
	}
	return s.Send(Detach(ctx, maxWrite), r)
}

// SendIQ sends a get or set IQ and returns the response (which the caller
// must close), or a stanza.Error when the response is an error. It must not
// be called from a handler.
func (l *Link) SendIQ(ctx context.Context, iq stanza.IQ, payload xml.TokenReader) (xmlstream.TokenReadCloser, error) {
	s := l.session()
	if s == nil {
		return nil, ErrNotConnected
	}
	return s.SendIQElement(Detach(ctx, maxWrite), payload, iq)
}

// UnmarshalIQ sends a get or set IQ and decodes the response payload into v
// (which may be nil). An error response is returned as a stanza.Error.
func (l *Link) UnmarshalIQ(ctx context.Context, iq stanza.IQ, payload xml.TokenReader, v any) error {
	s := l.session()
	if s == nil {
		return ErrNotConnected
	}
	return s.UnmarshalIQElement(Detach(ctx, maxWrite), payload, iq, v)
}

// ParentDomain returns d without its first label (example.org for
// gw.example.org), or d itself when it has a single label.
func ParentDomain(d jid.JID) jid.JID {
	s := d.Domainpart()
	if i := strings.IndexByte(s, '.'); i > 0 && i < len(s)-1 {
		if p, err := jid.New("", s[i+1:], ""); err == nil {
			return p
		}
	}
	return d.Domain()
}

// Ping sends an XEP-0199 ping from the domain to PingTo and waits for the
// answer; any answer, even an error, proves the link works.
func (l *Link) Ping(ctx context.Context) error {
	err := l.UnmarshalIQ(ctx, stanza.IQ{Type: stanza.GetIQ, From: l.cfg.Domain, To: l.cfg.PingTo},
		xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: ping.NS, Local: "ping"}}), nil)
	var se stanza.Error
	if errors.As(err, &se) {
		// Any answer proves the route is alive.
		return nil
	}
	return err
}

// Run connects and keeps the link up until ctx ends, then closes the
// stream gracefully (BeforeClose first) and returns nil. Each failed
// attempt is logged with the delay before the next one.
func (l *Link) Run(ctx context.Context) error {
	backoff := l.cfg.BackoffMin
	for {
		upFor, err := l.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if upFor > 2*l.cfg.BackoffMax || upFor > time.Minute {
			// The last connection lived long enough: start again from the
			// smallest delay.
			backoff = l.cfg.BackoffMin
		}
		// Full jitter over [backoff/2, backoff]: never zero, never in step
		// with other gateways restarting at the same moment.
		delay := backoff/2 + rand.N(backoff/2+1)
		l.logDown(err, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, l.cfg.BackoffMax)
	}
}

// LastError returns why the most recent connection attempt failed or the
// most recent connection ended, or nil.
func (l *Link) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

func (l *Link) logDown(err error, delay time.Duration) {
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
	attrs := []any{"attempt", l.attempts.Load(), "retry_in", delay.Round(time.Millisecond), "err", err}
	switch {
	case errors.Is(err, ErrBadSecret):
		l.log.Error("component handshake refused: wrong secret (check [xmpp] secret against the server's component config)", attrs...)
	case errors.Is(err, ErrConflict):
		l.log.Error("component refused: another link is connected for this domain", attrs...)
	case errors.Is(err, ErrUnknownDomain):
		l.log.Error("component refused: the server has no component for this domain", attrs...)
	default:
		l.log.Warn("component link down; reconnecting", attrs...)
	}
}

// runOnce makes one connection and serves it until it breaks or ctx ends.
// It reports how long the link was up.
func (l *Link) runOnce(ctx context.Context) (time.Duration, error) {
	l.attempts.Add(1)
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 15 * time.Second}
	conn, err := d.DialContext(dctx, "tcp", l.cfg.Server)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", l.cfg.Server, err)
	}
	// The handshake's context must not be cancelled under mellium (see
	// Detach): cancel() below would otherwise be able to interrupt the
	// link's first reads.
	sess, err := xcomponent.NewSession(Detach(dctx, l.cfg.DialTimeout), l.cfg.Domain, []byte(l.cfg.Secret), conn)
	if err != nil {
		conn.Close()
		if dctx.Err() != nil && ctx.Err() == nil {
			return 0, fmt.Errorf("handshake with %s timed out after %s: %w", l.cfg.Server, l.cfg.DialTimeout, err)
		}
		return 0, classify(err)
	}
	cancel()
	up := time.Now()
	l.connects.Add(1)
	l.log.Info("component link up", "attempt", l.attempts.Load())

	connCtx, connCancel := context.WithCancel(ctx)
	defer connCancel()
	serveErr := make(chan error, 1)
	go func() { serveErr <- sess.Serve(l.handler) }()
	l.setSession(sess)

	var wg sync.WaitGroup
	wg.Go(func() { l.keepalive(connCtx, conn) })
	if l.cfg.OnUp != nil {
		wg.Go(func() { l.cfg.OnUp(connCtx, l) })
	}

	select {
	case err = <-serveErr:
		l.setSession(nil)
		l.failPending()
		connCancel()
		conn.Close()
		wg.Wait()
		if err == nil {
			err = errors.New("the server closed the stream")
		}
		return time.Since(up), classify(err)
	case <-ctx.Done():
	}

	// Graceful shutdown: last words, then </stream:stream>, then wait a
	// little for the server to close its side.
	if l.cfg.BeforeClose != nil {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
		l.cfg.BeforeClose(bctx, l)
		bcancel()
	}
	l.setSession(nil)
	l.failPending()
	connCancel()
	// (Not Session.SetCloseDeadline: it races with Serve in mellium
	// v0.22.0. The timer below bounds the wait instead.)
	if err := sess.Close(); err != nil {
		l.log.Debug("closing stream", "err", err)
	}
	select {
	case err := <-serveErr:
		if err != nil {
			l.log.Debug("stream ended", "err", err)
		}
	case <-time.After(3 * time.Second):
		l.log.Warn("the server did not close its stream in time")
	}
	conn.Close()
	wg.Wait()
	l.log.Info("component link closed")
	return time.Since(up), nil
}

// keepalive pings through the server every PingInterval and drops the
// connection when a ping fails, so that Run reconnects.
func (l *Link) keepalive(ctx context.Context, conn net.Conn) {
	t := time.NewTicker(l.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, l.cfg.PingTimeout)
		err := l.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			l.pingFail.Add(1)
			l.log.Warn("keepalive ping failed; dropping the link", "err", err, "timeout", l.cfg.PingTimeout)
			conn.Close()
			return
		}
	}
}

// router hands whole presence and message stanzas to their handlers and
// everything else to the mux.
type router struct {
	mux               *mux.ServeMux
	presence, message xmpp.Handler
	link              *Link
}

func (r router) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Space == NSAccept {
		switch {
		case start.Name.Local == "iq":
			if done, err := r.link.iqResponse(t, start); done {
				return err
			}
		case start.Name.Local == "presence" && r.presence != nil:
			return r.presence.HandleXMPP(t, start)
		case start.Name.Local == "message" && r.message != nil:
			return r.message.HandleXMPP(t, start)
		}
	}
	return r.mux.HandleXMPP(t, start)
}
