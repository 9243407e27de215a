package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/jinglegate/jinglegate/internal/gateway"
)

// runServe runs the gateway until ctx ends (SIGTERM or SIGINT), then shuts
// down in order: browsers first, then the XMPP stream (after unavailable
// presence), then the HTTP server.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("serve", args, stderr, nil, "xmpp", "http", "auth", "store")
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	g, err := gateway.New(ctx, cfg, log, versionString())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	return g.Run(ctx, ln)
}
