#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The house's dependency rules (docs/architecture.md, "Dependencies"). A module is a .c file
# and the .h of the same name (folder/name); an #include "folder/name.h" is an edge. Fails
# when the modules under daemon/ and hw/ include each other in a circle, or when a folder
# reaches into one it must not (the table below).
# Usage: check-deps.sh [source-root]
set -u

root=${1:-$(dirname "$0")/..}
if [ ! -d "$root/daemon" ]; then
	echo "check-deps: no daemon/ under $root" >&2
	exit 2
fi
cd "$root" || exit 2
edges=$(mktemp)
trap 'rm -f "$edges" "$edges.err"' EXIT

# A module's name: its path under daemon/ without the extension. signaling/router.h is the
# router's internal header (signaling.c) that its handlers (whep.c, login.c) include: part of
# the signaling module. A _none.c file stands in for its module when a library is missing.
# Each "file:#include "dep.h"" line becomes "module dep-module"; self-edges are dropped.
find daemon $([ -d hw ] && echo hw) \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print0 |
	xargs -0 grep -HE '^#[[:space:]]*include[[:space:]]*"[a-z0-9_/]+\.h"' |
	awk -F'"' '
		function module(path) {
			sub(/^daemon\//, "", path)
			sub(/\.(c|h|cpp)$/, "", path)
			sub(/_none$/, "", path)
			if (path == "signaling/router")
				path = "signaling/signaling"
			return path
		}
		{
			file = $1
			sub(/:.*$/, "", file)
			from = module(file)
			to = module($2)
			if (from != to)
				print from, to
		}' | sort -u >"$edges"

status=0
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	echo "check-deps: these modules include each other in a circle:" >&2
	grep -v 'input contains a loop' "$edges.err" | sed 's/^tsort: /  /' >&2
	status=1
fi

# from;to;why: no module matching from (an extended regexp) may include one matching to.
while IFS=';' read -r from to why; do
	[ -n "$from" ] || continue
	hits=$(awk -v f="^($from)\$" -v t="^($to)\$" '$1 ~ f && $2 ~ t { print "  " $1 " includes " $2 }' "$edges")
	if [ -n "$hits" ]; then
		echo "$hits" >&2
		echo "check-deps: $why" >&2
		status=1
	fi
done <<'RULES'
proto/.*;(app|media|fanout|signaling|net|crypto|audio|hw)/.*;proto/ is pure: it knows only util/
hw/.*;(app|media|fanout|signaling)/.*;hardware backends know nothing of the daemon
media/.*;fanout/worker|fanout/session|signaling/.*;the media thread publishes to its hub and knows no viewer
fanout/hub;fanout/worker|fanout/session|media/media|signaling/.*;the hub knows units, not who makes or sends them
fanout/session;fanout/worker|signaling/.*|app/main;a session is hosted (cg_session_host): it knows no worker and no signaling
fanout/worker;signaling/.*|app/main;workers serve sessions; signaling drives them
(net|crypto|util)/.*;(app|media|fanout|signaling)/.*;transport, crypto and util sit below the daemon
RULES

if [ "$status" -eq 0 ]; then
	echo "check-deps: $(wc -l <"$edges") include edges between modules, no circle, no forbidden edge"
fi
exit "$status"
