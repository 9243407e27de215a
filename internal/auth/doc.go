// Package auth authenticates browsers and mints the credentials the gateway
// hands out.
//
// Browsers present an HS256 JSON Web Token (RFC 7519) signed with the
// gateway's shared secret ([auth] hmac_secret). A [Verifier] checks it and
// returns its [Claims]:
//
//   - alg must be HS256; any other algorithm, "none" included, is refused;
//   - sub is required and must be a valid JID localpart (RFC 7622, the
//     UsernameCaseMapped PRECIS profile); [Claims.Subject] is its canonical
//     (case-mapped, normalised) form, so "Alice" and "alice" are one user;
//   - exp is required; nbf and iat are honoured when present, with
//     [Verifier.Leeway] of clock skew;
//   - aud: when [Verifier.Audience] is set the token must list it; when it is
//     not set a token that carries an aud is refused (RFC 7519 §4.1.3: a
//     principal that does not identify itself with the audience must reject
//     the token);
//   - name (optional) is a display name.
//
// Every failure wraps one of the exported Err... values (see errors.go), to
// be tested with [errors.Is].
//
// [Mint] issues such tokens (jinglegate token). [TURNCredentials] mints the
// short-lived TURN credentials of coturn's use-auth-secret mechanism (the
// "TURN REST API" draft, draft-uberti-behave-turn-rest-00).
package auth
