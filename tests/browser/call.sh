#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Rooms and the classic call flow (issue 8): camgate and headless Chromium in a private
# network namespace; two pages video-chat through a room and a third calls camgate's camera.
#
# usage: tests/browser/call.sh path/to/camgate      (as root; exit 77 = skipped)
set -u
. "$(dirname "$0")/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
cg_enter_netns "$EXE"

PORT=18081
trap 'cg_stop_daemon' EXIT
cg_start_daemon "$EXE" "$PORT" --size=640x480 --fps=30 --bitrate=1000 || exit 1
node "$CG_BROWSER_DIR/call-e2e.js" --url "http://127.0.0.1:$PORT/" --frames 60 --timeout 60
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
[ "$rc" = 0 ] && echo "browser-call: PASS" || echo "browser-call: FAIL (exit $rc)"
exit "$rc"
