// Command jinglegate is a gateway between WebRTC in web browsers and Jingle
// calls in XMPP. It runs as an XEP-0114 component of an existing Prosody or
// ejabberd server.
//
// Usage:
//
//	jinglegate serve -config jinglegate.toml     run the gateway
//	jinglegate token -config F -user alice -ttl 1h   mint a browser token
//	jinglegate translate -to jingle|sdp < input  translate SDP ⇄ Jingle
//	jinglegate version                           print the version
//
// Every configuration key can be set in the TOML file, by an environment
// variable (JINGLEGATE_XMPP_SECRET for [xmpp] secret) or by a flag
// (-xmpp.secret). A bad configuration is reported on one line naming the
// key, with exit status 2.
package main
