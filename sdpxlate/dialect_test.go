package sdpxlate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// videoContent wraps RTP description children in a session-initiate with
// one video content (VP8 96, RTX 97).
func videoContent(descAttrs, children string) string {
	return `<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s1' initiator='a@example.org/r'>
<content creator='initiator' name='v'>
<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'` + descAttrs + `>
<payload-type id='96' name='VP8' clockrate='90000'/>
<payload-type id='97' name='rtx' clockrate='90000'><parameter name='apt' value='96'/></payload-type>
` + children + `
<rtcp-mux/>
</description>
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='uuuu' pwd='pppppppppppppppppppppp'>
<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>AA:BB</fingerprint>
</transport>
</content>
</jingle>`
}

func ssrcLines(t *testing.T, xml string) ([]string, []string, []sdpxlate.Loss) {
	t.Helper()
	j, err := jingle.Unmarshal([]byte(xml))
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	sd, losses := toSDP(t, j, sdpxlate.ToSDPOptions{})
	md := sd.MediaDescriptions[0]
	return attrs(md, "ssrc"), attrs(md, "ssrc-group"), losses
}

// TestSourceCompletion: SDP cannot name an ssrc in a=ssrc-group without
// describing it in a=ssrc lines (Chromium: "Failed to add remote stream
// ssrc"), so ssrcs that Jingle only names get the cname and msid of their
// group.
func TestSourceCompletion(t *testing.T) {
	const ssma = `xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'`
	src := `<source ` + ssma + ` ssrc='1'><parameter name='cname' value='c'/><parameter name='msid' value='s t'/><parameter name='label' value='l'/></source>`
	tests := []struct {
		name       string
		descAttrs  string
		children   string
		wantSSRC   []string
		wantGroups []string
		wantLoss   string
	}{
		{
			// What StanzaJS sends for Chromium's video.
			name:       "group member without source (StanzaJS)",
			descAttrs:  ` ssrc='1'`,
			children:   src + `<ssrc-group ` + ssma + ` semantics='FID'><source ssrc='1'/><source ssrc='2'/></ssrc-group>`,
			wantSSRC:   []string{"1 cname:c", "1 msid:s t", "1 label:l", "2 cname:c", "2 msid:s t"},
			wantGroups: []string{"FID 1 2"},
		},
		{
			name:       "group member with a bare source",
			children:   src + `<source ` + ssma + ` ssrc='2'/><ssrc-group ` + ssma + ` semantics='FID'><source ssrc='1'/><source ssrc='2'/></ssrc-group>`,
			wantSSRC:   []string{"1 cname:c", "1 msid:s t", "1 label:l", "2 cname:c", "2 msid:s t"},
			wantGroups: []string{"FID 1 2"},
		},
		{
			name:       "described members are left alone",
			children:   src + `<source ` + ssma + ` ssrc='2'><parameter name='cname' value='d'/></source><ssrc-group ` + ssma + ` semantics='FID'><source ssrc='1'/><source ssrc='2'/></ssrc-group>`,
			wantSSRC:   []string{"1 cname:c", "1 msid:s t", "1 label:l", "2 cname:d"},
			wantGroups: []string{"FID 1 2"},
		},
		{
			name:       "no member described: the first source's cname",
			children:   src + `<ssrc-group ` + ssma + ` semantics='FID'><source ssrc='5'/><source ssrc='6'/></ssrc-group>`,
			wantSSRC:   []string{"1 cname:c", "1 msid:s t", "1 label:l", "5 cname:c", "5 msid:s t", "6 cname:c", "6 msid:s t"},
			wantGroups: []string{"FID 5 6"},
		},
		{
			name:       "nothing to take a cname from: the group is dropped",
			children:   `<ssrc-group ` + ssma + ` semantics='FID'><source ssrc='5'/><source ssrc='6'/></ssrc-group>`,
			wantLoss:   "ssrc-group FID",
			wantSSRC:   nil,
			wantGroups: nil,
		},
		{
			name:      "description ssrc not among the sources",
			descAttrs: ` ssrc='9'`,
			children:  src,
			wantSSRC:  []string{"1 cname:c", "1 msid:s t", "1 label:l", "9 cname:c", "9 msid:s t"},
		},
		{
			name:      "description ssrc alone",
			descAttrs: ` ssrc='9'`,
			wantLoss:  "description ssrc 9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ssrcs, groups, losses := ssrcLines(t, videoContent(tt.descAttrs, tt.children))
			if !slices.Equal(ssrcs, tt.wantSSRC) {
				t.Errorf("a=ssrc:\n got %q\nwant %q", ssrcs, tt.wantSSRC)
			}
			if !slices.Equal(groups, tt.wantGroups) {
				t.Errorf("a=ssrc-group:\n got %q\nwant %q", groups, tt.wantGroups)
			}
			if tt.wantLoss != "" && !hasLoss(losses, tt.wantLoss) {
				t.Errorf("losses %v lack %q", losses, tt.wantLoss)
			}
			if tt.wantLoss == "" && len(losses) > 0 {
				t.Errorf("unexpected losses %v", losses)
			}
		})
	}
}

// TestDescriptionSSRC: the ssrc attribute of <description/> is the media
// ssrc, which StanzaJS needs to build its RTX lines.
func TestDescriptionSSRC(t *testing.T) {
	text := session("m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=mid:v", "a=ice-ufrag:u", "a=ice-pwd:p", "a=fingerprint:sha-256 AA",
		"a=setup:actpass", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
		"a=ssrc-group:FID 11 12", "a=ssrc:12 cname:c", "a=ssrc:11 cname:c")
	j, _ := toJingle(t, text, sdpxlate.ToJingleOptions{})
	if got := j.Contents[0].Description.SSRC; got != 11 {
		t.Errorf("description ssrc = %d, want 11 (the first of the FID group, not the first a=ssrc line)", got)
	}
	audio := session("m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=ssrc:7 cname:c")
	if j, _ := toJingle(t, audio, sdpxlate.ToJingleOptions{}); j.Contents[0].Description.SSRC != 7 {
		t.Errorf("description ssrc = %d, want 7", j.Contents[0].Description.SSRC)
	}
	none := session("m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=recvonly")
	if j, _ := toJingle(t, none, sdpxlate.ToJingleOptions{}); j.Contents[0].Description.SSRC != 0 {
		t.Errorf("description ssrc = %d without sources, want none", j.Contents[0].Description.SSRC)
	}
}

// TestKeylessFmtp covers the four ways Jingle implementations write an fmtp
// part without "=" (RED's "111/111", telephone-event's "0-15"), and the
// one jinglegate writes.
func TestKeylessFmtp(t *testing.T) {
	pt := func(name, params string) string {
		return `<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s1'>
<content creator='initiator' name='a'>
<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
<payload-type id='100' name='` + name + `' clockrate='8000'>` + params + `</payload-type>
<rtcp-mux/>
</description>
</content>
</jingle>`
	}
	tests := []struct {
		name, codec, params, want string
	}{
		{"StanzaJS: name, no value", "red", `<parameter name='111/111'/>`, "100 111/111"},
		{"Jitsi: empty name", "telephone-event", `<parameter name='' value='0-15'/>`, "100 0-15"},
		{"MongooseIM: no name", "telephone-event", `<parameter value='0-15'/>`, "100 0-15"},
		{"QXmpp: events", "telephone-event", `<parameter name='events' value='0-15'/>`, "100 0-15"},
		{"events of another codec is a parameter", "foo", `<parameter name='events' value='1'/>`, "100 events=1"},
		{"mixed", "red", `<parameter name='111/111'/><parameter name='x' value='1'/>`, "100 111/111;x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := jingle.Unmarshal([]byte(pt(tt.codec, tt.params)))
			if err != nil {
				t.Fatal(err)
			}
			sd, _ := toSDP(t, j, sdpxlate.ToSDPOptions{})
			if got := attrs(sd.MediaDescriptions[0], "fmtp"); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("a=fmtp: got %q, want %q", got, tt.want)
			}
		})
	}

	// Writing: StanzaJS's form, which reads back to the same fmtp.
	text := session("m=audio 9 UDP/TLS/RTP/SAVPF 63 111", "c=IN IP4 0.0.0.0", "a=mid:a", "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111",
		"a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1")
	j, _ := toJingle(t, text, sdpxlate.ToJingleOptions{})
	x, err := jingle.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(x), `<parameter name='111/111'/>`) {
		t.Errorf("RED's fmtp is not written as <parameter name='111/111'/>:\n%s", x)
	}
	back, err := jingle.Unmarshal(x)
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := toSDP(t, back, sdpxlate.ToSDPOptions{})
	if got := attrs(sd.MediaDescriptions[0], "fmtp"); !slices.Equal(got, []string{"63 111/111", "111 minptime=10;useinbandfec=1"}) {
		t.Errorf("round trip a=fmtp: %q", got)
	}
}
