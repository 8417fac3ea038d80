#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/setup.sh - fetch Debian's kernel and build the V4L2 test drivers it leaves out.
#
# Follows shared/notes/hil-recipe: Debian's linux-image (vivid is in it), and vim2m, vicodec
# and the v4l2-mem2mem helper built out of tree from Debian's linux-source of the *same*
# version against the matching linux-headers. Nothing is installed into /boot or
# /lib/modules; everything lands in $CG_VDEV_DIR and can be rebuilt from the mirror.
#
# The image's sound modules (snd-aloop and the ALSA core) are extracted too, for vdev-audio;
# a tree set up before that gets them added from linux-image alone. Without them only the
# sound test skips: $CG_VDEV_DIR/no-sound says why.
#
# vh264enc (tests/vdev/vh264enc/, the virtual H.264 encoder) is built the same way, again
# whenever its sources change (a stamp holds their hash), against the headers kept in
# $CG_VDEV_DIR/hdr (fetched again for a tree set up before they were kept).
#
# Exit: 0 ready; 77 when the host tools or the kernel packages cannot be obtained (the
# suite then skips); 1 on a real failure (version skew, build error).
# Env:  CG_VDEV_DIR  work dir (default /var/tmp/camgate-vdev)
#       KV           kernel ABI to pin, e.g. 6.1.0-56-amd64 (default: linux-image-amd64's)
#       CG_VDEV_NO_APT=1  do not apt-get install the host tools
set -euo pipefail
W=${CG_VDEV_DIR:-/var/tmp/camgate-vdev}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W/pkgs"
cd "$W"
# One setup at a time: the plain and the sanitizer builds may run the suite together.
exec 9>"$W/.lock"
flock 9
t0=$(date +%s)
skip() { echo "vdev setup: $*, skipping" >&2; exit 77; }

TOOLS="qemu-system-x86 busybox-static v4l-utils kmod cpio xz-utils gcc make libc6-dev"
need_tools() {
	for b in qemu-system-x86_64 /bin/busybox v4l2-ctl modprobe depmod cpio xz make gcc; do
		command -v "$b" >/dev/null || return 0
	done
	return 1
}
if need_tools && [ -z "${CG_VDEV_NO_APT:-}" ]; then
	if [ "$(id -u)" != 0 ]; then skip "host tools missing and not root ($TOOLS)"; fi
	apt-get update -qq || skip "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $TOOLS \
		>/dev/null || skip "cannot install $TOOLS"
fi
need_tools && skip "host tools missing ($TOOLS)"

resolve_kv() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' | head -1
}
if [ -z "${KV:-}" ]; then
	KV=$(resolve_kv)
	# No or stale package lists on a fresh machine: refresh them once.
	if [ -z "$KV" ] && [ "$(id -u)" = 0 ] && [ -z "${CG_VDEV_NO_APT:-}" ]; then
		apt-get update -qq && KV=$(resolve_kv)
	fi
fi
[ -n "$KV" ] || skip "cannot resolve Debian's kernel ABI (apt-cache depends linux-image-amd64)"
ABI=${KV%-amd64}
SER=$(echo "$KV" | cut -d. -f1,2)

# snd-aloop and what it needs (ALSA core, soundcore), from the image of this ABI, for a tree
# set up before sound was extracted. Never fatal: the video checks do not need it.
add_sound() {
	local d=$W/modroot/lib/modules/$KV
	rm -f "$W/no-sound"
	[ -n "$(find "$d/kernel/sound" -name 'snd-aloop.ko*' 2>/dev/null)" ] && return 0
	echo "vdev setup: adding the sound modules of $KV"
	rm -rf "$W/pkgs/snd" && mkdir -p "$W/pkgs/snd"
	if ! (cd "$W/pkgs/snd" && apt-get download -qq "linux-image-$KV"); then
		echo "cannot download linux-image-$KV" >"$W/no-sound"
		return 0
	fi
	dpkg-deb --fsys-tarfile "$W"/pkgs/snd/linux-image-"$KV"_*.deb |
		tar -x -C "$W/modroot" --strip-components=1 --wildcards \
			"./lib/modules/$KV/kernel/sound/*" 2>/dev/null || true
	rm -rf "$W/pkgs/snd"
	if [ -z "$(find "$d/kernel/sound" -name 'snd-aloop.ko*' 2>/dev/null)" ]; then
		echo "linux-image-$KV has no snd-aloop module" >"$W/no-sound"
		return 0
	fi
	depmod -b "$W/modroot" "$KV"
}

# The headers the out-of-tree modules build against (kept: vh264enc is rebuilt on change).
fetch_headers() {
	local p
	[ -f "$W/hdr/usr/src/linux-headers-$KV/Makefile" ] && return 0
	rm -rf "$W/hdr" "$W/pkgs/hdr" && mkdir -p "$W/hdr" "$W/pkgs/hdr"
	(cd "$W/pkgs/hdr" && apt-get download -qq "linux-headers-$KV" "linux-headers-$ABI-common" \
		"linux-kbuild-$SER") || return 1
	for p in "$W"/pkgs/hdr/*.deb; do dpkg -x "$p" "$W/hdr"; done
	rm -rf "$W/pkgs/hdr"
	# The arch headers' Makefile includes the -common one by absolute /usr/src path.
	sed -i "s#^include /usr/src/#include $W/hdr/usr/src/#" \
		"$W/hdr/usr/src/linux-headers-$KV/Makefile"
}

# vh264enc.ko from tests/vdev/vh264enc, linked against the v4l2-mem2mem built here.
build_vh264enc() {
	local src sum d
	src=$HERE/vh264enc
	sum=$(cat "$src"/Kbuild "$src"/*.[ch] | sha256sum | cut -c1-16)
	d=$W/modroot/lib/modules/$KV/extra
	[ -f "$W/vh264enc-$sum" ] && [ -f "$d/vh264enc.ko" ] && return 0
	fetch_headers || { echo "vdev setup: cannot download the headers for vh264enc" >&2; return 1; }
	rm -rf "$W/vh264mod" && mkdir -p "$W/vh264mod" "$d"
	cp "$src"/Kbuild "$src"/*.[ch] "$W/vh264mod/"
	make -s -C "$W/hdr/usr/src/linux-headers-$KV" M="$W/vh264mod" \
		KBUILD_EXTRA_SYMBOLS="$W/extmod/Module.symvers" -j"$(nproc)" modules 2>&1 |
		grep -v 'Skipping BTF' || true
	[ -f "$W/vh264mod/vh264enc.ko" ] || { echo "vdev setup: vh264enc did not build" >&2; return 1; }
	cp "$W/vh264mod/vh264enc.ko" "$d/"
	depmod -b "$W/modroot" "$KV"
	rm -f "$W"/vh264enc-*
	touch "$W/vh264enc-$sum"
	echo "vdev setup: vh264enc built ($sum)"
}

# Already set up for this ABI: nothing to do (the stamp is written last).
if [ -f "$W/stamp-$KV" ] && [ -f "$W/kernel/vmlinux" ]; then
	echo "$KV" >"$W/KV"
	add_sound
	build_vh264enc || exit 1
	echo "vdev setup: kernel $KV ready in $W"
	exit 0
fi
echo "vdev setup: kernel $KV (source $SER) into $W"

rm -rf "$W"/pkgs/*
(cd pkgs && apt-get download -qq "linux-image-$KV" "linux-headers-$KV" \
	"linux-headers-$ABI-common" "linux-kbuild-$SER" "linux-source-$SER") ||
	skip "cannot download the kernel packages for $KV"
VER=$(dpkg-deb -f pkgs/linux-image-"$KV"_*.deb Version)
for p in "linux-headers-$KV" "linux-headers-$ABI-common" "linux-kbuild-$SER" "linux-source-$SER"; do
	v=$(dpkg-deb -f pkgs/"$p"_*.deb Version)
	[ "$v" = "$VER" ] || { echo "version skew: $p $v != $VER" >&2; exit 1; }
done

# Only what the guest needs: the image, drivers/media (vivid and its dependencies) and
# sound/ (snd-aloop and the ALSA core).
rm -rf kernel hdr src extmod modroot
mkdir -p kernel hdr src extmod modroot/lib/modules
dpkg-deb --fsys-tarfile pkgs/linux-image-"$KV"_*.deb |
	tar -x -C kernel --wildcards "./boot/vmlinuz-$KV" "./lib/modules/$KV/kernel/drivers/media/*" \
		"./lib/modules/$KV/kernel/sound/*" \
		"./lib/modules/$KV/modules.builtin*" "./lib/modules/$KV/modules.order"
for p in "linux-headers-$KV" "linux-headers-$ABI-common" "linux-kbuild-$SER"; do
	dpkg -x pkgs/"$p"_*.deb hdr
done
# The arch headers' Makefile includes the -common one by absolute /usr/src path.
sed -i "s#^include /usr/src/#include $W/hdr/usr/src/#" "hdr/usr/src/linux-headers-$KV/Makefile"
T=linux-source-$SER
dpkg-deb --fsys-tarfile pkgs/"$T"_*.deb | tar -x -O "./usr/src/$T.tar.xz" |
	tar -xJ -C src "$T/drivers/media/test-drivers/vim2m.c" "$T/drivers/media/test-drivers/vicodec" \
		"$T/drivers/media/v4l2-core/v4l2-mem2mem.c"
rm -rf pkgs/*

# vmlinux through PVH skips SeaBIOS and the xz decompression (seconds under TCG).
off=$(grep -abo $'\xfd7zXZ\x00' "kernel/boot/vmlinuz-$KV" | head -1 | cut -d: -f1)
tail -c +$((off + 1)) "kernel/boot/vmlinuz-$KV" | xz -dc --single-stream >kernel/vmlinux 2>/dev/null || true
if ! head -c4 kernel/vmlinux | grep -q ELF; then
	echo "vdev setup: no PVH vmlinux, using the bzImage"
	cp "kernel/boot/vmlinuz-$KV" kernel/vmlinux
fi

S=src/$T/drivers/media
cp $S/v4l2-core/v4l2-mem2mem.c $S/test-drivers/vim2m.c $S/test-drivers/vicodec/*.[ch] extmod/
cat >extmod/Kbuild <<'KB'
obj-m += v4l2-mem2mem.o vim2m.o vicodec.o
vicodec-objs := vicodec-core.o codec-fwht.o codec-v4l2-fwht.o
KB
make -s -C "$W/hdr/usr/src/linux-headers-$KV" M="$W/extmod" -j"$(nproc)" modules 2>&1 |
	grep -v 'Skipping BTF' || true
ls extmod/vim2m.ko extmod/vicodec.ko extmod/v4l2-mem2mem.ko >/dev/null

cp -a "kernel/lib/modules/$KV" modroot/lib/modules/
mkdir -p "modroot/lib/modules/$KV/extra"
cp extmod/*.ko "modroot/lib/modules/$KV/extra/"
depmod -b "$W/modroot" "$KV"
rm -rf src kernel/lib
echo "$KV" >"$W/KV"
add_sound
build_vh264enc || exit 1
touch "$W/stamp-$KV"
echo "vdev setup: done in $(($(date +%s) - t0)) s"
