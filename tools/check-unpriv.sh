#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-unpriv.sh [USER]: the suite run by an unprivileged user
# (default nobody) on a healthy kernel must exit 0 or 4, never 1: what
# needs root or a privilege SKIPs and says so, what a user's limit stops
# (RLIMIT_MEMLOCK, hugetlb pool) SKIPs naming the limit. Run as root by
# `make check`, after the build. The user runs an installed copy in a
# fresh directory it can read.
. "$(dirname "$0")/lib.sh"
lib_init check-unpriv
user=${1:-nobody}
[ "$(id -u)" = 0 ] || die "needs root to switch to $user"
id "$user" >/dev/null 2>&1 || die "no user $user"

lib_tmpdir work
make -s -C "$top" install INSTALL_PATH="$work/iopin" > "$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; exit 1; }
chmod -R a+rX "$work"

start=$(date +%s)
setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
	env HOME=/ "$work/iopin/run_tests.sh" > "$work/run.ktap" 2>&1
rc=$?
echo "as $user: exit $rc in $(( $(date +%s) - start )) s; $(grep '^# Totals' "$work/run.ktap")"
skips=$(sed -n 's/^    ok [0-9]* [^#]* # SKIP //p' "$work/run.ktap")
echo "$skips" | sed 's/^[a-z_0-9]*: //' | sort | uniq -c | sort -rn | head -8 | sed 's/^/  skip: /'
bad=$(grep -E '^ *not ok' "$work/run.ktap")
if [ -n "$bad" ] || { [ $rc != 0 ] && [ $rc != 4 ]; }; then
	echo "$bad" | head -20
	grep -E '^ *# .*(FAIL|error|:)' "$work/run.ktap" | grep -v '^# iopin' | head -20
	echo "check-unpriv: the run as $user exited $rc with the results above"
	exit 1
fi
if ! grep -q '# SKIP needs root' "$work/run.ktap"; then
	echo "check-unpriv: no test said it needs root: was the run really unprivileged?"
	exit 1
fi
exit 0
