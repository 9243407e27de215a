#!/usr/bin/env bash
# demo.sh — `make demo`: a private Prosody on loopback plus jinglegate
# connected to it as a component, in the foreground. Ctrl-C stops both.
#
# Environment (all optional):
#   DEMO_DIR        where Prosody's and the gateway's files go (.tmp/demo)
#   DEMO_HTTP       the gateway's HTTP address (127.0.0.1:8080)
#   C2S_PORT COMPONENT_PORT HTTP_PORT   Prosody's ports (15222 15347 15280)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
DEMO_DIR=${DEMO_DIR:-$ROOT/.tmp/demo}
DEMO_HTTP=${DEMO_HTTP:-127.0.0.1:8080}
export C2S_PORT=${C2S_PORT:-15222} COMPONENT_PORT=${COMPONENT_PORT:-15347} HTTP_PORT=${HTTP_PORT:-15280}
export COMPONENT_DOMAIN=gw.localhost PRIVILEGE=1
mkdir -p "$DEMO_DIR"
PROSODY_DIR=$DEMO_DIR/prosody

# A secret per demo directory, kept across runs.
[ -s "$DEMO_DIR/component.secret" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DEMO_DIR/component.secret"
[ -s "$DEMO_DIR/hmac.secret" ] || head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$DEMO_DIR/hmac.secret"
export COMPONENT_SECRET=$(cat "$DEMO_DIR/component.secret")

# A Prosody left over from an interrupted demo is stopped first.
testdata/servers/prosody.sh stop "$PROSODY_DIR" >/dev/null 2>&1 || true
testdata/servers/prosody.sh start "$PROSODY_DIR" >/dev/null
trap 'testdata/servers/prosody.sh stop "$PROSODY_DIR" >/dev/null 2>&1 || true' EXIT
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
TOML

# The echo bot: a real Jingle peer that sends your media back.
JINGLEGATE_ECHO_PASSWORD=echopw bin/jinglegate echo -jid echo@localhost -server "127.0.0.1:$C2S_PORT" -interfaces "${DEMO_ICE_INTERFACES:-*}" -log.level warn &
ECHO=$!
trap 'kill $ECHO 2>/dev/null || true; testdata/servers/prosody.sh stop "$PROSODY_DIR" >/dev/null 2>&1 || true' EXIT

bin/jinglegate serve -config "$DEMO_DIR/jinglegate.toml" &
GW=$!
trap 'kill -TERM $GW 2>/dev/null || true' INT TERM
# Wait for the gateway, then put echo into the demo users' rosters (XEP-0356).
for _ in $(seq 1 100); do
	curl -fs "http://$DEMO_HTTP/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
for u in alice bob; do
	bin/jinglegate roster add -config "$DEMO_DIR/jinglegate.toml" -user echo@localhost -contact "$u" -name "$u" >/dev/null ||
		echo "demo: could not add echo to $u's roster" >&2
done

TOKEN=$(bin/jinglegate token -config "$DEMO_DIR/jinglegate.toml" -user web -ttl 12h)
cat <<INFO

jinglegate demo
  demo page      http://$DEMO_HTTP/   (sign in as alice or bob; echo@localhost is in their rosters: call it)
  gateway        health: http://$DEMO_HTTP/healthz, readiness: /readyz
  browser API    ws://$DEMO_HTTP/ws?token=$TOKEN
                 (token for web user web@$COMPONENT_DOMAIN, valid 12 h;
                  mint more: bin/jinglegate token -config $DEMO_DIR/jinglegate.toml -user NAME)
  XMPP server    Prosody on 127.0.0.1:$C2S_PORT (c2s, no TLS), domain localhost,
                 users carol@localhost / carolpw, dave@localhost / davepw (for your IM client);
                 XMPP over WebSocket: ws://127.0.0.1:$HTTP_PORT/xmpp-websocket
  component      $COMPONENT_DOMAIN on 127.0.0.1:$COMPONENT_PORT
  files          $DEMO_DIR

  echo bot       echo@localhost: accepts every call and sends your audio, video and data back

Ctrl-C stops the gateway, the echo bot and Prosody.

INFO
wait $GW || true
wait $GW 2>/dev/null || true
