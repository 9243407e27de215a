package sdpxlate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/pion/sdp/v3"
)

// Diff compares two successive local descriptions of one session and
// returns the Jingle messages that tell the peer about the change, in this
// order:
//
//   - content-remove for m-sections that went away or got port 0;
//   - content-modify for m-sections whose direction changed;
//   - description-info for m-sections whose codecs changed;
//   - content-add for new m-sections (with the BUNDLE group that holds them);
//   - transport-info with the new credentials (and candidates, if any) for
//     m-sections whose ICE ufrag or pwd changed: an ICE restart.
//
// opts.Role is the local party; it creates the added contents. Other
// contents are attributed with opts.Creators, else to the initiator.
// The result is empty when nothing Jingle can express changed.
func Diff(old, cur *sdp.SessionDescription, opts ToJingleOptions) ([]*jingle.Jingle, error) {
	if old == nil || cur == nil {
		return nil, ErrNilInput
	}
	if opts.Role == jingle.RoleUnknown {
		opts.Role = jingle.RoleInitiator
	}
	header := func(a jingle.Action) *jingle.Jingle {
		return &jingle.Jingle{Action: a, SID: opts.SID, Initiator: opts.Initiator, Responder: opts.Responder}
	}
	creator := func(mid string) jingle.Role {
		if r, ok := opts.Creators[mid]; ok && r != jingle.RoleUnknown {
			return r
		}
		return jingle.RoleInitiator
	}
	oldSec, oldOrder := activeSections(old)
	curSec, curOrder := activeSections(cur)

	var out []*jingle.Jingle
	remove := header(jingle.ActionContentRemove)
	for _, mid := range oldOrder {
		if _, ok := curSec[mid]; !ok {
			name := nameOf(mid, opts.Names)
			remove.Contents = append(remove.Contents, jingle.Content{Creator: creator(name), Name: name})
		}
	}
	if len(remove.Contents) > 0 {
		out = append(out, remove)
	}

	addOpts := opts
	addOpts.Action = jingle.ActionContentAdd
	full, err := SDPToJingle(cur, addOpts)
	if err != nil {
		return nil, err
	}
	modify := header(jingle.ActionContentModify)
	info := header(jingle.ActionDescriptionInfo)
	add := header(jingle.ActionContentAdd)
	var restart []string
	for _, mid := range curOrder {
		name := nameOf(mid, opts.Names)
		c := full.Content(name)
		if c == nil {
			continue
		}
		o, existed := oldSec[mid]
		if !existed {
			cc := *c
			if r, ok := opts.Creators[name]; ok && r != jingle.RoleUnknown {
				cc.Creator = r
			} else {
				cc.Creator = opts.Role
			}
			add.Contents = append(add.Contents, cc)
			continue
		}
		n := curSec[mid]
		if c.Description != nil && effectiveDirection(old, o) != effectiveDirection(cur, n) {
			modify.Contents = append(modify.Contents, jingle.Content{Creator: creator(name), Name: name, Senders: c.Senders})
		}
		if c.Description != nil && codecKey(o) != codecKey(n) {
			info.Contents = append(info.Contents, jingle.Content{Creator: creator(name), Name: name, Description: c.Description})
		}
		ou, op := credentials(old, mid)
		nu, np := credentials(cur, mid)
		if ou != nu || op != np {
			restart = append(restart, mid)
		}
	}
	for _, m := range []*jingle.Jingle{modify, info} {
		if len(m.Contents) > 0 {
			out = append(out, m)
		}
	}
	if len(add.Contents) > 0 {
		for _, g := range full.Groups {
			for _, c := range add.Contents {
				if slices.Contains(g.Contents, c.Name) {
					add.Groups = append(add.Groups, g)
					break
				}
			}
		}
		out = append(out, add)
	}
	if len(restart) > 0 {
		ti, err := SDPToTransportInfo(cur, restart, TransportInfoOptions{
			SID: opts.SID, Initiator: opts.Initiator, Responder: opts.Responder,
			Creators: opts.Creators, Names: opts.Names, MDNS: opts.MDNS, OnLoss: opts.OnLoss,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, ti)
	}
	return out, nil
}

// activeSections maps the mids of the m-sections that are not rejected.
func activeSections(sd *sdp.SessionDescription) (map[string]*sdp.MediaDescription, []string) {
	m := map[string]*sdp.MediaDescription{}
	var order []string
	for _, md := range sd.MediaDescriptions {
		mid, ok := firstAttr(md.Attributes, "mid")
		if !ok || (md.MediaName.Port.Value == 0 && !hasAttr(md.Attributes, "bundle-only")) {
			continue
		}
		m[mid] = md
		order = append(order, mid)
	}
	return m, order
}

func effectiveDirection(sd *sdp.SessionDescription, md *sdp.MediaDescription) string {
	if d := direction(md.Attributes); d != "" {
		return d
	}
	if d := direction(sd.Attributes); d != "" {
		return d
	}
	return "sendrecv"
}

// codecKey summarises the codec attributes of an m-section.
func codecKey(md *sdp.MediaDescription) string {
	var b strings.Builder
	b.WriteString(strings.Join(md.MediaName.Formats, " "))
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap", "fmtp", "rtcp-fb", "ptime", "maxptime":
			b.WriteString("\n" + a.Key + ":" + a.Value)
		}
	}
	return b.String()
}

// Apply returns a copy of the remote description remote changed by the
// Jingle message j that the peer sent, for handing to the browser:
//
//   - session-initiate and session-accept: the translation of j (remote may
//     be nil);
//   - content-add and content-accept: the new m-sections are appended (or
//     replace a rejected one with the same mid) and joined to the BUNDLE
//     group; with opts.Offer set, the m-sections follow the offer's order;
//   - content-remove and content-reject: the m-sections are rejected (port
//     0) and leave their groups;
//   - content-modify: the direction follows the new senders;
//   - description-info: the codecs are replaced;
//   - transport-info and transport-replace: candidates are added; new ICE
//     credentials replace the old ones and their candidates (ICE restart),
//     in the other m-sections of the content's BUNDLE group too (they share
//     one transport, so the transport-infos a peer sends for them, one per
//     content as Dino does, are no new restart).
//
// opts.Role is the party that sent j (default: derived as in JingleToSDP).
// Other actions fail with ErrUnsupportedAction; contents the session does
// not have fail with ErrUnknownContent.
func Apply(remote *sdp.SessionDescription, j *jingle.Jingle, opts ToSDPOptions) (*sdp.SessionDescription, error) {
	if j == nil {
		return nil, ErrNilInput
	}
	switch j.Action {
	case jingle.ActionSessionInitiate, jingle.ActionSessionAccept:
		return JingleToSDP(j, opts)
	}
	if remote == nil {
		return nil, ErrNilInput
	}
	role := opts.Role
	if role == jingle.RoleUnknown {
		role = senderRole(j)
	}
	sd := cloneSDP(remote)
	find := func(name string) (*sdp.MediaDescription, error) {
		want := midOf(name, opts.Mids)
		for _, md := range sd.MediaDescriptions {
			if mid, _ := firstAttr(md.Attributes, "mid"); mid == want {
				return md, nil
			}
		}
		return nil, fmt.Errorf("%w: %q (action %s)", ErrUnknownContent, name, j.Action)
	}
	switch j.Action {
	case jingle.ActionContentAdd, jingle.ActionContentAccept:
		part, err := JingleToSDP(j, ToSDPOptions{Role: role, Type: opts.Type, MDNS: opts.MDNS, Mids: opts.Mids, OnLoss: opts.OnLoss})
		if err != nil {
			return nil, err
		}
		for _, md := range part.MediaDescriptions {
			mid, _ := firstAttr(md.Attributes, "mid")
			replaced := false
			for i, old := range sd.MediaDescriptions {
				if m, _ := firstAttr(old.Attributes, "mid"); m == mid {
					sd.MediaDescriptions[i] = md
					replaced = true
				}
			}
			if !replaced {
				sd.MediaDescriptions = append(sd.MediaDescriptions, md)
			}
			joinBundle(sd, mid)
		}
		if opts.Offer != nil {
			reorder(sd, opts.Offer)
		}
	case jingle.ActionContentRemove, jingle.ActionContentReject:
		for _, c := range j.Contents {
			md, err := find(c.Name)
			if err != nil {
				return nil, err
			}
			md.MediaName.Port.Value = 0
			md.Attributes = slices.DeleteFunc(md.Attributes, func(a sdp.Attribute) bool { return a.Key == "bundle-only" })
			leaveGroups(sd, midOf(c.Name, opts.Mids))
		}
	case jingle.ActionContentModify:
		for _, c := range j.Contents {
			md, err := find(c.Name)
			if err != nil {
				return nil, err
			}
			setDirection(md, directionFor(c.Senders.OrBoth(), role))
		}
	case jingle.ActionDescriptionInfo:
		for _, c := range j.Contents {
			md, err := find(c.Name)
			if err != nil {
				return nil, err
			}
			if c.Description == nil {
				continue
			}
			tmp := &jingle.Jingle{Action: jingle.ActionSessionInitiate, Contents: []jingle.Content{{Name: c.Name, Senders: c.Senders, Description: c.Description}}}
			part, err := JingleToSDP(tmp, ToSDPOptions{Role: role, Mids: opts.Mids, OnLoss: opts.OnLoss})
			if err != nil {
				return nil, err
			}
			replaceCodecs(md, part.MediaDescriptions[0])
		}
	case jingle.ActionTransportInfo, jingle.ActionTransportReplace, jingle.ActionTransportAccept:
		// renewed: the m-sections that took the new credentials of another
		// in their BUNDLE group, and their credentials before.
		renewed := map[*sdp.MediaDescription]string{}
		for _, c := range j.Contents {
			if c.Transport == nil {
				continue
			}
			md, err := find(c.Name)
			if err != nil {
				return nil, err
			}
			if old, ok := renewed[md]; ok && c.Transport.Ufrag == old {
				// The old credentials of a transport this message
				// restarts: nothing of them stays.
				continue
			}
			restarted, err := applyTransport(md, c.Transport, opts, c.Name)
			if err != nil {
				return nil, err
			}
			if restarted {
				for m, u := range shareBundleCredentials(sd, md) {
					if _, ok := renewed[m]; !ok {
						renewed[m] = u
					}
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedAction, j.Action)
	}
	return sd, nil
}

// applyTransport adds tr to md; restarted: tr has new ICE credentials.
func applyTransport(md *sdp.MediaDescription, tr *jingle.Transport, opts ToSDPOptions, name string) (restarted bool, err error) {
	ufrag, _ := firstAttr(md.Attributes, "ice-ufrag")
	pwd, _ := firstAttr(md.Attributes, "ice-pwd")
	if tr.Ufrag != "" && (tr.Ufrag != ufrag || (tr.Pwd != "" && tr.Pwd != pwd)) {
		restarted = true
		// ICE restart: new credentials, and the old candidates are gone.
		md.Attributes = slices.DeleteFunc(md.Attributes, func(a sdp.Attribute) bool {
			switch a.Key {
			case "candidate", "end-of-candidates", "ice-ufrag", "ice-pwd":
				return true
			}
			return false
		})
		md.Attributes = append(md.Attributes, sdp.NewAttribute("ice-ufrag", tr.Ufrag))
		if tr.Pwd != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("ice-pwd", tr.Pwd))
		}
	}
	for _, c := range tr.Candidates {
		if opts.MDNS == MDNSDrop && isMDNS(c.IP) {
			if opts.OnLoss != nil {
				opts.OnLoss(Loss{Where: fmt.Sprintf("content %q", name), What: "candidate " + c.IP, Why: "mDNS host candidate dropped by policy"})
			}
			continue
		}
		c, _ = clampPriority(c)
		line, err := FormatCandidate(c)
		if err != nil {
			if opts.OnLoss != nil {
				opts.OnLoss(Loss{Where: fmt.Sprintf("content %q", name), What: "candidate " + c.ID, Why: err.Error()})
			}
			continue
		}
		v := strings.TrimPrefix(line, "candidate:")
		if !slices.ContainsFunc(md.Attributes, func(a sdp.Attribute) bool { return a.Key == "candidate" && a.Value == v }) {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("candidate", v))
		}
	}
	if tr.GatheringComplete && !hasAttr(md.Attributes, "end-of-candidates") {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("end-of-candidates"))
	}
	return restarted, nil
}

// shareBundleCredentials gives the other m-sections of src's BUNDLE groups
// src's ICE credentials, without the candidates of their old ones, and
// returns those it changed with their old ufrag. sd's m-sections are its own
// (Apply cloned them).
func shareBundleCredentials(sd *sdp.SessionDescription, src *sdp.MediaDescription) map[*sdp.MediaDescription]string {
	changed := map[*sdp.MediaDescription]string{}
	mid, _ := firstAttr(src.Attributes, "mid")
	ufrag, _ := firstAttr(src.Attributes, "ice-ufrag")
	pwd, _ := firstAttr(src.Attributes, "ice-pwd")
	if mid == "" || ufrag == "" || pwd == "" {
		return changed
	}
	for _, a := range sd.Attributes {
		f := strings.Fields(a.Value)
		if a.Key != "group" || len(f) < 2 || f[0] != "BUNDLE" || !slices.Contains(f[1:], mid) {
			continue
		}
		for _, md := range sd.MediaDescriptions {
			m, _ := firstAttr(md.Attributes, "mid")
			if md == src || !slices.Contains(f[1:], m) {
				continue
			}
			old, _ := firstAttr(md.Attributes, "ice-ufrag")
			if old == ufrag {
				continue
			}
			changed[md] = old
			var attrs []sdp.Attribute
			for _, at := range md.Attributes {
				switch at.Key {
				case "ice-ufrag":
					at.Value = ufrag
				case "ice-pwd":
					at.Value = pwd
				case "candidate", "end-of-candidates":
					continue // of the old credentials
				}
				attrs = append(attrs, at)
			}
			md.Attributes = attrs
		}
	}
	return changed
}

func setDirection(md *sdp.MediaDescription, dir string) {
	for i, a := range md.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			md.Attributes[i] = sdp.NewPropertyAttribute(dir)
			return
		}
	}
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(dir))
}

// replaceCodecs puts the formats and codec attributes of src into md.
func replaceCodecs(md, src *sdp.MediaDescription) {
	isCodec := func(a sdp.Attribute) bool {
		switch a.Key {
		case "rtpmap", "fmtp", "rtcp-fb", "ptime", "maxptime":
			return true
		}
		return false
	}
	md.MediaName.Formats = slices.Clone(src.MediaName.Formats)
	md.Bandwidth = slices.Clone(src.Bandwidth)
	md.Attributes = slices.DeleteFunc(md.Attributes, isCodec)
	for _, a := range src.Attributes {
		if isCodec(a) {
			md.Attributes = append(md.Attributes, a)
		}
	}
}

func joinBundle(sd *sdp.SessionDescription, mid string) {
	for i, a := range sd.Attributes {
		if a.Key != "group" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) == 0 || f[0] != "BUNDLE" {
			continue
		}
		if !slices.Contains(f[1:], mid) {
			sd.Attributes[i].Value = a.Value + " " + mid
		}
		return
	}
}

// Revert undoes in cur the content-add or transport-replace j that was
// applied to prev (by Apply) and later dropped: j's m-sections are as in
// prev again, and one prev lacks is removed, with its mid taken out of the
// groups. What else changed since prev (an ICE restart, say) stays. cur is
// not modified. Content names are taken for mids (Apply without Mids).
func Revert(cur, prev *sdp.SessionDescription, j *jingle.Jingle) *sdp.SessionDescription {
	if cur == nil || prev == nil || j == nil {
		return cur
	}
	sd := cloneSDP(cur)
	for _, c := range j.Contents {
		var old *sdp.MediaDescription
		for _, md := range prev.MediaDescriptions {
			if m, _ := firstAttr(md.Attributes, "mid"); m == c.Name {
				old = md
			}
		}
		for i, md := range sd.MediaDescriptions {
			if m, _ := firstAttr(md.Attributes, "mid"); m != c.Name {
				continue
			}
			if old != nil {
				sd.MediaDescriptions[i] = old
			} else {
				sd.MediaDescriptions = slices.Delete(sd.MediaDescriptions, i, i+1)
				leaveGroups(sd, c.Name)
			}
			break
		}
	}
	return sd
}

func leaveGroups(sd *sdp.SessionDescription, mid string) {
	var keep []sdp.Attribute
	for _, a := range sd.Attributes {
		if a.Key == "group" {
			f := strings.Fields(a.Value)
			if len(f) > 0 {
				rest := slices.DeleteFunc(slices.Clone(f[1:]), func(s string) bool { return s == mid })
				if len(rest) == 0 {
					continue
				}
				a.Value = f[0] + " " + strings.Join(rest, " ")
			}
		}
		keep = append(keep, a)
	}
	sd.Attributes = keep
}

// reorder sorts the m-sections of sd by the order of their mids in offer.
func reorder(sd *sdp.SessionDescription, offer *sdp.SessionDescription) {
	pos := map[string]int{}
	for i, md := range offer.MediaDescriptions {
		if mid, ok := firstAttr(md.Attributes, "mid"); ok {
			pos[mid] = i
		}
	}
	slices.SortStableFunc(sd.MediaDescriptions, func(a, b *sdp.MediaDescription) int {
		ma, _ := firstAttr(a.Attributes, "mid")
		mb, _ := firstAttr(b.Attributes, "mid")
		pa, oka := pos[ma]
		pb, okb := pos[mb]
		switch {
		case oka && okb:
			return pa - pb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
}

// cloneSDP deep-copies the parts of a session description Apply changes.
func cloneSDP(sd *sdp.SessionDescription) *sdp.SessionDescription {
	c := *sd
	c.Attributes = slices.Clone(sd.Attributes)
	c.MediaDescriptions = make([]*sdp.MediaDescription, len(sd.MediaDescriptions))
	for i, md := range sd.MediaDescriptions {
		m := *md
		m.MediaName.Protos = slices.Clone(md.MediaName.Protos)
		m.MediaName.Formats = slices.Clone(md.MediaName.Formats)
		m.Bandwidth = slices.Clone(md.Bandwidth)
		m.Attributes = slices.Clone(md.Attributes)
		c.MediaDescriptions[i] = &m
	}
	return &c
}
