#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes a Debian bookworm sysroot for cross-building camgate: the target's -dev packages
# unpacked (not installed: no maintainer scripts, so no emulation) into
# /var/cache/camgate-cross/<arch>, which meson/cross/<triplet>.ini points at. Debian's
# cross compilers and qemu-user come from tools/install-deps.sh --cross.
#   tools/cross-sysroot.sh arm64|armhf
# Idempotent: an existing sysroot with a matching package list is kept.
set -euo pipefail

arch=${1:?usage: $0 arm64|armhf}
root=${CG_SYSROOT_BASE:-/var/cache/camgate-cross}/$arch
pkgs=libc6-dev,libglib2.0-dev,libjson-glib-dev,libnice-dev,libgnutls28-dev,libsrtp2-dev
pkgs=$pkgs,libmicrohttpd-dev,libturbojpeg0-dev,libsystemd-dev,libx264-dev,libv4l-dev,libasound2-dev
pkgs=$pkgs,libopus-dev

if [ -f "$root/.camgate-pkgs" ] && [ "$(cat "$root/.camgate-pkgs")" = "$pkgs" ]; then
  echo "cross-sysroot: $root is up to date"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi
command -v mmdebstrap >/dev/null || { echo "cross-sysroot: needs mmdebstrap (tools/install-deps.sh --cross)" >&2; exit 1; }
# The machine's own apt sources (the same mirror and suites), for the target architecture.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || { echo "cross-sysroot: no apt sources on this machine" >&2; exit 1; }
mkdir -p "$(dirname "$root")"
# A mirror in the middle of a sync serves index files of the wrong size for a while.
# The last attempt leaves the other suites out (security, updates): a broken index there
# (seen for armhf) must not cost the build; headers and libraries of the release will do to
# compile and run unit tests.
main_only=$(mktemp)
printf 'deb http://deb.debian.org/debian bookworm main\n' >"$main_only"
for attempt in 1 2 3; do
  rm -rf "$root.tmp"
  if [ $attempt -lt 3 ]; then
    mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$pkgs" \
      bookworm "$root.tmp" "${sources[@]}" && break
  else
    mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$pkgs" \
      bookworm "$root.tmp" "$main_only" && break
    rm -rf "$root.tmp" "$main_only"
    exit 1
  fi
  echo "cross-sysroot: attempt $attempt failed, retrying in $((attempt * 30)) s" >&2
  sleep $((attempt * 30))
done
rm -f "$main_only"
# Absolute symlinks inside the tree would point at the build machine's own files.
find "$root.tmp" -xtype l -lname '/*' | while read -r l; do
  ln -sfn "$root$(readlink "$l")" "$l"
done
echo "$pkgs" >"$root.tmp/.camgate-pkgs"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "cross-sysroot: $root ready"
