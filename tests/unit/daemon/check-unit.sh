#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The systemd unit as built: `systemd-analyze verify` passes and
# `systemd-analyze security --offline=true` rates its exposure 2.0 or lower, the example
# configuration parses, and the limits and sandboxing lines that systemd-analyze does not
# rate are there (issue 12): descriptor, memory and task caps, bind() rules, private IPC,
# a private state directory, and GPU render nodes without the DRM card nodes. The unit's
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
echo "1..11"
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

# Lines of the unit, comments dropped, with the setting's name and value as one line each.
settings=$(sed -e 's/[[:space:]]*#.*//' -e '/^$/d' "$unit")
n=3
# check DESCRIPTION EXTENDED-REGEX: some line of the unit matches the whole regex.
check() {
  n=$((n + 1))
  if printf '%s\n' "$settings" | grep -Eqx "$2"; then
    echo "ok $n - $1"
  else
    echo "not ok $n - $1: no line matching ^$2\$"
  fi
}
# value KEY: the unit's (last) value of KEY.
value() {
  printf '%s\n' "$settings" | sed -n "s/^$1=//p" | tail -n 1
}
# at_least VALUE MIN: VALUE is a plain number of at least MIN.
at_least() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "$1" -ge "$2" ]
}
# 1000 viewers at 8 descriptors each, the HTTP server's 512 connections, 256 WebSockets.
nofile=$(value LimitNOFILE)
n=$((n + 1))
if at_least "$nofile" 8768; then
  echo "ok $n - LimitNOFILE=$nofile covers max-viewers=1000"
else
  echo "not ok $n - LimitNOFILE=${nofile:-unset} is not a number of at least 8768"
fi
check "MemoryMax= caps memory" 'MemoryMax=[0-9]+[KMG]?'
# 64 workers and the fixed threads must fit.
tasks=$(value TasksMax)
n=$((n + 1))
if at_least "$tasks" 72; then
  echo "ok $n - TasksMax=$tasks leaves room for 64 workers"
else
  echo "not ok $n - TasksMax=${tasks:-unset} is not a number of at least 72"
fi
check "bind() denied by default" 'SocketBindDeny=any'
n=$((n + 1))
if printf '%s\n' "$settings" | grep -qx 'SocketBindAllow=tcp' &&
   printf '%s\n' "$settings" | grep -qx 'SocketBindAllow=udp'; then
  echo "ok $n - bind() allowed for TCP (the HTTP port) and UDP (ICE)"
else
  echo "not ok $n - SocketBindAllow=tcp and SocketBindAllow=udp"
fi
check "PrivateIPC=yes" 'PrivateIPC=yes'
check "StateDirectoryMode=0700" 'StateDirectoryMode=0700'
# Render nodes renderD128..renderD135 are char 226:128..135; nothing may open the DRM card
# nodes (226:0-63, char-drm would allow them all).
n=$((n + 1))
missing=
for minor in 128 129 130 131 132 133 134 135; do
  printf '%s\n' "$settings" | grep -qx "DeviceAllow=/dev/char/226:$minor rw" ||
    missing="$missing 226:$minor"
done
card_minor='([0-9]|[1-9][0-9]|1[01][0-9]|12[0-7])' # 0-127: card and control nodes
broad=$(printf '%s\n' "$settings" |
  grep -E "^DeviceAllow=(char-drm|char-\\*|/dev/dri/card|/dev/char/226:$card_minor )")
if [ -z "$missing" ] && [ -z "$broad" ]; then
  echo "ok $n - DeviceAllow= has the render nodes 226:128-135 and no DRM card node"
else
  echo "not ok $n - DeviceAllow= render nodes missing:${missing:- none}; too broad: ${broad:-none}"
fi
