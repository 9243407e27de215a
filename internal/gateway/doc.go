// Package gateway assembles jinglegate: the component link, the browsers'
// WebSocket server, the presence and roster server, the store and the HTTP
// endpoints, and bridges browser messages to XMPP and back.
//
// It is the wsapi.Handler of the WebSocket server: roster and presence
// messages go to the presence Manager; call messages to the call bridge.
// Shutdown is ordered: browsers first, then unavailable presence and the
// XMPP stream, then the HTTP server.
package gateway
