#!/usr/bin/env bash
# demo.sh — `make demo`: a private Prosody on loopback, jinglegate connected
# to it as a component (in demo mode: its page at / mints a token for any
# name) and the echo bot, in the foreground. Ctrl-C stops all three.
#
# Environment (all optional):
#   DEMO_DIR        where Prosody's and the gateway's files go (.tmp/demo)
#   DEMO_HTTP       the gateway's HTTP address (127.0.0.1:8080)
#   C2S_PORT COMPONENT_PORT HTTP_PORT   Prosody's ports (15222 15347 15280)
#   DEMO_ICE_INTERFACES  the network interfaces the echo bot gathers ICE
#                   candidates on: * (the default) every interface,
#                   loopback included, so that a browser on this machine or
#                   another one reaches it; lo for loopback only
#   JINGLEGATE_BIN  the jinglegate binary (bin/jinglegate, which `make demo`
#                   builds)
#
# It prints the demo page's address once everything is up ("demo page
# http://..."), and runs until interrupted: SIGINT (Ctrl-C), SIGTERM or
# SIGHUP stop the gateway, the echo bot and Prosody (in that order: the
# gateway's unavailable presence goes out while Prosody is up), then it
# exits with status 0, the demo's normal end. If anything fails, or the
# gateway exits by itself, it stops the rest and exits non-zero.
set -euo pipefail
caller=$(pwd -P)
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BIN=${JINGLEGATE_BIN:-$ROOT/bin/jinglegate}
case "$BIN" in /*) ;; *) BIN=$caller/$BIN ;; esac
if [ ! -x "$BIN" ]; then
	echo "demo: $BIN not found: run 'make demo' (it builds bin/jinglegate), or set JINGLEGATE_BIN" >&2
	exit 1
fi
DEMO_DIR=${DEMO_DIR:-$ROOT/.tmp/demo}
DEMO_HTTP=${DEMO_HTTP:-127.0.0.1:8080}
export C2S_PORT=${C2S_PORT:-15222} COMPONENT_PORT=${COMPONENT_PORT:-15347} HTTP_PORT=${HTTP_PORT:-15280}
export COMPONENT_DOMAIN=gw.localhost PRIVILEGE=1
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd -P)
PROSODY_DIR=$DEMO_DIR/prosody

# stop_proc PID (run in the background): SIGTERM, then SIGKILL if it is
# still there after 25 s (the gateway's graceful shutdown has two steps of
# at most 10 s each). The script's own `wait` reaps it.
# shellcheck disable=SC2317 # called by cleanup, the EXIT trap
stop_proc() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 250); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}

# cleanup runs on every exit (set -e, a signal, the gateway's end): the
# gateway and the echo bot first (the gateway's unavailable presence goes
# out while Prosody is up), then Prosody. Further signals are ignored
# meanwhile: a second Ctrl-C does not leave Prosody behind.
GW=
ECHO=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	trap '' INT TERM HUP
	stop_proc "$GW" &
	stop_proc "$ECHO" &
	wait
	testdata/servers/prosody.sh stop "$PROSODY_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM HUP

# A secret per demo directory, kept across runs.
[ -s "$DEMO_DIR/component.secret" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DEMO_DIR/component.secret"
[ -s "$DEMO_DIR/hmac.secret" ] || head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$DEMO_DIR/hmac.secret"
export COMPONENT_SECRET
COMPONENT_SECRET=$(cat "$DEMO_DIR/component.secret")

# A Prosody left over from an interrupted demo is stopped first. WATCH_PID:
# should this script be killed (SIGKILL), a watchdog stops Prosody anyway.
testdata/servers/prosody.sh stop "$PROSODY_DIR" >/dev/null 2>&1 || true
WATCH_PID=$$ testdata/servers/prosody.sh start "$PROSODY_DIR" >/dev/null
for u in carol dave echo; do
	testdata/servers/prosody.sh register "$PROSODY_DIR" "$u" "${u}pw" >/dev/null 2>&1 || true
done

cat >"$DEMO_DIR/jinglegate.toml" <<TOML
# Written by scripts/demo.sh.
[xmpp]
server = "127.0.0.1:$COMPONENT_PORT"
domain = "$COMPONENT_DOMAIN"
secret = "$COMPONENT_SECRET"
[http]
listen = "$DEMO_HTTP"
[auth]
hmac_secret = "$(cat "$DEMO_DIR/hmac.secret")"
[store]
path = "$DEMO_DIR/jinglegate.db"
[policy]
calls = "open"
[demo]
enabled = true
contacts = ["echo@localhost"]
TOML

# The echo bot: a real Jingle peer that sends your media back.
JINGLEGATE_ECHO_PASSWORD=echopw "$BIN" echo -jid echo@localhost -server "127.0.0.1:$C2S_PORT" -interfaces "${DEMO_ICE_INTERFACES:-*}" -log.level warn &
ECHO=$!

"$BIN" serve -config "$DEMO_DIR/jinglegate.toml" &
GW=$!
# Wait for the gateway, then put echo into the demo users' rosters (XEP-0356).
ready=
for _ in $(seq 1 200); do
	if curl -fs "http://$DEMO_HTTP/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	if ! kill -0 "$GW" 2>/dev/null; then
		echo "demo: the gateway exited (see its log above)" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "demo: the gateway is not ready after 20 s (http://$DEMO_HTTP/readyz; see its log above)" >&2
	exit 1
fi
# Prosody's privilege message (XEP-0356) may come a moment after the link is
# up: try for a few seconds.
for u in alice bob; do
	for i in $(seq 1 50); do
		if out=$("$BIN" roster add -config "$DEMO_DIR/jinglegate.toml" -user echo@localhost -contact "$u" -name "$u" 2>&1); then
			break
		fi
		if [ "$i" = 50 ]; then
			echo "demo: could not add echo to $u's roster (XEP-0356): $out" >&2
			exit 1
		fi
		sleep 0.1
	done
done

TOKEN=$("$BIN" token -config "$DEMO_DIR/jinglegate.toml" -user web -ttl 12h)
cat <<INFO

jinglegate demo
  demo page      http://$DEMO_HTTP/   (sign in with any name; echo@localhost is in every demo user's roster: call it)
  gateway        health: http://$DEMO_HTTP/healthz, readiness: /readyz
  browser API    ws://$DEMO_HTTP/ws?token=$TOKEN
                 (token for web user web@$COMPONENT_DOMAIN, valid 12 h;
                  mint more: ${BIN#"$ROOT"/} token -config $DEMO_DIR/jinglegate.toml -user NAME)
  XMPP server    Prosody on 127.0.0.1:$C2S_PORT (c2s, no TLS), domain localhost,
                 users carol@localhost / carolpw, dave@localhost / davepw (for your IM client);
                 XMPP over WebSocket: ws://127.0.0.1:$HTTP_PORT/xmpp-websocket
  component      $COMPONENT_DOMAIN on 127.0.0.1:$COMPONENT_PORT
  files          $DEMO_DIR

  echo bot       echo@localhost: accepts every call and sends your audio, video and data back

Ctrl-C stops the gateway, the echo bot and Prosody.

INFO
status=0
wait "$GW" || status=$?
GW=
echo "demo: the gateway exited (status $status)" >&2
exit "$status"
