package jingle

import (
	"encoding/xml"
	"fmt"

	"mellium.im/xmpp/stanza"
)

// ErrorCondition is a Jingle-specific error condition that accompanies a
// stanza error in an IQ error reply (XEP-0166 section 8, XEP-0167 errors).
type ErrorCondition int

// The conditions of urn:xmpp:jingle:errors:1 and, for SDES, of
// urn:xmpp:jingle:apps:rtp:errors:1.
//
// XEP-0166 has no error condition for unsupported applications or transports,
// or for a required security layer: those are session-terminate reasons
// (ReasonUnsupportedApplications, ReasonUnsupportedTransports,
// ReasonSecurityError). CondCryptoRequired is the closest IQ-level condition.
const (
	CondUnknown ErrorCondition = iota
	CondOutOfOrder
	CondTieBreak
	CondUnknownSession
	CondUnsupportedInfo
	CondCryptoRequired
	CondInvalidCrypto
)

var condNames = [...]xml.Name{
	CondUnknown:         {},
	CondOutOfOrder:      {Space: NSErrors, Local: "out-of-order"},
	CondTieBreak:        {Space: NSErrors, Local: "tie-break"},
	CondUnknownSession:  {Space: NSErrors, Local: "unknown-session"},
	CondUnsupportedInfo: {Space: NSErrors, Local: "unsupported-info"},
	CondCryptoRequired:  {Space: NSRTPErrors, Local: "crypto-required"},
	CondInvalidCrypto:   {Space: NSRTPErrors, Local: "invalid-crypto"},
}

// Name returns the qualified element name of the condition.
func (c ErrorCondition) Name() xml.Name {
	if c < 0 || int(c) >= len(condNames) {
		return xml.Name{}
	}
	return condNames[c]
}

// String returns the element name of the condition, or "" for CondUnknown.
func (c ErrorCondition) String() string {
	return c.Name().Local
}

// ParseErrorCondition returns the condition named s (the local name).
func ParseErrorCondition(s string) (ErrorCondition, error) {
	for i, n := range condNames {
		if i != 0 && n.Local == s {
			return ErrorCondition(i), nil
		}
	}
	return CondUnknown, fmt.Errorf("%w: error condition %q", ErrInvalidValue, s)
}

// StanzaError returns the stanza error that XEP-0166 and XEP-0167 pair with
// the condition.
func (c ErrorCondition) StanzaError() stanza.Error {
	switch c {
	case CondOutOfOrder:
		return stanza.Error{Type: stanza.Wait, Condition: stanza.UnexpectedRequest}
	case CondTieBreak:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.Conflict}
	case CondUnknownSession:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}
	case CondUnsupportedInfo:
		return stanza.Error{Type: stanza.Modify, Condition: stanza.FeatureNotImplemented}
	case CondCryptoRequired:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable}
	case CondInvalidCrypto:
		return stanza.Error{Type: stanza.Cancel, Condition: stanza.BadRequest}
	}
	return stanza.Error{Type: stanza.Cancel, Condition: stanza.UndefinedCondition}
}

// TokenReader returns the condition element alone.
func (c ErrorCondition) TokenReader() xml.TokenReader {
	n := c.Name()
	if n.Local == "" {
		return &tokenSlice{}
	}
	return &tokenSlice{toks: []xml.Token{xml.StartElement{Name: n}, xml.EndElement{Name: n}}}
}

// ErrorReply returns the IQ error that answers iq with condition c, e.g.
//
//	<iq type='error'><error type='cancel'><item-not-found/>
//	<unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>
func ErrorReply(iq stanza.IQ, c ErrorCondition) xml.TokenReader {
	reply := stanza.IQ{ID: iq.ID, To: iq.From, From: iq.To, Type: stanza.ErrorIQ, Lang: iq.Lang}
	return reply.Wrap(c.StanzaError().Wrap(c.TokenReader()))
}
