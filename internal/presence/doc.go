// Package presence makes jinglegate the presence and roster server of its
// component domain (RFC 6121), the way well-behaved gateway components are:
// the XMPP server keeps no roster for the component's JIDs, so this package
// does.
//
// It sends web users' presence (with XEP-0115 caps) to their contacts as
// tabs come and go, answers probes, applies subscription stanzas in both
// directions with the roster package's RFC 6121 state tables, tracks the
// presence and the capabilities (disco#info, cached by caps hash) of every
// contact's resources, answers disco#info for web users' JIDs and caps node,
// and serves the browser's roster and presence messages.
//
// Stanza handlers run inside mellium's Serve loop, which must not send:
// they decode, then queue the work on the Manager's worker goroutine.
package presence
