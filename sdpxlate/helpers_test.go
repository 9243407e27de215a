package sdpxlate_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
)

func readJingleFile(t testing.TB, path string) *jingle.Jingle {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := jingle.Unmarshal(wrapFragment(bytes.TrimSpace(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return j
}
