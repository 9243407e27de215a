package jinglepeer

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp"
	"mellium.im/xmpp/disco/info"

	"github.com/jinglegate/jinglegate/sdpxlate"
)

func TestConfigValidate(t *testing.T) {
	if _, err := (Config{}).validate(); !errors.Is(err, ErrNoSession) {
		t.Errorf("no session: %v, want ErrNoSession", err)
	}
	// validate only checks Session for nil; a zero *xmpp.Session is enough.
	base := Config{Session: new(xmpp.Session)}
	for _, tc := range []struct {
		name string
		cfg  func(Config) Config
		ok   bool
	}{
		{"zero", func(c Config) Config { return c }, true},
		{"reject busy", func(c Config) Config { c.Reject = "busy"; return c }, true},
		{"reject unknown", func(c Config) Config { c.Reject = "maybe-later"; return c }, false},
		{"media", func(c Config) Config { c.Media = []string{MediaAudio}; return c }, true},
		{"media unknown", func(c Config) Config { c.Media = []string{"smell"}; return c }, false},
		{"media twice", func(c Config) Config { c.Media = []string{MediaAudio, MediaAudio}; return c }, false},
	} {
		got, err := tc.cfg(base).validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v does not wrap ErrInvalidConfig", tc.name, err)
		}
		if err == nil && (got.Logger == nil || got.IQTimeout != DefaultIQTimeout || got.CapsNode != DefaultCapsNode || len(got.Media) == 0) {
			t.Errorf("%s: defaults not filled: %+v", tc.name, got)
		}
	}
}

// TestCapsVer checks the XEP-0115 §5.2 example.
func TestCapsVer(t *testing.T) {
	id := info.Identity{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}
	features := []string{"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"}
	if got, want := capsVer(id, features), "QgayPKawpkPSDYmwT/WM94uAlu0="; got != want {
		t.Errorf("ver %s, want %s", got, want)
	}
}

func TestClips(t *testing.T) {
	c, err := loadClips()
	if err != nil {
		t.Fatal(err)
	}
	total := func(cl clip) (d time.Duration) {
		for _, s := range cl.samples {
			d += s.Duration
		}
		return d
	}
	if n, d := len(c.audio.samples), total(c.audio); n < 90 || d < 1900*time.Millisecond || d > 2100*time.Millisecond {
		t.Errorf("audio: %d samples, %v", n, d)
	}
	for i, s := range c.audio.samples {
		if s.Duration != 20*time.Millisecond {
			t.Fatalf("audio sample %d lasts %v, want 20ms", i, s.Duration)
		}
	}
	if n, d := len(c.video.samples), total(c.video); n != 30 || d < 1900*time.Millisecond || d > 2100*time.Millisecond {
		t.Errorf("video: %d frames, %v", n, d)
	}
	// A VP8 keyframe has bit 0 of its first byte clear; the loop must start
	// on one.
	if f := c.video.samples[0].Data; len(f) == 0 || f[0]&1 != 0 {
		t.Error("the video does not start with a keyframe")
	}
}

func TestOpusDuration(t *testing.T) {
	for _, tc := range []struct {
		packet []byte
		want   time.Duration
	}{
		{[]byte{0xf8}, 20 * time.Millisecond},           // CELT FB 20 ms, one frame
		{[]byte{0x78}, 20 * time.Millisecond},           // hybrid FB 20 ms
		{[]byte{0x08}, 20 * time.Millisecond},           // SILK NB 20 ms
		{[]byte{0x18}, 60 * time.Millisecond},           // SILK NB 60 ms
		{[]byte{0xe1}, 5 * time.Millisecond},            // CELT FB 2.5 ms, two frames
		{[]byte{0xfb, 0x03}, 60 * time.Millisecond},     // CELT FB 20 ms, three frames (code 3)
		{[]byte{0x80}, 2500 * time.Microsecond},         // CELT NB 2.5 ms
		{[]byte{0x0b, 0x82}, 2 * 20 * time.Millisecond}, // SILK 20 ms, code 3, VBR, two frames
	} {
		got, err := opusDuration(tc.packet)
		if err != nil || got != tc.want {
			t.Errorf("%x: %v, %v; want %v", tc.packet, got, err, tc.want)
		}
	}
	for _, bad := range [][]byte{nil, {0x03}} {
		if _, err := opusDuration(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

func TestXMLText(t *testing.T) {
	in := `<iq xmlns="jabber:client" type="set" id="1" xml:lang="en"><jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="s"><content xmlns="urn:xmpp:jingle:1" name="0"/></jingle></iq>`
	toks, err := readAll(xml.NewDecoder(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := `<iq type='set' id='1' xml:lang='en'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content name='0'/></jingle></iq>`
	if got := xmlText(toks); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestErrorCondition(t *testing.T) {
	for in, want := range map[string]string{
		`<iq type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>`: "unknown-session",
		`<iq type='error'><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`:                                                       "bad-request",
		`<iq type='result'/>`: "",
	} {
		toks, err := readAll(xml.NewDecoder(strings.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		if got := errorCondition(toks); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
		if want != "" {
			var e *IQError
			if !errors.As(iqError(toks), &e) || (e.Condition != want && string(e.Stanza.Condition) != want) {
				t.Errorf("%s: iqError %v", in, e)
			}
		}
	}
}

func TestSetup(t *testing.T) {
	sd, err := sdpxlate.ParseSDP("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=setup:actpass\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=setup:actpass\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=setup:active\r\na=inactive\r\na=rtpmap:96 VP8/90000\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=rtpmap:96 VP8/90000\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := setupOf(sd); got != "actpass" {
		t.Errorf("setupOf %q", got)
	}
	setSetup(sd, "passive")
	text, _ := sdpxlate.MarshalSDP(sd)
	if strings.Contains(text, "actpass") || strings.Contains(text, "setup:active") || strings.Count(text, "a=setup:passive") != 3 {
		t.Errorf("setSetup left:\n%s", text)
	}
	setSetup(sd, "actpass") // not a role: ignored
	if setupOf(sd) != "passive" || opposite("active") != "passive" || opposite("passive") != "active" || opposite("") != "" {
		t.Error("opposite or setSetup(actpass)")
	}
	for i, want := range []string{"sendonly", "inactive", "sendrecv"} {
		if got := direction(sd.MediaDescriptions[i].Attributes, "sendrecv"); got != want {
			t.Errorf("direction of section %d: %s, want %s", i, got, want)
		}
	}
}

// TestLoopbackGathering checks the default ICE settings without a server:
// only UDP host candidates on loopback, no mDNS names.
func TestLoopbackGathering(t *testing.T) {
	api, err := newAPI(config{Config: Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("x", nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-gathered:
	case <-ctx.Done():
		t.Fatal("gathering did not complete")
	}
	n := 0
	for _, l := range strings.Split(pc.LocalDescription().SDP, "\r\n") {
		if !strings.HasPrefix(l, "a=candidate:") {
			continue
		}
		n++
		f := strings.Fields(l)
		if len(f) < 8 || !strings.HasPrefix(f[4], "127.") || f[7] != "host" || strings.ToLower(f[2]) != "udp" {
			t.Errorf("candidate %q is not a UDP host candidate on loopback", l)
		}
	}
	if n == 0 {
		t.Error("no candidate gathered on loopback")
	}
}

func TestQueueAndWatch(t *testing.T) {
	var q opQueue
	q.wake = make(chan struct{}, 1)
	var got []int
	for i := range 3 {
		if !q.push(func() { got = append(got, i) }) {
			t.Fatal("push refused")
		}
	}
	<-q.wake
	for _, op := range q.take() {
		op()
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Errorf("ran %v", got)
	}
	q.close()
	if q.push(func() {}) {
		t.Error("push after close accepted")
	}
	var w watch
	ch := w.wait()
	w.notify()
	select {
	case <-ch:
	default:
		t.Error("notify did not wake the waiter")
	}
	w.notify() // no waiter: nothing to do
}
