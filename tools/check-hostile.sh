#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-hostile.sh - an unprivileged user attacks root's iopin run.
#
# As "nobody" (setpriv), plant what a local attacker would plant in a shared
# sticky directory (TMPDIR, like /tmp) before root runs the suite:
#  1. iopin-logs-root/cow_collapse.log -> a file of root's (the old log path);
#  2. iopin-logs-root -> a directory of root's (the old log directory);
#  3. IOPIN_LOGDIR / --log-dir naming nobody's directory, or a link: exit 2;
#  4. IOPIN_STATE_LOCK naming a planted link or FIFO: exit 2, no hang;
#  5. the same link given to lib directly (a test binary run without the
#     runner): the keeper's lock open neither follows nor creates;
#  6. IOPIN_CACHE naming nobody's directory for vm/run-vm.sh: exit 2.
# Then root runs ./run_tests.sh -s -t cow/collapse (and the cases above), and
# every file of root's must be byte for byte what it was, and no file may
# have appeared in root's directory. Exit 0 if so, 1 otherwise, 4 skipped.
. "$(dirname "$0")/lib.sh"
lib_init check-hostile
cd "$top" || die "cannot enter $top"
[ "$(id -u)" = 0 ] || skip "needs root (the attack is on root's run)"
command -v setpriv >/dev/null || skip "no setpriv"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# Root's side: a private directory with a file and a directory to protect.
lib_tmpdir mine root
# The shared side: a sticky world-writable directory, as /tmp is.
lib_tmpdir shared shared
chmod 1777 "$shared"
chmod 0711 "$mine"	# the attacker may not list it, but links can name it
echo "root's precious data $$" > "$mine/target"
mkdir "$mine/dir"
chmod 0700 "$mine/dir"
cp "$mine/target" "$mine/target.orig"

untouched() {	# what: the target file and directory are as they were
	if ! cmp -s "$mine/target" "$mine/target.orig"; then
		bad "$1: $mine/target was changed"
	elif [ -n "$(ls -A "$mine/dir")" ]; then
		bad "$1: files appeared in root's directory: $(ls -A "$mine/dir" | tr '\n' ' ')"
	else
		ok "$1: root's file and directory untouched"
	fi
}

# expect_rc WANT WHAT CMD...: run CMD (bounded), want exit WANT; "ran":
# the suite ran (0, 1 or 4: what the tests say does not matter here).
expect_rc() {
	local want=$1 what=$2 rc
	shift 2
	timeout 120 "$@" > "$mine/out" 2>&1
	rc=$?
	if [ $rc = "$want" ] || { [ "$want" = ran ] && [[ $rc =~ ^[014]$ ]] &&
				  grep -q '^# logs: ' "$mine/out"; }; then
		ok "$what -> exit $rc: $(grep -m1 -E 'refus|must|logs:' "$mine/out")"
	else
		tail -5 "$mine/out"
		bad "$what exited $rc, not $want"
	fi
}

# Plain runs share this environment: logs default to $TMPDIR, as they did.
export TMPDIR=$shared
run=(./run_tests.sh --no-build -s -t cow/collapse)

echo "# 1. file link at the old predictable log name"
as_nobody mkdir "$shared/iopin-logs-root"
as_nobody ln -s "$mine/target" "$shared/iopin-logs-root/cow_collapse.log"
expect_rc ran "run_tests.sh -s with a planted log link" "${run[@]}"
untouched "planted log link"
expect_rc 2 "IOPIN_LOGDIR=<nobody's directory>" env IOPIN_LOGDIR="$shared/iopin-logs-root" "${run[@]}"
expect_rc 2 "--log-dir <nobody's directory>" "${run[@]}" --log-dir "$shared/iopin-logs-root"
untouched "log directory of nobody's"
rm -rf "$shared/iopin-logs-root"

echo "# 2. directory link at the old predictable log directory"
as_nobody ln -s "$mine/dir" "$shared/iopin-logs-root"
expect_rc ran "run_tests.sh -s with a planted directory link" "${run[@]}"
untouched "planted directory link"
expect_rc 2 "IOPIN_LOGDIR=<link to root's directory>" env IOPIN_LOGDIR="$shared/iopin-logs-root" "${run[@]}"
untouched "log directory given as a link"
rm -f "$shared/iopin-logs-root"

echo "# 3. state lock planted as a link, a dangling link and a FIFO"
as_nobody ln -s "$mine/target" "$shared/lock-link"
as_nobody ln -s "$mine/dir/created" "$shared/lock-dangling"
as_nobody mkfifo "$shared/lock-fifo"
for l in lock-link lock-dangling lock-fifo; do
	expect_rc 2 "IOPIN_STATE_LOCK=<$l>" env IOPIN_STATE_LOCK="$shared/$l" "${run[@]}"
done
untouched "planted state locks (runner)"
# lib's keeper on its own: kstate_write() must refuse the planted links.
# (Not the FIFO: the harness wrapper's read-only wait on the lock would block
# on it; the runner refuses it, as checked above.)
for l in lock-link lock-dangling; do
	IOPIN_STATE_LOCK="$shared/$l" timeout -s KILL 120 ./lib/selftest > "$mine/out" 2>&1
done
untouched "planted state locks (lib/selftest's kstate tests)"

echo "# 4. VM cache directory of nobody's"
as_nobody mkdir "$shared/cache"
expect_rc 2 "IOPIN_CACHE=<nobody's directory> vm/run-vm.sh" \
	env IOPIN_CACHE="$shared/cache" vm/run-vm.sh --kernel debian-6.12 --prepare-only
[ -z "$(ls -A "$shared/cache")" ] && ok "nothing written into nobody's cache" ||
	bad "root wrote into nobody's cache: $(ls -A "$shared/cache" | tr '\n' ' ')"

lib_done "all attacks failed"
