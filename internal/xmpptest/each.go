package xmpptest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// ServersEnv is the environment variable that selects the servers that
// integration tests run against: a comma-separated list of kinds
// ("prosody,ejabberd"), or "none". Unset or empty selects all of them.
const ServersEnv = "JINGLEGATE_TEST_SERVERS"

// Each runs fn as one subtest per selected server kind, named after the
// kind ("prosody", "ejabberd"), each with a fresh server started by Start
// with default options. The subtests run one after the other; fn may call
// t.Parallel. Subtests are skipped when testing.Short() is set or the kind
// is not selected by JINGLEGATE_TEST_SERVERS.
func Each(t *testing.T, fn func(t *testing.T, s *Server)) {
	t.Helper()
	EachWith(t, nil, fn)
}

// EachWith is Each with options for Start.
func EachWith(t *testing.T, opts *Options, fn func(t *testing.T, s *Server)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, Start(t, kind, opts))
		})
	}
}

// Selected reports whether JINGLEGATE_TEST_SERVERS selects kind. An
// unknown name in the variable is an error.
func Selected(kind Kind) (bool, error) {
	v := strings.TrimSpace(os.Getenv(ServersEnv))
	if v == "" {
		return true, nil
	}
	var selected []Kind
	for name := range strings.SplitSeq(v, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "" || name == "none":
		case slices.Contains(Kinds, Kind(name)):
			selected = append(selected, Kind(name))
		default:
			return false, fmt.Errorf(`%s: unknown server %q (want a comma-separated list of "prosody", "ejabberd", or "none")`, ServersEnv, name)
		}
	}
	return slices.Contains(selected, kind), nil
}

func skipUnlessSelected(t testing.TB, kind Kind) {
	t.Helper()
	if testing.Short() {
		t.Skipf("xmpptest: skipping %s integration test in short mode", kind)
	}
	ok, err := Selected(kind)
	if err != nil {
		t.Fatalf("xmpptest: %v", err)
	}
	if !ok {
		t.Skipf("xmpptest: %s not selected by %s=%q", kind, ServersEnv, os.Getenv(ServersEnv))
	}
}
