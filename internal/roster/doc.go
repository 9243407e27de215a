// Package roster keeps web users' rosters and applies RFC 6121 subscription
// semantics to them.
//
// The XMPP server keeps no roster for the component's JIDs, so jinglegate
// is the server for its domain: it stores one roster per web user (Store,
// with an embedded SQLite implementation) and decides, with the pure
// functions Outbound and Inbound, what each subscription stanza does to an
// item and which stanzas and notifications follow (RFC 6121 §3 and the state
// tables of its Appendix A).
package roster
