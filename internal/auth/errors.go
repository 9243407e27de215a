package auth

import "errors"

// Errors returned, wrapped, by [Verifier.Verify] and [Mint]. Test with
// [errors.Is].
var (
	// ErrNoSecret: the verifier or minter has an empty secret.
	ErrNoSecret = errors.New("auth: no secret configured")
	// ErrMissingToken: no token was presented.
	ErrMissingToken = errors.New("auth: missing token")
	// ErrMalformed: the token is not a well-formed JWT.
	ErrMalformed = errors.New("auth: malformed token")
	// ErrAlgorithm: the token is not signed with HS256.
	ErrAlgorithm = errors.New("auth: unexpected signing algorithm")
	// ErrSignature: the signature does not verify with the secret.
	ErrSignature = errors.New("auth: invalid signature")
	// ErrExpired: exp is missing or in the past.
	ErrExpired = errors.New("auth: token expired")
	// ErrNotYetValid: nbf or iat is in the future.
	ErrNotYetValid = errors.New("auth: token not valid yet")
	// ErrAudience: aud does not name this gateway.
	ErrAudience = errors.New("auth: wrong audience")
	// ErrSubject: sub is missing or not a valid JID localpart.
	ErrSubject = errors.New("auth: invalid subject")
	// ErrTTL: Mint was asked for a lifetime that is not positive.
	ErrTTL = errors.New("auth: lifetime must be positive")
)
