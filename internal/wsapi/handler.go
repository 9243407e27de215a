package wsapi

import "context"

// Handler is the application: the gateway's call and roster logic.
//
// Calls for one tab never overlap and come in order: TabOpened, then each
// HandleMessage, then TabClosed. Handlers must not block for long (the tab's
// reading waits for them, and ctx expires after Options.HandlerTimeout); they
// may call the Tab's and Server's methods, which never block.
type Handler interface {
	// TabOpened is called once per user session, when it is created (not on
	// resumes). ctx ends when the tab closes or the call times out.
	TabOpened(ctx context.Context, t *Tab)
	// HandleMessage is called with each validated application message:
	// call, accept, reject, offer, answer, ice-candidate, hangup,
	// session-info and the roster and presence types. ack, ping and logout
	// are handled by the server. For messages about a call, the tab owns
	// m.SID (see Tab.OwnSID).
	//
	// A nil return is answered with an ack if the message has an id. An
	// *Error is answered as such; context.DeadlineExceeded as timeout;
	// context.Canceled as unavailable; any other error as internal (and
	// logged).
	HandleMessage(ctx context.Context, t *Tab, m *Message) error
	// TabClosed is called once when a tab's session ends: after the resume
	// grace period expired (the application ends the tab's calls with
	// "gone" and sends unavailable presence), on logout, eviction, overflow,
	// Tab.Close or shutdown. It is never called for a mere disconnection.
	TabClosed(t *Tab, reason CloseReason)
}

// HandlerFuncs adapts functions to a [Handler]. Nil fields do nothing (and a
// nil OnMessage answers unavailable).
type HandlerFuncs struct {
	OnOpen    func(ctx context.Context, t *Tab)
	OnMessage func(ctx context.Context, t *Tab, m *Message) error
	OnClose   func(t *Tab, reason CloseReason)
}

var _ Handler = HandlerFuncs{}

// TabOpened implements Handler.
func (h HandlerFuncs) TabOpened(ctx context.Context, t *Tab) {
	if h.OnOpen != nil {
		h.OnOpen(ctx, t)
	}
}

// HandleMessage implements Handler.
func (h HandlerFuncs) HandleMessage(ctx context.Context, t *Tab, m *Message) error {
	if h.OnMessage == nil {
		return Errorf(CodeUnavailable, "%s is not supported", m.Type)
	}
	return h.OnMessage(ctx, t, m)
}

// TabClosed implements Handler.
func (h HandlerFuncs) TabClosed(t *Tab, reason CloseReason) {
	if h.OnClose != nil {
		h.OnClose(t, reason)
	}
}
