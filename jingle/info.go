package jingle

import (
	"encoding/xml"
	"fmt"
)

// InfoKind is the payload of a session-info message (XEP-0167 section 7).
type InfoKind int

// The XEP-0167 informational messages. InfoUnhold is the <unhold/> that QXmpp
// sends; XEP-0167 ends a hold with <active/>.
const (
	InfoUnknown InfoKind = iota
	InfoActive
	InfoHold
	InfoUnhold
	InfoMute
	InfoUnmute
	InfoRinging
)

var infoNames = [...]string{"", "active", "hold", "unhold", "mute", "unmute", "ringing"}

// String returns the element name, or "" for InfoUnknown.
func (k InfoKind) String() string {
	if k < 0 || int(k) >= len(infoNames) {
		return ""
	}
	return infoNames[k]
}

// ParseInfoKind returns the kind named s.
func ParseInfoKind(s string) (InfoKind, error) {
	for i, n := range infoNames {
		if i != 0 && n == s {
			return InfoKind(i), nil
		}
	}
	return InfoUnknown, fmt.Errorf("%w: session-info %q", ErrInvalidValue, s)
}

// Info is an XEP-0167 session-info payload. Creator and Name are only used by
// mute and unmute; an empty Name means all contents.
type Info struct {
	Kind    InfoKind
	Creator Role
	Name    string
}

func (i *Info) build(b *builder) {
	var a attrs
	if i.Kind == InfoMute || i.Kind == InfoUnmute {
		a.str("creator", i.Creator.String())
		a.str("name", i.Name)
	}
	b.empty(NSRTPInfo, i.Kind.String(), a...)
}

func decodeInfo(d *xml.Decoder, se xml.StartElement) (*Info, error) {
	k, err := ParseInfoKind(se.Name.Local)
	if err != nil {
		return nil, skip(d)
	}
	p := attrParser{se: se, path: "session-info " + se.Name.Local}
	info := &Info{Kind: k, Creator: p.role("creator"), Name: attr(se, "name")}
	if err := p.wrap(); err != nil {
		return nil, err
	}
	return info, skip(d)
}
