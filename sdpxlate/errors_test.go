package sdpxlate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

func pcmu() *jingle.Description {
	return &jingle.Description{Media: "audio", PayloadTypes: []jingle.PayloadType{{ID: 0}}}
}

// TestErrors checks every sentinel with errors.Is, and that the message
// says where the problem is.
func TestErrors(t *testing.T) {
	audio := func(d *jingle.Description) *jingle.Jingle {
		return &jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: d}}}
	}
	parse := func(text string) error {
		_, err := sdpxlate.ParseSDP(text)
		return err
	}
	toJ := func(text string) error {
		sd, err := sdpxlate.ParseSDP(text)
		if err != nil {
			return err
		}
		_, err = sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{})
		return err
	}
	toS := func(j *jingle.Jingle) error {
		_, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{})
		return err
	}
	remote := mustParse(t, offer)
	tests := []struct {
		name  string
		err   error
		want  error
		where string
	}{
		{"empty SDP", parse(""), sdpxlate.ErrInvalidSDP, "empty"},
		{"not SDP", parse("hello\n"), sdpxlate.ErrInvalidSDP, `line 1 "hello"`},
		{"short m= line", parse(session("m=video")), sdpxlate.ErrInvalidSDP, `line 5 "m=video"`},
		{"bad proto", parse(session("m=audio 9 RTP/XYZ 0")), sdpxlate.ErrInvalidSDP, "RTP/XYZ"},
		{"no m= line", toJ(session()), sdpxlate.ErrNoMedia, "no m= line"},
		{"only rejected", toJ(session("m=audio 0 RTP/AVP 0")), sdpxlate.ErrNoMedia, "active"},
		{"bad rtpmap", toJ(session("m=audio 9 RTP/AVP 96", "a=mid:x", "a=rtpmap:96 opus")), sdpxlate.ErrInvalidAttribute, `m-section 1 (mid "x"): a=rtpmap:"96 opus": missing clock rate`},
		{"bad extmap", toJ(session("m=audio 9 RTP/AVP 0", "a=extmap:x urn:y")), sdpxlate.ErrInvalidAttribute, `id "x"`},
		{"bad ssrc", toJ(session("m=audio 9 RTP/AVP 0", "a=ssrc:-5 cname:x")), sdpxlate.ErrInvalidAttribute, `ssrc "-5"`},
		{"bad fingerprint", toJ(session("a=fingerprint:sha-256", "m=audio 9 RTP/AVP 0")), sdpxlate.ErrInvalidAttribute, "session: a=fingerprint"},
		{"bad sctp-port", toJ(session("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:x")), sdpxlate.ErrInvalidAttribute, "a=sctp-port"},
		{"bad candidate", func() error {
			_, _, err := sdpxlate.ParseCandidate("candidate:1 1 udp x 1.2.3.4 5 typ host")
			return err
		}(), sdpxlate.ErrInvalidCandidate, `priority "x"`},
		{"short candidate", func() error { _, _, err := sdpxlate.ParseCandidate("candidate:1 1 udp"); return err }(), sdpxlate.ErrInvalidCandidate, "want"},
		{"unwritable candidate", func() error {
			_, err := sdpxlate.FormatCandidate(jingle.Candidate{ID: "c1", Component: 1, Protocol: "udp", IP: "x y", Type: "host", Foundation: "1"})
			return err
		}(), sdpxlate.ErrInvalidCandidate, `id "c1": ip`},
		{"no content name", toS(&jingle.Jingle{Contents: []jingle.Content{{Description: pcmu()}}}), sdpxlate.ErrInvalidContent, "content 1 has no name"},
		{"duplicate content", toS(&jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: pcmu()}, {Name: "a", Description: pcmu()}}}), sdpxlate.ErrInvalidContent, "duplicate"},
		{"mid clash", func() error {
			_, err := sdpxlate.JingleToSDP(&jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: pcmu()}, {Name: "b", Description: pcmu()}}}, sdpxlate.ToSDPOptions{Mids: map[string]string{"b": "a"}})
			return err
		}(), sdpxlate.ErrInvalidContent, "a=mid:a"},
		{"no media attribute", toS(&jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: &jingle.Description{PayloadTypes: []jingle.PayloadType{{ID: 0}}}}}}), sdpxlate.ErrInvalidContent, "without media"},
		{"no media", toS(audio(nil)), sdpxlate.ErrNoMedia, "no content"},
		{"unsupported application", toS(&jingle.Jingle{Contents: []jingle.Content{{Name: "f", UnknownDescription: "urn:xmpp:jingle:apps:file-transfer:5"}}}), sdpxlate.ErrUnsupportedApplication, "file-transfer"},
		{"unsupported transport", toS(&jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: &jingle.Description{Media: "audio"}, UnknownTransport: "urn:xmpp:jingle:transports:s5b:1"}}}), sdpxlate.ErrUnsupportedTransport, "s5b"},
		{"unknown content", func() error {
			_, err := sdpxlate.Apply(remote, &jingle.Jingle{Action: jingle.ActionContentModify, Contents: []jingle.Content{{Name: "nope", Senders: jingle.SendersNone}}}, sdpxlate.ToSDPOptions{})
			return err
		}(), sdpxlate.ErrUnknownContent, `"nope"`},
		{"unsupported action", func() error {
			_, err := sdpxlate.Apply(remote, &jingle.Jingle{Action: jingle.ActionSessionInfo}, sdpxlate.ToSDPOptions{})
			return err
		}(), sdpxlate.ErrUnsupportedAction, "session-info"},
		{"nil SDP", func() error { _, err := sdpxlate.SDPToJingle(nil, sdpxlate.ToJingleOptions{}); return err }(), sdpxlate.ErrNilInput, ""},
		{"nil Jingle", toS(nil), sdpxlate.ErrNilInput, ""},
		{"no candidate", func() error {
			_, err := sdpxlate.CandidatesToTransportInfo([]sdpxlate.ICECandidate{{Candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host"}}, sdpxlate.TransportInfoOptions{})
			return err
		}(), sdpxlate.ErrInvalidCandidate, "no sdpMid"},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
			continue
		}
		if !strings.Contains(tc.err.Error(), tc.where) {
			t.Errorf("%s: %q does not say %q", tc.name, tc.err, tc.where)
		}
	}
	// Errors of package jingle pass through wrapped.
	_, err := jingle.Unmarshal([]byte("<jingle xmlns='urn:xmpp:jingle:1'>"))
	if !errors.Is(err, jingle.ErrMalformedXML) {
		t.Errorf("jingle error: %v", err)
	}
}
