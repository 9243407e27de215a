#!/usr/bin/env bash
# prosody.sh runs a private Prosody 0.12 on loopback ports, with its config,
# data and logs in one directory. It is what internal/xmpptest uses in tests
# and what `make demo` uses to get a server; run it without arguments for
# help. Example:
#
#   C2S_PORT=15222 COMPONENT_PORT=15347 HTTP_PORT=15280 \
#   COMPONENT_SECRET=s3cret testdata/servers/prosody.sh start /tmp/prosody
#   testdata/servers/prosody.sh register /tmp/prosody alice alicepw
#   testdata/servers/prosody.sh stop /tmp/prosody
#
# Files in DIR: prosody.cfg.lua (rendered from prosody/prosody.cfg.lua.tmpl),
# instance.env (settings), data/, certs/ (empty), prosody.log (the server's
# log), prosody.out (its stdout and stderr), pid (the server's process group).
#
# Traps handled here (see shared TESTING.md): as root Prosody needs
# run_as_root, or it refuses and then hangs with its ports bound; never run
# `prosody --version`, which starts a server from /etc/prosody.

KIND=prosody
SETTINGS=""
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$SELF")/lib.sh"

default_C2S_PORT() { echo 15222; }
default_COMPONENT_PORT() { echo 15347; }
default_HTTP_PORT() { echo 15280; }

server_installed() {
	command -v prosody >/dev/null && command -v prosodyctl >/dev/null &&
		{ [ "$PRIVILEGE" != 1 ] || [ -f /usr/lib/prosody/modules/mod_privilege/mod_privilege.lua ]; }
}

server_validate() { :; }

server_render() {
	mkdir -p "$DIR/data" "$DIR/certs"
	render "$SERVERS_DIR/prosody/prosody.cfg.lua.tmpl" "$DIR/prosody.cfg.lua"
	mark_log "$DIR/prosody.log"
}

server_launch() {
	LAUNCH=(prosody --config "$DIR/prosody.cfg.lua" -F)
}

server_ports() { printf '%s\n' "$C2S_PORT" "$COMPONENT_PORT" "$HTTP_PORT"; }
server_extra_ports() { :; }

# Prosody only serves connections once every host is loaded (its event loop
# starts after start-up), so open ports are enough; but a port it could not
# bind is only logged, so look for that.
server_ready() {
	if log_since_start | grep 'Failed to open server port' >&2; then
		fail_start "Prosody could not bind one of its ports"
	fi
}

server_logs() { echo "$DIR/prosody.log"; }

server_stop_signal() {
	kill -TERM -- "-$1" 2>/dev/null || true
}

server_ctl() {
	prosodyctl --config "$DIR/prosody.cfg.lua" "$@"
}

# prosody_encode mirrors util.datamanager's encode: every byte that is not
# a letter or digit becomes %xx.
prosody_encode() {
	local s="$1" out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c="${s:i:1}"
		case "$c" in
		[A-Za-z0-9]) out+="$c" ;;
		*) out+="$(printf '%%%02x' "'$c")" ;;
		esac
	done
	printf '%s' "$out"
}

server_register() {
	# prosodyctl writes the account file directly, so this works whether or
	# not the server runs; but it silently overwrites an existing account,
	# where ejabberd refuses. Refuse here too.
	local account
	account="$DIR/data/$(prosody_encode "$DOMAIN")/accounts/$(prosody_encode "$1").dat"
	[ ! -e "$account" ] || die "conflict: user $1@$DOMAIN already registered"
	server_ctl register "$1" "$DOMAIN" "$2"
	[ -e "$account" ] || die "prosodyctl did not create $account"
}

main "$@"
