# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by the browser tests (run.sh, call.sh, grid.sh), tests/integration/browser-*.sh and
# tests/bench/latency.sh (sourced, bash).
#
# Everything runs inside a network namespace made by cg_enter_netns: the daemon, the
# browser and every packet between them stay in it, and nothing can reach the machine's
# own addresses or leave the machine.

CG_BROWSER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CG_SKIP=77

cg_skip() {
	echo "SKIP: $*"
	exit "$CG_SKIP"
}

# Exits 77 unless root, unshare, ip, node, playwright-core and Chromium are all here.
cg_require() {
	local exe=$1
	[ -n "$exe" ] || { echo "usage: $0 path/to/camgate" >&2; exit 2; }
	[ -x "$exe" ] || { echo "FAIL: camgate binary '$exe' not found or not executable" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || cg_skip "needs root to create a network namespace (unshare --net)"
	command -v unshare >/dev/null || cg_skip "no unshare (util-linux)"
	command -v ip >/dev/null || cg_skip "no ip (iproute2)"
	command -v node >/dev/null || cg_skip "no node (apt-get install nodejs npm)"
	[ -d "$CG_BROWSER_DIR/node_modules/playwright-core" ] ||
		cg_skip "no tests/browser/node_modules (cd tests/browser && npm ci; it never downloads a browser)"
	if [ -z "${CHROMIUM:-}" ]; then
		for c in /usr/lib/chromium/chromium /usr/bin/chromium; do
			[ -x "$c" ] && { CHROMIUM=$c; break; }
		done
	fi
	[ -n "${CHROMIUM:-}" ] || cg_skip "no Chromium (apt-get install chromium)"
	export CHROMIUM
	unshare --net true 2>/dev/null || cg_skip "unshare --net fails here (no CAP_SYS_ADMIN or user namespaces?)"
}

# Re-runs the calling script inside a fresh network namespace (once).
cg_enter_netns() {
	if [ -z "${CG_IN_NETNS:-}" ]; then
		CG_IN_NETNS=1 exec unshare --net bash "$0" "$@"
	fi
	ip link set lo up
	# A second, non-loopback interface carrying a TEST-NET-1 address (RFC 5737) gives
	# ICE an ordinary host candidate on both sides (libnice skips loopback unless the
	# daemon adds it). A dummy interface if the kernel has the module, else a veth pair
	# with both ends inside the namespace (both up, so the link has carrier). Traffic to
	# the address is local: it never leaves the namespace. Best effort: without either,
	# the call has to use 127.0.0.1.
	if ip link add cg0 type dummy 2>/dev/null ||
		ip link add cg0 type veth peer name cg1 2>/dev/null; then
		ip addr add 192.0.2.1/24 dev cg0
		ip link set cg0 up
		ip link show cg1 >/dev/null 2>&1 && ip link set cg1 up
	else
		echo "note: neither dummy nor veth interfaces here: ICE over loopback only"
	fi
	echo "network namespace: $(ip -brief addr | tr -s ' ' | paste -sd ';' -)"
}

# cg_browser_setup CAMGATE : the start of a browser test script (pass it the script's first
# argument): sets EXE to CAMGATE's absolute path, skips (77) unless everything the test
# needs is here (cg_require), and re-runs the script inside its own network namespace
# (cg_enter_netns), where it then goes on.
cg_browser_setup() {
	EXE=$(realpath -e "${1:-}" 2>/dev/null || echo "${1:-}")
	cg_require "$EXE"
	cg_enter_netns "$EXE"
}

# cg_wait_listening PID PORT SECONDS : waits (polling) until something accepts TCP
# connections on 127.0.0.1:PORT. Returns 0 then, 1 when process PID exited first, 2 after
# SECONDS.
cg_wait_listening() {
	local pid=$1 port=$2 deadline=$((SECONDS + $3))
	while :; do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$SECONDS" -ge "$deadline" ] && return 2
		sleep 0.05
	done
}

CG_DAEMON_PID=
CG_DAEMON_LOG=

# cg_start_daemon EXE PORT ARGS... : starts camgate --source=test on 127.0.0.1:PORT in the
# background and waits (polling, 15 s at most) until it accepts TCP connections on that port.
cg_start_daemon() {
	local exe=$1 port=$2
	shift 2
	cg_start_daemon_args "$exe" "$port" --source=test "$@"
}

# cg_start_daemon_args EXE PORT ARGS... : the same with no --source of ours (the caller's
# ARGS choose the sources, e.g. several --camera).
cg_start_daemon_args() {
	local exe=$1 port=$2
	shift 2
	CG_DAEMON_LOG=$(mktemp /tmp/camgate-daemon.XXXXXX.log)
	echo "starting: $exe --listen=127.0.0.1:$port $*"
	"$exe" --listen="127.0.0.1:$port" "$@" >"$CG_DAEMON_LOG" 2>&1 &
	CG_DAEMON_PID=$!
	cg_wait_listening "$CG_DAEMON_PID" "$port" 15
	case $? in
	0)
		echo "camgate (pid $CG_DAEMON_PID) listening on 127.0.0.1:$port"
		return 0
		;;
	1)
		wait "$CG_DAEMON_PID"
		echo "FAIL: camgate exited (status $?) before listening; its log:"
		cat "$CG_DAEMON_LOG"
		CG_DAEMON_PID=
		return 1
		;;
	*)
		echo "FAIL: camgate not listening on 127.0.0.1:$port after 15 s; its log:"
		cat "$CG_DAEMON_LOG"
		return 1
		;;
	esac
}

# Stops the daemon we started, by PID: SIGTERM, then SIGKILL after 5 s.
cg_stop_daemon() {
	local pid=$CG_DAEMON_PID
	[ -n "$pid" ] || return 0
	CG_DAEMON_PID=
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		local i
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "camgate (pid $pid) ignored SIGTERM for 5 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	if wait "$pid" 2>/dev/null; then
		echo "camgate (pid $pid) stopped, exit status 0"
	else
		local st=$?
		# 127: not our child (restarted by e2e.js), status unknown.
		[ "$st" = 127 ] && echo "camgate (pid $pid) stopped" ||
			echo "camgate (pid $pid) stopped, exit status $st"
	fi
}

# Prints the daemon's log (its last 300 lines).
cg_daemon_log() {
	[ -n "$CG_DAEMON_LOG" ] && [ -f "$CG_DAEMON_LOG" ] || return 0
	echo "---- camgate log ($CG_DAEMON_LOG, last 300 lines) ----"
	tail -n 300 "$CG_DAEMON_LOG"
	echo "---- end of camgate log ----"
}

# cg_browser_finish NAME STATUS : the end of a browser test against the daemon that
# cg_start_daemon started: STATUS is the browser script's exit status. The test fails as
# well when the daemon died during it or reported a sanitizer error (a leak or a memory
# error, even at exit, in a sanitizer build). Stops the daemon, prints its log and
# "NAME: PASS" or "NAME: FAIL (exit N)", and exits with the test's status.
cg_browser_finish() {
	local name=$1 rc=$2
	if ! kill -0 "$CG_DAEMON_PID" 2>/dev/null; then
		echo "FAIL: camgate died during the test"
		rc=1
	fi
	cg_stop_daemon
	cg_daemon_log
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)' "$CG_DAEMON_LOG"; then
		echo "FAIL: camgate reported a sanitizer error (see its log above)"
		rc=1
	fi
	[ "$rc" = 0 ] && echo "$name: PASS" || echo "$name: FAIL (exit $rc)"
	exit "$rc"
}

# cg_alsa_file_pcm DIR FILE : writes DIR/asound.conf defining one ALSA PCM, "cgtest", that
# records what is played on it into FILE (raw, in the player's format; camgate plays
# s16le stereo at 48 kHz) with no sound card (the file plugin over the null PCM; camgate
# paces its writes itself there). Prints the configuration's path, for ALSA_CONFIG_PATH:
# give it to the daemon only, the browser keeps the machine's own ALSA configuration.
cg_alsa_file_pcm() {
	local dir=$1 file=$2
	printf 'pcm.cgtest {\n type file\n slave.pcm { type null }\n file "%s"\n format "raw"\n}\n' \
		"$file" >"$dir/asound.conf"
	echo "$dir/asound.conf"
}
