package jingle

import "fmt"

// Action is the value of the action attribute of <jingle/> (XEP-0166).
type Action int

// The XEP-0166 actions, plus the two Jitsi extensions source-add and
// source-remove, which Jicofo sends and which are read rather than refused.
const (
	ActionUnknown Action = iota
	ActionContentAccept
	ActionContentAdd
	ActionContentModify
	ActionContentReject
	ActionContentRemove
	ActionDescriptionInfo
	ActionSecurityInfo
	ActionSessionAccept
	ActionSessionInfo
	ActionSessionInitiate
	ActionSessionTerminate
	ActionTransportAccept
	ActionTransportInfo
	ActionTransportReject
	ActionTransportReplace
	ActionSourceAdd
	ActionSourceRemove
)

var actionNames = [...]string{
	ActionUnknown:          "",
	ActionContentAccept:    "content-accept",
	ActionContentAdd:       "content-add",
	ActionContentModify:    "content-modify",
	ActionContentReject:    "content-reject",
	ActionContentRemove:    "content-remove",
	ActionDescriptionInfo:  "description-info",
	ActionSecurityInfo:     "security-info",
	ActionSessionAccept:    "session-accept",
	ActionSessionInfo:      "session-info",
	ActionSessionInitiate:  "session-initiate",
	ActionSessionTerminate: "session-terminate",
	ActionTransportAccept:  "transport-accept",
	ActionTransportInfo:    "transport-info",
	ActionTransportReject:  "transport-reject",
	ActionTransportReplace: "transport-replace",
	ActionSourceAdd:        "source-add",
	ActionSourceRemove:     "source-remove",
}

// String returns the attribute value, or "" for ActionUnknown.
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return ""
	}
	return actionNames[a]
}

// ParseAction returns the Action for an attribute value.
// An unknown value yields ActionUnknown and an error wrapping ErrUnknownAction.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if i != 0 && n == s {
			return Action(i), nil
		}
	}
	return ActionUnknown, fmt.Errorf("%w %q", ErrUnknownAction, s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a == ActionUnknown || a.String() == "" {
		return nil, fmt.Errorf("%w %d", ErrUnknownAction, int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	*a = v
	return err
}

// IsOffer reports whether the action carries an SDP offer: session-initiate,
// content-add and transport-replace.
func (a Action) IsOffer() bool {
	return a == ActionSessionInitiate || a == ActionContentAdd || a == ActionTransportReplace
}

// IsAnswer reports whether the action carries an SDP answer: session-accept,
// content-accept and transport-accept.
func (a Action) IsAnswer() bool {
	return a == ActionSessionAccept || a == ActionContentAccept || a == ActionTransportAccept
}
