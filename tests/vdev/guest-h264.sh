# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh
# tests/vdev/guest-h264.sh - runs inside the qemu guest (busybox sh), from run.sh --h264's
# initramfs: vivid and vh264enc (the virtual H.264 encoder) are loaded. Each case streams
# vivid through camgate's M2M encoder into vh264enc and writes its stream and the captured
# frames' hashes to /dev/ttyS1, which the host decodes and compares (vdev-h264 --verify).
# vh264enc is reloaded for its other personalities: a buffer per plane (NV12M, YUV420M)
# and no DMA-BUF import, and with the OUTPUT height padded to 32 rows (320x180 -> 320x192,
# as the Pi and Qualcomm pad): the camera's frame, whose chroma follows row 180, is copied
# into the padded layout and the crop keeps the picture 180 rows. Exit status: the number of failed cases.
set -u
[ -f ./env ] && . ./env && echo "vdev-h264: sanitizer options: $(tr '\n' ' ' <./env)"
dev() {
	for v in /sys/class/video4linux/video*; do
		[ "$(cat "$v/name")" = "$1" ] && echo "/dev/${v##*/}"
	done
}
CAP=$(dev vivid-000-vid-cap)
echo "vdev-h264: vivid=$CAP vh264enc=$(dev vh264enc)"
V=""
[ -f verbose ] && V=--verbose
fail=0
pass=0
run() {
	name=$1
	shift
	echo "---- $name"
	# shellcheck disable=SC2086 # $V is empty or one flag
	if ./vdev-h264 $V --case="$name" --source="$CAP" --dump=/dev/ttyS1 "$@"; then
		pass=$((pass + 1))
		echo "CASE $name: PASS"
	else
		fail=$((fail + 1))
		echo "CASE $name: FAIL"
	fi
}
reload() {
	rmmod vh264enc || echo "vdev-h264: rmmod vh264enc FAILED"
	insmod /lib/modules/vdev/vh264enc.ko "$@" || echo "vdev-h264: insmod vh264enc $* FAILED"
	echo "vdev-h264: vh264enc $*: $(cat /sys/class/video4linux/video*/name | tr '\n' ' ')"
}
run nv12_dmabuf --format=NV12 --copies=zero
run yu12_dmabuf --format=YU12 --copies=zero
run yuyv_dmabuf --format=YUYV --copies=zero
reload multiplanar_formats=1
run nv12m_dmabuf --format=NV12 --copies=zero
run yuv420m_dmabuf --format=YU12 --copies=zero
reload dmabuf=0
run nv12_refused_copied --format=NV12 --copies=nonzero
reload align_height=32
run nv12_padded_copied --format=NV12 --copies=nonzero --padded
reload align_height=32 multiplanar_formats=1
run nv12m_padded_copied --format=NV12 --copies=nonzero --padded
echo "vdev-h264: $pass passed, $fail failed in the guest"
exit $fail
