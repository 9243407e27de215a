package jingle_test

import (
	"fmt"

	"github.com/jinglegate/jinglegate/jingle"
)

func ExampleUnmarshal() {
	// Conversations repeats xmlns on every element; StanzaJS uses prefixes.
	// Both read the same.
	j, err := jingle.Unmarshal([]byte(`<iq type="set"><jingle sid="k" action="session-initiate" xmlns="urn:xmpp:jingle:1">
<content name="0" creator="initiator" xmlns="urn:xmpp:jingle:1">
<description media="audio" xmlns="urn:xmpp:jingle:apps:rtp:1" xmlns:fb="urn:xmpp:jingle:apps:rtp:rtcp-fb:0">
<payload-type channels="2" name="opus" clockrate="48000" id="111" xmlns="urn:xmpp:jingle:apps:rtp:1"><fb:rtcp-fb type="transport-cc"/></payload-type>
</description>
<transport pwd="88yX" ufrag="r8tL" xmlns="urn:xmpp:jingle:transports:ice-udp:1"/>
</content></jingle></iq>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := j.Contents[0]
	pt := c.Description.PayloadTypes[0]
	fmt.Println(j.Action, j.SID, c.Name, pt.Name, pt.ClockRate, pt.Channels, pt.Feedback[0].Type, c.Transport.Ufrag)
	// Output:
	// session-initiate k 0 opus 48000 2 transport-cc r8tL
}

func ExampleMarshalIndent() {
	j := &jingle.Jingle{
		Action: jingle.ActionSessionTerminate,
		SID:    "a73sjjvkla37jfea",
		Reason: &jingle.Reason{Condition: jingle.ReasonBusy},
	}
	b, _ := jingle.MarshalIndent(j, "  ")
	fmt.Println(string(b))
	// Output:
	// <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'>
	//   <reason>
	//     <busy/>
	//   </reason>
	// </jingle>
}
