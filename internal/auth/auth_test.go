package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jinglegate/jinglegate/internal/auth"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

var t0 = time.Unix(1_700_000_000, 0)

func verifier(aud string) auth.Verifier {
	return auth.Verifier{Secret: secret, Audience: aud, Now: func() time.Time { return t0 }}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	tok, err := auth.Mint(secret, "Alice", time.Hour,
		auth.WithName("Alice Liddell"), auth.WithAudience("gw"), auth.WithIssuedAt(t0), auth.WithNotBefore(t0.Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifier("gw").Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || c.Name != "Alice Liddell" || !c.Expires.Equal(t0.Add(time.Hour)) ||
		!c.NotBefore.Equal(t0.Add(-time.Minute)) || len(c.Audience) != 1 || c.Audience[0] != "gw" {
		t.Fatalf("claims = %+v", c)
	}
}

// sign builds a token by hand, so that tests can produce what Mint refuses to.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyFailures(t *testing.T) {
	exp := t0.Add(time.Hour).Unix()
	good := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "exp": exp}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
				continue
			}
			c[k] = v
		}
		return c
	}
	noneTok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(nil))
	hs256 := sign(t, jwt.SigningMethodHS256, secret, good(nil))
	parts := strings.Split(hs256, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","exp":9999999999}`)) + "." + parts[2]

	for i, tc := range []struct {
		name  string
		v     auth.Verifier
		token string
		want  error
	}{
		{"missing", verifier(""), "", auth.ErrMissingToken},
		{"blank", verifier(""), "   ", auth.ErrMissingToken},
		{"no secret", auth.Verifier{}, hs256, auth.ErrNoSecret},
		{"garbage", verifier(""), "not-a-jwt", auth.ErrMalformed},
		{"two segments", verifier(""), "a.b", auth.ErrMalformed},
		{"expired", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"exp": t0.Add(-time.Second).Unix()})), auth.ErrExpired},
		{"no exp", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"exp": nil})), auth.ErrExpired},
		{"not yet valid", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"nbf": t0.Add(time.Minute).Unix()})), auth.ErrNotYetValid},
		{"issued in the future", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"iat": t0.Add(time.Minute).Unix()})), auth.ErrNotYetValid},
		{"bad signature", verifier(""), sign(t, jwt.SigningMethodHS256, []byte("another secret entirely......."), good(nil)), auth.ErrSignature},
		{"tampered payload", verifier(""), tampered, auth.ErrSignature},
		{"alg none", verifier(""), noneTok, auth.ErrAlgorithm},
		{"alg HS512", verifier(""), sign(t, jwt.SigningMethodHS512, secret, good(nil)), auth.ErrAlgorithm},
		{"no sub", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": nil})), auth.ErrSubject},
		{"sub with @", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": "alice@evil.example"})), auth.ErrSubject},
		{"sub with /", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": "alice/res"})), auth.ErrSubject},
		{"sub with space", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": "al ice"})), auth.ErrSubject},
		{"sub too long", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": strings.Repeat("a", 1024)})), auth.ErrSubject},
		{"wrong aud", verifier("gw"), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"aud": "other"})), auth.ErrAudience},
		{"missing aud", verifier("gw"), sign(t, jwt.SigningMethodHS256, secret, good(nil)), auth.ErrAudience},
		{"unexpected aud", verifier(""), sign(t, jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"aud": "gw"})), auth.ErrAudience},
	} {
		_, err := tc.v.Verify(tc.token)
		if !errors.Is(err, tc.want) {
			t.Errorf("%d %s: err = %v, want %v", i, tc.name, err, tc.want)
		}
	}
}

func TestVerifyLeeway(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "exp": t0.Add(-5 * time.Second).Unix()})
	v := verifier("")
	if _, err := v.Verify(tok); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("without leeway: %v", err)
	}
	v.Leeway = 10 * time.Second
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("with leeway: %v", err)
	}
}

func TestVerifyAudienceList(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "exp": t0.Add(time.Hour).Unix(), "aud": []string{"x", "gw"}})
	if _, err := verifier("gw").Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestMintErrors(t *testing.T) {
	if _, err := auth.Mint(nil, "alice", time.Hour); !errors.Is(err, auth.ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
	if _, err := auth.Mint(secret, "alice", 0); !errors.Is(err, auth.ErrTTL) {
		t.Errorf("zero ttl: %v", err)
	}
	if _, err := auth.Mint(secret, "a@b", time.Hour); !errors.Is(err, auth.ErrSubject) {
		t.Errorf("bad sub: %v", err)
	}
	if _, err := auth.Mint(secret, "", time.Hour); !errors.Is(err, auth.ErrSubject) {
		t.Errorf("empty sub: %v", err)
	}
}

func TestMintedExpires(t *testing.T) {
	tok, err := auth.Mint(secret, "alice", time.Minute, auth.WithIssuedAt(t0.Add(-2*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier("").Verify(tok); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("err = %v", err)
	}
}

func TestLocalpart(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "ALICE": "alice", "Zoë": "zoë", "a.b-c_d": "a.b-c_d"} {
		got, err := auth.Localpart(in)
		if err != nil || got != want {
			t.Errorf("Localpart(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a b", "a@b", "a/b", "a:b", `a"b`, "a<b", "\x00", "\xff"} {
		if _, err := auth.Localpart(in); !errors.Is(err, auth.ErrSubject) {
			t.Errorf("Localpart(%q) err = %v", in, err)
		}
	}
}

func TestTURNCredentials(t *testing.T) {
	// Reference value: printf 1700003600:alice | openssl dgst -sha1 -hmac turnsecret -binary | base64
	u, c := auth.TURNCredentials("turnsecret", "alice", time.Hour, time.Unix(1_700_000_000, 0))
	if u != "1700003600:alice" || c != "J5LU4ie3BXJtEYiHuoYlszjblaw=" {
		t.Fatalf("got %q %q", u, c)
	}
	if u, _ := auth.TURNCredentials("s", "", time.Minute, time.Unix(0, 0)); u != "60" {
		t.Fatalf("no user: %q", u)
	}
}
