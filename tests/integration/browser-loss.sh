#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Loss recovery with a real browser: headless Chromium watches camgate (1280x720@30,
# 2 Mbit/s) through a relay that loses 5 % of the datagrams each way and delays them 50 ms
# (browser-loss.js; this kernel has no sch_netem). Chromium keeps decoding, its NACKs are
# answered from camgate's history, freezes are counted and reported. Runs in a private
# network namespace (tests/browser/lib.sh).
#
# usage: tests/integration/browser-loss.sh path/to/camgate   (as root; exit 77 = skipped)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../browser/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
cg_enter_netns "$EXE"

PORT=18097
trap 'cg_stop_daemon' EXIT
cg_start_daemon "$EXE" "$PORT" --size=1280x720 --fps=30 --bitrate=2000 || exit 1
node "$HERE/browser-loss.js" --url "http://127.0.0.1:$PORT/" --seconds 20 --loss 0.05 \
	--delay-ms 50
rc=$?
if ! kill -0 "$CG_DAEMON_PID" 2>/dev/null; then
	echo "FAIL: camgate died during the test"
	rc=1
fi
cg_stop_daemon
grep -E "closed after" "$CG_DAEMON_LOG" | tail -2
[ "$rc" = 0 ] && echo "browser-loss: PASS" || { cg_daemon_log; echo "browser-loss: FAIL"; }
exit "$rc"
