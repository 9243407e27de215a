package jinglepeer

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// The test media, made by testdata/make-media.sh: two seconds of a VP8
// test pattern and of an Opus tone, played in a loop.
//
//go:embed testdata/tone.ogg testdata/pattern.ivf
var mediaFiles embed.FS

// Payload types of the codecs the peer negotiates: Opus and VP8, as
// browsers number them.
const (
	ptOpus = 111
	ptVP8  = 96
)

var (
	opusCodec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	vp8Codec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
			{Type: "nack"}, {Type: "nack", Parameter: "pli"},
		},
	}
)

// newAPI builds the pion API of a peer: Opus and VP8 with the default
// interceptors (NACK, RTCP reports, TWCC), ICE restricted to the
// configured interfaces (loopback only by default), mDNS off.
func newAPI(cfg config) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Codec, PayloadType: ptVP8}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLoggerFactory{log: cfg.Logger}}
	switch {
	case cfg.Interfaces == nil:
		LoopbackOnly(&se)
	case slices.Contains(cfg.Interfaces, "*"):
		// Every interface, loopback too: a browser on the same machine
		// reaches the peer even where loopback is the only interface.
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
		se.SetIncludeLoopbackCandidate(true)
	default:
		names := slices.Clone(cfg.Interfaces)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
		se.SetInterfaceFilter(func(name string) bool { return slices.Contains(names, name) })
		se.SetIncludeLoopbackCandidate(slices.Contains(names, "lo"))
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// LoopbackOnly restricts se to ICE over IPv4 loopback, with mDNS off: no
// check, STUN packet or mDNS query leaves the machine. It is the peer's
// default, and what tests give their other pion peers.
func LoopbackOnly(se *webrtc.SettingEngine) {
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
}

// codecFor returns the codec the peer sends for an RTP medium.
func codecFor(kind string) webrtc.RTPCodecCapability {
	if kind == MediaVideo {
		return vp8Codec
	}
	return opusCodec
}

// clip is a looped media file split into samples.
type clip struct {
	samples []media.Sample
}

type clips struct {
	audio, video clip
}

// loadClips parses the embedded media once.
var loadClips = sync.OnceValues(func() (*clips, error) {
	audio, err := readOgg("testdata/tone.ogg")
	if err != nil {
		return nil, err
	}
	video, err := readIVF("testdata/pattern.ivf")
	if err != nil {
		return nil, err
	}
	return &clips{audio: audio, video: video}, nil
})

// readOgg splits an Ogg Opus file made with one packet per page into
// samples, their duration read from each packet's TOC byte.
func readOgg(name string) (clip, error) {
	data, err := mediaFiles.ReadFile(name)
	if err != nil {
		return clip{}, err
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return clip{}, fmt.Errorf("%s: %w", name, err)
	}
	var c clip
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return clip{}, fmt.Errorf("%s: %w", name, err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		d, err := opusDuration(page)
		if err != nil {
			return clip{}, fmt.Errorf("%s: %w", name, err)
		}
		c.samples = append(c.samples, media.Sample{Data: page, Duration: d})
	}
	if len(c.samples) == 0 {
		return clip{}, fmt.Errorf("%s: no audio", name)
	}
	return c, nil
}

// opusDuration returns the duration of an Opus packet from its TOC byte
// (RFC 6716 section 3.1).
func opusDuration(p []byte) (time.Duration, error) {
	if len(p) == 0 {
		return 0, errors.New("empty Opus packet")
	}
	config := int(p[0] >> 3)
	var frame time.Duration
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [...]time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid: 10, 20 ms
		frame = [...]time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [...]time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	switch p[0] & 3 {
	case 0:
		return frame, nil
	case 1, 2:
		return 2 * frame, nil
	}
	if len(p) < 2 {
		return 0, errors.New("Opus packet without frame count")
	}
	return time.Duration(p[1]&0x3f) * frame, nil
}

// readIVF splits an IVF file into frames of equal duration.
func readIVF(name string) (clip, error) {
	data, err := mediaFiles.ReadFile(name)
	if err != nil {
		return clip{}, err
	}
	r, hdr, err := ivfreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return clip{}, fmt.Errorf("%s: %w", name, err)
	}
	if hdr.TimebaseDenominator == 0 {
		return clip{}, fmt.Errorf("%s: no time base", name)
	}
	d := time.Duration(hdr.TimebaseNumerator) * time.Second / time.Duration(hdr.TimebaseDenominator)
	var c clip
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return clip{}, fmt.Errorf("%s: %w", name, err)
		}
		c.samples = append(c.samples, media.Sample{Data: frame, Duration: d})
	}
	if len(c.samples) == 0 {
		return clip{}, fmt.Errorf("%s: no video", name)
	}
	return c, nil
}

// play writes the clip to the track in a loop, in real time, until done
// is closed. sent is called after each sample.
func play(done <-chan struct{}, track *webrtc.TrackLocalStaticSample, c clip, sent func()) {
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; ; i = (i + 1) % len(c.samples) {
		select {
		case <-done:
			return
		case <-timer.C:
		}
		s := c.samples[i]
		if err := track.WriteSample(s); err != nil && errors.Is(err, io.ErrClosedPipe) {
			return
		}
		sent()
		next = next.Add(s.Duration)
		// Pace by the clock, not by the timer: a late wake-up does not
		// slow the stream down.
		timer.Reset(max(time.Until(next), 0))
	}
}
