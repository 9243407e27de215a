package gateway

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/config"
	"github.com/jinglegate/jinglegate/internal/presence"
	"github.com/jinglegate/jinglegate/internal/roster"
	"github.com/jinglegate/jinglegate/internal/wsapi"
	"github.com/jinglegate/jinglegate/web"
)

// ShutdownTimeout bounds each step of a graceful shutdown.
const ShutdownTimeout = 10 * time.Second

// Gateway is a running jinglegate.
type Gateway struct {
	cfg    config.Config
	log    *slog.Logger
	domain jid.JID
	// server is the domain of the XMPP server the component is attached
	// to: xmpp.ping_to's, or the parent of xmpp.domain.
	server   jid.JID
	Link     *component.Link
	WS       *wsapi.Server
	Presence *presence.Manager
	Store    roster.Store
	calls    *bridge
	privs    privileges
	mux      *http.ServeMux
	version  string
}

// sender forwards to the link once it exists (the link and the presence
// manager need each other).
type sender struct{ l *component.Link }

func (s *sender) Send(ctx context.Context, r xml.TokenReader) error { return s.l.Send(ctx, r) }
func (s *sender) UnmarshalIQ(ctx context.Context, iq stanza.IQ, p xml.TokenReader, v any) error {
	return s.l.UnmarshalIQ(ctx, iq, p, v)
}
func (s *sender) Ready() bool { return s.l.Ready() }

// notifier forwards to the WebSocket server once it exists.
type notifier struct{ s *wsapi.Server }

func (n *notifier) SendToUser(user string, msg any) (int, error) { return n.s.SendToUser(user, msg) }
func (n *notifier) SendToTab(resource string, msg any) error     { return n.s.SendToTab(resource, msg) }

// New builds a Gateway from a validated configuration. It opens the store.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, version string) (*Gateway, error) {
	if log == nil {
		log = slog.Default()
	}
	domain, err := jid.Parse(cfg.XMPP.Domain)
	if err != nil {
		return nil, &config.Error{Key: "xmpp.domain", Reason: err.Error()}
	}
	store, err := roster.OpenSQLite(ctx, cfg.Store.Path)
	if err != nil {
		return nil, fmt.Errorf("store.path: %w", err)
	}
	var pingTo jid.JID
	server := component.ParentDomain(domain)
	if cfg.XMPP.PingTo != "" {
		pingTo = jid.MustParse(cfg.XMPP.PingTo) // checked by Validate
		server = pingTo.Domain()
	}
	g := &Gateway{cfg: cfg, log: log, domain: domain, server: server, Store: store, mux: http.NewServeMux(), version: version}
	snd, ntf := &sender{}, &notifier{}
	g.calls = newBridge(g, log)
	if cfg.Calls.RingTimeout > 0 {
		g.calls.ringTimeout = cfg.Calls.RingTimeout.D()
	}
	if cfg.Calls.IQTimeout > 0 {
		g.calls.iqTimeout = cfg.Calls.IQTimeout.D()
	}
	g.Presence = presence.New(presence.Config{
		OnUnavailable: func(user string, full jid.JID) { g.calls.peerGone(user, full) },
		Domain:        domain,
		Store:         store,
		Sender:        snd,
		Notifier:      ntf,
		Policy:        presence.Policy{Mode: cfg.Policy.Calls, Domains: cfg.Policy.Domains},
		Logger:        log,
	})
	g.Link = component.New(component.Config{
		Server:       cfg.XMPP.Server,
		Domain:       domain,
		Secret:       cfg.XMPP.Secret,
		Name:         cfg.XMPP.Name,
		Info:         g.Presence.DiscoInfo,
		Presence:     g.Presence,
		Message:      g.serverGrantsOnly(g.calls.messageHandler()),
		Handlers:     []mux.Option{g.calls.jingleOption()},
		PingTo:       pingTo,
		PingInterval: cfg.XMPP.PingInterval.D(),
		PingTimeout:  cfg.XMPP.PingTimeout.D(),
		BackoffMin:   cfg.XMPP.BackoffMin.D(),
		BackoffMax:   cfg.XMPP.BackoffMax.D(),
		OnUp:         func(ctx context.Context, _ *component.Link) { g.Presence.ResendAll(ctx) },
		BeforeClose:  func(ctx context.Context, _ *component.Link) { g.Presence.UnavailableAll(ctx) },
		Logger:       log,
	})
	snd.l = g.Link
	var turnURLs, stunURLs []string
	for _, u := range cfg.TURN.URLs {
		if strings.HasPrefix(u, "stun:") {
			stunURLs = append(stunURLs, u)
		} else {
			turnURLs = append(turnURLs, u)
		}
	}
	g.WS = wsapi.NewServer(wsapi.Options{
		Domain:         domain.String(),
		Verifier:       auth.Verifier{Secret: []byte(cfg.Auth.HMACSecret), Audience: cfg.Auth.Audience},
		AllowedOrigins: cfg.HTTP.AllowedOrigins,
		ReadLimit:      cfg.HTTP.ReadLimit,
		RatePerSecond:  cfg.HTTP.RatePerSecond,
		RateBurst:      cfg.HTTP.RateBurst,
		MaxTabsPerUser: cfg.HTTP.MaxTabs,
		ResumeGrace:    cfg.HTTP.ResumeGrace.D(),
		TURN:           wsapi.TURNOptions{URLs: turnURLs, Secret: cfg.TURN.Secret, TTL: cfg.TURN.TTL.D()},
		STUN:           stunURLs,
		Logger:         log,
		Handler:        g,
	})
	ntf.s = g.WS
	g.routes()
	return g, nil
}

func (g *Gateway) routes() {
	g.mux.Handle("GET /ws", g.WS)
	// The browser client library and the demo page.
	g.mux.Handle("/", web.Handler())
	g.mux.HandleFunc("POST /admin/roster", g.adminRoster)
	if g.cfg.Demo.Enabled {
		g.mux.HandleFunc("POST /demo/token", g.demoToken)
	}
	g.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	g.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !g.Link.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "component link down")
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Handler returns the HTTP handler (/ws, /healthz, /readyz).
func (g *Gateway) Handler() http.Handler { return g.mux }

// Run serves on ln until ctx ends, then shuts down in order: browsers
// first, then the XMPP stream (after unavailable presence), then the HTTP
// server. It closes the store.
func (g *Gateway) Run(ctx context.Context, ln net.Listener) error {
	defer g.Store.Close()
	srv := &http.Server{
		Handler:           g.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	g.log.Info("jinglegate started", "version", g.version, "http", "http://"+ln.Addr().String(),
		"xmpp_server", g.cfg.XMPP.Server, "domain", g.cfg.XMPP.Domain)

	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	// The link and the presence worker get their own contexts so that
	// shutdown can order its steps.
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	var wg sync.WaitGroup
	wg.Go(func() { g.Presence.Run(bg) })
	wg.Go(func() { g.calls.run(bg) })
	linkCtx, stopLink := context.WithCancel(context.Background())
	defer stopLink()
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		_ = g.Link.Run(linkCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		g.log.Info("shutting down")
	case err := <-httpErr:
		runErr = fmt.Errorf("http server: %w", err)
	}

	// 1. Browsers: close every WebSocket. Their tabs end (TabClosed), but
	// the unavailable presence for all goes out in step 2 in one place.
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := g.WS.Shutdown(sctx); err != nil {
		g.log.Warn("closing WebSockets", "err", err)
	}
	// 2. The XMPP stream: BeforeClose sends unavailable presence.
	stopLink()
	select {
	case <-linkDone:
	case <-time.After(ShutdownTimeout):
		g.log.Warn("component link did not close in time")
	}
	stopBG()
	wg.Wait()
	// 3. HTTP.
	if err := srv.Shutdown(sctx); err != nil && runErr == nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = fmt.Errorf("http shutdown: %w", err)
	}
	if runErr == nil {
		g.log.Info("stopped")
	}
	return runErr
}

// TabOpened implements wsapi.Handler.
func (g *Gateway) TabOpened(ctx context.Context, t *wsapi.Tab) {
	g.Presence.TabOnline(ctx, t.User(), t.JID(), t.Name())
}

// TabClosed implements wsapi.Handler.
func (g *Gateway) TabClosed(t *wsapi.Tab, reason wsapi.CloseReason) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if reason == wsapi.CloseShutdown {
		g.calls.endTab(t)
		// The tab stays known to the presence manager so that its
		// unavailable presence goes out with the stream's last words
		// (UnavailableAll, just before the stream closes).
		return
	}
	g.calls.endTab(t)
	g.Presence.TabOffline(ctx, t.User(), t.JID())
}

// HandleMessage implements wsapi.Handler.
func (g *Gateway) HandleMessage(ctx context.Context, t *wsapi.Tab, m *wsapi.Message) error {
	switch m.Type {
	case wsapi.TypeRoster, wsapi.TypePresence, wsapi.TypeAdd, wsapi.TypeRemove, wsapi.TypeRename,
		wsapi.TypeSubscribe, wsapi.TypeApprove, wsapi.TypeDeny:
		reply, err := g.Presence.HandleMessage(ctx, t.User(), t.JID(), m.Type, m.ID, m.Raw)
		if err != nil {
			return err
		}
		if reply != nil {
			return t.Send(reply)
		}
		return nil
	}
	return g.calls.handleBrowser(ctx, t, m)
}

var _ wsapi.Handler = (*Gateway)(nil)

// demoToken mints a one-hour token for the user named in the form field
// "user" (demo mode only).
func (g *Gateway) demoToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	user, err := auth.Localpart(strings.TrimSpace(r.FormValue("user")))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "user: " + err.Error()})
		return
	}
	tok, err := auth.Mint([]byte(g.cfg.Auth.HMACSecret), user, time.Hour, auth.WithName(user))
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	// The demo's contacts (the echo bot): best effort, a sign-in works
	// without them, and the page learns what failed.
	out := map[string]any{"token": tok, "user": user, "jid": user + "@" + g.domain.String()}
	var warnings []string
	for _, c := range g.cfg.Demo.Contacts {
		cj, err := jid.Parse(c)
		if err == nil {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			err = g.AddToXMPPRoster(ctx, cj, user, user)
			cancel()
		}
		if err != nil {
			g.log.Warn("demo: could not add a demo contact", "user", user, "contact", c, "err", err)
			warnings = append(warnings, fmt.Sprintf("%s is not in your roster: %v", c, err))
		}
	}
	if len(warnings) > 0 {
		out["warnings"] = warnings
	}
	_ = json.NewEncoder(w).Encode(out)
}
