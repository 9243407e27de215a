package xmpptest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/component"
)

// closeTimeout bounds how long closing a client session may block.
const closeTimeout = 2 * time.Second

// Dial logs user in over c2s (plain TCP on loopback, SCRAM-SHA-1 or PLAIN)
// and binds a resource that the server picks. The session is closed in t's
// cleanup. Dial neither sends presence nor calls Serve: to receive stanzas
// and IQ responses, run Serve in a goroutine. It calls t.Fatal on failure,
// so call it from the test's goroutine; elsewhere use Connect.
func (s *Server) Dial(ctx context.Context, t testing.TB, user, password string) *xmpp.Session {
	t.Helper()
	session, err := s.Connect(ctx, user, password)
	if err != nil {
		t.Fatalf("xmpptest: %v", err)
	}
	t.Cleanup(func() { CloseSession(session) })
	return session
}

// Connect is Dial for callers that handle errors, e.g. to check that the
// server is down, or from goroutines. Close the session with CloseSession.
func (s *Server) Connect(ctx context.Context, user, password string) (*xmpp.Session, error) {
	origin, err := jid.New(user, s.Domain, "")
	if err != nil {
		return nil, fmt.Errorf("invalid user %q: %w", user, err)
	}
	location, err := jid.New("", s.Domain, "")
	if err != nil {
		return nil, fmt.Errorf("invalid domain %q: %w", s.Domain, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.C2SAddr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s c2s at %s: %w", s.Kind, s.C2SAddr, err)
	}
	// The connection is already "secure" (loopback): starting in state 0
	// fails with the misleading "features advertised out of order".
	// The caller cancels ctx when we return: mellium must not see that
	// (component.Detach explains why).
	session, err := xmpp.NewSession(component.Detach(ctx, time.Minute), location, origin, conn, xmpp.Secure,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{
				Features: []xmpp.StreamFeature{
					xmpp.SASL("", password, sasl.ScramSha1, sasl.Plain),
					xmpp.BindResource(),
				},
			}
		}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("logging in as %s on %s at %s: %w", origin, s.Kind, s.C2SAddr, err)
	}
	return session, nil
}

// CloseSession ends the session's stream and closes its connection without
// waiting for the server's reply, and without blocking for more than a
// moment if the server is gone. A Serve loop on the session returns.
func CloseSession(session *xmpp.Session) {
	conn := session.Conn()
	_ = conn.SetWriteDeadline(time.Now().Add(closeTimeout))
	_ = session.Close()
	_ = conn.Close()
}
