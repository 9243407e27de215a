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

	"github.com/jinglegate/jinglegate/component"
	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/jingle"
)

// runEcho: `jinglegate echo -jid echo@example.org -password-env ECHO_PW
// -server host:5222` logs in as an XMPP user and accepts every call (XEP-0353
// and plain Jingle), sending audio, video and data channel messages back.
// With -hangup-after D it hangs up every call D after its media connected,
// so that callers (and tests) see a call ended by the other side; with
// -no-jmi it does not advertise XEP-0353, so that callers send it a
// session-initiate directly instead of a propose.
func runEcho(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("jinglegate echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("jid", "", "the echo bot's JID, e.g. echo@example.org")
	server := fs.String("server", "", "host:port of the server's c2s listener (default: the JID's domain, port 5222)")
	pwEnv := fs.String("password-env", "JINGLEGATE_ECHO_PASSWORD", "environment variable that holds the password")
	interfaces := fs.String("interfaces", "", "comma-separated network interfaces for ICE, or * for all (loopback included) (default: loopback only)")
	level := fs.String("log.level", "info", "debug, info, warn or error")
	noJMI := fs.Bool("no-jmi", false, "do not advertise XEP-0353 (Jingle Message Initiation): callers then send session-initiate to the bot's full JID directly")
	hangupAfter := fs.Duration("hangup-after", 0, "hang up every call this long after its media connected, e.g. 30s (0: never; the caller hangs up)")
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
	if *hangupAfter < 0 {
		return usageErr(fmt.Errorf("echo: -hangup-after must not be negative, got %s", *hangupAfter))
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
		err := echoOnce(ctx, j.Bare(), pw, *server, echoOptions{ifaces: ifaces, hangupAfter: *hangupAfter, noJMI: *noJMI}, log)
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

// echoOptions are the echo bot's settings besides its account.
type echoOptions struct {
	ifaces      []string      // ICE interfaces; nil: loopback only
	hangupAfter time.Duration // > 0: hang up each call this long after it connected
	noJMI       bool          // do not advertise XEP-0353
}

// echoOnce logs in and serves calls until the session ends.
func echoOnce(ctx context.Context, user jid.JID, pw, server string, opts echoOptions, log *slog.Logger) error {
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
	// Not cancelled under mellium when dctx is (component.Detach).
	sess, err := xmpp.NewSession(component.Detach(dctx, 15*time.Second), user.Domain(), user, conn, state, xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
		return xmpp.StreamConfig{Features: features}
	}))
	if err != nil {
		conn.Close()
		return fmt.Errorf("login as %s: %w", user, err)
	}
	cancel()
	p, err := jinglepeer.New(ctx, jinglepeer.Config{Session: sess, Logger: log, Echo: true, AutoAccept: true, NoJMI: opts.noJMI, Interfaces: opts.ifaces, Name: "jinglegate echo"})
	if err != nil {
		sess.Close()
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	select {
	case <-p.Ready():
	case err := <-done:
		return err
	}
	// Ready: the presence with caps is out, so callers can find the bot.
	attrs := []any{"jid", sess.LocalAddr(), "jmi", !opts.noJMI}
	if opts.hangupAfter > 0 {
		attrs = append(attrs, "hangup_after", opts.hangupAfter)
		go hangUpCalls(runCtx, p, opts.hangupAfter, log)
	}
	log.Info("echo: logged in; accepting every call", attrs...)
	return <-done
}

// hangUpCalls hangs up every incoming call of p the given time after its
// media connected (ICE and DTLS), unless it ended before.
func hangUpCalls(ctx context.Context, p *jinglepeer.Peer, after time.Duration, log *slog.Logger) {
	for {
		var c *jinglepeer.Call
		select {
		case <-ctx.Done():
			return
		case c = <-p.Incoming():
		}
		go func() {
			if err := c.WaitConnected(ctx); err != nil {
				return // ended (or failed) before connecting: nothing to hang up
			}
			t := time.NewTimer(after)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-c.Done():
				return
			case <-t.C:
			}
			hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := c.Hangup(hctx, jingle.ReasonSuccess); err != nil {
				log.Warn("echo: hanging up failed", "sid", c.SID(), "peer", c.Peer(), "err", err)
				return
			}
			log.Info("echo: hung up", "sid", c.SID(), "peer", c.Peer(), "after", after)
		}()
	}
}
