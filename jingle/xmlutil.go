package jingle

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// builder accumulates the tokens of an element tree. Every start element
// carries its namespace in Name.Space and no xmlns attribute, which is the
// form xml.Encoder and mellium.im/xmlstream expect.
type builder struct {
	toks  []xml.Token
	stack []xml.Name
}

func (b *builder) open(space, local string, attrs ...xml.Attr) {
	n := xml.Name{Space: space, Local: local}
	b.toks = append(b.toks, xml.StartElement{Name: n, Attr: attrs})
	b.stack = append(b.stack, n)
}

func (b *builder) close() {
	n := b.stack[len(b.stack)-1]
	b.stack = b.stack[:len(b.stack)-1]
	b.toks = append(b.toks, xml.EndElement{Name: n})
}

func (b *builder) empty(space, local string, attrs ...xml.Attr) {
	b.open(space, local, attrs...)
	b.close()
}

func (b *builder) text(s string) {
	if s != "" {
		b.toks = append(b.toks, xml.CharData(s))
	}
}

// attrs builds an attribute list, skipping empty values.
type attrs []xml.Attr

func (a *attrs) str(name, v string) {
	if v != "" {
		*a = append(*a, xml.Attr{Name: xml.Name{Local: name}, Value: v})
	}
}

// always adds the attribute even when v is empty.
func (a *attrs) always(name, v string) {
	*a = append(*a, xml.Attr{Name: xml.Name{Local: name}, Value: v})
}

func (a *attrs) uint(name string, v uint64) {
	if v != 0 {
		a.always(name, strconv.FormatUint(v, 10))
	}
}

func (a *attrs) uintAlways(name string, v uint64) {
	a.always(name, strconv.FormatUint(v, 10))
}

// IsNCName reports whether s can be the local name of an element, e.g. an
// ICE option written as an element.
func IsNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// tokenSlice is an xml.TokenReader over a token slice.
type tokenSlice struct {
	toks []xml.Token
	i    int
}

func (r *tokenSlice) Token() (xml.Token, error) {
	if r.i >= len(r.toks) {
		return nil, io.EOF
	}
	t := r.toks[r.i]
	r.i++
	return t, nil
}

// encodeTokens writes toks to an xml.Encoder (used by MarshalXML).
func encodeTokens(e *xml.Encoder, toks []xml.Token) error {
	for _, t := range toks {
		if err := e.EncodeToken(t); err != nil {
			return err
		}
	}
	return e.Flush()
}

// textElements are elements whose character data must not be re-indented.
func isTextElement(local string) bool {
	switch local {
	case "fingerprint", "text", "bandwidth", "sid", "delay":
		return true
	}
	return false
}

// serialize writes toks as XML text. A namespace is declared with xmlns only
// where it differs from the parent's, and elements without content are
// self-closed. With indent != "", elements without text get one per line.
func serialize(toks []xml.Token, indent string) []byte {
	var buf bytes.Buffer
	type frame struct {
		ns   string
		text bool
	}
	var stack []frame
	depth := 0
	newline := func() {
		if indent == "" || (len(stack) > 0 && stack[len(stack)-1].text) {
			return
		}
		if buf.Len() > 0 {
			buf.WriteByte('\n')
		}
		for range depth {
			buf.WriteString(indent)
		}
	}
	for i := 0; i < len(toks); i++ {
		switch t := toks[i].(type) {
		case xml.StartElement:
			newline()
			parentNS := ""
			if len(stack) > 0 {
				parentNS = stack[len(stack)-1].ns
			}
			buf.WriteByte('<')
			buf.WriteString(t.Name.Local)
			if t.Name.Space != parentNS {
				buf.WriteString(" xmlns='")
				escapeAttr(&buf, t.Name.Space)
				buf.WriteByte('\'')
			}
			for _, a := range t.Attr {
				buf.WriteByte(' ')
				if a.Name.Space == nsXML {
					buf.WriteString("xml:")
				}
				buf.WriteString(a.Name.Local)
				buf.WriteString("='")
				escapeAttr(&buf, a.Value)
				buf.WriteByte('\'')
			}
			if i+1 < len(toks) {
				if _, ok := toks[i+1].(xml.EndElement); ok {
					buf.WriteString("/>")
					i++
					continue
				}
			}
			buf.WriteByte('>')
			stack = append(stack, frame{ns: t.Name.Space, text: isTextElement(t.Name.Local) || (len(stack) > 0 && stack[len(stack)-1].text)})
			depth++
		case xml.EndElement:
			depth--
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !f.text {
				newline()
			}
			buf.WriteString("</")
			buf.WriteString(t.Name.Local)
			buf.WriteByte('>')
		case xml.CharData:
			escapeText(&buf, t)
		}
	}
	return buf.Bytes()
}

// isXMLChar reports whether r may appear in an XML document.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}

// escapeText writes character data; characters XML cannot hold (invalid
// UTF-8, most control characters) become U+FFFD.
func escapeText(buf *bytes.Buffer, s []byte) {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			r = utf8.RuneError
		}
		s = s[n:]
		switch {
		case r == '&':
			buf.WriteString("&amp;")
		case r == '<':
			buf.WriteString("&lt;")
		case r == '>':
			buf.WriteString("&gt;")
		case r == '\r':
			buf.WriteString("&#xD;")
		case !isXMLChar(r):
			buf.WriteRune(utf8.RuneError)
		default:
			buf.WriteRune(r)
		}
	}
}

func escapeAttr(buf *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			buf.WriteString("&amp;")
		case '<':
			buf.WriteString("&lt;")
		case '>':
			buf.WriteString("&gt;")
		case '\'':
			buf.WriteString("&apos;")
		case '"':
			buf.WriteString("&quot;")
		case '\n':
			buf.WriteString("&#xA;")
		case '\r':
			buf.WriteString("&#xD;")
		case '\t':
			buf.WriteString("&#x9;")
		default:
			if !isXMLChar(r) {
				r = utf8.RuneError
			}
			buf.WriteRune(r)
		}
	}
}

// walk reads the children of the element whose start tag was just read, up
// to and including its end tag. For each child start element it calls fn,
// which must consume the child completely (by decoding it or by calling
// d.Skip). It returns the character data found directly inside the element.
func walk(d *xml.Decoder, fn func(xml.StartElement) error) (string, error) {
	var text []byte
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", syntaxErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if fn == nil {
				if err := d.Skip(); err != nil {
					return "", syntaxErr(err)
				}
				continue
			}
			if err := fn(t); err != nil {
				return "", err
			}
		case xml.EndElement:
			return string(text), nil
		case xml.CharData:
			text = append(text, t...)
		}
	}
}

// skip consumes the rest of an element, wrapping decoder errors.
// findElement returns a decoder over data positioned just after the first
// start element that match accepts, and that element. It returns
// ErrNoJingle if there is none and ErrMalformedXML (wrapped) if the XML
// breaks before one.
func findElement(data []byte, match func(xml.StartElement) bool) (*xml.Decoder, xml.StartElement, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil, xml.StartElement{}, ErrNoJingle
		}
		if err != nil {
			return nil, xml.StartElement{}, syntaxErr(err)
		}
		if se, ok := tok.(xml.StartElement); ok && match(se) {
			return d, se, nil
		}
	}
}

func skip(d *xml.Decoder) error {
	if err := d.Skip(); err != nil {
		return syntaxErr(err)
	}
	return nil
}

// syntaxErr wraps a decoder error in ErrMalformedXML unless it already is one
// of this package's errors.
func syntaxErr(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{ErrMalformedXML, ErrInvalidValue, ErrMissingAttribute, ErrNoJingle, ErrUnknownAction} {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformedXML, err)
}

// attrOf returns an unqualified attribute and whether it is present.
func attrOf(se xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == se.Name.Space) {
			return a.Value, true
		}
	}
	return "", false
}

func attr(se xml.StartElement, name string) string {
	v, _ := attrOf(se, name)
	return v
}

// attrParser parses the numeric attributes of one element and remembers the
// first failure, so that decoders read like a list of fields.
type attrParser struct {
	se   xml.StartElement
	path string
	err  error
}

func (p *attrParser) fail(name, v string, sentinel error) {
	if p.err == nil {
		if sentinel == ErrMissingAttribute {
			p.err = fmt.Errorf("%w: %s: %s", sentinel, p.path, name)
			return
		}
		p.err = fmt.Errorf("%w: %s: %s=%q", sentinel, p.path, name, v)
	}
}

func (p *attrParser) uint(name string, bits int, required bool) uint64 {
	v, ok := attrOf(p.se, name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		if required {
			p.fail(name, v, ErrMissingAttribute)
		}
		return 0
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		p.fail(name, v, ErrInvalidValue)
		return 0
	}
	return n
}

func (p *attrParser) str(name string, required bool) string {
	v, ok := attrOf(p.se, name)
	if !ok && required {
		p.fail(name, v, ErrMissingAttribute)
	}
	return v
}

func (p *attrParser) senders(name string) Senders {
	v, ok := attrOf(p.se, name)
	if !ok || v == "" {
		return SendersUnknown
	}
	s, err := ParseSenders(v)
	if err != nil {
		p.fail(name, v, ErrInvalidValue)
	}
	return s
}

func (p *attrParser) role(name string) Role {
	v, ok := attrOf(p.se, name)
	if !ok || v == "" {
		return RoleUnknown
	}
	r, err := ParseRole(v)
	if err != nil {
		p.fail(name, v, ErrInvalidValue)
	}
	return r
}

func (p *attrParser) bool(name string) bool {
	v, _ := attrOf(p.se, name)
	return v == "true" || v == "1"
}

func (p *attrParser) wrap() error {
	return p.err
}
