#!/usr/bin/env bash
# run.sh runs the browser end-to-end tests of jinglegate's translator in
# headless Chromium, inside a private network namespace (loopback only), so
# that no ICE check, STUN packet or mDNS query leaves the machine.
#
# Usage (from anywhere):
#   bash e2e/run.sh                 # every test
#   bash e2e/run.sh -update         # also rewrite testdata/chromium/*.sdp
#   bash e2e/run.sh [--test-name-pattern=RE] [FILE.test.js ...]
#
# It installs what is missing (the Debian chromium package, as root, via
# scripts/install-deps.sh; node_modules with `npm ci` when absent or older
# than package-lock.json), builds bin/jinglegate, and exits non-zero when a
# test fails.
#
# Environment: E2E_KEEP=1 keeps the temporary directory with the fresh
# captures; JINGLEGATE_INTEROP points at the interop corpus (default
# ../shared/interop beside the repository, else testdata/interop).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
export PATH="/usr/local/go/bin:$PATH"

log() { printf 'e2e: %s\n' "$*" >&2; }

update=0
args=()
for a in "$@"; do
	case "$a" in
	-update | --update) update=1 ;;
	*) args+=("$a") ;;
	esac
done

# 1. Chromium (Debian package; the test never downloads a browser).
bash "$root/scripts/install-deps.sh" browser

# 2. node_modules, reinstalled from package-lock.json only when missing or
#    stale (a stamp records the hash of the lock file it was installed from).
lockhash=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
stamp="$here/node_modules/.jinglegate-lock.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lockhash" ]; then
	log "npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	printf '%s\n' "$lockhash" >"$stamp"
fi

# 3. The translator under test.
(cd "$root" && go build -o bin/jinglegate ./cmd/jinglegate)
export JINGLEGATE_BIN="${JINGLEGATE_BIN:-$root/bin/jinglegate}"

out=$(mktemp -d "${TMPDIR:-/tmp}/jinglegate-e2e.XXXXXX")
if [ "${E2E_KEEP:-}" = 1 ]; then
	log "fresh captures are kept in $out"
else
	trap 'rm -rf "$out"' EXIT
fi
export E2E_OUT="$out" E2E_UPDATE="$update"

# node --test takes options before the files: split the arguments.
opts=()
tests=()
for a in "${args[@]+"${args[@]}"}"; do
	case "$a" in
	-*) opts+=("$a") ;;
	*) tests+=("$a") ;;
	esac
done
if [ ${#tests[@]} -eq 0 ]; then
	for f in "$here"/*.test.js; do tests+=("$f"); done
fi

# 4. The tests, in a network namespace of their own where only lo exists.
#    Root may create one directly; others need an unprivileged user
#    namespace (-r).
ns=(unshare -n)
[ "$(id -u)" -eq 0 ] || ns=(unshare -r -n)
cd "$here"
"${ns[@]}" sh -c 'ip link set lo up && exec "$@"' sh \
	node --test --test-concurrency=1 --test-timeout=300000 \
	"${opts[@]+"${opts[@]}"}" "${tests[@]}"
