package wsapi

// CloseReason tells [Handler.TabClosed] why a tab's session ended.
type CloseReason int

// The close reasons.
const (
	CloseUnknown CloseReason = iota
	// CloseExpired: the connection dropped and was not resumed within the
	// grace period. The application ends the tab's calls with "gone".
	CloseExpired
	// CloseLogout: the browser sent logout.
	CloseLogout
	// CloseShutdown: the server is shutting down.
	CloseShutdown
	// CloseEvicted: the user opened a tab beyond the cap and this
	// disconnected session was the oldest.
	CloseEvicted
	// CloseOverflow: the replay buffer overflowed, or a resume could not be
	// honoured, so messages were lost.
	CloseOverflow
	// CloseApp: the application called [Tab.Close].
	CloseApp
)

var reasonNames = [...]string{"unknown", "expired", "logout", "shutdown", "evicted", "overflow", "app"}

func (r CloseReason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return reasonNames[0]
	}
	return reasonNames[r]
}

// MarshalText implements encoding.TextMarshaler.
func (r CloseReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
