# jinglegate — run `make test` (every test) or `make demo` (the gateway with a
# private Prosody). Both install what they need on a Debian machine as root.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
# Integration tests start real Prosody and ejabberd servers; give them time.
TEST_TIMEOUT ?= 40m
GOTESTFLAGS ?=

.PHONY: all build test gotest e2e deps check unit demo bench bench-system fuzz clean

all: build

build:
	$(GO) build -o bin/jinglegate ./cmd/jinglegate

# deps installs the Debian packages the tests need (only what is missing).
deps:
	bash scripts/install-deps.sh

# check: formatting and vet.
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# test: everything: Go tests against real Prosody and ejabberd (race
# detector on), then the browser tests in headless Chromium (e2e/run.sh
# installs Chromium and the npm packages, and runs inside a private network
# namespace).
test: deps check gotest e2e

gotest:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) ./...

e2e:
	bash e2e/run.sh
	bash e2e/webclient/run.sh

# unit: the fast tests only (no real servers).
unit:
	$(GO) test -short -race ./...

demo: deps build
	bash scripts/demo.sh

# bench: micro-benchmarks of the translator; bench-system: whole-system
# runs against a private Prosody and a private ejabberd (see docs/performance.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./sdpxlate/

bench-system: deps
	$(GO) test -run '^$$' -bench . -benchtime 200x -count 3 ./bench/

clean:
	rm -rf bin .tmp
