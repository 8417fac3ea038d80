#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/run.sh - the 'vdev' suite: camgate's V4L2 code on real kernel drivers.
#
# Boots Debian's own kernel under qemu (TCG; CG_VDEV_KVM=1 tries KVM) with an
# initramfs holding busybox, vivid, vim2m, vicodec (the latter two built out of tree by
# setup.sh) and vdev-media, which runs camgate's media thread and hw/v4l2 backends:
# vivid -> VIDIOC_EXPBUF -> vicodec / vim2m (DMA-BUF import), forced key frame, copy
# counter, vivid unbound, removed and inserted again mid-stream. See
# shared/notes/hil-recipe for the measurements behind each step.
# With --audio the guest loads snd-aloop (and the ALSA core) instead and runs vdev-audio:
# camgate's ALSA capture and talkback playback on the loopback's two ends (guest-audio.sh).
# With --cameras it loads vivid alone (two capture instances) and runs the real camgate
# daemon on two of them as cameras a and b with vdev-cameras's two WHEP viewers, camera a
# unplugged and plugged in again while b streams (guest-cameras.sh).
# With --h264 it loads vivid and vh264enc (the virtual H.264 encoder setup.sh builds) and
# runs vdev-h264's cases (guest-h264.sh), whose streams come back on a second serial port
# into a file; the host then decodes them with ffmpeg (vdev-h264 --verify) and every
# picture must be the frame vivid captured.
#
# The payload is the binary meson passes in, from the build dir under test: the sanitizer
# build's vdev-media/vdev-audio carry ASan and UBSan into the guest (with their runtime
# libraries and the host's ASAN_OPTIONS/UBSAN_OPTIONS/LSAN_OPTIONS, so an error fails the
# case there as it would on the host).
#
# Usage: run.sh [--bench] path/to/vdev-media     (CG_VDEV_VERBOSE=1: debug logs)
#        run.sh --audio [--bench] path/to/vdev-audio
#        run.sh --cameras path/to/vdev-cameras path/to/camgate
#        run.sh --h264 path/to/vdev-h264
# Exit:  0 pass, 1 fail, 77 skip (qemu or Debian's kernel packages cannot be had; with
#        --audio also when the kernel's sound modules cannot be had).
set -uo pipefail
BENCH=""
AUDIO=""
CAMERAS=""
H264=""
while :; do
	case ${1:-} in
	--bench) BENCH=1; shift ;;
	--audio) AUDIO=1; shift ;;
	--cameras) CAMERAS=1; shift ;;
	--h264) H264=1; shift ;;
	*) break ;;
	esac
done
PROG=${1:?usage: run.sh [--bench] [--audio|--cameras] vdev-media|vdev-audio|vdev-cameras [camgate]}
CAMGATE=${2:-}
if [ -n "$CAMERAS" ] && [ -z "$CAMGATE" ]; then
	echo "usage: run.sh --cameras vdev-cameras camgate"
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
W=${CG_VDEV_DIR:-/var/tmp/camgate-vdev}

bash "$HERE/setup.sh"
rc=$?
if [ $rc = 77 ]; then exit 77; fi
if [ $rc != 0 ]; then echo "vdev: setup failed ($rc)"; exit 1; fi
KV=$(cat "$W/KV")
MODULES="vivid vim2m vicodec"
if [ -n "$AUDIO" ]; then
	if [ -f "$W/no-sound" ]; then
		echo "vdev-audio: no snd-aloop: $(cat "$W/no-sound"), skipping"
		exit 77
	fi
	if [ ! -f /usr/share/alsa/alsa.conf ]; then
		echo "vdev-audio: /usr/share/alsa/alsa.conf missing (libasound2-data)"
		exit 1
	fi
	MODULES="snd-aloop"
fi
[ -n "$CAMERAS" ] && MODULES="vivid"
[ -n "$H264" ] && MODULES="vivid vh264enc"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/camgate-vdev.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
R=$OUT/root

# --- initramfs: busybox, modules in dependency order, the payload and its libraries ---
mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,etc,lib/modules/vdev,lib64,lib/x86_64-linux-gnu,payload}
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
# shellcheck disable=SC2086 # a list of module names
if ! modprobe -d "$W/modroot" -S "$KV" --show-depends -a $MODULES >"$OUT/deps"; then
	[ -n "$AUDIO" ] && { echo "vdev-audio: no snd-aloop in $W/modroot, skipping"; exit 77; }
	echo "vdev: modprobe --show-depends $MODULES failed"
	exit 1
fi
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$OUT/deps" >"$OUT/order"
while read -r ko; do
	cp "$ko" "$R/lib/modules/vdev/"
	basename "$ko" >>"$R/etc/modules.order"
done <"$OUT/order"
if [ -n "$AUDIO" ]; then
	NAME=vdev-audio
	cp "$HERE/guest-audio.sh" "$R/payload/test.sh"
	# alsa-lib resolves hw:CARD,DEV through its configuration (and opens busy devices
	# non-blocking because of defaults.pcm.nonblock there): the host's, as on a board.
	mkdir -p "$R/usr/share/alsa"
	cp -r /usr/share/alsa/alsa.conf "$R/usr/share/alsa/"
	for d in cards pcm; do
		[ -d "/usr/share/alsa/$d" ] && cp -r "/usr/share/alsa/$d" "$R/usr/share/alsa/"
	done
	echo "pcm_substreams=1" >"$R/payload/snd-aloop.params"
elif [ -n "$CAMERAS" ]; then
	NAME=vdev-cameras
	cp "$HERE/guest-cameras.sh" "$R/payload/test.sh"
	# Two capture-only instances, at fixed nodes: cameras a and b.
	echo "n_devs=2 node_types=0x1,0x1 vid_cap_nr=0,1" >"$R/payload/vivid.params"
	cp "$CAMGATE" "$R/payload/camgate"
elif [ -n "$H264" ]; then
	NAME=vdev-h264
	cp "$HERE/guest-h264.sh" "$R/payload/test.sh"
	echo "n_devs=1 node_types=0x1 vid_cap_nr=0" >"$R/payload/vivid.params"
else
	NAME=vdev-media
	cp "$HERE/guest.sh" "$R/payload/test.sh"
	echo "n_devs=1 node_types=0x1 vid_cap_nr=0" >"$R/payload/vivid.params"
fi
[ -n "$BENCH" ] && touch "$R/payload/bench"
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!var:-}" ] && printf "export %s='%s'\n" "$var" "${!var}" >>"$R/payload/env"
done
case $(ldd "$PROG" 2>/dev/null) in
*libasan*) echo "vdev: $(basename "$PROG") is built with AddressSanitizer" \
	"(ASAN_OPTIONS=${ASAN_OPTIONS:-} UBSAN_OPTIONS=${UBSAN_OPTIONS:-})" ;;
esac
[ -n "${CG_VDEV_VERBOSE:-}" ] && touch "$R/payload/verbose"
copy_libs() { # the ELF's ldd closure, so host-built binaries run unchanged
	ldd "$1" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do
		case $lib in
		/lib64/*) dst=$R/lib64/$(basename "$lib") ;;
		*) dst=$R/lib/x86_64-linux-gnu/$(basename "$lib") ;;
		esac
		[ -e "$dst" ] || cp "$(readlink -f "$lib")" "$dst"
	done
}
cp "$PROG" "$R/payload/$NAME"
copy_libs "$R/payload/$NAME"
if [ -n "$CAMERAS" ]; then
	copy_libs "$R/payload/camgate"
	# libsrtp2 does its crypto with NSS, which dlopens its soft token (and freebl) from
	# libnss3's directory: not in any ldd closure, so copied by name with their checksums.
	nss=$(ldd "$CAMGATE" | grep -oE '/[^ ]+/libnss3\.so' | head -1)
	if [ -n "$nss" ]; then
		nssdir=$(dirname "$(readlink -f "$nss")")
		for f in "$nssdir"/{libsoftokn3,libfreeblpriv3,libfreebl3}.{so,chk}; do
			[ -e "$f" ] && cp "$f" "$R/lib/x86_64-linux-gnu/"
		done
		copy_libs "$R/lib/x86_64-linux-gnu/libsoftokn3.so"
	fi
fi
cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/payload
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /run
while read -r ko; do
	p="$(cat "/payload/${ko%.ko}.params" 2>/dev/null)"
	insmod /lib/modules/vdev/$ko $p || echo "vdev: insmod $ko FAILED"
done </etc/modules.order
dmesg -n 1
cd /payload && sh ./test.sh; rc=$?
echo "VDEV-EXIT-STATUS: $rc"
printf "\\$(printf %03o $((rc & 0x7f)))" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.img"

# --- boot: serial console to stdout; the guest's status comes back on it ---
# TCG by default: nested KVM on CI hosts was seen to die in "emulation failure".
ACCEL=tcg
[ -n "${CG_VDEV_KVM:-}" ] && [ -w /dev/kvm ] && ACCEL=kvm:tcg
DUMP=()
[ -n "$H264" ] && DUMP=(-serial "file:$OUT/dump.bin") # the guest's /dev/ttyS1
echo "vdev: booting Debian $KV under qemu ($ACCEL)"
timeout --foreground -k 5 "${CG_VDEV_TIMEOUT:-600}" \
	qemu-system-x86_64 -machine "pc,accel=$ACCEL" -cpu max -smp 1 -m 1024 \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio "${DUMP[@]}" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$W/kernel/vmlinux" -initrd "$OUT/initrd.img" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off tsc=reliable no_timer_check" \
	</dev/null 2>&1 | tr -d '\r' | tee "$OUT/serial.log"
qrc=${PIPESTATUS[0]}
[ "$qrc" = 124 ] && { echo "vdev: guest timed out"; exit 1; }
rc=$(sed -n 's/^VDEV-EXIT-STATUS: \([0-9]*\)$/\1/p' "$OUT/serial.log" | tail -1)
[ -n "$rc" ] || { echo "vdev: the guest did not finish (qemu status $qrc)"; exit 1; }
if [ -n "$H264" ]; then
	cases=$(grep -c '^---- ' "$OUT/serial.log")
	echo "vdev: decoding the guest's $cases streams ($(stat -c %s "$OUT/dump.bin") bytes)"
	"$PROG" --verify="$OUT/dump.bin" --cases="$cases"
	vrc=$?
	[ "$vrc" = 77 ] && [ "$rc" = 0 ] && exit 77
	[ "$vrc" != 0 ] && [ "$vrc" != 77 ] && rc=$((rc + 1))
fi
exit "$rc"
