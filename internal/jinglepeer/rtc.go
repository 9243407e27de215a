package jinglepeer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// newPeerConnection creates the call's peer connection and hooks its
// callbacks to the call: state changes and candidates are queued to the
// call's goroutine, media is counted (and echoed) on goroutines of its own.
func (c *Call) newPeerConnection() error {
	if c.pc != nil {
		return nil
	}
	pc, err := c.p.api.NewPeerConnection(webrtc.Configuration{
		ICEServers:    c.p.cfg.ICEServers,
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return fmt.Errorf("jinglepeer: creating the peer connection: %w", err)
	}
	c.pc = pc
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		c.queue.push(func() { c.localCandidate(cand) })
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.mu.Lock()
		c.pcState = s
		c.changed.notify()
		c.mu.Unlock()
		c.queue.push(func() { c.onConnectionState(s) })
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		c.mu.Lock()
		c.iceState = s
		c.changed.notify()
		c.mu.Unlock()
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.remoteTrack(pc, track) })
	pc.OnDataChannel(c.setupDataChannel)
	return nil
}

// onConnectionState starts the players when the connection is up and ends
// the call when it failed.
func (c *Call) onConnectionState(s webrtc.PeerConnectionState) {
	if c.finished {
		return
	}
	switch s {
	case webrtc.PeerConnectionStateConnected:
		c.emit(Event{Kind: EventConnected})
		if !c.connected {
			c.connected = true
			for _, pl := range c.players {
				c.startPlayer(pl)
			}
		}
	case webrtc.PeerConnectionStateFailed:
		c.terminate(jingle.ReasonConnectivityError, "ICE or DTLS failed", fmt.Errorf("jinglepeer: peer connection failed"))
	}
}

// setLocal applies a local description.
func (c *Call) setLocal(d webrtc.SessionDescription) error {
	if err := c.pc.SetLocalDescription(d); err != nil {
		return fmt.Errorf("jinglepeer: local %s: %w", d.Type, err)
	}
	sd, err := sdpxlate.ParseSDP(d.SDP)
	if err != nil {
		return err
	}
	c.localSD = sd
	c.recordLocal(sd)
	return nil
}

// setRemote applies a remote description translated from Jingle, then the
// candidates that came before it.
func (c *Call) setRemote(t webrtc.SDPType, sd *sdp.SessionDescription) error {
	text, err := sdpxlate.MarshalSDP(sd)
	if err != nil {
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: t, SDP: text}); err != nil {
		return fmt.Errorf("jinglepeer: remote %s: %w", t, err)
	}
	c.remoteSD = sd
	c.recordRemote(sd)
	if len(c.pendingCands) > 0 {
		cands := c.pendingCands
		c.pendingCands = nil
		c.addRemoteCandidates(cands)
	}
	return nil
}

// renegotiateAsAnswerer applies a new remote offer derived from the
// session (content-add, content-modify, ICE restart of the other party)
// and answers it locally. Pion cannot roll a remote offer back: if the
// offer was applied but cannot be answered, the call is terminated.
func (c *Call) renegotiateAsAnswerer(offer *sdp.SessionDescription) error {
	if err := c.setRemote(webrtc.SDPTypeOffer, offer); err != nil {
		if c.pc.SignalingState() != webrtc.SignalingStateStable {
			c.terminate(jingle.ReasonFailedApplication, err.Error(), err)
		}
		return err
	}
	c.attachTracks(offer)
	answer, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.setLocal(answer)
	}
	if err != nil {
		c.terminate(jingle.ReasonFailedApplication, err.Error(), err)
	}
	return err
}

// attachTracks makes what this peer sends match a remote offer just
// applied: a local track goes to each audio or video m-section the offerer
// wants to receive (if this peer sends that medium), and is removed from
// those it no longer wants to receive (after a content-modify), since pion
// would otherwise answer sendrecv to a sendonly offer. Failures are logged:
// the m-section is then answered without (or with) our media.
func (c *Call) attachTracks(offer *sdp.SessionDescription) {
	wants := map[string]bool{}
	for _, md := range offer.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != MediaAudio && kind != MediaVideo {
			continue
		}
		mid, _ := md.Attribute("mid")
		dir := direction(md.Attributes, direction(offer.Attributes, "sendrecv"))
		wants[mid] = md.MediaName.Port.Value != 0 && (dir == "sendrecv" || dir == "recvonly")
	}
	for _, t := range c.pc.GetTransceivers() {
		want, ok := wants[t.Mid()]
		dir := t.Direction()
		if !ok || dir == webrtc.RTPTransceiverDirectionInactive {
			// Not offered, or stopped (removed, withdrawn).
			continue
		}
		kind := t.Kind().String()
		sending := t.Sender() != nil
		switch {
		case sending && !want:
			if err := c.pc.RemoveTrack(t.Sender()); err != nil {
				c.log.Warn("no longer sending", "content", t.Mid(), "err", err)
			}
		case !sending && want && c.sends(kind):
			if err := c.addLocalTrack(kind, t); err != nil {
				c.log.Warn("not sending", "content", t.Mid(), "err", err)
			}
		}
	}
}

// direction returns the direction attribute among attrs, or def.
func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return def
}

func (c *Call) recordLocal(sd *sdp.SessionDescription) {
	text, _ := sdpxlate.MarshalSDP(sd)
	c.mu.Lock()
	c.localSDP = text
	c.mu.Unlock()
}

func (c *Call) recordRemote(sd *sdp.SessionDescription) {
	text, _ := sdpxlate.MarshalSDP(sd)
	c.mu.Lock()
	c.remoteSDP = text
	c.mu.Unlock()
}

// sends reports whether this peer sends a medium it is offered.
func (c *Call) sends(kind string) bool {
	return c.p.cfg.Echo || slices.Contains(c.p.cfg.Media, kind)
}

// addLocalTrack adds a track of kind: the test media, or in echo mode a
// track fed from the received stream of the same kind. Without a
// transceiver it gets a new one (a new m-section of our offer); otherwise
// it is sent on that transceiver, one a remote offer created.
func (c *Call) addLocalTrack(kind string, to *webrtc.RTPTransceiver) error {
	c.trackSeq++
	id := fmt.Sprintf("%s-%d", kind, c.trackSeq)
	stream := "jinglepeer-" + c.sid
	var track webrtc.TrackLocal
	var pl *player
	if c.p.cfg.Echo {
		t, err := webrtc.NewTrackLocalStaticRTP(codecFor(kind), id, stream)
		if err != nil {
			return err
		}
		track = t
		c.mu.Lock()
		c.echo[kind] = t
		c.mu.Unlock()
	} else {
		t, err := webrtc.NewTrackLocalStaticSample(codecFor(kind), id, stream)
		if err != nil {
			return err
		}
		track = t
		pl = &player{kind: kind, track: t}
	}
	var sender *webrtc.RTPSender
	if to == nil {
		tr, err := c.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		if err != nil {
			return err
		}
		sender = tr.Sender()
	} else {
		s, err := c.p.api.NewRTPSender(track, c.pc.SCTP().Transport())
		if err != nil {
			return err
		}
		if err := to.SetSender(s, track); err != nil {
			_ = s.Stop()
			return err
		}
		sender = s
	}
	c.readRTCP(c.pc, sender, kind)
	if pl != nil {
		c.players = append(c.players, pl)
		if c.connected {
			c.startPlayer(pl)
		}
	}
	return nil
}

// goMedia runs f on a media goroutine, unless the call is closing.
func (c *Call) goMedia(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.mediaWG.Add(1)
	go func() {
		defer c.mediaWG.Done()
		f()
	}()
	return true
}

func (c *Call) startPlayer(pl *player) {
	if pl.started {
		return
	}
	clips, err := loadClips()
	if err != nil {
		c.log.Error("test media", "err", err)
		return
	}
	cl := clips.audio
	if pl.kind == MediaVideo {
		cl = clips.video
	}
	pl.started = c.goMedia(func() {
		play(c.mediaDone, pl.track, cl, func() { c.countSent(pl.kind, 1) })
	})
}

// readRTCP reads the RTCP of a sender (so that the interceptors see it).
// In echo mode a picture loss indication for the echoed video is passed on
// to the other party's video stream, whose keyframes are what is echoed.
func (c *Call) readRTCP(pc *webrtc.PeerConnection, sender *webrtc.RTPSender, kind string) {
	echoVideo := c.p.cfg.Echo && kind == MediaVideo
	c.goMedia(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			if !echoVideo {
				continue
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					c.mu.Lock()
					ssrc := c.remoteVideo
					c.mu.Unlock()
					if ssrc != 0 {
						_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
					}
				}
			}
		}
	})
}

// remoteTrack counts the packets of a received stream and, in echo mode,
// sends them back.
func (c *Call) remoteTrack(pc *webrtc.PeerConnection, track *webrtc.TrackRemote) {
	kind := track.Kind().String()
	if kind == MediaVideo {
		c.mu.Lock()
		c.remoteVideo = track.SSRC()
		c.mu.Unlock()
		if c.p.cfg.Echo {
			// Start the echo on a keyframe.
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
		}
	}
	c.emit(Event{Kind: EventTrack, Media: kind, Text: track.Codec().MimeType})
	c.goMedia(func() {
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			c.mu.Lock()
			switch kind {
			case MediaAudio:
				c.stats.AudioPacketsReceived++
				c.stats.AudioBytesReceived += uint64(len(pkt.Payload))
			case MediaVideo:
				c.stats.VideoPacketsReceived++
				c.stats.VideoBytesReceived += uint64(len(pkt.Payload))
			}
			echo := c.echo[kind]
			c.changed.notify()
			c.mu.Unlock()
			if echo != nil {
				// The other party's header extension ids mean nothing on
				// our stream.
				pkt.Header.Extension = false
				pkt.Header.Extensions = nil
				if err := echo.WriteRTP(pkt); err == nil {
					c.countSent(kind, 1)
				}
			}
		}
	})
}

func (c *Call) countSent(kind string, n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch kind {
	case MediaAudio:
		c.stats.AudioSent += n
	case MediaVideo:
		c.stats.VideoSent += n
	}
	c.changed.notify()
}

// createDataChannel opens the call's data channel (offerer side).
func (c *Call) createDataChannel() error {
	dc, err := c.pc.CreateDataChannel("jinglepeer", nil)
	if err != nil {
		return err
	}
	c.setupDataChannel(dc)
	return nil
}

func (c *Call) dcExists() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dc != nil
}

// setupDataChannel counts the messages of a data channel and echoes them
// in echo mode.
func (c *Call) setupDataChannel(dc *webrtc.DataChannel) {
	c.mu.Lock()
	c.dc = dc
	c.mu.Unlock()
	dc.OnOpen(func() {
		c.mu.Lock()
		if c.dc == dc {
			c.dcOpen = true
		}
		c.changed.notify()
		c.mu.Unlock()
		c.emit(Event{Kind: EventDataChannel, Media: MediaData, Text: dc.Label()})
	})
	dc.OnClose(func() {
		c.mu.Lock()
		if c.dc == dc {
			c.dcOpen = false
		}
		c.changed.notify()
		c.mu.Unlock()
	})
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		c.mu.Lock()
		c.stats.DataMessagesReceived++
		c.dataMsgs = appendBounded(c.dataMsgs, string(msg.Data), maxDataMessages)
		c.changed.notify()
		c.mu.Unlock()
		if !c.p.cfg.Echo {
			return
		}
		var err error
		if msg.IsString {
			err = dc.SendText(string(msg.Data))
		} else {
			err = dc.Send(msg.Data)
		}
		if err == nil {
			c.mu.Lock()
			c.stats.DataMessagesSent++
			c.changed.notify()
			c.mu.Unlock()
		}
	})
}

// transceiver returns the transceiver of a content (mid), or nil.
func (c *Call) transceiver(mid string) *webrtc.RTPTransceiver {
	if c.pc == nil {
		return nil
	}
	for _, t := range c.pc.GetTransceivers() {
		if t.Mid() == mid {
			return t
		}
	}
	return nil
}

// localCandidate trickles one of our candidates: one transport-info with
// one content per candidate.
func (c *Call) localCandidate(cand *webrtc.ICECandidate) {
	if c.finished || cand == nil {
		return
	}
	init := cand.ToJSON()
	c.mu.Lock()
	c.localCands = append(c.localCands, init.Candidate)
	c.changed.notify()
	c.mu.Unlock()
	ic := sdpxlate.ICECandidate{Candidate: init.Candidate, SDPMLineIndex: init.SDPMLineIndex}
	if init.SDPMid != nil {
		ic.SDPMid = *init.SDPMid
	}
	j, err := sdpxlate.CandidatesToTransportInfo([]sdpxlate.ICECandidate{ic}, c.transportInfoOptions())
	if err != nil {
		c.log.Warn("local candidate not sent", "candidate", init.Candidate, "err", err)
		return
	}
	if !c.transition(jingle.ActionTransportInfo) {
		return
	}
	if err := c.sendJingle(j, nil); err != nil {
		c.log.Warn("sending transport-info", "err", err)
	}
}

// addRemoteCandidates hands trickled candidates to WebRTC, keeping them
// until there is a remote description, and dropping those of another ICE
// generation.
func (c *Call) addRemoteCandidates(cands []sdpxlate.ICECandidate) {
	for _, rc := range cands {
		if c.pc == nil || c.remoteSD == nil {
			c.pendingCands = append(c.pendingCands, rc)
			continue
		}
		if want := iceUfrag(c.remoteSD, rc.SDPMid); rc.UsernameFragment != "" && want != "" && rc.UsernameFragment != want {
			c.log.Debug("candidate of another ICE generation dropped", "candidate", rc.Candidate, "ufrag", rc.UsernameFragment)
			continue
		}
		mid := rc.SDPMid
		if err := c.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: rc.Candidate, SDPMid: &mid}); err != nil {
			c.log.Warn("remote candidate refused", "candidate", rc.Candidate, "err", err)
			continue
		}
		if rc.Candidate != "" {
			c.mu.Lock()
			c.remoteCands = append(c.remoteCands, rc.Candidate)
			c.changed.notify()
			c.mu.Unlock()
		}
	}
}

// iceUfrag returns the ICE ufrag of the m-section mid (or the session's).
func iceUfrag(sd *sdp.SessionDescription, mid string) string {
	for _, md := range sd.MediaDescriptions {
		if m, _ := md.Attribute("mid"); m != mid {
			continue
		}
		if u, ok := md.Attribute("ice-ufrag"); ok {
			return u
		}
	}
	u, _ := sd.Attribute("ice-ufrag")
	return u
}

// ensureBundle adds a BUNDLE group with every active m-section to an
// offer that has none, and reports whether it did. Pion only does BUNDLE:
// it rejects (port 0) every offered m-section outside a BUNDLE group, so an
// offer from a client that does not group its contents (older Jingle
// clients, a single content) would get nothing.
func ensureBundle(sd *sdp.SessionDescription) bool {
	for _, a := range sd.Attributes {
		if a.Key == "group" && strings.HasPrefix(a.Value, "BUNDLE") {
			return false
		}
	}
	v := "BUNDLE"
	for _, md := range sd.MediaDescriptions {
		if mid, ok := md.Attribute("mid"); ok && md.MediaName.Port.Value != 0 {
			v += " " + mid
		}
	}
	if v == "BUNDLE" {
		return false
	}
	sd.Attributes = append(sd.Attributes, sdp.NewAttribute("group", v))
	return true
}

// setupOf returns the first a=setup value of a description.
func setupOf(sd *sdp.SessionDescription) string {
	if sd == nil {
		return ""
	}
	for _, md := range sd.MediaDescriptions {
		if v, ok := md.Attribute("setup"); ok {
			return v
		}
	}
	v, _ := sd.Attribute("setup")
	return v
}

func opposite(setup string) string {
	switch setup {
	case "active":
		return "passive"
	case "passive":
		return "active"
	}
	return setup
}

// setSetup writes the other party's established DTLS role into a
// description derived from the session. Descriptions built from Jingle
// for a renegotiation would otherwise carry the actpass of an offer or the
// role of the first answer, whichever side made them; WebRTC keeps the
// DTLS role of the first negotiation, and so must the SDP.
func setSetup(sd *sdp.SessionDescription, setup string) {
	if setup != "active" && setup != "passive" {
		return
	}
	fix := func(attrs []sdp.Attribute) {
		for i, a := range attrs {
			if a.Key == "setup" {
				attrs[i].Value = setup
			}
		}
	}
	fix(sd.Attributes)
	for _, md := range sd.MediaDescriptions {
		fix(md.Attributes)
	}
}
