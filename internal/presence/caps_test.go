package presence

import (
	"crypto"
	"crypto/sha1" // #nosec G505 -- XEP-0115 ver strings are SHA-1.
	"encoding/xml"
	"errors"
	"slices"
	"testing"

	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
)

// The disco#info answers of XEP-0115 §5.2 and §5.3.
const (
	simpleVer  = "QgayPKawpkPSDYmwT/WM94uAlu0="
	complexVer = "q07IKJEyjvHSyhy//CH0CxmKi8w="

	simpleXML = `<query xmlns='http://jabber.org/protocol/disco#info'
       node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`

	complexXML = `<query xmlns='http://jabber.org/protocol/disco#info'
       node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'>
      <value>urn:xmpp:dataforms:softwareinfo</value>
    </field>
    <field var='ip_version' type='text-multi'>
      <value>ipv4</value>
      <value>ipv6</value>
    </field>
    <field var='os'>
      <value>Mac</value>
    </field>
    <field var='os_version'>
      <value>10.5.1</value>
    </field>
    <field var='software'>
      <value>Psi</value>
    </field>
    <field var='software_version'>
      <value>0.11</value>
    </field>
  </x>
</query>`
)

var exampleFeatures = []string{
	"http://jabber.org/protocol/caps",
	"http://jabber.org/protocol/disco#info",
	"http://jabber.org/protocol/disco#items",
	"http://jabber.org/protocol/muc",
}

func parseDisco(t *testing.T, s string) DiscoInfo {
	t.Helper()
	var d DiscoInfo
	if err := xml.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func mustVer(t *testing.T, d DiscoInfo) string {
	t.Helper()
	v, err := d.Ver(crypto.SHA1)
	if err != nil {
		t.Fatalf("Ver: %v", err)
	}
	return v
}

// TestVerSimpleExample is XEP-0115 §5.2.
func TestVerSimpleExample(t *testing.T) {
	ids := []info.Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}
	if got := Ver(ids, exampleFeatures); got != simpleVer {
		t.Errorf("Ver = %s, want %s", got, simpleVer)
	}
	// Order does not matter.
	rev := slices.Clone(exampleFeatures)
	slices.Reverse(rev)
	if got := Ver(ids, rev); got != simpleVer {
		t.Errorf("Ver (features reversed) = %s, want %s", got, simpleVer)
	}
	d := parseDisco(t, simpleXML)
	if got := mustVer(t, d); got != simpleVer {
		t.Errorf("parsed Ver = %s, want %s", got, simpleVer)
	}
	if !d.verify("sha-1", simpleVer) || !d.verify("SHA-1", simpleVer) {
		t.Error("the §5.2 answer does not verify")
	}
	if d.verify("sha-1", complexVer) || d.verify("md5", simpleVer) || d.verify("", simpleVer) {
		t.Error("verified with a wrong ver or an unsupported hash")
	}
}

// TestVerComplexExample is XEP-0115 §5.3: two identities that differ by
// xml:lang, and an XEP-0128 form with a multi-valued field.
func TestVerComplexExample(t *testing.T) {
	d := parseDisco(t, complexXML)
	if len(d.Identities) != 2 || d.Identities[1].Lang != "el" || d.Identities[1].Name != "Ψ 0.11" {
		t.Fatalf("identities = %+v", d.Identities)
	}
	if len(d.Forms) != 1 || len(d.Forms[0].Fields) != 6 || !slices.Equal(d.Forms[0].Fields[1].Values, []string{"ipv4", "ipv6"}) {
		t.Fatalf("forms = %+v", d.Forms)
	}
	if got := mustVer(t, d); got != complexVer {
		t.Errorf("Ver = %s, want %s", got, complexVer)
	}
	if !d.verify("sha-1", complexVer) {
		t.Error("the §5.3 answer does not verify")
	}

	// Built by hand, everything in another order: the same ver.
	f := Form{Type: "result", Fields: []FormField{
		{Var: "software_version", Values: []string{"0.11"}},
		{Var: "os", Values: []string{"Mac"}},
		{Var: "ip_version", Type: "text-multi", Values: []string{"ipv6", "ipv4"}},
		{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:xmpp:dataforms:softwareinfo"}},
		{Var: "software", Values: []string{"Psi"}},
		{Var: "os_version", Values: []string{"10.5.1"}},
	}}
	h := DiscoInfo{
		Identities: []info.Identity{
			{Category: "client", Type: "pc", Lang: "el", Name: "Ψ 0.11"},
			{Category: "client", Type: "pc", Lang: "en", Name: "Psi 0.11"},
		},
		Forms: []Form{f},
	}
	for _, v := range slices.Backward(exampleFeatures) {
		h.Features = append(h.Features, info.Feature{Var: v})
	}
	if got := mustVer(t, h); got != complexVer {
		t.Errorf("Ver (shuffled) = %s, want %s", got, complexVer)
	}
	if h.Forms[0].Fields[0].Var != "software_version" || h.Identities[0].Lang != "el" {
		t.Error("Ver reordered its receiver's slices")
	}

	// Without the form, the ver is another one: forms count.
	noForm := d
	noForm.Forms = nil
	if got := mustVer(t, noForm); got == complexVer {
		t.Error("the form does not change the ver")
	}

	// Forms are sorted by FORM_TYPE: a second form sorting first changes
	// the ver, and the order of the forms in the answer does not.
	other := Form{Fields: []FormField{
		{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:example:a"}},
		{Var: "x", Values: []string{"1"}},
	}}
	two := d
	two.Forms = []Form{d.Forms[0], other}
	owt := d
	owt.Forms = []Form{other, d.Forms[0]}
	if a, b := mustVer(t, two), mustVer(t, owt); a != b || a == complexVer {
		t.Errorf("two forms: %s and %s (one form: %s)", a, b, complexVer)
	}
}

// TestVerIgnoredForms: a form without FORM_TYPE, or whose FORM_TYPE is not
// hidden, is left out of the hash (XEP-0115 §5.4 3.6).
func TestVerIgnoredForms(t *testing.T) {
	d := parseDisco(t, complexXML)
	for name, f := range map[string]Form{
		"no FORM_TYPE": {Fields: []FormField{{Var: "os", Values: []string{"Linux"}}}},
		"not hidden":   {Fields: []FormField{{Var: "FORM_TYPE", Values: []string{"urn:example:b"}}, {Var: "os", Values: []string{"Linux"}}}},
	} {
		e := d
		e.Forms = append(slices.Clone(d.Forms), f)
		if got := mustVer(t, e); got != complexVer {
			t.Errorf("%s: Ver = %s, want %s (form ignored)", name, got, complexVer)
		}
	}
	// A FORM_TYPE repeating the same value is fine.
	e := d
	e.Forms = []Form{{Fields: slices.Clone(d.Forms[0].Fields)}}
	e.Forms[0].Fields[0].Values = []string{"urn:xmpp:dataforms:softwareinfo", "urn:xmpp:dataforms:softwareinfo"}
	if got := mustVer(t, e); got != complexVer {
		t.Errorf("repeated FORM_TYPE value: Ver = %s, want %s", got, complexVer)
	}
}

// TestVerIllFormed: the duplicates XEP-0115 §5.4 (3.3 to 3.5) calls
// ill-formed are refused, and such an answer never verifies, even when the
// ver is what a hash of it (duplicates included) would be.
func TestVerIllFormed(t *testing.T) {
	base := parseDisco(t, complexXML)
	softwareinfo := base.Forms[0]
	cases := map[string]func(d *DiscoInfo){
		"identity twice": func(d *DiscoInfo) {
			d.Identities = append(d.Identities, d.Identities[0])
		},
		"feature twice": func(d *DiscoInfo) {
			d.Features = append(d.Features, info.Feature{Var: "http://jabber.org/protocol/muc"})
		},
		"FORM_TYPE twice": func(d *DiscoInfo) {
			d.Forms = append(d.Forms, Form{Fields: []FormField{
				{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:xmpp:dataforms:softwareinfo"}},
				{Var: "os", Values: []string{"Linux"}},
			}})
		},
		"FORM_TYPE with two values": func(d *DiscoInfo) {
			f := Form{Fields: slices.Clone(softwareinfo.Fields)}
			f.Fields[0].Values = []string{"urn:xmpp:dataforms:softwareinfo", "urn:example:other"}
			d.Forms = []Form{f}
		},
		"FORM_TYPE with no value": func(d *DiscoInfo) {
			f := Form{Fields: slices.Clone(softwareinfo.Fields)}
			f.Fields[0].Values = nil
			d.Forms = []Form{f}
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			d := parseDisco(t, complexXML)
			mod(&d)
			if _, err := d.Ver(crypto.SHA1); !errors.Is(err, ErrIllFormed) {
				t.Fatalf("Ver error = %v, want ErrIllFormed", err)
			}
			// A naive hash of the same lists (mellium's, which neither
			// dedups nor checks) is no way in either.
			naive := disco.Info{Identity: d.Identities, Features: d.Features}
			ver := naive.Hash(sha1.New())
			if d.verify("sha-1", ver) {
				t.Errorf("an ill-formed answer verified")
			}
		})
	}
	// Identities that differ only by name are not duplicates.
	d := base
	d.Identities = append(slices.Clone(d.Identities), info.Identity{Category: "client", Type: "pc", Lang: "en", Name: "Psi 0.12"})
	if _, err := d.Ver(crypto.SHA1); err != nil {
		t.Errorf("identities differing by name: %v", err)
	}
	if Ver([]info.Identity{WebIdentity, WebIdentity}, WebFeatures) != "" {
		t.Error("Ver of a duplicate identity is not empty")
	}
}

// TestVerOwn: the web users' ver is what mellium computes (no forms, one
// identity), so that this change does not change what contacts cached.
func TestVerOwn(t *testing.T) {
	i := disco.Info{Identity: []info.Identity{WebIdentity}}
	for _, f := range WebFeatures {
		i.Features = append(i.Features, info.Feature{Var: f})
	}
	if got, want := Ver([]info.Identity{WebIdentity}, WebFeatures), i.Hash(sha1.New()); got != want {
		t.Errorf("Ver = %s, mellium %s", got, want)
	}
}
