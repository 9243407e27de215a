// Package wsapi is the browsers' WebSocket API: the /ws endpoint of
// jinglegate serve. The protocol itself (messages, fields, error codes, the
// life of a call) is specified in docs/protocol.md and
// docs/protocol.schema.json; this comment covers the Go side.
//
// # Connections and sessions
//
// [Server] is an http.Handler. Before upgrading it checks the Origin
// (Options.AllowedOrigins, same-origin when empty: 403 otherwise) and the
// token (?token= or Authorization: Bearer, checked by Options.Verifier: 401
// otherwise). Each connection has one reader (the ServeHTTP goroutine) and
// one writer goroutine. A user session, a [Tab], has a full JID
// user@Domain/resource with a random 128-bit resource, and outlives its
// connection: when the socket drops, the tab waits Options.ResumeGrace for
// a reconnect with its resume token, which replays every message the
// browser had not acknowledged. Only then does [Handler.TabClosed] run, so
// that the application ends the tab's calls with "gone". Resume tokens work
// once, for the same user only (the reconnect must carry a valid token for
// the same localpart); each attach issues a fresh one.
//
// # Ordering, the write queue and the replay buffer
//
// Every server-to-client message but session gets a seq and is kept in the
// tab's replay buffer until the browser acknowledges it. The writer takes its
// frames from that buffer, so the messages not yet written are the write
// queue: when more than Options.WriteQueue are waiting the browser is too
// slow, and its connection is dropped (the session can resume, and nothing
// is lost). [Tab.Send] never blocks. The buffer holds Options.ReplayBuffer
// messages: when it is full of messages the browser has read but not
// acknowledged, the oldest is dropped (a later resume from before it fails
// with conflict); when it fills while the browser is disconnected, the
// session ends at once with CloseOverflow.
//
// # The Handler
//
// The application implements [Handler]. Calls for one tab are serialised
// and come in order: TabOpened, HandleMessage for each message, TabClosed.
// Messages reach HandleMessage validated: unknown fields are ignored (for
// forward compatibility, and because browsers' RTCIceCandidateInit may grow);
// a missing or mistyped field, an unknown type, an SDP that pion/sdp cannot
// parse or a candidate line that is not one are answered with bad-request
// without involving the Handler. The Handler answers a message by returning
// nil (ack), or an *[Error]; see [Handler.HandleMessage].
//
// # Call ownership
//
// wsapi enforces that a browser touches only its own calls. A tab owns a set
// of sids: a call message from the browser owns its sid (wsapi generates one
// when the browser gives none, and answers conflict if another tab of the
// user owns it); sending [Incoming] owns its sid (so does [Tab.OwnSID]);
// every other message naming a sid the tab does not own is answered
// not-found before the Handler sees it, whether or not the sid exists
// elsewhere. Sending [Hangup], a hangup or reject from the browser that the
// Handler accepted, and [Tab.ReleaseSID] release it. The Handler therefore
// never sees a sid of another user, and maps sids to its calls itself. The
// gateway, not the browser, sets every "from": a browser message carrying
// from is refused (forbidden), and the application builds stanzas from
// [Tab.JID].
//
// # Limits
//
// Options.ReadLimit closes oversized frames with 1009. Each tab has a token
// bucket (RatePerSecond, RateBurst): messages beyond it are answered
// rate-limited; a second bucket of the same size counts those, and when it
// runs dry too (a browser sending at more than twice the rate) the
// connection is closed with 1008. Options.MaxTabsPerUser caps sessions per
// user. Nothing else closes a connection: every bad message gets an error
// and the connection stays open.
//
// # Shutdown
//
// [Server.Shutdown] refuses new connections, closes every connection with
// 1001, calls TabClosed (CloseShutdown) for every tab and waits for every
// goroutine the server started.
package wsapi
