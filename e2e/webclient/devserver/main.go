// Command devserver serves the web client (package web) and passes the
// gateway's own paths (/ws, /demo/, /healthz, /readyz) through to a running
// gateway, so that the page and the WebSocket share one origin. The web
// client tests use it when the gateway does not serve the page itself; it
// is also handy while working on web/ (with -dir, edits show on reload).
//
//	go run ./e2e/webclient/devserver -gateway http://127.0.0.1:8080 [-listen 127.0.0.1:8081] [-dir web]
//
// It prints "listening on http://HOST:PORT" on stdout once it accepts
// connections.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jinglegate/jinglegate/web"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	gateway := flag.String("gateway", "", "the gateway's base URL, e.g. http://127.0.0.1:8080 (required)")
	dir := flag.String("dir", "", "serve the assets from this directory, re-read on every request (default: the embedded ones)")
	flag.Parse()
	if err := run(*listen, *gateway, *dir); err != nil {
		log.Fatalf("devserver: %v", err)
	}
}

func run(listen, gateway, dir string) error {
	target, err := url.Parse(gateway)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return fmt.Errorf("-gateway must be an http(s) URL, got %q", gateway)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// Keep the browser's Host: the gateway compares it with Origin
			// (same-origin WebSockets need no allowed_origins entry).
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		FlushInterval: -1,
	}
	assets := web.Handler()
	if dir != "" {
		if _, err := web.NewHandler(os.DirFS(dir)); err != nil {
			return fmt.Errorf("-dir %s: %w", dir, err)
		}
		assets = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, err := web.NewHandler(os.DirFS(dir))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", proxy)
	mux.Handle("/demo/", proxy)
	mux.Handle("/healthz", proxy)
	mux.Handle("/readyz", proxy)
	mux.Handle("/", assets)

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logRequests(mux), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs failed requests (to stderr), not the successful ones.
func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &status{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.code >= 400 && !strings.HasPrefix(r.URL.Path, "/favicon") {
			log.Printf("%s %s: %d", r.Method, r.URL.Path, rec.code)
		}
	})
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the hijacker (WebSockets).
func (s *status) Unwrap() http.ResponseWriter { return s.ResponseWriter }
