package sdpxlate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pion/sdp/v3"
)

// ParseSDP parses SDP text leniently and returns it as a pion session
// description. Before parsing it:
//
//   - accepts LF as well as CRLF line ends and a missing final line end;
//
//   - trims spaces and tabs around each line (StanzaJS' test SDP starts with
//     "    v=0", XEP-0293 indents every line) and drops blank lines.
//
//   - puts the lines of the session part and of each m-section in the order
//     RFC 8866 prescribes (sdp-transform's simulcast sample has c= after t=),
//     keeping the relative order of lines of the same type;
//
//   - accepts a bare media section (what QXmpp translates per content) by
//     prefixing it with "v=0", "o=- 0 0 IN IP4 0.0.0.0", "s=-" and "t=0 0".
//
// Anything else is parsed strictly by pion/sdp. Errors wrap ErrInvalidSDP.
func ParseSDP(text string) (*sdp.SessionDescription, error) {
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.Trim(line, " \t\r")
		if line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrInvalidSDP)
	}
	if strings.HasPrefix(lines[0], "m=") {
		lines = append([]string{"v=0", "o=- 0 0 IN IP4 0.0.0.0", "s=-", "t=0 0"}, lines...)
	}
	if !strings.HasPrefix(lines[0], "v=") {
		return nil, fmt.Errorf("%w: line 1 %q is not v=", ErrInvalidSDP, lines[0])
	}
	for i, l := range lines {
		if err := checkLine(l); err != nil {
			return nil, fmt.Errorf("%w: line %d %q: %s", ErrInvalidSDP, i+1, l, err)
		}
	}
	var b strings.Builder
	b.Grow(len(text) + 64)
	start := 0
	for i := 1; i <= len(lines); i++ {
		if i == len(lines) || strings.HasPrefix(lines[i], "m=") {
			part := lines[start:i]
			rank := sessionRank
			if start > 0 {
				rank = mediaRank
			}
			slices.SortStableFunc(part, func(a, b string) int { return rank(a) - rank(b) })
			for _, l := range part {
				b.WriteString(l)
				b.WriteString("\r\n")
			}
			start = i
		}
	}
	norm := b.String()
	sd := &sdp.SessionDescription{}
	if err := sd.UnmarshalString(norm); err != nil {
		return nil, fmt.Errorf("%w: %w%s", ErrInvalidSDP, err, lineOf(norm, err))
	}
	return sd, nil
}

// checkLine rejects what pion/sdp would reject with an unhelpful message.
func checkLine(l string) error {
	if len(l) < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z' {
		return fmt.Errorf("not a <type>=<value> line")
	}
	if !utf8.ValidString(l) {
		return fmt.Errorf("not UTF-8")
	}
	for _, r := range l {
		if (r < ' ' && r != '\t') || r == 0x7f || r == 0xfffe || r == 0xffff {
			return fmt.Errorf("control character %U", r)
		}
	}
	if l[0] == 'm' {
		f := strings.Fields(l[2:])
		if len(f) < 3 {
			return fmt.Errorf("want \"m=<media> <port> <proto> <fmt> ...\"")
		}
	}
	return nil
}

var posRE = regexp.MustCompile(`pos (\d+)`)

// lineOf turns the byte position in a pion syntax error into a line.
func lineOf(text string, err error) string {
	m := posRE.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	pos, _ := strconv.Atoi(m[1])
	if pos > len(text) {
		pos = len(text)
	}
	n := strings.Count(text[:pos], "\n")
	lines := strings.Split(text, "\r\n")
	if n < len(lines) {
		return fmt.Sprintf(" (line %q)", lines[n])
	}
	return ""
}

// sessionRank orders the session-level lines: v o s i u e p c b t r z k a.
func sessionRank(line string) int {
	if len(line) < 2 || line[1] != '=' {
		return 99
	}
	if i := strings.IndexByte("vosiuepcbtzka", line[0]); i >= 0 {
		if line[0] == 'z' || line[0] == 'k' || line[0] == 'a' {
			return i + 1
		}
		return i
	}
	if line[0] == 'r' {
		return strings.IndexByte("vosiuepcbtzka", 't')
	}
	return 99
}

// mediaRank orders the lines of an m-section: m i c b k a.
func mediaRank(line string) int {
	if len(line) < 2 || line[1] != '=' {
		return 99
	}
	if i := strings.IndexByte("micbka", line[0]); i >= 0 {
		return i
	}
	return 99
}

// MarshalSDP returns the SDP text of sd with CRLF line ends.
func MarshalSDP(sd *sdp.SessionDescription) (string, error) {
	if sd == nil {
		return "", ErrNilInput
	}
	b, err := sd.Marshal()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	return string(b), nil
}
