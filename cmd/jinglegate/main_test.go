package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"

	"github.com/jinglegate/jinglegate/internal/xmpptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

const testHMAC = "test-hmac-secret-0123456789"

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jinglegate.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gatewayConfig(t *testing.T, srv *xmpptest.Server, secret string, httpPort int) string {
	return writeConfig(t, fmt.Sprintf(`
[xmpp]
server = %q
domain = %q
secret = %q
ping_interval = "500ms"
ping_timeout = "3s"
backoff_min = "100ms"
backoff_max = "1s"
[http]
listen = "127.0.0.1:%d"
[auth]
hmac_secret = %q
[store]
path = %q
[log]
level = "debug"
`, srv.ComponentAddr, srv.ComponentDomain, secret, httpPort, testHMAC, filepath.Join(t.TempDir(), "jg.db")))
}

func TestVersion(t *testing.T) {
	code, out, _ := runCmd("version")
	if code != 0 || !strings.HasPrefix(out, "jinglegate ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: code %d, output %q", code, out)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCmd(); code != 2 || !strings.Contains(errOut, "usage:") {
		t.Errorf("no args: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
}

// TestServeBadConfig: a malformed configuration gives one clear line naming
// the key, and exit status 2.
func TestServeBadConfig(t *testing.T) {
	base := `
[xmpp]
server = "127.0.0.1:5347"
domain = "gw.example.org"
secret = "s"
[auth]
hmac_secret = "` + testHMAC + `"
`
	for _, tc := range []struct {
		name, file string
		args       []string
		key        string
	}{
		{"syntax error", "[xmpp\n", nil, "config:"},
		{"unknown key", base + "[http]\nlisten_on = \"x\"\n", nil, "http.listen_on"},
		{"bad domain", strings.Replace(base, `"gw.example.org"`, `"not a domain"`, 1), nil, "xmpp.domain"},
		{"missing secret", strings.Replace(base, `secret = "s"`, "", 1), nil, "xmpp.secret"},
		{"bad flag value", base, []string{"-http.max_tabs", "zero"}, "http.max_tabs"},
		{"missing file", "", []string{"-config", "/nonexistent/jinglegate.toml"}, "/nonexistent/jinglegate.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"serve", "-config", writeConfig(t, tc.file)}
			args = append(args, tc.args...)
			code, _, errOut := runCmd(args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.key) {
				t.Errorf("stderr = %q, want one line naming %q", errOut, tc.key)
			}
		})
	}
}

func TestToken(t *testing.T) {
	cfg := writeConfig(t, "[auth]\nhmac_secret = \""+testHMAC+"\"\n")
	code, out, errOut := runCmd("token", "-config", cfg, "-user", "alice", "-ttl", "1h")
	if code != 0 {
		t.Fatalf("token: code %d, stderr %q", code, errOut)
	}
	tok, err := jwt.Parse(strings.TrimSpace(out), func(*jwt.Token) (any, error) { return []byte(testHMAC), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	sub, _ := tok.Claims.GetSubject()
	exp, _ := tok.Claims.GetExpirationTime()
	if sub != "alice" {
		t.Errorf("sub = %q", sub)
	}
	if d := time.Until(exp.Time); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("exp in %s, want 1h", d)
	}
	// The secret can come from the environment instead.
	t.Setenv("JINGLEGATE_AUTH_HMAC_SECRET", "another-secret-0123456789")
	code, out, _ = runCmd("token", "-user", "bob")
	if _, err := jwt.Parse(strings.TrimSpace(out), func(*jwt.Token) (any, error) { return []byte("another-secret-0123456789"), nil }); code != 0 || err != nil {
		t.Errorf("token from env secret: code %d, err %v", code, err)
	}
	// Errors.
	for _, args := range [][]string{
		{"token", "-config", cfg},                                  // no user
		{"token", "-config", cfg, "-user", "alice", "-ttl", "-1h"}, // bad ttl
		{"token", "-config", cfg, "-user", "al ice"},               // not a localpart
	} {
		if code, _, errOut := runCmd(args...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: code %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
	t.Setenv("JINGLEGATE_AUTH_HMAC_SECRET", "")
	if code, _, errOut := runCmd("token", "-user", "alice"); code != 2 || !strings.Contains(errOut, "auth.hmac_secret") {
		t.Errorf("no secret: code %d, stderr %q", code, errOut)
	}
}

func httpStatus(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, url string, want int, timeout time.Duration, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := httpStatus(url)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d after %s, want %d; gateway log:\n%s", url, got, timeout, want, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServe runs the real command against each real server: it becomes
// ready, serves the domain's disco#info to a c2s client, goes unready when
// the server dies, reconnects when it comes back, and exits 0 on shutdown.
func TestServe(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		srv.Register(t, "alice", "alicepw")
		port := xmpptest.FreePort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		cfg := gatewayConfig(t, srv, srv.ComponentSecret, port)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logs := &xmpptest.SyncBuffer{}
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, logs) }()

		waitStatus(t, base+"/healthz", 200, 10*time.Second, logs)
		waitStatus(t, base+"/readyz", 200, 20*time.Second, logs)

		c := srv.Dial(context.Background(), t, "alice", "alicepw")
		go func() { _ = c.Serve(nil) }()
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		info, err := disco.GetInfo(dctx, "", jid.MustParse(srv.ComponentDomain), c)
		dcancel()
		if err != nil || len(info.Identity) == 0 {
			t.Errorf("disco#info of the gateway: %+v, %v", info, err)
		}

		// roster add reaches the gateway, which reports that the server
		// granted no privileges.
		code, _, errOut := runCmd("roster", "add", "-config", cfg, "-user", "alice@localhost", "-contact", "web")
		if code != 1 || !strings.Contains(errOut, "roster privileges (XEP-0356)") {
			t.Errorf("roster add without privileges: code %d, stderr %q", code, errOut)
		}

		srv.Kill(t) // SIGKILL: no goodbye from the server
		waitStatus(t, base+"/readyz", 503, 20*time.Second, logs)
		if httpStatus(base+"/healthz") != 200 {
			t.Errorf("/healthz failed while the XMPP server is down")
		}
		srv.Restart(t)
		waitStatus(t, base+"/readyz", 200, 30*time.Second, logs)

		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d after shutdown, want 0; log:\n%s", code, logs)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("serve did not exit after shutdown; log:\n%s", logs)
		}
		if l := logs.String(); !strings.Contains(l, "component link closed") || !strings.Contains(l, "msg=stopped") {
			t.Errorf("shutdown not logged:\n%s", l)
		}
	})
}

// TestServeWrongSecret: the gateway says the secret is wrong, stays
// unready, and keeps retrying.
func TestServeWrongSecret(t *testing.T) {
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		port := xmpptest.FreePort(t)
		cfg := gatewayConfig(t, srv, "wrong-secret", port)
		ctx, cancel := context.WithCancel(context.Background())
		logs := &xmpptest.SyncBuffer{}
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, logs) }()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(logs.String(), "wrong secret") < 2 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := strings.Count(logs.String(), "wrong secret"); n < 2 {
			t.Errorf("%d 'wrong secret' reports, want at least 2 (retrying); log:\n%s", n, logs)
		}
		if got := httpStatus(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); got != 503 {
			t.Errorf("/readyz = %d with a wrong secret, want 503", got)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit status %d", code)
		}
	})
}

// TestServeSIGTERM: the built binary shuts down cleanly on SIGTERM.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts real servers")
	}
	bin := filepath.Join(t.TempDir(), "jinglegate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	xmpptest.Each(t, func(t *testing.T, srv *xmpptest.Server) {
		port := xmpptest.FreePort(t)
		cmd := exec.Command(bin, "serve", "-config", gatewayConfig(t, srv, srv.ComponentSecret, port))
		logs := &xmpptest.SyncBuffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		waitStatus(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", port), 200, 20*time.Second, logs)
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v; log:\n%s", err, logs)
			}
			t.Logf("shutdown took %s", time.Since(start))
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("no exit 20 s after SIGTERM; log:\n%s", logs)
		}
		if !strings.Contains(logs.String(), "component link closed") {
			t.Errorf("the stream was not closed gracefully:\n%s", logs)
		}
	})
}
