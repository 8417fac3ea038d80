#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/hw/run.sh - camgate on a real board (Raspberry Pi, Jetson, Intel mini PC).
#
# Detects the cameras (V4L2 capture nodes), the mem2mem encoders, the VA-API render
# nodes and x264, streams each camera into each encoder that is there for 30 s with
# camgate's own media thread (the vdev-media harness built in the build dir), and prints
#   device  encoder  mode  fps  latency p50/p95 (capture -> encoded)  CPU  copies
# Usage: tests/hw/run.sh [BUILD_DIR] [SECONDS]    (default build, 30)
# Env:   CG_HW_SIZE=1280x720  CG_HW_FPS=30
# Exit:  0 when every row streamed, 1 when one did not, 77 when there is no camera.
set -uo pipefail
BUILD=${1:-build}
SECS=${2:-30}
SIZE=${CG_HW_SIZE:-1280x720}
FPS=${CG_HW_FPS:-30}
H=$BUILD/tests/unit/hw/vdev-media
CAMGATE=$BUILD/daemon/camgate
[ -x "$H" ] || { echo "hw: $H missing: build with V4L2 (libv4l-dev) and vdev_tests=true"; exit 1; }

echo "== machine: $(uname -m), $( { tr -d "\0" </proc/device-tree/model || cat /sys/class/dmi/id/product_name; } 2>/dev/null)"
[ -x "$CAMGATE" ] && "$CAMGATE" --list-devices
cams=()
for v in /sys/class/video4linux/video*; do
	[ -e "$v" ] || continue
	dev=/dev/${v##*/}
	caps=$(v4l2-ctl -d "$dev" --info 2>/dev/null | sed -n '/Device Caps/,/^[^\t]/p')
	if echo "$caps" | grep -q "Video Capture" && ! echo "$caps" | grep -q "Memory-to-Memory"; then
		cams+=("$dev")
	fi
done
if ! command -v v4l2-ctl >/dev/null; then # without v4l-utils: let camgate pick the first
	cams=(auto)
fi
[ ${#cams[@]} -gt 0 ] || { echo "hw: no camera found, skipping"; exit 77; }
encs=(v4l2-m2m vaapi x264 passthrough)

printf '\n%-14s %-12s %-14s %6s %18s %6s %12s\n' device encoder mode fps "latency p50/p95" CPU copies
fail=0
for cam in "${cams[@]}"; do
	for enc in "${encs[@]}"; do
		out=$("$H" --source="$cam" --encoder="$enc" --size="$SIZE" --fps="$FPS" \
			--seconds="$SECS" --report 2>&1)
		row=$(echo "$out" | sed -n 's/^ROW\t//p')
		if echo "$out" | grep -q "frames flow through the encoder: PASS"; then
			echo "$row" | awk -F'\t' '{ printf "%-14s %-12s %-14s %6s %18s %6s %12s\n", $1, $2, $3, $4, $5, $6, $7 }'
		elif echo "$out" | grep -qE "Operation not supported|No such device"; then
			printf '%-14s %-12s %s\n' "$cam" "$enc" "(not available: $(echo "$out" | grep -m1 -oE 'failed: [^,]*'))"
		else
			printf '%-14s %-12s %s\n' "$cam" "$enc" "FAILED"
			echo "$out" | tail -5 | sed 's/^/    /'
			fail=1
		fi
	done
done
exit $fail
