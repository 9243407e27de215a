package jingle_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

var (
	_ xml.Marshaler       = (*jingle.Jingle)(nil)
	_ xml.Unmarshaler     = (*jingle.Jingle)(nil)
	_ xmlstream.Marshaler = (*jingle.Jingle)(nil)
	_ xmlstream.WriterTo  = (*jingle.Jingle)(nil)
	_ xml.Marshaler       = jingle.IQ{}
	_ xml.Unmarshaler     = (*jingle.IQ)(nil)
	_ xmlstream.Marshaler = jingle.IQ{}
	_ xmlstream.WriterTo  = jingle.IQ{}
	_ xml.Marshaler       = (*jingle.JMI)(nil)
	_ xml.Unmarshaler     = (*jingle.JMI)(nil)
	_ xmlstream.Marshaler = jingle.Message{}
)

// full is a Jingle element that uses every field.
func full() *jingle.Jingle {
	return &jingle.Jingle{
		Action:    jingle.ActionSessionInitiate,
		SID:       "a73sjjvkla37jfea",
		Initiator: "romeo@montague.lit/orchard",
		Responder: "juliet@capulet.lit/balcony",
		Contents: []jingle.Content{{
			Creator:     jingle.RoleInitiator,
			Disposition: "session",
			Name:        "0",
			Senders:     jingle.SendersBoth,
			Description: &jingle.Description{
				Media:    "audio",
				SSRC:     1234,
				Profile:  "UDP/TLS/RTP/SAVPF",
				MaxPTime: 60,
				PayloadTypes: []jingle.PayloadType{{
					ID: 111, Name: "opus", ClockRate: 48000, Channels: 2, PTime: 20, MaxPTime: 120,
					Parameters: []jingle.Parameter{{Name: "minptime", Value: "10"}, {Value: "0-15"}},
					Feedback: []jingle.RTCPFeedback{{Type: "transport-cc"}, {Type: "trr-int", Subtype: "100"},
						{Type: "ccm", Subtype: "tmmbr", Parameters: []jingle.Parameter{{Name: "smaxpr", Value: "120"}}}},
				}},
				Feedback:         []jingle.RTCPFeedback{{Type: "nack", Subtype: "pli"}},
				Bandwidths:       []jingle.Bandwidth{{Type: "AS", Value: 128}},
				RTCPMux:          true,
				RTCPReducedSize:  true,
				HeaderExtensions: []jingle.HeaderExtension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level", Senders: jingle.SendersInitiator, Parameters: []jingle.Parameter{{Name: "vad", Value: "on"}}}},
				ExtmapAllowMixed: true,
				Sources:          []jingle.Source{{SSRC: 1234, Name: "a0", Parameters: []jingle.Parameter{{Name: "cname", Value: "x"}, {Name: "msid", Value: "s t"}}}},
				SourceGroups:     []jingle.SourceGroup{{Semantics: "FID", SSRCs: []uint32{1234, 5678}}},
				Streams:          []jingle.Stream{{ID: "s", Track: "t"}},
				Encryption:       &jingle.Encryption{Required: true, Crypto: []jingle.Crypto{{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:abc", SessionParams: "KDR=1", Tag: "1"}}},
			},
			Transport: &jingle.Transport{
				Ufrag: "8hhy", Pwd: "asd88fgpdd777uzjYhagZg",
				Candidates: []jingle.Candidate{
					{Component: 1, Foundation: "1", Generation: 0, ID: "el0747fg11", IP: "10.0.1.1", Network: 1, NetworkCost: 10, Port: 8998, Priority: 21149780477, Protocol: "udp", Type: "host"},
					{Component: 1, Foundation: "2", ID: "y3s2b30v3r", IP: "192.0.2.3", Port: 45664, Priority: 1694498815, Protocol: "tcp", RelAddr: "0.0.0.0", RelPort: 0, Type: "srflx", TCPType: "passive"},
				},
				RemoteCandidate:   &jingle.RemoteCandidate{Component: 1, IP: "10.0.1.2", Port: 9001},
				Fingerprints:      []jingle.Fingerprint{{Hash: "sha-256", Setup: "actpass", Value: "02:1A", Cryptex: true}},
				SCTPMap:           &jingle.SCTPMap{Number: 5000, Protocol: "webrtc-datachannel", Streams: 1024, MaxMessageSize: 262144},
				ICEOptions:        []string{"trickle", "renomination"},
				ICELite:           true,
				GatheringComplete: true,
				RTCPMux:           true,
			},
		}, {
			Creator: jingle.RoleResponder,
			Name:    "raw",
			RawUDP:  &jingle.RawUDPTransport{Candidates: []jingle.RawUDPCandidate{{Component: 1, Generation: 0, ID: "a9j3mnbtu1", IP: "10.1.1.104", Port: 13540}}},
		}},
		Groups:       []jingle.Group{{Semantics: "BUNDLE", Contents: []string{"0"}}},
		Reason:       &jingle.Reason{Condition: jingle.ReasonAlternativeSession, SID: "b84tkkwlmb48kgfb", Text: "I'm outta here!", Application: xml.Name{Space: jingle.NSRTPErrors, Local: "invalid-crypto"}},
		Info:         &jingle.Info{Kind: jingle.InfoMute, Creator: jingle.RoleResponder, Name: "voice"},
		MSIDSemantic: &jingle.MSIDSemantic{Semantic: "WMS", Tokens: []string{"*"}},
	}
}

func TestRoundTrip(t *testing.T) {
	want := full()
	for _, indent := range []string{"", "  "} {
		b, err := jingle.MarshalIndent(want, indent)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jingle.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip with indent %q changed the element:\n%s\ngot  %+v\nwant %+v", indent, b, got, want)
		}
	}
}

// TestEncodingXML checks that the element also works with encoding/xml.
func TestEncodingXML(t *testing.T) {
	want := full()
	b, err := xml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got jingle.Jingle
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("xml.Unmarshal: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("encoding/xml round trip changed the element:\n%s", b)
	}
}

func TestIQ(t *testing.T) {
	iq := jingle.IQ{
		IQ:     stanza.IQ{ID: "ih28sx61", Type: stanza.SetIQ, To: jid.MustParse("juliet@capulet.lit/balcony"), From: jid.MustParse("romeo@montague.lit/orchard")},
		Jingle: jingle.Jingle{Action: jingle.ActionSessionTerminate, SID: "x", Reason: &jingle.Reason{Condition: jingle.ReasonSuccess}},
	}
	b, err := xml.Marshal(iq)
	if err != nil {
		t.Fatal(err)
	}
	const want = `<iq type="set" to="juliet@capulet.lit/balcony" from="romeo@montague.lit/orchard" id="ih28sx61"><jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="x"><reason xmlns="urn:xmpp:jingle:1"><success xmlns="urn:xmpp:jingle:1"></success></reason></jingle></iq>`
	var got jingle.IQ
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.ID != "ih28sx61" || got.Type != stanza.SetIQ || got.Jingle.Action != jingle.ActionSessionTerminate || got.Jingle.Reason.Condition != jingle.ReasonSuccess {
		t.Errorf("IQ round trip: got %+v from\n%s", got, b)
	}
	// The compact text form declares each namespace once.
	text, err := jingle.Marshal(iq)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='x'><reason><success/></reason></jingle>`) {
		t.Errorf("Marshal(IQ) = %s", text)
	}
	_ = want
	var noJingle jingle.IQ
	err = xml.Unmarshal([]byte(`<iq type='set' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`), &noJingle)
	if !errors.Is(err, jingle.ErrNoJingle) {
		t.Errorf("IQ without jingle: got %v, want ErrNoJingle", err)
	}
}

// TestDecode is an indexed table of raw XML from real clients.
var decodeTests = [...]struct {
	in    string
	check func(*jingle.Jingle) string
}{
	0: { // StanzaJS writes prefixes; only namespaces count.
		in: `<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='a'>
<description xmlns='urn:xmpp:jingle:apps:rtp:1' xmlns:rtcpf='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' xmlns:rtph='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' media='audio'>
<payload-type id='111' name='opus' clockrate='48000'><rtcpf:rtcp-fb type='transport-cc'/><rtcpf:rtcp-fb-trr-int value='100'/></payload-type>
<rtph:rtp-hdrext id='1' uri='urn:x'/></description></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			d := j.Contents[0].Description
			if len(d.PayloadTypes[0].Feedback) != 2 || !reflect.DeepEqual(d.PayloadTypes[0].Feedback[1], jingle.RTCPFeedback{Type: "trr-int", Subtype: "100"}) || len(d.HeaderExtensions) != 1 {
				return "prefixed rtcp-fb/rtp-hdrext not read"
			}
			return ""
		},
	},
	1: { // A prefix bound to the wrong namespace is not rtcp-fb.
		in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' xmlns:rtcpf='urn:example:other' media='audio'>
<payload-type id='0'><rtcpf:rtcp-fb type='nack'/></payload-type></description></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			if len(j.Contents[0].Description.PayloadTypes[0].Feedback) != 0 {
				return "matched rtcp-fb by its prefix"
			}
			return ""
		},
	},
	2: { // Conversations repeats xmlns everywhere.
		in: `<jingle xmlns="urn:xmpp:jingle:1"><content xmlns="urn:xmpp:jingle:1" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type xmlns="urn:xmpp:jingle:apps:rtp:1" id="111" name="opus"><parameter xmlns="urn:xmpp:jingle:apps:rtp:1" name="a" value="b"/></payload-type><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="5"><parameter name="msid" value="- t"/></source></description></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			d := j.Contents[0].Description
			if d.PayloadTypes[0].Parameters[0] != (jingle.Parameter{Name: "a", Value: "b"}) || d.Sources[0].Parameters[0].Value != "- t" {
				return "repeated xmlns not read"
			}
			return ""
		},
	},
	3: { // Old namespaces and unknown elements.
		in: `<jingle xmlns='urn:xmpp:jingle:1' action='content-add'><bridge-session xmlns='http://jitsi.org/protocol/focus' id='x'/>
<content name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><unknown xmlns='urn:example'><payload-type id='1'/></unknown></description>
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:0' ufrag='u'><web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://x'/>
<fingerprint xmlns='urn:xmpp:tmp:jingle:apps:dtls:0' hash='sha-1'>
  AA:BB
</fingerprint><rtcp-mux/></transport></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			c := j.Contents[0]
			switch {
			case len(c.Description.PayloadTypes) != 0:
				return "read a payload-type inside an unknown element"
			case c.Transport == nil || c.Transport.Ufrag != "u":
				return "ice-udp:0 transport not read"
			case len(c.Transport.Fingerprints) != 1 || c.Transport.Fingerprints[0].Value != "AA:BB":
				return "legacy fingerprint not read or not trimmed"
			case !c.Transport.RTCPMux:
				return "Jitsi's rtcp-mux in the transport not read"
			}
			return ""
		},
	},
	4: { // Unknown application and transport namespaces are recorded.
		in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='s'><description xmlns='urn:xmpp:jingle:apps:stub:0'/><transport xmlns='urn:xmpp:jingle:transports:stub:0'/></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			c := j.Contents[0]
			if c.UnknownDescription != "urn:xmpp:jingle:apps:stub:0" || c.UnknownTransport != "urn:xmpp:jingle:transports:stub:0" {
				return "unknown namespaces not recorded"
			}
			return ""
		},
	},
	5: { // Groups inside contents or descriptions are hoisted; old type= attribute.
		in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><group xmlns='urn:xmpp:jingle:apps:grouping:0' type='BUNDLE'><content name='a'/></group></description></content><content name='b'><group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='LS'><content name='a'/><content name='b'/></group></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			if len(j.Groups) != 2 || j.Groups[0].Semantics != "BUNDLE" || j.Groups[1].Semantics != "LS" || len(j.Groups[1].Contents) != 2 {
				return "groups not hoisted"
			}
			return ""
		},
	},
	6: { // Reason with text before the condition (QXmpp) and an unknown action (kept).
		in: `<jingle xmlns='urn:xmpp:jingle:1' action='future-action'><reason><text>Busy</text><busy/></reason></jingle>`,
		check: func(j *jingle.Jingle) string {
			if j.Action != jingle.ActionUnknown || j.Reason.Condition != jingle.ReasonBusy || j.Reason.Text != "Busy" {
				return "reason or unknown action not read"
			}
			return ""
		},
	},
	7: { // Nameless parameters (MongooseIM, Jitsi) and a huge priority.
		in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='101'><parameter value='0-15'/><parameter name="" value="0-16"/></payload-type></description>
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' foundation='1' generation='0' id='x' ip='2001:db8::9:1' network='0' port='9001' priority='21149780477' protocol='UDP' type='host'/></transport></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			c := j.Contents[0]
			if c.Description.PayloadTypes[0].Parameters[1].Value != "0-16" || c.Transport.Candidates[0].Priority != 21149780477 || c.Transport.Candidates[0].Protocol != "udp" {
				return "nameless parameter, large priority or protocol case not handled"
			}
			return ""
		},
	},
	8: { // The bogus jingle namespace of the XEP-0339 examples on <content/>.
		in: `<jingle xmlns='urn:xmpp:jingle:1'><content xmlns='http://jabber.org/protocols/jingle' name='webcam'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'/></content></jingle>`,
		check: func(j *jingle.Jingle) string {
			if len(j.Contents) != 1 || j.Contents[0].Description == nil {
				return "content in the XEP-0339 example namespace not read"
			}
			return ""
		},
	},
}

func TestDecode(t *testing.T) {
	for i, tc := range decodeTests {
		j, err := jingle.Unmarshal([]byte(tc.in))
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if msg := tc.check(j); msg != "" {
			t.Errorf("%d: %s", i, msg)
		}
	}
}

var errorTests = [...]struct {
	in   string
	want error
	// where is a part of the message that locates the problem.
	where string
}{
	0:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content>`, want: jingle.ErrMalformedXML, where: "unexpected EOF"},
	1:  {in: `<iq><jingle xmlns='urn:xmpp:jingle:1'></iq>`, want: jingle.ErrMalformedXML, where: "closed by"},
	2:  {in: `<iq type='set'><ping xmlns='urn:xmpp:ping'/></iq>`, want: jingle.ErrNoJingle},
	3:  {in: `<jingle xmlns='urn:example'/>`, want: jingle.ErrNoJingle},
	4:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='200'/></description></content></jingle>`, want: jingle.ErrInvalidValue, where: `payload-type 1: id="200"`},
	5:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type name='x'/></description></content></jingle>`, want: jingle.ErrMissingAttribute, where: "payload-type 1: id"},
	6:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' ip='1.2.3.4' port='x' priority='1'/></transport></content></jingle>`, want: jingle.ErrInvalidValue, where: `content 1 "audio": transport: candidate 1: port="x"`},
	7:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a' senders='everybody'/></jingle>`, want: jingle.ErrInvalidValue, where: `senders="everybody"`},
	8:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><bandwidth type='AS'>lots</bandwidth></description></content></jingle>`, want: jingle.ErrInvalidValue, where: "bandwidth"},
	9:  {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='-1'/></ssrc-group></description></content></jingle>`, want: jingle.ErrInvalidValue, where: "ssrc-group 1: source 1"},
	10: {in: `<jingle xmlns='urn:xmpp:jingle:1'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'><rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' uri='x'/></description></content></jingle>`, want: jingle.ErrMissingAttribute, where: "rtp-hdrext 1: id"},
}

func TestErrors(t *testing.T) {
	for i, tc := range errorTests {
		_, err := jingle.Unmarshal([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%d: got %v, want %v", i, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.where) {
			t.Errorf("%d: error %q does not say %q", i, err, tc.where)
		}
	}
	if _, err := jingle.ParseAction("session-explode"); !errors.Is(err, jingle.ErrUnknownAction) {
		t.Errorf("ParseAction: got %v, want ErrUnknownAction", err)
	}
	if _, err := jingle.ActionUnknown.MarshalText(); !errors.Is(err, jingle.ErrUnknownAction) {
		t.Errorf("MarshalText: got %v, want ErrUnknownAction", err)
	}
	if _, err := jingle.UnmarshalJMI([]byte(`<message/>`)); !errors.Is(err, jingle.ErrNoJingle) {
		t.Errorf("UnmarshalJMI: got %v, want ErrNoJingle", err)
	}
}

func TestEnums(t *testing.T) {
	for a := jingle.ActionContentAccept; a <= jingle.ActionSourceRemove; a++ {
		p, err := jingle.ParseAction(a.String())
		if err != nil || p != a {
			t.Errorf("action %d %q: parsed %v, %v", int(a), a, p, err)
		}
		var u jingle.Action
		b, _ := a.MarshalText()
		if err := u.UnmarshalText(b); err != nil || u != a {
			t.Errorf("action %q text round trip: %v %v", a, u, err)
		}
	}
	for c := jingle.ReasonAlternativeSession; c <= jingle.ReasonUnsupportedTransports; c++ {
		if p, err := jingle.ParseReasonCondition(c.String()); err != nil || p != c {
			t.Errorf("reason %q: %v %v", c, p, err)
		}
	}
	for _, r := range []jingle.Role{jingle.RoleInitiator, jingle.RoleResponder} {
		if p, err := jingle.ParseRole(r.String()); err != nil || p != r || r.Other().Other() != r {
			t.Errorf("role %q: %v %v", r, p, err)
		}
	}
	for s := jingle.SendersBoth; s <= jingle.SendersNone; s++ {
		if p, err := jingle.ParseSenders(s.String()); err != nil || p != s {
			t.Errorf("senders %q: %v %v", s, p, err)
		}
	}
	for k := jingle.InfoActive; k <= jingle.InfoRinging; k++ {
		if p, err := jingle.ParseInfoKind(k.String()); err != nil || p != k {
			t.Errorf("info %q: %v %v", k, p, err)
		}
	}
	for k := jingle.JMIPropose; k <= jingle.JMIFinish; k++ {
		if p, err := jingle.ParseJMIKind(k.String()); err != nil || p != k {
			t.Errorf("jmi %q: %v %v", k, p, err)
		}
	}
	for c := jingle.CondOutOfOrder; c <= jingle.CondInvalidCrypto; c++ {
		if p, err := jingle.ParseErrorCondition(c.String()); err != nil || p != c {
			t.Errorf("condition %q: %v %v", c, p, err)
		}
	}
	if jingle.ActionUnknown.String() != "" || jingle.Action(99).String() != "" || jingle.SendersUnknown.OrBoth() != jingle.SendersBoth {
		t.Error("zero values")
	}
	if !jingle.ActionSessionInitiate.IsOffer() || !jingle.ActionContentAccept.IsAnswer() || jingle.ActionTransportInfo.IsOffer() {
		t.Error("IsOffer/IsAnswer")
	}
}

func TestSessionInfo(t *testing.T) {
	for _, in := range []string{
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>`,
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><mute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='responder' name='voice'/></jingle>`,
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><unhold xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>`,
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><active xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>`,
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><hold xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>`,
		`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><unmute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='initiator'/></jingle>`,
	} {
		j, err := jingle.Unmarshal([]byte(in))
		if err != nil || j.Info == nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := jingle.Marshal(j)
		if string(out) != in {
			t.Errorf("round trip:\n got %s\nwant %s", out, in)
		}
	}
	// An unknown informational payload is not an error (XEP-0166 says to
	// answer it with unsupported-info).
	j, err := jingle.Unmarshal([]byte(`<jingle xmlns='urn:xmpp:jingle:1' action='session-info'><paused xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>`))
	if err != nil || j.Info != nil {
		t.Errorf("unknown session-info: %v %+v", err, j.Info)
	}
}

func TestJMI(t *testing.T) {
	tests := []struct {
		in   string
		want jingle.JMI
	}{
		{
			in:   `<message from='test_b@conversations.im/monocles chat.le6mbS8fo2' id='jm-propose-eCo2CGR4FhcsTm1ygKdkWw' to='test_a@conversations.im' type='chat' xml:lang='en' xmlns='jabber:client'><archived by='test_a@conversations.im' id='1771827109444988' xmlns='urn:xmpp:mam:tmp'/><propose id='eCo2CGR4FhcsTm1ygKdkWw' xmlns='urn:xmpp:jingle-message:0'><description media='audio' xmlns='urn:xmpp:jingle:apps:rtp:1'/><description media='video' xmlns='urn:xmpp:jingle:apps:rtp:1'/></propose><store xmlns='urn:xmpp:hints'/><delay from='conversations.im' stamp='2026-02-23T06:11:49.446073Z' xmlns='urn:xmpp:delay'>Resent</delay></message>`,
			want: jingle.JMI{Kind: jingle.JMIPropose, ID: "eCo2CGR4FhcsTm1ygKdkWw", Descriptions: []jingle.Description{{Media: "audio"}, {Media: "video"}}},
		},
		{
			in:   `<reject xmlns='urn:xmpp:jingle-message:0' id='a73sjjvkla37jfea'><reason xmlns="urn:xmpp:jingle:1"><text>Busy</text><busy/></reason><tie-break/></reject>`,
			want: jingle.JMI{Kind: jingle.JMIReject, ID: "a73sjjvkla37jfea", Reason: &jingle.Reason{Condition: jingle.ReasonBusy, Text: "Busy"}, TieBreak: true},
		},
		{
			in:   `<finish xmlns='urn:xmpp:jingle-message:0' id='a73sjjvkla37jfea'><reason xmlns="urn:xmpp:jingle:1"><text>Success</text><success/></reason><migrated to='989a46a6-f202-4910-a7c3-83c6ba3f3947'/></finish>`,
			want: jingle.JMI{Kind: jingle.JMIFinish, ID: "a73sjjvkla37jfea", Reason: &jingle.Reason{Condition: jingle.ReasonSuccess, Text: "Success"}, MigratedTo: "989a46a6-f202-4910-a7c3-83c6ba3f3947"},
		},
		{
			in:   `<message type='chat'><proceed xmlns='urn:xmpp:jingle-message:0' id='ca3c'/><store xmlns="urn:xmpp:hints"/></message>`,
			want: jingle.JMI{Kind: jingle.JMIProceed, ID: "ca3c"},
		},
	}
	for i, tc := range tests {
		got, err := jingle.UnmarshalJMI([]byte(tc.in))
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%d: got %+v, want %+v", i, *got, tc.want)
		}
		b, _ := jingle.Marshal(got)
		again, err := jingle.UnmarshalJMI(b)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%d: round trip %s: %v", i, b, err)
		}
	}
	_, err := jingle.UnmarshalJMI([]byte(`<message><retract xmlns='urn:xmpp:jingle-message:0' id='f'><tie-break/></reject></message>`))
	if !errors.Is(err, jingle.ErrMalformedXML) {
		t.Errorf("malformed retract: got %v", err)
	}
	msg := jingle.Message{Message: stanza.Message{Type: stanza.ChatMessage, To: jid.MustParse("juliet@capulet.example")}, JMI: jingle.JMI{Kind: jingle.JMIRinging, ID: "x"}}
	b, err := jingle.Marshal(msg)
	if err != nil || !bytes.Contains(b, []byte(`<ringing xmlns='urn:xmpp:jingle-message:0' id='x'/>`)) {
		t.Errorf("Message: %s %v", b, err)
	}
}

func TestErrorReply(t *testing.T) {
	iq := stanza.IQ{ID: "x1", Type: stanza.SetIQ, From: jid.MustParse("romeo@montague.lit/orchard"), To: jid.MustParse("juliet@capulet.lit/balcony")}
	b, err := jingle.Marshal(readerOf{jingle.ErrorReply(iq, jingle.CondUnknownSession)})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`type='error'`, `to='romeo@montague.lit/orchard'`, `<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>`, `<unknown-session xmlns='urn:xmpp:jingle:errors:1'/>`, `type='cancel'`} {
		if !strings.Contains(s, want) {
			t.Errorf("ErrorReply lacks %s:\n%s", want, s)
		}
	}
	if jingle.CondTieBreak.StanzaError().Condition != stanza.Conflict || jingle.CondOutOfOrder.StanzaError().Condition != stanza.UnexpectedRequest {
		t.Error("stanza error mapping")
	}
}

type readerOf struct{ r xml.TokenReader }

func (r readerOf) TokenReader() xml.TokenReader { return r.r }
