package jingle_test

import (
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
)

// TestNextEveryTransition walks every state, negotiation, sender and action
// and checks the result against the rules, written out as a table.
func TestNextEveryTransition(t *testing.T) {
	I, R := jingle.RoleInitiator, jingle.RoleResponder
	none := jingle.Negotiation{}
	addByI := jingle.Negotiation{Pending: jingle.ActionContentAdd, By: I}
	addByR := jingle.Negotiation{Pending: jingle.ActionContentAdd, By: R}
	repByI := jingle.Negotiation{Pending: jingle.ActionTransportReplace, By: I}
	repByR := jingle.Negotiation{Pending: jingle.ActionTransportReplace, By: R}
	const (
		okStay   = "ok"
		toActive = "active"
		toEnded  = "ended"
		toPend   = "pending"
		clear    = "ok, clears offer"
		offer    = "ok, offer in flight"
		unknown  = "unknown-session"
		ooo      = "out-of-order"
		tie      = "tie-break"
		fni      = "feature-not-implemented"
	)
	type key struct {
		state jingle.SessionState
		neg   jingle.Negotiation
		by    jingle.Role
		a     jingle.Action
	}
	want := map[key]string{}
	states := []jingle.SessionState{jingle.StateNone, jingle.StatePending, jingle.StateActive, jingle.StateEnded}
	negs := []jingle.Negotiation{none, addByI, addByR, repByI, repByR}
	var actions []jingle.Action
	for a := jingle.ActionContentAccept; a <= jingle.ActionSourceRemove; a++ {
		actions = append(actions, a)
	}
	actions = append(actions, jingle.ActionUnknown)
	// The table: for each action, its outcome per state (live = pending or
	// active), sender and negotiation.
	for _, s := range states {
		for _, n := range negs {
			for _, by := range []jingle.Role{I, R} {
				for _, a := range actions {
					k := key{s, n, by, a}
					live := s == jingle.StatePending || s == jingle.StateActive
					switch {
					case s == jingle.StateNone && a == jingle.ActionSessionInitiate && by == I:
						want[k] = toPend
					case s == jingle.StateNone && a == jingle.ActionSessionInitiate:
						want[k] = ooo
					case !live:
						want[k] = unknown
					case a == jingle.ActionSessionInitiate:
						want[k] = ooo
					case a == jingle.ActionSessionAccept:
						if s == jingle.StatePending && by == R {
							want[k] = toActive
						} else {
							want[k] = ooo
						}
					case a == jingle.ActionSessionTerminate:
						want[k] = toEnded
					case a == jingle.ActionSessionInfo || a == jingle.ActionTransportInfo || a == jingle.ActionDescriptionInfo ||
						a == jingle.ActionSecurityInfo || a == jingle.ActionContentModify || a == jingle.ActionContentRemove ||
						a == jingle.ActionSourceAdd || a == jingle.ActionSourceRemove:
						want[k] = okStay
					case a == jingle.ActionContentAdd || a == jingle.ActionTransportReplace:
						switch {
						case n == none:
							want[k] = offer
						case n.By == by:
							want[k] = ooo
						default:
							want[k] = tie
						}
					case a == jingle.ActionContentAccept || a == jingle.ActionContentReject:
						// The answer comes from the other party than the offer's.
						if n.Pending == jingle.ActionContentAdd && n.By != by {
							want[k] = clear
						} else {
							want[k] = ooo
						}
					case a == jingle.ActionTransportAccept || a == jingle.ActionTransportReject:
						if n.Pending == jingle.ActionTransportReplace && n.By != by {
							want[k] = clear
						} else {
							want[k] = ooo
						}
					case a == jingle.ActionUnknown:
						want[k] = fni
					default:
						t.Fatalf("table has no rule for %s", a)
					}
				}
			}
		}
	}
	if len(want) != len(states)*len(negs)*2*len(actions) {
		t.Fatalf("table covers %d cases", len(want))
	}
	for k, w := range want {
		tr := jingle.Next(k.state, k.neg, k.by, k.a)
		var got string
		switch {
		case tr.FeatureNotImplemented:
			got = fni
		case tr.Cond != jingle.CondUnknown:
			got = tr.Cond.Name().Local
			if tr.State != k.state || tr.Neg != k.neg {
				t.Errorf("%v: refused but changed the state", k)
			}
		case tr.State == jingle.StateEnded && k.state != jingle.StateEnded:
			got = toEnded
		case tr.State == jingle.StateActive && k.state != jingle.StateActive:
			got = toActive
		case tr.State == jingle.StatePending && k.state == jingle.StateNone:
			got = toPend
		case tr.Neg != k.neg && tr.Neg.Pending != jingle.ActionUnknown:
			got = offer
			if tr.Neg.By != k.by || tr.Neg.Pending != k.a {
				t.Errorf("%v: offer recorded as %+v", k, tr.Neg)
			}
		case tr.Neg != k.neg:
			got = clear
		default:
			got = okStay
		}
		if got != w {
			t.Errorf("%s in %s (offer %+v) by %s: got %s, want %s", k.a, k.state, k.neg, k.by, got, w)
		}
	}
}

func TestTieBreakSID(t *testing.T) {
	for _, tc := range []struct {
		ours, theirs string
		win          bool
	}{{"a1", "b1", true}, {"b1", "a1", false}, {"A", "a", true}, {"abc", "abcd", true}} {
		if got := jingle.TieBreakSID(tc.ours, tc.theirs); got != tc.win {
			t.Errorf("TieBreakSID(%q, %q) = %v", tc.ours, tc.theirs, got)
		}
	}
}

// TestNextExamples: transitions written out one by one, independently of
// the rules TestNextEveryTransition derives its table from.
func TestNextExamples(t *testing.T) {
	I, R := jingle.RoleInitiator, jingle.RoleResponder
	none := jingle.Negotiation{}
	for _, tc := range []struct {
		state   jingle.SessionState
		neg     jingle.Negotiation
		by      jingle.Role
		a       jingle.Action
		state2  jingle.SessionState
		neg2    jingle.Negotiation
		cond    jingle.ErrorCondition
		fniWant bool
	}{
		{jingle.StateNone, none, I, jingle.ActionSessionInitiate, jingle.StatePending, none, jingle.CondUnknown, false},
		{jingle.StatePending, none, R, jingle.ActionSessionAccept, jingle.StateActive, none, jingle.CondUnknown, false},
		{jingle.StatePending, none, I, jingle.ActionSessionAccept, jingle.StatePending, none, jingle.CondOutOfOrder, false},
		{jingle.StateActive, none, R, jingle.ActionContentAdd, jingle.StateActive, jingle.Negotiation{Pending: jingle.ActionContentAdd, By: R}, jingle.CondUnknown, false},
		{jingle.StateActive, jingle.Negotiation{Pending: jingle.ActionContentAdd, By: R}, I, jingle.ActionContentAdd, jingle.StateActive, jingle.Negotiation{Pending: jingle.ActionContentAdd, By: R}, jingle.CondTieBreak, false},
		{jingle.StateActive, jingle.Negotiation{Pending: jingle.ActionContentAdd, By: R}, I, jingle.ActionContentReject, jingle.StateActive, none, jingle.CondUnknown, false},
		{jingle.StateActive, jingle.Negotiation{Pending: jingle.ActionTransportReplace, By: I}, R, jingle.ActionTransportAccept, jingle.StateActive, none, jingle.CondUnknown, false},
		{jingle.StateActive, none, R, jingle.ActionTransportAccept, jingle.StateActive, none, jingle.CondOutOfOrder, false},
		{jingle.StateActive, none, I, jingle.ActionSessionTerminate, jingle.StateEnded, none, jingle.CondUnknown, false},
		{jingle.StateEnded, none, I, jingle.ActionTransportInfo, jingle.StateEnded, none, jingle.CondUnknownSession, false},
		{jingle.StateNone, none, R, jingle.ActionTransportInfo, jingle.StateNone, none, jingle.CondUnknownSession, false},
		{jingle.StateActive, none, I, jingle.ActionUnknown, jingle.StateActive, none, jingle.CondUnknown, true},
	} {
		tr := jingle.Next(tc.state, tc.neg, tc.by, tc.a)
		if tr.State != tc.state2 || tr.Neg != tc.neg2 || tr.Cond != tc.cond || tr.FeatureNotImplemented != tc.fniWant {
			t.Errorf("Next(%v, %+v, %v, %v) = %+v, want state %v, neg %+v, cond %v, fni %v", tc.state, tc.neg, tc.by, tc.a, tr, tc.state2, tc.neg2, tc.cond, tc.fniWant)
		}
	}
}
