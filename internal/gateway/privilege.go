package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/roster"
)

// XEP-0356 namespaces: ejabberd 23.01 speaks :1, Prosody's mod_privilege :2.
const (
	nsPrivilege1 = "urn:xmpp:privilege:1"
	nsPrivilege2 = "urn:xmpp:privilege:2"
	nsRoster     = "jabber:iq:roster"
	// AdminAudience is the aud of admin tokens (jinglegate roster …).
	AdminAudience = "jinglegate-admin"
)

// privileges records what the server granted the component (XEP-0356).
type privileges struct {
	mu     sync.Mutex
	ns     string            // the namespace it spoke; "" when nothing was granted
	access map[string]string // access -> type (roster -> both)
}

func (p *privileges) set(ns string, perms map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ns, p.access = ns, perms
}

func (p *privileges) get(access string) (ns, typ string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ns, p.access[access]
}

// privilegeMessage reads a <privilege/> advertisement from the server.
func privilegeMessage(raw []byte) (ns string, perms map[string]string, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", nil, false
		}
		se, isStart := tok.(xml.StartElement)
		if !isStart || se.Name.Local != "privilege" || (se.Name.Space != nsPrivilege1 && se.Name.Space != nsPrivilege2) {
			continue
		}
		var v struct {
			Perms []struct {
				Access string `xml:"access,attr"`
				Type   string `xml:"type,attr"`
			} `xml:"perm"`
		}
		if err := d.DecodeElement(&v, &se); err != nil {
			return "", nil, false
		}
		perms = map[string]string{}
		for _, p := range v.Perms {
			perms[p.Access] = p.Type
		}
		return se.Name.Space, perms, true
	}
}

// serverGrantsOnly passes h every message but those from a domain to the
// component's domain that do not come from the XMPP server the component
// is attached to (g.server). A privilege advertisement (XEP-0356) is such a
// message, and only that server may grant privileges: any other domain
// (another component, a remote server) could otherwise claim to. The
// bridge ignores every other message from a domain to the component's
// domain, so nothing else is lost.
func (g *Gateway) serverGrantsOnly(h xmpp.Handler) xmpp.Handler {
	return xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		var fromAttr, toAttr string
		for _, a := range start.Attr {
			switch a.Name.Local {
			case "from":
				fromAttr = a.Value
			case "to":
				toAttr = a.Value
			}
		}
		from, err1 := jid.Parse(fromAttr)
		to, err2 := jid.Parse(toAttr)
		if err1 != nil || err2 != nil || from.Localpart() != "" || !to.Equal(g.domain) || from.Equal(g.server) {
			return h.HandleXMPP(t, start)
		}
		// Dropped: read to its end, noting whether it claimed privileges.
		claims := false
		for {
			tok, err := t.Token()
			if err != nil {
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "privilege" && (se.Name.Space == nsPrivilege1 || se.Name.Space == nsPrivilege2) {
				claims = true
			}
		}
		if claims {
			g.log.Warn("privilege advertisement (XEP-0356) ignored: it does not come from the XMPP server", "from", from, "server", g.server)
		} else {
			g.log.Debug("message from a domain to the component dropped", "from", from, "server", g.server)
		}
		return nil
	})
}

// Errors of AddToXMPPRoster.
var (
	ErrNoRosterPrivilege = errors.New("the XMPP server has not granted this component roster privileges (XEP-0356): see docs/deploy.md")
	ErrNotLocalUser      = errors.New("the user must be an account of the XMPP server, not a web user")
)

// AddToXMPPRoster puts web user contact into the roster of the XMPP
// server's user (XEP-0356 privileged roster set), with a mutual
// subscription, and mirrors it in the web user's roster.
func (g *Gateway) AddToXMPPRoster(ctx context.Context, user jid.JID, contact, name string) error {
	user = user.Bare()
	if user.Localpart() == "" || user.Domainpart() == g.domain.Domainpart() {
		return ErrNotLocalUser
	}
	localpart, err := auth.Localpart(contact)
	if err != nil {
		return fmt.Errorf("contact: %w", err)
	}
	ns, typ := g.privs.get("roster")
	if ns == "" || (typ != "set" && typ != "both") {
		return ErrNoRosterPrivilege
	}
	web := g.Presence.UserJID(localpart)
	item := xml.StartElement{Name: xml.Name{Local: "item"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "jid"}, Value: web.String()},
		{Name: xml.Name{Local: "subscription"}, Value: "both"},
	}}
	if name != "" {
		item.Attr = append(item.Attr, xml.Attr{Name: xml.Name{Local: "name"}, Value: name})
	}
	payload := xmlstream.Wrap(xmlstream.Wrap(nil, item), xml.StartElement{Name: xml.Name{Space: nsRoster, Local: "query"}})
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err = g.Link.SendIQAsync(ctx, stanza.IQ{Type: stanza.SetIQ, From: g.domain, To: user}, payload, 15*time.Second, func(err error) { done <- err })
	if err != nil {
		return err
	}
	select {
	case err = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err != nil {
		var se stanza.Error
		if errors.As(err, &se) && ns == nsPrivilege1 && se.Condition == stanza.InternalServerError {
			return fmt.Errorf("the server refused the privileged roster set with internal-server-error; it speaks %s, like ejabberd 23.01, whose privileged roster set is broken (fixed in ejabberd 23.10): upgrade the server or add the contact from the client: %w", ns, err)
		}
		return fmt.Errorf("the server refused the privileged roster set: %w", err)
	}
	// Mirror it on our side: both ways subscribed.
	_, err = g.Store.Update(ctx, localpart, user.String(), func(it roster.Item) (roster.Item, error) {
		it.InRoster = true
		it.Subscription = roster.Both
		it.PendingIn, it.PendingOut, it.Approved = false, false, false
		return it, nil
	})
	if err != nil {
		return err
	}
	g.Presence.Subscribed(ctx, localpart, user)
	return nil
}

// adminRoster serves POST /admin/roster {"user","contact","name"} for
// `jinglegate roster add`, authenticated by an admin token.
func (g *Gateway) adminRoster(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, format string, args ...any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		fail(http.StatusUnauthorized, "an admin token is required")
		return
	}
	v := auth.Verifier{Secret: []byte(g.cfg.Auth.HMACSecret), Audience: AdminAudience}
	if _, err := v.Verify(tok); err != nil {
		fail(http.StatusUnauthorized, "admin token: %v", err)
		return
	}
	var req struct{ User, Contact, Name string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil {
		fail(http.StatusBadRequest, "bad request: %v", err)
		return
	}
	user, err := jid.Parse(req.User)
	if err != nil {
		fail(http.StatusBadRequest, "user: %v", err)
		return
	}
	switch err := g.AddToXMPPRoster(r.Context(), user, req.Contact, req.Name); {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	case errors.Is(err, ErrNoRosterPrivilege):
		fail(http.StatusConflict, "%v", err)
	case errors.Is(err, ErrNotLocalUser):
		fail(http.StatusBadRequest, "%v", err)
	default:
		fail(http.StatusBadGateway, "%v", err)
	}
}
