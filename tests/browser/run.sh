#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Browser end-to-end test: camgate --source=test and headless Chromium in a private network
# namespace; the viewer page must play H.264 and read back plausible latencies.
#
# usage: tests/browser/run.sh path/to/camgate      (as root; exit 77 = skipped)
set -u
. "$(dirname "$0")/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
cg_enter_netns "$EXE"

PORT=18080
trap 'cg_stop_daemon' EXIT
cg_start_daemon "$EXE" "$PORT" --size=1280x720 --fps=30 --bitrate=2000 || exit 1

node "$CG_BROWSER_DIR/e2e.js" --url "http://127.0.0.1:$PORT/" --mode test \
	--frames 90 --min-latencies 60 --timeout 60 --label browser-e2e
rc=$?
if ! kill -0 "$CG_DAEMON_PID" 2>/dev/null; then
	echo "FAIL: camgate died during the test"
	rc=1
fi
cg_stop_daemon
cg_daemon_log
[ "$rc" = 0 ] && echo "browser-e2e: PASS" || echo "browser-e2e: FAIL (exit $rc)"
exit "$rc"
