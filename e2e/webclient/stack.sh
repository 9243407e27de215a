#!/usr/bin/env bash
# stack.sh starts what the web client tests talk to: a private XMPP server
# (Prosody or ejabberd) on loopback, bin/jinglegate connected to it as the
# component gw.localhost, and three echo peers (`jinglegate echo`, pion
# Jingle peers logged in as XMPP users). It is meant to run inside the private
# network namespace of run.sh, but works anywhere (pick free ports with the
# variables below).
#
# Usage: stack.sh start DIR      start everything; print the test
#                                environment as shell assignments on stdout
#                                (below)
#        stack.sh stop DIR       stop everything
#
# The environment it prints:
#   JINGLEGATE_URL, JINGLEGATE_TOKEN_A/B   the gateway, two web users' tokens
#   JINGLEGATE_LOG                         the gateway's log
#   JINGLEGATE_XMPP_SERVER                 prosody or ejabberd
#   JINGLEGATE_XMPP_WS, _JID, _PASSWORD    an XMPP account for interop tests,
#                                          and the server's XMPP WebSocket
#   JINGLEGATE_TOKEN_ECHO                  a third web user, who calls echo
#   JINGLEGATE_ECHO_JID                    echo@localhost: accepts every call,
#                                          sends media and data back
#   JINGLEGATE_ECHO_DIRECT_JID             echo-direct@localhost: the same,
#                                          without XEP-0353 (-no-jmi)
#   JINGLEGATE_ECHO_HANGUP_JID             echo-hangup@localhost: the same,
#   JINGLEGATE_ECHO_HANGUP_AFTER_MS          but hangs up each call this long
#                                          after it connected (-hangup-after)
#   JINGLEGATE_ECHO_ROSTER                 both: the echo peers are in the
#                                          third web user's roster already
#                                          (Prosody: `jinglegate roster add`,
#                                          XEP-0356); peer: they have the web
#                                          user in their rosters (ejabberdctl
#                                          add_rosteritem, as ejabberd 23.01's
#                                          privileged roster set fails), and the
#                                          web user's subscription request is
#                                          approved by the server at once
#   JINGLEGATE_ECHO_LOG, _DIRECT_LOG, _HANGUP_LOG   the echo peers' logs
#
# Environment: XMPP_SERVER (prosody, the default, or ejabberd), GW_HTTP
# (127.0.0.1:18080), C2S_PORT, COMPONENT_PORT, HTTP_PORT (the server's ports;
# Prosody: 15222, 15347, 15280; ejabberd: 25222, 25347, 25280, and
# ERL_DIST_PORT 25999), ALLOWED_ORIGINS (a TOML array for [http]
# allowed_origins; default ["*"]: a page the test serves itself, on a port of
# its choosing, may connect; nothing but loopback exists in the namespace),
# ECHO_HANGUP_AFTER (a Go duration, 4s), JINGLEGATE_BIN.
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

# stop_pid FILE stops the process whose pid FILE holds (SIGTERM, then SIGKILL
# after 10 s).
stop_pid() {
	local pid
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1"
}

stop() {
	for e in echo echo-direct echo-hangup; do stop_pid "$dir/$e.pid"; done
	stop_pid "$dir/gateway.pid"
	local kind
	kind=$(cat "$dir/server" 2>/dev/null || echo prosody)
	"$root/testdata/servers/$kind.sh" stop "$dir/$kind" >/dev/null 2>&1 || true
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

XMPP_SERVER=${XMPP_SERVER:-prosody}
GW_HTTP=${GW_HTTP:-127.0.0.1:18080}
ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-'["*"]'}
ECHO_HANGUP_AFTER=${ECHO_HANGUP_AFTER:-4s}
export COMPONENT_DOMAIN=gw.localhost
case "$XMPP_SERVER" in
prosody)
	export C2S_PORT=${C2S_PORT:-15222} COMPONENT_PORT=${COMPONENT_PORT:-15347} HTTP_PORT=${HTTP_PORT:-15280}
	# XEP-0356, for `jinglegate roster add` (Prosody's mod_privilege).
	export PRIVILEGE=1
	ws_path=/xmpp-websocket
	;;
ejabberd)
	export C2S_PORT=${C2S_PORT:-25222} COMPONENT_PORT=${COMPONENT_PORT:-25347} HTTP_PORT=${HTTP_PORT:-25280}
	export ERL_DIST_PORT=${ERL_DIST_PORT:-25999}
	# ejabberd 23.01's privileged roster set fails (fixed in 23.10): the
	# rosters are made with ejabberdctl below instead.
	export PRIVILEGE=0
	ws_path=/ws
	;;
*)
	echo "stack.sh: XMPP_SERVER must be prosody or ejabberd, not '$XMPP_SERVER'" >&2
	exit 2
	;;
esac
hangup_ms=$(
	case "$ECHO_HANGUP_AFTER" in
	*ms) echo "${ECHO_HANGUP_AFTER%ms}" ;;
	*s) echo $((${ECHO_HANGUP_AFTER%s} * 1000)) ;;
	*) echo "stack.sh: ECHO_HANGUP_AFTER must be whole seconds (4s) or milliseconds (4000ms)" >&2; exit 2 ;;
	esac
)

mkdir -p "$dir"
[ -x "$bin" ] || { echo "stack.sh: $bin not found: go build -o bin/jinglegate ./cmd/jinglegate" >&2; exit 1; }
server="$root/testdata/servers/$XMPP_SERVER.sh"
sdir="$dir/$XMPP_SERVER"
echo "$XMPP_SERVER" >"$dir/server"
export COMPONENT_SECRET
COMPONENT_SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
"$server" start "$sdir" >/dev/null

# Accounts on the server (its domain is localhost), with random names and
# passwords, so that reruns start clean: an XMPP user for the interop tests
# and the echo peers.
suffix=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
pw() { od -An -tx1 -N8 /dev/urandom | tr -d ' \n'; }
xuser="xena$suffix"
xpass=$(pw)
declare -A echopass=([echo]=$(pw) [echo-direct]=$(pw) [echo-hangup]=$(pw))
echos="echo echo-direct echo-hangup"
"$server" register "$sdir" "$xuser" "$xpass" >/dev/null
for e in $echos; do
	"$server" register "$sdir" "$e" "${echopass[$e]}" >/dev/null
done

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

# Three web users.
tokA=$("$bin" token -config "$dir/jinglegate.toml" -user "ann$suffix" -name "Ann" -ttl 2h)
tokB=$("$bin" token -config "$dir/jinglegate.toml" -user "ben$suffix" -name "Ben" -ttl 2h)
cal="cal$suffix"
tokC=$("$bin" token -config "$dir/jinglegate.toml" -user "$cal" -name "Cal" -ttl 2h)

# The echo peers in Cal's roster, and Cal in theirs, so that the default
# call policy (contacts only) lets Cal call them.
case "$XMPP_SERVER" in
prosody)
	# As `make demo` does: a privileged roster set (XEP-0356), mirrored in
	# the web user's roster by the gateway. The server's privilege message
	# may come a moment after the link is up: try for a few seconds.
	for e in $echos; do
		for i in $(seq 1 50); do
			if out=$("$bin" roster add -config "$dir/jinglegate.toml" -user "$e@localhost" -contact "$cal" -name Cal 2>&1); then
				break
			fi
			if [ "$i" = 50 ]; then
				echo "stack.sh: jinglegate roster add failed: $out" >&2
				exit 1
			fi
			sleep 0.1
		done
	done
	echo_roster=both
	;;
ejabberd)
	for e in $echos; do
		"$server" ctl "$sdir" add_rosteritem "$e" localhost "$cal" "$COMPONENT_DOMAIN" Cal Web both >/dev/null
	done
	echo_roster=peer
	;;
esac

# start_echo NAME PASSWORD [FLAGS...]: a `jinglegate echo` logged in as
# NAME@localhost, ready once its presence is out.
start_echo() {
	local name=$1 pass=$2
	shift 2
	JINGLEGATE_ECHO_PASSWORD=$pass "$bin" echo -jid "$name@localhost" -server "127.0.0.1:$C2S_PORT" -log.level debug "$@" \
		>"$dir/$name.log" 2>&1 &
	echo $! >"$dir/$name.pid"
}
start_echo echo "${echopass[echo]}"
start_echo echo-direct "${echopass[echo-direct]}" -no-jmi
start_echo echo-hangup "${echopass[echo-hangup]}" -hangup-after "$ECHO_HANGUP_AFTER"
for name in $echos; do
	for _ in $(seq 1 400); do
		grep -q 'accepting every call' "$dir/$name.log" && break
		if ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
			echo "stack.sh: $name exited:" >&2
			tail -n 30 "$dir/$name.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	grep -q 'accepting every call' "$dir/$name.log" || { echo "stack.sh: $name did not log in" >&2; tail -n 30 "$dir/$name.log" >&2; exit 1; }
done

printf 'JINGLEGATE_URL=%q\nJINGLEGATE_TOKEN_A=%q\nJINGLEGATE_TOKEN_B=%q\nJINGLEGATE_LOG=%q\n' \
	"http://$GW_HTTP" "$tokA" "$tokB" "$dir/gateway.log"
printf 'JINGLEGATE_XMPP_SERVER=%q\nJINGLEGATE_XMPP_WS=%q\nJINGLEGATE_XMPP_JID=%q\nJINGLEGATE_XMPP_PASSWORD=%q\n' \
	"$XMPP_SERVER" "ws://127.0.0.1:$HTTP_PORT$ws_path" "$xuser@localhost" "$xpass"
printf 'JINGLEGATE_TOKEN_ECHO=%q\nJINGLEGATE_ECHO_ROSTER=%q\nJINGLEGATE_ECHO_HANGUP_AFTER_MS=%q\n' "$tokC" "$echo_roster" "$hangup_ms"
printf 'JINGLEGATE_ECHO_JID=%q\nJINGLEGATE_ECHO_DIRECT_JID=%q\nJINGLEGATE_ECHO_HANGUP_JID=%q\n' echo@localhost echo-direct@localhost echo-hangup@localhost
printf 'JINGLEGATE_ECHO_LOG=%q\nJINGLEGATE_ECHO_DIRECT_LOG=%q\nJINGLEGATE_ECHO_HANGUP_LOG=%q\n' "$dir/echo.log" "$dir/echo-direct.log" "$dir/echo-hangup.log"
