// Package config loads jinglegate's configuration.
//
// Every key lives in a TOML file (see jinglegate.example.toml at the
// repository root) and can also be set by an environment variable and by a
// command-line flag. The name of each is derived from the TOML key:
//
//	[xmpp] secret   →   JINGLEGATE_XMPP_SECRET   →   -xmpp.secret
//
// Precedence, lowest first: built-in defaults, the file, the environment,
// the flags. Validate reports the first problem as an *Error that names the
// key, so that a command can print one clear line and exit with status 2.
package config
