package wsapi

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Server-to-client messages for [Tab.Send], [Server.SendToTab] and
// [Server.SendToUser]. Each marshals with its "type". Send also takes any
// other value that marshals to a JSON object with a string "type" naming a
// server-to-client message (a map, a json.RawMessage), for the roster and
// presence messages whose shape a later issue fixes.

// Incoming announces an incoming call. Sending it makes the tab own SID.
type Incoming struct {
	SID   string   `json:"sid"`
	From  string   `json:"from"`
	Media []string `json:"media"`
	// Polite is reserved for perfect negotiation.
	Polite *bool `json:"polite,omitempty"`
}

// Ringing: the callee's client is ringing.
type Ringing struct {
	SID string `json:"sid"`
}

// Proceeding: the outgoing call is being set up.
type Proceeding struct {
	SID    string `json:"sid"`
	Polite *bool  `json:"polite,omitempty"`
}

// Offer carries an SDP offer.
type Offer struct {
	SID    string `json:"sid"`
	SDP    string `json:"sdp"`
	Polite *bool  `json:"polite,omitempty"`
}

// Answer carries an SDP answer.
type Answer struct {
	SID string `json:"sid"`
	SDP string `json:"sdp"`
}

// Candidate carries a remote ICE candidate (empty Candidate.Candidate:
// end-of-candidates).
type Candidate struct {
	SID       string       `json:"sid"`
	Candidate ICECandidate `json:"candidate"`
}

// Hangup ends a call. Sending it releases the tab's ownership of SID.
type Hangup struct {
	SID    string `json:"sid"`
	Reason string `json:"reason"`
	Text   string `json:"text,omitempty"`
}

// SessionInfo relays mute, unmute, hold or active.
type SessionInfo struct {
	SID   string   `json:"sid"`
	Info  string   `json:"info"`
	Media []string `json:"media,omitempty"`
}

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Limits tells the browser the connection's limits.
type Limits struct {
	MaxMessageBytes int64   `json:"maxMessageBytes"`
	RatePerSecond   float64 `json:"ratePerSecond"`
	RateBurst       int     `json:"rateBurst"`
}

type sessionMsg struct {
	JID           string      `json:"jid"`
	User          string      `json:"user"`
	Name          string      `json:"name,omitempty"`
	Resume        string      `json:"resume,omitempty"`
	Resumed       bool        `json:"resumed"`
	LastSeq       uint64      `json:"lastSeq"`
	ResumeGraceMs int64       `json:"resumeGraceMs"`
	ICEServers    []ICEServer `json:"iceServers"`
	Limits        Limits      `json:"limits"`
}

type ackMsg struct {
	ID  string `json:"id,omitempty"`
	SID string `json:"sid,omitempty"`
}

type errorMsg struct {
	ID      string `json:"id,omitempty"`
	SID     string `json:"sid,omitempty"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (m Incoming) MarshalJSON() ([]byte, error) {
	type plain Incoming
	return typed(TypeIncoming, plain(m))
}

func (m Ringing) MarshalJSON() ([]byte, error) {
	type plain Ringing
	return typed(TypeRinging, plain(m))
}

func (m Proceeding) MarshalJSON() ([]byte, error) {
	type plain Proceeding
	return typed(TypeProceeding, plain(m))
}

func (m Offer) MarshalJSON() ([]byte, error) {
	type plain Offer
	return typed(TypeOffer, plain(m))
}

func (m Answer) MarshalJSON() ([]byte, error) {
	type plain Answer
	return typed(TypeAnswer, plain(m))
}

func (m Candidate) MarshalJSON() ([]byte, error) {
	type plain Candidate
	return typed(TypeICECandidate, plain(m))
}

func (m Hangup) MarshalJSON() ([]byte, error) {
	type plain Hangup
	return typed(TypeHangup, plain(m))
}

func (m SessionInfo) MarshalJSON() ([]byte, error) {
	type plain SessionInfo
	return typed(TypeSessionInfo, plain(m))
}

func (m sessionMsg) MarshalJSON() ([]byte, error) {
	type plain sessionMsg
	return typed(TypeSession, plain(m))
}

func (m ackMsg) MarshalJSON() ([]byte, error) {
	type plain ackMsg
	return typed(TypeAck, plain(m))
}

func (m errorMsg) MarshalJSON() ([]byte, error) {
	type plain errorMsg
	return typed(TypeError, plain(m))
}

// typed marshals v, a struct, and puts "type":typ first.
func typed(typ string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return prepend(b, `"type":`+strconv.Quote(typ)), nil
}

// prepend inserts member (`"k":v`) at the start of the JSON object obj.
func prepend(obj []byte, member string) []byte {
	out := make([]byte, 0, len(obj)+len(member)+1)
	out = append(out, '{')
	out = append(out, member...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	return append(out, obj[1:]...)
}

// withSeq returns body, a JSON object, with "seq":n first.
func withSeq(body []byte, n uint64) []byte {
	return prepend(body, `"seq":`+strconv.FormatUint(n, 10))
}

// outgoing is a checked server-to-client message, without its seq.
type outgoing struct {
	typ, sid string
	body     []byte
}

// encode marshals msg and checks it is a server-to-client message.
func encode(msg any) (outgoing, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return outgoing{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	obj, err := decodeObject(b)
	if err != nil {
		return outgoing{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	var o outgoing
	if err := json.Unmarshal(obj["type"], &o.typ); err != nil || !serverTypes[o.typ] || o.typ == TypeSession {
		return outgoing{}, fmt.Errorf("%w: type %s is not a server-to-client message", ErrBadMessage, obj["type"])
	}
	if _, ok := obj["seq"]; ok {
		return outgoing{}, fmt.Errorf("%w: seq is assigned by the server", ErrBadMessage)
	}
	if v, ok := obj["sid"]; ok {
		if err := json.Unmarshal(v, &o.sid); err != nil {
			return outgoing{}, fmt.Errorf("%w: sid must be a string", ErrBadMessage)
		}
	}
	o.body = b
	return o, nil
}

// encodeOwn encodes the server's own messages. They hold only strings,
// integers, booleans and finite floats (cloneWithDefaults sees to that), so
// marshalling cannot fail; if it ever did, the browser gets an internal error.
func encodeOwn(msg any) []byte {
	b, err := json.Marshal(msg)
	if err != nil {
		b, _ = json.Marshal(errorMsg{Code: CodeInternal, Message: "encoding failure"})
	}
	return b
}
