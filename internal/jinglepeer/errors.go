package jinglepeer

import "errors"

// Errors returned by Peer and Call. Test for them with errors.Is.
var (
	// ErrNoSession means Config.Session is nil.
	ErrNoSession = errors.New("jinglepeer: no XMPP session")
	// ErrInvalidConfig means a Config field has a value the peer cannot use,
	// e.g. an unknown medium or reject reason.
	ErrInvalidConfig = errors.New("jinglepeer: invalid configuration")
	// ErrAlreadyRunning means Run was called twice.
	ErrAlreadyRunning = errors.New("jinglepeer: Run already called")
	// ErrNotRunning means the peer is not serving its session (Run has not
	// been called, or has returned), so it cannot place or take calls.
	ErrNotRunning = errors.New("jinglepeer: peer is not running")
	// ErrCallEnded means the call is over (terminated, rejected, retracted or
	// failed) and cannot do what was asked.
	ErrCallEnded = errors.New("jinglepeer: call ended")
	// ErrWrongState means the call is not in a state where the operation
	// makes sense, e.g. Accept on an outgoing call or AddMedia before the
	// session is active.
	ErrWrongState = errors.New("jinglepeer: operation not possible in this call state")
	// ErrIQTimeout means the peer did not answer an IQ in time.
	ErrIQTimeout = errors.New("jinglepeer: no answer to the IQ in time")
	// ErrStreamClosed means the XMPP stream ended before an IQ was answered.
	ErrStreamClosed = errors.New("jinglepeer: the XMPP stream ended")
)
