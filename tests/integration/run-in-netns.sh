#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a test binary inside a fresh network namespace that holds only an "up" loopback
# interface, so the daemon and its viewers can talk over 127.0.0.1 and nothing reaches the
# machine's own addresses or leaves it. The namespace ends with its last process.
#
# usage: run-in-netns.sh TEST [ARGS...]
#
# Skips (a TAP "1..0 # SKIP" line and exit 77) without root or when unshare fails.
# Meson's TAP runner counts any non-zero exit as an error, so meson.build sets
# CG_SKIP_STATUS=0 and the skip then shows as SKIP from the TAP plan alone.
set -u

skip() {
	echo "1..0 # SKIP $*"
	echo "SKIP: $*" >&2
	exit "${CG_SKIP_STATUS:-77}"
}

[ $# -ge 1 ] || { echo "usage: $0 TEST [ARGS...]" >&2; exit 2; }

if [ -z "${CG_TEST_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root to create a network namespace (unshare --net)"
	command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
	command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
	unshare --net true 2>/dev/null || skip "unshare --net fails here (no CAP_SYS_ADMIN?)"
	CG_TEST_NETNS=1 exec unshare --net "$0" "$@"
fi

ip link set lo up || { echo "Bail out! cannot bring lo up in the namespace"; exit 1; }
exec "$@"
