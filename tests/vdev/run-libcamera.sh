#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/run-libcamera.sh - the libcamera case of the 'vdev' suite (issue 14).
#
# Boots Debian's kernel under qemu (TCG; CG_VDEV_KVM=1 tries KVM), as run.sh does, with
# vimc (built by setup-libcamera.sh), vim2m and vicodec, Debian's libcamera with its vimc
# IPA module, and vdev-libcamera, which runs camgate's media thread on libcamera's vimc
# camera (guest-libcamera.sh). A separate runner so that run.sh's cases stay as they are;
# the initramfs is built the same way.
#
# Usage: run-libcamera.sh path/to/vdev-libcamera   (CG_VDEV_VERBOSE=1: debug logs)
# Exit:  0 pass, 1 fail, 77 skip (qemu, the kernel packages or libcamera's vimc IPA
#        module cannot be had).
set -uo pipefail
PROG=${1:?usage: run-libcamera.sh vdev-libcamera}
HERE=$(cd "$(dirname "$0")" && pwd)
W=${CG_VDEV_DIR:-/var/tmp/camgate-vdev}
IPA=/usr/lib/x86_64-linux-gnu/libcamera

bash "$HERE/setup.sh"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc != 0 ] && { echo "vdev-libcamera: setup failed ($rc)"; exit 1; }
bash "$HERE/setup-libcamera.sh"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc != 0 ] && { echo "vdev-libcamera: vimc setup failed ($rc)"; exit 1; }
if [ ! -f "$IPA/ipa_vimc.so" ]; then
	echo "vdev-libcamera: no $IPA/ipa_vimc.so (libcamera-ipa), skipping"
	exit 77
fi
KV=$(cat "$W/KV")
OUT=$(mktemp -d "${TMPDIR:-/tmp}/camgate-vdev-lc.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
R=$OUT/root

mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,etc,lib/modules/vdev,lib64,lib/x86_64-linux-gnu,payload}
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
if ! modprobe -d "$W/modroot" -S "$KV" --show-depends -a vimc vim2m vicodec >"$OUT/deps"; then
	echo "vdev-libcamera: modprobe --show-depends failed"
	exit 1
fi
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$OUT/deps" | while read -r ko; do
	cp "$ko" "$R/lib/modules/vdev/"
	basename "$ko" >>"$R/etc/modules.order"
done
copy_libs() { # the ELF's ldd closure, so host-built binaries run unchanged
	ldd "$1" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do
		case $lib in
		/lib64/*) dst=$R/lib64/$(basename "$lib") ;;
		*) dst=$R/lib/x86_64-linux-gnu/$(basename "$lib") ;;
		esac
		[ -e "$dst" ] || cp "$(readlink -f "$lib")" "$dst"
	done
}
cp "$HERE/guest-libcamera.sh" "$R/payload/test.sh"
cp "$PROG" "$R/payload/vdev-libcamera"
copy_libs "$R/payload/vdev-libcamera"
# libcamera's vimc IPA module (signed, so loaded in process) and its isolated proxy, at the
# paths libcamera was built with, and the module's configuration.
mkdir -p "$R$IPA" "$R/usr/share/libcamera/ipa"
cp "$IPA"/ipa_vimc.so "$IPA"/ipa_vimc.so.sign "$R$IPA/"
[ -e "$IPA/vimc_ipa_proxy" ] && cp "$IPA/vimc_ipa_proxy" "$R$IPA/" && copy_libs "$IPA/vimc_ipa_proxy"
copy_libs "$IPA/ipa_vimc.so"
cp -r /usr/share/libcamera/ipa/vimc "$R/usr/share/libcamera/ipa/"
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!var:-}" ] && printf "export %s='%s'\n" "$var" "${!var}" >>"$R/payload/env"
done
[ -n "${CG_VDEV_VERBOSE:-}" ] && touch "$R/payload/verbose"
cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/payload
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /run
while read -r ko; do
	insmod /lib/modules/vdev/$ko || echo "vdev: insmod $ko FAILED"
done </etc/modules.order
dmesg -n 1
cd /payload && sh ./test.sh; rc=$?
echo "VDEV-EXIT-STATUS: $rc"
printf "\\$(printf %03o $((rc & 0x7f)))" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.img"

ACCEL=tcg
[ -n "${CG_VDEV_KVM:-}" ] && [ -w /dev/kvm ] && ACCEL=kvm:tcg
echo "vdev-libcamera: booting Debian $KV under qemu ($ACCEL)"
timeout --foreground -k 5 "${CG_VDEV_TIMEOUT:-600}" \
	qemu-system-x86_64 -machine "pc,accel=$ACCEL" -cpu max -smp 1 -m 1024 \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$W/kernel/vmlinux" -initrd "$OUT/initrd.img" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off tsc=reliable no_timer_check" \
	</dev/null 2>&1 | tr -d '\r' | tee "$OUT/serial.log"
qrc=${PIPESTATUS[0]}
[ "$qrc" = 124 ] && { echo "vdev-libcamera: guest timed out"; exit 1; }
rc=$(sed -n 's/^VDEV-EXIT-STATUS: \([0-9]*\)$/\1/p' "$OUT/serial.log" | tail -1)
[ -n "$rc" ] || { echo "vdev-libcamera: the guest did not finish (qemu status $qrc)"; exit 1; }
exit "$rc"
