package jinglepeer

import (
	"encoding/xml"
	"io"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/jingle"
)

// Direction says whether a stanza was sent or received.
type Direction int

// Directions of a logged stanza.
const (
	In Direction = iota + 1
	Out
)

func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "unknown"
}

// Stanza is a logged Jingle or JMI stanza: a Jingle IQ, the result or error
// that answers one, or a message with an XEP-0353 payload.
type Stanza struct {
	Dir  Direction
	Time time.Time
	// Name is "iq" or "message"; Type its type attribute.
	Name string
	Type string
	// ID is the stanza's id attribute.
	ID string
	// Action is the Jingle action ("session-initiate", ...) or JMI element
	// ("propose", ...). For IQ results and errors it is the action of the
	// IQ they answer.
	Action string
	// SID is the Jingle session id (JMI id).
	SID string
	// Condition is the Jingle error condition of an IQ error, if any
	// (e.g. "unknown-session"), else its stanza error condition.
	Condition string
	// XML is the whole stanza as text, namespaces declared where they
	// change (jabber:client left out), attributes as sent or received.
	XML string
}

// IsResult reports whether the stanza is an IQ result.
func (s Stanza) IsResult() bool { return s.Name == "iq" && s.Type == string(stanza.ResultIQ) }

// IsError reports whether the stanza is an IQ error.
func (s Stanza) IsError() bool { return s.Name == "iq" && s.Type == string(stanza.ErrorIQ) }

// tokens is a token slice that can be read again (jingle.TokenReaderer).
type tokens []xml.Token

func (t tokens) TokenReader() xml.TokenReader { return &sliceReader{toks: t} }

type sliceReader struct {
	toks []xml.Token
	i    int
}

func (r *sliceReader) Token() (xml.Token, error) {
	if r.i >= len(r.toks) {
		return nil, io.EOF
	}
	t := r.toks[r.i]
	r.i++
	return t, nil
}

// readTokens reads an element whose start tag is start from r, copying
// every token. The handler's reader ends with the element's end tag.
func readTokens(start xml.StartElement, r xml.TokenReader, limit int) (tokens, error) {
	toks := tokens{start.Copy()}
	depth := 1
	for depth > 0 {
		tok, err := r.Token()
		if tok != nil {
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
			if len(toks) < limit {
				toks = append(toks, xml.CopyToken(tok))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(toks) >= limit {
		return nil, errTooLarge
	}
	if depth > 0 {
		toks = append(toks, start.End())
	}
	return toks, nil
}

// readAll copies the tokens of an XML token reader (our own stanzas).
func readAll(r xml.TokenReader) (tokens, error) {
	var toks tokens
	for {
		tok, err := r.Token()
		if tok != nil {
			toks = append(toks, xml.CopyToken(tok))
		}
		if err == io.EOF {
			return toks, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// xmlText returns the tokens as text. Namespace declarations that came in
// as attributes are dropped (the serializer declares namespaces itself),
// and jabber:client is left implicit, so that sent and received stanzas
// read alike.
func xmlText(toks tokens) string {
	norm := make(tokens, 0, len(toks))
	for _, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			se := xml.StartElement{Name: v.Name}
			if se.Name.Space == stanza.NSClient {
				se.Name.Space = ""
			}
			for _, a := range v.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				se.Attr = append(se.Attr, a)
			}
			norm = append(norm, se)
		case xml.EndElement:
			if v.Name.Space == stanza.NSClient {
				v.Name.Space = ""
			}
			norm = append(norm, v)
		case xml.CharData:
			norm = append(norm, v)
		}
	}
	b, err := jingle.Marshal(norm)
	if err != nil {
		return ""
	}
	return string(b)
}

// stanzaOf fills the stanza attributes of a log entry from the start tag.
func stanzaOf(dir Direction, toks tokens) Stanza {
	s := Stanza{Dir: dir, Time: time.Now(), XML: xmlText(toks)}
	if len(toks) == 0 {
		return s
	}
	if se, ok := toks[0].(xml.StartElement); ok {
		s.Name = se.Name.Local
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "type":
				s.Type = a.Value
			case "id":
				s.ID = a.Value
			}
		}
	}
	return s
}

// errorCondition returns the Jingle condition of an IQ error, else its
// stanza condition.
func errorCondition(toks tokens) string {
	var cond string
	depth := 0
	inError := false
	for _, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && v.Name.Local == "error" {
				inError = true
				continue
			}
			if inError && depth == 3 {
				switch v.Name.Space {
				case jingle.NSErrors, jingle.NSRTPErrors:
					return v.Name.Local
				case stanza.NSError:
					if cond == "" {
						cond = v.Name.Local
					}
				}
			}
		case xml.EndElement:
			if depth == 2 {
				inError = false
			}
			depth--
		}
	}
	return cond
}
