package wsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pion/sdp/v3"
	"mellium.im/xmpp/jid"
)

// Message types. Some go one way only: see [ClientTypes] and [ServerTypes].
const (
	TypeSession          = "session"
	TypeAck              = "ack"
	TypeError            = "error"
	TypePing             = "ping"
	TypeLogout           = "logout"
	TypeCall             = "call"
	TypeIncoming         = "incoming"
	TypeRinging          = "ringing"
	TypeProceeding       = "proceeding"
	TypeAccept           = "accept"
	TypeReject           = "reject"
	TypeOffer            = "offer"
	TypeAnswer           = "answer"
	TypeICECandidate     = "ice-candidate"
	TypeHangup           = "hangup"
	TypeSessionInfo      = "session-info"
	TypeRoster           = "roster"
	TypePresence         = "presence"
	TypeSubscribeRequest = "subscribe-request"
	TypeRosterPush       = "roster-push"
	TypeSubscribe        = "subscribe"
	TypeApprove          = "approve"
	TypeDeny             = "deny"
	TypeAdd              = "add"
	TypeRemove           = "remove"
	TypeRename           = "rename"
)

// Media kinds, for call, incoming, accept and session-info.
const (
	MediaAudio = "audio"
	MediaVideo = "video"
)

// session-info values.
const (
	InfoMute   = "mute"
	InfoUnmute = "unmute"
	InfoHold   = "hold"
	InfoActive = "active"
)

// Hangup and reject reasons: the Jingle reasons of XEP-0166 §7.4, plus
// answered-elsewhere (another tab of the user took the call).
const (
	ReasonAlternativeSession      = "alternative-session"
	ReasonBusy                    = "busy"
	ReasonCancel                  = "cancel"
	ReasonConnectivityError       = "connectivity-error"
	ReasonDecline                 = "decline"
	ReasonExpired                 = "expired"
	ReasonFailedApplication       = "failed-application"
	ReasonFailedTransport         = "failed-transport"
	ReasonGeneralError            = "general-error"
	ReasonGone                    = "gone"
	ReasonIncompatibleParameters  = "incompatible-parameters"
	ReasonMediaError              = "media-error"
	ReasonSecurityError           = "security-error"
	ReasonSuccess                 = "success"
	ReasonTimeout                 = "timeout"
	ReasonUnsupportedApplications = "unsupported-applications"
	ReasonUnsupportedTransports   = "unsupported-transports"
	ReasonAnsweredElsewhere       = "answered-elsewhere"
)

// Reasons lists every valid hangup reason.
var Reasons = []string{
	ReasonAlternativeSession, ReasonBusy, ReasonCancel, ReasonConnectivityError,
	ReasonDecline, ReasonExpired, ReasonFailedApplication, ReasonFailedTransport,
	ReasonGeneralError, ReasonGone, ReasonIncompatibleParameters, ReasonMediaError,
	ReasonSecurityError, ReasonSuccess, ReasonTimeout, ReasonUnsupportedApplications,
	ReasonUnsupportedTransports, ReasonAnsweredElsewhere,
}

// Limits on fields of client messages. A longer field is answered with
// CodeTooLarge.
const (
	MaxIDLen        = 64
	MaxSIDLen       = 256
	MaxJIDLen       = 3071
	MaxTextLen      = 1024
	MaxCandidateLen = 1024
	MaxSDPLen       = 256 << 10
)

// field is a set of message fields.
type field uint32

const (
	fSID field = 1 << iota
	fSDP
	fCandidate
	fTo
	fMedia
	fReason
	fText
	fInfo
	fPolite
	fSeq
)

// spec says which fields a client message type takes.
type spec struct {
	req, opt field
	sid      bool // the sid must name one of the tab's calls
	loose    bool // roster and presence: fields are passed raw, unchecked
}

var clientSpecs = map[string]spec{
	TypeAck:          {req: fSeq},
	TypePing:         {},
	TypeLogout:       {},
	TypeCall:         {req: fTo | fMedia, opt: fSID},
	TypeAccept:       {req: fSID, opt: fMedia, sid: true},
	TypeReject:       {req: fSID, opt: fReason | fText, sid: true},
	TypeOffer:        {req: fSID | fSDP, opt: fPolite, sid: true},
	TypeAnswer:       {req: fSID | fSDP, sid: true},
	TypeICECandidate: {req: fSID | fCandidate, sid: true},
	TypeHangup:       {req: fSID, opt: fReason | fText, sid: true},
	TypeSessionInfo:  {req: fSID | fInfo, opt: fMedia, sid: true},
	TypeRoster:       {loose: true},
	TypePresence:     {loose: true},
	TypeSubscribe:    {loose: true},
	TypeApprove:      {loose: true},
	TypeDeny:         {loose: true},
	TypeAdd:          {loose: true},
	TypeRemove:       {loose: true},
	TypeRename:       {loose: true},
}

// serverTypes are the types the server sends.
var serverTypes = map[string]bool{
	TypeSession: true, TypeAck: true, TypeError: true,
	TypeIncoming: true, TypeRinging: true, TypeProceeding: true,
	TypeOffer: true, TypeAnswer: true, TypeICECandidate: true, TypeHangup: true,
	TypeSessionInfo: true, TypeRoster: true, TypePresence: true, TypeSubscribeRequest: true,
	TypeRosterPush: true,
}

// ClientTypes returns the message types a browser may send.
func ClientTypes() []string { return keys(clientSpecs) }

// ServerTypes returns the message types the server sends.
func ServerTypes() []string { return keys(serverTypes) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ICECandidate is the browser's RTCIceCandidateInit. An empty Candidate means
// end-of-candidates (for the m-line named by SDPMid or SDPMLineIndex, or for
// all of them when both are nil).
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Message is a validated client message. Only the fields its Type takes are
// set.
type Message struct {
	// Type is one of ClientTypes().
	Type string
	// ID is the client's correlation id, echoed in the ack or error.
	ID string
	// SID names a call. For call it is generated when the browser gave none.
	SID string
	// SDP and Description (its parsed form): offer, answer.
	SDP         string
	Description *sdp.SessionDescription
	// Candidate: ice-candidate.
	Candidate *ICECandidate
	// To: call. A valid JID.
	To jid.JID
	// Media: call (required), accept and session-info (optional).
	Media []string
	// Reason and Text: hangup, reject (Reason defaults to success for hangup
	// and decline for reject).
	Reason string
	Text   string
	// Info: session-info (mute, unmute, hold, active).
	Info string
	// Polite: offer (reserved for perfect negotiation).
	Polite *bool
	// Seq: ack.
	Seq uint64
	// Raw is the whole message as received. Roster and presence messages
	// are validated only as objects; the application decodes Raw.
	Raw json.RawMessage

	ack    uint64 // piggybacked acknowledgement
	hasAck bool
}

// parseError is a validation failure with its code and the id and sid of the
// message, when they could be read.
type parseError struct {
	code    Code
	msg     string
	id, sid string
}

func (e *parseError) Error() string { return string(e.code) + ": " + e.msg }

func bad(code Code, format string, args ...any) *parseError {
	return &parseError{code: code, msg: fmt.Sprintf(format, args...)}
}

// ParseClientMessage validates data as a client-to-server message, exactly
// as the server does (without the rate limit and sid ownership checks). The
// error is an *Error carrying the code the server would answer.
func ParseClientMessage(data []byte) (*Message, error) {
	m, perr := parseMessage(data)
	if perr != nil {
		return m, &Error{Code: perr.code, Message: perr.msg, SID: perr.sid}
	}
	return m, nil
}

// decodeObject decodes one JSON object into its members, refusing duplicate
// keys and trailing data. Keys are matched exactly (case-sensitively) by the
// callers.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("malformed JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("a message must be a JSON object")
	}
	obj := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed JSON")
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errors.New("malformed JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("malformed JSON")
		}
		if _, dup := obj[k]; dup {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		obj[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: data after the object")
	}
	return obj, nil
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

func getString(obj map[string]json.RawMessage, key string, max int) (string, bool, *parseError) {
	v, ok := obj[key]
	if !ok {
		return "", false, nil
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", true, bad(CodeBadRequest, "field %q must be a string", key)
	}
	if max > 0 && len(s) > max {
		return "", true, bad(CodeTooLarge, "field %q is longer than %d bytes", key, max)
	}
	return s, true, nil
}

func getUint(obj map[string]json.RawMessage, key string, max uint64) (uint64, bool, *parseError) {
	v, ok := obj[key]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || n > max {
		return 0, true, bad(CodeBadRequest, "field %q must be an integer from 0 to %d", key, max)
	}
	return n, true, nil
}

// maxSafeInt is the largest integer a JavaScript number holds exactly.
const maxSafeInt = 1<<53 - 1

// token reports whether s is non-empty and free of control characters.
func printable(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func parseMessage(data []byte) (*Message, *parseError) {
	m := &Message{Raw: json.RawMessage(data)}
	if !utf8.Valid(data) {
		return m, bad(CodeBadRequest, "message is not valid UTF-8")
	}
	obj, err := decodeObject(data)
	if err != nil {
		return m, bad(CodeBadRequest, "%v", err)
	}
	fail := func(e *parseError) (*Message, *parseError) {
		e.id, e.sid = m.ID, m.SID
		return m, e
	}
	// The id first, so that every later error can carry it.
	if id, ok, perr := getString(obj, "id", MaxIDLen); perr != nil {
		return fail(perr)
	} else if ok {
		if !printable(id) {
			return fail(bad(CodeBadRequest, "field \"id\" must be a non-empty string without control characters"))
		}
		m.ID = id
	}
	typ, ok, perr := getString(obj, "type", 64)
	if perr != nil {
		return fail(perr)
	}
	if !ok {
		return fail(bad(CodeBadRequest, "missing field \"type\""))
	}
	sp, known := clientSpecs[typ]
	if !known {
		if serverTypes[typ] {
			return fail(bad(CodeForbidden, "%q is sent by the server only", typ))
		}
		return fail(bad(CodeBadRequest, "unknown message type %q", truncate(typ, 32)))
	}
	m.Type = typ
	if _, ok := obj["from"]; ok {
		return fail(bad(CodeForbidden, "field \"from\" is set by the gateway, never by the browser"))
	}
	if n, ok, perr := getUint(obj, "ack", maxSafeInt); perr != nil {
		return fail(perr)
	} else if ok {
		m.ack, m.hasAck = n, true
	}
	if sp.loose {
		return m, nil
	}
	want := sp.req | sp.opt
	missing := func(f field, name string) *parseError {
		if sp.req&f != 0 {
			return bad(CodeBadRequest, "missing field %q", name)
		}
		return nil
	}

	// sid before the rest, so that later errors carry it.
	if want&fSID != 0 {
		sid, ok, perr := getString(obj, "sid", MaxSIDLen)
		if perr != nil {
			return fail(perr)
		}
		if !ok {
			if e := missing(fSID, "sid"); e != nil {
				return fail(e)
			}
		} else if !printable(sid) {
			return fail(bad(CodeBadRequest, "field \"sid\" must be a non-empty string without control characters"))
		} else {
			m.SID = sid
		}
	}
	if want&fSeq != 0 {
		n, ok, perr := getUint(obj, "seq", maxSafeInt)
		if perr != nil {
			return fail(perr)
		}
		if !ok {
			return fail(missing(fSeq, "seq"))
		}
		m.Seq = n
	}
	if want&fSDP != 0 {
		s, ok, perr := getString(obj, "sdp", MaxSDPLen)
		if perr != nil {
			return fail(perr)
		}
		if !ok {
			return fail(missing(fSDP, "sdp"))
		}
		d, err := parseSDP(s)
		if err != nil {
			return fail(bad(CodeBadRequest, "field \"sdp\": %v", err))
		}
		m.SDP, m.Description = s, d
	}
	if want&fCandidate != 0 {
		v, ok := obj["candidate"]
		if !ok {
			return fail(missing(fCandidate, "candidate"))
		}
		c, perr := parseCandidateInit(v)
		if perr != nil {
			return fail(perr)
		}
		m.Candidate = c
	}
	if want&fTo != 0 {
		s, ok, perr := getString(obj, "to", MaxJIDLen)
		if perr != nil {
			return fail(perr)
		}
		if !ok {
			return fail(missing(fTo, "to"))
		}
		j, err := jid.Parse(s)
		if err != nil || s == "" {
			return fail(bad(CodeBadRequest, "field \"to\" is not a valid JID"))
		}
		m.To = j
	}
	if want&fMedia != 0 {
		v, ok := obj["media"]
		if !ok {
			if e := missing(fMedia, "media"); e != nil {
				return fail(e)
			}
		} else {
			media, perr := parseMedia(v)
			if perr != nil {
				return fail(perr)
			}
			m.Media = media
		}
	}
	if want&fReason != 0 {
		r, ok, perr := getString(obj, "reason", 64)
		if perr != nil {
			return fail(perr)
		}
		if ok && !validReason(r) {
			return fail(bad(CodeBadRequest, "field \"reason\": unknown reason %q", truncate(r, 32)))
		}
		if !ok {
			r = ReasonSuccess
			if typ == TypeReject {
				r = ReasonDecline
			}
		}
		m.Reason = r
	}
	if want&fText != 0 {
		t, _, perr := getString(obj, "text", MaxTextLen)
		if perr != nil {
			return fail(perr)
		}
		m.Text = t
	}
	if want&fInfo != 0 {
		s, ok, perr := getString(obj, "info", 32)
		if perr != nil {
			return fail(perr)
		}
		if !ok {
			return fail(missing(fInfo, "info"))
		}
		switch s {
		case InfoMute, InfoUnmute, InfoHold, InfoActive:
		default:
			return fail(bad(CodeBadRequest, "field \"info\" must be mute, unmute, hold or active"))
		}
		m.Info = s
	}
	if want&fPolite != 0 {
		if v, ok := obj["polite"]; ok {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil || isNull(v) {
				return fail(bad(CodeBadRequest, "field \"polite\" must be a boolean"))
			}
			m.Polite = &b
		}
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func validReason(r string) bool {
	for _, k := range Reasons {
		if r == k {
			return true
		}
	}
	return false
}

func parseMedia(v json.RawMessage) ([]string, *parseError) {
	var media []string
	if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &media) != nil {
		return nil, bad(CodeBadRequest, "field \"media\" must be an array of strings")
	}
	if len(media) == 0 || len(media) > 2 {
		return nil, bad(CodeBadRequest, "field \"media\" must list audio, video or both")
	}
	seen := map[string]bool{}
	for _, k := range media {
		if k != MediaAudio && k != MediaVideo {
			return nil, bad(CodeBadRequest, "field \"media\": unknown media %q", truncate(k, 32))
		}
		if seen[k] {
			return nil, bad(CodeBadRequest, "field \"media\": %q listed twice", k)
		}
		seen[k] = true
	}
	return media, nil
}

// parseSDP checks that s is an SDP session description with at least one
// media section.
func parseSDP(s string) (*sdp.SessionDescription, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty")
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return nil, err
	}
	if len(d.MediaDescriptions) == 0 {
		return nil, errors.New("no media section (m=)")
	}
	return &d, nil
}

func parseCandidateInit(v json.RawMessage) (*ICECandidate, *parseError) {
	if len(v) == 0 || v[0] != '{' {
		return nil, bad(CodeBadRequest, "field \"candidate\" must be an object (RTCIceCandidateInit)")
	}
	obj, err := decodeObject(v)
	if err != nil {
		return nil, bad(CodeBadRequest, "field \"candidate\": %v", err)
	}
	var c ICECandidate
	s, ok, perr := getString(obj, "candidate", MaxCandidateLen)
	if perr != nil {
		perr.msg = "candidate." + perr.msg
		return nil, perr
	}
	if !ok {
		return nil, bad(CodeBadRequest, "missing field \"candidate.candidate\"")
	}
	if s != "" {
		if err := checkCandidateLine(s); err != nil {
			return nil, bad(CodeBadRequest, "field \"candidate.candidate\": %v", err)
		}
	}
	c.Candidate = s
	nullableString := func(key string) (*string, *parseError) {
		v, ok := obj[key]
		if !ok || isNull(v) {
			return nil, nil
		}
		s, _, perr := getString(obj, key, 256)
		if perr != nil {
			perr.msg = "candidate." + perr.msg
			return nil, perr
		}
		return &s, nil
	}
	if c.SDPMid, perr = nullableString("sdpMid"); perr != nil {
		return nil, perr
	}
	if c.UsernameFragment, perr = nullableString("usernameFragment"); perr != nil {
		return nil, perr
	}
	if v, ok := obj["sdpMLineIndex"]; ok && !isNull(v) {
		n, _, perr := getUint(obj, "sdpMLineIndex", 65535)
		if perr != nil {
			perr.msg = "candidate." + perr.msg
			return nil, perr
		}
		i := uint16(n)
		c.SDPMLineIndex = &i
	}
	if c.Candidate != "" && c.SDPMid == nil && c.SDPMLineIndex == nil {
		return nil, bad(CodeBadRequest, "field \"candidate\": sdpMid and sdpMLineIndex cannot both be null")
	}
	return &c, nil
}

// peekID returns the id of a message, if it has a valid one.
func peekID(data []byte) string {
	if !utf8.Valid(data) {
		return ""
	}
	obj, err := decodeObject(data)
	if err != nil {
		return ""
	}
	id, ok, perr := getString(obj, "id", MaxIDLen)
	if !ok || perr != nil || !printable(id) {
		return ""
	}
	return id
}
