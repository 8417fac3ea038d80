#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# meson install script: puts the example configuration in place as
# $DESTDIR$SYSCONFDIR/camgate/camgate.conf, mode 0640, group camgate, unless one is there.
#
# Why not install_data(): the file is where the token, password hash and TURN password go,
# so it must be 0640 root:camgate, readable by the daemon and by nobody else, and
#  - the camgate group is made by systemd-sysusers from our sysusers entry, which nothing
#    has run yet on a first install: install_data(install_mode: [..., 'root', 'camgate'])
#    then prints "Non-existent owner 'root' or group 'camgate': ignoring..." and leaves
#    root:root 0640, which the daemon (user camgate) cannot read;
#  - install_data() replaces the file on every `meson install`, and with it the
#    administrator's settings and secrets (meson has no "keep if present" for one file;
#    `meson install --only-changed` keeps files by modification time, for all files).
# So an existing file is left exactly as it is. A new one is made 0640 before it has any
# content. Installing into the real root as root, the sysusers entry is applied first
# (systemd-sysusers only adds what is missing) and the file gets group camgate; if that
# fails, so does the install, with nothing written. With DESTDIR (a package being built)
# the group is the package's business: its postinst runs systemd-sysusers and
# `chgrp camgate /etc/camgate/camgate.conf`. Meson 1.0 (Debian 12) shows an install script's
# output only when it fails (newer meson always does), so the notes below may not be seen.
#
# usage: install-conf.sh EXAMPLE SYSCONFDIR [SYSUSERS-FILE]
#   SYSCONFDIR is absolute (/etc, /usr/local/etc); DESTDIR comes from meson's environment.
set -eu
example=$1 sysconfdir=$2 sysusers=${3:-}
dir=${DESTDIR:-}$sysconfdir/camgate
conf=$dir/camgate.conf

say() {
	[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "$@"
}

if [ -e "$conf" ] || [ -L "$conf" ]; then
	say "Keeping the existing $conf (not replaced; the example is $example)"
	exit 0
fi
mkdir -p "$dir"
# mktemp makes the file 0600 before anything is written to it, and a failed copy leaves no
# half-written configuration under the real name.
tmp=$(mktemp "$dir/.camgate.conf.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat "$example" >"$tmp"
chmod 0640 "$tmp"

if [ -n "${DESTDIR:-}" ]; then
	note="group left to the package (DESTDIR install): chgrp camgate after systemd-sysusers"
elif [ "$(id -u)" -ne 0 ]; then
	note="not root, so not group camgate: chgrp camgate it as root before starting camgate"
else
	if ! getent group camgate >/dev/null && [ -n "$sysusers" ] &&
	   command -v systemd-sysusers >/dev/null && ! systemd-sysusers "$sysusers"; then
		# Fail the install (meson then shows this): a file the daemon cannot read, or
		# one readable by all, would be worse than none. Nothing is left behind.
		echo "install-conf.sh: systemd-sysusers $sysusers failed, so there is no" \
		     "group camgate for $conf; fix that and run meson install again" >&2
		exit 1
	fi
	if getent group camgate >/dev/null; then
		chgrp camgate "$tmp"
		note=
	else
		# No systemd-sysusers (a system without systemd): 0640 root:root is the safe
		# side; whoever runs camgate needs the file's group.
		note="there is no group camgate: chgrp it to the group camgate runs as"
		echo "install-conf.sh: $conf: $note" >&2
	fi
fi
mv "$tmp" "$conf"
trap - EXIT
say "Installed $conf ($(stat -c '%a %U:%G' "$conf"))${note:+: $note}"
