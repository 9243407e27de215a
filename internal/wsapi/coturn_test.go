package wsapi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// turnserverBinary finds coturn's turnserver, installing Debian's coturn
// package if it is missing and we are root.
func turnserverBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("turnserver"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("coturn is not installed and we are not root to install it (apt-get install -y coturn)")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("coturn is not installed and apt-get is not available")
	}
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "coturn")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := install(); err != nil {
		t.Logf("apt-get install coturn: %v; running apt-get update", err)
		if out, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
			t.Skipf("cannot install coturn: apt-get update: %v: %s", err, out)
		}
		if err := install(); err != nil {
			t.Skipf("cannot install coturn: %v", err)
		}
	}
	p, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("coturn installed but turnserver not found")
	}
	return p
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.LocalAddr().(*net.UDPAddr).Port
		tl, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			tl.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startCoturn runs a private turnserver and returns its address.
func startCoturn(t *testing.T, secret string) string {
	t.Helper()
	bin := turnserverBinary(t)
	tmpl, err := os.ReadFile("../../testdata/coturn/turnserver.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	minPort := 50000 + rand.IntN(10000)
	conf := strings.NewReplacer(
		"@@PORT@@", fmt.Sprint(port),
		"@@MINPORT@@", fmt.Sprint(minPort),
		"@@MAXPORT@@", fmt.Sprint(minPort+50),
		"@@SECRET@@", secret,
		"@@DIR@@", dir,
	).Replace(string(tmpl))
	confPath := filepath.Join(dir, "turnserver.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting turnserver: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		out.Close()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "turn.log"))
			t.Logf("turn.log:\n%s", log)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Wait until it answers on TCP (it opens UDP and TCP together).
	deadline := time.Now().Add(wait)
	for {
		select {
		case err := <-exited:
			t.Fatalf("turnserver exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp4", addr, time.Second); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("turnserver does not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allocate asks the TURN server for a UDP relay with these credentials.
func allocate(t *testing.T, addr, user, pass string) (net.Addr, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelWarn
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr,
		TURNServerAddr: addr,
		Conn:           conn,
		Username:       user,
		Password:       pass,
		LoggerFactory:  lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		return nil, err
	}
	defer relay.Close()
	return relay.LocalAddr(), nil
}

// TestCoturnCredentials checks the session's TURN credentials against a real
// coturn with use-auth-secret.
func TestCoturnCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("starts coturn")
	}
	const turnSecret = "coturn-test-secret"
	addr := startCoturn(t, turnSecret)
	h := newHarness(t, func(o *wsapi.Options) {
		o.STUN = []string{"stun:" + addr}
		o.TURN = wsapi.TURNOptions{URLs: []string{"turn:" + addr + "?transport=udp"}, Secret: turnSecret, TTL: time.Hour}
	})
	c := h.dialQuery(url.Values{"token": {h.token("alice")}})
	servers := c.session.m["iceServers"].([]any)
	turnServer := servers[1].(map[string]any)
	user, cred := turnServer["username"].(string), turnServer["credential"].(string)

	// The server may take a moment to accept allocations after it listens.
	var relay net.Addr
	var err error
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for relay, err = allocate(t, addr, user, cred); err != nil && ctx.Err() == nil; relay, err = allocate(t, addr, user, cred) {
		t.Logf("allocate: %v; retrying", err)
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("allocation with the session's credentials failed: %v", err)
	}
	if !strings.HasPrefix(relay.String(), "127.0.0.1:") {
		t.Errorf("relay address %v", relay)
	}
	t.Logf("allocated relay %v as %s", relay, user)

	// Refused: a wrong credential, expired credentials, another secret.
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong credential", user, cred[:len(cred)-2] + "AA"},
		{"tampered username", strings.Replace(user, ":alice", ":bob", 1), cred},
		{"expired", func() string {
			u, _ := auth.TURNCredentials(turnSecret, "alice", time.Hour, time.Now().Add(-2*time.Hour))
			return u
		}(),
			func() string {
				_, p := auth.TURNCredentials(turnSecret, "alice", time.Hour, time.Now().Add(-2*time.Hour))
				return p
			}()},
		{"other secret", user, func() string { _, p := auth.TURNCredentials("nope", "alice", time.Hour, time.Now()); return p }()},
	} {
		if _, err := allocate(t, addr, tc.user, tc.pass); err == nil {
			t.Errorf("%s: allocation succeeded", tc.name)
		} else if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
