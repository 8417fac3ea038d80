# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/guest-audio.sh - runs inside the qemu guest (busybox sh), from run.sh --audio's
# initramfs: snd-aloop is loaded (pcm_substreams=1), vdev-audio plays a tone into its
# playback end and captures it back from the other. Exit status: vdev-audio's. With ./bench
# (run.sh --audio --bench) it plays 10 s and prints the figures as BENCH lines.
set -u
# ./env (from run.sh) carries the host's sanitizer options into the guest.
[ -f ./env ] && . ./env && echo "vdev-audio: sanitizer options: $(tr '\n' ' ' <./env)"
echo "vdev-audio: sound cards:"
cat /proc/asound/cards
if [ ! -d /proc/asound/Loopback ]; then
	echo "vdev-audio: snd-aloop did not load"
	exit 1
fi
ls /dev/snd
VERBOSE=""
[ -f verbose ] && VERBOSE=--verbose
if [ -f bench ]; then
	./vdev-audio $VERBOSE --seconds=10 --bench
else
	./vdev-audio $VERBOSE --seconds=4
fi
