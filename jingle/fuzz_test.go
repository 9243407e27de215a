package jingle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jinglegate/jinglegate/jingle"
)

// FuzzUnmarshal checks that nothing panics and that whatever parses writes
// out and parses again to the same element.
func FuzzUnmarshal(f *testing.F) {
	for _, pattern := range []string{"../../shared/interop/*/*.xml", "../testdata/interop/*/*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	b, _ := jingle.Marshal(full())
	f.Add(b)
	for _, tc := range decodeTests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := jingle.Unmarshal(data)
		if err != nil {
			return
		}
		out, err := jingle.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		j2, err := jingle.Unmarshal(out)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("round trip changed the element:\n%s\n%+v\n%+v", out, j, j2)
		}
		out2, _ := jingle.Marshal(j2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("output is not stable:\n%s\n%s", out, out2)
		}
		if _, err := jingle.UnmarshalJMI(data); err != nil {
			return
		}
	})
}

// FuzzUnmarshalJMI does the same for XEP-0353 messages.
func FuzzUnmarshalJMI(f *testing.F) {
	for _, pattern := range []string{"../../shared/interop/jingle/*353*.xml", "../../shared/interop/jingle/*jmi*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := jingle.UnmarshalJMI(data)
		if err != nil {
			return
		}
		out, err := jingle.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := jingle.UnmarshalJMI(out)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the element:\n%s\n%+v\n%+v", out, m, m2)
		}
	})
}
