package sdpxlate_test

import (
	"os"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
	"github.com/pion/sdp/v3"
)

// The benchmarks use a real Chromium 156 offer with audio, video and a data
// channel (testdata/chrome156-av-data-offer.sdp, see testdata/README.md).
// Run them with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./sdpxlate/
//
// and compare each with BenchmarkPionRoundTrip of the same run.

func benchInput(b *testing.B) (string, []byte) {
	b.Helper()
	data, err := os.ReadFile("testdata/chrome156-av-data-offer.sdp")
	if err != nil {
		b.Fatal(err)
	}
	sd, err := sdpxlate.ParseSDP(string(data))
	if err != nil {
		b.Fatal(err)
	}
	j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{SID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	x, err := jingle.Marshal(j)
	if err != nil {
		b.Fatal(err)
	}
	return string(data), x
}

// BenchmarkPionRoundTrip is the baseline: pion/sdp Unmarshal and Marshal.
func BenchmarkPionRoundTrip(b *testing.B) {
	text, _ := benchInput(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		var sd sdp.SessionDescription
		if err := sd.UnmarshalString(text); err != nil {
			b.Fatal(err)
		}
		if _, err := sd.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDPToJingle is SDP text to Jingle XML text: ParseSDP,
// SDPToJingle and jingle.Marshal.
func BenchmarkSDPToJingle(b *testing.B) {
	text, _ := benchInput(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sd, err := sdpxlate.ParseSDP(text)
		if err != nil {
			b.Fatal(err)
		}
		j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{SID: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jingle.Marshal(j); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJingleToSDP is Jingle XML text to SDP text: jingle.Unmarshal,
// JingleToSDP and MarshalSDP.
func BenchmarkJingleToSDP(b *testing.B) {
	_, x := benchInput(b)
	b.SetBytes(int64(len(x)))
	b.ReportAllocs()
	for b.Loop() {
		j, err := jingle.Unmarshal(x)
		if err != nil {
			b.Fatal(err)
		}
		sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sdpxlate.MarshalSDP(sd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDPToJingleOnly is the translation step alone, from a parsed
// SDP to the Jingle struct.
func BenchmarkSDPToJingleOnly(b *testing.B) {
	text, _ := benchInput(b)
	sd, _ := sdpxlate.ParseSDP(text)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{SID: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJingleToSDPOnly is the translation step alone, from the Jingle
// struct to a pion session description.
func BenchmarkJingleToSDPOnly(b *testing.B) {
	_, x := benchInput(b)
	j, _ := jingle.Unmarshal(x)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
