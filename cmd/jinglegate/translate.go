package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

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
session-accept and content-accept, candidate lines for transport-info.

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
		if r == jingle.RoleUnknown && a.IsAnswer() {
			r = jingle.RoleResponder
		}
		sd, err := sdpxlate.ParseSDP(string(input))
		if err != nil {
			return fail(err)
		}
		j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{
			Action: a, Role: r, SID: *sid, Initiator: *initiator, Responder: *responder,
			MDNS: policy, OnLoss: onLoss,
		})
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
		if *action != "" || *sid != "" || *initiator != "" || *responder != "" {
			return usage("-action, -sid, -initiator and -responder only apply to -to jingle")
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
				text, err = toSDP(j, r, policy, onLoss)
			} else {
				text, err = candidateLines(j, policy, onLoss)
			}
		case jingle.ActionSessionInitiate, jingle.ActionSessionAccept, jingle.ActionContentAdd,
			jingle.ActionContentAccept, jingle.ActionUnknown:
			text, err = toSDP(j, r, policy, onLoss)
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

func toSDP(j *jingle.Jingle, r jingle.Role, policy sdpxlate.MDNSPolicy, onLoss func(sdpxlate.Loss)) (string, error) {
	sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{Role: r, MDNS: policy, OnLoss: onLoss})
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
