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
