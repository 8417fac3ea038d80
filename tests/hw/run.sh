#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/hw/run.sh - camgate on a real board (Raspberry Pi, Jetson, Intel mini PC).
#
# Detects the cameras (the libcamera cameras and V4L2 capture nodes camgate --list-devices
# shows, or v4l2-ctl's) and streams each camera into each encoder (v4l2-m2m, vaapi, x264,
# passthrough) for 30 s with camgate's own media thread (the vdev-media harness built in the
# build dir). A libcamera camera is tried as libcamera:N with no --format (the backend picks
# what its pipeline gives). A pair whose encoder this machine or build does not have (the
# harness cannot start: "No such device" or "Operation not supported") is listed as not
# available and not tried; every other pair is tried and must stream: its harness exits 0
# and frames flow through the encoder. A camera that streams into none of the encoders
# (every pair failed or not available) fails too, unless CG_HW_ENCODERS narrowed the
# encoders. Prints a row per pair
#   device  encoder  mode  fps  latency p50/p95 (capture -> encoded)  CPU  copies
# and a summary.
# Usage: tests/hw/run.sh [BUILD_DIR] [SECONDS]    (default build, 30)
# Env:   CG_HW_SIZE=1280x720  CG_HW_FPS=30
#        CG_HW_CAMERAS="/dev/video0 libcamera:0 ..."  instead of the detected cameras
#                                         (`test`, the test pattern, runs the script
#                                         without one)
#        CG_HW_ENCODERS="x264 vaapi ..."  instead of all four
# Exit:  0 when every pair tried streamed, 1 when any pair tried failed, a camera streamed
#        into no encoder (or the harness is missing), 77 when there was nothing to try (no
#        camera, or with CG_HW_ENCODERS no encoder here).
set -uo pipefail
BUILD=${1:-build}
SECS=${2:-30}
SIZE=${CG_HW_SIZE:-1280x720}
FPS=${CG_HW_FPS:-30}
H=$BUILD/tests/unit/hw/vdev-media
CAMGATE=$BUILD/daemon/camgate
[ -x "$H" ] || { echo "hw: $H missing: build with V4L2 (libv4l-dev) and vdev_tests=true"; exit 1; }

# The cameras, one a line: camgate's own list when it is built (what the daemon would use:
# libcamera:N for its libcamera cameras, then V4L2 nodes), else v4l2-ctl's capture devices
# that are not mem2mem.
list_cameras() {
	if [ -x "$CAMGATE" ]; then
		# "cameras:" then "  libcamera:ID (libcamera:N): model" and "  /dev/video0: card
		# (driver, bus)", each with its modes, then "not taken as V4L2 cameras:". A USB
		# camera libcamera also lists ("(USB: auto takes it as a V4L2 camera)") is tried
		# as its V4L2 node only.
		"$CAMGATE" --list-devices | awk '/^[^ ]/ { cams = ($0 == "cameras:") }
			cams && /^  libcamera:/ && !/\(USB: / &&
				match($0, /\(libcamera:[0-9]+\)/) {
				print substr($0, RSTART + 1, RLENGTH - 2)
			}
			cams && /^  \/dev\// { sub(/:$/, "", $1); print $1 }'
	elif command -v v4l2-ctl >/dev/null; then
		for v in /sys/class/video4linux/video*; do
			[ -e "$v" ] || continue
			caps=$(v4l2-ctl -d "/dev/${v##*/}" --info 2>/dev/null |
				sed -n '/Device Caps/,/^[^\t]/p')
			if grep -q "Video Capture" <<<"$caps" && ! grep -q "Memory-to-Memory" <<<"$caps"; then
				echo "/dev/${v##*/}"
			fi
		done
	else
		echo "hw: cannot list cameras: build camgate ($CAMGATE) or install v4l-utils" >&2
		return 1
	fi
}

echo "== machine: $(uname -m), $( { tr -d "\0" </proc/device-tree/model || cat /sys/class/dmi/id/product_name; } 2>/dev/null)"
[ -x "$CAMGATE" ] && "$CAMGATE" --list-devices
if [ -n "${CG_HW_CAMERAS:-}" ]; then
	read -ra cams <<<"$CG_HW_CAMERAS"
else
	found=$(list_cameras) || exit 1
	cams=()
	[ -z "$found" ] || mapfile -t cams <<<"$found"
fi
read -ra encs <<<"${CG_HW_ENCODERS:-v4l2-m2m vaapi x264 passthrough}"
if [ ${#cams[@]} -eq 0 ]; then
	echo "hw: SKIP: no camera found, nothing to try"
	exit 77
fi

printf '\n%-14s %-12s %-14s %6s %18s %6s %12s\n' device encoder mode fps "latency p50/p95" CPU \
	copies
tried=0 passed=0 unavailable=0
failed=()
for cam in "${cams[@]}"; do
	streamed=0 cam_failed=0
	for enc in "${encs[@]}"; do
		# A hang is a failure too: the harness streams SECS seconds, then stops.
		out=$(timeout -k 10 $((SECS + 120)) "$H" --source="$cam" --encoder="$enc" \
			--size="$SIZE" --fps="$FPS" --seconds="$SECS" --report 2>&1)
		rc=$?
		why=$(sed -n 's/^vdev: cannot start the media thread: \(No such device\)$/\1/p
			s/^vdev: cannot start the media thread: \(Operation not supported\)$/\1/p' <<<"$out")
		if [ -n "$why" ]; then
			unavailable=$((unavailable + 1))
			printf '%-14s %-12s %s\n' "$cam" "$enc" "not available ($why), not tried"
			continue
		fi
		tried=$((tried + 1))
		if [ $rc -eq 0 ] && grep -q "CHECK frames flow through the encoder: PASS" <<<"$out"; then
			passed=$((passed + 1)) streamed=1
			sed -n 's/^ROW\t//p' <<<"$out" |
				awk -F'\t' '{ printf "%-14s %-12s %-14s %6s %18s %6s %12s\n",
					$1, $2, $3, $4, $5, $6, $7 }'
		else
			[ $rc -eq 124 ] && rc="$rc, timed out"
			failed+=("$cam $enc (exit $rc)") cam_failed=1
			printf '%-14s %-12s %s\n' "$cam" "$enc" "FAILED (exit $rc)"
			[ -z "$out" ] || tail -5 <<<"$out" | sed 's/^/    /'
		fi
	done
	# A camera that is there must stream into something (x264 or passthrough takes any
	# format camgate takes): one no encoder could even start with is broken, not "not here".
	if [ $streamed = 0 ] && [ $cam_failed = 0 ] && [ -z "${CG_HW_ENCODERS:-}" ]; then
		failed+=("$cam: streams into no encoder (none could start with it)")
		printf '%-14s %s\n' "$cam" "FAILED: streams into no encoder"
	fi
done

echo
echo "== hw: ${#cams[@]} camera(s) x ${#encs[@]} encoder(s): $tried tried, $passed passed," \
	"${#failed[@]} failed; $unavailable not available here"
for f in "${failed[@]}"; do
	echo "   FAILED: $f"
done
if [ ${#failed[@]} -gt 0 ]; then
	exit 1
fi
if [ $tried -eq 0 ]; then
	echo "hw: SKIP: no encoder here could take any camera, nothing was tried"
	exit 77
fi
exit 0
