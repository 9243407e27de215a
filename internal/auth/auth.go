package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"mellium.im/xmpp/jid"
)

// Claims are the verified contents of a browser token.
type Claims struct {
	// Subject is the user's JID localpart, in canonical form.
	Subject string
	// Name is the optional display name ("name" claim).
	Name string
	// Expires is the token's expiry ("exp").
	Expires time.Time
	// NotBefore is the optional "nbf"; zero when absent.
	NotBefore time.Time
	// Audience is the optional "aud".
	Audience []string
}

// tokenClaims is the JWT payload.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name string `json:"name,omitempty"`
}

// Verifier checks browser tokens. The zero value refuses every token
// ([ErrNoSecret]).
type Verifier struct {
	// Secret is the HS256 key ([auth] hmac_secret).
	Secret []byte
	// Audience, when set, must appear in the token's aud. When empty, a token
	// carrying any aud is refused.
	Audience string
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Verify checks token and returns its claims. Every error wraps one of the
// package's Err... values.
func (v Verifier) Verify(token string) (Claims, error) {
	if len(v.Secret) == 0 {
		return Claims{}, ErrNoSecret
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Claims{}, ErrMissingToken
	}
	now := v.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.Leeway),
		jwt.WithTimeFunc(now),
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	var tc tokenClaims
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		if m, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || m != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("%w %q", ErrAlgorithm, t.Method.Alg())
		}
		return v.Secret, nil
	})
	if err != nil {
		return Claims{}, classify(err, &tc)
	}
	if v.Audience == "" && len(tc.Audience) > 0 {
		return Claims{}, fmt.Errorf("%w: token is for %q and this gateway expects none", ErrAudience, []string(tc.Audience))
	}
	sub, err := Localpart(tc.Subject)
	if err != nil {
		return Claims{}, err
	}
	c := Claims{
		Subject:  sub,
		Name:     tc.Name,
		Expires:  tc.ExpiresAt.Time,
		Audience: tc.Audience,
	}
	if tc.NotBefore != nil {
		c.NotBefore = tc.NotBefore.Time
	}
	return c, nil
}

// classify maps a jwt/v5 error onto the package's errors.
func classify(err error, tc *tokenClaims) error {
	var sentinel error
	switch {
	case errors.Is(err, ErrAlgorithm):
		return err
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		sentinel = ErrSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrExpired
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && tc.ExpiresAt == nil:
		sentinel = ErrExpired
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// exp is there, so the missing claim is aud.
		sentinel = ErrAudience
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		sentinel = ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		sentinel = ErrAudience
	default:
		sentinel = ErrMalformed
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// Localpart validates s as a JID localpart and returns its canonical form.
// The error wraps [ErrSubject].
func Localpart(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrSubject)
	}
	j, err := jid.New(s, "localhost", "")
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrSubject, s, err)
	}
	if j.Localpart() == "" {
		return "", fmt.Errorf("%w %q: empty after normalisation", ErrSubject, s)
	}
	return j.Localpart(), nil
}

// MintOption customises [Mint].
type MintOption func(*mintConfig)

type mintConfig struct {
	name      string
	audience  []string
	notBefore time.Time
	issuedAt  time.Time
}

// WithName sets the display name ("name" claim).
func WithName(name string) MintOption { return func(c *mintConfig) { c.name = name } }

// WithAudience sets the audience ("aud" claim).
func WithAudience(aud ...string) MintOption {
	return func(c *mintConfig) { c.audience = append([]string(nil), aud...) }
}

// WithNotBefore sets "nbf".
func WithNotBefore(t time.Time) MintOption { return func(c *mintConfig) { c.notBefore = t } }

// WithIssuedAt sets the issue time ("iat"), from which the expiry is counted.
// The default is now.
func WithIssuedAt(t time.Time) MintOption { return func(c *mintConfig) { c.issuedAt = t } }

// Mint returns an HS256 token for the localpart sub that expires ttl after its
// issue time. sub is validated and canonicalised like [Verifier.Verify] does.
func Mint(secret []byte, sub string, ttl time.Duration, opts ...MintOption) (string, error) {
	if len(secret) == 0 {
		return "", ErrNoSecret
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w, got %s", ErrTTL, ttl)
	}
	sub, err := Localpart(sub)
	if err != nil {
		return "", err
	}
	var cfg mintConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.issuedAt.IsZero() {
		cfg.issuedAt = time.Now()
	}
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(cfg.issuedAt),
			ExpiresAt: jwt.NewNumericDate(cfg.issuedAt.Add(ttl)),
		},
		Name: cfg.name,
	}
	if len(cfg.audience) > 0 {
		tc.Audience = cfg.audience
	}
	if !cfg.notBefore.IsZero() {
		tc.NotBefore = jwt.NewNumericDate(cfg.notBefore)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return s, nil
}
