# shellcheck shell=bash
# lib.sh holds what prosody.sh and ejabberd.sh share: settings, template
# rendering, process-group handling, port polling and the subcommands. It is
# sourced, never run.
#
# The sourcing script sets KIND, SETTINGS (the names of its settings, in
# addition to COMMON_SETTINGS) and defines:
#   default_NAME          prints the default of setting NAME
#   server_validate       checks the server-specific settings
#   server_render         writes the configuration into $DIR and calls
#                         mark_log on the server's main log
#   server_launch         sets the array LAUNCH to the command that runs the
#                         server in the foreground (stdio and cwd are set up
#                         by the caller, which runs it in its own session)
#   server_ports          prints the ports that must accept connections
#   server_extra_ports    prints other ports that must be closed after stop
#   server_ready          succeeds once the server says it is ready (it is
#                         only asked after every port accepts connections;
#                         log_since_start shows what the server logged)
#   server_logs           prints the log files to show on failure
#   server_ctl ARGS...    runs the server's admin tool (prosodyctl, ejabberdctl)
#   server_register USER PASSWORD
#   server_stop_signal PGID  asks the server to shut down gracefully

set -euo pipefail

RANDOM_SETTINGS="COMPONENT_SECRET NODE_NAME COOKIE"
COMMON_SETTINGS="DOMAIN COMPONENT_DOMAIN COMPONENT_SECRET C2S_PORT COMPONENT_PORT HTTP_PORT PRIVILEGE LOG_LEVEL"

: "${START_TIMEOUT:=60}" # seconds
: "${STOP_TIMEOUT:=15}"  # seconds before SIGKILL
POLL_INTERVAL=0.05

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SERVERS_DIR/../.." && pwd -P)"

die() {
	printf '%s: error: %s\n' "$KIND" "$*" >&2
	exit 1
}

note() { printf '%s: %s\n' "$KIND" "$*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $SELF_NAME start DIR              start a private $KIND instance in DIR
       $SELF_NAME stop DIR               stop it (SIGTERM, then SIGKILL after \$STOP_TIMEOUT s)
       $SELF_NAME kill DIR               stop it at once with SIGKILL (a crash)
       $SELF_NAME restart DIR            stop, then start on the same ports and data
       $SELF_NAME status DIR             exit 0 if it runs, 3 if not
       $SELF_NAME register DIR USER PW   create the account USER@\$DOMAIN
       $SELF_NAME ctl DIR ARGS...        run ${KIND}'s admin tool on the instance
       $SELF_NAME env DIR                print the instance's settings

Settings come from the environment, else from DIR/instance.env (written by
the previous start, so a restart keeps its ports, secret and data), else
from defaults:
$(for name in $COMMON_SETTINGS $SETTINGS; do
		case " $RANDOM_SETTINGS " in
		*" $name "*) printf '  %-18s default: random\n' "$name" ;;
		*) printf '  %-18s default: %s\n' "$name" "$("default_$name")" ;;
		esac
	done)
Ports are on 127.0.0.1. START_TIMEOUT (default 60 s) bounds the start-up.
WATCH_PID=PID makes a watchdog stop the instance once process PID is gone.
EOF
	exit 2
}

# Defaults shared by both servers.
default_DOMAIN() { echo localhost; }
default_COMPONENT_DOMAIN() { echo gw.localhost; }
default_COMPONENT_SECRET() { random_hex 12; }
default_PRIVILEGE() { echo 0; }
default_LOG_LEVEL() { echo info; }

random_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# set_dir DIR [create] makes DIR (absolute) the instance directory; only
# start creates it.
set_dir() {
	[ -n "${1:-}" ] || usage
	if [ "${2:-}" = create ]; then
		mkdir -p "$1"
	elif [ ! -d "$1" ]; then
		die "no instance directory $1"
	fi
	DIR="$(cd "$1" && pwd -P)"
	case "$DIR" in
	*[[:space:]\"\'\\\$\`\|\&]*) die "instance directory must not contain spaces, quotes or shell metacharacters: $DIR" ;;
	esac
}

# lock_dir serializes start and stop on one instance directory. The lock is
# held on fd 9 until the script exits; the server is started with fd 9 closed.
lock_dir() {
	exec 9>"$DIR/.lock"
	flock 9
}

# load_settings sets every setting from the environment, DIR/instance.env or
# its default, in that order, and saves the result to DIR/instance.env.
load_settings() {
	local name value
	declare -A from_env=()
	for name in $COMMON_SETTINGS $SETTINGS; do
		from_env[$name]="${!name:-}"
		unset "$name"
	done
	if [ -f "$DIR/instance.env" ]; then
		# shellcheck disable=SC1091 # written by save_settings below
		. "$DIR/instance.env"
	fi
	for name in $COMMON_SETTINGS $SETTINGS; do
		value="${from_env[$name]}"
		[ -n "$value" ] || value="${!name:-}"
		[ -n "$value" ] || value="$("default_$name")"
		printf -v "$name" '%s' "$value"
	done
}

save_settings() {
	local name tmp="$DIR/instance.env.tmp"
	{
		echo "# Settings of this $KIND instance, reused by the next start."
		for name in $COMMON_SETTINGS $SETTINGS; do
			printf '%s=%q\n' "$name" "${!name}"
		done
	} >"$tmp"
	mv -f "$tmp" "$DIR/instance.env"
}

need_settings() {
	[ -f "$DIR/instance.env" ] || die "no instance in $DIR (run '$SELF_NAME start $DIR' first)"
	load_settings
}

check_port() {
	if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
		die "$1 must be a TCP port, not '$2'"
	fi
}

check_match() {
	[[ "$2" =~ $3 ]] || die "$1 '$2' must match $3"
}

validate_settings() {
	check_match DOMAIN "$DOMAIN" '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'
	check_match COMPONENT_DOMAIN "$COMPONENT_DOMAIN" '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'
	check_match COMPONENT_SECRET "$COMPONENT_SECRET" '^[A-Za-z0-9._~+=/-]+$'
	check_match PRIVILEGE "$PRIVILEGE" '^[01]$'
	check_match LOG_LEVEL "$LOG_LEVEL" '^[a-z]+$'
	check_port C2S_PORT "$C2S_PORT"
	check_port COMPONENT_PORT "$COMPONENT_PORT"
	check_port HTTP_PORT "$HTTP_PORT"
	server_validate
	local ports
	ports="$(server_ports; server_extra_ports)"
	[ "$(sort <<<"$ports" | uniq -d)" = "" ] || die "ports must differ: ${ports//$'\n'/ }"
}

# render TEMPLATE OUT replaces @NAME@ by the value of every setting (and
# @DIR@), and keeps %%PRIVILEGE%% lines only when PRIVILEGE=1.
render() {
	local template="$1" out="$2" name value
	local args=()
	for name in DIR $COMMON_SETTINGS $SETTINGS; do
		value="${!name}"
		value="${value//\\/\\\\}"
		value="${value//&/\\&}"
		value="${value//|/\\|}"
		args+=(-e "s|@${name}@|${value}|g")
	done
	if [ "$PRIVILEGE" = 1 ]; then
		args+=(-e 's/^%%PRIVILEGE%%//')
	else
		args+=(-e '/^%%PRIVILEGE%%/d')
	fi
	sed "${args[@]}" "$template" >"$out.tmp"
	if grep -n '@[A-Z_]*@' "$out.tmp" >&2; then
		die "unknown placeholder left in $out (from $template)"
	fi
	mv -f "$out.tmp" "$out"
}

# --- processes ---------------------------------------------------------------

# group_pids PGID prints the live (not zombie) processes of a process group.
# Zombies are skipped: the reaper of orphans in a container may never reap.
group_pids() {
	local f line rest state pgrp
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest="${line##*) }"      # skip "pid (comm) ", comm may hold spaces
		state="${rest%% *}"      # field 3
		rest="${rest#* }"        # drop state
		rest="${rest#* }"        # drop ppid
		pgrp="${rest%% *}"       # field 5
		if [ "$pgrp" = "$1" ] && [ "$state" != Z ] && [ "$state" != X ]; then
			f="${f#/proc/}"
			echo "${f%/stat}"
		fi
	done
}

group_alive() {
	[ -n "$(group_pids "$1")" ]
}

# proc_alive PID: PID exists and is not a zombie.
proc_alive() {
	local line state
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	state="${line##*) }"
	state="${state%% *}"
	[ "$state" != Z ] && [ "$state" != X ]
}

# proc_pgrp PID prints the process group of PID.
proc_pgrp() {
	local line rest
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	rest="${line##*) }"
	rest="${rest#* }"
	rest="${rest#* }"
	echo "${rest%% *}"
}

# wait_leader PID: wait until PID, just forked to run setsid, leads its own
# process group; until then it is in ours and group_alive cannot see it.
wait_leader() {
	local deadline=$((SECONDS + 10)) pgrp
	while :; do
		pgrp="$(proc_pgrp "$1")" || return 1
		[ "$pgrp" != "$1" ] || return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.01
	done
}

# wait_gone PGID SECONDS: wait until no process of the group is left.
wait_gone() {
	local deadline=$((SECONDS + $2))
	while group_alive "$1"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep "$POLL_INTERVAL"
	done
}

# --- ports -------------------------------------------------------------------

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# listening_inodes PORT prints the socket inodes listening on TCP PORT.
listening_inodes() {
	local hex
	hex="$(printf '%04X' "$1")"
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v port=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { print $10 }'
}

# group_owns_port PGID PORT: a process of the group listens on PORT, which
# proves we are not talking to somebody else's server on a reused port.
group_owns_port() {
	local inodes pid fd link
	inodes=" $(listening_inodes "$2" | tr '\n' ' ') "
	[ "$inodes" != "  " ] || return 1
	for pid in $(group_pids "$1"); do
		for fd in /proc/"$pid"/fd/*; do
			link="$(readlink "$fd" 2>/dev/null)" || continue
			case "$link" in
			socket:\[*\])
				link="${link#socket:[}"
				case "$inodes" in *" ${link%]} "*) return 0 ;; esac
				;;
			esac
		done
	done
	return 1
}

# --- logs --------------------------------------------------------------------

# mark_log FILE remembers where FILE ends before the server starts, so that
# log_since_start shows only what this run wrote (logs survive restarts).
mark_log() {
	LOG_FILE="$1"
	LOG_OFFSET="$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)"
}

log_since_start() {
	local size
	size="$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)"
	# A log that shrank was rotated or truncated: all of it is new.
	[ "$size" -ge "$LOG_OFFSET" ] || LOG_OFFSET=0
	tail -c "+$((LOG_OFFSET + 1))" "$LOG_FILE" 2>/dev/null || true
}

log_tail() {
	local f
	for f in $(server_logs) "$DIR/$KIND.out"; do
		[ -s "$f" ] || continue
		printf -- '--- last 40 lines of %s ---\n' "$f"
		tail -n 40 "$f"
	done
}

fail_start() {
	printf '%s: error: %s\n' "$KIND" "$*" >&2
	log_tail >&2
	if [ -n "${PGID:-}" ]; then
		kill -KILL -- "-$PGID" 2>/dev/null || kill -KILL "$PGID" 2>/dev/null || true
		wait_gone "$PGID" 10 || true
	fi
	rm -f "$DIR/pid"
	kill_watchdog
	exit 1
}

# --- subcommands -------------------------------------------------------------

running_pgid() {
	local pgid
	[ -f "$DIR/pid" ] || return 1
	pgid="$(cat "$DIR/pid")"
	[[ "$pgid" =~ ^[0-9]+$ ]] && group_alive "$pgid" || return 1
	echo "$pgid"
}

cmd_start() {
	set_dir "${1:-}" create
	lock_dir
	local pgid
	if pgid="$(running_pgid)"; then
		die "already running in $DIR (process group $pgid)"
	fi
	rm -f "$DIR/pid"
	load_settings
	validate_settings
	[[ "${WATCH_PID:-}" =~ ^[0-9]*$ ]] || die "WATCH_PID must be a process ID, not '$WATCH_PID'"
	save_settings
	server_installed || "$REPO_ROOT/scripts/install-deps.sh" xmpp >&2 || die "$KIND is not installed and could not be installed"

	local port
	for port in $(server_ports) $(server_extra_ports); do
		if port_open "$port"; then
			die "port $port on 127.0.0.1 is already in use"
		fi
	done

	server_render
	printf '\n=== %s: starting %s ===\n' "$(date -Is)" "$KIND" >>"$DIR/$KIND.out"
	local started="${EPOCHREALTIME/./}"
	# setsid makes the server the leader of a new session and process group
	# (a background child of a non-interactive shell is no group leader, so
	# setsid execs in place and $! is the server). Stop signals the group.
	server_launch
	(cd "$DIR" && exec setsid "${LAUNCH[@]}") </dev/null >>"$DIR/$KIND.out" 2>&1 9>&- &
	PGID=$!
	echo "$PGID" >"$DIR/pid"
	wait_leader "$PGID" || fail_start "$KIND exited during start-up (or setsid failed)"

	# The watchdog starts at once, so that it also covers a start that is
	# interrupted (its stop waits for the lock that this start holds).
	if [ -n "${WATCH_PID:-}" ]; then
		setsid bash "$SELF" _watch "$DIR" "$WATCH_PID" </dev/null >>"$DIR/watchdog.log" 2>&1 9>&- &
		echo $! >"$DIR/watchdog.pid"
	fi

	# Poll (each port until it first accepts, then the server's own sign).
	local deadline=$((SECONDS + START_TIMEOUT)) pending
	pending="$(server_ports | tr '\n' ' ')"
	while :; do
		group_alive "$PGID" || fail_start "$KIND exited during start-up"
		while [ -n "$pending" ] && port_open "${pending%% *}"; do
			pending="${pending#* }"
		done
		if [ -z "$pending" ] && server_ready; then
			break
		fi
		[ "$SECONDS" -lt "$deadline" ] ||
			fail_start "$KIND not ready after ${START_TIMEOUT}s${pending:+ (port ${pending%% *} still closed)}"
		sleep "$POLL_INTERVAL"
	done
	for port in $(server_ports); do
		group_owns_port "$PGID" "$port" ||
			fail_start "port $port accepts connections, but not for this $KIND (another process took it?)"
	done

	note "started in $DIR in $(((${EPOCHREALTIME/./} - started) / 1000)) ms (process group $PGID)"
	cmd_env_print
}

cmd_env_print() {
	local name
	for name in $COMMON_SETTINGS $SETTINGS; do
		printf '%s=%q\n' "$name" "${!name}"
	done
	printf 'DIR=%q\n' "$DIR"
}

cmd_env() {
	set_dir "${1:-}"
	need_settings
	cmd_env_print
}

kill_watchdog() {
	local pid
	[ -f "$DIR/watchdog.pid" ] || return 0
	pid="$(cat "$DIR/watchdog.pid")"
	rm -f "$DIR/watchdog.pid"
	if [ "$pid" != "$$" ] && [[ "$pid" =~ ^[0-9]+$ ]]; then
		kill "$pid" 2>/dev/null || true
	fi
}

# stop_instance graceful|kill DIR
stop_instance() {
	local how="$1"
	set_dir "${2:-}"
	lock_dir
	local pgid
	if ! pgid="$(running_pgid)"; then
		rm -f "$DIR/pid"
		kill_watchdog
		note "not running in $DIR"
		return 0
	fi
	[ -f "$DIR/instance.env" ] && load_settings

	if [ "$how" = kill ]; then
		kill -KILL -- "-$pgid" 2>/dev/null || true
	else
		server_stop_signal "$pgid"
	fi
	if ! wait_gone "$pgid" "$STOP_TIMEOUT"; then
		note "still running after ${STOP_TIMEOUT}s; sending SIGKILL to process group $pgid"
		kill -KILL -- "-$pgid" 2>/dev/null || true
		wait_gone "$pgid" 10 || die "processes $(group_pids "$pgid" | tr '\n' ' ')survive SIGKILL"
	fi
	rm -f "$DIR/pid"
	kill_watchdog

	# The sockets go with the processes, but make sure of it: a restart on
	# the same ports must not find them taken.
	local port deadline=$((SECONDS + 10))
	for port in $(server_ports) $(server_extra_ports); do
		while port_open "$port"; do
			[ "$SECONDS" -lt "$deadline" ] || die "port $port still accepts connections after $KIND stopped"
			sleep "$POLL_INTERVAL"
		done
	done
	if [ "$how" = kill ]; then
		note "killed in $DIR"
	else
		note "stopped in $DIR"
	fi
}

cmd_stop() { stop_instance graceful "$@"; }
cmd_kill() { stop_instance kill "$@"; }

cmd_status() {
	set_dir "${1:-}"
	local pgid
	if pgid="$(running_pgid)"; then
		echo "running (process group $pgid)"
		return 0
	fi
	echo "stopped"
	return 3
}

cmd_register() {
	[ $# -eq 3 ] || usage
	set_dir "$1"
	need_settings
	check_match user "$2" '^[a-z0-9._-]+$'
	[ -n "$3" ] || die "empty password"
	server_register "$2" "$3"
}

cmd_ctl() {
	set_dir "${1:-}"
	shift
	need_settings
	server_ctl "$@"
}

# cmd_watch DIR PID (internal): stop the instance once PID is gone, so that
# a test binary that crashes or is killed leaves no server behind.
cmd_watch() {
	set_dir "$1"
	local watched="$2"
	while proc_alive "$watched"; do
		[ -f "$DIR/pid" ] || exit 0
		sleep 1
	done
	[ -f "$DIR/pid" ] || exit 0
	note "process $watched is gone; stopping the instance in $DIR"
	exec bash "$SELF" stop "$DIR"
}

main() {
	SELF_NAME="$(basename "$SELF")"
	local cmd="${1:-}"
	[ $# -gt 0 ] && shift
	case "$cmd" in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	kill) cmd_kill "$@" ;;
	restart) bash "$SELF" stop "$@" && exec bash "$SELF" start "$@" ;;
	status) cmd_status "$@" ;;
	register) cmd_register "$@" ;;
	ctl) cmd_ctl "$@" ;;
	env) cmd_env "$@" ;;
	_watch) cmd_watch "$@" ;;
	*) usage ;;
	esac
}
