#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Capture-to-display latency benchmark: camgate --source=test and headless Chromium in a
# private network namespace; 300 frames at 1280x720@30 2 Mbit/s, then at 640x480@30.
# Prints p50/p95/max capture→display (read back from the block code in the picture), page
# load → first frame, and where the time goes (daemon encode and capture→send from
# /status, browser jitter buffer, decode, processing from getStats).
#
# usage: tests/bench/latency.sh path/to/camgate    (as root; exit 77 = skipped)
#   FRAMES=300 SIZES="1280x720 640x480" FPS=30 BITRATE=2000 to change the runs.
set -u
. "$(dirname "$0")/../browser/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
cg_enter_netns "$EXE"

FRAMES=${FRAMES:-300}
SIZES=${SIZES:-1280x720 640x480}
FPS=${FPS:-30}
BITRATE=${BITRATE:-2000}
trap 'cg_stop_daemon' EXIT

rc=0
port=18180
summary=()
for size in $SIZES; do
	port=$((port + 1))
	label="latency $size@$FPS ${BITRATE}kbit/s"
	echo "==== $label ===="
	if ! cg_start_daemon "$EXE" "$port" --size="$size" --fps="$FPS" --bitrate="$BITRATE"; then
		rc=1
		continue
	fi
	json=$(mktemp /tmp/camgate-latency.XXXXXX.json)
	node "$CG_BROWSER_DIR/e2e.js" --url "http://127.0.0.1:$port/" --mode bench \
		--frames "$FRAMES" --min-latencies "$FRAMES" --timeout $((FRAMES / FPS + 40)) \
		--label "$size" --json "$json"
	r=$?
	cg_stop_daemon
	if [ "$r" != 0 ]; then
		rc=1
		cg_daemon_log
	fi
	summary+=("$(node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const f = (x) => (x == null || Number.isNaN(x) ? "n/a" : x.toFixed(1));
		const L = r.latency || {}, B = r.browser || {}, D = r.daemon || {};
		console.log(`${process.argv[2].padEnd(10)} p50 ${f(L.p50)}  p95 ${f(L.p95)}  max ${f(L.max)}  ` +
			`first-frame ${f(r.loadToFirstFrameMs)}  enc ${f(D.encodeP50)}  c2s ${f(D.captureToSendP50)}  ` +
			`jb ${f(B.jitterBufferAvgMs)}  dec ${f(B.decodeAvgMs)}  proc ${f(B.processingAvgMs)}`);
	' "$json" "$size" 2>/dev/null || echo "$size  no result")")
	rm -f "$json"
done

echo "==== summary (ms; c2s = daemon capture→send p50, jb/dec/proc = browser averages) ===="
printf '%s\n' "${summary[@]}"
exit "$rc"
