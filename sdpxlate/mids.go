package sdpxlate

import (
	"hash/fnv"
	"strconv"

	"github.com/jinglegate/jinglegate/jingle"
)

// MaxMidLength is the longest a=mid libwebrtc accepts ("The MID attribute
// exceeds the maximum supported length of 16 characters").
const MaxMidLength = 16

// validMid reports whether browsers accept s as an a=mid.
func validMid(s string) bool {
	return isToken(s) && len(s) <= MaxMidLength
}

// derivedMid is the a=mid used for a content name browsers would refuse: "j"
// and the base-36 FNV-1a hash of the name. It depends on the name only, so
// every message of a session maps a content the same way.
func derivedMid(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return "j" + strconv.FormatUint(uint64(h.Sum32()), 36)
}

// midOf returns the a=mid of content name: from mids if listed, else the
// name if browsers accept it, else derivedMid.
func midOf(name string, mids map[string]string) string {
	if m, ok := mids[name]; ok && m != "" {
		return m
	}
	if validMid(name) {
		return name
	}
	return derivedMid(name)
}

// SDPMids returns, for the contents of j whose name browsers would refuse as
// an a=mid (longer than MaxMidLength, or with whitespace), the a=mid that
// JingleToSDP, JingleCandidatesToSDP and Apply use instead, keyed by content
// name. XEP examples and some clients use names like
// "this-is-the-audio-content". A gateway keeps the map for the session and
// passes its inverse (Invert) as ToJingleOptions.Names and
// TransportInfoOptions.Names, so that what the browser says about those
// m-sections goes back to the right contents. The result is empty when no
// content needs renaming.
func SDPMids(j *jingle.Jingle) map[string]string {
	m := map[string]string{}
	if j == nil {
		return m
	}
	for _, c := range j.Contents {
		if !validMid(c.Name) {
			m[c.Name] = derivedMid(c.Name)
		}
	}
	return m
}

// Invert returns the inverse of a name/mid map.
func Invert(m map[string]string) map[string]string {
	r := make(map[string]string, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

// nameOf returns the content name of an a=mid.
func nameOf(mid string, names map[string]string) string {
	if n, ok := names[mid]; ok && n != "" {
		return n
	}
	return mid
}
