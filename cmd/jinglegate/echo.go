package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
)

// runEcho: `jinglegate echo -jid echo@example.org -password-env ECHO_PW
// -server host:5222` logs in as an XMPP user and accepts every call (XEP-0353
// and plain Jingle), sending audio, video and data channel messages back.
func runEcho(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("jinglegate echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("jid", "", "the echo bot's JID, e.g. echo@example.org")
	server := fs.String("server", "", "host:port of the server's c2s listener (default: the JID's domain, port 5222)")
	pwEnv := fs.String("password-env", "JINGLEGATE_ECHO_PASSWORD", "environment variable that holds the password")
	interfaces := fs.String("interfaces", "", "comma-separated network interfaces for ICE (default: loopback only)")
	level := fs.String("log.level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: 0, err: errHelp}
		}
		return &exitError{code: 2, err: errHelp}
	}
	j, err := jid.Parse(*addr)
	if err != nil || j.Localpart() == "" {
		return usageErr(fmt.Errorf("echo: -jid must be a user JID, got %q", *addr))
	}
	pw := os.Getenv(*pwEnv)
	if pw == "" {
		return usageErr(fmt.Errorf("echo: the password must be in $%s", *pwEnv))
	}
	if *server == "" {
		*server = net.JoinHostPort(j.Domainpart(), "5222")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErr(fmt.Errorf("echo: -log.level: %v", err))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	var ifaces []string
	if *interfaces != "" {
		for _, s := range splitComma(*interfaces) {
			ifaces = append(ifaces, s)
		}
	}
	backoff := 500 * time.Millisecond
	for {
		up := time.Now()
		err := echoOnce(ctx, j.Bare(), pw, *server, ifaces, log)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(up) > time.Minute {
			backoff = 500 * time.Millisecond
		}
		delay := backoff/2 + rand.N(backoff/2+1)
		log.Warn("echo: session ended; reconnecting", "err", err, "retry_in", delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if p := s[start:i]; p != "" {
				out = append(out, p)
			}
			start = i + 1
		}
	}
	return out
}

// echoOnce logs in and serves calls until the session ends.
func echoOnce(ctx context.Context, user jid.JID, pw, server string, ifaces []string, log *slog.Logger) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", server)
	if err != nil {
		return err
	}
	// Plain text only to a server on this machine; TLS everywhere else.
	host, _, _ := net.SplitHostPort(server)
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	features := []xmpp.StreamFeature{xmpp.SASL("", pw, sasl.ScramSha256Plus, sasl.ScramSha256, sasl.ScramSha1Plus, sasl.ScramSha1, sasl.Plain), xmpp.BindResource()}
	var state xmpp.SessionState
	if loopback {
		state = xmpp.Secure
	} else {
		features = append([]xmpp.StreamFeature{xmpp.StartTLS(&tls.Config{ServerName: user.Domainpart(), MinVersion: tls.VersionTLS12})}, features...)
	}
	sess, err := xmpp.NewSession(dctx, user.Domain(), user, conn, state, xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
		return xmpp.StreamConfig{Features: features}
	}))
	if err != nil {
		conn.Close()
		return fmt.Errorf("login as %s: %w", user, err)
	}
	cancel()
	p, err := jinglepeer.New(ctx, jinglepeer.Config{Session: sess, Logger: log, Echo: true, AutoAccept: true, Interfaces: ifaces, Name: "jinglegate echo"})
	if err != nil {
		sess.Close()
		return err
	}
	log.Info("echo: logged in; accepting every call", "jid", sess.LocalAddr())
	return p.Run(ctx)
}
