package gateway

import (
	"testing"
	"time"
)

// TestScanMessage: what one pass over a message stanza finds. Only the
// message's own children count for a receipt request or a delay (one inside
// a payload is someone else's); a receipt counts wherever it is.
func TestScanMessage(t *testing.T) {
	stamp := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		xml  string
		want msgMeta
	}{
		{"nothing", `<message xmlns='jabber:client' id='1'><body>hi</body></message>`, msgMeta{}},
		{"proposal with request and delay",
			`<message xmlns='jabber:client' id='jm-propose-s1'><propose xmlns='urn:xmpp:jingle-message:0' id='s1'/>` +
				`<request xmlns='urn:xmpp:receipts'/><delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-12-06T10:00:00Z'/></message>`,
			msgMeta{receiptRequest: true, delay: stamp, delayed: true}},
		{"receipt", `<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='jm-propose-s1'/></message>`,
			msgMeta{receivedID: "jm-propose-s1", received: true}},
		{"receipt without id, then one with", `<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts'/><x><received xmlns='urn:xmpp:receipts' id='a'/></x></message>`,
			msgMeta{receivedID: "a", received: true}},
		{"nested request and delay do not count",
			`<message xmlns='jabber:client'><x><request xmlns='urn:xmpp:receipts'/><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T10:00:00Z'/></x></message>`,
			msgMeta{}},
		{"bad stamp", `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='yesterday'/></message>`, msgMeta{}},
		{"wrong namespace", `<message xmlns='jabber:client'><request xmlns='urn:xmpp:receipts:1'/></message>`, msgMeta{}},
		{"truncated", `<message xmlns='jabber:client'><request xmlns='urn:xmpp:receipts'/><x`, msgMeta{receiptRequest: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanMessage([]byte(tc.xml))
			if got.receiptRequest != tc.want.receiptRequest || got.receivedID != tc.want.receivedID || got.received != tc.want.received ||
				got.delayed != tc.want.delayed || !got.delay.Equal(tc.want.delay) {
				t.Errorf("scanMessage = %+v, want %+v", got, tc.want)
			}
		})
	}
}
