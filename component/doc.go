// Package component keeps jinglegate's XEP-0114 link to an XMPP server.
//
// A Link dials the server's component port, performs the handshake with
// mellium.im/xmpp/component, serves incoming stanzas through a mux built for
// the jabber:component:accept namespace, answers disco#info, disco#items and
// XEP-0199 pings for the component's domain, pings the server to detect a
// dead link, and reconnects with exponential backoff and jitter whenever the
// link goes away. It is the only package that owns the XMPP stream: the rest
// of the gateway sends through Link.Send and receives through the
// mux.Options it registers.
//
// Handlers registered with the Link never end the stream: mellium's
// Session.Serve closes the whole session when a handler returns an error, so
// the Link wraps the mux, logs such errors, answers an unanswered get or set
// IQ with bad-request, and keeps serving.
package component
