package wsapi_test

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jinglegate/jinglegate/internal/wsapi"
)

type example struct {
	line int
	dir  string // c2s or s2c
	text string
}

func docExamples(t *testing.T) []example {
	t.Helper()
	f, err := os.Open("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	var cur *example
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "```json"):
			dir := strings.TrimSpace(strings.TrimPrefix(line, "```json"))
			if dir != "c2s" && dir != "s2c" {
				t.Errorf("protocol.md:%d: json example not marked c2s or s2c", n)
			}
			cur = &example{line: n, dir: dir}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocExamples validates every example of docs/protocol.md against the
// schema, runs the client ones through the server's parser, and checks that
// every message type has an example.
func TestDocExamples(t *testing.T) {
	seen := map[string]bool{}
	for _, ex := range docExamples(t) {
		def := map[string]string{"c2s": "clientMessage", "s2c": "serverMessage"}[ex.dir]
		if err := validate(def, []byte(ex.text)); err != nil {
			t.Errorf("protocol.md:%d: %v", ex.line, err)
			continue
		}
		var m struct{ Type string }
		if err := json.Unmarshal([]byte(ex.text), &m); err != nil {
			t.Fatal(err)
		}
		seen[ex.dir+" "+m.Type] = true
		if ex.dir == "c2s" {
			if _, err := wsapi.ParseClientMessage([]byte(strings.TrimSpace(ex.text))); err != nil {
				t.Errorf("protocol.md:%d: the server refuses the example: %v", ex.line, err)
			}
		}
	}
	for _, typ := range wsapi.ClientTypes() {
		if !seen["c2s "+typ] {
			t.Errorf("protocol.md has no c2s example of %s", typ)
		}
	}
	for _, typ := range wsapi.ServerTypes() {
		if !seen["s2c "+typ] {
			t.Errorf("protocol.md has no s2c example of %s", typ)
		}
	}
}

// TestSchemaMatchesCode checks that the schema and the package agree on the
// message types, error codes and reasons.
func TestSchemaMatchesCode(t *testing.T) {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			OneOf []struct {
				Ref string `json:"$ref"`
			} `json:"oneOf"`
			Enum       []string `json:"enum"`
			Properties map[string]struct {
				Const string `json:"const"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	types := func(def string) []string {
		var out []string
		for _, r := range s.Defs[def].OneOf {
			name := strings.TrimPrefix(r.Ref, "#/$defs/")
			out = append(out, s.Defs[name].Properties["type"].Const)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v []string) []string { v = slices.Clone(v); slices.Sort(v); return v }
	if got, want := types("clientMessage"), sorted(wsapi.ClientTypes()); !slices.Equal(got, want) {
		t.Errorf("schema client types %v, code %v", got, want)
	}
	if got, want := types("serverMessage"), sorted(wsapi.ServerTypes()); !slices.Equal(got, want) {
		t.Errorf("schema server types %v, code %v", got, want)
	}
	var codes []string
	for _, c := range wsapi.Codes {
		codes = append(codes, string(c))
	}
	if got := s.Defs["code"].Enum; !slices.Equal(sorted(got), sorted(codes)) {
		t.Errorf("schema codes %v, code %v", got, codes)
	}
	if got := s.Defs["reason"].Enum; !slices.Equal(sorted(got), sorted(wsapi.Reasons)) {
		t.Errorf("schema reasons %v, code %v", got, wsapi.Reasons)
	}
	// Every code is documented in protocol.md's table.
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(string(doc), "| `"+c+"` |") {
			t.Errorf("protocol.md does not document %s", c)
		}
	}
}

// TestSchemaRejects makes sure the schema is not vacuous.
func TestSchemaRejects(t *testing.T) {
	for _, tc := range []struct{ def, msg string }{
		{"clientMessage", `{"type":"nonsense"}`},
		{"clientMessage", `{"type":"offer","sid":"x"}`},
		{"clientMessage", `{"type":"ping","from":"a@b"}`},
		{"clientMessage", `{"type":"roster","from":"a@b"}`},
		{"clientMessage", `{"type":"call","to":"bob@example.org","media":["audio","audio"]}`},
		{"serverMessage", `{"type":"ringing","sid":"x"}`},
		{"serverMessage", `{"type":"ringing","seq":1,"sid":"x","extra":1}`},
		{"serverMessage", `{"type":"error","seq":1,"code":"nope","message":"x"}`},
		{"serverMessage", `{"type":"hangup","seq":1,"sid":"x","reason":"because"}`},
	} {
		if validate(tc.def, []byte(tc.msg)) == nil {
			t.Errorf("%s accepts %s", tc.def, tc.msg)
		}
	}
}
