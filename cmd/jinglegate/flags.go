package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/jinglegate/jinglegate/internal/config"
)

// loadConfig parses a subcommand's flags and builds its configuration from
// defaults, the -config file (or $JINGLEGATE_CONFIG), the environment and
// the flags, in that order, then validates the parts in need. extra may
// register more flags; they are parsed before it returns.
func loadConfig(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet), need ...string) (config.Config, error) {
	fs := flag.NewFlagSet("jinglegate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "TOML configuration file (env JINGLEGATE_CONFIG)")
	apply := config.Flags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, &exitError{code: 0, err: errHelp}
		}
		// The flag package has printed the problem and the usage.
		return config.Config{}, &exitError{code: 2, err: errHelp}
	}
	if fs.NArg() > 0 {
		return config.Config{}, usageErr(errors.New(name + ": unexpected argument " + fs.Arg(0)))
	}
	if *path == "" {
		*path = os.Getenv("JINGLEGATE_CONFIG")
	}
	cfg, err := config.Load(*path, nil)
	if err != nil {
		return cfg, usageErr(err)
	}
	if err := apply(&cfg); err != nil {
		return cfg, usageErr(err)
	}
	if err := cfg.Validate(need...); err != nil {
		return cfg, usageErr(err)
	}
	return cfg, nil
}

// newLogger builds the process logger from [log].
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
