package component

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

var (
	// ErrIQTimeout is passed to a SendIQAsync callback when no answer
	// came in time.
	ErrIQTimeout = errors.New("component: no answer to the IQ in time")
	// ErrLinkDown is passed to a SendIQAsync callback when the link went
	// down before the answer came.
	ErrLinkDown = errors.New("component: the link went down before the IQ was answered")
)

type pendingIQ struct {
	to      jid.JID
	cb      func(error)
	ordered func(error)
	timer   *time.Timer
}

// SendIQAsync writes a get or set IQ now, in order with the link's other
// writes, and calls cb once, on its own goroutine, with the outcome: nil for
// a result, a stanza.Error for an error reply, ErrIQTimeout, or ErrLinkDown.
// If the IQ cannot be written, SendIQAsync returns the error and cb is never
// called. Unlike SendIQ it does not block until the answer, so a caller that
// must keep several stanzas in order (a session-initiate and the
// transport-infos after it) can write them one after the other. It must not
// be called from a handler.
func (l *Link) SendIQAsync(ctx context.Context, iq stanza.IQ, payload xml.TokenReader, timeout time.Duration, cb func(error)) error {
	return l.SendIQAsyncOrdered(ctx, iq, payload, timeout, nil, cb)
}

// SendIQAsyncOrdered is SendIQAsync with a second callback, ordered, that
// runs before cb on the goroutine that reads the link, before any stanza
// that arrived after the answer is handled: what it records is seen by the
// handlers of later stanzas (a peer acknowledges a request before it sends
// anything that depends on it), or on the timer's when none comes. It must
// be quick and must not send.
func (l *Link) SendIQAsyncOrdered(ctx context.Context, iq stanza.IQ, payload xml.TokenReader, timeout time.Duration, ordered, cb func(error)) error {
	if iq.ID == "" {
		iq.ID = randomID()
	}
	if iq.Type != stanza.GetIQ && iq.Type != stanza.SetIQ {
		return fmt.Errorf("component: SendIQAsync needs a get or set IQ, got %q", iq.Type)
	}
	p := &pendingIQ{to: iq.To, cb: cb, ordered: ordered}
	l.mu.Lock()
	if l.pending == nil {
		l.pending = map[string]*pendingIQ{}
	}
	if _, dup := l.pending[iq.ID]; dup {
		l.mu.Unlock()
		return fmt.Errorf("component: IQ id %q already in flight", iq.ID)
	}
	l.pending[iq.ID] = p
	p.timer = time.AfterFunc(timeout, func() { l.finishIQ(iq.ID, nil, ErrIQTimeout) })
	l.mu.Unlock()
	if err := l.Send(ctx, iq.Wrap(payload)); err != nil {
		l.mu.Lock()
		delete(l.pending, iq.ID)
		l.mu.Unlock()
		p.timer.Stop()
		return err
	}
	return nil
}

// finishIQ completes the pending IQ id with err. from, when not nil, must
// match the address the IQ went to (anyone else's answer is ignored).
func (l *Link) finishIQ(id string, from *jid.JID, err error) bool {
	l.mu.Lock()
	p := l.pending[id]
	if p == nil || (from != nil && !from.Equal(p.to)) {
		l.mu.Unlock()
		return false
	}
	delete(l.pending, id)
	l.mu.Unlock()
	p.timer.Stop()
	if p.ordered != nil {
		p.ordered(err)
	}
	go p.cb(err)
	return true
}

// failPending ends every pending async IQ with ErrLinkDown.
func (l *Link) failPending() {
	l.mu.Lock()
	ids := make([]string, 0, len(l.pending))
	for id := range l.pending {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	for _, id := range ids {
		l.finishIQ(id, nil, ErrLinkDown)
	}
}

// iqResponse handles a result or error IQ if it answers a SendIQAsync. It
// reports whether it did.
func (l *Link) iqResponse(t xmlstream.TokenReadEncoder, start *xml.StartElement) (bool, error) {
	typ, id := attr(start, "type"), attr(start, "id")
	if typ != string(stanza.ResultIQ) && typ != string(stanza.ErrorIQ) {
		return false, nil
	}
	l.mu.Lock()
	_, ok := l.pending[id]
	l.mu.Unlock()
	if !ok {
		return false, nil
	}
	from, err := jid.Parse(attr(start, "from"))
	if err != nil {
		return true, nil
	}
	var result error
	if typ == string(stanza.ErrorIQ) {
		var v struct {
			Err stanza.Error `xml:"error"`
		}
		if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t)).Decode(&v); err != nil {
			result = stanza.Error{Type: stanza.Cancel, Condition: stanza.UndefinedCondition}
		} else {
			result = v.Err
		}
	}
	l.finishIQ(id, &from, result)
	return true, nil
}

// randomID returns an unguessable stanza id.
func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
