#!/usr/bin/env bash
# stack.sh starts what the web client tests talk to: a private Prosody on
# loopback and bin/jinglegate connected to it as the component gw.localhost.
# It is meant to run inside the private network namespace of run.sh, but
# works anywhere (pick free ports with the variables below).
#
# Usage: stack.sh start DIR      start both; print the test environment as
#                                shell assignments on stdout: JINGLEGATE_URL,
#                                JINGLEGATE_TOKEN_A/B (two web users), and an
#                                XMPP account for interop tests
#                                (JINGLEGATE_XMPP_WS, _JID, _PASSWORD)
#        stack.sh stop DIR       stop both
#
# Environment: GW_HTTP (127.0.0.1:18080), C2S_PORT, COMPONENT_PORT, HTTP_PORT
# (Prosody's ports: 15222, 15347, 15280), ALLOWED_ORIGINS (a TOML array for
# [http] allowed_origins; default ["*"]: a page the test serves itself, on a
# port of its choosing, may connect; nothing but loopback exists in the
# namespace), JINGLEGATE_BIN.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${JINGLEGATE_BIN:-$root/bin/jinglegate}

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: $0 start|stop DIR" >&2
	exit 2
fi

GW_HTTP=${GW_HTTP:-127.0.0.1:18080}
export C2S_PORT=${C2S_PORT:-15222} COMPONENT_PORT=${COMPONENT_PORT:-15347} HTTP_PORT=${HTTP_PORT:-15280}
export COMPONENT_DOMAIN=gw.localhost
ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-'["*"]'}

stop() {
	if [ -f "$dir/gateway.pid" ]; then
		pid=$(cat "$dir/gateway.pid")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/gateway.pid"
	fi
	"$root/testdata/servers/prosody.sh" stop "$dir/prosody" >/dev/null 2>&1 || true
}

case "$cmd" in
stop)
	stop
	exit 0
	;;
start) ;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac

mkdir -p "$dir"
[ -x "$bin" ] || { echo "stack.sh: $bin not found: go build -o bin/jinglegate ./cmd/jinglegate" >&2; exit 1; }
export COMPONENT_SECRET
COMPONENT_SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
"$root/testdata/servers/prosody.sh" start "$dir/prosody" >&2

cat >"$dir/jinglegate.toml" <<TOML
# Written by e2e/webclient/stack.sh.
[xmpp]
server = "127.0.0.1:$COMPONENT_PORT"
domain = "$COMPONENT_DOMAIN"
secret = "$COMPONENT_SECRET"
backoff_min = "100ms"
[http]
listen = "$GW_HTTP"
allowed_origins = $ALLOWED_ORIGINS
resume_grace = "30s"
[auth]
hmac_secret = "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
[store]
path = "$dir/jinglegate.db"
[calls]
ring_timeout = "60s"
[demo]
enabled = true
[log]
level = "debug"
TOML

"$bin" serve -config "$dir/jinglegate.toml" >"$dir/gateway.log" 2>&1 &
echo $! >"$dir/gateway.pid"
# Ready when the component link is up.
for _ in $(seq 1 200); do
	if curl -fsS "http://$GW_HTTP/readyz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$(cat "$dir/gateway.pid")" 2>/dev/null; then
		echo "stack.sh: the gateway exited:" >&2
		tail -n 30 "$dir/gateway.log" >&2
		exit 1
	fi
	sleep 0.05
done
curl -fsS "http://$GW_HTTP/readyz" >/dev/null || { echo "stack.sh: the gateway is not ready" >&2; tail -n 30 "$dir/gateway.log" >&2; exit 1; }

# Two web users with random names, so that reruns on one store start clean.
suffix=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
tokA=$("$bin" token -config "$dir/jinglegate.toml" -user "ann$suffix" -name "Ann" -ttl 2h)
tokB=$("$bin" token -config "$dir/jinglegate.toml" -user "ben$suffix" -name "Ben" -ttl 2h)
# An XMPP user on the server (Prosody's domain is localhost).
xuser="xena$suffix"
xpass=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
"$root/testdata/servers/prosody.sh" register "$dir/prosody" "$xuser" "$xpass" >/dev/null
printf 'JINGLEGATE_URL=%q\nJINGLEGATE_TOKEN_A=%q\nJINGLEGATE_TOKEN_B=%q\nJINGLEGATE_LOG=%q\n' \
	"http://$GW_HTTP" "$tokA" "$tokB" "$dir/gateway.log"
printf 'JINGLEGATE_XMPP_WS=%q\nJINGLEGATE_XMPP_JID=%q\nJINGLEGATE_XMPP_PASSWORD=%q\n' \
	"ws://127.0.0.1:$HTTP_PORT/xmpp-websocket" "$xuser@localhost" "$xpass"
