#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Capture-to-display latency benchmark: camgate --source=test --audio=test and headless
# Chromium in a private network namespace; 300 frames at 1280x720@30 2 Mbit/s, then at
# 640x480@30, each against the reference sender of issue 2 (tests/bench/reference-whep.py:
# GStreamer webrtcbin, x264 zerolatency, the same picture) read back by the same page.
# Prints p50/p95/max capture→display (read back from the block code in the picture: the
# compositor frame that draws it, see web/app.js), page load → first frame, and where the
# time goes: capture → last packet received, → made the video's current frame, → drawn;
# daemon encode and capture→send from /status; browser jitter buffer, decode, processing
# from getStats.
# Sound: the test tone beeps at every whole wall-clock second of capture time; the page
# finds each beep's onset in the received audio (AudioWorklet) and the time it is played
# out: audio capture→play p50/p95, and the A/V offset against the block-code latency of
# the same seconds.
#
# usage: tests/bench/latency.sh path/to/camgate    (as root; exit 77 = skipped)
#   FRAMES=300 SIZES="1280x720 640x480" FPS=30 BITRATE=2000 BEEPS=20 RUNS=3 REFERENCE=auto
#   to change the runs (BEEPS=0: video only, without --audio=test; REFERENCE=0: camgate
#   only, 1: the reference sender is required).
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
# The reference sender of issue 2 (GStreamer webrtcbin, x264 zerolatency, shared encoder),
# read back by the same page: REFERENCE=0 leaves it out, REFERENCE=1 requires it.
REFERENCE=${REFERENCE:-auto}
REF_PY=/usr/bin/python3
REF_SCRIPT=$(dirname "$0")/reference-whep.py
WEB_DIR=$(cd "$(dirname "$0")/../../web" && pwd)
reference_ok() {
	"$REF_PY" -c 'import gi; gi.require_version("GstWebRTC", "1.0"); from gi.repository import GstWebRTC' \
		2>/dev/null && gst-inspect-1.0 x264enc >/dev/null 2>&1 && gst-inspect-1.0 nicesrc >/dev/null 2>&1
}
if [ "$REFERENCE" != 0 ] && ! reference_ok; then
	[ "$REFERENCE" = 1 ] && { echo "FAIL: REFERENCE=1 but GStreamer webrtcbin/x264enc/nice are missing" \
		"(apt-get install python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 gstreamer1.0-plugins-{good,bad,ugly} gstreamer1.0-nice)"; exit 1; }
	echo "note: no GStreamer webrtcbin here: the reference sender is left out"
	REFERENCE=0
fi
REF_PID=
stop_reference() {
	[ -n "$REF_PID" ] || return 0
	kill -TERM "$REF_PID" 2>/dev/null
	wait "$REF_PID" 2>/dev/null
	REF_PID=
}
trap 'cg_stop_daemon; stop_reference' EXIT

# run_page LABEL URL: one page run, its result appended to the summary.
rc=0
summary=()
run_page() {
	local label=$1 url=$2 json r
	json=$(mktemp /tmp/camgate-latency.XXXXXX.json)
	node "$CG_BROWSER_DIR/e2e.js" --url "$url" --mode bench \
		--frames "$FRAMES" --min-latencies "$FRAMES" --timeout $((FRAMES / FPS + BEEPS + 40)) \
		--audio-beeps "$3" --label "$label" --json "$json"
	r=$?
	[ "$r" = 0 ] || rc=1
	summary+=("$(node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const f = (x) => (x == null || Number.isNaN(x) ? "n/a" : x.toFixed(1));
		const L = r.latency || {}, P = r.presented || {}, R = r.receive || {}, B = r.browser || {}, D = r.daemon || {}, V = r.av;
		console.log(`${process.argv[2].padEnd(20)} display p50 ${f(L.p50)} p95 ${f(L.p95)} max ${f(L.max)}  ` +
			`received p50 ${f(R.p50)}  presented p50 ${f(P.p50)} p95 ${f(P.p95)}  callback p50 ${f(r.callback && r.callback.p50)}  ` +
			`first-frame ${f(r.loadToFirstFrameMs)}  enc ${f(D.encodeP50)}  c2s ${f(D.captureToSendP50)}  ` +
			`jb ${f(B.jitterBufferAvgMs)}  dec ${f(B.decodeAvgMs)}  proc ${f(B.processingAvgMs)}` +
			(V && V.n ? `  | audio p50 ${f(V.audio.p50)} p95 ${f(V.audio.p95)}  A/V offset p50 ${f(V.offset.p50)} ` +
				`p95 ${f(V.offset.p95)} (n=${V.n})` : ""));
	' "$json" "$label" 2>/dev/null || echo "$label  no result")")
	rm -f "$json"
	return "$r"
}

# The sender's capture clock and the display's refresh run at independent phases, and a
# frame waits up to one refresh (16.7 ms at 60 Hz) for the compositor's next frame: a run's
# median moves by up to that much with the phase it happened to get. RUNS runs of each
# sender, alternating, average it out.
RUNS=${RUNS:-3}
port=18180
for size in $SIZES; do
	for run in $(seq "$RUNS"); do
		port=$((port + 1))
		echo "==== latency $size@$FPS ${BITRATE}kbit/s: camgate (run $run of $RUNS) ===="
		if cg_start_daemon "$EXE" "$port" --size="$size" --fps="$FPS" --bitrate="$BITRATE" "${AUDIO_ARGS[@]}"; then
			run_page "camgate $size #$run" "http://127.0.0.1:$port/" "$BEEPS" || { cg_stop_daemon; cg_daemon_log; }
			cg_stop_daemon
		else
			rc=1
		fi
		[ "$REFERENCE" = 0 ] && continue
		echo "==== latency $size@$FPS ${BITRATE}kbit/s: reference, GStreamer webrtcbin (run $run of $RUNS) ===="
		"$REF_PY" "$REF_SCRIPT" --port $((port + 100)) --size "$size" --fps "$FPS" --bitrate "$BITRATE" \
			--web "$WEB_DIR" > /tmp/camgate-latency-reference.log 2>&1 &
		REF_PID=$!
		cg_wait_listening "$REF_PID" $((port + 100)) 10
		run_page "reference $size #$run" "http://127.0.0.1:$((port + 100))/" 0 ||
			tail -n 50 /tmp/camgate-latency-reference.log
		stop_reference
	done
done

echo "==== summary (ms; display = capture → the compositor frame that draws it, the latency figure;" \
	"received = capture → last packet in; presented = capture → made the video's current frame;" \
	"c2s = daemon capture→send p50; jb/dec/proc = browser averages;" \
	"audio = capture→play of the test tone's beeps, A/V offset = audio − video, > 0: sound late) ===="
printf '%s\n' "${summary[@]}"
exit "$rc"
