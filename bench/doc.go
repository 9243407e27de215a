// Package bench holds jinglegate's whole-system benchmarks: a real
// Prosody, the gateway in process, WebSocket clients and Jingle peers, all
// on loopback. Run them with `make bench-system` (or
// `go test -run '^$' -bench . ./bench/`). Each reports its figure next to a
// baseline measured in the same run, because the machines are noisy: read
// the ratios, not the nanoseconds. See docs/performance.md.
package bench
