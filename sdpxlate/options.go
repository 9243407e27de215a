package sdpxlate

import (
	"fmt"
	"github.com/pion/sdp/v3"

	"github.com/jinglegate/jinglegate/jingle"
)

// MDNSPolicy says what to do with ICE host candidates whose address is an
// mDNS name (RFC 8839 / draft-ietf-mmusic-mdns-ice-candidates), such as
// "78677bb1-7843-4445-b8e7-44449283c4e1.local".
type MDNSPolicy int

const (
	// MDNSKeep carries the name unchanged, into the Jingle ip attribute or
	// the SDP connection-address. Browsers resolve such names themselves;
	// libwebrtc-based XMPP clients (Conversations) resolve them when their
	// platform supports mDNS and otherwise fail that one candidate. This is
	// the default because dropping the candidate never helps: a browser that
	// hides its addresses has no other host candidate to offer.
	MDNSKeep MDNSPolicy = iota
	// MDNSDrop omits such candidates and reports each one as a Loss. Use it
	// for peers known to choke on names in ip=.
	MDNSDrop
)

// String returns "keep" or "drop".
func (p MDNSPolicy) String() string {
	switch p {
	case MDNSKeep:
		return "keep"
	case MDNSDrop:
		return "drop"
	}
	return fmt.Sprintf("MDNSPolicy(%d)", int(p))
}

// Loss describes something the translation could not carry across, and why.
// Translations never fail because of a loss; they report it through the
// OnLoss callback of the options.
type Loss struct {
	// Where names the place, e.g. `m-section 1 (mid "0")` or
	// `content "audio"`; empty for the whole session.
	Where string
	// What is the dropped item, e.g. "a=rid:1 send".
	What string
	// Why explains the decision.
	Why string
}

func (l Loss) String() string {
	if l.Where == "" {
		return fmt.Sprintf("%s: %s", l.What, l.Why)
	}
	return fmt.Sprintf("%s: %s: %s", l.Where, l.What, l.Why)
}

// ToJingleOptions configure SDPToJingle. The zero value translates an offer
// written by the initiator into a session-initiate.
type ToJingleOptions struct {
	// Action is the Jingle action to write. Zero means session-initiate when
	// Role is the initiator and session-accept when it is the responder.
	Action jingle.Action
	// Role is the party that wrote the SDP; it decides how directions map to
	// senders. Zero means jingle.RoleInitiator.
	Role jingle.Role
	// SID, Initiator and Responder are copied to the <jingle/> element.
	SID       string
	Initiator string
	Responder string
	// Creators overrides the creator of contents by content name. Without
	// an entry, contents of a content-add are created by Role and all others
	// by the initiator.
	Creators map[string]jingle.Role
	// MDNS is the policy for .local host candidates.
	MDNS MDNSPolicy
	// Names maps a=mid values to content names, undoing the renaming of
	// ToSDPOptions.Mids or SDPMids. Mids without an entry are the names.
	Names map[string]string
	// OnLoss, if not nil, is called for every item that is dropped.
	OnLoss func(Loss)
}

// SDPType is the type of an SDP in offer/answer.
type SDPType int

// SDP types. SDPTypeUnknown lets the translation derive it from the action.
const (
	SDPTypeUnknown SDPType = iota
	SDPTypeOffer
	SDPTypeAnswer
)

// String returns "offer", "answer" or "".
func (t SDPType) String() string {
	switch t {
	case SDPTypeOffer:
		return "offer"
	case SDPTypeAnswer:
		return "answer"
	}
	return ""
}

// ToSDPOptions configure JingleToSDP. The zero value derives everything from
// the Jingle element.
type ToSDPOptions struct {
	// Role is the party that sent the Jingle element. Zero means: the
	// responder for session-accept, content-accept and transport-accept, the
	// creator of the first content for content-add, otherwise the initiator.
	Role jingle.Role
	// Type is offer or answer. Zero means: an answer for session-accept,
	// content-accept and transport-accept, otherwise an offer.
	Type SDPType
	// Offer is the offer this answer replies to. When set (and the result is
	// an answer), the m-sections follow the offer's order and every offered
	// m-section without a matching content is rejected (port 0), as JSEP
	// requires.
	Offer *sdp.SessionDescription
	// SessionID and SessionVersion fill the o= line. Zero means a value
	// derived from the sid (and 2 for the version), so output is
	// deterministic.
	SessionID      uint64
	SessionVersion uint64
	// MDNS is the policy for .local host candidates.
	MDNS MDNSPolicy
	// Mids maps content names to the a=mid to use. A content without an
	// entry keeps its name, unless browsers would refuse it (see SDPMids).
	Mids map[string]string
	// OnLoss, if not nil, is called for every item that is dropped.
	OnLoss func(Loss)
}
