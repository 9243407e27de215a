package sdpxlate_test

import (
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

func TestDiff(t *testing.T) {
	old := mustParse(t, offer)
	// Video goes sendrecv, audio loses PCMU, data goes away, a second video
	// is added and ICE restarts.
	text := offer
	text = strings.Replace(text, "a=sendonly", "a=sendrecv", 1)
	text = strings.Replace(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0", "m=audio 9 UDP/TLS/RTP/SAVPF 111", 1)
	text = strings.Replace(text, "a=rtpmap:0 PCMU/8000\r\n", "", 1)
	text = strings.Replace(text, "m=application 9", "m=application 0", 1)
	text = strings.Replace(text, "a=ice-ufrag:uf1", "a=ice-ufrag:uf9", 1)
	text = strings.Replace(text, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 3", 1)
	text += lines("m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=ice-ufrag:uf1", "a=ice-pwd:pwd1pwd1pwd1pwd1pwd1pwd1",
		"a=fingerprint:sha-256 AA:BB:CC:DD", "a=setup:actpass", "a=mid:3", "a=recvonly", "a=rtcp-mux", "a=rtpmap:96 VP8/90000")
	cur := mustParse(t, text)
	msgs, err := sdpxlate.Diff(old, cur, sdpxlate.ToJingleOptions{Role: jingle.RoleResponder, SID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, m := range msgs {
		actions = append(actions, m.Action.String())
		if m.SID != "s" {
			t.Errorf("%s without sid", m.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "content-remove content-modify description-info content-add transport-info" {
		t.Fatalf("actions: %s", got)
	}
	if c := msgs[0].Contents; len(c) != 1 || c[0].Name != "2" {
		t.Errorf("content-remove: %+v", c)
	}
	if c := msgs[1].Contents; len(c) != 1 || c[0].Name != "1" || c[0].Senders != jingle.SendersBoth {
		t.Errorf("content-modify: %+v", c)
	}
	if c := msgs[2].Contents; len(c) != 1 || c[0].Name != "0" || len(c[0].Description.PayloadTypes) != 1 {
		t.Errorf("description-info: %+v", c)
	}
	if c := msgs[3].Contents; len(c) != 1 || c[0].Name != "3" || c[0].Creator != jingle.RoleResponder || c[0].Senders != jingle.SendersInitiator || len(msgs[3].Groups) != 1 {
		t.Errorf("content-add: %+v %+v", c, msgs[3].Groups)
	}
	if c := msgs[4].Contents; len(c) != 1 || c[0].Name != "0" || c[0].Transport.Ufrag != "uf9" {
		t.Errorf("transport-info: %+v", c)
	}
	none, err := sdpxlate.Diff(old, old, sdpxlate.ToJingleOptions{})
	if err != nil || len(none) != 0 {
		t.Errorf("Diff of equal descriptions: %v %v", none, err)
	}
}

// TestApply plays a renegotiation as the gateway would: it applies the
// peer's messages to the browser's remote description.
func TestApply(t *testing.T) {
	j, _ := toJingle(t, offer, sdpxlate.ToJingleOptions{})
	remote, err := sdpxlate.Apply(nil, j, sdpxlate.ToSDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The peer (initiator) adds a screen share.
	add := &jingle.Jingle{Action: jingle.ActionContentAdd, Contents: []jingle.Content{{
		Creator: jingle.RoleInitiator, Name: "screen", Senders: jingle.SendersInitiator,
		Description: &jingle.Description{Media: "video", PayloadTypes: []jingle.PayloadType{{ID: 96, Name: "VP8", ClockRate: 90000}}, RTCPMux: true},
		Transport:   &jingle.Transport{Ufrag: "uf1", Pwd: "pwd1pwd1pwd1pwd1pwd1pwd1", Fingerprints: []jingle.Fingerprint{{Hash: "sha-256", Value: "AA:BB:CC:DD", Setup: "actpass"}}},
	}}}
	remote, err = sdpxlate.Apply(remote, add, sdpxlate.ToSDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(remote.MediaDescriptions); n != 4 {
		t.Fatalf("%d m-sections after content-add", n)
	}
	if g, _ := remote.Attribute("group"); g != "BUNDLE 0 1 2 screen" {
		t.Errorf("group after content-add: %q", g)
	}
	if d := attrs(remote.MediaDescriptions[3], "sendonly"); len(d) != 1 {
		t.Error("screen is not sendonly")
	}
	// content-modify, description-info, transport-info, content-remove.
	msgs := []*jingle.Jingle{
		{Action: jingle.ActionContentModify, Contents: []jingle.Content{{Name: "1", Senders: jingle.SendersNone}}},
		{Action: jingle.ActionDescriptionInfo, Contents: []jingle.Content{{Name: "0", Description: &jingle.Description{Media: "audio", PayloadTypes: []jingle.PayloadType{{ID: 0}}}}}},
		{Action: jingle.ActionTransportInfo, Contents: []jingle.Content{{Name: "0", Transport: &jingle.Transport{Ufrag: "uf1", GatheringComplete: true,
			Candidates: []jingle.Candidate{{Component: 1, Foundation: "7", IP: "192.0.2.77", Port: 7777, Priority: 100, Protocol: "udp", Type: "host"}}}}}},
		{Action: jingle.ActionContentRemove, Contents: []jingle.Content{{Name: "2"}}},
	}
	for _, m := range msgs {
		if remote, err = sdpxlate.Apply(remote, m, sdpxlate.ToSDPOptions{}); err != nil {
			t.Fatalf("%s: %v", m.Action, err)
		}
	}
	text, _ := sdpxlate.MarshalSDP(remote)
	if _, err := sdpxlate.ParseSDP(text); err != nil {
		t.Fatalf("result does not parse: %v\n%s", err, text)
	}
	a, v, d := remote.MediaDescriptions[0], remote.MediaDescriptions[1], remote.MediaDescriptions[2]
	if len(attrs(v, "inactive")) != 1 || len(attrs(v, "sendonly")) != 0 {
		t.Errorf("content-modify: %v", v.Attributes)
	}
	if strings.Join(a.MediaName.Formats, " ") != "0" || len(attrs(a, "rtpmap")) != 1 {
		t.Errorf("description-info: %v %v", a.MediaName.Formats, attrs(a, "rtpmap"))
	}
	if c := attrs(a, "candidate"); len(c) != 3 || len(attrs(a, "end-of-candidates")) != 1 {
		t.Errorf("transport-info: %v", c)
	}
	if d.MediaName.Port.Value != 0 {
		t.Error("content-remove: port not 0")
	}
	if g, _ := remote.Attribute("group"); g != "BUNDLE 0 1 screen" {
		t.Errorf("group after content-remove: %q", g)
	}
	// The same candidate twice is added once.
	again, _ := sdpxlate.Apply(remote, msgs[2], sdpxlate.ToSDPOptions{})
	if len(attrs(again.MediaDescriptions[0], "candidate")) != 3 {
		t.Error("duplicate candidate added")
	}
}

// TestApplyContentAccept: the browser added a content, the peer accepted it;
// the remote answer gets the m-section in the offer's order.
func TestApplyContentAccept(t *testing.T) {
	local := mustParse(t, offer)
	j, _ := toJingle(t, offer, sdpxlate.ToJingleOptions{Role: jingle.RoleResponder})
	j.Contents = j.Contents[:2]
	remote, err := sdpxlate.Apply(nil, j, sdpxlate.ToSDPOptions{Type: sdpxlate.SDPTypeAnswer})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := toJingle(t, offer, sdpxlate.ToJingleOptions{Role: jingle.RoleResponder})
	accept := &jingle.Jingle{Action: jingle.ActionContentAccept, Contents: []jingle.Content{full.Contents[2]}}
	remote, err = sdpxlate.Apply(remote, accept, sdpxlate.ToSDPOptions{Offer: local, Role: jingle.RoleResponder})
	if err != nil {
		t.Fatal(err)
	}
	var mids []string
	for _, md := range remote.MediaDescriptions {
		mids = append(mids, attrs(md, "mid")...)
	}
	if strings.Join(mids, " ") != "0 1 2" {
		t.Errorf("mids %v", mids)
	}
}
