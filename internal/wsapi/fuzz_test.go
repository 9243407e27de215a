package wsapi_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// FuzzParseClientMessage: nothing panics; what parses has a client type,
// and what fails has a valid code.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"ping","id":"1"}`,
		`{"type":"ack","seq":3}`,
		`{"type":"call","to":"bob@example.org","media":["audio"],"sid":"x"}`,
		`{"type":"offer","sid":"s","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}`,
		`{"type":"ice-candidate","sid":"s","candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.1 5000 typ host","sdpMid":"0"}}`,
		`{"type":"hangup","sid":"s","reason":"busy","ack":1}`,
		`{"type":"session-info","sid":"s","info":"mute","media":["audio"]}`,
		`{"type":"roster","from":"x"}`,
		`{"type":"ping","type":"ping"}`,
		`[{"type":"ping"}]`,
	} {
		f.Add([]byte(s))
	}
	clientTypes := wsapi.ClientTypes()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := wsapi.ParseClientMessage(data)
		if err != nil {
			var we *wsapi.Error
			if !errors.As(err, &we) || !we.Code.Valid() {
				t.Fatalf("error %v has no valid code", err)
			}
			return
		}
		if !slices.Contains(clientTypes, m.Type) {
			t.Fatalf("parsed type %q", m.Type)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

func TestCloseReasonString(t *testing.T) {
	for r, want := range map[wsapi.CloseReason]string{
		wsapi.CloseUnknown: "unknown", wsapi.CloseExpired: "expired", wsapi.CloseLogout: "logout",
		wsapi.CloseShutdown: "shutdown", wsapi.CloseEvicted: "evicted", wsapi.CloseOverflow: "overflow",
		wsapi.CloseApp: "app", wsapi.CloseReason(99): "unknown",
	} {
		if r.String() != want {
			t.Errorf("%d: %q", r, r.String())
		}
		if b, _ := r.MarshalText(); string(b) != want {
			t.Errorf("%d MarshalText: %q", r, b)
		}
	}
}
