#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# camgate doctor for real, in a network namespace of its own (tests/integration/
# run-in-netns.sh runs this): with its port taken by another program and its camera
# missing it must name both, with their fixes, and exit 1; with the port free and the test
# pattern, no FAIL and exit 0. TAP.
#   run-in-netns.sh doctor-netns.sh CAMGATE
set -u
camgate=$1
port=18443
tmp=$(mktemp -d)
listener=
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
echo "1..6"

# Another program on the port (python3 here, so its name is known).
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(1)
print('ready', flush=True); time.sleep(120)" >"$tmp/listener.out" &
listener=$!
for _ in $(seq 50); do grep -q ready "$tmp/listener.out" 2>/dev/null && break; sleep 0.1; done

"$camgate" doctor --listen=127.0.0.1:$port --source=/dev/video77 --state-dir="$tmp/state" \
	>"$tmp/out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/out"
n=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
ok "exit status 1 with a FAIL" "[ $rc -eq 1 ]"
ok "the taken port is a FAIL naming the program" \
	"grep -q '^FAIL listen 127.0.0.1:$port: the port is taken by python3 (pid $listener)' '$tmp/out'"
ok "the missing camera is a FAIL" "grep -q '^FAIL camera main: /dev/video77 does not exist' '$tmp/out'"
ok "each FAIL has its fix on the next line" \
	"[ \$(grep -c '^FAIL' '$tmp/out') -eq \$(grep -A1 '^FAIL' '$tmp/out' | grep -c '^     fix: ') ]"

kill "$listener"
wait "$listener" 2>/dev/null
listener=
"$camgate" doctor --listen=127.0.0.1:$port --source=test --state-dir="$tmp/state" >"$tmp/out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/out"
ok "with the port free and the test pattern: exit 0" "[ $rc -eq 0 ]"
ok "the port is free" "grep -q '^OK   listen 127.0.0.1:$port: the port is free' '$tmp/out'"
