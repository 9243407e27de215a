package sdpxlate_test

import (
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// TestRevert: a dropped content-add is taken out of the remote description
// content by content: an added m-section goes (and leaves the
// BUNDLE group), one it replaced is as before, and what else changed since
// (here the peer's ICE credentials) stays.
func TestRevert(t *testing.T) {
	sdpOf := func(lines ...string) string {
		return strings.Join(append([]string{"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"}, lines...), "\r\n") + "\r\n"
	}
	media := func(kind, mid, port, ufrag string) []string {
		return []string{"m=" + kind + " " + port + " UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:" + mid, "a=ice-ufrag:" + ufrag, "a=ice-pwd:pwdpwdpwdpwdpwdpwdpwdpwd", "a=rtpmap:96 X/90000"}
	}
	join := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	prev, err := sdpxlate.ParseSDP(sdpOf(join([]string{"a=group:BUNDLE 0 1"}, media("audio", "0", "9", "old"), media("video", "1", "0", "old"))...))
	if err != nil {
		t.Fatal(err)
	}
	// The peer's content-add reused the rejected mid 1 and added mid 2;
	// then it restarted ICE (ufrag "new").
	cur, err := sdpxlate.ParseSDP(sdpOf(join([]string{"a=group:BUNDLE 0 1 2"}, media("audio", "0", "9", "new"), media("video", "1", "9", "new"), media("video", "2", "9", "new"))...))
	if err != nil {
		t.Fatal(err)
	}
	got := sdpxlate.Revert(cur, prev, &jingle.Jingle{Action: jingle.ActionContentAdd, Contents: []jingle.Content{{Name: "1"}, {Name: "2"}}})
	text, _ := sdpxlate.MarshalSDP(got)
	for _, want := range []string{"a=group:BUNDLE 0 1\r\n", "m=video 0 ", "a=mid:1\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "a=mid:2") || strings.Count(text, "m=") != 2 {
		t.Errorf("mid 2 not removed:\n%s", text)
	}
	if u, _ := got.MediaDescriptions[0].Attribute("ice-ufrag"); u != "new" {
		t.Errorf("the audio m-section lost the peer's later restart: ufrag %q", u)
	}
	if len(cur.MediaDescriptions) != 3 {
		t.Error("Revert modified its input")
	}
}
