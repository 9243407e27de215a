// Package web serves jinglegate's browser side: the client library
// (jinglegate.js, an ES module, and its TypeScript declarations
// jinglegate.d.ts) and the demo page at /.
//
// Mount the handler at the root of the gateway's mux, next to /ws:
//
//	mux.Handle("/", web.Handler())
//
// It answers GET and HEAD for exactly these paths, and 404 for any other:
//
//	/                 the demo page (index.html)
//	/jinglegate.js    the client library
//	/jinglegate.d.ts  its TypeScript declarations
//	/demo.js /demo.css /favicon.svg   the demo page's script, style and icon
//
// Caching: every response has a strong ETag and Cache-Control: no-cache
// (revalidate, then 304). A URL whose ?v= is the asset's version
// (Version) is immutable and cached for a year; the demo page links its
// assets that way, so a visit costs one revalidation of the page.
//
// The library may be imported from other origins (import { Client } from
// "https://gw.example.org/jinglegate.js"): it is served with
// Access-Control-Allow-Origin: *. The demo page gets a strict
// Content-Security-Policy: its own scripts, styles and connections only.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

//go:embed index.html demo.css demo.js favicon.svg jinglegate.js jinglegate.d.ts
var embedded embed.FS

// Content types by extension. ".d.ts" has no registered type; TypeScript
// tooling and Deno use application/typescript.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".d.ts": "application/typescript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// crossOrigin lists the assets other origins may load (the library).
var crossOrigin = map[string]bool{"jinglegate.js": true, "jinglegate.d.ts": true}

// CSP is the Content-Security-Policy of the demo page. connect-src 'self'
// covers fetch("/demo/token") and the WebSocket to /ws on the same host.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob: mediastream:; connect-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one file, ready to serve.
type asset struct {
	name    string // file name in the FS, e.g. "demo.js"
	urlPath string // "/demo.js"; "/" for index.html
	ctype   string
	body    []byte
	version string // hex prefix of the SHA-256 of body
	etag    string // strong ETag: the quoted version
}

// handler serves a fixed set of assets.
type handler struct {
	byPath map[string]*asset
}

var defaultHandler = mustHandler(embedded)

func mustHandler(fsys fs.FS) *handler {
	h, err := newHandler(fsys)
	if err != nil {
		panic("web: embedded assets: " + err.Error())
	}
	return h
}

// Handler returns the handler of the embedded assets. It is safe for
// concurrent use and shared by every caller.
func Handler() http.Handler { return defaultHandler }

// NewHandler serves the assets of fsys instead of the embedded ones (for
// development: web.NewHandler(os.DirFS("web"))). fsys must hold the files
// of the embedded set; they are read once, now.
func NewHandler(fsys fs.FS) (http.Handler, error) { return newHandler(fsys) }

// Paths lists the URL paths the handler serves, sorted.
func Paths() []string {
	out := make([]string, 0, len(defaultHandler.byPath))
	for p := range defaultHandler.byPath {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Version returns the version of the asset at urlPath (for ?v=), or "" if
// there is none.
func Version(urlPath string) string {
	if a := defaultHandler.byPath[urlPath]; a != nil {
		return a.version
	}
	return ""
}

func contentType(name string) string {
	if strings.HasSuffix(name, ".d.ts") {
		return contentTypes[".d.ts"]
	}
	return contentTypes[path.Ext(name)]
}

func newHandler(fsys fs.FS) (*handler, error) {
	names, err := fs.Glob(embedded, "*")
	if err != nil {
		return nil, err
	}
	h := &handler{byPath: map[string]*asset{}}
	assets := map[string]*asset{}
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ct := contentType(name)
		if ct == "" {
			return nil, fmt.Errorf("%s: no content type for this extension", name)
		}
		a := &asset{name: name, urlPath: "/" + name, ctype: ct, body: body}
		if name == "index.html" {
			a.urlPath = "/"
		}
		assets[name] = a
	}
	// Versions: the leaves first (they reference nothing), then what links
	// them, rewritten to the versioned URLs.
	for _, a := range assets {
		if a.name != "index.html" && a.name != "demo.js" {
			a.seal()
		}
	}
	assets["demo.js"].body = versionImports(assets["demo.js"].body, assets)
	assets["demo.js"].seal()
	assets["index.html"].body = versionLinks(assets["index.html"].body, assets)
	assets["index.html"].seal()
	for _, a := range assets {
		h.byPath[a.urlPath] = a
	}
	return h, nil
}

func (a *asset) seal() {
	sum := sha256.Sum256(a.body)
	a.version = hex.EncodeToString(sum[:8])
	a.etag = `"` + a.version + `"`
}

var (
	// href="/demo.css", src="/demo.js" in the page.
	linkRE = regexp.MustCompile(`\b(href|src)="/([A-Za-z0-9._-]+)"`)
	// from './jinglegate.js' in a module.
	importRE = regexp.MustCompile(`\bfrom '\./([A-Za-z0-9._-]+)'`)
)

func versionLinks(body []byte, assets map[string]*asset) []byte {
	return linkRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := linkRE.FindSubmatch(m)
		a := assets[string(sub[2])]
		if a == nil || a.version == "" {
			return m
		}
		return fmt.Appendf(nil, `%s="/%s?v=%s"`, sub[1], sub[2], a.version)
	})
}

func versionImports(body []byte, assets map[string]*asset) []byte {
	return importRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := importRE.FindSubmatch(m)
		a := assets[string(sub[1])]
		if a == nil || a.version == "" {
			return m
		}
		return fmt.Appendf(nil, `from './%s?v=%s'`, sub[1], a.version)
	})
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := h.byPath[r.URL.Path]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", a.etag)
	if v := r.URL.Query().Get("v"); v != "" && v == a.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	if crossOrigin[a.name] {
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	} else {
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	}
	if a.name == "index.html" {
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=()")
	}
	// ServeContent answers HEAD, Range and If-None-Match (with the ETag).
	// No modification time: the ETag is the validator.
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
