package sdpxlate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/sdpxlate"
)

func mline(md string, mid, dir, setup string) []string {
	port := "9"
	if strings.HasPrefix(dir, "port0:") {
		port, dir = "0", strings.TrimPrefix(dir, "port0:")
	}
	proto := map[string]string{"audio": "UDP/TLS/RTP/SAVPF 111", "video": "UDP/TLS/RTP/SAVPF 96", "application": "UDP/DTLS/SCTP webrtc-datachannel"}[md]
	l := []string{"m=" + md + " " + port + " " + proto, "c=IN IP4 0.0.0.0", "a=mid:" + mid, "a=ice-ufrag:uuuu", "a=ice-pwd:pppppppppppppppppppppp",
		"a=fingerprint:sha-256 AA:BB", "a=setup:" + setup}
	if md != "application" {
		l = append(l, "a="+dir, "a=rtcp-mux")
	}
	switch md {
	case "audio":
		l = append(l, "a=rtpmap:111 opus/48000/2")
	case "video":
		l = append(l, "a=rtpmap:96 VP8/90000")
	}
	return l
}

func desc(bundle string, sections ...[]string) string {
	var l []string
	if bundle != "" {
		l = append(l, "a=group:BUNDLE "+bundle)
	}
	for _, s := range sections {
		l = append(l, s...)
	}
	return session(l...)
}

type section struct{ mid, port, dir, setup string }

func summary(t *testing.T, text string) ([]section, []string) {
	t.Helper()
	sd := mustParse(t, text)
	var out []section
	for _, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		setup, _ := md.Attribute("setup")
		dir := ""
		for _, a := range md.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				dir = a.Key
			}
		}
		port := "9"
		if md.MediaName.Port.Value == 0 {
			port = "0"
		}
		out = append(out, section{mid, port, dir, setup})
	}
	var groups []string
	for _, a := range sd.Attributes {
		if a.Key == "group" {
			groups = append(groups, a.Value)
		}
	}
	return out, groups
}

func TestAnswerFor(t *testing.T) {
	tests := []struct {
		name, answer, offer, setup string
		want                       []section
		wantGroups                 []string
	}{
		{
			// The callee renegotiates: the answer is built from the peer's
			// original offer, which says actpass.
			name:       "actpass becomes the peer's role",
			answer:     desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass")),
			offer:      desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass")),
			setup:      "passive",
			want:       []section{{"0", "9", "sendrecv", "passive"}, {"1", "9", "sendrecv", "passive"}},
			wantGroups: []string{"BUNDLE 0 1"},
		},
		{
			// A content-accept claiming another role cannot change the
			// BUNDLE transport's.
			name:       "the established role wins",
			answer:     desc("0 1", mline("audio", "0", "sendrecv", "passive"), mline("video", "1", "sendrecv", "active")),
			offer:      desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass")),
			setup:      "passive",
			want:       []section{{"0", "9", "sendrecv", "passive"}, {"1", "9", "sendrecv", "passive"}},
			wantGroups: []string{"BUNDLE 0 1"},
		},
		{
			name:       "no established role: actpass becomes active, the rest is kept",
			answer:     desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "passive")),
			offer:      desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass")),
			want:       []section{{"0", "9", "sendrecv", "active"}, {"1", "9", "sendrecv", "passive"}},
			wantGroups: []string{"BUNDLE 0 1"},
		},
		{
			name:       "default role is active; active and passive are kept",
			answer:     desc("0", mline("audio", "0", "sendrecv", "actpass")),
			offer:      desc("0", mline("audio", "0", "sendrecv", "actpass")),
			want:       []section{{"0", "9", "sendrecv", "active"}},
			wantGroups: []string{"BUNDLE 0"},
		},
		{
			// content-reject of a video the browser added: the answer has
			// no video; the offer has it between audio and data.
			name:       "offered m-section missing: rejected in its place",
			answer:     desc("0 2", mline("audio", "0", "sendrecv", "active"), mline("application", "2", "", "active")),
			offer:      desc("0 1 2", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass"), mline("application", "2", "", "actpass")),
			want:       []section{{"0", "9", "sendrecv", "active"}, {"1", "0", "inactive", ""}, {"2", "9", "", "active"}},
			wantGroups: []string{"BUNDLE 0 2"},
		},
		{
			name:       "order follows the offer; what the offer lacks is dropped",
			answer:     desc("1 0 7", mline("video", "1", "sendrecv", "active"), mline("audio", "0", "sendrecv", "active"), mline("audio", "7", "sendrecv", "active")),
			offer:      desc("0 1", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "sendrecv", "actpass")),
			want:       []section{{"0", "9", "sendrecv", "active"}, {"1", "9", "sendrecv", "active"}},
			wantGroups: []string{"BUNDLE 1 0"},
		},
		{
			name:       "rejected in the offer: rejected in the answer",
			answer:     desc("0 1", mline("audio", "0", "sendrecv", "active"), mline("video", "1", "sendrecv", "active")),
			offer:      desc("0", mline("audio", "0", "sendrecv", "actpass"), mline("video", "1", "port0:inactive", "actpass")),
			want:       []section{{"0", "9", "sendrecv", "active"}, {"1", "0", "inactive", ""}},
			wantGroups: []string{"BUNDLE 0"},
		},
		{
			// The browser stopped sending video: the peer's old sendrecv
			// (or recvonly) cannot stand.
			name:       "directions narrowed by the offer",
			answer:     desc("0 1 2 3", mline("audio", "0", "sendrecv", "active"), mline("video", "1", "recvonly", "active"), mline("video", "2", "sendrecv", "active"), mline("audio", "3", "sendonly", "active")),
			offer:      desc("0 1 2 3", mline("audio", "0", "recvonly", "actpass"), mline("video", "1", "recvonly", "actpass"), mline("video", "2", "sendonly", "actpass"), mline("audio", "3", "inactive", "actpass")),
			want:       []section{{"0", "9", "sendonly", "active"}, {"1", "9", "inactive", "active"}, {"2", "9", "recvonly", "active"}, {"3", "9", "inactive", "active"}},
			wantGroups: []string{"BUNDLE 0 1 2 3"},
		},
		{
			name:       "media type changed under the same mid: rejected",
			answer:     desc("0", mline("audio", "0", "sendrecv", "active")),
			offer:      desc("0", mline("video", "0", "sendrecv", "actpass")),
			want:       []section{{"0", "0", "inactive", ""}},
			wantGroups: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, offer := mustParse(t, tt.answer), mustParse(t, tt.offer)
			before, _ := sdpxlate.MarshalSDP(ans)
			got, err := sdpxlate.AnswerFor(ans, offer, tt.setup)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := sdpxlate.MarshalSDP(ans); after != before {
				t.Error("AnswerFor modified its input")
			}
			text, err := sdpxlate.MarshalSDP(got)
			if err != nil {
				t.Fatal(err)
			}
			sections, groups := summary(t, text)
			if !slices.Equal(sections, tt.want) {
				t.Errorf("m-sections:\n got %v\nwant %v\n%s", sections, tt.want, text)
			}
			if !slices.Equal(groups, tt.wantGroups) {
				t.Errorf("groups: got %q, want %q", groups, tt.wantGroups)
			}
		})
	}
	// Payload types the offer lacks go, with their lines.
	ans := mustParse(t, session("m=audio 9 UDP/TLS/RTP/SAVPF 111 103 0", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendrecv",
		"a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10", "a=rtcp-fb:111 transport-cc", "a=rtpmap:103 ISAC/16000", "a=rtcp-fb:103 nack", "a=rtpmap:0 PCMU/8000", "a=rtcp-fb:* nack"))
	off := mustParse(t, session("m=audio 9 UDP/TLS/RTP/SAVPF 0 111", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendrecv", "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000"))
	got, err := sdpxlate.AnswerFor(ans, off, "")
	if err != nil {
		t.Fatal(err)
	}
	md := got.MediaDescriptions[0]
	if !slices.Equal(md.MediaName.Formats, []string{"111", "0"}) || slices.Contains(attrs(md, "rtpmap"), "103 ISAC/16000") ||
		!slices.Equal(attrs(md, "rtcp-fb"), []string{"111 transport-cc", "* nack"}) || !slices.Equal(attrs(md, "fmtp"), []string{"111 minptime=10"}) {
		t.Errorf("unoffered payload types kept: %v %q %q", md.MediaName.Formats, attrs(md, "rtpmap"), attrs(md, "rtcp-fb"))
	}
	// None offered: left alone (the translation stays visible).
	off = mustParse(t, session("m=audio 9 UDP/TLS/RTP/SAVPF 8", "c=IN IP4 0.0.0.0", "a=mid:0", "a=rtpmap:8 PCMA/8000"))
	if got, _ := sdpxlate.AnswerFor(ans, off, ""); len(got.MediaDescriptions[0].MediaName.Formats) != 3 {
		t.Errorf("with no common payload type the answer changed: %v", got.MediaDescriptions[0].MediaName.Formats)
	}
	if _, err := sdpxlate.AnswerFor(nil, nil, ""); !errors.Is(err, sdpxlate.ErrNilInput) {
		t.Errorf("nil answer: %v", err)
	}
}
