package presence

import (
	"cmp"
	"crypto"
	_ "crypto/sha1" // #nosec G505 -- XEP-0115 ver strings are SHA-1 by definition.
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
// features with no extended forms (SHA-1, base64), or "" if a list holds a
// duplicate (XEP-0115 §5.4).
func Ver(ids []info.Identity, features []string) string {
	d := DiscoInfo{Identities: ids}
	for _, f := range features {
		d.Features = append(d.Features, info.Feature{Var: f})
	}
	v, err := d.Ver(crypto.SHA1)
	if err != nil {
		return ""
	}
	return v
}

// DiscoInfo is a disco#info answer (XEP-0030) with its XEP-0128 extended
// forms: what an XEP-0115 verification string is computed from.
type DiscoInfo struct {
	XMLName    xml.Name        `xml:"http://jabber.org/protocol/disco#info query"`
	Node       string          `xml:"node,attr,omitempty"`
	Identities []info.Identity `xml:"identity"`
	Features   []info.Feature  `xml:"feature"`
	Forms      []Form          `xml:"jabber:x:data x"`
}

// Form is an XEP-0128 extended service discovery form (XEP-0004).
type Form struct {
	Type   string      `xml:"type,attr"`
	Fields []FormField `xml:"jabber:x:data field"`
}

// FormField is a field of a Form.
type FormField struct {
	Var    string   `xml:"var,attr"`
	Type   string   `xml:"type,attr"`
	Values []string `xml:"jabber:x:data value"`
}

// ErrIllFormed is returned by DiscoInfo.Ver for an answer XEP-0115 §5.4
// calls ill-formed: its ver cannot be verified, and what it says must not be
// cached under a ver.
var ErrIllFormed = errors.New("presence: ill-formed disco#info for caps")

// formType returns the FORM_TYPE of f. ok is false when XEP-0115 §5.4 says
// to leave the form out of the hash (no FORM_TYPE field, or one that is not
// hidden); err is set when the FORM_TYPE field has several different values
// (or none), or appears twice.
func (f Form) formType() (ft string, ok bool, err error) {
	var field *FormField
	for i := range f.Fields {
		if f.Fields[i].Var != "FORM_TYPE" {
			continue
		}
		if field != nil {
			return "", false, fmt.Errorf("%w: two FORM_TYPE fields in one form", ErrIllFormed)
		}
		field = &f.Fields[i]
	}
	if field == nil || field.Type != "hidden" {
		return "", false, nil
	}
	if len(field.Values) == 0 {
		return "", false, fmt.Errorf("%w: FORM_TYPE without a value", ErrIllFormed)
	}
	for _, v := range field.Values[1:] {
		if v != field.Values[0] {
			return "", false, fmt.Errorf("%w: FORM_TYPE with different values", ErrIllFormed)
		}
	}
	return field.Values[0], true, nil
}

// Ver computes the XEP-0115 §5.1 verification string of d with hash h
// (which must be available: link its package), base64-encoded: identities
// sorted by category, type, xml:lang and name; features sorted; then the
// extended forms sorted by FORM_TYPE, each as its FORM_TYPE value followed
// by its other fields sorted by var, each field's values sorted. Every sort
// compares bytes (the i;octet collation of RFC 4790).
//
// The §5.4 checks come first: a duplicate identity (same category, type,
// xml:lang and name) or feature, two forms with the same FORM_TYPE, or a
// FORM_TYPE with several different values make the answer ill-formed
// (ErrIllFormed). A form whose FORM_TYPE field is missing or not hidden is
// left out of the hash.
func (d DiscoInfo) Ver(h crypto.Hash) (string, error) {
	ids := slices.Clone(d.Identities)
	slices.SortFunc(ids, func(a, b info.Identity) int {
		return cmp.Or(strings.Compare(a.Category, b.Category), strings.Compare(a.Type, b.Type),
			strings.Compare(a.Lang, b.Lang), strings.Compare(a.Name, b.Name))
	})
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1], ids[i]
		if a.Category == b.Category && a.Type == b.Type && a.Lang == b.Lang && a.Name == b.Name {
			return "", fmt.Errorf("%w: identity %s/%s/%s/%s listed twice", ErrIllFormed, a.Category, a.Type, a.Lang, a.Name)
		}
	}
	feats := make([]string, 0, len(d.Features))
	for _, f := range d.Features {
		feats = append(feats, f.Var)
	}
	slices.Sort(feats)
	for i := 1; i < len(feats); i++ {
		if feats[i-1] == feats[i] {
			return "", fmt.Errorf("%w: feature %s listed twice", ErrIllFormed, feats[i])
		}
	}
	type typedForm struct {
		ft   string
		form Form
	}
	var forms []typedForm
	for _, f := range d.Forms {
		ft, ok, err := f.formType()
		if err != nil {
			return "", err
		}
		if ok {
			forms = append(forms, typedForm{ft, f})
		}
	}
	slices.SortFunc(forms, func(a, b typedForm) int { return strings.Compare(a.ft, b.ft) })
	for i := 1; i < len(forms); i++ {
		if forms[i-1].ft == forms[i].ft {
			return "", fmt.Errorf("%w: two forms of FORM_TYPE %s", ErrIllFormed, forms[i].ft)
		}
	}

	if !h.Available() {
		return "", fmt.Errorf("presence: hash %v is not linked in", h)
	}
	w := h.New()
	add := func(s string) {
		_, _ = io.WriteString(w, s)
		_, _ = io.WriteString(w, "<")
	}
	for _, id := range ids {
		add(id.Category + "/" + id.Type + "/" + id.Lang + "/" + id.Name)
	}
	for _, f := range feats {
		add(f)
	}
	for _, tf := range forms {
		add(tf.ft)
		fields := make([]FormField, 0, len(tf.form.Fields))
		for _, f := range tf.form.Fields {
			if f.Var != "FORM_TYPE" {
				fields = append(fields, f)
			}
		}
		slices.SortStableFunc(fields, func(a, b FormField) int { return strings.Compare(a.Var, b.Var) })
		for _, f := range fields {
			add(f.Var)
			vals := slices.Clone(f.Values)
			slices.Sort(vals)
			for _, v := range vals {
				add(v)
			}
		}
	}
	return base64.StdEncoding.EncodeToString(w.Sum(nil)), nil
}

// verify reports whether d hashes to ver with the hash the caps element
// names (its hash attribute). An ill-formed answer, or an unknown hash,
// never verifies.
func (d DiscoInfo) verify(hashAttr, ver string) bool {
	h, ok := hashName(hashAttr)
	if !ok {
		return false
	}
	got, err := d.Ver(h)
	return err == nil && got == ver
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
