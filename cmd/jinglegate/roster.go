package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jinglegate/jinglegate/internal/auth"
	"github.com/jinglegate/jinglegate/internal/gateway"
)

// runRoster: `jinglegate roster add -user bob@example.org -contact alice`
// asks the running gateway to put web user alice into bob's roster on the
// XMPP server (XEP-0356 privileged entity).
func runRoster(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr(errors.New("roster: usage: jinglegate roster add -config F -user bob@example.org -contact alice [-name Alice]"))
	}
	var user, contact, name, gw string
	cfg, err := loadConfig("roster add", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "the XMPP server's user whose roster gets the contact (bob@example.org)")
		fs.StringVar(&contact, "contact", "", "the web user's localpart (alice)")
		fs.StringVar(&name, "name", "", "the name the contact gets in the roster")
		fs.StringVar(&gw, "gateway", "", "the gateway's base URL (default: http://[http] listen)")
	}, "auth")
	if err != nil {
		return err
	}
	if user == "" || contact == "" {
		return usageErr(errors.New("roster add: -user and -contact are required"))
	}
	if gw == "" {
		host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
		if err != nil {
			return usageErr(fmt.Errorf("http.listen: %v", err))
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		gw = "http://" + net.JoinHostPort(host, port)
	}
	tok, err := auth.Mint([]byte(cfg.Auth.HMACSecret), "admin", 5*time.Minute, auth.WithAudience(gateway.AdminAudience))
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"user": user, "contact": contact, "name": name})
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(gw, "/")+"/admin/roster", bytes.NewReader(body))
	if err != nil {
		return usageErr(fmt.Errorf("-gateway: %v", err))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("roster add: is the gateway running? %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		if out.Error == "" {
			out.Error = resp.Status
		}
		return fmt.Errorf("roster add: %s", out.Error)
	}
	fmt.Fprintf(stdout, "%s@%s is now in %s's roster (subscription both)\n", contact, cfg.XMPP.Domain, user)
	return nil
}
