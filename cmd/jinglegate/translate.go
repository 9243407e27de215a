package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

// maxTranslateInput bounds what translate reads from stdin.
const maxTranslateInput = 1 << 20

// runTranslate implements "jinglegate translate". It reads one SDP or one
// Jingle stanza from stdin, writes the translation to stdout and returns the
// exit status: 0 on success, 1 on bad input (with one line on stderr naming
// the problem), 2 on bad usage.
func runTranslate(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "jinglegate translate: internal error: %v\n", r)
			code = 1
		}
	}()
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: jinglegate translate -to jingle|sdp [flags] < input

Translates a browser SDP into a Jingle <jingle/> element (-to jingle), or a
Jingle <iq/>, <message/> or bare <jingle/> into SDP with CRLF line ends
(-to sdp): an offer for session-initiate and content-add, an answer for
session-accept and content-accept (aligned with the offer given by -offer),
candidate lines for transport-info.

With -action transport-info, -to jingle reads either a whole SDP (its ICE
credentials and candidates; none: an ICE restart) or candidate lines as a
browser trickles them ("candidate:..." with -mid, or "a=mid:" lines
followed by a=candidate, a=end-of-candidates, a=ice-ufrag, a=ice-pwd: the
format -to sdp prints for a transport-info).

flags:
`)
		fs.PrintDefaults()
	}
	to := fs.String("to", "", "output format: `jingle` or `sdp`")
	action := fs.String("action", "", "Jingle action to write with -to jingle (default session-initiate, or session-accept for -role responder)")
	role := fs.String("role", "", "the party that wrote the input: initiator or responder (default: derived from the action)")
	sid := fs.String("sid", "", "Jingle session id to write with -to jingle")
	initiator := fs.String("initiator", "", "initiator JID to write with -to jingle")
	responder := fs.String("responder", "", "responder JID to write with -to jingle")
	mid := fs.String("mid", "", "with -to jingle -action transport-info: the a=mid the candidates belong to (candidate lines without a=mid), or a comma-separated list of m-sections to take from a whole SDP")
	offerFile := fs.String("offer", "", "with -to sdp: `file` with the SDP offer that the session-accept or content-accept answers; the answer then follows its m-line order and rejects what was not accepted")
	mdns := fs.String("mdns", "keep", "policy for .local ICE host candidates: keep or drop")
	compact := fs.Bool("compact", false, "write the Jingle element on one line")
	verbose := fs.Bool("v", false, "report on stderr what could not be translated")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jinglegate translate: unexpected argument %q (the input is read from stdin)\n", fs.Arg(0))
		return 2
	}
	fail := func(err error) int {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		fmt.Fprintf(stderr, "jinglegate translate: %s\n", msg)
		return 1
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "jinglegate translate: "+format+"\n", a...)
		return 2
	}
	var r jingle.Role
	if *role != "" {
		var err error
		if r, err = jingle.ParseRole(*role); err != nil {
			return usage("-role must be initiator or responder, not %q", *role)
		}
	}
	var policy sdpxlate.MDNSPolicy
	switch *mdns {
	case "keep":
		policy = sdpxlate.MDNSKeep
	case "drop":
		policy = sdpxlate.MDNSDrop
	default:
		return usage("-mdns must be keep or drop, not %q", *mdns)
	}
	onLoss := func(l sdpxlate.Loss) {
		if *verbose {
			fmt.Fprintf(stderr, "jinglegate translate: dropped: %s\n", l)
		}
	}
	input, err := io.ReadAll(io.LimitReader(stdin, maxTranslateInput+1))
	if err != nil {
		return fail(fmt.Errorf("reading stdin: %w", err))
	}
	if len(input) > maxTranslateInput {
		return fail(fmt.Errorf("input larger than %d bytes", maxTranslateInput))
	}
	if len(strings.TrimSpace(string(input))) == 0 {
		return fail(errors.New("empty input on stdin"))
	}

	switch *to {
	case "jingle":
		var a jingle.Action
		if *action != "" {
			if a, err = jingle.ParseAction(*action); err != nil {
				return usage("-action: unknown action %q", *action)
			}
		}
		if *offerFile != "" {
			return usage("-offer only applies to -to sdp")
		}
		if r == jingle.RoleUnknown && a.IsAnswer() {
			r = jingle.RoleResponder
		}
		var j *jingle.Jingle
		if a == jingle.ActionTransportInfo || a == jingle.ActionTransportReplace {
			tio := sdpxlate.TransportInfoOptions{SID: *sid, Initiator: *initiator, Responder: *responder, MDNS: policy, OnLoss: onLoss}
			j, err = transportInfo(string(input), *mid, tio)
			if err == nil {
				j.Action = a
			}
		} else {
			if *mid != "" {
				return usage("-mid only applies to -action transport-info and transport-replace")
			}
			var sd *sdp.SessionDescription
			if sd, err = sdpxlate.ParseSDP(string(input)); err == nil {
				j, err = sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{
					Action: a, Role: r, SID: *sid, Initiator: *initiator, Responder: *responder,
					MDNS: policy, OnLoss: onLoss,
				})
			}
		}
		if err != nil {
			return fail(err)
		}
		indent := "  "
		if *compact {
			indent = ""
		}
		out, err := jingle.MarshalIndent(j, indent)
		if err != nil {
			return fail(err)
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
			return fail(err)
		}
		return 0
	case "sdp":
		if *action != "" || *sid != "" || *initiator != "" || *responder != "" || *mid != "" {
			return usage("-action, -sid, -initiator, -responder and -mid only apply to -to jingle")
		}
		var offer *sdp.SessionDescription
		if *offerFile != "" {
			b, err := os.ReadFile(*offerFile)
			if err != nil {
				return fail(fmt.Errorf("-offer: %w", err))
			}
			if offer, err = sdpxlate.ParseSDP(string(b)); err != nil {
				return fail(fmt.Errorf("-offer %s: %w", *offerFile, err))
			}
		}
		j, err := jingle.Unmarshal(input)
		if errors.Is(err, jingle.ErrNoJingle) {
			if m, jerr := jingle.UnmarshalJMI(input); jerr == nil {
				return fail(fmt.Errorf("the input is an XEP-0353 <%s/> message, which carries no session description; translate the session-initiate that follows it", m.Kind))
			}
			return fail(errors.New("no <jingle xmlns='urn:xmpp:jingle:1'/> element in the input"))
		}
		if err != nil {
			return fail(err)
		}
		var text string
		switch j.Action {
		case jingle.ActionTransportInfo, jingle.ActionTransportReplace, jingle.ActionTransportAccept:
			if hasDescription(j) {
				text, err = toSDP(j, r, nil, policy, onLoss)
			} else {
				text, err = candidateLines(j, policy, onLoss)
			}
		case jingle.ActionSessionInitiate, jingle.ActionSessionAccept, jingle.ActionContentAdd,
			jingle.ActionContentAccept, jingle.ActionUnknown:
			if offer != nil && !j.Action.IsAnswer() {
				return usage("-offer applies to answers (session-accept, content-accept), not to %s", j.Action)
			}
			text, err = toSDP(j, r, offer, policy, onLoss)
		default:
			err = fmt.Errorf("action %s carries no session description", j.Action)
		}
		if err != nil {
			return fail(err)
		}
		if _, err := io.WriteString(stdout, text); err != nil {
			return fail(err)
		}
		return 0
	case "":
		return usage("-to is required: -to jingle reads SDP, -to sdp reads Jingle")
	}
	return usage("-to must be jingle or sdp, not %q", *to)
}

func toSDP(j *jingle.Jingle, r jingle.Role, offer *sdp.SessionDescription, policy sdpxlate.MDNSPolicy, onLoss func(sdpxlate.Loss)) (string, error) {
	sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{Role: r, Offer: offer, MDNS: policy, OnLoss: onLoss})
	if err != nil {
		return "", err
	}
	return sdpxlate.MarshalSDP(sd)
}

func hasDescription(j *jingle.Jingle) bool {
	for _, c := range j.Contents {
		if c.Description != nil {
			return true
		}
	}
	return false
}

// candidateLines writes the candidates of a transport-info as SDP attribute
// lines, each content introduced by its a=mid (and ICE credentials).
func candidateLines(j *jingle.Jingle, policy sdpxlate.MDNSPolicy, onLoss func(sdpxlate.Loss)) (string, error) {
	cands, err := sdpxlate.JingleCandidatesToSDP(j, sdpxlate.ToSDPOptions{MDNS: policy, OnLoss: onLoss})
	if err != nil {
		return "", err
	}
	mids := sdpxlate.SDPMids(j)
	var b strings.Builder
	for _, c := range j.Contents {
		if c.Transport == nil {
			continue
		}
		mid := c.Name
		if m, ok := mids[c.Name]; ok {
			mid = m
		}
		b.WriteString("a=mid:" + mid + "\r\n")
		if c.Transport.Ufrag != "" {
			b.WriteString("a=ice-ufrag:" + c.Transport.Ufrag + "\r\n")
		}
		if c.Transport.Pwd != "" {
			b.WriteString("a=ice-pwd:" + c.Transport.Pwd + "\r\n")
		}
		for _, ic := range cands {
			if ic.SDPMid != mid {
				continue
			}
			if ic.Candidate == "" {
				b.WriteString("a=end-of-candidates\r\n")
				continue
			}
			b.WriteString("a=" + ic.Candidate + "\r\n")
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%s without an ICE-UDP transport: browsers only do ICE", j.Action)
	}
	return b.String(), nil
}

// transportInfo builds a transport-info from a whole SDP (the credentials
// and candidates of its m-sections, those named in mids if any: an ICE
// restart when it has no candidates), or from candidate lines as browsers
// trickle them and as "-to sdp" prints them: "candidate:..." or
// "a=candidate:...", "a=end-of-candidates", each belonging to the last
// "a=mid:" line before it, or to mids (then exactly one) where there is
// none; "a=ice-ufrag:" and "a=ice-pwd:" lines set the credentials.
func transportInfo(input, mids string, opts sdpxlate.TransportInfoOptions) (*jingle.Jingle, error) {
	text := strings.TrimLeft(input, " \t\r\n")
	if strings.HasPrefix(text, "v=") {
		sd, err := sdpxlate.ParseSDP(input)
		if err != nil {
			return nil, err
		}
		var list []string
		if mids != "" {
			list = strings.Split(mids, ",")
		}
		return sdpxlate.SDPToTransportInfo(sd, list, opts)
	}
	if strings.Contains(mids, ",") {
		return nil, fmt.Errorf("-mid %q: candidate lines belong to one m-section; use a=mid: lines for several", mids)
	}
	type creds struct{ ufrag, pwd string }
	cur := mids
	credsOf := map[string]*creds{}
	var cands []sdpxlate.ICECandidate
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(strings.TrimPrefix(line, "a="), ":")
		switch key {
		case "mid":
			cur = strings.TrimSpace(value)
			continue
		case "ice-ufrag", "ice-pwd":
			if cur == "" {
				return nil, fmt.Errorf("line %d: a=%s before any a=mid: line (or -mid)", n+1, key)
			}
			c := credsOf[cur]
			if c == nil {
				c = &creds{}
				credsOf[cur] = c
			}
			if key == "ice-ufrag" {
				c.ufrag = strings.TrimSpace(value)
			} else {
				c.pwd = strings.TrimSpace(value)
			}
			continue
		case "candidate", "end-of-candidates":
		default:
			return nil, fmt.Errorf("line %d: %q is neither a candidate nor a=mid, a=ice-ufrag, a=ice-pwd or a=end-of-candidates (give a whole SDP starting with v= to take its candidates)", n+1, line)
		}
		if cur == "" {
			return nil, fmt.Errorf("line %d: candidate without a mid: give -mid or an a=mid: line before it", n+1)
		}
		c := sdpxlate.ICECandidate{SDPMid: cur}
		if key == "candidate" {
			c.Candidate = strings.TrimPrefix(line, "a=")
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		// Credentials alone: an ICE restart announced before any candidate.
		j := &jingle.Jingle{Action: jingle.ActionTransportInfo, SID: opts.SID, Initiator: opts.Initiator, Responder: opts.Responder}
		for mid, c := range credsOf {
			j.Contents = append(j.Contents, jingle.Content{Creator: jingle.RoleInitiator, Name: mid, Transport: &jingle.Transport{Ufrag: c.ufrag, Pwd: c.pwd}})
		}
		if len(j.Contents) == 0 {
			return nil, errors.New("no candidate, a=end-of-candidates or ICE credentials in the input")
		}
		slices.SortFunc(j.Contents, func(a, b jingle.Content) int { return strings.Compare(a.Name, b.Name) })
		return j, nil
	}
	j, err := sdpxlate.CandidatesToTransportInfo(cands, opts)
	if err != nil {
		return nil, err
	}
	for i := range j.Contents {
		if c := credsOf[j.Contents[i].Name]; c != nil {
			if c.ufrag != "" {
				j.Contents[i].Transport.Ufrag = c.ufrag
			}
			if c.pwd != "" {
				j.Contents[i].Transport.Pwd = c.pwd
			}
		}
	}
	return j, nil
}
