package jinglepeer

import (
	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// The calls into sdpxlate whose signatures changed while it was being
// polished are kept here.

// remoteCandidates returns the candidates of the other party's Jingle
// message, with the a=mid of their m-sections.
func (c *Call) remoteCandidates(j *jingle.Jingle) ([]sdpxlate.ICECandidate, error) {
	return sdpxlate.JingleCandidatesToSDP(j, c.toSDPOptions(sdpxlate.SDPTypeUnknown, nil))
}

// iceRestarts returns the contents of the other party's transport-info
// that carry new ICE credentials.
func (c *Call) iceRestarts(j *jingle.Jingle) []string {
	return sdpxlate.ICERestarts(j, c.remoteSD, c.mids)
}
