#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Rooms and the classic call flow (issue 8): camgate and headless Chromium in a private
# network namespace; two pages video-chat through a room and a third calls camgate's camera.
#
# usage: tests/browser/call.sh path/to/camgate      (as root; exit 77 = skipped)
set -u
. "$(dirname "$0")/lib.sh"

cg_browser_setup "${1:-}"

PORT=18081
trap 'cg_stop_daemon' EXIT
cg_start_daemon "$EXE" "$PORT" --size=640x480 --fps=30 --bitrate=1000 || exit 1
node "$CG_BROWSER_DIR/call-e2e.js" --url "http://127.0.0.1:$PORT/" --frames 60 --timeout 60
cg_browser_finish browser-call $?
