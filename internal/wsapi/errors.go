package wsapi

import (
	"errors"
	"fmt"
)

// Code is a stable error code sent to browsers in error messages.
type Code string

// The error codes. They are part of the protocol: never rename one.
const (
	// CodeBadRequest: malformed JSON, an unknown type, a missing or mistyped
	// field, an SDP or candidate that does not parse.
	CodeBadRequest Code = "bad-request"
	// CodeUnauthorized: credentials refused (a resume token that is unknown,
	// used, expired or another user's), or by the application.
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden: a well-formed message the browser may not send (a
	// server-only type, a from field).
	CodeForbidden Code = "forbidden"
	// CodeNotFound: the sid is not one of this tab's calls.
	CodeNotFound Code = "not-found"
	// CodeConflict: the request clashes with the current state (a sid already
	// in use, a resume that cannot be honoured).
	CodeConflict Code = "conflict"
	// CodeRateLimited: the message was dropped by the rate limit.
	CodeRateLimited Code = "rate-limited"
	// CodeTooLarge: a field is longer than its limit.
	CodeTooLarge Code = "too-large"
	// CodeUnavailable: nothing can serve the request now (no application
	// handler, shutting down, XMPP link down).
	CodeUnavailable Code = "unavailable"
	// CodeTimeout: the application did not answer in time.
	CodeTimeout Code = "timeout"
	// CodeInternal: a bug; the details are in the gateway's log.
	CodeInternal Code = "internal"
)

// Codes lists every error code.
var Codes = []Code{
	CodeBadRequest, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict,
	CodeRateLimited, CodeTooLarge, CodeUnavailable, CodeTimeout, CodeInternal,
}

// Valid reports whether c is one of [Codes].
func (c Code) Valid() bool {
	for _, k := range Codes {
		if c == k {
			return true
		}
	}
	return false
}

// Error is an error answered to the browser. A [Handler] returns one to
// answer a message with an error; any other error becomes CodeInternal.
type Error struct {
	Code    Code
	Message string
	// SID is the call the error is about; when empty, the sid of the message
	// being answered is used.
	SID string
}

func (e *Error) Error() string {
	if e.SID != "" {
		return fmt.Sprintf("wsapi: %s (sid %s): %s", e.Code, e.SID, e.Message)
	}
	return fmt.Sprintf("wsapi: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errors returned by the Server and Tab methods.
var (
	// ErrTabClosed: the tab's session has ended.
	ErrTabClosed = errors.New("wsapi: tab closed")
	// ErrNoTab: no tab (or no tab of that user) exists.
	ErrNoTab = errors.New("wsapi: no such tab")
	// ErrBadMessage: a message given to Send does not marshal to a JSON
	// object with a known server-to-client type and no seq.
	ErrBadMessage = errors.New("wsapi: invalid outgoing message")
	// ErrReplayOverflow: the tab was disconnected and its replay buffer
	// overflowed; the session was ended.
	ErrReplayOverflow = errors.New("wsapi: replay buffer overflow")
	// ErrShutdown: the server is shutting down.
	ErrShutdown = errors.New("wsapi: server shut down")
)
