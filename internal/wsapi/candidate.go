package wsapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// checkCandidateLine validates an ICE candidate attribute as browsers give it
// in RTCIceCandidate.candidate (RFC 8839 §5.1, without the "a=" prefix):
//
//	candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> [raddr <a>] [rport <p>] *(<name> <value>)
func checkCandidateLine(s string) error {
	rest, ok := strings.CutPrefix(s, "candidate:")
	if !ok {
		return errors.New(`must start with "candidate:"`)
	}
	f := strings.Fields(rest)
	if len(f) < 8 {
		return errors.New("too few fields")
	}
	if !iceChars(f[0]) || len(f[0]) > 32 {
		return errors.New("bad foundation")
	}
	if n, err := strconv.ParseUint(f[1], 10, 16); err != nil || n < 1 || n > 256 {
		return errors.New("bad component id")
	}
	switch strings.ToLower(f[2]) {
	case "udp", "tcp":
	default:
		return fmt.Errorf("unsupported transport %q", truncate(f[2], 16))
	}
	if _, err := strconv.ParseUint(f[3], 10, 32); err != nil {
		return errors.New("bad priority")
	}
	if !hostChars(f[4]) {
		return errors.New("bad connection address")
	}
	if _, err := strconv.ParseUint(f[5], 10, 16); err != nil {
		return errors.New("bad port")
	}
	if f[6] != "typ" {
		return errors.New(`missing "typ"`)
	}
	switch f[7] {
	case "host", "srflx", "prflx", "relay":
	default:
		return fmt.Errorf("unknown candidate type %q", truncate(f[7], 16))
	}
	ext := f[8:]
	if len(ext)%2 != 0 {
		return errors.New("extension attribute without a value")
	}
	for i := 0; i < len(ext); i += 2 {
		switch ext[i] {
		case "raddr":
			if !hostChars(ext[i+1]) {
				return errors.New("bad raddr")
			}
		case "rport":
			if _, err := strconv.ParseUint(ext[i+1], 10, 16); err != nil {
				return errors.New("bad rport")
			}
		}
	}
	return nil
}

// iceChars: ALPHA / DIGIT / "+" / "/" (RFC 8839 ice-char).
func iceChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// hostChars accepts IPv4, IPv6 and host names (browsers hide host addresses
// behind mDNS names such as 1f4712db-ea17-4bcf-a596-105139dfd8bf.local).
func hostChars(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ':' || c == '-' || c == '_' || c == '%') {
			return false
		}
	}
	return true
}
