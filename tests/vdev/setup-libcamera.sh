#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/vdev/setup-libcamera.sh - vimc for the libcamera case, after setup.sh.
#
# Debian's kernel leaves vimc (the virtual media-controller camera) out, as it does vim2m
# and vicodec; libcamera's vimc pipeline handler needs it. Built out of tree from Debian's
# linux-source of the same version against the headers setup.sh keeps in $CG_VDEV_DIR/hdr
# (shared/notes/hil-recipe did the same), into the staging module tree. Once per ABI.
#
# Exit: 0 ready; 77 when the sources cannot be had; 1 on a build failure.
set -euo pipefail
W=${CG_VDEV_DIR:-/var/tmp/camgate-vdev}
KV=$(cat "$W/KV")
SER=$(echo "$KV" | cut -d. -f1,2)
T=linux-source-$SER
D=$W/modroot/lib/modules/$KV/extra
exec 9>"$W/.lock-libcamera"
flock 9
[ -f "$W/vimc-stamp-$KV" ] && [ -f "$D/vimc.ko" ] && exit 0
H=$W/hdr/usr/src/linux-headers-$KV
[ -f "$H/Makefile" ] || { echo "vdev libcamera setup: no kernel headers in $W/hdr"; exit 1; }
echo "vdev libcamera setup: building vimc for $KV"
rm -rf "$W/vimc" "$W/pkgs/vimc" && mkdir -p "$W/vimc" "$W/pkgs/vimc"
(cd "$W/pkgs/vimc" && apt-get download -qq "$T") || {
	echo "vdev libcamera setup: cannot download $T, skipping"
	exit 77
}
dpkg-deb --fsys-tarfile "$W"/pkgs/vimc/"$T"_*.deb | tar -x -O "./usr/src/$T.tar.xz" |
	tar -xJ -C "$W/vimc" --strip-components=5 "$T/drivers/media/test-drivers/vimc"
rm -rf "$W/pkgs/vimc"
cd "$W/vimc"
objs=$(ls vimc-*.c | sed 's/\.c$/.o/' | tr '\n' ' ')
printf 'obj-m += vimc.o\nvimc-y := %s\n' "$objs" >Kbuild
make -s -C "$H" M="$W/vimc" -j"$(nproc)" modules 2>&1 | grep -v 'Skipping BTF' || true
[ -f vimc.ko ] || { echo "vdev libcamera setup: vimc did not build"; exit 1; }
mkdir -p "$D" && cp vimc.ko "$D/"
depmod -b "$W/modroot" "$KV"
touch "$W/vimc-stamp-$KV"
echo "vdev libcamera setup: vimc built"
