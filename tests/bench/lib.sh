# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by the shell benchmarks (viewers.sh, profile.sh); source it, do not run it.

cg_bench_skip() {
	echo "SKIP: $*"
	exit 77
}

# Runs the calling script again in a new network namespace with the same arguments (once:
# CG_IN_NETNS marks the second run), then brings its loopback up. Needs root.
cg_bench_enter_netns() {
	if [ -z "${CG_IN_NETNS:-}" ]; then
		[ "$(id -u)" = 0 ] || cg_bench_skip "needs root to create a network namespace (unshare --net)"
		unshare --net true 2>/dev/null || cg_bench_skip "unshare --net fails here"
		CG_IN_NETNS=1 exec unshare --net bash "$0" "$@"
	fi
	ip link set lo up
}

# "N cores (model)", for the header line of a benchmark's output.
cg_bench_machine() {
	echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))"
}
