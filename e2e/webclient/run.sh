#!/usr/bin/env bash
# run.sh runs the web client's browser tests (e2e/webclient/*.test.mjs):
# the real jinglegate.js and demo page in headless Chromium, against a real
# gateway, echo peers and a private XMPP server, all inside a private network
# namespace where loopback is the only interface (no ICE check, STUN packet
# or mDNS query leaves the machine).
#
# It runs the tests once per server of WEBCLIENT_SERVERS (default: "prosody
# ejabberd"), each in a namespace and stack of its own: on Prosody every
# file; on ejabberd every file but unit.test.mjs (no server involved) and
# demo.test.mjs (the page's UI, the same whatever the server), unless files
# are named, and never demo-script.test.mjs (`make demo`, which starts a
# Prosody of its own).
#
# Usage (from anywhere):
#   bash e2e/webclient/run.sh                       # every test, both servers
#   bash e2e/webclient/run.sh --test-name-pattern=RE
#   bash e2e/webclient/run.sh e2e/webclient/demo.test.mjs
#   WEBCLIENT_SERVERS=ejabberd bash e2e/webclient/run.sh e2e/webclient/echo.test.mjs
#
# With JINGLEGATE_URL, JINGLEGATE_TOKEN_A and JINGLEGATE_TOKEN_B set (and
# optionally JINGLEGATE_XMPP_WS, _JID, _PASSWORD, and the echo peers'
# JINGLEGATE_TOKEN_ECHO and JINGLEGATE_ECHO_*: see stack.sh), it uses that gateway
# instead of starting one (and no namespace: the caller provides it).
#
# It installs what is missing (Chromium via scripts/install-deps.sh, e2e's
# node_modules with npm ci, as e2e/run.sh does), builds bin/jinglegate, and
# exits non-zero when a test fails. JINGLEGATE_BIN=path uses that gateway
# binary instead of building one. Screenshots go to artifacts/screenshots/
# (or $ARTIFACTS_DIR/screenshots; the ejabberd run's under ejabberd/ in it);
# WEBCLIENT_KEEP=1 keeps the stack's directory (the logs of the gateway, the
# echo peers and the XMPP server) for a look after the run.
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
named=${#files[@]}
if [ "$named" -eq 0 ]; then
	for f in "$here"/*.test.mjs; do files+=("$f"); done
fi

# The inner part: inside the namespace, start the stack and run the tests.
if [ "${1:-}" = "--inner" ]; then
	shift
	ip link set lo up
	# Tests that start servers of their own (demo-script.test.mjs) run only
	# where nothing but loopback exists.
	export WEBCLIENT_NETNS=1
	dir=$(mktemp -d "${TMPDIR:-/tmp}/jinglegate-webclient.XXXXXX")
	# shellcheck disable=SC2317 # called by the trap
	cleanup() {
		bash "$here/stack.sh" stop "$dir" || true
		if [ "${WEBCLIENT_KEEP:-}" = 1 ]; then log "kept $dir"; else rm -rf "$dir"; fi
	}
	trap cleanup EXIT
	envfile="$dir/env"
	log "starting the stack on ${XMPP_SERVER:-prosody} in $dir"
	bash "$here/stack.sh" start "$dir" >"$envfile"
	set -a
	# shellcheck disable=SC1090
	. "$envfile"
	set +a
	cd "$e2e"
	status=0
	node --test --test-concurrency=1 --test-timeout=300000 "$@" || status=$?
	if [ "$status" -ne 0 ]; then
		log "gateway log: $dir/gateway.log, echo peers: $dir/echo*.log (WEBCLIENT_KEEP=1 keeps them)"
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
failed=()
for server in ${WEBCLIENT_SERVERS:-prosody ejabberd}; do
	run_files=()
	case "$server" in
	prosody) run_files=("${files[@]}") ;;
	ejabberd)
		for f in "${files[@]}"; do
			case "$(basename "$f")" in
			demo-script.test.mjs) ;; # Prosody only: scripts/demo.sh starts one
			unit.test.mjs | demo.test.mjs)
				if [ "$named" -gt 0 ]; then run_files+=("$f"); fi
				;;
			*) run_files+=("$f") ;;
			esac
		done
		;;
	*)
		log "WEBCLIENT_SERVERS: unknown server '$server' (prosody or ejabberd)"
		exit 2
		;;
	esac
	if [ "${#run_files[@]}" -eq 0 ]; then
		log "=== $server: nothing to run ==="
		continue
	fi
	log "=== $server: ${run_files[*]##*/} ==="
	artifacts=${ARTIFACTS_DIR:-}
	[ "$server" = prosody ] || artifacts="${ARTIFACTS_DIR:-$root/artifacts}/$server"
	started=$SECONDS
	status=0
	XMPP_SERVER=$server ARTIFACTS_DIR=$artifacts \
		"${ns[@]}" bash "$here/run.sh" --inner "${args[@]+"${args[@]}"}" "${run_files[@]}" || status=$?
	log "=== $server: exit status $status after $((SECONDS - started)) s ==="
	[ "$status" -eq 0 ] || failed+=("$server")
done
if [ "${#failed[@]}" -gt 0 ]; then
	log "failed on: ${failed[*]}"
	exit 1
fi
