package presence

import (
	"crypto"
	"crypto/sha1" // #nosec G505 -- XEP-0115 ver strings are SHA-1 by definition.
	"slices"
	"strings"

	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
)

// Namespaces the web users' disco#info lists (XEP-0166/0167/0176/0320/0353/
// 0338/0293/0294 and receipts): what call buttons in IM clients look for.
const (
	NSJingle       = "urn:xmpp:jingle:1"
	NSJingleRTP    = "urn:xmpp:jingle:apps:rtp:1"
	NSJingleAudio  = "urn:xmpp:jingle:apps:rtp:audio"
	NSJingleVideo  = "urn:xmpp:jingle:apps:rtp:video"
	NSJingleICE    = "urn:xmpp:jingle:transports:ice-udp:1"
	NSJingleDTLS   = "urn:xmpp:jingle:apps:dtls:0"
	NSJingleMsg    = "urn:xmpp:jingle-message:0"
	NSGrouping     = "urn:xmpp:jingle:apps:grouping:0"
	NSRTCPFB       = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0"
	NSHdrExt       = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
	NSReceipts     = "urn:xmpp:receipts"
	NSCaps         = "http://jabber.org/protocol/caps"
	NSNick         = "http://jabber.org/protocol/nick"
	NSPrivilege1   = "urn:xmpp:privilege:1"
	NSPrivilege2   = "urn:xmpp:privilege:2"
	NSRoster       = "jabber:iq:roster"
	DefaultCapsURI = "https://github.com/jinglegate/jinglegate"
)

// WebFeatures are exactly the features a web user's disco#info lists.
var WebFeatures = []string{
	NSJingle, NSJingleRTP, NSJingleAudio, NSJingleVideo, NSJingleICE, NSJingleDTLS,
	NSJingleMsg, NSGrouping, NSRTCPFB, NSHdrExt, NSReceipts,
}

// WebIdentity is a web user's disco#info identity.
var WebIdentity = info.Identity{Category: "client", Type: "web", Name: "jinglegate"}

// Ver computes the XEP-0115 §5.1 verification string of identities and
// features (SHA-1, base64).
func Ver(ids []info.Identity, features []string) string {
	i := disco.Info{Identity: slices.Clone(ids)}
	for _, f := range features {
		i.Features = append(i.Features, info.Feature{Var: f})
	}
	return i.Hash(sha1.New())
}

// Capabilities is what a contact's resource can do, from its disco#info.
type Capabilities struct {
	Features []string
}

// Has reports whether the feature is listed.
func (c Capabilities) Has(f string) bool { return slices.Contains(c.Features, f) }

// Media lists the kinds of call the resource takes: "audio", "video".
// A resource that advertises RTP sessions but no media type is taken to do
// audio.
func (c Capabilities) Media() []string {
	m := []string{}
	if !c.Has(NSJingle) && !c.Has(NSJingleMsg) {
		return m
	}
	if c.Has(NSJingleAudio) || (c.Has(NSJingleRTP) && !c.Has(NSJingleVideo)) {
		m = append(m, "audio")
	}
	if c.Has(NSJingleVideo) {
		m = append(m, "video")
	}
	return m
}

// hashName maps a caps hash attribute to a crypto.Hash we can verify.
func hashName(s string) (crypto.Hash, bool) {
	switch strings.ToLower(s) {
	case "sha-1":
		return crypto.SHA1, true
	}
	return 0, false
}
