#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Viewer benchmark: camgate (test pattern, 1280x720 at 30 fps, 2 Mbit/s) and the load client
# (tests/bench/load.c: real ICE, DTLS and SRTP per viewer) in a private network namespace.
# For 1, 10, 50, 100 and 200 viewers it prints the daemon's own CPU seconds per
# viewer-minute (utime+stime from /proc/PID/stat over the steady state), its resident
# memory per viewer (VmRSS growth / N), the packets per second it sent (as received), and
# join-to-first-frame p50/p95.
#
# usage: tests/bench/viewers.sh path/to/camgate path/to/load [COUNTS...]   (as root)
# env:   CG_BENCH_DURATION (s, default 20), CG_BENCH_LOAD_ARGS (extra load client args),
#        CG_BENCH_CAMERAS (default 1; 2: two test-pattern cameras, both 1280x720 at 30 fps
#        and 2 Mbit/s, each with its own encoder, the viewers split evenly between them)
set -u

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
skip() { cg_bench_skip "$@"; }

EXE=$(realpath -e "${1:-}" 2>/dev/null) || { echo "usage: $0 camgate load [N...]" >&2; exit 2; }
LOAD=$(realpath -e "${2:-}" 2>/dev/null) || { echo "usage: $0 camgate load [N...]" >&2; exit 2; }
shift 2
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 10 50 100 200)
DURATION=${CG_BENCH_DURATION:-20}
CAMERAS=${CG_BENCH_CAMERAS:-1}
case $CAMERAS in 1|2) ;; *) echo "CG_BENCH_CAMERAS must be 1 or 2" >&2; exit 2 ;; esac

cg_bench_enter_netns "$EXE" "$LOAD" "${COUNTS[@]}"

PORT=18090
DAEMON_PID=
LOG=$(mktemp /tmp/camgate-viewers.XXXXXX.log)

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}
trap stop_daemon EXIT

if [ "$CAMERAS" = 2 ]; then
	SOURCE_ARGS=(--camera=a=test,size=1280x720,fps=30,bitrate=2000
		--camera=b=test,size=1280x720,fps=30,bitrate=2000)
	PATH_ARGS=(--paths=/cam/a/whep,/cam/b/whep)
else
	SOURCE_ARGS=(--source=test --size=1280x720 --fps=30 --bitrate=2000)
	PATH_ARGS=()
fi

start_daemon() {
	"$EXE" "${SOURCE_ARGS[@]}" --listen="127.0.0.1:$PORT" \
		--max-viewers=1000 --log-level=warn >"$LOG" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "camgate did not start; its log:"; cat "$LOG"; return 1
}

val() { sed -n "s/^$1=//p" "$2" | tail -1; }

# The x264 preset the daemon runs now (--x264-preset=auto steps faster on a busy machine,
# which changes its CPU figures), from /status.
x264_preset() {
	local reply
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 0
	printf 'GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	reply=$(timeout 5 cat <&3)
	exec 3<&-
	sed -n 's/.*"x264_preset":"\([a-z]*\)".*/\1/p' <<<"$reply" | head -1
}

echo "camgate $(basename "$EXE"), $CAMERAS camera(s), load client, ${DURATION} s steady state per row, $(cg_bench_machine)"
printf '| viewers | daemon CPU s / viewer-min (all / over idle) | daemon CPU %% of one core (idle) | load client CPU %% (s / viewer-min) | RSS / viewer (KiB) | packets sent / s | join p50 / p95 (ms) | frames complete | client check | x264 preset at the end |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
rc=0
for n in "${COUNTS[@]}"; do
	start_daemon || { rc=1; break; }
	out=$(mktemp /tmp/camgate-load.XXXXXX.txt)
	threads=$(( n >= 4 ? 2 : 1 ))
	# shellcheck disable=SC2086
	"$LOAD" --port="$PORT" --viewers="$n" --threads="$threads" --ramp=50 \
		--duration="$DURATION" --settle=3 --idle=3 --pid="$DAEMON_PID" --check "${PATH_ARGS[@]}" \
		${CG_BENCH_LOAD_ARGS:-} >"$out" 2>>"$LOG" || rc=1
	preset=$(x264_preset)
	stop_daemon
	lostw=$(val aus_lost_total "$out")
	printf '| %s | %s / %s | %s (%s) | %s (%s) | %s | %s | %s / %s | %s | %s | %s |\n' "$n" \
		"$(val daemon_cpu_s_per_viewer_minute "$out")" \
		"$(val daemon_cpu_s_per_viewer_minute_marginal "$out")" \
		"$(val daemon_cpu_percent "$out")" "$(val daemon_idle_cpu_percent "$out")" \
		"$(val client_cpu_percent "$out")" "$(val client_cpu_s_per_viewer_minute "$out")" \
		"$(val daemon_rss_kib_per_viewer "$out")" "$(val packets_per_s "$out")" \
		"$(val join_ms_p50 "$out")" "$(val join_ms_p95 "$out")" \
		"$( [ "${lostw:-1}" = 0 ] && echo all || echo "$lostw incomplete")" \
		"$(val check "$out")" "${preset:-?}"
	[ -n "${CG_BENCH_KEEP:-}" ] && cat "$out"
	rm -f "$out"
done
rm -f "$LOG"
exit $rc
