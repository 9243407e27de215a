package sdpxlate_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
	"github.com/pion/sdp/v3"
)

// interopDir returns the directory of the shared interop corpus
// (../shared/interop from the repository root), or the permissively
// licensed copy in testdata/interop, or "" if neither exists.
func interopDir(t testing.TB) string {
	t.Helper()
	for _, d := range []string{"../../shared/interop", "../testdata/interop"} {
		if _, err := os.Stat(filepath.Join(d, "sdp")); err == nil {
			return d
		}
	}
	return ""
}

func corpusFiles(t testing.TB, patterns ...string) []string {
	t.Helper()
	dir := interopDir(t)
	if dir == "" {
		t.Skip("interop corpus not found: neither ../shared/interop (from the repository root) nor testdata/interop exists")
	}
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// sdpException documents why an SDP of the corpus does not round-trip
// exactly, and what the test does about it.
type sdpException struct {
	why string
	// fix rewrites the text before parsing (for spec fragments that are not
	// valid SDP as published).
	fix func(string) string
	// parseErr: the SDP is expected not to parse.
	parseErr bool
	// ignore lists model keys that are expected to differ.
	ignore []string
	// opts overrides the translation options.
	role jingle.Role
}

var sdpExceptions = map[string]sdpException{
	"xep0167-theora-fmtp-multiline.sdp": {
		why: "the XEP wraps the a=fmtp line over two lines, which is not SDP; the test joins them",
		fix: func(s string) string { return strings.Replace(s, "height=600;\ndelivery", "height=600; delivery", 1) },
	},
	"xep0294-hdrext-fragment.sdp": {
		why: "the XEP's m=video line has no port, protocol or format; the test completes it as \"m=video 9 RTP/AVP 31\" (H.261, static, like the payload type the test adds to the XML side). The SDP is the responder's, as the XEP's mapping of /recvonly to senders='initiator' shows",
		fix: func(s string) string {
			return strings.Replace(s, "m=video\n", "m=video 9 RTP/AVP 31\nc=IN IP4 0.0.0.0\n", 1)
		},
		role: jingle.RoleResponder,
	},
	"qxmpp-msection-fingerprint-fragment.sdp": {
		why:    "QXmpp's fixture has a DTLS fingerprint on an RTP/AVP m-line; with DTLS the translation signals UDP/TLS/RTP/SAVPF, which browsers require",
		ignore: []string{"proto"},
	},
	"sdptransform-old-chrome-hacky.sdp": {
		why:    "its audio and video are SDES-only (a=crypto, no fingerprint): SDES is dropped (browsers need DTLS), so their RTP/SAVPF profile no longer matches the transport and becomes RTP/AVP(F)",
		ignore: []string{"proto"},
	},
}

func readSDP(t *testing.T, path string) (*sdp.SessionDescription, sdpException, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex := sdpExceptions[filepath.Base(path)]
	text := string(data)
	if ex.fix != nil {
		text = ex.fix(strings.ReplaceAll(text, "\r\n", "\n"))
	}
	sd, err := sdpxlate.ParseSDP(text)
	if ex.parseErr {
		if err == nil {
			t.Errorf("parsed, but the exception says it should not: %s", ex.why)
		}
		return nil, ex, false
	}
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	return sd, ex, true
}

// TestCorpusSDP checks SDP -> Jingle -> XML -> Jingle -> SDP for every SDP of
// the corpus: the model of the SDP equals the model of the Jingle, of the
// reparsed Jingle and of the SDP translated back.
func TestCorpusSDP(t *testing.T) {
	files := corpusFiles(t, "sdp/*.sdp", "pairs/*.sdp")
	files = append(files, "testdata/chrome156-av-data-offer.sdp")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sd, ex, ok := readSDP(t, f)
			if !ok {
				return
			}
			role := ex.role
			if role == jingle.RoleUnknown {
				role = jingle.RoleInitiator
			}
			mo := modelOpts{role: role, typ: sdpxlate.SDPTypeOffer, ignore: ex.ignore}
			var losses []sdpxlate.Loss
			j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{Role: role, Action: jingle.ActionSessionInitiate, OnLoss: func(l sdpxlate.Loss) { losses = append(losses, l) }})
			if err != nil {
				t.Fatalf("SDPToJingle: %v", err)
			}
			for _, l := range losses {
				t.Logf("loss: %v", l)
			}
			want := modelSDP(sd, mo)
			if d := diffModels(want, modelJingle(j, mo)); d != "" {
				t.Errorf("SDP -> Jingle changed the session (%s):\n%s", ex.why, d)
			}
			x, err := jingle.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			j2, err := jingle.Unmarshal(x)
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, x)
			}
			if d := diffModels(modelJingle(j, mo), modelJingle(j2, mo)); d != "" {
				t.Errorf("Jingle XML round trip changed the session:\n%s", d)
			}
			sd2, err := sdpxlate.JingleToSDP(j2, sdpxlate.ToSDPOptions{Role: role, Type: sdpxlate.SDPTypeOffer})
			if err != nil {
				t.Fatalf("JingleToSDP: %v", err)
			}
			text, err := sdpxlate.MarshalSDP(sd2)
			if err != nil {
				t.Fatal(err)
			}
			sd3, err := sdpxlate.ParseSDP(text)
			if err != nil {
				t.Fatalf("reparse SDP: %v\n%s", err, text)
			}
			if d := diffModels(want, modelSDP(sd3, mo)); d != "" {
				t.Errorf("SDP -> Jingle -> SDP changed the session (%s):\n%s", ex.why, d)
			}
		})
	}
}

// jingleException documents a Jingle file of the corpus that does not
// translate, or not exactly.
type jingleException struct {
	why string
	// noJingle: the file holds no <jingle/> (XEP-0353 messages).
	noJingle bool
	// malformed: the XML is not well-formed as published.
	malformed bool
	// err: translating to SDP must fail with this error.
	err error
	// ignore lists model keys that are expected to differ.
	ignore []string
	// fix rewrites the XML before reading it.
	fix func([]byte) []byte
}

var jingleExceptions = map[string]jingleException{
	"xep0353-retract-tie-break-MALFORMED.xml":   {why: "published with <retract> closed by </reject>", malformed: true},
	"monocles-jmi-propose-audio-video-mam.xml":  {why: "XEP-0353 message: no <jingle/>, tested in package jingle", noJingle: true},
	"qxmpp-jmi-finish-migrated.xml":             {why: "XEP-0353 element, tested in package jingle", noJingle: true},
	"qxmpp-jmi-reject-tie-break-text-first.xml": {why: "XEP-0353 element, tested in package jingle", noJingle: true},
	"xep0353-finish-success.xml":                {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"xep0353-proceed.xml":                       {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"xep0353-propose.xml":                       {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"xep0353-reject-busy.xml":                   {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"xep0353-retract.xml":                       {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"xep0353-ringing.xml":                       {why: "XEP-0353 message, tested in package jingle", noJingle: true},
	"qxmpp-session-initiate-muji-stub.xml":      {why: "stub application namespace: unsupported-applications", err: sdpxlate.ErrUnsupportedApplication},
	"xep0343-session-initiate-file-sctpmap.xml": {why: "a file-transfer application over a data channel transport: not a WebRTC media session", err: sdpxlate.ErrUnsupportedApplication},
	"xep0343-content-add.xml":                   {why: "placeholder application namespace: unsupported-applications", err: sdpxlate.ErrUnsupportedApplication},
	"protoxep-jingle-sdp-chrome30.xml":          {why: "the rejected 2013 ProtoXEP carries SDP text in its own description namespace, not XEP-0167", err: sdpxlate.ErrUnsupportedApplication},
	"xep0294-hdrext-fragment.xml": {
		why: "the XEP's fragment has no payload type, and an m= line needs one; the test adds H.261 (static 31), as on the SDP side",
		fix: func(b []byte) []byte {
			return bytes.Replace(b, []byte("<extmap-allow-mixed"), []byte("<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='31' name='H261' clockrate='90000'/><extmap-allow-mixed"), 1)
		},
	},
	"jitsi-source-add-contents-named-sources.xml": {
		why: "a source-add body: its descriptions carry sources but no payload type, so there is no m= line to write (Jitsi applies it to the m-sections it has)",
		err: sdpxlate.ErrNoMedia,
	},
	"qxmpp-content-description-level-rtcp-fb.xml": {
		why: "QXmpp's fragment has no media attribute (QXmpp keeps the media type outside the description); the test sets media='audio'",
		fix: addMedia,
	},
	"qxmpp-content-hdrext-allow-mixed.xml": {
		why: "QXmpp's fragment has no media attribute (QXmpp keeps the media type outside the description); the test sets media='audio'",
		fix: addMedia,
	},
	"xep0293-rtcp-fb-session.xml": {
		why:    "as published, the jingle start tag closes before action/initiator/sid (they become text), so the action is unknown; raw-udp candidates are compared by address and port only",
		ignore: nil,
	},
}

func addMedia(b []byte) []byte {
	return bytes.Replace(b, []byte(`<description xmlns="urn:xmpp:jingle:apps:rtp:1">`), []byte(`<description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio">`), 1)
}

// translatable reports whether the action carries descriptions that make a
// whole SDP.
func translatable(a jingle.Action) bool {
	switch a {
	case jingle.ActionSessionInitiate, jingle.ActionSessionAccept, jingle.ActionContentAdd,
		jingle.ActionContentAccept, jingle.ActionUnknown:
		return true
	}
	return false
}

var rootRE = regexp.MustCompile(`^\s*<([a-z-]+)`)

// wrapFragment puts a <content/> or <description/> fragment into a Jingle
// element so that it can be read like a stanza.
func wrapFragment(data []byte) []byte {
	m := rootRE.FindSubmatch(data)
	if m == nil {
		return data
	}
	switch string(m[1]) {
	case "content":
		return append(append([]byte("<jingle xmlns='urn:xmpp:jingle:1'>"), data...), []byte("</jingle>")...)
	case "description":
		return append(append([]byte("<jingle xmlns='urn:xmpp:jingle:1'><content creator='initiator' name='fragment'>"), data...), []byte("</content></jingle>")...)
	}
	return data
}

func roleOf(a jingle.Action) jingle.Role {
	if a.IsAnswer() {
		return jingle.RoleResponder
	}
	return jingle.RoleInitiator
}

func typeOf(a jingle.Action) sdpxlate.SDPType {
	if a.IsAnswer() {
		return sdpxlate.SDPTypeAnswer
	}
	return sdpxlate.SDPTypeOffer
}

// TestCorpusJingle checks Jingle -> SDP -> Jingle for every Jingle file of
// the corpus that carries descriptions, and that every file is read (or
// refused with the documented error).
func TestCorpusJingle(t *testing.T) {
	files := corpusFiles(t, "jingle/*.xml", "pairs/*.xml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ex := jingleExceptions[filepath.Base(f)]
			if ex.fix != nil {
				data = ex.fix(data)
			}
			j, err := jingle.Unmarshal(wrapFragment(bytes.TrimSpace(data)))
			switch {
			case ex.malformed:
				if !errors.Is(err, jingle.ErrMalformedXML) {
					t.Fatalf("want ErrMalformedXML (%s), got %v", ex.why, err)
				}
				return
			case ex.noJingle:
				if !errors.Is(err, jingle.ErrNoJingle) {
					t.Fatalf("want ErrNoJingle (%s), got %v", ex.why, err)
				}
				return
			case err != nil:
				t.Fatalf("Unmarshal: %v", err)
			}
			// The XML round trip of the element itself.
			x, err := jingle.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			j2, err := jingle.Unmarshal(x)
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, x)
			}
			x2, _ := jingle.Marshal(j2)
			if !bytes.Equal(x, x2) {
				t.Errorf("XML round trip is not stable:\n%s\n%s", x, x2)
			}
			if !translatable(j.Action) {
				t.Logf("action %s carries no session description: not translated", j.Action)
				return
			}
			role, typ := roleOf(j.Action), typeOf(j.Action)
			// Contents whose names browsers refuse as a=mid get other mids;
			// the way back maps them to the names again, as a gateway does.
			mids := sdpxlate.SDPMids(j)
			mo := modelOpts{role: role, typ: typ, ignore: ex.ignore, mids: mids}
			var losses []sdpxlate.Loss
			sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{OnLoss: func(l sdpxlate.Loss) { losses = append(losses, l) }})
			if ex.err != nil {
				if !errors.Is(err, ex.err) {
					t.Fatalf("want %v (%s), got %v", ex.err, ex.why, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("JingleToSDP: %v", err)
			}
			for _, l := range losses {
				t.Logf("loss: %v", l)
			}
			want := modelJingle(j, mo)
			if d := diffModels(want, modelSDP(sd, mo)); d != "" {
				t.Errorf("Jingle -> SDP changed the session (%s):\n%s", ex.why, d)
			}
			text, err := sdpxlate.MarshalSDP(sd)
			if err != nil {
				t.Fatal(err)
			}
			sd2, err := sdpxlate.ParseSDP(text)
			if err != nil {
				t.Fatalf("reparse SDP: %v\n%s", err, text)
			}
			j3, err := sdpxlate.SDPToJingle(sd2, sdpxlate.ToJingleOptions{Role: role, Action: j.Action, Names: sdpxlate.Invert(mids)})
			if err != nil {
				t.Fatalf("SDPToJingle: %v\n%s", err, text)
			}
			if d := diffModels(want, modelJingle(j3, mo)); d != "" {
				t.Errorf("Jingle -> SDP -> Jingle changed the session (%s):\n%s", ex.why, d)
			}
		})
	}
}
