package sdpxlate_test

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
	"github.com/pion/sdp/v3"
)

// The normalized model of a session is a list of text lines, one per fact
// that both SDP and Jingle can express: m-lines, codecs and their
// parameters, RTCP feedback, header extensions, sources and groups, ICE and
// DTLS fields, candidates, directions and groups. It is computed from SDP
// and from Jingle by independent code (these functions do not call the
// translator), so modelSDP(s) == modelJingle(SDPToJingle(s)) checks one
// direction and modelJingle(j) == modelSDP(JingleToSDP(j)) the other.
//
// Normalizations, each a rule of the mapping documented in the package:
//   - fmtp parameters are compared as a set (XEP-0167: their order MUST be
//     ignored), after splitting values that pack several (Jicofo);
//   - a codec without channels has 1 channel; a static payload type without
//     a=rtpmap or name has its RFC 3551 name and clock rate; a Jingle payload
//     type without clock rate has 90000 (video) or 8000 (audio);
//   - a source without msid has the media's only msid;
//   - ICE, DTLS and extmap-allow-mixed values are the effective ones
//     (m-section level, else session level); setup defaults to actpass in an
//     offer and active in an answer, and an answer never says actpass;
//   - candidates ignore the Jingle id, the ufrag extension and the letter
//     case of the protocol; absent generation and network-id are 0; a
//     priority above 2^32-1 is 2^32-1, which SDP gets;
//   - rtcp-mux is "always" for m-sections with ICE (or no transport at all):
//     browsers require it, so the translation adds it;
//   - an m-section keeps the sources and msids of its first track only
//     (browsers take one track per m-section); RTP m-sections without a
//     payload type are not part of the session;
//   - content names are compared through their a=mid (see SDPMids);
//   - m-sections with port 0 (and no bundle-only), other media than RTP
//     audio/video and SCTP data channels, and dynamic payload types without
//     a=rtpmap are not part of the session;
//   - data channels keep port and max-message-size; the syntax (a=sctpmap
//     or a=sctp-port), the stream count and the sctpmap protocol (always
//     webrtc-datachannel for browsers) are not compared.
type model []string

type modelOpts struct {
	typ  sdpxlate.SDPType
	role jingle.Role
	// ignore drops lines whose first word is listed.
	ignore []string
	// indexMids replaces mids by m-section indexes.
	indexMids bool
	// mids maps content names to a=mid values (see sdpxlate.SDPMids).
	mids map[string]string
	// normalizeProfile applies the documented rule that a profile which
	// does not match the transport (SAVP without DTLS, or the reverse) is
	// replaced by a derived one. The corpus test lists such files as
	// exceptions instead; the fuzz tests use the rule.
	normalizeProfile bool
}

func (o modelOpts) midOf(name string) string {
	if m, ok := o.mids[name]; ok {
		return m
	}
	return name
}

// profile returns the m= line protocol as the model sees it.
func (o modelOpts) profile(proto string, dtls, feedback bool) string {
	derived := "RTP/AVP"
	switch {
	case dtls:
		derived = "UDP/TLS/RTP/SAVPF"
	case feedback:
		derived = "RTP/AVPF"
	}
	if proto == "" {
		return derived
	}
	if o.normalizeProfile && (strings.Contains(proto, "SAVP") != dtls || !strings.Contains(proto, "RTP/") ||
		strings.HasPrefix(proto, "/") || strings.HasSuffix(proto, "/") || strings.Contains(proto, "//")) {
		return derived
	}
	return proto
}

func (o modelOpts) setup(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " \t") {
		s = ""
	}
	switch {
	case s == "" && o.typ == sdpxlate.SDPTypeAnswer:
		return "active"
	case s == "":
		return "actpass"
	case s == "actpass" && o.typ == sdpxlate.SDPTypeAnswer:
		return "active"
	}
	return s
}

func (o modelOpts) finish(lines []string, mids []string) model {
	var out model
	for _, l := range lines {
		w, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		if slices.Contains(o.ignore, w) {
			continue
		}
		if o.indexMids {
			for i, m := range mids {
				l = strings.ReplaceAll(l, "mid="+m+" ", "mid=#"+strconv.Itoa(i)+" ")
				if strings.HasPrefix(l, "group ") {
					f := strings.Fields(l)
					for k := 2; k < len(f); k++ {
						if f[k] == m {
							f[k] = "#" + strconv.Itoa(i)
						}
					}
					l = strings.Join(f, " ")
				}
			}
		}
		out = append(out, l)
	}
	return out
}

type codecModel struct {
	pt       uint8
	name     string
	clock    uint32
	channels uint8
	params   []string
	fb       []string
}

func (c codecModel) String() string {
	p := slices.Clone(c.params)
	sort.Strings(p)
	return fmt.Sprintf("  codec %d %s/%d/%d params=[%s] fb=[%s]", c.pt, c.name, c.clock, c.channels, strings.Join(p, ";"), strings.Join(c.fb, ","))
}

func paramStrings(ps []jingle.Parameter) []string {
	var s []string
	for _, p := range ps {
		if strings.Contains(p.Value, ";") {
			v := p.Value
			if p.Name != "" {
				v = p.Name + "=" + v
			}
			for part := range strings.SplitSeq(v, ";") {
				if part = strings.TrimSpace(part); part != "" {
					s = append(s, part)
				}
			}
			continue
		}
		if p.Name == "" {
			s = append(s, p.Value)
		} else {
			s = append(s, p.Name+"="+p.Value)
		}
	}
	return s
}

func fbString(typ, sub string, params []string) string {
	s := typ
	if sub != "" {
		s += " " + sub
	}
	for _, p := range params {
		s += " " + p
	}
	return s
}

func normMSID(v string) string { return strings.Join(strings.Fields(v), " ") }

// staticPT is the RFC 3551 table of static payload types.
var staticPT = map[uint8][2]string{
	0: {"PCMU", "8000"}, 3: {"GSM", "8000"}, 4: {"G723", "8000"}, 5: {"DVI4", "8000"},
	6: {"DVI4", "16000"}, 7: {"LPC", "8000"}, 8: {"PCMA", "8000"}, 9: {"G722", "8000"},
	10: {"L16", "44100"}, 11: {"L16", "44100"}, 12: {"QCELP", "8000"}, 13: {"CN", "8000"}, 14: {"MPA", "90000"},
	15: {"G728", "8000"}, 16: {"DVI4", "11025"}, 17: {"DVI4", "22050"}, 18: {"G729", "8000"},
	25: {"CelB", "90000"}, 26: {"JPEG", "90000"}, 28: {"nv", "90000"}, 31: {"H261", "90000"},
	32: {"MPV", "90000"}, 33: {"MP2T", "90000"}, 34: {"H263", "90000"},
}

func staticCodec(pt uint8) (string, uint32, bool) {
	s, ok := staticPT[pt]
	if !ok {
		return "", 0, false
	}
	n, _ := strconv.Atoi(s[1])
	return s[0], uint32(n), true
}

func candString(foundation string, comp uint64, proto string, prio uint64, ip string, port uint64, typ, raddr string, rport uint64, tcptype string, gen, netID, cost uint64) string {
	prio = min(prio, 1<<32-1) // what SDP gets, as browsers parse 32 bits
	s := fmt.Sprintf("  candidate %s %d %s %d %s %d typ %s", foundation, comp, strings.ToLower(proto), prio, ip, port, typ)
	if raddr != "" {
		s += fmt.Sprintf(" raddr %s rport %d", raddr, rport)
	}
	if tcptype != "" {
		s += " tcptype " + tcptype
	}
	return s + fmt.Sprintf(" gen %d net %d cost %d", gen, netID, cost)
}

// srcModel is one source: its ssrc and parameters (msid normalized).
type srcModel struct {
	ssrc   uint32
	params [][2]string
}

func (s srcModel) msid() (string, bool) {
	for _, p := range s.params {
		if p[0] == "msid" {
			return p[1], true
		}
	}
	return "", false
}

func trackOf(msid string) string {
	f := strings.Fields(msid)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// renderSources renders the sources, source groups and msids of an
// m-section. Only the first track is kept, as browsers take one track per
// m-section; then sources without msid take the media's only one.
func renderSources(streams []string, srcs []srcModel, groups [][]string) []string {
	track := ""
	for _, v := range streams {
		if track = trackOf(v); track != "" {
			break
		}
	}
	if track == "" {
		for _, s := range srcs {
			if v, ok := s.msid(); ok {
				if track = trackOf(v); track != "" {
					break
				}
			}
		}
	}
	keep := func(msid string) bool { return track == "" || trackOf(msid) == "" || trackOf(msid) == track }
	msids := map[string]bool{}
	var kstreams []string
	for _, v := range streams {
		if keep(v) {
			msids[v] = true
			kstreams = append(kstreams, v)
		}
	}
	for i := range srcs {
		if _, ok := srcs[i].msid(); !ok && len(kstreams) == 1 {
			srcs[i].params = append(srcs[i].params, [2]string{"msid", kstreams[0]})
		}
	}
	dropped := map[uint32]bool{}
	var kept []srcModel
	for _, s := range srcs {
		if v, ok := s.msid(); ok && !keep(v) {
			dropped[s.ssrc] = true
			continue
		}
		if v, ok := s.msid(); ok && v != "" {
			msids[v] = true
		}
		kept = append(kept, s)
	}
	slices.SortStableFunc(kept, func(a, b srcModel) int { return int(int64(a.ssrc) - int64(b.ssrc)) })
	var lines []string
	for _, s := range kept {
		if len(s.params) == 0 {
			continue
		}
		var ps []string
		for _, p := range s.params {
			ps = append(ps, p[0]+":"+p[1])
		}
		sort.Strings(ps)
		lines = append(lines, fmt.Sprintf("  ssrc %d %s", s.ssrc, strings.Join(ps, " | ")))
	}
	for _, g := range groups {
		drop := false
		for _, v := range g[1:] {
			n, _ := strconv.ParseUint(v, 10, 32)
			drop = drop || dropped[uint32(n)]
		}
		if !drop {
			lines = append(lines, "  ssrc-group "+strings.Join(g, " "))
		}
	}
	var ms []string
	for v := range msids {
		ms = append(ms, v)
	}
	sort.Strings(ms)
	for _, v := range ms {
		lines = append(lines, "  msid "+v)
	}
	return lines
}

// modelSDP computes the model of an SDP.
func modelSDP(sd *sdp.SessionDescription, o modelOpts) model {
	var lines, mids []string
	get := func(attrs []sdp.Attribute, k string) (string, bool) {
		for _, a := range attrs {
			if a.Key == k {
				return a.Value, true
			}
		}
		return "", false
	}
	// last is the value the translation keeps when an attribute repeats.
	last := func(attrs []sdp.Attribute, k string) (string, bool) {
		v, ok := "", false
		for _, a := range attrs {
			if a.Key == k {
				v, ok = a.Value, true
			}
		}
		return v, ok
	}
	all := func(attrs []sdp.Attribute, k string) []string {
		var v []string
		for _, a := range attrs {
			if a.Key == k {
				v = append(v, a.Value)
			}
		}
		return v
	}
	sess := sd.Attributes
	sessDir := ""
	for _, a := range sess {
		if a.Key == "sendrecv" || a.Key == "sendonly" || a.Key == "recvonly" || a.Key == "inactive" {
			sessDir = a.Key
		}
	}
	active := map[string]bool{}
	_, iceLite := get(sess, "ice-lite")
	anyICE := false // ice-lite needs an ICE transport to live in
	used := map[string]bool{}
	for i, md := range sd.MediaDescriptions {
		mid, ok := get(md.Attributes, "mid")
		mid = strings.TrimSpace(mid)
		if !ok || mid == "" {
			mid = md.MediaName.Media
			if used[mid] {
				mid = fmt.Sprintf("%s-%d", mid, i)
			}
		}
		used[mid] = true
		proto := strings.Join(md.MediaName.Protos, "/")
		_, bundleOnly := get(md.Attributes, "bundle-only")
		isData := md.MediaName.Media == "application" && strings.Contains(proto, "SCTP")
		if md.MediaName.Port.Value == 0 && !bundleOnly {
			continue
		}
		if md.MediaName.Media != "audio" && md.MediaName.Media != "video" && !isData {
			continue
		}
		active[mid] = true
		mids = append(mids, mid)
		secStart := len(lines)
		lines = append(lines, fmt.Sprintf("media mid=%s kind=%s", mid, md.MediaName.Media))
		if _, ok := get(md.Attributes, "ice-lite"); ok {
			iceLite = true
		}
		// Transport.
		ufrag, _ := last(md.Attributes, "ice-ufrag")
		pwd, _ := last(md.Attributes, "ice-pwd")
		if ufrag == "" && pwd == "" {
			ufrag, _ = last(sess, "ice-ufrag")
			pwd, _ = last(sess, "ice-pwd")
		}
		opts, ok := last(md.Attributes, "ice-options")
		if !ok {
			opts, _ = last(sess, "ice-options")
		}
		fps := all(md.Attributes, "fingerprint")
		if len(fps) == 0 {
			fps = all(sess, "fingerprint")
		}
		setup, ok := last(md.Attributes, "setup")
		if !ok {
			setup, _ = last(sess, "setup")
		}
		_, cryptex := get(md.Attributes, "cryptex")
		if _, ok := get(sess, "cryptex"); ok {
			cryptex = true
		}
		var cands []string
		for _, v := range all(md.Attributes, "candidate") {
			c, _, err := sdpxlate.ParseCandidate(v)
			if err != nil {
				continue
			}
			cands = append(cands, candString(c.Foundation, uint64(c.Component), c.Protocol, c.Priority, c.IP, uint64(c.Port), c.Type, c.RelAddr, uint64(c.RelPort), c.TCPType, uint64(c.Generation), uint64(c.Network), uint64(c.NetworkCost)))
		}
		ice := ufrag != "" || pwd != "" || len(cands) > 0 || len(fps) > 0
		_, rtcpMux := get(md.Attributes, "rtcp-mux")
		addr := ""
		if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
			addr = md.ConnectionInformation.Address.Address
		} else if sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil {
			addr = sd.ConnectionInformation.Address.Address
		}
		mapsToICE := ice || isData || addr == "" || addr == "0.0.0.0" || addr == "::"
		if ice {
			anyICE = true
			var optList []string
			for _, o := range strings.Fields(opts) {
				if jingle.IsNCName(o) {
					optList = append(optList, o)
				}
			}
			lines = append(lines, "  ice ufrag="+ufrag+" pwd="+pwd, "  ice-options "+strings.Join(optList, " "))
			for _, f := range fps {
				hash, val, _ := strings.Cut(strings.TrimSpace(f), " ")
				lines = append(lines, "  fingerprint "+hash+" "+strings.TrimSpace(val))
			}
			if len(fps) > 0 {
				lines = append(lines, "  setup "+o.setup(setup), fmt.Sprintf("  cryptex %v", cryptex))
			}
			lines = append(lines, cands...)
			if _, ok := get(md.Attributes, "end-of-candidates"); ok {
				lines = append(lines, "  end-of-candidates")
			}
		} else {
			addr := ""
			if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
				addr = md.ConnectionInformation.Address.Address
			} else if sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil {
				addr = sd.ConnectionInformation.Address.Address
			}
			raw := addr != "" && addr != "0.0.0.0" && addr != "::" && !isData
			anyICE = anyICE || !raw // the translation writes an empty ICE-UDP transport
			if raw {
				lines = append(lines, fmt.Sprintf("  raw rtp %s %d", addr, md.MediaName.Port.Value))
				if !rtcpMux {
					port, raddr := md.MediaName.Port.Value+1, addr
					if v, ok := get(md.Attributes, "rtcp"); ok && len(strings.Fields(v)) > 0 {
						f := strings.Fields(v)
						port, _ = strconv.Atoi(f[0])
						if len(f) >= 4 {
							raddr = f[3]
						}
					}
					lines = append(lines, fmt.Sprintf("  raw rtcp %s %d", raddr, port))
				}
			}
		}
		if isData {
			port, proto, mms := "", "webrtc-datachannel", ""
			for _, a := range md.Attributes {
				switch a.Key {
				case "sctp-port":
					if n, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 16); err == nil {
						port = strconv.FormatUint(n, 10)
					}
				case "sctpmap":
					if f := strings.Fields(a.Value); len(f) >= 2 {
						if n, err := strconv.ParseUint(f[0], 10, 16); err == nil {
							port, proto = strconv.FormatUint(n, 10), f[1]
						}
					}
				case "max-message-size":
					if n, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 64); err == nil && n != 0 {
						mms = strconv.FormatUint(n, 10)
					} else {
						mms = ""
					}
				}
			}
			if port == "" {
				for _, f := range md.MediaName.Formats {
					if n, err := strconv.ParseUint(f, 10, 16); err == nil {
						port = strconv.FormatUint(n, 10)
						break
					}
				}
			}
			if port == "" {
				port = "5000" // RFC 8841's default, which the translation signals
			}
			_ = proto // written back as webrtc-datachannel: browsers speak nothing else
			lines = append(lines, fmt.Sprintf("  sctp port=%s max-message-size=%s", port, mms))
			continue
		}
		// RTP.
		protoAt := len(lines)
		lines = append(lines, "") // the proto, once the feedback is known
		dir := ""
		for _, a := range md.Attributes {
			if a.Key == "sendrecv" || a.Key == "sendonly" || a.Key == "recvonly" || a.Key == "inactive" {
				dir = a.Key
				break
			}
		}
		if dir == "" {
			dir = sessDir
		}
		if dir == "" {
			dir = "sendrecv"
		}
		lines = append(lines, "  direction "+dir)
		codecs := map[uint8]*codecModel{}
		var order []uint8
		for _, f := range md.MediaName.Formats {
			n, err := strconv.ParseUint(f, 10, 7)
			if err != nil {
				continue
			}
			c := &codecModel{pt: uint8(n), channels: 1}
			if name, clock, ok := staticCodec(c.pt); ok {
				c.name, c.clock = name, clock
			}
			if _, dup := codecs[c.pt]; !dup {
				codecs[c.pt] = c
				order = append(order, c.pt)
			}
		}
		var fbAll []string
		for _, a := range md.Attributes {
			switch a.Key {
			case "rtpmap":
				id, enc, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
				enc = strings.TrimSpace(enc)
				n, _ := strconv.ParseUint(id, 10, 7)
				c := codecs[uint8(n)]
				if c == nil {
					continue
				}
				p := strings.Split(enc, "/")
				if len(p) < 2 {
					continue
				}
				c.name = p[0]
				clock, _ := strconv.ParseUint(p[1], 10, 32)
				c.clock = uint32(clock)
				if len(p) > 2 {
					ch, _ := strconv.ParseUint(p[2], 10, 8)
					c.channels = uint8(max(ch, 1))
				}
			case "fmtp":
				id, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
				n, _ := strconv.ParseUint(id, 10, 7)
				c := codecs[uint8(n)]
				if c == nil {
					continue
				}
				for part := range strings.SplitSeq(rest, ";") {
					part = strings.TrimSpace(part)
					if part == "" {
						continue
					}
					if k, v, ok := strings.Cut(part, "="); ok {
						part = strings.TrimSpace(k) + "=" + strings.TrimSpace(v)
						if strings.TrimSpace(k) == "" {
							part = strings.TrimSpace(v)
						}
					}
					if part != "" {
						c.params = append(c.params, part)
					}
				}
			case "rtcp-fb":
				f := strings.Fields(a.Value)
				if len(f) < 2 {
					continue
				}
				sub := ""
				if len(f) > 2 {
					sub = f[2]
				}
				var ps []string
				if len(f) > 3 {
					ps = extTokens(f[3:])
				}
				s := fbString(f[1], sub, ps)
				if f[0] == "*" {
					fbAll = append(fbAll, s)
					continue
				}
				n, _ := strconv.ParseUint(f[0], 10, 7)
				if c := codecs[uint8(n)]; c != nil {
					c.fb = append(c.fb, s)
				}
			}
		}
		ncodecs := 0
		hasFB := len(fbAll) > 0
		for _, pt := range order {
			if c := codecs[pt]; c.name != "" {
				lines = append(lines, c.String())
				ncodecs++
				hasFB = hasFB || len(c.fb) > 0
			}
		}
		lines[protoAt] = "  proto " + o.profile(proto, ice && len(fps) > 0, hasFB)
		for _, f := range fbAll {
			lines = append(lines, "  fb* "+f)
		}
		// The last a=ptime/a=maxptime counts; Jingle has no 0 and keeps ptime
		// on payload types.
		for _, k := range []string{"ptime", "maxptime"} {
			vs := all(md.Attributes, k)
			if len(vs) == 0 {
				continue
			}
			var n uint64
			for _, v := range vs {
				if x, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					n = x
				}
			}
			if n == 0 || (k == "ptime" && ncodecs == 0) {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %s %d", k, n))
		}
		var exts []string
		for _, v := range append(all(md.Attributes, "extmap"), all(sess, "extmap")...) {
			f := strings.Fields(v)
			if len(f) < 2 {
				continue
			}
			id, d, _ := strings.Cut(f[0], "/")
			if d == "sendrecv" {
				d = ""
			}
			n, err := strconv.ParseUint(id, 10, 32)
			if err != nil || n == 0 {
				continue
			}
			exts = append(exts, fmt.Sprintf("  extmap %d/%s %s", n, d, strings.Join(append(f[1:2], extTokens(f[2:])...), " ")))
		}
		sort.Strings(exts)
		lines = append(lines, exts...)
		_, mixed := get(md.Attributes, "extmap-allow-mixed")
		if _, ok := get(sess, "extmap-allow-mixed"); ok {
			mixed = true
		}
		_, rsize := get(md.Attributes, "rtcp-rsize")
		mux := fmt.Sprint(rtcpMux)
		if mapsToICE {
			mux = "always" // browsers require it: the translation adds it
		}
		lines = append(lines, fmt.Sprintf("  extmap-allow-mixed %v rtcp-mux %s rtcp-rsize %v", mixed, mux, rsize))
		for _, bw := range md.Bandwidth {
			t := bw.Type
			if bw.Experimental {
				t = "X-" + t
			}
			lines = append(lines, fmt.Sprintf("  bandwidth %s:%d", t, bw.Bandwidth))
		}
		var streams []string
		for _, v := range all(md.Attributes, "msid") {
			if v = normMSID(v); v != "" {
				streams = append(streams, v)
			}
		}
		var srcs []srcModel
		index := map[uint32]int{}
		for _, v := range all(md.Attributes, "ssrc") {
			id, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
			n64, _ := strconv.ParseUint(id, 10, 32)
			n := uint32(n64)
			i, ok := index[n]
			if !ok {
				i = len(srcs)
				index[n] = i
				srcs = append(srcs, srcModel{ssrc: n})
			}
			k, val, _ := strings.Cut(strings.TrimSpace(rest), ":")
			if k == "" || strings.ContainsAny(k, " \t") {
				continue
			}
			if k == "msid" {
				val = normMSID(val)
			}
			srcs[i].params = append(srcs[i].params, [2]string{k, val})
		}
		var groups [][]string
		for _, v := range all(md.Attributes, "ssrc-group") {
			f := strings.Fields(v)
			if len(f) < 2 {
				continue
			}
			for i := 1; i < len(f); i++ {
				n, _ := strconv.ParseUint(f[i], 10, 32)
				f[i] = strconv.FormatUint(n, 10)
			}
			groups = append(groups, f)
		}
		lines = append(lines, renderSources(streams, srcs, groups)...)
		if ncodecs == 0 {
			// An m= line needs a payload type: such a section has no content.
			lines = lines[:secStart]
			mids = mids[:len(mids)-1]
			delete(active, mid)
		}
	}
	for _, v := range []string{"group"} {
		for _, g := range all(sess, v) {
			f := strings.Fields(g)
			if len(f) == 0 {
				continue
			}
			var keep []string
			for _, m := range f[1:] {
				if active[m] {
					keep = append(keep, m)
				}
			}
			if len(keep) > 0 {
				lines = append(lines, "group "+f[0]+" "+strings.Join(keep, " "))
			}
		}
	}
	if v, ok := last(sess, "msid-semantic"); ok && len(strings.Fields(v)) > 0 {
		lines = append(lines, "msid-semantic "+strings.Join(strings.Fields(v), " "))
	}
	if iceLite && anyICE {
		lines = append(lines, "ice-lite")
	}
	return o.finish(lines, mids)
}

// modelJingle computes the model of a Jingle element written by o.role.
func modelJingle(j *jingle.Jingle, o modelOpts) model {
	var lines, mids []string
	iceLite := false
	active := map[string]bool{}
	dirFor := func(s jingle.Senders) string {
		switch s {
		case jingle.SendersNone:
			return "inactive"
		case jingle.SendersInitiator:
			if o.role == jingle.RoleResponder {
				return "recvonly"
			}
			return "sendonly"
		case jingle.SendersResponder:
			if o.role == jingle.RoleResponder {
				return "sendonly"
			}
			return "recvonly"
		}
		return "sendrecv"
	}
	for _, c := range j.Contents {
		isData := c.Description == nil && c.UnknownDescription == "" && c.Transport != nil && c.Transport.SCTPMap != nil
		if c.Description == nil && !isData {
			continue
		}
		if c.Transport == nil && c.RawUDP == nil && c.UnknownTransport != "" {
			continue
		}
		kind := "application"
		if !isData {
			kind = c.Description.Media
			if kind != "audio" && kind != "video" {
				continue
			}
		}
		mid := o.midOf(c.Name)
		active[c.Name] = true
		mids = append(mids, mid)
		secStart := len(lines)
		lines = append(lines, fmt.Sprintf("media mid=%s kind=%s", mid, kind))
		dtls := false
		if c.Transport != nil {
			iceLite = iceLite || c.Transport.ICELite
		}
		if t := c.Transport; t != nil && (t.Ufrag != "" || t.Pwd != "" || len(t.Candidates) > 0 || len(t.Fingerprints) > 0) {
			lines = append(lines, "  ice ufrag="+t.Ufrag+" pwd="+t.Pwd, "  ice-options "+strings.Join(t.ICEOptions, " "))
			setup, cryptex := "", false
			for _, f := range t.Fingerprints {
				lines = append(lines, "  fingerprint "+f.Hash+" "+f.Value)
				if setup == "" {
					setup = f.Setup
				}
				cryptex = cryptex || f.Cryptex
			}
			if len(t.Fingerprints) > 0 {
				dtls = true
				lines = append(lines, "  setup "+o.setup(setup), fmt.Sprintf("  cryptex %v", cryptex))
			}
			for _, c := range t.Candidates {
				lines = append(lines, candString(c.Foundation, uint64(c.Component), c.Protocol, c.Priority, c.IP, uint64(c.Port), c.Type, c.RelAddr, uint64(c.RelPort), c.TCPType, uint64(c.Generation), uint64(c.Network), uint64(c.NetworkCost)))
			}
			if t.GatheringComplete {
				lines = append(lines, "  end-of-candidates")
			}
		} else if r := c.RawUDP; r != nil {
			var rtp, rtcp *jingle.RawUDPCandidate
			for i := range r.Candidates {
				rc := &r.Candidates[i]
				if (rc.Component <= 1) && rtp == nil {
					rtp = rc
				} else if rc.Component == 2 && rtcp == nil {
					rtcp = rc
				}
			}
			if rtp != nil {
				lines = append(lines, fmt.Sprintf("  raw rtp %s %d", rtp.IP, rtp.Port))
				if rtcp != nil {
					lines = append(lines, fmt.Sprintf("  raw rtcp %s %d", rtcp.IP, rtcp.Port))
				}
			}
		}
		if isData {
			s := c.Transport.SCTPMap
			mms := ""
			if s.MaxMessageSize != 0 {
				mms = strconv.FormatUint(s.MaxMessageSize, 10)
			}
			lines = append(lines, fmt.Sprintf("  sctp port=%d max-message-size=%s", s.Number, mms))
			continue
		}
		d := c.Description
		fb := len(d.Feedback) > 0
		for _, p := range d.PayloadTypes {
			fb = fb || len(p.Feedback) > 0
		}
		lines = append(lines, "  proto "+o.profile(d.Profile, dtls, fb), "  direction "+dirFor(c.Senders))
		ptime, maxptime, ncodecs := uint32(0), d.MaxPTime, 0
		for _, p := range d.PayloadTypes {
			cm := codecModel{pt: p.ID, name: p.Name, clock: p.ClockRate, channels: max(p.Channels, 1), params: paramStrings(p.Parameters)}
			if name, clock, ok := staticCodec(p.ID); ok {
				if cm.name == "" {
					cm.name = name
				}
				if cm.clock == 0 {
					cm.clock = clock
				}
			}
			if cm.name == "" {
				continue
			}
			if cm.clock == 0 {
				cm.clock = 8000
				if d.Media == "video" {
					cm.clock = 90000
				}
			}
			for _, f := range p.Feedback {
				cm.fb = append(cm.fb, fbString(f.Type, f.Subtype, paramStrings2(f.Parameters)))
			}
			lines = append(lines, cm.String())
			ncodecs++
			if ptime == 0 {
				ptime = p.PTime
			}
			if maxptime == 0 {
				maxptime = p.MaxPTime
			}
		}
		for _, f := range d.Feedback {
			lines = append(lines, "  fb* "+fbString(f.Type, f.Subtype, paramStrings2(f.Parameters)))
		}
		if ptime != 0 {
			lines = append(lines, fmt.Sprintf("  ptime %d", ptime))
		}
		if maxptime != 0 {
			lines = append(lines, fmt.Sprintf("  maxptime %d", maxptime))
		}
		var exts []string
		for _, h := range d.HeaderExtensions {
			dir := ""
			if h.Senders != jingle.SendersUnknown && h.Senders != jingle.SendersBoth {
				dir = dirFor(h.Senders)
			}
			e := fmt.Sprintf("  extmap %d/%s %s", h.ID, dir, h.URI)
			for _, p := range paramStrings2(h.Parameters) {
				e += " " + p
			}
			exts = append(exts, e)
		}
		sort.Strings(exts)
		lines = append(lines, exts...)
		mux := fmt.Sprint(d.RTCPMux || (c.Transport != nil && c.Transport.RTCPMux))
		if c.RawUDP == nil || c.Transport != nil {
			mux = "always" // browsers require it: the translation adds it
		}
		lines = append(lines, fmt.Sprintf("  extmap-allow-mixed %v rtcp-mux %s rtcp-rsize %v", d.ExtmapAllowMixed, mux, d.RTCPReducedSize))
		for _, bw := range d.Bandwidths {
			lines = append(lines, fmt.Sprintf("  bandwidth %s:%d", bw.Type, bw.Value))
		}
		var streams []string
		for _, s := range d.Streams {
			if v := normMSID(s.ID + " " + s.Track); v != "" {
				streams = append(streams, v)
			}
		}
		var srcs []srcModel
		for _, s := range d.Sources {
			sm := srcModel{ssrc: s.SSRC}
			for _, p := range s.Parameters {
				v := p.Value
				if p.Name == "msid" {
					v = normMSID(v)
				}
				sm.params = append(sm.params, [2]string{p.Name, v})
			}
			srcs = append(srcs, sm)
		}
		var groups [][]string
		for _, g := range d.SourceGroups {
			f := []string{g.Semantics}
			for _, n := range g.SSRCs {
				f = append(f, strconv.FormatUint(uint64(n), 10))
			}
			groups = append(groups, f)
		}
		lines = append(lines, renderSources(streams, srcs, groups)...)
		if ncodecs == 0 {
			lines = lines[:secStart]
			mids = mids[:len(mids)-1]
			delete(active, c.Name)
		}
	}
	for _, g := range j.Groups {
		var keep []string
		for _, m := range g.Contents {
			if active[m] {
				keep = append(keep, o.midOf(m))
			}
		}
		if len(keep) > 0 {
			lines = append(lines, "group "+g.Semantics+" "+strings.Join(keep, " "))
		}
	}
	if ms := j.MSIDSemantic; ms != nil {
		lines = append(lines, "msid-semantic "+strings.Join(append([]string{ms.Semantic}, ms.Tokens...), " "))
	}
	if iceLite {
		lines = append(lines, "ice-lite")
	}
	return o.finish(lines, mids)
}

// extTokens normalises the extension attributes of a=extmap and a=rtcp-fb:
// "k=" is "k".
func extTokens(f []string) []string {
	out := make([]string, len(f))
	for i, t := range f {
		if k, v, ok := strings.Cut(t, "="); ok && k != "" && v == "" {
			t = k
		}
		out[i] = t
	}
	return out
}

// paramStrings2 renders extmap and rtcp-fb parameters as in SDP.
func paramStrings2(ps []jingle.Parameter) []string {
	var s []string
	for _, p := range ps {
		if p.Value == "" {
			s = append(s, p.Name)
		} else {
			s = append(s, p.Name+"="+p.Value)
		}
	}
	return s
}

// diffModels returns a readable difference, or "" if a and b are equal.
func diffModels(a, b model) string {
	if slices.Equal(a, b) {
		return ""
	}
	var d strings.Builder
	i, k := 0, 0
	for i < len(a) || k < len(b) {
		switch {
		case i < len(a) && k < len(b) && a[i] == b[k]:
			i++
			k++
		case k < len(b) && !slices.Contains(a[i:], b[k]):
			fmt.Fprintf(&d, "+ %s\n", b[k])
			k++
		case i < len(a) && !slices.Contains(b[k:], a[i]):
			fmt.Fprintf(&d, "- %s\n", a[i])
			i++
		default:
			if i < len(a) {
				fmt.Fprintf(&d, "- %s\n", a[i])
				i++
			}
			if k < len(b) {
				fmt.Fprintf(&d, "+ %s\n", b[k])
				k++
			}
		}
	}
	return d.String()
}
