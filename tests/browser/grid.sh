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

cg_browser_setup "${1:-}"
# --help-all: every option group, wherever --camera is listed.
"$EXE" --help-all 2>&1 | grep -q -e '--camera' ||
	cg_skip "this camgate has no --camera option (several cameras in one daemon, issue 13)"

PORT=18082
trap 'cg_stop_daemon' EXIT
cg_start_daemon_args "$EXE" "$PORT" --camera=front=test,size=640x480 \
	--camera=back=test,size=320x240 || exit 1
node "$CG_BROWSER_DIR/grid-e2e.js" --url "http://127.0.0.1:$PORT/" --frames 30 --timeout 60 \
	--camera front=640x480 --camera back=320x240
cg_browser_finish browser-grid $?
