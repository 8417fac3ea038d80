#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Where the daemon's CPU goes with N viewers: camgate (test pattern, 1280x720 at 30 fps,
# 2 Mbit/s, x264) and the load client in a private network namespace, as viewers.sh runs
# them; once every viewer streams, `perf record` samples the daemon alone for
# CG_PROFILE_SECONDS and the samples are summed by library (SRTP crypto, the kernel,
# libnice and GLib, x264, camgate's own code, libc, …) and by thread.
#
# usage: tests/bench/profile.sh path/to/camgate path/to/load [N...]   (as root; default 100 200)
# env:   CG_PROFILE_SECONDS (default 15), CAMGATE_SRTP_CRYPTO (passed to the daemon)
set -u

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
skip() { cg_bench_skip "$@"; }

EXE=$(realpath -e "${1:-}" 2>/dev/null) || { echo "usage: $0 camgate load [N...]" >&2; exit 2; }
LOAD=$(realpath -e "${2:-}" 2>/dev/null) || { echo "usage: $0 camgate load [N...]" >&2; exit 2; }
shift 2
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100 200)
SECONDS_PROFILED=${CG_PROFILE_SECONDS:-15}
command -v perf >/dev/null || skip "perf is not installed (linux-perf)"
command -v python3 >/dev/null || skip "python3 is not installed"

cg_bench_enter_netns "$EXE" "$LOAD" "${COUNTS[@]}"

PORT=18091
DAEMON_PID=
LOAD_PID=
WORK=$(mktemp -d /tmp/camgate-profile.XXXXXX)

cleanup() {
	[ -n "$LOAD_PID" ] && kill -TERM "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	LOAD_PID= DAEMON_PID=
}
trap 'cleanup; rm -rf "$WORK"' EXIT

# Sums perf's per-library and per-thread shares into the buckets the README's table uses.
summarize() {
	python3 - "$1" <<'EOF'
import re, subprocess, sys
data = sys.argv[1]
def shares(sort):
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                          "--sort", sort, "-g", "none", "--percent-limit", "0"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(.*\S)", line)
        if m:
            yield float(m.group(1)), m.group(2)
buckets = [
    ("SRTP crypto", r"libnettle|libhogweed|libsrtp2|libnss3|libsoftokn3|libfreebl|libnspr4|libplc4|libplds4"),
    ("kernel (UDP send, wakeups, scheduling)", r"kernel"),
    ("libnice + GLib", r"libnice|libglib|libgio|libgobject"),
    ("x264", r"libx264"),
    ("camgate's own code", r"^camgate$"),
    ("libc (memcpy, malloc, locks)", r"libc\.so|ld-linux"),
    ("GnuTLS", r"libgnutls"),
]
totals = {name: 0.0 for name, _ in buckets}
other = 0.0
for pct, dso in shares("dso"):
    for name, pattern in buckets:
        if re.search(pattern, dso):
            totals[name] += pct
            break
    else:
        other += pct
for name, _ in buckets:
    print(f"  {name:40s} {totals[name]:5.1f} %")
print(f"  {'other':40s} {other:5.1f} %")
threads = {}
for pct, comm in shares("comm"):
    key = re.sub(r"[0-9]+$", "N", comm)
    threads[key] = threads.get(key, 0.0) + pct
print("  by thread: " + ", ".join(f"{k} {v:.1f} %" for k, v in sorted(threads.items(), key=lambda kv: -kv[1])))
EOF
}

echo "camgate profile, ${SECONDS_PROFILED} s per row, $(cg_bench_machine), SRTP crypto ${CAMGATE_SRTP_CRYPTO:-default}"
for n in "${COUNTS[@]}"; do
	"$EXE" --source=test --size=1280x720 --fps=30 --bitrate=2000 --listen="127.0.0.1:$PORT" \
		--max-viewers=1000 --log-level=warn >"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.05
	done
	threads=$(( n >= 4 ? 2 : 1 ))
	"$LOAD" --port="$PORT" --viewers="$n" --threads="$threads" --ramp=50 \
		--duration=$((SECONDS_PROFILED + 15)) --settle=1 --pid="$DAEMON_PID" \
		>"$WORK/load.txt" 2>&1 &
	LOAD_PID=$!
	# Joins ramp at 50/s; sample once they are all in and settled.
	sleep $(( n / 50 + 6 ))
	perf record -q -F 499 -g -p "$DAEMON_PID" -o "$WORK/perf.data" -- sleep "$SECONDS_PROFILED" \
		>/dev/null 2>&1
	cpu=$(ps -o %cpu= -p "$DAEMON_PID" | tr -d ' ')
	echo "$n viewers (daemon ${cpu}% of a core since start):"
	summarize "$WORK/perf.data"
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
	echo "  load client: $(grep -E '^(joined|aus_lost_total|daemon_cpu_percent)=' "$WORK/load.txt" | paste -sd' ')"
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
done
