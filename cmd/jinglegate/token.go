package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jinglegate/jinglegate/internal/auth"
)

// runToken mints a browser token for a web user from [auth] hmac_secret.
func runToken(args []string, stdout, stderr io.Writer) error {
	var user, name, aud string
	var ttl time.Duration
	cfg, err := loadConfig("token", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "the web user's localpart (the token's sub)")
		fs.StringVar(&name, "name", "", "optional display name")
		fs.StringVar(&aud, "aud", "", "audience (default: [auth] audience)")
		fs.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	}, "auth")
	if err != nil {
		return err
	}
	if user == "" {
		return usageErr(errors.New("token: -user is required"))
	}
	if ttl <= 0 {
		return usageErr(fmt.Errorf("token: -ttl must be positive, got %s", ttl))
	}
	if aud == "" {
		aud = cfg.Auth.Audience
	}
	opts := []auth.MintOption{}
	if name != "" {
		opts = append(opts, auth.WithName(name))
	}
	if aud != "" {
		opts = append(opts, auth.WithAudience(aud))
	}
	tok, err := auth.Mint([]byte(cfg.Auth.HMACSecret), user, ttl, opts...)
	if err != nil {
		return usageErr(fmt.Errorf("token: %w", err))
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
