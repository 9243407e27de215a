package jingle

import "errors"

// Errors returned when reading or writing Jingle XML. They are wrapped with
// the location of the problem, e.g.
//
//	jingle: content "audio": transport: candidate 2: attribute priority="x": invalid value
//
// Test for them with errors.Is.
var (
	// ErrMalformedXML means the input is not well-formed XML.
	ErrMalformedXML = errors.New("jingle: malformed XML")
	// ErrNoJingle means the input holds no <jingle xmlns='urn:xmpp:jingle:1'/>
	// element (nor, for ParseJMI, any XEP-0353 element).
	ErrNoJingle = errors.New("jingle: no jingle element")
	// ErrUnknownAction means an action attribute value is not one of XEP-0166.
	ErrUnknownAction = errors.New("jingle: unknown action")
	// ErrInvalidValue means an attribute or text value cannot be parsed, e.g. a
	// port that is not a number or a senders value that does not exist.
	ErrInvalidValue = errors.New("jingle: invalid value")
	// ErrMissingAttribute means a required attribute is absent, e.g. the id of
	// a <payload-type/>.
	ErrMissingAttribute = errors.New("jingle: missing attribute")
)
