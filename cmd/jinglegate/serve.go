package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/config"
)

// shutdownTimeout bounds each step of a graceful shutdown.
const shutdownTimeout = 10 * time.Second

// runServe runs the gateway until ctx ends (SIGTERM or SIGINT), then shuts
// down in order: browsers first, then the XMPP stream (after unavailable
// presence), then the HTTP server.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("serve", args, stderr, nil, "xmpp", "http", "auth")
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	gw, err := newGateway(cfg, log)
	if err != nil {
		return err
	}
	return gw.run(ctx)
}

// gateway is the running process: the component link and the HTTP server.
type gateway struct {
	cfg  config.Config
	log  *slog.Logger
	link *component.Link
	mux  *http.ServeMux
}

func newGateway(cfg config.Config, log *slog.Logger) (*gateway, error) {
	domain, err := jid.Parse(cfg.XMPP.Domain)
	if err != nil {
		return nil, usageErr(&config.Error{Key: "xmpp.domain", Reason: err.Error()})
	}
	var pingTo jid.JID
	if cfg.XMPP.PingTo != "" {
		pingTo = jid.MustParse(cfg.XMPP.PingTo) // validated by Config.Validate
	}
	g := &gateway{cfg: cfg, log: log, mux: http.NewServeMux()}
	g.link = component.New(component.Config{
		Server:       cfg.XMPP.Server,
		Domain:       domain,
		Secret:       cfg.XMPP.Secret,
		Name:         cfg.XMPP.Name,
		PingTo:       pingTo,
		PingInterval: cfg.XMPP.PingInterval.D(),
		PingTimeout:  cfg.XMPP.PingTimeout.D(),
		BackoffMin:   cfg.XMPP.BackoffMin.D(),
		BackoffMax:   cfg.XMPP.BackoffMax.D(),
		Logger:       log,
	})
	g.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	g.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !g.link.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "component link down")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return g, nil
}

func (g *gateway) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           g.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	g.log.Info("jinglegate started", "version", versionString(), "http", "http://"+ln.Addr().String(), "xmpp_server", g.cfg.XMPP.Server, "domain", g.cfg.XMPP.Domain)

	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	// The link gets its own context so that shutdown can order its steps.
	linkCtx, stopLink := context.WithCancel(context.Background())
	defer stopLink()
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		_ = g.link.Run(linkCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		g.log.Info("shutting down")
	case err := <-httpErr:
		runErr = fmt.Errorf("http server: %w", err)
	}

	// 1. Browsers. 2. The XMPP stream. 3. The HTTP server.
	stopLink()
	select {
	case <-linkDone:
	case <-time.After(shutdownTimeout):
		g.log.Warn("component link did not close in time")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && runErr == nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = fmt.Errorf("http shutdown: %w", err)
	}
	if runErr == nil {
		g.log.Info("stopped")
	}
	return runErr
}
