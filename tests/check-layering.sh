#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# STYLE 4.3: daemon/proto/ is pure protocol code. Fail when it includes thread, socket or
# GLib headers, reads a clock, draws randomness or logs. Usage: check-layering.sh [proto-dir]
set -u

dir=${1:-$(dirname "$0")/../daemon/proto}
if [ ! -d "$dir" ]; then
	echo "check-layering: no such directory: $dir" >&2
	exit 2
fi

status=0
# Drop comments before matching, so prose may name what it forbids: // to end of line,
# /* ... */ on one line, and the " * " continuation lines of block comments.
strip='s:/\*.*\*/::g; s://.*$::; s:^[[:space:]]*/\*.*$::; s:^[[:space:]]*\*.*$::'

check() {
	what=$1
	pattern=$2
	for f in $(find "$dir" -name '*.[ch]' | sort); do
		hits=$(sed -e "$strip" "$f" | grep -En "$pattern")
		if [ -n "$hits" ]; then
			echo "$hits" | sed "s|^|$f: |" >&2
			echo "check-layering: daemon/proto must not $what" >&2
			status=1
		fi
	done
}

check "include thread headers" '#[[:space:]]*include[[:space:]]*[<"](pthread|threads)\.h[>"]'
check "include socket headers" '#[[:space:]]*include[[:space:]]*[<"](sys/socket|netinet/[a-z]+|arpa/inet|netdb)\.h[>"]'
check "include GLib" '#[[:space:]]*include[[:space:]]*[<"](glib|gio/gio|glib/[a-z]+)\.h[>"]'
check "include util/log.h or util/time.h" '#[[:space:]]*include[[:space:]]*[<"]util/(log|time)\.h[>"]'
check "read clocks" '(^|[^_[:alnum:]])(clock_gettime|gettimeofday|time|cg_mono_usec|cg_wall_usec|cg_clock_usec)[[:space:]]*\('
check "draw randomness" '(^|[^_[:alnum:]])(rand|random|srand|getrandom|arc4random|cg_rand_[a-z0-9_]+)[[:space:]]*\('
check "log or print" '(^|[^_[:alnum:]])(printf|fprintf|vfprintf|puts|fputs|perror|syslog|cg_log|cg_log_write|cg_(err|warn|notice|info|debug|trace))[[:space:]]*\('
check "use sockets" '(^|[^_[:alnum:]])(socket|sendto|recvfrom|sendmsg|recvmsg|sendmmsg)[[:space:]]*\('

if [ "$status" -eq 0 ]; then
	echo "check-layering: $dir is pure"
fi
exit "$status"
