#!/usr/bin/env bash
# ejabberd.sh runs a private ejabberd 23.01 on loopback ports, with its
# config, Mnesia spool, logs and Erlang node in one directory. It is what
# internal/xmpptest uses in tests; run it without arguments for help.
# Example:
#
#   C2S_PORT=25222 COMPONENT_PORT=25347 HTTP_PORT=25280 ERL_DIST_PORT=25999 \
#   COMPONENT_SECRET=s3cret testdata/servers/ejabberd.sh start /tmp/ejabberd
#   testdata/servers/ejabberd.sh register /tmp/ejabberd alice alicepw
#   testdata/servers/ejabberd.sh stop /tmp/ejabberd
#
# Files in DIR: etc/ (ejabberd.yml, ejabberdctl.cfg, inetrc), bin/ejabberdctl
# (a private copy that runs as the calling user, root included), spool/
# (Mnesia), log/ (ejabberd.log, error.log), home/ (HOME of the Erlang VMs),
# instance.env (settings), ejabberd.out (stdout and stderr), pid (the process
# group of ejabberdctl and its Erlang VM).
#
# Isolation between instances: a node name and cookie of its own, and
# Erlang distribution on ERL_DIST_PORT without epmd, so that neither a
# shared epmd nor ~/.erlang.cookie is involved.

KIND=ejabberd
SETTINGS="ERL_DIST_PORT NODE_NAME COOKIE"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$SELF")/lib.sh"

default_C2S_PORT() { echo 25222; }
default_COMPONENT_PORT() { echo 25347; }
default_HTTP_PORT() { echo 25280; }
default_ERL_DIST_PORT() { echo 25999; }
# The node name must stay the same across restarts: Mnesia's data belongs to
# it. It is saved in instance.env with the other settings.
default_NODE_NAME() { echo "jinglegate-$(random_hex 4)@localhost"; }
default_COOKIE() { random_hex 16; }

SYSTEM_EJABBERDCTL=/usr/sbin/ejabberdctl

server_installed() {
	[ -x "$SYSTEM_EJABBERDCTL" ] && command -v erl >/dev/null
}

server_validate() {
	check_port ERL_DIST_PORT "$ERL_DIST_PORT"
	check_match NODE_NAME "$NODE_NAME" '^[A-Za-z0-9_-]+@localhost$'
	check_match COOKIE "$COOKIE" '^[A-Za-z0-9]+$'
}

server_render() {
	mkdir -p "$DIR/etc" "$DIR/bin" "$DIR/spool" "$DIR/log" "$DIR/home"
	render "$SERVERS_DIR/ejabberd/ejabberd.yml.tmpl" "$DIR/etc/ejabberd.yml"
	render "$SERVERS_DIR/ejabberd/ejabberdctl.cfg.tmpl" "$DIR/etc/ejabberdctl.cfg"
	cp -f "$SERVERS_DIR/ejabberd/inetrc" "$DIR/etc/inetrc"

	# As root, Debian's ejabberdctl runs everything through `su ejabberd`,
	# which cannot use our directories. The private copy has INSTALLUSER
	# blanked, so it runs as the caller, and no "run as root" warning.
	sed -e 's/^INSTALLUSER=ejabberd$/INSTALLUSER=/' \
		-e '/echo "WARNING: It is not recommended to run ejabberd as root"/d' \
		"$SYSTEM_EJABBERDCTL" >"$DIR/bin/ejabberdctl.tmp"
	grep -q '^INSTALLUSER=$' "$DIR/bin/ejabberdctl.tmp" ||
		die "could not blank INSTALLUSER in $SYSTEM_EJABBERDCTL (changed upstream?)"
	chmod 755 "$DIR/bin/ejabberdctl.tmp"
	mv -f "$DIR/bin/ejabberdctl.tmp" "$DIR/bin/ejabberdctl"

	mark_log "$DIR/log/ejabberd.log"
}

# ejabberdctl_cmd prints nothing; it sets CTL to the private ejabberdctl
# with a clean Erlang environment.
ejabberdctl_cmd() {
	CTL=(env -u ERL_AFLAGS -u ERL_FLAGS -u ERL_ZFLAGS -u ERL_LIBS HOME="$DIR/home"
		"$DIR/bin/ejabberdctl" --config-dir "$DIR/etc")
}

server_launch() {
	ejabberdctl_cmd
	LAUNCH=("${CTL[@]}" foreground)
}

server_ports() { printf '%s\n' "$C2S_PORT" "$COMPONENT_PORT" "$HTTP_PORT"; }
server_extra_ports() { echo "$ERL_DIST_PORT"; }

# ejabberd opens its listeners while it is still starting modules; it is
# ready when it logs that it has started.
server_ready() {
	# (grep without -q reads all its input: with -q, the writer could die
	# of SIGPIPE and pipefail would fail the check.)
	log_since_start | grep ' is started in the node ' >/dev/null
}

server_logs() { printf '%s\n' "$DIR/log/ejabberd.log" "$DIR/log/error.log"; }

server_stop_signal() {
	# The Erlang VM stops gracefully (init:stop/0) on SIGTERM; ejabberdctl,
	# the group leader, exits with it.
	kill -TERM -- "-$1" 2>/dev/null || true
}

server_ctl() {
	ejabberdctl_cmd
	"${CTL[@]}" "$@"
}

server_register() {
	server_ctl register "$1" "$DOMAIN" "$2"
}

main "$@"
