#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the camgate .deb from this source tree without writing into it: the tree's files
# (tracked, and new ones git does not ignore) are copied to OUT/src and dpkg-buildpackage
# runs there, so the packages land in OUT. Then lintian checks them.
#   tests/package/build-deb.sh OUT          native build (-b), lintian
# Exit 0 when the package built and lintian reported no error (warnings are printed).
set -euo pipefail

out=${1:?usage: $0 OUT}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/package/lib.sh
. "$here/lib.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src

copy_tree "$top" "$src"

(cd "$src" && dpkg-buildpackage -us -uc -b)
changes=$(ls "$out"/camgate_*_"$(dpkg --print-architecture)".changes)
echo "=== lintian $(basename "$changes")"
# --fail-on error: warnings are listed (and in the README), errors fail.
lintian --fail-on error --display-info --info "$changes"
echo "=== contents of $(ls "$out"/camgate_*.deb)"
dpkg-deb --contents "$out"/camgate_*_"$(dpkg --print-architecture)".deb
