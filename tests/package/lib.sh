# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Shell functions the package scripts share (sourced, not run).

# copy_tree TOP DEST: the source tree's files (tracked, and new ones git does not ignore)
# copied to DEST, so a package build runs on a copy and never writes into the tree.
copy_tree() {
  rm -rf "$2"
  mkdir -p "$2"
  (cd "$1" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$2"
}

# debian_mirror: the machine's own Debian mirror when it has one (what install-deps uses),
# else Debian's.
debian_mirror() {
  local m=
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [ -f /etc/apt/sources.list ]; then
    m=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}
