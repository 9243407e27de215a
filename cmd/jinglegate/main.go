package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// exitError carries an exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr reports a problem with the command line or the configuration:
// exit status 2.
func usageErr(err error) error { return &exitError{code: 2, err: err} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: jinglegate <command> [flags]

commands:
  serve      run the gateway (-config jinglegate.toml)
  token      mint a browser token: jinglegate token -config F -user alice -ttl 1h
  roster     put a web user into an XMPP user's roster (XEP-0356):
             jinglegate roster add -config F -user bob@example.org -contact alice
  echo       a Jingle echo bot: jinglegate echo -jid echo@example.org (password in $JINGLEGATE_ECHO_PASSWORD)
  translate  translate SDP to Jingle or back: jinglegate translate -to jingle|sdp < input
  version    print the version

Run 'jinglegate <command> -h' for the flags of a command.
`

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "token":
		err = runToken(args[1:], stdout, stderr)
	case "roster":
		err = runRoster(args[1:], stdout, stderr)
	case "echo":
		err = runEcho(ctx, args[1:], stderr)
	case "translate":
		return runTranslate(args[1:], stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "jinglegate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && !errors.Is(ee.err, errHelp) {
			fmt.Fprintln(stderr, "jinglegate:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "jinglegate:", err)
	return 1
}

// errHelp is returned when -h was asked for: the flag package has already
// printed the usage.
var errHelp = errors.New("help requested")

func versionString() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("jinglegate %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
