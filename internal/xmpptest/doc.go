// Package xmpptest runs private XMPP servers, Prosody 0.12 and ejabberd
// 23.01, for integration tests. Only tests import it.
//
// Start picks free loopback ports, renders a configuration from
// testdata/servers/{prosody,ejabberd}/ into a temporary directory and runs
// the server there through testdata/servers/KIND.sh (the same scripts serve
// `make demo` and manual use; run one without arguments for help). Each
// server has:
//
//   - the VirtualHost "localhost", with roster, disco, ping, caps and offline
//     messages; accounts are made with Register;
//   - c2s on plain TCP (no TLS, PLAIN and SCRAM allowed: loopback only),
//     which Dial uses;
//   - the XEP-0114 component domain "gw.localhost" with a secret;
//   - HTTP with BOSH and XMPP over WebSocket (Server.WebSocketURL);
//   - optionally, XEP-0356 privileges for the component (Options.Privilege).
//
// A test uses one server kind with Start, or both with Each:
//
//	func TestEcho(t *testing.T) {
//		xmpptest.Each(t, func(t *testing.T, s *xmpptest.Server) {
//			s.Register(t, "alice", "alicepw")
//			alice := s.Dial(t.Context(), t, "alice", "alicepw")
//			go alice.Serve(nil)
//			// connect the gateway to s.ComponentAddr as s.ComponentDomain
//			// with s.ComponentSecret, ...
//		})
//	}
//
// Servers are stopped in the test's cleanup; Stop, Kill and Restart (same
// ports, same data) let a test take a server down and bring it back. A
// server whose test binary dies without cleaning up is stopped by a
// watchdog within a second or two. On failure, the test log shows the tail
// of the server's log.
//
// Test binaries running at the same time (go test ./... runs packages in
// parallel) don't collide: ports are reserved with lock files below the
// kernel's ephemeral range (FreePort), and each ejabberd has its own node
// name, cookie, HOME and Erlang distribution port, with no epmd.
//
// Integration tests are skipped with -short. The environment variable
// JINGLEGATE_TEST_SERVERS selects the servers ("prosody", "ejabberd",
// "prosody,ejabberd" or "none"; default: all); LOG_LEVEL=debug makes the
// servers log more. The servers must be installed (scripts/install-deps.sh);
// as root, the scripts install them when missing.
//
// Only Linux is supported: the scripts use /proc, setsid and flock.
package xmpptest
