package web

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"
)

// want is every asset with its content type.
var want = map[string]string{
	"/":                "text/html; charset=utf-8",
	"/jinglegate.js":   "text/javascript; charset=utf-8",
	"/jinglegate.d.ts": "application/typescript; charset=utf-8",
	"/demo.js":         "text/javascript; charset=utf-8",
	"/demo.css":        "text/css; charset=utf-8",
	"/favicon.svg":     "image/svg+xml",
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPaths(t *testing.T) {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := Paths(); !slices.Equal(got, keys) {
		t.Fatalf("Paths() = %v, want %v", got, keys)
	}
}

func TestEveryAsset(t *testing.T) {
	h := Handler()
	for p, ct := range want {
		t.Run(p, func(t *testing.T) {
			w := get(t, h, "GET", p, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", p, w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != ct {
				t.Errorf("Content-Type = %q, want %q", got, ct)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			etag := w.Header().Get("ETag")
			if v := Version(p); v == "" || etag != `"`+v+`"` {
				t.Errorf("ETag = %q, Version = %q", etag, Version(p))
			}
			if w.Body.Len() == 0 {
				t.Error("empty body")
			}
			if w.Header().Get("Last-Modified") != "" {
				t.Error("Last-Modified set: the ETag is the validator")
			}

			// Revalidation.
			w = get(t, h, "GET", p, map[string]string{"If-None-Match": etag})
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
				t.Errorf("If-None-Match: %d with %d bytes, want 304", w.Code, w.Body.Len())
			}
			// HEAD.
			w = get(t, h, "HEAD", p, nil)
			if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Type") != ct {
				t.Errorf("HEAD: %d, %d bytes, %q", w.Code, w.Body.Len(), w.Header().Get("Content-Type"))
			}
			// Versioned URLs are immutable; stale versions are not.
			w = get(t, h, "GET", p+"?v="+Version(p), nil)
			if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("?v=current: Cache-Control = %q", got)
			}
			w = get(t, h, "GET", p+"?v=0123456789abcdef", nil)
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("?v=stale: Cache-Control = %q", got)
			}
			// Only GET and HEAD.
			w = get(t, h, "POST", p, nil)
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("POST: %d, Allow %q", w.Code, w.Header().Get("Allow"))
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	h := Handler()
	w := get(t, h, "GET", "/", nil)
	if got := w.Header().Get("Content-Security-Policy"); got != CSP {
		t.Errorf("CSP = %q", got)
	}
	for _, k := range []string{"Referrer-Policy", "X-Frame-Options", "Permissions-Policy", "Cross-Origin-Opener-Policy"} {
		if w.Header().Get(k) == "" {
			t.Errorf("the page has no %s", k)
		}
	}
	for _, p := range []string{"/jinglegate.js", "/jinglegate.d.ts"} {
		w := get(t, h, "GET", p, nil)
		if w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s cannot be imported from other origins", p)
		}
		if w.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("%s has a CSP", p)
		}
	}
	w = get(t, h, "GET", "/demo.js", nil)
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("the demo's script is shared with other origins")
	}
	// Ranges work (ServeContent).
	w = get(t, h, "GET", "/jinglegate.js", map[string]string{"Range": "bytes=0-9"})
	if w.Code != http.StatusPartialContent || w.Body.Len() != 10 {
		t.Errorf("Range: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestNotFound(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/index.html", "/nope.js", "/ws", "/demo/token", "/web.go", "/jinglegate.js/", "/../web.go", "/%2e%2e/web.go"} {
		w := get(t, h, "GET", p, nil)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
}

// The embedded files are the files of this directory (go:embed lists them
// by name: a new asset must be added there).
func TestEmbeddedMatchDisk(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasSuffix(n, ".go") {
			continue
		}
		if _, err := fs.Stat(embedded, n); err != nil {
			t.Errorf("%s is in web/ but not embedded", n)
		}
	}
}

// page returns the served index.html.
func page(t *testing.T) []byte {
	t.Helper()
	w := get(t, Handler(), "GET", "/", nil)
	return w.Body.Bytes()
}

// TestPageLocalOnly: the page references only assets the handler serves
// (no CDN, no web font, no other origin), through versioned URLs, and has
// no inline script or style that its CSP would block.
func TestPageLocalOnly(t *testing.T) {
	z := html.NewTokenizer(bytes.NewReader(page(t)))
	refs := 0
	inScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if tok.Data == "script" {
				inScript = true
			}
			for _, a := range tok.Attr {
				switch {
				case a.Key == "style":
					t.Errorf("<%s style=…>: inline styles are blocked by the CSP", tok.Data)
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s %s=…>: inline handlers are blocked by the CSP", tok.Data, a.Key)
				case a.Key == "src" || (a.Key == "href" && tok.Data != "a") || a.Key == "srcset" || a.Key == "poster" || a.Key == "action":
					refs++
					checkLocalRef(t, tok.Data, a.Key, a.Val)
				}
			}
			if tok.Data == "script" {
				if src := attr(tok, "src"); src == "" {
					t.Error("an inline <script>: blocked by the CSP")
				} else if attr(tok, "type") != "module" {
					t.Errorf("<script src=%q> is not a module", src)
				}
			}
			if tok.Data == "style" {
				t.Error("an inline <style>: blocked by the CSP")
			}
			if tok.Data == "base" {
				t.Error("<base>: not allowed")
			}
		case html.EndTagToken:
			if tok.Data == "script" {
				inScript = false
			}
		case html.TextToken:
			if inScript && strings.TrimSpace(tok.Data) != "" {
				t.Error("inline script text")
			}
		}
	}
	if refs < 4 {
		t.Errorf("only %d references found: is the tokenizer reading the page?", refs)
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func checkLocalRef(t *testing.T, tag, key, val string) {
	t.Helper()
	if strings.HasPrefix(val, "#") {
		if tag != "use" {
			t.Errorf("<%s %s=%q>: a fragment outside an SVG <use>", tag, key, val)
		}
		return
	}
	u, err := url.Parse(val)
	if err != nil {
		t.Errorf("<%s %s=%q>: %v", tag, key, val, err)
		return
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(val, "//") {
		t.Errorf("<%s %s=%q>: not a local asset", tag, key, val)
		return
	}
	if _, ok := want[u.Path]; !ok {
		t.Errorf("<%s %s=%q>: the handler does not serve %s", tag, key, val, u.Path)
		return
	}
	if v := u.Query().Get("v"); v != Version(u.Path) {
		t.Errorf("<%s %s=%q>: version %q, want %q", tag, key, val, v, Version(u.Path))
	}
}

var (
	// Static imports, and dynamic ones.
	importSpec = regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)`)
	// Comment lines (JSDoc's {import('./x').T} types are not imports).
	commentLine = regexp.MustCompile(`(?m)^\s*(?://|/?\*).*$`)
	cssURL      = regexp.MustCompile(`url\(\s*['"]?([^'")]+)`)
	remoteRef   = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[/"')]`)
)

// TestScriptsAndStylesLocal: module imports resolve to served assets, the
// CSS loads nothing from elsewhere, and no file names another origin
// (except the SVG namespace, which is an identifier, not a fetch).
func TestScriptsAndStylesLocal(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/demo.js", "/jinglegate.js"} {
		body := commentLine.ReplaceAllString(get(t, h, "GET", p, nil).Body.String(), "")
		for _, m := range importSpec.FindAllStringSubmatch(body, -1) {
			spec := m[1] + m[2]
			u, err := url.Parse(spec)
			if err != nil || !strings.HasPrefix(spec, "./") {
				t.Errorf("%s imports %q: only ./ imports of served assets", p, spec)
				continue
			}
			path := "/" + strings.TrimPrefix(u.Path, "./")
			if _, ok := want[path]; !ok {
				t.Errorf("%s imports %q, which is not served", p, spec)
			}
			if v := u.Query().Get("v"); v != Version(path) {
				t.Errorf("%s imports %q: version %q, want %q", p, spec, v, Version(path))
			}
		}
	}
	css := get(t, h, "GET", "/demo.css", nil).Body.String()
	for _, m := range cssURL.FindAllStringSubmatch(css, -1) {
		if !strings.HasPrefix(m[1], "/") && !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "#") {
			t.Errorf("demo.css loads %q", m[1])
		}
	}
	if strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
		t.Error("demo.css imports a stylesheet or a font")
	}
	for p := range want {
		body := get(t, h, "GET", p, nil).Body.String()
		body = strings.ReplaceAll(body, "http://www.w3.org/2000/svg", "")
		for _, m := range remoteRef.FindAllString(body, -1) {
			if p == "/jinglegate.d.ts" || p == "/jinglegate.js" {
				// Comments show how other origins import the library.
				if strings.Contains(m, "example.org") {
					continue
				}
			}
			t.Errorf("%s names another origin: %q", p, m)
		}
	}
}

// The served demo script imports the versioned library; the page links the
// versioned script and style.
func TestVersionedLinks(t *testing.T) {
	pg := string(page(t))
	for _, p := range []string{"/demo.js", "/demo.css", "/favicon.svg"} {
		if !strings.Contains(pg, p+"?v="+Version(p)) {
			t.Errorf("the page does not link %s?v=%s", p, Version(p))
		}
	}
	js := get(t, Handler(), "GET", "/demo.js", nil).Body.String()
	if !strings.Contains(js, "from './jinglegate.js?v="+Version("/jinglegate.js")+"'") {
		t.Error("demo.js does not import the versioned library")
	}
}

func TestNewHandler(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, name := range []string{"index.html", "demo.css", "demo.js", "favicon.svg", "jinglegate.js", "jinglegate.d.ts"} {
		fsys[name] = &fstest.MapFile{Data: []byte("/* " + name + " */\n")}
	}
	fsys["index.html"] = &fstest.MapFile{Data: []byte(`<link href="/demo.css"><script type="module" src="/demo.js"></script>`)}
	h, err := NewHandler(fsys)
	if err != nil {
		t.Fatal(err)
	}
	w := get(t, h, "GET", "/", nil)
	if !strings.Contains(w.Body.String(), `href="/demo.css?v=`) {
		t.Errorf("not versioned: %s", w.Body.String())
	}
	delete(fsys, "demo.css")
	if _, err := NewHandler(fsys); err == nil {
		t.Error("NewHandler accepted an FS without demo.css")
	}
}
