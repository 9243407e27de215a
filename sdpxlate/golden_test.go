package sdpxlate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// goldenInput finds an input file: in testdata, or in the interop corpus.
func goldenInput(t *testing.T, rel string) []byte {
	t.Helper()
	for _, dir := range []string{"testdata", interopDir(t)} {
		if dir == "" {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
			return b
		}
	}
	t.Skipf("input %s not found (interop corpus absent?)", rel)
	return nil
}

func TestGoldenSDPToJingle(t *testing.T) {
	tests := []struct {
		in, out string
		opts    sdpxlate.ToJingleOptions
	}{
		{"chrome156-av-data-offer.sdp", "chrome156-av-data-offer.session-initiate.xml",
			sdpxlate.ToJingleOptions{SID: "gs1", Initiator: "alice@example.com/web"}},
		{"sdp/snikket-firefox99-answer-mdns-relay.sdp", "firefox99-answer.session-accept.xml",
			sdpxlate.ToJingleOptions{Role: jingle.RoleResponder, SID: "gs2", Initiator: "romeo@example.com/a", Responder: "juliet@example.com/web"}},
		{"sdp/aiortc-firefox58-datachannel-sctpmap.sdp", "firefox58-datachannel-sctpmap.session-initiate.xml",
			sdpxlate.ToJingleOptions{SID: "gs3"}},
		{"sdp/jitsi-sdpinterop-firefox74-answer-simulcast-rid.sdp", "firefox74-simulcast-rid.session-accept.xml",
			sdpxlate.ToJingleOptions{Role: jingle.RoleResponder, SID: "gs4"}},
	}
	for _, tc := range tests {
		t.Run(tc.out, func(t *testing.T) {
			in := goldenInput(t, tc.in)
			var notes []string
			tc.opts.OnLoss = func(l sdpxlate.Loss) {
				notes = append(notes, "<!-- dropped: "+strings.ReplaceAll(l.String(), "--", "- -")+" -->")
			}
			j, err := sdpxlate.SDPToJingle(mustParse(t, string(in)), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			x, err := jingle.MarshalIndent(j, "  ")
			if err != nil {
				t.Fatal(err)
			}
			out := append(x, '\n')
			for _, n := range notes {
				out = append(out, n+"\n"...)
			}
			golden(t, tc.out, out)
		})
	}
}

func TestGoldenJingleToSDP(t *testing.T) {
	tests := []struct {
		in, out string
		opts    sdpxlate.ToSDPOptions
	}{
		{"golden/chrome156-av-data-offer.session-initiate.xml", "chrome156-av-data-offer.roundtrip.sdp", sdpxlate.ToSDPOptions{}},
		{"pairs/snikket-conversations-audio-session-initiate.xml", "conversations-audio.offer.sdp", sdpxlate.ToSDPOptions{}},
		{"jingle/stanza-session-initiate-chrome-av.xml", "stanza-chrome-av.offer.sdp", sdpxlate.ToSDPOptions{}},
		{"jingle/xep0320-session-accept-dtls-active.xml", "xep0320-session-accept.answer.sdp", sdpxlate.ToSDPOptions{}},
		{"pairs/avstack-jicofo-session-initiate-to-offer.xml", "jicofo-session-initiate.offer.sdp", sdpxlate.ToSDPOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.out, func(t *testing.T) {
			in := goldenInput(t, tc.in)
			j, err := jingle.Unmarshal(in)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := sdpxlate.JingleToSDP(j, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			text, err := sdpxlate.MarshalSDP(sd)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.out, []byte(text))
		})
	}
}
