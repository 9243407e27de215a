package jingle

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// ReasonCondition is the condition element of a <reason/> (XEP-0166).
type ReasonCondition int

// The XEP-0166 reason conditions.
const (
	ReasonUnknown ReasonCondition = iota
	ReasonAlternativeSession
	ReasonBusy
	ReasonCancel
	ReasonConnectivityError
	ReasonDecline
	ReasonExpired
	ReasonFailedApplication
	ReasonFailedTransport
	ReasonGeneralError
	ReasonGone
	ReasonIncompatibleParameters
	ReasonMediaError
	ReasonSecurityError
	ReasonSuccess
	ReasonTimeout
	ReasonUnsupportedApplications
	ReasonUnsupportedTransports
)

var reasonNames = [...]string{
	ReasonUnknown:                 "",
	ReasonAlternativeSession:      "alternative-session",
	ReasonBusy:                    "busy",
	ReasonCancel:                  "cancel",
	ReasonConnectivityError:       "connectivity-error",
	ReasonDecline:                 "decline",
	ReasonExpired:                 "expired",
	ReasonFailedApplication:       "failed-application",
	ReasonFailedTransport:         "failed-transport",
	ReasonGeneralError:            "general-error",
	ReasonGone:                    "gone",
	ReasonIncompatibleParameters:  "incompatible-parameters",
	ReasonMediaError:              "media-error",
	ReasonSecurityError:           "security-error",
	ReasonSuccess:                 "success",
	ReasonTimeout:                 "timeout",
	ReasonUnsupportedApplications: "unsupported-applications",
	ReasonUnsupportedTransports:   "unsupported-transports",
}

// String returns the element name of the condition, or "" for ReasonUnknown.
func (c ReasonCondition) String() string {
	if c < 0 || int(c) >= len(reasonNames) {
		return ""
	}
	return reasonNames[c]
}

// ParseReasonCondition returns the condition named s.
func ParseReasonCondition(s string) (ReasonCondition, error) {
	for i, n := range reasonNames {
		if i != 0 && n == s {
			return ReasonCondition(i), nil
		}
	}
	return ReasonUnknown, fmt.Errorf("%w: reason %q", ErrInvalidValue, s)
}

// MarshalText implements encoding.TextMarshaler.
func (c ReasonCondition) MarshalText() ([]byte, error) {
	if c.String() == "" {
		return nil, fmt.Errorf("%w: reason %d", ErrInvalidValue, int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *ReasonCondition) UnmarshalText(b []byte) error {
	v, err := ParseReasonCondition(string(b))
	*c = v
	return err
}

// Reason is the <reason/> of session-terminate, content-remove, content-reject
// and of the XEP-0353 messages.
type Reason struct {
	Condition ReasonCondition
	// SID is the session to use instead, for ReasonAlternativeSession.
	SID string
	// Text is the human-readable <text/>, if any.
	Text string
	// Application is an application-specific condition such as
	// {NSRTPErrors, "invalid-crypto"}; the zero Name if there is none.
	Application xml.Name
}

func (r *Reason) build(b *builder) {
	b.open(NS, "reason")
	if r.Condition != ReasonUnknown {
		b.open(NS, r.Condition.String())
		if r.Condition == ReasonAlternativeSession && r.SID != "" {
			b.open(NS, "sid")
			b.text(r.SID)
			b.close()
		}
		b.close()
	}
	if r.Text != "" {
		b.open(NS, "text")
		b.text(r.Text)
		b.close()
	}
	if r.Application.Local != "" {
		b.empty(r.Application.Space, r.Application.Local)
	}
	b.close()
}

// decodeReason reads a <reason/>. The condition is matched in the namespace
// of the reason element itself (Jingle's); unknown conditions are ignored.
func decodeReason(d *xml.Decoder, start xml.StartElement) (*Reason, error) {
	r := &Reason{}
	_, err := walk(d, func(se xml.StartElement) error {
		if se.Name.Space != start.Name.Space {
			if r.Application.Local == "" {
				r.Application = se.Name
			}
			return skip(d)
		}
		if se.Name.Local == "text" {
			t, err := walk(d, nil)
			r.Text = t
			return err
		}
		c, err := ParseReasonCondition(se.Name.Local)
		if err != nil {
			return skip(d)
		}
		r.Condition = c
		_, err = walk(d, func(se2 xml.StartElement) error {
			if se2.Name.Local == "sid" {
				t, err := walk(d, nil)
				r.SID = strings.TrimSpace(t)
				return err
			}
			return skip(d)
		})
		return err
	})
	return r, err
}
