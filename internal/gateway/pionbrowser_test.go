package gateway_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
)

// pionBrowser is a scripted browser whose WebRTC side is real: a pion
// PeerConnection gathering loopback candidates only, so that ICE and DTLS
// really complete with the XMPP peer across the gateway.
type pionBrowser struct {
	*browser
	t   *testing.T
	api *webrtc.API
	pc  *webrtc.PeerConnection
	sid string

	mu        sync.Mutex
	rtp       map[string]int // packets received by kind
	dcMsgs    []string
	dc        *webrtc.DataChannel
	connected chan struct{}
	once      sync.Once
}

func loopbackAPI() *webrtc.API {
	var se webrtc.SettingEngine
	jinglepeer.LoopbackOnly(&se)
	m := &webrtc.MediaEngine{}
	_ = m.RegisterDefaultCodecs()
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m))
}

func newPionBrowser(t *testing.T, b *browser) *pionBrowser {
	return &pionBrowser{browser: b, t: t, api: loopbackAPI(), rtp: map[string]int{}, connected: make(chan struct{})}
}

// start creates the peer connection for call sid with the given media
// (recvonly transceivers the peer's media arrive on, plus a data channel
// when the caller asks for one).
func (p *pionBrowser) start(sid string, media []string, data bool) {
	p.t.Helper()
	p.sid = sid
	pc, err := p.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		p.t.Fatal(err)
	}
	p.pc = pc
	p.t.Cleanup(func() { _ = pc.Close() })
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		init := map[string]any{"candidate": ""}
		if c != nil {
			ci := c.ToJSON()
			init = map[string]any{"candidate": ci.Candidate, "sdpMid": *ci.SDPMid, "sdpMLineIndex": *ci.SDPMLineIndex}
			if ci.UsernameFragment != nil {
				init["usernameFragment"] = *ci.UsernameFragment
			}
		}
		p.send(map[string]any{"type": "ice-candidate", "sid": p.sid, "candidate": init})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.once.Do(func() { close(p.connected) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		kind := tr.Kind().String()
		go func() {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				p.mu.Lock()
				p.rtp[kind]++
				p.mu.Unlock()
			}
		}()
	})
	pc.OnDataChannel(p.watchDC)
	for _, m := range media {
		kind := webrtc.RTPCodecTypeAudio
		if m == "video" {
			kind = webrtc.RTPCodecTypeVideo
		}
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			p.t.Fatal(err)
		}
	}
	if data {
		dc, err := pc.CreateDataChannel("chat", nil)
		if err != nil {
			p.t.Fatal(err)
		}
		p.watchDC(dc)
	}
}

func (p *pionBrowser) watchDC(dc *webrtc.DataChannel) {
	p.mu.Lock()
	p.dc = dc
	p.mu.Unlock()
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		p.mu.Lock()
		p.dcMsgs = append(p.dcMsgs, string(m.Data))
		p.mu.Unlock()
	})
}

// offer creates, sets and sends an offer (with the given options).
func (p *pionBrowser) offer(opts *webrtc.OfferOptions) {
	p.t.Helper()
	o, err := p.pc.CreateOffer(opts)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		p.t.Fatal(err)
	}
	p.mustAck(map[string]any{"type": "offer", "sid": p.sid, "sdp": o.SDP})
}

// takeAnswer waits for the answer and applies it.
func (p *pionBrowser) takeAnswer() string {
	p.t.Helper()
	a := p.expect("answer", func(m map[string]any) bool { return m["sid"] == p.sid })
	sdpText := a["sdp"].(string)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpText}); err != nil {
		p.t.Fatalf("setRemoteDescription(answer): %v\n%s", err, sdpText)
	}
	return sdpText
}

// takeOffer waits for an offer, applies it and sends the answer.
func (p *pionBrowser) takeOffer() string {
	p.t.Helper()
	o := p.expect("offer", func(m map[string]any) bool { return m["sid"] == p.sid })
	sdpText := o["sdp"].(string)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdpText}); err != nil {
		p.t.Fatalf("setRemoteDescription(offer): %v\n%s", err, sdpText)
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		p.t.Fatal(err)
	}
	p.mustAck(map[string]any{"type": "answer", "sid": p.sid, "sdp": ans.SDP})
	return sdpText
}

// applyCandidates adds the remote candidates received so far.
func (p *pionBrowser) applyCandidates() {
	p.t.Helper()
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				return
			}
			p.backlog = append(p.backlog, m)
			continue
		default:
		}
		break
	}
	kept := p.backlog[:0]
	for _, m := range p.backlog {
		if m["type"] != "ice-candidate" || m["sid"] != p.sid {
			kept = append(kept, m)
			continue
		}
		c := m["candidate"].(map[string]any)
		init := webrtc.ICECandidateInit{Candidate: c["candidate"].(string)}
		if mid, ok := c["sdpMid"].(string); ok {
			init.SDPMid = &mid
		}
		if init.Candidate == "" {
			continue
		}
		if err := p.pc.AddICECandidate(init); err != nil && !strings.Contains(err.Error(), "remote description") {
			p.t.Errorf("addIceCandidate(%s): %v", init.Candidate, err)
		}
	}
	p.backlog = kept
}

// waitConnected applies remote candidates until the connection is up.
func (p *pionBrowser) waitConnected(timeout time.Duration) {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		p.applyCandidates()
		select {
		case <-p.connected:
			return
		case <-deadline:
			p.t.Fatalf("%s: peer connection not connected after %s (state %s)", p.user, timeout, p.pc.ConnectionState())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *pionBrowser) packets(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rtp[kind]
}

func (p *pionBrowser) waitPackets(kind string, n int, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for p.packets(kind) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %d %s RTP packets after %s, want %d", p.user, p.packets(kind), kind, timeout, n)
		}
		p.applyCandidates()
		time.Sleep(50 * time.Millisecond)
	}
}
