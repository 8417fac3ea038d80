# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh
# tests/vdev/guest-libcamera.sh - runs inside the qemu guest (busybox sh), from
# run-libcamera.sh's initramfs: vimc, vim2m and vicodec loaded, libcamera's vimc IPA module
# in place. Each case prints vdev-libcamera's checks; the exit status is the number of
# failed cases.
[ -f ./env ] && . ./env && echo "vdev-libcamera: sanitizer options: $(tr '\n' ' ' <./env)"
# No udevd here: libcamera's udev enumerator skips devices without a udev database entry,
# so entries are written for every media and video node, again and again in the background
# so that the nodes vimc makes when it is bound again get theirs too.
udev_db() {
	mkdir -p /run/udev/data
	while :; do
		for d in /sys/bus/media/devices/* /sys/class/video4linux/*; do
			f=/run/udev/data/c$(cat "$d/dev" 2>/dev/null) || continue
			[ -f "$f" ] || echo "I:1" >"$f"
		done
		sleep 0.2
	done
}
udev_db &
UDEV=$!
sleep 0.5
dev() { for v in /sys/class/video4linux/video*; do [ "$(cat $v/name)" = "$1" ] && echo /dev/${v##*/}; done; }
ENC=$(dev stateful-encoder); M2M=$(dev vim2m)
echo "vdev-libcamera: vicodec=$ENC vim2m=$M2M; nodes:"
for v in /sys/class/video4linux/video*; do echo "  ${v##*/}: $(cat $v/name)"; done
VERBOSE=""; [ -f verbose ] && VERBOSE=--verbose
fail=0; pass=0
run() {
	name=$1; shift
	echo "---- $name"
	# Whatever the case before did, vimc is bound when a case starts.
	[ -e /sys/bus/platform/drivers/vimc/vimc.0 ] || echo vimc.0 >/sys/bus/platform/drivers/vimc/bind
	if ./vdev-libcamera $VERBOSE "$@"; then pass=$((pass + 1)); echo "CASE $name: PASS"
	else fail=$((fail + 1)); echo "CASE $name: FAIL"; fi
}
# vimc through libcamera gives RGB only (libcamera's BGR888, V4L2's RGB24): vim2m and
# vicodec import it; x264 gets it converted. Small pictures: TCG is slow. libcamera aligns
# vimc's width to 12 (640 becomes 636); vicodec wants a multiple of 8, so its case asks for
# 648.
run vim2m_rgb24_zero_copy_list --list --encoder-device=$M2M --codec=RGB3 --format=RGB3 --copies=zero
run vicodec_rgb24_unbind --size=648x480 --encoder-device=$ENC --codec=FWHT --format=RGB3 --copies=zero --unbind
run vim2m_held_by_another_process --encoder-device=$M2M --codec=RGB3 --format=RGB3 --hold
# Into x264 by mapping: the FrameBuffer is read through its mapping and converted to I420
# on the CPU (hw/convert.c, BT.601), every converted frame's bytes counted.
run x264_rgb24_converted --encoder=x264 --format=RGB3 --copies=nonzero
kill $UDEV
echo "vdev-libcamera: $pass passed, $fail failed"
exit $fail
