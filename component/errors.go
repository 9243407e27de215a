package component

import (
	"errors"
	"fmt"

	"mellium.im/xmpp/stream"
)

var (
	// ErrNotConnected is returned by Link.Send and friends while the link
	// is down; the caller decides whether to retry or to report.
	ErrNotConnected = errors.New("component: not connected to the XMPP server")

	// ErrBadSecret means the server refused the handshake
	// (<not-authorized/>): the component secret does not match the one
	// configured on the server for this domain.
	ErrBadSecret = errors.New("component: handshake refused (not-authorized): the component secret does not match the server's")

	// ErrConflict means the server refused the link because another
	// component is already connected for the same domain.
	ErrConflict = errors.New("component: another component is already connected for this domain (conflict)")

	// ErrUnknownDomain means the server has no component configured for
	// the domain (host-unknown or improper-addressing).
	ErrUnknownDomain = errors.New("component: the server has no component configured for this domain")
)

// classify maps stream errors received during the handshake to the
// package's sentinels, keeping the original error wrapped.
func classify(err error) error {
	var se stream.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Err {
	case "not-authorized":
		return fmt.Errorf("%w: %w", ErrBadSecret, err)
	case "conflict":
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case "host-unknown", "improper-addressing", "remote-connection-failed":
		return fmt.Errorf("%w: %w", ErrUnknownDomain, err)
	}
	return fmt.Errorf("component: stream error <%s/>: %w", se.Err, err)
}
