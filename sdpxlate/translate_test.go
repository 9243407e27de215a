package sdpxlate_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
	"github.com/pion/sdp/v3"
)

func lines(l ...string) string { return strings.Join(l, "\r\n") + "\r\n" }

var sessionHead = []string{"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0"}

func session(l ...string) string { return lines(append(append([]string{}, sessionHead...), l...)...) }

// offer is a small browser offer used by several tests.
var offer = session(
	"a=group:BUNDLE 0 1 2",
	"a=extmap-allow-mixed",
	"a=msid-semantic: WMS s1",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
	"c=IN IP4 0.0.0.0",
	"a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host generation 0 network-id 1 network-cost 10",
	"a=candidate:2 1 udp 1686052607 198.51.100.7 50001 typ srflx raddr 192.0.2.1 rport 50000 generation 0 network-id 1",
	"a=ice-ufrag:uf1",
	"a=ice-pwd:pwd1pwd1pwd1pwd1pwd1pwd1",
	"a=ice-options:trickle",
	"a=fingerprint:sha-256 AA:BB:CC:DD",
	"a=setup:actpass",
	"a=mid:0",
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
	"a=sendrecv",
	"a=msid:s1 a1",
	"a=rtcp-mux",
	"a=rtpmap:111 opus/48000/2",
	"a=rtcp-fb:111 transport-cc",
	"a=fmtp:111 minptime=10;useinbandfec=1",
	"a=rtpmap:0 PCMU/8000",
	"a=ssrc:1001 cname:c1",
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97",
	"c=IN IP4 0.0.0.0",
	"a=ice-ufrag:uf1",
	"a=ice-pwd:pwd1pwd1pwd1pwd1pwd1pwd1",
	"a=ice-options:trickle",
	"a=fingerprint:sha-256 AA:BB:CC:DD",
	"a=setup:actpass",
	"a=mid:1",
	"a=extmap:2/sendonly urn:3gpp:video-orientation",
	"a=sendonly",
	"a=msid:s1 v1",
	"a=rtcp-mux",
	"a=rtcp-rsize",
	"a=rtpmap:96 VP8/90000",
	"a=rtcp-fb:96 nack pli",
	"a=rtcp-fb:* ccm fir",
	"a=rtpmap:97 rtx/90000",
	"a=fmtp:97 apt=96",
	"a=ssrc-group:FID 2001 2002",
	"a=ssrc:2001 cname:c1",
	"a=ssrc:2001 msid:s1 v1",
	"a=ssrc:2002 cname:c1",
	"a=ssrc:2002 msid:s1 v1",
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
	"c=IN IP4 0.0.0.0",
	"a=ice-ufrag:uf1",
	"a=ice-pwd:pwd1pwd1pwd1pwd1pwd1pwd1",
	"a=fingerprint:sha-256 AA:BB:CC:DD",
	"a=setup:actpass",
	"a=mid:2",
	"a=sctp-port:5000",
	"a=max-message-size:262144",
)

func mustParse(t testing.TB, text string) *sdp.SessionDescription {
	t.Helper()
	sd, err := sdpxlate.ParseSDP(text)
	if err != nil {
		t.Fatalf("ParseSDP: %v\n%s", err, text)
	}
	return sd
}

func toJingle(t testing.TB, text string, opts sdpxlate.ToJingleOptions) (*jingle.Jingle, []sdpxlate.Loss) {
	t.Helper()
	var losses []sdpxlate.Loss
	opts.OnLoss = func(l sdpxlate.Loss) { losses = append(losses, l) }
	j, err := sdpxlate.SDPToJingle(mustParse(t, text), opts)
	if err != nil {
		t.Fatalf("SDPToJingle: %v", err)
	}
	return j, losses
}

func toSDP(t testing.TB, j *jingle.Jingle, opts sdpxlate.ToSDPOptions) (*sdp.SessionDescription, []sdpxlate.Loss) {
	t.Helper()
	var losses []sdpxlate.Loss
	opts.OnLoss = func(l sdpxlate.Loss) { losses = append(losses, l) }
	sd, err := sdpxlate.JingleToSDP(j, opts)
	if err != nil {
		t.Fatalf("JingleToSDP: %v", err)
	}
	text, err := sdpxlate.MarshalSDP(sd)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, text), losses
}

func hasLoss(losses []sdpxlate.Loss, what string) bool {
	for _, l := range losses {
		if strings.Contains(l.What, what) {
			return true
		}
	}
	return false
}

func attrs(md *sdp.MediaDescription, key string) []string {
	var v []string
	for _, a := range md.Attributes {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return v
}

// TestRoundTrip is the table of hand-written SDPs, one feature each, that
// must survive SDP -> Jingle -> XML -> Jingle -> SDP.
func TestRoundTrip(t *testing.T) {
	tests := map[string]string{
		"browser offer": offer,
		"session-level ICE and DTLS (Firefox)": session(
			"a=fingerprint:sha-256 EB:A9", "a=setup:actpass", "a=ice-ufrag:u", "a=ice-pwd:p", "a=ice-options:trickle", "a=sendrecv",
			"m=audio 9 UDP/TLS/RTP/SAVPF 109", "c=IN IP4 0.0.0.0", "a=mid:sdparta_0", "a=rtpmap:109 opus/48000/2"),
		"ice-lite": session("a=ice-lite", "m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=ice-ufrag:u", "a=ice-pwd:p", "a=fingerprint:sha-256 AA", "a=setup:passive", "a=mid:a"),
		"rtcp-fb wildcard and trr-int": session(
			"m=video 9 RTP/AVPF 96", "c=IN IP4 0.0.0.0", "a=mid:v", "a=rtpmap:96 VP8/90000",
			"a=rtcp-fb:* trr-int 5", "a=rtcp-fb:* ccm tmmbr smaxpr=120", "a=rtcp-fb:96 nack sli", "a=rtcp-fb:96 trr-int 100"),
		"extmap direction and attributes": session(
			"m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=extmap:1/recvonly urn:x vad=on", "a=extmap:3 urn:y flag", "a=extmap-allow-mixed"),
		"session-level extmap": session("a=extmap:5 urn:z", "a=extmap-allow-mixed", "m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a"),
		"ptime, maxptime, bandwidth": session(
			"m=audio 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "b=AS:64", "b=TIAS:64000", "a=mid:a", "a=rtpmap:96 speex/16000", "a=ptime:40", "a=maxptime:120", "a=fmtp:96 vbr=on;cng=on"),
		"static payload type without rtpmap": session("m=audio 9 RTP/AVP 0 8", "c=IN IP4 0.0.0.0", "a=mid:a"),
		"candidates of every kind": session(
			"m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=ice-ufrag:u", "a=ice-pwd:p", "a=rtcp-mux", "a=fingerprint:sha-1 AA:01",
			"a=candidate:0 1 UDP 2122252543 78677bb1-7843-4445-b8e7-44449283c4e1.local 38038 typ host",
			"a=candidate:3 1 TCP 2105524479 192.0.2.9 9 typ host tcptype active",
			"a=candidate:1 1 UDP 1686052863 198.51.100.1 38038 typ srflx raddr 0.0.0.0 rport 0",
			"a=candidate:4 2 udp 8331263 203.0.113.4 55366 typ relay raddr 203.0.113.4 rport 55366 generation 3 network-id 2 network-cost 50",
			"a=end-of-candidates"),
		"data channel, old syntax": session(
			"m=application 9 DTLS/SCTP 5000", "c=IN IP4 0.0.0.0", "a=mid:d", "a=ice-ufrag:u", "a=ice-pwd:p",
			"a=fingerprint:sha-256 AA", "a=setup:actpass", "a=sctpmap:5000 webrtc-datachannel 1024", "a=max-message-size:1073741823"),
		"plain RTP (SIP)": session("c=IN IP4 192.0.2.7", "m=audio 49170 RTP/AVP 0", "a=rtcp:49200"),
		"ssrc without msid gets the media's": session(
			"m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:v", "a=ice-ufrag:u", "a=ice-pwd:p", "a=fingerprint:sha-256 AA",
			"a=setup:active", "a=msid:- t", "a=rtpmap:96 VP8/90000", "a=ssrc:5 cname:c", "a=ssrc:6 cname:c", "a=ssrc:7 cname:c", "a=ssrc-group:FID 5 6", "a=ssrc-group:FEC-FR 5 7"),
		"groups": session("a=group:BUNDLE a v", "a=group:LS a v",
			"m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "a=mid:v", "a=rtpmap:96 VP8/90000"),
		"inactive and recvonly": session(
			"m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=inactive", "m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "a=mid:v", "a=recvonly", "a=rtpmap:96 VP8/90000"),
	}
	for name, text := range tests {
		for _, role := range []jingle.Role{jingle.RoleInitiator, jingle.RoleResponder} {
			t.Run(name+"/"+role.String(), func(t *testing.T) {
				typ := sdpxlate.SDPTypeOffer
				if role == jingle.RoleResponder {
					typ = sdpxlate.SDPTypeAnswer
				}
				sd := mustParse(t, text)
				mo := modelOpts{role: role, typ: typ}
				want := modelSDP(sd, mo)
				if strings.Contains(text, "a=setup:actpass") && typ == sdpxlate.SDPTypeAnswer {
					t.Skip("an answer cannot say actpass")
				}
				j, _ := toJingle(t, text, sdpxlate.ToJingleOptions{Role: role})
				if d := diffModels(want, modelJingle(j, mo)); d != "" {
					t.Errorf("to Jingle:\n%s", d)
				}
				x, _ := jingle.Marshal(j)
				j2, err := jingle.Unmarshal(x)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(j, j2) {
					t.Errorf("XML round trip changed the element:\n%s", x)
				}
				back, _ := toSDP(t, j2, sdpxlate.ToSDPOptions{Role: role, Type: typ})
				if d := diffModels(want, modelSDP(back, mo)); d != "" {
					t.Errorf("back to SDP:\n%s", d)
				}
			})
		}
	}
}

func TestDirections(t *testing.T) {
	want := map[jingle.Role]map[string]jingle.Senders{
		jingle.RoleInitiator: {"sendrecv": jingle.SendersBoth, "sendonly": jingle.SendersInitiator, "recvonly": jingle.SendersResponder, "inactive": jingle.SendersNone},
		jingle.RoleResponder: {"sendrecv": jingle.SendersBoth, "sendonly": jingle.SendersResponder, "recvonly": jingle.SendersInitiator, "inactive": jingle.SendersNone},
	}
	for role, m := range want {
		for dir, senders := range m {
			text := session("m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=extmap:1/"+dir+" urn:x", "a="+dir)
			j, _ := toJingle(t, text, sdpxlate.ToJingleOptions{Role: role})
			c := j.Contents[0]
			if c.Senders != senders {
				t.Errorf("%s %s: senders %s, want %s", role, dir, c.Senders, senders)
			}
			if dir != "sendrecv" && c.Description.HeaderExtensions[0].Senders != senders {
				t.Errorf("%s extmap/%s: senders %s, want %s", role, dir, c.Description.HeaderExtensions[0].Senders, senders)
			}
			back, _ := toSDP(t, j, sdpxlate.ToSDPOptions{Role: role})
			if got := attrs(back.MediaDescriptions[0], dir); len(got) != 1 {
				t.Errorf("%s %s: back to SDP lost the direction", role, dir)
			}
		}
	}
	// The role is derived from the action when not given.
	j, _ := toJingle(t, session("m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=sendonly"), sdpxlate.ToJingleOptions{Role: jingle.RoleResponder})
	if j.Action != jingle.ActionSessionAccept {
		t.Errorf("responder default action = %s", j.Action)
	}
	back, _ := toSDP(t, j, sdpxlate.ToSDPOptions{})
	if len(attrs(back.MediaDescriptions[0], "sendonly")) != 1 {
		t.Error("session-accept: the responder's sendonly did not come back")
	}
}

func TestSetup(t *testing.T) {
	fp := func(setup string) *jingle.Jingle {
		return &jingle.Jingle{Contents: []jingle.Content{{Name: "a",
			Description: &jingle.Description{Media: "audio", PayloadTypes: []jingle.PayloadType{{ID: 0}}},
			Transport:   &jingle.Transport{Ufrag: "u", Pwd: "p", Fingerprints: []jingle.Fingerprint{{Hash: "sha-256", Value: "AA", Setup: setup}}},
		}}}
	}
	tests := []struct {
		setup string
		typ   sdpxlate.SDPType
		want  string
		loss  bool
	}{
		{"", sdpxlate.SDPTypeOffer, "actpass", false},
		{"", sdpxlate.SDPTypeAnswer, "active", false},
		{"actpass", sdpxlate.SDPTypeAnswer, "active", true},
		{"passive", sdpxlate.SDPTypeAnswer, "passive", false},
		{"active", sdpxlate.SDPTypeOffer, "active", false},
	}
	for _, tc := range tests {
		sd, losses := toSDP(t, fp(tc.setup), sdpxlate.ToSDPOptions{Type: tc.typ})
		if got := attrs(sd.MediaDescriptions[0], "setup"); len(got) != 1 || got[0] != tc.want {
			t.Errorf("setup %q in an %s: got %v, want %s", tc.setup, tc.typ, got, tc.want)
		}
		if hasLoss(losses, "setup") != tc.loss {
			t.Errorf("setup %q in an %s: loss reported %v", tc.setup, tc.typ, !tc.loss)
		}
	}
}

func TestLosses(t *testing.T) {
	text := session("a=rtcp-xr:rcvr-rtt=all",
		"m=video 9 RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:v",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETSECRETSECRETSECRETSECRETSECRETSECR",
		"a=rtpmap:96 VP8/90000", "a=rid:1 send", "a=rid:2 send", "a=simulcast:send 1;2", "a=imageattr:96 send [x=320,y=180]",
		"a=ptime:0.5",
		"m=audio 0 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:gone",
		"m=text 9 RTP/AVP 98", "c=IN IP4 0.0.0.0", "a=mid:t")
	j, losses := toJingle(t, text, sdpxlate.ToJingleOptions{})
	for _, what := range []string{"a=rtcp-xr", "a=crypto:1 AES_CM_128_HMAC_SHA1_80", "a=rid:1 send", "a=simulcast", "a=imageattr", "a=ptime:0.5", "m=audio 0", "m=text"} {
		if !hasLoss(losses, what) {
			t.Errorf("no loss reported for %s: %v", what, losses)
		}
	}
	for _, l := range losses {
		if strings.Contains(l.String(), "SECRET") {
			t.Errorf("a loss leaks the SDES key: %s", l)
		}
	}
	if len(j.Contents) != 1 || j.Contents[0].Name != "v" {
		t.Errorf("contents: %+v", j.Contents)
	}
	// SDES without DTLS: the profile no longer matches.
	_, losses = toSDP(t, j, sdpxlate.ToSDPOptions{})
	if !hasLoss(losses, "profile") {
		t.Errorf("no loss for the RTP/SAVPF profile without DTLS: %v", losses)
	}
	// SDES in Jingle.
	jj := &jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: &jingle.Description{Media: "audio",
		PayloadTypes: []jingle.PayloadType{{ID: 0}}, Encryption: &jingle.Encryption{Crypto: []jingle.Crypto{{Suite: "x", KeyParams: "inline:y", Tag: "1"}}}}}}}
	_, losses = toSDP(t, jj, sdpxlate.ToSDPOptions{})
	if !hasLoss(losses, "SDES") {
		t.Errorf("no loss for <encryption/>: %v", losses)
	}
}

func TestMDNSPolicy(t *testing.T) {
	text := session("m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=ice-ufrag:u", "a=ice-pwd:p",
		"a=candidate:0 1 UDP 2122252543 78677bb1-7843-4445-b8e7-44449283c4e1.local 38038 typ host",
		"a=candidate:1 1 UDP 1686052863 198.51.100.1 38038 typ srflx raddr 0.0.0.0 rport 0")
	j, _ := toJingle(t, text, sdpxlate.ToJingleOptions{})
	if got := j.Contents[0].Transport.Candidates[0].IP; got != "78677bb1-7843-4445-b8e7-44449283c4e1.local" {
		t.Errorf("keep: ip %q", got)
	}
	sd, _ := toSDP(t, j, sdpxlate.ToSDPOptions{})
	if len(attrs(sd.MediaDescriptions[0], "candidate")) != 2 {
		t.Error("keep: the mDNS candidate did not come back")
	}
	jd, losses := toJingle(t, text, sdpxlate.ToJingleOptions{MDNS: sdpxlate.MDNSDrop})
	if len(jd.Contents[0].Transport.Candidates) != 1 || !hasLoss(losses, ".local") {
		t.Errorf("drop: %v %v", jd.Contents[0].Transport.Candidates, losses)
	}
	sd, losses = toSDP(t, j, sdpxlate.ToSDPOptions{MDNS: sdpxlate.MDNSDrop})
	if len(attrs(sd.MediaDescriptions[0], "candidate")) != 1 || !hasLoss(losses, ".local") {
		t.Error("drop: the mDNS candidate went to SDP")
	}
	if sdpxlate.MDNSKeep.String() != "keep" || sdpxlate.MDNSDrop.String() != "drop" {
		t.Error("MDNSPolicy.String")
	}
}

func TestDataChannelSyntax(t *testing.T) {
	j, _ := toJingle(t, session("m=application 9 DTLS/SCTP 5000", "c=IN IP4 0.0.0.0", "a=mid:d", "a=ice-ufrag:u", "a=ice-pwd:p",
		"a=sctpmap:5000 webrtc-datachannel 1024"), sdpxlate.ToJingleOptions{})
	sm := j.Contents[0].Transport.SCTPMap
	if j.Contents[0].Description != nil || sm == nil || sm.Number != 5000 || sm.Streams != 1024 {
		t.Fatalf("sctpmap: %+v", sm)
	}
	sd, _ := toSDP(t, j, sdpxlate.ToSDPOptions{})
	md := sd.MediaDescriptions[0]
	if strings.Join(md.MediaName.Protos, "/") != "UDP/DTLS/SCTP" || md.MediaName.Formats[0] != "webrtc-datachannel" || attrs(md, "sctp-port")[0] != "5000" {
		t.Errorf("not the current syntax: %+v %v", md.MediaName, md.Attributes)
	}
}

func TestMSIDTrim(t *testing.T) {
	j := &jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: &jingle.Description{Media: "audio",
		PayloadTypes: []jingle.PayloadType{{ID: 0}},
		Sources:      []jingle.Source{{SSRC: 5, Parameters: []jingle.Parameter{{Name: "cname", Value: "c"}, {Name: "msid", Value: " stream  track "}}}}}}}}
	sd, _ := toSDP(t, j, sdpxlate.ToSDPOptions{})
	md := sd.MediaDescriptions[0]
	if got := attrs(md, "msid"); len(got) != 1 || got[0] != "stream track" {
		t.Errorf("a=msid %q", got)
	}
	for _, v := range attrs(md, "ssrc") {
		if strings.HasSuffix(v, " ") || strings.Contains(v, "  ") {
			t.Errorf("a=ssrc:%q keeps the spaces", v)
		}
	}
}

func TestPriorityAbove32Bits(t *testing.T) {
	c, _, err := sdpxlate.ParseCandidate("candidate:1 1 udp 21149780477 2001:db8::9:1 9001 typ host")
	if err != nil || c.Priority != 21149780477 {
		t.Fatalf("ParseCandidate: %+v %v", c, err)
	}
	j := &jingle.Jingle{Contents: []jingle.Content{{Name: "a", Description: &jingle.Description{Media: "audio", PayloadTypes: []jingle.PayloadType{{ID: 0}}},
		Transport: &jingle.Transport{Ufrag: "u", Pwd: "p", Candidates: []jingle.Candidate{c}}}}}
	sd, losses := toSDP(t, j, sdpxlate.ToSDPOptions{})
	if got := attrs(sd.MediaDescriptions[0], "candidate"); len(got) != 1 || !strings.Contains(got[0], " 4294967295 ") || !hasLoss(losses, "priority") {
		t.Errorf("priority not clamped: %v %v", got, losses)
	}
}

func TestAnswerFollowsOffer(t *testing.T) {
	o := mustParse(t, offer)
	// The peer accepts audio only, and lists it under another order.
	j := &jingle.Jingle{Action: jingle.ActionSessionAccept, Contents: []jingle.Content{{Creator: jingle.RoleInitiator, Name: "0", Senders: jingle.SendersBoth,
		Description: &jingle.Description{Media: "audio", PayloadTypes: []jingle.PayloadType{{ID: 111, Name: "opus", ClockRate: 48000, Channels: 2}}},
		Transport:   &jingle.Transport{Ufrag: "r", Pwd: "rp", Fingerprints: []jingle.Fingerprint{{Hash: "sha-256", Value: "EE", Setup: "active"}}},
	}}, Groups: []jingle.Group{{Semantics: "BUNDLE", Contents: []string{"0"}}}}
	sd, losses := toSDP(t, j, sdpxlate.ToSDPOptions{Offer: o})
	if len(sd.MediaDescriptions) != 3 {
		t.Fatalf("%d m-sections, want the offer's 3", len(sd.MediaDescriptions))
	}
	for i, mid := range []string{"0", "1", "2"} {
		md := sd.MediaDescriptions[i]
		if got := attrs(md, "mid"); len(got) != 1 || got[0] != mid {
			t.Errorf("m-section %d: mid %v", i, got)
		}
		if rejected := md.MediaName.Port.Value == 0; rejected != (i > 0) {
			t.Errorf("m-section %d: port %d", i, md.MediaName.Port.Value)
		}
	}
	if !hasLoss(losses, "offered m-section") {
		t.Error("no loss for the rejected m-sections")
	}
	if g, _ := sd.Attribute("group"); g != "BUNDLE 0" {
		t.Errorf("group %q", g)
	}
	// A content the offer does not have is an error.
	j.Contents[0].Name = "9"
	if _, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{Offer: o}); !errors.Is(err, sdpxlate.ErrUnknownContent) {
		t.Errorf("content not in the offer: %v", err)
	}
}

func TestCreators(t *testing.T) {
	j, _ := toJingle(t, offer, sdpxlate.ToJingleOptions{Action: jingle.ActionContentAdd, Role: jingle.RoleResponder, Creators: map[string]jingle.Role{"0": jingle.RoleInitiator}})
	if j.Contents[0].Creator != jingle.RoleInitiator || j.Contents[1].Creator != jingle.RoleResponder {
		t.Errorf("creators: %s %s", j.Contents[0].Creator, j.Contents[1].Creator)
	}
	j, _ = toJingle(t, offer, sdpxlate.ToJingleOptions{SID: "s", Initiator: "a@b/c", Responder: "d@e/f"})
	if j.SID != "s" || j.Initiator != "a@b/c" || j.Responder != "d@e/f" || j.Contents[2].Creator != jingle.RoleInitiator {
		t.Errorf("header: %+v", j)
	}
}

func TestParseSDPLeniency(t *testing.T) {
	tests := map[string]string{
		"LF and indentation":     "    v=0\n o=- 1 1 IN IP4 0.0.0.0\n s=-\n t=0 0\n m=audio 9 RTP/AVP 0\n",
		"no final line end":      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0",
		"c= after t=":            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nc=IN IP4 192.0.2.1\nm=audio 9 RTP/AVP 0\n",
		"bare media section":     "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
		"blank lines and spaces": "v=0\n\no=- 1 1 IN IP4 0.0.0.0  \ns=-\nt=0 0\n\nm=audio 9 RTP/AVP 0\n\n",
	}
	for name, text := range tests {
		if _, err := sdpxlate.ParseSDP(text); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMids: content names browsers refuse as a=mid get short mids, and the
// way back restores the names.
func TestMids(t *testing.T) {
	long := "this-is-the-audio-content"
	j := &jingle.Jingle{Action: jingle.ActionSessionInitiate, Contents: []jingle.Content{{Name: long, Description: pcmu(),
		Transport: &jingle.Transport{Ufrag: "uuuu", Pwd: "pppppppppppppppppppppp", Fingerprints: []jingle.Fingerprint{{Hash: "sha-256", Value: "AA"}},
			Candidates: []jingle.Candidate{{Component: 1, Foundation: "1", IP: "192.0.2.1", Port: 9, Priority: 1, Protocol: "udp", Type: "host"}}}},
		{Name: "video", Description: &jingle.Description{Media: "video", PayloadTypes: []jingle.PayloadType{{ID: 96, Name: "VP8", ClockRate: 90000}}}}},
		Groups: []jingle.Group{{Semantics: "BUNDLE", Contents: []string{long, "video"}}}}
	mids := sdpxlate.SDPMids(j)
	mid := mids[long]
	if len(mids) != 1 || mid == "" || len(mid) > sdpxlate.MaxMidLength {
		t.Fatalf("SDPMids = %v", mids)
	}
	sd, losses := toSDP(t, j, sdpxlate.ToSDPOptions{})
	if got := attrs(sd.MediaDescriptions[0], "mid"); len(got) != 1 || got[0] != mid || !hasLoss(losses, "a=mid") {
		t.Errorf("a=mid %v, losses %v", got, losses)
	}
	if g, _ := sd.Attribute("group"); g != "BUNDLE "+mid+" video" {
		t.Errorf("group %q", g)
	}
	back, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{Names: sdpxlate.Invert(mids)})
	if err != nil || back.Contents[0].Name != long || back.Groups[0].Contents[0] != long {
		t.Errorf("names not restored: %+v %v", back, err)
	}
	cands, _ := sdpxlate.JingleCandidatesToSDP(j, sdpxlate.ToSDPOptions{})
	if len(cands) != 1 || cands[0].SDPMid != mid {
		t.Errorf("candidate mid: %+v", cands)
	}
	ti, err := sdpxlate.CandidatesToTransportInfo(cands, sdpxlate.TransportInfoOptions{Names: sdpxlate.Invert(mids)})
	if err != nil || ti.Contents[0].Name != long {
		t.Errorf("transport-info name: %+v %v", ti, err)
	}
	// Callers can choose the mids.
	sd, _ = toSDP(t, j, sdpxlate.ToSDPOptions{Mids: map[string]string{long: "audio"}})
	if got := attrs(sd.MediaDescriptions[0], "mid"); got[0] != "audio" {
		t.Errorf("Mids option: %v", got)
	}
}

// TestBrowserRequirements: what libwebrtc refuses is fixed or reported.
func TestBrowserRequirements(t *testing.T) {
	track := func(ssrc uint32, msid string) jingle.Source {
		return jingle.Source{SSRC: ssrc, Parameters: []jingle.Parameter{{Name: "cname", Value: "c"}, {Name: "msid", Value: msid}}}
	}
	j := &jingle.Jingle{Contents: []jingle.Content{{Name: "v", Description: &jingle.Description{Media: "video",
		PayloadTypes: []jingle.PayloadType{{ID: 96, Name: "VP8", ClockRate: 90000}},
		Sources:      []jingle.Source{track(1, "s a"), track(2, "s a"), track(3, "t b"), track(4, "t b")},
		SourceGroups: []jingle.SourceGroup{{Semantics: "FID", SSRCs: []uint32{1, 2}}, {Semantics: "FID", SSRCs: []uint32{3, 4}}}},
		Transport: &jingle.Transport{Ufrag: "u", Pwd: "short"}}, {Name: "empty", Description: &jingle.Description{Media: "audio"}}}}
	sd, losses := toSDP(t, j, sdpxlate.ToSDPOptions{})
	if len(sd.MediaDescriptions) != 1 {
		t.Fatalf("the description without payload types made an m= line")
	}
	md := sd.MediaDescriptions[0]
	if len(attrs(md, "rtcp-mux")) != 1 || !hasLoss(losses, "rtcp-mux") {
		t.Error("rtcp-mux not added")
	}
	if m := attrs(md, "msid"); len(m) != 1 || m[0] != "s a" {
		t.Errorf("a=msid %v", m)
	}
	if g := attrs(md, "ssrc-group"); len(g) != 1 || g[0] != "FID 1 2" {
		t.Errorf("groups %v", g)
	}
	for _, what := range []string{"source 3", "source 4", "ssrc-group FID", "DTLS fingerprint", "ice-pwd", "ice-ufrag", "description"} {
		if !hasLoss(losses, what) {
			t.Errorf("no report for %s: %v", what, losses)
		}
	}
}
