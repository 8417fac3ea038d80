# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/guest.sh - runs inside the qemu guest (busybox sh), from run.sh's initramfs.
# Each case prints vdev-media's checks; the exit status is the number of failed cases.
# ./env (from run.sh) carries the host's sanitizer options into the guest.
[ -f ./env ] && . ./env && echo "vdev: sanitizer options: $(tr '\n' ' ' <./env)"
dev() { for v in /sys/class/video4linux/video*; do [ "$(cat $v/name)" = "$1" ] && echo /dev/${v##*/}; done; }
CAP=$(dev vivid-000-vid-cap); ENC=$(dev stateful-encoder); M2M=$(dev vim2m)
echo "vdev: vivid=$CAP vicodec=$ENC vim2m=$M2M"
fail=0; pass=0
run() {
	name=$1; shift
	echo "---- $name"
	if ./vdev-media $VERBOSE "$@"; then pass=$((pass + 1)); echo "CASE $name: PASS"
	else fail=$((fail + 1)); echo "CASE $name: FAIL"; fi
}
VIVID="/lib/modules/vdev/vivid.ko"
VERBOSE=""; [ -f verbose ] && VERBOSE=--verbose
REPLUG="--replug --insmod=$VIVID"
if [ -f bench ]; then
	run bench_vicodec --source=$CAP --encoder-device=$ENC --codec=FWHT --format=YUYV --seconds=6 --bench
	run bench_vim2m --source=$CAP --encoder-device=$M2M --codec=RGB3 --format=RGB3 --seconds=6 --bench
	run bench_x264 --source=$CAP --encoder=x264 --format=YUYV --seconds=6 --bench
	run bench_replug --source=$CAP --encoder-device=$ENC --codec=FWHT --format=YUYV \
		$REPLUG --modparams="$(cat vivid.params)" --bench
	exit $fail
fi
# No case runs for a fixed time: each goes on until what it checks has happened (vdev-media
# --timeout guards against a hang), so a busy host only makes it slower.
[ -f only_vim2m ] || run vicodec_yuyv_keyframe_replug --source=$CAP --encoder-device=$ENC --codec=FWHT \
	--format=YUYV --copies=zero --force-keyframe $REPLUG --modparams="$(cat vivid.params)"
run vicodec_nv12_snapshot --source=$CAP --encoder-device=$ENC --codec=FWHT --format=NV12 --copies=zero --snapshot
run vicodec_yu12_snapshot --source=$CAP --encoder-device=$ENC --codec=FWHT --format=YU12 --copies=zero --snapshot
run vim2m_rgb24 --source=$CAP --encoder-device=$M2M --codec=RGB3 --format=RGB3 --copies=zero
run x264_yuyv_converted --source=$CAP --encoder=x264 --format=YUYV --copies=nonzero
echo "vdev: $pass passed, $fail failed"
exit $fail
