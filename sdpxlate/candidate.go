package sdpxlate

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
)

// numericExtensions are the candidate extensions ParseCandidate keeps that
// hold numbers, with their size in bits.
var numericExtensions = map[string]int{"rport": 16, "generation": 32, "network-id": 32, "network-cost": 32}

// ParseCandidate parses an ICE candidate attribute (RFC 8839 section 5.1),
// with or without the "a=" and "candidate:" prefixes, as browsers hand it to
// onicecandidate. It also returns the "ufrag" extension that browsers add to
// trickled candidates ("" if absent). Unknown extensions are ignored; the
// generation, network-id, network-cost and tcptype ones are kept.
func ParseCandidate(line string) (c jingle.Candidate, ufrag string, err error) {
	v := strings.TrimSpace(line)
	v = strings.TrimPrefix(v, "a=")
	v = strings.TrimPrefix(v, "candidate:")
	f := strings.Fields(v)
	bad := func(what string, args ...any) (jingle.Candidate, string, error) {
		return jingle.Candidate{}, "", fmt.Errorf("%w: %q: %s", ErrInvalidCandidate, line, fmt.Sprintf(what, args...))
	}
	if len(f) < 8 || f[6] != "typ" {
		return bad("want \"<foundation> <component> <transport> <priority> <address> <port> typ <type>\"")
	}
	c.Foundation = f[0]
	comp, err := strconv.ParseUint(f[1], 10, 8)
	if err != nil || comp == 0 {
		return bad("component %q", f[1])
	}
	c.Component = uint8(comp)
	c.Protocol = strings.ToLower(f[2])
	if c.Priority, err = strconv.ParseUint(f[3], 10, 64); err != nil {
		return bad("priority %q", f[3])
	}
	c.IP = f[4]
	port, err := strconv.ParseUint(f[5], 10, 16)
	if err != nil {
		return bad("port %q", f[5])
	}
	c.Port = uint16(port)
	c.Type = f[7]
	rest := f[8:]
	if len(rest)%2 != 0 {
		return bad("extension %q has no value", rest[len(rest)-1])
	}
	for i := 0; i < len(rest); i += 2 {
		k, val := rest[i], rest[i+1]
		if bits, ok := numericExtensions[k]; ok {
			n, err := strconv.ParseUint(val, 10, bits)
			if err != nil {
				return bad("%s %q", k, val)
			}
			switch k {
			case "rport":
				c.RelPort = uint16(n)
			case "generation":
				c.Generation = uint32(n)
			case "network-id":
				c.Network = uint32(n)
			case "network-cost":
				c.NetworkCost = uint32(n)
			}
			continue
		}
		switch k {
		case "raddr":
			c.RelAddr = val
		case "tcptype":
			c.TCPType = val
		case "ufrag":
			ufrag = val
		}
	}
	return c, ufrag, nil
}

// FormatCandidate returns the SDP form of c, "candidate:..." without "a=".
func FormatCandidate(c jingle.Candidate) (string, error) {
	bad := func(what string, v any) (string, error) {
		return "", fmt.Errorf("%w: id %q: %s %v", ErrInvalidCandidate, c.ID, what, v)
	}
	switch {
	case !isToken(c.Foundation):
		return bad("foundation", strconv.Quote(c.Foundation))
	case c.Component == 0:
		return bad("component", c.Component)
	case !isToken(c.Protocol):
		return bad("protocol", strconv.Quote(c.Protocol))
	case !isToken(c.IP):
		return bad("ip", strconv.Quote(c.IP))
	case !isToken(c.Type):
		return bad("type", strconv.Quote(c.Type))
	case c.RelAddr != "" && !isToken(c.RelAddr):
		return bad("rel-addr", strconv.Quote(c.RelAddr))
	case c.TCPType != "" && !isToken(c.TCPType):
		return bad("tcptype", strconv.Quote(c.TCPType))
	}
	var b strings.Builder
	b.Grow(96)
	b.WriteString("candidate:")
	b.WriteString(c.Foundation)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(uint64(c.Component), 10))
	b.WriteByte(' ')
	b.WriteString(c.Protocol)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(c.Priority, 10))
	b.WriteByte(' ')
	b.WriteString(c.IP)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(uint64(c.Port), 10))
	b.WriteString(" typ ")
	b.WriteString(c.Type)
	if c.RelAddr != "" {
		b.WriteString(" raddr ")
		b.WriteString(c.RelAddr)
		b.WriteString(" rport ")
		b.WriteString(strconv.FormatUint(uint64(c.RelPort), 10))
	}
	if c.TCPType != "" {
		b.WriteString(" tcptype ")
		b.WriteString(c.TCPType)
	}
	b.WriteString(" generation ")
	b.WriteString(strconv.FormatUint(uint64(c.Generation), 10))
	if c.Network != 0 {
		b.WriteString(" network-id ")
		b.WriteString(strconv.FormatUint(uint64(c.Network), 10))
	}
	if c.NetworkCost != 0 {
		b.WriteString(" network-cost ")
		b.WriteString(strconv.FormatUint(uint64(c.NetworkCost), 10))
	}
	return b.String(), nil
}

// isToken reports whether s is non-empty and free of whitespace and control
// characters, so that it can be a field of an SDP line.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// isMDNS reports whether an address is an mDNS host name.
func isMDNS(addr string) bool {
	return strings.HasSuffix(strings.ToLower(addr), ".local")
}

// candidateID derives a stable XEP-0176 candidate id from the content name
// and the candidate, so that output is deterministic.
func candidateID(content string, c jingle.Candidate) string {
	h := fnv.New64a()
	h.Write([]byte(content))
	h.Write([]byte{0})
	h.Write([]byte(c.Foundation))
	fmt.Fprintf(h, "\x00%d\x00%s\x00%d\x00%s\x00%d\x00%s", c.Component, c.Protocol, c.Priority, c.IP, c.Port, c.Type)
	return strconv.FormatUint(h.Sum64(), 36)
}
