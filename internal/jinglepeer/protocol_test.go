package jinglepeer_test

import (
	"crypto/sha1"
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"mellium.im/xmpp/disco"

	"github.com/jinglegate/jinglegate/internal/jinglepeer"
	"github.com/jinglegate/jinglegate/internal/xmpptest"
	"github.com/jinglegate/jinglegate/jingle"
)

// testPresenceDisco: the peer's presence carries XEP-0115 caps whose ver
// is the hash of its disco#info; it answers disco#info for its JID and its
// node#ver, pings, and fetches its roster. NoJMI drops JMI from the
// features.
func testPresenceDisco(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	// Another resource of alice sees the peer's initial presence, and
	// puts carol in the roster before the peer fetches it.
	aliceRaw, aliceIn := rawSession(t, s, "alice")
	sendIQ(ctx, t, aliceRaw, `<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='carol@`+s.Domain+`' name='Carol'/></query></iq>`)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	caps := alice.Caps()
	pres := receive(ctx, t, aliceIn, "<presence", `from="`+alice.JID().String()+`"`)
	for _, want := range []string{`xmlns="http://jabber.org/protocol/caps"`, `node="` + caps.Node + `"`, `ver="` + caps.Ver + `"`, `hash="sha-1"`} {
		if !strings.Contains(pres, want) {
			t.Errorf("presence lacks %s: %s", want, pres)
		}
	}
	roster := alice.Roster()
	if len(roster) != 1 || roster[0].JID.String() != "carol@"+s.Domain || roster[0].Name != "Carol" {
		t.Errorf("roster %+v, want carol", roster)
	}

	carol, _ := rawSession(t, s, "carol")
	to := alice.JID().String()
	if got := sendIQ(ctx, t, carol, `<iq type='get' to='`+to+`' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); !strings.Contains(got, `type="result"`) {
		t.Errorf("ping answered with %s", got)
	}
	want := []string{
		jingle.NS, jingle.NSRTP, jingle.NSRTPAudio, jingle.NSRTPVideo, jingle.NSICEUDP, jingle.NSDTLS,
		jingle.NSJMI, jingle.NSGrouping, jingle.NSRTCPFB, jingle.NSRTPHdrExt,
	}
	for _, node := range []string{"", caps.Node + "#" + caps.Ver} {
		attr := ""
		if node != "" {
			attr = ` node='` + node + `'`
		}
		got := sendIQ(ctx, t, carol, `<iq type='get' to='`+to+`' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'`+attr+`/></iq>`)
		info := parseDiscoInfo(t, got)
		var features []string
		for _, f := range info.Features {
			features = append(features, f.Var)
		}
		for _, f := range want {
			if !slices.Contains(features, f) {
				t.Errorf("disco#info (node %q) lacks %s: %s", node, f, got)
			}
		}
		if ver := info.Hash(sha1.New()); ver != caps.Ver {
			t.Errorf("disco#info (node %q) hashes to %s, caps say %s", node, ver, caps.Ver)
		}
	}
	if got := sendIQ(ctx, t, carol, `<iq type='get' to='`+to+`' id='d2'><query xmlns='http://jabber.org/protocol/disco#info' node='urn:other#x'/></iq>`); !strings.Contains(got, "item-not-found") {
		t.Errorf("disco#info of an unknown node answered with %s", got)
	}

	dave := startPeer(t, s, "dave", jinglepeer.Config{NoJMI: true})
	if slices.Contains(dave.Features(), jingle.NSJMI) || dave.Caps().Ver == caps.Ver {
		t.Errorf("NoJMI peer advertises %v (ver %s)", dave.Features(), dave.Caps().Ver)
	}
	got := sendIQ(ctx, t, carol, `<iq type='get' to='`+dave.JID().String()+`' id='d3'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if strings.Contains(got, jingle.NSJMI) || !strings.Contains(got, jingle.NSRTP) {
		t.Errorf("NoJMI disco#info: %s", got)
	}
}

func parseDiscoInfo(t *testing.T, iq string) disco.Info {
	t.Helper()
	var v struct {
		Info disco.Info `xml:"http://jabber.org/protocol/disco#info query"`
	}
	if err := xml.Unmarshal([]byte(iq), &v); err != nil {
		t.Fatalf("disco#info answer %s: %v", iq, err)
	}
	return v.Info
}

// testErrors: carol, a raw client, sends Jingle IQs by hand; every one is
// acknowledged or answered with the right error.
func testErrors(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	carol, carolIn := rawSession(t, s, "carol")
	dave, _ := rawSession(t, s, "dave")
	to := alice.JID().String()
	from := carol.LocalAddr().String()
	iq := func(id, jingleXML string) string {
		return `<iq type='set' to='` + to + `' id='` + id + `'>` + jingleXML + `</iq>`
	}
	expect := func(what, got string, subs ...string) {
		t.Helper()
		for _, sub := range subs {
			if !strings.Contains(got, sub) {
				t.Errorf("%s: answer lacks %q: %s", what, sub, got)
			}
		}
	}
	const ns = `xmlns='urn:xmpp:jingle:1'`
	const unknownSession = `<unknown-session xmlns="urn:xmpp:jingle:errors:1"`

	got := sendIQ(ctx, t, carol, iq("e1", `<jingle `+ns+` action='transport-info' sid='nope'/>`))
	expect("unknown sid", got, `type="error"`, "<item-not-found", unknownSession)
	got = sendIQ(ctx, t, carol, iq("e2", `<jingle `+ns+` action='transport-info'/>`))
	expect("no sid", got, `type="error"`, "<bad-request")
	got = sendIQ(ctx, t, carol, iq("e3", `<jingle `+ns+` action='transport-info' sid='x'><content name='a'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='x'/></transport></content></jingle>`))
	expect("malformed candidate", got, `type="error"`, "<bad-request")
	got = sendIQ(ctx, t, carol, iq("e4", `<jingle `+ns+` action='fly-away' sid='nope'/>`))
	expect("unknown action", got, `type="error"`, "<feature-not-implemented")
	got = sendIQ(ctx, t, carol, `<iq type='get' to='`+to+`' id='e5'><query xmlns='urn:example:unknown'/></iq>`)
	expect("unknown IQ", got, `type="error"`, "<service-unavailable")

	// A session-initiate rings (the peer neither accepts nor rejects).
	got = sendIQ(ctx, t, carol, iq("i1", `<jingle `+ns+` action='session-initiate' initiator='`+from+`' sid='s1'>
<content creator='initiator' name='0' senders='both'>
<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/></description>
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='0123456789abcdefghijklmn'>
<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39</fingerprint>
</transport></content></jingle>`))
	expect("session-initiate", got, `type="result"`)
	c := incoming(ctx, t, alice)
	if c.SID() != "s1" || c.State() != jingle.StatePending || c.JMI() || c.Outgoing() {
		t.Fatalf("incoming call %s in state %s", c.SID(), c.State())
	}
	receive(ctx, t, carolIn, "session-info", `<ringing xmlns="urn:xmpp:jingle:apps:rtp:info:1"`)

	got = sendIQ(ctx, t, carol, iq("i2", `<jingle `+ns+` action='session-info' sid='s1'><bounce xmlns='urn:example:info'/></jingle>`))
	expect("unknown session-info", got, `type="error"`, "<feature-not-implemented", `<unsupported-info xmlns="urn:xmpp:jingle:errors:1"`)
	got = sendIQ(ctx, t, carol, iq("i3", `<jingle `+ns+` action='session-info' sid='s1'><mute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='initiator' name='0'/></jingle>`))
	expect("mute", got, `type="result"`)
	if e := wait(ctx, t, c, jinglepeer.EventInfo); e.Info != jingle.InfoMute {
		t.Errorf("info event %v, want mute", e)
	}
	got = sendIQ(ctx, t, carol, iq("i4", `<jingle `+ns+` action='session-info' sid='s1'/>`))
	expect("empty session-info", got, `type="result"`)
	got = sendIQ(ctx, t, carol, iq("i5", `<jingle `+ns+` action='session-accept' sid='s1'/>`))
	expect("session-accept from the initiator", got, `type="error"`, "<unexpected-request", `<out-of-order xmlns="urn:xmpp:jingle:errors:1"`)
	got = sendIQ(ctx, t, carol, iq("i6", `<jingle `+ns+` action='content-accept' sid='s1'/>`))
	expect("content-accept without content-add", got, `type="error"`, "<out-of-order")
	got = sendIQ(ctx, t, carol, iq("i7", `<jingle `+ns+` action='session-initiate' initiator='`+from+`' sid='s1'/>`))
	expect("second session-initiate", got, `type="error"`, "<out-of-order")
	got = sendIQ(ctx, t, dave, iq("i8", `<jingle `+ns+` action='transport-info' sid='s1'/>`))
	expect("transport-info from another JID", got, `type="error"`, unknownSession)
	got = sendIQ(ctx, t, carol, iq("i9", `<jingle `+ns+` action='session-terminate' sid='s1'><reason><decline/></reason></jingle>`))
	expect("session-terminate", got, `type="result"`)
	terminated(ctx, t, c, jingle.ReasonDecline, false)
	got = sendIQ(ctx, t, carol, iq("i10", `<jingle `+ns+` action='transport-info' sid='s1'/>`))
	expect("transport-info after the end", got, `type="error"`, unknownSession)

	// The peer's log has each answer, with its condition.
	conds := map[string]string{}
	for _, st := range alice.Stanzas() {
		if st.Dir == jinglepeer.Out && st.IsError() {
			conds[st.ID] = st.Condition
		}
	}
	for id, want := range map[string]string{"e1": "unknown-session", "i2": "unsupported-info", "i5": "out-of-order", "i8": "unknown-session", "i10": "unknown-session", "e2": "bad-request"} {
		if conds[id] != want {
			t.Errorf("logged condition of the answer to %s is %q, want %q", id, conds[id], want)
		}
	}
}

// testRawSession: carol, a raw client, runs a session with the peer by
// hand: the peer accepts, answers content-add with content-accept, follows
// content-modify and content-remove, answers an ICE restart with its own
// credentials, answers a content-add that crosses its own with tie-break,
// takes a content-reject and refuses transport-replace.
func testRawSession(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{})
	carol, carolIn := rawSession(t, s, "carol")
	to := alice.JID().String()
	from := carol.LocalAddr().String()
	const ns = `xmlns='urn:xmpp:jingle:1'`
	const fp = `<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39</fingerprint>`
	transport := func(ufrag, pwd string) string {
		return `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='` + ufrag + `' pwd='` + pwd + `'>` + fp + `</transport>`
	}
	audio := `<content creator='initiator' name='0' senders='both'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>` +
		`<payload-type id='111' name='opus' clockrate='48000' channels='2'/><rtcp-mux/></description>` + transport("abcd", "0123456789abcdefghijklmn") + `</content>`
	video := `<content creator='initiator' name='1' senders='both'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>` +
		`<payload-type id='96' name='VP8' clockrate='90000'/><rtcp-mux/></description>` + transport("abcd", "0123456789abcdefghijklmn") + `</content>`
	group := func(names ...string) string {
		g := `<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>`
		for _, n := range names {
			g += `<content name='` + n + `'/>`
		}
		return g + `</group>`
	}
	send := func(id, body string) {
		t.Helper()
		got := sendIQ(ctx, t, carol, `<iq type='set' to='`+to+`' id='`+id+`'><jingle `+ns+` sid='r1' `+body+`</jingle></iq>`)
		if !strings.Contains(got, `type="result"`) {
			t.Fatalf("%s: answered with %s", id, got)
		}
	}

	send("a1", `action='session-initiate' initiator='`+from+`'>`+audio+group("0"))
	c := incoming(ctx, t, alice)
	if err := c.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	receive(ctx, t, carolIn, `action="session-accept"`, `responder="`+to+`"`)
	if c.State() != jingle.StateActive {
		t.Fatalf("state %s after session-accept", c.State())
	}

	send("a2", `action='content-add'>`+video+group("0", "1"))
	acc := receive(ctx, t, carolIn, `action="content-accept"`)
	for _, want := range []string{`name="1"`, `media="video"`, `creator="initiator"`} {
		if !strings.Contains(acc, want) {
			t.Errorf("content-accept lacks %s: %s", want, acc)
		}
	}
	if j, err := jingle.Unmarshal([]byte(acc)); err != nil || len(j.Contents) != 1 {
		t.Errorf("content-accept should carry only the added content (err %v): %s", err, acc)
	}
	wait(ctx, t, c, jinglepeer.EventContentAccept)

	send("a3", `action='content-modify'><content creator='initiator' name='1' senders='initiator'/>`)
	wait(ctx, t, c, jinglepeer.EventContentModify)
	if sec := section(c.LocalSDP(), "1"); !strings.Contains(sec, "a=recvonly") {
		t.Errorf("after content-modify senders=initiator, alice's video section is not recvonly:\n%s", c.LocalSDP())
	}

	oldUfrag := ufrag(c.LocalSDP())
	send("a4", `action='transport-info'><content creator='initiator' name='0'>`+transport("efgh", "9876543210abcdefghijklmn")+`</content><content creator='initiator' name='1'>`+transport("efgh", "9876543210abcdefghijklmn")+`</content>`)
	ti := receive(ctx, t, carolIn, `action="transport-info"`, `pwd="`)
	if newUfrag := ufrag(c.LocalSDP()); newUfrag == oldUfrag || !strings.Contains(ti, `ufrag="`+newUfrag+`"`) {
		t.Errorf("ICE restart answered with %s (ufrag was %s, is %s)", ti, oldUfrag, newUfrag)
	}

	send("a5", `action='content-remove'><content creator='initiator' name='1'/>`)
	wait(ctx, t, c, jinglepeer.EventContentRemove)
	if sec := section(c.RemoteSDP(), "1"); !strings.HasPrefix(sec, "m=video 0 ") {
		t.Errorf("removed content still active in the remote description:\n%s", sec)
	}

	// Glare: alice adds video while carol adds video too: carol's
	// content-add meets tie-break; carol then rejects alice's.
	if err := c.AddMedia(ctx, jinglepeer.MediaVideo); err != nil {
		t.Fatal(err)
	}
	add := receive(ctx, t, carolIn, `action="content-add"`)
	j, err := jingle.Unmarshal([]byte(add))
	if err != nil || len(j.Contents) != 1 || j.Contents[0].Creator != jingle.RoleResponder {
		t.Fatalf("alice's content-add (err %v): %s", err, add)
	}
	video2 := strings.ReplaceAll(video, "name='1'", "name='v2'")
	got := sendIQ(ctx, t, carol, `<iq type='set' to='`+to+`' id='a5b'><jingle `+ns+` sid='r1' action='content-add'>`+video2+`</jingle></iq>`)
	if !strings.Contains(got, `<tie-break xmlns="urn:xmpp:jingle:errors:1"`) || !strings.Contains(got, "<conflict") {
		t.Errorf("content-add during alice's content-add answered with %s", got)
	}
	send("a5c", `action='content-reject'><content creator='responder' name='`+j.Contents[0].Name+`'/><reason><decline/></reason>`)
	if e := wait(ctx, t, c, jinglepeer.EventContentReject); e.Reason != jingle.ReasonDecline || e.Local {
		t.Errorf("content-reject event %v", e)
	}
	// The withdrawn offer leaves the session able to negotiate again.
	video3 := strings.ReplaceAll(video, "name='1'", "name='v3'")
	send("a5d", `action='content-add'>`+video3+group("0", "v3"))
	receive(ctx, t, carolIn, `action="content-accept"`, `name="v3"`)
	if _, err := c.WaitCount(ctx, jinglepeer.EventContentAccept, 2); err != nil {
		t.Fatal(err)
	}

	send("a6", `action='transport-replace'><content creator='initiator' name='0'><transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'/></content>`)
	receive(ctx, t, carolIn, `action="transport-reject"`)

	send("a7", `action='session-terminate'><reason><success/></reason>`)
	terminated(ctx, t, c, jingle.ReasonSuccess, false)
}

// section returns the m-section of an SDP with the given mid.
func section(sdp, mid string) string {
	for _, sec := range strings.Split(sdp, "\r\nm=")[1:] {
		if strings.Contains(sec, "\r\na=mid:"+mid+"\r\n") {
			return "m=" + sec
		}
	}
	return ""
}

// testLongNames: contents named the XEP way ("this-is-the-audio-content")
// cannot be SDP mids for pion or browsers; the peer maps them and still
// talks about them by name.
func testLongNames(t *testing.T, s *xmpptest.Server) {
	ctx := withTimeout(t, scenarioTimeout)
	alice := startPeer(t, s, "alice", jinglepeer.Config{AutoAccept: true})
	carol, carolIn := rawSession(t, s, "carol")
	to := alice.JID().String()
	const name = "this-is-the-audio-content"
	transport := func(ufrag, pwd, inner string) string {
		return `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='` + ufrag + `' pwd='` + pwd + `'>` +
			`<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39</fingerprint>` +
			inner + `</transport>`
	}
	send := func(id, body string) {
		t.Helper()
		got := sendIQ(ctx, t, carol, `<iq type='set' to='`+to+`' id='`+id+`'><jingle xmlns='urn:xmpp:jingle:1' sid='ln1' `+body+`</jingle></iq>`)
		if !strings.Contains(got, `type="result"`) {
			t.Fatalf("%s: answered with %s", id, got)
		}
	}
	send("l1", `action='session-initiate' initiator='`+carol.LocalAddr().String()+`'><content creator='initiator' name='`+name+`' senders='both'>`+
		`<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/><rtcp-mux/></description>`+
		transport("abcd", "0123456789abcdefghijklmn", "")+`</content>`)
	c := incoming(ctx, t, alice)
	if _, err := c.Wait(ctx, jinglepeer.EventAccepted); err != nil {
		t.Fatalf("%v\nremote:\n%s\nlocal:\n%s", err, c.RemoteSDP(), c.LocalSDP())
	}
	receive(ctx, t, carolIn, `action="session-accept"`, `name="`+name+`"`)
	receive(ctx, t, carolIn, `action="transport-info"`, `name="`+name+`"`, "<candidate")
	send("l2", `action='transport-info'><content creator='initiator' name='`+name+`'>`+
		transport("abcd", "0123456789abcdefghijklmn", `<candidate component='1' foundation='1' generation='0' id='c1' ip='127.0.0.1' network='0' port='9' priority='2130706431' protocol='udp' type='host'/>`)+`</content>`)
	send("l3", `action='transport-info'><content creator='initiator' name='`+name+`'>`+transport("efgh", "9876543210abcdefghijklmn", "")+`</content>`)
	receive(ctx, t, carolIn, `action="transport-info"`, `name="`+name+`"`, `pwd="`)
	if _, err := c.Wait(ctx, jinglepeer.EventICERestart); err != nil {
		t.Fatal(err)
	}
	if got := c.RemoteCandidates(); len(got) != 1 || !strings.Contains(got[0], "127.0.0.1 9 typ host") {
		t.Errorf("remote candidates %q, want carol's one", got)
	}
	if err := c.Hangup(ctx, jingle.ReasonUnknown); err != nil {
		t.Fatal(err)
	}
	receive(ctx, t, carolIn, `action="session-terminate"`)
}
