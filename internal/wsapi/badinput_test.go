package wsapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/jinglegate/jinglegate/internal/wsapi"
)

// TestBadInput sends malformed and hostile messages. Each gets the right
// answer, and the connection stays open and working.
func TestBadInput(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) {
		o.RatePerSecond = 10000
		o.RateBurst = 10000
	})
	c := h.dial("alice")
	tab := h.app.nextOpened(t)
	tab.OwnSID("s1")

	sdp := strings.ReplaceAll(strings.ReplaceAll(offerSDP, "\r", `\r`), "\n", `\n`)
	cand := func(v string) string {
		return `{"type":"ice-candidate","id":"i","sid":"s1","candidate":` + v + `}`
	}
	const okCand = `"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host"`
	call := func(fields string) string {
		return `{"type":"call","id":"c",` + fields + `}`
	}
	const (
		ack = wsapi.Code("") // answered with an ack: accepted
		BR  = wsapi.CodeBadRequest
		FB  = wsapi.CodeForbidden
		TL  = wsapi.CodeTooLarge
		NF  = wsapi.CodeNotFound
	)
	for i, tc := range []struct {
		in   string
		code wsapi.Code
		id   string
	}{
		// Not JSON, or not an object.
		0:  {``, BR, ""},
		1:  {`null`, BR, ""},
		2:  {`[]`, BR, ""},
		3:  {`"ping"`, BR, ""},
		4:  {`42`, BR, ""},
		5:  {`{`, BR, ""},
		6:  {`{"type":"ping","id":"x"`, BR, ""},
		7:  {`{"type":"ping","id":"x"}}`, BR, ""},
		8:  {`{"type":"ping","id":"x"} {"type":"ping"}`, BR, ""},
		9:  {"\ufeff" + `{"type":"ping","id":"x"}`, BR, ""},
		10: {`{"type":"ping","id":"` + "\xff\xfe" + `"}`, BR, ""},
		11: {`{"type":"ping","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, BR, ""},
		12: {`{'type':'ping'}`, BR, ""},
		// The envelope.
		13: {`{}`, BR, ""},
		14: {`{"id":"e"}`, BR, "e"},
		15: {`{"type":null,"id":"e"}`, BR, "e"},
		16: {`{"type":1,"id":"e"}`, BR, "e"},
		17: {`{"type":"PING","id":"e"}`, BR, "e"},
		18: {`{"Type":"ping","id":"e"}`, BR, "e"},
		19: {`{"type":"nonsense","id":"e"}`, BR, "e"},
		20: {`{"type":"` + strings.Repeat("x", 100) + `","id":"e"}`, TL, "e"},
		21: {`{"type":"ping","type":"logout"}`, BR, ""},
		22: {`{"type":"ping","id":5}`, BR, ""},
		23: {`{"type":"ping","id":""}`, BR, ""},
		24: {`{"type":"ping","id":"a\u0000b"}`, BR, ""},
		25: {`{"type":"ping","id":"` + strings.Repeat("i", 65) + `"}`, TL, ""},
		26: {`{"type":"ping","id":"e","ack":-1}`, BR, "e"},
		27: {`{"type":"ping","id":"e","ack":"1"}`, BR, "e"},
		28: {`{"type":"ping","id":"e","ack":1.5}`, BR, "e"},
		29: {`{"type":"ping","id":"e","ack":999999}`, BR, "e"},
		// Server-only types and impersonation.
		30: {`{"type":"session","id":"f"}`, FB, "f"},
		31: {`{"type":"incoming","id":"f","sid":"s1","from":"bob@example.org","media":["audio"]}`, FB, "f"},
		32: {`{"type":"error","id":"f","code":"internal","message":"x"}`, FB, "f"},
		33: {`{"type":"subscribe-request","id":"f"}`, FB, "f"},
		34: {`{"type":"ping","id":"f","from":"bob@example.org"}`, FB, "f"},
		35: {`{"type":"presence","id":"f","from":"bob@example.org/x","show":"away"}`, FB, "f"},
		36: {`{"type":"offer","id":"f","sid":"s1","sdp":"` + sdp + `","from":"bob@example.org"}`, FB, "f"},
		// offer and answer.
		37: {`{"type":"offer","id":"o","sid":"s1"}`, BR, "o"},
		38: {`{"type":"offer","id":"o","sid":"s1","sdp":42}`, BR, "o"},
		39: {`{"type":"offer","id":"o","sid":"s1","sdp":"hello"}`, BR, "o"},
		40: {`{"type":"offer","id":"o","sid":"s1","sdp":""}`, BR, "o"},
		41: {`{"type":"answer","id":"o","sid":"s1","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}`, BR, "o"},
		42: {`{"type":"answer","id":"o","sid":"s1","sdp":"v=0\r\nm=garbage\r\n"}`, BR, "o"},
		43: {`{"type":"offer","id":"o","sdp":"` + sdp + `"}`, BR, "o"},
		44: {`{"type":"offer","id":"o","sid":"","sdp":"` + sdp + `"}`, BR, "o"},
		45: {`{"type":"offer","id":"o","sid":["s1"],"sdp":"` + sdp + `"}`, BR, "o"},
		46: {`{"type":"offer","id":"o","sid":"` + strings.Repeat("s", 257) + `","sdp":"` + sdp + `"}`, TL, "o"},
		47: {`{"type":"offer","id":"o","sid":"s1","sdp":"` + sdp + `","polite":"yes"}`, BR, "o"},
		48: {`{"type":"offer","id":"o","sid":"not-mine","sdp":"` + sdp + `"}`, NF, "o"},
		// ice-candidate.
		49: {`{"type":"ice-candidate","id":"i","sid":"s1"}`, BR, "i"},
		50: {cand(okCand), BR, "i"},
		51: {cand(`{}`), BR, "i"},
		52: {cand(`{"candidate":"garbage","sdpMid":"0"}`), BR, "i"},
		53: {cand(`{"candidate":"a=candidate:1 1 udp 1 192.0.2.1 5000 typ host","sdpMid":"0"}`), BR, "i"},
		54: {cand(`{"candidate":` + okCand + `}`), BR, "i"},
		55: {cand(`{"candidate":` + okCand + `,"sdpMid":null,"sdpMLineIndex":null}`), BR, "i"},
		56: {cand(`{"candidate":` + okCand + `,"sdpMLineIndex":-1}`), BR, "i"},
		57: {cand(`{"candidate":` + okCand + `,"sdpMLineIndex":1.5}`), BR, "i"},
		58: {cand(`{"candidate":` + okCand + `,"sdpMLineIndex":70000}`), BR, "i"},
		59: {cand(`{"candidate":` + okCand + `,"sdpMid":0}`), BR, "i"},
		60: {cand(`{"candidate":"candidate:1 1 udp 1 192.0.2.1 5000 typ bogus","sdpMid":"0"}`), BR, "i"},
		61: {cand(`{"candidate":"candidate:1 1 sctp 1 192.0.2.1 5000 typ host","sdpMid":"0"}`), BR, "i"},
		62: {cand(`{"candidate":"candidate:1 1 udp 1 192.0.2.1 99999 typ host","sdpMid":"0"}`), BR, "i"},
		63: {cand(`{"candidate":"candidate:1 1 udp 1 <script> 5000 typ host","sdpMid":"0"}`), BR, "i"},
		64: {cand(`{"candidate":"candidate:1 1 udp 1 192.0.2.1 5000 typ host raddr","sdpMid":"0"}`), BR, "i"},
		65: {cand(`{"candidate":"candidate:` + strings.Repeat("1", 1100) + `","sdpMid":"0"}`), TL, "i"},
		66: {cand(`{"candidate":"candidate:1 1 udp 1 192.0.2.1 5000 typ host","sdpMid":"0","candidate":""}`), BR, "i"},
		// call.
		67: {call(`"media":["audio"]`), BR, "c"},
		68: {call(`"to":"","media":["audio"]`), BR, "c"},
		69: {call(`"to":"bob@","media":["audio"]`), BR, "c"},
		70: {call(`"to":"bob@exa mple.org","media":["audio"]`), BR, "c"},
		71: {call(`"to":"bob@example.org"`), BR, "c"},
		72: {call(`"to":"bob@example.org","media":[]`), BR, "c"},
		73: {call(`"to":"bob@example.org","media":["audio","audio"]`), BR, "c"},
		74: {call(`"to":"bob@example.org","media":["screen"]`), BR, "c"},
		75: {call(`"to":"bob@example.org","media":"audio"`), BR, "c"},
		76: {call(`"to":"bob@example.org","media":["audio"],"sid":"s1"`), wsapi.CodeConflict, "c"},
		77: {call(`"to":"bob@example.org","media":["audio"],"sid":"a\tb"`), BR, "c"},
		// hangup, reject, accept, session-info, ack.
		78: {`{"type":"hangup","id":"h","sid":"s1","reason":"because"}`, BR, "h"},
		79: {`{"type":"hangup","id":"h","sid":"s1","reason":3}`, BR, "h"},
		80: {`{"type":"hangup","id":"h","sid":"someone-elses"}`, NF, "h"},
		81: {`{"type":"reject","id":"h","sid":"s1","text":{}}`, BR, "h"},
		82: {`{"type":"accept","id":"h","sid":"s1","media":[null]}`, BR, "h"},
		83: {`{"type":"session-info","id":"h","sid":"s1","info":"louder"}`, BR, "h"},
		84: {`{"type":"session-info","id":"h","sid":"s1"}`, BR, "h"},
		85: {`{"type":"ack","id":"a"}`, BR, "a"},
		86: {`{"type":"ack","id":"a","seq":1e3}`, BR, "a"},
		87: {`{"type":"ack","id":"a","seq":99999999}`, BR, "a"},
		88: {`{"type":"ack","id":"a","seq":99999999999999999999999}`, BR, "a"},
		// Accepted: unknown fields are ignored, but nothing smuggles through.
		89: {`{"type":"ping","id":"ok","unknown":{"a":[1,2,3]},"__proto__":{"admin":true}}`, ack, "ok"},
		90: {`{"type":"ping","id":"ok","x":1e999999}`, ack, "ok"},
		91: {`{"type":"ping","id":"<script>alert(1)</script>"}`, ack, "<script>alert(1)</script>"},
	} {
		c.sendRaw(tc.in)
		m := c.next()
		if tc.code == ack {
			if m.typ() != wsapi.TypeAck || m.str("id") != tc.id {
				t.Errorf("%d %.60q: got %s, want an ack", i, tc.in, m)
			}
		} else if m.typ() != wsapi.TypeError || m.str("code") != string(tc.code) || m.str("id") != tc.id {
			t.Errorf("%d %.60q: got %s, want %s id %q", i, tc.in, m, tc.code, tc.id)
		}
		c.alive()
	}
	// The handler never saw any of it (except nothing: all were refused or
	// handled by the server).
	h.app.noMessage(t)
	if !tab.Connected() {
		t.Error("disconnected")
	}
}

// TestFrameAbuse: frame-level abuse closes that connection only; the server
// and every other connection carry on.
func TestFrameAbuse(t *testing.T) {
	h := newHarness(t, func(o *wsapi.Options) { o.ReadLimit = 8 << 10 })
	bystander := h.dial("bob")
	for _, tc := range []struct {
		name string
		do   func(ws *websocket.Conn) error
		want int // close code; 0 = stays open
	}{
		{"binary frame", func(ws *websocket.Conn) error {
			return ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"ping","id":"b"}`))
		}, 0},
		{"oversize text frame", func(ws *websocket.Conn) error {
			return ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat(" ", 9<<10)))
		}, websocket.CloseMessageTooBig},
		{"oversize binary frame", func(ws *websocket.Conn) error {
			return ws.WriteMessage(websocket.BinaryMessage, make([]byte, 1<<20))
		}, websocket.CloseMessageTooBig},
		{"oversize fragmented message", func(ws *websocket.Conn) error {
			w, err := ws.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			for range 20 {
				if _, err := w.Write([]byte(strings.Repeat("x", 1024))); err != nil {
					return err
				}
			}
			return w.Close()
		}, websocket.CloseMessageTooBig},
		{"unmasked frame", func(ws *websocket.Conn) error {
			_, err := ws.NetConn().Write([]byte{0x81, 0x02, '{', '}'})
			return err
		}, websocket.CloseProtocolError},
		{"reserved bits", func(ws *websocket.Conn) error {
			_, err := ws.NetConn().Write([]byte{0xF1, 0x80, 0, 0, 0, 0})
			return err
		}, websocket.CloseProtocolError},
		{"oversize control frame", func(ws *websocket.Conn) error {
			frame := append([]byte{0x89, 0x80 | 126, 0x01, 0x00, 0, 0, 0, 0}, make([]byte, 256)...)
			_, err := ws.NetConn().Write(frame)
			return err
		}, websocket.CloseProtocolError},
		{"garbage bytes", func(ws *websocket.Conn) error {
			_, err := ws.NetConn().Write([]byte("GET / HTTP/1.1\r\n\r\n"))
			return err
		}, websocket.CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := h.dialRaw(url.Values{"token": {h.token("mallory")}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, ws)
			c.expect(wsapi.TypeSession)
			// The server may reset the connection before a big write ends.
			if err := tc.do(ws); err != nil && tc.want == 0 {
				t.Fatal(err)
			}
			if tc.want == 0 {
				c.expectError(wsapi.CodeBadRequest, "")
				c.alive()
			} else if code := c.waitClosed(); code != tc.want && code != -1 {
				t.Errorf("close code %d, want %d", code, tc.want)
			}
			bystander.alive()
			h.dial("carol").alive()
		})
	}
}
