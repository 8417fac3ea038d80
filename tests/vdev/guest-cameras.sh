# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh
# tests/vdev/guest-cameras.sh - runs inside the qemu guest (busybox sh), from run.sh
# --cameras's initramfs: vivid is loaded with two capture-only instances (n_devs=2, nodes
# pinned to video0 and video1). camgate streams them as cameras a and b on loopback;
# vdev-cameras watches both, unplugs camera a (vivid's Disconnect) and plugs it in again
# while camera b streams. Exit status: vdev-cameras's.
set -u
# ./env (from run.sh) carries the host's sanitizer options into the guest.
[ -f ./env ] && . ./env && echo "vdev-cameras: sanitizer options: $(tr '\n' ' ' <./env)"
export HOME=/tmp
ip link set lo up || exit 1
dev() {
	for v in /sys/class/video4linux/video*; do
		[ "$(cat "$v/name")" = "$1" ] && echo "/dev/${v##*/}"
	done
}
A=$(dev vivid-000-vid-cap); B=$(dev vivid-001-vid-cap)
echo "vdev-cameras: camera a=$A b=$B"
if [ -z "$A" ] || [ -z "$B" ]; then
	echo "vdev-cameras: vivid did not make two capture nodes"
	exit 1
fi
VERBOSE=""
[ -f verbose ] && VERBOSE=--verbose
./vdev-cameras $VERBOSE --camgate=/payload/camgate --a="$A" --b="$B" --encoder=x264 \
	--size=320x180 --fps=15
