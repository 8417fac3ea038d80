#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Capture-to-display latency benchmark: camgate --source=test --audio=test and headless
# Chromium in a private network namespace; 300 frames at 1280x720@30 2 Mbit/s, then at
# 640x480@30. Prints p50/p95/max capture→display (read back from the block code in the
# picture), page load → first frame, and where the time goes (daemon encode and
# capture→send from /status, browser jitter buffer, decode, processing from getStats).
# Sound: the test tone beeps at every whole wall-clock second of capture time; the page
# finds each beep's onset in the received audio (AudioWorklet) and the time it is played
# out: audio capture→play p50/p95, and the A/V offset against the block-code latency of
# the same seconds.
#
# usage: tests/bench/latency.sh path/to/camgate    (as root; exit 77 = skipped)
#   FRAMES=300 SIZES="1280x720 640x480" FPS=30 BITRATE=2000 BEEPS=20 to change the runs
#   (BEEPS=0: video only, without --audio=test).
set -u
. "$(dirname "$0")/../browser/lib.sh"

EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
cg_require "$EXE"
cg_enter_netns "$EXE"

FRAMES=${FRAMES:-300}
SIZES=${SIZES:-1280x720 640x480}
FPS=${FPS:-30}
BITRATE=${BITRATE:-2000}
BEEPS=${BEEPS:-20}
AUDIO_ARGS=()
[ "$BEEPS" -gt 0 ] && AUDIO_ARGS=(--audio=test)
trap 'cg_stop_daemon' EXIT

rc=0
port=18180
summary=()
for size in $SIZES; do
	port=$((port + 1))
	label="latency $size@$FPS ${BITRATE}kbit/s"
	echo "==== $label ===="
	if ! cg_start_daemon "$EXE" "$port" --size="$size" --fps="$FPS" --bitrate="$BITRATE" "${AUDIO_ARGS[@]}"; then
		rc=1
		continue
	fi
	json=$(mktemp /tmp/camgate-latency.XXXXXX.json)
	node "$CG_BROWSER_DIR/e2e.js" --url "http://127.0.0.1:$port/" --mode bench \
		--frames "$FRAMES" --min-latencies "$FRAMES" --timeout $((FRAMES / FPS + BEEPS + 40)) \
		--audio-beeps "$BEEPS" --label "$size" --json "$json"
	r=$?
	cg_stop_daemon
	if [ "$r" != 0 ]; then
		rc=1
		cg_daemon_log
	fi
	summary+=("$(node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const f = (x) => (x == null || Number.isNaN(x) ? "n/a" : x.toFixed(1));
		const L = r.latency || {}, B = r.browser || {}, D = r.daemon || {}, V = r.av;
		console.log(`${process.argv[2].padEnd(10)} p50 ${f(L.p50)}  p95 ${f(L.p95)}  max ${f(L.max)}  ` +
			`first-frame ${f(r.loadToFirstFrameMs)}  enc ${f(D.encodeP50)}  c2s ${f(D.captureToSendP50)}  ` +
			`jb ${f(B.jitterBufferAvgMs)}  dec ${f(B.decodeAvgMs)}  proc ${f(B.processingAvgMs)}` +
			(V && V.n ? `  | audio p50 ${f(V.audio.p50)} p95 ${f(V.audio.p95)}  A/V offset p50 ${f(V.offset.p50)} ` +
				`p95 ${f(V.offset.p95)} (n=${V.n})` : ""));
	' "$json" "$size" 2>/dev/null || echo "$size  no result")")
	rm -f "$json"
done

echo "==== summary (ms; c2s = daemon capture→send p50, jb/dec/proc = browser averages;" \
	"audio = capture→play of the test tone's beeps, A/V offset = audio − video, > 0: sound late) ===="
printf '%s\n' "${summary[@]}"
exit "$rc"
