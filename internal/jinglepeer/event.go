package jinglepeer

import (
	"fmt"
	"strings"
	"time"

	"github.com/jinglegate/jinglegate/jingle"
)

// EventKind is what happened in a call.
type EventKind int

// Event kinds. Local in the Event says whether this peer did it (sent the
// stanza) or the other party did.
const (
	EventUnknown EventKind = iota
	// EventProposed: a JMI <propose/> was sent or received.
	EventProposed
	// EventRinging: a JMI <ringing/> or a session-info <ringing/>.
	EventRinging
	// EventProceed: a JMI <proceed/> (or the old <accept/>); for an
	// outgoing call, Text is the full JID that proceeded.
	EventProceed
	// EventInitiated: session-initiate sent or received.
	EventInitiated
	// EventAccepted: session-accept sent or received; the session is active.
	EventAccepted
	// EventConnected: the WebRTC peer connection reached "connected"
	// (ICE and DTLS done). It comes again after an ICE restart.
	EventConnected
	// EventTrack: a remote RTP stream started; Media is its kind, Text its
	// codec (e.g. "video/VP8").
	EventTrack
	// EventDataChannel: a data channel opened; Text is its label.
	EventDataChannel
	// EventContentAdd: content-add sent or received; Contents are the
	// names, Media their media.
	EventContentAdd
	// EventContentAccept: content-accept sent or received.
	EventContentAccept
	// EventContentReject: content-reject sent or received.
	EventContentReject
	// EventContentRemove: content-remove sent or received.
	EventContentRemove
	// EventContentModify: content-modify sent or received.
	EventContentModify
	// EventICERestart: new ICE credentials were sent (Local) or received in
	// a transport-info.
	EventICERestart
	// EventInfo: a session-info payload (mute, unmute, hold, active, ...)
	// other than ringing; Info is its kind.
	EventInfo
	// EventTerminated: the call is over. Reason is why: the session-terminate
	// reason, the JMI reject or retract reason, or a local failure. It is
	// always the last event.
	EventTerminated
	// EventError: something failed without ending the call; Err says what.
	EventError
)

var eventNames = [...]string{
	EventUnknown:       "unknown",
	EventProposed:      "proposed",
	EventRinging:       "ringing",
	EventProceed:       "proceed",
	EventInitiated:     "initiated",
	EventAccepted:      "accepted",
	EventConnected:     "connected",
	EventTrack:         "track",
	EventDataChannel:   "data-channel",
	EventContentAdd:    "content-add",
	EventContentAccept: "content-accept",
	EventContentReject: "content-reject",
	EventContentRemove: "content-remove",
	EventContentModify: "content-modify",
	EventICERestart:    "ice-restart",
	EventInfo:          "info",
	EventTerminated:    "terminated",
	EventError:         "error",
}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventNames) {
		return fmt.Sprintf("EventKind(%d)", int(k))
	}
	return eventNames[k]
}

// Event is one thing that happened in a call.
type Event struct {
	Kind EventKind
	Time time.Time
	// Local is true when this peer did it, false when the other party did.
	Local bool
	// Reason is the reason of EventTerminated (and of a content-reject or
	// content-remove, when given).
	Reason jingle.ReasonCondition
	// Text is the reason's <text/>, or a description of a local failure.
	Text string
	// Info is the payload of EventInfo.
	Info jingle.InfoKind
	// Contents are the content names a content-* event is about.
	Contents []string
	// Media is the medium of EventTrack ("audio" or "video"), and the
	// comma-separated media of EventProposed, EventInitiated and
	// EventContentAdd (e.g. "audio,video,data").
	Media string
	// Err is the failure of EventError, or of EventTerminated when the call
	// ended because something failed here.
	Err error
}

func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Local {
		b.WriteString(" (local)")
	}
	if e.Reason != jingle.ReasonUnknown {
		b.WriteString(" reason=" + e.Reason.String())
	}
	if e.Text != "" {
		fmt.Fprintf(&b, " text=%q", e.Text)
	}
	if e.Info != jingle.InfoUnknown {
		b.WriteString(" info=" + e.Info.String())
	}
	if len(e.Contents) > 0 {
		b.WriteString(" contents=" + strings.Join(e.Contents, ","))
	}
	if e.Media != "" {
		b.WriteString(" media=" + e.Media)
	}
	if e.Err != nil {
		b.WriteString(" err=" + e.Err.Error())
	}
	return b.String()
}
