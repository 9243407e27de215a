package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jinglegate/jinglegate/internal/config"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jinglegate.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const good = `
[xmpp]
server = "127.0.0.1:15347"
domain = "gw.example.org"
secret = "s3cret"
[http]
listen = "127.0.0.1:8080"
allowed_origins = ["https://app.example.org"]
[auth]
hmac_secret = "0123456789abcdef0123"
[store]
path = "x.db"
`

func noEnv(string) (string, bool) { return "", false }

func TestPrecedence(t *testing.T) {
	p := writeFile(t, good)
	env := map[string]string{"JINGLEGATE_XMPP_SECRET": "from-env", "JINGLEGATE_HTTP_MAX_TABS": "3", "JINGLEGATE_HTTP_ALLOWED_ORIGINS": "https://a.example, https://b.example"}
	c, err := config.Load(p, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	apply := config.Flags(fs)
	if err := fs.Parse([]string{"-http.max_tabs", "5", "-xmpp.ping_interval", "2s"}); err != nil {
		t.Fatal(err)
	}
	if err := apply(&c); err != nil {
		t.Fatal(err)
	}
	if c.XMPP.Secret != "from-env" {
		t.Errorf("secret = %q: env must override the file", c.XMPP.Secret)
	}
	if c.XMPP.Domain != "gw.example.org" || c.Store.Path != "x.db" {
		t.Errorf("file values lost: %+v", c)
	}
	if c.HTTP.MaxTabs != 5 {
		t.Errorf("max_tabs = %d: flags must override env", c.HTTP.MaxTabs)
	}
	if c.XMPP.PingInterval.D() != 2*time.Second {
		t.Errorf("ping_interval = %s", c.XMPP.PingInterval.D())
	}
	if got := c.HTTP.AllowedOrigins; len(got) != 2 || got[1] != "https://b.example" {
		t.Errorf("allowed_origins from env = %q", got)
	}
	if c.HTTP.ReadLimit != 64<<10 {
		t.Errorf("default read_limit lost: %d", c.HTTP.ReadLimit)
	}
	if err := c.Validate("xmpp", "http", "auth"); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestEveryKeyHasEnvAndFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	config.Flags(fs)
	example, err := os.ReadFile("../../jinglegate.example.toml")
	if err != nil {
		t.Fatalf("reading the example config: %v", err)
	}
	// The example must parse and document every key.
	var c config.Config = config.Default()
	if err := config.LoadFile(&c, "../../jinglegate.example.toml"); err != nil {
		t.Fatalf("example config: %v", err)
	}
	for _, k := range config.Keys() {
		if fs.Lookup(k) == nil {
			t.Errorf("no flag -%s", k)
		}
		sec, name, _ := strings.Cut(k, ".")
		if !strings.Contains(string(example), "["+sec+"]") || !strings.Contains(string(example), name+" =") {
			t.Errorf("jinglegate.example.toml does not document %s", k)
		}
		if env := config.EnvName(k); !strings.HasPrefix(env, "JINGLEGATE_") || strings.ContainsAny(env, ".-") {
			t.Errorf("bad env name %q for %s", env, k)
		}
	}
	if config.EnvName("xmpp.secret") != "JINGLEGATE_XMPP_SECRET" {
		t.Errorf("EnvName(xmpp.secret) = %s", config.EnvName("xmpp.secret"))
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		key        string // the key the one-line error must name
	}{
		{"syntax", "[xmpp]\nserver = \"x\n", nil, "xmpp.server"},
		{"type", strings.Replace(good, `"127.0.0.1:15347"`, "5347", 1), nil, "xmpp.server"},
		{"unknown key", good + "\n[xmpp2]\nfoo = 1\n", nil, "xmpp2"},
		{"unknown key in section", strings.Replace(good, "[store]", "[store]\npth = 1", 1), nil, "store.pth"},
		{"missing domain", strings.Replace(good, `domain = "gw.example.org"`, "", 1), nil, "xmpp.domain"},
		{"domain with user", strings.Replace(good, `"gw.example.org"`, `"a@gw.example.org"`, 1), nil, "xmpp.domain"},
		{"missing secret", strings.Replace(good, `secret = "s3cret"`, "", 1), nil, "xmpp.secret"},
		{"bad server", strings.Replace(good, `"127.0.0.1:15347"`, `"localhost"`, 1), nil, "xmpp.server"},
		{"bad listen", strings.Replace(good, `"127.0.0.1:8080"`, `"8080"`, 1), nil, "http.listen"},
		{"bad origin", strings.Replace(good, `"https://app.example.org"`, `"app.example.org"`, 1), nil, "http.allowed_origins"},
		{"short hmac", strings.Replace(good, `"0123456789abcdef0123"`, `"short"`, 1), nil, "auth.hmac_secret"},
		{"bad duration env", good, map[string]string{"JINGLEGATE_XMPP_PING_INTERVAL": "often"}, "xmpp.ping_interval"},
		{"bad int env", good, map[string]string{"JINGLEGATE_HTTP_MAX_TABS": "many"}, "http.max_tabs"},
		{"backoff order", good + "", map[string]string{"JINGLEGATE_XMPP_BACKOFF_MIN": "10s", "JINGLEGATE_XMPP_BACKOFF_MAX": "1s"}, "xmpp.backoff_max"},
		{"turn without secret", good, map[string]string{"JINGLEGATE_TURN_URLS": "turn:127.0.0.1:3478"}, "turn.secret"},
		{"bad turn url", good, map[string]string{"JINGLEGATE_TURN_URLS": "http://x"}, "turn.urls"},
		{"bad log level", good, map[string]string{"JINGLEGATE_LOG_LEVEL": "loud"}, "log.level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file)
			c, err := config.Load(p, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err == nil {
				err = c.Validate("xmpp", "http", "auth")
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			if ce.Key != tc.key {
				t.Errorf("error names key %q, want %q: %v", ce.Key, tc.key, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tc.key) {
				t.Errorf("error is not one line naming the key: %q", msg)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.toml"), noEnv)
	if !errors.Is(err, config.ErrNoFile) {
		t.Errorf("got %v, want ErrNoFile", err)
	}
}
