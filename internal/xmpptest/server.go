package xmpptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
)

// Kind names an XMPP server implementation.
type Kind string

// The servers the harness can run.
const (
	Prosody  Kind = "prosody"  // Prosody 0.12
	Ejabberd Kind = "ejabberd" // ejabberd 23.01
)

// Kinds lists every Kind, in the order Each runs them.
var Kinds = []Kind{Prosody, Ejabberd}

// Defaults of a private server.
const (
	DefaultDomain          = "localhost"
	DefaultComponentDomain = "gw.localhost"
)

const (
	// scriptTimeout bounds one run of a server script; the scripts bound
	// start-up and shutdown themselves (60 s and 15+10 s), this is a backstop.
	scriptTimeout = 2 * time.Minute
	// logTailLines is how much of the server log a failing test shows.
	logTailLines = 60
)

// Options configures Start. The zero value (or nil) is a plain server.
type Options struct {
	// Privilege enables XEP-0356 privileges for the component domain:
	// roster "both", message "outgoing", presence "roster". Prosody speaks
	// urn:xmpp:privilege:2 (mod_privilege from prosody-modules); ejabberd
	// 23.01 only urn:xmpp:privilege:1, and its privileged roster set fails.
	Privilege bool

	// ComponentSecret is the XEP-0114 secret of the component domain;
	// random when empty.
	ComponentSecret string
}

// Server is a private XMPP server listening on loopback ports, started by
// Start. Its exported fields are set by Start and must not be changed.
type Server struct {
	Kind            Kind
	Domain          string // the VirtualHost, "localhost"
	ComponentDomain string // the XEP-0114 component domain, "gw.localhost"
	ComponentSecret string
	C2SAddr         string // "127.0.0.1:port", plain TCP, PLAIN and SCRAM allowed
	ComponentAddr   string // "127.0.0.1:port" for XEP-0114 components
	HTTPAddr        string // "127.0.0.1:port" serving BOSH and WebSocket
	WebSocketURL    string // ws://127.0.0.1:port/xmpp-websocket (Prosody) or /ws (ejabberd)
	Dir             string // configuration, data and logs

	script string   // testdata/servers/KIND.sh
	env    []string // the settings passed to script

	mu      sync.Mutex
	running bool // the last start succeeded and no stop followed
	started bool // some start succeeded: the log is worth showing
}

// Start starts a private server of the given kind on free loopback ports,
// in a fresh directory, and returns once it accepts client and component
// connections. The server is stopped, and its log tail shown if t failed,
// when t's cleanup runs; a watchdog also stops it if the test binary dies
// without cleaning up. Start calls t.Fatal, with the server's log tail, if
// the server cannot be started.
//
// Start skips t (t.Skip) when testing.Short() is set, or when the
// JINGLEGATE_TEST_SERVERS environment variable (a comma-separated list of
// kinds, or "none") does not select kind. LOG_LEVEL in the environment
// (e.g. "debug") sets the server's log level.
func Start(t testing.TB, kind Kind, opts *Options) *Server {
	t.Helper()
	skipUnlessSelected(t, kind)
	if opts == nil {
		opts = &Options{}
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("xmpptest: %v", err)
	}

	s := &Server{
		Kind:            kind,
		Domain:          DefaultDomain,
		ComponentDomain: DefaultComponentDomain,
		ComponentSecret: opts.ComponentSecret,
		Dir:             t.TempDir(),
		script:          filepath.Join(root, "testdata", "servers", string(kind)+".sh"),
	}
	if s.ComponentSecret == "" {
		s.ComponentSecret = randomHex(12)
	}

	var wsPath string
	switch kind {
	case Prosody:
		wsPath = "/xmpp-websocket"
	case Ejabberd:
		wsPath = "/ws"
	default:
		t.Fatalf("xmpptest: unknown server kind %q", kind)
	}

	c2s, comp, http := FreePort(t), FreePort(t), FreePort(t)
	s.C2SAddr = loopback(c2s)
	s.ComponentAddr = loopback(comp)
	s.HTTPAddr = loopback(http)
	s.WebSocketURL = "ws://" + s.HTTPAddr + wsPath
	s.env = []string{
		"DOMAIN=" + s.Domain,
		"COMPONENT_DOMAIN=" + s.ComponentDomain,
		"COMPONENT_SECRET=" + s.ComponentSecret,
		"C2S_PORT=" + strconv.Itoa(c2s),
		"COMPONENT_PORT=" + strconv.Itoa(comp),
		"HTTP_PORT=" + strconv.Itoa(http),
		"PRIVILEGE=" + boolDigit(opts.Privilege),
		// Stop the server if this test binary dies without its cleanup.
		"WATCH_PID=" + strconv.Itoa(os.Getpid()),
	}
	if kind == Ejabberd {
		s.env = append(s.env, "ERL_DIST_PORT="+strconv.Itoa(FreePort(t)))
	}

	// Registered before starting, so that a failed start still cleans up.
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if t.Failed() && s.started {
			t.Logf("xmpptest: %s in %s, log tail:\n%s", s.Kind, s.Dir, s.LogTail(logTailLines))
		}
		if out, err := s.run("stop"); err != nil {
			t.Errorf("xmpptest: stopping %s: %v\n%s", s.Kind, err, out)
		}
		s.running = false
	})

	begin := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := s.run("start"); err != nil {
		t.Fatalf("xmpptest: starting %s in %s: %v\n%s", kind, s.Dir, err, out)
	}
	s.running, s.started = true, true
	t.Logf("xmpptest: %s started in %v: c2s %s, component %s (%s), http %s",
		kind, time.Since(begin).Round(time.Millisecond), s.C2SAddr, s.ComponentAddr, s.ComponentDomain, s.HTTPAddr)
	return s
}

// Stop stops the server gracefully (SIGTERM; SIGKILL if it lingers) and
// waits until its processes are gone and its ports closed. Stopping a
// stopped server does nothing. It calls t.Fatal on failure.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop(t, "stop")
}

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// until its processes are gone and its ports closed.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.stop(t, "kill")
}

func (s *Server) stop(t testing.TB, how string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	begin := time.Now()
	if out, err := s.run(how); err != nil {
		t.Fatalf("xmpptest: %s %s: %v\n%s", how, s.Kind, err, out)
	}
	if s.running {
		t.Logf("xmpptest: %s %s took %v", how, s.Kind, time.Since(begin).Round(time.Millisecond))
	}
	s.running = false
}

// Restart starts the server again on the same ports, with the same secret
// and data (accounts and rosters survive), stopping it first if it runs.
// Clients and components connected before must reconnect.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		if out, err := s.run("stop"); err != nil {
			t.Fatalf("xmpptest: stopping %s: %v\n%s", s.Kind, err, out)
		}
		s.running = false
	}
	begin := time.Now()
	if out, err := s.run("start"); err != nil {
		t.Fatalf("xmpptest: restarting %s in %s: %v\n%s", s.Kind, s.Dir, err, out)
	}
	s.running = true
	t.Logf("xmpptest: %s restarted in %v", s.Kind, time.Since(begin).Round(time.Millisecond))
}

// Register creates the account user@Domain with the given password and
// returns its bare JID. It fails if the account exists. It works whether
// or not Prosody runs; ejabberd must run.
func (s *Server) Register(t testing.TB, user, password string) jid.JID {
	t.Helper()
	j, err := jid.New(user, s.Domain, "")
	if err != nil {
		t.Fatalf("xmpptest: invalid user %q: %v", user, err)
	}
	if out, err := s.run("register", user, password); err != nil {
		t.Fatalf("xmpptest: registering %s on %s: %v\n%s", j, s.Kind, err, out)
	}
	return j
}

// Ctl runs the server's admin tool (prosodyctl or ejabberdctl) on this
// instance with args, e.g. Ctl(t, "add_rosteritem", ...) on ejabberd, and
// returns its output. It calls t.Fatal if the tool fails.
func (s *Server) Ctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.run("ctl", args...)
	if err != nil {
		t.Fatalf("xmpptest: %s ctl %s: %v\n%s", s.Kind, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// LogTail returns the last n lines of the server's log and of its standard
// output and error (where crashes are reported).
func (s *Server) LogTail(n int) string {
	var files []string
	switch s.Kind {
	case Prosody:
		files = []string{filepath.Join(s.Dir, "prosody.log"), filepath.Join(s.Dir, "prosody.out")}
	case Ejabberd:
		// ejabberd.out repeats the log; it only adds what the VM prints.
		files = []string{filepath.Join(s.Dir, "log", "ejabberd.log"), filepath.Join(s.Dir, "ejabberd.out")}
	}
	var b strings.Builder
	for i, f := range files {
		lines := n
		if i > 0 {
			lines = min(n, 15)
		}
		tail, err := tailFile(f, lines)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(&b, "--- %s: %v\n", f, err)
			}
			continue
		}
		fmt.Fprintf(&b, "--- last %d lines of %s ---\n%s", lines, f, tail)
	}
	return b.String()
}

// run runs the server script with a subcommand, the instance directory and
// args, and returns its combined output.
func (s *Server) run(cmd string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", append([]string{s.script, cmd, s.Dir}, args...)...)
	c.Env = append(inheritedEnv(), s.env...)
	// The script leaves the server and the watchdog running with their own
	// stdio; should anything else keep the output pipe open, don't hang.
	c.WaitDelay = 10 * time.Second
	out, err := c.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (after %v)", ctx.Err(), scriptTimeout)
	}
	return out, err
}

// scriptSettings are the script settings that must not leak in from the
// environment of the test: the harness sets them, or they must stay unique
// to the instance. LOG_LEVEL, START_TIMEOUT and STOP_TIMEOUT do pass.
var scriptSettings = []string{
	"DOMAIN", "COMPONENT_DOMAIN", "COMPONENT_SECRET", "C2S_PORT", "COMPONENT_PORT",
	"HTTP_PORT", "PRIVILEGE", "ERL_DIST_PORT", "NODE_NAME", "COOKIE", "WATCH_PID",
}

func inheritedEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(scriptSettings, name) {
			out = append(out, kv)
		}
	}
	return out
}

func tailFile(name string, n int) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ring := make([]string, 0, n)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		if len(ring) == n {
			copy(ring, ring[1:])
			ring = ring[:n-1]
		}
		ring = append(ring, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	var b bytes.Buffer
	for _, l := range ring {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// repoRoot finds the module root (the directory whose go.mod declares this
// module) from this source file, or else from the working directory, which
// is the directory of the package under test.
var repoRoot = sync.OnceValues(func() (string, error) {
	const module = "module github.com/jinglegate/jinglegate"
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && hasLine(b, module) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("cannot find the repository root (a go.mod with %q) above %v", module, starts)
})

func hasLine(b []byte, line string) bool {
	for l := range bytes.Lines(b) {
		if string(bytes.TrimSpace(l)) == line {
			return true
		}
	}
	return false
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
