#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the camgate .deb in a throwaway Debian 12 root (mmdebstrap), then upgrades,
# removes and purges it, checking what an administrator relies on:
#   install   files, owners and modes (the conffile 0640 root:camgate), the camgate user and
#             its groups, the unit enabled, nothing under /usr/local, man pages, the binary runs
#   upgrade   an unedited conffile is replaced and keeps 0640 root:camgate; a locally edited
#             one survives an upgrade that changes it (dpkg's prompt answered by policy:
#             --force-confdef --force-confold), the new one beside it as .dpkg-dist
#   remove    keeps the state directory and the configuration
#   purge     removes the state directory, the configuration and the mode override
# Recommends (VA-API drivers) are left out: the checks need none, and they are large.
# The later versions are the same package repacked with a higher version and a changed
# conffile. The root has no running systemd, so "started" is not checked here (the
# postinst starts the unit only where /run/systemd/system exists).
#   tests/package/install-test.sh DEB
# Needs root and mmdebstrap; skips (exit 77) without them or without a reachable mirror.
set -uo pipefail

deb=${1:?usage: $0 camgate_VERSION_ARCH.deb}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (a chroot)"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap (tools/install-deps.sh --test)"
[ -f "$deb" ] || { echo "no such package: $deb" >&2; exit 1; }

work=$(mktemp -d /var/tmp/camgate-pkgtest.XXXXXX)
root=$work/root
cleanup() {
  mountpoint -q "$root/proc" && umount "$root/proc"
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/package/lib.sh
. "$(dirname "$0")/lib.sh"
mirror=$(debian_mirror)

# Later versions: the same files, a higher version, one more line in the conffile.
repack() { # $1: version suffix, $2: output
  local d=$work/repack-$1
  dpkg-deb -R "$deb" "$d"
  sed -i "s/^Version: .*/&+pkgtest$1/" "$d/DEBIAN/control"
  echo "# pkgtest: shipped by version +pkgtest$1" >>"$d/etc/camgate/camgate.conf"
  (cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
  dpkg-deb --root-owner-group -b "$d" "$2" >/dev/null
}
repack 1 "$work/camgate-v2.deb" || exit 1
repack 2 "$work/camgate-v3.deb" || exit 1

echo "=== mmdebstrap bookworm ($mirror)"
start=$SECONDS
if ! mmdebstrap --quiet --variant=apt --include=systemd --skip=cleanup/apt/lists bookworm "$root" \
     "deb $mirror bookworm main" >"$work/mmdebstrap.log" 2>&1; then
  tail -20 "$work/mmdebstrap.log"
  skip "mmdebstrap could not make a Debian 12 root from $mirror"
fi
echo "=== root made in $((SECONDS - start)) s"
mount -t proc proc "$root/proc"
# apt in the root fetches camgate's dependencies from the same mirror.
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/tmp/camgate.deb"
cp "$work/camgate-v2.deb" "$work/camgate-v3.deb" "$root/tmp/"

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
n=0 failed=0
check() { # $1: description, rest: command run on the host (paths under $root)
  local what=$1; shift
  n=$((n + 1))
  if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=$((failed + 1)); fi
}
mode_is() { # $1: path in the root, $2: "MODE USER:GROUP" as stat prints it
  local got
  got=$(chroot "$root" stat -c '%a %U:%G' "$1" 2>&1)
  [ "$got" = "$2" ] || { echo "# $1: $got, expected $2"; return 1; }
}
conf=/etc/camgate/camgate.conf
apt_install() {
  in_root apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "$@" >"$work/apt.log" 2>&1 ||
    { sed 's/^/# /' "$work/apt.log"; return 1; }
}

echo "=== install"
check "the package installs with its dependencies" apt_install /tmp/camgate.deb
check "/usr/bin/camgate 755 root:root" mode_is /usr/bin/camgate "755 root:root"
check "camgate --version runs" in_root camgate --version
check "$conf 640 root:camgate" mode_is $conf "640 root:camgate"
check "$conf is a conffile" sh -c \
  "chroot '$root' dpkg-query -W -f='\${Conffiles}' camgate | grep -q ' $conf '"
check "the unit is installed" test -f "$root/lib/systemd/system/camgate.service"
check "the unit is enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/camgate.service"
check "the sysusers entry is installed" test -f "$root/usr/lib/sysusers.d/camgate.conf"
check "user camgate exists, in video, render and audio" sh -c \
  "chroot '$root' id -nG camgate | tr ' ' '\n' | sort | tr '\n' ' ' | grep -qx 'audio camgate render video '"
check "man pages camgate(8) and camgate.conf(5)" test -f "$root/usr/share/man/man8/camgate.8.gz" \
  -a -f "$root/usr/share/man/man5/camgate.conf.5.gz"
check "nothing under /usr/local" sh -c "! chroot '$root' dpkg -L camgate | grep -q '^/usr/local'"
check "no file of the package is world-writable or setuid" sh -c \
  "! chroot '$root' dpkg -L camgate | (cd '$root' && while read -r f; do [ -L \".\$f\" ] || \
     find \".\$f\" -maxdepth 0 \\( -perm -o+w -o -perm -u+s -o -perm -g+s \\) -print; done) | grep -q ."

echo "=== upgrade, conffile not edited"
check "upgrade to +pkgtest1" apt_install /tmp/camgate-v2.deb
check "the unedited conffile was replaced by the new one" grep -q 'pkgtest1' "$root$conf"
check "$conf still 640 root:camgate" mode_is $conf "640 root:camgate"

echo "=== upgrade, conffile edited"
echo "bitrate = 1234 # pkgtest: local edit" >>"$root$conf"
check "upgrade to +pkgtest2 (--force-confdef --force-confold)" apt_install /tmp/camgate-v3.deb
check "the package is at +pkgtest2" sh -c \
  "chroot '$root' dpkg-query -W -f='\${Version}' camgate | grep -q 'pkgtest2\$'"
check "the local edit survived" grep -q 'local edit' "$root$conf"
check "the new conffile is beside it as .dpkg-dist" grep -q 'pkgtest2' "$root$conf.dpkg-dist"
check "$conf still 640 root:camgate" mode_is $conf "640 root:camgate"
check "the unit is still enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/camgate.service"

echo "=== remove"
# What the service leaves in its state directory when it has run.
mkdir -p "$root/var/lib/camgate"
echo pkgtest-token >"$root/var/lib/camgate/token"
check "remove" sh -c "chroot '$root' apt-get remove -y -q camgate >'$work/apt.log' 2>&1"
check "remove keeps the state directory" test -f "$root/var/lib/camgate/token"
check "remove keeps the configuration" grep -q 'local edit' "$root$conf"
check "the binary is gone" test ! -e "$root/usr/bin/camgate"

echo "=== purge"
check "purge" sh -c "chroot '$root' dpkg --purge camgate >'$work/apt.log' 2>&1"
check "purge removes the state directory" test ! -e "$root/var/lib/camgate"
check "purge removes the configuration" test ! -e "$root$conf"
check "purge removes the mode override" sh -c "! chroot '$root' dpkg-statoverride --list $conf"
check "purge removes the enable link" test ! -e "$root/etc/systemd/system/multi-user.target.wants/camgate.service"

echo "1..$n"
echo "install-test: $((n - failed)) of $n checks passed in $((SECONDS - start)) s"
[ $failed -eq 0 ]
