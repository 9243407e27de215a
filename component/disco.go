package component

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// Info is what disco#info reports for one address on the component's
// domain.
type Info struct {
	Identities []info.Identity
	Features   []string
}

// InfoFunc reports the disco#info of an address on the component's domain
// other than the bare domain (a web user's full JID, say, or a caps node).
// ok is false for addresses that do not exist: they get
// service-unavailable, as RFC 6121 §8.5 asks for unknown accounts.
type InfoFunc func(to jid.JID, node string) (i Info, ok bool)

// domainFeatures are always advertised for the bare domain.
var domainFeatures = []string{disco.NSInfo, disco.NSItems, ping.NS}

// discoHandler answers disco#info, disco#items and pings for the domain and,
// through lookup, for the addresses under it.
type discoHandler struct {
	domain   jid.JID
	identity info.Identity
	features []string
	lookup   InfoFunc
}

func (h *discoHandler) options() []mux.Option {
	return []mux.Option{
		mux.IQ(stanza.GetIQ, xml.Name{Space: disco.NSInfo, Local: "query"}, h),
		mux.IQ(stanza.GetIQ, xml.Name{Space: disco.NSItems, Local: "query"}, h),
		mux.IQ(stanza.GetIQ, xml.Name{Space: ping.NS, Local: "ping"}, h),
	}
}

// info resolves to/node; ok is false when nothing lives there.
func (h *discoHandler) info(to jid.JID, node string) (Info, bool) {
	if to.Equal(h.domain) && node == "" {
		feats := append(append([]string(nil), domainFeatures...), h.features...)
		return Info{Identities: []info.Identity{h.identity}, Features: feats}, true
	}
	if h.lookup == nil {
		return Info{}, false
	}
	return h.lookup(to, node)
}

func (h *discoHandler) HandleIQ(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	node := attr(start, "node")
	to := iq.To
	if to.Equal(jid.JID{}) {
		to = h.domain
	}
	i, ok := h.info(to, node)
	if !ok {
		cond := stanza.ServiceUnavailable
		if node != "" {
			cond = stanza.ItemNotFound
		}
		return writeIQError(t, iq, stanza.Error{Type: stanza.Cancel, Condition: cond})
	}
	var payload xml.TokenReader
	switch start.Name.Space {
	case ping.NS:
		payload = nil
	case disco.NSItems:
		// The gateway publishes no items (web users are not listed: their
		// presence is for their contacts only).
		payload = xmlstream.Wrap(nil, queryStart(disco.NSItems, node))
	default:
		var inner []xml.TokenReader
		for _, id := range i.Identities {
			inner = append(inner, id.TokenReader())
		}
		seen := map[string]bool{}
		for _, f := range i.Features {
			if seen[f] {
				continue
			}
			seen[f] = true
			inner = append(inner, info.Feature{Var: f}.TokenReader())
		}
		payload = xmlstream.Wrap(xmlstream.MultiReader(inner...), queryStart(disco.NSInfo, node))
	}
	_, err := xmlstream.Copy(t, iq.Result(payload))
	return err
}

func queryStart(ns, node string) xml.StartElement {
	s := xml.StartElement{Name: xml.Name{Space: ns, Local: "query"}}
	if node != "" {
		s.Attr = []xml.Attr{{Name: xml.Name{Local: "node"}, Value: node}}
	}
	return s
}

// writeIQError answers iq with e.
func writeIQError(t xmlstream.TokenWriter, iq stanza.IQ, e stanza.Error) error {
	iq.To, iq.From = iq.From, iq.To
	iq.Type = stanza.ErrorIQ
	_, err := xmlstream.Copy(t, iq.Wrap(e.TokenReader()))
	return err
}
