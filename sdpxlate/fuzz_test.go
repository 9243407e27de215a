package sdpxlate_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// ourError reports whether err is one of the documented errors.
func ourError(err error) bool {
	for _, e := range []error{sdpxlate.ErrInvalidSDP, sdpxlate.ErrInvalidAttribute, sdpxlate.ErrInvalidCandidate,
		sdpxlate.ErrInvalidContent, sdpxlate.ErrNoMedia, sdpxlate.ErrUnsupportedApplication, sdpxlate.ErrUnsupportedTransport,
		sdpxlate.ErrUnknownContent, sdpxlate.ErrUnsupportedAction, sdpxlate.ErrNilInput,
		jingle.ErrMalformedXML, jingle.ErrNoJingle, jingle.ErrInvalidValue, jingle.ErrMissingAttribute, jingle.ErrUnknownAction} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func addSeeds(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzSDPToJingle: no panic; errors are the documented ones; whatever parses
// translates to Jingle with the same model, survives the XML round trip, and
// comes back to SDP that parses again to the same model.
func FuzzSDPToJingle(f *testing.F) {
	addSeeds(f, "../../shared/interop/*/*.sdp", "../testdata/interop/*/*.sdp", "testdata/*.sdp", "testdata/golden/*.sdp")
	f.Add([]byte(offer))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := sdpxlate.ParseSDP(string(data))
		if err != nil {
			if !ourError(err) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		// pion's own round trip must keep the model, or the model is wrong.
		text0, err := sdpxlate.MarshalSDP(sd)
		if err != nil {
			return
		}
		sd0, err := sdpxlate.ParseSDP(text0)
		if err != nil {
			return // pion writes what it cannot read back; not ours to fix
		}
		mo := modelOpts{role: jingle.RoleInitiator, typ: sdpxlate.SDPTypeOffer, normalizeProfile: true}
		j, err := sdpxlate.SDPToJingle(sd0, sdpxlate.ToJingleOptions{})
		if err != nil {
			if !ourError(err) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		want := modelSDP(sd0, mo)
		if d := diffModels(want, modelJingle(j, mo)); d != "" {
			t.Fatalf("SDP -> Jingle changed the model:\n%s\n%s", d, text0)
		}
		x, err := jingle.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		j2, err := jingle.Unmarshal(x)
		if err != nil {
			t.Fatalf("our Jingle does not parse: %v\n%s", err, x)
		}
		if d := diffModels(want, modelJingle(j2, mo)); d != "" {
			t.Fatalf("XML round trip changed the model:\n%s\n%s", d, x)
		}
		// The names came from a=mid: keep them, as a gateway answering the
		// browser does, even those longer than browsers would write.
		same := map[string]string{}
		for _, c := range j2.Contents {
			same[c.Name] = c.Name
		}
		sd2, err := sdpxlate.JingleToSDP(j2, sdpxlate.ToSDPOptions{Mids: same})
		if err != nil {
			t.Fatalf("our Jingle does not translate back: %v\n%s", err, x)
		}
		text, err := sdpxlate.MarshalSDP(sd2)
		if err != nil {
			t.Fatal(err)
		}
		sd3, err := sdpxlate.ParseSDP(text)
		if err != nil {
			t.Fatalf("our SDP does not parse: %v\n%s", err, text)
		}
		if d := diffModels(want, modelSDP(sd3, mo)); d != "" {
			t.Fatalf("SDP -> Jingle -> SDP changed the model:\n%s\n%s\n%s", d, text0, text)
		}
	})
}

// FuzzJingleToSDP: no panic; errors are the documented ones; whatever
// translates gives SDP that parses, with the model of the Jingle, and comes
// back to Jingle with the same model.
func FuzzJingleToSDP(f *testing.F) {
	addSeeds(f, "../../shared/interop/*/*.xml", "../testdata/interop/*/*.xml", "testdata/golden/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := jingle.Unmarshal(data)
		if err != nil {
			if !ourError(err) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		role, typ := roleOf(j.Action), typeOf(j.Action)
		mo := modelOpts{role: role, typ: typ, normalizeProfile: true}
		sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{})
		if err != nil {
			if !ourError(err) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		text, err := sdpxlate.MarshalSDP(sd)
		if err != nil {
			t.Fatal(err)
		}
		sd2, err := sdpxlate.ParseSDP(text)
		if err != nil {
			t.Fatalf("our SDP does not parse: %v\n%s", err, text)
		}
		want := modelSDP(sd2, mo)
		j2, err := sdpxlate.SDPToJingle(sd2, sdpxlate.ToJingleOptions{Role: role, Action: j.Action})
		if err != nil {
			t.Fatalf("our SDP does not translate back: %v\n%s", err, text)
		}
		if d := diffModels(want, modelJingle(j2, mo)); d != "" {
			t.Fatalf("SDP -> Jingle changed the model of our own SDP:\n%s\n%s", d, text)
		}
		x, _ := jingle.Marshal(j2)
		j3, err := jingle.Unmarshal(x)
		if err != nil {
			t.Fatalf("our Jingle does not parse: %v\n%s", err, x)
		}
		sd3, err := sdpxlate.JingleToSDP(j3, sdpxlate.ToSDPOptions{Role: role, Type: typ})
		if err != nil {
			t.Fatalf("second translation failed: %v\n%s", err, x)
		}
		text3, _ := sdpxlate.MarshalSDP(sd3)
		sd4, err := sdpxlate.ParseSDP(text3)
		if err != nil {
			t.Fatalf("our SDP does not parse: %v\n%s", err, text3)
		}
		if d := diffModels(want, modelSDP(sd4, mo)); d != "" {
			t.Fatalf("second round trip changed the model:\n%s\n%s\n%s", d, text, text3)
		}
	})
}
