#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The checked-in man pages against what camgate-man makes of their templates now.
#   man-pages.sh GENERATOR SRCDIR check    TAP: fails when a page is stale
#   man-pages.sh GENERATOR SRCDIR update   writes the pages again (meson compile update-man)
set -eu
gen=$1 dir=$2 mode=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
[ "$mode" = check ] && echo "1..2"
for page in camgate.8 camgate.conf.5; do
	n=$((n + 1))
	"$gen" "$dir/$page.in" "$tmp/$page"
	if [ "$mode" = update ]; then
		cp "$tmp/$page" "$dir/$page"
		echo "wrote $dir/$page"
	elif cmp -s "$tmp/$page" "$dir/$page"; then
		echo "ok $n - docs/man/$page matches the option table"
	else
		echo "not ok $n - docs/man/$page is stale: run meson compile -C BUILD update-man"
		diff -u "$dir/$page" "$tmp/$page" | sed 's/^/# /' || true
		bad=1
	fi
done
exit $bad
