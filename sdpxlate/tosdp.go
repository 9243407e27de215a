package sdpxlate

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/pion/sdp/v3"
)

// JingleToSDP translates a Jingle element carrying descriptions
// (session-initiate, session-accept, content-add, content-accept,
// transport-replace, ...) into an SDP offer or answer with one m-section per
// translatable content, following the mapping documented in the package
// comment. Contents with other applications or transports are skipped and
// reported to opts.OnLoss; if none is left the error wraps
// ErrUnsupportedApplication, ErrUnsupportedTransport or ErrNoMedia.
func JingleToSDP(j *jingle.Jingle, opts ToSDPOptions) (*sdp.SessionDescription, error) {
	if j == nil {
		return nil, ErrNilInput
	}
	t := &toSDP{opts: opts, j: j}
	t.role = opts.Role
	if t.role == jingle.RoleUnknown {
		t.role = senderRole(j)
	}
	t.typ = opts.Type
	if t.typ == SDPTypeUnknown {
		t.typ = SDPTypeOffer
		if j.Action.IsAnswer() {
			t.typ = SDPTypeAnswer
		}
	}
	return t.run()
}

// senderRole guesses who sent j from its action.
func senderRole(j *jingle.Jingle) jingle.Role {
	switch {
	case j.Action.IsAnswer():
		if j.Action == jingle.ActionContentAccept && len(j.Contents) > 0 && j.Contents[0].Creator != jingle.RoleUnknown {
			return j.Contents[0].Creator.Other()
		}
		return jingle.RoleResponder
	case j.Action == jingle.ActionContentAdd:
		if len(j.Contents) > 0 && j.Contents[0].Creator != jingle.RoleUnknown {
			return j.Contents[0].Creator
		}
	}
	return jingle.RoleInitiator
}

type toSDP struct {
	opts ToSDPOptions
	j    *jingle.Jingle
	role jingle.Role
	typ  SDPType

	unsupportedApp, unsupportedTransport string
}

// mid returns the a=mid of the content called name.
func (t *toSDP) mid(name string) string {
	return midOf(name, t.opts.Mids)
}

func (t *toSDP) loss(where, what, why string) {
	if t.opts.OnLoss != nil {
		t.opts.OnLoss(Loss{Where: where, What: what, Why: why})
	}
}

func (t *toSDP) run() (*sdp.SessionDescription, error) {
	sd := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username:       "-",
			SessionID:      t.opts.SessionID,
			SessionVersion: t.opts.SessionVersion,
			NetworkType:    "IN",
			AddressType:    "IP4",
			UnicastAddress: "0.0.0.0",
		},
		SessionName:      "-",
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
	if sd.Origin.SessionID == 0 {
		h := fnv.New64a()
		h.Write([]byte(t.j.SID))
		sd.Origin.SessionID = h.Sum64() >> 2
	}
	if sd.Origin.SessionVersion == 0 {
		sd.Origin.SessionVersion = 2
	}

	names := map[string]bool{} // mids of the active m-sections
	seen := map[string]bool{}  // content names
	allMixed, rtpCount, iceLite, cryptex := true, 0, false, false
	var sections []*sdp.MediaDescription
	var mids []string
	for i := range t.j.Contents {
		c := &t.j.Contents[i]
		md, err := t.content(c, i)
		if err != nil {
			return nil, err
		}
		if md == nil {
			continue
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%w: content %d: duplicate name %q", ErrInvalidContent, i+1, c.Name)
		}
		seen[c.Name] = true
		mid := t.mid(c.Name)
		if names[mid] {
			return nil, fmt.Errorf("%w: content %d: %q and another content map to a=mid:%s (set ToSDPOptions.Mids)", ErrInvalidContent, i+1, c.Name, mid)
		}
		names[mid] = true
		sections = append(sections, md)
		mids = append(mids, mid)
		if c.Description != nil {
			rtpCount++
			allMixed = allMixed && c.Description.ExtmapAllowMixed
		}
		if c.Transport != nil {
			iceLite = iceLite || c.Transport.ICELite
			for _, f := range c.Transport.Fingerprints {
				cryptex = cryptex || f.Cryptex
			}
		}
	}
	if t.opts.Offer != nil && t.typ == SDPTypeAnswer {
		var err error
		sections, mids, err = t.align(sections, mids)
		if err != nil {
			return nil, err
		}
		names = map[string]bool{}
		for i, md := range sections {
			if md.MediaName.Port.Value != 0 {
				names[mids[i]] = true
			}
		}
	}
	if len(sections) == 0 {
		switch {
		case t.unsupportedApp != "":
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedApplication, t.unsupportedApp)
		case t.unsupportedTransport != "":
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedTransport, t.unsupportedTransport)
		}
		return nil, fmt.Errorf("%w: no content has an RTP description or a data channel", ErrNoMedia)
	}
	sd.MediaDescriptions = sections

	for _, g := range t.j.Groups {
		if !isToken(g.Semantics) {
			t.loss("session", "group "+strconv.Quote(g.Semantics), "invalid semantics")
			continue
		}
		v := g.Semantics
		n := 0
		for _, c := range g.Contents {
			if names[t.mid(c)] {
				v += " " + t.mid(c)
				n++
			} else {
				t.loss("session", fmt.Sprintf("content %q of group %s", c, g.Semantics), "no such m-section")
			}
		}
		if n > 0 {
			sd.Attributes = append(sd.Attributes, sdp.NewAttribute("group", v))
		}
	}
	if ms := t.j.MSIDSemantic; ms != nil && isToken(ms.Semantic) {
		v := " " + ms.Semantic
		for _, tok := range ms.Tokens {
			v += " " + tok
		}
		sd.Attributes = append(sd.Attributes, sdp.NewAttribute("msid-semantic", v))
	}
	if iceLite {
		sd.Attributes = append(sd.Attributes, sdp.NewPropertyAttribute("ice-lite"))
	}
	if rtpCount > 0 && allMixed {
		sd.Attributes = append(sd.Attributes, sdp.NewPropertyAttribute("extmap-allow-mixed"))
	}
	if cryptex {
		sd.Attributes = append(sd.Attributes, sdp.NewPropertyAttribute("cryptex"))
	}
	sd.Attributes = t.sanitize(sd.Attributes, "session")
	for i, md := range sd.MediaDescriptions {
		md.Attributes = t.sanitize(md.Attributes, fmt.Sprintf("m-section %d", i+1))
	}
	return sd, nil
}

// sanitize drops the attributes whose value SDP cannot hold: Jingle values
// may contain characters (line breaks, controls) that would break the line.
func (t *toSDP) sanitize(attrs []sdp.Attribute, where string) []sdp.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if !sdpSafe(a.Key) || !sdpSafe(a.Value) {
			t.loss(where, "a="+strconv.QuoteToASCII(a.Key+":"+a.Value), "contains characters an SDP line cannot hold")
			continue
		}
		out = append(out, a)
	}
	return out
}

// sdpSafe reports whether s can be (part of) an SDP line.
func sdpSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// align orders the answer's m-sections like the offer's and rejects the
// offered m-sections that the answer has no content for.
func (t *toSDP) align(sections []*sdp.MediaDescription, mids []string) ([]*sdp.MediaDescription, []string, error) {
	// mids are already a=mid values here.
	byMid := map[string]*sdp.MediaDescription{}
	for i, m := range mids {
		byMid[m] = sections[i]
	}
	var out []*sdp.MediaDescription
	var outMids []string
	seen := map[string]bool{}
	for i, omd := range t.opts.Offer.MediaDescriptions {
		mid, ok := firstAttr(omd.Attributes, "mid")
		if !ok {
			mid = omd.MediaName.Media
			if seen[mid] {
				mid = fmt.Sprintf("%s-%d", mid, i)
			}
		}
		seen[mid] = true
		if md, ok := byMid[mid]; ok {
			out = append(out, md)
			outMids = append(outMids, mid)
			delete(byMid, mid)
			continue
		}
		out = append(out, rejectedSection(omd, mid, ok))
		outMids = append(outMids, mid)
		if omd.MediaName.Port.Value != 0 {
			t.loss(fmt.Sprintf("m-section %d (mid %q)", i+1, mid), "offered m-section", "no content in the answer: rejected with port 0")
		}
	}
	for _, m := range mids {
		if _, left := byMid[m]; left {
			return nil, nil, fmt.Errorf("%w: content %q is not in the offer", ErrUnknownContent, m)
		}
	}
	return out, outMids, nil
}

func (t *toSDP) content(c *jingle.Content, i int) (*sdp.MediaDescription, error) {
	where := fmt.Sprintf("content %q", c.Name)
	if c.Name == "" {
		return nil, fmt.Errorf("%w: content %d has no name", ErrInvalidContent, i+1)
	}
	isData := c.Description == nil && c.UnknownDescription == "" && c.Transport != nil && c.Transport.SCTPMap != nil
	switch {
	case c.UnknownDescription != "":
		// XEP-0343 lets any application (file transfer, ...) run over a data
		// channel; only bare data channels are WebRTC media.
		t.loss(where, "application "+c.UnknownDescription, "not RTP or a WebRTC data channel")
		if t.unsupportedApp == "" {
			t.unsupportedApp = fmt.Sprintf("content %q has application %q", c.Name, c.UnknownDescription)
		}
		return nil, nil
	case c.Description == nil && !isData:
		t.loss(where, "content", "no RTP description and no data channel")
		return nil, nil
	}
	if c.Transport == nil && c.RawUDP == nil && c.UnknownTransport != "" {
		t.loss(where, "transport "+c.UnknownTransport, "only ICE-UDP and Raw UDP are translated")
		if t.unsupportedTransport == "" {
			t.unsupportedTransport = fmt.Sprintf("content %q has transport %q", c.Name, c.UnknownTransport)
		}
		return nil, nil
	}
	md := &sdp.MediaDescription{
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "0.0.0.0"}},
	}
	md.MediaName.Port.Value = 9
	if isData {
		md.MediaName.Media = "application"
		md.MediaName.Protos = []string{"UDP", "DTLS", "SCTP"}
		md.MediaName.Formats = []string{"webrtc-datachannel"}
	} else {
		if m := c.Description.Media; m != "audio" && m != "video" {
			if m == "" {
				return nil, fmt.Errorf("%w: %s: description without media", ErrInvalidContent, where)
			}
			t.loss(where, "media "+strconv.Quote(m), "only audio and video are RTP media for browsers")
			return nil, nil
		}
		md.MediaName.Media = c.Description.Media
		md.MediaName.Protos = strings.Split(t.profile(c, where), "/")
		for _, p := range c.Description.PayloadTypes {
			if payloadName(p) == "" {
				continue
			}
			md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(p.ID)))
		}
		if len(md.MediaName.Formats) == 0 {
			t.loss(where, "description", "no usable payload type, and an m= line needs one")
			return nil, nil
		}
		for _, bw := range c.Description.Bandwidths {
			if !isToken(bw.Type) {
				t.loss(where, "bandwidth type "+strconv.Quote(bw.Type), "invalid")
				continue
			}
			b := sdp.Bandwidth{Type: bw.Type, Bandwidth: bw.Value}
			if rest, ok := strings.CutPrefix(bw.Type, "X-"); ok {
				b.Experimental, b.Type = true, rest
			}
			md.Bandwidth = append(md.Bandwidth, b)
		}
	}
	add := func(k, v string) { md.Attributes = append(md.Attributes, sdp.NewAttribute(k, v)) }
	flag := func(k string) { md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(k)) }

	if c.RawUDP != nil && c.Transport == nil {
		t.rawUDP(md, c.RawUDP, where)
	}
	if tr := c.Transport; tr != nil {
		for _, cand := range tr.Candidates {
			if t.opts.MDNS == MDNSDrop && isMDNS(cand.IP) {
				t.loss(where, "candidate "+cand.IP, "mDNS host candidate dropped by policy")
				continue
			}
			cand, note := clampPriority(cand)
			if note != "" {
				t.loss(where, "candidate "+cand.ID+" priority", note)
			}
			line, err := FormatCandidate(cand)
			if err != nil {
				t.loss(where, "candidate "+cand.ID, err.Error())
				continue
			}
			add("candidate", strings.TrimPrefix(line, "candidate:"))
		}
		if tr.GatheringComplete {
			flag("end-of-candidates")
		}
		if tr.Ufrag != "" {
			add("ice-ufrag", tr.Ufrag)
		}
		if tr.Pwd != "" {
			add("ice-pwd", tr.Pwd)
		}
		if len(tr.ICEOptions) > 0 {
			add("ice-options", strings.Join(tr.ICEOptions, " "))
		}
		setup := ""
		for _, f := range tr.Fingerprints {
			if !isToken(f.Hash) || !isToken(f.Value) {
				t.loss(where, "fingerprint "+strconv.Quote(f.Hash), "invalid hash or value")
				continue
			}
			add("fingerprint", f.Hash+" "+f.Value)
			if setup == "" {
				setup = f.Setup
			}
		}
		if len(tr.Fingerprints) > 0 {
			add("setup", t.setup(setup, where))
		}
		if tr.RemoteCandidate != nil {
			t.loss(where, "remote-candidate", "JSEP has no in-use candidate attribute")
		}
		// Not losses, but what browsers will refuse: say so while the
		// translation still knows where.
		if len(tr.Fingerprints) == 0 {
			t.loss(where, "DTLS fingerprint", "missing: browsers refuse media without DTLS-SRTP")
		}
		if n := len(tr.Pwd); tr.Pwd != "" && (n < 22 || n > 256) {
			t.loss(where, "ice-pwd", fmt.Sprintf("%d characters: RFC 8839 and browsers want 22 to 256", n))
		}
		if n := len(tr.Ufrag); tr.Ufrag != "" && (n < 4 || n > 256) {
			t.loss(where, "ice-ufrag", fmt.Sprintf("%d characters: RFC 8839 and browsers want 4 to 256", n))
		}
	}
	mid := t.mid(c.Name)
	if mid != c.Name {
		t.loss(where, "content name as a=mid", fmt.Sprintf("browsers take at most %d token characters: a=mid:%s is used (see SDPMids)", MaxMidLength, mid))
	}
	add("mid", mid)
	if isData {
		sm := c.Transport.SCTPMap
		if sm.Protocol != "" && sm.Protocol != "webrtc-datachannel" {
			t.loss(where, "sctpmap protocol "+strconv.Quote(sm.Protocol), "browsers only speak webrtc-datachannel")
		}
		add("sctp-port", strconv.FormatUint(uint64(sm.Number), 10))
		if sm.MaxMessageSize != 0 {
			add("max-message-size", strconv.FormatUint(sm.MaxMessageSize, 10))
		}
		return md, nil
	}
	if err := t.rtp(md, c, where); err != nil {
		return nil, err
	}
	return md, nil
}

// profile returns the m= line protocol: the profile attribute if it agrees
// with the transport, otherwise one derived from it.
func (t *toSDP) profile(c *jingle.Content, where string) string {
	dtls := c.Transport != nil && len(c.Transport.Fingerprints) > 0
	feedback := len(c.Description.Feedback) > 0
	for _, p := range c.Description.PayloadTypes {
		feedback = feedback || len(p.Feedback) > 0
	}
	derived := "RTP/AVP"
	switch {
	case dtls:
		derived = "UDP/TLS/RTP/SAVPF"
	case feedback:
		derived = "RTP/AVPF"
	}
	p := c.Description.Profile
	if p == "" {
		return derived
	}
	secure := strings.Contains(p, "SAVP")
	valid := isToken(p) && strings.Contains(p, "RTP/") && !strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//")
	if !valid || secure != dtls {
		t.loss(where, "profile "+strconv.Quote(p), "does not match the transport; using "+derived)
		return derived
	}
	return p
}

// setup maps the fingerprint's setup attribute, defaulting it as RFC 5763
// asks when it is missing, and never letting an answer say actpass.
func (t *toSDP) setup(setup, where string) string {
	switch {
	case setup == "" && t.typ == SDPTypeAnswer:
		return "active"
	case setup == "":
		return "actpass"
	case setup == "actpass" && t.typ == SDPTypeAnswer:
		t.loss(where, "setup actpass", "an answer must choose a role: active is signalled")
		return "active"
	case !isToken(setup):
		t.loss(where, "setup "+strconv.Quote(setup), "invalid: actpass is signalled")
		return "actpass"
	}
	return setup
}

func (t *toSDP) rawUDP(md *sdp.MediaDescription, raw *jingle.RawUDPTransport, where string) {
	var rtp, rtcp *jingle.RawUDPCandidate
	for i := range raw.Candidates {
		c := &raw.Candidates[i]
		switch c.Component {
		case 0, 1:
			if rtp == nil {
				rtp = c
			}
		case 2:
			if rtcp == nil {
				rtcp = c
			}
		}
	}
	if rtp == nil || !isToken(rtp.IP) {
		t.loss(where, "raw-udp transport", "no usable RTP candidate")
		return
	}
	md.MediaName.Port.Value = int(rtp.Port)
	md.ConnectionInformation = connection(rtp.IP)
	if rtcp != nil && isToken(rtcp.IP) && (rtcp.Port != rtp.Port+1 || rtcp.IP != rtp.IP) {
		c := connection(rtcp.IP)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp",
			fmt.Sprintf("%d %s %s %s", rtcp.Port, c.NetworkType, c.AddressType, rtcp.IP)))
	}
}

func connection(ip string) *sdp.ConnectionInformation {
	typ := "IP4"
	if strings.Contains(ip, ":") {
		typ = "IP6"
	}
	return &sdp.ConnectionInformation{NetworkType: "IN", AddressType: typ, Address: &sdp.Address{Address: ip}}
}

// msidTrack returns the track (appdata) part of an msid value.
func msidTrack(v string) string {
	f := strings.Fields(v)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// oneTrack keeps what Unified Plan allows in one m-section: the streams and
// sources of the first track. Jitsi puts every participant's sources in one
// content; libwebrtc refuses that ("Two different track IDs in msid
// attribute in one m= section"), so the others are dropped and reported.
func (t *toSDP) oneTrack(d *jingle.Description, where string) *jingle.Description {
	return oneTrack(d, func(what, why string) { t.loss(where, what, why) })
}

// oneTrack returns d with the streams and sources of its first track only
// (d itself if there is nothing to drop), reporting what it drops.
func oneTrack(d *jingle.Description, loss func(what, why string)) *jingle.Description {
	track := ""
	for _, s := range d.Streams {
		if track = msidTrack(s.ID + " " + s.Track); track != "" {
			break
		}
	}
	if track == "" {
		for _, s := range d.Sources {
			if v, ok := s.Param("msid"); ok {
				if track = msidTrack(v); track != "" {
					break
				}
			}
		}
	}
	if track == "" {
		return d
	}
	out := *d
	out.Streams = nil
	for _, s := range d.Streams {
		if tr := msidTrack(s.ID + " " + s.Track); tr == "" || tr == track {
			out.Streams = append(out.Streams, s)
		} else {
			loss("stream "+s.ID+" "+s.Track, "a second track: browsers take one per m-section")
		}
	}
	out.Sources = nil
	dropped := map[uint32]bool{}
	for _, s := range d.Sources {
		if v, ok := s.Param("msid"); ok && msidTrack(v) != "" && msidTrack(v) != track {
			dropped[s.SSRC] = true
			loss(fmt.Sprintf("source %d of track %s", s.SSRC, msidTrack(v)), "a second track: browsers take one per m-section")
			continue
		}
		out.Sources = append(out.Sources, s)
	}
	if len(dropped) == 0 {
		return &out
	}
	out.SourceGroups = nil
	for _, g := range d.SourceGroups {
		if slices.ContainsFunc(g.SSRCs, func(n uint32) bool { return dropped[n] }) {
			loss("ssrc-group "+g.Semantics, "refers to a dropped source")
			continue
		}
		out.SourceGroups = append(out.SourceGroups, g)
	}
	return &out
}

func (t *toSDP) rtp(md *sdp.MediaDescription, c *jingle.Content, where string) error {
	d := t.oneTrack(completeSources(c.Description, func(what, why string) { t.loss(where, what, why) }), where)
	add := func(k, v string) { md.Attributes = append(md.Attributes, sdp.NewAttribute(k, v)) }
	flag := func(k string) { md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(k)) }

	for _, h := range d.HeaderExtensions {
		if !isToken(h.URI) || h.ID == 0 {
			t.loss(where, fmt.Sprintf("rtp-hdrext %d %q", h.ID, h.URI), "invalid id or uri")
			continue
		}
		v := strconv.FormatUint(uint64(h.ID), 10)
		if h.Senders != jingle.SendersUnknown && h.Senders != jingle.SendersBoth {
			v += "/" + directionFor(h.Senders, t.role)
		}
		add("extmap", v+" "+h.URI+formatExtParams(h.Parameters))
	}
	flag(directionFor(c.Senders.OrBoth(), t.role))

	if len(d.Streams) > 0 {
		for _, s := range d.Streams {
			if !isToken(s.ID) {
				t.loss(where, "stream "+strconv.Quote(s.ID), "invalid msid")
				continue
			}
			v := s.ID
			if tr := strings.TrimSpace(s.Track); tr != "" {
				v += " " + tr
			}
			add("msid", v)
		}
	} else {
		// Firefox only reads the media-level a=msid: derive it from the
		// sources, if every source says which stream it belongs to (a
		// media-level msid would otherwise claim the others too).
		var seen []string
		all := true
		for _, s := range d.Sources {
			v, _ := s.Param("msid")
			v = strings.Join(strings.Fields(v), " ")
			if v == "" {
				all = all && len(s.Parameters) == 0
				continue
			}
			if !slices.Contains(seen, v) {
				seen = append(seen, v)
			}
		}
		if all {
			for _, v := range seen {
				add("msid", v)
			}
		}
	}
	switch {
	case d.RTCPMux || (c.Transport != nil && c.Transport.RTCPMux):
		flag("rtcp-mux")
	case c.RawUDP == nil:
		// Browsers require RTCP multiplexing (rtcpMuxPolicy "require"); a
		// Jingle peer that cannot mux still gets RTP, and the browser would
		// refuse the whole description otherwise.
		flag("rtcp-mux")
		t.loss(where, "rtcp-mux", "added: browsers require RTCP multiplexing")
	}
	if d.RTCPReducedSize {
		flag("rtcp-rsize")
	}
	ptime, maxptime := uint32(0), d.MaxPTime
	for _, p := range d.PayloadTypes {
		pt := strconv.Itoa(int(p.ID))
		name, clock := payloadName(p), p.ClockRate
		if s, ok := staticPayloadTypes[p.ID]; ok && clock == 0 {
			clock = s.clock
		}
		if name == "" {
			t.loss(where, fmt.Sprintf("payload type %d name %q", p.ID, p.Name), "a dynamic payload type needs a valid name")
			continue
		}
		if clock == 0 {
			clock = 8000
			if d.Media == "video" {
				clock = 90000
			}
			t.loss(where, fmt.Sprintf("payload type %d clockrate", p.ID), fmt.Sprintf("missing; %d assumed", clock))
		}
		v := pt + " " + name + "/" + strconv.FormatUint(uint64(clock), 10)
		if p.Channels > 1 {
			v += "/" + strconv.Itoa(int(p.Channels))
		}
		add("rtpmap", v)
		if params := keylessEvents(p, unpackParams(p.Parameters)); len(params) > 0 {
			if s := formatParams(params); isFmtp(s) {
				add("fmtp", pt+" "+s)
			} else {
				t.loss(where, fmt.Sprintf("payload type %d parameters", p.ID), "contain line breaks")
			}
		}
		for _, f := range p.Feedback {
			if v, ok := t.feedback(f, where); ok {
				add("rtcp-fb", pt+" "+v)
			}
		}
		if p.PTime != 0 {
			if ptime == 0 {
				ptime = p.PTime
			} else if p.PTime != ptime {
				t.loss(where, fmt.Sprintf("payload type %d ptime %d", p.ID, p.PTime), "SDP has one a=ptime per m-section")
			}
		}
		if p.MaxPTime != 0 && maxptime == 0 {
			maxptime = p.MaxPTime
		}
	}
	for _, f := range d.Feedback {
		if v, ok := t.feedback(f, where); ok {
			add("rtcp-fb", "* "+v)
		}
	}
	if ptime != 0 {
		add("ptime", strconv.FormatUint(uint64(ptime), 10))
	}
	if maxptime != 0 {
		add("maxptime", strconv.FormatUint(uint64(maxptime), 10))
	}
	if d.ExtmapAllowMixed {
		flag("extmap-allow-mixed")
	}
	for _, g := range d.SourceGroups {
		if !isToken(g.Semantics) || len(g.SSRCs) == 0 {
			t.loss(where, "ssrc-group "+strconv.Quote(g.Semantics), "invalid semantics or no sources")
			continue
		}
		v := g.Semantics
		for _, s := range g.SSRCs {
			v += " " + strconv.FormatUint(uint64(s), 10)
		}
		add("ssrc-group", v)
	}
	for _, s := range d.Sources {
		id := strconv.FormatUint(uint64(s.SSRC), 10)
		n := 0
		for _, p := range s.Parameters {
			if !isToken(p.Name) || strings.Contains(p.Name, ":") || strings.ContainsAny(p.Value, "\r\n") {
				t.loss(where, fmt.Sprintf("source %d parameter %q", s.SSRC, p.Name), "cannot be an a=ssrc attribute")
				continue
			}
			v := p.Value
			if p.Name == "msid" {
				// A trailing space in an msid breaks libwebrtc.
				v = strings.Join(strings.Fields(v), " ")
			}
			if v == "" {
				add("ssrc", id+" "+p.Name)
			} else {
				add("ssrc", id+" "+p.Name+":"+v)
			}
			n++
		}
		if n == 0 {
			t.loss(where, fmt.Sprintf("source %d", s.SSRC), "has no parameter, so no a=ssrc line")
		}
	}
	if d.Encryption != nil {
		t.loss(where, "encryption (SDES)", "browsers only accept DTLS-SRTP; the keys are not signalled")
	}
	return nil
}

// keylessEvents undoes QXmpp's naming of the key-less telephone-event fmtp
// ("0-15"): it writes <parameter name='events' value='0-15'/>, which would
// become "events=0-15", a parameter no browser knows.
func keylessEvents(p jingle.PayloadType, params []jingle.Parameter) []jingle.Parameter {
	if !strings.EqualFold(p.Name, "telephone-event") {
		return params
	}
	for i, prm := range params {
		if prm.Name == "events" {
			out := slices.Clone(params)
			out[i] = jingle.Parameter{Value: prm.Value}
			return out
		}
	}
	return params
}

// completeSources returns d with a <source/> for every ssrc that d names
// without describing it: members of an <ssrc-group/> (StanzaJS sends the
// RTX ssrc of video only in its FID group) and the ssrc attribute of
// <description/> (XEP-0167). Each new source takes the cname and msid of a
// described member of its group, or of the first described source; SDP has
// no way to name an ssrc without an a=ssrc line, and Chromium refuses an
// a=ssrc-group whose members have none. A group that no described source
// can complete is dropped and reported. d itself is never modified.
func completeSources(d *jingle.Description, loss func(what, why string)) *jingle.Description {
	described := make(map[uint32]int, len(d.Sources))
	for i, s := range d.Sources {
		if len(s.Parameters) > 0 {
			described[s.SSRC] = i
		}
	}
	known := func(ssrc uint32) bool {
		return slices.ContainsFunc(d.Sources, func(s jingle.Source) bool { return s.SSRC == ssrc })
	}
	// inherit returns the parameters a new source copies from src.
	inherit := func(src jingle.Source) []jingle.Parameter {
		var ps []jingle.Parameter
		for _, p := range src.Parameters {
			if p.Name == "cname" || p.Name == "msid" {
				ps = append(ps, p)
			}
		}
		return ps
	}
	fallback := -1
	for i, s := range d.Sources {
		if _, ok := s.Param("cname"); ok {
			fallback = i
			break
		}
	}
	var added []jingle.Source
	var dropGroups []int
	for gi, g := range d.SourceGroups {
		var missing []uint32
		model := -1
		for _, ssrc := range g.SSRCs {
			if i, ok := described[ssrc]; ok {
				if model < 0 {
					model = i
				}
				continue
			}
			missing = append(missing, ssrc) // absent, or a bare <source/>
		}
		if len(missing) == 0 {
			continue
		}
		if model < 0 {
			model = fallback
		}
		if model < 0 || len(inherit(d.Sources[model])) == 0 {
			dropGroups = append(dropGroups, gi)
			loss("ssrc-group "+g.Semantics, "its sources have no cname to write a=ssrc lines with")
			continue
		}
		for _, ssrc := range missing {
			if slices.ContainsFunc(added, func(s jingle.Source) bool { return s.SSRC == ssrc }) {
				continue
			}
			added = append(added, jingle.Source{SSRC: ssrc, Parameters: inherit(d.Sources[model])})
		}
	}
	if d.SSRC != 0 && !known(d.SSRC) && !slices.ContainsFunc(added, func(s jingle.Source) bool { return s.SSRC == d.SSRC }) {
		if fallback >= 0 {
			added = append(added, jingle.Source{SSRC: d.SSRC, Parameters: inherit(d.Sources[fallback])})
		} else if len(d.Sources) == 0 {
			// The only ssrc there is: RTP needs no a=ssrc line to flow,
			// and a cname would be invented.
			loss(fmt.Sprintf("description ssrc %d", d.SSRC), "no <source/> gives it a cname; browsers take the stream unsignalled")
		}
	}
	if len(added) == 0 && len(dropGroups) == 0 {
		return d
	}
	out := *d
	out.Sources = nil
	for _, s := range d.Sources {
		if len(s.Parameters) == 0 {
			if i := slices.IndexFunc(added, func(a jingle.Source) bool { return a.SSRC == s.SSRC }); i >= 0 {
				// A bare <source/> of a group member: described now.
				out.Sources = append(out.Sources, added[i])
				added = slices.Delete(added, i, i+1)
				continue
			}
		}
		out.Sources = append(out.Sources, s)
	}
	out.Sources = append(out.Sources, added...)
	out.SourceGroups = nil
	for gi, g := range d.SourceGroups {
		if !slices.Contains(dropGroups, gi) {
			out.SourceGroups = append(out.SourceGroups, g)
		}
	}
	return &out
}

// payloadName returns the codec name of p, from the static payload type
// table if p has none, or "" if there is no valid name.
func payloadName(p jingle.PayloadType) string {
	name := p.Name
	if s, ok := staticPayloadTypes[p.ID]; ok && name == "" {
		name = s.name
	}
	if !isToken(name) || strings.Contains(name, "/") {
		return ""
	}
	return name
}

func isFmtp(s string) bool {
	return s != "" && !strings.ContainsAny(s, "\r\n")
}

func (t *toSDP) feedback(f jingle.RTCPFeedback, where string) (string, bool) {
	if !isToken(f.Type) || (f.Subtype != "" && !isToken(f.Subtype)) {
		t.loss(where, fmt.Sprintf("rtcp-fb %q %q", f.Type, f.Subtype), "invalid type or subtype")
		return "", false
	}
	v := f.Type
	if f.Subtype != "" {
		v += " " + f.Subtype
	}
	for _, p := range f.Parameters {
		if !isToken(p.Name) || (p.Value != "" && !isToken(p.Value)) {
			t.loss(where, fmt.Sprintf("rtcp-fb parameter %q", p.Name), "invalid")
			continue
		}
		v += formatExtParams([]jingle.Parameter{p})
	}
	return v, true
}
