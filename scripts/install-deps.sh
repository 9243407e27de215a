#!/usr/bin/env bash
# shellcheck disable=SC2034 # the group_* lists are read indirectly, ${!var}
# install-deps.sh installs the system packages that jinglegate's integration
# tests, benchmarks and demo need. It is idempotent: when everything is
# already present it makes no change and returns in well under a second.
#
# Usage:
#   scripts/install-deps.sh            # every group below
#   scripts/install-deps.sh xmpp       # only the named groups
#
# Groups are lists of Debian packages. To add a dependency, append it to a
# group (or add a new group_NAME variable and list it in ALL_GROUPS); nothing
# else needs to change.
#
# Environment:
#   APT_LOCK_TIMEOUT  seconds to wait for a dpkg lock held by another apt
#                     process (default 300)
#
# Must run as root (it uses apt-get) when something is missing. Concurrent
# runs (for example, several test packages starting servers at once) are
# serialized with a lock file so that only one apt-get runs at a time.
set -euo pipefail

# XMPP servers and the TURN server used by the integration tests.
group_xmpp="prosody prosody-modules ejabberd coturn curl"

# Headless Chromium for the browser end-to-end tests (e2e/). Node.js and npm
# are not listed: the machine has its own (do not install Debian's nodejs over
# them). iproute2 gives `ip`, which e2e/run.sh uses inside `unshare -n`.
group_browser="chromium iproute2"

ALL_GROUPS="xmpp browser"

log() { printf 'install-deps: %s\n' "$*" >&2; }

# missing PKG... prints the packages that are not installed.
missing() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[ "$status" = installed ] || printf '%s\n' "$pkg"
	done
}

main() {
	local groups=("$@") pkgs=() g var
	[ ${#groups[@]} -gt 0 ] || read -r -a groups <<<"$ALL_GROUPS"
	for g in "${groups[@]}"; do
		var="group_$g"
		if [ -z "${!var+x}" ]; then
			log "unknown group '$g' (known: $ALL_GROUPS)"
			exit 2
		fi
		read -r -a more <<<"${!var}"
		pkgs+=("${more[@]}")
	done

	local todo
	todo=$(missing "${pkgs[@]}")
	[ -n "$todo" ] || return 0

	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages: ${todo//$'\n'/ }; run this script as root to install them"
		exit 1
	fi

	# Serialize concurrent runs; re-check once we hold the lock, since the
	# previous holder may have installed what we need.
	exec 9>"${TMPDIR:-/tmp}/jinglegate-install-deps.lock"
	flock 9
	todo=$(missing "${pkgs[@]}")
	[ -n "$todo" ] || return 0

	# shellcheck disable=SC2086 # word splitting of the package list is intended
	set -- $todo
	log "installing: $*"
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get -y -qq -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-300}"
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	# policy-rc.d keeps Debian's maintainer scripts from starting the system
	# services (tests always run private instances on their own ports).
	local policy=/usr/sbin/policy-rc.d created_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		created_policy=1
	fi
	local rc=0
	if ! "${apt[@]}" install "$@" >/dev/null 2>&1; then
		log "apt-get install failed; running apt-get update and retrying"
		if "${apt[@]}" update >/dev/null 2>&1; then
			"${apt[@]}" install "$@" >/dev/null || rc=$?
		else
			log "apt-get update failed"
			rc=1
		fi
	fi
	[ -z "$created_policy" ] || rm -f "$policy"
	[ "$rc" -eq 0 ] || { log "could not install: $*"; exit "$rc"; }
	todo=$(missing "${pkgs[@]}")
	if [ -n "$todo" ]; then
		log "still missing after install: ${todo//$'\n'/ }"
		exit 1
	fi
}

main "$@"
