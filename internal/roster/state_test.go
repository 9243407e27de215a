package roster

import (
	"strings"
	"testing"
)

// st parses the short state names of RFC 6121 Appendix A:
// "None", "None+PO" (pending out), "None+PI" (pending in), "None+PO+PI",
// "To", "To+PI", "From", "From+PO", "Both"; "+A" marks a pre-approval.
func st(s string) Item {
	parts := strings.Split(s, "+")
	it := Item{JID: "c@example.org", InRoster: true}
	switch parts[0] {
	case "None":
		it.Subscription = None
	case "To":
		it.Subscription = To
	case "From":
		it.Subscription = From
	case "Both":
		it.Subscription = Both
	default:
		panic(s)
	}
	for _, p := range parts[1:] {
		switch p {
		case "PO":
			it.PendingOut = true
		case "PI":
			it.PendingIn = true
		case "A":
			it.Approved = true
		default:
			panic(s)
		}
	}
	return it
}

var states = []string{"None", "None+PO", "None+PI", "None+PO+PI", "To", "To+PI", "From", "From+PO", "Both", "None+A", "None+PO+A", "To+A"}

// The tables of RFC 6121 Appendix A, one row per state, with pre-approval
// (§3.4) added: each maps the state before to the state after.
var outbound = map[Kind]map[string]string{
	// A.2.1: the user sends subscribe.
	Subscribe: {"None": "None+PO", "None+PO": "None+PO", "None+PI": "None+PO+PI", "None+PO+PI": "None+PO+PI",
		"To": "To", "To+PI": "To+PI", "From": "From+PO", "From+PO": "From+PO", "Both": "Both",
		"None+A": "None+PO+A", "None+PO+A": "None+PO+A", "To+A": "To+A"},
	// A.2.2: unsubscribe.
	Unsubscribe: {"None": "None", "None+PO": "None", "None+PI": "None+PI", "None+PO+PI": "None+PI",
		"To": "None", "To+PI": "None+PI", "From": "From", "From+PO": "From", "Both": "From",
		"None+A": "None+A", "None+PO+A": "None+A", "To+A": "None+A"},
	// A.2.3: subscribed (approve; pre-approve when nothing is pending).
	Subscribed: {"None": "None+A", "None+PO": "None+PO+A", "None+PI": "From", "None+PO+PI": "From+PO",
		"To": "To+A", "To+PI": "Both", "From": "From", "From+PO": "From+PO", "Both": "Both",
		"None+A": "None+A", "None+PO+A": "None+PO+A", "To+A": "To+A"},
	// A.2.4: unsubscribed (deny, or cancel the contact's subscription).
	Unsubscribed: {"None": "None", "None+PO": "None+PO", "None+PI": "None", "None+PO+PI": "None+PO",
		"To": "To", "To+PI": "To", "From": "None", "From+PO": "None+PO", "Both": "To",
		"None+A": "None", "None+PO+A": "None+PO", "To+A": "To"},
}

var inbound = map[Kind]map[string]string{
	// A.3.1: the contact sends subscribe.
	Subscribe: {"None": "None+PI", "None+PO": "None+PO+PI", "None+PI": "None+PI", "None+PO+PI": "None+PO+PI",
		"To": "To+PI", "To+PI": "To+PI", "From": "From", "From+PO": "From+PO", "Both": "Both",
		"None+A": "From", "None+PO+A": "From+PO", "To+A": "Both"},
	// A.3.2: unsubscribe.
	Unsubscribe: {"None": "None", "None+PO": "None+PO", "None+PI": "None", "None+PO+PI": "None+PO",
		"To": "To", "To+PI": "To", "From": "None", "From+PO": "None+PO", "Both": "To",
		"None+A": "None", "None+PO+A": "None+PO", "To+A": "To"},
	// A.3.3: subscribed.
	Subscribed: {"None": "None", "None+PO": "To", "None+PI": "None+PI", "None+PO+PI": "To+PI",
		"To": "To", "To+PI": "To+PI", "From": "From", "From+PO": "Both", "Both": "Both",
		"None+A": "None+A", "None+PO+A": "To+A", "To+A": "To+A"},
	// A.3.4: unsubscribed.
	Unsubscribed: {"None": "None", "None+PO": "None", "None+PI": "None+PI", "None+PO+PI": "None+PI",
		"To": "None", "To+PI": "None+PI", "From": "From", "From+PO": "From", "Both": "From",
		"None+A": "None+A", "None+PO+A": "None+A", "To+A": "None+A"},
}

func TestTransitionTable(t *testing.T) {
	for dir, table := range map[string]map[Kind]map[string]string{"outbound": outbound, "inbound": inbound} {
		apply := Outbound
		if dir == "inbound" {
			apply = Inbound
		}
		for k, rows := range table {
			if len(rows) != len(states) {
				t.Fatalf("%s %s: table has %d rows, want %d", dir, k, len(rows), len(states))
			}
			for _, before := range states {
				got, eff := apply(st(before), k)
				want := st(rows[before])
				if !got.Equal(want) {
					t.Errorf("%s %s in %s: got %s, want %s", dir, k, before, got, want)
				}
				changed := !got.Equal(st(before))
				if changed != eff.Push {
					t.Errorf("%s %s in %s: state changed=%v but Push=%v", dir, k, before, changed, eff.Push)
				}
				// Outbound subscribe and unsubscribe are always routed;
				// the others only when they mean something.
				if dir == "outbound" && (k == Subscribe || k == Unsubscribe) && !eff.Route {
					t.Errorf("%s %s in %s: not routed", dir, k, before)
				}
				// The contact gets the user's presence exactly when it
				// gains a From, and unavailable when it loses one.
				gained := !st(before).Subscription.HasFrom() && got.Subscription.HasFrom()
				lost := st(before).Subscription.HasFrom() && !got.Subscription.HasFrom()
				if eff.SendPresence != gained || eff.SendUnavailable != lost {
					t.Errorf("%s %s in %s: SendPresence=%v SendUnavailable=%v, from gained=%v lost=%v", dir, k, before, eff.SendPresence, eff.SendUnavailable, gained, lost)
				}
				if eff.Probe != (!st(before).Subscription.HasTo() && got.Subscription.HasTo()) {
					t.Errorf("%s %s in %s: Probe=%v", dir, k, before, eff.Probe)
				}
			}
		}
	}
}

func TestInboundSubscribeEffects(t *testing.T) {
	// Already subscribed: answered for the user, who is not bothered.
	if _, e := Inbound(st("From"), Subscribe); e.Reply != Subscribed || e.Notify {
		t.Errorf("From: %+v", e)
	}
	// Pre-approved: answered and presence sent.
	if _, e := Inbound(st("None+A"), Subscribe); e.Reply != Subscribed || !e.SendPresence || e.Notify {
		t.Errorf("None+A: %+v", e)
	}
	// A new request reaches the user, and so does a repeated one.
	if _, e := Inbound(st("None"), Subscribe); !e.Notify || e.Reply != "" {
		t.Errorf("None: %+v", e)
	}
	if _, e := Inbound(st("None+PI"), Subscribe); !e.Notify {
		t.Errorf("None+PI: %+v", e)
	}
	// A request from someone not in the roster is kept but not pushed.
	it := Item{JID: "stranger@example.org"}
	it, e := Inbound(it, Subscribe)
	if !it.PendingIn || it.InRoster || e.Push || !e.Notify || it.Empty() {
		t.Errorf("stranger: %+v %+v", it, e)
	}
	// Denying it leaves nothing to keep.
	it, _ = Outbound(it, Unsubscribed)
	if !it.Empty() {
		t.Errorf("denied stranger still kept: %+v", it)
	}
}

func TestParseSubscription(t *testing.T) {
	for _, s := range []Subscription{None, To, From, Both} {
		got, err := ParseSubscription(s.String())
		if err != nil || got != s {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseSubscription("all"); err == nil {
		t.Error("accepted all")
	}
}
