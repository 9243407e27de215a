package sdpxlate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/pion/sdp/v3"
)

func firstAttr(attrs []sdp.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func hasAttr(attrs []sdp.Attribute, key string) bool {
	_, ok := firstAttr(attrs, key)
	return ok
}

// direction returns the first direction attribute of attrs.
func direction(attrs []sdp.Attribute) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return ""
}

// sendersFor maps an SDP direction written by role to Jingle senders.
func sendersFor(dir string, role jingle.Role) jingle.Senders {
	switch dir {
	case "inactive":
		return jingle.SendersNone
	case "sendonly":
		if role == jingle.RoleResponder {
			return jingle.SendersResponder
		}
		return jingle.SendersInitiator
	case "recvonly":
		if role == jingle.RoleResponder {
			return jingle.SendersInitiator
		}
		return jingle.SendersResponder
	}
	return jingle.SendersBoth
}

// directionFor maps Jingle senders to the SDP direction written by role.
func directionFor(s jingle.Senders, role jingle.Role) string {
	switch s {
	case jingle.SendersNone:
		return "inactive"
	case jingle.SendersInitiator:
		if role == jingle.RoleResponder {
			return "recvonly"
		}
		return "sendonly"
	case jingle.SendersResponder:
		if role == jingle.RoleResponder {
			return "sendonly"
		}
		return "recvonly"
	}
	return "sendrecv"
}

// parseParams splits an fmtp parameter string ("a=1;b=2", "0-15",
// "x=1; y=2;") into parameters. Empty parts are dropped.
func parseParams(s string) []jingle.Parameter {
	var ps []jingle.Parameter
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			ps = append(ps, jingle.Parameter{Value: part})
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if name == "" && value == "" {
			continue
		}
		ps = append(ps, jingle.Parameter{Name: name, Value: value})
	}
	return ps
}

// unpackParams normalises parameters read from Jingle: a value that itself
// holds ";"-separated parts (Jicofo packs a whole fmtp into
// profile-level-id) is split into separate parameters.
func unpackParams(ps []jingle.Parameter) []jingle.Parameter {
	packed := false
	for _, p := range ps {
		if strings.Contains(p.Value, ";") {
			packed = true
			break
		}
	}
	if !packed {
		return ps
	}
	out := make([]jingle.Parameter, 0, len(ps)+2)
	for _, p := range ps {
		if !strings.Contains(p.Value, ";") {
			out = append(out, p)
			continue
		}
		s := p.Value
		if p.Name != "" {
			s = p.Name + "=" + s
		}
		out = append(out, parseParams(s)...)
	}
	return out
}

// formatParams is the inverse of parseParams.
func formatParams(ps []jingle.Parameter) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(';')
		}
		switch {
		case p.Name == "":
			b.WriteString(p.Value)
		case p.Value == "":
			// <parameter name='x'/>: a key-less part, as StanzaJS writes
			// RED's "111/111"; "x=" would mean an empty value.
			b.WriteString(p.Name)
		default:
			b.WriteString(p.Name)
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// parseExtParams splits the extension attributes of an a=extmap or the
// parameters of an a=rtcp-fb into parameters: "k=v" or a bare token.
func parseExtParams(fields []string) []jingle.Parameter {
	var ps []jingle.Parameter
	for _, f := range fields {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			ps = append(ps, jingle.Parameter{Name: f})
			continue
		}
		ps = append(ps, jingle.Parameter{Name: name, Value: value})
	}
	return ps
}

func formatExtParams(ps []jingle.Parameter) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteByte(' ')
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// parseRTPMap parses "96 VP8/90000[/2]".
func parseRTPMap(v string) (pt uint8, name string, clock uint32, channels uint8, err error) {
	id, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: want \"<payload type> <name>/<clock rate>\"", v)
	}
	n, err := strconv.ParseUint(id, 10, 7)
	if err != nil {
		return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: payload type %q", v, id)
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || parts[0] == "" {
		return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: missing clock rate", v)
	}
	if !isToken(parts[0]) {
		return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: encoding name %q", v, parts[0])
	}
	c, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || c == 0 {
		return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: clock rate %q", v, parts[1])
	}
	if len(parts) > 2 {
		ch, err := strconv.ParseUint(parts[2], 10, 8)
		if err != nil {
			return 0, "", 0, 0, fmt.Errorf("a=rtpmap:%q: channels %q", v, parts[2])
		}
		channels = uint8(ch)
	}
	return uint8(n), parts[0], uint32(c), channels, nil
}

// parseExtmap parses "1[/sendonly] uri [attributes]".
func parseExtmap(v string) (id uint32, dir, uri string, params []jingle.Parameter, err error) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return 0, "", "", nil, fmt.Errorf("a=extmap:%q: want \"<id>[/<direction>] <uri>\"", v)
	}
	idStr, dir, _ := strings.Cut(f[0], "/")
	n, err := strconv.ParseUint(idStr, 10, 32)
	if err != nil {
		return 0, "", "", nil, fmt.Errorf("a=extmap:%q: id %q", v, idStr)
	}
	switch dir {
	case "", "sendrecv", "sendonly", "recvonly", "inactive":
	default:
		return 0, "", "", nil, fmt.Errorf("a=extmap:%q: direction %q", v, dir)
	}
	return uint32(n), dir, f[1], parseExtParams(f[2:]), nil
}

// staticPayloadTypes are the RFC 3551 static payload types browsers and
// SIP gateways use without an a=rtpmap line.
var staticPayloadTypes = map[uint8]struct {
	name  string
	clock uint32
}{
	0: {"PCMU", 8000}, 3: {"GSM", 8000}, 4: {"G723", 8000}, 5: {"DVI4", 8000},
	6: {"DVI4", 16000}, 7: {"LPC", 8000}, 8: {"PCMA", 8000}, 9: {"G722", 8000},
	10: {"L16", 44100}, 11: {"L16", 44100}, 12: {"QCELP", 8000}, 13: {"CN", 8000}, 14: {"MPA", 90000},
	15: {"G728", 8000}, 16: {"DVI4", 11025}, 17: {"DVI4", 22050}, 18: {"G729", 8000},
	25: {"CelB", 90000}, 26: {"JPEG", 90000}, 28: {"nv", 90000}, 31: {"H261", 90000},
	32: {"MPV", 90000}, 33: {"MP2T", 90000}, 34: {"H263", 90000},
}
