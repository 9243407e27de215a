package sdpxlate_test

import (
	"fmt"
	"strings"

	"github.com/jinglegate/jinglegate/jingle"
	"github.com/jinglegate/jinglegate/sdpxlate"
)

func ExampleSDPToJingle() {
	sd, err := sdpxlate.ParseSDP("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"a=group:BUNDLE 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" +
		"a=ice-ufrag:F7gI\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n" +
		"a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\r\n" +
		"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n" +
		"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
		"a=rid:hi send\r\n")
	if err != nil {
		fmt.Println(err)
		return
	}
	j, err := sdpxlate.SDPToJingle(sd, sdpxlate.ToJingleOptions{
		SID:       "a73sjjvkla37jfea",
		Initiator: "romeo@montague.lit/orchard",
		OnLoss:    func(l sdpxlate.Loss) { fmt.Println("dropped:", l) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := jingle.MarshalIndent(j, "  ")
	fmt.Println(string(b))
	// Output:
	// dropped: m-section 1 (mid "0"): a=rid:hi send: no Jingle equivalent
	// <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>
	//   <content creator='initiator' name='0' senders='both'>
	//     <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' profile='UDP/TLS/RTP/SAVPF'>
	//       <payload-type id='111' name='opus' clockrate='48000' channels='2'>
	//         <parameter name='minptime' value='10'/>
	//         <parameter name='useinbandfec' value='1'/>
	//       </payload-type>
	//       <rtcp-mux/>
	//     </description>
	//     <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='F7gI' pwd='x9cml/YzichV2+XlhiMu8g'>
	//       <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39</fingerprint>
	//     </transport>
	//   </content>
	//   <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>
	//     <content name='0'/>
	//   </group>
	// </jingle>
}

func ExampleJingleToSDP() {
	j, err := jingle.Unmarshal([]byte(`<jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='a73sjjvkla37jfea'>
  <content creator='initiator' name='voice' senders='both'>
    <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
      <payload-type id='0' name='PCMU' clockrate='8000'/>
    </description>
    <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='YH75Fviy6338Vbrhrlp8Yh' ufrag='9uB6'>
      <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>BD:E8:2C:D3</fingerprint>
      <candidate component='1' foundation='1' generation='0' id='or2ii2syr1' ip='192.0.2.1' network='0' port='3478' priority='2130706431' protocol='udp' type='host'/>
    </transport>
  </content>
</jingle>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The XEP-0167 example has no <rtcp-mux/>; browsers require it, so it
	// is added (and reported to OnLoss).
	sd, err := sdpxlate.JingleToSDP(j, sdpxlate.ToSDPOptions{SessionID: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	text, _ := sdpxlate.MarshalSDP(sd)
	fmt.Print(strings.ReplaceAll(text, "\r\n", "\n")) // CRLF for browsers; LF here for the example

	// Output:
	// v=0
	// o=- 1 2 IN IP4 0.0.0.0
	// s=-
	// t=0 0
	// m=audio 9 UDP/TLS/RTP/SAVPF 0
	// c=IN IP4 0.0.0.0
	// a=candidate:1 1 udp 2130706431 192.0.2.1 3478 typ host generation 0
	// a=ice-ufrag:9uB6
	// a=ice-pwd:YH75Fviy6338Vbrhrlp8Yh
	// a=fingerprint:sha-256 BD:E8:2C:D3
	// a=setup:active
	// a=mid:voice
	// a=sendrecv
	// a=rtcp-mux
	// a=rtpmap:0 PCMU/8000
}

func ExampleCandidateToJingle() {
	// A candidate from the browser's onicecandidate, trickled to the peer.
	j, err := sdpxlate.CandidateToJingle(
		"candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 ufrag 8hhy network-id 1",
		"0", sdpxlate.TransportInfoOptions{SID: "a73sjjvkla37jfea"})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := jingle.Marshal(j)
	fmt.Println(string(b))
	// Output:
	// <jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='a73sjjvkla37jfea'><content creator='initiator' name='0'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8hhy'><candidate component='1' foundation='1467250027' generation='0' id='2jjc3kp9wuk55' ip='192.168.0.196' network='1' port='46243' priority='2122260223' protocol='udp' type='host'/></transport></content></jingle>
}
