package sdpxlate

import (
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// AnswerFor returns a copy of answer made a valid JSEP answer to offer
// (RFC 8829 §5.3), for the descriptions a gateway builds on the peer's
// behalf from what it last described (a previous answer or offer of the
// peer, with Apply's changes):
//
//   - the m-sections follow the offer's order; an offered m-section the
//     answer lacks, or that the offer rejects, is rejected (port 0, and
//     out of its groups); an m-section the offer does not have is dropped;
//   - each direction is narrowed to what the offer allows: the answerer
//     sends only what the offerer receives and receives only what it sends
//     (an offer gone recvonly gets sendonly or inactive, never recvonly);
//   - an RTP m-section keeps only the payload types the offer has (an
//     answer cannot add any: the peer's own offer may list codecs the
//     browser never took), unless none would be left;
//   - setup, when not empty, is the DTLS role the peer already has
//     ("active" or "passive"), and every a=setup says it: a renegotiation
//     keeps the roles of the established association (one per BUNDLE
//     transport), whatever a content-accept claims. Without it, only
//     a=setup:actpass, which an answer cannot say, is replaced, by active.
//
// answer and offer are not modified. A nil answer is an error; a nil offer
// leaves the answer as it is but for the setup.
func AnswerFor(answer, offer *sdp.SessionDescription, setup string) (*sdp.SessionDescription, error) {
	if answer == nil {
		return nil, ErrNilInput
	}
	established := setup == "active" || setup == "passive"
	if !established {
		setup = "active"
	}
	sd := cloneSDP(answer)
	fixSetup := func(attrs []sdp.Attribute) {
		for i, a := range attrs {
			if a.Key == "setup" && (a.Value == "actpass" || (established && a.Value != setup)) {
				attrs[i] = sdp.NewAttribute("setup", setup)
			}
		}
	}
	fixSetup(sd.Attributes)
	for _, md := range sd.MediaDescriptions {
		fixSetup(md.Attributes)
	}
	if offer == nil {
		return sd, nil
	}
	byMid := map[string]*sdp.MediaDescription{}
	for _, md := range sd.MediaDescriptions {
		if mid, ok := firstAttr(md.Attributes, "mid"); ok {
			byMid[mid] = md
		}
	}
	out := make([]*sdp.MediaDescription, 0, len(offer.MediaDescriptions))
	for _, omd := range offer.MediaDescriptions {
		mid, ok := firstAttr(omd.Attributes, "mid")
		md := byMid[mid]
		offerRejected := omd.MediaName.Port.Value == 0 && !hasAttr(omd.Attributes, "bundle-only")
		if !ok || md == nil || offerRejected || md.MediaName.Media != omd.MediaName.Media {
			if ok {
				leaveGroups(sd, mid)
			}
			out = append(out, rejectedSection(omd, mid, ok))
			continue
		}
		delete(byMid, mid)
		if rtp := md.MediaName.Media == "audio" || md.MediaName.Media == "video"; rtp && (md.MediaName.Port.Value != 0 || hasAttr(md.Attributes, "bundle-only")) {
			keepOffered(md, omd)
			offered := effectiveDirection(offer, omd)
			if d := narrow(effectiveDirection(sd, md), offered); d != direction(md.Attributes) {
				setDirection(md, d)
			}
		}
		out = append(out, md)
	}
	for mid := range byMid {
		leaveGroups(sd, mid)
	}
	sd.MediaDescriptions = out
	return sd, nil
}

// narrow returns the answer direction ans restricted by the offer direction
// off: the answerer sends if it wants to and the offerer receives, and
// receives if it wants to and the offerer sends.
func narrow(ans, off string) string {
	sends := func(d string) bool { return d == "sendrecv" || d == "sendonly" }
	recvs := func(d string) bool { return d == "sendrecv" || d == "recvonly" }
	s := sends(ans) && recvs(off)
	r := recvs(ans) && sends(off)
	switch {
	case s && r:
		return "sendrecv"
	case s:
		return "sendonly"
	case r:
		return "recvonly"
	}
	return "inactive"
}

// keepOffered drops from md the payload types that omd does not offer,
// with their rtpmap, fmtp and rtcp-fb lines; md is left alone if none of
// its payload types is offered.
func keepOffered(md, omd *sdp.MediaDescription) {
	keep := slices.DeleteFunc(slices.Clone(md.MediaName.Formats), func(f string) bool { return !slices.Contains(omd.MediaName.Formats, f) })
	if len(keep) == 0 || len(keep) == len(md.MediaName.Formats) {
		return
	}
	md.MediaName.Formats = keep
	md.Attributes = slices.DeleteFunc(md.Attributes, func(a sdp.Attribute) bool {
		switch a.Key {
		case "rtpmap", "fmtp", "rtcp-fb":
			pt, _, _ := strings.Cut(a.Value, " ")
			return pt != "*" && !slices.Contains(keep, pt)
		}
		return false
	})
}

// rejectedSection is the answer's m-section rejecting the offered omd: port
// 0, inactive, the mid (if the offer has one), and the first offered format
// with its rtpmap (pion wants one for every format it reads; Chromium
// wants none).
func rejectedSection(omd *sdp.MediaDescription, mid string, hasMid bool) *sdp.MediaDescription {
	rej := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:   omd.MediaName.Media,
			Protos:  slices.Clone(omd.MediaName.Protos),
			Formats: slices.Clone(omd.MediaName.Formats),
		},
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "0.0.0.0"}},
	}
	if hasMid {
		rej.Attributes = append(rej.Attributes, sdp.NewAttribute("mid", mid))
	}
	rej.Attributes = append(rej.Attributes, sdp.NewPropertyAttribute("inactive"))
	if len(omd.MediaName.Formats) > 0 {
		first := omd.MediaName.Formats[0]
		for _, a := range omd.Attributes {
			if pt, _, _ := strings.Cut(a.Value, " "); a.Key == "rtpmap" && pt == first {
				rej.MediaName.Formats = []string{first}
				rej.Attributes = append(rej.Attributes, a)
				break
			}
		}
	}
	return rej
}
