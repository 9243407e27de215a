package jinglepeer

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp"

	"github.com/jinglegate/jinglegate/jingle"
)

// The media a call can carry, as used in Config.Media, Peer.Call and
// Call.AddMedia. Audio and video are RTP contents (XEP-0167), data is a
// WebRTC data channel content (XEP-0343).
const (
	MediaAudio = "audio"
	MediaVideo = "video"
	MediaData  = "data"
)

// Defaults of the zero Config.
const (
	DefaultCapsNode    = "https://github.com/jinglegate/jinglegate/jinglepeer"
	DefaultName        = "jinglepeer"
	DefaultIQTimeout   = 20 * time.Second
	DefaultSendTimeout = 10 * time.Second
	DefaultRingTimeout = 60 * time.Second
)

// Config configures a Peer. Only Session is required: the zero value of
// everything else is a loopback-only peer that offers audio, video and a
// data channel, advertises JMI, rings on incoming calls and waits for
// Call.Accept or Call.Reject.
type Config struct {
	// Session is a logged-in client-to-server session (resource bound).
	// The peer serves it: nothing else may call its Serve. Run closes it
	// when it returns.
	Session *xmpp.Session
	// Logger receives the peer's log, with pion's; nil means slog.Default().
	Logger *slog.Logger

	// Echo sends every received RTP stream back to the caller on a track of
	// the same codec, and echoes every data channel message, instead of
	// playing the built-in test media.
	Echo bool
	// AutoAccept accepts every incoming call at once: a JMI propose is
	// answered with ringing then proceed, a session-initiate with
	// session-accept.
	AutoAccept bool
	// Reject, when not empty, refuses every incoming call with this XEP-0166
	// reason, e.g. "busy" or "decline": a JMI propose gets ringing then
	// reject, a session-initiate a session-terminate. It wins over
	// AutoAccept.
	Reject string
	// Media are the media this peer sends and offers by default: any of
	// MediaAudio, MediaVideo and MediaData; nil means all three. On an
	// incoming call, offered media not in the list are received only
	// (data channels are always answered).
	Media []string
	// NoJMI leaves urn:xmpp:jingle-message:0 out of the advertised features
	// (XEP-0115 caps and disco#info), so that callers use a direct
	// session-initiate. Incoming JMI messages are still understood.
	NoJMI bool

	// CapsNode is the XEP-0115 node; empty means DefaultCapsNode.
	CapsNode string
	// Name is the disco#info identity name; empty means DefaultName.
	Name string

	// Interfaces are the network interfaces ICE gathers candidates on. Nil
	// means loopback only: interface "lo", loopback addresses, UDP over
	// IPv4, no mDNS, so that no packet leaves the machine (what tests
	// need). A list of names allows those interfaces; "*" allows all.
	// mDNS candidates are never used.
	Interfaces []string
	// ICEServers are the STUN and TURN servers; none by default.
	ICEServers []webrtc.ICEServer

	// IQTimeout bounds the wait for the answer to an IQ; zero means
	// DefaultIQTimeout.
	IQTimeout time.Duration
	// SendTimeout bounds the write of one stanza; zero means
	// DefaultSendTimeout.
	SendTimeout time.Duration
	// RingTimeout is how long an outgoing JMI propose waits for proceed
	// (then it is retracted) and an incoming call rings unanswered (then it
	// is rejected with reason timeout). Zero means DefaultRingTimeout.
	RingTimeout time.Duration
}

// config is a validated Config with defaults filled in.
type config struct {
	Config
	reject jingle.ReasonCondition
}

func (c Config) validate() (config, error) {
	out := config{Config: c}
	if c.Session == nil {
		return out, ErrNoSession
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	if c.Reject != "" {
		r, err := jingle.ParseReasonCondition(c.Reject)
		if err != nil {
			return out, fmt.Errorf("%w: Reject: %w", ErrInvalidConfig, err)
		}
		out.reject = r
	}
	if c.Media == nil {
		out.Media = []string{MediaAudio, MediaVideo, MediaData}
	} else {
		out.Media = slices.Clone(c.Media)
		if err := checkMedia(out.Media); err != nil {
			return out, fmt.Errorf("%w: Media: %w", ErrInvalidConfig, err)
		}
	}
	if out.CapsNode == "" {
		out.CapsNode = DefaultCapsNode
	}
	if out.Name == "" {
		out.Name = DefaultName
	}
	if out.IQTimeout <= 0 {
		out.IQTimeout = DefaultIQTimeout
	}
	if out.SendTimeout <= 0 {
		out.SendTimeout = DefaultSendTimeout
	}
	if out.RingTimeout <= 0 {
		out.RingTimeout = DefaultRingTimeout
	}
	out.Interfaces = slices.Clone(c.Interfaces)
	out.ICEServers = slices.Clone(c.ICEServers)
	return out, nil
}

// checkMedia rejects unknown and repeated media names.
func checkMedia(media []string) error {
	seen := map[string]bool{}
	for _, m := range media {
		switch m {
		case MediaAudio, MediaVideo, MediaData:
		default:
			return fmt.Errorf("unknown medium %q (want %q, %q or %q)", m, MediaAudio, MediaVideo, MediaData)
		}
		if seen[m] {
			return fmt.Errorf("medium %q given twice", m)
		}
		seen[m] = true
	}
	return nil
}
