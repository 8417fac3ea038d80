#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# camgate as an appliance, end to end (issue 6), inside the private network namespace that
# run-in-netns.sh makes: it listens on 10.99.0.1 (beyond loopback, an address added to the
# namespace's lo), so HTTPS and credentials are on by default. Checks the TLS handshake and
# the kept self-signed certificate, 401/303 without a credential, bearer token, login
# cookie, password hash, /metrics through a strict Prometheus text parser, /snapshot.jpg
# decoded and its block code read, WHEP Link headers for STUN, SIGHUP reload (applied,
# needs-restart, rejected with the line) and that no secret reaches the log. TAP output.
#
# usage: test-appliance.sh CAMGATE SNAPSHOT_CHECK PROMPARSE_PY
set -u
camgate=$1 snapcheck=$2 promparse=$3
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else not_ok "$what"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit "${CG_SKIP_STATUS:-77}"; }

for tool in curl openssl python3 timeout; do
  command -v $tool >/dev/null || skip_all "needs $tool"
done
ip addr add 10.99.0.1/32 dev lo || skip_all "cannot add a test address (not in a namespace?)"

dir=$(mktemp -d /tmp/camgate-appliance-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
conf=$dir/camgate.conf log=$dir/log base=https://10.99.0.1:8443
write_conf() { # extra lines on stdin are appended
  { printf '[camgate]\nlisten = 10.99.0.1:8443\nsize = 320x240\nfps = 15\n'
    printf 'state-dir = %s/state\nstun = 10.99.0.7\nmax-viewers = %s\n' "$dir" "$1"
    cat; } >"$conf"
}
# Waits (on the log's fd, bounded) until a line matches.
wait_log() { grep -q -m1 -- "$1" < <(timeout 10 tail -n +1 -F "$log" 2>/dev/null); }
http() { curl -sk -o "$dir/body" -D "$dir/headers" -w '%{http_code}' "$@"; }

write_conf 5 </dev/null
"$camgate" --config="$conf" >"$dir/out" 2>"$log" &
pids+=($!)
curl -sk --retry 30 --retry-connrefused --retry-max-time 20 -o /dev/null "$base/login"
token=$(cat "$dir/state/token" 2>/dev/null)

echo "1..25"
check "HTTPS handshake (TLS 1.2+) and the login page" \
  sh -c "curl -sk --tlsv1.2 '$base/login' | grep -q 'Password or access token'"
fp_file=$(openssl x509 -in "$dir/state/https-cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
fp_wire=$(openssl s_client -connect 10.99.0.1:8443 </dev/null 2>/dev/null |
  openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
check "the certificate served is the one kept in the state directory" test -n "$fp_file" -a "$fp_file" = "$fp_wire"
check "key and token are 0600" sh -c "[ \$(stat -c %a '$dir/state/https-key.pem') = 600 ] && [ \$(stat -c %a '$dir/state/token') = 600 ]"
check "plain HTTP is not served on the HTTPS port" sh -c "! curl -s --max-time 3 http://10.99.0.1:8443/status"

code=$(http "$base/status")
check "GET /status without a credential is 401 with a Bearer challenge" \
  sh -c "[ $code = 401 ] && grep -qi '^WWW-Authenticate: Bearer' '$dir/headers'"
check "POST /whep without a credential is 401" test "$(http -X POST -H 'Content-Type: application/sdp' --data-binary 'v=0' "$base/whep")" = 401
check "GET / sends a browser to /login" sh -c "[ $(http "$base/") = 303 ] && grep -qi '^Location: /login' '$dir/headers'"
check "GET /metrics and /snapshot.jpg without a credential are refused" \
  sh -c "[ $(http "$base/metrics") = 401 ] && [ $(http "$base/snapshot.jpg") = 303 ]"
check "a wrong bearer token is 401" test "$(http -H 'Authorization: Bearer 0123456789abcdefghijklmnop' "$base/status")" = 401
check "the token opens /status" test "$(http -H "Authorization: Bearer $token" "$base/status")" = 200

check "a wrong secret in the login form is 401" test "$(http --data-urlencode secret=nope "$base/login")" = 401
code=$(http --data-urlencode "secret=$token" "$base/login")
cookie=$(sed -n 's/^Set-Cookie: \(camgate_auth=[^;]*\).*/\1/ip' "$dir/headers" | tr -d '\r')
check "the token in the login form sets a Secure HttpOnly cookie" \
  sh -c "[ $code = 303 ] && grep -qi 'Set-Cookie: camgate_auth=.*HttpOnly; SameSite=Strict; Secure' '$dir/headers'"
check "the cookie opens the page and /status" \
  sh -c "[ $(http -H "Cookie: $cookie" "$base/") = 200 ] && [ $(http -H "Cookie: $cookie" "$base/status") = 200 ]"

http -H "Authorization: Bearer $token" "$base/metrics" >/dev/null
check "/metrics parses as Prometheus text with the expected series" \
  python3 "$promparse" "$dir/body" camgate_viewers=0 camgate_max_viewers=5 \
  camgate_frames_captured_total camgate_nacks_received_total camgate_plis_received_total \
  camgate_dtls_failures_total camgate_copied_bytes_total 'camgate_encode_latency_seconds{quantile="0.50"}'
http -H "Authorization: Bearer $token" "$base/snapshot.jpg" >/dev/null
check "/snapshot.jpg is a JPEG of the current frame (block code under 1.5 s old)" \
  "$snapcheck" "$dir/body" 320 240 1500

http -X OPTIONS -H "Authorization: Bearer $token" "$base/whep" >/dev/null
check "OPTIONS /whep with a credential lists the STUN server (ice-server Link, WHIP RFC 9725 §4.6)" \
  grep -qi '^Link: <stun:10.99.0.7:3478>; rel="ice-server"' "$dir/headers"
http -X OPTIONS "$base/whep" >/dev/null
check "OPTIONS /whep without a credential lists no ICE server" sh -c "! grep -qi '^Link:' '$dir/headers'"

hash=$(printf 'correct horse battery\n' | "$camgate" --hash-password)
printf 'password-hash = %s\nlog-level = debug\n' "$hash" | write_conf 7
sed -i 's/^listen = .*/listen = 10.99.0.1:9443/' "$conf"
kill -HUP "${pids[0]}"
check "SIGHUP applies max-viewers" wait_log 'max-viewers: 5 -> 7'
check "SIGHUP reports a listen change as needing a restart" \
  wait_log 'listen: 10.99.0.1:8443 -> 10.99.0.1:9443 needs a restart'
http -H "Authorization: Bearer $token" "$base/metrics" >/dev/null
check "the new limit shows in /metrics, the old port still serves" \
  python3 "$promparse" "$dir/body" camgate_max_viewers=7
check "the password from --hash-password signs in after the reload" \
  test "$(http --data-urlencode 'secret=correct horse battery' "$base/login")" = 303

printf 'max-candidates = 0\n' | write_conf 9
kill -HUP "${pids[0]}"
wait_log "configuration rejected"
check "a bad file is rejected with its line and reason" grep -q "camgate.conf:8: max-candidates=0 is out of range 1-1000" "$log"
http -H "Authorization: Bearer $token" "$base/metrics" >/dev/null
check "after a rejected reload the running configuration stays" python3 "$promparse" "$dir/body" camgate_max_viewers=7

check "no secret in the log or on stdout" \
  sh -c "! grep -qF -e '$token' -e 'correct horse' -e '${hash##*$}' '$log' '$dir/out' && ! grep -q 'BEGIN.*PRIVATE' '$log' '$dir/out'"

"$camgate" --listen=127.0.0.1:8081 --size=320x240 --fps=15 >/dev/null 2>"$dir/log2" &
pids+=($!)
check "on loopback, plain HTTP without credentials by default" \
  curl -sf --retry 30 --retry-connrefused --retry-max-time 20 -o /dev/null http://127.0.0.1:8081/status

[ $failed -eq 0 ] || { echo "# log:"; sed 's/^/# /' "$log"; }
exit $((failed > 0))
