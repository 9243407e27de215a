package jingle

// SessionState is the state of a Jingle session (XEP-0166 §6): no session,
// pending (initiated, not accepted), active, ended.
type SessionState int

// Session states.
const (
	StateNone SessionState = iota
	StatePending
	StateActive
	StateEnded
)

func (s SessionState) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateActive:
		return "active"
	case StateEnded:
		return "ended"
	}
	return "none"
}

// Negotiation tracks an offer in flight inside a session: a content-add or
// transport-replace waiting for its answer. The zero value is none.
type Negotiation struct {
	// Pending is the offer's action (ActionContentAdd or
	// ActionTransportReplace), ActionUnknown when nothing is in flight.
	Pending Action
	// By is who sent it.
	By Role
}

// Transition is the result of applying an action to a session.
type Transition struct {
	State SessionState
	Neg   Negotiation
	// Cond is the error condition the action must be answered with when
	// it is refused (with stanza condition Cond.StanzaError()), or
	// CondUnknown when it is accepted. A refused action changes nothing.
	Cond ErrorCondition
	// FeatureNotImplemented: the action is not supported at all
	// (answer feature-not-implemented, no Jingle condition).
	FeatureNotImplemented bool
}

// Next is the whole state machine of a Jingle session: what action a, sent
// by the party in role by, does to a session in state cur with negotiation
// neg. It is pure: the caller applies the result. Rules (XEP-0166 §6–7):
//
//   - Without a session only session-initiate (from the initiator) starts
//     one; anything else is for an unknown session.
//   - session-accept comes from the responder while pending.
//   - session-terminate ends a pending or active session, from either side.
//   - session-info and transport-info go either way while pending or
//     active; description-info and security-info too.
//   - content-add, content-modify, content-remove and transport-replace
//     go either way once the session exists; only one offer (content-add or
//     transport-replace) may be in flight, and a second one from the other
//     party meets a tie-break; its answer (content-accept / content-reject,
//     transport-accept / transport-reject) must come from the other party.
//   - Once ended, every action is for an unknown session.
func Next(cur SessionState, neg Negotiation, by Role, a Action) Transition {
	refuse := func(c ErrorCondition) Transition { return Transition{State: cur, Neg: neg, Cond: c} }
	ok := func(s SessionState, n Negotiation) Transition { return Transition{State: s, Neg: n} }
	if cur == StateNone || cur == StateEnded {
		if cur == StateNone && a == ActionSessionInitiate {
			if by != RoleInitiator {
				return refuse(CondOutOfOrder)
			}
			return ok(StatePending, Negotiation{})
		}
		return refuse(CondUnknownSession)
	}
	switch a {
	case ActionSessionInitiate:
		return refuse(CondOutOfOrder)
	case ActionSessionAccept:
		if cur != StatePending || by != RoleResponder {
			return refuse(CondOutOfOrder)
		}
		return ok(StateActive, neg)
	case ActionSessionTerminate:
		return ok(StateEnded, Negotiation{})
	case ActionSessionInfo, ActionTransportInfo, ActionDescriptionInfo, ActionSecurityInfo,
		ActionContentModify, ActionContentRemove, ActionSourceAdd, ActionSourceRemove:
		return ok(cur, neg)
	case ActionContentAdd, ActionTransportReplace:
		if neg.Pending != ActionUnknown {
			if neg.By == by {
				// Our own second offer before the first was answered.
				return refuse(CondOutOfOrder)
			}
			return refuse(CondTieBreak)
		}
		return ok(cur, Negotiation{Pending: a, By: by})
	case ActionContentAccept, ActionContentReject:
		if neg.Pending != ActionContentAdd || neg.By == by {
			return refuse(CondOutOfOrder)
		}
		return ok(cur, Negotiation{})
	case ActionTransportAccept, ActionTransportReject:
		if neg.Pending != ActionTransportReplace || neg.By == by {
			return refuse(CondOutOfOrder)
		}
		return ok(cur, Negotiation{})
	}
	return Transition{State: cur, Neg: neg, FeatureNotImplemented: true}
}

// TieBreakSID resolves glare between two session-initiates (XEP-0166
// §7.2.16 as amended: the session with the lower sid wins, compared as
// byte strings). It reports whether ours wins.
func TieBreakSID(ours, theirs string) bool { return ours < theirs }
