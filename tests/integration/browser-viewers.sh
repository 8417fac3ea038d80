#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Many viewers with a real browser among them: 20 load-client viewers (tests/bench/load.c:
# real ICE/DTLS/SRTP, every frame checked complete) and one headless Chromium
# (browser-watch.js) watch camgate at
# 1280x720@30, 2 Mbit/s at once; all must receive complete frames. Runs in a private
# network namespace (tests/browser/lib.sh).
#
# usage: tests/integration/browser-viewers.sh path/to/camgate path/to/load   (as root)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../browser/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
LOAD=$(realpath -e "${2:-}" 2>/dev/null || echo "${2:-}")
cg_require "$EXE"
[ -x "$LOAD" ] || { echo "FAIL: load client '$LOAD' not found"; exit 1; }
if [ -z "${CG_IN_NETNS:-}" ]; then
	CG_IN_NETNS=1 exec unshare --net bash "$0" "$EXE" "$LOAD"
fi
cg_enter_netns

PORT=18095
trap 'cg_stop_daemon' EXIT
cg_start_daemon "$EXE" "$PORT" --size=1280x720 --fps=30 --bitrate=2000 || exit 1

rc=0
OUT=$(mktemp /tmp/camgate-mixed.XXXXXX.txt)
"$LOAD" --port="$PORT" --viewers=20 --threads=1 --ramp=20 --duration=25 --settle=2 \
	--check-complete >"$OUT" 2>&1 &
LOAD_PID=$!
node "$HERE/browser-watch.js" --url "http://127.0.0.1:$PORT/" --seconds 20
watch_rc=$?
[ "$watch_rc" = 0 ] || [ "$watch_rc" = 3 ] || rc=1
wait "$LOAD_PID" || { echo "FAIL: the load client's check failed"; rc=1; }
echo "load client (20 viewers): $(grep -E '^(joined|aus_lost_total|fps_per_viewer|join_ms_p95|check)=' "$OUT" | paste -sd' ')"
rm -f "$OUT"
cg_stop_daemon
grep -E "closed after" "$CG_DAEMON_LOG" | tail -3
# Packets Chromium never got are acceptable only as the drop policy: some viewer's session
# must have skipped frames (a busy or sanitized daemon lets a worker fall behind).
if [ "$watch_rc" = 3 ]; then
	if grep -qE "closed after .* [1-9][0-9]* frames skipped" "$CG_DAEMON_LOG"; then
		echo "the packets Chromium missed were frames camgate skipped (drop to keyframe)"
	else
		echo "FAIL: packets lost that camgate did not skip"; rc=1
	fi
fi
[ "$rc" = 0 ] && echo "browser-viewers: PASS" || { cg_daemon_log; echo "browser-viewers: FAIL"; }
exit "$rc"
