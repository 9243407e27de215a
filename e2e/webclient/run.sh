#!/usr/bin/env bash
# run.sh runs the web client's browser tests (e2e/webclient/*.test.mjs):
# the real jinglegate.js and demo page in headless Chromium, against a real
# gateway and a private Prosody, all inside a private network namespace where
# loopback is the only interface (no ICE check, STUN packet or mDNS query
# leaves the machine).
#
# Usage (from anywhere):
#   bash e2e/webclient/run.sh                       # every test
#   bash e2e/webclient/run.sh --test-name-pattern=RE
#   bash e2e/webclient/run.sh e2e/webclient/demo.test.mjs
#
# With JINGLEGATE_URL, JINGLEGATE_TOKEN_A and JINGLEGATE_TOKEN_B set (and
# optionally JINGLEGATE_XMPP_WS, _JID, _PASSWORD), it uses that gateway
# instead of starting one (and no namespace: the caller provides it).
#
# It installs what is missing (Chromium via scripts/install-deps.sh, e2e's
# node_modules with npm ci, as e2e/run.sh does), builds bin/jinglegate, and
# exits non-zero when a test fails. JINGLEGATE_BIN=path uses that gateway
# binary instead of building one. Screenshots go to artifacts/screenshots/
# (or $ARTIFACTS_DIR/screenshots); WEBCLIENT_KEEP=1 keeps the gateway's
# directory (its log and Prosody's) for a look after the run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e=$(cd "$here/.." && pwd)
root=$(cd "$e2e/.." && pwd)
export PATH="/usr/local/go/bin:$PATH"

log() { printf 'webclient: %s\n' "$*" >&2; }

args=()
files=()
for a in "$@"; do
	case "$a" in
	-*) args+=("$a") ;;
	*) files+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")") ;;
	esac
done
if [ "${#files[@]}" -eq 0 ]; then
	for f in "$here"/*.test.mjs; do files+=("$f"); done
fi

# The inner part: inside the namespace, start the stack and run the tests.
if [ "${1:-}" = "--inner" ]; then
	shift
	ip link set lo up
	dir=$(mktemp -d "${TMPDIR:-/tmp}/jinglegate-webclient.XXXXXX")
	# shellcheck disable=SC2317 # called by the trap
	cleanup() {
		bash "$here/stack.sh" stop "$dir" || true
		if [ "${WEBCLIENT_KEEP:-}" = 1 ]; then log "kept $dir"; else rm -rf "$dir"; fi
	}
	trap cleanup EXIT
	envfile="$dir/env"
	bash "$here/stack.sh" start "$dir" >"$envfile"
	set -a
	# shellcheck disable=SC1090
	. "$envfile"
	set +a
	cd "$e2e"
	status=0
	node --test --test-concurrency=1 --test-timeout=300000 "$@" || status=$?
	if [ "$status" -ne 0 ]; then
		log "gateway log: $dir/gateway.log (WEBCLIENT_KEEP=1 keeps it)"
	fi
	exit "$status"
fi

# 1. Chromium (the Debian package; the tests never download a browser).
bash "$root/scripts/install-deps.sh" browser

# 2. node_modules of e2e/ (playwright-core, stanza, esbuild), reinstalled
#    from package-lock.json when missing or stale, as e2e/run.sh does.
lockhash=$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)
stamp="$e2e/node_modules/.jinglegate-lock.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lockhash" ]; then
	log "npm ci"
	(cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	printf '%s\n' "$lockhash" >"$stamp"
fi

# 3. The gateway (unless JINGLEGATE_BIN names one already built) and the
#    devserver (the page's origin when the gateway does not serve the web
#    client itself).
if [ -z "${JINGLEGATE_BIN:-}" ]; then
	(cd "$root" && go build -o bin/jinglegate ./cmd/jinglegate)
	export JINGLEGATE_BIN="$root/bin/jinglegate"
fi
devserver=$(mktemp "${TMPDIR:-/tmp}/jinglegate-devserver.XXXXXX")
trap 'rm -f "$devserver"' EXIT
(cd "$root" && go build -o "$devserver" ./e2e/webclient/devserver)
export WEBCLIENT_DEVSERVER="$devserver"

# 4. The tests.
if [ -n "${JINGLEGATE_URL:-}" ] && [ -n "${JINGLEGATE_TOKEN_A:-}" ] && [ -n "${JINGLEGATE_TOKEN_B:-}" ]; then
	log "using the gateway at $JINGLEGATE_URL"
	cd "$e2e"
	node --test --test-concurrency=1 --test-timeout=300000 "${args[@]+"${args[@]}"}" "${files[@]}"
	exit
fi
ns=(unshare -n)
[ "$(id -u)" -eq 0 ] || ns=(unshare -r -n)
"${ns[@]}" bash "$here/run.sh" --inner "${args[@]+"${args[@]}"}" "${files[@]}"
