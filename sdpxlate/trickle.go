package sdpxlate

import (
	"fmt"
	"math"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/pion/sdp/v3"
)

// ICECandidate is a trickled ICE candidate as browsers exchange it
// (RTCIceCandidateInit). An empty Candidate means end-of-candidates for the
// m-section.
type ICECandidate struct {
	// Candidate is "candidate:..." (with or without "a="), or "".
	Candidate string
	// SDPMid is the mid of the m-section, i.e. the content name.
	SDPMid string
	// SDPMLineIndex is the index of the m-section; it is used only when
	// SDPMid is empty. Nil means unknown.
	SDPMLineIndex *uint16
	// UsernameFragment is the ICE ufrag the candidate belongs to; "" if
	// unknown.
	UsernameFragment string
}

// TransportInfoOptions configure the transport-info builders.
type TransportInfoOptions struct {
	// SID, Initiator and Responder are copied to the <jingle/> element.
	SID       string
	Initiator string
	Responder string
	// Creators gives the creator of contents by name; without an entry the
	// creator is the initiator.
	Creators map[string]jingle.Role
	// Names maps a=mid values to content names (see SDPMids); mids without
	// an entry are the names.
	Names map[string]string
	// Local is the local description the candidates belong to. It supplies
	// the mid for candidates that only have an m-line index, and the ICE
	// ufrag and pwd that XEP-0176 puts on every transport.
	Local *sdp.SessionDescription
	// MDNS is the policy for .local host candidates.
	MDNS MDNSPolicy
	// OnLoss, if not nil, is called for every item that is dropped.
	OnLoss func(Loss)
}

func (o TransportInfoOptions) creator(name string) jingle.Role {
	if r, ok := o.Creators[name]; ok && r != jingle.RoleUnknown {
		return r
	}
	return jingle.RoleInitiator
}

func (o TransportInfoOptions) loss(where, what, why string) {
	if o.OnLoss != nil {
		o.OnLoss(Loss{Where: where, What: what, Why: why})
	}
}

// credentials returns the ICE ufrag and pwd of the m-section mid of sd.
func credentials(sd *sdp.SessionDescription, mid string) (ufrag, pwd string) {
	if sd == nil {
		return "", ""
	}
	for _, md := range sd.MediaDescriptions {
		if m, _ := firstAttr(md.Attributes, "mid"); m != mid {
			continue
		}
		ufrag, _ = firstAttr(md.Attributes, "ice-ufrag")
		pwd, _ = firstAttr(md.Attributes, "ice-pwd")
	}
	if ufrag == "" {
		ufrag, _ = firstAttr(sd.Attributes, "ice-ufrag")
		pwd, _ = firstAttr(sd.Attributes, "ice-pwd")
	}
	return ufrag, pwd
}

// CandidatesToTransportInfo builds one transport-info carrying browser
// candidates, one <content/> per mid in the order first seen. An empty
// candidate adds <gathering-complete/> (end-of-candidates). Malformed
// candidates are reported to OnLoss and skipped; if none is left and there
// is no end-of-candidates either, the error wraps ErrInvalidCandidate.
func CandidatesToTransportInfo(cands []ICECandidate, opts TransportInfoOptions) (*jingle.Jingle, error) {
	j := &jingle.Jingle{Action: jingle.ActionTransportInfo, SID: opts.SID, Initiator: opts.Initiator, Responder: opts.Responder}
	index := map[string]int{}
	var firstErr error
	for i, c := range cands {
		mid := c.SDPMid
		if mid == "" && c.SDPMLineIndex != nil && opts.Local != nil && int(*c.SDPMLineIndex) < len(opts.Local.MediaDescriptions) {
			mid, _ = firstAttr(opts.Local.MediaDescriptions[*c.SDPMLineIndex].Attributes, "mid")
		}
		if mid == "" {
			err := fmt.Errorf("%w: candidate %d: no sdpMid, and no local description to look its m-line index up in", ErrInvalidCandidate, i+1)
			opts.loss("", c.Candidate, err.Error())
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		k, ok := index[mid]
		if !ok {
			k = len(j.Contents)
			index[mid] = k
			ufrag, pwd := credentials(opts.Local, mid)
			name := nameOf(mid, opts.Names)
			j.Contents = append(j.Contents, jingle.Content{
				Creator:   opts.creator(name),
				Name:      name,
				Transport: &jingle.Transport{Ufrag: ufrag, Pwd: pwd},
			})
		}
		tr := j.Contents[k].Transport
		if c.UsernameFragment != "" {
			tr.Ufrag = c.UsernameFragment
		}
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.Candidate), "a=")) == "" {
			tr.GatheringComplete = true
			continue
		}
		cand, ufrag, err := ParseCandidate(c.Candidate)
		if err != nil {
			opts.loss(fmt.Sprintf("content %q", mid), c.Candidate, err.Error())
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if opts.MDNS == MDNSDrop && isMDNS(cand.IP) {
			opts.loss(fmt.Sprintf("content %q", mid), c.Candidate, "mDNS host candidate dropped by policy")
			continue
		}
		if ufrag != "" && c.UsernameFragment == "" {
			tr.Ufrag = ufrag
		}
		cand.ID = candidateID(j.Contents[k].Name, cand)
		tr.Candidates = append(tr.Candidates, cand)
	}
	empty := true
	for _, c := range j.Contents {
		if len(c.Transport.Candidates) > 0 || c.Transport.GatheringComplete {
			empty = false
		}
	}
	if empty {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, fmt.Errorf("%w: no candidate", ErrInvalidCandidate)
	}
	return j, nil
}

// CandidateToJingle builds the transport-info for one browser candidate
// line of the m-section mid ("" for end-of-candidates).
func CandidateToJingle(candidateLine, mid string, opts TransportInfoOptions) (*jingle.Jingle, error) {
	return CandidatesToTransportInfo([]ICECandidate{{Candidate: candidateLine, SDPMid: mid}}, opts)
}

// JingleCandidatesToSDP returns the candidates of every ICE-UDP transport of
// j (a transport-info, or a session-initiate/accept with candidates) in the
// form browsers take in addIceCandidate, with SDPMid following opts.Mids
// (see SDPMids). A transport with <gathering-complete/> adds an
// end-of-candidates entry (empty Candidate). UsernameFragment is the
// transport's ufrag: compare it with the remote description to detect an
// ICE restart (see ICERestarts). Candidates that cannot be written are
// reported to opts.OnLoss and skipped; opts.MDNS applies. The other
// options are unused.
func JingleCandidatesToSDP(j *jingle.Jingle, opts ToSDPOptions) ([]ICECandidate, error) {
	if j == nil {
		return nil, ErrNilInput
	}
	mdns, onLoss := opts.MDNS, opts.OnLoss
	var out []ICECandidate
	for _, c := range j.Contents {
		tr := c.Transport
		if tr == nil {
			continue
		}
		where := fmt.Sprintf("content %q", c.Name)
		for _, cand := range tr.Candidates {
			if mdns == MDNSDrop && isMDNS(cand.IP) {
				if onLoss != nil {
					onLoss(Loss{Where: where, What: "candidate " + cand.IP, Why: "mDNS host candidate dropped by policy"})
				}
				continue
			}
			cand, note := clampPriority(cand)
			if note != "" && onLoss != nil {
				onLoss(Loss{Where: where, What: "candidate " + cand.ID + " priority", Why: note})
			}
			line, err := FormatCandidate(cand)
			if err != nil {
				if onLoss != nil {
					onLoss(Loss{Where: where, What: "candidate " + cand.ID, Why: err.Error()})
				}
				continue
			}
			out = append(out, ICECandidate{Candidate: line, SDPMid: midOf(c.Name, opts.Mids), UsernameFragment: tr.Ufrag})
		}
		if tr.GatheringComplete {
			out = append(out, ICECandidate{SDPMid: midOf(c.Name, opts.Mids), UsernameFragment: tr.Ufrag})
		}
	}
	return out, nil
}

// clampPriority caps a priority above 2^32-1, which libwebrtc cannot parse
// (it would reject the whole candidate), and says so.
func clampPriority(c jingle.Candidate) (jingle.Candidate, string) {
	if c.Priority > math.MaxUint32 {
		note := fmt.Sprintf("%d does not fit the 32 bits browsers parse: %d is signalled", c.Priority, uint64(math.MaxUint32))
		c.Priority = math.MaxUint32
		return c, note
	}
	return c, ""
}

// ICERestarts returns the names of the contents of j whose transport
// carries ICE credentials that differ from those of their m-section in
// remote (found through mids, as in ToSDPOptions.Mids; nil for the default
// of SDPMids): XEP-0176's way to restart ICE. The caller then needs a new
// offer/answer exchange with the browser (see Apply).
func ICERestarts(j *jingle.Jingle, remote *sdp.SessionDescription, mids map[string]string) []string {
	if j == nil || remote == nil {
		return nil
	}
	var names []string
	for _, c := range j.Contents {
		if c.Transport == nil || c.Transport.Ufrag == "" {
			continue
		}
		ufrag, pwd := credentials(remote, midOf(c.Name, mids))
		if ufrag != c.Transport.Ufrag || (c.Transport.Pwd != "" && pwd != c.Transport.Pwd) {
			names = append(names, c.Name)
		}
	}
	return names
}

// SDPToTransportInfo builds a transport-info with the ICE credentials and
// candidates of every m-section of sd (only those whose a=mid is in mids, if
// any); opts.Names gives the content names.
// With a new local description after an ICE restart it announces the new
// ufrag and pwd; with no candidates yet it is XEP-0176's ICE restart.
func SDPToTransportInfo(sd *sdp.SessionDescription, mids []string, opts TransportInfoOptions) (*jingle.Jingle, error) {
	if sd == nil {
		return nil, ErrNilInput
	}
	j := &jingle.Jingle{Action: jingle.ActionTransportInfo, SID: opts.SID, Initiator: opts.Initiator, Responder: opts.Responder}
	for i, md := range sd.MediaDescriptions {
		mid, ok := firstAttr(md.Attributes, "mid")
		if !ok {
			continue
		}
		if len(mids) > 0 && !contains(mids, mid) {
			continue
		}
		if md.MediaName.Port.Value == 0 && !hasAttr(md.Attributes, "bundle-only") {
			continue
		}
		ufrag, pwd := credentials(sd, mid)
		tr := &jingle.Transport{Ufrag: ufrag, Pwd: pwd}
		for _, a := range md.Attributes {
			switch a.Key {
			case "candidate":
				c, _, err := ParseCandidate(a.Value)
				if err != nil {
					opts.loss(fmt.Sprintf("m-section %d (mid %q)", i+1, mid), attrString(a), err.Error())
					continue
				}
				if opts.MDNS == MDNSDrop && isMDNS(c.IP) {
					opts.loss(fmt.Sprintf("m-section %d (mid %q)", i+1, mid), attrString(a), "mDNS host candidate dropped by policy")
					continue
				}
				c.ID = candidateID(nameOf(mid, opts.Names), c)
				tr.Candidates = append(tr.Candidates, c)
			case "end-of-candidates":
				tr.GatheringComplete = true
			}
		}
		name := nameOf(mid, opts.Names)
		j.Contents = append(j.Contents, jingle.Content{Creator: opts.creator(name), Name: name, Transport: tr})
	}
	if len(j.Contents) == 0 {
		return nil, fmt.Errorf("%w: no active m-section with a mid", ErrNoMedia)
	}
	return j, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
