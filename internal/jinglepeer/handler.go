package jinglepeer

import (
	"encoding/xml"
	"errors"
	"strings"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/jingle"
)

// handler serves the peer's session. It never calls the session's send
// methods (Serve holds the stream while it runs): replies go to the
// handler's encoder, and the work of a call is queued to the call's loop.
// It returns an error only when the stream is broken, never for bad input:
// bad input gets an IQ error.
type handler struct{ p *Peer }

func (h handler) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	toks, err := readTokens(*start, t, maxStanzaTokens)
	if errors.Is(err, errTooLarge) {
		h.p.log.Warn("stanza too large, dropped", "name", start.Name.Local)
		if start.Name.Local == "iq" {
			if iq, err := stanza.NewIQ(*start); err == nil && (iq.Type == stanza.GetIQ || iq.Type == stanza.SetIQ) {
				return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.PolicyViolation}))
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	switch start.Name.Local {
	case "iq":
		return h.iq(t, *start, toks)
	case "message":
		return h.message(t, *start, toks)
	}
	return nil
}

// write sends a reply. When log is not nil, the reply is logged as a Jingle
// stanza of that call (or of the peer if log.call is nil).
func (h handler) write(t xmlstream.TokenWriter, log *replyLog, r xml.TokenReader) error {
	toks, err := readAll(r)
	if err != nil {
		return err
	}
	if log != nil {
		s := stanzaOf(Out, toks)
		s.Action, s.SID = log.action, log.sid
		if s.IsError() {
			s.Condition = errorCondition(toks)
		}
		h.p.logStanza(log.call, s)
	}
	_, err = xmlstream.Copy(t, toks.TokenReader())
	return err
}

type replyLog struct {
	call   *Call
	action string
	sid    string
}

// firstChild returns the first child element of the stanza.
func firstChild(toks tokens) (xml.StartElement, bool) {
	depth := 0
	for _, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				return v, true
			}
		case xml.EndElement:
			depth--
		}
	}
	return xml.StartElement{}, false
}

func (h handler) iq(t xmlstream.TokenReadEncoder, start xml.StartElement, toks tokens) error {
	iq, err := stanza.NewIQ(start)
	if err != nil {
		h.p.log.Warn("IQ with bad attributes dropped", "err", err)
		return nil
	}
	switch iq.Type {
	case stanza.ResultIQ, stanza.ErrorIQ:
		var result error
		if iq.Type == stanza.ErrorIQ {
			result = iqError(toks)
		}
		h.p.resolveIQ(iq.ID, &iq.From, toks, result)
		return nil
	case stanza.GetIQ, stanza.SetIQ:
	default:
		return nil
	}
	payload, ok := firstChild(toks)
	switch {
	case !ok:
		return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}))
	case payload.Name.Space == jingle.NS && payload.Name.Local == "jingle":
		if iq.Type != stanza.SetIQ {
			return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}))
		}
		return h.jingle(t, iq, toks)
	case payload.Name.Space == nsPing && payload.Name.Local == "ping" && iq.Type == stanza.GetIQ:
		return h.write(t, nil, iq.Result(nil))
	case payload.Name.Space == nsDiscoInf && payload.Name.Local == "query" && iq.Type == stanza.GetIQ:
		return h.disco(t, iq, payload)
	case payload.Name.Space == nsRoster && payload.Name.Local == "query" && iq.Type == stanza.SetIQ:
		// A roster push comes from our own account (mellium empties a from
		// that is our bare JID).
		if f := iq.From.String(); f != "" && !iq.From.Equal(h.p.self.Bare()) {
			return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.Forbidden}))
		}
		h.p.setRoster(toks, false)
		return h.write(t, nil, iq.Result(nil))
	}
	return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}))
}

// iqError reads the error of an IQ error reply.
func iqError(toks tokens) error {
	var v struct {
		Err stanza.Error `xml:"error"`
	}
	e := &IQError{Condition: ""}
	if err := xml.NewTokenDecoder(toks.TokenReader()).Decode(&v); err != nil {
		e.Stanza = stanza.Error{Type: stanza.Cancel, Condition: stanza.UndefinedCondition}
	} else {
		e.Stanza = v.Err
	}
	switch c := errorCondition(toks); c {
	case string(e.Stanza.Condition):
	default:
		e.Condition = c
	}
	return e
}

// disco answers disco#info for the peer's JID and for its caps node#ver.
func (h handler) disco(t xmlstream.TokenWriter, iq stanza.IQ, q xml.StartElement) error {
	node := ""
	for _, a := range q.Attr {
		if a.Name.Local == "node" {
			node = a.Value
		}
	}
	if node != "" && node != h.p.caps.Node+"#"+h.p.caps.Ver {
		return h.write(t, nil, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}))
	}
	res := disco.Info{InfoQuery: disco.InfoQuery{Node: node}}
	res.Identity = append(res.Identity, h.p.identity)
	for _, f := range h.p.features {
		res.Features = append(res.Features, info.Feature{Var: f})
	}
	return h.write(t, nil, iq.Result(res.TokenReader()))
}

// jingle handles a Jingle IQ set: it answers it at once (ack or error)
// and queues the work to the call.
func (h handler) jingle(t xmlstream.TokenWriter, iq stanza.IQ, toks tokens) error {
	p := h.p
	in := stanzaOf(In, toks)
	var v jingle.IQ
	if err := xml.NewTokenDecoder(toks.TokenReader()).Decode(&v); err != nil {
		p.log.Warn("malformed Jingle IQ", "from", iq.From.String(), "err", err)
		p.logStanza(nil, in)
		return h.write(t, &replyLog{}, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: map[string]string{"": err.Error()}}))
	}
	j := &v.Jingle
	in.Action, in.SID = j.Action.String(), j.SID
	if in.Action == "" {
		in.Action = jingleActionAttr(toks)
	}
	log := &replyLog{action: in.Action, sid: j.SID}
	if j.SID == "" {
		p.logStanza(nil, in)
		return h.write(t, log, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: map[string]string{"": "no sid"}}))
	}
	c := p.Lookup(j.SID)
	isNew := false
	if c == nil && j.Action == jingle.ActionSessionInitiate {
		var cond stanza.Error
		c, cond = p.newInitiated(iq.From, j)
		if c == nil {
			p.logStanza(nil, in)
			return h.write(t, log, iq.Error(cond))
		}
		isNew = true
	}
	if c == nil {
		p.logStanza(nil, in)
		if j.Action == jingle.ActionUnknown {
			return h.write(t, log, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.FeatureNotImplemented}))
		}
		return h.write(t, log, jingle.ErrorReply(iq, jingle.CondUnknownSession))
	}
	p.logStanza(c, in)
	log.call = c
	reply, op := c.receive(iq, j, toks)
	if err := h.write(t, log, reply); err != nil {
		return err
	}
	// Queued after the reply is written: the reply holds the stream, so
	// whatever the call sends next goes out after it.
	if op != nil {
		c.queue.push(op)
	}
	if isNew {
		// Delivered after its session-initiate is queued, so that an
		// Accept or Reject from the reader comes after it.
		p.deliver(c)
	}
	return nil
}

// jingleActionAttr returns the raw action attribute (for the log of
// actions the jingle package does not know).
func jingleActionAttr(toks tokens) string {
	for _, t := range toks {
		if se, ok := t.(xml.StartElement); ok && se.Name.Space == jingle.NS && se.Name.Local == "jingle" {
			for _, a := range se.Attr {
				if a.Name.Local == "action" {
					return a.Value
				}
			}
		}
	}
	return ""
}

// jingleHasPayload reports whether the <jingle/> element has child elements.
func jingleHasPayload(toks tokens) bool {
	depth, jingleDepth := 0, -1
	for _, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if jingleDepth < 0 && v.Name.Space == jingle.NS && v.Name.Local == "jingle" {
				jingleDepth = depth
			} else if jingleDepth > 0 && depth == jingleDepth+1 {
				return true
			}
		case xml.EndElement:
			depth--
		}
	}
	return false
}

func (h handler) message(t xmlstream.TokenWriter, start xml.StartElement, toks tokens) error {
	p := h.p
	msg, err := stanza.NewMessage(start)
	if err != nil {
		return nil
	}
	m, ok := findJMI(toks)
	if msg.Type == stanza.ErrorMessage {
		sid := strings.TrimPrefix(msg.ID, "jm-propose-")
		if ok {
			sid = m.ID
		}
		if c := p.Lookup(sid); c != nil && sid != "" {
			s := stanzaOf(In, toks)
			s.Action, s.SID, s.Condition = "error", sid, errorCondition(toks)
			p.logStanza(c, s)
			e := iqError(toks)
			c.queue.push(func() { c.onMessageError(msg.From, e) })
		}
		return nil
	}
	if !ok {
		return nil
	}
	s := stanzaOf(In, toks)
	s.Action, s.SID = m.Kind.String(), m.ID
	from := msg.From
	if from.String() == "" || from.Bare().Equal(p.self.Bare()) || m.ID == "" {
		// Our own account (carbons of our other resources) or no id.
		p.logStanza(nil, s)
		return nil
	}
	if m.Kind == jingle.JMIPropose {
		if msg.ID != "" && hasChild(toks, nsReceipts, "request") {
			ack := stanza.Message{ID: randomID(), To: from, Type: msg.Type}.Wrap(
				xmlstream.Wrap(nil, xml.StartElement{
					Name: xml.Name{Space: nsReceipts, Local: "received"},
					Attr: []xml.Attr{{Name: xml.Name{Local: "id"}, Value: msg.ID}},
				}))
			if err := h.write(t, nil, ack); err != nil {
				return err
			}
		}
		if c := p.Lookup(m.ID); c != nil {
			p.logStanza(c, s)
			return nil // a copy of a propose we know
		}
		c := p.newProposed(from, m)
		p.logStanza(c, s)
		return nil
	}
	c := p.Lookup(m.ID)
	p.logStanza(c, s)
	if c != nil {
		c.queue.push(func() { c.onJMI(from, m) })
	}
	return nil
}

// findJMI returns the first XEP-0353 payload of a message.
func findJMI(toks tokens) (*jingle.JMI, bool) {
	depth := 0
	for i, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if depth != 2 || v.Name.Space != jingle.NSJMI {
				continue
			}
			if _, err := jingle.ParseJMIKind(v.Name.Local); err != nil {
				continue
			}
			// Decode, not DecodeElement: a token decoder that has not read
			// the start element itself panics in DecodeElement.
			var m jingle.JMI
			if err := xml.NewTokenDecoder(toks[i:].TokenReader()).Decode(&m); err != nil {
				return nil, false
			}
			return &m, true
		case xml.EndElement:
			depth--
		}
	}
	return nil, false
}

// hasChild reports whether the stanza has a child element named space/local.
func hasChild(toks tokens, space, local string) bool {
	depth := 0
	for _, t := range toks {
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && v.Name.Space == space && v.Name.Local == local {
				return true
			}
		case xml.EndElement:
			depth--
		}
	}
	return false
}

// newInitiated creates the call of a session-initiate that no propose
// announced. On failure it returns the error to answer with.
func (p *Peer) newInitiated(from jid.JID, j *jingle.Jingle) (*Call, stanza.Error) {
	if from.Resourcepart() == "" {
		return nil, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: map[string]string{"": "session-initiate from a bare JID"}}
	}
	c := newCall(p, j.SID, jingle.RoleResponder, from, false, mediaOfJingle(j))
	c.ringing = true
	if err := p.addCall(c); err != nil {
		return nil, stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}
	}
	return c, stanza.Error{}
}

// newProposed creates the call of an incoming JMI propose.
func (p *Peer) newProposed(from jid.JID, m *jingle.JMI) *Call {
	var media []string
	for _, d := range m.Descriptions {
		if (d.Media == MediaAudio || d.Media == MediaVideo) && !containsString(media, d.Media) {
			media = append(media, d.Media)
		}
	}
	c := newCall(p, m.ID, jingle.RoleResponder, from, true, media)
	c.ringing = true
	if err := p.addCall(c); err != nil {
		p.log.Info("propose ignored", "sid", m.ID, "err", err)
		return nil
	}
	c.queue.push(c.onPropose)
	p.deliver(c)
	return c
}

// deliver hands an incoming call to Incoming without blocking.
func (p *Peer) deliver(c *Call) {
	select {
	case p.incoming <- c:
	default:
		p.log.Warn("incoming call not delivered: nobody reads Incoming", "sid", c.sid)
	}
}

// mediaOfJingle lists the media of a session-initiate's contents.
func mediaOfJingle(j *jingle.Jingle) []string {
	var media []string
	for _, c := range j.Contents {
		m := ""
		switch {
		case c.Description != nil && (c.Description.Media == MediaAudio || c.Description.Media == MediaVideo):
			m = c.Description.Media
		case c.Description == nil && c.Transport != nil && c.Transport.SCTPMap != nil:
			m = MediaData
		}
		if m != "" && !containsString(media, m) {
			media = append(media, m)
		}
	}
	return media
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
