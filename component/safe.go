package component

import (
	"encoding/xml"
	"fmt"
	"log/slog"
	"runtime/debug"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// safeHandler shields the stream from its handlers: an error or a panic in
// a handler is logged and answered, never turned into a stream error.
type safeHandler struct {
	h   xmpp.Handler
	log *slog.Logger
	// errors counts handler failures, for tests and metrics.
	onError func()
}

// trackingRW records whether the handler wrote anything.
type trackingRW struct {
	xmlstream.TokenReadEncoder
	wrote bool
}

func (t *trackingRW) EncodeToken(tok xml.Token) error {
	t.wrote = true
	return t.TokenReadEncoder.EncodeToken(tok)
}

func (t *trackingRW) Encode(v any) error {
	t.wrote = true
	return t.TokenReadEncoder.Encode(v)
}

func (t *trackingRW) EncodeElement(v any, start xml.StartElement) error {
	t.wrote = true
	return t.TokenReadEncoder.EncodeElement(v, start)
}

// errPartialWrite is returned when a handler panicked after it had started
// writing: the output stream may hold half an element, so the only safe
// course is to drop the link and reconnect.
type errPartialWrite struct{ v any }

func (e errPartialWrite) Error() string {
	return fmt.Sprintf("component: handler panicked after writing part of a reply: %v", e.v)
}

func (s safeHandler) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) (err error) {
	rw := &trackingRW{TokenReadEncoder: t}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in stanza handler", "stanza", start.Name.Local, "panic", v, "stack", string(debug.Stack()))
			if s.onError != nil {
				s.onError()
			}
			if rw.wrote {
				err = errPartialWrite{v}
				return
			}
			err = s.answer(t, start)
		}
	}()
	if herr := s.h.HandleXMPP(rw, start); herr != nil {
		s.log.Warn("stanza handler failed; stanza dropped", "stanza", start.Name.Local, "from", attr(start, "from"), "id", attr(start, "id"), "err", herr)
		if s.onError != nil {
			s.onError()
		}
		if !rw.wrote {
			return s.answer(t, start)
		}
	}
	return nil
}

// answer replies bad-request to a get or set IQ that failed before its
// handler wrote anything; other stanzas are dropped (logged above).
func (s safeHandler) answer(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "iq" {
		return nil
	}
	typ := attr(start, "type")
	if typ != string(stanza.GetIQ) && typ != string(stanza.SetIQ) {
		return nil
	}
	from, err1 := jid.Parse(attr(start, "from"))
	to, err2 := jid.Parse(attr(start, "to"))
	if err1 != nil || err2 != nil {
		// Without valid addresses there is nobody to answer.
		return nil
	}
	iq := stanza.IQ{XMLName: start.Name, ID: attr(start, "id"), Type: stanza.ErrorIQ, From: to, To: from}
	_, err := xmlstream.Copy(t, iq.Wrap(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}.TokenReader()))
	return err
}

func attr(start *xml.StartElement, name string) string {
	for _, a := range start.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
