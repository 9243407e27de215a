package sdpxlate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/pion/sdp/v3"
)

// SDPToJingle translates an SDP offer or answer into a Jingle element with
// one <content/> per m-section, following the mapping documented in the
// package comment. Items Jingle cannot carry are reported to opts.OnLoss.
func SDPToJingle(sd *sdp.SessionDescription, opts ToJingleOptions) (*jingle.Jingle, error) {
	if sd == nil {
		return nil, ErrNilInput
	}
	if opts.Role == jingle.RoleUnknown {
		opts.Role = jingle.RoleInitiator
	}
	if opts.Action == jingle.ActionUnknown {
		opts.Action = jingle.ActionSessionInitiate
		if opts.Role == jingle.RoleResponder {
			opts.Action = jingle.ActionSessionAccept
		}
	}
	t := &toJingle{opts: opts, sd: sd}
	return t.run()
}

type toJingle struct {
	opts ToJingleOptions
	sd   *sdp.SessionDescription
	sess sessionInfo
	used map[string]bool
}

// sessionInfo holds the session-level attributes that apply to every
// m-section unless the m-section overrides them.
type sessionInfo struct {
	ufrag, pwd       string
	iceOptions       []string
	iceLite          bool
	fingerprints     []jingle.Fingerprint
	setup            string
	cryptex          bool
	extmapAllowMixed bool
	extmaps          []jingle.HeaderExtension
	extmapDirs       []string
	direction        string
}

func (t *toJingle) loss(where, what, why string) {
	if t.opts.OnLoss != nil {
		t.opts.OnLoss(Loss{Where: where, What: what, Why: why})
	}
}

func attrString(a sdp.Attribute) string {
	if a.Value == "" {
		return "a=" + a.Key
	}
	return "a=" + a.Key + ":" + a.Value
}

func (t *toJingle) run() (*jingle.Jingle, error) {
	j := &jingle.Jingle{
		Action:    t.opts.Action,
		SID:       t.opts.SID,
		Initiator: t.opts.Initiator,
		Responder: t.opts.Responder,
	}
	if len(t.sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: the SDP has no m= line", ErrNoMedia)
	}
	if err := t.session(j); err != nil {
		return nil, err
	}
	t.used = map[string]bool{}
	names := make([]string, len(t.sd.MediaDescriptions))
	for i, md := range t.sd.MediaDescriptions {
		mid, err := t.contentName(md, i)
		if err != nil {
			return nil, err
		}
		names[i] = nameOf(mid, t.opts.Names)
	}
	kept := map[string]bool{}
	for i, md := range t.sd.MediaDescriptions {
		c, err := t.media(md, i, names[i])
		if err != nil {
			return nil, err
		}
		if c != nil {
			j.Contents = append(j.Contents, *c)
			kept[c.Name] = true
		}
	}
	if len(j.Contents) == 0 {
		return nil, fmt.Errorf("%w: no m-section with RTP or a data channel is active", ErrNoMedia)
	}
	for _, a := range t.sd.Attributes {
		if a.Key != "group" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) == 0 {
			t.loss("session", attrString(a), "group without semantics")
			continue
		}
		g := jingle.Group{Semantics: f[0]}
		for _, mid := range f[1:] {
			if name := nameOf(mid, t.opts.Names); kept[name] {
				g.Contents = append(g.Contents, name)
			} else {
				t.loss("session", "mid "+mid+" of "+attrString(a), "no such active m-section")
			}
		}
		if len(g.Contents) > 0 {
			j.Groups = append(j.Groups, g)
		}
	}
	return j, nil
}

// contentName is the a=mid, or for SDP without a=mid (SIP gateways) the
// media type, suffixed with the m-section index if already taken.
func (t *toJingle) contentName(md *sdp.MediaDescription, i int) (string, error) {
	name, ok := firstAttr(md.Attributes, "mid")
	name = strings.TrimSpace(name)
	if ok && name != "" && !isToken(name) {
		return "", fmt.Errorf("%w: m-section %d: a=mid:%q is not a token", ErrInvalidAttribute, i+1, name)
	}
	if ok && name != "" && t.used[name] {
		return "", fmt.Errorf("%w: m-section %d: a=mid:%s is used twice", ErrInvalidAttribute, i+1, name)
	}
	if !ok || name == "" {
		name = md.MediaName.Media
		if t.used[name] {
			name = fmt.Sprintf("%s-%d", name, i)
		}
	}
	t.used[name] = true
	return name, nil
}

func (t *toJingle) session(j *jingle.Jingle) error {
	s := &t.sess
	for _, a := range t.sd.Attributes {
		switch a.Key {
		case "group":
		case "msid-semantic":
			f := strings.Fields(a.Value)
			if len(f) > 0 {
				j.MSIDSemantic = &jingle.MSIDSemantic{Semantic: f[0], Tokens: f[1:]}
			}
		case "ice-ufrag":
			s.ufrag = a.Value
		case "ice-pwd":
			s.pwd = a.Value
		case "ice-options":
			s.iceOptions = t.iceOptions(a.Value, "session")
		case "ice-lite":
			s.iceLite = true
		case "fingerprint":
			f, err := parseFingerprint(a.Value)
			if err != nil {
				return fmt.Errorf("%w: session: %w", ErrInvalidAttribute, err)
			}
			s.fingerprints = append(s.fingerprints, f)
		case "setup":
			s.setup = t.setupValue(a, "session")
		case "cryptex":
			s.cryptex = true
		case "extmap-allow-mixed":
			s.extmapAllowMixed = true
		case "extmap":
			id, dir, uri, params, err := parseExtmap(a.Value)
			if err != nil {
				return fmt.Errorf("%w: session: %w", ErrInvalidAttribute, err)
			}
			if id == 0 {
				t.loss("session", attrString(a), "extension id 0 is reserved")
				continue
			}
			s.extmaps = append(s.extmaps, jingle.HeaderExtension{ID: id, URI: uri, Parameters: params})
			s.extmapDirs = append(s.extmapDirs, dir)
		case "sendrecv", "sendonly", "recvonly", "inactive":
			s.direction = a.Key
		default:
			t.loss("session", attrString(a), "no Jingle equivalent")
		}
	}
	return nil
}

// setupValue returns the value of a=setup, or "" (reported) if it is not a
// token.
func (t *toJingle) setupValue(a sdp.Attribute, where string) string {
	v := strings.TrimSpace(a.Value)
	if !isToken(v) {
		t.loss(where, attrString(a), "not a setup role")
		return ""
	}
	return v
}

// iceOptions splits a=ice-options, dropping the tokens that cannot be an
// element name in Jingle.
func (t *toJingle) iceOptions(v, where string) []string {
	var opts []string
	for _, o := range strings.Fields(v) {
		if !jingle.IsNCName(o) {
			t.loss(where, "ice-option "+strconv.Quote(o), "not an XML name, so not a Jingle element")
			continue
		}
		opts = append(opts, o)
	}
	return opts
}

func parseFingerprint(v string) (jingle.Fingerprint, error) {
	hash, value, ok := strings.Cut(strings.TrimSpace(v), " ")
	value = strings.TrimSpace(value)
	if !ok || hash == "" || value == "" || !isToken(value) {
		return jingle.Fingerprint{}, fmt.Errorf("a=fingerprint:%q: want \"<hash> <value>\"", v)
	}
	return jingle.Fingerprint{Hash: hash, Value: value}, nil
}

func (t *toJingle) media(md *sdp.MediaDescription, index int, name string) (*jingle.Content, error) {
	where := fmt.Sprintf("m-section %d (mid %q)", index+1, name)
	kind := md.MediaName.Media
	proto := strings.Join(md.MediaName.Protos, "/")
	if md.MediaName.Port.Value == 0 && !hasAttr(md.Attributes, "bundle-only") {
		t.loss(where, "m="+kind+" 0", "rejected or removed m-section (port 0) has no Jingle content")
		return nil, nil
	}
	isData := kind == "application" && strings.Contains(proto, "SCTP")
	if kind != "audio" && kind != "video" && !isData {
		t.loss(where, "m="+kind+" "+proto, "only RTP audio/video and WebRTC data channels are translated")
		return nil, nil
	}
	c := &jingle.Content{Name: name, Creator: t.creator(name)}
	dir := direction(md.Attributes)
	if dir == "" {
		dir = t.sess.direction
	}
	c.Senders = sendersFor(dir, t.opts.Role)

	tr, raw, err := t.transport(md, where, name)
	if err != nil {
		return nil, err
	}
	c.Transport, c.RawUDP = tr, raw
	if isData {
		if err := t.data(md, c, where); err != nil {
			return nil, err
		}
		return c, nil
	}
	desc, err := t.rtp(md, where, proto)
	if err != nil {
		return nil, err
	}
	if len(desc.PayloadTypes) == 0 {
		t.loss(where, "m="+kind, "no usable payload type")
		return nil, nil
	}
	c.Description = desc
	return c, nil
}

func (t *toJingle) creator(mid string) jingle.Role {
	if r, ok := t.opts.Creators[mid]; ok && r != jingle.RoleUnknown {
		return r
	}
	if t.opts.Action == jingle.ActionContentAdd {
		return t.opts.Role
	}
	return jingle.RoleInitiator
}

// transport builds the ICE-UDP transport, or for SDP without ICE or DTLS
// (plain SIP) a Raw UDP transport from the connection address and port.
func (t *toJingle) transport(md *sdp.MediaDescription, where, name string) (*jingle.Transport, *jingle.RawUDPTransport, error) {
	tr := &jingle.Transport{}
	var fps []jingle.Fingerprint
	setup, cryptex := "", t.sess.cryptex
	ice, optsSet := false, false
	for _, a := range md.Attributes {
		switch a.Key {
		case "ice-ufrag":
			tr.Ufrag, ice = a.Value, true
		case "ice-pwd":
			tr.Pwd, ice = a.Value, true
		case "ice-options":
			tr.ICEOptions, optsSet = t.iceOptions(a.Value, where), true
		case "ice-lite":
			tr.ICELite = true
		case "fingerprint":
			f, err := parseFingerprint(a.Value)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %s: %w", ErrInvalidAttribute, where, err)
			}
			fps = append(fps, f)
		case "setup":
			setup = t.setupValue(a, where)
		case "cryptex":
			cryptex = true
		case "end-of-candidates":
			tr.GatheringComplete = true
		case "candidate":
			c, _, err := ParseCandidate(a.Value)
			if err != nil {
				t.loss(where, attrString(a), err.Error())
				continue
			}
			ice = true
			if t.opts.MDNS == MDNSDrop && isMDNS(c.IP) {
				t.loss(where, attrString(a), "mDNS host candidate dropped by policy")
				continue
			}
			c.ID = candidateID(name, c)
			tr.Candidates = append(tr.Candidates, c)
		}
	}
	if tr.Ufrag == "" && tr.Pwd == "" && (t.sess.ufrag != "" || t.sess.pwd != "") {
		tr.Ufrag, tr.Pwd, ice = t.sess.ufrag, t.sess.pwd, true
	}
	if !optsSet {
		tr.ICEOptions = t.sess.iceOptions
	}
	tr.ICELite = tr.ICELite || t.sess.iceLite
	if len(fps) == 0 {
		fps = append(fps, t.sess.fingerprints...)
	}
	if setup == "" {
		setup = t.sess.setup
	}
	for i := range fps {
		fps[i].Setup = setup
		fps[i].Cryptex = cryptex
	}
	tr.Fingerprints = fps
	if ice || len(fps) > 0 {
		return tr, nil, nil
	}
	// No ICE and no DTLS: describe the plain RTP address with Raw UDP.
	addr := ""
	if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
		addr = md.ConnectionInformation.Address.Address
	} else if t.sd.ConnectionInformation != nil && t.sd.ConnectionInformation.Address != nil {
		addr = t.sd.ConnectionInformation.Address.Address
	}
	if isUnspecified(addr) {
		// Nothing to connect to yet (a trickle offer without candidates,
		// or an XEP fragment): an empty ICE-UDP transport, as XEP-0166
		// wants a transport in every content.
		return tr, nil, nil
	}
	port := uint16(md.MediaName.Port.Value)
	raw := &jingle.RawUDPTransport{}
	raw.Candidates = append(raw.Candidates, jingle.RawUDPCandidate{Component: 1, IP: addr, Port: port})
	if !hasAttr(md.Attributes, "rtcp-mux") {
		rtcpPort, rtcpAddr := port+1, addr
		if v, ok := firstAttr(md.Attributes, "rtcp"); ok && len(strings.Fields(v)) > 0 {
			f := strings.Fields(v)
			if n, err := strconv.ParseUint(f[0], 10, 16); err == nil {
				rtcpPort = uint16(n)
			}
			if len(f) >= 4 {
				rtcpAddr = f[3]
			}
		}
		raw.Candidates = append(raw.Candidates, jingle.RawUDPCandidate{Component: 2, IP: rtcpAddr, Port: rtcpPort})
	}
	for i := range raw.Candidates {
		rc := &raw.Candidates[i]
		rc.ID = candidateID(name, jingle.Candidate{Component: rc.Component, IP: rc.IP, Port: rc.Port})
	}
	return nil, raw, nil
}

// isUnspecified reports whether addr is no address: empty, 0.0.0.0 or ::.
func isUnspecified(addr string) bool {
	switch addr {
	case "", "0.0.0.0", "::":
		return true
	}
	return false
}

func (t *toJingle) data(md *sdp.MediaDescription, c *jingle.Content, where string) error {
	sm := &jingle.SCTPMap{Protocol: "webrtc-datachannel"}
	found := false
	for _, a := range md.Attributes {
		switch a.Key {
		case "sctp-port":
			n, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 16)
			if err != nil {
				return fmt.Errorf("%w: %s: a=sctp-port:%q", ErrInvalidAttribute, where, a.Value)
			}
			sm.Number, found = uint16(n), true
		case "sctpmap":
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				return fmt.Errorf("%w: %s: a=sctpmap:%q: want \"<port> <protocol> [<streams>]\"", ErrInvalidAttribute, where, a.Value)
			}
			n, err := strconv.ParseUint(f[0], 10, 16)
			if err != nil {
				return fmt.Errorf("%w: %s: a=sctpmap:%q: port %q", ErrInvalidAttribute, where, a.Value, f[0])
			}
			sm.Number, sm.Protocol, found = uint16(n), f[1], true
			if len(f) > 2 {
				s, err := strconv.ParseUint(f[2], 10, 32)
				if err != nil {
					return fmt.Errorf("%w: %s: a=sctpmap:%q: streams %q", ErrInvalidAttribute, where, a.Value, f[2])
				}
				sm.Streams = uint32(s)
			}
		case "max-message-size":
			n, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: %s: a=max-message-size:%q", ErrInvalidAttribute, where, a.Value)
			}
			sm.MaxMessageSize = n
		case "mid", "candidate", "end-of-candidates", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite",
			"fingerprint", "setup", "cryptex", "sendrecv", "sendonly", "recvonly", "inactive", "bundle-only", "rtcp":
		default:
			t.loss(where, attrString(a), "no Jingle equivalent for a data channel")
		}
	}
	if !found {
		// The oldest syntax has only "m=application <port> DTLS/SCTP 5000".
		for _, f := range md.MediaName.Formats {
			if n, err := strconv.ParseUint(f, 10, 16); err == nil {
				sm.Number, found = uint16(n), true
				break
			}
		}
	}
	if !found {
		sm.Number = 5000
		t.loss(where, "a=sctp-port", "missing; RFC 8841's default 5000 is signalled")
	}
	if len(md.Bandwidth) > 0 {
		t.loss(where, "b= line", "XEP-0343 has no bandwidth for data channels")
	}
	if c.Transport == nil {
		if c.RawUDP != nil {
			t.loss(where, "connection address", "XEP-0343 data channels run over ICE-UDP; a plain address has no place")
		}
		c.Transport = &jingle.Transport{ICELite: t.sess.iceLite}
		c.RawUDP = nil
	}
	c.Transport.SCTPMap = sm
	return nil
}

func (t *toJingle) rtp(md *sdp.MediaDescription, where, proto string) (*jingle.Description, error) {
	desc := &jingle.Description{Media: md.MediaName.Media, Profile: proto}
	index := map[uint8]int{}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: payload type %q in the m= line", ErrInvalidAttribute, where, f)
		}
		pt := uint8(n)
		if _, dup := index[pt]; dup {
			continue
		}
		index[pt] = len(desc.PayloadTypes)
		p := jingle.PayloadType{ID: pt}
		if s, ok := staticPayloadTypes[pt]; ok {
			p.Name, p.ClockRate = s.name, s.clock
		}
		desc.PayloadTypes = append(desc.PayloadTypes, p)
	}
	pt := func(v, attr string) (*jingle.PayloadType, string, error) {
		id, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.ParseUint(id, 10, 7)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s: a=%s:%q: payload type %q", ErrInvalidAttribute, where, attr, v, id)
		}
		i, ok := index[uint8(n)]
		if !ok {
			return nil, rest, nil
		}
		return &desc.PayloadTypes[i], rest, nil
	}
	var ptime, maxptime uint32
	msids := []jingle.Stream{}
	ssrcIndex := map[uint32]int{}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			id, name, clock, channels, err := parseRTPMap(a.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidAttribute, where, err)
			}
			i, ok := index[id]
			if !ok {
				t.loss(where, attrString(a), "payload type not in the m= line")
				continue
			}
			p := &desc.PayloadTypes[i]
			p.Name, p.ClockRate, p.Channels = name, clock, channels
		case "fmtp":
			p, rest, err := pt(a.Value, "fmtp")
			if err != nil {
				return nil, err
			}
			if p == nil {
				t.loss(where, attrString(a), "payload type not in the m= line")
				continue
			}
			p.Parameters = append(p.Parameters, parseParams(rest)...)
		case "rtcp-fb":
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				return nil, fmt.Errorf("%w: %s: a=rtcp-fb:%q: want \"<payload type> <type>\"", ErrInvalidAttribute, where, a.Value)
			}
			fb := jingle.RTCPFeedback{Type: f[1]}
			if len(f) > 2 {
				fb.Subtype = f[2]
				fb.Parameters = parseExtParams(f[3:])
			}
			if f[0] == "*" {
				desc.Feedback = append(desc.Feedback, fb)
				continue
			}
			p, _, err := pt(a.Value, "rtcp-fb")
			if err != nil {
				return nil, err
			}
			if p == nil {
				t.loss(where, attrString(a), "payload type not in the m= line")
				continue
			}
			p.Feedback = append(p.Feedback, fb)
		case "ptime", "maxptime":
			n, err := strconv.ParseUint(strings.TrimSpace(a.Value), 10, 32)
			if err != nil {
				t.loss(where, attrString(a), "XEP-0167 ptime/maxptime are whole milliseconds")
				continue
			}
			if a.Key == "ptime" {
				ptime = uint32(n)
			} else {
				maxptime = uint32(n)
			}
		case "extmap":
			id, dir, uri, params, err := parseExtmap(a.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidAttribute, where, err)
			}
			if id == 0 {
				t.loss(where, attrString(a), "extension id 0 is reserved")
				continue
			}
			h := jingle.HeaderExtension{ID: id, URI: uri, Parameters: params}
			if dir != "" {
				h.Senders = sendersFor(dir, t.opts.Role)
			}
			desc.HeaderExtensions = append(desc.HeaderExtensions, h)
		case "extmap-allow-mixed":
			desc.ExtmapAllowMixed = true
		case "rtcp-mux":
			desc.RTCPMux = true
		case "rtcp-rsize":
			desc.RTCPReducedSize = true
		case "msid":
			f := strings.Fields(a.Value)
			if len(f) == 0 {
				t.loss(where, attrString(a), "empty msid")
				continue
			}
			s := jingle.Stream{ID: f[0], Track: strings.Join(f[1:], " ")}
			msids = append(msids, s)
		case "ssrc":
			idStr, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			n, err := strconv.ParseUint(idStr, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: a=ssrc:%q: ssrc %q", ErrInvalidAttribute, where, a.Value, idStr)
			}
			ssrc := uint32(n)
			i, ok := ssrcIndex[ssrc]
			if !ok {
				i = len(desc.Sources)
				ssrcIndex[ssrc] = i
				desc.Sources = append(desc.Sources, jingle.Source{SSRC: ssrc})
			}
			rest = strings.TrimSpace(rest)
			if rest == "" {
				continue
			}
			name, value, _ := strings.Cut(rest, ":")
			if !isToken(name) {
				t.loss(where, attrString(a), "attribute name is not a token")
				continue
			}
			if name == "msid" {
				value = strings.TrimSpace(value)
			}
			desc.Sources[i].Parameters = append(desc.Sources[i].Parameters, jingle.Parameter{Name: name, Value: value})
		case "ssrc-group":
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				t.loss(where, attrString(a), "ssrc-group without sources")
				continue
			}
			g := jingle.SourceGroup{Semantics: f[0]}
			for _, s := range f[1:] {
				n, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: a=ssrc-group:%q: ssrc %q", ErrInvalidAttribute, where, a.Value, s)
				}
				g.SSRCs = append(g.SSRCs, uint32(n))
			}
			desc.SourceGroups = append(desc.SourceGroups, g)
		case "crypto":
			t.loss(where, "a=crypto:"+cryptoHead(a.Value), "SDES keys are not carried: browsers only accept DTLS-SRTP")
		case "rtcp":
			// a=rtcp is the RTCP port of the default candidate; ICE
			// candidates of component 2 carry it, Raw UDP has component 2.
		case "mid", "candidate", "end-of-candidates", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite",
			"fingerprint", "setup", "cryptex", "sendrecv", "sendonly", "recvonly", "inactive", "bundle-only":
		default:
			t.loss(where, attrString(a), "no Jingle equivalent")
		}
	}
	desc.PayloadTypes = slices.DeleteFunc(desc.PayloadTypes, func(p jingle.PayloadType) bool {
		if p.Name == "" {
			t.loss(where, fmt.Sprintf("payload type %d", p.ID), "dynamic payload type without a=rtpmap has no codec name")
			return true
		}
		return false
	})
	if ptime != 0 || maxptime != 0 {
		for i := range desc.PayloadTypes {
			desc.PayloadTypes[i].PTime = ptime
			desc.PayloadTypes[i].MaxPTime = maxptime
		}
	}
	if len(desc.PayloadTypes) == 0 && maxptime != 0 {
		desc.MaxPTime = maxptime
	}
	// Session-level header extensions apply to every RTP m-section.
	for i, h := range t.sess.extmaps {
		if dir := t.sess.extmapDirs[i]; dir != "" {
			h.Senders = sendersFor(dir, t.opts.Role)
		}
		desc.HeaderExtensions = append(desc.HeaderExtensions, h)
	}
	desc.ExtmapAllowMixed = desc.ExtmapAllowMixed || t.sess.extmapAllowMixed
	for _, bw := range md.Bandwidth {
		typ := bw.Type
		if bw.Experimental {
			typ = "X-" + typ
		}
		desc.Bandwidths = append(desc.Bandwidths, jingle.Bandwidth{Type: typ, Value: bw.Bandwidth})
	}
	if len(msids) > 0 {
		desc.Streams = msids
	}
	// Unified Plan has one track per m-section (see JingleToSDP).
	desc = oneTrack(desc, func(what, why string) { t.loss(where, what, why) })
	if msids := desc.Streams; len(msids) > 0 {
		// XEP-0339 readers (Conversations) only look at the source
		// parameters: give every source the media-level msid it lacks.
		if len(msids) == 1 {
			v := msids[0].ID
			if msids[0].Track != "" {
				v += " " + msids[0].Track
			}
			for i := range desc.Sources {
				if _, ok := desc.Sources[i].Param("msid"); !ok {
					desc.Sources[i].Parameters = append(desc.Sources[i].Parameters, jingle.Parameter{Name: "msid", Value: v})
				}
			}
		}
	}
	desc.SSRC = primarySSRC(desc)
	return desc, nil
}

// primarySSRC returns the ssrc that XEP-0167 puts on <description/>: the
// first of the first group (the media ssrc of an FID or SIM group), else
// the first source; 0 without sources. StanzaJS builds its RTP encodings,
// and so its RTX ssrc lines, from this attribute alone.
func primarySSRC(d *jingle.Description) uint32 {
	for _, g := range d.SourceGroups {
		if len(g.SSRCs) > 0 && slices.ContainsFunc(d.Sources, func(s jingle.Source) bool { return s.SSRC == g.SSRCs[0] }) {
			return g.SSRCs[0]
		}
	}
	if len(d.Sources) > 0 {
		return d.Sources[0].SSRC
	}
	return 0
}

// cryptoHead returns the tag and suite of an a=crypto value, never the key.
func cryptoHead(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0] + " " + strings.Join(f[1:min(len(f), 2)], " ")
}
