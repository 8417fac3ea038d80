#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The grid of cameras (issue 13): camgate with two test-pattern cameras of different sizes
# and headless Chromium in a private network namespace. "/" must be the grid, every tile
# must decode its camera at its size, recover when its stream is dropped, and open the
# camera's viewer page (/cam/NAME/), which must play that camera.
#
# usage: tests/browser/grid.sh path/to/camgate      (as root; exit 77 = skipped)
set -u
. "$(dirname "$0")/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
# --help-all: every option group, wherever --camera is listed.
"$EXE" --help-all 2>&1 | grep -q -e '--camera' ||
	cg_skip "this camgate has no --camera option (several cameras in one daemon, issue 13)"
cg_enter_netns "$EXE"

PORT=18082
trap 'cg_stop_daemon' EXIT
cg_start_daemon_args "$EXE" "$PORT" --camera=front=test,size=640x480 \
	--camera=back=test,size=320x240 || exit 1
node "$CG_BROWSER_DIR/grid-e2e.js" --url "http://127.0.0.1:$PORT/" --frames 30 --timeout 60 \
	--camera front=640x480 --camera back=320x240
rc=$?
if ! kill -0 "$CG_DAEMON_PID" 2>/dev/null; then
	echo "FAIL: camgate died during the test"
	rc=1
fi
cg_stop_daemon
cg_daemon_log
# Sanitizer builds: a leak or memory error in the daemon, even at exit, fails the test.
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)' "$CG_DAEMON_LOG"; then
	echo "FAIL: camgate reported a sanitizer error (see its log above)"
	rc=1
fi
[ "$rc" = 0 ] && echo "browser-grid: PASS" || echo "browser-grid: FAIL (exit $rc)"
exit "$rc"
