package sdpxlate

import "errors"

// Errors returned by the translation functions. They are wrapped with the
// location of the problem, e.g.
//
//	sdpxlate: invalid SDP attribute: m-section 2 (mid "1"): a=rtpmap:"96 VP8": missing clock rate
//
// Test for them with errors.Is. Errors of the jingle package (for example
// jingle.ErrMalformedXML) are passed through wrapped, so they match too.
var (
	// ErrInvalidSDP means the SDP text cannot be parsed at all.
	ErrInvalidSDP = errors.New("sdpxlate: invalid SDP")
	// ErrInvalidAttribute means an SDP attribute the translation needs is
	// malformed, e.g. an a=rtpmap without a clock rate.
	ErrInvalidAttribute = errors.New("sdpxlate: invalid SDP attribute")
	// ErrInvalidCandidate means an ICE candidate line or element is malformed.
	ErrInvalidCandidate = errors.New("sdpxlate: invalid candidate")
	// ErrInvalidContent means a Jingle content cannot become an m-section,
	// e.g. a content name with whitespace or a dynamic payload type without
	// a name.
	ErrInvalidContent = errors.New("sdpxlate: invalid content")
	// ErrNoMedia means there is nothing to translate: no m-section, or no
	// content with an application and transport this package understands.
	ErrNoMedia = errors.New("sdpxlate: no media to translate")
	// ErrUnsupportedApplication means the only contents have an application
	// other than RTP or a WebRTC data channel (reason
	// unsupported-applications).
	ErrUnsupportedApplication = errors.New("sdpxlate: unsupported application")
	// ErrUnsupportedTransport means a content has no ICE-UDP or Raw UDP
	// transport (reason unsupported-transports).
	ErrUnsupportedTransport = errors.New("sdpxlate: unsupported transport")
	// ErrUnknownContent means a Jingle message names a content that the
	// session (or the offer being answered) does not have.
	ErrUnknownContent = errors.New("sdpxlate: unknown content")
	// ErrUnsupportedAction means Apply was given a Jingle action that does
	// not change a session description (session-info, session-terminate, ...).
	ErrUnsupportedAction = errors.New("sdpxlate: action does not change the session description")
	// ErrNilInput means a nil session description or Jingle element.
	ErrNilInput = errors.New("sdpxlate: nil input")
)
