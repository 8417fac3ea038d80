#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The systemd unit as built: `systemd-analyze verify` passes and
# `systemd-analyze security --offline=true` rates its exposure 2.0 or lower. The unit's
# ExecStart points at the installed path, which does not exist at build time, so a copy
# pointing at the built binary is what gets checked. TAP output.
#
# usage: check-unit.sh UNIT CAMGATE
set -u
unit=$1 camgate=$2
command -v systemd-analyze >/dev/null 2>&1 || { echo "1..0 # SKIP no systemd-analyze"; exit 0; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=[^ ]*camgate|ExecStart=$camgate|" "$unit" >"$dir/camgate.service"
# The example configuration the unit names must parse.
conf=$(sed -n 's/^ExecStart=.*--config=\([^ ]*\).*/\1/p' "$unit")
echo "1..3"
if (cd "$dir" && systemd-analyze verify ./camgate.service) >"$dir/verify" 2>&1 &&
   ! grep -q . "$dir/verify"; then
  echo "ok 1 - systemd-analyze verify"
else
  echo "not ok 1 - systemd-analyze verify"; sed 's/^/# /' "$dir/verify"
fi
(cd "$dir" && systemd-analyze security --offline=true --threshold=20 ./camgate.service) \
  >"$dir/security" 2>&1
status=$?
level=$(sed -n 's/.*Overall exposure level for camgate.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$dir/security")
if [ $status -eq 0 ] && [ -n "$level" ]; then
  echo "ok 2 - systemd-analyze security: $level (threshold 2.0)"
else
  echo "not ok 2 - systemd-analyze security: ${level:-no level} (threshold 2.0)"
  sed 's/^/# /' "$dir/security"
fi
src=$(dirname "$0")/../../../systemd/camgate.conf
if ! "$camgate" --version >/dev/null 2>&1; then
  echo "ok 3 # SKIP $camgate does not run here (a cross build)"
elif "$camgate" --config="$src" --list-devices >/dev/null 2>"$dir/conf"; then
  echo "ok 3 - the example configuration ($conf) parses"
else
  echo "not ok 3 - the example configuration ($conf) parses"; sed 's/^/# /' "$dir/conf"
fi
