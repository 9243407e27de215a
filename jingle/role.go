package jingle

import "fmt"

// Role is a party of a Jingle session: the value of a content's creator
// attribute, or the creator of a mute/unmute informational message.
type Role int

// Roles. RoleUnknown is the zero value and stands for an absent attribute.
const (
	RoleUnknown Role = iota
	RoleInitiator
	RoleResponder
)

// String returns "initiator", "responder" or "" for RoleUnknown.
func (r Role) String() string {
	switch r {
	case RoleInitiator:
		return "initiator"
	case RoleResponder:
		return "responder"
	}
	return ""
}

// Other returns the opposite role; RoleUnknown stays RoleUnknown.
func (r Role) Other() Role {
	switch r {
	case RoleInitiator:
		return RoleResponder
	case RoleResponder:
		return RoleInitiator
	}
	return RoleUnknown
}

// ParseRole parses "initiator" or "responder".
func ParseRole(s string) (Role, error) {
	switch s {
	case "initiator":
		return RoleInitiator, nil
	case "responder":
		return RoleResponder, nil
	}
	return RoleUnknown, fmt.Errorf("%w: role %q", ErrInvalidValue, s)
}

// MarshalText implements encoding.TextMarshaler.
func (r Role) MarshalText() ([]byte, error) {
	if r != RoleInitiator && r != RoleResponder {
		return nil, fmt.Errorf("%w: role %d", ErrInvalidValue, int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	*r = v
	return err
}

// Senders is the senders attribute of <content/> and <rtp-hdrext/>.
type Senders int

// Senders values. SendersUnknown is the zero value and stands for an absent
// attribute, which XEP-0166 defines as "both".
const (
	SendersUnknown Senders = iota
	SendersBoth
	SendersInitiator
	SendersResponder
	SendersNone
)

// String returns the attribute value, or "" for SendersUnknown.
func (s Senders) String() string {
	switch s {
	case SendersBoth:
		return "both"
	case SendersInitiator:
		return "initiator"
	case SendersResponder:
		return "responder"
	case SendersNone:
		return "none"
	}
	return ""
}

// OrBoth returns s, or SendersBoth when s is SendersUnknown.
func (s Senders) OrBoth() Senders {
	if s == SendersUnknown {
		return SendersBoth
	}
	return s
}

// ParseSenders parses a senders attribute value.
func ParseSenders(v string) (Senders, error) {
	switch v {
	case "both":
		return SendersBoth, nil
	case "initiator":
		return SendersInitiator, nil
	case "responder":
		return SendersResponder, nil
	case "none":
		return SendersNone, nil
	}
	return SendersUnknown, fmt.Errorf("%w: senders %q", ErrInvalidValue, v)
}

// MarshalText implements encoding.TextMarshaler.
func (s Senders) MarshalText() ([]byte, error) {
	if s.String() == "" {
		return nil, fmt.Errorf("%w: senders %d", ErrInvalidValue, int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Senders) UnmarshalText(b []byte) error {
	v, err := ParseSenders(string(b))
	*s = v
	return err
}
