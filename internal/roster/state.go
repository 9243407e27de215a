package roster

import (
	"fmt"
	"slices"
	"strings"
)

// Subscription is an item's subscription state (RFC 6121 §2.1.2.5).
type Subscription int

const (
	None Subscription = iota // neither side sees the other's presence
	To                       // the user sees the contact's presence
	From                     // the contact sees the user's presence
	Both
)

func (s Subscription) String() string {
	switch s {
	case To:
		return "to"
	case From:
		return "from"
	case Both:
		return "both"
	}
	return "none"
}

// ParseSubscription parses "none", "to", "from" or "both".
func ParseSubscription(s string) (Subscription, error) {
	switch s {
	case "none":
		return None, nil
	case "to":
		return To, nil
	case "from":
		return From, nil
	case "both":
		return Both, nil
	}
	return None, fmt.Errorf("roster: unknown subscription %q", s)
}

// HasTo reports whether the user receives the contact's presence.
func (s Subscription) HasTo() bool { return s == To || s == Both }

// HasFrom reports whether the contact receives the user's presence.
func (s Subscription) HasFrom() bool { return s == From || s == Both }

func (s Subscription) withTo(on bool) Subscription {
	switch {
	case on && s == None:
		return To
	case on && s == From:
		return Both
	case !on && s == To:
		return None
	case !on && s == Both:
		return From
	}
	return s
}

func (s Subscription) withFrom(on bool) Subscription {
	switch {
	case on && s == None:
		return From
	case on && s == To:
		return Both
	case !on && s == From:
		return None
	case !on && s == Both:
		return To
	}
	return s
}

// Item is one contact in a web user's roster.
type Item struct {
	JID          string // the contact's bare JID
	Name         string
	Groups       []string
	Subscription Subscription
	PendingOut   bool // the user asked to see the contact's presence (ask='subscribe')
	PendingIn    bool // the contact asked to see the user's presence; not answered yet
	Approved     bool // pre-approval: a future subscribe from the contact is accepted at once
	// InRoster is false for items kept only for their subscription state
	// (a pending inbound request from someone the user has not added).
	InRoster bool
}

// Equal reports whether a and b hold the same data.
func (a Item) Equal(b Item) bool {
	return a.JID == b.JID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.PendingOut == b.PendingOut &&
		a.PendingIn == b.PendingIn && a.Approved == b.Approved && a.InRoster == b.InRoster
}

// Empty reports whether the item carries nothing worth keeping.
func (a Item) Empty() bool {
	return !a.InRoster && a.Subscription == None && !a.PendingOut && !a.PendingIn && !a.Approved
}

func (a Item) String() string {
	var b strings.Builder
	b.WriteString(a.Subscription.String())
	if a.PendingOut {
		b.WriteString("+pendingOut")
	}
	if a.PendingIn {
		b.WriteString("+pendingIn")
	}
	if a.Approved {
		b.WriteString("+approved")
	}
	return b.String()
}

// Kind is a subscription-related presence type.
type Kind string

const (
	Subscribe    Kind = "subscribe"
	Subscribed   Kind = "subscribed"
	Unsubscribe  Kind = "unsubscribe"
	Unsubscribed Kind = "unsubscribed"
)

// Effect says what follows a subscription stanza.
type Effect struct {
	// Route: send the stanza on (outbound: to the contact; inbound: it
	// is delivered to the user as a notification, see Notify).
	Route bool
	// Reply is a stanza the gateway sends back to the contact on the
	// user's behalf (an automatic "subscribed" or "unsubscribed"), or "".
	Reply Kind
	// Notify: tell the user's browsers (subscribe-request, or the change).
	Notify bool
	// Push: the item changed in a way the user's browsers should see.
	Push bool
	// SendPresence: the contact now receives the user's presence: send
	// the user's current presence (or unavailable, when it stops).
	SendPresence bool
	// SendUnavailable: the contact no longer receives the user's
	// presence: send unavailable from each of the user's resources.
	SendUnavailable bool
	// Probe: the user now receives the contact's presence: probe it.
	Probe bool
}

// Outbound applies a subscription stanza the user sends to a contact
// (RFC 6121 §3.1.2, §3.2.2, §3.3.2, §3.4.2 as the user's server).
func Outbound(it Item, k Kind) (Item, Effect) {
	var e Effect
	switch k {
	case Subscribe:
		// Always routed (the contact's server may have lost state); the
		// state changes only when the user does not already see the
		// contact.
		e.Route = true
		if !it.Subscription.HasTo() && !it.PendingOut {
			it.PendingOut = true
			e.Push = true
		}
		if !it.InRoster {
			it.InRoster = true
			e.Push = true
		}
	case Subscribed:
		switch {
		case it.PendingIn:
			it.PendingIn = false
			it.Subscription = it.Subscription.withFrom(true)
			it.InRoster = true
			e.Route, e.Push, e.SendPresence = true, true, true
		case !it.Subscription.HasFrom() && !it.Approved:
			// Pre-approval (§3.4): nothing is sent now.
			it.Approved = true
			it.InRoster = true
			e.Push = true
		}
	case Unsubscribe:
		e.Route = true
		if it.Subscription.HasTo() || it.PendingOut {
			it.Subscription = it.Subscription.withTo(false)
			it.PendingOut = false
			e.Push = true
		}
	case Unsubscribed:
		switch {
		case it.Subscription.HasFrom():
			it.Subscription = it.Subscription.withFrom(false)
			it.PendingIn, it.Approved = false, false
			e.Route, e.Push, e.SendUnavailable = true, true, true
		case it.PendingIn:
			// Denying a pending request.
			it.PendingIn = false
			e.Route, e.Push = true, it.InRoster
		case it.Approved:
			it.Approved = false
			e.Push = true
		}
	}
	return it, e
}

// Inbound applies a subscription stanza a contact sends to the user
// (RFC 6121 §3.1.3, §3.2.3, §3.3.3, §3.4.3 as the user's server).
func Inbound(it Item, k Kind) (Item, Effect) {
	var e Effect
	switch k {
	case Subscribe:
		switch {
		case it.Subscription.HasFrom():
			// Already approved: answer for the user (§3.1.3 rule 1).
			e.Reply = Subscribed
		case it.Approved:
			it.Approved = false
			it.Subscription = it.Subscription.withFrom(true)
			e.Reply, e.Push, e.SendPresence = Subscribed, true, true
		case !it.PendingIn:
			it.PendingIn = true
			e.Notify, e.Push = true, true
		default:
			// A repeated request: remind the user, change nothing.
			e.Notify = true
		}
	case Subscribed:
		if it.PendingOut && !it.Subscription.HasTo() {
			it.PendingOut = false
			it.Subscription = it.Subscription.withTo(true)
			e.Notify, e.Push, e.Probe = true, true, true
		}
	case Unsubscribe:
		if it.Subscription.HasFrom() || it.PendingIn || it.Approved {
			was := it.Subscription.HasFrom()
			it.Subscription = it.Subscription.withFrom(false)
			it.PendingIn, it.Approved = false, false
			e.Notify, e.Push = true, true
			// §3.3.3: the user's server also sends unavailable presence
			// from the user's resources to the contact.
			e.SendUnavailable = was
		}
	case Unsubscribed:
		if it.Subscription.HasTo() || it.PendingOut {
			it.Subscription = it.Subscription.withTo(false)
			it.PendingOut = false
			e.Notify, e.Push = true, true
		}
	}
	if !it.InRoster {
		e.Push = false
	}
	return it, e
}
