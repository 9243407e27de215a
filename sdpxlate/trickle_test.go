package sdpxlate_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

func TestCandidateLines(t *testing.T) {
	tests := []string{
		"candidate:2665802302 1 udp 2122262783 2a02:a03f:3eb0:e000:b0aa:d60a:cff2:933c 38475 typ host generation 0 network-id 2 network-cost 10",
		"candidate:3 1 tcp 2105458943 192.168.99.58 9 typ host tcptype active generation 0",
		"candidate:1 2 udp 1685921790 1.2.3.4 52902 typ srflx raddr 192.168.99.58 rport 52902 generation 0",
		"candidate:1 1 udp 1686052863 127.0.0.1 38038 typ srflx raddr 0.0.0.0 rport 0 generation 0",
		"candidate:6jP5NffoId0CdpiZ 1 udp 16777215 52.91.166.238 50714 typ relay raddr 52.91.166.238 rport 50714 generation 0",
		"candidate:0 1 udp 2122252543 78677bb1-7843-4445-b8e7-44449283c4e1.local 38038 typ host generation 0",
	}
	for _, line := range tests {
		c, _, err := sdpxlate.ParseCandidate("a=" + line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		got, err := sdpxlate.FormatCandidate(c)
		if err != nil || got != line {
			t.Errorf("round trip:\n got %s\nwant %s (%v)", got, line, err)
		}
	}
	c, ufrag, err := sdpxlate.ParseCandidate("candidate:842163049 1 UDP 1677729535 1.2.3.4 61015 typ srflx raddr 192.168.0.87 rport 61015 generation 0 ufrag XSmV network-cost 999 unknown-ext x")
	if err != nil || ufrag != "XSmV" || c.Protocol != "udp" || c.NetworkCost != 999 {
		t.Errorf("extensions: %+v %q %v", c, ufrag, err)
	}
}

func TestCandidatesToTransportInfo(t *testing.T) {
	local := mustParse(t, offer)
	idx := uint16(1)
	var losses []sdpxlate.Loss
	j, err := sdpxlate.CandidatesToTransportInfo([]sdpxlate.ICECandidate{
		{Candidate: "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host generation 0 ufrag uf1", SDPMid: "0"},
		{Candidate: "candidate:9 1 udp 2122260223 192.0.2.1 50002 typ host", SDPMLineIndex: &idx},
		{Candidate: "candidate:broken", SDPMid: "0"},
		{Candidate: "", SDPMid: "0"},
	}, sdpxlate.TransportInfoOptions{SID: "s1", Local: local, Creators: map[string]jingle.Role{"1": jingle.RoleResponder}, OnLoss: func(l sdpxlate.Loss) { losses = append(losses, l) }})
	if err != nil {
		t.Fatal(err)
	}
	if j.Action != jingle.ActionTransportInfo || j.SID != "s1" || len(j.Contents) != 2 {
		t.Fatalf("%+v", j)
	}
	a, v := j.Contents[0], j.Contents[1]
	if a.Name != "0" || a.Transport.Ufrag != "uf1" || a.Transport.Pwd != "pwd1pwd1pwd1pwd1pwd1pwd1" || len(a.Transport.Candidates) != 1 || !a.Transport.GatheringComplete {
		t.Errorf("content 0: %+v", a.Transport)
	}
	if v.Name != "1" || v.Creator != jingle.RoleResponder || len(v.Transport.Candidates) != 1 || v.Transport.Candidates[0].Port != 50002 {
		t.Errorf("content 1 (from the m-line index): %+v", v)
	}
	if len(losses) != 1 {
		t.Errorf("losses: %v", losses)
	}
	back, err := sdpxlate.JingleCandidatesToSDP(j, sdpxlate.ToSDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []sdpxlate.ICECandidate{
		{Candidate: "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host generation 0", SDPMid: "0", UsernameFragment: "uf1"},
		{SDPMid: "0", UsernameFragment: "uf1"},
		{Candidate: "candidate:9 1 udp 2122260223 192.0.2.1 50002 typ host generation 0", SDPMid: "1", UsernameFragment: "uf1"},
	}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("JingleCandidatesToSDP:\n got %+v\nwant %+v", back, want)
	}
	one, err := sdpxlate.CandidateToJingle("a=candidate:1 1 udp 1 192.0.2.1 5 typ host", "0", sdpxlate.TransportInfoOptions{})
	if err != nil || len(one.Contents) != 1 || one.Contents[0].Transport.Candidates[0].ID == "" {
		t.Errorf("CandidateToJingle: %+v %v", one, err)
	}
	eoc, err := sdpxlate.CandidateToJingle("", "0", sdpxlate.TransportInfoOptions{})
	if err != nil || !eoc.Contents[0].Transport.GatheringComplete {
		t.Errorf("end-of-candidates: %+v %v", eoc, err)
	}
}

// TestTransportInfoCorpus reads the transport-info stanzas of the corpus.
func TestTransportInfoCorpus(t *testing.T) {
	for _, f := range corpusFiles(t, "jingle/*transport-info*.xml") {
		j := readJingleFile(t, f)
		var losses []sdpxlate.Loss
		cands, err := sdpxlate.JingleCandidatesToSDP(j, sdpxlate.ToSDPOptions{OnLoss: func(l sdpxlate.Loss) { losses = append(losses, l) }})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for _, c := range j.Contents {
			if c.Transport != nil {
				n += len(c.Transport.Candidates)
			}
		}
		if len(cands) != n {
			t.Errorf("%s: %d candidates, want %d", f, len(cands), n)
		}
		for _, c := range cands {
			p, _, err := sdpxlate.ParseCandidate(c.Candidate)
			if err != nil {
				t.Errorf("%s: %s does not parse back: %v", f, c.Candidate, err)
			}
			if p.Priority > 1<<32-1 {
				t.Errorf("%s: priority %d not clamped", f, p.Priority)
			}
		}
		t.Logf("%s: %d candidates, losses %v", f, len(cands), losses)
	}
}

// TestICERestartSharedByBundle: a restart of one content of a BUNDLE group
// restarts the group's one transport: every m-section of it takes the new
// credentials and loses the old candidates, and the transport-infos that
// follow for the other contents (Dino sends one per content) add
// candidates without restarting again.
func TestICERestartSharedByBundle(t *testing.T) {
	remote := mustParse(t, offer)
	cand := func(ip string) []jingle.Candidate {
		return []jingle.Candidate{{Component: 1, Foundation: "1", IP: ip, Port: 5000, Priority: 100, Protocol: "udp", Type: "host"}}
	}
	sd, err := sdpxlate.Apply(remote, &jingle.Jingle{Action: jingle.ActionTransportInfo, Contents: []jingle.Content{
		{Name: "1", Transport: &jingle.Transport{Ufrag: "uf1", Candidates: cand("192.0.2.1")}}}}, sdpxlate.ToSDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	restart := &jingle.Jingle{Action: jingle.ActionTransportInfo, Contents: []jingle.Content{
		{Name: "0", Transport: &jingle.Transport{Ufrag: "uf2", Pwd: "pwd2pwd2pwd2pwd2pwd2pwd2"}}}}
	if sd, err = sdpxlate.Apply(sd, restart, sdpxlate.ToSDPOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, md := range sd.MediaDescriptions {
		if u, p := attrs(md, "ice-ufrag"), attrs(md, "ice-pwd"); len(u) != 1 || u[0] != "uf2" || len(p) != 1 || p[0] != "pwd2pwd2pwd2pwd2pwd2pwd2" {
			t.Errorf("m-section %d after the restart: ufrag %v pwd %v, want the new ones", i, u, p)
		}
		if c := attrs(md, "candidate"); len(c) != 0 {
			t.Errorf("m-section %d keeps candidates of the old credentials: %v", i, c)
		}
	}
	next := &jingle.Jingle{Action: jingle.ActionTransportInfo, Contents: []jingle.Content{
		{Name: "1", Transport: &jingle.Transport{Ufrag: "uf2", Pwd: "pwd2pwd2pwd2pwd2pwd2pwd2", Candidates: cand("192.0.2.2")}}}}
	if got := sdpxlate.ICERestarts(next, sd, nil); len(got) != 0 {
		t.Errorf("the next content's transport-info restarts %v again", got)
	}
	if sd, err = sdpxlate.Apply(sd, next, sdpxlate.ToSDPOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := attrs(sd.MediaDescriptions[1], "candidate"); len(c) != 1 || !strings.Contains(c[0], "192.0.2.2") {
		t.Errorf("candidates of m-section 1: %v", c)
	}
}

func TestICERestart(t *testing.T) {
	remote := mustParse(t, offer)
	restart := &jingle.Jingle{Action: jingle.ActionTransportInfo, Contents: []jingle.Content{
		{Name: "0", Transport: &jingle.Transport{Ufrag: "uf2", Pwd: "pwd2pwd2pwd2pwd2pwd2pwd2"}},
		{Name: "1", Transport: &jingle.Transport{Ufrag: "uf1", Pwd: "pwd1pwd1pwd1pwd1pwd1pwd1"}},
	}}
	if got := sdpxlate.ICERestarts(restart, remote, nil); !slices.Equal(got, []string{"0"}) {
		t.Errorf("ICERestarts = %v", got)
	}
	sd, err := sdpxlate.Apply(remote, restart, sdpxlate.ToSDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	md := sd.MediaDescriptions[0]
	if u := attrs(md, "ice-ufrag"); len(u) != 1 || u[0] != "uf2" || len(attrs(md, "candidate")) != 0 {
		t.Errorf("restart not applied: %v", md.Attributes)
	}
	if u := attrs(remote.MediaDescriptions[0], "ice-ufrag"); u[0] != "uf1" {
		t.Error("Apply changed its input")
	}
	// The local side announces its own restart.
	local := mustParse(t, strings.ReplaceAll(offer, "uf1", "uf3"))
	ti, err := sdpxlate.SDPToTransportInfo(local, []string{"0"}, sdpxlate.TransportInfoOptions{SID: "s"})
	if err != nil || len(ti.Contents) != 1 || ti.Contents[0].Transport.Ufrag != "uf3" || len(ti.Contents[0].Transport.Candidates) != 2 {
		t.Errorf("SDPToTransportInfo: %+v %v", ti, err)
	}
}
