package wsapi

import (
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jinglegate/jinglegate/internal/auth"
)

// Defaults for the zero fields of [Options].
const (
	DefaultDomain         = "localhost"
	DefaultReadLimit      = 64 << 10
	DefaultWriteQueue     = 64
	DefaultPingInterval   = 20 * time.Second
	DefaultPongWait       = 45 * time.Second
	DefaultWriteWait      = 10 * time.Second
	DefaultHandlerTimeout = 15 * time.Second
	DefaultRatePerSecond  = 20
	DefaultRateBurst      = 60
	DefaultMaxTabsPerUser = 8
	DefaultResumeGrace    = 30 * time.Second
	DefaultReplayBuffer   = 512
	DefaultTURNTTL        = 12 * time.Hour
)

// TURNOptions configures the TURN servers handed to browsers.
type TURNOptions struct {
	// URLs are turn: and turns: URLs ([turn] urls). stun: URLs found here are
	// handed out without credentials, as if listed in Options.STUN.
	URLs []string
	// Secret is coturn's static-auth-secret. Without it no credentials are
	// minted and TURN URLs are left out.
	Secret string
	// TTL is the lifetime of minted credentials (default 12 h).
	TTL time.Duration
}

// Options configures a [Server]. The zero value is usable: zero fields get
// the Default... values.
type Options struct {
	// Domain is the component's domain; users get JIDs user@Domain/resource.
	Domain string
	// Verifier checks the browsers' tokens.
	Verifier auth.Verifier
	// AllowedOrigins are the origins allowed to connect, as
	// scheme://host[:port]. The host may hold path.Match wildcards
	// ("https://*.example.org"); "*" alone allows every origin (do not).
	// Empty: same origin only. Requests without an Origin header (non-browser
	// clients) are allowed: the token is what authenticates them.
	AllowedOrigins []string
	// ReadLimit is the largest message accepted, in bytes. Larger frames
	// close the connection with 1009.
	ReadLimit int64
	// WriteQueue is how many messages may wait for a tab's writer before the
	// browser is deemed too slow and disconnected (its session survives).
	WriteQueue int
	// PingInterval, PongWait: keepalive. A connection that shows no sign of
	// life for PongWait is dropped. PongWait must exceed PingInterval.
	PingInterval, PongWait time.Duration
	// WriteWait bounds each write.
	WriteWait time.Duration
	// HandlerTimeout bounds each Handler call (its ctx deadline).
	HandlerTimeout time.Duration
	// RatePerSecond and RateBurst: the token bucket of each tab. Messages
	// beyond it are answered rate-limited; a tab that keeps sending at more
	// than twice the rate is disconnected with 1008.
	RatePerSecond float64
	RateBurst     int
	// MaxTabsPerUser caps a user's sessions (connected or awaiting resume).
	// At the cap, a new connection evicts the user's oldest disconnected
	// session, or is refused (close 1008) when all are connected.
	MaxTabsPerUser int
	// ResumeGrace is how long a dropped session waits for a resume. Negative
	// disables resumption: a dropped session ends at once.
	ResumeGrace time.Duration
	// ReplayBuffer is how many unacknowledged messages a tab keeps for
	// replay. At least WriteQueue.
	ReplayBuffer int
	// TURN and STUN are handed to browsers in the session message.
	TURN TURNOptions
	STUN []string
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Handler is the application. Nil: every application message is answered
	// unavailable.
	Handler Handler
	// Now returns the current time (TURN credential expiry); nil: time.Now.
	Now func() time.Time
}

func (o Options) cloneWithDefaults() Options {
	c := o
	c.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	c.STUN = append([]string(nil), o.STUN...)
	c.TURN.URLs = nil
	for _, u := range o.TURN.URLs {
		if isSTUN(u) {
			c.STUN = append(c.STUN, u)
		} else {
			c.TURN.URLs = append(c.TURN.URLs, u)
		}
	}
	if c.Domain == "" {
		c.Domain = DefaultDomain
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.WriteQueue <= 0 {
		c.WriteQueue = DefaultWriteQueue
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongWait <= 0 {
		c.PongWait = DefaultPongWait
	}
	if c.PongWait <= c.PingInterval {
		c.PongWait = c.PingInterval * 2
	}
	if c.WriteWait <= 0 {
		c.WriteWait = DefaultWriteWait
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.RatePerSecond <= 0 || math.IsNaN(c.RatePerSecond) || math.IsInf(c.RatePerSecond, 0) {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.RateBurst <= 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.MaxTabsPerUser <= 0 {
		c.MaxTabsPerUser = DefaultMaxTabsPerUser
	}
	if c.ResumeGrace == 0 {
		c.ResumeGrace = DefaultResumeGrace
	}
	if c.ReplayBuffer <= 0 {
		c.ReplayBuffer = DefaultReplayBuffer
	}
	if c.ReplayBuffer < c.WriteQueue {
		c.ReplayBuffer = c.WriteQueue
	}
	if c.TURN.TTL <= 0 {
		c.TURN.TTL = DefaultTURNTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func isSTUN(u string) bool {
	u = strings.ToLower(u)
	return strings.HasPrefix(u, "stun:") || strings.HasPrefix(u, "stuns:")
}

// checkOrigin applies the origin policy. Without an Origin header the request
// does not come from a browser page and cannot be a cross-site one.
func (o *Options) checkOrigin(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return true
	}
	if len(origins) > 1 {
		return false
	}
	u, err := url.Parse(origins[0])
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return o.allowAll()
	}
	if len(o.AllowedOrigins) == 0 {
		return strings.EqualFold(u.Host, r.Host)
	}
	host := strings.ToLower(u.Host)
	for _, pat := range o.AllowedOrigins {
		if pat == "*" {
			return true
		}
		pat = strings.ToLower(strings.TrimSuffix(pat, "/"))
		scheme, hostPat, ok := strings.Cut(pat, "://")
		if !ok {
			scheme, hostPat = "", pat
		}
		if scheme != "" && scheme != u.Scheme {
			continue
		}
		if m, err := path.Match(hostPat, host); err == nil && m {
			return true
		}
	}
	return false
}

func (o *Options) allowAll() bool {
	for _, p := range o.AllowedOrigins {
		if p == "*" {
			return true
		}
	}
	return false
}

// iceServers builds the session message's iceServers, minting TURN
// credentials for user.
func (o *Options) iceServers(user string) []ICEServer {
	out := []ICEServer{}
	if len(o.STUN) > 0 {
		out = append(out, ICEServer{URLs: append([]string(nil), o.STUN...)})
	}
	if len(o.TURN.URLs) > 0 && o.TURN.Secret != "" {
		u, c := auth.TURNCredentials(o.TURN.Secret, user, o.TURN.TTL, o.Now())
		out = append(out, ICEServer{URLs: append([]string(nil), o.TURN.URLs...), Username: u, Credential: c})
	}
	return out
}
