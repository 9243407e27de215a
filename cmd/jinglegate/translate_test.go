package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func translate(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), append([]string{"translate"}, args...), strings.NewReader(input), &o, &e)
	return code, o.String(), e.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%v", err)
	}
	return string(b)
}

const chromeOffer = "../../sdpxlate/testdata/chrome156-av-data-offer.sdp"

// corpusDir is ../shared/interop from the repository root, or the copies in
// testdata/interop.
func corpusDir(t *testing.T) string {
	for _, d := range []string{"../../../shared/interop", "../../testdata/interop"} {
		if _, err := os.Stat(filepath.Join(d, "sdp")); err == nil {
			return d
		}
	}
	t.Skip("interop corpus not found: neither ../shared/interop (from the repository root) nor testdata/interop exists")
	return ""
}

func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "jinglegate translate: ") {
		t.Errorf("stderr is not one line naming the problem: %q", stderr)
	}
}

func TestTranslateToJingle(t *testing.T) {
	in := readFile(t, chromeOffer)
	code, out, errOut := translate(t, in, "-to", "jingle", "-sid", "s1", "-initiator", "alice@example.com/web")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='alice@example.com/web' sid='s1'>",
		"<content creator='initiator' name='0' senders='both'>",
		"<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' protocol='webrtc-datachannel' max-message-size='262144'/>",
		"<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	code, out, _ = translate(t, in, "-to", "jingle", "-action", "session-accept", "-compact", "-v")
	if code != 0 || !strings.HasPrefix(out, "<jingle xmlns='urn:xmpp:jingle:1' action='session-accept'>") || strings.Count(out, "\n") != 1 {
		t.Errorf("session-accept, compact: exit %d\n%s", code, out)
	}
	// -v reports what was dropped (Chromium's a=rtcp-xr).
	code, _, errOut = translate(t, in, "-to", "jingle", "-v")
	if code != 0 || !strings.Contains(errOut, "dropped: m-section 1 (mid \"0\"): a=rtcp-xr:rcvr-rtt=all") {
		t.Errorf("-v: exit %d, stderr %q", code, errOut)
	}
}

func TestTranslateToSDP(t *testing.T) {
	dir := corpusDir(t)
	code, out, errOut := translate(t, readFile(t, filepath.Join(dir, "pairs/snikket-conversations-audio-session-initiate.xml")), "-to", "sdp")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "v=0\r\n") || strings.Count(out, "\n") != strings.Count(out, "\r\n") || !strings.Contains(out, "a=setup:actpass\r\n") {
		t.Errorf("not an offer with CRLF line ends:\n%q", out)
	}
	// session-accept gives an answer.
	code, out, _ = translate(t, readFile(t, filepath.Join(dir, "jingle/xep0320-session-accept-dtls-active.xml")), "-to", "sdp")
	if code != 0 || !strings.Contains(out, "a=setup:active\r\n") || !strings.Contains(out, "a=mid:voice\r\n") {
		t.Errorf("answer: exit %d\n%s", code, out)
	}
	// A bare <jingle/> (Jicofo) works too.
	code, out, _ = translate(t, readFile(t, filepath.Join(dir, "pairs/avstack-jicofo-session-initiate-to-offer.xml")), "-to", "sdp")
	if code != 0 || !strings.Contains(out, "m=video 9 UDP/TLS/RTP/SAVPF 100 107 101 96 97 99\r\n") {
		t.Errorf("bare jingle: exit %d\n%s", code, out)
	}
	// transport-info gives candidate lines; the priority above 2^32 is clamped.
	code, out, _ = translate(t, readFile(t, filepath.Join(dir, "jingle/protoxep-jingle-sdp-transport-info-swapped-creds.xml")), "-to", "sdp")
	if code != 0 || !strings.Contains(out, "a=candidate:1 1 udp 4294967295 2001:db8::9:1 9001 typ host generation 0\r\n") {
		t.Errorf("transport-info: exit %d\n%s", code, out)
	}
}

func TestTranslateBadInput(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		name, input string
		args        []string
		want        string
	}{
		{"empty", "", []string{"-to", "sdp"}, "empty input"},
		{"not SDP", "hello\n", []string{"-to", "jingle"}, `line 1 "hello" is not v=`},
		{"SDP fragment", readFile(t, filepath.Join(dir, "pairs/xep0294-hdrext-fragment.sdp")), []string{"-to", "jingle"}, `"m=video"`},
		{"not XML", "v=0\r\n", []string{"-to", "sdp"}, "no <jingle"},
		{"JMI", readFile(t, filepath.Join(dir, "jingle/xep0353-propose.xml")), []string{"-to", "sdp"}, "XEP-0353 <propose/>"},
		{"malformed", readFile(t, filepath.Join(dir, "jingle/xep0353-retract-tie-break-MALFORMED.xml")), []string{"-to", "sdp"}, "malformed XML"},
		{"unsupported", readFile(t, filepath.Join(dir, "jingle/qxmpp-session-initiate-muji-stub.xml")), []string{"-to", "sdp"}, "unsupported application"},
		{"no description", readFile(t, filepath.Join(dir, "jingle/xep0166-session-terminate-busy.xml")), []string{"-to", "sdp"}, "session-terminate carries no session description"},
		{"too large", strings.Repeat("a", 1<<20+1), []string{"-to", "jingle"}, "larger than"},
	}
	for _, tc := range tests {
		code, out, errOut := translate(t, tc.input, tc.args...)
		if code != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q", tc.name, code, out)
		}
		oneLine(t, errOut)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: stderr %q does not say %q", tc.name, errOut, tc.want)
		}
	}
	for _, args := range [][]string{{}, {"-to", "xml"}, {"-to", "jingle", "-role", "boss"}, {"-to", "jingle", "-action", "explode"}, {"-to", "sdp", "-sid", "x"}, {"-to", "sdp", "extra"}, {"-to", "sdp", "-mdns", "maybe"}, {"-nope"}} {
		if code, _, _ := translate(t, "v=0\r\n", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := translate(t, "", "-h"); code != 0 || out != "" {
		t.Errorf("-h: exit %d", code)
	}
}

// TestTranslateTransportInfo: -action transport-info takes a whole SDP or
// trickled candidate lines, and what -to sdp prints for a transport-info
// comes back to the same transport-info.
func TestTranslateTransportInfo(t *testing.T) {
	in := readFile(t, chromeOffer)
	code, out, errOut := translate(t, in, "-to", "jingle", "-action", "transport-info", "-sid", "s1", "-mid", "0,2", "-compact")
	if code != 0 || errOut != "" {
		t.Fatalf("whole SDP: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "<description") || strings.Contains(out, "name='1'") || !strings.Contains(out, "name='0'") || !strings.Contains(out, "name='2'") ||
		!strings.Contains(out, "ufrag='syx2' pwd='KWoFQb1bym3kt7KQ4paQFEzi'") || strings.Count(out, "<candidate ") != 4 {
		t.Errorf("whole SDP, -mid 0,2: want the transports of contents 0 and 2 with 2 candidates each, no description:\n%s", out)
	}
	code, sdpOut, errOut := translate(t, out, "-to", "sdp")
	if code != 0 {
		t.Fatalf("-to sdp: exit %d, %s", code, errOut)
	}
	code, back, errOut := translate(t, sdpOut, "-to", "jingle", "-action", "transport-info", "-sid", "s1", "-compact")
	if code != 0 || back != out {
		t.Errorf("transport-info -> SDP lines -> transport-info: exit %d %s\n got %s\nwant %s", code, errOut, back, out)
	}

	// One trickled candidate, as the browser's onicecandidate gives it.
	cand := "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host generation 0 ufrag abcd network-id 1\n"
	code, out, errOut = translate(t, cand, "-to", "jingle", "-action", "transport-info", "-mid", "0", "-compact")
	want := "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info'><content creator='initiator' name='0'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd'><candidate component='1' foundation='1' generation='0' id='3mbd2m4xdakoe' ip='192.0.2.1' network='1' port='5000' priority='2122260223' protocol='udp' type='host'/></transport></content></jingle>\n"
	if code != 0 || out != want {
		t.Errorf("one candidate: exit %d %s\n got %s\nwant %s", code, errOut, out, want)
	}
	code, out, _ = translate(t, "a=end-of-candidates\n", "-to", "jingle", "-action", "transport-info", "-mid", "0", "-compact")
	if code != 0 || !strings.Contains(out, "<gathering-complete/>") {
		t.Errorf("end-of-candidates: exit %d\n%s", code, out)
	}
	// An ICE restart announced before any candidate: credentials only.
	code, out, _ = translate(t, "a=mid:0\na=ice-ufrag:newu\na=ice-pwd:newpasswordnewpassword\n", "-to", "jingle", "-action", "transport-info", "-compact")
	if code != 0 || !strings.Contains(out, "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='newu' pwd='newpasswordnewpassword'/>") {
		t.Errorf("ICE restart: exit %d\n%s", code, out)
	}
	for _, tc := range []struct{ input, mid, want string }{
		{cand, "", "candidate without a mid"},
		{cand, "0,1", "belong to one m-section"},
		{"a=rtpmap:0 PCMU/8000\n", "0", `"a=rtpmap:0 PCMU/8000" is neither a candidate`},
		{"candidate:garbage\n", "0", "candidate"},
		{"\n\n \n", "0", "empty input"},
	} {
		args := []string{"-to", "jingle", "-action", "transport-info"}
		if tc.mid != "" {
			args = append(args, "-mid", tc.mid)
		}
		code, out, errOut := translate(t, tc.input, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q -mid %q: exit %d, stdout %q, stderr %q; want exit 1 naming %q", tc.input, tc.mid, code, out, errOut, tc.want)
		}
		oneLine(t, errOut)
	}
}

// TestTranslateOffer: -offer aligns an answer with its offer: the same
// m-line order, and what the answer leaves out rejected with port 0.
func TestTranslateOffer(t *testing.T) {
	in := readFile(t, chromeOffer)
	code, accept, errOut := translate(t, in, "-to", "jingle", "-action", "session-accept", "-sid", "s1", "-compact")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	// The answerer takes audio and data, not video.
	start := strings.Index(accept, "<content creator='initiator' name='1'")
	end := strings.Index(accept, "<content creator='initiator' name='2'")
	if start < 0 || end < start {
		t.Fatalf("no video content to remove:\n%s", accept)
	}
	noVideo := accept[:start] + accept[end:]
	noVideo = strings.Replace(noVideo, "<content name='1'/>", "", 1) // from BUNDLE

	code, out, errOut := translate(t, noVideo, "-to", "sdp")
	if code != 0 || strings.Contains(out, "m=video") || strings.Count(out, "m=") != 2 {
		t.Fatalf("without -offer: exit %d %s, want two m-lines:\n%s", code, errOut, out)
	}
	dir := t.TempDir()
	offer := filepath.Join(dir, "offer.sdp")
	if err := os.WriteFile(offer, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = translate(t, noVideo, "-to", "sdp", "-offer", offer)
	if code != 0 {
		t.Fatalf("-offer: exit %d %s", code, errOut)
	}
	var mlines []string
	for _, l := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(l, "m=") {
			mlines = append(mlines, strings.Join(strings.Fields(l)[:2], " "))
		}
	}
	if got := strings.Join(mlines, ", "); !strings.HasPrefix(got, "m=audio ") || !strings.HasPrefix(mlines[1], "m=video 0") || !strings.HasPrefix(mlines[2], "m=application ") || len(mlines) != 3 {
		t.Errorf("-offer: m-lines %s; want audio, video rejected (port 0), application in the offer's order", got)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-to", "sdp", "-offer", filepath.Join(dir, "missing.sdp")}, 1, "-offer"},
		{[]string{"-to", "jingle", "-offer", offer}, 2, "-offer only applies to -to sdp"},
	} {
		code, _, errOut := translate(t, noVideo, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	// An offer given for an offer is a usage error.
	code, initiate, _ := translate(t, in, "-to", "jingle", "-compact")
	if code != 0 {
		t.Fatal("session-initiate")
	}
	if code, _, errOut := translate(t, initiate, "-to", "sdp", "-offer", offer); code != 2 || !strings.Contains(errOut, "-offer applies to answers") {
		t.Errorf("-offer with a session-initiate: exit %d, %q", code, errOut)
	}
}

// TestTranslateCorpus runs every corpus file through the command: it never
// panics, and a failure is exit 1 with one line on stderr.
func TestTranslateCorpus(t *testing.T) {
	dir := corpusDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*/*"))
	for _, f := range files {
		var to string
		switch filepath.Ext(f) {
		case ".sdp":
			to = "jingle"
		case ".xml":
			to = "sdp"
		default:
			continue
		}
		for _, extra := range [][]string{nil, {"-role", "responder", "-mdns", "drop"}} {
			code, out, errOut := translate(t, readFile(t, f), append([]string{"-to", to}, extra...)...)
			switch code {
			case 0:
				if out == "" || errOut != "" {
					t.Errorf("%s %v: exit 0 with stdout %q, stderr %q", f, extra, out, errOut)
				}
			case 1:
				oneLine(t, errOut)
			default:
				t.Errorf("%s %v: exit %d: %s", f, extra, code, errOut)
			}
		}
	}
}
