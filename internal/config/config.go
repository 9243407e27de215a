package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"mellium.im/xmpp/jid"
)

// Duration is a time.Duration that reads and writes as a Go duration string
// ("30s", "1h") in TOML, flags and environment variables.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("not a duration (want e.g. \"30s\" or \"1h\"): %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// XMPP configures the component link (XEP-0114).
type XMPP struct {
	Server       string   `toml:"server" help:"host:port of the XMPP server's component listener"`
	Domain       string   `toml:"domain" help:"the component's domain; web users get JIDs on it"`
	Secret       string   `toml:"secret" help:"the component secret shared with the XMPP server"`
	Name         string   `toml:"name" help:"name shown in the domain's disco#info identity"`
	PingTo       string   `toml:"ping_to" help:"address pinged to check the link (default: the parent of domain, i.e. the server's domain)"`
	PingInterval Duration `toml:"ping_interval" help:"how often to ping over the link to detect a dead server"`
	PingTimeout  Duration `toml:"ping_timeout" help:"how long a keepalive ping may take before the link is dropped"`
	BackoffMin   Duration `toml:"backoff_min" help:"first reconnection delay"`
	BackoffMax   Duration `toml:"backoff_max" help:"largest reconnection delay"`
}

// HTTP configures the browser-facing HTTP and WebSocket server.
type HTTP struct {
	Listen         string   `toml:"listen" help:"address of the HTTP server (WebSocket at /ws)"`
	AllowedOrigins []string `toml:"allowed_origins" help:"origins allowed to open /ws; empty means same-origin only"`
	ReadLimit      int64    `toml:"read_limit" help:"largest WebSocket message accepted from a browser, in bytes"`
	ResumeGrace    Duration `toml:"resume_grace" help:"how long a dropped browser session may be resumed"`
	MaxTabs        int      `toml:"max_tabs" help:"most simultaneous connections (tabs) per user"`
	RatePerSecond  float64  `toml:"rate" help:"messages per second allowed per connection (token bucket rate)"`
	RateBurst      int      `toml:"rate_burst" help:"token bucket size per connection"`
}

// Auth configures browser authentication.
type Auth struct {
	HMACSecret string `toml:"hmac_secret" help:"HS256 secret for browser tokens (JWT, sub = localpart)"`
	Audience   string `toml:"audience" help:"if set, tokens must carry this aud"`
}

// Store configures the embedded database.
type Store struct {
	Path string `toml:"path" help:"SQLite database file for rosters and state"`
}

// TURN configures the ICE servers handed to browsers.
type TURN struct {
	URLs   []string `toml:"urls" help:"STUN/TURN URLs given to browsers (stun:, turn:, turns:)"`
	Secret string   `toml:"secret" help:"coturn use-auth-secret static-auth-secret for TURN REST credentials"`
	TTL    Duration `toml:"ttl" help:"lifetime of minted TURN credentials"`
}

// Calls configures call timing.
type Calls struct {
	RingTimeout Duration `toml:"ring_timeout" help:"how long a call may ring before it ends with timeout"`
	IQTimeout   Duration `toml:"iq_timeout" help:"how long to wait for the peer to answer a Jingle request"`
}

// Policy says who may call whom.
type Policy struct {
	Calls   string   `toml:"calls" help:"who may call whom: roster (contacts only), domains (contacts and the listed domains) or open"`
	Domains []string `toml:"domains" help:"with calls = \"domains\": XMPP domains whose users may call and be called"`
}

// Demo configures the demo mode.
type Demo struct {
	Enabled bool `toml:"enabled" help:"demo mode: POST /demo/token mints a token for any user name (never in production)"`
	// Contacts are XMPP users put into the roster of every user who signs
	// in through the demo page (and that user into theirs), with a mutual
	// subscription, through XEP-0356: the demo's echo bot, say.
	Contacts []string `toml:"contacts" help:"demo mode: XMPP users (echo@localhost) every demo user gets as contacts (needs XEP-0356 roster privileges)"`
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level" help:"debug, info, warn or error"`
	Format string `toml:"format" help:"text or json"`
}

// Config is the whole configuration of jinglegate.
type Config struct {
	XMPP   XMPP   `toml:"xmpp"`
	HTTP   HTTP   `toml:"http"`
	Auth   Auth   `toml:"auth"`
	Store  Store  `toml:"store"`
	TURN   TURN   `toml:"turn"`
	Calls  Calls  `toml:"calls"`
	Policy Policy `toml:"policy"`
	Demo   Demo   `toml:"demo"`
	Log    Log    `toml:"log"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		XMPP: XMPP{
			Server:       "127.0.0.1:5347",
			Name:         "jinglegate",
			PingInterval: Duration(30 * time.Second),
			PingTimeout:  Duration(10 * time.Second),
			BackoffMin:   Duration(500 * time.Millisecond),
			BackoffMax:   Duration(30 * time.Second),
		},
		HTTP: HTTP{
			Listen:        "127.0.0.1:8080",
			ReadLimit:     64 << 10,
			ResumeGrace:   Duration(30 * time.Second),
			MaxTabs:       8,
			RatePerSecond: 20,
			RateBurst:     60,
		},
		Store:  Store{Path: "jinglegate.db"},
		TURN:   TURN{TTL: Duration(12 * time.Hour)},
		Calls:  Calls{RingTimeout: Duration(45 * time.Second), IQTimeout: Duration(30 * time.Second)},
		Policy: Policy{Calls: "roster"},
		Log:    Log{Level: "info", Format: "text"},
	}
}

// Error is a configuration problem with one key.
type Error struct {
	Key    string // dotted TOML key, e.g. "xmpp.domain"
	Source string // where the bad value came from: a file name, "environment" or "flag"; may be empty
	Reason string
}

func (e *Error) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("config: %s (from %s): %s", e.Key, e.Source, e.Reason)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Reason)
}

// ErrNoFile is returned by Load when the named file does not exist.
var ErrNoFile = errors.New("config: file not found")

// field is one settable leaf of Config.
type field struct {
	key  string // "xmpp.secret"
	help string
	v    reflect.Value
}

func (f field) env() string {
	return "JINGLEGATE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(f.key))
}

func fields(c *Config) []field {
	var out []field
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := range rt.NumField() {
		sec := rt.Field(i)
		sv := rv.Field(i)
		for j := range sec.Type.NumField() {
			sf := sec.Type.Field(j)
			out = append(out, field{
				key:  sec.Tag.Get("toml") + "." + sf.Tag.Get("toml"),
				help: sf.Tag.Get("help"),
				v:    sv.Field(j),
			})
		}
	}
	return out
}

// EnvName returns the environment variable that sets key.
func EnvName(key string) string { return field{key: key}.env() }

// Keys lists every configuration key, in the order of the file.
func Keys() []string {
	var c Config
	var keys []string
	for _, f := range fields(&c) {
		keys = append(keys, f.key)
	}
	return keys
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// set parses s into f's value.
func (f field) set(s string) error {
	if f.v.Addr().Type().Implements(textUnmarshaler) {
		return f.v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", s)
		}
		f.v.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		f.v.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not a boolean: %q", s)
		}
		f.v.SetBool(b)
	case reflect.Slice:
		var list []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		f.v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported type %s", f.v.Type())
	}
	return nil
}

// Flags registers one flag per key on fs and returns a function that applies
// the flags that were set on the command line to c. Call it after fs.Parse.
func Flags(fs *flag.FlagSet) func(c *Config) error {
	vals := map[string]*string{}
	var proto Config
	for _, f := range fields(&proto) {
		s := new(string)
		vals[f.key] = s
		fs.StringVar(s, f.key, "", f.help+" (env "+f.env()+")")
	}
	return func(c *Config) error {
		var err error
		fs.Visit(func(fl *flag.Flag) {
			if err != nil {
				return
			}
			if _, ok := vals[fl.Name]; !ok {
				return
			}
			for _, f := range fields(c) {
				if f.key == fl.Name {
					if e := f.set(*vals[fl.Name]); e != nil {
						err = &Error{Key: f.key, Source: "flag -" + f.key, Reason: e.Error()}
					}
				}
			}
		})
		return err
	}
}

// ApplyEnv sets c's keys from the environment variables that are set,
// using lookup (os.LookupEnv when nil).
func ApplyEnv(c *Config, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	for _, f := range fields(c) {
		if s, ok := lookup(f.env()); ok {
			if err := f.set(s); err != nil {
				return &Error{Key: f.key, Source: "environment " + f.env(), Reason: err.Error()}
			}
		}
	}
	return nil
}

// LoadFile reads the TOML file at path on top of c. Unknown keys are errors.
func LoadFile(c *Config, path string) error {
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNoFile, path)
		}
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return &Error{Key: keyOf(perr), Source: path, Reason: strings.ReplaceAll(perr.Message, "\n", " ") + fmt.Sprintf(" (line %d)", perr.Position.Line)}
		}
		if m := lastKeyRE.FindStringSubmatch(oneLine(err)); m != nil {
			return &Error{Key: m[2], Source: path, Reason: m[3] + " (line " + m[1] + ")"}
		}
		return fmt.Errorf("config: %s: %v", path, oneLine(err))
	}
	if und := md.Undecoded(); len(und) > 0 {
		return &Error{Key: und[0].String(), Source: path, Reason: "unknown key"}
	}
	return nil
}

// lastKeyRE picks the key out of the decoder's type errors, which are not
// ParseErrors: `toml: line 2 (last key "xmpp.server"): incompatible types: …`.
var lastKeyRE = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): (.*)$`)

func keyOf(perr toml.ParseError) string {
	if perr.LastKey != "" {
		return perr.LastKey
	}
	return "(syntax)"
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// Validate checks c and returns the first problem as an *Error. need lists
// which parts must be present for the calling command ("xmpp", "http",
// "auth"); the rest is checked only where it is set.
func (c *Config) Validate(need ...string) error {
	required := map[string]bool{}
	for _, n := range need {
		required[n] = true
	}
	bad := func(key, format string, args ...any) error {
		return &Error{Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	if required["xmpp"] || c.XMPP.Domain != "" {
		if c.XMPP.Domain == "" {
			return bad("xmpp.domain", "must be set (the component's domain, e.g. \"gw.example.org\")")
		}
		d, err := jid.Parse(c.XMPP.Domain)
		if err != nil || d.Localpart() != "" || d.Resourcepart() != "" || strings.ContainsAny(c.XMPP.Domain, "@/ ") {
			return bad("xmpp.domain", "must be a bare domain such as \"gw.example.org\", got %q", c.XMPP.Domain)
		}
		if c.XMPP.PingTo != "" {
			if _, err := jid.Parse(c.XMPP.PingTo); err != nil {
				return bad("xmpp.ping_to", "not a JID: %q", c.XMPP.PingTo)
			}
		} else if !strings.Contains(strings.Trim(c.XMPP.Domain, "."), ".") {
			return bad("xmpp.ping_to", "must be set when xmpp.domain (%q) has a single label: name the XMPP server's domain", c.XMPP.Domain)
		}
		if err := checkHostPort(c.XMPP.Server); err != nil {
			return bad("xmpp.server", "%v", err)
		}
		if c.XMPP.Secret == "" {
			return bad("xmpp.secret", "must be set (the component secret configured on the XMPP server)")
		}
		if c.XMPP.PingInterval <= 0 {
			return bad("xmpp.ping_interval", "must be positive, got %s", c.XMPP.PingInterval.D())
		}
		if c.XMPP.PingTimeout <= 0 {
			return bad("xmpp.ping_timeout", "must be positive, got %s", c.XMPP.PingTimeout.D())
		}
		if c.XMPP.BackoffMin <= 0 {
			return bad("xmpp.backoff_min", "must be positive, got %s", c.XMPP.BackoffMin.D())
		}
		if c.XMPP.BackoffMax < c.XMPP.BackoffMin {
			return bad("xmpp.backoff_max", "must be at least xmpp.backoff_min (%s), got %s", c.XMPP.BackoffMin.D(), c.XMPP.BackoffMax.D())
		}
	}
	if required["http"] {
		if err := checkHostPort(c.HTTP.Listen); err != nil {
			return bad("http.listen", "%v", err)
		}
		for _, o := range c.HTTP.AllowedOrigins {
			u, err := url.Parse(o)
			if o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/")) {
				return bad("http.allowed_origins", "%q is not an origin (want scheme://host[:port])", o)
			}
		}
		if c.HTTP.ReadLimit < 1024 {
			return bad("http.read_limit", "must be at least 1024 bytes, got %d", c.HTTP.ReadLimit)
		}
		if c.HTTP.ResumeGrace < 0 {
			return bad("http.resume_grace", "must not be negative")
		}
		if c.HTTP.MaxTabs < 1 {
			return bad("http.max_tabs", "must be at least 1, got %d", c.HTTP.MaxTabs)
		}
		if c.HTTP.RatePerSecond <= 0 {
			return bad("http.rate", "must be positive, got %g", c.HTTP.RatePerSecond)
		}
		if c.HTTP.RateBurst < 1 {
			return bad("http.rate_burst", "must be at least 1, got %d", c.HTTP.RateBurst)
		}
	}
	if required["auth"] || c.Auth.HMACSecret != "" {
		if len(c.Auth.HMACSecret) < 16 {
			return bad("auth.hmac_secret", "must be at least 16 characters (got %d); generate one with: head -c 32 /dev/urandom | base64", len(c.Auth.HMACSecret))
		}
	}
	for _, u := range c.Demo.Contacts {
		j, err := jid.Parse(u)
		if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
			return bad("demo.contacts", "%q is not a bare JID such as \"echo@example.org\"", u)
		}
		if c.XMPP.Domain != "" && j.Domainpart() == c.XMPP.Domain {
			return bad("demo.contacts", "%q is a web user: list users of the XMPP server", u)
		}
	}
	if required["store"] && c.Store.Path == "" {
		return bad("store.path", "must be set")
	}
	for _, u := range c.TURN.URLs {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return bad("turn.urls", "%q must start with stun:, turn: or turns:", u)
		}
		if strings.HasPrefix(u, "turn") && c.TURN.Secret == "" {
			return bad("turn.secret", "must be set when turn.urls has a TURN server (%s)", u)
		}
	}
	if c.TURN.TTL <= 0 {
		return bad("turn.ttl", "must be positive")
	}
	if c.Calls.RingTimeout <= 0 {
		return bad("calls.ring_timeout", "must be positive")
	}
	if c.Calls.IQTimeout <= 0 {
		return bad("calls.iq_timeout", "must be positive")
	}
	switch c.Policy.Calls {
	case "roster", "open":
	case "domains":
		if len(c.Policy.Domains) == 0 {
			return bad("policy.domains", "must list at least one domain when policy.calls = \"domains\"")
		}
	default:
		return bad("policy.calls", "must be roster, domains or open, got %q", c.Policy.Calls)
	}
	for _, d := range c.Policy.Domains {
		if j, err := jid.Parse(d); err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
			return bad("policy.domains", "%q is not a domain", d)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	return nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port in %q", s)
	}
	_ = host
	return nil
}

// Load builds the configuration: defaults, then the file at path (if path is
// not empty), then the environment. Flags are applied by the caller with the
// function Flags returned.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		if err := LoadFile(&c, path); err != nil {
			return c, err
		}
	}
	if err := ApplyEnv(&c, lookup); err != nil {
		return c, err
	}
	return c, nil
}
