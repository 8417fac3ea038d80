#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Browser end-to-end test: camgate --source=test --audio=test --speaker=cgtest and headless
# Chromium in a private network namespace; the viewer page must play H.264, read back
# plausible latencies, receive the test tone (Opus) and send Chromium's fake microphone
# by push-to-talk to the daemon's speaker: an ALSA "file" PCM (cgtest, defined in a
# private ALSA_CONFIG_PATH given to the daemon only) whose recording the test reads back.
#
# usage: tests/browser/run.sh path/to/camgate      (as root; exit 77 = skipped)
set -u
. "$(dirname "$0")/lib.sh"

cg_browser_setup "${1:-}"

PORT=18080
ARGS=(--size=1280x720 --fps=30 --bitrate=2000 --audio=test --speaker=cgtest)
AUDIO_DIR=$(mktemp -d /tmp/camgate-audio.XXXXXX)
PLAYED="$AUDIO_DIR/played.raw"
ASOUND=$(cg_alsa_file_pcm "$AUDIO_DIR" "$PLAYED")
trap 'cg_stop_daemon; rm -rf "$AUDIO_DIR"' EXIT
ALSA_CONFIG_PATH=$ASOUND cg_start_daemon "$EXE" "$PORT" "${ARGS[@]}" || exit 1

# e2e.js restarts the daemon once (same command line) to check that the page reconnects
# by itself; it writes the new daemon's PID here so that we stop that one at the end.
PIDFILE=$(mktemp /tmp/camgate-restart.XXXXXX.pid)
CMD=$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- \
	env ALSA_CONFIG_PATH="$ASOUND" "$EXE" --source=test --listen="127.0.0.1:$PORT" "${ARGS[@]}")
node "$CG_BROWSER_DIR/e2e.js" --url "http://127.0.0.1:$PORT/" --mode test \
	--frames 90 --min-latencies 60 --timeout 60 --label browser-e2e \
	--audio --playback-file "$PLAYED" --talk-ms 2000 \
	--restart-pid "$CG_DAEMON_PID" --restart-cmd "$CMD" \
	--restart-pidfile "$PIDFILE" --restart-log "$CG_DAEMON_LOG"
rc=$?
if [ -s "$PIDFILE" ]; then
	wait "$CG_DAEMON_PID" 2>/dev/null # the first daemon, stopped by e2e.js
	CG_DAEMON_PID=$(cat "$PIDFILE")
fi
rm -f "$PIDFILE"
if ! kill -0 "$CG_DAEMON_PID" 2>/dev/null; then
	echo "FAIL: camgate died during the test"
	rc=1
fi
cg_stop_daemon
cg_daemon_log
[ "$rc" = 0 ] && echo "browser-e2e: PASS" || echo "browser-e2e: FAIL (exit $rc)"
exit "$rc"
